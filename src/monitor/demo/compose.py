"""Turn the hand-written demo texts into a dated, seeded scenario (``monitor-scenario/1``).

Everything random comes from one ``random.Random(seed)``, so a seed always gives
the same scenario byte for byte: tests and docs can quote the numbers.

Built-in trends that reports should find (keep in step with TRENDS below):
- ISKP: topic weight x10 in March 2024, so ISKP posts spike in March.
- HT (Hizb ut-Tahrir): topic weight x5 in May 2024.
- @xuroson_sharh (1006) posts from 2024-04-03 only: a channel that appears in April.
- Unwatched @idlib_xronika is the most cited non-watched channel (forwards, t.me links,
  @mentions), then @afgon_front_xabar, @mintaqa_amniyati, @sharq_tahlil_markazi.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from monitor.demo.channels import (
    DEMO_CHANNELS,
    DEMO_END,
    DEMO_START,
    UNWATCHED_CHANNELS,
    DemoChannel,
    UnwatchedChannel,
)

FORMAT = "monitor-scenario/1"
TEXT_POOLS = ("ru", "tg", "uz_latn", "uz_cyrl", "en")
END_AT = datetime.combine(DEMO_END, time(23, 59), tzinfo=UTC)

# Month -> topic -> weight multiplier: the trends a report must be able to find.
TRENDS: dict[int, dict[str, float]] = {
    3: {"ISKP": 10.0},
    5: {"HT": 5.0},
}
TOPIC_BASE = {"none": 2.4, "neg": 1.0}  # any other topic: 1.0
VIEW_HOURS = (0, 1, 3, 6, 12, 24, 48, 72, 168, 336, 720)
APOSTROPHES = ("'", "\u02bb", "\u2018", "`")
HIDDEN_SENDERS = ("Abdulloh R.", "Nodira", "Фаррух", "Admin")
SITES = {
    1001: "https://ozodsado.example/news",
    1002: "https://markaziyxabar.example/uz",
    1003: "https://ekstremizm-digest.example/posts",
    1004: "https://vodiy.example/xabar",
    1005: "https://muhojirlar.example/p",
    1006: "https://xuroson-sharh.example/a",
    1007: "https://toshkent-tahlil.example/maqola",
}
REPORT_SITES = ("https://un-monitoring.example/report", "https://research-ca.example/brief")


@dataclass(slots=True)
class Draft:
    """A post before ids are known; references to other drafts become ids at the end."""

    channel: DemoChannel
    at: datetime
    text: str
    pool: str
    topic: str
    template: str = ""  # the hand-written item, so a follow-up reply can fit its parent
    media: str | None = None
    fwd_draft: Draft | None = None
    fwd_external: dict[str, Any] | None = None
    reply_to: Draft | None = None
    grouped_id: int | None = None
    author: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted_at: datetime | None = None
    boost: float = 1.0
    msg_id: int = 0


def load_texts() -> dict[str, dict[str, Any]]:
    """Read the bundled text pools (package data, so it works from a wheel)."""
    base = resources.files("monitor.demo") / "texts"
    pools: dict[str, dict[str, Any]] = {}
    for name in TEXT_POOLS:
        with (base / f"{name}.toml").open("rb") as fh:
            pools[name] = tomllib.load(fh)
    return pools


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_UZ_APOS = re.compile(r"(?<=[OoGg])'")


def uz_apostrophes(text: str, style: str) -> str:
    """Type o'/g' as this post's typist does (U+02BB, U+2018, ` or plain ').

    The tutuq belgisi (ma'lum) becomes U+02BC next to U+02BB, as in the official orthography.
    """
    if style == "'":
        return text
    text = _UZ_APOS.sub(style, text)
    return text.replace("'", "\u02bc" if style == "\u02bb" else "'")


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Composer:
    """Holds the seeded state of one build; call :meth:`build` once."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools = load_texts()
        self.drafts: dict[int, list[Draft]] = {c.id: [] for c in DEMO_CHANNELS}
        self.used: dict[int, set[tuple[str, str]]] = {c.id: set() for c in DEMO_CHANNELS}
        self.group_seq = 0

    # -- texts ----------------------------------------------------------------------

    def fill(
        self, pool: str, template: str, slots: dict[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        """Fill {slots} with seeded choices; reuse ``slots`` so an edit keeps the same city."""
        table = self.pools[pool]["slots"]
        chosen = dict(slots or {})
        for name in re.findall(r"{(\w+)}", template):
            if name not in chosen:
                chosen[name] = self.rng.choice(table[name])
        text = template.format(**chosen)
        return text[:1].upper() + text[1:], chosen  # a slot may open the sentence ("в Оше ...")

    def pick_item(self, ch: DemoChannel, pool: str, day: date, short: bool = False) -> dict[str, Any]:
        items = [i for i in self.pools[pool]["items"] if day.month in i.get("months", (day.month,))]
        if short:
            items = [i for i in items if len(i["text"]) <= 140 and "\n" not in i["text"]]
        weights = []
        for item in items:
            topic = item["topic"]
            w = TOPIC_BASE.get(topic, 1.0) * ch.bias.get(topic, 1.0)
            w *= TRENDS.get(day.month, {}).get(topic, 1.0)
            if (pool, item["text"]) in self.used[ch.id]:
                w *= 0.15  # prefer fresh stories; repeats happen, as on real channels
            weights.append(w)
        chosen: dict[str, Any] = self.rng.choices(items, weights)[0]
        self.used[ch.id].add((pool, chosen["text"]))
        return chosen

    def pick_pool(self, ch: DemoChannel) -> str:
        return self.rng.choices(list(ch.langs), list(ch.langs.values()))[0]

    def style(self, ch: DemoChannel) -> str:
        """The apostrophe of one post: mostly the channel's habit, sometimes another typist's."""
        return ch.apostrophe if self.rng.random() < 0.8 else self.rng.choice(APOSTROPHES)

    def finish(self, style: str, pool: str, text: str) -> str:
        return uz_apostrophes(text, style) if pool == "uz_latn" else text

    def decorate(self, ch: DemoChannel, pool: str, text: str, at: datetime) -> str:
        """Add what channels add around a story: a prefix, a link, a source, a signature."""
        p = self.pools[pool]
        rng = self.rng
        if rng.random() < 0.12:
            text = rng.choice(p["prefixes"]) + text
        roll = rng.random()
        if roll < 0.16:
            slug = f"{at:%Y/%m/%d}/{rng.randint(1000, 99999)}"
            text += f"\n\n{p['more']} {SITES[ch.id]}/{slug}"
        elif roll < 0.22:
            text += f"\n\n{p['more']} {rng.choice(REPORT_SITES)}/{at:%Y-%m}-{rng.randint(10, 99)}"
        elif roll < 0.31:
            other = self.pick_unwatched()
            if rng.random() < 0.5:
                text += f"\n\n{p['source']} @{other.username}"
            else:
                text += f"\n\n{p['source']} https://t.me/{other.username}/{rng.randint(150, 4800)}"
        elif roll < 0.36:
            peer = rng.choice([c for c in DEMO_CHANNELS if c.id != ch.id and c.start <= at.date()])
            text += f"\n\n{p['source']} @{peer.username}"
        if rng.random() < 0.2:
            text += f"\n\n👉 @{ch.username}"
        return text

    def add(self, ch: DemoChannel, at: datetime, **fields: Any) -> Draft:
        """Queue a post of ``ch`` at ``at`` (``fields``: the rest of its Draft); the draft may still change."""
        draft = Draft(channel=ch, at=at, **fields)
        self.drafts[ch.id].append(draft)
        return draft

    def pick_unwatched(self) -> UnwatchedChannel:
        return self.rng.choices(UNWATCHED_CHANNELS, [u.weight for u in UNWATCHED_CHANNELS])[0]

    # -- schedule -------------------------------------------------------------------

    def slots_for(self, ch: DemoChannel) -> list[datetime]:
        out: list[datetime] = []
        day = ch.start
        while day <= DEMO_END:
            lam = ch.rate * (0.6 if day.weekday() == 4 else 1.0)
            if day == ch.start and ch.start > DEMO_START:
                lam += 3  # a new channel opens with a burst
            for _ in range(_poisson(self.rng, lam)):
                minute = self.rng.randint(3 * 60, 18 * 60 + 30)  # 08:00-23:30 local (UTC+5)
                out.append(datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=minute))
            day += timedelta(days=1)
        return sorted(out)

    def originals(self, ch: DemoChannel) -> None:
        rng = self.rng
        polls = 0
        for at in self.slots_for(ch):
            own = self.drafts[ch.id]
            author = rng.choice(ch.authors) if ch.authors else None
            st = self.style(ch)
            roll = rng.random()
            recent = [
                d
                for d in own[-6:]
                if d.topic not in ("none", "neg", "poll", "album")
                and at - d.at < timedelta(days=3)
                and d.template
            ]
            if roll < 0.06 and recent:
                parent = rng.choice(recent)
                text, _ = self.fill(parent.pool, rng.choice(self.followups(parent)))
                self.add(
                    ch,
                    at,
                    text=self.finish(st, parent.pool, text),
                    pool=parent.pool,
                    topic=parent.topic,
                    reply_to=parent,
                    author=author,
                )
            elif roll < 0.11:
                self.album(ch, at, author)
            elif roll < 0.125 and polls < 2:
                polls += 1
                pool = self.pick_pool(ch)
                text = self.finish(st, pool, rng.choice(self.pools[pool]["polls"]))
                self.add(ch, at, text=text, pool=pool, topic="poll", media="poll", author=author)
            elif roll < 0.18:
                self.digest(ch, at, author)
            else:
                self.story(ch, at, author)

    def story(self, ch: DemoChannel, at: datetime, author: str | None) -> None:
        rng = self.rng
        pool = self.pick_pool(ch)
        st = self.style(ch)
        item = self.pick_item(ch, pool, at.date())
        text, slots = self.fill(pool, item["text"])
        body = self.decorate(ch, pool, self.finish(st, pool, text), at)
        media = rng.choices([None, "photo", "video", "document"], [0.62, 0.25, 0.09, 0.04])[0]
        draft = self.add(
            ch, at, text=body, pool=pool, topic=item["topic"], media=media, author=author, template=item["text"]
        )
        if item["topic"] == "ISKP" and at.month == 3:
            draft.boost = 1.8
        roll = rng.random()
        if "edit" in item and roll < 0.5:
            new, _ = self.fill(pool, item["edit"], slots)
            self.add_edit(draft, body.replace(self.finish(st, pool, text), self.finish(st, pool, new)))
        elif roll < 0.05 and item["topic"] not in ("none", "neg"):
            self.add_edit(draft, body + "\n\n" + self.finish(st, pool, self.pools[pool]["upd"]))
        elif roll < 0.08 and len(body) > 40 and body.find("\n\n") not in range(0, 16):
            # published with a doubled letter, fixed a few minutes later
            end = body.find("\n\n") if "\n\n" in body else len(body)  # never inside a link or @name
            cut = rng.randint(10, max(10, end - 3))
            while cut > 0 and not body[cut].isalpha():
                cut -= 1
            draft.text = body[:cut] + body[cut] + body[cut:]
            self.add_edit(draft, body)
        elif roll < 0.095:
            self.add_edit(draft, body, hide=True)
        if rng.random() < 0.006:
            draft.deleted_at = min(END_AT, at + timedelta(hours=rng.randint(2, 60)))

    def add_edit(self, draft: Draft, text: str, hide: bool = False) -> None:
        prev = draft.edits[-1]["at_dt"] if draft.edits else draft.at
        at = prev + timedelta(minutes=self.rng.randint(4, 360))
        if at <= END_AT:
            draft.edits.append({"at_dt": at, "text": text, "hide": hide})

    def followups(self, parent: Draft) -> list[str]:
        """Replies that fit the parent: arrests get arrest updates, sentences get appeal news."""
        table: dict[str, list[str]] = self.pools[parent.pool]["followups"]
        if "{years}" in parent.template:
            return table["court"] + table["generic"]
        if "{n}" in parent.template or "{num}" in parent.template:
            return table["arrest"] + table["generic"]
        return table["generic"]

    def album(self, ch: DemoChannel, at: datetime, author: str | None) -> None:
        self.group_seq += 1
        gid = 13_500_000_000_000_000 + ch.id * 10_000 + self.group_seq
        pool = self.pick_pool(ch)
        st = self.style(ch)
        item = self.pick_item(ch, pool, at.date(), short=True)
        text, _ = self.fill(pool, item["text"])
        caption = self.finish(st, pool, text + "\n\n" + self.rng.choice(self.pools[pool]["album_captions"]))
        for k in range(self.rng.randint(2, 4)):
            self.add(
                ch,
                at + timedelta(seconds=k),
                text=caption if k == 0 else "",
                pool=pool,
                topic=item["topic"] if k == 0 else "album",
                media="photo",
                grouped_id=gid,
                author=author,
            )

    def digest(self, ch: DemoChannel, at: datetime, author: str | None) -> None:
        pool = self.pick_pool(ch)
        st = self.style(ch)
        p = self.pools[pool]
        lines, topics = [], []
        for _ in range(self.rng.randint(3, 5)):
            item = self.pick_item(ch, pool, at.date(), short=True)
            lines.append("• " + self.fill(pool, item["text"])[0])
            topics.append(item["topic"])
        text = f"{self.rng.choice(p['digest_head'])}\n\n" + "\n".join(lines) + f"\n\n{p['digest_tag']}"
        groups = [t for t in topics if t not in ("none", "neg")]
        self.add(
            ch, at, text=self.finish(st, pool, text), pool=pool, topic=groups[0] if groups else "none", author=author
        )

    def cover(self) -> None:
        """Post every hand-written item at least once, so each form and hard negative is in the data."""
        used: set[tuple[str, str]] = set().union(*self.used.values())
        for pool in TEXT_POOLS:
            writers = [c for c in DEMO_CHANNELS if pool in c.langs]
            for item in self.pools[pool]["items"]:
                if (pool, item["text"]) in used:
                    continue
                ch = self.rng.choices(writers, [c.langs[pool] for c in writers])[0]
                months = item.get("months", list(range(ch.start.month, DEMO_END.month + 1)))
                month = self.rng.choice([m for m in months if m >= ch.start.month] or [DEMO_END.month])
                first = max(ch.start, date(DEMO_END.year, month, 1))
                last = (
                    min(DEMO_END, date(DEMO_END.year, month + 1, 1) - timedelta(days=1))
                    if month < 12
                    else DEMO_END
                )
                day = first + timedelta(days=self.rng.randint(0, (last - first).days))
                at = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
                    minutes=self.rng.randint(180, 1110)
                )
                st = self.style(ch)
                text, _ = self.fill(pool, item["text"])
                self.used[ch.id].add((pool, item["text"]))
                self.add(
                    ch,
                    at,
                    pool=pool,
                    topic=item["topic"],
                    text=self.decorate(ch, pool, self.finish(st, pool, text), at),
                )

    # -- forwards -------------------------------------------------------------------

    def forwards(self) -> None:
        rng = self.rng
        sources = [
            d
            for c in DEMO_CHANNELS
            for d in self.drafts[c.id]
            if d.text and d.reply_to is None and d.topic not in ("poll", "album") and d.deleted_at is None
        ]
        for ch in DEMO_CHANNELS:
            own_count = len(self.drafts[ch.id])
            # forwards from other watched channels
            candidates = [d for d in sources if d.channel.id != ch.id and d.pool in ch.langs]
            for _ in range(int(own_count * 0.11)):
                weights = [1.0 if d.topic in ("none", "neg") else 3.0 for d in candidates]
                orig = rng.choices(candidates, weights)[0]
                at = orig.at + timedelta(minutes=rng.randint(12, 36 * 60))
                if at > END_AT or at.date() < ch.start:
                    continue
                self.add(ch, at, text=orig.text, pool=orig.pool, topic=orig.topic, media=orig.media, fwd_draft=orig)
            # forwards from channels nobody watches yet (the discovery report's signal)
            for _ in range(max(2, int(own_count * 0.05))):
                other = self.pick_unwatched()
                pool = self.pick_pool(ch)
                st = self.style(ch)
                day = ch.start + timedelta(days=rng.randint(0, (DEMO_END - ch.start).days))
                item = self.pick_item(ch, pool, day)
                text, _ = self.fill(pool, item["text"])
                orig_at = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
                    minutes=rng.randint(60, 14 * 60)
                )
                at = orig_at + timedelta(minutes=rng.randint(20, 600))
                ext = {
                    "channel_id": other.id,
                    "message_id": 100
                    + (orig_at - datetime(2024, 1, 1, tzinfo=UTC)).days * 3
                    + rng.randint(0, 2),
                    "date": iso(orig_at),
                    "name": other.title,
                }
                self.add(
                    ch,
                    at,
                    text=self.finish(st, pool, text),
                    pool=pool,
                    topic=item["topic"],
                    media=rng.choice([None, "photo", "video"]),
                    fwd_external=ext,
                )
            # a forward whose sender hides the source
            pool = self.pick_pool(ch)
            st = self.style(ch)
            day = ch.start + timedelta(days=rng.randint(0, (DEMO_END - ch.start).days))
            item = self.pick_item(ch, pool, day, short=True)
            at = datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=rng.randint(4 * 60, 17 * 60))
            self.add(
                ch,
                at,
                text=self.finish(st, pool, self.fill(pool, item["text"])[0]),
                pool=pool,
                topic=item["topic"],
                fwd_external={"name": rng.choice(HIDDEN_SENDERS)},
            )

    # -- output ---------------------------------------------------------------------

    def series(self, total: int, tau: float, start_share: float) -> list[list[int]]:
        out, last = [], 0
        for h in VIEW_HOURS:
            v = int(total * (start_share + (1 - start_share) * (1 - math.exp(-h / tau))))
            last = max(last, v)
            out.append([h, last])
        return out

    def message(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        ch = d.channel
        interest = 1.0 if d.topic in ("none", "neg", "album", "poll") else 1.35
        total = max(5, int(ch.subscribers * rng.uniform(0.12, 0.55) * interest * d.boost))
        if d.fwd_draft is not None or d.fwd_external is not None:
            total = int(total * 0.8)
        views = self.series(total, tau=rng.uniform(6, 30), start_share=rng.uniform(0.0, 0.04))
        fwd_total = int(total * rng.uniform(0.001, 0.02) * interest)
        forwards = [[h, int(fwd_total * (1 - math.exp(-h / 30)))] for h in (0, 24, 168, 720)]
        reactions: dict[str, int] = {}
        for emoji, share in (("👍", 0.012), ("🔥", 0.004), ("😢", 0.003), ("🤔", 0.003)):
            n = int(total * share * rng.uniform(0.2, 1.6))
            if n:
                reactions[emoji] = n
        msg: dict[str, Any] = {
            "id": d.msg_id,
            "date": iso(d.at),
            "text": d.text,
            "media": d.media,
            "views": views,
            "forwards": forwards,
            "replies": _poisson(rng, total / 600) if ch.comments else None,
            "reactions": reactions,
            "fwd_from": None,
            "reply_to": d.reply_to.msg_id if d.reply_to else None,
            "grouped_id": d.grouped_id,
            "post_author": d.author,
            "edits": [{"at": iso(e["at_dt"]), "text": e["text"], "hide": e["hide"]} for e in d.edits],
            "deleted_at": iso(d.deleted_at) if d.deleted_at else None,
        }
        if d.fwd_draft is not None:
            o = d.fwd_draft
            msg["fwd_from"] = {
                "channel_id": o.channel.id,
                "message_id": o.msg_id,
                "date": iso(o.at),
                "name": o.channel.title,
            }
        elif d.fwd_external is not None:
            msg["fwd_from"] = dict(d.fwd_external)
        return msg

    def build(self) -> dict[str, Any]:
        for ch in DEMO_CHANNELS:
            self.originals(ch)
        self.cover()
        self.forwards()
        for ch in DEMO_CHANNELS:
            own = sorted(self.drafts[ch.id], key=lambda d: d.at)
            next_id = ch.first_id
            for d in own:
                d.msg_id = next_id
                next_id += 1 + (1 if self.rng.random() < 0.07 else 0)  # ids skip, as service messages do
            self.drafts[ch.id] = own
        channels = []
        for ch in DEMO_CHANNELS:
            channels.append(
                {
                    "id": ch.id,
                    "username": ch.username,
                    "title": ch.title,
                    "access_hash": ch.access_hash,
                    "status": "ok",
                    "messages": [self.message(d) for d in self.drafts[ch.id]],
                    # the profile GetFullChannel answers; one channel hides its subscriber count
                    "subscribers": None if ch.id == NO_COUNT_ID else ch.subscribers,
                    "about": f"{ch.title} ({ch.country})",
                }
            )
        lifecycle_story(channels)
        return {"format": FORMAT, "channels": channels, "faults": []}


# -- channels that die and come back (docs/lifecycle.md) ---------------------------------------------

TAKEDOWN_ID = 1005  # muhojirlar_xabari: banned on TAKEDOWN_AT, back on RETURN_AT
TAKEDOWN_AT = datetime(2024, 5, 20, tzinfo=UTC)
RETURN_AT = datetime(2024, 5, 27, tzinfo=UTC)
SUCCESSOR = "muhojirlar_zaxira"  # the backup channel it announced before the ban (never watched)
NO_COUNT_ID = 1004  # a channel whose profile has no subscriber count
PREVIEW_TITLES = {REPORT_SITES[0]: ("Monitoring report", "UN monitoring"), REPORT_SITES[1]: ("Regional brief", None)}


def lifecycle_story(channels: list[dict[str, Any]]) -> None:
    """A takedown and its successor, added without touching the generator's random stream: the channel
    announces a backup in its last post before the ban, a channel that forwarded from it points its
    readers there after, Telegram bans it for a week; link previews (one without a site name)."""
    by_id = {c["id"]: c for c in channels}
    copied = {(m["fwd_from"]["channel_id"], m["fwd_from"]["message_id"]) for c in channels for m in c["messages"]
              if m.get("fwd_from") and m["fwd_from"].get("message_id") is not None}  # forwards copy the text
    gone = by_id[TAKEDOWN_ID]
    gone["changes"] = [{"at": iso(TAKEDOWN_AT), "status": "banned"}, {"at": iso(RETURN_AT), "status": "ok"}]
    before = [m for m in gone["messages"] if m["date"] < iso(TAKEDOWN_AT) and m["text"] and not m.get("deleted_at")
              and not m.get("fwd_from") and (TAKEDOWN_ID, m["id"]) not in copied]
    if before:
        before[-1]["text"] += f"\n\nZaxira kanal: https://t.me/{SUCCESSOR} obuna bo'ling"
    followers = [c for c in channels if c["id"] != TAKEDOWN_ID and any(
        (m.get("fwd_from") or {}).get("channel_id") == TAKEDOWN_ID and m["date"] < iso(TAKEDOWN_AT)
        for m in c["messages"])]
    for follower in followers[:1]:
        after = [m for m in follower["messages"] if iso(TAKEDOWN_AT) < m["date"] and m["text"]
                 and not m.get("deleted_at") and not m.get("fwd_from") and (follower["id"], m["id"]) not in copied]
        if after:
            after[0]["text"] += f"\n\n👉 @{SUCCESSOR}"
    for chan in channels:
        for m in chan["messages"]:
            if m["media"] is not None:
                continue
            for site, (title, name) in PREVIEW_TITLES.items():
                at = m["text"].find(site)
                if at >= 0:
                    url = m["text"][at:].split()[0]
                    m["preview"] = {"url": url, "title": title, "site_name": name}
                    break


DEMO_SEED = 7  # the trends documented for the demo are this seed's


def build_scenario(seed: int = DEMO_SEED) -> dict[str, Any]:
    """The demo scenario for ``seed``: the same seed always gives the same dict."""
    return Composer(seed).build()
