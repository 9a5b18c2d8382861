"""One logging set-up for the CLI, jobs and services.

Readable lines on a terminal, JSON lines when asked (or when not on a terminal with
``--log-format json``). Secrets are redacted at the formatter, i.e. after the message and any
traceback are rendered, so a token can't slip out through an exception text or a URL.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

from shoploop.hooks._connectors import on_secret_resolved

REDACTED = "***"

# Patterns for secrets that may appear without shoploop having resolved them itself
# (headers echoed in errors, credentials in URLs and query strings).
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)((?:x-shopify-access-token|authorization|x-wc-webhook-signature|"
               r"x-shopify-hmac-sha256)[\"']?\s*[:=]\s*[\"']?)(?:basic |bearer )?[^\s\"',}]+"),
    re.compile(r"(?i)((?:access_token|consumer_key|consumer_secret|client_secret|password|"
               r"api_key|token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(@)"),  # scheme://user:pass@host
)

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact this exact value wherever it appears in log output from now on."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace known secret values and secret-looking key/value pairs with ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)
        else:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


def redact_url(url: str) -> str:
    return redact(url)


on_secret_resolved(register_secret)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extra fields, exc."""

    _skip = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._skip and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, default=str))


_HANDLER_NAME = "shoploop"


def configure_logging(
    level: str | int = "WARNING", fmt: str = "auto", stream: IO[str] | None = None
) -> logging.Handler:
    """(Re)configure the ``shoploop`` logger tree. Idempotent: replaces its own handler only.

    ``fmt``: ``auto`` (Rich on a terminal, plain text otherwise), ``text`` or ``json``.
    """
    if fmt not in {"auto", "text", "json"}:
        raise ValueError(f"log format must be auto, text or json, not {fmt!r}")
    out = stream or sys.stderr
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter())
    elif fmt == "auto" and stream is None and out.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        # On stderr like every log line (Rich's default console is stdout, which must hold
        # only the command's result — one JSON document with --json).
        handler = RichHandler(console=Console(stderr=True), show_path=False,
                              rich_tracebacks=False, markup=False)
        handler.setFormatter(RedactingFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name(_HANDLER_NAME)
    logger = logging.getLogger("shoploop")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    logger.propagate = False
    return handler
