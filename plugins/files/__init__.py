"""The ``files`` connector: customers, orders, products and installed base from CSV or JSON
Lines exports in one directory; customer attribute changes appended to a JSON Lines file.

Many ERPs can export exactly this, so it is a real option for operators whose ERP offers nothing
else — and it is the reference connector: small, typed, documented, passing the conformance
kit. Copy its structure when writing a connector of your own:

* ``_config.py`` — the config model (one ``[connections.<name>]`` table);
* ``_connector.py`` — the connector: capabilities as plain methods, domain errors only;
* ``_records.py``, ``_csv.py`` — file formats; ``_position.py``, ``_paging.py`` — cursors;
* ``_changes.py`` — idempotent, crash-safe writes;
* this module — the plugin: one ``register_connectors`` hook implementation.

It is loaded through the ``shoploop`` entry-point group like any third-party plugin
(``files = "shoploop.plugins.files"`` in pyproject.toml). Operator documentation:
docs/connectors/files.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from shoploop.hooks import Capability, RegisterConnector, hookimpl

from ._config import FilesConfig
from ._connector import FilesConnector, create_connector
from ._csv import write_csv
from ._records import STREAMS, write_jsonl

__all__ = [
    "CAPABILITIES", "STREAMS", "FilesConfig", "FilesConnector", "create_connector",
    "register_connectors", "write_stream",
]

CAPABILITIES = (
    Capability.READ_CUSTOMERS,
    Capability.READ_ORDERS,
    Capability.READ_PRODUCTS,
    Capability.READ_INSTALLED_BASE,
    Capability.WRITE_CUSTOMER_ATTRIBUTES,
)


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register(
        "files",
        config_model=FilesConfig,
        factory=create_connector,
        capabilities=CAPABILITIES,
        description="CSV or JSON Lines exports in a directory; attribute changes to a file",
    )


def write_stream(directory: Path, stream: str, records: Iterable[BaseModel], *,
                 format: Literal["jsonl", "csv"] = "jsonl", delimiter: str = ",") -> Path:
    """Write ``records`` as ``<directory>/<stream>.<format>`` in exactly the shape the
    connector reads — for tests, demos, and converting other exports. Returns the path."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; streams: {', '.join(STREAMS)}")
    path = Path(directory) / f"{stream}.{format}"
    if format == "csv":
        write_csv(path, STREAMS[stream], records, delimiter=delimiter)
    else:
        write_jsonl(path, list(records))
    return path
