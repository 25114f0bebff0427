"""The roadmap MILP: the single-year plan as its one-period case, an order proven by enumeration,
learning per doubling, earliest order years and supply in every period; the rolling horizon and its
proven gap."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import yaml
from tests.optimize.test_optimize import random_problem

from smrplan.errors import InputError
from smrplan.optimize.problem import Problem, RoadmapProblem, learning_factor
from smrplan.optimize.roadmap import (
    module_capex_annual,
    myopic_plan,
    period_weights,
    plan_by_method,
    rolling_plan,
    solve_roadmap,
)
from smrplan.optimize.solve import solve_problem
from smrplan.scenario import bundled_text, load_scenario
from smrplan.units import HOURS_PER_YEAR as HOURS

RATE = 0.08


def as_roadmap(p: Problem, years=(2035,), lead=0.0, rate=0.0, earliest=2030.0, capex_share=0.7, **kw) -> RoadmapProblem:
    """A roadmap on a single-year Problem: demand held in every period, each facility its own design
    whose module cost M splits into capex (learnable) and O&M."""
    years = np.asarray(years, int)
    T, n_f = len(years), len(p.fac_site)
    return RoadmapProblem(p, years, 5, period_weights(years, 5, RATE), np.tile(p.E, (T, 1)), np.tile(p.P, (T, 1)),
                          np.tile(p.c, (T, 1)), np.arange(n_f), (1 - capex_share) * p.M, np.zeros(n_f),
                          np.full(n_f, lead), np.full(n_f, earliest), np.full(n_f, rate), np.ones(n_f),
                          capex_share * p.M, 10.0 * p.M, **kw)


@pytest.mark.parametrize("seed", range(6))
def test_one_period_without_lead_time_or_learning_is_the_single_year_plan(seed):
    p = random_problem(seed)
    single = solve_problem(p, mip_gap=0.0, time_limit_s=60.0)
    plan = solve_roadmap(as_roadmap(p), mip_gap=0.0, time_limit_s=60.0)
    assert plan.annual_cost_usd[0] == pytest.approx(single.objective_usd, rel=1e-7)
    assert plan.objective_usd == pytest.approx(plan.run.record["objective_usd"], rel=1e-6)


def three_towns() -> RoadmapProblem:
    """Three units, each with its own site and one-module plant of one design; demand grows at
    different rates; a 5-year lead time; one module started per period; 20 % learning. The Problem
    holds the last period's demand, as the roadmap's single-year model does."""
    n = 3
    years = np.array([2030, 2035, 2040, 2045])
    growth = np.array([1.0, 1.06, 1.12])[None, :] ** (years[:, None] - 2030)
    E = np.array([30e6, 22e6, 12e6]) * growth
    P = E / (HOURS * 0.6)
    p = Problem(E=E[-1], P=P[-1], c=0.30 * E[-1], pair_unit=np.arange(n), pair_site=np.arange(n), pair_cost=np.full(n, 2e5),
                pair_parent=np.full(n, -1), pair_km=np.ones(n), fac_site=np.arange(n), K=np.full(n, 20_000.0),
                N=np.ones(n), CF=np.full(n, 0.9), F=np.zeros(n), M=np.full(n, 4.5e6), B=np.full(n, 150.0),
                v=np.full(n, 0.02), n_sites=n, reserve=0.1)
    rp = RoadmapProblem(p, years, 5, period_weights(years, 5, RATE), E, P, 0.30 * E,
                        np.zeros(n, int), np.full(n, 0.5e6), np.zeros(n), np.array([5.0]), np.array([2030.0]),
                        np.array([0.2]), np.ones(1), np.array([4.0e6]), np.array([6e7]), max_starts=1)
    return rp


def enumerated(rp: RoadmapProblem) -> tuple[float, tuple]:
    """Least present worth over every decision period (or none) of each plant, one start per period;
    a plant serves its unit from the period after its decision when that saves money."""
    p, T = rp.prob, len(rp.years)
    best = (np.inf, ())
    for when in itertools.product(range(-1, T - 1), repeat=len(p.E)):
        starts = [w for w in when if w >= 0]
        if len(starts) != len(set(starts)):
            continue
        order = sorted((w, u) for u, w in enumerate(when) if w >= 0)
        capex = {u: rp.module_capex_annual[0] * learning_factor(q + 1, rp.learning_rate[0]) for q, (_, u) in enumerate(order)}
        total = 0.0
        for t in range(T):
            year = rp.c[t].sum()
            for u, w in enumerate(when):
                if 0 <= w < t:
                    plant = p.F[u] + rp.module_om[u] + capex[u]
                    saving = rp.c[t, u] - (p.pair_cost[u] + p.v[u] * rp.E[t, u] + p.B[u] * rp.P[t, u])
                    year += plant - max(saving, 0.0)
            total += rp.weight[t] * year
        best = min(best, (total, when))
    return best


def test_the_order_is_the_one_enumeration_proves():
    rp = three_towns()
    value, when = enumerated(rp)
    plan = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    pf = plan.options[0]
    decided = [int(np.flatnonzero(plan.run.decided[pf == u].any(axis=0))[0]) if plan.run.decided[pf == u].any() else -1
               for u in range(3)]
    assert plan.objective_usd == pytest.approx(value, rel=1e-7)
    assert tuple(decided) == when
    assert len(set(w for w in when if w >= 0)) >= 2  # an order, not a single plant


@pytest.mark.parametrize("rate", [0.1, 0.0, -0.1])
def test_learning_makes_the_nth_module_cost_what_the_rate_says(rate):
    assert learning_factor(np.array([1, 2, 4, 8]), rate) == pytest.approx((1 - rate) ** np.arange(4))
    rp = replace(three_towns(), learning_rate=np.array([rate]))
    pf, pn = np.arange(3), np.ones(3)
    decided = np.zeros((3, 4), bool)
    decided[[0, 1, 2], [0, 1, 2]] = True  # modules 1, 2, 3 of the design, one per period
    capex = module_capex_annual(rp, pf, pn, decided)[[0, 1, 2], [0, 1, 2]]
    assert capex == pytest.approx(4.0e6 * learning_factor(np.array([1, 2, 3]), rate))
    assert (np.diff(capex) < 0).all() if rate > 0 else (np.diff(capex) > 0).all() if rate < 0 else (np.diff(capex) == 0).all()


def test_a_design_not_available_until_2035_is_never_started_earlier():
    p = random_problem(1)
    rp = as_roadmap(p, years=(2030, 2035, 2040), earliest=2035.0)
    plan = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    assert plan.run.decided.any() and not plan.run.decided[:, 0].any()
    assert (plan.unit_option[0] < 0).all()  # nothing in service before 2035


@pytest.mark.parametrize("seed", range(4))
def test_every_unit_has_supply_in_every_period_and_plants_serve_only_in_service(seed):
    rp = as_roadmap(random_problem(seed), years=(2030, 2035, 2040, 2045), lead=5.0)
    plan = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    pf = plan.options[0]
    serves = rp.serves()[rp.design[pf]]
    in_service = np.einsum("vs,vst->vt", plan.run.decided.astype(float), serves.astype(float)) > 0
    t, u = np.nonzero(plan.unit_option >= 0)
    assert in_service[plan.unit_option[t, u], t].all()
    assert np.isfinite(rp.c).all()  # the others keep their stand-alone option (the bridging supply)
    assert plan.run.decided.sum(axis=1).max(initial=0) <= 1 and not plan.run.decided[:, -1].any()


def test_myopic_never_beats_perfect_foresight():
    rp = three_towns()
    full = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    short = myopic_plan(rp, mip_gap=0.0, time_limit_s=60.0)
    assert short.objective_usd >= full.objective_usd - 1e-6 * abs(full.objective_usd)


def test_the_budget_and_the_cap_limit_what_starts_in_one_period():
    rp = replace(three_towns(), max_starts=None, lead_years=np.array([0.0]))
    free = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    assert free.run.decided[:, 0].sum() >= 2  # without limits, several plants start at once
    capped = solve_roadmap(replace(rp, max_starts=1), mip_gap=0.0, time_limit_s=60.0)
    assert capped.run.decided.sum(axis=0).max() <= 1
    budget = solve_roadmap(replace(rp, budget_usd=1.05 * rp.module_capex_usd[0]), mip_gap=0.0, time_limit_s=60.0)
    assert budget.run.decided.sum(axis=0).max() <= 1 and budget.objective_usd >= free.objective_usd - 1e-6


def four_periods(seed: int) -> RoadmapProblem:
    return as_roadmap(random_problem(seed), years=(2030, 2035, 2040, 2045), lead=5.0, rate=0.1)


@pytest.mark.parametrize("rp", [three_towns(), four_periods(1)], ids=["towns", "seed1"])
def test_a_rolling_horizon_looking_over_every_period_is_the_full_model(rp):
    full = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    whole = rolling_plan(rp, len(rp.years) - 1, mip_gap=0.0, time_limit_s=60.0)
    assert whole.run.record["steps"] == 1
    assert whole.objective_usd == pytest.approx(full.objective_usd, rel=1e-9)
    assert (whole.run.decided == full.run.decided).all()
    # one period short of the whole horizon: two steps, the first holding its first period's decisions
    short = rolling_plan(rp, len(rp.years) - 2, mip_gap=0.0, time_limit_s=60.0)
    assert short.run.record["steps"] == 2 and short.objective_usd >= full.objective_usd * (1 - 1e-9)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("lookahead", [0, 1])
def test_the_rolling_horizon_gap_is_proven_against_a_bound_below_the_optimum(seed, lookahead):
    rp = four_periods(seed)
    full = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    plan = rolling_plan(rp, lookahead, mip_gap=0.0, time_limit_s=60.0)
    r = plan.run.record
    assert r["method"] == "rolling"
    assert r["steps"] == 4 - max(lookahead, 1)  # each window reaches the first service period (lead 5 yr: the next)
    assert r["bound_usd"] <= full.objective_usd * (1 + 1e-9)
    assert plan.objective_usd >= full.objective_usd * (1 - 1e-9)  # a heuristic: never below the optimum
    assert r["gap"] >= 0.0
    assert r["gap"] == pytest.approx(max(plan.objective_usd - r["bound_usd"], 0.0) / r["bound_usd"], abs=1e-12)
    assert plan.objective_usd == pytest.approx(plan.rp.weight @ plan.annual_cost_usd, rel=1e-12)


def test_the_lp_relaxation_bounds_the_roadmap_from_below():
    rp = three_towns()
    full = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0)
    lp = solve_roadmap(rp, mip_gap=0.0, time_limit_s=60.0, relaxed=True)
    assert lp.run.record["dual_bound_usd"] == pytest.approx(lp.run.record["objective_usd"])
    assert lp.run.record["dual_bound_usd"] < full.objective_usd * (1 - 1e-4)  # relaxed: strictly below here


def test_the_scenario_method_chooses_the_solver_and_reports_bound_and_gap():
    settings = load_scenario("india-islands").roadmap
    assert settings.method == "full"
    rp = four_periods(1)
    full = plan_by_method(rp, settings, mip_gap=0.0, time_limit_s=60.0)
    rolling = plan_by_method(rp, settings.model_copy(update={"method": "rolling", "lookahead_periods": 0}),
                             mip_gap=0.0, time_limit_s=60.0)
    assert full.run.record["method"] == "full" and rolling.run.record["method"] == "rolling"
    for plan in (full, rolling):
        assert plan.run.record["bound_usd"] <= full.objective_usd * (1 + 1e-9) and plan.run.record["gap"] >= 0.0


def test_an_unknown_method_is_bad_input_naming_the_file_and_field(tmp_path):
    raw = yaml.safe_load(bundled_text("india-islands"))
    raw["roadmap"] = {"method": "greedy"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml.*roadmap\.method"):
        load_scenario(path)
