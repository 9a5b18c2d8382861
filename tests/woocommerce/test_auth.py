"""The emulator authenticates as ``WC_REST_Authentication`` does, and the adapter authenticates
in each way it is configured for — over real sockets.

Plain HTTP (the emulator's default): only OAuth 1.0a signatures. HTTPS (``https=True``, a store
behind a TLS-terminating proxy): query-string keys first, then HTTP Basic, then OAuth. The
adapter is pointed at ``https://…``; ``TlsTerminator`` forwards its requests over plain HTTP
the way the proxy in front of such a store does.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from shoploop.hooks import AuthError
from shoploop.plugins.woocommerce import WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator, oauth_signature

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com"} for i in range(3)]


class TlsTerminator(HTTPAdapter):
    """Sends ``https://<emulator>`` requests to the emulator over plain HTTP, headers and
    query untouched, as a TLS-terminating proxy does (no certificate is needed on loopback)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith("https://")
        request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)


def https_connect(emulator: WooCommerceEmulator, woo_connect: Connect, *,
                  secret: str | None = None, **settings: Any) -> WooCommerceConnector:
    class Store:  # the emulator's credentials, the secret possibly replaced
        url, key, webhook_secret = emulator.home_url, emulator.key, emulator.webhook_secret

    Store.secret = secret or emulator.secret  # type: ignore[attr-defined]
    connector = woo_connect(Store, **settings)
    connector.client.session.mount(emulator.home_url, TlsTerminator())
    return connector


def customers(emulator: WooCommerceEmulator, **kwargs: Any) -> requests.Response:
    return requests.get(f"{emulator.url}/wp-json/wc/v3/customers", timeout=5, **kwargs)


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def code(answer: requests.Response) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["code"], body["message"]


# -- plain HTTP: OAuth only ------------------------------------------------------------------

