"""Retro-hunt: a new or changed rule reports where it already occurred; seeding keeps the backlog quiet."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts.engine import AlertEngine
from monitor.alerts.retro import retro_hunt
from monitor.clock import FrozenClock
from monitor.models import ForwardOrigin, Match, Tags

from alerts.rules_support import CHANNELS, T0, AlertStore, alert_rows, config, open_store, save, tagged, tags_for  # noqa: E402

OZOD, KHABAR, HIDDEN = CHANNELS["ozod"], CHANNELS["khabar"], CHANNELS["hidden"]


class SubstringTagger:
    """A real (if tiny) implementation of the TextTagger protocol: the analysts' keywords by substring."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords
        self.version = f"lang=test@1;lex={'|'.join(keywords)}"

    def tag(self, text: str) -> Tags:
        found, matches = [], []
        for kw in self.keywords:
            at = text.lower().find(kw.lower())
            if at >= 0:
                found.append(kw)
                matches.append(
                    Match(
                        kind="keyword",
                        canonical=kw,
                        term=text[at : at + len(kw)],
                        start=at,
                        end=at + len(kw),
                        rule="keyword",
                    )
                )
        return Tags(lang="ru", keywords=tuple(sorted(found)), matches=tuple(matches))


@pytest.fixture
async def backlog(tmp_path: Path) -> AlertStore:
    """Posts stored before the analyst added the keyword "хиджрат"."""
    store = await open_store(tmp_path)
    old = T0 - timedelta(days=10)
    await save(
        store,
        OZOD,
        [
            tagged(OZOD, 1, old, "Призывы к хиджрату в Сирию звучат всё чаще", tags_for("x", lang="ru")),
            tagged(OZOD, 2, old + timedelta(days=1), "ХИДЖРАТ объявлен открытым", tags_for("x", lang="ru")),
            tagged(OZOD, 3, old + timedelta(days=2), "Погода и урожай хлопка", tags_for("x", lang="ru")),
        ],
        at=old,
        store_text=True,
    )
    text = "старый пост про хиджрат"
    await save(
        store,
        KHABAR,
        [  # tagged with the keyword by an earlier run, text not kept
            tagged(
                KHABAR,
                1,
                old,
                text,
                tags_for(text, keywords=["хиджрат"]),
                forward=ForwardOrigin(channel_id=777, name="Source"),
                mentions=["fresh_source"],
            ),
        ],
        at=old,
        store_text=False,
    )
    yield store  # type: ignore[misc]
    await store.close()


async def test_retro_hunt_finds_occurrences_by_tags_and_by_text(backlog: AlertStore) -> None:
    rule = config({"name": "hijrat", "kind": "match", "keywords": ["хиджрат"]}).rules[0]
    report = await retro_hunt(rule, backlog, SubstringTagger(["хиджрат"]), at=T0, seed=False)
    assert report.total == 3 and report.by_tags == 1 and report.by_text == 2 and report.texts_scanned == 3
    assert [(o.link, o.via) for o in report.occurrences] == [
        ("https://t.me/ozod_sado/1", "text"),  # same time as khabar_tj/1: ordered by channel id
        ("https://t.me/khabar_tj/1", "tags"),
        ("https://t.me/ozod_sado/2", "text"),
    ]
    assert all(o.matched == ("хиджрат",) for o in report.occurrences)
    without_tagger = await retro_hunt(rule, backlog, None, at=T0, seed=False)
    assert without_tagger.total == 1 and without_tagger.notes  # stored tags only, and it says so
    filtered = config(
        {"name": "h", "kind": "match", "keywords": ["хиджрат"], "channels": ["ozod_sado"]}
    ).rules[0]
    assert (await retro_hunt(filtered, backlog, SubstringTagger(["хиджрат"]), at=T0, seed=False)).total == 2


async def test_seeded_history_keeps_the_backlog_from_firing_as_new(backlog: AlertStore) -> None:
    cfg = config(
        {"name": "hijrat", "kind": "match", "keywords": ["хиджрат"]},
        {"name": "new-words", "kind": "new_term", "warmup": "0s"},
        {"name": "discover", "kind": "new_channel"},
    )
    engine = AlertEngine(cfg, backlog, FrozenClock(T0), tagger=SubstringTagger(["хиджрат"]))
    reports = {r.rule: r for r in await engine.sync_rules()}
    assert set(reports) == {"hijrat", "new-words", "discover"}
    assert reports["new-words"].seeded_terms > 0 and reports["hijrat"].total == 3
    assert sorted(o.matched for o in reports["discover"].occurrences) == [("fresh_source",), ("id:777",)]
    seeded = await backlog.query("SELECT term, total FROM terms WHERE term IN ('хиджрат', 'призыв', 'сир')")
    assert {r["term"] for r in seeded} >= {"хиджрат", "призыв"}

    text = "Призывы к хиджрату: джихадмобиль"
    live = tagged(
        OZOD,
        10,
        T0 - timedelta(minutes=1),
        text,
        tags_for(text, keywords=["хиджрат"]),
        forward=ForwardOrigin(channel_id=777),
        mentions=["fresh_source"],
    )
    result = await save(backlog, OZOD, [live], at=T0)
    fired = await engine.on_saved(OZOD, [live], result.inserted_keys)
    assert sorted(a.rule for a in fired) == ["hijrat", "new-words"]  # no channel: already known from backlog
    new_words = [a.details["terms"][0]["term"] for a in fired if a.rule == "new-words"]  # type: ignore[index]
    assert new_words == ["джихадмобил"]  # not the backlog's words, not the keyword


