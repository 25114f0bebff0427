"""Least-cost deployment plan: the facility-location MILP from settlements to a plan.

`solve_plan` runs the steps of the optimisation, each in its own module:

1. the candidate facilities (every suitable site with every enabled technology of its kind;
   facilities.py) and the instance: units (settlements or clusters), their pairs with candidate sites
   in network trees (network.py), pruning, and the MILP in arrays (instance.py, problem.py);
2. `solve_problem`: the greedy warm start (heuristics.py), the MILP through the solver adapter
   (milp.py: linopy + HiGHS), the polish of its plan and, when HiGHS stops short of the gap, the
   regional search (regional_search.py);
3. the plan mapped back to facilities and settlements (`PlanResult`), with the break-even capex of
   the largest units left without a reactor (breakeven.py).

Warm start: a greedy add-one-plant heuristic is passed to HiGHS as its first incumbent, so the plan
never costs more than the greedy one or than everyone stand-alone. After the solve each built site
gets its cheapest technology and module count for the units it serves, and a plant costing more than
its units alone (possible within the MIP gap) is closed. HiGHS has 1 - `search_time_fraction` of the
time limit; when it stops short of the gap, the regional search improves its plan window by window in
the rest. The gap is HiGHS's relative gap on the plan's total annual cost (the gap on the net saving
against everyone stand-alone is reported beside it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Technology
from smrplan.costs.economics import Money
from smrplan.geo.layers import Region
from smrplan.optimize import regional_search
from smrplan.optimize.breakeven import breakeven
from smrplan.optimize.facilities import CandidateFacilities, Candidates, Facility, candidates
from smrplan.optimize.heuristics import evaluate, greedy_plan
from smrplan.optimize.instance import Instance, fit_instance
from smrplan.optimize.milp import MilpRun, solve_milp
from smrplan.optimize.problem import TOL, Problem, Solution, assignments, plants
from smrplan.options import KINDS

log = logging.getLogger(__name__)


@dataclass
class PlanResult:
    """MILP outcome mapped to settlements: served settlement -> facility, plant sizes, solver report.

    `pair_annual_cost` and `pair_link` give each served settlement its share (by demand) of its unit's
    connection (USD/yr; km; USD) plus its energy's variable cost; `network_km` is each facility's
    network length in the model (tree edges and local cluster networks); `unit_labels` maps every
    settlement to the unit the MILP saw; `breakeven` explains the largest units without a reactor."""

    assignment: pd.Series  # settlement index -> facility index (or -1)
    facilities: Sequence[Facility]
    modules: np.ndarray  # modules built per facility: whole purchase units x modules per unit
    backup_kw: np.ndarray
    opened: np.ndarray
    facility_annual_cost: np.ndarray
    pair_annual_cost: pd.Series
    pair_link: pd.DataFrame
    solver: dict = field(default_factory=dict)
    objective_usd: float = 0.0
    network_km: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    breakeven: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Search:
    """Regional search after HiGHS (regional_search.py): the share of the time limit kept for it and
    the full model's assignment variables per window."""

    time_fraction: float
    window_assignments: int


