"""The CLI tests run commands over the daemon's scenarios: they share its fixtures (a small tagger, and
the check that every store a test opened is closed)."""

from daemon.conftest import _stores_are_closed, tagger  # noqa: F401  (fixtures, found by name)