async def test_rules_are_retro_hunted_only_when_what_they_detect_changes(backlog: AlertStore) -> None:
    cfg = config({"name": "hijrat", "kind": "match", "keywords": ["хиджрат"]})
    engine = AlertEngine(cfg, backlog, FrozenClock(T0))
    assert [r.rule for r in await engine.sync_rules()] == ["hijrat"]
    assert await engine.sync_rules() == []
    engine.reload(config({"name": "hijrat", "kind": "match", "keywords": ["хиджрат"], "cooldown": "2h"}))
    assert await engine.sync_rules() == []  # the cool-down does not change what is detected
    engine.reload(config({"name": "hijrat", "kind": "match", "keywords": ["хиджрат", "муҳоҷир"]}))
    assert [r.rule for r in await engine.sync_rules()] == ["hijrat"]
    hashes = await backlog.query("SELECT detection_hash, seeded_at FROM alert_rules WHERE name = 'hijrat'")
    assert hashes[0]["detection_hash"] == engine.config.rules[0].detection_hash()
    assert await alert_rows(backlog) == []  # a retro-hunt reports; it never sends the backlog


async def test_seeding_twice_does_not_double_count(backlog: AlertStore) -> None:
    rule = config({"name": "rise", "kind": "rising_term"}).rules[0]
    await retro_hunt(rule, backlog, None, at=T0)
    first = await backlog.query("SELECT term, day, count FROM term_days ORDER BY term, day")
    await retro_hunt(rule, backlog, None, at=T0)
    assert await backlog.query("SELECT term, day, count FROM term_days ORDER BY term, day") == first
    assert {r["term"]: r["count"] for r in first}["хиджрат"] == 1  # 2 posts, on 2 different days


async def test_retro_hunt_with_the_project_tagger_finds_a_newly_added_keyword(backlog: AlertStore) -> None:
    """The real tagger: "хиджрат" as a prefix keyword finds its inflected forms in the stored texts,
    which were tagged before the keyword existed."""
    from monitor.tagging import build_tagger  # an import error is a failure, not a skip
    from monitor.tagging.groups.keywords import KeywordSpec

    tagger = build_tagger(keywords=[KeywordSpec(term="хиджрат", mode="prefix")])
    rule = config({"name": "hijrat", "kind": "match", "keywords": ["хиджрат"]}).rules[0]
    report = await retro_hunt(rule, backlog, tagger, at=T0, seed=False)
    by_link = {o.link: o.via for o in report.occurrences}
    assert by_link["https://t.me/ozod_sado/1"] == "text"  # "хиджрату"
    assert by_link["https://t.me/ozod_sado/2"] == "text"  # "ХИДЖРАТ"
    assert by_link["https://t.me/khabar_tj/1"] == "tags"  # text not kept: found by its stored tags
    assert "https://t.me/ozod_sado/3" not in by_link


async def test_a_lexicon_change_re_hunts_match_rules_but_not_term_rules(backlog: AlertStore) -> None:
    """A new group alias or keyword changes what a match rule finds without changing the rule itself."""
    cfg = config(
        {"name": "hijrat", "kind": "match", "keywords": ["хиджрат"]}, {"name": "nw", "kind": "new_term"}
    )
    engine = AlertEngine(cfg, backlog, FrozenClock(T0), tagger=SubstringTagger(["хиджрат"]))
    assert sorted(r.rule for r in await engine.sync_rules()) == ["hijrat", "nw"]
    engine = AlertEngine(cfg, backlog, FrozenClock(T0), tagger=SubstringTagger(["хиджрат"]))  # a restart
    assert await engine.sync_rules() == []
    engine = AlertEngine(cfg, backlog, FrozenClock(T0), tagger=SubstringTagger(["хиджрат", "урожай"]))
    assert [r.rule for r in await engine.sync_rules()] == ["hijrat"]
