"""The default engine on short posts written like Telegram news, noise, und, scripts and determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from monitor.tagging.language import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    LanguageGuess,
    get_identifier,
    identify,
    normalise,
    strip_noise,
)

# Short posts written for these tests, in the style of the channels the project watches.
SHORT_POSTS: list[tuple[str, str, str]] = [
    ("Ждём официального заявления МИДа", "ru", "Cyrl"),
    ("Новые подробности о взрыве в Кабуле", "ru", "Cyrl"),
    ("В Душанбе прошла встреча министров", "ru", "Cyrl"),
    ("Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд", "tg", "Cyrl"),
    ("Хабарҳои охирин аз вилояти Хатлон", "tg", "Cyrl"),
    ("Ин видеоро ҳатман тамошо кунед", "tg", "Cyrl"),
    ("Мақомоти Тоҷикистон ин хабарро рад карданд", "tg", "Cyrl"),
    ("Bugun Toshkentda vazirlar yig‘ilishi bo‘lib o‘tdi", "uz", "Latn"),
    ("Eng so'nggi yangiliklar kanalimizda", "uz", "Latn"),
    ("Ushbu videoni albatta koʻring", "uz", "Latn"),
    ("Rasmiylar bu xabarni rad etishdi", "uz", "Latn"),
    ("Bugun Toshkentda yigilish boldi, hamma kelsin", "uz", "Latn"),  # typed without oʻ/gʻ
    ("Бугун Тошкентда вазирлар йиғилиши бўлиб ўтди", "uz", "Cyrl"),
    ("Энг сўнгги янгиликлар каналимизда", "uz", "Cyrl"),
    ("Ушбу видеони албатта кўринг", "uz", "Cyrl"),
    ("Расмийлар бу хабарни рад этишди", "uz", "Cyrl"),
    # typed the way people type: Tajik with ў for ӯ or on a Russian keyboard, Uzbek without its letters
    ("Имрўз дар Душанбе ҷаласаи вазирон баргузор шуд", "tg", "Cyrl"),
    ("Ин хабарро хонед ва ба дустонатон фиристед", "tg", "Cyrl"),
    ("Бу хабарни укинг ва дусларингизга юборинг", "uz", "Cyrl"),
    ("Ozbekiston Respublikasi Prezidenti yangi qonun imzoladi", "uz", "Latn"),
    ("Zo‘r ilova", "uz", "Latn"),
    ("Классное видео", "ru", "Cyrl"),
    ("Бүгін Алматыда жаңа мектеп ашылды", "kk", "Cyrl"),
    ("Бүгүн Бишкекте жаңы мектеп ачылды", "ky", "Cyrl"),
    ("Şu gün Aşgabatda täze mekdep açyldy", "tk", "Latn"),
    ("Police arrested two suspects in the capital", "en", "Latn"),
    ("Сьогодні в Києві відбулася зустріч міністрів", "uk", "Cyrl"),
    ("Сёння ў Мінску адбылася сустрэча міністраў", "be", "Cyrl"),
    ("Днес в София се проведе среща на министрите", "bg", "Cyrl"),
    ("Денеска во Скопје се одржа средба на министрите", "mk", "Cyrl"),
    ("Данас је у Београду одржан састанак министара", "sr", "Cyrl"),
    ("Bugün Ankara'da bakanlar toplantısı yapıldı", "tr", "Latn"),
    ("Bu gün Bakıda nazirlərin görüşü keçirildi", "az", "Latn"),
    ("امروز در کابل نشست وزیران برگزار شد", "fa", "Arab"),
    ("عقد اليوم في الرياض اجتماع للوزراء", "ar", "Arab"),
]


@pytest.mark.parametrize(("text", "lang", "script"), SHORT_POSTS)
def test_short_posts(text: str, lang: str, script: str) -> None:
    guess = identify(text)
    assert (guess.lang, guess.script) == (lang, script), guess
    assert 0.0 < guess.confidence <= 1.0


def test_public_names() -> None:
    assert DEFAULT_ENGINE in ENGINE_NAMES
    assert {"nb", "pycld2", "py3langid", "langdetect"} <= set(ENGINE_NAMES)
    engine = get_identifier()
    assert engine.name == DEFAULT_ENGINE
    assert engine is get_identifier(DEFAULT_ENGINE)
    assert isinstance(identify("Сегодня в Москве"), LanguageGuess)
    with pytest.raises(ValueError, match="unknown language engine"):
        get_identifier("cld9")


def test_strip_noise_removes_what_carries_no_language() -> None:
    post = (
        "Forwarded from Kun.uz\n🔥🔥 Toshkentda 25-noyabr kuni 10:30 da yangi o‘quv yili boshlandi "
        "https://kun.uz/news/2026/11/25/abc www.example.com t.me/kunuz/123 @kunuz #yangilik 100% "
        "info@kun.uz"
    )
    assert strip_noise(post) == "Toshkentda noyabr kuni da yangi o‘quv yili boshlandi"
    assert normalise(post) == "toshkentda noyabr kuni da yangi o'quv yili boshlandi"


def test_forward_header_on_the_same_line_keeps_the_post() -> None:
    # one post per line (as `monitor tag` reads them): only the header phrase and the name go
    line = "Forwarded from Kun.uz Toshkentda yangi o‘quv yili boshlandi"
    assert strip_noise(line) == "Toshkentda yangi o‘quv yili boshlandi"
    assert identify(line)[:2] == ("uz", "Latn")
    assert strip_noise("Переслано от Новости Душанбе\nИмрӯз ҳаво хуб аст") == "Имрӯз ҳаво хуб аст"
    # a sentence that merely starts like a header word is left alone
    assert strip_noise("Из канала ушли десять человек") == "Из канала ушли десять человек"


def test_normalise_keeps_words_whole() -> None:
    # a stress mark, a soft hyphen and Persian's zero-width non-joiner do not split words
    assert normalise("Приве\u0301т, ми\u00adнистр!") == "привет министр"
    assert normalise("می\u200cخواهم") == "میخواهم"
    # Turkish dotted capital I lower-cases to a plain i, and apostrophes only count inside words
    assert normalise("İSTANBUL 'salom' G‘ALABA") == "istanbul salom g'alaba"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "👍🔥🇺🇿",
        "https://t.me/xabar/123",
        "@channel_name #2026 12.05.2026 15:30",
        "ok",
        "++ 100500 !!!",
    ],
)
def test_und_when_too_little_is_left(text: str) -> None:
    guess = identify(text)
    assert guess.lang == "und"
    assert guess.confidence == 0.0


def test_noise_does_not_change_the_answer() -> None:
    clean = "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд"
    noisy = (
        f"Forwarded from Some English Channel Name\n🔥 {clean} 👉 https://example.com/en/news "
        "@english_news #breaking 2026"
    )
    assert identify(noisy)[:2] == identify(clean)[:2] == ("tg", "Cyrl")


def test_hashtag_only_post_is_und() -> None:
    # hashtags are labels, not sentences: a post of nothing else is "und" (the rest decides when there is one)
    assert identify("#новости #москва #сегодня").lang == "und"
    assert identify("#новости В Москве сегодня прошла встреча министров")[:2] == ("ru", "Cyrl")


def test_uzbek_is_split_by_script() -> None:
    latin = identify("Oʻzbekiston Respublikasi Prezidenti yangi farmon imzoladi")
    cyrillic = identify("Ўзбекистон Республикаси Президенти янги фармон имзолади")
    assert latin[:2] == ("uz", "Latn")
    assert cyrillic[:2] == ("uz", "Cyrl")


def test_mixed_russian_and_uzbek_gets_the_dominant_language() -> None:
    uz_mostly = "Bugun Toshkentda katta yig‘ilish bo‘lib o‘tdi, unda ko‘plab mutaxassislar qatnashdi. Подробнее позже"
    ru_mostly = "Сегодня в Ташкенте прошло большое совещание по вопросам безопасности, rahmat"
    uzc_mostly = "Бугун Тошкентда катта йиғилиш бўлиб ўтди, унда кўплаб мутахассислар қатнашди. Подробнее позже"
    assert identify(uz_mostly)[:2] == ("uz", "Latn")
    assert identify(ru_mostly)[:2] == ("ru", "Cyrl")
    assert identify(uzc_mostly)[:2] == ("uz", "Cyrl")


def test_capitalised_names_in_another_script_count_half() -> None:
    # more Latin letters than Cyrillic, but the Latin ones are a name: the post is Russian
    assert identify("организация National Security Agency заявила")[:2] == ("ru", "Cyrl")
    assert identify("представители National Football League приехали")[:2] == ("ru", "Cyrl")
    # and the other way round: a Russian ministry named in an Uzbek post
    assert identify("Toshkentda Министерство Обороны yig‘ilish o‘tkazdi")[:2] == ("uz", "Latn")


TRICKY = [
    "",
    "👍",
    "#новости",
    "'o‘g‘il' ' ''",
    "Приве\u0301т 𝐀𝐁𝐂 мир",  # a combining accent and astral-plane letters
    "汉字 and 日本語 with Ελληνικά",
    "Россия Apple iPhone Samsung Galaxy",
    "\u200b\u200c\u00ad",
    "Ш" * 3000,  # longer than the part that is read
    "a b c d e f",
    "  Forwarded from X\n  \n Bugun   Toshkentda \t yig'ilish  ",
]


def test_batch_equals_one_by_one_in_any_order() -> None:
    texts = [t for t, _, _ in SHORT_POSTS] + TRICKY + [t for t, _, _ in SHORT_POSTS][::-1]
    engine = get_identifier()
    one_by_one = [engine(t) for t in texts]
    assert engine.identify_many(texts) == one_by_one
    assert engine.identify_many(texts[::-1]) == one_by_one[::-1]
    assert engine.identify_many([]) == []


def test_packed_segment_sums_are_exact() -> None:
    """The batch path sums int8 rows eight bytes to a word in 16-bit lanes: extreme weights, segments
    longer than a lane holds (257+ rows) and one-row segments must give numpy's exact int64 sums."""
    import numpy as np

    from monitor.tagging.language.nb_engine import _segment_sums

    rng = np.random.default_rng(7)
    for n, docs in ((1, 1), (300, 1), (2000, 5), (5000, 40)):
        rows = rng.integers(-128, 128, size=(n, 16), dtype=np.int8)
        rows[: min(n, 600)] = 127 if n > 1 else -128  # lanes at their limit in the first segments
        owner = np.sort(rng.integers(0, docs, size=n))
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        expected = np.add.reduceat(rows, first, axis=0, dtype=np.int64)
        assert (_segment_sums(rows.copy(), first) == expected).all()


