"""The ``[connections.<name>]`` table of a ``files`` connection.

Relative paths are resolved against the directory of the config file, not the working
directory: an operator who runs ``shoploop`` from cron (whose working directory is ``$HOME`` or
``/``) must get the same files as when trying it out by hand next to the config. The config
loader passes that directory as the validation context ``{"base_dir": ...}``; code that builds
a config itself may pass ``base_dir`` to the connector instead.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from shoploop.hooks import ConnectionConfig


class FilesConfig(ConnectionConfig):
    """A directory of exported files (``customers.jsonl`` or ``customers.csv``, …)."""

    type: Literal["files"] = "files"
    path: Path = Field(description="The data directory; relative to the config file's directory.")
    format: Literal["auto", "jsonl", "csv"] = Field(
        default="auto",
        description="jsonl, csv, or auto: per stream, whichever of the two files exists.")
    page_size: int = Field(default=500, ge=1, le=10_000,
                           description="Records per page a read returns.")
    changes_file: Path = Field(
        default=Path("attribute_changes.jsonl"),
        description="Where attribute writes are appended (JSON Lines); relative to `path`.")
    attribute_batch_size: int = Field(default=500, ge=1, le=100_000,
                                      description="Most attribute changes one write accepts.")
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1,
                               description='Field separator of CSV files, e.g. ";" for Excel '
                                           "exports in German locales.")
    encoding: str = Field(default="utf-8",
                          description="Text encoding of the data files, e.g. cp1252 for older "
                                      "ERP exports; must be ASCII-compatible.")

    max_line_bytes: int = Field(
        default=1 << 20, ge=1024, le=1 << 30,
        description="Longest line a data file may have (bytes, default 1 MiB); a longer one "
                    "is refused naming file and line, never read into memory.")
    max_record_bytes: int = Field(
        default=1 << 20, ge=1024, le=1 << 30,
        description="Longest CSV record (bytes, default 1 MiB; a quoted cell may span lines, "
                    "so a record can be longer than a line).")

    @field_validator("path", mode="after")
    @classmethod
    def _resolve_against_config_dir(cls, value: Path, info: ValidationInfo) -> Path:
        value = value.expanduser()
        base_dir = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        if not value.is_absolute() and base_dir is not None:
            value = Path(base_dir) / value
        return value

    @field_validator("changes_file", mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("encoding")
    @classmethod
    def _ascii_compatible(cls, value: str) -> str:
        """Files are split into lines on the byte ``\\n`` before decoding (so a cursor can hold
        a byte offset); that is only sound for encodings where ``\\n`` is that byte."""
        try:
            codec = codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        if codec.name == "utf-8-sig":  # a byte-order mark is skipped anyway
            return value
        if "\n".encode(value, errors="replace") != b"\n" or "a".encode(value) != b"a":
            raise ValueError(f"encoding {value!r} is not ASCII-compatible; use utf-8, cp1252, "
                             "latin-1 or another single-byte or UTF-8 encoding")
        return value

    def data_dir(self, base_dir: Path | None = None) -> Path:
        """The data directory; ``base_dir`` resolves a path that is still relative (when the
        config was built without the loader's context), else the working directory does."""
        if self.path.is_absolute():
            return self.path
        return (base_dir or Path.cwd()) / self.path

    def changes_path(self, base_dir: Path | None = None) -> Path:
        """The attribute changes file: ``changes_file`` inside the data directory unless it is
        absolute."""
        if self.changes_file.is_absolute():
            return self.changes_file
        return self.data_dir(base_dir) / self.changes_file
