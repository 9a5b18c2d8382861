"""What the ledger reads for people: the funnel with its rates and one code's or customer's
ledger with every transition — shared by ``shoploop referral funnel|show`` and the dashboard."""

from __future__ import annotations

from typing import Any

FUNNEL = ("surveyed", "answered", "satisfied", "invited", "referred_orders", "qualified",
          "rewarded")


def funnel_rates(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each stage with its count and its rate of the stage before (None for the first)."""
    rows: list[dict[str, Any]] = []
    previous: int | None = None
    for stage in FUNNEL:
        count = counts.get(stage, 0)
        rate = None if previous is None else (round(count / previous, 4) if previous else 0.0)
        rows.append({"stage": stage, "count": count, "rate": rate})
        previous = count
    return rows


def ledger_of(session: Any, what: str) -> dict[str, list[dict[str, Any]]]:
    """The surveys, codes, referrals and rewards of a code (or of a customer's codes), each
    with its transitions (time, from, to, cause)."""
    from sqlalchemy import select

    from shoploop.store import (
        ReferralCodeRecord,
        ReferralSurveyRecord,
        find_code,
        ledger_history,
        referrals_of_code,
        reward_of_referral,
    )

    def entry(entity: str, key: str, status: str, **extra: Any) -> dict[str, Any]:
        history = [{"at": h.at.isoformat(), "from": h.from_state, "to": h.to_state,
                    "cause": h.cause} for h in ledger_history(session, entity, key)]
        return {"id": key, "status": status, **extra, "history": history}

    code = find_code(session, what)
    codes = [code] if code is not None else list(session.scalars(select(ReferralCodeRecord)
                                                  .where(ReferralCodeRecord
                                                         .customer_external_id == what)))
    surveys = list(session.scalars(select(ReferralSurveyRecord).where(
        ReferralSurveyRecord.customer_external_id == (code.customer_external_id if code
                                                       else what))))
    referrals = [r for c in codes for r in referrals_of_code(session, c.code)]
    rewards = [w for r in referrals if (w := reward_of_referral(session, r.id)) is not None]
    return {
        "surveys": [entry("survey", s.id, s.status, connection=s.connection,
                          score=s.score) for s in surveys],
        "codes": [entry("code", c.code, c.status, connection=c.connection,
                        customer=c.customer_external_id) for c in codes],
        "referrals": [entry("referral", r.id, r.status, order=r.order_external_id,
                            reasons=r.reasons) for r in referrals],
        "rewards": [entry("reward", w.id, w.status, kind=w.kind, reference=w.reference)
                    for w in rewards],
    }
