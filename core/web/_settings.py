"""``[web]`` of shoploop.toml: what ``shoploop serve`` needs, validated once (docs/web.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._storefront_settings import StorefrontSettings

USER_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


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
    storefront: StorefrontSettings = Field(
        default_factory=StorefrontSettings,
        description="The storefront API, its event reports and the widget ([web.storefront]).")

    users: dict[str, str] = Field(
        default_factory=dict,
        description="Dashboard users: name = password hash, made by `shoploop web "
                    "hash-password` (scrypt). No users: the dashboard is disabled (there is "
                    "no default password).")
    session_secret_env: str = Field(
        default="SHOPLOOP_SESSION_SECRET",
        description="Environment variable holding the key that signs dashboard session "
                    "cookies (at least 32 characters, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`). Unset: the dashboard is disabled.")
    session_max_age: int = Field(
        default=8 * 3600, ge=60, le=30 * 24 * 3600,
        description="Seconds a dashboard login lasts.")
    login_attempts: int = Field(
        default=5, ge=1, le=100,
        description="Failed dashboard logins allowed per user name and client address in "
                    "`login_window` seconds; more are refused with 429 until the window "
                    "passes.")
    login_window: int = Field(default=300, ge=10, le=86_400,
                              description="The window of `login_attempts`, in seconds.")

    @field_validator("users")
    @classmethod
    def _password_hashes(cls, values: dict[str, str]) -> dict[str, str]:
        # Imported here: the hash format lives with the code that verifies it.
        from ._passwords import PasswordHashError, parse_hash

        for name, hashed in values.items():
            if not USER_NAME.match(name):
                raise ValueError(f"user name {name!r}: use 1-64 letters, digits or . _ @ -")
            try:
                parse_hash(hashed)
            except PasswordHashError as exc:
                raise ValueError(f"users.{name}: {exc}; make one with `shoploop web "
                                 "hash-password` (never put the password itself here)"
                                 ) from None
        return values
    webhook_processing: Literal["auto", "in_process", "queue", "external"] = Field(
        default="auto",
        description="Who processes stored webhook deliveries: a worker thread in each serve "
                    "process (in_process), a task on the Celery workers (queue: needs [jobs] "
                    "backend = \"celery\"), or something else — `shoploop webhooks process` "
                    "from cron — so the web processes only verify and store (external). "
                    "auto: queue with the celery backend, in_process otherwise.")
    webhook_max_attempts: int = Field(
        default=5, ge=1, le=100,
        description="Processing attempts of one delivery before it is marked failed "
                    "(`shoploop webhooks process --retry-failed` tries those again).")

    webhook_retention_days: int = Field(
        default=7, ge=1, le=90,
        description="Days a processed webhook delivery is kept (its payload holds customers' "
                    "data) before processing deletes it; the platforms repeat a delivery "
                    "within hours, so dedupe needs far less. Keep it under 10 on Shopify: "
                    "customers/redact can come 10 days after the customer's request.")

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
