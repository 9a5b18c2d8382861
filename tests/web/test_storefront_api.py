"""The storefront API over a real socket, on both store backends: recommendations (reasons,
400s naming the parameter, CORS, ETag/304, model reload) and event reports (validation, size
cap, rate limit, dedupe, figures per placement)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from shoploop._config import Config
from shoploop._plugins import PluginHost
from shoploop.store import Store, web_event_figures
from shoploop.web import create_app

SHOP = "http://shop.test"
Served = Callable[[Any], AbstractContextManager[str]]


def _config(make_config: Callable[[dict[str, Any]], Config], store: Store,
            **storefront: Any) -> Config:
    return make_config({"store": {"url": store.url},
                        "web": {"allowed_origins": [SHOP], "storefront": storefront}})


def _error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    error: dict[str, str] = body["error"]
    assert error["message"] and error.get("remedy")
    return error


def test_recommendations(store: Store, web_host: PluginHost, served: Served,
                         make_config: Callable[[dict[str, Any]], Config],
                         storefront_seed: Callable[..., int]) -> None:
    seed_storefront = storefront_seed
    app = create_app(web_host, _config(make_config, store, model_check_seconds=0), store)
    with served(app) as base, httpx.Client(base_url=base) as client:
        missing = _error(client.get("/api/v1/recommendations?connection=shop&product=101"),
                         503)
        assert missing["code"] == "reco_model_missing"
        assert "shoploop reco build" in missing["remedy"]

        first = seed_storefront(store, web_host)
        ok = client.get("/api/v1/recommendations",
                        params={"connection": "shop", "product": "101", "k": "3"},
                        headers={"Origin": SHOP})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["model_version"] == first and body["placement"] == "product_page"
        top = body["recommendations"][0]
        assert top["product_id"] == "102" and top["name"] == "Descaler 500 ml"
        assert top["kind"] and top["reason"] and top["reasons"]["en"] == top["reason"]
        assert "101" not in {r["product_id"] for r in body["recommendations"]}
        assert len(body["recommendations"]) <= 3
        assert ok.headers["access-control-allow-origin"] == SHOP
        assert ok.headers["cache-control"] == "public, max-age=60"
        assert "Origin" in ok.headers["vary"]

        again = client.get("/api/v1/recommendations?connection=shop&product=101&k=3",
                           headers={"If-None-Match": ok.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == ok.headers["etag"]

        mine = client.get("/api/v1/recommendations?connection=shop&customer=c-1&cart=104")
        assert mine.status_code == 200, mine.text
        assert mine.json()["placement"] == "cart"
        assert mine.headers["cache-control"].startswith("private")

        new = client.get("/api/v1/recommendations?connection=shop&product=999")
        assert new.status_code == 200 and new.json()["unknown_products"] == ["999"]

        refused = _error(client.get("/api/v1/recommendations?connection=shop&product=101",
                                    headers={"Origin": "http://evil.test"}), 403)
        assert refused["code"] == "origin_not_allowed" and "allowed_origins" in refused["remedy"]

        pre = client.options("/api/v1/recommendations", headers={
            "Origin": SHOP, "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == SHOP
        assert "GET" in pre.headers["access-control-allow-methods"]

        for query, parameter in [
            ("product=101", "connection"), ("connection=nope&product=101", "connection"),
            ("connection=shop", "product"), ("connection=shop&product=101&k=0", "k"),
            ("connection=shop&product=101&k=lots", "k"),
            ("connection=shop&product=101&placement=Product Page", "placement"),
            ("connection=shop&product=101&product=102", "product"),
            ("connection=shop&product=101&prodcut=102", "prodcut"),
            ("connection=shop&cart=" + ",".join(map(str, range(51))), "cart"),
        ]:
            error = _error(client.get(f"/api/v1/recommendations?{query}"), 400)
            assert error["parameter"] == parameter, (query, error)

        @settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.dictionaries(st.sampled_from(["connection", "product", "customer", "cart",
                                                "placement", "k", "x"]),
                               st.text(max_size=300), max_size=6))
        def never_a_server_error(params: dict[str, str]) -> None:
            answer = client.get("/api/v1/recommendations", params=params)
            assert answer.status_code in (200, 400), answer.text
            if answer.status_code == 400:
                assert answer.json()["error"]["parameter"] in params | {"connection": "",
                                                                        "product": ""}

        never_a_server_error()

        second = seed_storefront(store, web_host, orders=30)  # `reco build` again
        assert second > first
        reloaded = client.get("/api/v1/recommendations?connection=shop&product=101&k=3")
        assert reloaded.json()["model_version"] == second
        assert reloaded.headers["etag"] != ok.headers["etag"]

        with store.engine.begin() as connection:  # the store fails: the API keeps answering
            connection.execute(text("DROP TABLE reco_models"))
        during = client.get("/api/v1/recommendations?connection=shop&product=102&k=2")
        assert during.status_code == 200, during.text
        assert during.json()["model_version"] == second


def _event(n: int, kind: str = "impression", **extra: Any) -> dict[str, Any]:
    return {"event_id": f"event-{n:04d}", "type": kind, "connection": "shop",
            "placement": "product_page", "product_id": "102", "model_version": 1,
            "position": 0, **extra}


def test_events(store: Store, web_host: PluginHost, served: Served,
                make_config: Callable[[dict[str, Any]], Config]) -> None:
    now = [datetime(2026, 12, 3, 12, 0, tzinfo=UTC)]
    app = create_app(web_host, _config(make_config, store, events_per_minute=12), store,
                     clock=lambda: now[0])

    def stored() -> int:
        with store.session() as session:
            return sum(f.impressions + f.clicks + f.add_to_carts
                       for f in web_event_figures(session))

    with served(app) as base, httpx.Client(base_url=base) as client:
        report = {"events": [_event(1), _event(2, placement="cart"), _event(3, "click"),
                             _event(4, "add_to_cart")]}
        # text/plain, as the widget sends it (no preflight).
        sent = client.post("/api/v1/events", content=json.dumps(report),
                           headers={"Content-Type": "text/plain", "Origin": SHOP})
        assert sent.status_code == 202, sent.text
        assert sent.json() == {"ok": True, "received": 4, "stored": 4}
        assert sent.headers["access-control-allow-origin"] == SHOP
        resent = client.post("/api/v1/events", json=report)
        assert resent.json()["stored"] == 0  # the same event ids: stored once

        with store.session() as session:
            figures = {f.placement: f for f in web_event_figures(session, connection="shop")}
            assert web_event_figures(session, connection="other") == []
            future = web_event_figures(session, since=datetime.now(UTC) + timedelta(days=1))
            assert future == []
        page = figures["product_page"]
        assert (page.impressions, page.clicks, page.add_to_carts) == (1, 1, 1)
        assert page.click_rate == 1.0 and figures["cart"].impressions == 1
        assert figures["cart"].click_rate == 0.0

        for body, parameter in [
            ({"events": [_event(5, "purchase")]}, "events.0.type"),
            ({"events": [_event(6, placement="Bad Place")]}, "events.0.placement"),
            ({"events": [_event(7, extra="x")]}, "events.0.extra"),
            ({"events": []}, "events"),
            ({"events": [_event(100 + n) for n in range(51)]}, "events"),
        ]:
            error = _error(client.post("/api/v1/events", json=body), 400)
            assert error["code"] == "bad_event" and error["parameter"] == parameter, error
        assert _error(client.post("/api/v1/events", content=b"{not json"), 400)[
            "parameter"] == "body"
        big = _error(client.post("/api/v1/events", content=b" " * 20_000), 413)
        assert big["code"] == "body_too_large"
        refused = client.post("/api/v1/events", json={"events": [_event(8)]},
                              headers={"Origin": "http://evil.test"})
        assert refused.status_code == 403
        pre = client.options("/api/v1/events", headers={
            "Origin": SHOP, "Access-Control-Request-Method": "POST"})
        assert pre.status_code == 204
        assert stored() == 4  # nothing of the bad reports

        # 12 a minute: 2 + 7 used (refused origins and preflights are not counted): 3 pass.
        for n in range(3):
            assert client.post("/api/v1/events", json={"events": [_event(20 + n)]}
                               ).status_code == 202
        limited = _error(client.post("/api/v1/events", json={"events": [_event(30)]}), 429)
        assert limited["code"] == "rate_limited"
        wait = client.post("/api/v1/events", json={"events": [_event(30)]})
        assert wait.status_code == 429 and int(wait.headers["retry-after"]) == 5

        @settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.one_of(st.binary(max_size=400), st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                st.sampled_from(["events", "type", "event_id", "x"]), inner, max_size=4),
            max_leaves=12).map(lambda value: json.dumps(value).encode())))
        def never_a_server_error(body: bytes) -> None:
            now[0] += timedelta(minutes=1)  # a full bucket: the limiter is not under test here
            answer = client.post("/api/v1/events", content=body)
            assert answer.status_code in (202, 400), answer.text

        never_a_server_error()
        now[0] += timedelta(minutes=1)
        for _ in range(12):  # use up the minute again
            client.post("/api/v1/events", content=b"{}")
        assert client.post("/api/v1/events", content=b"{}").status_code == 429
        now[0] += timedelta(seconds=5)  # one report's token back (12 a minute)
        assert client.post("/api/v1/events", json={"events": [_event(30)]}
                           ).status_code == 202
        assert stored() == 8  # the fuzzed bodies stored nothing (no valid event among them)


def test_storefront_settings_are_validated(make_config: Callable[[dict[str, Any]], Config]
                                           ) -> None:
    from shoploop.hooks import ConfigError

    for key, value in [("events_per_minute", 0), ("cache_seconds", -1), ("cach_seconds", 1)]:
        try:
            make_config({"web": {"storefront": {key: value}}})
        except ConfigError as exc:
            assert f"web.storefront.{key}" in str(exc), exc
        else:
            raise AssertionError(f"[web.storefront] {key} = {value!r} was accepted")
