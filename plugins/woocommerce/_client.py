"""The HTTP client: the ``woocommerce`` package's ``API`` over one pooled ``requests.Session``.

Why a subclass and not the package as is: ``woocommerce`` 3.0.0 sends every call through the
module-level ``requests.request`` (a new TCP/TLS connection per call), has a 5 s default timeout,
never retries and never raises on an error status. We keep what it does well — URL building,
Basic auth over HTTPS, ``query_string_auth`` for hosts that strip the ``Authorization`` header,
and the OAuth 1.0a signature WooCommerce demands over plain HTTP — by overriding only its
private ``__request`` (name-mangled ``_API__request``) so the request goes through our session.
On top, :class:`WooClient` adds bounded retries with backoff on 429/5xx/timeouts/dropped
connections and turns error answers into the domain errors of ``shoploop.hooks`` carrying
WooCommerce's ``code`` and ``message``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from woocommerce import API  # type: ignore[import-untyped]

from shoploop.hooks import (
    AuthError,
    BatchLimitError,
    ConnectorError,
    RateLimitedError,
    RemoteValidationError,
    UnreachableError,
    WrongEndpointError,
)
from shoploop.retrying import announce_retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "shoploop-woocommerce/0.1"


class PooledAPI(API):  # type: ignore[misc]
    """``woocommerce.API`` whose requests go through ``session`` (keep-alive pooling)."""

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, *,
                 session: requests.Session, **kwargs: Any) -> None:
        super().__init__(url, consumer_key, consumer_secret, **kwargs)
        self.session = session

    def _API__request(self, method: str, endpoint: str, data: Any,
                      params: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        # Same decisions as the package's __request, minus one quirk: on the OAuth path the
        # package encodes `params` into the signed URL *and* passes them again, so every
        # query parameter is sent twice. Here they are sent once, inside the signed URL.
        params = dict(params or {})
        url: str = self._API__get_url(endpoint)
        auth = None
        headers = {"user-agent": self.user_agent, "accept": "application/json"}
        if self.is_ssl and not self.query_string_auth:
            auth = HTTPBasicAuth(self.consumer_key, self.consumer_secret)
        elif self.is_ssl:
            params.update(consumer_key=self.consumer_key, consumer_secret=self.consumer_secret)
        else:  # plain HTTP: WooCommerce only accepts OAuth 1.0a (one-legged) signatures
            if params:
                url = f"{url}?{urlencode(params)}"
            url = self._API__get_oauth_url(url, method)
            params = {}
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return self.session.request(method, url, params=params or None, data=body,
                                    auth=auth, headers=headers, timeout=self.timeout,
                                    verify=self.verify_ssl, **kwargs)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    """Tries per call, the first included."""
    base_delay: float = 0.2
    max_delay: float = 8.0


@dataclass
class Answer:
    status: int
    data: Any
    headers: Mapping[str, str]


class WooClient:
    """One connection's client: pooled, retrying, raising domain errors."""

    def __init__(self, name: str, url: str, key: str, secret: str, *, timeout: float,
                 verify_tls: bool, query_string_auth: bool, pool_size: int,
                 retry: RetryPolicy | None = None) -> None:
        self.name = name
        self.api_root = f"{url.rstrip('/')}/wp-json/wc/v3"  # for messages: no query, no keys
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.api = PooledAPI(url, key, secret, session=self.session, version="wc/v3",
                             timeout=timeout, verify_ssl=verify_tls,
                             query_string_auth=query_string_auth, user_agent=USER_AGENT)
        self.requests_sent = 0

    def close(self) -> None:
        self.session.close()

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None, *,
            operation: str) -> Answer:
        return self.call("GET", endpoint, params=params, operation=operation)

    def post(self, endpoint: str, data: Any, *, operation: str) -> Answer:
        return self.call("POST", endpoint, data=data, operation=operation)

    def put(self, endpoint: str, data: Any, *, operation: str) -> Answer:
        return self.call("PUT", endpoint, data=data, operation=operation)

    def call(self, method: str, endpoint: str, *, params: Mapping[str, Any] | None = None,
             data: Any = None, operation: str) -> Answer:
        """Send with retries. Every write this adapter sends is safe to repeat (batch updates
        set values; coupon creation is guarded by the code's uniqueness, customer creation by
        the e-mail's), so POST/PUT are retried like GET."""
        last: str = ""
        last_retry_after: float | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                wait = self._delay(attempt, last_retry_after)
                announce_retry(connection=self.name, operation=operation,
                               failure=f"{method} {endpoint}: {last}", wait=wait,
                               attempt=attempt + 1, attempts=self.retry.attempts)
                time.sleep(wait)
            last_retry_after = None
            try:
                self.requests_sent += 1
                response: requests.Response = self.api._API__request(
                    method, endpoint, data, params=dict(params or {}))
            except requests.Timeout as exc:
                last = f"timed out after {self.api.timeout:g} s ({type(exc).__name__})"
                continue
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                last = f"connection failed: {_short(exc)}"  # incl. dropped mid-answer
                continue
            except requests.RequestException as exc:
                raise UnreachableError(f"{method} {endpoint}: {_short(exc)}",
                                       connection=self.name, operation=operation) from None
            if response.status_code in RETRY_STATUSES:
                last = f"HTTP {response.status_code} {_error_text(response)}"
                last_retry_after = _retry_after(response)
                if response.status_code == 429 and attempt == self.retry.attempts - 1:
                    raise RateLimitedError(f"{method} {endpoint}: {last}",
                                           connection=self.name, operation=operation)
                continue
            return self._answer(method, endpoint, response, operation)
        if last.startswith("HTTP"):
            raise ConnectorError(f"{method} {endpoint}: {last} (after {self.retry.attempts} "
                                 "tries)", connection=self.name, operation=operation,
                                 remedy="the store answers with server errors; retry later")
        raise UnreachableError(f"{method} {endpoint}: {last} (after {self.retry.attempts} "
                               "tries)", connection=self.name, operation=operation)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry.max_delay)
        ceiling = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter: no synchronised retry storms

    def _answer(self, method: str, endpoint: str, response: requests.Response,
                operation: str) -> Answer:
        status = response.status_code
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if status < 400:
            if data is None and response.content:
                raise ConnectorError(
                    f"{method} {endpoint}: HTTP {status} but the body is not JSON "
                    f"({response.text[:80]!r})", connection=self.name, operation=operation,
                    remedy="check that `url` points at the WordPress site root, not a page")
            return Answer(status, data, response.headers)
        message = f"{method} {endpoint}: HTTP {status} {_error_text(response)}"
        if status == 401:
            raise AuthError(
                f"{message}: the store is reachable but did not accept the key pair",
                connection=self.name, operation=operation, remedy=_CREDENTIALS_REMEDY)
        if status == 403:
            raise AuthError(
                f"{message}: the store accepted the key pair but it may not do this",
                connection=self.name, operation=operation,
                remedy="give the key Read/Write permission (WooCommerce → Settings → Advanced "
                       "→ REST API), or use a key of a user who may manage customers")
        if status == 404 and not _record_not_found(data):
            raise WrongEndpointError(
                f"{message}: this URL does not serve the WooCommerce REST API ("
                f"{self.api_root}/{endpoint} answered 404)", connection=self.name,
                operation=operation,
                remedy="check `url`: it must be the WordPress site's root (where /wp-json/ "
                       "lives), with WooCommerce active and pretty permalinks on")
        if status == 413:  # nothing of the batch was applied (WC_REST_Controller)
            raise BatchLimitError(
                message, connection=self.name, operation=operation,
                remedy="the store accepts fewer items per batch request (the "
                       "woocommerce_rest_batch_items_limit filter, or the web server's body "
                       "size limit): lower attribute_batch_size / customer_batch_size")
        if status in (400, 404, 409):
            raise RemoteValidationError(message, connection=self.name, operation=operation)
        raise ConnectorError(message, connection=self.name, operation=operation)


