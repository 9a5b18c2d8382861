"""``[privacy]``: where the answers to data requests go (docs/privacy.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    export_dir: str = Field(
        default="privacy-exports", min_length=1,
        description="Directory (relative to the config file) that a customers/data_request "
                    "webhook's answer is written to, one JSON file per request.")
