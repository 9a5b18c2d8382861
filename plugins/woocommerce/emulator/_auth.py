"""Authentication as WooCommerce does it (``WC_REST_Authentication``).

Over HTTPS WooCommerce takes the keys as HTTP Basic or as ``consumer_key``/``consumer_secret``
query parameters; over plain HTTP only one-legged OAuth 1.0a signatures (HMAC-SHA1/256 over the
method, the URL and the double-encoded, sorted query parameters; key ``secret + "&"``), with a
timestamp window and single-use nonces. The emulator serves plain HTTP on loopback but accepts
all three, as a store behind a TLS-terminating proxy would; ``strip_authorization`` drops the
``Authorization`` header like hosts that strip it (the reason for ``query_string_auth``).
Failures answer 401 with WooCommerce's JSON error body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote

TIMESTAMP_WINDOW = 15 * 60


class AuthFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _rawurlencode(text: str) -> str:
    return quote(text, safe="~")


def oauth_signature(method: str, url: str, params: Mapping[str, str], secret: str,
                    algorithm: str = "HMAC-SHA256") -> str:
    """The signature WooCommerce expects (``check_oauth_signature``)."""
    pairs = [_rawurlencode(f"{_rawurlencode(k)}={_rawurlencode(v)}")
             for k, v in sorted(params.items())]
    string_to_sign = f"{method.upper()}&{_rawurlencode(url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    raw = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), digest).digest()
    return base64.b64encode(raw).decode()


class Authenticator:
    def __init__(self, key: str, secret: str, *, strip_authorization: bool = False) -> None:
        self.key = key
        self.secret = secret
        self.strip_authorization = strip_authorization
        self._nonces: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()

    def check(self, method: str, url: str, query: Mapping[str, list[str]],
              headers: Mapping[str, str]) -> None:
        """Raise ``AuthFailure`` unless the request carries valid credentials."""
        params = {k: v[-1] for k, v in query.items()}  # PHP's $_GET: the last value wins
        header = "" if self.strip_authorization else headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise AuthFailure("woocommerce_rest_authentication_error",
                                  "Consumer key is invalid.") from None
            return self._keys(user, password)
        if "consumer_key" in params and "consumer_secret" in params:
            return self._keys(params["consumer_key"], params["consumer_secret"])
        if "oauth_signature" in params:
            return self._oauth(method, url, params)
        raise AuthFailure("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    def _keys(self, key: str, secret: str) -> None:
        if not hmac.compare_digest(key, self.key):
            raise AuthFailure("woocommerce_rest_authentication_error",
                              "Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.secret):
            raise AuthFailure("woocommerce_rest_authentication_error",
                              "Consumer secret is invalid.")

    def _oauth(self, method: str, url: str, params: dict[str, str]) -> None:
        required = ("oauth_consumer_key", "oauth_signature_method", "oauth_timestamp",
                    "oauth_nonce", "oauth_signature")
        missing = [p for p in required if not params.get(p)]
        if missing:
            raise AuthFailure("woocommerce_rest_authentication_missing_parameter",
                              f"Missing OAuth parameter {missing[0]}")
        if not hmac.compare_digest(params["oauth_consumer_key"], self.key):
            raise AuthFailure("woocommerce_rest_authentication_error",
                              "Consumer key is invalid.")
        algorithm = params["oauth_signature_method"]
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise AuthFailure("woocommerce_rest_authentication_error",
                              "Invalid signature - signature method is invalid.")
        given = params.pop("oauth_signature").replace(" ", "+")
        expected = oauth_signature(method, url, params, self.secret, algorithm)
        if not hmac.compare_digest(given, expected):
            raise AuthFailure("woocommerce_rest_authentication_error",
                              "Invalid signature - provided signature does not match.")
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        now = time.time()
        if stamp < now - TIMESTAMP_WINDOW:
            raise AuthFailure("woocommerce_rest_authentication_error", "Invalid timestamp.")
        # WooCommerce remembers nonces per timestamp (the package draws its nonce from only
        # 10^8 values, so keying by timestamp is what keeps honest clients from colliding).
        seen = (stamp, params["oauth_nonce"])
        with self._lock:
            if seen in self._nonces:
                raise AuthFailure("woocommerce_rest_authentication_error",
                                  "Invalid nonce - nonce has already been used.")
            self._nonces[seen] = now
            if len(self._nonces) > 100_000:  # forget nonces older than the window
                self._nonces = {n: t for n, t in self._nonces.items()
                                if t > now - TIMESTAMP_WINDOW}
