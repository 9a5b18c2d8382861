"""``FilesConnector``: one configured ``files`` connection.

The connector is a thin layer over the readers and the changes file. What it adds is the
translation of everything that can go wrong into the domain errors of ``shoploop.hooks``, each
naming the connection, the operation and the file, so neither the core nor an operator reading a
log ever has to interpret a raw ``OSError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

from pydantic import BaseModel, ValidationError

from shoploop.hooks import (
    AttributeChange,
    AuthError,
    BatchLimitError,
    ConnectionCheck,
    ConnectorError,
    Cursor,
    Customer,
    InstalledEquipment,
    Order,
    Page,
    Product,
    RemoteValidationError,
    UnreachableError,
    WriteResult,
)

from ._changes import ChangesFile, Clock
from ._config import FilesConfig
from ._errors import FileEncodingError, FileHeaderError
from ._paging import Source, read_page
from ._position import Position
from ._records import (
    STREAMS,
    AmbiguousFormat,
    Format,
    Limits,
    MalformedHeader,
    MalformedRecord,
    UndecodableLine,
    locate,
)

M = TypeVar("M", bound=BaseModel)

_PATH_REMEDY = ("Check `path` in the connection's config (a relative path is resolved against "
                "the config file's directory) and that the directory exists.")


class FilesConnector:
    """Reads customers, orders, products and installed base from exported files in one
    directory; appends attribute changes to a JSON Lines file. See docs/connectors/files.md."""

    read_ahead_safe = True
    """A read only reads (the cursor is a file position, nothing is acknowledged when it comes
    back), so the mirror may read the next page before committing this one and commit a few
    pages together (``shoploop.jobs.mirror_stream``)."""

    def __init__(self, name: str, config: FilesConfig, *, base_dir: Path | None = None,
                 clock: Clock | None = None) -> None:
        self.name = name
        self.config = config
        self.page_size = config.page_size
        self.attribute_batch_size = config.attribute_batch_size
        self.data_dir = config.data_dir(base_dir)
        self.changes_path = config.changes_path(base_dir)
        self._changes = ChangesFile(self.changes_path, name, clock)

    def __repr__(self) -> str:
        return f"FilesConnector({self.name!r}, {str(self.data_dir)!r})"

    # -- Connector ----------------------------------------------------------------------------

    def check(self) -> ConnectionCheck:
        """Is the directory there and are the data files readable? Never raises."""
        try:
            return self._check()
        except Exception as exc:  # check() is a report, not an operation
            return ConnectionCheck(reachable=False, authorised=False,
                                   detail=f"checking {self.data_dir} failed: {exc}")

    def _check(self) -> ConnectionCheck:
        directory = self.data_dir
        if not directory.is_dir():
            what = "is not a directory" if directory.exists() else "does not exist"
            return ConnectionCheck(reachable=False, authorised=False,
                                   detail=f"data directory {directory} {what}")
        if not os.access(directory, os.R_OK | os.X_OK):
            return ConnectionCheck(reachable=True, authorised=False,
                                   detail=f"data directory {directory} is not readable")
        found, problems, warnings = [], [], []
        for stream in STREAMS:
            try:
                located = locate(directory, stream, self.config.format)
            except AmbiguousFormat as exc:
                warnings.append(f"{exc}; reads of {stream} fail until `format` is set or one "
                                "file is removed")
                continue
            if located is None:
                continue
            try:
                with located[0].open("rb") as fh:
                    fh.read(1)
                found.append(located[0].name)
            except OSError as exc:
                problems.append(f"cannot read {located[0]}: {exc.strerror or exc}")
        if not found and not problems:
            warnings.append(f"no data files in {directory} (expected e.g. customers.jsonl or "
                            "customers.csv)")
        target = self.changes_path.parent
        if not (target.is_dir() and os.access(target, os.W_OK | os.X_OK)):
            warnings.append(f"attribute changes cannot be written: {target} is not a writable "
                            "directory")
        detail = "; ".join(problems) or f"{directory}: {', '.join(found) or 'no data files'}"
        return ConnectionCheck(reachable=True, authorised=not problems, detail=detail,
                               warnings=warnings)

    def close(self) -> None:
        """Nothing stays open between calls; forget the write index so memory is released."""
        self._changes.forget()

    # -- reads --------------------------------------------------------------------------------

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        return self._read("customers", Customer, cursor)

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        return self._read("orders", Order, cursor)

    def read_products(self, cursor: Cursor | None = None) -> Page[Product]:
        return self._read("products", Product, cursor)

    def read_installed_base(self, cursor: Cursor | None = None) -> Page[InstalledEquipment]:
        return self._read("installed_base", InstalledEquipment, cursor)

    def _read(self, stream: str, model: type[M], cursor: Cursor | None) -> Page[M]:
        operation = f"read_{stream}"
        position = self._position(stream, cursor, operation)
        source = self._source(stream, model, operation)
        try:
            result = read_page(source, position, self.page_size)
        except MalformedRecord as exc:
            raise self._unreadable(exc, source.path, operation) from None
        except OSError as exc:
            self._raise_os_error(exc, operation, source.path or self.data_dir)
        page: Page[M] = Page(
            items=cast(list[M], result.items), has_more=result.has_more,
            warnings=list(result.warnings),
            cursor=Cursor(stream=stream, position=result.position.model_dump(mode="json")))
        return page

    def _unreadable(self, exc: MalformedRecord, path: Path | None,
                    operation: str) -> ConnectorError:
        """The domain error for what made a file unreadable, with the remedy that fits it."""
        message = f"{path}, line {exc.line}: {exc.reason}"
        where = {"connection": self.name, "operation": operation}
        if isinstance(exc, UndecodableLine):
            return FileEncodingError(
                message, **where,
                remedy=f"the file is not {exc.encoding} text: set `encoding` in "
                       f"[connections.{self.name}] to the encoding the export uses (e.g. "
                       '"cp1252" for many Windows ERPs); only if this one line is damaged, '
                       "fix it")
        if isinstance(exc, MalformedHeader):
            return FileHeaderError(
                message, **where,
                remedy="fix the header row (line 1): columns are named after the record's "
                       "fields (docs/connectors/files.md); no record of this file is read "
                       "until it is right")
        return RemoteValidationError(
            message, **where,
            remedy=exc.remedy
            or f"fix or remove line {exc.line}; the read resumes from its last cursor")

    def _position(self, stream: str, cursor: Cursor | None, operation: str) -> Position | None:
        if cursor is None:
            return None
        if cursor.stream != stream:
            raise ConnectorError(f"got a cursor of stream {cursor.stream!r}", connection=self.name,
                                 operation=operation, remedy="pass the cursor of the same stream")
        try:
            return Position.model_validate(cursor.position)
        except ValidationError:
            raise ConnectorError(
                f"the cursor {cursor.position!r} is not a files cursor", connection=self.name,
                operation=operation, remedy="start without a cursor (a full read)") from None

    def _source(self, stream: str, model: type[BaseModel], operation: str) -> Source:
        if not self.data_dir.is_dir():
            raise UnreachableError(f"data directory {self.data_dir} does not exist",
                                   connection=self.name, operation=operation, remedy=_PATH_REMEDY)
        try:
            located = locate(self.data_dir, stream, self.config.format)
        except AmbiguousFormat as exc:
            raise ConnectorError(str(exc), connection=self.name, operation=operation,
                                 remedy='set format = "jsonl" or "csv" in the connection, or '
                                        "remove the stale file") from None
        path: Path | None = None
        fmt: Format = "jsonl"
        if located is not None:
            path, fmt = located
        return Source(label=f"[{self.name}] {stream}", model=model, path=path, format=fmt,
                      encoding=self.config.encoding, delimiter=self.config.csv_delimiter,
                      limits=Limits(self.config.max_line_bytes, self.config.max_record_bytes))

    def _raise_os_error(self, exc: OSError, operation: str, path: Path) -> NoReturn:
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError):
            raise AuthError(f"{path}: {reason}", connection=self.name, operation=operation,
                            remedy="let the user running shoploop read the data files and "
                                   "write the changes file") from None
        if isinstance(exc, FileNotFoundError):
            raise UnreachableError(f"{path}: {reason}", connection=self.name,
                                   operation=operation, remedy=_PATH_REMEDY) from None
        raise ConnectorError(f"{path}: {reason}", connection=self.name, operation=operation,
                             remedy="check the disk and the file, then retry") from None

    # -- writes -------------------------------------------------------------------------------

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        """Append changed values to the changes file; unchanged ones are not written again."""
        operation = "write_customer_attributes"
        if len(changes) > self.attribute_batch_size:
            raise BatchLimitError(
                f"{len(changes)} changes in one batch; this connection accepts at most "
                f"{self.attribute_batch_size}", connection=self.name, operation=operation)
        if not self.changes_path.parent.is_dir():
            raise UnreachableError(
                f"directory {self.changes_path.parent} of the changes file does not exist",
                connection=self.name, operation=operation,
                remedy="create the directory, or fix `path` / `changes_file` in the config")
        try:
            return self._changes.write(changes)
        except OSError as exc:
            self._raise_os_error(exc, operation, self.changes_path)


def create_connector(connection_name: str, config: Any, *,
                     base_dir: Path | None = None) -> FilesConnector:
    """The factory registered for the ``files`` type: ``factory(name, config)``. Accepts a
    validated :class:`FilesConfig` (from the config loader) or a plain mapping."""
    if not isinstance(config, FilesConfig):
        context = {"base_dir": base_dir} if base_dir is not None else None
        config = FilesConfig.model_validate(config, context=context)
    return FilesConnector(connection_name, config, base_dir=base_dir)
