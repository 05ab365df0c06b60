"""docs/alerts.md documents every rule kind, every rule option and every sink option the config accepts."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.config import _COMMON, _KIND_KEYS, RULE_KINDS
from monitor.alerts.sinks import KINDS, sink_options

DOC = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text("utf-8")


def test_every_rule_kind_and_option_is_documented() -> None:
    for kind in RULE_KINDS:
        assert f"| `{kind}` |" in DOC, kind
    for key in sorted(_COMMON | {k for keys in _KIND_KEYS.values() for k in keys}):
        assert f"`{key}`" in DOC, key
    for key in ("max_post_age", "digest"):
        assert f"{key} =" in DOC, key


def test_every_sink_kind_and_option_is_documented() -> None:
    options = sink_options()
    for kind in KINDS:
        assert f"| `{kind}` |" in DOC, kind
        for key in options[kind]:
            assert f"`{key}`" in DOC, (kind, key)


def test_the_dry_run_promise_is_written_down() -> None:
    assert "newest stored post" in DOC and "--as-published" in DOC and "cool-down" in DOC
