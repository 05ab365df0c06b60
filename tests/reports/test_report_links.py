"""`monitor report links`: domains and links ranked by group and language per period, defanged unless
--raw, Telegram's preview kept, deleted posts in or out (real SQLite store; PostgreSQL answers the same
port in the contract suite)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from storefill import build_database
from monitor.cli.report import report
from monitor.models import Channel, ChannelRef, LinkPreview, Match, Post, TaggedPost, Tags
from monitor.reports.links import links
from monitor.reports.spec import ReportSpec

T0 = datetime(2024, 5, 6, 9, tzinfo=UTC)
A = Channel(id=21, username="manba_uz", title="Manba", access_hash=1)
B = Channel(id=22, username="ovoz_ru", title="Ovoz", access_hash=2)


def _post(channel: Channel, mid: int, days: int, urls: tuple[str, ...], *, group: str, lang: str,
          preview: LinkPreview | None = None) -> TaggedPost:
    post = Post(channel_id=channel.id, message_id=mid, posted_at=T0 + timedelta(days=days), text=" ".join(urls),
                links=urls, preview=preview)
    tags = Tags(lang=lang, script="Latn" if lang == "uz" else "Cyrl", confidence=0.9, groups=(group,),
                matches=(Match(kind="group", canonical=group, term=group, start=0, end=1, rule="alias"),))
    return TaggedPost(post=post, tags=tags, tagger_version="t@1")


async def fill(store: Any) -> None:
    refs = [ChannelRef(key=c.username or "", username=c.username) for c in (A, B)]
    await store.sync_watchlist(refs, at=T0)
    for ref, channel in zip(refs, (A, B), strict=True):
        await store.set_resolved(ref.key, channel, at=T0)
    mega = "https://mega.nz/file/AbC#key"
    await store.save_posts(A.id, [
        _post(A, 1, 0, (mega, "https://t.me/zaxira"), group="IMU", lang="uz"),
        _post(A, 2, 1, ("https://www.mega.nz/folder/x",), group="IMU", lang="uz"),
        _post(A, 3, 8, ("http://archive.example.org/a.pdf",), group="IMU", lang="uz",
              preview=LinkPreview(url="http://archive.example.org/a.pdf", title="Kitob [PDF]", site_name=None)),
    ], at=T0)
    await store.save_posts(B.id, [_post(B, 1, 2, (mega,), group="ISKP", lang="ru")], at=T0)
    await store.mark_deleted(B.id, [1], at=T0 + timedelta(days=3), kind="deleted")


async def test_domains_ranked_by_group_and_defanged(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    rep = await links(store, ReportSpec(since=date(2024, 5, 6), until=date(2024, 5, 20), by=("group",)))
    rows = [(r["group"], r["rank"], r["domain"], r["posts"], r["channels"], r["posts_deleted"]) for r in rep.as_dicts()]
    assert rows == [("IMU", 1, "mega[.]nz", 2, 1, 0), ("IMU", 2, "archive[.]example[.]org", 1, 1, 0),
                    ("IMU", 3, "t[.]me", 1, 1, 0), ("ISKP", 1, "mega[.]nz", 1, 1, 1)]
    raw = await links(store, ReportSpec(by=("language",)), what="links", raw=True, include_deleted=False)
    by_link = {r["link"]: r for r in raw.as_dicts()}
    assert "https://mega.nz/file/AbC#key" in by_link and by_link["https://mega.nz/file/AbC#key"]["posts"] == 1
    assert by_link["http://archive.example.org/a.pdf"]["preview_title"] == "Kitob [PDF]"
    assert {r["language"] for r in raw.as_dicts()} == {"uz-Latn"}  # the deleted ru post is left out
    weekly = await links(store, ReportSpec(every="week"))
    assert {r["period"] for r in weekly.as_dicts()} == {"2024-W19", "2024-W20"}


def test_cli_links_json_and_a_refused_dimension(tmp_path: Path) -> None:
    path = tmp_path / "m.db"

    build_database(path, fill)
    runner = CliRunner()
    out = runner.invoke(report, ["links", "--db", str(path), "--what", "links", "--format", "json", "--lang", "uz"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    rows = data["rows"] if isinstance(data, dict) else data
    assert rows and all(r["link"].startswith("hxxp") for r in rows) and all("://mega.nz" not in json.dumps(r) for r in rows)
    bad = runner.invoke(report, ["links", "--db", str(path), "--by", "keyword"])
    assert bad.exit_code == 2 and "links are ranked by group" in bad.output
