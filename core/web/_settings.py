"""``[web]`` of shoploop.toml: what ``shoploop serve`` needs, validated once (docs/web.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WebSettings(BaseModel):
    """The web application's settings. Secrets never live here: keys ending in ``_env`` name
    the environment variable that holds them."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(
        default=None,
        description="The public URL the app is reached at (behind a reverse proxy: the "
                    "proxy's), used in links the app sends out, e.g. https://loop.example.com.")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Storefront origins allowed to call the storefront API from a browser "
                    "(CORS), e.g. https://shop.example.com.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=64 * 1_048_576,
        description="Largest request body accepted (webhooks, events); larger gets 413.")
    webhook_processing: Literal["in_process", "external"] = Field(
        default="in_process",
        description="Who processes stored webhook deliveries: a worker thread in each serve "
                    "process (in_process), or something else — `shoploop webhooks process` "
                    "from cron, the job queue — so the web processes only verify and store "
                    "(external).")
    webhook_max_attempts: int = Field(
        default=5, ge=1, le=100,
        description="Processing attempts of one delivery before it is marked failed "
                    "(`shoploop webhooks process --retry-failed` tries those again).")

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "*" and (not value.startswith(("http://", "https://"))
                                 or value.rstrip("/").count("/") > 2):
                raise ValueError(f"{value!r} is not an origin (scheme://host[:port], no path)")
        return [value.rstrip("/") for value in values]
