"""The in-process lookup API: load a built model once, answer requests from memory."""

from __future__ import annotations

from shoploop._context import hook_context
from shoploop._plugins import PluginHost
from shoploop.combine import Ranked
from shoploop.combine import recommend as combine_recommend
from shoploop.hooks import (
    CustomerProfile,
    HookContext,
    Recommendation,
    RecommendationRequest,
    ShoploopError,
)
from shoploop.store import Store, load_reco_model

from ._model import FORMAT, Model


class ModelMissingError(ShoploopError):
    """No (usable) recommendation model in the store."""

    error_code = "reco_model_missing"
    exit_code = 2


class UnknownConnectionError(ShoploopError):
    """A request names a connection the model has no products of."""

    error_code = "reco_unknown_connection"
    exit_code = 2


def load_model(store: Store, version: int | None = None) -> Model:
    """The newest built model (or ``version``) from the store, ready for lookups. One store
    read; keep the model and call :func:`recommend` as often as needed."""
    with store.session() as session:
        stored = load_reco_model(session, version)
    if stored is None:
        what = "no recommendation model" if version is None else f"no model version {version}"
        raise ModelMissingError(f"the store at {store.redacted_url} has {what}",
                                remedy="run `shoploop reco build`")
    if stored.format != FORMAT:
        raise ModelMissingError(
            f"model version {stored.version} has format {stored.format}; this shoploop reads "
            f"format {FORMAT}", remedy="run `shoploop reco build` to rebuild it")
    return Model.from_bytes(stored.payload, version=stored.version)


def rank(host: PluginHost, model: Model, request: RecommendationRequest, *,
         context: HookContext | None = None,
         profile: CustomerProfile | None = None) -> Ranked:
    """Like :func:`recommend`, with the vetoed products and the rules' reasons."""
    if request.connection not in model.product_records:
        raise UnknownConnectionError(
            f"model version {model.version} has no products of connection "
            f"{request.connection!r}; it has: {', '.join(model.connections) or 'none'}",
            remedy="ask in one of those connections' ids, or import that connection's "
                   "products (`shoploop import products`) and rebuild")
    return combine_recommend(host, context or hook_context(None, None), request,
                             products=model.products(request.connection), profile=profile,
                             model=model)


def recommend(host: PluginHost, model: Model, request: RecommendationRequest, *,
              context: HookContext | None = None,
              profile: CustomerProfile | None = None) -> list[Recommendation]:
    """The top ``request.k`` recommendations: every strategy's candidates merged (the highest
    score kept, every strategy's evidence kept), the rules' patches applied (veto, boost,
    pin). No store round trip: everything comes from ``model``."""
    return rank(host, model, request, context=context, profile=profile).recommendations
