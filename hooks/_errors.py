"""Domain errors. Each says what went wrong *and* what to do about it.

Connectors translate transport and platform failures into these, so the core (and operators
reading logs) never has to interpret a raw ``requests`` or ``zeep`` exception.
"""

from __future__ import annotations


class ShoploopError(Exception):
    """Base class. ``remedy`` is the one sentence an operator needs to fix the problem."""

    remedy: str = ""

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if remedy is not None:
            self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} — {self.remedy}" if self.remedy else self.message


class ConfigError(ShoploopError):
    """The configuration is invalid. Names the file, the key path and what is expected."""

    def __init__(
        self, message: str, *, file: str | None = None, key: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message, remedy=remedy)


class PluginError(ShoploopError):
    """A plugin failed to load, register or answer a hook. Names the plugin and the hook."""

    def __init__(
        self, message: str, *, plugin: str, hook: str | None = None, remedy: str | None = None
    ) -> None:
        self.plugin = plugin
        self.hook = hook
        where = f"plugin {plugin!r}" + (f", hook {hook!r}" if hook else "")
        super().__init__(f"{where}: {message}", remedy=remedy)


class ConnectorError(ShoploopError):
    """A connector operation failed. Names the connection and the operation."""

    remedy = "Check the connection's settings with `shoploop config check` and retry."

    def __init__(
        self, message: str, *, connection: str = "", operation: str = "",
        remedy: str | None = None,
    ) -> None:
        self.connection = connection
        self.operation = operation
        where = " ".join(p for p in (f"[{connection}]" if connection else "", operation) if p)
        super().__init__(f"{where}: {message}" if where else message, remedy=remedy)


class UnreachableError(ConnectorError):
    """The remote system could not be reached (DNS, refused, timeout, missing file)."""

    remedy = "Check the address in the connection's config and that the system is up."


class AuthError(ConnectorError):
    """The remote system rejected the credentials or lacks a permission/scope."""

    remedy = "Check the credentials the connection's `*_env` variables point to, and their scopes."


class RateLimitedError(ConnectorError):
    """The remote rate budget stayed exhausted beyond the connector's bounded wait."""

    remedy = "Lower the connection's concurrency or cost share, or retry later."


class RemoteValidationError(ConnectorError):
    """The remote system refused the data itself (a 4xx with a validation message, a SOAP fault)."""

    remedy = "Fix the record named in the message; other records are unaffected."


class ConflictError(ConnectorError):
    """The record changed remotely since it was read (optimistic concurrency)."""

    remedy = "Re-run the job; shoploop re-reads the record and never overwrites it blindly."


class BatchLimitError(ConnectorError):
    """A batch larger than the connector's declared limit was passed; nothing was written."""

    remedy = "Split the batch to the connector type's declared batch size (the core does this)."


class NotSupportedError(ConnectorError):
    """The connector type does not offer this capability (or not yet)."""

    remedy = "Use a connection whose type lists the capability in `shoploop plugins`."


class WebhookSignatureError(ShoploopError):
    """A webhook's signature did not verify. The delivery must be rejected and stored nowhere."""

    remedy = "Check that the webhook secret configured in the platform matches the connection's."


class WebhookPayloadError(ShoploopError):
    """A verified webhook's payload could not be parsed into an event."""

    remedy = "Check the webhook's topic and API version against the connector's supported list."
