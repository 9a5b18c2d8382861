"""How many candidates a built-in strategy returns for a request of ``k``."""

from __future__ import annotations

CANDIDATES = 2
"""Candidates returned: this times ``request.k``, the best by the strategy's score. The rules
may veto some, hence more than ``k``; few enough that a lookup builds few objects (each
candidate is a validated ``Recommendation``, copied as the core merges and ranks them — at
150 partners of a cart of three that was most of a 2-3 ms lookup)."""
