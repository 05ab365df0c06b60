"""The sink registry: a kind is one module exporting KIND plus one REGISTRY line; no import circle."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from monitor.alerts.sinks import KINDS, REGISTRY, SinkKind, sink_kind, sink_options, validate_sink

SINKS = Path(importlib.import_module("monitor.alerts.sinks").__file__ or "").parent


def test_every_registered_kind_exports_its_kind_record() -> None:
    for kind in KINDS:
        spec = sink_kind(kind)
        assert isinstance(spec, SinkKind)
        assert all(opt.doc for opt in spec.options.values()), kind
    assert set(sink_options()) == set(REGISTRY)


def test_sink_modules_never_import_the_registry() -> None:
    for path in SINKS.glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "monitor.alerts.sinks":
                assert [a.name for a in node.names] == ["base"], f"{path.name} imports the registry"
            if isinstance(node, ast.Import):
                assert all(a.name != "monitor.alerts.sinks" for a in node.names), path.name


def test_an_unknown_kind_names_the_registered_ones() -> None:
    [problem] = validate_sink("pager", {}, "alerts.sinks[0]")
    assert problem.where == "alerts.sinks[0].kind"
    assert all(kind in problem.message for kind in KINDS)
