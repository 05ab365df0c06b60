"""Team mode's account pool on disk: each collector takes the first account nobody holds.

Why: ``docker compose up --scale collector=3`` starts three identical replicas; Compose gives
secrets per service, not per replica. Every replica therefore sees every account's credentials
file (``telegram.accounts_dir``, one TOML per account, the file name is the account name) and
takes the first one that no running collector holds, skipping accounts Telegram banned, froze or
logged out. Two replicas starting at the same instant may pick the same account: the second is
refused by the session hold (monitor/collectors/team.py) and exits, and its restart policy starts
it again, when it picks another.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import ConfigError, Problem
from monitor.models import AccountState
from monitor.settings import Settings
from monitor.settings.credentials import read_credentials
from monitor.store.ports import Leases

LOST = frozenset({"banned", "frozen", "unauthorized", "duplicated"})


def _free(state: AccountState | None, now: datetime) -> bool:
    if state is None:
        return True
    held = state.holder is not None and state.held_until is not None and state.held_until > now
    return not held and state.state not in LOST


async def choose_account(
    settings: Settings, store: Leases, *, now: datetime | None = None, exclude: Collection[str] = ()
) -> Settings:
    """``settings`` with the chosen account's name and credentials (not one of ``exclude``);
    ConfigError when none is free."""
    folder = settings.resolve_path(settings.telegram.accounts_dir)
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    where = f"{settings.path}: telegram.accounts_dir"
    if not files:
        raise ConfigError(Problem(where, f"no account credentials (*.toml) in {folder}"))
    now = now or datetime.now(UTC)
    states = {a.name: a for a in await store.account_states()}
    free = [f for f in files if f.stem not in exclude and _free(states.get(f.stem), now)]
    # accounts in an unfinished flood wait last: a collector on one would poll nothing until its end
    free.sort(key=lambda f: (states.get(f.stem) is not None and states[f.stem].state == "flood_wait", f.name))
    if not free:
        raise ConfigError(
            Problem(where, f"every account in {folder} is in use by a running collector or lost (banned, frozen,"
                    " logged out): add an account or stop a collector (docs/operations.md)")
        )
    chosen: Path = free[0]
    problems: list[Problem] = []
    creds = read_credentials(
        {}, chosen, required=True, problem=lambda key, message: problems.append(Problem(f"{where}: {chosen.name}", message))
    )
    if problems or creds is None:
        raise ConfigError(problems or [Problem(where, f"{chosen}: no credentials")])
    telegram = replace(settings.telegram, account_name=chosen.stem, credentials_file=str(chosen))
    return replace(settings, telegram=telegram, credentials=creds)


async def choose_accounts(settings: Settings, store: Leases, count: int) -> list[Settings]:
    """Up to ``count`` free accounts (at least one, else ConfigError), one settings each."""
    chosen: list[Settings] = []
    for _ in range(count):
        try:
            chosen.append(
                await choose_account(settings, store, exclude=[s.telegram.account_name for s in chosen])
            )
        except ConfigError:
            if not chosen:
                raise
            break
    return chosen


__all__ = ["choose_account", "choose_accounts"]
