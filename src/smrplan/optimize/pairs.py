"""The plan MILP's pairs in flat arrays (instance.py, problem.py): a vectorised join on keys, and
keep / drop operations on network forests, where each pair has a parent pair (-1: joined to the site)."""

from __future__ import annotations

import numpy as np


def expand(keys: np.ndarray, item_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (position in keys, item) with item_key[item] == keys[position], vectorised.

    Parameters
    ----------
    keys : numpy.ndarray
        Non-negative integer keys (e.g. the site of each pair).
    item_key : numpy.ndarray
        Non-negative integer key of each item (e.g. the site of each facility).

    Returns
    -------
    position, item : numpy.ndarray
        Every matching (position, item), by position then by item in stable key order.
    """
    order = np.argsort(item_key, kind="stable")
    counts = np.bincount(item_key, minlength=int(max(keys.max(initial=-1), item_key.max(initial=-1))) + 1)
    rep = np.repeat(np.arange(len(keys)), counts[keys])
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(counts[keys]) - counts[keys], counts[keys])
    return rep, order[np.repeat((np.cumsum(counts) - counts)[keys], counts[keys]) + offset]


def reindex(parent: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Parent pointers after keeping some pairs.

    Parameters
    ----------
    parent : numpy.ndarray
        Parent pair of each pair (-1: joined to the site).
    keep : numpy.ndarray
        Pairs kept (bool); the parents of kept pairs must be kept.

    Returns
    -------
    numpy.ndarray
        Parent of each kept pair, as an index into the kept pairs (-1: joined to the site).
    """
    new = np.cumsum(keep) - 1
    return np.where(parent[keep] >= 0, new[np.maximum(parent[keep], 0)], -1)


def with_ancestors(keep: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Pairs kept, extended to every ancestor (parent, grandparent, ...) of a kept pair.

    Parameters
    ----------
    keep : numpy.ndarray
        Pairs kept (bool); not modified.
    parent : numpy.ndarray
        Parent pair of each pair (-1: joined to the site).

    Returns
    -------
    numpy.ndarray
        `keep` with the ancestors of kept pairs (bool).
    """
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
    """Available pairs whose every ancestor is available too.

    Parameters
    ----------
    avail : numpy.ndarray
        Available pairs (bool); not modified.
    parent : numpy.ndarray
        Parent pair of each pair (-1: joined to the site).

    Returns
    -------
    numpy.ndarray
        `avail` without the pairs that have an unavailable ancestor (bool).
    """
    avail = avail.copy()
    child = parent >= 0
    while True:
        drop = avail & child & ~avail[np.maximum(parent, 0)]
        if not drop.any():
            return avail
        avail[drop] = False
