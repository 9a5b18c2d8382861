"""``[web.storefront]`` of shoploop.toml: the storefront API, its events and the widget."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StorefrontSettings(BaseModel):
    """How the storefront API caches, reloads its model and limits event reports
    (docs/web.md, "Storefront API")."""

    model_config = ConfigDict(extra="forbid")

    cache_seconds: int = Field(
        default=60, ge=0, le=86_400,
        description="How long browsers and CDNs may keep an answer of "
                    "/api/v1/recommendations (Cache-Control max-age; answers naming a "
                    "customer are `private`). Also how long the app reuses a computed answer.")
    model_check_seconds: float = Field(
        default=30.0, ge=0, le=3600,
        description="How often the app asks the store whether a newer model was built "
                    "(`shoploop reco build`) and loads it; 0 asks on every request.")
    answer_cache_size: int = Field(
        default=10_000, ge=0, le=1_000_000,
        description="How many computed answers the app keeps in memory (per worker).")
    max_cart_items: int = Field(
        default=50, ge=1, le=500, description="Most product ids `cart=` may name.")
    events_per_minute: int = Field(
        default=120, ge=1, le=100_000,
        description="Event reports (POST /api/v1/events) one client address may send per "
                    "minute, per worker; more get 429 with Retry-After.")
    max_event_body_bytes: int = Field(
        default=16_384, ge=256, le=1_048_576,
        description="Largest event report accepted; larger gets 413.")
