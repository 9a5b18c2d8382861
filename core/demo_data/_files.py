"""``generate()``: write a demo merchant as JSON Lines files plus a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ._merchant import DEFAULT_AS_OF, DemoMerchant

FILES = {
    "customers": "customers.jsonl",
    "products": "products.jsonl",
    "orders": "orders.jsonl",
    "installed_base": "installed_base.jsonl",
}
MANIFEST = "manifest.json"
_BATCH = 2000


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate` wrote. ``seconds`` is the only field that varies between runs."""

    out_dir: Path
    seed: int
    parameters: dict[str, Any]
    counts: dict[str, int]
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"out_dir": str(self.out_dir), "seed": self.seed, "parameters": self.parameters,
                "counts": self.counts, "files": {k: str(p) for k, p in self.files.items()},
                "seconds": round(self.seconds, 3)}


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(record: dict[str, Any]) -> str:
    """One JSON Lines line (without the newline): compact, UTF-8, keys in model order."""
    return _encode(record)


def _write_jsonl(path: Path, lines: Iterable[str]) -> tuple[int, str]:
    """Write atomically (temp file, then rename); return (lines, sha256 of the bytes)."""
    digest = hashlib.sha256()
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        for chunk in _chunks(lines):
            data = ("\n".join(chunk) + "\n").encode()
            digest.update(data)
            fh.write(data)
            count += len(chunk)
    os.replace(tmp, path)
    return count, digest.hexdigest()


def _chunks(lines: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= _BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate(out_dir: Path, *, seed: int = 1, customers: int = 1000, products: int | None = None,
             years: int = 2, as_of: date = DEFAULT_AS_OF) -> DemoSummary:
    """Write ``customers.jsonl``, ``products.jsonl``, ``orders.jsonl``, ``installed_base.jsonl``
    and ``manifest.json`` (parameters, counts, file digests and the ground truth) to ``out_dir``.

    The output is byte-identical for the same parameters, whenever and wherever it runs.
    """
    started = time.perf_counter()
    merchant = DemoMerchant(seed=seed, customers=customers, products=products, years=years,
                            as_of=as_of)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams: dict[str, Iterable[str]] = {
        "products": map(_encode, merchant.iter_products()),
        "customers": map(_encode, merchant.iter_customers()),
        "orders": merchant.iter_orders_json(),
        "installed_base": map(_encode, merchant.iter_installed_base()),
    }
    files: dict[str, Path] = {}
    digests: dict[str, dict[str, Any]] = {}
    for key, name in FILES.items():
        path = out / name
        lines, sha = _write_jsonl(path, streams[key])
        files[key] = path
        digests[key] = {"file": name, "lines": lines, "sha256": sha}
    manifest = merchant.manifest()
    manifest["files"] = digests
    manifest_path = out / MANIFEST
    tmp = manifest_path.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    files["manifest"] = manifest_path
    return DemoSummary(out, seed, merchant.parameters(), merchant.counts(), files,
                       time.perf_counter() - started)
