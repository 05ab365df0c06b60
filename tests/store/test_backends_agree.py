"""SQLite and PostgreSQL give the same answers: one data set saved into each, every report compared.

The data set is the report tests' (tests/reports/reportdata.py: three watched channels, five
languages and scripts, groups, keywords, people, forwards, mentions, a planted gap, near
duplicates, hostile text, re-sampled views), saved the way the daemon saves it: time-ordered
batches per channel through ``pipeline.save_batch`` with the alert engine evaluating inside
each save. Then every report (volume for each --by dimension and --every, trend, top in all
its modes, reach, spread, network, discovery) is rendered to CSV and JSON on both backends and
the texts must be equal; so must ``alerts list`` and the dry-run of every rule.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from postgres_server import fresh_schema

from reports.reportdata import CHANNELS, SAVED_AT, START, _build_posts, _build_samples  # noqa: E402

from monitor.alerts.config import AlertsConfig, parse_alerts  # noqa: E402
from monitor.alerts.dryrun import dry_run  # noqa: E402
from monitor.alerts.engine import AlertEngine  # noqa: E402
from monitor.alerts.hooks import AlertHooks  # noqa: E402
from monitor.cli.alerts import _alert_dict  # noqa: E402
from monitor.clock import FrozenClock  # noqa: E402
from monitor.errors import ConfigError  # noqa: E402
from monitor.models import Channel, ChannelRef, TaggedPost  # noqa: E402
from monitor.pipeline import save_batch  # noqa: E402
from monitor.reports.discovery import discovery  # noqa: E402
from monitor.reports.output import to_csv, to_json  # noqa: E402
from monitor.reports.reach import reach  # noqa: E402
from monitor.reports.spec import ReportSpec  # noqa: E402
from monitor.reports.spread import clusters, forward_network  # noqa: E402
from monitor.reports.table import Report  # noqa: E402
from monitor.reports.top import TOP_WHAT, top  # noqa: E402
from monitor.reports.trend import trend  # noqa: E402
from monitor.reports.volume import volume  # noqa: E402
from monitor.store import Store, open_store  # noqa: E402

RULES: list[dict[str, Any]] = [
    {"name": "is-match", "kind": "match", "groups": ["IS", "ISKP"], "sinks": ["log", "ops"]},
    {"name": "uz-keyword", "kind": "match", "keywords": ["hijra"], "labels": {"country": ["UZ"]}, "cooldown": "6h"},
    {"name": "group-spike", "kind": "spike", "on": "group", "window": "1d", "min_count": 2, "threshold": 2.0},
    {"name": "lang-spike", "kind": "spike", "on": "language", "window": "12h", "min_count": 2, "threshold": 2.0},
    {"name": "fresh-words", "kind": "new_term", "min_count": 2, "within": "3d", "warmup": "7d"},
    {"name": "rising", "kind": "rising_term", "window": "1d", "history_days": 14, "min_count": 3, "factor": 2.0,
     "threshold": 2.0},
    {"name": "new-sources", "kind": "new_channel"},
]


def alerts_config() -> AlertsConfig:
    return parse_alerts(
        {"max_post_age": "2d", "rules": RULES, "sinks": [{"name": "ops", "kind": "log"}]}, "backends.toml"
    )


@dataclass
class Loaded:
    sqlite: Store
    postgres: Store
    posts: list[TaggedPost]


async def _load(store: Store) -> list[TaggedPost]:
    """reportdata's posts, saved as a daemon would: time-ordered batches per channel, alerts evaluated inside."""
    import random

    rng = random.Random(7)
    refs = [ChannelRef(key=c.username, username=c.username, labels=c.labels) for c in CHANNELS]
    await store.sync_watchlist(refs, at=START)
    channels = {c.id: Channel(id=c.id, username=c.username, title=c.title) for c in CHANNELS}
    for c in CHANNELS:
        await store.set_resolved(c.username, channels[c.id], at=START)
    posts, _, _ = _build_posts(rng)
    clock = FrozenClock(START)
    hooks = AlertHooks(engine=AlertEngine(alerts_config(), store, clock), deliverer=None)
    ordered = sorted(posts, key=lambda t: (t.post.posted_at, t.post.channel_id, t.post.message_id))
    for start in range(0, len(ordered), 40):
        chunk = ordered[start : start + 40]
        clock.advance(chunk[-1].post.posted_at + timedelta(minutes=10) - clock.now())
        for cid in sorted({t.post.channel_id for t in chunk}):
            batch = [t for t in chunk if t.post.channel_id == cid]
            result = await save_batch(
                store, channels[cid], batch, alerts=hooks, at=clock.now(),
                checkpoint=max(t.post.message_id for t in batch), store_text=True, source="telegram",
            )
            assert result.evaluation_error is None, result.evaluation_error
    # an edit and a view update of stored posts (updates, not inserts: the triggers' delta path)
    first = ordered[0]
    edited = TaggedPost(post=_replace_post(first, text=first.post.text + " (edited)", views=(first.post.views or 0) + 7),
                        tags=first.tags, tagger_version=first.tagger_version)
    await store.save_posts(first.post.channel_id, [edited], at=SAVED_AT, store_text=True)
    await store.record_samples(_build_samples(rng, posts))
    return posts


