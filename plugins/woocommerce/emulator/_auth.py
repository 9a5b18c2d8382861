"""Authentication as WooCommerce does it: ``WC_REST_Authentication``
(https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/class-wc-rest-authentication.php).

``authenticate``: only when ``is_ssl()`` (the site's PHP sees HTTPS) is "basic" authentication
tried — the ``consumer_key``/``consumer_secret`` **query parameters first**, and only when they
are absent the HTTP Basic credentials (``PHP_AUTH_USER``/``PW``). An unknown key there fails
silently; a wrong secret records "Consumer secret is invalid.". Whenever that gave no user —
over HTTPS too — OAuth 1.0a one-legged is tried (parameters from the query, the form body and an
``Authorization: OAuth`` header); sent none of its parameters, it fails silently too. A request
left without a user reaches the endpoint unauthenticated and gets the endpoint's own 401 (e.g.
``woocommerce_rest_cannot_view``); a recorded error is answered instead, 401.

The emulator serves plain HTTP on loopback, so by default ``is_ssl`` is false and, as on a real
store over HTTP, only OAuth signatures authenticate. ``https=True`` models a store whose PHP
sees HTTPS (a TLS-terminating proxy setting ``$_SERVER['HTTPS']``): the adapter is then pointed
at ``https://…`` and its requests reach the emulator through such a proxy (see the tests).
``strip_authorization`` drops the ``Authorization`` header like hosts that strip it (the
reason for ``query_string_auth``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

TIMESTAMP_WINDOW = 15 * 60
OAUTH_PARAMETERS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                    "oauth_signature_method")


class AuthFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _error(message: str) -> AuthFailure:
    return AuthFailure("woocommerce_rest_authentication_error", message)


def _empty(value: str | None) -> bool:
    return value in (None, "", "0")  # PHP's empty() on a request string


def _rawurlencode(text: str) -> str:
    return quote(text, safe="~")  # wc_rest_urlencode_rfc3986: rawurlencode, "~" kept


def oauth_signature(method: str, url: str, params: Mapping[str, str], secret: str,
                    algorithm: str = "HMAC-SHA256") -> str:
    """The signature WooCommerce expects (``check_oauth_signature``): parameters sorted by
    name (``strcmp``), each ``key=value`` encoded, joined with ``%26``; key ``secret&``."""
    pairs = [_rawurlencode(f"{_rawurlencode(k)}={_rawurlencode(v)}")
             for k, v in sorted(params.items())]
    string_to_sign = f"{method.upper()}&{_rawurlencode(url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    raw = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), digest).digest()
    return base64.b64encode(raw).decode()


def _oauth_header(header: str) -> dict[str, str]:
    """``parse_header``: ``oauth_*="…"`` pairs of an ``Authorization: OAuth …`` header."""
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        name, sep, value = part.strip().partition("=")
        if sep and name.startswith("oauth_"):
            params[name] = unquote_plus(value.strip('"'))  # PHP's urldecode
    return params


class Authenticator:
    def __init__(self, key: str, secret: str, *, strip_authorization: bool = False,
                 https: bool = False) -> None:
        self.key = key
        self.secret = secret
        self.strip_authorization = strip_authorization
        self.https = https
        """``is_ssl()`` as the site's PHP sees it."""
        self._nonces: dict[int, str] = {}
        """The key's ``nonces`` column: timestamp → the last nonce used with it."""
        self._lock = threading.Lock()

    def authenticated(self, method: str, url: str, query: Mapping[str, list[str]],
                      headers: Mapping[str, str], form: bytes = b"") -> bool:
        """True when the request authenticates as the key's user, False when it carries no
        usable credentials (the endpoint then refuses it); ``AuthFailure`` for a recorded
        authentication error."""
        params = {k: v[-1] for k, v in query.items()}  # PHP's $_GET: the last value wins
        header = "" if self.strip_authorization else headers.get("authorization", "")
        failure: AuthFailure | None = None
        if self.https:
            try:
                if self._basic(params, header):
                    return True
            except AuthFailure as exc:
                failure = exc
        post = dict(parse_qsl(form.decode("latin-1"))) if headers.get(
            "content-type", "").startswith("application/x-www-form-urlencoded") else {}
        oauth = self._oauth_parameters({**params, **post}, header)
        if oauth is None:  # no OAuth parameter at all: the earlier outcome stands
            if failure is not None:
                raise failure
            return False
        self._oauth(method, url, oauth)
        return True

    def _basic(self, params: dict[str, str], header: str) -> bool:
        key = secret = ""
        if not _empty(params.get("consumer_key")) and not _empty(params.get("consumer_secret")):
            key, secret = params["consumer_key"], params["consumer_secret"]
        if not key and header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
            if not _empty(user) and not _empty(password):
                key, secret = user, password
        if not key or not secret or not hmac.compare_digest(key, self.key):
            return False  # no key, or an unknown one: no error recorded
        if not hmac.compare_digest(secret, self.secret):
            raise _error("Consumer secret is invalid.")
        return True

    @staticmethod
    def _oauth_parameters(params: dict[str, str], header: str) -> dict[str, str] | None:
        params = {**params, **_oauth_header(header.strip())}
        missing = [p for p in OAUTH_PARAMETERS if _empty(params.get(p))]
        if len(missing) == len(OAUTH_PARAMETERS):
            return None
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise AuthFailure("woocommerce_rest_authentication_missing_parameter",
                              f"Missing OAuth {noun} {', '.join(missing)}")
        return params

    def _oauth(self, method: str, url: str, params: dict[str, str]) -> None:
        if not hmac.compare_digest(params["oauth_consumer_key"], self.key):
            raise _error("Consumer key is invalid.")
        given = unquote(params.pop("oauth_signature").replace(" ", "+"))  # rawurldecode
        algorithm = params["oauth_signature_method"]
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _error("Invalid signature - signature method is invalid.")
        expected = oauth_signature(method, url, params, self.secret, algorithm)
        if not hmac.compare_digest(given, expected):
            raise _error("Invalid signature - provided signature does not match.")
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        now = time.time()
        if not now - TIMESTAMP_WINDOW <= stamp <= now + TIMESTAMP_WINDOW:
            raise _error("Invalid timestamp.")
        # check_oauth_timestamp_and_nonce: a nonce seen with any remembered timestamp is a
        # replay; one nonce is kept per timestamp; entries older than the window are dropped.
        nonce = params["oauth_nonce"]
        with self._lock:
            if nonce in self._nonces.values():
                raise _error("Invalid nonce - nonce has already been used.")
            self._nonces[stamp] = nonce
            self._nonces = {t: n for t, n in self._nonces.items()
                            if t >= now - TIMESTAMP_WINDOW}
