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


def unique_counts_sorted(values: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                                  npt.NDArray[np.int64]]:
    """``np.unique(values, return_counts=True)`` by one sort (see :func:`unique_sorted`)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.diff(np.concatenate((starts, [len(ordered)]))).astype(np.int64)


def dense_inverse(values: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.int64], int]:
    """``np.unique(values, return_inverse=True)``'s inverse and the number of distinct values,
    for non-negative integers bounded by their count (the pool's dense order numbers): one
    pass over a presence table, no sort, no hash."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), 0
    present = np.zeros(int(values.max()) + 1, dtype=bool)
    present[values] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    return rank[values], int(rank[-1]) + 1
