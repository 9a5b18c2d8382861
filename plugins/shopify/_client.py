"""A thin GraphQL Admin API client over httpx that owns throttling, retries and error mapping.

Why not ``ShopifyAPI`` or ``shopifyapp`` (docs/shopify.md, "Client choice"): the adapter needs
exactly one call — POST a query, read ``data``, ``errors`` and ``extensions.cost`` — and must
decide itself how to wait and retry, per shop, from the reported bucket state. ``ShopifyAPI``
uses urllib with process-wide session state and retries nothing; ``shopifyapp`` brings an app
framework (OAuth, sessions) we do not use. httpx gives connection reuse (keep-alive), timeouts
and typed transport errors; the rest is ~200 lines we can test against the emulator.

Every mutation the adapter sends is idempotent (``metafieldsSet`` sets values, ``tagsAdd`` and
``tagsRemove`` converge, ``discountCodeBasicCreate`` refuses a taken code and
``customerCreate`` a taken e-mail, and both are then looked up), so retrying after a timeout
or a dropped connection cannot write twice.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shoploop.hooks import (
    AuthError,
    ConfigError,
    RateLimitedError,
    RemoteValidationError,
    UnreachableError,
    WrongEndpointError,
)
from shoploop.retrying import announce_retry

from ._config import ShopifyConfig
from ._throttle import CostThrottle, backoff
from ._versions import newest_stable, today_utc

_TRANSIENT_STATUS = {500, 502, 503, 504, 520, 522, 524}
log = logging.getLogger("shoploop.plugins.shopify")


class GraphQLClient:
    """One connection to one shop. ``execute`` returns ``data`` or raises a domain error."""

    def __init__(self, name: str, settings: ShopifyConfig, *,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.settings = settings
        base = f"{settings.scheme}://{settings.shop}"
        self.url = f"{base}/admin/api/{settings.api_version}/graphql.json"
        self.token_url = f"{base}/admin/oauth/access_token"
        self._http = httpx.Client(timeout=settings.timeout, transport=transport,
                                  headers={"Content-Type": "application/json",
                                           "Accept": "application/json",
                                           "User-Agent": "shoploop-shopify/0.1"})
        self._sleep = sleep
        self._token: str | None = None
        self.throttle = CostThrottle(settings.max_cost_share, sleep=sleep)
        self.counts: Counter[str] = Counter()
        """requests, throttled (THROTTLED + 429), retries, cost — for logs and benchmarks."""
        self.served_version: str | None = None
        """The API version Shopify last answered with (``X-Shopify-API-Version``)."""

    def close(self) -> None:
        self._http.close()

    # -- authentication -----------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            if self.settings.access_token_env:
                self._token = self.settings.secret("access_token")
            elif self.settings.client_id and self.settings.client_secret_env:
                self._token = self._client_credentials()
            else:
                raise ConfigError("no credentials: set access_token_env, or client_id and "
                                  "client_secret_env", key="access_token_env")
        return self._token

    def _credentials_remedy(self) -> str:
        if self.settings.access_token_env:
            return (f"check the Admin API access token in {self.settings.access_token_env} "
                    "(the variable access_token_env names): it must belong to an app "
                    "installed on this shop and not be revoked")
        return ("check client_id and the secret client_secret_env names: they must be the "
                "app's credentials from the Dev Dashboard, for an app installed on this shop")

    def _client_credentials(self) -> str:
        """The client-credentials grant (apps owned by the merchant's organisation)."""
        secret = self.settings.secret("client_secret")
        try:
            answer = self._http.post(self.token_url, json={
                "client_id": self.settings.client_id, "client_secret": secret,
                "grant_type": "client_credentials"})
        except httpx.HTTPError as exc:
            raise UnreachableError(f"token request failed: {type(exc).__name__}: {exc}",
                                   connection=self.name, operation="access token") from exc
        if answer.status_code != 200:
            raise AuthError(f"the client-credentials grant was refused (HTTP "
                            f"{answer.status_code})", connection=self.name,
                            operation="access token", remedy=self._credentials_remedy())
        token = answer.json().get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("the token answer holds no access_token", connection=self.name,
                            operation="access token")
        return token

    # -- queries ------------------------------------------------------------------------------

    def read_budget(self, operation: str = "probe") -> int:
        """Points one read request may ask for: ``READ_COST_BUDGET``, or 40 % of a smaller
        bucket (the bucket size is learnt from a 2-point probe before the first read)."""
        from ._queries import READ_COST_BUDGET, SHOP

        if self.throttle.state is None:
            self.execute(SHOP, operation=operation)
        state = self.throttle.state
        if state is None:
            return READ_COST_BUDGET
        return max(10, min(READ_COST_BUDGET, int(state.maximum * 0.4)))

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, *,
                operation: str, retries: int | None = None) -> dict[str, Any]:
        """Run one query or mutation; waits for budget, retries transient failures."""
        limit = self.settings.max_retries if retries is None else retries
        deadline = time.monotonic() + self.settings.max_wait
        attempt = 0  # back-offs after transient failures, at most `limit`
        retried = 0  # every repeat, THROTTLED and 429 included (for the notice)
        payload = {"query": query, "variables": dict(variables or {})}
        while True:
            self.throttle.before(operation)
            failure: str
            delay: float
            try:
                self.counts["requests"] += 1
                answer = self._http.post(self.url, json=payload,
                                         headers={"X-Shopify-Access-Token": self.token()})
            except httpx.TimeoutException as exc:
                failure, delay = f"timed out after {self.settings.timeout:g}s ({exc})", -1.0
            except httpx.TransportError as exc:
                failure, delay = f"{type(exc).__name__}: {exc or 'connection failed'}", -1.0
            else:
                outcome = self._interpret(answer, operation)
                if isinstance(outcome, dict):
                    return outcome
                failure, delay = outcome
            number, attempts = retried + 2, None  # THROTTLED, 429: bounded by max_wait
            if delay < 0:  # transient transport or server error: back off with jitter
                if attempt >= limit:
                    raise UnreachableError(f"{failure} (gave up after {attempt + 1} "
                                           "attempt(s))", connection=self.name,
                                           operation=operation)
                delay = backoff(attempt)
                attempt += 1
                number, attempts = attempt + 1, limit + 1
                self.counts["retries"] += 1
            if time.monotonic() + delay > deadline:
                raise RateLimitedError(
                    f"{failure}; still failing after {self.settings.max_wait:g}s",
                    connection=self.name, operation=operation)
            retried += 1
            announce_retry(connection=self.name, operation=operation, failure=failure,
                           wait=delay, attempt=number, attempts=attempts)
            self._sleep(delay)

    def _interpret(self, answer: httpx.Response, operation: str
                   ) -> dict[str, Any] | tuple[str, float]:
        """``data`` on success; ``(reason, delay)`` to retry (delay < 0: back off)."""
        self._note_version(answer.headers.get("X-Shopify-API-Version"))
        status = answer.status_code
        if status == 401 and self._token is not None and not self.settings.access_token_env:
            # Client-credentials tokens expire (24 h): fetch a new one and send again.
            self._token = None
            self.counts["token_refreshes"] += 1
            if self.counts["token_refreshes"] <= 3:
                return "HTTP 401 with an expired token", 0.0
        if status == 401:
            raise AuthError("Shopify refused the access token (HTTP 401): the shop is "
                            "reachable but did not accept the credentials",
                            connection=self.name, operation=operation,
                            remedy=self._credentials_remedy())
        if status == 403:
            # Shopify answers 403 to a valid token that lacks the scope (or when the shop
            # is unavailable to the app): scopes are Shopify's, so they are named here.
            raise AuthError("Shopify refused the request (HTTP 403): the token was accepted "
                            "but may not do this", connection=self.name, operation=operation,
                            remedy="grant the app the scopes listed in docs/shopify.md, and "
                                   "check that the app is still installed on the shop")
        if status == 429:
            # Retry-After may be fractional ("0.5"); honour it as given.
            self.counts["throttled"] += 1
            try:
                wait = float(answer.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            return "HTTP 429 Too Many Requests", max(0.0, wait)
        if status in _TRANSIENT_STATUS:
            return f"HTTP {status}", -1.0
        html = "html" in answer.headers.get("content-type", "")
        if status == 404 or (status != 200 and html):
            # Shopify's own errors are JSON; a 404 or an HTML page is some other server.
            raise WrongEndpointError(
                f"this address does not serve the Shopify Admin GraphQL API ({self.url} "
                f"answered {status})", connection=self.name, operation=operation,
                # Not the API version: Shopify answers an unsupported one with the oldest
                # supported version instead (https://shopify.dev/docs/api/usage/versioning).
                remedy="check `shop`: it must be the shop's myshopify.com domain (its admin "
                       "address), not the storefront's own domain")
        if status != 200:
            raise RemoteValidationError(f"HTTP {status}: {answer.text[:300]}",
                                        connection=self.name, operation=operation)
        try:
            body = answer.json()
        except ValueError:
            return "an answer that is not JSON", -1.0
        extensions = body.get("extensions") or {}
        cost = extensions.get("cost")
        self.throttle.observe(operation, cost)
        errors = body.get("errors") or []
        if isinstance(errors, str):
            errors = [{"message": errors}]
        codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
        if "THROTTLED" in codes:
            # THROTTLED arrives inside HTTP 200; wait until the bucket holds the request again.
            self.counts["throttled"] += 1
            requested = float((cost or {}).get("requestedQueryCost") or 0)
            return "THROTTLED", self.throttle.throttled_wait(requested)
        if "ACCESS_DENIED" in codes:
            raise AuthError(f"access denied: {_messages(errors)}", connection=self.name,
                            operation=operation,
                            remedy="grant the app the scopes listed in docs/shopify.md")
        if errors:
            raise RemoteValidationError(_messages(errors), connection=self.name,
                                        operation=operation)
        if isinstance(cost, dict):
            self.counts["cost"] += int(cost.get("actualQueryCost") or 0)
        data = body.get("data")
        if not isinstance(data, dict):
            raise RemoteValidationError("the answer holds no data", connection=self.name,
                                        operation=operation)
        return data


    def _note_version(self, served: str | None) -> None:
        """Shopify answers a request for an expired version with the oldest supported one and
        says so only in ``X-Shopify-API-Version`` (help.shopify.com/en/api/versioning/
        migration-guide): remember the version, and warn once per client when it differs."""
        if not served:
            return
        self.served_version = served
        if served != self.settings.api_version and not self.counts["version_warnings"]:
            self.counts["version_warnings"] += 1
            log.warning("%s: asked for Shopify API version %s, answered by %s: the configured "
                        "version is past support; set api_version = \"%s\"", self.name,
                        self.settings.api_version, served, newest_stable(today_utc()))


def _messages(errors: list[Any]) -> str:
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                     for e in errors[:3])
