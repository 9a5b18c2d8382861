"""Signed session cookies, CSRF tokens and the login rate limit of the dashboard.

The session lives in the cookie itself (no table): ``base64(json) "." base64(HMAC-SHA256)``,
keyed by the secret of ``[web] session_secret_env``. It holds the user name (None before the
login), the session's CSRF token and when it was issued; a cookie older than
``session_max_age``, or with a bad signature, is a fresh anonymous session. The cookie is
HttpOnly, SameSite=Lax, Path=/dashboard and Secure when ``base_url`` is https. Logging in
issues a new session with a new CSRF token (no session fixation); logging out deletes the
cookie. A stolen cookie stays valid until it expires — keep ``session_max_age`` short.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "shoploop_session"
CSRF_FIELD = "csrf_token"
MIN_SECRET_CHARS = 32


@dataclass(frozen=True)
class Session:
    user: str | None
    csrf: str
    issued: float

    @classmethod
    def anonymous(cls, now: float) -> Session:
        return cls(user=None, csrf=secrets.token_urlsafe(32), issued=now)

    @classmethod
    def for_user(cls, user: str, now: float) -> Session:
        return cls(user=user, csrf=secrets.token_urlsafe(32), issued=now)

    def csrf_matches(self, submitted: object) -> bool:
        return isinstance(submitted, str) and hmac.compare_digest(submitted, self.csrf)


def _key(secret: str) -> bytes:
    # A key of its own for the cookies, should the same secret ever sign something else.
    return hashlib.sha256(b"shoploop dashboard session\0" + secret.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_session(session: Session, secret: str) -> str:
    body = _b64(json.dumps({"u": session.user, "c": session.csrf, "i": int(session.issued)},
                           separators=(",", ":")).encode("utf-8"))
    signature = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{signature}"


def decode_session(value: str | None, secret: str, *, now: float, max_age: int
                   ) -> Session | None:
    """The session in a cookie, or None when it is missing, forged, malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    expected = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(_unb64(body))
        user, csrf, issued = data["u"], data["c"], float(data["i"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(csrf, str) or (user is not None and not isinstance(user, str)):
        return None
    if not (now - max_age <= issued <= now + 60):
        return None
    return Session(user=user, csrf=csrf, issued=issued)


@dataclass
class LoginLimiter:
    """At most ``attempts`` failed logins per (user name, client address) in ``window``
    seconds. In memory, per process: with ``--workers N`` the bound is N times as high (the
    reverse proxy's own limit is the place for a global one, docs/web.md)."""

    attempts: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _now(self) -> float:
        return self.clock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked_for(self, user: str, client: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self._now()
        with self._lock:
            failures = self._recent((user.lower(), client), now)
            if len(failures) < self.attempts:
                return 0.0
            return max(0.0, failures[0] + self.window - now)

    def failed(self, user: str, client: str) -> None:
        now = self._now()
        with self._lock:
            self._recent((user.lower(), client), now).append(now)
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                for stale in [k for k, v in self._failures.items() if not v]:
                    del self._failures[stale]

    def succeeded(self, user: str, client: str) -> None:
        with self._lock:
            self._failures.pop((user.lower(), client), None)
