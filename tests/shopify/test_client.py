"""The GraphQL client: throttle driven by throttleStatus, THROTTLED/429/5xx/drops handled,
bounded give-up, auth and version errors — against the emulator over real sockets."""

from __future__ import annotations

import pytest

from shoploop.hooks import AuthError, RateLimitedError, UnreachableError
from shoploop.plugins.shopify._client import GraphQLClient
from shoploop.plugins.shopify._queries import SHOP
from shoploop.plugins.shopify._throttle import CostThrottle, backoff
from shoploop.plugins.shopify.emulator import ShopifyEmulator
from shoploop.plugins.shopify.emulator._cost import LeakyBucket


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(emulator, connect, sleeps):
    connector = connect(emulator)
    connector.client._sleep = sleeps.append  # record waits instead of sleeping
    connector.client.throttle._sleep = sleeps.append
    return connector.client


def test_429_retry_after_is_honoured_even_when_fractional(client, emulator, sleeps):
    emulator.faults.retry_after = 0.25
    emulator.faults.force("429", 2)
    assert client.execute(SHOP, operation="check")["shop"]["name"]
    assert sleeps == [0.25, 0.25] and client.counts["throttled"] == 2


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop"])
def test_server_errors_and_drops_are_retried_with_backoff(client, emulator, sleeps, kind):
    emulator.faults.force(kind, 3)
    assert client.execute(SHOP, operation="check")["shop"]
    assert len(sleeps) == 3 and all(0 <= s <= 8 for s in sleeps)
    assert client.counts["retries"] == 3


def test_gives_up_after_max_retries_with_a_domain_error(emulator, connect, sleeps):
    connector = connect(emulator, max_retries=2)
    connector.client._sleep = sleeps.append
    emulator.faults.force("503", 5)
    with pytest.raises(UnreachableError) as caught:
        connector.client.execute(SHOP, operation="check")
    assert caught.value.connection == "shop-test" and "3 attempt" in str(caught.value)


def test_gives_up_after_max_wait_when_429_persists(emulator, connect, sleeps):
    connector = connect(emulator, max_wait=1.0)
    connector.client._sleep = sleeps.append
    emulator.faults.retry_after = 1.5  # longer than the connection may wait in total
    emulator.faults.force("429", 5)
    with pytest.raises(RateLimitedError, match="still failing after 1s"):
        connector.client.execute(SHOP, operation="check")
    assert sleeps == []  # gave up at once instead of sleeping past the bound


def test_slow_answers_time_out_and_are_retried(emulator, connect, sleeps):
    # A margin a loaded machine keeps: a normal answer stays well under 1 s, the slow one takes 3.
    connector = connect(emulator, timeout=1.0)
    connector.client._sleep = sleeps.append
    emulator.faults.slow_seconds = 3.0
    emulator.faults.force("slow", 1)
    assert connector.client.execute(SHOP, operation="check")["shop"]
    assert emulator.stats.get("faulted") == 1 and connector.client.counts["retries"] >= 1


def test_throttled_answer_waits_for_the_reported_refill(start_emulator, connect, sleeps):
    emulator = start_emulator(bucket=100, restore_rate=50)
    # The bucket refills only while the client sleeps: a slow machine refilling it in real time
    # between the drain and the query would skip the THROTTLED this test waits for.
    now = [0.0]
    emulator.bucket = LeakyBucket(100, 50, clock=lambda: now[0])
    connector = connect(emulator)

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    connector.client._sleep = sleep
    assert emulator.bucket.take(99)  # another app drained the bucket
    data = connector.client.execute(SHOP, operation="check")
    assert data["shop"] and emulator.stats.get("graphql_throttled") >= 1
    assert sleeps and all(0 < s < 1 for s in sleeps)


def test_throttle_paces_requests_to_the_restore_rate():
    clock = [0.0]
    waits: list[float] = []
    throttle = CostThrottle(0.8, clock=lambda: clock[0], sleep=waits.append)
    throttle.observe("q", {"requestedQueryCost": 100, "throttleStatus": {
        "maximumAvailable": 1000, "currentlyAvailable": 350, "restoreRate": 50}})
    # 350 available, 100 wanted + 200 reserve (20 % of 1000): send at once.
    throttle.before("q")
    assert waits == []
    # 250 left: needs 300 → waits 1 s, the restore rate's pace, not a fixed sleep.
    throttle.before("q")
    assert waits == [pytest.approx(1.0)]
    clock[0] += 1.0
    # 200 left after that request's booking: 2 s.
    throttle.before("q")
    assert waits[-1] == pytest.approx(2.0)


def test_backoff_is_jittered_and_capped():
    import random

    rng = random.Random(1)
    draws = [backoff(n, rng=rng) for n in range(12)]
    assert all(0 <= d <= 8.0 for d in draws) and len(set(draws)) == 12


def test_wrong_token_is_an_auth_error_and_check_says_so(emulator, connect, monkeypatch):
    monkeypatch.setenv("SHOPLOOP_TEST_SHOPIFY_TOKEN", "shpat_wrong")
    connector = connect(emulator)
    with pytest.raises(AuthError):
        connector.client.execute(SHOP, operation="check")
    check = connector.check()
    assert check.reachable and not check.authorised and "refused" in check.detail


