"""What every view shares: the configuration, the logged-in user, templates, CSRF, downloads, errors."""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.errors import ConfigError, MonitorError
from monitor.escape import terminal
from monitor.models import WebRole
from monitor.reports.output import write
from monitor.reports.table import Report
from monitor.store.ports import Store
from monitor.web.auth import SESSION_COOKIE, LoginThrottle, Sessions

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True, kw_only=True)
class WebConfig:
    """How ``monitor web`` serves (docs/web.md): where, whom it trusts, how cookies are marked."""

    database: str
    secret: str
    source_name: str = ""  # how pages name the data (a file name or a masked URL)
    secure_cookies: bool = False  # mark cookies Secure (always behind TLS; also set when the request is https)
    proxy_user_header: str | None = None  # e.g. "X-Remote-User": trust this header as the user name ...
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")  # ... only from these addresses (or networks)
    proxy_default_role: WebRole = "viewer"  # role of a proxy-authenticated user with no local account
    config_path: Path | None = None  # the config whose [[channels]] editors may add to (`monitor web -c`)
    lease_expiry: float = 60.0  # [collectors] lease_expiry of that config: when a collector counts as dead


@dataclass(slots=True)
class State:
    config: WebConfig
    sessions: Sessions
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    store: Store | None = None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: WebRole
    csrf: str
    via: str  # "session" or "proxy"

    @property
    def editor(self) -> bool:
        return self.role == "editor"


def state(request: Request) -> State:
    return cast(State, request.app.state.web)  # Starlette's state is untyped; create_app sets it


def store_of(request: Request) -> Store:
    store = state(request).store
    if store is None:  # pragma: no cover - the lifespan opens it before the first request
        raise MonitorError("the store is not open")
    return store


def client_host(request: Request) -> str:
    return request.client.host if request.client else ""


def _trusted(host: str, trusted: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for item in trusted:
        try:
            if address in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False


async def current_user(request: Request) -> User | None:
    """The user of this request: a valid session whose user still exists, or the trusted proxy's header."""
    web = state(request)
    store = store_of(request)
    config = web.config
    if config.proxy_user_header and _trusted(client_host(request), config.trusted_proxies):
        name = (request.headers.get(config.proxy_user_header) or "").strip()
        if name:
            account = await store.web_user(name)
            role: WebRole = account.role if account else config.proxy_default_role
            return User(name=name, role=role, csrf=web.sessions.csrf(f"proxy:{name}"), via="proxy")
    session = web.sessions.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    account = await store.web_user(session.user)
    if account is None:
        return None
    return User(name=account.name, role=account.role, csrf=web.sessions.csrf(session.sid), via="session")


def secure(request: Request) -> bool:
    return state(request).config.secure_cookies or request.url.scheme == "https"


def _text(value: Any) -> str:
    """Attacker-controlled text for HTML: terminal-safe first (bidi, controls, escapes made visible);
    Jinja's autoescaping then escapes the markup characters."""
    return terminal("" if value is None else value, keep_newlines=True)


def _domain(link: str) -> str:
    try:
        return urlsplit(link).hostname or ""
    except ValueError:
        return ""


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every template, whatever its name: post text is attacker-controlled
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["text"] = _text
ENV.filters["domain"] = _domain
ENV.filters["when"] = _when


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200,
           user: User | None = None) -> HTMLResponse:
    body = ENV.get_template(template).render(request=request, user=user, source=state(request).config.source_name,
                                             path=request.url.path, **context)
    return HTMLResponse(body, status_code=status)


def error_page(request: Request, status: int, message: str, user: User | None = None) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status, user=user)


def download(report: Report, fmt: str, filename: str) -> Response:
    """The report as ``monitor report ... --format csv|json`` writes it into a pipe or file: the same
    function, so the bytes are the same."""
    buffer = io.StringIO()
    write(report, fmt, None, stdout=buffer)  # type: ignore[arg-type]  # fmt is csv or json, from the routes
    media = {"csv": "text/csv; charset=utf-8", "json": "application/json"}[fmt]
    return Response(buffer.getvalue().encode("utf-8"), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


Handler = Callable[[Request, User], Awaitable[Response]]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A view for logged-in users: redirects to the login page otherwise; a bad query parameter is a
    400 with the CLI's one-line message, never a traceback."""

    async def endpoint(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        try:
            return await handler(request, user)
        except ConfigError as exc:
            message = "; ".join(p.message if p.where == "config" else str(p) for p in exc.problems)
            return error_page(request, 400, terminal(message), user)
        except ValueError as exc:
            return error_page(request, 400, terminal(str(exc)), user)

    return endpoint


def write_action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A POST that changes something: a logged-in editor with the form's CSRF token, else refused
    (403) before the handler runs."""
    from monitor.web.auth import same

    async def endpoint(request: Request) -> Response:
        user = await current_user(request)
        form = await request.form()
        token = form.get("csrf")
        if user is None:
            return error_page(request, 403, "log in first")
        if not same(token if isinstance(token, str) else None, user.csrf):
            return error_page(request, 403, "missing or wrong CSRF token: reload the page and try again", user)
        if not user.editor:
            return error_page(request, 403, "your role is viewer: only editors may change anything", user)
        return await handler(request, user)

    return endpoint
