"""The `monitor` command line: thin shells over functions a user could call from Python.

Each command lives in its own module and is listed here, so this file is the one
list of what the CLI offers. Why the list is lazy (module paths and one-line help,
not imported commands): `monitor --help` and `monitor tag` must not pay for
importing the daemon, the reports, the alert sinks and their libraries (structlog,
rich, httpx, numpy, ...); a command's module is imported only when it runs or its
own help is asked for. A test checks this table against the real commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import click

from monitor import __version__

# name -> ("module:attribute", the command's help, whose first sentence `monitor --help` lists)
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "alerts": ("monitor.cli.alerts:alerts", "Fired alerts, and dry-runs and retro-hunts of the [alerts] rules."),
    "channels": ("monitor.cli.collect:channels_group",
                 "Edit the watch list (the config file's [[channels]] and the store)."),
    "check": ("monitor.cli.collect:check_cmd",
              "Validate a config: print every problem with its file and key (exit 2 when there are any)."),
    "db": ("monitor.cli.db:db_group", "Schema upgrades, consistency checks and copies between SQLite and PostgreSQL."),
    "demo": ("monitor.cli.collect:demo_cmd",
             "Run the real daemon offline over the bundled scenario (months replayed in seconds)."),
    "discovery": ("monitor.cli.discovery:discovery_group",
                  "The discovery queue: channels the watched ones point at, and successors of channels taken down."),
    "import": ("monitor.cli.collect:import_cmd",
               "Ingest a Telegram Desktop export (result.json) through the same tagging and store path."),
    "label": ("monitor.cli.label:label",
              "Mark a match of a stored post right or wrong, or a missed mention of a group (with --span)."),
    "lid": ("monitor.cli.lid:lid", "Language identification: build model data, evaluate engines."),
    "login": ("monitor.cli.collect:login_cmd",
              "Log the collector's Telegram session in once, interactively (the daemon never signs in itself)."),
    "report": ("monitor.cli.report:report",
               "Analysts' reports over the stored, tagged posts (UTC periods; empty periods are zero rows)."),
    "retag": ("monitor.cli.collect:retag_cmd",
              "Recompute tags of stored posts (those with stored text) after a tagger or lexicon upgrade."),
    "run": ("monitor.cli.collect:run_cmd", "Run the collector until SIGTERM/SIGINT (refuses to start on a bad config)."),
    "status": ("monitor.cli.collect:status_cmd",
               "Per channel: state, last poll, newest post, posts stored, last error, parked-until."),
    "tag": ("monitor.cli.tag:tag", "Tag text from stdin: one post per line in, one JSON object per line out."),
    "users": ("monitor.cli.web:users_group",
              "Local accounts of the web dashboard: add, passwd, remove, list (roles viewer and editor)."),
    "web": ("monitor.cli.web:web_cmd",
            "Serve the analysts' dashboard over the database (read-mostly; log in with `monitor users add`)."),
}


def load_command(name: str) -> click.Command:
    """Import the module of command ``name`` and return the command object."""
    module, _, attr = LAZY_COMMANDS[name][0].partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
        raise TypeError(f"{module}:{attr} is not a click command")
    return command


class _LazyCommands(MutableMapping[str, click.Command]):
    """``Group.commands`` whose values are imported on first access; keys are known up front."""

    def __init__(self) -> None:
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in LAZY_COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:  # pragma: no cover - click never removes commands
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(LAZY_COMMANDS) | set(self._loaded)))

    def __len__(self) -> int:
        return len(set(LAZY_COMMANDS) | set(self._loaded))

    def loaded(self, name: str) -> click.Command | None:
        return self._loaded.get(name)


class LazyGroup(click.Group):
    """A group that lists its commands from `LAZY_COMMANDS` and imports one only when it is used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:  # pragma: no cover
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.loaded(name)  # type: ignore[attr-defined]  # commands is our _LazyCommands (set in __init__); click types it as a dict
            if loaded is not None:
                if loaded.hidden:  # pragma: no cover
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=LAZY_COMMANDS[name][1]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="monitor")
def main() -> None:
    """Collect, tag and report on public Telegram channels of Central Asian militant groups."""
