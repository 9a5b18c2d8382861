"""``[connections.<name>]`` with ``type = "erp_soap"``: where the WSDL is, how to authenticate,
timeouts, and the entity mapping (optionally filled by the ``nav_page`` preset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from shoploop.hooks import ConnectionConfig

from ._mapping import ErpMapping
from ._preset import expand_nav_page, expand_plain


def resolve_location(value: str, base: Any) -> str:
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return str(path)


class ErpSoapConfig(ConnectionConfig):
    """``[connections.<name>]`` with ``type = "erp_soap"``."""

    secret_keys = ("password",)

    wsdl: str = Field(min_length=1, description="WSDL URL or file path; {page} is replaced by "
                                                "each stream's page (one WSDL per NAV page)")
    endpoint: str | None = Field(
        default=None, description="Overrides the WSDL's address; {service} and {port} are "
                                  "replaced by the entity's service and port names")
    auth: Literal["none", "basic", "ntlm", "wsse"] = "none"
    username: str | None = None
    password_env: str | None = None
    timeout: float = Field(default=30.0, gt=0, description="Seconds for loading the WSDL")
    operation_timeout: float = Field(default=60.0, gt=0,
                                     description="Seconds one SOAP call may take")
    retries: int = Field(default=3, ge=0, le=10,
                         description="Attempts after throttling (HTTP 429/503) or a dropped "
                                     "connection on reads")
    attribute_batch_size: int = Field(default=20, gt=0, le=500)
    preset: Literal["nav_page"] | None = None
    mapping: ErpMapping = Field(default_factory=ErpMapping)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("mapping") or {}
        if isinstance(raw, ErpMapping):
            return data
        expand = expand_nav_page if data.get("preset") == "nav_page" else expand_plain
        return {**data, "mapping": expand(raw)}

    @field_validator("wsdl")
    @classmethod
    def _resolve_file(cls, value: str, info: ValidationInfo) -> str:
        """A relative file path resolves against the config file's folder."""
        return resolve_location(value, (info.context or {}).get("base_dir"))

    @model_validator(mode="after")
    def _resolve_stream_files(self, info: ValidationInfo) -> ErpSoapConfig:
        base = (info.context or {}).get("base_dir")
        sections = [self.mapping.customers, self.mapping.orders, self.mapping.products,
                    self.mapping.installed_base, *self.mapping.rewards.values()]
        for section in sections:
            if section is not None and section.wsdl:
                section.wsdl = resolve_location(section.wsdl, base)
        return self

    def reward_kinds(self) -> frozenset[str] | None:
        """The mapped reward documents; any kind when ``mapping.reward_kind`` is mapped (a
        reward of another kind is issued as that document)."""
        rewards = self.mapping.rewards
        return None if self.mapping.reward_kind in rewards else frozenset(rewards)

    @model_validator(mode="after")
    def _auth_needs_credentials(self) -> ErpSoapConfig:
        if self.auth != "none" and not (self.username and self.password_env):
            raise ValueError(f"auth = {self.auth!r} needs username and password_env")
        return self
