"""The group matcher's behaviour, pinned exactly on a small lexicon (mutation testing's fast selection).

Why a small lexicon: a GroupTagger over the shipped lexicon takes seconds to build, and mutmut pays
each build again for every mutant of matcher.py; over the few entities below a build takes about
50 ms, so the 1,400 mutants of the matcher run in minutes (docs/testing.md, "Mutation testing").
Each case states every field of every match: span, term, rule, group, source, fuzzy distance.
"""

from __future__ import annotations

import hashlib
import json

from monitor.models import Match
from monitor.tagging.groups import GroupTagger, KeywordSpec
from monitor.tagging.groups.lexicon import Alias, Entity, Lexicon
from monitor.tagging.groups.matcher import MATCHER_REVISION, _alifbo_version


def _a(text: str, lang: str, **kw: object) -> Alias:
    return Alias(text=text, lang=lang, **kw)  # type: ignore[arg-type]


LEXICON = Lexicon(
    groups=(
        Entity(kind="group", id="IS", name="Islamic State", source="designation list", aliases=(
            _a("ИГИЛ", "ru", abbr=True),
            _a("ИГ", "ru", abbr=True, case="upper", context=("terror",)),
            _a("Islamic State", "en", case="title", source="encyclopaedia"),
            _a("داعش", "ar"),
            _a("Daesh", "en", veto=("sport",)),
            _a("دولة داعش", "ar"),
            _a("داعشی", "fa"),
            _a("دولت اسلامی عراق", "fa"),
            _a("داعشيان", "ps"),
            _a("اسلامي دولت", "ps"),
            _a("دائىش", "ug"),
            _a("ئىسلام دۆلىتى", "ug"),
        )),
        Entity(kind="group", id="ISKP", name="Islamic State Khorasan Province", branch_of="IS", aliases=(
            _a("ISKP", "en", abbr=True),
            _a("Вилояти Хуросон", "tg", context=("quoted",)),
            _a("afghan branch", "en", context=("parent",)),
            _a("Хорасан", "ru", context=("terror",)),
            _a("Islamic State Khorasan Province", "en"),
        )),
        Entity(kind="group", id="TAL", name="Taliban", aliases=(
            _a("Талибан", "ru"),
            _a("Толибон", "tg", context=("capitalised",)),
            _a("талиб", "ru", stem=True, suffixes="ru"),
            _a("Taliban", "en", not_after=("anti",), not_before=("cafe",)),
            _a("Tolibon", "uz-Latn", suffixes="none"),
            _a("Taleban", "ky"),
            _a("Talibans", "en", source="plural list"),  # also Taliban + s: two rules on one span
        )),
        Entity(kind="group", id="KTJ", name="Katibat al-Tawhid wal-Jihad", aliases=(
            _a("Katibat Tawhid wal Jihad", "en", veto=("sport",), not_after=("anti",), not_before=("cafe",)),
            _a("Катибат Таухид валь Джихад", "ru"),
            _a("IJU", "en", abbr=True),
            _a("Ittihodi Jihodi Islomi", "uz-Latn", case="words"),
            _a("Tawhid wal Jihad Battalion", "en", context=("terror",)),  # conditional: never a fuzzy name
        )),
        Entity(kind="group", id="ANS", name="Jamaat Ansarullah", aliases=(
            _a("Ансаруллах", "ru"),
            _a("Ансарулло", "tg", context=("quoted",)),
            _a("Jamaat Ansarullah", "en", veto=("sport",)),
            _a("Jamaat", "en"),
            _a("Ansorulloh Jamoati", "uz-Latn"),  # a fuzzy name in both Uzbek scripts
        )),
        Entity(kind="group", id="IBJ", name="Imam Bukhari Jamaat", aliases=(
            _a("Imom Buxoriy Jamoati", "uz-Latn"),
            _a("Imam Bukhari Jamaat", "tr"),
            _a("Bukhari Jamaat", "en", not_after=("anti",)),
            _a("Jamaat", "en"),
            _a("Katibat Imam al-Bukhari", "en"),  # a fuzzy name sharing KTJ's anchor word
            _a("Джамаат{ru_noun} Имама Бухари", "ru"),  # a template: the first word declined
        )),
    ),
    people=(
        Entity(kind="person", id="abu_saloh", name="Abu Saloh", group="KTJ", aliases=(
            _a("Abu Saloh", "en"),
        )),
        Entity(kind="person", id="saidov", name="Abdullah Saidov", group="ANS", aliases=(
            _a("Abdullah Saidov", "en"),
        )),
    ),
    contexts={"terror": ("террор", "боевик", "terror", "militant"), "sport": ("футбол", "football")},
    paradigms={"ru_noun": ("", "а", "у", "ом", "е")},
    digest="small",
)
KEYWORDS = (KeywordSpec(term="вербовк", mode="prefix"), KeywordSpec(term="jihad", mode="word"),
            KeywordSpec(term=r"\bhijra\w*", mode="pattern", group="IS"))


def tagger(**options: bool) -> GroupTagger:
    """A tagger built inside the test that uses it (mutmut switches mutants on per test, after import)."""
    return GroupTagger(LEXICON, KEYWORDS, **options)

Row = tuple[str, str, str, int, int, str, str | None, str, int]


def rows(text: str, t: GroupTagger) -> list[Row]:
    """Every field of every match, in the tagger's order."""
    return [(m.kind, m.canonical, m.term, m.start, m.end, m.rule, m.group, m.source, m.distance)
            for m in t.match(text)]


