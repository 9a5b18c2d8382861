"""How the results of several plugins combine — the result rules stated in the hookspecs.

Each function calls one hook family through the plugin host (isolated per plugin), checks
that every plugin returned what the hook promises (a wrong type is a failure naming the plugin
and the hook, never a crash further down), and applies the documented rule:

- ``recommend``: candidates merged per product, then rules' patches (veto / boost / pin) applied;
- ``derive_attributes``: dicts merged, the first result for a key wins, overlaps logged;
- ``check_referral``: findings merged, any rejecting finding rejects;
- ``referral_reward``, ``message_delivery``: the first *valid* result wins;
- ``referral_detection``: detections merged, codes used before landings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from shoploop.hooks import (
    AttributeValue,
    CustomerProfile,
    HookContext,
    Message,
    MessageReceipt,
    Order,
    ProductLookup,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    Referral,
    ReferralDetection,
    ReferralFinding,
    RewardSpec,
)

from ._plugins import PluginHost

log = logging.getLogger("shoploop.combine")
T = TypeVar("T")

_RECOMMENDATIONS = TypeAdapter(list[Recommendation])
_PATCHES = TypeAdapter(list[RecommendationPatch])
_FINDINGS = TypeAdapter(list[ReferralFinding])
_ATTRIBUTES = TypeAdapter(dict[str, AttributeValue])
_DETECTIONS = TypeAdapter(list[ReferralDetection])
_REWARD = TypeAdapter(RewardSpec)
_RECEIPT = TypeAdapter(MessageReceipt)


def _checked(host: PluginHost, hook: str, adapter: TypeAdapter[T],
             results: list[tuple[str, Any]]) -> list[tuple[str, T]]:
    """Validate each plugin's result; a bad one is reported as that plugin's failure."""
    valid: list[tuple[str, T]] = []
    for plugin, result in results:
        try:
            valid.append((plugin, adapter.validate_python(result)))
        except ValidationError as exc:
            host.fail(plugin, hook, f"returned {type(result).__name__} that is not "
                                    f"{adapter}: {exc.errors()[0]['msg']}")
    return valid


def merge_candidates(results: Sequence[tuple[str, list[Recommendation]]]
                     ) -> list[Recommendation]:
    """One candidate per product: the highest score wins (ties: first strategy called), and
    every strategy's score, kind, reason and evidence are kept in ``evidence["strategies"]``
    (a rule may care that *some* strategy saw a replenishment, not only the winner)."""
    best: dict[str, Recommendation] = {}
    voices: dict[str, dict[str, dict[str, Any]]] = {}
    for _plugin, candidates in results:
        for candidate in candidates:
            voices.setdefault(candidate.product_id, {})[candidate.strategy] = {
                "score": candidate.score, "kind": candidate.kind, "reason": candidate.reason,
                "evidence": candidate.evidence}
            current = best.get(candidate.product_id)
            if current is None or candidate.score > current.score:
                best[candidate.product_id] = candidate
    return [rec.model_copy(update={"evidence": {**rec.evidence,
                                                "strategies": voices[product_id]}})
            for product_id, rec in best.items()]


@dataclass(frozen=True)
class Ranked:
    recommendations: list[Recommendation]
    vetoed: dict[str, list[str]]
    """product id → the reasons of the rules that vetoed it (learn from the "no")."""


def apply_patches(candidates: Sequence[Recommendation],
                  patches: Sequence[tuple[str, list[RecommendationPatch]]],
                  limit: int) -> Ranked:
    """Any veto removes; boost factors multiply; pinned products come first. Then by score
    (descending) and product id, so the order is deterministic."""
    by_id = {c.product_id: c for c in candidates}
    factor = dict.fromkeys(by_id, 1.0)
    pinned: set[str] = set()
    vetoed: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for plugin, plugin_patches in patches:
        for patch in plugin_patches:
            if patch.product_id not in by_id:
                continue
            if patch.action == "veto":
                vetoed.setdefault(patch.product_id, []).append(f"{plugin}: {patch.reason}")
            elif patch.action == "boost":
                factor[patch.product_id] *= patch.factor
                notes.setdefault(patch.product_id, []).append(f"{plugin}: {patch.reason}")
            else:
                pinned.add(patch.product_id)
                notes.setdefault(patch.product_id, []).append(f"{plugin}: {patch.reason}")
    # Ranked by the patched scores first; only the ``limit`` kept are copied, and only
    # those a rule changed (a copy is most of a lookup's cost).
    kept = sorted(((c.score * factor[c.product_id], c) for c in candidates
                   if c.product_id not in vetoed),
                  key=lambda entry: (entry[1].product_id not in pinned, -entry[0],
                                     entry[1].product_id))[:limit]
    return Ranked(recommendations=[
        c.model_copy(update={"score": score, "evidence": {**c.evidence,
                                                          "rules": notes[c.product_id]}})
        if c.product_id in notes else c
        for score, c in kept], vetoed=vetoed)


def recommend(host: PluginHost, context: HookContext, request: RecommendationRequest, *,
              products: ProductLookup, profile: CustomerProfile | None = None,
              model: Any = None) -> Ranked:
    """Strategies propose, rules veto/boost/pin, the core ranks and cuts to ``request.k``.
    Never recommends the request's own products (the anchor and the cart's items)."""
    arguments: dict[str, Any] = {"context": context, "request": request, "products": products,
                                 "profile": profile, "model": model}
    raw = host.call_with_names("recommendation_candidates", **arguments)
    anchors = set(request.anchors)
    candidates = [c for c in merge_candidates(
        _checked(host, "recommendation_candidates", _RECOMMENDATIONS, raw))
        if c.product_id not in anchors]
    raw_patches = host.call_with_names("recommendation_patches", candidates=tuple(candidates),
                                       **arguments)
    patches = _checked(host, "recommendation_patches", _PATCHES, raw_patches)
    return apply_patches(candidates, patches, request.k)


def derive_attributes(host: PluginHost, context: HookContext,
                      profile: CustomerProfile) -> dict[str, AttributeValue]:
    """Merged attribute dicts; the first result for a key wins and overlaps are logged."""
    merged: dict[str, AttributeValue] = {}
    owner: dict[str, str] = {}
    raw = host.call_with_names("customer_attributes", context=context, profile=profile)
    for plugin, attributes in _checked(host, "customer_attributes", _ATTRIBUTES, raw):
        for key, value in attributes.items():
            if key in merged:
                if merged[key] != value:
                    log.warning("attribute %r: plugin %r's value kept, plugin %r's ignored",
                                key, owner[key], plugin)
                continue
            merged[key], owner[key] = value, plugin
    return merged


def reward_key(referral_id: str) -> str:
    """The idempotency key of a referral's reward: the core's, from the ledger id, whichever
    policy answers (so a second policy, or a changed one, can never issue a second reward)."""
    return f"referral-{referral_id}"


@dataclass(frozen=True)
class ReferralVerdict:
    accepted: bool
    findings: list[ReferralFinding]
    reward: RewardSpec | None
    policy: str | None = None
    """The plugin whose reward policy answered."""

    @property
    def reasons(self) -> list[str]:
        return [f"{f.rule}: {f.reason}" for f in self.findings if f.rejects]


def referral_findings(host: PluginHost, context: HookContext,
                      referral: Referral) -> list[ReferralFinding]:
    """Every fraud rule's findings, merged (an invalid answer is that plugin's failure)."""
    raw = host.call_with_names("check_referral", context=context, referral=referral)
    return [f for _, found in _checked(host, "check_referral", _FINDINGS, raw) for f in found]


def referral_reward(host: PluginHost, context: HookContext,
                    referral: Referral) -> tuple[str, RewardSpec] | None:
    """The first *valid* policy answer, with the core's idempotency key set; an invalid one
    is reported as its plugin's failure and the next policy is asked."""
    results = host.call_with_names("referral_reward", context=context, referral=referral,
                                   validate=_REWARD.validate_python)
    if not results:
        return None
    plugin, spec = results[0]
    return plugin, spec.model_copy(update={"idempotency_key": reward_key(referral.id)})