def test_plain_http_ignores_keys_and_basic_auth(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    keys = {"consumer_key": emulator.key, "consumer_secret": emulator.secret}
    refused = (401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    assert code(customers(emulator, params=keys)) == refused
    assert code(customers(emulator, headers=basic(emulator.key, emulator.secret))) == refused
    assert requests.get(emulator.signed_url("GET", "customers"), timeout=5).status_code == 200


def test_the_adapter_signs_with_oauth_over_http(start_emulator: Start,
                                                woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    seen: list[dict[str, list[str]]] = []
    app = emulator.app

    def recording(request: Any) -> Any:
        seen.append(dict(request.query))
        return app(request)

    emulator.app = recording  # type: ignore[assignment]
    assert len(woo_connect(emulator).read_customers().items) == 3
    assert seen and all("oauth_signature" in q and "consumer_secret" not in q for q in seen)


def test_oauth_nonces_do_not_repeat_when_random_is_reseeded(start_emulator: Start,
                                                            woo_connect: Connect) -> None:
    # A forked worker inherits its parent's `random` state (and hypothesis seeds it per
    # example): the woocommerce package's own nonce then repeats, and WooCommerce refuses a
    # repeated nonce as a replay. The adapter's nonce does not come from `random`.
    import random

    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    for _ in range(3):
        random.seed(1234)
        assert len(connector.read_customers().items) == 3


def test_unauthenticated_writes_get_the_endpoints_refusal(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    batch = requests.post(f"{emulator.url}/wp-json/wc/v3/customers/batch", json={}, timeout=5)
    assert code(batch)[:2] == (401, "woocommerce_rest_cannot_batch")
    create = requests.post(f"{emulator.url}/wp-json/wc/v3/webhooks", json={}, timeout=5)
    assert code(create)[:2] == (401, "woocommerce_rest_cannot_create")
    one = requests.get(f"{emulator.url}/wp-json/wc/v3/customers/1", timeout=5)
    assert code(one) == (401, "woocommerce_rest_cannot_view",
                         "Sorry, you cannot view this resource.")
    assert not emulator.data.meta_changes


def _oauth(emulator: WooCommerceEmulator, **override: str) -> dict[str, str]:
    params = {"oauth_consumer_key": emulator.key, "oauth_timestamp": str(int(time.time())),
              "oauth_nonce": "n" + str(time.monotonic_ns()),
              "oauth_signature_method": "HMAC-SHA256"}
    params.update(override)
    params["oauth_signature"] = oauth_signature(
        "GET", emulator.home_url + "/wp-json/wc/v3/customers", params, emulator.secret,
        params["oauth_signature_method"])
    return params


def test_oauth_errors_as_woocommerce_words_them(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    partial = customers(emulator, params={"oauth_consumer_key": emulator.key,
                                          "oauth_nonce": "x"})
    assert code(partial) == (401, "woocommerce_rest_authentication_missing_parameter",
                             "Missing OAuth parameters oauth_timestamp, oauth_signature, "
                             "oauth_signature_method")
    future = _oauth(emulator, oauth_timestamp=str(int(time.time()) + 3600))
    assert code(customers(emulator, params=future))[2] == "Invalid timestamp."
    md5 = _oauth(emulator, oauth_signature_method="HMAC-MD5")
    assert code(customers(emulator, params=md5))[2] == (
        "Invalid signature - signature method is invalid.")
    unknown = _oauth(emulator, oauth_consumer_key="ck_unknown")
    assert code(customers(emulator, params=unknown))[2] == "Consumer key is invalid."
    once = _oauth(emulator)
    assert customers(emulator, params=once).status_code == 200
    # A replay — even under another timestamp, re-signed — reuses a remembered nonce.
    replay = _oauth(emulator, oauth_nonce=once["oauth_nonce"],
                    oauth_timestamp=str(int(once["oauth_timestamp"]) - 1))
    assert code(customers(emulator, params=replay))[2] == (
        "Invalid nonce - nonce has already been used.")
    sha1 = _oauth(emulator, oauth_signature_method="HMAC-SHA1")
    assert customers(emulator, params=sha1).status_code == 200


def test_oauth_in_the_authorization_header(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    params = _oauth(emulator)
    header = "OAuth " + ", ".join(f'{k}="{requests.utils.quote(v, safe="")}"'
                                  for k, v in params.items())
    assert customers(emulator, headers={"Authorization": header}).status_code == 200


# -- HTTPS: query-string keys, then Basic, then OAuth ----------------------------------------

@pytest.mark.parametrize("query_string_auth", [False, True])
def test_the_adapter_authenticates_over_https(start_emulator: Start, woo_connect: Connect,
                                              query_string_auth: bool) -> None:
    emulator = start_emulator(customers=CUSTOMERS, https=True)
    connector = https_connect(emulator, woo_connect, query_string_auth=query_string_auth)
    assert connector.check().authorised
    assert len(connector.read_customers().items) == 3
    wrong = https_connect(emulator, woo_connect, secret="cs_wrong",
                          query_string_auth=query_string_auth)
    with pytest.raises(AuthError, match="Consumer secret is invalid"):
        wrong.read_customers()


def test_query_string_keys_are_tried_before_basic(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS, https=True)
    good = basic(emulator.key, emulator.secret)
    assert customers(emulator, headers=good).status_code == 200
    # Keys in the query win over a correct Basic header: a wrong secret there is the error…
    wrong_secret = {"consumer_key": emulator.key, "consumer_secret": "cs_wrong"}
    assert code(customers(emulator, params=wrong_secret, headers=good))[1:] == (
        "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
    # …and an unknown key there fails silently, Basic is not looked at: unauthenticated.
    unknown = {"consumer_key": "ck_unknown", "consumer_secret": emulator.secret}
    assert code(customers(emulator, params=unknown, headers=good))[:2] == (
        401, "woocommerce_rest_cannot_view")
    # OAuth is still tried when no key authenticated (over HTTPS too), against the https URL.
    assert customers(emulator, params=_oauth(emulator)).status_code == 200


def test_stripped_authorization_header_needs_query_string_auth(start_emulator: Start,
                                                               woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS, https=True, strip_authorization=True)
    with pytest.raises(AuthError, match="woocommerce_rest_cannot_view"):
        https_connect(emulator, woo_connect).read_customers()
    assert len(https_connect(emulator, woo_connect, query_string_auth=True)
               .read_customers().items) == 3
