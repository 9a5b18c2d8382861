"""ERP over SOAP (zeep): connector type ``erp_soap`` and the ``erp`` emulator.

Point it at an ERP's WSDL and map the ERP's services and fields in configuration (the
``nav_page`` preset fills the mapping for Dynamics NAV / Business Central page web services).
See docs/erp-soap.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoploop.hooks import (
    Capability,
    Emulator,
    EmulatorOptions,
    RegisterConnector,
    RegisterEmulator,
    hookimpl,
)

from ._config import ErpSoapConfig
from ._errors import (
    ConcurrencyFaultError,
    HtmlErrorPageError,
    SoapAuthError,
    SoapFaultError,
    SoapRequestRejectedError,
    SoapServerError,
    SoapThrottledError,
    SoapTimeoutError,
)
from ._mapping import EntityMapping, ErpMapping, FieldSpec, ReadSpec, RewardMapping

if TYPE_CHECKING:
    from ._connector import ErpSoapConnector


def __getattr__(name: str) -> Any:
    # zeep costs ~140 ms to import; every `shoploop` call loads this plugin, few need zeep.
    if name == "ErpSoapConnector":
        from ._connector import ErpSoapConnector

        return ErpSoapConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["CAPABILITIES", "ConcurrencyFaultError", "EntityMapping", "ErpMapping",
           "ErpSoapConfig", "ErpSoapConnector", "FieldSpec", "HtmlErrorPageError", "ReadSpec",
           "RewardMapping", "SoapAuthError", "SoapFaultError", "SoapRequestRejectedError",
           "SoapServerError",
           "SoapThrottledError", "SoapTimeoutError", "connector"]

CAPABILITIES = (
    Capability.READ_CUSTOMERS, Capability.READ_ORDERS, Capability.READ_PRODUCTS,
    Capability.READ_INSTALLED_BASE, Capability.WRITE_CUSTOMER_ATTRIBUTES,
    Capability.ISSUE_REWARDS,
)


def connector(name: str, settings: ErpSoapConfig) -> ErpSoapConnector:
    """The factory: cheap, the WSDL is loaded on first use.

    Transforms come from the built-in table: a factory is not handed the host's transform
    registry (reported to the core as a gap), so plugin-registered transforms are not yet
    usable in ERP mappings.
    """
    from shoploop.transforms import BUILTIN_TRANSFORMS

    from ._connector import ErpSoapConnector

    return ErpSoapConnector(name, settings,
                            {key: fn for key, (fn, _) in BUILTIN_TRANSFORMS.items()})


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("erp_soap", config_model=ErpSoapConfig, factory=connector,
             capabilities=CAPABILITIES,
             description="ERP reached over SOAP web services (NAV/Business Central page shape; "
                         "other WSDLs by mapping)")


def _emulator(options: EmulatorOptions) -> Emulator:
    from .emulator import ErpEmulator

    return ErpEmulator(options)


@hookimpl
def register_emulators(register: RegisterEmulator) -> None:
    register("erp", _emulator,
             description="NAV-style SOAP page web services (Customer, SalesLines, Item, "
                         "ServiceItem, SalesCreditMemo, SalesOrder) with demo data")
