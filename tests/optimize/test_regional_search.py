"""The regional search: a window's problem is the plan's problem restricted to it (same cost changes,
feasible whole plans, residual limits), and the search never makes a plan worse."""

from __future__ import annotations

import numpy as np
import pytest

from smrplan.geo.distance import PointIndex
from smrplan.optimize.heuristics import evaluate, greedy_plan
from smrplan.optimize.network import tree_parents
from smrplan.optimize.pairs import reachable
from smrplan.optimize.problem import Problem
from smrplan.optimize.regional_search import improve, window_problem, windows
from smrplan.optimize.solve import Search, solve_problem


def spread_problem(seed: int, n_u: int = 150, n_s: int = 40, max_sites=None, min_share=0.0) -> Problem:
    """Units and sites scattered over about 200 km x 200 km; each unit may use its 6 nearest sites,
    over a network tree per site; two technologies per site (20 MW and 50 MW modules)."""
    rng = np.random.default_rng(seed)
    ulon, ulat = rng.uniform(78, 80, n_u), rng.uniform(20, 22, n_u)
    slon, slat = rng.uniform(78, 80, n_s), rng.uniform(20, 22, n_s)
    km, near = PointIndex(slon, slat).nearest(ulon, ulat, k=6)
    pu, ps, pkm = np.repeat(np.arange(n_u), 6), near.ravel(), km.ravel()
    parent = tree_parents(ulon, ulat, pu, ps, pkm, slon, slat)[0]
    P = rng.lognormal(np.log(4_000), 1.0, n_u)
    E = P * 8760 * rng.uniform(0.4, 0.7, n_u)
    K = np.tile([20_000.0, 50_000.0], n_s)
    return Problem(E=E, P=P, c=E * rng.uniform(0.15, 0.3, n_u), pair_unit=pu, pair_site=ps,
                   pair_cost=2e4 * pkm + 1e5, pair_parent=parent, pair_km=pkm, fac_site=np.repeat(np.arange(n_s), 2),
                   K=K, N=np.tile([4.0, 2.0], n_s), CF=np.full(2 * n_s, 0.9), F=np.zeros(2 * n_s),
                   M=K * np.tile([450.0, 330.0], n_s), B=np.full(2 * n_s, 120.0), v=np.full(2 * n_s, 0.02),
                   n_sites=n_s, reserve=0.15, max_sites=max_sites, min_share=min_share, site_lon=slon, site_lat=slat)


def test_windows_group_sites_by_position():
    lon = np.r_[np.full(5, 70.0), np.full(5, 90.0)] + np.linspace(0, 0.1, 10)
    lat = np.full(10, 20.0)
    label = windows(lon, lat, 2, seed=0)
    assert len(set(label[:5])) == 1 and len(set(label[5:])) == 1 and label[0] != label[5]
    assert (windows(lon[:1], lat[:1], 4, seed=0) == 0).all()  # no more windows than places


@pytest.mark.parametrize("seed", range(3))
def test_a_window_changes_the_plan_by_its_own_cost_change(seed):
    """Any plan of a window's problem, put back into the whole plan, is a feasible plan whose cost
    changes exactly as the window's does; units served outside the window are untouched."""
    p = spread_problem(seed)
    rng = np.random.default_rng(seed)
    base = evaluate(p, greedy_plan(p), close_unprofitable=True)
    label = windows(p.site_lon, p.site_lat, 4, seed=seed)
    for w in range(4):
        sub, keep = window_problem(p, base.x, label == w)
        assert sub is not None and (label[p.pair_site[keep]] == w).all()
        served_elsewhere = np.isin(np.arange(len(p.E)), p.pair_unit[base.x & (label[p.pair_site] != w)])
        assert not (served_elsewhere[p.pair_unit[keep]]).any()
        for _ in range(3):  # random plans of the window: greedy on random subsets of its pairs
            trial = greedy_plan(sub) & (rng.random(len(sub.pair_unit)) < 0.7)
            trial = reachable(trial, sub.pair_parent)
            x = base.x.copy()
            x[keep] = trial
            whole = evaluate(p, x, close_unprofitable=False)
            part_new = evaluate(sub, trial, close_unprofitable=False).objective_usd
            part_old = evaluate(sub, base.x[keep], close_unprofitable=False).objective_usd
            assert whole.objective_usd - base.objective_usd == pytest.approx(part_new - part_old, abs=1e-3)
            assert np.bincount(p.pair_unit[x], minlength=len(p.E)).max() <= 1
            assert not (x & (p.pair_parent >= 0) & ~x[np.maximum(p.pair_parent, 0)]).any()


def test_window_keeps_what_the_rest_of_the_plan_leaves_of_the_limits():
    p = spread_problem(1, max_sites=6, min_share=0.3)
    base = evaluate(p, greedy_plan(p), close_unprofitable=False)
    label = windows(p.site_lon, p.site_lat, 3, seed=0)
    sub, keep = window_problem(p, base.x, label == 0)
    used_outside = len(np.unique(p.pair_site[base.x & (label[p.pair_site] != 0)]))
    assert sub.max_sites == 6 - used_outside
    outside = p.E[np.unique(p.pair_unit[base.x & (label[p.pair_site] != 0)])].sum()
    assert sub.min_share * sub.E.sum() == pytest.approx(max(0.3 * p.E.sum() - outside, 0.0))


@pytest.mark.parametrize("limits", [{}, {"max_sites": 5}, {"min_share": 0.5}])
def test_search_improves_a_plan_and_keeps_it_feasible(limits):
    p = spread_problem(2, **limits)
    start = evaluate(p, np.zeros(len(p.pair_unit), bool), close_unprofitable=False)  # everyone alone
    if limits.get("min_share"):
        start = evaluate(p, greedy_plan(p), close_unprofitable=False)
    size = len(p.pair_unit) * 6

    def solve(sub, x, limit_s):
        return solve_problem(sub, 0.005, limit_s, start=x)

    best, report = improve(p, start, solve, lambda q, x: evaluate(q, x, close_unprofitable=q.min_share <= 0),
                           15.0, size, window_assignments=size // 4)
    assert best.objective_usd < start.objective_usd - 1.0
    assert report["objective_usd"] == best.objective_usd and report["passes"][0]["windows"] == 4
    assert best.opened.sum() <= (limits.get("max_sites") or len(p.fac_site))
    assert p.E[p.pair_unit[best.x]].sum() >= limits.get("min_share", 0.0) * p.E.sum() - 1e-6
    assert not (best.x & (p.pair_parent >= 0) & ~best.x[np.maximum(p.pair_parent, 0)]).any()
    assert np.bincount(p.pair_unit[best.x], minlength=len(p.E)).max() <= 1


def test_solver_short_of_the_gap_hands_its_plan_to_the_search():
    """HiGHS gets 1 % of a 10 s limit on a model it cannot close that fast; the search then runs in
    the rest and the reported gap is that of the plan it returns."""
    p = spread_problem(3, n_u=300, n_s=80)
    sol = solve_problem(p, 0.0, 10.0, search=Search(time_fraction=0.99, window_assignments=800))
    rep = sol.report
    assert rep["search"]["objective_before_usd"] >= sol.objective_usd
    assert rep["objective_usd"] == sol.objective_usd
    bound = rep["mip_dual_bound_usd"]
    if bound is not None:  # else HiGHS stopped before its root bound: no gap is proven
        assert rep["mip_gap"] == pytest.approx((sol.objective_usd - bound) / sol.objective_usd)
    else:
        assert rep["mip_gap"] == np.inf
    assert sol.objective_usd <= rep["warm_start"]["objective_usd"] + 1e-6
