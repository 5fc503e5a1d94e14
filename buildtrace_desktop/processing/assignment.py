"""Optimal one-to-one assignment (the Hungarian method), for pairing sheets on scored evidence.

NumPy only: the sets left to it after sheets are paired by their numbers are small, and a dependency
the size of SciPy for one function is not worth it.
"""
from __future__ import annotations

import numpy as np


def best_pairs(scores: np.ndarray, floor: float) -> list[tuple[int, int]]:
    """Rows and columns paired one to one so that the total score of the pairs is largest, using only
    pairs scoring at least `floor` (a pair below it is worth less than leaving both unpaired)."""
    if scores.size == 0:
        return []
    gain = np.where(np.isfinite(scores), scores - floor, -1.0)
    cost = -np.maximum(gain, 0.0)
    transposed = cost.shape[0] > cost.shape[1]
    columns = _hungarian(cost.T if transposed else cost)
    pairs = [(c, r) if transposed else (r, c) for r, c in enumerate(columns)]
    return sorted((r, c) for r, c in pairs if gain[r, c] >= 0)


def _hungarian(cost: np.ndarray) -> list[int]:
    """Column of each row minimising the total cost; `cost` is n x m with n <= m (e-maxx's O(n^2 m)
    shortest augmenting paths with potentials, the inner loop vectorised)."""
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, int)  # row (1-based) assigned to each column; column 0 is the root
    way = np.zeros(m + 1, int)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            masked = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(masked)) + 1
            delta = masked[j1 - 1]
            taken = np.nonzero(used)[0]
            u[owner[taken]] += delta
            v[taken] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    columns = [-1] * n
    for j in range(1, m + 1):
        if owner[j]:
            columns[owner[j] - 1] = j - 1
    return columns
