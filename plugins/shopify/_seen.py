"""What this connection's customer reads delivered: per customer its tags and the metafields
of the namespace with their ``compareDigest`` — so a write batch need not read them again.

The sync imports a target's customers and then writes to them moments later; reading each
batch's owners again cost 86 % of a first sync's points (issue 18). Instead the writer takes
the digest from here and sends it with ``metafieldsSet``: Shopify sets a metafield only if "the
persisted metafield value matches the digest used on compareDigest", and ``compareDigest: null``
means "the metafield must not exist yet"
(https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet). A value changed
by anyone since our read is refused (``STALE_OBJECT``) and re-read, never overwritten.

So an entry can only be *old*, never unsafe: the worst an outdated entry costs is one refused
call and a re-read. Owners never read by this connector, and metafields whose digest we do not
know (after our own write: the payload does not say which owner a returned metafield belongs
to), are read before writing, as before.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN = ""
"""A digest we do not know (our own write replaced the value): the owner is read again."""
_PAGE = 20  # the reads' ``metafields(first: 20, namespace:)``: a full page may have more


@dataclass(frozen=True, slots=True)
class SeenOwner:
    """One owner as a read delivered it. ``complete``: the read held all of the namespace's
    metafields, so a key missing here does not exist (its ``compareDigest`` is null)."""

    tags: tuple[str, ...]
    metafields: Mapping[str, tuple[str, str, str]]  # key → (type, value, compareDigest)
    complete: bool


class SeenValues:
    """Owner gid → :class:`SeenOwner`, filled by the reads, used and updated by the writes.

    One per connector (one per connection and run in the CLI): the import's lane thread fills
    it, the target's writer thread reads it, hence the lock."""

    def __init__(self, tag_prefixes: Iterable[str]) -> None:
        self._owners: dict[str, SeenOwner] = {}
        self._lock = threading.Lock()
        self._tag_prefixes = tuple(f"{key}:" for key in tag_prefixes)

    def __len__(self) -> int:
        return len(self._owners)

    def remember(self, node: dict[str, Any]) -> None:
        """A customer node of a paged or bulk read (``id``, ``tags``, ``metafields``)."""
        metafields = (node.get("metafields") or {}).get("nodes") or []
        if any("compareDigest" not in m for m in metafields):
            return  # a document that did not ask for digests (an old cursor's) teaches nothing
        # Only the tags of tag attributes are ever compared (memory: a page, not the shop).
        tags = tuple(t for t in node.get("tags") or () if t.startswith(self._tag_prefixes))
        owner = SeenOwner(
            tags=tags,
            metafields={sys.intern(m["key"]): (sys.intern(m["type"]), m["value"],
                                               m["compareDigest"])
                        for m in metafields},
            complete=len(metafields) < _PAGE)
        with self._lock:
            self._owners[str(node["id"])] = owner

    def known(self, wanted: Mapping[str, Collection[str]]) -> dict[str, SeenOwner]:
        """Of ``wanted`` (owner → the keys a batch writes there), the owners whose keys all
        have a known digest or are known to be absent; the others must be read."""
        with self._lock:
            found = {o: self._owners[o] for o in wanted if o in self._owners}
        return {owner: seen for owner, seen in found.items()
                if all(seen.metafields.get(key, ("", "", "-" if seen.complete else UNKNOWN))[2]
                       != UNKNOWN for key in wanted[owner])}

    def written(self, owner: str, metafields: Mapping[str, tuple[str, str] | None]) -> None:
        """Our own write landed: the values are known, their new digests are not (None: the
        metafield was deleted, so it is known to be absent)."""
        with self._lock:
            seen = self._owners.get(owner)
            if seen is None:
                return
            merged = dict(seen.metafields)
            for key, value in metafields.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = (value[0], value[1], UNKNOWN)
            self._owners[owner] = SeenOwner(tags=seen.tags, metafields=merged,
                                            complete=seen.complete)

    def tags_written(self, owner: str, added: Collection[str], removed: Collection[str]
                     ) -> None:
        with self._lock:
            seen = self._owners.get(owner)
            if seen is not None:
                tags = (set(seen.tags) - set(removed)) | set(added)
                self._owners[owner] = SeenOwner(tags=tuple(sorted(tags)),
                                                metafields=seen.metafields,
                                                complete=seen.complete)

    def forget(self, owners: Iterable[str]) -> None:
        with self._lock:
            for owner in owners:
                self._owners.pop(owner, None)