def decide_referral(host: PluginHost, context: HookContext,
                    referral: Referral) -> ReferralVerdict:
    """Fraud checks first (any rejecting finding rejects); then the first valid policy."""
    findings = referral_findings(host, context, referral)
    if any(f.rejects for f in findings):
        return ReferralVerdict(accepted=False, findings=findings, reward=None)
    answer = referral_reward(host, context, referral)
    return ReferralVerdict(accepted=True, findings=findings,
                           reward=answer[1] if answer else None,
                           policy=answer[0] if answer else None)


def detect_referrals(host: PluginHost, context: HookContext, order: Order,
                     connection: str) -> list[ReferralDetection]:
    """Every plugin's detections, merged: codes used first, then landings, each code once."""
    raw = host.call_with_names("referral_detection", context=context, order=order,
                               connection=connection)
    found = [d for _, ds in _checked(host, "referral_detection", _DETECTIONS, raw) for d in ds]
    found.sort(key=lambda d: d.via != "code")  # stable: plugin order within each kind
    unique: dict[str, ReferralDetection] = {}
    for detection in found:
        unique.setdefault(detection.code.upper(), detection)
    return list(unique.values())


def deliver_message(host: PluginHost, context: HookContext,
                    message: Message) -> tuple[str, MessageReceipt] | None:
    """The first channel's receipt (an invalid receipt or a raising channel falls through to
    the next); None when no channel delivered."""
    results = host.call_with_names("message_delivery", context=context, message=message,
                                   validate=_RECEIPT.validate_python)
    return results[0] if results else None
