"""What Telegram itself points to, fed into the discovery queue (docs/lifecycle.md; `[discovery]`
``recommendations`` and ``hashtags``, both off by default).

* Similar channels: one channels.getChannelRecommendations per watched channel per round.
* Hashtag search: channels.searchPosts over public posts. Telegram gives each account a few free
  searches a day and charges stars past them; monitor asks channels.checkSearchPostsFlood first and
  searches only while a search is free, never offers stars (``allow_paid_stars`` is never set), and
  parks searching until the quota comes back (``wait_till``) when it is spent.

In team mode (several collectors) the similar channels of each watched channel are asked by the
collector leasing it (`recommend_leased`: an access hash is valid only for the account that resolved
the channel), once per ``search_every`` for the team (``recommendations_asked``), and the hashtag
searches by the one collector holding the team's ``discovery`` round (monitor.collectors.tasks).

Every request is paid from the same request budget as the polls. A flood wait on a search parks only
searching (store park scope ``search``); one on a recommendation parks what Telegram said (the
account, usually), like a poll's. Nothing is joined: both requests read public data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from monitor import logs
from monitor.errors import ChannelUnavailable, FloodWait, SourceError
from monitor.models import Channel, DiscoveryLead, SearchQuota, WatchState

log = logs.get_logger("monitor.discovery")
SEARCH_PARK = "search"
SEARCH_LIMIT = 100  # posts per hashtag search (one request)


@runtime_checkable
class DiscoverySource(Protocol):
    """The source side: `TelethonSource` has it; a replayed scenario or an export does not."""

    async def similar_channels(self, channel: Channel) -> list[DiscoveryLead]: ...

    async def search_quota(self, hashtag: str) -> SearchQuota: ...

    async def search_hashtag(self, hashtag: str, *, limit: int = 100) -> tuple[list[DiscoveryLead], SearchQuota | None]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRule:
    recommendations: bool = False
    hashtags: tuple[str, ...] = ()  # without the '#'

    @property
    def on(self) -> bool:
        return self.recommendations or bool(self.hashtags)


@dataclass(slots=True)
class FeedRound:
    """What one round did, for the log and the tests."""

    leads: int = 0
    recommended_for: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    quota: SearchQuota | None = None
    parked: dict[str, str] = field(default_factory=dict)  # scope -> why
    # team mode: the account's flood wait (until, why, request), for the collector to record as its state
    account_wait: tuple[datetime, str, str | None] | None = None


def rule_of(settings: Any) -> FeedRule:
    d = settings.discovery
    tags = tuple(dict.fromkeys(t.strip().lstrip("#") for t in d.hashtags if t.strip().lstrip("#")))
    return FeedRule(recommendations=d.recommendations, hashtags=tags)


async def feed_round(store: Any, source: Any, *, rule: FeedRule, clock: Any, team: bool = False) -> FeedRound:
    """One round of recommendations and hashtag searches; the leads go to the store. Never raises a
    SourceError: a refusal is logged, a flood wait parks its scope.

    ``team``: one collector runs the round for a team (monitor.collectors.tasks). The store's
    ``account`` park is then not this account's (each collector's account has its own state, which
    the caller checked), and an account-wide flood wait is returned in ``account_wait`` for the caller
    to record as its account's state instead of parking every collector. The ``search`` park (the free
    searches spent) and channel parks stay in the store, shared: a round taken over waits for them."""
    done = FeedRound()
    if not rule.on or not isinstance(source, DiscoverySource):
        return done
    now = clock.now()
    parks = await store.parks(now=now)
    if "account" in parks and not team:
        return done
    leads: list[DiscoveryLead] = []
    if rule.recommendations and not team:  # team mode: each collector asks for its leased channels
        if not await _recommend(store, source, await store.watch_states(), parks, clock, leads, done, team=False):
            await store.add_discovery_leads(leads)
            done.leads = len(leads)
            return done
    if rule.hashtags and SEARCH_PARK not in parks:
        await _search(store, source, rule, clock, leads, done)
    await store.add_discovery_leads(leads)
    done.leads = len(leads)
    if leads or done.searched:
        log.info("discovery leads", leads=len(leads), recommended_for=len(done.recommended_for),
                 searched=done.searched, free_left=done.quota.remains if done.quota else None)
    return done


async def recommend_leased(store: Any, source: Any, states: Sequence[WatchState], *, clock: Any) -> FeedRound:
    """Team mode: Telegram's similar channels for ``states``, the channels this collector leases and has
    polled (an access hash is the account's own: another collector's stored hash would be refused).
    Each channel asked is recorded (``recommendations_asked``) so that no collector asks for it again
    within ``search_every``; the caller picks the due ones. An account-wide flood wait ends the pass
    and is returned in ``account_wait``. Never raises a SourceError."""
    done = FeedRound()
    if not states or not isinstance(source, DiscoverySource):
        return done
    leads: list[DiscoveryLead] = []
    await _recommend(store, source, states, await store.parks(now=clock.now()), clock, leads, done, team=True)
    await store.add_discovery_leads(leads)
    done.leads = len(leads)
    if leads or done.recommended_for:
        log.info("discovery leads", leads=len(leads), recommended_for=len(done.recommended_for))
    return done


async def _recommend(store: Any, source: Any, states: Sequence[WatchState], parks: dict[str, Any], clock: Any,
                     leads: list[DiscoveryLead], done: FeedRound, *, team: bool) -> bool:
    """Ask for each channel's similar channels; False when an account-wide flood wait stopped the pass.
    In team mode every channel asked (answered or refused) is recorded as asked."""
    asked: list[str] = []
    try:
        for state in states:
            channel = state.channel
            if channel is None or channel.access_hash is None or parks.get(f"channel:{state.key}"):
                continue
            try:
                found = await source.similar_channels(channel)
            except FloodWait as exc:
                scope = "account" if exc.scope == "account" else f"channel:{state.key}"
                until = clock.now() + timedelta(seconds=exc.seconds)
                if team and scope == "account":
                    done.account_wait = (until, f"recommendations: {exc}", exc.method)
                else:
                    await store.park(scope, until, reason=f"recommendations: {exc}")
                done.parked[scope] = str(exc)
                if exc.scope == "account":
                    return False
                continue
            except (ChannelUnavailable, SourceError) as exc:
                log.info("recommendations refused", channel=state.key, error=str(exc))
                asked.append(state.key)
                continue
            asked.append(state.key)
            done.recommended_for.append(state.key)
            leads.extend(found)
        return True
    finally:
        if team and asked:
            await store.set_recommendations_asked(asked, at=clock.now())


async def _search(store: Any, source: Any, rule: FeedRule, clock: Any, leads: list[DiscoveryLead],
                  done: FeedRound) -> None:
    quota: SearchQuota | None = None
    for tag in rule.hashtags:
        try:
            if quota is None or quota.remains <= 0:
                # query_is_free is about one query: a spent quota is asked again for this hashtag
                quota = await source.search_quota(tag)
            if not quota.free:
                # Spent for today: a search now would cost stars. Wait for the free quota to come back.
                until = quota.wait_till or clock.now() + timedelta(days=1)
                await store.park(SEARCH_PARK, until, reason=f"free searches spent ({quota.total_daily} a day);"
                                 f" a search would cost {quota.stars_amount} stars, never paid")
                done.parked[SEARCH_PARK] = "free searches spent"
                done.quota = quota
                break
            found, quota = await source.search_hashtag(tag, limit=SEARCH_LIMIT)
        except FloodWait as exc:
            await store.park(SEARCH_PARK, clock.now() + timedelta(seconds=exc.seconds), reason=f"search: {exc}")
            done.parked[SEARCH_PARK] = str(exc)
            break
        except SourceError as exc:
            log.info("hashtag search refused", hashtag=tag, error=str(exc))
            quota = None  # ask again before the next one
            continue
        done.searched.append(tag)
        leads.extend(found)
        done.quota = quota or done.quota  # None: Telegram did not say, so the next search asks first


__all__ = ["DiscoverySource", "FeedRound", "FeedRule", "feed_round", "recommend_leased", "rule_of"]
