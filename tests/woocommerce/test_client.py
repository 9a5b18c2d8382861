"""The pooled, retrying client and the emulator's WooCommerce behaviour, over real sockets."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from shoploop.hooks import (
    AuthError,
    RateLimitedError,
    RemoteValidationError,
    UnreachableError,
    WrongEndpointError,
)
from shoploop.plugins.woocommerce import RetryPolicy, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com"} for i in range(25)]


def raw_get(emulator: WooCommerceEmulator, path: str) -> tuple[int, dict[str, str], Any]:
    """An OAuth-signed GET (plain HTTP), bypassing the adapter (to look at raw answers)."""
    url = emulator.signed_url("GET", path)
    try:
        with urllib.request.urlopen(url) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_pagination_headers_and_per_page_limit(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    status, headers, body = raw_get(emulator, "customers?per_page=10&page=2")
    assert status == 200 and [c["id"] for c in body] == list(range(11, 21))
    assert (headers["X-WP-Total"], headers["X-WP-TotalPages"]) == ("25", "3")
    assert 'rel="prev"' in headers["Link"] and 'rel="next"' in headers["Link"]
    assert "page=3" in headers["Link"]
    status, _, body = raw_get(emulator, "customers?per_page=101")
    assert (status, body["code"]) == (400, "rest_invalid_param")


def test_batch_over_100_items_is_refused_whole(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    items = {"update": [{"id": 1, "meta_data": [{"key": "k", "value": i}]} for i in range(60)],
             "delete": list(range(41))}
    request = urllib.request.Request(emulator.signed_url("POST", "customers/batch"),
                                     data=json.dumps(items).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 413
    assert json.loads(raised.value.read())["code"] == "woocommerce_rest_request_entity_too_large"
    assert not emulator.data.meta_changes


def test_oauth_over_plain_http_and_401_json_errors(start_emulator: Start,
                                                   woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    assert woo_connect(emulator).check().authorised  # OAuth 1.0a signed by the package
    status, _, _ = raw_get(emulator, "customers")
    assert status == 200
    wrong = woo_connect(emulator)
    wrong._environ = {"WOO_KEY": emulator.key, "WOO_SECRET": "cs_wrong"}  # type: ignore[attr-defined]
    check = wrong.check()
    assert check.reachable and not check.authorised
    assert "woocommerce_rest_authentication_error" in check.detail
    assert "Invalid signature" in check.detail
    with pytest.raises(AuthError) as raised:
        wrong.read_customers()
    assert raised.value.connection == "woo-test" and raised.value.operation == "read_customers"
    with urllib.request.urlopen(emulator.url + "/_emulator/stats") as answer:
        assert json.loads(answer.read())["auth_failures"] >= 2


def test_signature_is_bound_to_the_configured_url(start_emulator: Start,
                                                  woo_connect: Connect) -> None:
    """WooCommerce signs against its own home URL: the same server under another host name
    is an invalid signature, as on a real store."""
    emulator = start_emulator(customers=CUSTOMERS)

    class Alias:
        url = emulator.url.replace("127.0.0.1", "localhost")
        key, secret, webhook_secret = emulator.key, emulator.secret, "x"

    with pytest.raises(AuthError, match="Invalid signature"):
        woo_connect(Alias).read_customers()


def test_retries_on_5xx_429_and_dropped_connections(start_emulator: Start,
                                                    woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, page_size=100)
    for kind in ("503", "429", "drop", "500", "502"):
        emulator.faults.force(kind)  # type: ignore[arg-type]
    page = connector.read_customers()
    assert len(page.items) == 25
    stats = emulator.stats.snapshot()
    assert stats["requests"] == 6 and stats["throttled"] == 1 and stats["faulted"] == 4


def test_retries_are_bounded(start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
    connector = woo_connect(emulator, retry=retry)
    emulator.faults.force("429", 3)
    with pytest.raises(RateLimitedError):
        connector.read_customers()
    emulator.faults.force("drop", 3)
    with pytest.raises(UnreachableError):
        connector.read_customers()


def test_timeouts_are_retried(start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    emulator.faults.slow_seconds = 3.0  # a margin a loaded machine keeps over the 1 s timeout
    connector = woo_connect(emulator, timeout=1.0, page_size=10)
    emulator.faults.force("slow")
    assert len(connector.read_customers().items) == 10


def test_reads_reuse_one_connection(start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, page_size=5)
    cursor, pages = None, 0
    while True:
        page = connector.read_customers(cursor)
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            break
    assert pages == 5
    assert emulator.stats.get("connections") == 1


def test_validation_errors_carry_code_and_message(start_emulator: Start,
                                                  woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    with pytest.raises(RemoteValidationError, match="rest_invalid_param"):
        connector.client.get("customers", {"per_page": 500}, operation="probe")


class _Recorder(BaseAdapter):
    """A transport that records the request (an HTTPS store cannot run on loopback here)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code, response._content = 200, b"[]"
        response.headers["X-WP-TotalPages"] = "0"
        response.request = request
        return response

    def close(self) -> None:
        return None