def test_check_warns_about_read_all_orders(start_emulator, connect):
    emulator = start_emulator(scopes="read_customers,write_customers,read_orders,"
                                     "read_products,write_products,write_discounts")
    check = connect(emulator).check()
    assert check.reachable and check.authorised
    assert any("read_all_orders" in w and "60 days" in w for w in check.warnings)


def test_client_credentials_grant(emulator, connect):
    connector = connect(emulator, access_token_env=None, client_id="app-1")
    assert connector.check().authorised


def test_graphql_errors_are_remote_validation_errors(client):
    from shoploop.hooks import RemoteValidationError

    with pytest.raises(RemoteValidationError, match="customerz"):
        client.execute("{ customerz(first: 1) { nodes { id } } }", operation="bad")


def test_the_emulator_refuses_queries_over_the_single_query_limit(emulator):
    answer = emulator.run("{ customers(first: 250) { nodes { id metafields(first: 250) "
                          "{ nodes { value } } } } }", {})
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_emulator_cost_is_requested_up_front_and_refunded(emulator: ShopifyEmulator):
    from shoploop.testing import make_dataset

    emulator.data.load(customers=make_dataset(customers=3, products=0, orders=0).customers)
    answer = emulator.run("{ customers(first: 10) { nodes { id defaultAddress { city } } } }",
                          {})
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 10 * 2 and cost["actualQueryCost"] == 2 + 3 * 2
    assert emulator.run("mutation { tagsAdd(id: \"gid://shopify/Customer/1\", tags: [\"x\"]) "
                        "{ userErrors { message } } }", {})["extensions"]["cost"][
        "requestedQueryCost"] == 10


def test_graphql_client_is_reusable_over_one_connection(emulator, connect):
    connector = connect(emulator)
    for _ in range(5):
        connector.client.execute(SHOP, operation="check")
    assert emulator.stats.get("connections") == 1
    assert isinstance(connector.client, GraphQLClient)


def test_expired_client_credentials_token_is_fetched_again(emulator, connect):
    connector = connect(emulator, access_token_env=None, client_id="app-1")
    assert connector.check().authorised
    connector.client._token = "shpat_expired"
    assert connector.client.execute(SHOP, operation="check")["shop"]
    assert connector.client.counts["token_refreshes"] == 1


def test_unreachable_reads_name_the_read_operation(connect):
    connector = connect(None, max_retries=0)
    with pytest.raises(UnreachableError) as caught:
        connector.read_customers(None)
    assert caught.value.operation == "read_customers"


def test_faults_and_throttling_on_demand_over_http(start_emulator, connect, sleeps):
    import httpx

    emulator = start_emulator(bucket=100, restore_rate=1000)
    connector = connect(emulator)
    connector.client._sleep = sleeps.append
    answer = httpx.post(f"{emulator.url}/_emulator/control",
                        params={"force": "503", "times": "2", "drain": "1"})
    assert answer.status_code == 200 and answer.json()["bucket"]["currentlyAvailable"] < 1
    assert connector.client.execute(SHOP, operation="check")["shop"]
    assert connector.client.counts["retries"] == 2
    assert httpx.post(f"{emulator.url}/_emulator/control",
                      params={"force": "teapot"}).status_code == 400


def test_every_retry_is_announced_with_connection_failure_wait_and_attempt(
        client, emulator, sleeps, caplog):
    emulator.faults.force("503", 2)
    with caplog.at_level("WARNING", logger="shoploop.retry"):
        assert client.execute(SHOP, operation="check")["shop"]
    notices = [r.getMessage() for r in caplog.records if r.name == "shoploop.retry"]
    assert len(notices) == 2 == len(sleeps)
    for number, (notice, wait) in enumerate(zip(notices, sleeps, strict=True), start=2):
        assert notice.startswith("shop-test: check failed (HTTP 503); retrying in ")
        assert f"in {wait:.1f} s (attempt {number} of {client.settings.max_retries + 1})" \
            in notice


def test_a_wrong_token_names_access_token_env_and_a_403_names_scopes(emulator, connect,
                                                                     monkeypatch):
    monkeypatch.setenv("SHOPLOOP_TEST_SHOPIFY_TOKEN", "shpat_wrong")
    connector = connect(emulator)
    with pytest.raises(AuthError) as caught:
        connector.client.execute(SHOP, operation="check")
    assert "HTTP 401" in caught.value.message and "reachable" in caught.value.message
    assert "access_token_env" in caught.value.remedy and "scope" not in caught.value.remedy


def test_an_address_that_is_no_shopify_admin_is_the_wrong_endpoint(connect):
    import http.server
    import threading

    from shoploop.hooks import WrongEndpointError

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_error(404)  # an HTML error page, like most web servers

    # A real web server that is no Shopify admin (a storefront's own domain, say).
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connector = connect(None, shop=f"127.0.0.1:{server.server_address[1]}")
        with pytest.raises(WrongEndpointError) as caught:
            connector.client.execute(SHOP, operation="check", retries=0)
        assert "does not serve the Shopify Admin GraphQL API" in caught.value.message
        assert "answered 404" in caught.value.message
        assert "check `shop`" in caught.value.remedy and caught.value.exit_code == 3
        check = connector.check()
        assert not check.reachable and "answered 404" in check.detail
    finally:
        server.shutdown()
        server.server_close()
