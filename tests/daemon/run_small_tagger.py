"""`monitor` with the tests' small tagger, for trees where the real tagger is not installed yet."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon.conftest import small_tagger  # noqa: E402

import monitor.daemon  # noqa: E402
from monitor.cli.collect import standalone  # noqa: E402

monitor.daemon.build_tagger = lambda settings: small_tagger()  # type: ignore[assignment]

if __name__ == "__main__":
    standalone()
