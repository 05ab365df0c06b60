"""Group, person and keyword tagging: rules, spans, hard negatives, hostile input, bad data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.tagging.groups import GroupTagger, KeywordSpec, load_lexicon

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tagger() -> GroupTagger:
    return GroupTagger(keywords=[
        KeywordSpec(term="вербовка"),
        KeywordSpec(term="hijrat", mode="prefix", group="KTJ"),
        KeywordSpec(term=r"теракт\w*\s+в\s+\w+", mode="pattern"),
    ])


def only(tagger: GroupTagger, text: str, kind: str = "group"):
    ms = [m for m in tagger.match(text) if m.kind == kind]
    assert len(ms) == 1, ms
    return ms[0]


@pytest.mark.parametrize(("text", "canonical", "term", "rule"), [
    ("Боевики ИГИЛ отступили.", "IS", "ИГИЛ", "abbreviation"),
    ("The Taliban said so.", "TALIBAN", "Taliban", "alias"),
    ("Переговоры с талибами идут.", "TALIBAN", "талибами", "inflection"),
    ("Боевики «Исламского государства» ушли.", "IS", "Исламского государства", "inflection"),
    ("Игиловцы обстреляли город.", "IS", "Игиловцы", "inflection"),
    ("Ҳайати Толибон-ро пазируфтанд.", "TALIBAN", "Толибон-ро", "inflection"),
    ("Tolibonning vaziri keldi.", "TALIBAN", "Tolibonning", "inflection"),
    ("IShIDga qo'shilgan.", "IS", "IShIDga", "inflection"),
    ("Имом Бухорий катибаси ҳужум қилди.", "KIB", "Имом Бухорий катибаси", "transliteration"),
    ("Новое видео от И.Г.И.Л. вышло.", "IS", "И.Г.И.Л", "abbreviation"),
    ("Тaлибы (латинская a) вошли.", "TALIBAN", "Тaлибы", "deobfuscation"),
    ("Da\u200besh released it.", "IS", "Da\u200besh", "deobfuscation"),
    ("T a l i b a n fighters.", "TALIBAN", "T a l i b a n", "deobfuscation"),
    ("тАлИбАн ввёл правила.", "TALIBAN", "тАлИбАн", "deobfuscation"),
    ("Hay ’ at Tahrir al-Sham controls Idlib.", "HTS", "Hay ’ at Tahrir al-Sham", "alias"),
    ("Hayʼat Tahrir ash-Shom safida.", "HTS", "Hayʼat Tahrir ash-Shom", "alias"),
    ("ISIS-K claimed the bombing.", "ISKP", "ISIS-K", "abbreviation"),
])
def test_rules_fire_with_exact_span(tagger: GroupTagger, text: str, canonical: str, term: str, rule: str) -> None:
    m = only(tagger, text)
    assert (m.canonical, m.term, m.rule) == (canonical, term, rule)
    assert text[m.start:m.end] == term
    assert m.group == canonical


def test_uzbek_apostrophe_variants_all_match(tagger: GroupTagger) -> None:
    for apo in ("'", "ʻ", "‘", "`", "’"):
        text = f"O{apo}zbekiston Islomiy Harakati jangarilari"
        assert only(tagger, text).canonical == "IMU"


def test_keyword_rules(tagger: GroupTagger) -> None:
    text = "Вербовка и hijratga chaqiruv; теракт в метро."
    kws = {m.canonical: m for m in tagger.match(text) if m.kind == "keyword"}
    assert kws["вербовка"].rule == "keyword" and kws["вербовка"].term == "Вербовка"
    assert kws["hijrat"].rule == "prefix" and kws["hijrat"].term == "hijratga" and kws["hijrat"].group == "KTJ"
    pat = kws[r"теракт\w*\s+в\s+\w+"]
    assert pat.rule == "pattern" and pat.term == "теракт в метро"
    groups, people, keywords, _ = tagger.tag(text)
    assert groups == () and people == () and "hijrat" in keywords


def test_person_does_not_tag_group(tagger: GroupTagger) -> None:
    groups, people, _, matches = tagger.tag("Абу Салох долго скрывался в Идлибе.")
    assert groups == () and people == ("abu_saloh",)
    assert matches[0].kind == "person" and matches[0].group == "KTJ"


def test_matches_sorted_and_spans_index_original(tagger: GroupTagger) -> None:
    text = "\u200b\u200bКТД и «Хайят Тахрир аш-Шам»  и\u00a0ИГИЛ в Идлибе"
    ms = tagger.match(text)
    assert [m.start for m in ms] == sorted(m.start for m in ms)
    for m in ms:
        assert text[m.start:m.end] == m.term


@pytest.mark.parametrize("text", [
    "Imam al-Bukhari compiled the most trusted collection of hadith.",
    "Samarqanddagi Imom Buxoriy majmuasiga ziyoratchilar keldi.",
    "Thousands gathered in Tahrir Square in Cairo.",
    "Khorasan is a historical region spanning Iran and Central Asia.",
    "Pilgrims travel to Mashhad in Iran's Razavi Khorasan province.",
    "The Houthis, who call themselves Ansar Allah, attacked a ship in the Red Sea.",
    "Yemen's Ansarullah movement said it would continue strikes.",
    "Palestinian Islamic Jihad fired rockets from Gaza.",
    "«Исламский джихад» выпустил ракеты из сектора Газа.",
    "ИГ «Ростех» представила отчёт.",
    "Инициативная группа (ИГ) жителей собрала подписи.",
    "Some thinkers argue that an Islamic state need not be a theocracy.",
    "Учёные обсуждали, каким должно быть исламское государство.",
    "Hezbollah fired rockets into northern Israel.",
    "Gulbuddin Hekmatyar's Hizb-e-Islami signed a peace deal.",
    "Tahrir hay'ati jurnalning yangi sonini tayyorladi.",
    "Сармуҳаррир таҳрири матнро ба охир расонд.",
    "Толибони илм дар мадраса таҳсил мекунанд.",
    "Talib Kweli released a new album.",
    "Дорогие братья-мусульмане, поздравляем с праздником!",
    "Iraq's Jaysh al-Mahdi militia was disbanded by Sadr in 2008.",
    "The drone's IMU failed during the test flight.",
    "IS THIS THE END OF THE ROAD FOR JIHAD STUDIES?",
    "Yo'l harakati qoidalari o'zgardi.",
])
def test_hard_negatives_do_not_fire(tagger: GroupTagger, text: str) -> None:
    groups, people, _, _ = tagger.tag(text)
    assert (groups, people) == ((), ())


def test_hostile_pattern_is_linear() -> None:
    t = GroupTagger(keywords=[KeywordSpec(term="(a+)+$", mode="pattern")])
    text = "a" * 100_000 + "!"
    assert [m for m in t.match(text) if m.kind == "keyword"] == []  # finishes: RE2 cannot backtrack
    assert t.match("xaaa")[0].term == "aaa"


@pytest.mark.parametrize(("pattern", "why"), [
    (r"(a)\1", "RE2"),
    (r"(?=a)b", "RE2"),
    (r"a*", "empty string"),
    (r"(", "RE2"),
])
def test_bad_patterns_rejected(pattern: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        GroupTagger(keywords=[KeywordSpec(term=pattern, mode="pattern")])
    assert why in str(err.value) and "keywords[0]" in str(err.value)


def test_bad_keywords_rejected() -> None:
    with pytest.raises(ConfigError) as err:
        GroupTagger(keywords=[KeywordSpec(term="ab", mode="prefix"), KeywordSpec(term="x", group="NOPE")])
    text = str(err.value)
    assert "keywords[0]" in text and "keywords[1]" in text and "NOPE" in text


def test_bad_lexicon_data_reports_where(tmp_path: Path) -> None:
    bad = tmp_path / "extra.toml"
    bad.write_text(
        '[[group]]\nid = "NEW"\naliases = [ { text = "foo", lang = "xx" }, { lang = "en" },'
        ' { text = "bar", lang = "en", context = ["nowhere"] } ]\n'
        '[[person]]\nid = "someone"\ngroup = "GHOST"\naliases = ["Some One"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_lexicon(extra=[bad])
    text = str(err.value)
    assert "aliases[0].lang" in text and "'xx'" in text
    assert "aliases[1].text" in text
    assert "unknown context 'nowhere'" in text
    assert "unknown group id 'GHOST'" in text
    assert str(bad) in text


def test_unreadable_lexicon_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[group]\nid=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_lexicon(extra=[broken])
    with pytest.raises(ConfigError, match="not found"):
        load_lexicon(extra=[tmp_path / "missing.toml"])


def test_analyst_extension_and_override(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text('[[group]]\nid = "IS"\naliases = [ { text = "Dawla", lang = "en", case = "title" } ]\n',
                     encoding="utf-8")
    lex = load_lexicon(extra=[extra], overrides={"group": [{"id": "TALIBAN", "remove": ["Taliban"]}]})
    t = GroupTagger(lex)
    assert t.tag("Dawla fighters")[0] == ("IS",)
    assert t.tag("Taliban officials")[0] == ()
    assert t.version != GroupTagger().version


def test_version_tracks_keywords() -> None:
    a = GroupTagger()
    b = GroupTagger(keywords=[KeywordSpec(term="вербовка")])
    assert a.version == GroupTagger().version and a.version != b.version


def test_dev_set_floor() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import eval_groups

    res = eval_groups.evaluate(ROOT / "data" / "eval" / "groups_dev.jsonl", GroupTagger())
    totals, neg = res["totals"], res["neg"]
    tp = totals["g_tp"] + totals["p_tp"]
    fp = totals["g_fp"] + totals["p_fp"]
    fn = totals["g_fn"] + totals["p_fn"]
    _, _, f1 = eval_groups.prf(tp, fp, fn)
    assert len(res["rows"]) >= 400
    assert f1 >= 0.95, res["errors"]
    assert neg["fp"] / neg["n"] < 0.03, res["errors"]


def test_dev_set_is_well_formed() -> None:
    lex = load_lexicon()
    people = {p.id for p in lex.people}
    for line in (ROOT / "data" / "eval" / "groups_dev.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert set(row) == {"text", "lang", "groups", "people", "note"}
        assert set(row["groups"]) <= lex.group_ids and set(row["people"]) <= people


def test_spans_always_index_original_on_noisy_text(tagger: GroupTagger) -> None:
    """Property check with a fixed seed: invisibles, apostrophes, emoji and mixed scripts never break spans."""
    import random

    rng = random.Random(7)
    pieces = ["ИГИЛ", "Taliban", "ISIS", "талибами", "Толибон", "-ро", "al-Qaeda", "вербовка", " ", " ", "  ",
              "-", "'", "ʻ", "‘", "\u200b", "\u00ad", "\u200d", "«", "»", "\n", "ҳ", "ا", "🔴", "𝐈", "Ｉ", ".", "a"]
    pieces += [chr(rng.randrange(0x20, 0x2FFF)) for _ in range(60)]
    seen = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        for m in tagger.match(text):
            assert 0 <= m.start < m.end <= len(text)
            assert text[m.start:m.end] == m.term
            seen += 1
    assert seen > 100  # the alphabet is built to produce matches
