"""Shopify's calculated query cost and the leaky bucket that meters it.

The rules follow the GraphQL Admin API rate-limit docs (shopify.dev/docs/apps/build/apis/
graphql-admin/rate-limits): scalars and enums cost 0, objects 1, a connection 2 plus ``first``
times its node's cost, every mutation field 10. The *requested* cost is computed from the query
before it runs and must be available in the bucket, otherwise the answer is a ``THROTTLED``
error inside HTTP 200; afterwards the difference to the *actual* cost (connections counted with
the number of nodes really returned) is refunded. A single query above 1,000 points is refused
outright (``MAX_COST_EXCEEDED``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    value_from_ast_untyped,
)

MAX_QUERY_COST = 1000
MUTATION_COST = 10
DEFAULT_PAGE = 50  # what a connection without first/last is costed at


class CostCalculator:
    """Requested and actual cost of one operation. ``data`` (the result) turns requested into
    actual cost: connections are then charged for the nodes they returned."""

    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode,
                 fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = dict(variables)

    def cost(self, data: Any = None) -> int:
        if self.operation.operation.value == "mutation":
            fields = [s for s in self.operation.selection_set.selections
                      if isinstance(s, FieldNode) and not s.name.value.startswith("__")]
            return MUTATION_COST * len(fields)
        root = self.schema.query_type
        assert root is not None
        return self._selection(self.operation.selection_set, root, data, measured=data is not None)

    def _arg(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _fields(self, selection_set: SelectionSetNode) -> list[FieldNode]:
        """Every field of a selection, fragments flattened (for connection internals)."""
        out: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                out.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                out.extend(self._fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    out.extend(self._fields(fragment.selection_set))
        return out

    def _selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any,
                   measured: bool) -> int:
        """Fields directly selected, plus the most expensive of the type-conditioned
        fragments (an interface or union costs the maximum of its possible selections)."""
        if selection_set is None:
            return 0
        total, fragments = 0, [0]
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._one(selection, parent, data, measured)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner, condition = selection.selection_set, selection.type_condition
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                inner, condition = fragment.selection_set, fragment.type_condition
            else:
                continue
            target = self.schema.get_type(condition.name.value) if condition else parent
            if measured and isinstance(data, dict) and condition is not None and \
                    data.get("__typename", condition.name.value) != condition.name.value:
                continue
            fragments.append(self._selection(inner, target or parent, data, measured))
        return total + max(fragments)

    def _one(self, field: FieldNode, parent: Any, data: Any, measured: bool) -> int:
        name = field.name.value
        if name.startswith("__"):
            return 0
        field_type = self._field_type(parent, name)
        if field_type is None:
            return 0
        key = field.alias.value if field.alias else name
        child = data.get(key) if isinstance(data, dict) else None
        return self._field(field, field_type, child, measured)

    @staticmethod
    def _field_type(parent: Any, name: str) -> Any:
        types = [parent]
        if isinstance(parent, GraphQLUnionType):
            types = list(parent.types)
        for candidate in types:
            if isinstance(candidate, GraphQLObjectType | GraphQLInterfaceType):
                definition = candidate.fields.get(name)
                if definition is not None:
                    return definition.type
        return None

    def _field(self, field: FieldNode, field_type: Any, data: Any, measured: bool) -> int:
        inner = field_type.of_type if is_non_null_type(field_type) else field_type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            size = self._arg(field, "first") or self._arg(field, "last") or DEFAULT_PAGE
            if measured and isinstance(data, dict):
                nodes = data.get("nodes") if "nodes" in data else data.get("edges")
                size = len(nodes or [])
            sample = _first_node(data) if measured else None
            node_cost = max(1, self._connection_node(field.selection_set, named, sample,
                                                     measured))
            return 2 + int(size) * node_cost
        if is_list_type(inner):
            ids = self._arg(field, "ids")
            if not isinstance(ids, list):  # a plain list of objects (addresses): one object
                return 1 + self._selection(field.selection_set, named, None, False)
            if measured:
                items = data if isinstance(data, list) else []
                return sum(1 + self._selection(field.selection_set, named, item, measured)
                           for item in items)
            return len(ids) * (1 + self._selection(field.selection_set, named, None, False))
        if measured and data is None:
            return 1
        return 1 + self._selection(field.selection_set, named, data, measured)

    def _connection_node(self, selection_set: SelectionSetNode | None, connection: Any,
                         sample: Any, measured: bool) -> int:
        """Cost of one node of a connection (edges/node and nodes are the same node)."""
        if selection_set is None:
            return 1
        best = 1
        for field in self._fields(selection_set):
            name = field.name.value
            if name == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                best = max(best, 1 + self._selection(field.selection_set, node_type, sample,
                                                     measured))
            elif name == "edges":
                edge_type = get_named_type(connection.fields["edges"].type)
                for edge_field in self._fields(field.selection_set) if field.selection_set \
                        else []:
                    if edge_field.name.value == "node":
                        node_type = get_named_type(edge_type.fields["node"].type)
                        best = max(best, 1 + self._selection(edge_field.selection_set,
                                                             node_type, sample, measured))
        return best


def _first_node(data: Any) -> Any:
    if not isinstance(data, dict):
        return None
    if data.get("nodes"):
        return data["nodes"][0]
    if data.get("edges"):
        edge = data["edges"][0]
        return edge.get("node") if isinstance(edge, dict) else None
    return None


class LeakyBucket:
    """Points available to one app on one shop: refills continuously at ``restore_rate`` up to
    ``maximum``. Thread-safe; the clock is injectable so tests need no sleeps."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = float(maximum)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = float(maximum)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum,
                              self._available + (now - self._stamp) * self.restore_rate)
        self._stamp = now

    def take(self, cost: float) -> bool:
        """Deduct ``cost`` if available; False (nothing deducted) when throttled."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(0.0, points))

    def status(self) -> dict[str, float]:
        with self._lock:
            self._refill()
            return {"maximumAvailable": self.maximum,
                    "currentlyAvailable": round(self._available, 1),
                    "restoreRate": self.restore_rate}
