"""Customer attribute writes through the mapped update operation, carrying the record's key.

Per batch: one read of the current records (a filter on their ids), then one update per
customer with only the fields that differ (zeep omits ``None`` elements, so an update is
partial). A field whose fresh value differs from what this connector's import read of it (a
change another user saved after the import, before the batch's read — a window the fresh
``Key`` cannot see) is a ``conflict``, not written. On a concurrency fault the record is read
again: if another user changed one of the very fields we write, the change is reported as
``conflict`` — their value stays, nothing is overwritten blindly; otherwise the update is
retried once with the fresh key, and a second concurrency fault is a ``conflict`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoploop.hooks import (
    AttributeChange,
    BatchLimitError,
    ConflictError,
    NotSupportedError,
    RemoteValidationError,
    WriteResult,
    WriteStatus,
)

from ._calls import SoapCalls
from ._client import dig
from ._errors import SoapRequestRejectedError
from ._mapping import EntityMapping
from ._records import Converter, any_of, wire_text


class WritingMixin(SoapCalls):
    converter: Converter
    attribute_batch_size: int
    _imported: dict[str, dict[str, str]]

    def _remember_import(self, customer_id: str, record: Any, fields: Sequence[str]) -> None:
        self._imported[customer_id] = {field: wire_text(dig(record, field)) for field in fields}

    def _moved_since_import(self, wanted: dict[str, dict[str, tuple[int, str]]],
                            current: dict[str, Any]) -> dict[str, list[str]]:
        """customer → the fields to write whose value changed since this connector's import
        read them (customers it did not read are not judged: a direct call writes as before).
        """
        moved: dict[str, list[str]] = {}
        for customer_id, fields in wanted.items():
            imported, record = self._imported.get(customer_id), current.get(customer_id)
            if imported is None or record is None:
                continue
            changed = [f for f in fields if f in imported
                       and wire_text(dig(record, f)) != imported[f]]
            if changed:
                moved[customer_id] = changed
        return moved

    def _customers_for_write(self) -> EntityMapping:
        mapping = self.mapping.customers
        if mapping is None or not mapping.update_operation:
            raise NotSupportedError("no customers update_operation in the mapping",
                                    connection=self.name, operation="write_customer_attributes")
        return mapping

    def _current(self, mapping: EntityMapping, ids: Sequence[str]) -> dict[str, Any]:
        records = self._read_call(mapping, None, None, max(len(ids), 1),
                                  ((mapping.id_field, any_of(ids)),))
        return {str(dig(record, mapping.id_field)): record for record in records}

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        if len(changes) > self.attribute_batch_size:
            raise BatchLimitError(f"{len(changes)} changes exceed attribute_batch_size="
                                  f"{self.attribute_batch_size}", connection=self.name,
                                  operation="write_customer_attributes")
        mapping = self._customers_for_write()
        results: list[WriteResult | None] = [None] * len(changes)
        wanted: dict[str, dict[str, tuple[int, str]]] = {}  # customer → field → (index, text)
        for index, change in enumerate(changes):
            spec = mapping.attributes.get(change.key)
            if spec is None or spec.field is None:
                results[index] = WriteResult(
                    customer_id=change.customer_id, key=change.key, status=WriteStatus.FAILED,
                    message=f"no SOAP field is mapped for attribute {change.key!r}")
                continue
            text = self.converter.encode(spec, change.new)
            wanted.setdefault(change.customer_id, {})[spec.field] = (index, text)
        current = self._current(mapping, list(wanted)) if wanted else {}
        for customer_id, moved in self._moved_since_import(wanted, current).items():
            for field in moved:
                index, _ = wanted[customer_id].pop(field)
                results[index] = WriteResult(
                    customer_id=customer_id, key=changes[index].key, status=WriteStatus.CONFLICT,
                    message=f"another user changed {field} after the import; not overwritten")
            if not wanted[customer_id]:
                del wanted[customer_id]
        together = self._write_together(mapping, wanted, current)
        for customer_id, fields in wanted.items():
            outcome = together[customer_id] if customer_id in together else \
                self._write_one(mapping, customer_id, fields, current.get(customer_id))
            for field, (index, _) in fields.items():
                status, message = outcome.get(field, (WriteStatus.UNCHANGED, ""))
                results[index] = WriteResult(customer_id=customer_id, key=changes[index].key,
                                             status=status, message=message)
        return [result for result in results if result is not None]

    def _write_together(self, mapping: EntityMapping,
                        wanted: dict[str, dict[str, tuple[int, str]]], current: dict[str, Any],
                        ) -> dict[str, dict[str, tuple[WriteStatus, str]]]:
        """All differing records in one ``update_multiple_operation`` call, when mapped. NAV's
        UpdateMultiple is one transaction — all or none are updated (MS docs, "UpdateMultiple
        Operation") — so on any fault nothing was written and every record takes the single
        path with its re-read and retry."""
        if not mapping.update_multiple_operation:
            return {}
        differing = {customer_id: {field: text for field, (_, text) in fields.items()
                                   if wire_text(dig(current[customer_id], field)) != text}
                     for customer_id, fields in wanted.items() if customer_id in current}
        differing = {key: value for key, value in differing.items() if value}
        if len(differing) < 2:
            return {}
        bodies = [self._body(mapping, current[customer_id], values)
                  for customer_id, values in differing.items()]
        element = mapping.update_element or "records"
        kwargs = {mapping.update_multiple_element or f"{element}_List": {element: bodies}}
        try:
            self._call(mapping, mapping.update_multiple_operation, kwargs, reads=False,
                       concurrency=mapping.concurrency_fault)
        except (ConflictError, RemoteValidationError, SoapRequestRejectedError):
            return {}
        return {customer_id: dict.fromkeys(values, (WriteStatus.WRITTEN, ""))
                for customer_id, values in differing.items()}

    def _write_one(self, mapping: EntityMapping, customer_id: str,
                   fields: dict[str, tuple[int, str]], record: Any,
                   ) -> dict[str, tuple[WriteStatus, str]]:
        if record is None:
            return dict.fromkeys(fields, (WriteStatus.FAILED,
                                          f"customer {customer_id!r} not found in the ERP"))
        first_read = {field: wire_text(dig(record, field)) for field in fields}
        for attempt in (1, 2):
            differing = {field: text for field, (_, text) in fields.items()
                         if wire_text(dig(record, field)) != text}
            if not differing:
                return {}
            try:
                self._update(mapping, record, differing)
            except (RemoteValidationError, SoapRequestRejectedError) as exc:
                # the ERP (or zeep, before sending) refused this record: its own failure
                return dict.fromkeys(differing, (WriteStatus.FAILED, exc.message))
            except ConflictError as exc:
                record = self._current(mapping, [customer_id]).get(customer_id)
                if record is None:
                    return dict.fromkeys(differing, (WriteStatus.FAILED,
                                                     f"customer {customer_id!r} was deleted"))
                touched = [f for f in differing if wire_text(dig(record, f)) != first_read[f]]
                if touched or attempt == 2:
                    why = (f"another user changed {', '.join(touched)} meanwhile" if touched
                           else "the record changed again during the retry")
                    return dict.fromkeys(differing, (WriteStatus.CONFLICT,
                                                     f"{why}; not overwritten ({exc.message})"))
                continue
            return dict.fromkeys(differing, (WriteStatus.WRITTEN, ""))
        return {}  # pragma: no cover

    @staticmethod
    def _body(mapping: EntityMapping, record: Any, values: dict[str, str]) -> dict[str, Any]:
        # The id identifies the record, the key (NAV ``Key``, a row version) proves which
        # version the change is based on; an ERP without a key gets the id alone.
        body: dict[str, Any] = {mapping.id_field: dig(record, mapping.id_field), **values}
        if mapping.key_field:
            body[mapping.key_field] = dig(record, mapping.key_field)
        return body

    def _update(self, mapping: EntityMapping, record: Any, values: dict[str, str]) -> Any:
        assert mapping.update_operation
        body = self._body(mapping, record, values)
        kwargs = {mapping.update_element: body} if mapping.update_element else body
        return self._call(mapping, mapping.update_operation, kwargs, reads=False,
                          concurrency=mapping.concurrency_fault)
