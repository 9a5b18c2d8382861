"""Derived customer attributes: the profile builder and the built-in rules.

``shoploop.attributes.profiles.build_profiles`` (store access) is imported explicitly by its
users; this package's top level stays free of SQLAlchemy because the config loader imports
``AttributeSettings`` at start-up.
"""

from ._rules import (
    LIFECYCLE_STAGES,
    RFM_SEGMENTS,
    LifecycleStage,
    RfmSegment,
    frequency_score,
    lifecycle_stage,
    monetary_score,
    purchases,
    recency_score,
    revenue,
    rfm_segment,
)
from ._settings import AttributeSettings

__all__ = [
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "AttributeSettings",
    "LifecycleStage",
    "RfmSegment",
    "frequency_score",
    "lifecycle_stage",
    "monetary_score",
    "purchases",
    "recency_score",
    "revenue",
    "rfm_segment",
]
