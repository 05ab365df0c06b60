"""The account pool on disk (telegram.accounts_dir): each collector takes the first account no running
collector holds, skipping lost ones; on the real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.collectors.pool import choose_account
from monitor.errors import ConfigError
from monitor.models import AccountState
from monitor.settings import load
from monitor.store import Store

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def pool(tmp_path: Path, names: list[str], url: str) -> Path:
    accounts = tmp_path / "secrets"
    accounts.mkdir()
    for i, name in enumerate(names, start=1):
        (accounts / f"{name}.toml").write_text(f'api_id = {1000 + i}\napi_hash = "hash{i}"\n', "utf-8")
    (accounts / "postgres_password").write_text("not an account", "utf-8")
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f'[monitor]\ndatabase = "{url}"\n[telegram]\naccounts_dir = "secrets"\n', "utf-8")
    return cfg


async def test_each_collector_takes_a_free_account_and_skips_lost_and_parked_ones(
    pg_store: Store, pg_url: str, tmp_path: Path
) -> None:
    settings = load(pool(tmp_path, ["acc1", "acc2", "acc3", "acc4"], pg_url))
    first = await choose_account(settings, pg_store, now=NOW)
    assert (first.telegram.account_name, first.credentials.api_id if first.credentials else None) == ("acc1", 1001)
    assert await pg_store.hold_account("acc1", "c1", at=NOW, expiry=60) is None  # c1 runs on acc1
    await pg_store.set_account_state(AccountState(name="acc2", state="banned", reason="USER_DEACTIVATED_BAN", since=NOW))
    await pg_store.set_account_state(
        AccountState(name="acc3", state="flood_wait", since=NOW, until=NOW + timedelta(hours=1))
    )
    second = await choose_account(settings, pg_store, now=NOW)
    assert second.telegram.account_name == "acc4"  # acc1 held, acc2 banned, acc3 parked for an hour: last
    assert await pg_store.hold_account("acc4", "c2", at=NOW, expiry=60) is None
    assert (await choose_account(settings, pg_store, now=NOW)).telegram.account_name == "acc3"
    assert await pg_store.hold_account("acc3", "c3", at=NOW, expiry=60) is None
    with pytest.raises(ConfigError, match="every account in .* is in use by a running collector or lost"):
        await choose_account(settings, pg_store, now=NOW)
    # c1 died without a clean stop: once its hold runs out, its account is free again
    assert (await choose_account(settings, pg_store, now=NOW + timedelta(seconds=61))).telegram.account_name == "acc1"


async def test_an_empty_pool_is_a_clear_config_error(pg_store: Store, pg_url: str, tmp_path: Path) -> None:
    settings = load(pool(tmp_path, [], pg_url))
    with pytest.raises(ConfigError, match=r"telegram.accounts_dir: no account credentials \(\*.toml\)"):
        await choose_account(settings, pg_store)
