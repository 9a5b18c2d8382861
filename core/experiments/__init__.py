"""A/B experiments (issue 17): validated ``[experiments.NAME]`` config and deterministic assignment.

Public API: :class:`ExperimentSettings`, :class:`VariantSettings`, :func:`assign`.
"""

from __future__ import annotations

from ._assign import assign
from ._settings import ExperimentSettings, VariantSettings

__all__ = ["ExperimentSettings", "VariantSettings", "assign"]
