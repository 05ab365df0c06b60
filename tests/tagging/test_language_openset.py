"""The open set: text in languages outside the labels is ``und``; the six new labelled languages; abbreviations.

Every sentence here was written for these tests (no fetched text), in the style
of the posts the project watches.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from monitor.tagging.language import get_identifier, identify, language_shares, normalise
from monitor.tagging.language.labels import ALL_CLASSES, CLASSES_BY_SCRIPT, NEW_CLASSES, OTHER
from monitor.tagging.language.naive_bayes import load_model

NEW_LANGUAGE_POSTS: list[tuple[str, str, str]] = [
    ("Бүген Казанда яңа мәктәп ачылды, анда меңнән артык бала укый", "tt", "Cyrl"),
    ("Татарстан Республикасы Президенты яңа закон имзалады", "tt", "Cyrl"),
    ("Бөгөн Өфөлә яңы мәктәп асылды, унда меңдән ашыу бала уҡый", "ba", "Cyrl"),
    ("Башҡортостан Республикаһы Башлығы яңы закон ҡул ҡуйҙы", "ba", "Cyrl"),
    ("Өнөөдөр Улаанбаатар хотод шинэ сургууль нээгдлээ", "mn", "Cyrl"),
    ("Монгол Улсын Ерөнхийлөгч шинэ хуульд гарын үсэг зурлаа", "mn", "Cyrl"),
    ("نن ورځ په کابل کې د وزیرانو غونډه جوړه شوه", "ps", "Arab"),
    ("طالبانو وویل چې دوی به دا پرېکړه ونه منی", "ps", "Arab"),
    ("آج لاہور میں وزیروں کا ایک اہم اجلاس ہوا", "ur", "Arab"),
    ("حکومت نے کہا ہے کہ یہ فیصلہ واپس نہیں لیا جائے گا", "ur", "Arab"),
    ("بۈگۈن ئۈرۈمچىدە يېڭى مەكتەپ ئېچىلدى", "ug", "Arab"),
    ("ھۆكۈمەت بۇ قارارنى قوبۇل قىلمايدىغانلىقىنى ئېيتتى", "ug", "Arab"),
]

# Languages outside the labels (several not in train/other at all), written for these tests.
OUT_OF_SET: list[str] = [
    "Heute wurde in Berlin eine neue Schule eröffnet, in der tausend Kinder lernen",
    "Aujourd'hui, une nouvelle école a ouvert ses portes à Paris pour mille enfants",
    "Hoy se abrió una nueva escuela en Madrid donde estudian mil niños",
    "Oggi è stata aperta una nuova scuola a Roma dove studiano mille bambini",
    "Dzisiaj w Warszawie otwarto nową szkołę, w której uczy się tysiąc dzieci",
    "Hari ini sebuah sekolah baru dibuka di Jakarta untuk seribu anak",
    "Vandaag is in Amsterdam een nieuwe school geopend voor duizend kinderen",
    "Tänään Helsingissä avattiin uusi koulu, jossa opiskelee tuhat lasta",
    "Ma Budapesten új iskola nyílt meg, ahol ezer gyerek tanul",
    "Idag öppnades en ny skola i Stockholm där tusen barn studerar",
    "Heddiw agorwyd ysgol newydd yng Nghaerdydd i fil o blant",  # Welsh: not in train/other
    "Gaur eskola berri bat ireki dute Bilbon mila haurrentzat",  # Basque: not in train/other
    "Σήμερα άνοιξε ένα νέο σχολείο στην Αθήνα για χίλια παιδιά, είπε ο υπουργός Papadopoulos",
    "დღეს თბილისში ახალი სკოლა გაიხსნა ათასი ბავშვისთვის, Tbilisi News",
    "היום נפתח בית ספר חדש בתל אביב לאלף ילדים, Reuters",
    "आज दिल्ली में एक नया स्कूल खोला गया जहाँ हज़ार बच्चे पढ़ते हैं, Delhi",
    "今天在北京开设了一所新学校 Beijing Daily",
]

ABBREVIATIONS_AND_NAMES: list[str] = [
    "И.Г.И.Л.",
    "И. Г. И. Л.",
    "И Г И Л",
    "ИГИЛ, ХАМАС, США 2024",
    "#ИГИЛ #ХАМАС #новости",
    "Путин",
    "ТИП ИДУ 12.05.2026 @channel https://t.me/x/1 🔥",
]


@pytest.mark.parametrize(("text", "lang", "script"), NEW_LANGUAGE_POSTS)
def test_new_labelled_languages(text: str, lang: str, script: str) -> None:
    assert identify(text)[:2] == (lang, script)


@pytest.mark.parametrize("text", OUT_OF_SET)
def test_text_in_other_languages_is_und(text: str) -> None:
    assert identify(text).lang == "und", identify(text)


@pytest.mark.parametrize("text", ABBREVIATIONS_AND_NAMES)
def test_abbreviations_names_numbers_hashtags_alone_are_und(text: str) -> None:
    assert identify(text).lang == "und", identify(text)


def test_abbreviations_are_read_as_their_letters_and_the_rest_decides() -> None:
    assert normalise("И.Г.И.Л. взял ответственность") == "игил взял ответственность"
    assert normalise("И Г И Л взял ответственность") == "игил взял ответственность"
    assert normalise("я и в с") == "я и в с"  # single lower-case words are words, not letters
    assert identify("И.Г.И.Л. взял ответственность за нападение на пост")[:2] == ("ru", "Cyrl")
    assert identify("ИГИЛ масъулияти ҳамларо ба ӯҳда гирифт")[:2] == ("tg", "Cyrl")
    assert identify("ВНИМАНИЕ ВСЕМ ПОДПИСЧИКАМ КАНАЛА")[:2] == ("ru", "Cyrl")  # shouting is not abbreviating


def test_every_script_model_has_the_rejection_class_and_thresholds() -> None:
    model = load_model()
    assert set(model.models) == set(CLASSES_BY_SCRIPT)
    for script, m in model.models.items():
        assert m.classes == (*CLASSES_BY_SCRIPT[script], OTHER)
        assert len(m.reject) == len(m.classes) - 1
        assert all(len(bands) == 1 and all(-2.5 < t <= 0.0 for t in bands) for bands in m.reject)
    assert set(NEW_CLASSES) <= {c.split("-")[0] for c in ALL_CLASSES}
    assert OTHER not in ALL_CLASSES


def test_mixed_post_keeps_its_main_language_and_reports_shares() -> None:
    post = (
        "Bugun Toshkentda katta yig‘ilish bo‘lib o‘tdi, unda ko‘plab mutaxassislar qatnashdi va xavfsizlik "
        "masalalari muhokama qilindi. «Мы приняли все необходимые меры», — заявил министр."
    )
    guess = identify(post)
    assert guess[:2] == ("uz", "Latn")
    [shares] = language_shares([post])
    assert shares is not None
    assert set(shares) == {"uz", "ru"}
    assert shares["uz"] > shares["ru"] > 0.1
    single = "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд. Дар он масъалаҳои амният баррасӣ гардиданд."
    assert language_shares([single, "", "x"]) == [None, None, None]


def test_monitor_tag_adds_languages_only_to_mixed_posts() -> None:
    mixed = (
        "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд ва дар он масъалаҳои амният баррасӣ гардиданд. "
        "«Мы готовы к сотрудничеству со всеми соседями», — сказал министр."
    )
    plain = "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд"
    proc = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", "tag"],
        input=f"{mixed}\n{plain}\n".encode(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    first, second = (json.loads(line) for line in proc.stdout.decode().splitlines())
    assert first["lang"] == "tg" and set(first["languages"]) == {"tg", "ru"}
    assert "languages" not in second and second["lang"] == "tg"
    stable = ["lang", "script", "confidence", "groups", "people", "keywords", "matches"]
    assert list(second) == stable
    assert list(first)[: len(stable)] == stable


def test_batch_equals_single_on_open_set_and_new_language_posts() -> None:
    texts = [t for t, _, _ in NEW_LANGUAGE_POSTS] + OUT_OF_SET + ABBREVIATIONS_AND_NAMES
    engine = get_identifier()
    assert engine.identify_many(texts) == [engine(t) for t in texts]


# Latin-script text of languages far from Uzbek (Swahili, Hausa, Somali, Indonesian), written for these
# tests, against Uzbek posts with brands and names in them: the Uzbek-spelling check (orthography.py).
NOT_UZBEK_SPELLING: list[str] = [
    "Watu wa kijiji walikuja sokoni wiki hii",  # Swahili
    "A cikin wannan wata an samu ruwan sama",  # Hausa
    "Waa maalin wanaagsan oo cad",  # Somali
    "Cara baru warga kota untuk bekerja",  # Indonesian
]
UZBEK_WITH_BRANDS: list[str] = [
    "WhatsApp orqali xabar yubordi",
    "Masalan, BMW kompaniyasi",
    "Bugun Washington shahrida yig‘ilish bo‘ldi",
    "Sizni doimo yangilab turadi",  # no Uzbek letter pair, but nothing Uzbek cannot spell either
    "whatsapp orqali yozing",  # one brand in lower case: not enough against an Uzbek spelling
    "facebook sahifamizga obuna bo‘ling",
    "Bugun biz şaharda çoy içdik va keyin uyga qaytdik",  # the 1993 alphabet's ş ç: Uzbek spellings
]
# Turkic relatives keep letters Uzbek Latin never had, 1993 or 1995 (ı ü ə ä ň ý): still not Uzbek spelling
TURKIC_NOT_UZBEK: list[str] = [
    "Bugün Taşkent'te bakanlar toplantısı yapıldı",  # Turkish
    "Bu gün Daşkənddə nazirlər iclası keçirildi",  # Azerbaijani
    "Şu gün Daşkentde ministrleriň mejlisi geçirildi",  # Turkmen
]


@pytest.mark.parametrize("text", TURKIC_NOT_UZBEK)
def test_turkic_spellings_outside_both_uzbek_alphabets_are_not_uzbek(text: str) -> None:
    from monitor.tagging.language.orthography import not_uzbek_latin

    assert not_uzbek_latin(text)


@pytest.mark.parametrize("text", NOT_UZBEK_SPELLING)
def test_latin_words_uzbek_cannot_spell_are_not_uzbek(text: str) -> None:
    from monitor.tagging.language.orthography import not_uzbek_latin

    assert not_uzbek_latin(text)
    assert identify(text).lang != "uz", identify(text)


@pytest.mark.parametrize("text", UZBEK_WITH_BRANDS)
def test_uzbek_posts_with_names_and_brands_pass_the_spelling_check(text: str) -> None:
    from monitor.tagging.language.orthography import not_uzbek_latin

    assert not not_uzbek_latin(text)


def test_the_spelling_check_turns_an_uzbek_answer_into_und_on_both_paths() -> None:
    from monitor.tagging.language.guess import LanguageGuess
    from monitor.tagging.language.nb_engine import _spelling_check

    uz = LanguageGuess("uz", "Latn", 0.9)
    assert _spelling_check(uz, "Watu wa kijiji walikuja") == LanguageGuess("und", "Latn", 0.0)
    assert _spelling_check(uz, "Bugun yig‘ilish bo‘ldi") is uz
    tr = LanguageGuess("tr", "Latn", 0.9)  # only Uzbek is checked: the harm is an inflated Uzbek count
    assert _spelling_check(tr, "Watu wa kijiji walikuja") is tr
    engine = get_identifier()
    texts = NOT_UZBEK_SPELLING + UZBEK_WITH_BRANDS
    assert engine.identify_many(texts) == [engine(t) for t in texts]


# Tatar and Bashkir: a letter one alphabet has and the other lacks rules the other out (alphabet.py).
# Written for these tests: a name-heavy piece whose one native word decides, and its look-alike spelling.
BASHKIR_LETTER = "Сингапур премьер-министры урынбаҫары Вонг Кан Сенг Лондонга килде"
RUSSIAN_LOOK_ALIKE = "Сингапур премьер-министры урынбасары Вонг Кан Сенг Лондонга килде"  # ҫ typed as с
RULED_OUT: list[tuple[str, str]] = [
    (BASHKIR_LETTER, "tt"),
    ("Джон Смит, Дэвид Браун һәм Майкл Грин Лондонда осраштылар ҙур", "tt"),
    ("Джон Смит, Дэвид Браун, Майкл Грин яңы ҡалала", "tt"),
    ("Гарвард университеты профессоры Джон Смит белән очрашу ғына", "tt"),  # Tatar but for ғ
    ("Джон Смит һәм Дэвид Браун җыелышта", "ba"),
    ("Бөгөн Өфөлә яңы мәктәп асылды, җыелыш булды", "ba"),
]


def test_the_marker_letters_rule_out_only_tatar_or_bashkir() -> None:
    import numpy as np

    from monitor.tagging.language.alphabet import MARKERS, exclusion_table, markers_present
    from monitor.tagging.language.features import encode

    table = exclusion_table(CLASSES_BY_SCRIPT["Cyrl"])
    assert table is not None
    ruled = {c for i, c in enumerate(CLASSES_BY_SCRIPT["Cyrl"]) if table[:, i].any()}
    assert ruled == {"tt", "ba"}
    assert exclusion_table(CLASSES_BY_SCRIPT["Latn"]) is None and exclusion_table(CLASSES_BY_SCRIPT["Arab"]) is None
    batch = encode(["ҠАЛА ҙур", "Привет", "җыелыш", "нет"])
    present = markers_present(batch.codes, batch.starts, 4)
    found = [{MARKERS[j] for j in np.flatnonzero(row)} for row in present]
    assert found == [{"ҡ", "ҙ"}, set(), {"җ"}, set()]  # upper case is lower-cased first


@pytest.mark.parametrize(("text", "never"), RULED_OUT)
def test_a_letter_the_alphabet_lacks_rules_the_class_out_on_both_paths(text: str, never: str) -> None:
    engine = get_identifier()
    assert engine(text).lang != never, engine(text)
    assert engine.identify_many([text, "Привет всем, как дела"])[0] == engine(text)


def test_the_one_bashkir_letter_is_what_decides_the_name_heavy_piece() -> None:
    # the look-alike spelling scores closer to Tatar: the letter, not the rest of the text, makes it Bashkir
    assert identify(RUSSIAN_LOOK_ALIKE).lang == "tt"
    assert identify(BASHKIR_LETTER).lang == "ba"
