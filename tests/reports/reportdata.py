"""Test data for the report tests: a real SQLite store filled with tagged posts built here.

Every report test computes its expectation from ``Dataset.posts`` (the inputs), never from
the database, so a wrong trigger or query shows up as a mismatch.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from monitor.models import Channel, ChannelRef, ForwardOrigin, MetricSample, Post, TaggedPost, Tags
from monitor.store import Store

ReportStore = Store  # reports see the port; a few tests also read SQLite's tables via query()


@dataclass(frozen=True)
class Chan:
    id: int
    username: str
    title: str
    labels: dict[str, str]
    watched: bool = True


CHANNELS = (
    Chan(1001, "alpha_news", "Alpha News", {"country": "UZ", "kind": "media"}),
    Chan(1002, "beta_tj", "Бета ТJ", {"country": "TJ", "kind": "media"}),
    Chan(1003, "gamma_ru", "Гамма", {"country": "RU", "kind": "blog"}),
)
UNWATCHED_SOURCE = Chan(2001, "delta_src", "Delta Source", {}, watched=False)
LANGS = (("ru", "Cyrl"), ("tg", "Cyrl"), ("uz", "Latn"), ("uz", "Cyrl"), ("und", None))
GROUPS = ("IS", "ISKP", "TALIBAN", "JA", "IMU")
KEYWORDS = ("hijra", "bay'ah")
START = datetime(2021, 1, 1, tzinfo=UTC)
DATA_END = datetime(2021, 5, 1, tzinfo=UTC)  # posts fall in Jan-Apr 2021
GAP = (date(2021, 3, 8), date(2021, 3, 14))  # ISO week 2021-W10: nothing posted
SAVED_AT = datetime(2021, 5, 2, tzinfo=UTC)
DUP_TEXT = (
    "Срочно: в провинции Нангархар боевики распространили новое обращение, в котором призывают "
    "сторонников собираться и готовиться к переезду. Источник, знакомый с ситуацией, сообщает о трёх "
    "новых лагерях у границы и о том, что набор ведётся через закрытые чаты. Местные власти пока не "
    "комментируют сообщения, однако в соседних районах усилены проверки на дорогах. По данным источника, "
    "обращение распространяется на трёх языках и уже появилось в нескольких каналах."
)
DUP_FOOTER = " Подписывайтесь на наш канал!"
HOSTILE = "=cmd|' /C calc'!A0 \x1b[31mRED\x1b[0m \u202eevil\u202c end"


@dataclass
class Dataset:
    store: ReportStore
    posts: list[TaggedPost] = field(default_factory=list)
    samples: list[MetricSample] = field(default_factory=list)
    channels: tuple[Chan, ...] = CHANNELS
    dup_keys: tuple[tuple[int, int], ...] = ()
    hostile_key: tuple[int, int] = (0, 0)


def _build_posts(rng: random.Random) -> tuple[list[TaggedPost], tuple[tuple[int, int], ...], tuple[int, int]]:
    posts: list[TaggedPost] = []
    next_id = {c.id: 1 for c in CHANNELS}
    moment = START
    while moment < DATA_END:
        moment += timedelta(minutes=rng.randint(20, 600))
        if GAP[0] <= moment.date() <= GAP[1] or moment >= DATA_END:
            continue
        chan = rng.choice(CHANNELS)
        lang, script = rng.choice(LANGS)
        groups = tuple(sorted(set(rng.sample(GROUPS, rng.choice((0, 0, 1, 1, 2))))))
        keywords = tuple(sorted(set(rng.sample(KEYWORDS, rng.choice((0, 0, 0, 1))))))
        people = ("FAYZIMATOV",) if "IS" in groups and rng.random() < 0.2 else ()
        fwd = None
        roll = rng.random()
        if roll < 0.10:
            fwd = ForwardOrigin(channel_id=UNWATCHED_SOURCE.id, name="Delta Source", message_id=rng.randint(1, 999),
                                date=moment - timedelta(hours=2))
        elif roll < 0.15 and chan.id != 1001:
            fwd = ForwardOrigin(channel_id=1001, name="Alpha News", message_id=rng.randint(1, 999),
                                date=moment - timedelta(hours=1))
        mentions: tuple[str, ...] = ()
        if rng.random() < 0.1:
            mentions = ("epsilon_tv",) if rng.random() < 0.5 else ("epsilon_tv", "delta_src")
        elif rng.random() < 0.05:
            mentions = ("alpha_news",)
        views = None if rng.random() < 0.05 else rng.randint(50, 5000)
        forwards = None if views is None else rng.randint(0, 80)
        text = f"{lang} post {next_id[chan.id]} about {' '.join(groups) or 'nothing'} on {moment:%d %B}"
        post = Post(
            channel_id=chan.id, message_id=next_id[chan.id], posted_at=moment, text=text, views=views,
            forwards=forwards, forward=fwd, mentions=mentions,
        )
        next_id[chan.id] += 1
        posts.append(TaggedPost(
            post=post,
            tags=Tags(lang=lang, script=script, confidence=0.9, groups=groups, people=people, keywords=keywords),
            tagger_version="test@1",
        ))
    # the same item in two channels, a day apart, with a footer added: near-duplicate, not exact
    dup: list[tuple[int, int]] = []
    for chan, when, tail in ((1001, datetime(2021, 2, 10, 8, tzinfo=UTC), ""),
                             (1003, datetime(2021, 2, 11, 9, tzinfo=UTC), DUP_FOOTER)):
        post = Post(channel_id=chan, message_id=next_id[chan], posted_at=when, text=DUP_TEXT + tail, views=900,
                    forwards=10)
        dup.append((chan, next_id[chan]))
        next_id[chan] += 1
        posts.append(TaggedPost(post=post, tags=Tags(lang="ru", script="Cyrl", confidence=0.99, groups=("ISKP",)),
                                tagger_version="test@1"))
    hostile = Post(channel_id=1002, message_id=next_id[1002], posted_at=datetime(2021, 4, 20, tzinfo=UTC),
                   text=HOSTILE, views=10**7, forwards=3)
    posts.append(TaggedPost(post=hostile, tags=Tags(lang="en", script="Latn", confidence=0.5),
                            tagger_version="test@1"))
    return posts, tuple(dup), (1002, next_id[1002])


def _build_samples(rng: random.Random, posts: list[TaggedPost]) -> list[MetricSample]:
    samples = []
    for tagged in posts:
        post = tagged.post
        if post.views is None or rng.random() < 0.5:
            continue
        for hours, frac in ((1, 0.2), (6, 0.5), (24, 0.8)):
            samples.append(MetricSample(
                channel_id=post.channel_id, message_id=post.message_id,
                sampled_at=post.posted_at + timedelta(hours=hours, minutes=5), views=int(post.views * frac),
                forwards=None,
            ))
    return samples


async def fill(store: ReportStore, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    refs = [ChannelRef(key=c.username, username=c.username, labels=c.labels) for c in CHANNELS]
    await store.sync_watchlist(refs, at=START)
    for c in (*CHANNELS, UNWATCHED_SOURCE):
        if c.watched:
            await store.set_resolved(c.username, Channel(id=c.id, username=c.username, title=c.title), at=START)
    posts, dup, hostile = _build_posts(rng)
    for chan in CHANNELS:
        batch = [p for p in posts if p.post.channel_id == chan.id]
        await store.save_posts(chan.id, batch, at=SAVED_AT, store_text=True)
    samples = _build_samples(rng, posts)
    await store.record_samples(samples)
    return Dataset(store=store, posts=posts, samples=samples, dup_keys=dup, hostile_key=hostile)


# -- expectations computed from the inputs, independently of the report code ------------------

CHANNEL_BY_ID = {c.id: c for c in (*CHANNELS, UNWATCHED_SOURCE)}


def period_of(moment: datetime, every: str) -> str:
    if every == "day":
        return moment.date().isoformat()
    if every == "week":
        iso = moment.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return moment.strftime("%Y-%m")


def all_periods(since: date, until: date, every: str) -> list[str]:
    out: list[str] = []
    d = since
    while d <= until:
        label = period_of(datetime(d.year, d.month, d.day, tzinfo=UTC), every)
        if label not in out:
            out.append(label)
        d += timedelta(days=1)
    return out


def language_of(tags: Tags) -> str:
    return f"{tags.lang}-{tags.script}" if tags.script else tags.lang


def dim_values(tagged: TaggedPost, by: Sequence[str]) -> list[tuple[str, ...]]:
    """Every combination a post counts under (a post with two groups counts under both)."""
    options: list[Iterable[str]] = []
    post, tags = tagged.post, tagged.tags
    for name in by:
        if name == "group":
            options.append(tags.groups)
        elif name == "keyword":
            options.append(tags.keywords)
        elif name == "language":
            options.append([language_of(tags)])
        elif name == "script":
            options.append([tags.script or "(none)"])
        elif name == "channel":
            options.append([f"@{CHANNEL_BY_ID[post.channel_id].username}"])
        elif name.startswith("label:"):
            options.append([CHANNEL_BY_ID[post.channel_id].labels.get(name[6:], "(none)")])
    combos: list[tuple[str, ...]] = [()]
    for values in options:
        combos = [c + (v,) for c in combos for v in values]
    return combos


def selected(tagged: TaggedPost, *, since: date, until: date, channel_ids: set[int] | None = None,
             groups: Sequence[str] = (), keywords: Sequence[str] = (), langs: Sequence[str] = ()) -> bool:
    post, tags = tagged.post, tagged.tags
    if not since <= post.posted_at.date() <= until:
        return False
    if channel_ids is not None and post.channel_id not in channel_ids:
        return False
    if groups and not set(groups) & set(tags.groups):
        return False
    if keywords and not set(keywords) & set(tags.keywords):
        return False
    return not (langs and language_of(tags) not in langs and tags.lang not in langs)


def expected_volume(posts: Sequence[TaggedPost], *, since: date, until: date, every: str, by: Sequence[str],
                    **filters: object) -> dict[tuple[str, tuple[str, ...]], list[int]]:
    out: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(lambda: [0, 0, 0])
    for tagged in posts:
        if not selected(tagged, since=since, until=until, **filters):  # type: ignore[arg-type]
            continue
        for combo in dim_values(tagged, by):
            cell = out[(period_of(tagged.post.posted_at, every), combo)]
            cell[0] += 1
            cell[1] += tagged.post.views or 0
            cell[2] += tagged.post.forwards or 0
    return dict(out)
