"""structlog, imported without rich, and `get_logger`: what every module that logs imports.

Why a module of its own: structlog imports rich, and through it pygments, when it is imported,
for the tracebacks of its console renderer. That is about 4 MB in the daemon (80 modules; issue 16,
memory: the daemon's budget is 150 MB at 5,000 channels), in every process, JSON logs included,
which never use them. Importing structlog here with `import rich` failing keeps them out;
`monitor.logs.configure` loads rich when it sets up a console. This is the only module that
imports structlog (an import-linter contract), so no other import order can bring rich back.
Stdlib and structlog only: it sits in the bottom layer, every layer may log.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def _rich_hidden() -> Iterator[None]:
    """While structlog is imported, `import rich` fails (unless rich or structlog is loaded already)."""
    hide = "rich" not in sys.modules and "structlog" not in sys.modules
    if hide:
        sys.modules["rich"] = None  # type: ignore[assignment]  # None in sys.modules: ImportError
    try:
        yield
    finally:
        if hide:
            del sys.modules["rich"]


with _rich_hidden():
    import structlog


def get_logger(name: str = "monitor") -> Any:
    return structlog.get_logger(name)


__all__ = ["get_logger", "structlog"]
