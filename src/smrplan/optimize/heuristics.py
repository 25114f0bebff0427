"""Plans of the MILP without the solver: the greedy add-one-plant heuristic (the warm start) and the
pricing of a plan given by its served pairs (which also polishes the solver's plan).

Greedy: each round, every free site offers its best technology with the most profitable run of its
nearest still-available units, and the offers that no better offer overlaps are built; rounds repeat
until no offer saves money or `max_sites` is met. Evaluation: each used site gets its cheapest
technology and module count for the units it serves (`problem.plant_cost`), and optionally a plant
costing more than its units alone is closed.
"""

from __future__ import annotations

import numpy as np

from smrplan.optimize.pairs import reachable
from smrplan.optimize.problem import TOL, Problem, Solution, plant_cost


def greedy_plan(p: Problem) -> np.ndarray:
    """Greedy add-one-plant heuristic.

    Each round every free site offers its most profitable (technology, run of its nearest available
    units in distance order) and the offers not overlapped by a better one are built; rounds repeat
    until no offer saves money or max_sites is met. A run in distance order always contains each
    member's network parent.

    Parameters
    ----------
    p : Problem
        The MILP in arrays.

    Returns
    -------
    numpy.ndarray
        Served pairs (bool per pair of `p`).
    """
    pu, ps = p.pair_unit, p.pair_site
    fac_of = _site_facilities(p)
    claimed, used = np.zeros(len(p.E), bool), np.zeros(p.n_sites, bool)
    x = np.zeros(len(pu), bool)
    order = np.lexsort((p.pair_km, ps))
    gain = p.c[pu] - p.pair_cost
    while p.max_sites is None or used.sum() < p.max_sites:
        idx = order[reachable(~claimed[pu] & ~used[ps], p.pair_parent)[order]]
        if not len(idx):
            break
        site = ps[idx]
        start = np.r_[True, site[1:] != site[:-1]]
        group = np.cumsum(start) - 1
        first = np.flatnonzero(start)
        cP, cE, cG = (_group_cumsum(v, first, group) for v in (p.P[pu[idx]], p.E[pu[idx]], gain[idx]))
        best = np.full(len(idx), -np.inf)
        for j in range(fac_of.shape[1]):  # the few technologies of a site
            f = fac_of[site, j]
            ok = f >= 0
            f = np.maximum(f, 0)
            cost = plant_cost(cP, cE, p.K[f], p.N[f], p.CF[f], p.F[f], p.M[f], p.B[f], p.v[f], p.reserve, p.out_kw[f])[0]
            best = np.where(ok, np.maximum(best, cG - cost), best)
        # Best run per site: the row with the highest net saving in its group.
        rank = np.lexsort((-best, group))
        top = rank[np.r_[True, group[rank][1:] != group[rank][:-1]]]
        offer = top[best[top] > TOL]
        if not len(offer):
            break
        last = np.full(len(first), -1)
        last[group[offer]] = offer
        member = np.arange(len(idx)) <= last[group]
        # An offer is built when no better offer (net saving, then site order) claims one of its units.
        score = best[last[group[member]]]
        rows = np.flatnonzero(member)
        win = np.lexsort((site[rows], -score, pu[idx[rows]]))
        u_sorted = pu[idx[rows]][win]
        winner = np.full(len(p.E), -1)
        firsts = win[np.r_[True, u_sorted[1:] != u_sorted[:-1]]]
        winner[pu[idx[rows[firsts]]]] = site[rows[firsts]]
        lost = np.zeros(p.n_sites, bool)
        lost[site[rows][winner[pu[idx[rows]]] != site[rows]]] = True
        built = site[offer][~lost[site[offer]]]
        if p.max_sites is not None:
            built = built[np.argsort(-best[offer][~lost[site[offer]]], kind="stable")][: p.max_sites - used.sum()]
        take = idx[member & np.isin(site, built)]
        x[take] = True
        claimed[pu[take]] = True
        used[built] = True
    return x


def _group_cumsum(v: np.ndarray, first: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sums of `v` restarting at each group (rows grouped contiguously; `first` row of each)."""
    total = np.cumsum(v)
    return total - np.r_[0.0, total[:-1]][first][group]


def _site_facilities(p: Problem) -> np.ndarray:
    """(sites x max technologies per site) facility indices, -1 padded."""
    order = np.argsort(p.fac_site, kind="stable")
    counts = np.bincount(p.fac_site, minlength=p.n_sites)
    slot = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    out = np.full((p.n_sites, max(int(counts.max()), 1)), -1)
    out[p.fac_site[order], slot] = order
    return out


def evaluate(p: Problem, x: np.ndarray, close_unprofitable: bool) -> Solution:
    """The plan for given served pairs: at each used site its cheapest facility and sizing.

    Parameters
    ----------
    p : Problem
        The MILP in arrays.
    x : numpy.ndarray
        Served pairs (bool per pair); not modified.
    close_unprofitable : bool
        Close a plant costing more than its units' stand-alone options (its units then stand alone).

    Returns
    -------
    Solution
        Served pairs, built facilities with modules and back-up (kW), and the total annual cost
        (USD/yr, stand-alone units included); its report counts the plants closed.

    Raises
    ------
    RuntimeError
        When a site carries more load than any of its technologies can.
    """
    x = np.asarray(x, bool).copy()
    pu, ps = p.pair_unit, p.pair_site
    load_p = np.bincount(ps[x], p.P[pu[x]], p.n_sites)
    load_e = np.bincount(ps[x], p.E[pu[x]], p.n_sites)
    conn = np.bincount(ps[x], p.pair_cost[x], p.n_sites)
    alone = np.bincount(ps[x], p.c[pu[x]], p.n_sites)
    fac_of = _site_facilities(p)
    best, best_f = np.full(p.n_sites, np.inf), np.full(p.n_sites, -1)
    best_n, best_b = np.zeros(p.n_sites), np.zeros(p.n_sites)
    for j in range(fac_of.shape[1]):
        f = fac_of[:, j]
        g = np.maximum(f, 0)
        cost, n, b = plant_cost(load_p, load_e, p.K[g], p.N[g], p.CF[g], p.F[g], p.M[g], p.B[g], p.v[g], p.reserve, p.out_kw[g])
        better = (f >= 0) & (cost < best)
        best, best_f = np.where(better, cost, best), np.where(better, f, best_f)
        best_n, best_b = np.where(better, n, best_n), np.where(better, b, best_b)
    used = np.bincount(ps[x], minlength=p.n_sites) > 0
    if not np.isfinite(best[used]).all():
        raise RuntimeError("a plan assigns more load to a site than any of its technologies can carry")
    closed = used & (best + conn > alone) if close_unprofitable else np.zeros(p.n_sites, bool)
    x &= ~closed[ps]
    used &= ~closed
    opened = np.zeros(len(p.fac_site), bool)
    opened[best_f[used]] = True
    modules, backup = np.zeros(len(p.fac_site)), np.zeros(len(p.fac_site))
    modules[best_f[used]], backup[best_f[used]] = best_n[used], best_b[used]
    objective = float(p.c.sum() + (best[used] + conn[used] - alone[used]).sum())
    return Solution(x, opened, modules, backup, objective, {"plants_closed": int(closed.sum())})
