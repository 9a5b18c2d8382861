"""Testing support for shoploop plugins: a connector conformance kit and pytest fixtures.

    import pytest
    from shoploop.testing import ConnectorConformance, ConformanceDataset

    class TestMyConnector(ConnectorConformance):
        capabilities = MY_CONNECTOR_CAPABILITIES  # optional: generate only applicable tests

        @pytest.fixture
        def make_connector(self, tmp_path):
            def make(dataset: ConformanceDataset):
                ...  # a connector serving exactly ``dataset``, with a small page size
            return make

The fixtures ``shoploop_host``, ``register_plugin`` and ``hook_calls`` come from
:mod:`shoploop.testing.pytest_plugin`, which pytest loads through the ``pytest11`` entry point
whenever shoploop is installed. See docs/conformance-kit.md.

The names below are imported lazily: pytest imports this package in *every* test session of
the virtualenv (to load the plugin), and that must stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._conformance import ConnectorConformance
    from ._dataset import STREAMS, ConformanceDataset, StreamSpec, make_dataset
    from ._recorder import HookCall, HookCallRecorder

__all__ = [
    "STREAMS",
    "ConformanceDataset",
    "ConnectorConformance",
    "HookCall",
    "HookCallRecorder",
    "StreamSpec",
    "make_dataset",
]

_LAZY = {
    "ConnectorConformance": "._conformance",
    "ConformanceDataset": "._dataset",
    "STREAMS": "._dataset",
    "StreamSpec": "._dataset",
    "make_dataset": "._dataset",
    "HookCall": "._recorder",
    "HookCallRecorder": "._recorder",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
