"""Array helpers the model's fitting shares."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def unique_sorted(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The distinct values, ascending — ``np.unique(values)`` by one sort. NumPy 2.x answers
    a plain ``np.unique`` of integers with a hash table, which on millions of int64 keys was
    15x slower than sorting (3.4 s against 0.2 s for 4M keys, numpy 2.4, bench_reco)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