def _replace_post(tagged: TaggedPost, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(tagged.post, **changes)


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator[Loaded]:
    async with fresh_schema() as url:
        pg = open_store(url)
        lite = open_store(tmp_path / "agree.db")
        await pg.open()
        await lite.open()
        try:
            posts = await _load(lite)
            await _load(pg)
            yield Loaded(sqlite=lite, postgres=pg, posts=posts)
        finally:
            await lite.close()
            await pg.close()


def rendered(report: Report) -> str:
    out = io.StringIO()
    to_csv(report, out)
    return out.getvalue() + "\n" + to_json(report)


SINCE, UNTIL = date(2021, 1, 1), date(2021, 6, 30)
DIMENSIONS: list[tuple[str, ...]] = [
    (), ("group",), ("keyword",), ("person",), ("language",), ("script",), ("channel",), ("label:country",),
    ("group", "channel"), ("channel", "group"), ("group", "language"), ("keyword", "group"),
    ("label:kind", "keyword"), ("channel", "language"),
]
RANGES = [(SINCE, UNTIL), (date(2021, 1, 17), date(2021, 4, 9)), (date(2021, 2, 1), date(2021, 2, 27)),
          (date(2021, 3, 3), date(2021, 3, 5))]
FILTERS: list[dict[str, Any]] = [
    {}, {"groups": ("IS",)}, {"groups": ("IS", "JA")}, {"langs": ("uz-Latn",)}, {"langs": ("uz",)},
    {"keywords": ("hijra",), "groups": ("ISKP",)}, {"channels": ("@beta_tj",)}, {"labels": ("kind=media",)},
    {"scripts": ("Cyrl",)}, {"people": ("FAYZIMATOV",)},
]


def _specs() -> list[ReportSpec]:
    specs = []
    for every in ("day", "week", "month"):
        for by in DIMENSIONS:
            specs.append(ReportSpec(since=SINCE, until=UNTIL, every=every, by=by))  # type: ignore[arg-type]
    for since, until in RANGES:
        for by in (("group", "channel"), ("keyword",), ()):
            for every in ("week", "month"):
                specs.append(ReportSpec(since=since, until=until, every=every, by=by))  # type: ignore[arg-type]
    for filters in FILTERS:
        for by in ((), ("group",), ("channel",)):
            specs.append(ReportSpec(since=SINCE, until=UNTIL, every="month", by=by, **filters))
    return specs


async def _rendered_or_refusal(make: Any, store: Store) -> str:
    """The rendered report, or the refusal (a filter the report does not honour) as text: both must agree."""
    try:
        return rendered(await make(store))
    except ConfigError as exc:
        return f"refused: {exc}"


async def _both(loaded: Loaded, make: Any) -> tuple[str, str]:
    return await _rendered_or_refusal(make, loaded.sqlite), await _rendered_or_refusal(make, loaded.postgres)


async def test_every_report_renders_the_same_on_both_backends(loaded: Loaded) -> None:
    differ: list[str] = []
    checked = 0

    async def compare(name: str, make: Any) -> None:
        nonlocal checked
        a, b = await _both(loaded, make)
        checked += 1
        if a != b:
            differ.append(f"{name}:\n--- sqlite\n{a[:1500]}\n--- postgres\n{b[:1500]}")

    for spec in _specs():
        await compare(f"volume {spec}", lambda s, spec=spec: volume(s, spec))
    for every in ("day", "week", "month"):
        for by in ((), ("group",), ("language",), ("channel",)):
            spec = ReportSpec(since=date(2021, 3, 1), until=date(2021, 4, 30), every=every, by=by)  # type: ignore[arg-type]
            await compare(f"trend {spec}", lambda s, spec=spec: trend(s, spec))
    for filters in ({}, {"groups": ("IS",)}, {"channels": ("@alpha_news",)}, {"langs": ("ru",)}):
        spec = ReportSpec(since=SINCE, until=UNTIL, **filters)
        for what in TOP_WHAT:
            await compare(f"top {what} {spec}", lambda s, spec=spec, what=what: top(s, spec, what=what, limit=15))
        await compare(f"reach {spec}", lambda s, spec=spec: reach(s, spec))
        await compare(f"reach by group {spec}",
                      lambda s, spec=spec: reach(s, ReportSpec(since=SINCE, until=UNTIL, by=("group", "language"))))
        await compare(f"spread {spec}", lambda s, spec=spec: clusters(s, spec, min_channels=1, min_length=10))
        await compare(f"network {spec}", lambda s, spec=spec: _network(s, spec))
        await compare(f"discovery {spec}", lambda s, spec=spec: discovery(s, spec))
    assert not differ, f"{len(differ)} of {checked} reports differ:\n" + "\n\n".join(differ[:3])
    assert checked > 150


async def _network(store: Store, spec: ReportSpec) -> Report:
    report, nodes = await forward_network(store, spec)
    return Report(name=report.name, columns=report.columns, rows=report.rows,
                  meta=report.meta | {"nodes": {str(k): v for k, v in sorted(nodes.items())}})


def _alerts_json(items: Any) -> str:
    return json.dumps([_alert_dict(i.alert, dict(i.deliveries)) for i in items], ensure_ascii=False, indent=1)


async def test_alerts_fired_in_the_save_and_their_dry_runs_agree(loaded: Loaded) -> None:
    lite = await loaded.sqlite.list_alerts(limit=100_000)
    pg = await loaded.postgres.list_alerts(limit=100_000)
    assert len(lite) > 10, "the data set fires alerts of several rules"
    assert {i.alert.rule for i in lite} >= {"is-match", "new-sources"}
    assert _alerts_json(pg) == _alerts_json(lite)
    assert await loaded.postgres.rule_states() == await loaded.sqlite.rule_states()
    assert await loaded.postgres.delivery_counts() == await loaded.sqlite.delivery_counts()
    config = alerts_config()
    since, until = datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC)
    for rule in config.rules:
        a = await dry_run(rule, config, loaded.sqlite, since=since, until=until)
        b = await dry_run(rule, config, loaded.postgres, since=since, until=until)
        assert (b.posts_replayed, b.posts_evaluated, b.texts, b.notes) == (
            a.posts_replayed, a.posts_evaluated, a.texts, a.notes
        ), rule.name
        assert [_alert_dict(x) for x in b.alerts] == [_alert_dict(x) for x in a.alerts], rule.name


