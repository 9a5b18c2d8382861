"""The adapter's error types: subclasses of the contract's errors, so the core handles them by
the contract type while operators (and ``--json``'s ``error.code``) can tell a file in the wrong
encoding or with a wrong header from one bad record."""

from __future__ import annotations

from shoploop.hooks import ConnectorError


class FileEncodingError(ConnectorError):
    """The file is not text in the connection's ``encoding``: the config names the wrong one."""

    error_code = "file_encoding"


class FileHeaderError(ConnectorError):
    """A CSV file's header is wrong: none of its records can be read until it is fixed."""

    error_code = "file_header"
