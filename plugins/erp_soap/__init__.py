"""ERP over SOAP (zeep) connector type. The configuration's connection part is final; the entity
mapping and the adapter arrive with the ERP issue — until then ``config check`` reports it as
not implemented."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shoploop._connections import UnimplementedConnector
from shoploop.hooks import ConnectionConfig, RegisterConnector, hookimpl


class ErpSoapConfig(ConnectionConfig):
    """``[connections.<name>]`` with ``type = "erp_soap"``."""

    secret_keys = ("password",)

    wsdl: str = Field(min_length=1, description="WSDL URL or file path")
    endpoint: str | None = Field(default=None, description="Overrides the WSDL's address")
    auth: Literal["none", "basic", "ntlm", "wsse"] = "none"
    username: str | None = None
    password_env: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    operation_timeout: float = Field(default=60.0, gt=0)
    preset: Literal["nav_page"] | None = None
    mapping: dict[str, Any] = Field(default_factory=dict)


def _factory(name: str, settings: Any) -> UnimplementedConnector:
    return UnimplementedConnector(name, settings, pending="ERP SOAP adapter, issue #5")


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("erp_soap", config_model=ErpSoapConfig, factory=_factory,
             description="ERP reached over SOAP web services (NAV/Business Central page shape)")
