"""Near-optimal alternatives on a small instance: every plan is feasible and within the cost slack,
the least cost and the extremes (reactor sites, capacity, stand-alone litres) equal a brute-force
enumeration of every plan, and solving on a dask client gives the same plans."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from smrplan.optimize import alternatives as A
from smrplan.optimize.problem import TOL, Problem, Solution
from smrplan.units import HOURS_PER_YEAR

SLACK = 0.05


def _tiny() -> Problem:
    """Five places, three sites with one technology each, each place within reach of two sites."""
    P = np.array([400.0, 300.0, 500.0, 200.0, 350.0])
    E = P * HOURS_PER_YEAR * 0.6
    pu = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    ps = np.array([0, 1, 0, 2, 1, 2, 0, 2, 1, 2])
    a = np.array([20e3, 40e3, 30e3, 25e3, 10e3, 35e3, 45e3, 15e3, 30e3, 20e3])
    return Problem(E, P, 0.25 * E, pu, ps, a, -np.ones(len(pu), int), np.ones(len(pu)), np.array([0, 1, 2]),
                   np.full(3, 1000.0), np.full(3, 3.0), np.full(3, 0.9), np.array([100e3, 120e3, 80e3]),
                   np.full(3, 550e3), np.full(3, 300.0), np.full(3, 0.02), 3, 0.1)


def _plant(p: Problem, f: int, load_p: float, load_e: float, n: int) -> float:
    """Cheapest cost of facility f with n modules for a load (USD/yr), inf when n cannot carry it:
    capacity with reserve, energy at the capacity factor, one module out (diesel back-up up to a module)."""
    cap = p.K[f] * n
    if load_p * (1 + p.reserve) > cap + TOL or load_e > HOURS_PER_YEAR * p.CF[f] * cap + TOL:
        return np.inf
    backup = max(load_p - (cap - p.K[f]), 0.0)
    return p.F[f] + p.M[f] * n + p.B[f] * backup + p.v[f] * load_e


def _every_plan(p: Problem, litres: np.ndarray):
    """(cost USD/yr, sites, capacity MW, stand-alone litres) of every plan: each place stand-alone or at
    one of its sites, each site closed or open with 1..N modules."""
    reach = [[-1, *p.pair_site[p.pair_unit == u].tolist()] for u in range(len(p.E))]
    for choice in itertools.product(*reach):
        ch = np.array(choice)
        base = sum(p.c[u] if s < 0 else p.pair_cost[(p.pair_unit == u) & (p.pair_site == s)][0]
                   for u, s in enumerate(choice))
        options = []
        for s in range(p.n_sites):
            on = ch == s
            sizes = [(0, 0.0)] if not on.any() else []
            sizes += [(n, _plant(p, s, p.P[on].sum(), p.E[on].sum(), n)) for n in range(1, int(p.N[s]) + 1)]
            options.append(sizes)
        for sizes in itertools.product(*options):
            cost = base + sum(c for _, c in sizes)
            if np.isfinite(cost):
                n = np.array([k for k, _ in sizes])
                yield cost, int((n > 0).sum()), float((n * p.K).sum()) / 1000.0, float(litres[ch < 0].sum())


def _feasible(p: Problem, s: Solution) -> bool:
    served_u = p.pair_unit[s.x]
    if len(np.unique(served_u)) != len(served_u) or not s.opened[p.pair_site[s.x]].all():  # one facility per site
        return False
    for f in np.flatnonzero(s.opened):
        on = s.x & (p.pair_site == p.fac_site[f])
        load_p, load_e = p.P[p.pair_unit[on]].sum(), p.E[p.pair_unit[on]].sum()
        cap = p.K[f] * s.modules[f]
        if (load_p * (1 + p.reserve) > cap + 1e-6 or load_e > HOURS_PER_YEAR * p.CF[f] * cap + 1e-3
                or load_p > cap - p.K[f] + s.backup_kw[f] + 1e-6 or s.backup_kw[f] > p.K[f] + 1e-6):
            return False
    return True


@pytest.fixture(scope="module")
def solved():
    p = _tiny()
    litres = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    dirs = A.directions(p, litres, 2.0 * litres, random_directions=3, seed=7)
    return p, litres, dirs, A.near_optimal(p, SLACK, dirs, mip_gap=0.0, time_limit_s=60)


def test_every_alternative_is_feasible_and_within_the_slack(solved):
    p, _, dirs, res = solved
    assert len(res.found) == len(dirs) == 8 + 3
    assert res.cost_limit_usd == pytest.approx((1 + SLACK) * res.least_cost.objective_usd)
    for d, s, rec in res.found:
        assert s is not None, (d.objective, rec)
        assert _feasible(p, s), d.objective
        assert s.objective_usd <= res.cost_limit_usd * (1 + 1e-9), d.objective


def test_least_cost_and_extremes_match_a_brute_force_enumeration(solved):
    p, litres, _, res = solved
    plans = np.array(list(_every_plan(p, litres)))
    best = plans[:, 0].min()
    assert res.least_cost.objective_usd == pytest.approx(best, rel=1e-9)
    near = plans[plans[:, 0] <= (1 + SLACK) * best * (1 + 1e-9)]
    got = {(d.objective, d.sense): A.metrics(p, s, litres, 2.0 * litres) for d, s, _ in res.found}
    for objective, column, key in (("reactor_sites", 1, "reactor_sites"), ("reactor_capacity_mw", 2, "reactor_capacity_mw"),
                                   ("diesel_litres", 3, "diesel_litres_per_year")):
        assert got[(objective, "min")][key] == pytest.approx(near[:, column].min()), objective
        assert got[(objective, "max")][key] == pytest.approx(near[:, column].max()), objective
    # the slack opens a choice here: one site at least cost, two within 5 %
    assert (near[:, 1].min(), near[:, 1].max()) == (1, 2)


def test_a_dask_client_gives_the_same_plans(solved):
    from dask.distributed import Client

    p, _, dirs, res = solved
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        par = A.near_optimal(p, SLACK, dirs, mip_gap=0.0, time_limit_s=60, client=client)
    for (d, s, _), (_, t, _) in zip(res.found, par.found, strict=True):
        assert t is not None and t.objective_usd == pytest.approx(s.objective_usd), d.objective
