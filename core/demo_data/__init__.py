"""Deterministic demo data: a realistic coffee-equipment merchant with B2B and B2C customers.

Two ways to use it:

- :func:`generate` writes ``customers.jsonl``, ``products.jsonl``, ``orders.jsonl``,
  ``installed_base.jsonl`` and ``manifest.json`` (``shoploop demo-data`` on the command line);
- :class:`DemoMerchant` streams the same records as plain dicts, for platform emulators.

Every record has exactly the JSON shape of the matching :mod:`shoploop.hooks` model
(``Customer``, ``Product``, ``Order``, ``InstalledEquipment``). The same parameters give the same
bytes on any machine and any day (``DEFAULT_AS_OF`` is a fixed date, every random draw comes from
a generator seeded by SHA-512 of ``seed`` and the entity). The manifest's ``ground_truth`` lists
what the data was built to contain — complementary pairs, premium variants, repurchase cycles,
spare parts per machine, service intervals — so tests and evaluations can check that the engines
find it.
"""

from __future__ import annotations

from ._files import FILES, MANIFEST, DemoSummary, dumps, generate
from ._merchant import DEFAULT_AS_OF, DemoMerchant, Record, default_products

__all__ = [
    "DEFAULT_AS_OF",
    "FILES",
    "MANIFEST",
    "DemoMerchant",
    "DemoSummary",
    "Record",
    "default_products",
    "dumps",
    "generate",
]