async def _lifecycle(store: Store) -> None:
    """The same takedowns, deletions, out-links and profiles on a backend (see test_lifecycle_reports_agree)."""
    from monitor.models import ChannelEvent, ChannelSnapshot, LinkPreview, Post, Tags

    def at(days: float) -> datetime:
        return START + timedelta(days=days)

    for key, cid, state, days, reason in (
        ("alpha_news", 1001, "active", 1, None), ("beta_tj", 1002, "active", 1, None),
        ("alpha_news", 1001, "banned", 40, "The channel is banned"), ("alpha_news", 1001, "active", 47, None),
        ("beta_tj", 1002, "username_changed", 50, "@beta_tj -> @beta_tj2"),
        ("beta_tj", 1002, "restricted", 60, "all:terrorism: blocked"),
    ):
        await store.add_channel_event(ChannelEvent(key=key, channel_id=cid, state=state, at=at(days), reason=reason))
    await store.add_channel_snapshot(ChannelSnapshot(channel_id=1001, observed_at=at(30), subscribers=900))
    posts = [
        Post(channel_id=1003, message_id=90_000 + i, posted_at=at(20 + i), text=f"bak https://files.host{i % 2}.io/x{i}"
             f" zaxira kanal t.me/gamma_backup", links=(f"https://files.host{i % 2}.io/x{i}",), mentions=("gamma_backup",),
             preview=LinkPreview(url=f"https://files.host{i % 2}.io/x{i}", title=f"x{i}.zip",
                                 site_name=None if i % 2 else "Host"))
        for i in range(4)
    ]
    tagged = [TaggedPost(post=p, tags=Tags(lang="ru", script="Cyrl", groups=("IS",)), tagger_version="t@1")
              for p in posts]
    await store.save_posts(1003, tagged, at=SAVED_AT, store_text=True)
    await store.mark_deleted(1003, [90_001], at=at(30), kind="deleted")
    await store.mark_deleted(1003, [90_002], at=at(30), kind="expired")


