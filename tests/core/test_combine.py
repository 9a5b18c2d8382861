"""The result rules of the hookspecs, as the core applies them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop import new_host
from shoploop.combine import (
    apply_patches,
    decide_referral,
    deliver_message,
    derive_attributes,
    detect_referrals,
    merge_candidates,
    recommend,
    reward_key,
)
from shoploop.hooks import (
    Customer,
    CustomerProfile,
    HookContext,
    Message,
    MessageReceipt,
    Order,
    PluginError,
    Product,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    Referral,
    ReferralDetection,
    ReferralFinding,
    RewardSpec,
    SyncRun,
    hookimpl,
)
from shoploop.reco import ProductTable

CTX = HookContext()
PRODUCTS = ProductTable("shop", [Product(id=f"P{i}", name=f"Product {i}", price=Decimal(10 * i),
                                         stock=i % 3) for i in range(1, 8)])


def rec(product: str, score: float, strategy: str = "s") -> Recommendation:
    return Recommendation(product_id=product, score=score, strategy=strategy,
                          reason=f"{strategy} likes {product}", evidence={"by": strategy})


class BoughtTogether:
    @hookimpl
    def recommendation_candidates(self, request):
        return [rec("P2", 0.9, "bought_together"), rec("P3", 0.4, "bought_together"),
                rec(request.product_id, 1.0, "bought_together"), rec("P6", 0.8, "bt")]


class SameCategory:
    @hookimpl
    def recommendation_candidates(self, context, request, profile):
        return [rec("P3", 0.7, "same_category"), rec("P4", 0.2, "same_category")]


class OutOfStock:
    @hookimpl
    def recommendation_patches(self, candidates, products):
        return [RecommendationPatch(product_id=c.product_id, action="veto", reason="out of stock")
                for c in candidates if products.get(c.product_id).stock == 0]


class PinP4:
    @hookimpl
    def recommendation_patches(self, candidates):
        return [RecommendationPatch(product_id="P4", action="pin", reason="campaign")]


def test_recommend_merges_filters_and_ranks():
    host = new_host(strict=True)
    for plugin in (BoughtTogether(), SameCategory(), OutOfStock(), PinP4()):
        host.register(plugin, name=type(plugin).__name__)
    request = RecommendationRequest(connection="shop", product_id="P1", cart=["P6"], k=5)
    ranked = recommend(host, CTX, request, products=PRODUCTS)
    # P3 (stock 0) is vetoed, the anchor P1 and the cart's P6 are never recommended, P4 is
    # pinned above P2.
    assert [r.product_id for r in ranked.recommendations] == ["P4", "P2"]
    assert ranked.vetoed == {"P3": ["OutOfStock: out of stock"]}
    assert ranked.recommendations[0].evidence["rules"] == ["PinP4: campaign"]


def test_merge_keeps_best_score_and_every_reason():
    merged = merge_candidates([("a", [rec("P3", 0.4, "a")]), ("b", [rec("P3", 0.7, "b")])])
    assert len(merged) == 1 and merged[0].strategy == "b" and merged[0].score == 0.7
    assert merged[0].evidence["strategies"] == {
        "a": {"score": 0.4, "kind": "cross_sell", "reason": "a likes P3",
              "evidence": {"by": "a"}},
        "b": {"score": 0.7, "kind": "cross_sell", "reason": "b likes P3",
              "evidence": {"by": "b"}}}


def test_wrong_return_type_is_the_plugins_failure():
    host = new_host()

    class Sloppy:
        @hookimpl
        def recommendation_candidates(self):
            return {"P2": 1.0}

    host.register(Sloppy(), name="sloppy")
    host.register(SameCategory(), name="same")
    ranked = recommend(host, CTX, RecommendationRequest(connection="shop", k=3), products=PRODUCTS)
    assert [r.product_id for r in ranked.recommendations] == ["P3", "P4"]
    assert [(f.plugin, f.hook) for f in host.failures] == [
        ("sloppy", "recommendation_candidates")]


ids = st.sampled_from([f"P{i}" for i in range(1, 8)])
candidates_st = st.dictionaries(ids, st.floats(0, 10), min_size=0, max_size=7).map(
    lambda d: [rec(k, v) for k, v in d.items()])
patches_st = st.lists(st.tuples(
    st.sampled_from(["r1", "r2"]),
    st.lists(st.builds(RecommendationPatch, product_id=ids,
                       action=st.sampled_from(["veto", "boost", "pin"]),
                       factor=st.floats(0, 5), reason=st.just("why")), max_size=4)), max_size=3)


@given(candidates=candidates_st, patches=patches_st, limit=st.integers(1, 8))
def test_patch_rules_hold_for_any_input(candidates, patches, limit):
    ranked = apply_patches(candidates, patches, limit)
    vetoes = {p.product_id for _, ps in patches for p in ps if p.action == "veto"}
    pins = {p.product_id for _, ps in patches for p in ps if p.action == "pin"}
    out = [r.product_id for r in ranked.recommendations]
    assert len(out) == len(set(out)) <= limit
    assert not set(out) & vetoes
    assert set(ranked.vetoed) == vetoes & {c.product_id for c in candidates}
    # pinned first, then by score descending
    flags = [pid in pins for pid in out]
    assert flags == sorted(flags, reverse=True)
    for group in (True, False):
        scores = [r.score for r in ranked.recommendations if (r.product_id in pins) == group]
        assert scores == sorted(scores, reverse=True)
    kept_all = [c for c in candidates if c.product_id not in vetoes]
    assert len(out) == min(limit, len(kept_all))


def test_attributes_first_result_wins_and_overlap_is_logged(caplog):
    host = new_host()

    class Early:
        @hookimpl(tryfirst=True)
        def customer_attributes(self, profile):
            return {"segment": "champions", "orders": len(profile.orders)}

    class Late:
        @hookimpl
        def customer_attributes(self):
            return {"segment": "at_risk", "stage": "loyal"}

    host.register(Early(), name="early")
    host.register(Late(), name="late")
    with caplog.at_level(logging.WARNING, logger="shoploop.combine"):
        merged = derive_attributes(host, CTX, CustomerProfile(customer=Customer(id="C1")))
    assert merged == {"segment": "champions", "orders": 0, "stage": "loyal"}
    assert "'early'" in caplog.text and "'late'" in caplog.text


REFERRAL = Referral(id="R1", advocate_customer_id="C1", code="FRIEND-1",
                    referred_email="new@example.com")


class SelfReferral:
    @hookimpl
    def check_referral(self, referral):
        same = referral.referred_email == referral.advocate_email
        return [ReferralFinding(rule="self_referral", rejects=same,
                                reason="advocate referred their own address")]


class TenEuro:
    @hookimpl
    def referral_reward(self, referral):
        return RewardSpec(kind="coupon", idempotency_key=f"referral-{referral.id}",
                          amount=Decimal(10))


def test_referral_accepted_gets_first_reward():
    host = new_host(strict=True)
    host.register(SelfReferral(), name="fraud")
    host.register(TenEuro(), name="policy")
    verdict = decide_referral(host, CTX, REFERRAL)
    assert verdict.accepted and verdict.reward is not None
    assert verdict.reward.idempotency_key == "referral-R1"


def test_any_rejecting_finding_rejects_without_reward():
    host = new_host(strict=True)
    host.register(SelfReferral(), name="fraud")
    host.register(TenEuro(), name="policy")
    own = REFERRAL.model_copy(update={"advocate_email": "new@example.com"})
    verdict = decide_referral(host, CTX, own)
    assert not verdict.accepted and verdict.reward is None
    assert verdict.reasons == ["self_referral: advocate referred their own address"]


def test_before_sync_can_abort_when_not_isolated():
    host = new_host()

    class Freeze:
        @hookimpl
        def before_sync(self, run):
            raise RuntimeError("maintenance window: no syncs until 06:00")

    host.register(Freeze(), name="freeze")
    run = SyncRun(run_id="r1", job="sync", source="erp")
    with pytest.raises(RuntimeError, match="maintenance window"):
        host.call("before_sync", isolate=False, context=CTX, run=run)
    assert host.call("before_sync", context=CTX, run=run) == []
    assert host.failures[0].plugin == "freeze"


def test_hook_wrappers_are_refused_by_name():
    host = new_host()

    class Wraps:
        @hookimpl(wrapper=True)
        def customer_attributes(self):
            return (yield)

    host.register(Wraps(), name="wraps")
    assert [(f.plugin, f.hook) for f in host.failures] == [("wraps", "customer_attributes")]
    assert "tryfirst" in host.failures[0].error
    with pytest.raises(PluginError, match="wrappers"):
        new_host(strict=True).register(Wraps(), name="wraps")


def test_models_keep_values_exactly():
    from shoploop.hooks import Cursor

    cursor = Cursor(stream="customers", position={" key ": " value "})
    assert Cursor.model_validate_json(cursor.model_dump_json()).position == {" key ": " value "}
    assert Customer(id="C1", first_name=" Anna ").first_name == " Anna "


# -- referrals: the core's key, invalid answers fall through, detections, messages ----------


class BrokenPolicy:
    @hookimpl(tryfirst=True)
    def referral_reward(self, referral):
        return {"kind": "gift_card"}  # no amount: invalid, must not end the call


def test_an_invalid_first_policy_answer_falls_through_to_the_next():
    host = new_host()
    host.register(TenEuro(), name="policy")
    host.register(BrokenPolicy(), name="broken")
    verdict = decide_referral(host, CTX, REFERRAL)
    assert verdict.reward is not None and verdict.policy == "policy"
    assert verdict.reward.amount == Decimal(10)
    [failure] = host.failures
    assert (failure.plugin, failure.hook) == ("broken", "referral_reward")
    assert "gift_card reward needs an amount" in failure.error
    with pytest.raises(PluginError, match="broken"):
        strict = new_host(strict=True)
        strict.register(TenEuro(), name="policy")
        strict.register(BrokenPolicy(), name="broken")
        decide_referral(strict, CTX, REFERRAL)


def test_the_core_owns_the_idempotency_key():
    class OwnKey:
        @hookimpl
        def referral_reward(self, referral):
            return RewardSpec(kind="coupon", idempotency_key="my-own-key-123",
                              amount=Decimal(5))

    host = new_host(strict=True)
    host.register(OwnKey(), name="own")
    verdict = decide_referral(host, CTX, REFERRAL)
    assert verdict.reward is not None and verdict.reward.idempotency_key == reward_key("R1")


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "coupon"}, "needs an amount, a percentage or a gift item"),
    ({"kind": "coupon", "amount": 5, "percentage": 10}, "not both"),
    ({"kind": "gift_card", "percentage": 10}, "percentage is for discount codes"),
    ({"kind": "credit_note", "product_id": "P1"}, "credit_note reward needs an amount"),
    ({"kind": "gift_order", "amount": 5}, "needs the gift item's product_id"),
    ({"kind": "coupon", "amount": 5, "idempotency_key": "short"}, "at least 8 characters"),
    ({"kind": "coupon", "amount": 0}, "greater than 0"),
])
def test_reward_spec_validates_itself(fields, message):
    with pytest.raises(ValueError, match=message):
        RewardSpec.model_validate(fields)


@given(kind=st.sampled_from(["discount_code", "coupon", "gift_card", "credit_note",
                             "gift_order"]),
       amount=st.none() | st.decimals(min_value="0.01", max_value="1000", places=2),
       percentage=st.none() | st.floats(min_value=0.5, max_value=100),
       product=st.none() | st.just("GIFT-1"))
def test_a_valid_reward_spec_always_carries_a_value_it_can_pay(kind, amount, percentage,
                                                               product):
    try:
        spec = RewardSpec(kind=kind, amount=amount, percentage=percentage, product_id=product)
    except ValueError:
        return
    assert (spec.amount is None) or (spec.percentage is None)
    if kind in ("gift_card", "credit_note"):
        assert spec.amount is not None
    if kind == "gift_order":
        assert spec.product_id is not None
    if spec.percentage is not None:
        assert kind in ("discount_code", "coupon")


def test_detections_merge_codes_before_landings_each_code_once():
    class Landing:
        @hookimpl
        def referral_detection(self, order):
            return [ReferralDetection(code="ANNA-1", via="landing", evidence="landing_site")]

    class Codes:
        @hookimpl
        def referral_detection(self, order):
            return [ReferralDetection(code=c, via="code") for c in order.discount_codes]

    host = new_host(strict=True)
    host.register(Landing(), name="landing")
    host.register(Codes(), name="codes")
    order = Order(id="O1", placed_at=datetime(2026, 1, 1, tzinfo=UTC),
                  discount_codes=["anna-1", "BEN-2"])
    found = detect_referrals(host, CTX, order, "shop")
    assert [(d.code, d.via) for d in found] == [("anna-1", "code"), ("BEN-2", "code")]


def test_a_raising_channel_falls_through_to_the_next():
    class Down:
        @hookimpl(tryfirst=True)
        def message_delivery(self, message):
            raise ConnectionRefusedError("provider down")

    class Works:
        @hookimpl
        def message_delivery(self, message):
            return MessageReceipt(channel="works", reference=message.idempotency_key)

    host = new_host()
    host.register(Works(), name="works")
    host.register(Down(), name="down")
    message = Message(kind="survey", to="a@example.org", subject="How did we do?",
                      text="…", idempotency_key="survey-0001")
    assert deliver_message(host, CTX, message) == (
        "works", MessageReceipt(channel="works", reference="survey-0001"))
    assert [(f.plugin, f.hook) for f in host.failures] == [("down", "message_delivery")]
    assert deliver_message(new_host(), CTX, message) is None
