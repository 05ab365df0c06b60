"""Group tagging that generalises: generated variants, fuzzy long names, abbreviations bound in the
post, the old Tajik web encoding, provenance, one sentence per inflection paradigm case, dev-set floors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monitor.tagging.groups import GroupTagger, load_lexicon
from monitor.tagging.groups.fold import fold_term
from monitor.tagging.groups.fuzzy import skeleton, threshold
from monitor.tagging.groups.variants import generated, word_variants

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tagger() -> GroupTagger:
    return GroupTagger()


def groups(tagger: GroupTagger, text: str) -> tuple[str, ...]:
    return tagger.tag(text)[0]


def by_rule(tagger: GroupTagger, text: str, rule: str):
    return [m for m in tagger.match(text) if m.rule == rule]


# --- 1. the alias generator ---------------------------------------------------------------------


def test_generator_rules_are_named_and_cover_the_letter_correspondences() -> None:
    got = dict(generated(fold_term("Джамаат Ансаруллах"), "ru", True))
    assert "final_lla" in got[fold_term("Джамаат Ансарулла")]
    assert got[fold_term("Жамаат Ансаруллах")] == "dzh_zh_ch"
    assert "final_lla" in got[fold_term("Джамаат Ансоруллох")]
    assert got[fold_term("Жамаат Ансаруллох")] == "dzh_zh_ch+final_lla"
    lat = dict(generated(fold_term("Katibat al-Tawhid wal-Jihad"), "en", False))
    assert lat[fold_term("Katibat al-Tavhid wal-Jihad")] == "w_v"
    assert lat[fold_term("Katibat al-Tawheed wal-Jihad")] == "ee_i"
    assert word_variants(fold_term("Qaeda"), False)[fold_term("Kaeda")] == "q_k"
    assert generated(fold_term("ИГИЛ"), "ru", True) == []  # short names are never varied


def test_generated_variant_matches_with_its_rule_as_provenance(tagger: GroupTagger) -> None:
    m = by_rule(tagger, "Сотрудники ГКНБ задержали членов «Жамаат Ансаруллох» в Кулябе.", "variant")
    assert [x.canonical for x in m] == ["JA"]
    assert "generated:" in m[0].source


def test_generated_variants_carry_the_group_vetoes(tagger: GroupTagger) -> None:
    # «Вилоят Хорасан» is a rule-made spelling of the group's own name and the Iranian province in Tajik spelling
    assert groups(tagger, "Вилоят Хорасан Разави в Иране известен своими святынями.") == ()
    # a listed conditional spelling wins over a guess made from an unconditional one
    assert groups(tagger, "Husiylar (Ansorulloh) Qizil dengizda kemaga hujum qildi.") == ()


# --- 2. fuzzy matching ---------------------------------------------------------------------------


def test_skeleton_threshold_grows_with_length() -> None:
    assert threshold(9) == 0 and threshold(12) == 1 and threshold(18) == 2 and threshold(30) == 3
    assert skeleton([fold_term("Джамаат"), fold_term("Ансаруллах")], True) == skeleton(
        [fold_term("Жамоати"), fold_term("Ансоруллоҳ")], True)


def test_fuzzy_match_records_rule_and_distance(tagger: GroupTagger) -> None:
    f = by_rule(tagger, "Katibat al-Tawhid wal-Jhad was designated by the US in 2022.", "fuzzy")
    assert [x.canonical for x in f] == ["KTJ"] and f[0].distance == 1 and "fuzzy:" in f[0].source
    k = by_rule(tagger, "Катибат Имом аль-Бухари вновь объявила набор боевиков в Идлибе.", "fuzzy")
    assert [x.canonical for x in k] == ["KIB"]


def test_fuzzy_needs_the_setting_and_every_word_close(tagger: GroupTagger) -> None:
    assert groups(tagger, "Katibat Imom al-Buxari fighters attacked a checkpoint.") == ("KIB",)
    assert groups(tagger, "Katibat Imom al-Buxari published a poem about the spring.") == ()
    # Pakistan is not Tajikistan: one word far from the name's word sinks the candidate
    assert "JA" not in groups(tagger, "Tehreek-e-Taliban Pakistan (TTP) is an umbrella organisation of militant "
                                      "groups formed in 2007.")


# --- 3. abbreviations bound in the post ----------------------------------------------------------


def test_abbreviation_defined_after_the_long_name_binds(tagger: GroupTagger) -> None:
    text = "Katibat al-Tawhid wal-Jihad (KTJ or KTWJ) is an Uzbek group. KTWJ fighters fought near Idlib."
    bound = by_rule(tagger, text, "bound")
    assert [(m.canonical, m.term) for m in bound] == [("KTJ", "KTWJ"), ("KTJ", "KTWJ")]
    assert "defined in the post" in bound[0].source


def test_abbreviation_defined_before_the_long_name_binds_with_endings(tagger: GroupTagger) -> None:
    text = "ТИП (Туркестанская исламская партия) перебросила отряды. Бойцы ТИПа вошли в Латакию."
    assert [(m.term, m.canonical) for m in by_rule(tagger, text, "bound")] == [("ТИП", "TIP"), ("ТИПа", "TIP")]


def test_ambiguous_abbreviation_counts_only_where_defined(tagger: GroupTagger) -> None:
    assert groups(tagger, "HaD announced its dissolution in 2025.") == ()
    text = "Hurras al-Din (HaD) is al-Qaeda's branch in Syria. HaD announced its dissolution in 2025."
    assert [m.term for m in by_rule(tagger, text, "bound")] == ["HaD", "HaD"]


def test_letters_defined_as_something_else_are_not_the_group(tagger: GroupTagger) -> None:
    assert groups(tagger, "KTJ fighters attacked the checkpoint.") == ("KTJ",)
    assert groups(tagger, "Kazakh Transport Journal (KTJ) publishes rail statistics.") == ()


# --- 4. context rules, the Tajik web encoding, predecessors ------------------------------------------


@pytest.mark.parametrize(("text", "want"), [
    ("Њизби нањзати исломии Тољикистон соли 2015 террористї эълон шуд.", ("IRPT",)),
    ("Суди Олї фаъолияти «Љамоати Ансоруллоњ»-ро манъ кард.", ("JA",)),
    ("Ал-Ќоида дар Афѓонистон њанўз њузур дорад.", ("AQ",)),
    ("Толибони донишгоњ имтињонњоро супориданд.", ()),
])
def test_tajik_typed_in_the_old_web_encoding(tagger: GroupTagger, text: str, want: tuple[str, ...]) -> None:
    assert groups(tagger, text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("Толибон дар китобхонаи мадраса дарс тайёр мекарданд.", ()),  # students: a sentence-start capital is no evidence
    ("Толибҳо вилояти Бадахшонро пурра зери назорат гирифтанд.", ("TALIBAN",)),
    ("Толибҳои донишгоҳ имтиҳонҳоро супориданд.", ()),
    ("Toliblar hukumati ayollarning o'qishini taqiqladi.", ("TALIBAN",)),
    ("Madrasa toliblari Qur'on musobaqasida qatnashdi.", ()),
    ("The Islamic Emirate announced a new governor for Kunduz.", ("TALIBAN",)),
    ("Islamic Emirate of the Caucasus fighters left for Syria.", ()),
    ("The Islamic State of Iraq claimed a series of bombings in Baghdad in 2007.", ()),  # predecessor, not linked
    ("The Islamic State of Iraq, the predecessor of the Islamic State, was led by Abu Omar al-Baghdadi.", ("IS",)),
    ("Бывшая «Джебхат ан-Нусра» сменила название несколько раз.", ("HTS",)),  # decided: Nusra alone is HTS
])
def test_context_rules_and_predecessors(tagger: GroupTagger, text: str, want: tuple[str, ...]) -> None:
    assert groups(tagger, text) == want


# --- probe round 2 (docs/groups.md, "Second probe round"): the kinds of its misses, other sentences ---


@pytest.mark.parametrize(("text", "want"), [
    # the Tajik Emirate spelled with Аморат, and its short self-name in a setting (not the Caucasus one)
    ("Вазири корҳои хориҷии Аморати исломӣ ба Душанбе омад.", ("TALIBAN",)),
    ("Аморати исломии Афғонистон бо Тоҷикистон гуфтушунид кард.", ("TALIBAN",)),
    ("Аморати исломии Қафқоз дар Чечня амал мекард.", ()),
    ("Islom Amirligi vakillari Toshkentda savdo forumida qatnashdi.", ("TALIBAN",)),  # Uzbek short self-name
    ("Kavkaz Islom Amirligi jangarilari Suriyaga ketgan.", ()),
    # Uzbek order "Tolibon harakati" (the movement), in both scripts, with no other setting word
    ("Толибон ҳаракати Қўштепа каналини қурмоқда.", ("TALIBAN",)),
    ("Tolibon harakati Qo'shtepa kanalini qurmoqda.", ("TALIBAN",)),
    ("Толибон дар китобхонаи мадраса дарс тайёр мекарданд.", ()),  # Tajik students: still no evidence
    # other Uzbek words for the branch, next to the parent: one ISKP match
    ("IShIDning Xuroson shoxobchasi hujumni o'z zimmasiga oldi.", ("ISKP",)),
    ("Xuroson filiali bank mijozlari uchun ochildi.", ()),
    # Badakhshan as Tajik and Uzbek write it is a Tajik setting for Ansarullah's short name
    ("Ансоруллоҳ дар Бадахшон пойгоҳ дорад.", ("JA",)),
    ("Ansorulloh jangarilari Badaxshonda qayd etildi.", ("JA",)),
    # names that are other things: the caliph Ali, the Qaida primers, the city of Namangan
    ("В Неджефе находится гробница Али ибн Аби Талиба, двоюродного брата пророка.", ()),
    ("Lessons start with the Nurani Qaida and then the Baghdadi Qaida.", ()),
    ("Al-Qaeda's leader denied it; the Qaida statement was read on video.", ("AQ",)),
    ("Бывший член ИДУ, уроженец Намангана, осуждён в Намангане.", ("IMU",)),
    # 'Islom davlati' + 'group' is the organisation; Uzbek court verbs and Aleppo are militancy settings
    ("Ислом давлати гуруҳи аъзоларининг оилалари Тошкентга қайтарилди.", ("IS",)),
    ("Islom davlatlari guruhi sammitda qatnashdi.", ()),
    ("Namanganlik yigit Islom davlati safida jang qilgani uchun sudlandi.", ("IS",)),
    ("Islom davlati qanday bo'lishi kerak degan savol muhokama qilindi.", ()),
    ("Бойцы «Катибат Имам аль-Бухори» штурмовали окраины Алеппо.", ("KIB",)),
])
def test_probe2_kinds(tagger: GroupTagger, text: str, want: tuple[str, ...]) -> None:
    assert groups(tagger, text) == want


def test_namangani_nisba_is_not_the_city(tagger: GroupTagger) -> None:
    people = tagger.tag("Ўзбекистон исломий ҳаракати (ЎИҲ) собиқ аъзоси Наманганда судланди.")[1]
    assert people == ()
    assert tagger.tag("Бывший член ИДУ, уроженец Намангана, осуждён в Намангане.")[1] == ()
    assert "juma_namangani" in tagger.tag("После гибели Юлдашева ИДУ возглавил Намангани.")[1]


# --- 5. provenance ------------------------------------------------------------------------------------


def test_every_match_says_where_its_alias_comes_from(tagger: GroupTagger) -> None:
    text = ("Исламское государство и «Талибан» запрещены; Hezb ut-Tahrir тоже. "
            "Hurras al-Din (HaD) is al-Qaeda's branch. HaD fighters left.")
    ms = [m for m in tagger.match(text) if m.kind != "keyword"]
    assert ms and all(m.source for m in ms)
    hezb = [m for m in ms if m.canonical == "HT"]
    assert hezb and hezb[0].source == "older English spelling (news usage)"
    lex = load_lexicon()
    assert all(g.source for g in lex.groups)


def test_analyst_aliases_are_marked_as_theirs(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text('[[group]]\nid = "IS"\naliases = [ { text = "Dawla Islamiyya", lang = "en" } ]\n',
                     encoding="utf-8")
    t = GroupTagger(load_lexicon(extra=[extra]), generate=False, fuzzy=False)
    (m,) = t.match("Dawla Islamiyya fighters attacked.")
    assert m.source.startswith("analyst file") and str(extra) in m.source


# --- issue 18 item 5: one sentence per paradigm case ---------------------------------------------------

RU_SINGULAR = [  # Исламск{ru_adj} государств{ru_n_o}: six cases
    "«Исламское государство» взяло ответственность за теракт.",
    "Боевики «Исламского государства» атаковали колонну.",
    "Боевики присягнули «Исламскому государству» в Сирии.",
    "Суд признал «Исламское государство» террористическим.",
    "Теракт был организован «Исламским государством», заявили в ФСБ.",
    "Суд рассказал об «Исламском государстве» и его вербовщиках.",
]
RU_PLURAL = [  # талиб-: six cases of the plural
    "Талибы заняли Кабул в августе.",
    "Делегация талибов прибыла в Ташкент.",
    "Узбекистан передал талибам партию зерна.",
    "Власти признали талибов партнёрами по переговорам.",
    "Переговоры с талибами прошли в Дохе.",
    "О талибах в Кабуле рассказал журналист.",
]
RU_PLURAL_MB = [  # Брат{ья|ьев|ьям|ьями|ьях}-мусульман{е|-|ам|ами|ах}
    "«Братья-мусульмане» запрещены в России.",
    "Суд запретил деятельность «Братьев-мусульман».",
    "Деньги переводились «Братьям-мусульманам» через фонды.",
    "Суд признал связь обвиняемого с «Братьями-мусульманами».",
    "Эксперт рассказал о «Братьях-мусульманах» и их влиянии в Египте.",
]
TG_SUFFIXES = [  # Tajik: object -ро, plural -ҳо, izofat -и, hyphenated endings
    "Русия Толибонро аз рӯйхати террористӣ хориҷ кард.",
    "Намояндаи Толибон-ро дар Кобул қабул карданд.",
    "Ҳукумати Толибон ба Тоҷикистон ҳушдор дод.",
    "Суди Олӣ фаъолияти «Ҷамоати Ансоруллоҳ»-ро манъ кард.",
    "ДИИШ-ро масъули ҳамла донистанд.",
]
UZ_SUFFIXES = [  # Uzbek, both scripts: plural, genitive, dative, accusative, ablative, locative
    "Tolibonlar Kobulni egallab oldi.",
    "Tolibonlarning vakili Termizda muzokara o'tkazdi.",
    "O'zbekiston tolibonlarga yordam yubordi.",
    "Rossiya Tolibonni ro'yxatdan chiqardi.",
    "Toshkent Tolibondan kafolat so'radi.",
    "ИШИДнинг Суриядаги жангарилари ҳибсга олинди.",
    "IShIDga qo'shilgan yigit sudlandi.",
    "Толибонлар ҳукумати Амударёдан канал қазмоқда.",
]


@pytest.mark.parametrize(("text", "want"), [
    *[(t, "IS") for t in RU_SINGULAR], *[(t, "TALIBAN") for t in RU_PLURAL], *[(t, "MB") for t in RU_PLURAL_MB],
    *[(t, g) for t, g in zip(TG_SUFFIXES, ["TALIBAN", "TALIBAN", "TALIBAN", "JA", "IS"], strict=True)],
    *[(t, "IS" if "IShID" in t or "ИШИД" in t else "TALIBAN") for t in UZ_SUFFIXES],
])
def test_one_sentence_per_paradigm_case(tagger: GroupTagger, text: str, want: str) -> None:
    assert want in groups(tagger, text), tagger.match(text)


# --- dev-set floors just under the measured values (docs/groups.md) ------------------------------------

FLOORS = {  # set: (micro-F1 floor, most negatives tagged)
    "groups_dev.jsonl": (0.995, 0.006),
    "groups_dev_news.jsonl": (0.998, 0.0),
    "groups_dev_reference.jsonl": (0.997, 0.0),
    "groups_dev_regional.jsonl": (0.998, 0.0),
    "groups_dev_translit.jsonl": (0.92, 0.0),
    "groups_dev_abbrev.jsonl": (0.96, 0.07),
    "groups_dev_common.jsonl": (0.98, 0.0),
    "groups_dev_declension.jsonl": (0.995, 0.0),
    "groups_dev_tajenc.jsonl": (0.995, 0.0),
    "groups_dev_predecessors.jsonl": (0.995, 0.0),
    "groups_dev_probe.jsonl": (0.995, 0.0),
    "groups_dev_probe2.jsonl": (0.99, 0.04),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_dev_set_floor_just_under_measured(tagger: GroupTagger, name: str) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import eval_groups

    res = eval_groups.evaluate(ROOT / "data" / "eval" / name, tagger)
    totals, neg = res["totals"], res["neg"]
    _, _, f1 = eval_groups.prf(totals["g_tp"] + totals["p_tp"], totals["g_fp"] + totals["p_fp"],
                               totals["g_fn"] + totals["p_fn"])
    floor, neg_max = FLOORS[name]
    assert f1 >= floor, res["errors"]
    assert neg["fp"] / neg["n"] <= neg_max, res["errors"]


# --- probe round 3 (docs/groups.md, "Third probe round"): the kinds of its misses, other sentences ---


@pytest.mark.parametrize(("text", "want"), [
    # a word hyphenated across a line break (print / PDF layout) reads whole
    ("Суд осудил двух членов Исламской партии воз-\nрождения Таджикистана.", ("IRPT",)),
    ("Members of the Turkistan Islamic Par-\r\nty were seen in Idlib.", ("TIP",)),
    ("Боевики «Катибат ат-Таухид валь-Джи-\n  хад» задержаны в Оше.", ("KTJ",)),
    # a name's own hyphen at the line end (capital after it) stays a word gap
    ("Листовки «Хизб ут-\nТахрир» изъяты при обыске.", ("HT",)),  # controls: tagged before too
    ("Боевики аль-\nКаиды отступили.", ("AQ",)),
    # a -stan country's genitive left in the nominative, in any case of the name
    ("Суд запретил деятельность Партии исламского возрождения Таджикистан.", ("IRPT",)),  # control: the short name
    ("Боевики Исламского движения Узбекистан ушли в Пакистан.", ("IMU",)),
    ("Ячейка Исламской партии Туркестан действовала в Идлибе.", ("TIP",)),
    ("Исламское движение Туркестан объявило о роспуске.", ("IMU",)),
    # more branch words next to the parent: one ISKP match, not IS + ISKP
    ("По данным МВД, афганское подразделение ИГ вербует мигрантов.", ("ISKP",)),
    ("Ответственность взяло на себя афганское ответвление «Исламского государства».", ("ISKP",)),
    ("Хорасанское ответвление ИГИЛ взяло на себя ответственность за теракт.", ("ISKP",)),
    ("The Afghan offshoot of the Islamic State claimed the attack.", ("ISKP",)),
    ("The Afghan arm of ISIS recruited migrant workers.", ("ISKP",)),
    ("IShIDning Afg'onistondagi qanoti hujumni o'z zimmasiga oldi.", ("ISKP",)),
    # the same words without the parent's name are nothing
    ("The Afghan arm of the Red Crescent delivered aid.", ()),
    ("Хорасанское подразделение Корпуса стражей исламской революции Ирана провело учения.", ()),
    ("Афганское подразделение компании открыло офис в Мазари-Шарифе.", ()),
])
def test_probe3_kinds(tagger: GroupTagger, text: str, want: tuple[str, ...]) -> None:
    assert groups(tagger, text) == want


def test_line_hyphen_match_spans_the_break_in_the_original(tagger: GroupTagger) -> None:
    text = "Среди осуждённых — бывшие члены Исламского дви-\nжения Узбекистана."
    [m] = [m for m in tagger.match(text) if m.canonical == "IMU"]
    assert text[m.start:m.end] == "Исламского дви-\nжения Узбекистана"


def test_line_hyphen_joins_only_lower_case_letters() -> None:
    from monitor.tagging.groups.fold import fold_text

    assert fold_text("дви-\nжения").text == fold_term("движения")
    assert fold_text("Move-\r\n ment").text == "movement"
    assert fold_text("аль-\nКаида").text == fold_term("аль Каида")  # a name's hyphen: a gap
    assert fold_text("2024-\nго").text == fold_term("2024 го")  # not a word split
    assert fold_text("-\nжения").text.strip() == fold_term("жения")  # nothing before the hyphen


def test_nominative_stan_is_only_for_names_of_two_words_or_more() -> None:
    from monitor.tagging.groups.lexicon import Alias
    from monitor.tagging.groups.variants import expand_alias

    paradigms = load_lexicon().paradigms
    two = {(v.pattern, v.stem) for v in expand_alias(Alias(text="Движение Узбекистана", lang="ru"), paradigms)}
    assert (fold_term("Движение Узбекистан"), False) in two
    one = {(v.pattern, v.stem) for v in expand_alias(Alias(text="Узбекистана", lang="ru"), paradigms)}
    assert (fold_term("Узбекистан"), False) not in one


def test_matches_and_their_provenance_do_not_depend_on_the_hash_seed() -> None:
    """Generated spellings and fuzzy candidates come from sets and dicts: the same text must give the same
    matches (rule, source, distance) in every process."""
    import subprocess

    code = ("import json, hashlib\nfrom monitor.tagging.groups import GroupTagger\nt = GroupTagger()\n"
            "h = hashlib.sha256()\n"
            "for f in ['translit', 'abbrev', 'probe']:\n"
            "    for line in open(f'data/eval/groups_dev_{f}.jsonl', encoding='utf-8'):\n"
            "        h.update(repr(t.match(json.loads(line)['text'])).encode())\n"
            "print(h.hexdigest(), t.version)\n")
    outs = set()
    for seed in ("1", "2"):
        env = {"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=True)
        outs.add(proc.stdout)
    assert len(outs) == 1


# --- probe round 4 (docs/groups.md, "Assessment paragraphs"): the kinds of its misses, other sentences ---


@pytest.mark.parametrize(("text", "want"), [
    # a vowel written differently inside a fuzzy name's anchor letters (the skeleton ignores it already)
    ("The Tajik authorities reported that Jamaat Ansurullah members were detained in Kulob.", ("JA",)),
    ("Jamaat Ansurallah fighters were detained near the Tajik border.", ("JA",)),
    ("Members of Jamaat Ansirullah were detained in Khujand.", ("JA",)),
    ("Jebhat Fateh al-Sham fighters were killed in Idlib.", ("HTS",)),
    ("Kataib al-Tawheed wal-Jihad fighters were killed in Idlib.", ("KTJ",)),
    # ... still only among militancy words
    ("Jamaat Ansurullah met in the mosque.", ()),
    # the other English branch words after the parent's possessive: one ISKP match, not IS
    ("Da'esh's Khorasan affiliate claimed the attack in Kabul.", ("ISKP",)),
    ("ISIS's Khorasan chapter claimed the attack in Kabul.", ("ISKP",)),
    ("The Islamic State's Khurasan wing recruits Tajik migrants.", ("ISKP",)),
    # ... and nothing without the parent or militancy words
    ("The company's Khorasan affiliate opened an office in Mashhad.", ()),
    ("Our Khorasan chapter meets every Friday.", ()),
    ("The Khorasan wing of the museum displays carpets.", ()),
    # the English translation of Jamaat Ansarullah's name in Tajik press
    ("Members of the Society of Allah's Soldiers were detained in Khujand.", ("JA",)),
    ("The Society of Allah’s Soldiers claimed the 2010 Khujand bombing.", ("JA",)),
    # control (tagged before too): regional branches by abbreviation count as AQ
    ("AQAP continues to exploit the conflict in Yemen.", ("AQ",)),
])
def test_probe4_kinds(tagger: GroupTagger, text: str, want: tuple[str, ...]) -> None:
    assert groups(tagger, text) == want


def test_probe4_vowel_anchor_is_a_fuzzy_match(tagger: GroupTagger) -> None:
    ms = by_rule(tagger, "Jamaat Ansurullah fighters were detained in Kulob.", "fuzzy")
    assert [(m.canonical, m.term) for m in ms] == [("JA", "Jamaat Ansurullah")]
