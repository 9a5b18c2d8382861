"""Cross- and upselling recommendations (docs/recommendations.md).

    from shoploop.reco import load_model, recommend
    from shoploop.hooks import RecommendationRequest

    model = load_model(store)                       # once: one store read
    recommend(host, model, RecommendationRequest(connection="shop", product_id="4711"))

``build_model(host, store, settings, clock)`` builds and stores a new version (``shoploop reco
build``). The heavy parts (numpy, scipy) load on first use, so reading the config — which
validates ``[reco]`` with :class:`RecoSettings` — stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lookup import ProductTable
from ._settings import RecoSettings

if TYPE_CHECKING:
    from ._api import ModelMissingError, UnknownConnectionError, load_model, rank, recommend
    from ._build import BuildResult, build_model, fit_model
    from ._evaluate import evaluate, evaluate_pool
    from ._export import export_lines
    from ._model import Model
    from ._pool import Pool, PoolReport, load_pool
    from ._publish import PublishOptions, PublishReport, publish

_LAZY = {
    "ModelMissingError": "._api", "UnknownConnectionError": "._api", "load_model": "._api",
    "rank": "._api", "recommend": "._api", "BuildResult": "._build", "build_model": "._build",
    "fit_model": "._build", "evaluate": "._evaluate", "evaluate_pool": "._evaluate",
    "export_lines": "._export", "publish": "._publish",
    "PublishOptions": "._publish", "PublishReport": "._publish",
    "Model": "._model", "Pool": "._pool", "PoolReport": "._pool", "load_pool": "._pool",
}

__all__ = [
    "BuildResult", "Model", "ModelMissingError", "Pool", "PoolReport", "ProductTable",
    "PublishOptions", "PublishReport", "RecoSettings", "UnknownConnectionError",
    "build_model", "evaluate", "evaluate_pool", "export_lines", "fit_model", "load_model",
    "load_pool", "publish", "rank", "recommend",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