def solve_plan(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, techs_by_kind: dict[str, list[Technology]],
               diesel: Technology, grid: Technology, cable: Technology, money: Money, opt, load_factor: float,
               carbon_price: float = 0.0, *, allowed: np.ndarray) -> PlanResult:
    """Build, solve and explain the plan MILP.

    Settlements are clustered (quadtree cells from cluster_max_km down to cluster_km, split above
    cluster_split_peak_kw; cluster.py) when there are more than cluster_above. While the model has more
    than `max_assignments` assignment variables, settlements are clustered anyway and the grain
    coarsens (instance.Grain.coarser: the split peak rises by half while some cell is split, then the
    cells grow by half) until it has fewer.

    Parameters
    ----------
    region : Region
        Land / sea layers (network routes, submarine cables) and the metric CRS (clustering).
    settlements : pandas.DataFrame
        lon, lat (degrees), demand_kwh_per_year (kWh/yr), peak_kw (kW), standalone_annual_cost_usd
        (USD/yr, the best stand-alone option with its carbon cost) and is_island; not modified.
    sites : pandas.DataFrame
        Candidate sites: site_id, kind (land, micro, floating), lon, lat (degrees); only rows with
        `suitable` true are used when it is given.
    techs_by_kind : dict
        Enabled reactor technologies by site kind.
    diesel, grid, cable : Technology
        Back-up diesel generator, overland line and submarine cable.
    money : Money
        Discount rate and horizon.
    opt : smrplan.scenario.Optimisation
        Solver, reach, clustering and size settings, reserve margin and limits.
    load_factor : float
        Demand load factor (mean / peak), the back-up diesel's load through refuelling.
    carbon_price : float
        Carbon price on the back-up diesel's CO2 (USD/t).
    allowed : numpy.ndarray
        May the settlement use a reactor of this kind (bool, settlements x KINDS, in the order of
        KINDS); `costs.engine.allowed_kinds` computes it from the scenario's region rules.

    Returns
    -------
    PlanResult
        The plan; its `solver` record goes to plan.json.
    """
    t0 = time.perf_counter()
    cand, facilities, inst = plan_instance(region, settlements, sites, techs_by_kind, diesel, grid, cable, money, opt,
                                           load_factor, carbon_price, allowed=allowed)
    base = {"name": "highs", "settings": _settings(opt, carbon_price), "clustering": inst.clustering,
            "units": int(len(inst.units)), "facilities": len(facilities), "candidate_pairs": inst.candidate_pairs}
    if inst.prob is None:
        return _nothing_built(len(settlements), inst, cand, facilities, base, opt, t0)
    build_s = time.perf_counter() - t0
    sol = solve_problem(inst.prob, opt.mip_gap, opt.time_limit_s,
                        search=Search(opt.search_time_fraction, opt.search_window_assignments))
    solver = {**base, **sol.report, "build_s": round(build_s, 3), "time_s": round(time.perf_counter() - t0, 3)}
    if solver["mip_gap"] > opt.mip_gap:
        log.warning("the plan is the best found in %.0f s, proven within %.2f %% of the optimum, not the %.2f %% of "
                    "optimisation.mip_gap: raise optimisation.time_limit_s, or narrow optimisation.nearest_sites for "
                    "a model HiGHS can prove (methodology 4.2)", solver["time_s"], 100 * solver["mip_gap"], 100 * opt.mip_gap)
    return _plan_result(settlements, inst, sol, cand, facilities, solver, opt)


def plan_instance(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame,
                  techs_by_kind: dict[str, list[Technology]], diesel: Technology, grid: Technology, cable: Technology,
                  money: Money, opt, load_factor: float, carbon_price: float = 0.0, *, allowed: np.ndarray,
                  keep_unprofitable: bool = False) -> tuple[Candidates, Sequence[Facility], Instance]:
    """The candidate facilities and the instance of the plan MILP (step 1 of `solve_plan`).

    Parameters
    ----------
    region, settlements, sites, techs_by_kind, diesel, grid, cable, money, opt, load_factor, carbon_price, allowed
        As in `solve_plan` (load factor a fraction, carbon price in USD/t CO2).
    keep_unprofitable : bool, default False
        Keep what can never save money (instance.fit_instance): the near-optimal alternatives' space.

    Returns
    -------
    cand : Candidates
        Every suitable site with every enabled technology of its kind, and their cost coefficients.
    facilities : sequence of Facility
        One per candidate facility (site, kind, technology, lon / lat in degrees).
    inst : Instance
        Units, pairs and the Problem (None when no unit fits a plant option).
    """
    allowed = np.asarray(allowed, bool)
    if allowed.shape != (len(settlements), len(KINDS)):
        raise ValueError(f"allowed must be settlements x KINDS, {(len(settlements), len(KINDS))}, not {allowed.shape}")
    cand = candidates(sites, techs_by_kind, diesel, money, load_factor, carbon_price)
    facilities = CandidateFacilities(cand)
    inst = fit_instance(region, settlements, allowed, cand, opt, grid, cable, money, keep_unprofitable)
    return cand, facilities, inst


