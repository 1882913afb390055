"""Array helpers the measures share."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct"]


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: ``np.unique`` by a sort.

    NumPy 2.3+ finds the distinct values of an integer array with a hash table before
    sorting them, which on the default data's arc keys (a·n + b up to 2.5·10⁹) is two
    orders of magnitude slower than sorting: 21 s against 0.13 s for 2 million keys on
    NumPy 2.4 (measured)."""
    x = np.sort(np.asarray(keys), kind="stable")
    if len(x) < 2:
        return x
    return x[np.concatenate(([True], x[1:] != x[:-1]))]
