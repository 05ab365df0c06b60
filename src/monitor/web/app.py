"""The dashboard's ASGI application: routes, login and logout, security headers, the store's lifetime.

``create_app(config)`` returns a Starlette app that opens the store (through ``open_store``, never a
backend by name) when the server starts and closes it when it stops. Every response carries a
Content-Security-Policy that allows nothing but this origin (no inline script, no inline style,
no frames, forms only to here), so even a template mistake could not run a post's script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.models import AuditEntry
from monitor.store import open_store
from monitor.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Sessions, check_password, hash_password, needs_rehash, same
from monitor.web.common import HERE, State, User, WebConfig, client_host, current_user, error_page, page, render, \
    secure, state, store_of
from monitor.web.views import alerts, channels, charts, posts, reach, spread

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
       " connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the headers above to every response (pages, downloads, static files, errors); pages are not cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no open redirect)."""
    if not target:
        return "/volume"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/volume"
    return target


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure(request),
                        path="/")


async def login_form(request: Request) -> Response:
    if await current_user(request) is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    cookie, token = state(request).sessions.new_login_cookie()
    response = render(request, "login.html", {"csrf": token, "next": _next(request.query_params.get("next")),
                                              "error": None})
    _cookie(response, request, LOGIN_COOKIE, cookie, 3600)
    return response


async def login(request: Request) -> Response:
    web = state(request)
    form = await request.form()
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    target = _next(str(form.get("next") or ""))
    expected = web.sessions.login_token(request.cookies.get(LOGIN_COOKIE))
    if not same(str(form.get("csrf") or ""), expected):
        return error_page(request, 403, "missing or wrong CSRF token: reload the login page and try again")
    keys = (f"ip:{client_host(request)}", f"user:{name.lower()}")
    wait = web.throttle.blocked(*keys)

    def again(message: str, status: int) -> Response:
        cookie, token = web.sessions.new_login_cookie()
        response = render(request, "login.html", {"csrf": token, "next": target, "error": message}, status=status)
        _cookie(response, request, LOGIN_COOKIE, cookie, 3600)
        return response

    if wait > 0:
        response = again(f"too many failed logins: try again in {int(wait) + 1} s", 429)
        response.headers["retry-after"] = str(int(wait) + 1)
        return response
    store = store_of(request)
    account = await store.web_user(name) if name else None
    # an unknown name is checked against a dummy hash: it costs what a wrong password costs
    matched = check_password(account.password_hash if account else None, password)
    if account is None or not matched:
        web.throttle.failed(*keys)
        return again("wrong name or password", 401)
    web.throttle.succeeded(*keys)
    now = datetime.now(UTC)
    if needs_rehash(account.password_hash):
        from dataclasses import replace

        await store.save_web_user(replace(account, password_hash=hash_password(password), updated_at=now),
                                  audit=AuditEntry(actor=account.name, action="user.rehash", target=account.name,
                                                   at=now))
    cookie, _session = web.sessions.issue(account.name)
    response = RedirectResponse(target, status_code=303)
    _cookie(response, request, SESSION_COOKIE, cookie, web.sessions.max_age)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    user = await current_user(request)
    form = await request.form()
    if user is not None and not same(str(form.get("csrf") or ""), user.csrf):
        return error_page(request, 403, "missing or wrong CSRF token", user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure(request))
    return response


async def home(request: Request) -> Response:
    return RedirectResponse("/volume", status_code=303)


async def audit_page(request: Request, user: User) -> Response:
    entries = await store_of(request).audit_log(limit=500)
    users = await store_of(request).web_users()
    return render(request, "audit.html", {"entries": entries, "users": users}, user=user)


async def health(request: Request) -> Response:
    return Response("ok\n", media_type="text/plain")


def create_app(config: WebConfig) -> Starlette:
    """The dashboard over ``config.database``; the store opens with the server and closes with it."""
    web = State(config=config, sessions=Sessions(config.secret))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(config.database)
        await store.open()
        web.store = store
        try:
            yield
        finally:
            web.store = None
            await store.close()

    routes = [
        Route("/", home),
        Route("/healthz", health),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/audit", page(audit_page)),
        *charts.routes,
        *posts.routes,
        *alerts.routes,
        *channels.routes,
        *spread.routes,
        *reach.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.web = web
    return app
