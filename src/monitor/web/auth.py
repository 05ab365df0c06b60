"""Who is asking, and may they: password hashes, signed session cookies, CSRF tokens, login throttling.

Why these pieces (docs/web.md says more):
- argon2-cffi's ``PasswordHasher`` (argon2id, its RFC 9106 defaults): memory-hard, salted, and its
  PHC string carries its parameters, so ``needs_rehash`` upgrades old hashes at the next login.
- itsdangerous' ``URLSafeTimedSerializer``: the session cookie is a signed (HMAC-SHA1 over a key
  derived from the secret) and timestamped blob; tampering or an expired cookie reads as "no
  session". The cookie holds the user name and a random session id, never a role: the role is
  read from the store on every request, so demoting or removing a user takes effect at once.
- CSRF: a token derived from the session id with HMAC (synchroniser token without server state),
  required on every POST; the login form, before any session, uses a signed random cookie and the
  same value in the form (double submit). SameSite=Strict cookies are a second wall, not the only one.
- Login throttling: at most ``LOGIN_FAILURES`` failed attempts per client address and per user name
  in ``LOGIN_WINDOW`` seconds (in memory: one process serves the dashboard).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from monitor.models import WebRole

SESSION_COOKIE = "monitor_session"
LOGIN_COOKIE = "monitor_login"
SESSION_SECONDS = 12 * 3600
LOGIN_FAILURES = 5
LOGIN_WINDOW = 300.0
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id PHC string for ``password``."""
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant work when there is no such user)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    if password != password.strip():
        return "a password does not start or end with whitespace (a pasted newline?)"
    return None


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user as the cookie says: name and session id (the role comes from the store)."""

    user: str
    sid: str


class Sessions:
    """Signs and reads session and login cookies, and derives CSRF tokens, from one secret."""

    def __init__(self, secret: str, *, max_age: int = SESSION_SECONDS) -> None:
        self._secret = secret.encode()
        self._sessions = URLSafeTimedSerializer(secret, salt="monitor.web.session")
        self._logins = URLSafeTimedSerializer(secret, salt="monitor.web.login")
        self.max_age = max_age

    def issue(self, user: str) -> tuple[str, Session]:
        session = Session(user=user, sid=secrets.token_urlsafe(18))
        return self._sessions.dumps({"u": session.user, "s": session.sid}), session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("s"), str):
            return None
        return Session(user=data["u"], sid=data["s"])

    def csrf(self, sid: str) -> str:
        """The CSRF token of a session (or of a proxy-authenticated user, ``sid`` = "proxy:<name>")."""
        return hmac.new(self._secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def new_login_cookie(self) -> tuple[str, str]:
        """(cookie value, token for the login form): the pre-session double-submit CSRF pair."""
        token = secrets.token_urlsafe(18)
        return self._logins.dumps(token), token

    def login_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            token = self._logins.loads(cookie, max_age=3600)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


class LoginThrottle:
    """Failed logins per key (client address, user name) in a sliding window."""

    def __init__(self, *, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        seen = self._failures[key]
        while seen and now - seen[0] > self.window:
            seen.popleft()
        return seen

    def blocked(self, *keys: str) -> float:
        """Seconds until a login may be tried again for these keys (0: now)."""
        wait = 0.0
        for key in keys:
            seen = self._recent(key)
            if len(seen) >= self.limit:
                wait = max(wait, self.window - (self._clock() - seen[0]))
        return wait

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self._clock())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def may_write(role: WebRole | None) -> bool:
    return role == "editor"
