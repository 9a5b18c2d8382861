"""The customer pages over a real socket, on both store backends: the survey refuses a forged
or expired link (403 / 410) and records nothing, takes one answer once, opts out; the landing
page shows the offer of an active code, counts the visit, links into the shop, and answers
404 for any other code. (The walk in a browser: test_pages_browser.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop._plugins import PluginHost
from shoploop.referral import survey_token
from shoploop.store import (
    Store,
    add_code,
    add_invitation,
    add_survey,
    get_survey,
    is_opted_out,
    transition,
    visits_of_code,
)
from shoploop.web import create_app

SECRET = "s3cret-for-signing-links-0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VALID_SCORES = {"1", "2", "3", "4", "5"}


def _sent_survey(store: Store, email: str = "anna@example.org") -> str:
    with store.session() as session:
        survey_id = add_survey(session, connection="shop", customer_id=email, email=email,
                               order_id="O1", period=1, language="en", due_at=NOW, now=NOW,
                               cause="test")
        assert survey_id is not None
        transition(session, "survey", survey_id, "sent", now=NOW, cause="test", sent_at=NOW)
    return survey_id


def _active_code(store: Store, code: str = "FRIEND-ABCD2345") -> str:
    survey_id = _sent_survey(store, email="carla@example.org")
    with store.session() as session:
        transition(session, "survey", survey_id, "answered", now=NOW, cause="test", score=5)
        survey = get_survey(session, survey_id)
        assert survey is not None
        invitation = add_invitation(session, survey=survey, now=NOW, cause="test")
        add_code(session, code=code, invitation=invitation, now=NOW, cause="test")
        transition(session, "code", code, "active", now=NOW, cause="test")
    return code


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return load_plugins(strict=True)


@pytest.fixture
def site(store: Store, host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         served: Callable[[Any], AbstractContextManager[str]]) -> Iterator[httpx.Client]:
    monkeypatch.setenv("SHOPLOOP_REFERRAL_SECRET", SECRET)
    referral = {"friend": {"percentage": 15}, "reward": {"kind": "gift_card"}}
    config = parse_config({"referral": referral, "connections": {
        "shop": {"type": "shopify", "shop": "acme.myshopify.com",
                 "access_token_env": "SHOPIFY_TOKEN"}}}, host.connectors,
        file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
    with served(create_app(host, config, store, clock=lambda: NOW)) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        yield client


def _token(survey_id: str, expires: datetime = NOW + timedelta(days=30)) -> str:
    return survey_token(SECRET.encode(), survey_id, expires)


def test_forged_and_expired_links_are_refused_and_record_nothing(
        site: httpx.Client, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    survey_id = _sent_survey(store)
    good = _token(survey_id)
    forged = [good[:-2] + ("xx" if not good.endswith("xx") else "yy"),
              survey_token(b"another-secret-of-16-chars", survey_id, NOW + timedelta(days=9)),
              f"{survey_id}.notanumber.mac", "nonsense"]
    for token in forged:
        for method in ("GET", "POST"):
            answer = site.request(method, f"/survey/{token}", data={"score": "5"})
            assert answer.status_code == 403, (token, answer.text)
            assert "not valid" in answer.text
        assert site.post(f"/survey/{token}/opt-out").status_code == 403
    expired = _token(survey_id, NOW - timedelta(seconds=1))
    answer = site.post(f"/survey/{expired}", data={"score": "5"})
    assert answer.status_code == 410 and "expired" in answer.text
    assert site.post(f"/survey/{expired}/opt-out").status_code == 410
    monkeypatch.delenv("SHOPLOOP_REFERRAL_SECRET")  # the operator forgot it: "later", no trace
    unconfigured = site.post(f"/survey/{good}", data={"score": "5"})
    assert unconfigured.status_code == 503 and SECRET not in unconfigured.text
    with store.session() as session:
        survey = get_survey(session, survey_id)
        assert survey is not None and (survey.status, survey.score) == ("sent", None)
        assert not is_opted_out(session, "anna@example.org")


def test_one_answer_once_and_the_opt_out(site: httpx.Client, store: Store) -> None:
    survey_id = _sent_survey(store)
    token = _token(survey_id)
    page = site.get(f"/survey/{token}?lang=de")
    assert page.status_code == 200 and page.headers["content-language"] == "de"
    assert "<fieldset" in page.text and "<legend>Wie zufrieden" in page.text
    assert len(re.findall(r'type="radio" name="score"', page.text)) == 5
    assert site.post(f"/survey/{token}", data={"score": "7"}).status_code == 422
    thanks = site.post(f"/survey/{token}", data={"score": "5", "comment": "  Top!  "})
    assert thanks.status_code == 200 and "personal code" in thanks.text and "15 %" in thanks.text
    again = site.post(f"/survey/{token}", data={"score": "1"})
    assert again.status_code == 409 and "answered already" in again.text
    assert site.get(f"/survey/{token}").status_code == 409
    with store.session() as session:
        survey = get_survey(session, survey_id)
        assert survey is not None
        assert (survey.status, survey.score, survey.comment) == ("answered", 5, "Top!")

    other = _token(_sent_survey(store, email="ben@example.net"))
    assert "<form" in site.get(f"/survey/{other}/opt-out").text
    asked = site.get(f"/survey/{other}?optout=1")  # the survey e-mail's opt-out link
    assert f'action="/survey/{other}/opt-out"' in asked.text
    with store.session() as session:
        assert not is_opted_out(session, "ben@example.net")  # a GET changes nothing
    done = site.post(f"/survey/{other}/opt-out")
    assert done.status_code == 200 and "no more surveys" in done.text
    with store.session() as session:
        assert is_opted_out(session, "ben@example.net")


def test_landing_page_shows_the_offer_counts_the_visit(site: httpx.Client, store: Store) -> None:
    code = _active_code(store)
    page = site.get(f"/r/{code.lower()}")  # typed by hand: case does not matter
    assert page.status_code == 200
    assert "15 % off your first order" in page.text and code in page.text
    assert f'href="https://acme.myshopify.com/discount/{code}"' in page.text
    site.get(f"/r/{code}?lang=de")
    with store.session() as session:
        assert visits_of_code(session, code) == 2
    for unknown in ("FRIEND-NOPE2345", "x"):
        assert site.get(f"/r/{unknown}").status_code == 404
    with store.session() as session:
        transition(session, "code", code, "revoked", now=NOW, cause="test")
    assert site.get(f"/r/{code}").status_code == 404
    with store.session() as session:
        assert visits_of_code(session, code) == 2


def test_any_score_but_1_to_5_is_refused(site: httpx.Client, store: Store) -> None:
    survey_id = _sent_survey(store)
    token = _token(survey_id)

    @settings(max_examples=15, deadline=None)
    @given(score=st.text(max_size=6).filter(lambda s: s not in VALID_SCORES))
    def refused(score: str) -> None:
        answer = site.post(f"/survey/{token}", data={"score": score})
        assert answer.status_code == 422 and "choose a number" in answer.text

    refused()
    with store.session() as session:
        survey = get_survey(session, survey_id)
        assert survey is not None and (survey.status, survey.score) == ("sent", None)
