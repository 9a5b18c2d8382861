"""The adapter's error types: subclasses of the contract's errors, so the core handles them by
the contract type while tests and operators can tell a SOAP fault from an HTML error page from
a timeout."""

from __future__ import annotations

from shoploop.hooks import (
    AuthError,
    ConflictError,
    ConnectorError,
    RateLimitedError,
    RemoteValidationError,
    UnreachableError,
)


class SoapFaultError(RemoteValidationError):
    """The ERP answered with a SOAP fault (its application refused the call)."""

    remedy = "Read the fault text: it is the ERP's own message about the record or the call."

    def __init__(self, message: str, *, connection: str, operation: str, code: str,
                 fault: str) -> None:
        self.code, self.fault = code, fault
        super().__init__(message, connection=connection, operation=operation)


class SoapRequestRejectedError(ConnectorError):
    """zeep refused to build the request before sending it: it does not fit the WSDL (a
    required element missing, an element the WSDL does not declare). The ERP never saw it, so
    this is no SOAP fault; ``element`` names the offending element (its dotted path)."""

    remedy = ("Nothing reached the ERP: compare the mapping's parameter and field names "
              "(read.filter_param, filter_field, update_element, …) with the operation in the "
              "WSDL — `shoploop config check` lists the operations it found.")

    def __init__(self, message: str, *, connection: str, operation: str, element: str) -> None:
        self.element = element
        super().__init__(message, connection=connection, operation=operation)


class ConcurrencyFaultError(ConflictError):
    """The record's key was stale: another user modified it since it was read."""


class SoapServerError(UnreachableError):
    """HTTP 5xx without a SOAP answer: the service tier (or a proxy before it) failed. Reads
    retry it (``retries``); writes do not, since the server may have processed them."""


class HtmlErrorPageError(SoapServerError):
    """The server answered with an HTML error page instead of a SOAP envelope (IIS/NAV down,
    a proxy in between, a wrong endpoint)."""

    remedy = ("The web service itself is failing: check the ERP's service tier and the "
              "endpoint address; the page's title is quoted above.")


class SoapTimeoutError(UnreachableError):
    """No answer within ``operation_timeout`` (or ``timeout`` for loading the WSDL)."""

    remedy = "Raise operation_timeout for slow ERP pages, or lower the mapping's page_size."


class SoapAuthError(AuthError):
    """HTTP 401/403 or a WS-Security authentication fault: the ERP is reachable and refused
    the credentials. (No scopes: those are Shopify's; an ERP has users and permissions.)"""

    remedy = ("Check the connection's `auth`, `username` and the password in the variable "
              "`password_env` names; the ERP user must be allowed to use the web services.")


class SoapThrottledError(RateLimitedError):
    """HTTP 429/503 stayed on after the bounded retries."""