async def test_lifecycle_reports_agree(loaded: Loaded) -> None:
    """takedowns, --takedowns, links, views per subscriber and the discovery queue: the same on both backends."""
    from monitor.reports.audience import with_subscribers
    from monitor.reports.links import links
    from monitor.reports.queue import build_queue
    from monitor.reports.spec import resolve
    from monitor.reports.takedowns import takedowns

    for store in (loaded.sqlite, loaded.postgres):
        await _lifecycle(store)

    async def queue(store: Store) -> Report:
        items = await build_queue(store)
        return Report(name="queue", columns=("ref", "priority", "distance", "successor_of", "evidence"),
                      rows=[(c.ref, c.priority, c.distance, sorted(c.successor_of), c.evidence) for c in items])

    async def per_subscriber(store: Store, spec: ReportSpec) -> Report:
        return await with_subscribers(store, await resolve(store, spec), await top(store, spec))

    weekly = ReportSpec(since=SINCE, until=UNTIL, every="week", by=("group",))
    makes = {
        "takedowns": lambda s: takedowns(s, weekly),
        "takedowns by label": lambda s: takedowns(s, ReportSpec(since=SINCE, until=UNTIL, by=("label:country",))),
        "takedown events": lambda s: takedowns(s, ReportSpec(since=SINCE, until=UNTIL), list_events=True),
        "volume --takedowns": lambda s: _volume_takedowns(s, weekly),
        "links by group": lambda s: links(s, ReportSpec(since=SINCE, until=UNTIL, by=("group", "language"))),
        "links weekly raw": lambda s: links(s, ReportSpec(since=SINCE, until=UNTIL, every="week"), what="links",
                                            raw=True, include_deleted=False),
        "per subscriber": lambda s: per_subscriber(s, ReportSpec(since=SINCE, until=UNTIL)),
        "top posts without deleted": lambda s: top(s, ReportSpec(since=SINCE, until=UNTIL), what="posts-by-views",
                                                   limit=500, deleted="exclude"),
        "top posts marked": lambda s: top(s, ReportSpec(since=SINCE, until=UNTIL), what="posts-by-forwards",
                                          limit=500, deleted="mark"),
        "queue": queue,
    }
    differ = []
    for name, make in makes.items():
        a, b = await _both(loaded, make)
        assert not a.startswith("refused"), (name, a)
        if a != b:
            differ.append(f"{name}:\n--- sqlite\n{a[:1500]}\n--- postgres\n{b[:1500]}")
    assert not differ, "\n\n".join(differ)
    first = await takedowns(loaded.sqlite, weekly)
    assert sum(r["takedowns"] for r in first.as_dicts()) == 2 and sum(r["posts_deleted"] for r in first.as_dicts()) == 1


async def _volume_takedowns(store: Store, spec: ReportSpec) -> Report:
    from monitor.reports.takedowns import with_takedowns

    return await with_takedowns(store, spec, await volume(store, spec))
