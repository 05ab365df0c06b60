"""The `monitor` command line: thin shells over functions a user could call from Python.

Each command group lives in its own module and is attached here, so this file
is the one list of what the CLI offers.
"""

from __future__ import annotations

import click

from monitor import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="monitor")
def main() -> None:
    """Collect, tag and report on public Telegram channels of Central Asian militant groups."""


def _register() -> None:
    from monitor.cli.alerts import alerts
    from monitor.cli.collect import register
    from monitor.cli.db import db_group
    from monitor.cli.lid import lid
    from monitor.cli.report import report
    from monitor.cli.tag import tag

    register(main)
    for command in (tag, lid, report, alerts, db_group):
        main.add_command(command)


_register()
