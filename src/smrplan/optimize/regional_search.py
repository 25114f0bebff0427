"""Regional large-neighbourhood search: improve a plan of the plant MILP one region at a time.

On large regions HiGHS can spend its whole time limit near the root node without finding a plan
better than its warm start (benchmarks/bench_milp.py, 100,000 settlements: 2,178 units and about
100,000 assignment variables). Small models, on the other hand, it solves to near optimality in
seconds. So a plan is improved window by window with the rest of it held fixed:

- windows: the candidate sites are grouped by k-means on their positions (km on a local plane), one
  window per `window_assignments` assignment variables of the full model;
- a window's problem frees every unit that is unserved or served by one of the window's sites and
  lets it use the window's sites only (units served elsewhere stay as they are; a unit's pair is
  usable only when its whole network path is); `max_sites` and `min_reactor_share` keep what the
  rest of the plan leaves of them;
- it is solved by the plan MILP itself (solve.solve_problem) from the current plan, within the
  window's share of the remaining time, and the plan takes its answer when the total annual cost of
  the whole plan falls;
- passes repeat while time remains, each with half as many windows as the last (the next k-means
  seed), so that later passes make moves across the earlier windows' borders.

Each accepted step lowers the cost of a feasible plan, so the search never makes a plan worse. It
proves nothing: the gap reported after it is measured against the full model's dual bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Protocol, TypeVar

import numpy as np

from smrplan.optimize.pairs import reachable, reindex

KM_PER_DEGREE = 111.32  # along the equator and a meridian (a plane for grouping only)
MIN_WINDOW_S = 2.0  # a window is not tried with less time than this (s)
IMPROVEMENT_USD = 1.0  # a plan must be this much cheaper (USD/yr) to replace the current one


class PlanLike(Protocol):
    x: np.ndarray
    objective_usd: float


Plan = TypeVar("Plan", bound=PlanLike)


def windows(lon: np.ndarray, lat: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Windows of sites: k-means on their positions projected to km on a local plane.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Site positions (degrees, WGS84).
    k : int
        Windows wanted; capped at the number of distinct positions.
    seed : int
        k-means seed.

    Returns
    -------
    numpy.ndarray
        Window label (0..k-1) of each site.
    """
    xy = np.column_stack([lon * KM_PER_DEGREE * math.cos(math.radians(float(np.mean(lat)))), lat * KM_PER_DEGREE])
    k = min(k, len(np.unique(xy, axis=0)))
    if k <= 1:
        return np.zeros(len(lon), int)
    from sklearn.cluster import KMeans  # only when HiGHS stops short of the gap: a second off every start

    return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(xy).astype(int)


def window_problem(p, x: np.ndarray, in_window: np.ndarray):
    """The problem of one window for a plan: its units are those unserved or served at a window site
    that have a usable pair there.

    Parameters
    ----------
    p : Problem
        The whole plan MILP (problem.Problem).
    x : numpy.ndarray
        The plan: served pairs of `p` (bool).
    in_window : numpy.ndarray
        Sites of the window (bool per site of `p`).

    Returns
    -------
    sub : Problem or None
        The window's problem; None when no pair is usable.
    keep : numpy.ndarray
        Pairs of `p` kept in it (bool), in the sub-problem's order.
    """
    pu, ps = p.pair_unit, p.pair_site
    served_at = np.full(len(p.E), -1)
    served_at[pu[x]] = ps[x]
    free = (served_at < 0) | in_window[np.maximum(served_at, 0)]  # unserved, or served in the window
    keep = reachable(in_window[ps] & free[pu], p.pair_parent)
    if not keep.any():
        return None, keep
    units, sites = np.unique(pu[keep]), np.unique(ps[keep])
    fac = np.flatnonzero(np.isin(p.fac_site, sites))
    unit_pos, site_pos = np.full(len(p.E), -1), np.full(p.n_sites, -1)
    unit_pos[units], site_pos[sites] = np.arange(len(units)), np.arange(len(sites))
    outside = np.unique(served_at[~free])
    min_share = 0.0
    if p.min_share > 0:
        need = p.min_share * p.E.sum() - p.E[~free].sum()
        min_share = float(np.clip(need / max(p.E[units].sum(), 1e-12), 0.0, 1.0))
    sub = replace(
        p, E=p.E[units], P=p.P[units], c=p.c[units], pair_unit=unit_pos[pu[keep]], pair_site=site_pos[ps[keep]],
        pair_cost=p.pair_cost[keep], pair_parent=reindex(p.pair_parent, keep), pair_km=p.pair_km[keep],
        fac_site=site_pos[p.fac_site[fac]], K=p.K[fac], N=p.N[fac], CF=p.CF[fac], F=p.F[fac], M=p.M[fac], B=p.B[fac],
        v=p.v[fac], n_sites=len(sites), max_sites=None if p.max_sites is None else p.max_sites - len(outside),
        min_share=min_share, site_lon=None if p.site_lon is None else p.site_lon[sites],
        site_lat=None if p.site_lat is None else p.site_lat[sites], R=None if p.R is None else p.R[fac])
    return sub, keep


def improve(p, plan: Plan, solve, evaluate, time_limit_s: float, size: int, window_assignments: int,
            seed: int = 0) -> tuple[Plan, dict]:
    """Improve a plan by the regional search. Passes stop when time runs out or a pass would have a
    single window (the full model).

    Parameters
    ----------
    p : Problem
        The plan MILP (problem.Problem).
    plan : Solution
        A feasible plan of `p` (problem.Solution).
    solve : callable
        solve(sub, start_x, time_limit_s) solves a window's problem from a start plan within a time
        limit (s).
    evaluate : callable
        evaluate(p, x) prices a plan of `p` given by its served pairs.
    time_limit_s : float
        Time for the search (s).
    size : int
        Assignment variables of the full model.
    window_assignments : int
        Assignment variables per window in the first pass.
    seed : int
        Seed of the first pass's k-means.

    Returns
    -------
    best : Solution
        The best plan found (`plan` when none is cheaper).
    report : dict
        Method, windows per pass with windows tried and improved, objective before and after
        (USD/yr) and time (s).
    """
    t0 = time.perf_counter()
    k = math.ceil(size / max(window_assignments, 1))
    passes: list[dict[str, float]] = []
    report = {"method": "regional large-neighbourhood search", "window_assignments": int(window_assignments),
              "objective_before_usd": plan.objective_usd, "passes": passes}
    if p.site_lon is None or k <= 1:
        return plan, {**report, "objective_usd": plan.objective_usd, "time_s": 0.0}
    best = plan
    while k > 1 and time.perf_counter() - t0 < time_limit_s - MIN_WINDOW_S:
        label = windows(p.site_lon, p.site_lat, k, seed + len(passes))
        n_win, improved, tried = int(label.max()) + 1, 0, 0
        for w in range(n_win):
            left = time_limit_s - (time.perf_counter() - t0)
            if left < MIN_WINDOW_S:
                break
            sub, keep = window_problem(p, best.x, label == w)
            if sub is None:
                continue
            tried += 1
            s = solve(sub, best.x[keep], left / (n_win - w))
            x = best.x.copy()
            x[keep] = s.x
            cand = evaluate(p, x)
            if cand.objective_usd < best.objective_usd - IMPROVEMENT_USD:
                best, improved = cand, improved + 1
        passes.append({"windows": n_win, "tried": tried, "improved": improved, "objective_usd": best.objective_usd})
        k //= 2  # larger windows: moves that span the last pass's borders
    return best, {**report, "objective_usd": best.objective_usd, "time_s": round(time.perf_counter() - t0, 3)}
