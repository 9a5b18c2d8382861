"""The hook specifications: the contract between the core and plugins.

Rules for all hooks: they are synchronous and called with keyword arguments; runtime hooks take
one stable ``context`` argument first; new arguments may be added, never removed (an
implementation only declares the arguments it uses). A failing implementation is isolated: the
core logs the plugin and hook name and carries on, unless strict mode (``--strict`` or
``SHOPLOOP_STRICT_PLUGINS=1``) makes it an error. See docs/hooks.md for one example per hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._connectors import RegisterConnector, RegisterTransform
from ._context import HookContext
from ._emulators import RegisterEmulator
from ._lookup import ProductLookup
from ._markers import hookspec
from ._models import (
    AttributeValue,
    CustomerProfile,
    Event,
    Message,
    MessageReceipt,
    Order,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    Referral,
    ReferralDetection,
    ReferralFinding,
    RewardSpec,
    SyncRun,
)

if TYPE_CHECKING:
    import typer

# --- registration (startup) -------------------------------------------------------------------


@hookspec
def register_connectors(register: RegisterConnector) -> None:
    """Register connector *types* with their config model and capabilities.

    Fires once at start-up. Call ``register(name, config_model=…, factory=…, capabilities=…)``
    for each type. Every plugin is called; a type name registered twice is an error naming both
    plugins.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add sub-commands to the ``shoploop`` CLI (a ``typer.Typer`` app).

    Fires once when the CLI starts. Every plugin is called; commands are added in plugin order.
    """


@hookspec
def register_emulators(register: RegisterEmulator) -> None:
    """Register an emulator of a platform, started by ``shoploop emulate NAME``.

    Fires once at start-up. Call ``register(name, factory, description=…)``; ``factory``
    receives :class:`~shoploop.hooks.EmulatorOptions` and returns an unstarted emulator. Every
    plugin is called; a name registered twice is an error naming both plugins.
    """


@hookspec
def register_transforms(register: RegisterTransform) -> None:
    """Register field transforms usable in sync mappings (``transform = "name"`` in config).

    Fires once at start-up. Every plugin is called; a name registered twice is an error.
    """


# --- recommendations --------------------------------------------------------------------------


# Runtime hooks that answer something are named after what they return (noun phrases):
# ``customer_attributes`` → attributes, ``referral_reward`` → a reward,
# ``recommendation_candidates`` → candidates, ``recommendation_patches`` → patches. Both
# recommendation hooks take the same arguments, so a plugin can move between them.


@hookspec
def recommendation_candidates(
    context: HookContext,
    request: RecommendationRequest,
    products: ProductLookup,
    profile: CustomerProfile | None,
    model: Any,
) -> list[Recommendation] | None:
    """Propose candidate products for ``request`` (a strategy).

    ``request`` names its connection; every product id in it, in ``products`` and in the
    answer is that connection's own id. ``products`` looks products up by id (read-only, no
    store round trip). ``profile`` is the customer's profile when the caller has one, else
    ``None``. ``model`` is the built model (``shoploop.reco.Model``) or ``None``; the built-in
    strategies read their statistics from it. Fires each time recommendations are computed.
    Every plugin is called; the results are **merged**: candidates for the same product are
    combined (the highest-scoring one is kept; every strategy's score, reason and evidence are
    kept in ``evidence["strategies"]``) and ranked by the core. The request's own products are
    never recommended. Return ``None`` or ``[]`` to abstain.
    """


@hookspec
def recommendation_patches(
    context: HookContext,
    request: RecommendationRequest,
    candidates: Sequence[Recommendation],
    products: ProductLookup,
    profile: CustomerProfile | None,
    model: Any,
) -> list[RecommendationPatch] | None:
    """Veto, boost/damp or pin candidates (a rule: out of stock, already bought, price band…).

    Same arguments as ``recommendation_candidates`` plus the merged ``candidates``. Fires after
    candidates are merged. Every plugin is called and the **patches are merged**: any ``veto``
    removes the product; ``boost`` factors multiply; ``pin`` moves it to the top (pinned
    products keep their relative score order). Do not mutate ``candidates``; return patches.
    """


# --- referrals --------------------------------------------------------------------------------


@hookspec(firstresult=True)
def referral_reward(context: HookContext, referral: Referral) -> RewardSpec | None:
    """Decide the reward for an accepted referral (the reward policy).

    Fires once per referral that passed ``check_referral`` and qualified (paid, return window
    over). **First valid result wins**: plugins are called in order (``tryfirst`` first, then
    the last registered, ``trylast`` at the end) until one returns a valid ``RewardSpec``;
    ``None`` passes to the next, and so does an invalid answer (not a ``RewardSpec``, or one
    that fails its validation): it is reported as that plugin's failure naming the hook, and
    the next policy is asked. The core sets the ``idempotency_key`` (from ``referral.id``); a
    policy leaves it empty. No result means no reward.
    """


@hookspec
def check_referral(context: HookContext, referral: Referral) -> list[ReferralFinding] | None:
    """Report fraud findings for a referral (self-referral, same address, refunded order…).

    Fires before a reward is decided. Every plugin is called; findings are **merged** and any
    finding with ``rejects=True`` rejects the referral, with that finding's reason recorded.
    """


@hookspec
def referral_detection(
    context: HookContext, order: Order, connection: str
) -> list[ReferralDetection] | None:
    """Name the referral codes ``order`` (of ``connection``) carries: a discount code used, a
    code its landing page or note attributes recorded.

    Fires once per order the referral engine has not attributed yet. Every plugin is called
    and the detections are **merged**; the core attributes the order to the first detected
    code its ledger knows (a code used before a landing), once per order. Return ``None`` or
    ``[]`` when the order carries nothing you recognise.
    """


# --- messages ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def message_delivery(context: HookContext, message: Message) -> MessageReceipt | None:
    """Deliver ``message`` to a customer (a channel: SMTP, an e-mail provider's API, …).

    Fires for every survey, invitation and thank-you message the core sends. **First valid
    result wins**: the first plugin that returns a ``MessageReceipt`` delivered it and the
    others are not called; ``None`` passes to the next channel, and so does a channel that
    raises (isolated and logged naming the plugin and hook, like any plugin failure). The
    built-in SMTP channel is ``trylast``. No receipt means not delivered: the core records
    that and tries again on its next run.
    """


# --- customer attributes ----------------------------------------------------------------------


@hookspec
def customer_attributes(
    context: HookContext, profile: CustomerProfile
) -> dict[str, AttributeValue] | None:
    """Derive attributes (lifecycle stage, RFM segment, …) from a customer's profile.

    Fires for every customer a sync job processes. Every plugin is called and the dicts are
    **merged**; when two plugins return the same key the first result wins (``tryfirst``
    plugins, then last registered) and the overlap is logged naming both plugins.
    """


# --- events and sync lifecycle ----------------------------------------------------------------


@hookspec
def on_event(context: HookContext, event: Event) -> None:
    """React to a platform event (order paid/refunded, customer updated/redacted, …).

    Fires once per event after dedupe (``event.dedupe_key``). Every plugin is called; return
    values are ignored. Keep it fast — long work belongs in a job.
    """


@hookspec
def before_sync(context: HookContext, run: SyncRun) -> None:
    """Fires before a sync job reads anything. Every plugin is called; raise to abort the run
    (the one hook whose exceptions are not isolated: the job stops and reports the error)."""


@hookspec
def after_sync(context: HookContext, run: SyncRun) -> None:
    """Fires after a sync job finished; ``run.summary`` holds its counts. Every plugin called."""


@hookspec
def on_sync_error(context: HookContext, run: SyncRun, error: BaseException) -> None:
    """Fires when a sync job fails. Every plugin is called; return values are ignored."""


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, obj in list(globals().items())
    if callable(obj) and hasattr(obj, "shoploop_spec")
)
"""All hook names, for docs and checks."""

__all__ = ["HOOK_NAMES", *HOOK_NAMES]


