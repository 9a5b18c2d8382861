"""The referral ledger on both backends: entries exist once, states move only along the
state machine, every move is recorded with its cause, concurrent moves have one winner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shoploop.store import (
    LedgerError,
    Store,
    add_code,
    add_invitation,
    add_referral,
    add_reward,
    add_survey,
    find_code,
    get_survey,
    is_opted_out,
    ledger_history,
    opt_out,
    referral_funnel,
    transition,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_the_loop_once_through_the_ledger(store: Store):
    with store.session() as session:
        survey_id = add_survey(session, connection="shop", customer_id="C1",
                               email="anna@example.org", order_id="O1", period=7,
                               language="de", due_at=NOW, now=NOW, cause="order O1 paid")
        assert survey_id is not None
        # One survey per customer and period: another order of the period adds none.
        assert add_survey(session, connection="shop", customer_id="C1", email=None,
                          order_id="O2", period=7, language="de", due_at=NOW, now=NOW,
                          cause="order O2 paid") is None
        assert transition(session, "survey", survey_id, "sent", cause="mailed", now=NOW,
                          sent_at=NOW)
        assert not transition(session, "survey", survey_id, "sent", cause="again", now=NOW)
        assert transition(session, "survey", survey_id, "answered", cause="answer 5",
                          now=NOW, score=5, answered_at=NOW)
        survey = get_survey(session, survey_id)
        assert survey is not None and (survey.status, survey.score) == ("answered", 5)
        invitation = add_invitation(session, survey=survey, now=NOW, cause="satisfied")
        assert add_invitation(session, survey=survey, now=NOW, cause="again").id == invitation.id
        code = add_code(session, code="friend-anna1", invitation=invitation, now=NOW,
                        cause="invited")
        assert code.code == "FRIEND-ANNA1"
        assert add_code(session, code="OTHER", invitation=invitation, now=NOW,
                        cause="again").code == "FRIEND-ANNA1"
        assert find_code(session, " friend-anna1 ") is not None
        referral, created = add_referral(
            session, code="FRIEND-ANNA1", connection="shop", order_id="O9", customer_id="C9",
            email="ben@example.net", attributed_by="code", order_total=Decimal("120.50"),
            currency="EUR", placed_at=NOW, now=NOW, cause="order O9 used the code")
        again, created_again = add_referral(
            session, code="FRIEND-ANNA1", connection="shop", order_id="O9", customer_id="C9",
            email=None, attributed_by="landing", order_total=None, currency="EUR",
            placed_at=NOW, now=NOW, cause="webhook again")
        assert created and not created_again and again.id == referral.id
        assert again.order_total == Decimal("120.50")
        with pytest.raises(LedgerError, match="cannot go from 'attributed' to 'rewarded'"):
            transition(session, "referral", referral.id, "rewarded", cause="skip", now=NOW)
        assert transition(session, "referral", referral.id, "qualified", cause="window over",
                          now=NOW + timedelta(days=14))
        reward, new = add_reward(session, referral_id=referral.id,
                                 idempotency_key=f"referral-{referral.id}", connection="erp",
                                 kind="credit_note", policy="builtin",
                                 spec={"amount": "10"}, now=NOW, cause="policy")
        assert new and not add_reward(session, referral_id=referral.id,
                                      idempotency_key="other-key-1", connection="erp",
                                      kind="credit_note", policy="builtin", spec={}, now=NOW,
                                      cause="again")[1]
        assert transition(session, "reward", reward.id, "issued", cause="CN-1", now=NOW,
                          reference="CN-1", issued_at=NOW)
        assert transition(session, "referral", referral.id, "rewarded", cause="CN-1", now=NOW)
        history = ledger_history(session, "referral", referral.id)
        assert [(h.from_state, h.to_state, h.cause) for h in history] == [
            (None, "attributed", "order O9 used the code"),
            ("attributed", "qualified", "window over"),
            ("qualified", "rewarded", "CN-1")]
        assert history[1].at == NOW + timedelta(days=14)
        assert transition(session, "invitation", invitation.id, "sent", cause="mailed",
                          now=NOW, sent_at=NOW)
    with store.session() as session:
        assert referral_funnel(session) == {
            "surveyed": 1, "answered": 1, "satisfied": 1, "invited": 1,
            "referred_orders": 1, "qualified": 1, "rewarded": 1}


def test_unknown_entries_and_opt_outs(store: Store):
    with store.session() as session:
        with pytest.raises(LedgerError, match="no survey 'S-nope'"):
            transition(session, "survey", "S-nope", "sent", cause="x", now=NOW)
        assert not is_opted_out(session, "Anna@Example.org")
        assert opt_out(session, "anna@example.org", cause="link in survey", now=NOW)
        assert not opt_out(session, "anna@example.org", cause="twice", now=NOW)
    with store.session() as session:
        assert is_opted_out(session, " Anna@Example.org ")
        assert not is_opted_out(session, None)
