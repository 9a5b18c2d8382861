"""The ``erp_soap`` connector: paged reads, attribute writes with the record's key, rewards.

Every SOAP call goes through :meth:`ErpSoapConnector._call`, which builds the one zeep client
of this connection on first use and translates failures into domain errors naming the
connection and the operation (``Customer_Service.ReadMultiple``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import zeep

from shoploop.hooks import (
    AuthError,
    ConfigError,
    ConnectionCheck,
    ConnectorError,
    Cursor,
    Customer,
    InstalledEquipment,
    NotSupportedError,
    Order,
    Page,
    Product,
    Transform,
)

from ._client import build_client, dig, guarded, nest, with_retries
from ._config import ErpSoapConfig
from ._fastread import RecordShape, input_requires, parse_records, record_shape
from ._mapping import EntityMapping, ReadSpec, RewardMapping
from ._reading import read_documents, read_records
from ._records import Converter
from ._rewards import RewardsMixin
from ._writing import WritingMixin


class ErpSoapConnector(WritingMixin, RewardsMixin):
    """One connection to one ERP's SOAP web services."""

    def __init__(self, name: str, config: ErpSoapConfig,
                 transforms: Mapping[str, Transform]) -> None:
        self.name = name
        self.config = config
        self.mapping = config.mapping
        missing = sorted(n for n in self.mapping.transform_names() if n not in transforms)
        if missing:
            raise ConfigError(f"unknown transform(s) {', '.join(missing)} in the mapping",
                              key=f"connections.{name}.mapping",
                              remedy=f"use one of: {', '.join(sorted(transforms))}")
        self.converter = Converter(transforms)
        self.page_size = (self.mapping.customers or self.mapping.orders
                          or self.mapping.products or EntityMapping(id_field="-")).page_size
        self.attribute_batch_size = config.attribute_batch_size
        # Cursors carry the ids already read at the newest stamp (all of them after a mass
        # update) or, without a modified field, a hash per record: checkpoint every 2 s.
        self.cursor_checkpoint_seconds = 2.0
        self._clients: dict[str, zeep.Client] = {}
        self._services: dict[tuple[str, str | None, str | None], Any] = {}
        self._lock = threading.Lock()
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._shapes: dict[tuple[str, str | None, str | None, str], RecordShape | None] = {}
        self._required: dict[tuple[str, str | None, str | None, str, str], bool] = {}
        self._imported: dict[str, dict[str, str]] = {}
        """customer id → the written fields' wire text as the last customer read delivered
        them: a write compares the batch's fresh read with it (``_writing.py``)."""

    # -- the client -----------------------------------------------------------------------------

    def wsdl_for(self, target: Target) -> str:
        """The WSDL of a stream: its own, or the connection's; ``{page}`` → the page."""
        location = target.wsdl or self.config.wsdl
        page = target.page or (target.service or "").removesuffix("_Service")
        return location.replace("{page}", page)

    def client_for(self, wsdl: str) -> zeep.Client:
        """The zeep client of one WSDL, built on first use and kept for the connection's life
        (one per connection; one per page when NAV publishes a WSDL per page)."""
        with self._lock:
            if wsdl not in self._clients:
                password = self.config.secret("password") if self.config.auth != "none" else None
                self._clients[wsdl] = build_client(self.name, self.config, password, wsdl)
            return self._clients[wsdl]

    @property
    def client(self) -> zeep.Client:
        """The client of the first mapped stream's WSDL (the connection's WSDL)."""
        return self.client_for(self.wsdl_for(self._targets()[0] if self._targets()
                                             else EntityMapping(id_field="-")))

    def _targets(self) -> list[Target]:
        return [t for t in (self.mapping.customers, self.mapping.orders, self.mapping.products,
                            self.mapping.installed_base, *self.mapping.rewards.values())
                if t is not None]

    def service(self, target: Target) -> Any:
        """The service proxy (cached), pointed at ``endpoint`` when configured."""
        wsdl, service, port = self.wsdl_for(target), target.service, target.port
        key = (wsdl, service, port)
        if key in self._services:
            return self._services[key]
        client = self.client_for(wsdl)
        if self.config.endpoint is None:
            proxy = client.bind(service, port) if service else client.service
        else:
            name = service or next(iter(client.wsdl.services))
            wsdl_service = client.wsdl.services[name]
            wsdl_port = wsdl_service.ports[port] if port else next(iter(
                wsdl_service.ports.values()))
            address = self.config.endpoint.format(service=name, port=wsdl_port.name,
                                                  page=target.page or name)
            proxy = client.create_service(  # type: ignore[no-untyped-call]
                str(wsdl_port.binding.name), address)
        self._services[key] = proxy
        return proxy

    def _call(self, target: Target, operation: str, kwargs: dict[str, Any], *, reads: bool,
              concurrency: str | None = None) -> Any:
        label = f"{target.service or 'service'}.{operation}"
        pattern = None
        if concurrency is not None:
            pattern = self._patterns.setdefault(concurrency, re.compile(concurrency))

        def once() -> Any:
            proxy = guarded(self.name, label, lambda: self.service(target))
            method = guarded(self.name, label, lambda: getattr(proxy, operation))
            return guarded(self.name, label, lambda: method(**kwargs), pattern)

        return with_retries(self.config.retries, once, reads=reads)

    def _read_fast(self, target: Target, operation: str,
                   kwargs: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The read through :mod:`._fastread`, or None when its shape does not apply."""
        label = f"{target.service or 'service'}.{operation}"
        id_field = target.id_field if isinstance(target, EntityMapping) \
            else target.external_number_field

        def once() -> list[dict[str, Any]] | None:
            proxy = guarded(self.name, label, lambda: self.service(target))
            key = (self.wsdl_for(target), target.service, target.port, operation)
            if key not in self._shapes:
                self._shapes[key] = record_shape(proxy, operation, id_field)
            shape = self._shapes[key]
            if shape is None:
                return None
            client = self.client_for(self.wsdl_for(target))

            def send() -> list[dict[str, Any]]:
                with client.settings(raw_response=True):
                    response = getattr(proxy, operation)(**kwargs)
                records = parse_records(response.content, shape) \
                    if response.status_code == 200 else None
                if records is None:  # zeep raises the fault / transport error it finds
                    binding = proxy._binding
                    binding.process_reply(client, binding._operations[operation], response)
                    raise zeep.exceptions.TransportError(  # type: ignore[no-untyped-call]
                        "the reply holds no SOAP answer", status_code=response.status_code,
                        content=response.content)
                return records

            return guarded(self.name, label, send)

        return with_retries(self.config.retries, once, reads=True)

    def _filter_required(self, target: Target, spec: ReadSpec) -> bool:
        """Does the read operation's WSDL require the filter parameter (read once, kept)?"""
        assert spec.filter_param
        key = (self.wsdl_for(target), target.service, target.port, spec.operation,
               spec.filter_param)
        if key not in self._required:
            label = f"{target.service or 'service'}.{spec.operation}"
            proxy = guarded(self.name, label, lambda: self.service(target))
            self._required[key] = input_requires(proxy, spec.operation, spec.filter_param)
        return self._required[key]

    def _read_call(self, mapping: Target, bookmark: str | None,
                   since: datetime | None, size: int,
                   filters: Sequence[tuple[str, str]]) -> list[Any]:
        spec: ReadSpec = mapping.read
        kwargs = self.read_arguments(mapping, bookmark, since, size, filters)
        fast = self._read_fast(mapping, spec.operation, kwargs)
        if fast is not None:
            return fast
        result = self._call(mapping, spec.operation, kwargs, reads=True)
        records = dig(result, spec.records_path) if spec.records_path else result
        if records is None:
            return []
        return list(records) if isinstance(records, list) else [records]

    def read_arguments(self, mapping: Target, bookmark: str | None, since: datetime | None,
                       size: int, filters: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The parameters of one read call (public so tests can check them against a
        published WSDL without sending them)."""
        spec: ReadSpec = mapping.read
        kwargs: dict[str, Any] = {}
        nest(spec.size_param, size, kwargs)
        if bookmark is not None:
            nest(spec.bookmark_param, bookmark, kwargs)
        conditions = list(filters)
        modified = getattr(mapping, "modified_field", None)
        if since is not None and modified:
            if spec.since_param:
                nest(spec.since_param, since, kwargs)
            else:
                # NAV filter syntax: ">=" plus the value; the emulator and BC read ISO 8601.
                conditions.append((modified, f">={since.isoformat()}"))
        if spec.filter_param:
            if not conditions and self._filter_required(mapping, spec):
                # NAV publishes ReadMultiple's `filter` with minOccurs 1 and zeep enforces it
                # (python-nav hit the same: github.com/jacobsvante/nav/blob/d096244/nav/
                # __init__.py); an empty criteria sets no filter on the field, so this one
                # reads every record. See docs/erp-soap.md, "Platform facts".
                conditions.append((spec.match_all_field or (
                    mapping.id_field if isinstance(mapping, EntityMapping)
                    else mapping.document_number_field), spec.match_all_criteria))
            nest(spec.filter_param, [{spec.filter_field: field, spec.filter_criteria: crit}
                                     for field, crit in conditions], kwargs)
        elif filters:
            raise ConfigError(f"[{self.name}] reading by key needs a filter_param in the mapping")
        return kwargs

    # -- reads ----------------------------------------------------------------------------------

    def _entity(self, stream: str) -> EntityMapping:
        mapping: EntityMapping | None = getattr(self.mapping, stream)
        if mapping is None:
            raise NotSupportedError(f"no mapping for {stream}", connection=self.name,
                                    operation=f"read_{stream}")
        return mapping

    def _page(self, stream: str, cursor: Cursor | None, build: Callable[[Any], Any]) -> Page[Any]:
        mapping = self._entity(stream)
        position = dict(cursor.position) if cursor and cursor.stream == stream else {}
        records, position, more = read_records(mapping, self.converter, self._read_call,
                                               position)
        items = [build(record) for record in records]
        return Page(items=items, cursor=Cursor(stream=stream, position=position), has_more=more)

    def _convert(self, stream: str, model: type[Any], record: Any) -> Any:
        mapping = self._entity(stream)
        data = self.converter.to_dict(record, mapping.fields, mapping.attributes or None)
        try:
            return model.model_validate(data)
        except ValueError as exc:
            raise ConnectorError(f"record {data.get('id')!r} does not fit {model.__name__}: "
                                 f"{exc}", connection=self.name,
                                 operation=f"read_{stream}") from None

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        mapping = self._entity("customers")
        fields = [spec.field for spec in (mapping.attributes or {}).values() if spec.field]

        def build(record: Any) -> Customer:
            self._remember_import(str(dig(record, mapping.id_field)), record, fields)
            converted: Customer = self._convert("customers", Customer, record)
            return converted

        return self._page("customers", cursor, build)

    def read_products(self, cursor: Cursor | None = None) -> Page[Product]:
        return self._page("products", cursor, lambda r: self._convert("products", Product, r))

    def read_installed_base(self, cursor: Cursor | None = None) -> Page[InstalledEquipment]:
        return self._page("installed_base", cursor,
                          lambda r: self._convert("installed_base", InstalledEquipment, r))

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        mapping = self._entity("orders")
        if not mapping.document_field:
            return self._page("orders", cursor, lambda r: self._convert("orders", Order, r))
        position = dict(cursor.position) if cursor and cursor.stream == "orders" else {}
        documents, position, more = read_documents(mapping, self.converter, self._read_call,
                                                   position)
        orders = []
        for lines in documents:
            data = self.converter.to_dict(lines[0], mapping.fields)
            data["lines"] = [self.converter.to_dict(line, mapping.line_fields)
                             for line in lines]
            for line in data["lines"]:
                line.setdefault("quantity", 0)
                line.setdefault("unit_price", 0)
            try:
                orders.append(Order.model_validate(data))
            except ValueError as exc:
                raise ConnectorError(f"order {data.get('id')!r} does not fit Order: {exc}",
                                     connection=self.name, operation="read_orders") from None
        return Page(items=orders, cursor=Cursor(stream="orders", position=position),
                    has_more=more)

    # -- check and close ------------------------------------------------------------------------

    def operations(self) -> tuple[list[str], list[str]]:
        """(found, missing) mapped operations, as ``Service.Operation``."""
        wanted: list[tuple[Target, str]] = []
        for target in self._targets():
            wanted.append((target, target.read.operation))
            extra = target.update_operation if isinstance(target, EntityMapping) \
                else target.create_operation
            if extra:
                wanted.append((target, extra))
        found, missing, seen = [], [], set()
        for target, operation in wanted:
            label = f"{target.service or '(default service)'}.{operation}"
            if label in seen:
                continue
            seen.add(label)
            try:
                proxy = self.service(target)
                getattr(proxy, operation)
            except ConnectorError as exc:
                missing.append(f"{label} ({exc.message})")
            except (ValueError, AttributeError, KeyError, StopIteration, ConfigError,
                    zeep.exceptions.Error):
                missing.append(label)
            else:
                found.append(label)
        return found, missing

    def check(self) -> ConnectionCheck:
        try:
            self.client  # noqa: B018  (loads the connection's WSDL: reachable, authorised?)
        except ConfigError as exc:
            return ConnectionCheck(reachable=False, authorised=False, detail=str(exc))
        except ConnectorError as exc:
            return ConnectionCheck(reachable=isinstance(exc, AuthError), authorised=False,
                                   detail=str(exc))
        found, missing = self.operations()
        services = ", ".join(sorted({s for c in self._clients.values() for s in c.wsdl.services}))
        wsdls = ", ".join(self._clients) or self.config.wsdl
        detail = (f"WSDL {wsdls} loaded (services: {services or 'none'}); mapped operations "
                  f"found: {', '.join(found) or 'none'}")
        warnings = [f"mapped operation not in the WSDL: {label}" for label in missing]
        probe = next((m for m in (self.mapping.customers, self.mapping.products)
                      if m is not None), None)
        if probe is not None and not missing:
            try:
                self._read_call(probe, None, None, 1, ())
            except ConnectorError as exc:
                return ConnectionCheck(reachable=True, authorised=not isinstance(exc, AuthError),
                                       detail=f"{detail}; a test read failed: {exc}",
                                       warnings=warnings)
        return ConnectionCheck(reachable=True, authorised=True, detail=detail,
                               warnings=warnings)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                session = getattr(client.transport, "session", None)
                if session is not None:
                    session.close()
            self._services.clear()


Target = EntityMapping | RewardMapping
"""What a SOAP call is made for: a stream's or a reward document's mapping."""
