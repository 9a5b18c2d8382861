"""Deterministic assignment: hash(experiment, unit) -> variant.

No state is needed to decide, so the answer is the same across sessions, processes and systems
(the unit id must be the identity-bound person id so ERP and shop customers share one unit).
"""

from __future__ import annotations

import hashlib

from ._settings import ExperimentSettings

_SCALE = float(2**64)


def assign(experiment: str, settings: ExperimentSettings, unit: str) -> str:
    """The variant name for ``unit`` in ``experiment``; stable and uniform by share."""
    digest = hashlib.sha256(f"{experiment}\x00{unit}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / _SCALE
    edge = 0.0
    for variant in settings.variants:
        edge += variant.share
        if point < edge:
            return variant.name
    return settings.variants[-1].name  # float rounding at the top edge
