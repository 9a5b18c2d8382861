"""Customer attributes as metafields and tags, written only where they changed.

One batch: take the owners' current values from what this connector's import read moments
earlier (:mod:`._seen`, with each metafield's ``compareDigest``), drop what is already there
(``unchanged``), and send the rest in *full* ``metafieldsSet`` calls of 25 (the documented
maximum; the call is atomic), each metafield with the digest it was read with (``null``: it did
not exist). Shopify refuses a metafield changed by someone else since (``STALE_OBJECT``, "The
metafield has been modified since it was loaded",
https://shopify.dev/docs/api/admin-graphql/latest/enums/MetafieldsSetUserErrorCode); only those
owners are read again and decided again: our own value (a retried call that had succeeded) is
``written``, the value the caller planned from (``old``) is sent once more with the fresh
digest, anything else is a ``conflict`` — never overwritten. Owners the import did not read,
and those with a clear or a type change (``metafieldsDelete`` takes no digest), are read
before writing, as before. Tags go through ``tagsAdd``/``tagsRemove`` — never
``customerUpdate(tags:)``, which replaces all tags — aliased many to a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shoploop.hooks import AttributeChange, WriteResult, WriteStatus

from . import _queries
from ._client import GraphQLClient
from ._mapping import encode_value, to_gid
from ._seen import SeenValues

METAFIELDS_PER_CALL = 25  # metafieldsSet: "Allows a maximum of 25 metafields to be set at a time"
TAG_FIELDS_PER_CALL = 10  # 10 mutation fields = 100 points per request
_KEY = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


@dataclass
class Current:
    """What an owner holds now: tags and metafields by (namespace, key)."""

    tags: set[str] = field(default_factory=set)
    metafields: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def read_current(client: GraphQLClient, owners: Sequence[str], keys: Sequence[str],
                 operation: str) -> dict[str, Current]:
    """Current tags and metafields ``keys`` ("namespace.key") of ``owners`` (gids). Keys go
    25 to a request (the page of ``metafields(keys:)``), owners as many as the budget allows."""
    found: dict[str, Current] = {}
    groups = [list(keys[i:i + 25]) for i in range(0, len(keys), 25)] or [[]]
    for group in groups:
        per_node = 1 + 2 + max(1, len(group))
        step = max(1, min(250, client.read_budget(operation) // per_node))
        query = _queries.current_values(max(1, len(group)))
        for start in range(0, len(owners), step):
            chunk = list(owners[start:start + step])
            data = client.execute(query, {"ids": chunk, "keys": group}, operation=operation)
            for owner_id, node in zip(chunk, data["nodes"], strict=True):
                if not node:
                    continue
                current = found.setdefault(owner_id, Current())
                current.tags = set(node.get("tags") or [])
                for metafield in node["metafields"]["nodes"]:
                    current.metafields[(metafield["namespace"], metafield["key"])] = metafield
    return found


class AttributeWriter:
    def __init__(self, client: GraphQLClient, namespace: str, tag_keys: Sequence[str],
                 owner_kind: str = "Customer", seen: SeenValues | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self.tag_keys = set(tag_keys)
        self.kind = owner_kind
        self.seen = seen
        self.operation = "write_customer_attributes"

    def write(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(changes)
        current = self._current(changes)
        sets: list[tuple[list[int], dict[str, Any]]] = []
        deletes: list[tuple[list[int], dict[str, Any]]] = []
        tag_ops: dict[str, tuple[list[int], set[str], set[str]]] = {}
        last = {(c.customer_id, c.key): i for i, c in enumerate(changes)}
        for index, change in enumerate(changes):
            owner = to_gid(self.kind, change.customer_id)
            state = current.get(owner)
            if last[(change.customer_id, change.key)] != index:
                results[index] = _result(change, WriteStatus.UNCHANGED,
                                         "superseded by a later change of the same key")
                continue
            if state is None:
                results[index] = _result(change, WriteStatus.FAILED,
                                         f"no {self.kind.lower()} {change.customer_id}")
                continue
            if change.key in self.tag_keys:
                self._plan_tags(index, change, owner, state, tag_ops, results)
                continue
            if not _KEY.match(change.key):
                results[index] = _result(change, WriteStatus.FAILED,
                                         "metafield keys are 2-64 characters of A-Z, a-z, "
                                         "0-9, '-' and '_'")
                continue
            existing = state.metafields.get((self.namespace, change.key))
            wanted = encode_value(change.new)
            have = (existing["type"], existing["value"]) if existing else None
            if wanted == have:
                results[index] = _result(change, WriteStatus.UNCHANGED)
                continue
            identifier = {"ownerId": owner, "namespace": self.namespace, "key": change.key}
            if wanted is None or (have is not None and have[0] != wanted[0]):
                deletes.append(([index] if wanted is None else [], identifier))
            if wanted is not None:
                digest = existing["compareDigest"] if existing and have and \
                    have[0] == wanted[0] else None
                sets.append(([index], {**identifier, "type": wanted[0], "value": wanted[1],
                                       "compareDigest": digest}))
        self._delete(deletes, changes, results)
        self._set(sets, changes, results)
        self._tags(tag_ops, changes, results)
        return [r if r is not None else _result(changes[i], WriteStatus.WRITTEN)
                for i, r in enumerate(results)]

    def _current(self, changes: Sequence[AttributeChange]) -> dict[str, Current]:
        """The owners' values: from the import's read where it holds every key with its
        digest (:mod:`._seen`), else read now — as are owners with a clear or a type change,
        because ``metafieldsDelete`` takes no ``compareDigest``: reading just before keeps the
        window in which another user's value could be deleted to one round trip."""
        owners = sorted({to_gid(self.kind, c.customer_id) for c in changes})
        keys = sorted({c.key for c in changes if c.key not in self.tag_keys})
        written: dict[str, set[str]] = {owner: set() for owner in owners}  # owner → its keys
        for change in changes:
            if change.key not in self.tag_keys:
                written[to_gid(self.kind, change.customer_id)].add(change.key)
        known = self.seen.known(written) if self.seen is not None else {}
        for change in changes:
            owner = to_gid(self.kind, change.customer_id)
            seen = known.get(owner)
            if seen is None or change.key in self.tag_keys:
                continue
            have, wanted = seen.metafields.get(change.key), encode_value(change.new)
            if have is not None and (wanted is None or wanted[0] != have[0]):
                del known[owner]  # a delete ahead: read it fresh
        current = {owner: Current(tags=set(seen.tags), metafields={
            (self.namespace, key): {"namespace": self.namespace, "key": key, "type": type_,
                                    "value": value, "compareDigest": digest}
            for key, (type_, value, digest) in seen.metafields.items()})
            for owner, seen in known.items()}
        unread = [owner for owner in owners if owner not in known]
        if unread:
            current.update(read_current(self.client, unread,
                                        [f"{self.namespace}.{key}" for key in keys],
                                        self.operation))
        return current

    # -- metafields ---------------------------------------------------------------------------

    def _delete(self, deletes: list[tuple[list[int], dict[str, Any]]],
                changes: Sequence[AttributeChange], results: list[WriteResult | None]) -> None:
        for start in range(0, len(deletes), METAFIELDS_PER_CALL):
            chunk = deletes[start:start + METAFIELDS_PER_CALL]
            data = self.client.execute(_queries.METAFIELDS_DELETE,
                                       {"metafields": [item for _, item in chunk]},
                                       operation=self.operation)
            errors = data["metafieldsDelete"]["userErrors"]
            if not errors and self.seen is not None:
                for _, item in chunk:
                    self.seen.written(item["ownerId"], {item["key"]: None})
            for indices, _ in chunk:
                for index in indices:
                    results[index] = _result(changes[index], WriteStatus.FAILED,
                                             errors[0]["message"]) if errors else \
                        _result(changes[index], WriteStatus.WRITTEN)

    def _set(self, sets: list[tuple[list[int], dict[str, Any]]],
             changes: Sequence[AttributeChange], results: list[WriteResult | None],
             *, decide_again: bool = True) -> None:
        pending = list(sets)
        stale: list[tuple[list[int], dict[str, Any]]] = []
        # An atomic call failed by some inputs is resent without them ("no changes are
        # persisted if an error is encountered"); each round drops at least one input.
        while pending:
            retry: list[tuple[list[int], dict[str, Any]]] = []
            for start in range(0, len(pending), METAFIELDS_PER_CALL):
                chunk = pending[start:start + METAFIELDS_PER_CALL]
                data = self.client.execute(_queries.METAFIELDS_SET,
                                           {"metafields": [item for _, item in chunk]},
                                           operation=self.operation)
                errors = data["metafieldsSet"]["userErrors"]
                bad = {e.get("elementIndex"): e for e in errors}
                if errors and None in bad:  # an error without an index fails the whole call
                    for indices, _ in chunk:
                        for index in indices:
                            results[index] = _result(changes[index], WriteStatus.FAILED,
                                                     bad[None]["message"])
                    continue
                if not errors:
                    self._landed(item for _, item in chunk)
                    continue
                for position, item in enumerate(chunk):
                    error = bad.get(position)
                    if error is None:
                        retry.append(item)
                    elif error.get("code") == "STALE_OBJECT":
                        stale.append(item)
                    else:
                        for index in item[0]:
                            results[index] = _result(changes[index], WriteStatus.FAILED,
                                                     str(error.get("message")))
            pending = retry
        self._settle_stale(stale, changes, results, decide_again=decide_again)

    def _landed(self, items: Iterable[dict[str, Any]]) -> None:
        if self.seen is not None:
            for item in items:
                self.seen.written(item["ownerId"], {item["key"]: (item["type"], item["value"])})

    def _settle_stale(self, stale: list[tuple[list[int], dict[str, Any]]],
                      changes: Sequence[AttributeChange], results: list[WriteResult | None],
                      *, decide_again: bool) -> None:
        """Re-read only the refused owners and decide again. The metafield holds our value:
        our own earlier attempt of this call succeeded before its answer was lost (written).
        It holds the value the caller planned from (``old``): only our digest was outdated, so
        it is sent once more with the fresh one. Anything else is someone else's value: a
        ``conflict``, left as it is (the next run's policy decides)."""
        if not stale:
            return
        owners = sorted({item["ownerId"] for _, item in stale})
        keys = sorted({f"{item['namespace']}.{item['key']}" for _, item in stale})
        current = read_current(self.client, owners, keys, self.operation)
        again: list[tuple[list[int], dict[str, Any]]] = []
        for indices, item in stale:
            state = current.get(item["ownerId"])
            now = state.metafields.get((item["namespace"], item["key"])) if state else None
            have = (now["type"], now["value"]) if now else None
            if have == (item["type"], item["value"]):
                self._landed([item])
                for index in indices:
                    results[index] = _result(changes[index], WriteStatus.WRITTEN)
            elif decide_again and indices and have == encode_value(changes[indices[-1]].old):
                again.append((indices, {**item, "compareDigest": now["compareDigest"]
                                        if now else None}))
            else:
                for index in indices:
                    results[index] = _result(changes[index], WriteStatus.CONFLICT,
                                             "the metafield changed in Shopify since it was "
                                             "read; left as it is")
        if again:
            self._set(again, changes, results, decide_again=False)

    # -- tags ---------------------------------------------------------------------------------

    def _plan_tags(self, index: int, change: AttributeChange, owner: str, state: Current,
                   tag_ops: dict[str, tuple[list[int], set[str], set[str]]],
                   results: list[WriteResult | None]) -> None:
        prefix = f"{change.key}:"
        values = change.new if isinstance(change.new, list) else \
            [] if change.new in (None, "") else [change.new]
        wanted = {f"{prefix}{value}" for value in values}
        have = {tag for tag in state.tags if tag.startswith(prefix)}
        if wanted == have:
            results[index] = _result(change, WriteStatus.UNCHANGED)
            return
        indices, add, remove = tag_ops.setdefault(owner, ([], set(), set()))
        indices.append(index)
        add |= wanted - have
        remove |= have - wanted

    def _tags(self, tag_ops: dict[str, tuple[list[int], set[str], set[str]]],
              changes: Sequence[AttributeChange], results: list[WriteResult | None]) -> None:
        adds = [(owner, sorted(add)) for owner, (_, add, _) in tag_ops.items() if add]
        removes = [(owner, sorted(rm)) for owner, (_, _, rm) in tag_ops.items() if rm]
        calls = [("a", adds[i:i + TAG_FIELDS_PER_CALL])
                 for i in range(0, len(adds), TAG_FIELDS_PER_CALL)]
        calls += [("r", removes[i:i + TAG_FIELDS_PER_CALL])
                  for i in range(0, len(removes), TAG_FIELDS_PER_CALL)]
        failed: dict[str, str] = {}
        for prefix, chunk in calls:
            variables: dict[str, Any] = {}
            for i, (owner, tags) in enumerate(chunk):
                variables[f"{prefix}{i}id"], variables[f"{prefix}{i}tags"] = owner, tags
            document = _queries.tags_mutation(len(chunk) if prefix == "a" else 0,
                                              len(chunk) if prefix == "r" else 0)
            data = self.client.execute(document, variables, operation="write_tags")
            for i, (owner, _) in enumerate(chunk):
                errors = (data.get(f"{prefix}{i}") or {}).get("userErrors") or []
                if errors:
                    failed[owner] = str(errors[0].get("message"))
        for owner, (indices, add, remove) in tag_ops.items():
            if self.seen is not None and owner in failed:  # what it holds now is unknown
                self.seen.forget([owner])
            elif self.seen is not None:
                self.seen.tags_written(owner, add, remove)
            for index in indices:
                results[index] = _result(changes[index], WriteStatus.FAILED, failed[owner]) \
                    if owner in failed else _result(changes[index], WriteStatus.WRITTEN)


def _result(change: AttributeChange, status: WriteStatus, message: str = "") -> WriteResult:
    return WriteResult(customer_id=change.customer_id, key=change.key, status=status,
                       message=message)