_CREDENTIALS_REMEDY = (
    "check the key pair the connection's consumer_key_env and consumer_secret_env name "
    "(WooCommerce → Settings → Advanced → REST API): the key must exist and not be revoked; "
    "over plain HTTP set query_string_auth only if the server drops the Authorization header")


def _record_not_found(data: Any) -> bool:
    """A 404 with which WooCommerce (or WordPress) says "this record does not exist": a WP_Error
    body such as ``woocommerce_rest_invalid_id``, ``woocommerce_rest_invalid_shop_coupon_id`` or
    ``woocommerce_rest_term_invalid`` (the controllers' get/update/delete_item; e.g.
    https://gist.github.com/peterfabian/324e656855fa1cf00277f2694f4d282b lists them). WordPress
    answers ``rest_no_route`` when the route itself is missing; a server that is no WordPress
    answers without such a body at all."""
    code = error_code(data)
    return code.startswith(("woocommerce_rest_", "rest_")) and code != "rest_no_route"


def error_code(data: Any) -> str:
    return str(data.get("code", "")) if isinstance(data, dict) else ""


def _error_text(response: requests.Response) -> str:
    """WooCommerce's error body is ``{"code", "message", "data": {"status"}}``."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:120].strip()
    if isinstance(data, dict) and "code" in data:
        return f"{data.get('code')}: {data.get('message', '')}"
    return str(data)[:120]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


_QUERY = re.compile(r"\?[^\s'\")]*")


def _short(exc: BaseException) -> str:
    """The exception's text without query strings: with OAuth 1.0a or ``query_string_auth``
    the URL carries the consumer key (and secret), and requests puts URLs into its messages."""
    text = _QUERY.sub("?…", str(exc))
    return text if len(text) < 200 else text[:200] + "…"
