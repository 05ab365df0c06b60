"""`monitor web` (serve the dashboard) and `monitor users` (its local accounts): thin shells over monitor.web.

Passwords are read from a prompt (twice, hidden) or, with ``--password-stdin``, from the first line of
standard input: never from an argument, which other users of the machine can read in ``ps`` and which
lands in shell history.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor.cli.common import database_option, friendly
from monitor.errors import ConfigError, MonitorError

# as `monitor report` takes them: --db (or MONITOR_DB), else the database of -c CONFIG
_db_option = database_option
_config_option = click.option("--config", "-c", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                              help="Take the database from this config file ([monitor] database).")


def _database(db: str | None, config: Path | None) -> str:
    """The store URL, found as `monitor report` finds it (MonitorError naming what is missing)."""
    from monitor.cli.report import _db_path

    return _db_path(db, config)


def _secret(secret_file: Path | None) -> str:
    """The key that signs session cookies: MONITOR_WEB_SECRET, else the file (created once, mode 0600),
    else a random key for this run (everyone logs in again after a restart)."""
    if os.environ.get("MONITOR_WEB_SECRET"):
        return os.environ["MONITOR_WEB_SECRET"]
    if secret_file is None:
        click.echo("note: no --secret-file or MONITOR_WEB_SECRET: sessions end when the server stops", err=True)
        return secrets.token_urlsafe(32)
    if not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    text = secret_file.read_text("utf-8").strip()
    if len(text) < 32:
        raise ConfigError(f"--secret-file {secret_file}: the key has fewer than 32 characters")
    return text


def _lease_expiry(config: Path | None) -> float:
    """[collectors] lease_expiry of the config (team mode's "dead collector" limit), else its default."""
    from monitor.settings import load
    from monitor.settings.schema import CollectorSettings

    if config is None:
        return CollectorSettings().lease_expiry
    return load(config).collectors.lease_expiry


@click.command("web")
@_db_option
@_config_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the default behind a reverse proxy; 0.0.0.0 exposes it to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the key that signs sessions (created with a random key when missing).")
@click.option("--secure-cookies", is_flag=True, help="Mark cookies Secure (the proxy in front speaks TLS).")
@click.option("--proxy-user-header", metavar="HEADER",
              help="Trust this request header (e.g. X-Remote-User) as the logged-in user, from --trusted-proxy only.")
@click.option("--trusted-proxy", multiple=True, default=("127.0.0.1", "::1"), show_default=True,
              help="Address or network of the reverse proxy whose headers are trusted (repeatable).")
@friendly
def web_cmd(database: str | None, config: Path | None, host: str, port: int, secret_file: Path | None,
            secure_cookies: bool, proxy_user_header: str | None, trusted_proxy: tuple[str, ...]) -> None:
    """Serve the analysts' dashboard over the database (read-mostly; log in with `monitor users add`)."""
    import uvicorn

    from monitor.cli.report import _source_name
    from monitor.web.app import create_app
    from monitor.web.common import WebConfig

    url = _database(database, config)
    config_ = WebConfig(database=url, secret=_secret(secret_file), source_name=_source_name(url),
                        secure_cookies=secure_cookies, proxy_user_header=proxy_user_header,
                        trusted_proxies=tuple(trusted_proxy), config_path=config,
                        lease_expiry=_lease_expiry(config))
    app = create_app(config_)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"monitor web: http://{shown}:{port}/ over {_source_name(url)} (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=",".join(trusted_proxy), server_header=False)


@click.group("users")
def users_group() -> None:
    """Local accounts of the web dashboard: add, passwd, remove, list (roles viewer and editor)."""


def _password(from_stdin: bool) -> str:
    from monitor.web.auth import password_problem

    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    problem = password_problem(password)
    if problem:
        raise ConfigError(problem)
    return password


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _with_store(url: str, work: Any) -> Any:
    from monitor.cli.stores import open_db

    store = await open_db(url, must_exist=True)
    try:
        return await work(store)
    finally:
        await store.close()


_role_option = click.option("--role", type=click.Choice(("viewer", "editor")), default=None,
                            help="viewer (read only) or editor (may acknowledge alerts). Default for add: viewer.")
_stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")


def _save_options(command: Any) -> Any:
    """NAME, --role, --password-stdin, --database and --config: what `users add` and `users passwd` take."""
    for option in (_config_option, _db_option, _stdin_option, _role_option, click.argument("name")):
        command = option(command)
    return command


def _save(name: str, role: str | None, from_stdin: bool, *, database: str | None, config: Path | None,
          adding: bool) -> None:
    from monitor.models import AuditEntry, WebUser
    from monitor.web.auth import hash_password

    url = _database(database, config)
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise ConfigError(f"user name {name!r}: 1-64 printable characters without spaces")

    async def work(store: Any) -> str:
        existing = await store.web_user(name)
        if adding and existing is not None:
            raise MonitorError(f"user {name} exists; change the password with `monitor users passwd {name}`")
        if not adding and existing is None:
            raise MonitorError(f"no user {name}; add one with `monitor users add {name}`")
        password = _password(from_stdin)
        now = datetime.now(UTC)
        chosen = role or (existing.role if existing else "viewer")
        user = WebUser(name=name, password_hash=hash_password(password), role=chosen,  # type: ignore[arg-type]  # a click.Choice of WebRole
                       created_at=existing.created_at if existing else now, updated_at=now)
        await store.save_web_user(user, audit=AuditEntry(actor=_actor(), action="user.add" if adding else "user.passwd",
                                                         target=name, at=now, detail={"role": chosen}))
        return chosen

    chosen = asyncio.run(_with_store(url, work))
    click.echo(f"user {name} {'added' if adding else 'changed'} (role {chosen})")


@users_group.command("add")
@_save_options
@friendly
def users_add(name: str, role: str | None, password_stdin: bool, database: str | None, config: Path | None) -> None:
    """Add a user; the password is asked for (or read with --password-stdin)."""
    _save(name, role, password_stdin, database=database, config=config, adding=True)


@users_group.command("passwd")
@_save_options
@friendly
def users_passwd(name: str, role: str | None, password_stdin: bool, database: str | None,
                 config: Path | None) -> None:
    """Set a user's password (and, with --role, the role)."""
    _save(name, role, password_stdin, database=database, config=config, adding=False)


@users_group.command("remove")
@click.argument("name")
@_db_option
@_config_option
@friendly
def users_remove(name: str, database: str | None, config: Path | None) -> None:
    """Remove a user (their sessions end at their next request)."""
    from monitor.models import AuditEntry

    url = _database(database, config)

    async def work(store: Any) -> bool:
        entry = AuditEntry(actor=_actor(), action="user.remove", target=name, at=datetime.now(UTC))
        return bool(await store.remove_web_user(name, audit=entry))

    if not asyncio.run(_with_store(url, work)):
        raise MonitorError(f"no user {name}")
    click.echo(f"user {name} removed")


@users_group.command("list")
@_db_option
@_config_option
@friendly
def users_list(database: str | None, config: Path | None) -> None:
    """Every user with role and when the password last changed."""
    from monitor.escape import terminal

    url = _database(database, config)

    async def work(store: Any) -> list[Any]:
        return list(await store.web_users())

    for user in asyncio.run(_with_store(url, work)):
        click.echo(f"{terminal(user.name)}\t{user.role}\t{user.updated_at.isoformat()}")