def _settings(opt, carbon_price: float) -> dict:
    """The optimisation settings as recorded in plan.json (solver.settings)."""
    return {"mip_gap": opt.mip_gap, "time_limit_s": opt.time_limit_s,
            "search_time_fraction": opt.search_time_fraction, "search_window_assignments": opt.search_window_assignments,
            "nearest_sites": opt.nearest_sites,
            "max_network_distance_km": opt.max_network_distance_km, "max_sites": opt.max_sites,
            "min_reactor_share": opt.min_reactor_share, "cluster_km": opt.cluster_km,
            "cluster_max_km": opt.cluster_max_km, "cluster_split_peak_kw": opt.cluster_split_peak_kw,
            "cluster_above": opt.cluster_above, "reserve_margin_fraction": opt.reserve_margin_fraction,
            "allowed_options_by_region": dict(getattr(opt, "allowed_options_by_region", None) or {}),
            "carbon_price_usd_per_t": carbon_price, "max_assignments": opt.max_assignments}


def _nothing_built(n_set: int, inst: Instance, cand: Candidates, facilities: Sequence[Facility], base: dict, opt,
                   t0: float) -> PlanResult:
    """The plan without a model: everyone stand-alone, with why (break-even capex) when some facility
    and some unit exist."""
    n_fac = len(facilities)
    c_total = float(inst.units["standalone_annual_cost_usd"].sum())
    status = "no candidate facilities" if not facilities else "no settlement can gain from a suitable site within reach"
    report = {**base, "status": status, "termination": "skipped", "objective_usd": c_total, "mip_gap": 0.0,
              "mip_gap_net_saving": 0.0, "stand_alone_objective_usd": c_total,
              "time_s": round(time.perf_counter() - t0, 3), "variables": 0, "constraints": 0, "pairs": 0,
              "warm_start": {"heuristic": "greedy add-one-plant", "used": False}}
    res = PlanResult(pd.Series(-1, index=range(n_set)), facilities, np.zeros(n_fac), np.zeros(n_fac),
                     np.zeros(n_fac, bool), np.zeros(n_fac), pd.Series(0.0, index=range(n_set)),
                     pd.DataFrame({"land_km": 0.0, "sea_km": 0.0, "link_capex_usd": 0.0}, index=range(n_set)),
                     report, c_total, np.zeros(n_fac), inst.labels)
    if facilities and len(inst.units):
        res.breakeven = breakeven(inst.units, np.ones(len(inst.units), bool), cand, inst.site_island, inst.net, opt)
    return res


def _plan_result(settlements: pd.DataFrame, inst: Instance, sol: Solution, cand: Candidates,
                 facilities: Sequence[Facility], solver: dict, opt) -> PlanResult:
    """The plan `sol` of the instance's Problem mapped back to facilities and settlements."""
    n_set, n_fac = len(settlements), len(facilities)
    opened, modules, backup, fac_cost = _built(inst, sol, facilities)
    unit_fac, unit_pair = _unit_service(inst, sol)
    v_fac = cand.coef["var_per_kwh"].to_numpy()[cand.fac_tech]
    pair_cost, pair_link = _settlement_shares(settlements, inst, unit_fac, unit_pair, v_fac)
    return PlanResult(pd.Series(unit_fac[inst.labels], index=range(n_set)), facilities, modules, backup, opened, fac_cost,
                      pair_cost, pair_link, solver, sol.objective_usd, _network_km(inst, sol, unit_fac, n_fac), inst.labels,
                      breakeven(inst.units, unit_fac < 0, cand, inst.site_island, inst.net, opt))


