"""The plan MILP's pairs in flat arrays (instance.py, problem.py): a vectorised join on keys, and
keep / drop operations on network forests, where each pair has a parent pair (-1: joined to the site)."""

from __future__ import annotations

import numpy as np


def expand(keys: np.ndarray, item_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (position in keys, item) with item_key[item] == keys[position], vectorised."""
    order = np.argsort(item_key, kind="stable")
    counts = np.bincount(item_key, minlength=int(max(keys.max(initial=-1), item_key.max(initial=-1))) + 1)
    rep = np.repeat(np.arange(len(keys)), counts[keys])
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(counts[keys]) - counts[keys], counts[keys])
    return rep, order[np.repeat((np.cumsum(counts) - counts)[keys], counts[keys]) + offset]


def reindex(parent: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Parent pointers after keeping the pairs `keep` (the parents of kept pairs must be kept)."""
    new = np.cumsum(keep) - 1
    return np.where(parent[keep] >= 0, new[np.maximum(parent[keep], 0)], -1)


def with_ancestors(keep: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """`keep` extended to every ancestor (parent, grandparent, ...) of a kept pair."""
    keep = keep.copy()
    frontier = keep & (parent >= 0)
    while frontier.any():
        up = parent[frontier]
        new = up[~keep[up]]
        keep[new] = True
        frontier = np.zeros_like(keep)
        frontier[new] = True
        frontier &= parent >= 0
    return keep


def reachable(avail: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """`avail` restricted to pairs whose every ancestor is available too."""
    avail = avail.copy()
    child = parent >= 0
    while True:
        drop = avail & child & ~avail[np.maximum(parent, 0)]
        if not drop.any():
            return avail
        avail[drop] = False