# (text, every match): conditions, endings, scripts, obfuscation, overlaps, branches, keywords, guesses
CASES: list[tuple[str, list[Row]]] = [
    ('ИГИЛ и Талибан', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'TAL', 'Талибан', 7, 14, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('игиловцы, ИГИЛа', [
        ('group', 'IS', 'игиловцы', 0, 8, 'inflection', 'IS', 'designation list', 0),
        ('group', 'IS', 'ИГИЛа', 10, 15, 'inflection', 'IS', 'designation list', 0),
    ]),
    ('игила и ИГИЛ', [
        ('group', 'IS', 'ИГИЛ', 8, 12, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛовский', [
        ('group', 'IS', 'ИГИЛовский', 0, 10, 'inflection', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛнинг', [
        ('group', 'IS', 'ИГИЛнинг', 0, 8, 'inflection', 'IS', 'designation list', 0),
    ]),
    ('ишид', [
    ]),
    ('ИГ боевики', [
        ('group', 'IS', 'ИГ', 0, 2, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГ захватил', [
    ]),
    ('иг боевики', [
    ]),
    ('Иг боевики', [
    ]),
    ('ИГ и Талибан', [
        ('group', 'IS', 'ИГ', 0, 2, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'TAL', 'Талибан', 5, 12, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('ИГ ВЗЯЛ ГОРОД И БОЕВИКИ', [
    ]),
    ('Islamic State fighters', [
    ]),
    ('The Islamic State is', [
        ('group', 'IS', 'Islamic State', 4, 17, 'alias', 'IS', 'encyclopaedia', 0),
    ]),
    ('Islamic State militants', [
        ('group', 'IS', 'Islamic State', 0, 13, 'alias', 'IS', 'encyclopaedia', 0),
    ]),
    ('«Islamic State» fighters', [
        ('group', 'IS', 'Islamic State', 1, 14, 'alias', 'IS', 'encyclopaedia', 0),
    ]),
    ('The islamic State is', [
    ]),
    ('The Islamic state is', [
        ('group', 'IS', 'Islamic state', 4, 17, 'alias', 'IS', 'encyclopaedia', 0),
    ]),
    ('«Вилояти Хуросон»', [
        ('group', 'ISKP', 'Вилояти Хуросон', 1, 16, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Вилояти Хуросон', [
    ]),
    ('afghan branch of the Islamic State', [
        ('group', 'ISKP', 'afghan branch of the Islamic State', 0, 34, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('afghan branch', [
    ]),
    ('afghan branch of ИГ', [
        ('group', 'ISKP', 'afghan branch of ИГ', 0, 19, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Хорасан ИГ', [
        ('group', 'ISKP', 'Хорасан ИГ', 0, 10, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Хорасан', [
    ]),
    ('Хорасан и террор', [
        ('group', 'ISKP', 'Хорасан', 0, 7, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Islamic State Khorasan Province', [
        ('group', 'ISKP', 'Islamic State Khorasan Province', 0, 31, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-ga', [
        ('group', 'ISKP', 'ISKP-ga', 0, 7, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-va', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-ganingizlar', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('iskp', [
    ]),
    ('Толибон дар мадраса', [
    ]),
    ('Онҳо Толибон', [
        ('group', 'TAL', 'Толибон', 5, 12, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('онҳо толибон', [
    ]),
    ('ТОЛИБОН дар мадраса', [
        ('group', 'TAL', 'ТОЛИБОН', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Толибонҳо дар мадраса', [
        ('group', 'TAL', 'Толибонҳо', 0, 9, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Толибон-ро', [
        ('group', 'TAL', 'Толибон-ро', 0, 10, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('талибы', [
        ('group', 'TAL', 'талибы', 0, 6, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('талиб', [
    ]),
    ('талибанесса', [
    ]),
    ('anti Taliban', [
    ]),
    ('anti-Taliban', [
    ]),
    ('Taliban cafe', [
    ]),
    ('Taliban fighters', [
        ('group', 'TAL', 'Taliban', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Talibans', [
        ('group', 'TAL', 'Talibans', 0, 8, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Talibanesque', [
    ]),
    ('Tolibonlar', [
    ]),
    ('Tolibon', [
        ('group', 'TAL', 'Tolibon', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Daesh football', [
    ]),
    ('Daesh militants', [
        ('group', 'IS', 'Daesh', 0, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('Daesh', [
        ('group', 'IS', 'Daesh', 0, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('داعش', [
        ('group', 'IS', 'داعش', 0, 4, 'alias', 'IS', 'designation list', 0),
    ]),
    ('وداعش', [
        ('group', 'IS', 'داعش', 1, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('ووداعش', [
    ]),
    ('وTaliban', [
    ]),
    ('ajihad jihad', [
        ('keyword', 'jihad', 'jihad', 7, 12, 'keyword', None, '', 0),
    ]),
    ('И.Г.И.Л.', [
        ('group', 'IS', 'И.Г.И.Л', 0, 7, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('и.г.и.л.', [
    ]),
    ('И Г И Л', [
        ('group', 'IS', 'И Г И Л', 0, 7, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('Т.а.л.и.б.а.н', [
        ('group', 'TAL', 'Т.а.л.и.б.а.н', 0, 13, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('j.i.h.a.d', [
        ('keyword', 'jihad', 'j.i.h.a.d', 0, 9, 'keyword', None, '', 0),
    ]),
    ('ИГИ\u200bЛ', [
        ('group', 'IS', 'ИГИ\u200bЛ', 0, 5, 'deobfuscation', 'IS', 'designation list', 0),
    ]),
    ('Тали\xadбан', [
        ('group', 'TAL', 'Тали\xadбан', 0, 8, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('ТАЛИБАН', [
        ('group', 'TAL', 'ТАЛИБАН', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('tAlIbAn', [
        ('group', 'TAL', 'tAlIbAn', 0, 7, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('Tаliban', [
        ('group', 'TAL', 'Tаliban', 0, 7, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('Ｔａｌｉｂａｎ', [
        ('group', 'TAL', 'Ｔａｌｉｂａｎ', 0, 7, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('Katiba Tawhid wal Jihad terror', [
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 0, 23, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
    ]),
    ('Katiba Tawhid wal Jihad', [
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
    ]),
    ('IJU and Katiba Tawhid wal Jihad', [
        ('group', 'KTJ', 'IJU', 0, 3, 'abbreviation', 'KTJ', 'lexicon', 0),
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 8, 31, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 26, 31, 'keyword', None, '', 0),
    ]),
    ('Katibat Tawhid wal Jihad', [
        ('group', 'KTJ', 'Katibat Tawhid wal Jihad', 0, 24, 'alias', 'KTJ', 'lexicon', 0),
        ('keyword', 'jihad', 'Jihad', 19, 24, 'keyword', None, '', 0),
    ]),
    ('Abu Saloh va IJU', [
        ('person', 'abu_saloh', 'Abu Saloh', 0, 9, 'alias', 'KTJ', 'lexicon', 0),
        ('group', 'KTJ', 'IJU', 13, 16, 'abbreviation', 'KTJ', 'lexicon', 0),
    ]),
    ('IJUning', [
        ('group', 'KTJ', 'IJUning', 0, 7, 'inflection', 'KTJ', 'lexicon', 0),
    ]),
    ('Ijuning', [
    ]),
    ('iju', [
    ]),
    ('Ittihodi Jihodi Islomi', [
        ('group', 'KTJ', 'Ittihodi Jihodi Islomi', 0, 22, 'alias', 'KTJ', 'lexicon', 0),
    ]),
    ('Ittihodi jihodi islomi', [
    ]),
    ('вербовкой', [
        ('keyword', 'вербовк', 'вербовкой', 0, 9, 'prefix', None, '', 0),
    ]),
    ('Вербовка и вербовщики', [
        ('keyword', 'вербовк', 'Вербовка', 0, 8, 'prefix', None, '', 0),
    ]),
    ('jihad jihadist', [
        ('keyword', 'jihad', 'jihad', 0, 5, 'keyword', None, '', 0),
    ]),
    ('hijra hijrat', [
        ('keyword', '\\bhijra\\w*', 'hijra', 0, 5, 'pattern', 'IS', '', 0),
        ('keyword', '\\bhijra\\w*', 'hijrat', 6, 12, 'pattern', 'IS', '', 0),
    ]),
    ('hij\u200bra', [
        ('keyword', '\\bhijra\\w*', 'hij\u200bra', 0, 6, 'pattern', 'IS', '', 0),
    ]),
    ('ISKP (Islamic State', [
        ('group', 'ISKP', 'ISKP (Islamic State', 0, 19, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('Katibat Tawhid wal Jihad (KTWJ) va KTWJning', [
        ('group', 'KTJ', 'Katibat Tawhid wal Jihad', 0, 24, 'alias', 'KTJ', 'lexicon', 0),
        ('keyword', 'jihad', 'Jihad', 19, 24, 'keyword', None, '', 0),
        ('group', 'KTJ', 'KTWJ', 26, 30, 'bound', 'KTJ', 'defined in the post: Katibat Tawhid wal Jihad (KTWJ)', 0),
        ('group', 'KTJ', 'KTWJning', 35, 43, 'bound', 'KTJ', 'defined in the post: Katibat Tawhid wal Jihad (KTWJ)', 0),
    ]),
    ('Kazakh Transport Journal (IJU) IJU', [
        ('group', 'KTJ', 'IJU', 26, 29, 'abbreviation', 'KTJ', 'lexicon', 0),
        ('group', 'KTJ', 'IJU', 31, 34, 'abbreviation', 'KTJ', 'lexicon', 0),
    ]),
    ('Талибан, Талибан и ИГИЛ', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
        ('group', 'TAL', 'Талибан', 9, 16, 'alias', 'TAL', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 19, 23, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('Талибан   Талибан', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
        ('group', 'TAL', 'Талибан', 10, 17, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Тали\u200bбан  и  ИГИЛ', [
        ('group', 'TAL', 'Тали\u200bбан', 0, 8, 'deobfuscation', 'TAL', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 13, 17, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('x\u200b\u200b\u200b ИГ боевики', [
        ('group', 'IS', 'ИГ', 5, 7, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('x\u200b\u200b\u200b иГ боевики', [
    ]),
    ('x\u200b\u200b ISKP-ga', [
        ('group', 'ISKP', 'ISKP-ga', 4, 11, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('x\u200b\u200b вербовкой', [
        ('keyword', 'вербовк', 'вербовкой', 4, 13, 'prefix', None, '', 0),
    ]),
    ('a\u200b\u200b jihad', [
        ('keyword', 'jihad', 'jihad', 4, 9, 'keyword', None, '', 0),
    ]),
    ('a\u200b\u200b Talibans', [
        ('group', 'TAL', 'Talibans', 4, 12, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('a\u200b\u200b Талибан-ро', [
        ('group', 'TAL', 'Талибан-ро', 4, 14, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Талибан - это', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Талибан -ро', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('ISKP-s', [
        ('group', 'ISKP', 'ISKP-s', 0, 6, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-lar', [
        ('group', 'ISKP', 'ISKP-lar', 0, 8, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-ganing', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP- ga', [
        ('group', 'ISKP', 'ISKP- ga', 0, 8, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('Талибан-и', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Talibanlarning', [
        ('group', 'TAL', 'Talibanlarning', 0, 14, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Talibanlarningizlarimizdan', [
    ]),
    ('Ансаруллах', [
        ('group', 'ANS', 'Ансаруллах', 0, 10, 'alias', 'ANS', 'lexicon', 0),
    ]),
    ('Ансарулла и террор', [
        ('group', 'ANS', 'Ансарулла', 0, 9, 'variant', 'ANS', 'lexicon; generated:final_lla', 0),
    ]),
    ('Ансарулла', [
    ]),
    ('Ансарулла и Талибан', [
        ('group', 'ANS', 'Ансарулла', 0, 9, 'variant', 'ANS', 'lexicon; generated:final_lla', 0),
        ('group', 'TAL', 'Талибан', 12, 19, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Ансарулла террор футбол', [
    ]),
    ('Ансаруллах террор футбол', [
        ('group', 'ANS', 'Ансаруллах', 0, 10, 'alias', 'ANS', 'lexicon', 0),
    ]),
    ('Jamoat Ansarullah', [
        ('group', 'ANS', 'Jamoat Ansarullah', 0, 17, 'variant', 'ANS', 'lexicon; generated:o_a', 0),
    ]),
    ('Jamoat Ansarullah football', [
    ]),
    ('Ансарулло и террор', [
    ]),
    ('«Ансарулло»', [
        ('group', 'ANS', 'Ансарулло', 1, 10, 'alias', 'ANS', 'lexicon', 0),
    ]),
    ('Abdullah Saidov', [
        ('person', 'saidov', 'Abdullah Saidov', 0, 15, 'alias', 'ANS', 'lexicon', 0),
    ]),
    ('Abdulla Saidov', [
    ]),
    ('Katibat Tawhid wal Jihad football', [
        ('keyword', 'jihad', 'Jihad', 19, 24, 'keyword', None, '', 0),
    ]),
    ('Katiba Tawhid wal Jihad terror football', [
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
    ]),
    ('anti Katiba Tawhid wal Jihad terror', [
        ('keyword', 'jihad', 'Jihad', 23, 28, 'keyword', None, '', 0),
    ]),
    ('Katiba Tawhid wal Jihad cafe terror', [
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
    ]),
    ('Катиба Таухид валь Джихад террор', [
        ('group', 'KTJ', 'Катиба Таухид валь Джихад', 0, 25, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Катибат Таухид валь Джихад', 2),
    ]),
    ('ИГ захватил, Katiba Tawhid wal Jihad', [
        ('keyword', 'jihad', 'Jihad', 31, 36, 'keyword', None, '', 0),
    ]),
    ('ИГИЛ и Katiba Tawhid wal Jihad', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 7, 30, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 25, 30, 'keyword', None, '', 0),
    ]),
    ('ИГИЛ и Katibat Tawhid wal Jihod', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'KTJ', 'Katibat Tawhid wal Jihod', 7, 31, 'variant', 'KTJ', 'lexicon; generated:o_a', 0),
    ]),
    ('Имом Бухори Жамоати террор', [
    ]),
    ('Imom Buxori Jamoati terror', [
    ]),
    ('Imam Bukhari Jamaati', [
        ('group', 'IBJ', 'Imam Bukhari Jamaati', 0, 20, 'inflection', 'IBJ', 'lexicon', 0),
    ]),
    ('Imam Bukhari Jamaatlar', [
        ('group', 'IBJ', 'Imam Bukhari Jamaatlar', 0, 22, 'inflection', 'IBJ', 'lexicon', 0),
    ]),
    ('Imom Buxoriy Jamoatining', [
        ('group', 'IBJ', 'Imom Buxoriy Jamoatining', 0, 24, 'inflection', 'IBJ', 'lexicon', 0),
    ]),
    ('Katiba Tawhid wal Jihad and Katiba Tawhid wal Jihad terror', [
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 0, 23, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 28, 51, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 46, 51, 'keyword', None, '', 0),
    ]),
    ('Katibat terror', [
    ]),
    ('The afghan branch of the Islamic State and ИГИЛ', [
        ('group', 'ISKP', 'afghan branch of the Islamic State', 4, 38, 'alias', 'ISKP', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 43, 47, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ, afghan branch', [
        ('group', 'ISKP', 'ИГИЛ, afghan branch', 0, 19, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Islamic State afghan branch', [
        ('group', 'ISKP', 'Islamic State afghan branch', 0, 27, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('ИГИЛ ИГИЛ ISKP', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'ISKP', 'ИГИЛ ISKP', 5, 14, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP ИГИЛ ИГИЛ', [
        ('group', 'ISKP', 'ISKP ИГИЛ', 0, 9, 'abbreviation', 'ISKP', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 10, 14, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ ISKP ИГИЛ', [
        ('group', 'ISKP', 'ИГИЛ ISKP ИГИЛ', 0, 14, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ИГИЛ ISKP Талибан ISKP ИГИЛ', [
        ('group', 'ISKP', 'ИГИЛ ISKP', 0, 9, 'abbreviation', 'ISKP', 'lexicon', 0),
        ('group', 'TAL', 'Талибан', 10, 17, 'alias', 'TAL', 'lexicon', 0),
        ('group', 'ISKP', 'ISKP ИГИЛ', 18, 27, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('Хорасан, террор ИГИЛ', [
        ('group', 'ISKP', 'Хорасан', 0, 7, 'alias', 'ISKP', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 16, 20, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('afghan branch --------------------------------------- ИГ боевики', [
        ('group', 'IS', 'ИГ', 54, 56, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('afghan branch -------------------------------------- ИГ боевики', [
        ('group', 'ISKP', 'afghan branch -------------------------------------- ИГ', 0, 55, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('ИГ ... afghan branch', [
    ]),
    ('Хорасан ИГ и Хорасан', [
        ('group', 'ISKP', 'Хорасан ИГ', 0, 10, 'alias', 'ISKP', 'lexicon', 0),
        ('group', 'ISKP', 'Хорасан', 13, 20, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Вилояти Хуросон ва ИГ', [
    ]),
    ('ИГ Хорасан', [
        ('group', 'ISKP', 'ИГ Хорасан', 0, 10, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('Abu Saloh (KTWJ) va KTWJ', [
        ('person', 'abu_saloh', 'Abu Saloh', 0, 9, 'alias', 'KTJ', 'lexicon', 0),
    ]),
    ('Talibanlar (ISKP)', [
        ('group', 'TAL', 'Talibanlar', 0, 10, 'inflection', 'TAL', 'lexicon', 0),
        ('group', 'TAL', 'ISKP', 12, 16, 'bound', 'TAL', 'defined in the post: Talibanlar (ISKP)', 0),
    ]),
    ('Толибон Толибон', [
        ('group', 'TAL', 'Толибон', 8, 15, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('ИГИЛ-ИГИЛ', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'IS', 'ИГИЛ', 5, 9, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ jihad ИГИЛ', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('keyword', 'jihad', 'jihad', 5, 10, 'keyword', None, '', 0),
        ('group', 'IS', 'ИГИЛ', 11, 15, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('jihad hijra ИГИЛ', [
        ('keyword', 'jihad', 'jihad', 0, 5, 'keyword', None, '', 0),
        ('keyword', '\\bhijra\\w*', 'hijra', 6, 11, 'pattern', 'IS', '', 0),
        ('group', 'IS', 'ИГИЛ', 12, 16, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('И.Г.И.Л. и Т.а.л.и.б.а.н', [
        ('group', 'IS', 'И.Г.И.Л', 0, 7, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'TAL', 'Т.а.л.и.б.а.н', 11, 24, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('И.Г.И.Л.овцы', [
        ('group', 'IS', 'И.Г.И.Л', 0, 7, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('И.Г.', [
    ]),
    ('И.Г. боевики', [
        ('group', 'IS', 'И.Г', 0, 3, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('x\u200bИГИЛ', [
    ]),
    ('IS\u200bKP', [
        ('group', 'ISKP', 'IS\u200bKP', 0, 5, 'deobfuscation', 'ISKP', 'lexicon', 0),
    ]),
    ('Ta\u200bliban', [
        ('group', 'TAL', 'Ta\u200bliban', 0, 8, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('TALIBAN', [
        ('group', 'TAL', 'TALIBAN', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('TaLiBaN', [
        ('group', 'TAL', 'TaLiBaN', 0, 7, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('IJÚ', [
        ('group', 'KTJ', 'IJU', 0, 3, 'abbreviation', 'KTJ', 'lexicon', 0),
    ]),
    ('Ｉ Ｊ Ｕ', [
        ('group', 'KTJ', 'Ｉ Ｊ Ｕ', 0, 5, 'deobfuscation', 'KTJ', 'lexicon', 0),
    ]),
    ('ИГИЛов', [
        ('group', 'IS', 'ИГИЛов', 0, 6, 'inflection', 'IS', 'designation list', 0),
    ]),
    ('игил', [
    ]),
    ('игиловцы', [
        ('group', 'IS', 'игиловцы', 0, 8, 'inflection', 'IS', 'designation list', 0),
    ]),
    ('ishidchilar', [
    ]),
    ('ISKPchilar', [
        ('group', 'ISKP', 'ISKPchilar', 0, 10, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('iskpchilar', [
        ('group', 'ISKP', 'iskpchilar', 0, 10, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('داعشي', [
        ('group', 'IS', 'داعشي', 0, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('لداعش', [
        ('group', 'IS', 'داعش', 1, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('بداعش', [
        ('group', 'IS', 'داعش', 1, 5, 'alias', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ\xa0и\xa0Талибан', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'TAL', 'Талибан', 7, 14, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('وISKP', [
    ]),
    ('талиблар', [
    ]),
    ('талибами', [
        ('group', 'TAL', 'талибами', 0, 8, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Talibanами', [
    ]),
    ('Talebanлар', [
        ('group', 'TAL', 'Talebanлар', 0, 10, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Talebans', [
        ('group', 'TAL', 'Talebans', 0, 8, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Imam Bukhari Jamaatы', [
    ]),
    ('Imam Bukhari Jamaatlari', [
        ('group', 'IBJ', 'Imam Bukhari Jamaatlari', 0, 23, 'inflection', 'IBJ', 'lexicon', 0),
    ]),
    ('Imom Buxoriy Jamoatiга', [
    ]),
    ('Jamaat', [
        ('group', 'ANS', 'Jamaat', 0, 6, 'alias', 'ANS', 'lexicon', 0),
        ('group', 'IBJ', 'Jamaat', 0, 6, 'alias', 'IBJ', 'lexicon', 0),
    ]),
    ('Jamaat va Talibanlar', [
        ('group', 'ANS', 'Jamaat', 0, 6, 'alias', 'ANS', 'lexicon', 0),
        ('group', 'IBJ', 'Jamaat', 0, 6, 'alias', 'IBJ', 'lexicon', 0),
        ('group', 'TAL', 'Talibanlar', 10, 20, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('وداعشی', [
        ('group', 'IS', 'داعشی', 1, 6, 'alias', 'IS', 'designation list', 0),
    ]),
    ('وداعشيان', [
        ('group', 'IS', 'داعشيان', 1, 8, 'alias', 'IS', 'designation list', 0),
    ]),
    ('ودائىش', [
        ('group', 'IS', 'دائىش', 1, 6, 'alias', 'IS', 'designation list', 0),
    ]),
    ('ودولة داعش', [
        ('group', 'IS', 'دولة داعش', 1, 10, 'alias', 'IS', 'designation list', 0),
    ]),
    ('دولت اسلامی عراق', [
        ('group', 'IS', 'دولت اسلامی عراق', 0, 16, 'alias', 'IS', 'designation list', 0),
    ]),
    ('IJu', [
        ('group', 'KTJ', 'IJu', 0, 3, 'abbreviation', 'KTJ', 'lexicon', 0),
    ]),
    ('Islamic State Khorasan Province и ИГИЛ', [
        ('group', 'ISKP', 'Islamic State Khorasan Province', 0, 31, 'alias', 'ISKP', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 34, 38, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('jihad ИГИЛ', [
        ('keyword', 'jihad', 'jihad', 0, 5, 'keyword', None, '', 0),
        ('group', 'IS', 'ИГИЛ', 6, 10, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ xyz ISKP', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
        ('group', 'ISKP', 'ISKP', 9, 13, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP xyz ИГИЛ', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 9, 13, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('Abu Saloh (Imam Bukhari Jamaat)', [
        ('person', 'abu_saloh', 'Abu Saloh', 0, 9, 'alias', 'KTJ', 'lexicon', 0),
        ('group', 'IBJ', 'Imam Bukhari Jamaat', 11, 30, 'alias', 'IBJ', 'lexicon', 0),
    ]),
    ('Катиба Таухид валь Джихад террор футбол', [
    ]),
    ('anti Bukhari Jamaat', [
        ('group', 'ANS', 'Jamaat', 13, 19, 'alias', 'ANS', 'lexicon', 0),
        ('group', 'IBJ', 'Jamaat', 13, 19, 'alias', 'IBJ', 'lexicon', 0),
    ]),
    ('x وداعش', [
        ('group', 'IS', 'داعش', 3, 7, 'alias', 'IS', 'designation list', 0),
    ]),
    ('ISKP-larni', [
        ('group', 'ISKP', 'ISKP-larni', 0, 10, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKP-larida', [
        ('group', 'ISKP', 'ISKP', 0, 4, 'abbreviation', 'ISKP', 'lexicon', 0),
    ]),
    ('Ансарулла-ро и террор', [
        ('group', 'ANS', 'Ансарулла-ро', 0, 12, 'variant', 'ANS', 'lexicon; generated:final_lla', 0),
    ]),
    ('Т.а.л.и.б', [
    ]),
    ('в.е.р.б.о.в.к.а', [
    ]),
    ('Т.А.Л.И.Б.А.Н', [
        ('group', 'TAL', 'Т.А.Л.И.Б.А.Н', 0, 13, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('ИГиЛ', [
        ('group', 'IS', 'ИГиЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ТаЛибан', [
        ('group', 'TAL', 'ТаЛибан', 0, 7, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    ('Хорасан Ансарулла', [
    ]),
    ('ИГИЛ afghan branch, ИГИЛ afghan branch', [
        ('group', 'ISKP', 'ИГИЛ afghan branch, ИГИЛ', 0, 24, 'alias', 'ISKP', 'lexicon', 0),
        ('group', 'ISKP', 'afghan branch', 25, 38, 'alias', 'ISKP', 'lexicon', 0),
    ]),
    ('ИГИЛ и игила', [
        ('group', 'IS', 'ИГИЛ', 0, 4, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('ИГИЛ ISKP jihad', [
        ('group', 'ISKP', 'ИГИЛ ISKP', 0, 9, 'abbreviation', 'ISKP', 'lexicon', 0),
        ('keyword', 'jihad', 'jihad', 10, 15, 'keyword', None, '', 0),
    ]),
    ('Иг и ИГ боевики', [
        ('group', 'IS', 'ИГ', 5, 7, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    ('The islamic State and the Islamic State is', [
        ('group', 'IS', 'Islamic State', 26, 39, 'alias', 'IS', 'encyclopaedia', 0),
    ]),
    # the 40 characters before and after a name that not_after/not_before look at (quotes are not folded away)
    ('anti' + '"' * 36 + 'Taliban', [
    ]),
    ('anti' + '"' * 37 + 'Taliban', [
        ('group', 'TAL', 'Taliban', 41, 48, 'alias', 'TAL', 'lexicon', 0),
    ]),
    ('Taliban' + '"' * 36 + 'cafe', [
    ]),
    ('Taliban' + '"' * 37 + 'cafe', [
        ('group', 'TAL', 'Taliban', 0, 7, 'alias', 'TAL', 'lexicon', 0),
    ]),
    # two rules of one entity on one span (Taliban + s, and the listed Talibans): the better rule wins
    # wherever the span starts, and of two equal rules the first found (its source) is kept
    ('Many Talibans', [
        ('group', 'TAL', 'Talibans', 5, 13, 'inflection', 'TAL', 'lexicon', 0),
    ]),
    ('Tаlibans', [
        ('group', 'TAL', 'Tаlibans', 0, 8, 'deobfuscation', 'TAL', 'lexicon', 0),
    ]),
    # split-up pieces of several letters: a hit must start and end where pieces do
    ('jih.adi.st', [
    ]),
    ('jih.adi.st.jih.ad', [
        ('keyword', 'jihad', 'jih.ad', 11, 17, 'keyword', None, '', 0),
    ]),
    ('ji​had', [
        ('keyword', 'jihad', 'ji​had', 0, 6, 'keyword', None, '', 0),
    ]),
    # a lower-case abbreviation with a derivation after a hyphen; a hyphen with no ending after it
    ('iskp-chi', [
        ('group', 'ISKP', 'iskp-chi', 0, 8, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('Талибан-, ИГИЛ', [
        ('group', 'TAL', 'Талибан', 0, 7, 'alias', 'TAL', 'lexicon', 0),
        ('group', 'IS', 'ИГИЛ', 10, 14, 'abbreviation', 'IS', 'designation list', 0),
    ]),
    # the fuzzy pass's setting: cue words already looked up (terror) with no name taken; a name taken
    # while the looked-up cues have no militancy word; an exact name before a guessed one
    ('Вилояти Хуросон terror Katiba Tawhid wal Jihad', [
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 23, 46, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 41, 46, 'keyword', None, '', 0),
    ]),
    ('Daesh va Katiba Tawhid wal Jihad', [
        ('group', 'IS', 'Daesh', 0, 5, 'alias', 'IS', 'designation list', 0),
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 9, 32, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 27, 32, 'keyword', None, '', 0),
    ]),
    ('Katibat Tawhid wal Jihad va Katiba Tawhid wal Jihad', [
        ('group', 'KTJ', 'Katibat Tawhid wal Jihad', 0, 24, 'alias', 'KTJ', 'lexicon', 0),
        ('keyword', 'jihad', 'Jihad', 19, 24, 'keyword', None, '', 0),
        ('group', 'KTJ', 'Katiba Tawhid wal Jihad', 28, 51, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 46, 51, 'keyword', None, '', 0),
    ]),
    # w and v are one letter on a Latin skeleton, two on a Cyrillic one: the name's script decides
    ('Katiba Tavhid wal Jihad terror', [
        ('group', 'KTJ', 'Katiba Tavhid wal Jihad', 0, 23, 'fuzzy', 'KTJ', 'lexicon; fuzzy:Katibat Tawhid wal Jihad', 2),
        ('keyword', 'jihad', 'Jihad', 18, 23, 'keyword', None, '', 0),
    ]),
    # a conditional long name: exact with its condition, never guessed
    ('Tawhid wal Jihad Battalion terror', [
        ('group', 'KTJ', 'Tawhid wal Jihad Battalion', 0, 26, 'alias', 'KTJ', 'lexicon', 0),
        ('keyword', 'jihad', 'Jihad', 11, 16, 'keyword', None, '', 0),
    ]),
    ('Tawhid wal Jihad Battalion', [
        ('keyword', 'jihad', 'Jihad', 11, 16, 'keyword', None, '', 0),
    ]),
    # two fuzzy names on one anchor word (katibat): KTJ's does not fit, IBJ's after it does
    ('Katiba Imam al-Bukhari terror', [
        ('group', 'IBJ', 'Katiba Imam al-Bukhari', 0, 22, 'fuzzy', 'IBJ', 'lexicon; fuzzy:Katibat Imam al-Bukhari', 2),
    ]),
    ('Katibat Imam al-Bukhari', [
        ('group', 'IBJ', 'Katibat Imam al-Bukhari', 0, 23, 'alias', 'IBJ', 'lexicon', 0),
    ]),
    # a {paradigm} template: each declined form is a literal
    ('Джамаатом Имама Бухари', [
        ('group', 'IBJ', 'Джамаатом Имама Бухари', 0, 22, 'inflection', 'IBJ', 'lexicon', 0),
    ]),
    # an Uzbek Latin name, its Cyrillic transliteration, and guesses from the transliteration only, on its
    # Cyrillic skeleton (дж and ж are one letter there: distance 0)
    ('Ansorulloh Jamoati', [
        ('group', 'ANS', 'Ansorulloh Jamoati', 0, 18, 'alias', 'ANS', 'lexicon', 0),
    ]),
    ('Ансоруллоҳ Жамоати', [
        ('group', 'ANS', 'Ансоруллоҳ Жамоати', 0, 18, 'transliteration', 'ANS', 'lexicon', 0),
    ]),
    ('Ансорулллоҳ Жамоати террор', [
        ('group', 'ANS', 'Ансорулллоҳ Жамоати', 0, 19, 'fuzzy', 'ANS', 'lexicon; fuzzy:Ansorulloh Jamoati', 0),
    ]),
    ('Ансорулллоҳ Джамоати террор', [
        ('group', 'ANS', 'Ансорулллоҳ Джамоати', 0, 20, 'fuzzy', 'ANS', 'lexicon; fuzzy:Ansorulloh Jamoati', 0),
    ]),
    ('Ансорулллоҳ Жамоати', [
    ]),
    # a guess whose anchor word is the end of a word joined by an apostrophe: no guess
    ("al'Katiba Imam al-Bukhari terror", [
    ]),
    # an ending of 16 letters is still an ending (Uzbek chains them: -chi-lar-imiz-dan-dir); 17 are another
    # word glued on, even when the suffix grammar would read them
    ('ISKPchilarimizdan', [
        ('group', 'ISKP', 'ISKPchilarimizdan', 0, 17, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKPchilarimizdandir', [
        ('group', 'ISKP', 'ISKPchilarimizdandir', 0, 20, 'inflection', 'ISKP', 'lexicon', 0),
    ]),
    ('ISKPchilarimizgachami', [
    ]),
]

def test_every_match_of_each_case() -> None:
    # one tagger for the whole table: mutmut runs this test once per mutant, so one build, not 170
    t = tagger()
    got = {text: rows(text, t) for text, _ in CASES}
    assert got == dict(CASES)


def test_tag_gives_sorted_unique_ids_and_the_same_matches_as_match() -> None:
    t = tagger()
    text = "Талибан, ИГИЛ, Талибан, Abu Saloh va IJU: вербовка, jihad, hijra"
    groups, people, keywords, matches = t.tag(text)
    assert groups == ("IS", "KTJ", "TAL")
    assert people == ("abu_saloh",)
    assert keywords == (r"\bhijra\w*", "jihad", "вербовк")
    assert matches == t.match(text)
    assert [(m.canonical, m.start) for m in matches] == [
        ("TAL", 0), ("IS", 9), ("TAL", 15), ("abu_saloh", 24), ("KTJ", 37), ("вербовк", 42), ("jihad", 52),
        (r"\bhijra\w*", 59)]
    assert all(type(m) is Match for m in matches)
    assert t.tag("Abu Saloh, Abdullah Saidov, Abu Saloh") == ((), ("abu_saloh", "saidov"), (), t.match(
        "Abu Saloh, Abdullah Saidov, Abu Saloh"))
    assert t.tag("jihad вербовка") == ((), (), ("jihad", "вербовк"), t.match("jihad вербовка"))
    # two of a kind: sorted and unique
    assert t.tag("Талибан и ИГИЛ")[0] == ("IS", "TAL")
    assert t.tag("Талибан, Талибан")[0] == ("TAL",)
    assert t.tag("Abdullah Saidov, Abu Saloh")[1] == ("abu_saloh", "saidov")
    assert t.tag("вербовка, jihad")[2] == ("jihad", "вербовк")
    # one of each kind: the ids as found
    assert t.tag("Талибан") == (("TAL",), (), (), t.match("Талибан"))
    assert t.tag("Abu Saloh") == ((), ("abu_saloh",), (), t.match("Abu Saloh"))
    assert t.tag("jihad") == ((), (), ("jihad",), t.match("jihad"))
    assert t.tag("nothing here") == ((), (), (), ())
    assert t.tag("") == ((), (), (), ())
    assert t.match("") == ()


def test_a_batch_of_texts_gives_what_each_text_gives_alone() -> None:
    texts = [c[0] for c in CASES]
    t = tagger()
    alone = [t.match(x) for x in texts]
    again = tagger()
    assert [again.match(x) for x in reversed(texts)] == alone[::-1]
    joined = " . ".join(texts[:4])
    assert t.match(joined) == t.match(joined)


def test_a_lone_surrogate_is_scrubbed_and_spans_still_index_the_text() -> None:
    assert rows("ИГИЛ \ud800 hijra", tagger()) == [
        ("group", "IS", "ИГИЛ", 0, 4, "abbreviation", "IS", "designation list", 0),
        ("keyword", r"\bhijra\w*", "hijra", 7, 12, "pattern", "IS", "", 0),
    ]


def test_a_pattern_keyword_repeating_a_span_is_kept_once() -> None:
    twice = GroupTagger(LEXICON, [KeywordSpec(term=r"hijra", mode="pattern"),
                                  KeywordSpec(term=r"hijra", mode="pattern"), KeywordSpec(term="amir")])
    assert rows("amir", twice) == [("keyword", "amir", "amir", 0, 4, "keyword", None, "", 0)]
    assert rows("hijra and Талибан", twice) == [
        ("keyword", "hijra", "hijra", 0, 5, "pattern", None, "", 0),
        ("group", "TAL", "Талибан", 10, 17, "alias", "TAL", "lexicon", 0),
    ]
    assert rows("x hijra", twice) == [("keyword", "hijra", "hijra", 2, 7, "pattern", None, "", 0)]
    # invisible characters: the pattern runs over the cleaned text, spans map back
    assert rows("x  hi\u200bjra  y", twice) == [("keyword", "hijra", "hi\u200bjra", 3, 9, "pattern", None, "", 0)]


def test_a_tagger_with_keywords_only_or_nothing_at_all() -> None:
    empty = Lexicon(groups=(), people=(), digest="empty")
    nothing = GroupTagger(empty)
    assert nothing.match("ИГИЛ jihad") == ()
    assert nothing.literal_count == 0
    words = GroupTagger(empty, [KeywordSpec(term="jihad"), KeywordSpec(term="вербовк", mode="prefix")])
    assert rows("jihad, вербовки, ajihad, jihadi", words) == [
        ("keyword", "jihad", "jihad", 0, 5, "keyword", None, "", 0),
        ("keyword", "вербовк", "вербовки", 7, 15, "prefix", None, "", 0),
    ]
    only_patterns = GroupTagger(empty, [KeywordSpec(term="hij+ra", mode="pattern")])
    assert rows("a hijjra", only_patterns) == [("keyword", "hij+ra", "hijjra", 2, 8, "pattern", None, "", 0)]


def test_a_keyword_tied_to_a_group_names_it() -> None:
    tied = GroupTagger(LEXICON, [KeywordSpec(term="вербовк", mode="prefix", group="IS"),
                                 KeywordSpec(term="amir", group="KTJ")])
    assert rows("вербовщик, вербовкой; amir", tied) == [
        ("keyword", "вербовк", "вербовкой", 11, 20, "prefix", "IS", "", 0),
        ("keyword", "amir", "amir", 22, 26, "keyword", "KTJ", "", 0),
    ]


def test_options_change_what_is_matched() -> None:
    full = tagger()
    plain = tagger(translit=False, generate=False, fuzzy=False)
    assert rows("Katiba Tawhid wal Jihad terror", plain) == [
        ("keyword", "jihad", "Jihad", 18, 23, "keyword", None, "", 0)]
    assert rows("Katibat Tawhid wal Jihad", plain)[0] == (
        "group", "KTJ", "Katibat Tawhid wal Jihad", 0, 24, "alias", "KTJ", "lexicon", 0)
    # transliteration: the Uzbek Latin name in Cyrillic letters
    assert rows("Иттиҳоди Жиҳоди Исломи", full) == [
        ("group", "KTJ", "Иттиҳоди Жиҳоди Исломи", 0, 22, "transliteration", "KTJ", "lexicon", 0)]
    assert rows("Иттиҳоди Жиҳоди Исломи", plain) == []
    assert rows("Иттиҳоди Жиҳоди Исломи", tagger(generate=False, fuzzy=False)) == rows("Иттиҳоди Жиҳоди Исломи", full)
    # generated spellings only with generate, guesses only with fuzzy
    assert rows("Jamoat Ansarullah", tagger(fuzzy=False)) == [
        ("group", "ANS", "Jamoat Ansarullah", 0, 17, "variant", "ANS", "lexicon; generated:o_a", 0)]
    assert rows("Jamoat Ansarullah", tagger(generate=False, fuzzy=False)) == []
    assert rows("Ансарулла и Талибан", tagger(generate=False, fuzzy=False)) == [
        ("group", "TAL", "Талибан", 12, 19, "alias", "TAL", "lexicon", 0)]
    assert rows("Katiba Tawhid wal Jihad terror", tagger(generate=False, translit=False)) == rows(
        "Katiba Tawhid wal Jihad terror", full)
    assert rows("Katiba Tawhid wal Jihad terror", tagger(fuzzy=False)) == [
        ("keyword", "jihad", "Jihad", 18, 23, "keyword", None, "", 0)]
    # the automaton's literals: listed spellings, generated ones, transliterations and fuzzy anchors
    # (with fuzzy, the Latin anchors' vowel variants: +17 here)
    assert (full.literal_count, tagger(fuzzy=False).literal_count, tagger(generate=False).literal_count,
            tagger(translit=False).literal_count, plain.literal_count) == (1579, 1553, 643, 1392, 581)


def test_one_literal_with_entries_that_fare_differently() -> None:
    # keywords spelled like a name or like each other: on each literal one entry is dropped before
    # another is kept (a word keyword before a prefix, a capitals-only name before a keyword, a stem
    # before a keyword, names whose ending is refused before a prefix keyword), in the text and in a
    # view of split-up letters
    t = GroupTagger(LEXICON, [KeywordSpec(term="jihad"), KeywordSpec(term="Jihad", mode="prefix"),
                              KeywordSpec(term="Jamaat", mode="prefix"), KeywordSpec(term="иг"),
                              KeywordSpec(term="талиб"), KeywordSpec(term="kati")])
    assert rows("jihadist", t) == [("keyword", "Jihad", "jihadist", 0, 8, "prefix", None, "", 0)]
    assert rows("jihad", t) == [("keyword", "Jihad", "jihad", 0, 5, "prefix", None, "", 0),
                                ("keyword", "jihad", "jihad", 0, 5, "keyword", None, "", 0)]
    assert rows("Jamaatxyz", t) == [("keyword", "Jamaat", "Jamaatxyz", 0, 9, "prefix", None, "", 0)]
    assert rows("Jamaat-ga", t) == [
        ("keyword", "Jamaat", "Jamaat", 0, 6, "prefix", None, "", 0),
        ("group", "ANS", "Jamaat-ga", 0, 9, "inflection", "ANS", "lexicon", 0),
        ("group", "IBJ", "Jamaat-ga", 0, 9, "inflection", "IBJ", "lexicon", 0),
    ]
    assert rows("иг", t) == [("keyword", "иг", "иг", 0, 2, "keyword", None, "", 0)]
    assert rows("талиб", t) == [("keyword", "талиб", "талиб", 0, 5, "keyword", None, "", 0)]
    assert rows("т.а.л.и.б", t) == [("keyword", "талиб", "т.а.л.и.б", 0, 9, "keyword", None, "", 0)]
    # "kati" is also the anchor of two fuzzy names (Katibat ...): the keyword and the guess both stand
    assert rows("kati", t) == [("keyword", "kati", "kati", 0, 4, "keyword", None, "", 0)]
    assert rows("Katiba Imam al-Bukhari terror", t) == [
        ("group", "IBJ", "Katiba Imam al-Bukhari", 0, 22, "fuzzy", "IBJ", "lexicon; fuzzy:Katibat Imam al-Bukhari", 2)]
    # an Urdu alias shares an Arabic one's letters; only the Arabic one takes a proclitic wa-
    urdu = Entity(kind="group", id="URD", name="Urdu", aliases=(_a("داعش", "ur"),))
    arabic = Lexicon(groups=(urdu, LEXICON.groups[0]), people=(), contexts=LEXICON.contexts, digest="urdu")
    assert rows("وداعش", GroupTagger(arabic)) == [("group", "IS", "داعش", 1, 5, "alias", "IS", "designation list", 0)]


def test_a_spelling_generated_for_two_groups_names_both() -> None:
    # "Ансаруллах" is also the Houthis' name: its generated spelling "Ансарулла" belongs to both groups
    ans = next(g for g in LEXICON.groups if g.id == "ANS")
    houthis = Entity(kind="group", id="HOU", name="Ansar Allah", aliases=(_a("Ансаруллах", "ru"),))
    t = GroupTagger(Lexicon(groups=(ans, houthis), people=(), contexts=LEXICON.contexts, digest="two"))
    assert rows("Ансарулла и террор", t) == [
        ("group", "ANS", "Ансарулла", 0, 9, "variant", "ANS", "lexicon; generated:final_lla", 0),
        ("group", "HOU", "Ансарулла", 0, 9, "variant", "HOU", "lexicon; generated:final_lla", 0),
    ]


def test_the_version_names_the_lexicon_keywords_revision_and_options() -> None:
    spec_blob = json.dumps([[k.term, k.group, k.lang, k.mode] for k in KEYWORDS], ensure_ascii=False)
    h = hashlib.sha256()
    for part in ("small", spec_blob, MATCHER_REVISION, f"translit=True:{_alifbo_version()}",
                 "generate=True:fuzzy=True"):
        h.update(part.encode())
        h.update(b"\0")
    assert tagger().version == h.hexdigest()[:12]
    versions = {tagger().version,
                GroupTagger(LEXICON).version,
                tagger(translit=False).version,
                tagger(generate=False).version,
                tagger(fuzzy=False).version}
    assert len(versions) == 5
    assert _alifbo_version() not in ("none", "")