@pytest.mark.parametrize("query_string_auth", [False, True])
def test_https_basic_auth_or_query_string_auth(woo_connect: Connect,
                                               query_string_auth: bool) -> None:
    class Store:
        url, key, secret, webhook_secret = "https://shop.example.com", "ck_1", "cs_2", "w"

    connector = woo_connect(Store, query_string_auth=query_string_auth)
    recorder = _Recorder()
    connector.client.session.mount("https://", recorder)
    assert connector.read_customers().items == []
    sent = recorder.sent[0]
    assert sent.url is not None and sent.url.startswith(
        "https://shop.example.com/wp-json/wc/v3/customers?")
    if query_string_auth:  # for hosts that strip the Authorization header
        assert "consumer_key=ck_1" in sent.url and "consumer_secret=cs_2" in sent.url
        assert "Authorization" not in sent.headers
    else:
        assert sent.headers["Authorization"].startswith("Basic ")
        assert "consumer_key" not in sent.url


def test_errors_never_show_the_keys_from_the_url(woo_connect: Connect) -> None:
    class Nowhere:
        url = "http://127.0.0.1:9"  # discard port: connection refused
        key, secret, webhook_secret = "ck_supersecretkey", "cs_supersecretvalue", "w"

    connector = woo_connect(Nowhere, retry=RetryPolicy(attempts=1))
    with pytest.raises(UnreachableError) as raised:
        connector.read_customers()
    assert "ck_supersecretkey" not in str(raised.value)
    assert "oauth_signature" not in str(raised.value)
    check = connector.check()
    assert not check.reachable and "ck_supersecretkey" not in check.detail


def test_check_without_credentials_reports_instead_of_raising(start_emulator: Start,
                                                              woo_connect: Connect) -> None:
    connector = woo_connect(start_emulator(customers=CUSTOMERS))
    connector._environ = {}  # type: ignore[attr-defined]
    check = connector.check()
    assert not check.authorised and "WOO_KEY" in check.detail


def test_retries_on_an_unreachable_port_are_announced(woo_connect: Connect,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    class Nowhere:
        url = "http://127.0.0.1:9"  # discard port: connection refused
        key, secret, webhook_secret = "ck_supersecretkey", "cs_supersecretvalue", "w"

    connector = woo_connect(Nowhere, retry=RetryPolicy(attempts=3, base_delay=0.01,
                                                       max_delay=0.02))
    with caplog.at_level("WARNING", logger="shoploop.retry"), \
            pytest.raises(UnreachableError, match="after 3 tries"):
        connector.read_customers()
    notices = [r.getMessage() for r in caplog.records if r.name == "shoploop.retry"]
    assert [n.rsplit("(attempt ", 1)[1] for n in notices] == ["2 of 3)", "3 of 3)"]
    for notice in notices:
        assert notice.startswith("woo-test: read_customers failed (GET customers: connection "
                                 "failed: ")
        assert "retrying in 0.0 s" in notice and "supersecret" not in notice


class _AnyUrl:
    """An ``emulator``-shaped object for ``woo_connect`` pointing at another address."""

    def __init__(self, url: str, emulator: WooCommerceEmulator) -> None:
        self.url, self.key, self.secret = url, emulator.key, emulator.secret
        self.webhook_secret = "x"


@pytest.fixture
def not_wordpress(tmp_path: Any) -> Any:
    """A real web server on loopback that is no WordPress: every path answers an HTML 404."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["no wordpress", "no woocommerce route"])
def test_a_url_that_answers_404_is_the_wrong_url_not_a_bad_record(
        start_emulator: Start, woo_connect: Connect, not_wordpress: str, where: str) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    # A WordPress without WooCommerce answers rest_no_route; the emulator does so below its
    # root, e.g. for a URL that names a page of the site instead of the site itself.
    url = not_wordpress if where == "no wordpress" else f"{emulator.url}/wp-json/wc/v3/shop"
    connector = woo_connect(_AnyUrl(url, emulator))
    with pytest.raises(WrongEndpointError) as raised:
        connector.read_customers()
    error = raised.value
    assert isinstance(error, UnreachableError) and not isinstance(error, RemoteValidationError)
    assert "this URL does not serve the WooCommerce REST API" in error.message
    assert f"{url}/wp-json/wc/v3/customers answered 404" in error.message
    assert "check `url`" in error.remedy and "record" not in error.remedy
    check = connector.check()
    assert not check.reachable and "does not serve the WooCommerce REST API" in check.detail


def test_a_404_for_one_record_stays_that_records_error(start_emulator: Start,
                                                       woo_connect: Connect) -> None:
    connector = woo_connect(start_emulator(customers=CUSTOMERS))
    with pytest.raises(RemoteValidationError, match="woocommerce_rest_invalid_customer_id"):
        connector.client.get("customers/999999", operation="read_customer")


def test_a_401_is_reachable_but_unauthorised_naming_the_key_settings(
        start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    wrong = woo_connect(emulator)
    wrong._environ = {"WOO_KEY": "ck_nobody", "WOO_SECRET": "cs_wrong"}  # type: ignore[attr-defined]
    with pytest.raises(AuthError) as raised:
        wrong.read_customers()
    error = raised.value
    assert "HTTP 401" in error.message
    assert "reachable but did not accept the key pair" in error.message
    assert "consumer_key_env" in error.remedy and "consumer_secret_env" in error.remedy
    assert "scope" not in str(error)
    assert error.error_code == "unauthorised"
    from shoploop.sync._report import error_row

    assert error_row(error, "woo")["kind"] == "unauthorised"  # not "unreachable"
