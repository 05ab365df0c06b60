"""Terms for new_term / rising_term: inflection folds together, stop-words never become terms."""

from __future__ import annotations

import pytest

from monitor.alerts import terms as terms_module
from monitor.alerts.terms import context, extract_terms, is_stopword, stem_tajik, stem_uzbek, word_key


def keys(text: str, lang: str, **kw: object) -> list[str]:
    return [h.key for h in extract_terms(text, lang, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        ("ru", ["талибы", "талибов", "талибами", "Талибам", "талиба"]),
        ("ru", ["игиловцы", "игиловцев", "игиловцами"]),
        ("tg", ["толибон", "толибонро", "Толибонҳо", "толиби"]),
        ("tg", ["ҷиҳодиён", "ҷиҳодиёнро"]),
        ("uz", ["tolibonlar", "Tolibonning", "tolibonlarning", "tolibonga", "tolibondan"]),
        ("uz", ["толибонлар", "толибоннинг", "толибонга"]),
        ("uz", ["IShIDga", "ishidning", "IShID"]),
    ],
)
def test_inflected_forms_fold_to_one_key(lang: str, forms: list[str]) -> None:
    folded = {word_key(form, lang) for form in forms}
    assert len(folded) == 1, folded
    assert None not in folded


def test_tajik_object_marker_after_a_hyphen_is_split_off_and_dropped() -> None:
    assert keys("Толибон-ро маҳкум карданд", "tg") == [
        word_key("толибон", "tg"),
        word_key("маҳкум", "tg"),
        word_key("карданд", "tg"),
    ]


def test_place_names_in_stan_keep_their_ending() -> None:
    assert stem_tajik("афғонистон") == "афғонистон"
    assert stem_tajik("тоҷикистонро") == "тоҷикистон"


def test_light_stemmers_keep_short_words_whole() -> None:
    assert stem_uzbek("bola") == "bola"  # "-la" is not a suffix, and 2-letter stems are refused
    assert stem_uzbek("oga") == "oga"
    assert stem_tajik("бор") == "бор"


def test_uzbek_apostrophe_variants_are_one_word() -> None:
    variants = ["ko'rsatuv", "koʻrsatuv", "ko‘rsatuv", "ko’rsatuv", "ko`rsatuv"]
    assert len({word_key(v, "uz") for v in variants}) == 1


def test_invisible_characters_and_case_do_not_make_a_new_word() -> None:
    assert keys("ТА\u200bЛИ\u00adБЫ", "ru") == keys("талибы", "ru") == ["талиб"]


@pytest.mark.parametrize(
    "word_list",
    [
        terms_module._RU_STOP,
        terms_module._TG_STOP,
        terms_module._UZ_LATN_STOP,
        terms_module._UZ_CYRL_STOP,
        terms_module._EN_STOP,
    ],
)
def test_stop_words_never_become_terms(word_list: list[str]) -> None:
    text = " ".join(word_list) + ". " + " ".join(w.upper() for w in word_list)
    for lang in ("ru", "tg", "uz", "en", "und"):
        assert keys(text, lang, min_length=1) == [], lang
    assert all(is_stopword(w) for w in word_list)


def test_inflected_stop_words_are_stop_words_too() -> None:
    assert keys("которых которыми сообщили заявили", "ru", min_length=1) == []


def test_hashtags_mentions_and_tme_links_are_terms_urls_are_not_words() -> None:
    text = (
        "Смотрите #Хиҷрат и @Some_Channel, канал https://t.me/other_chan/15 и сайт "
        "https://example.org/путь?q=слово"
    )
    hits = extract_terms(text, "ru")
    got = {(h.key, h.kind) for h in hits}
    assert ("#хиҷрат", "hashtag") in got
    assert ("@some_channel", "mention") in got
    assert ("@other_chan", "link") in got
    assert not any(h.key in ("https", "example", "путь", "слово") for h in hits)
    assert next(h for h in hits if h.key == "#хиҷрат").surface == "#Хиҷрат"


def test_source_mentions_count_even_when_the_text_hides_them() -> None:
    assert keys("", "ru", mentions=["hidden_link", "+InviteHash", "c/123"]) == ["@hidden_link"]


def test_kinds_and_min_length_select_terms() -> None:
    text = "#джихад шахидмобиль @chan_name бой"
    assert keys(text, "ru", kinds=["hashtag"]) == ["#джихад"]
    assert "бой" not in keys(text, "ru", min_length=4)
    assert word_key("бой", "ru") in keys(text, "ru", min_length=3)


def test_numbers_are_not_words() -> None:
    assert keys("2024 12345 100500", "ru", min_length=1) == []


def test_spans_point_at_the_text_as_written() -> None:
    text = "В провинции Кунар талибов стало больше"
    hit = next(h for h in extract_terms(text, "ru") if h.key == "талиб")
    assert text[hit.start : hit.end] == "талибов" == hit.surface


def test_context_is_a_short_window_cut_at_spaces() -> None:
    text = " ".join(f"слово{i}" for i in range(40)) + " ЦЕЛЬ " + " ".join(f"ещё{i}" for i in range(40))
    start = text.index("ЦЕЛЬ")
    snippet = context(text, start, start + 4, width=30)
    assert "ЦЕЛЬ" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 4 + 2 * 30 + 2
    inner = snippet.strip("…")
    assert all(word in text.split() for word in inner.split())  # no word cut in half
    assert context("short text", 0, 5) == "short text"
    assert context("x", 3, 9) == ""
