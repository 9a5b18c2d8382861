"""The customer-attribute sync between the ERP and the shops (``shoploop sync customers``).

    from shoploop.sync.job import SyncOptions, sync_customers

    report = sync_customers(host, config, store, connections, SyncOptions(dry_run=True))
    report.as_dict()["targets"]["shop"]["changed"]

The mapping lives in the config's ``[sync]`` table (docs/sync.md). This package's top level
holds the mapping only and imports no SQLAlchemy (the config loader imports it at start-up);
the job, :mod:`shoploop.sync.job`, is imported explicitly by its users.
"""

from ._mapping import Rule, SyncMapping, TransformFailed, resolve_mapping
from ._settings import DERIVED, AttributeSpec, SyncSettings, TargetSpec

__all__ = [
    "DERIVED",
    "AttributeSpec",
    "Rule",
    "SyncMapping",
    "SyncSettings",
    "TargetSpec",
    "TransformFailed",
    "resolve_mapping",
]