def test_long_posts_in_a_batch_equal_one_by_one() -> None:
    # 1,000 characters read: features per kind past the 256 rows a packed lane sums at once
    posts = [
        " ".join(t for t, _, _ in SHORT_POSTS[i : i + 5]) * 6 for i in range(0, len(SHORT_POSTS), 5)
    ]
    engine = get_identifier()
    assert engine.identify_many(posts) == [engine(t) for t in posts]


def test_batches_are_cut_by_texts_and_by_characters() -> None:
    from monitor.tagging.language.features import MAX_RAW
    from monitor.tagging.language.nb_engine import CHUNK, CHUNK_CHARS, _chunks

    texts = ["ab"] * (CHUNK + 3) + ["x" * 5000] * 3 + ["y" * (CHUNK_CHARS // 2 + 1)] * 3
    runs = _chunks(texts)
    assert runs[0] == (0, CHUNK)
    assert [lo for lo, _ in runs[1:]] == [hi for _, hi in runs[:-1]] and runs[-1][1] == len(texts)
    for lo, hi in runs:
        read = sum(min(len(t), MAX_RAW) for t in texts[lo:hi])
        assert 0 < hi - lo <= CHUNK and (read <= CHUNK_CHARS or hi - lo == 1)
    assert _chunks([]) == [] and _chunks(["z" * (CHUNK_CHARS * 2)]) == [(0, 1)]


def test_same_answers_in_a_fresh_process_with_another_hash_seed() -> None:
    texts = [t for t, _, _ in SHORT_POSTS]
    code = (
        "import json, sys; from monitor.tagging.language import get_identifier;"
        "e = get_identifier(); print(json.dumps([list(g) for g in e.identify_many(json.load(sys.stdin))]))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p.endswith("src")] + [env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    here = [list(g) for g in get_identifier().identify_many(texts)]
    assert json.loads(done.stdout) == here


def test_confidence_is_lower_for_a_single_ambiguous_word() -> None:
    long = identify("Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд ва дар он масъалаҳои амният баррасӣ гардиданд")
    short = identify("Салом")
    assert short.confidence < long.confidence
