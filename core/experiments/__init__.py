"""A/B experiments (issue 17): validated ``[experiments.NAME]`` config, deterministic
assignment and the statistics of a report (docs/experiments.md).

Public API: :class:`ExperimentSettings`, :class:`VariantSettings`, :func:`assign`, and the
statistics of :mod:`._stats` (:func:`two_proportions`, :func:`welch`, :func:`welch_from_sums`,
:func:`sample_size_proportions`, :func:`sample_size_means`, :func:`verdict`), and the
reports: :func:`experiment_report` (placements), :func:`referral_experiment_report`.
"""

from __future__ import annotations

from ._assign import assign
from ._referral_report import referral_experiment_report
from ._report import experiment_report, line_net
from ._settings import ExperimentSettings, VariantSettings
from ._stats import (
    Comparison,
    Verdict,
    sample_size_means,
    sample_size_proportions,
    two_proportions,
    verdict,
    welch,
    welch_from_sums,
)
from ._units import Unit, exposed_variant, unit_of

__all__ = ["Comparison", "ExperimentSettings", "Unit", "VariantSettings", "Verdict", "assign",
           "experiment_report", "exposed_variant", "line_net", "referral_experiment_report",
           "sample_size_means", "sample_size_proportions", "two_proportions", "unit_of",
           "verdict", "welch", "welch_from_sums"]