def _built(inst: Instance, sol: Solution, facilities: Sequence[Facility]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate facility: opened, modules (the solver's whole purchase units x modules per unit),
    back-up (kW) and annual plant cost (USD/yr, without variable cost)."""
    prob, used_fac, n_fac = inst.prob, inst.used_fac, len(facilities)
    assert prob is not None, "a plan is solved from the instance's model"
    per_unit = np.array([facilities[f].tech.modules_per_unit for f in used_fac], float)
    opened, modules, backup = np.zeros(n_fac, bool), np.zeros(n_fac), np.zeros(n_fac)
    opened[used_fac], modules[used_fac], backup[used_fac] = sol.opened, sol.modules * per_unit, sol.backup_kw
    fac_cost = np.zeros(n_fac)
    fac_cost[used_fac] = (prob.F * sol.opened + prob.M * sol.modules + prob.B * sol.backup_kw)
    return opened, modules, backup, fac_cost


def _unit_service(inst: Instance, sol: Solution) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the candidate facility serving it and its served pair (-1: stand-alone)."""
    prob, pu = inst.prob, inst.pairs.unit
    assert prob is not None, "a plan is solved from the instance's model"
    site_fac = np.full(prob.n_sites, -1)
    site_fac[prob.fac_site[sol.opened]] = inst.used_fac[sol.opened]
    served = np.flatnonzero(sol.x)
    unit_fac = np.full(len(inst.units), -1)
    unit_fac[pu[served]] = site_fac[prob.pair_site[served]]
    unit_pair = np.full(len(inst.units), -1)
    unit_pair[pu[served]] = served
    return unit_fac, unit_pair


def _network_km(inst: Instance, sol: Solution, unit_fac: np.ndarray, n_fac: int) -> np.ndarray:
    """Network length of each candidate facility (km): tree edges and local cluster networks."""
    units, link, pu = inst.units, inst.pairs.link, inst.pairs.unit
    served = np.flatnonzero(sol.x)
    network_km = np.zeros(n_fac)
    np.add.at(network_km, unit_fac[pu[served]], link["land_km"][served] + link["sea_km"][served]
              + (units["net_land_km"] + units["net_sea_km"]).to_numpy()[pu[served]])
    return network_km


def _settlement_shares(settlements: pd.DataFrame, inst: Instance, unit_fac: np.ndarray, unit_pair: np.ndarray,
                       v_fac: np.ndarray) -> tuple[pd.Series, pd.DataFrame]:
    """Each served settlement's share (by demand) of its unit's connection and variable cost (USD/yr)
    and of its line (land km, sea km, capex USD); zero for the others."""
    units, labels, link, a = inst.units, inst.labels, inst.pairs.link, inst.pairs.cost
    n_set = len(settlements)
    E = units["demand_kwh_per_year"].to_numpy(float)
    e_set = settlements["demand_kwh_per_year"].to_numpy(float)
    share = np.divide(e_set, E[labels], out=1.0 / units["members"].to_numpy(float)[labels], where=E[labels] > 0)
    p_set = unit_pair[labels]
    on = p_set >= 0
    unit_cost = np.where(unit_pair >= 0, a[np.maximum(unit_pair, 0)] + v_fac[np.maximum(unit_fac, 0)] * E, 0.0)
    pair_link = pd.DataFrame({
        "land_km": np.where(on, share * (link["land_km"][np.maximum(p_set, 0)] + units["net_land_km"].to_numpy()[labels]), 0.0),
        "sea_km": np.where(on, share * (link["sea_km"][np.maximum(p_set, 0)] + units["net_sea_km"].to_numpy()[labels]), 0.0),
        "link_capex_usd": np.where(on, share * (link["capex_usd"][np.maximum(p_set, 0)]
                                                + units["net_capex_usd"].to_numpy()[labels]), 0.0)}, index=range(n_set))
    return pd.Series(np.where(on, share * unit_cost[labels], 0.0), index=range(n_set)), pair_link


def solve_problem(p: Problem, mip_gap: float, time_limit_s: float, start: np.ndarray | None = None,
                  search: Search | None = None) -> Solution:
    """Solve the MILP of `p` with HiGHS from a warm start and polish the plan it returns.

    The warm start is the cheaper of the greedy plan and `start` that meets the reactor share.

    Parameters
    ----------
    p : Problem
        The MILP in arrays.
    mip_gap : float
        Relative gap on the total annual cost at which the solve stops (fraction).
    time_limit_s : float
        Time limit (s) of HiGHS and the regional search together.
    start : numpy.ndarray, optional
        A plan to start from (served pairs, bool per pair).
    search : Search, optional
        With it, HiGHS has (1 - search.time_fraction) of `time_limit_s`, and when it stops short of
        `mip_gap` the regional search (regional_search.py) improves its plan in the time left.

    Returns
    -------
    Solution
        The plan; its report (plan.json solver) has status, objective and dual bound (USD/yr), the gap
        on the total annual cost and on the net saving, model size, warm start and search records.

    Raises
    ------
    RuntimeError
        When the reactor share cannot be met, or HiGHS returns no plan and no warm start meets the share.
    """
    t_start = time.perf_counter()
    heuristic, warm, meets = _warm_start(p, start)
    pf, pn = plants(p)
    assigned = assignments(p, pf, pn)
    if not len(assigned[0]):  # no unit fits a plant option that might pay
        return _without_model(p, warm, meets)
    t = time.perf_counter()
    highs_s = time_limit_s * (1.0 - search.time_fraction) if search is not None else time_limit_s
    run = solve_milp(p, pf, pn, assigned, warm if meets else None, mip_gap, highs_s)
    solve_s = time.perf_counter() - t
    final = _polished(p, run, warm, meets)
    c_total, bound = float(p.c.sum()), run.dual_bound_usd
    report = {
        "status": run.status, "termination": run.termination,
        "solver_objective_usd": run.objective_usd if run.served is not None else None,
        "mip_dual_bound_usd": bound if np.isfinite(bound) else None,
        "mip_gap_basis": "relative to the plan's total annual cost (the objective)",
        "solve_s": round(solve_s, 3), "solver_time_s": run.solver_time_s, "nodes": run.nodes,
        "variables": run.variables, "binaries": run.binaries, "plant_options": int(len(pf)),
        "constraints": run.constraints, "pairs": int(len(p.pair_unit)),
        "warm_start": {"heuristic": heuristic, "used": run.warm_start_accepted,
                       "objective_usd": warm.objective_usd, "plants": int(warm.opened.sum())},
        "stand_alone_objective_usd": c_total, "polish": final.report,
    }
    if search is not None and _gap(final.objective_usd, bound, c_total)[0] > mip_gap:
        final, report["search"] = regional_search.improve(
            p, final, lambda sub, x, limit_s: solve_problem(sub, mip_gap, limit_s, start=x),
            lambda q, x: evaluate(q, x, close_unprofitable=q.min_share <= 0),
            time_limit_s - (time.perf_counter() - t_start), len(assigned[0]), search.window_assignments)
        report["polish"] = final.report  # of the plan the search returns
    gap, gap_net = _gap(final.objective_usd, bound, c_total)
    final.report = {**report, "objective_usd": final.objective_usd, "mip_gap": gap, "mip_gap_net_saving": gap_net}
    return final


def _warm_start(p: Problem, start: np.ndarray | None) -> tuple[str, Solution, bool]:
    """The warm start: the cheapest of the greedy plan and `start` that meets the reactor share (the
    greedy plan when none does). Returns (its name, the plan, whether it meets the share)."""
    offers = [("greedy add-one-plant", evaluate(p, greedy_plan(p), close_unprofitable=False))]
    if start is not None:
        offers.append(("given plan", evaluate(p, start, close_unprofitable=False)))
    meets = [(name, s) for name, s in offers
             if p.min_share <= 0 or (p.E[p.pair_unit] * s.x).sum() >= p.min_share * p.E.sum() - TOL]
    heuristic, warm = min(meets, key=lambda o: o[1].objective_usd) if meets else offers[0]
    return heuristic, warm, bool(meets)


def _without_model(p: Problem, warm: Solution, meets: bool) -> Solution:
    """The warm start as the plan when no assignment can pay (no model to solve)."""
    if not meets:
        raise RuntimeError("the reactor share cannot be met: no unit fits a reactor plant within reach")
    warm.report = {"status": "ok", "termination": "no assignment can pay", "objective_usd": warm.objective_usd,
                   "mip_gap": 0.0, "mip_gap_net_saving": 0.0, "stand_alone_objective_usd": float(p.c.sum()),
                   "variables": 0, "pairs": int(len(p.pair_unit)), "polish": warm.report}
    return warm


def _polished(p: Problem, run: MilpRun, warm: Solution, meets: bool) -> Solution:
    """HiGHS's plan polished (`evaluate`: cheapest sizing, unprofitable plants closed without a
    reactor share), or the warm start when it is cheaper (solver tolerances) or HiGHS has no plan."""
    if run.served is not None:
        final = evaluate(p, run.served, close_unprofitable=p.min_share <= 0)
        if meets and warm.objective_usd < final.objective_usd:  # solver tolerances only
            final = warm
        return final
    if meets:
        return warm
    raise RuntimeError(f"the plan could not be solved: {run.status} / {run.termination}")


def _gap(objective: float, bound: float, c_total: float) -> tuple[float, float | None]:
    """Proven relative gap of a plan (USD/yr) to the dual bound: on the total annual cost, and on the
    net saving against everyone stand-alone (c_total; None without a bound)."""
    excess = max(objective - bound, 0.0) if np.isfinite(bound) else np.inf
    saving = c_total - objective
    return (excess / objective if objective > 0 else 0.0,
            (excess / saving if saving > TOL else 0.0) if np.isfinite(excess) else None)
