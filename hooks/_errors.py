"""Domain errors. Each says what went wrong *and* what to do about it.

Connectors translate transport and platform failures into these, so the core (and operators
reading logs) never has to interpret a raw ``requests`` or ``zeep`` exception.

Each class carries its classification: ``error_code`` (a stable machine-readable name, printed by
``--json`` as ``error.code``) and ``exit_code`` (the CLI's documented exit status: 1 the job
failed, 2 configuration or usage, 3 a system unreachable or refusing the credentials). A
subclass inherits both, so a plugin's own error is handled like the contract error it extends.
"""

from __future__ import annotations


class ShoploopError(Exception):
    """Base class. ``remedy`` is the one sentence an operator needs to fix the problem."""

    remedy: str = ""
    error_code: str = "error"
    exit_code: int = 1

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if remedy is not None:
            self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} — {self.remedy}" if self.remedy else self.message


class ConfigError(ShoploopError):
    """The configuration is invalid. Names the file, the key path and what is expected."""

    error_code = "config_invalid"
    exit_code = 2

    def __init__(
        self, message: str, *, file: str | None = None, key: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message, remedy=remedy)


class MissingSecretError(ConfigError):
    """A ``<key>_env`` names an environment variable that is not set (or is empty)."""

    error_code = "secret_missing"

    def __init__(self, *, variable: str, key: str, connection: str = "",
                 file: str | None = None) -> None:
        self.variable = variable
        self.connection = connection
        path = f"connections.{connection}.{key}_env" if connection else f"{key}_env"
        super().__init__(
            f"names {variable}, which is not set (or is empty)", file=file, key=path,
            remedy=f"export {variable}=… (or load the .env file that sets it) before running "
                   "shoploop")


class PluginError(ShoploopError):
    """A plugin failed to load, register or answer a hook. Names the plugin and the hook."""

    error_code = "plugin_failed"
    exit_code = 2

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
    error_code = "connector_failed"

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
    error_code = "unreachable"
    exit_code = 3


class WrongEndpointError(UnreachableError):
    """Something answers at the configured address, but not the platform's API (a 404 at the
    API's root, an HTML page where JSON or SOAP belongs): the address itself is wrong."""

    remedy = "Check the connection's address key: it must point at the platform's API."
    error_code = "wrong_endpoint"


class AuthError(ConnectorError):
    """The remote system is reachable but rejected the credentials or lacks a permission.

    Adapters name their own credential keys in the remedy (and mention scopes only where the
    platform has them)."""

    remedy = "Check the credentials the connection's `*_env` variables point to."
    error_code = "unauthorised"
    exit_code = 3


class RateLimitedError(ConnectorError):
    """The remote rate budget stayed exhausted beyond the connector's bounded wait."""

    remedy = "Lower the connection's concurrency or cost share, or retry later."
    error_code = "rate_limited"


class RemoteValidationError(ConnectorError):
    """The remote system refused the data itself (a 4xx with a validation message, a SOAP fault)."""

    remedy = "Fix the record named in the message; other records are unaffected."
    error_code = "remote_rejected"


class ConflictError(ConnectorError):
    """The record changed remotely since it was read (optimistic concurrency)."""

    remedy = "Re-run the job; shoploop re-reads the record and never overwrites it blindly."
    error_code = "conflict"


class BatchLimitError(ConnectorError):
    """A batch larger than the connector's declared limit was passed; nothing was written."""

    remedy = "Split the batch to the connector type's declared batch size (the core does this)."
    error_code = "batch_limit"


class NotSupportedError(ConnectorError):
    """The connector type does not offer this capability (or not yet)."""

    remedy = "Use a connection whose type lists the capability in `shoploop plugins`."
    error_code = "not_supported"


class WebhookSignatureError(ShoploopError):
    """A webhook's signature did not verify. The delivery must be rejected and stored nowhere."""

    remedy = "Check that the webhook secret configured in the platform matches the connection's."
    error_code = "webhook_signature"


class WebhookPayloadError(ShoploopError):
    """A verified webhook's payload could not be parsed into an event."""

    remedy = "Check the webhook's topic and API version against the connector's supported list."
    error_code = "webhook_payload"
