"""The other engines: langdetect with the profiles `monitor lid build` made, pycld2, py3langid, vote."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from monitor.tagging.language import get_identifier
from monitor.tagging.language.langdetect_profiles import BUILT, BUILTIN, PROFILE_DIR

POSTS = [
    (
        "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд ва дар он масъалаҳои амният баррасӣ гардиданд",
        "tg",
        "Cyrl",
    ),
    (
        "Bugun Toshkentda vazirlar yig‘ilishi bo‘lib o‘tdi, unda xavfsizlik masalalari ko‘rib chiqildi",
        "uz",
        "Latn",
    ),
    ("Бугун Тошкентда вазирлар йиғилиши бўлиб ўтди, унда хавфсизлик масалалари кўриб чиқилди", "uz", "Cyrl"),
    ("Сегодня в Москве прошло совещание, на котором обсуждались вопросы безопасности", "ru", "Cyrl"),
]


def test_langdetect_profiles_are_shipped_in_its_format() -> None:
    root = resources.files("monitor.tagging.language.data").joinpath(PROFILE_DIR)
    assert {"tg", "uz-Latn", "uz-Cyrl", "kk", "ky"} <= set(BUILT)
    assert not set(BUILT) & set(BUILTIN)
    for name in BUILT:
        profile = json.loads(gzip.decompress(root.joinpath(f"{name}.json.gz").read_bytes()))
        assert profile["name"] == name
        assert len(profile["n_words"]) == 3 and all(n > 0 for n in profile["n_words"])
        assert len(profile["freq"]) > 1000
        assert all(1 <= len(gram) <= 3 and count > 0 for gram, count in profile["freq"].items())


@pytest.mark.parametrize(("text", "lang", "script"), POSTS)
def test_langdetect_knows_tajik_and_uzbek_now(text: str, lang: str, script: str) -> None:
    guess = get_identifier("langdetect")(text)
    assert (guess.lang, guess.script) == (lang, script)


def test_langdetect_is_deterministic() -> None:
    engine = get_identifier("langdetect")
    text = "Салом"  # one short word: where langdetect's random sampling would show
    assert len({engine(text) for _ in range(10)}) == 1
    assert engine("👍 https://t.me/x").lang == "und"
    assert engine.version.startswith("1.0.9+")  # langdetect's version + a hash of our profiles


@pytest.mark.parametrize("name", ["pycld2", "py3langid", "vote"])
@pytest.mark.parametrize(("text", "lang", "script"), POSTS)
def test_library_engines_on_clear_posts(name: str, text: str, lang: str, script: str) -> None:
    guess = get_identifier(name)(text)
    assert (guess.lang, guess.script) == (lang, script)
    assert get_identifier(name).identify_many([text, ""]) == [guess, get_identifier(name)("")]


@pytest.mark.parametrize("name", ["pycld2", "py3langid", "langdetect", "vote"])
def test_every_engine_says_und_on_nothing(name: str) -> None:
    assert get_identifier(name)("🔥🔥 @user https://t.me/c/1/2").lang == "und"
