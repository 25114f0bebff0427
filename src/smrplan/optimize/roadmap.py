"""A roadmap of small-reactor plants over decision periods: which sites first, with each design's lead
time, earliest order year and fleet learning, and the stand-alone supply bridging to first power.

`plan_roadmap` starts from the single-year plan's model (instance.fit_instance at the last period's
demand, the most any plant carries): the same units, pruned pairs, candidate facilities and plant
options, whose module cost is lowered to the cheapest module learning can reach so that no option
that might pay under learning is pruned. The roadmap MILP (`milp.solve_roadmap_milp`) then decides,
with perfect foresight of demand and learning, in which period each plant option is started; a plant
decided in period tau is in service from the first period that starts after its first power (decision
year + the design's construction_years), and until then its places keep their stand-alone option.
Money is the present worth, to the first period's year, of each period's annual cost (the single-year
plan's annual costs, so plant capex is paid as an annuity while the plant runs within the roadmap).

`roadmap.method: rolling` solves it instead by a rolling horizon with look-ahead (`rolling_plan`),
with the full model's LP relaxation as the lower bound that proves its gap.

The myopic plan (`myopic_plan`) decides period by period: in period tau it sees only that period's
demand (held for every later period), keeps the decisions already taken and fixes its own; the
decisions are then costed with the true demand of every period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, Technology
from smrplan.costs.economics import Money, by_option, first_of
from smrplan.costs.engine import STANDALONE_COLUMNS, CostBasis, OptionCosts
from smrplan.costs.existing import existing_diesel_kw, standalone_with_existing_usd
from smrplan.geo.layers import Region
from smrplan.optimize.assemble import plant_capex_usd
from smrplan.optimize.facilities import Candidates, candidates
from smrplan.optimize.instance import Instance, fit_instance
from smrplan.optimize.milp import RoadmapRun, solve_roadmap_milp
from smrplan.optimize.problem import Problem, RoadmapProblem, assignments, learning_factor, plants
from smrplan.options import KIND_OPTION, KINDS, STANDALONE_OPTIONS


@dataclass(frozen=True)
class PeriodDemand:
    """Demand and bridging cost per period and settlement: period start years, demand (kWh/yr), peak
    (kW) and the best stand-alone option's annual cost (USD/yr), each periods x settlements."""

    years: np.ndarray
    demand_kwh: np.ndarray
    peak_kw: np.ndarray
    standalone_usd: np.ndarray


@dataclass
class RoadmapPlan:
    """A solved roadmap.

    Attributes
    ----------
    rp : RoadmapProblem
        The model in arrays.
    options : tuple of numpy.ndarray
        Plant options (Problem facility, purchase units) and assignments (pair, option, parent).
    run : RoadmapRun
        Decisions (options x periods), service (assignments x periods), back-up (kW) and the solver record.
    unit_option : numpy.ndarray
        Plant option serving each unit in each period (periods x units, -1: stand-alone).
    annual_cost_usd : numpy.ndarray
        Annual cost of each period (USD/yr): stand-alone places, plants in service, their connections.
    objective_usd : float
        Present worth of the periods' annual costs (USD, to the first period's year).
    """

    rp: RoadmapProblem
    options: tuple
    run: RoadmapRun
    unit_option: np.ndarray
    annual_cost_usd: np.ndarray
    objective_usd: float


def period_demand(years, energy_kwh: list, peak_kw: list, costs: list, settlements: pd.DataFrame, catalogue: Catalogue,
                  money: Money) -> PeriodDemand:
    """Demand and bridging supply of every period: each place's cheapest stand-alone option, with the
    capital of its existing gensets sunk while they last (`smrplan.costs.existing`).

    Parameters
    ----------
    years : sequence of int
        First year of each period.
    energy_kwh, peak_kw : list of numpy.ndarray
        Demand (kWh/yr) and peak (kW) per settlement, one array per period.
    costs : list of OptionCosts
        The option costs of each period's demand.
    settlements : pandas.DataFrame
        The settlements (``territory`` places them in an existing fleet).
    catalogue : Catalogue
        Its diesel entry: capex (USD/kW) and life (yr).
    money : Money
        Discount rate of the genset annuity.

    Returns
    -------
    PeriodDemand
    """
    life = float(first_of(catalogue, "diesel")["lifetime_years"])
    bridging = [standalone_with_existing_usd(c, existing_diesel_kw(settlements.assign(peak_kw=p), int(y), life), catalogue,
                                             money) for c, p, y in zip(costs, peak_kw, years, strict=True)]
    return PeriodDemand(np.asarray(years, int), np.stack(energy_kwh), np.stack(peak_kw), np.stack(bridging))


def period_weights(years, step_years: int, discount_rate: float) -> np.ndarray:
    """Present worth of 1 USD/yr through each period of `step_years` years, discounted to years[0].

    Parameters
    ----------
    years : array_like
        First year of each period.
    step_years : int
        Years in each period.
    discount_rate : float
        Real discount rate (fraction/yr).

    Returns
    -------
    numpy.ndarray
        USD per USD/yr, one per period.
    """
    y = np.asarray(years, float)
    offsets = y[:, None] - y[0] + np.arange(step_years)[None, :]
    return ((1.0 + discount_rate) ** -offsets).sum(axis=1)


def learning_candidates(cand: Candidates, most_modules: int) -> Candidates:
    """The candidates with each technology's module cost at the cheapest module its learning rate
    reaches within `most_modules` (never above its first module's), for pruning that keeps every plant
    option that might pay under learning.

    Parameters
    ----------
    cand : Candidates
        The single-year candidates (coef: module, module_capex, module_om in USD/yr per purchase unit).
    most_modules : int
        Most modules of one design the roadmap can start.

    Returns
    -------
    Candidates
    """
    rate = np.array([t["learning_rate_per_doubling"] for t in cand.techs], float)
    floor = np.minimum(learning_factor(max(most_modules, 1), rate), 1.0)
    coef = cand.coef.copy()
    if len(coef):
        coef["module"] = coef["module_capex"] * floor + coef["module_om"]
    return replace(cand, coef=coef)


def roadmap_problem(inst: Instance, cand: Candidates, demand: PeriodDemand, money: Money, settings) -> RoadmapProblem:
    """The roadmap in arrays from the single-year instance and the demand of every period.

    Parameters
    ----------
    inst : Instance
        The single-year instance (its Problem, units and settlement labels).
    cand : Candidates
        The candidate facilities at the catalogue's (first-module) costs.
    demand : PeriodDemand
        Demand, peak and stand-alone cost per period and settlement.
    money : Money
        Discount rate (of the period weights and interest during construction).
    settings : smrplan.scenario.Roadmap
        step_years, max_modules_started_per_period and budget_usd_per_period.

    Returns
    -------
    RoadmapProblem
    """
    assert inst.prob is not None, "a roadmap is built on the single-year model"
    n_units = len(inst.units)

    def to_units(a: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(inst.labels, row, n_units) for row in a])  # a handful of periods

    def coef(name: str) -> np.ndarray:  # per technology; none without reactor technologies
        return cand.coef[name].to_numpy(float) if name in cand.coef else np.zeros(0)

    techs: list[Technology] = cand.techs
    ft = cand.fac_tech[inst.used_fac]
    per_unit = np.array([t.modules_per_unit for t in techs], float)
    first = np.array([plant_capex_usd(t, 1, 0.0, 0.0, money.discount_rate) for t in techs], float)
    shore = np.array([plant_capex_usd(t, 0, 0.0, 0.0, money.discount_rate) for t in techs], float)
    return RoadmapProblem(
        inst.prob, np.asarray(demand.years, int), settings.step_years,
        period_weights(demand.years, settings.step_years, money.discount_rate),
        to_units(demand.demand_kwh), to_units(demand.peak_kw), to_units(demand.standalone_usd), ft,
        coef("module_om")[ft], shore[ft],
        np.array([t["construction_years"] for t in techs], float), np.array([t["earliest_order_year"] for t in techs], float),
        np.array([t["learning_rate_per_doubling"] for t in techs], float), per_unit,
        coef("module_capex") / per_unit, first - shore,
        settings.max_modules_started_per_period, settings.budget_usd_per_period)


def solve_roadmap(rp: RoadmapProblem, mip_gap: float, time_limit_s: float, fixed: np.ndarray | None = None,
                  relaxed: bool = False) -> RoadmapPlan:
    """Solve a roadmap with perfect foresight (or with some decisions held) and cost its periods.

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    mip_gap : float
        Relative gap on the present worth at which HiGHS stops (fraction).
    time_limit_s : float
        HiGHS's time limit (s).
    fixed : numpy.ndarray, optional
        Decisions held (plant options x periods: 1, 0, -1 free), in the order of problem.plants.
    relaxed : bool, default False
        Solve the LP relaxation (its record's dual_bound_usd a lower bound on the present worth; its
        decisions, rounded, are not a plan).

    Returns
    -------
    RoadmapPlan
    """
    pf, pn = plants(rp.prob)
    assigned = assignments(rp.prob, pf, pn)
    run = solve_roadmap_milp(rp, pf, pn, assigned, mip_gap, time_limit_s, fixed, relaxed)
    T, n_units = len(rp.years), len(rp.prob.E)
    unit_option = np.full((T, n_units), -1)
    a, t = np.nonzero(run.served)
    unit_option[t, rp.prob.pair_unit[assigned[0][a]]] = assigned[1][a]
    annual = period_costs(rp, (pf, pn) + assigned, run)
    return RoadmapPlan(rp, (pf, pn) + assigned, run, unit_option, annual, float(rp.weight @ annual))


def module_capex_annual(rp: RoadmapProblem, pf: np.ndarray, pn: np.ndarray, decided: np.ndarray) -> np.ndarray:
    """Annual capex of every decided plant option's modules with learning (USD/yr, options x periods
    of decision): a design's modules are numbered in decision order, options of one period in index
    order, and the q-th costs its first module's capex x learning_factor(q).

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    pf, pn : numpy.ndarray
        Plant options: facility and purchase units.
    decided : numpy.ndarray
        Option decided in period (bool, options x periods).

    Returns
    -------
    numpy.ndarray
        Options x periods; zero where not decided.
    """
    return _learned(rp, pf, pn, decided, rp.module_capex_annual)


def _learned(rp: RoadmapProblem, pf, pn, decided, first_cost: np.ndarray) -> np.ndarray:
    """Cost of each decision's modules at their fleet numbers (options x periods), `first_cost` per design."""
    d_v = rp.design[pf]
    iv, itau = np.nonzero(decided)
    mods = (pn * rp.modules_per_unit[d_v])[iv]
    order = np.lexsort((iv, itau, d_v[iv]))  # by design, period, option
    d_sorted, m_sorted = d_v[iv][order], mods[order]
    before = np.cumsum(m_sorted) - m_sorted  # modules of all designs before, in this order
    design_start = before[np.searchsorted(d_sorted, d_sorted)]
    q0 = before - design_start  # modules of the same design before this decision
    most = int(m_sorted.sum()) + 1
    rate = rp.learning_rate[d_sorted]
    q = np.arange(1, most + 1)[None, :]
    f = np.where((q > q0[:, None]) & (q <= (q0 + m_sorted)[:, None]), learning_factor(q, rate[:, None]), 0.0)
    out = np.zeros(decided.shape)
    out[iv[order], itau[order]] = first_cost[d_sorted] * f.sum(axis=1)
    return out


def period_costs(rp: RoadmapProblem, options: tuple, run: RoadmapRun) -> np.ndarray:
    """Annual cost of each period (USD/yr) of a roadmap's decisions and service: every unit's
    stand-alone cost, less it and plus connection and variable cost where a plant serves it, plus
    each plant in service (fixed cost, module O&M and learned module capex, back-up).

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    options : tuple of numpy.ndarray
        Plant options (facility, purchase units) and assignments (pair, option, parent).
    run : RoadmapRun
        Decisions, service and back-up.

    Returns
    -------
    numpy.ndarray
        USD/yr per period.
    """
    pf, pn, pair, plant, _ = options
    p = rp.prob
    u = p.pair_unit[pair]
    sv = rp.serves()[rp.design[pf]]  # (option, tau, t)
    plant_year = (p.F[pf] + rp.module_om[pf] * pn)[:, None] * run.decided + module_capex_annual(rp, pf, pn, run.decided)
    in_service = np.einsum("vs,vst->t", plant_year, sv.astype(float))
    served = (run.served * (p.pair_cost[pair][:, None] + p.v[pf[plant]][:, None] * rp.E[:, u].T - rp.c[:, u].T)).sum(axis=0)
    return rp.c.sum(axis=1) + served + in_service + (run.backup_kw * p.B[pf][:, None]).sum(axis=0)


def myopic_plan(rp: RoadmapProblem, mip_gap: float, time_limit_s: float) -> RoadmapPlan:
    """The myopic roadmap: in each period the planner sees that period's demand (held for every later
    period), keeps the decisions already taken and fixes its own; the decisions are then costed with the
    true demand of every period.

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays (true demand).
    mip_gap : float
        Relative gap of each solve (fraction).
    time_limit_s : float
        HiGHS's time limit of each solve (s).

    Returns
    -------
    RoadmapPlan
        The myopic decisions costed with the true demand.
    """
    pf, _ = plants(rp.prob)
    T = len(rp.years)
    fixed = np.full((len(pf), T), -1)
    for tau in range(T):  # one solve per period
        seen = np.minimum(np.arange(T), tau)  # later periods repeat this period's demand
        view = replace(rp, E=rp.E[seen], P=rp.P[seen], c=rp.c[seen])
        step = solve_roadmap(view, mip_gap, time_limit_s, fixed)
        fixed[:, tau] = step.run.decided[:, tau]
    return solve_roadmap(rp, mip_gap, time_limit_s, fixed)


def first_periods(rp: RoadmapProblem, n: int) -> RoadmapProblem:
    """The roadmap of its first `n` periods (the same units, plant options and programme limits).

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    n : int
        Periods kept.

    Returns
    -------
    RoadmapProblem
    """
    return replace(rp, years=rp.years[:n], weight=rp.weight[:n], E=rp.E[:n], P=rp.P[:n], c=rp.c[:n])


def rolling_plan(rp: RoadmapProblem, lookahead_periods: int, mip_gap: float, time_limit_s: float) -> RoadmapPlan:
    """The roadmap by a rolling horizon with look-ahead, and a lower bound that proves its gap.

    Step k (periods counted from 0) solves the roadmap of periods 0 to k + `lookahead_periods`
    (`first_periods`: the later periods left out, their decisions free for the later steps; longer when
    a design started in period k first serves later, so that every design can pay within the window)
    with the decisions of the periods before k held, then holds period k's decisions and rolls on; once
    the window reaches the last period, that step's decisions are all taken, and its plan is a plan of
    the full roadmap. Plant capex is an
    annuity paid while a plant runs within the periods solved, so a window charges each plant only for
    the years it serves there. The lower bound is the optimum of the full model's LP relaxation (every
    binary in [0, 1]), so the reported gap (cost - bound) / bound is proven.

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    lookahead_periods : int
        Periods after the current one in each step's window, at least (the number of periods less one:
        the full model in one step).
    mip_gap : float
        Relative gap of each solve (fraction).
    time_limit_s : float
        HiGHS's time limit of each solve (s).

    Returns
    -------
    RoadmapPlan
        Its run record has method "rolling", lookahead_periods, steps, bound_usd (USD, the LP
        relaxation's optimum) and gap (fraction; None without a positive bound).
    """
    pf, _ = plants(rp.prob)
    T = len(rp.years)
    sv = rp.serves()

    def window_end(k: int) -> int:  # the look-ahead, or the first service period of every design started in k
        first = [k + lookahead_periods] + [int(np.argmax(s)) for s in sv[:, k] if s.any()]
        return min(max(first), T - 1)

    fixed = np.full((len(pf), T), -1)
    k = 0
    while window_end(k) < T - 1:  # one solve per period until the window reaches the last period
        n = window_end(k) + 1
        fixed[:, k] = solve_roadmap(first_periods(rp, n), mip_gap, time_limit_s, fixed[:, :n]).run.decided[:, k]
        k += 1
    plan = solve_roadmap(rp, mip_gap, time_limit_s, fixed)
    bound = solve_roadmap(rp, mip_gap, time_limit_s, relaxed=True).run.record["dual_bound_usd"]
    plan.run.record.update(method="rolling", lookahead_periods=lookahead_periods, steps=k + 1, bound_usd=bound,
                           gap=max(plan.objective_usd - bound, 0.0) / bound if bound > 0 else None)
    return plan


def plan_by_method(rp: RoadmapProblem, settings, mip_gap: float, time_limit_s: float) -> RoadmapPlan:
    """The roadmap by the scenario's method: the full perfect-foresight model or the rolling horizon.

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    settings : smrplan.scenario.Roadmap
        method ("full" or "rolling") and lookahead_periods.
    mip_gap : float
        Relative gap of each solve (fraction).
    time_limit_s : float
        HiGHS's time limit of each solve (s).

    Returns
    -------
    RoadmapPlan
        Its run record has method, bound_usd (the lower bound, USD of present worth) and gap
        ((cost - bound) / bound, fraction; None without a positive bound).
    """
    if settings.method == "rolling":
        return rolling_plan(rp, settings.lookahead_periods, mip_gap, time_limit_s)
    plan = solve_roadmap(rp, mip_gap, time_limit_s)
    bound = plan.run.record["dual_bound_usd"]
    plan.run.record.update(method="full", bound_usd=bound,
                           gap=max(plan.objective_usd - bound, 0.0) / bound if bound > 0 else None)
    return plan


def plant_table(plan: RoadmapPlan, cand: Candidates, inst: Instance, settlement_ids: np.ndarray) -> pd.DataFrame:
    """One row per plant the roadmap starts.

    Parameters
    ----------
    plan : RoadmapPlan
        The solved roadmap.
    cand : Candidates
        The candidate facilities (sites, technologies).
    inst : Instance
        The single-year instance (used facilities, settlement labels).
    settlement_ids : numpy.ndarray
        Settlement ids, in the settlements' order.

    Returns
    -------
    pandas.DataFrame
        site_id, kind, design, modules, capacity_mw (MW), decision_year, first_power_year (decision year
        + lead time), service_year (first period in service), capex_usd (USD with learning and interest
        during construction, shore works), places_served and settlements_served (';'-joined ids) in the
        last period, lon, lat (degrees). `plan_roadmap` adds `explain_order`'s columns.
    """
    rp, (pf, pn, *_) = plan.rp, plan.options
    iv, itau = np.nonzero(plan.run.decided)
    fac = inst.used_fac[pf[iv]]
    site, tech = cand.fac_site[fac], cand.fac_tech[fac]
    d = rp.design[pf[iv]]
    mods = (pn * rp.modules_per_unit[rp.design[pf]])[iv]
    first_power = rp.years[itau] + rp.lead_years[d]
    sv = rp.serves()[d, itau]  # (plant, t)
    service = np.where(sv.any(axis=1), rp.years[np.argmax(sv, axis=1)], -1)
    capex = _learned(rp, pf, pn, plan.run.decided, rp.module_capex_usd)[iv, itau] + rp.fixed_capex_usd[pf[iv]]
    last = plan.unit_option[-1][inst.labels]  # option serving each settlement in the last period
    members = [settlement_ids[last == v] for v in iv]
    return pd.DataFrame({
        "site_id": cand.sites["site_id"].to_numpy()[site], "kind": cand.sites["kind"].to_numpy()[site],
        "design": [cand.techs[t].key for t in tech], "modules": mods.astype(int),
        "capacity_mw": mods * np.array([cand.techs[t]["module_size_mw"] for t in tech]),
        "decision_year": rp.years[itau], "first_power_year": first_power, "service_year": service,
        "capex_usd": capex.round(0), "places_served": [len(m) for m in members],
        "settlements_served": [";".join(map(str, m)) for m in members],
        "lon": cand.sites["lon"].to_numpy()[site], "lat": cand.sites["lat"].to_numpy()[site],
    }).sort_values(["decision_year", "site_id"], kind="stable").reset_index(drop=True)


def explain_order(plan: RoadmapPlan, cand: Candidates, inst: Instance, mip_gap: float, time_limit_s: float,
                  max_plants: int) -> pd.DataFrame:
    """Why this order: what each plant the roadmap starts saves, and what delaying it would cost.

    For each plant (earliest decisions first, at most `max_plants`), the roadmap is solved again twice
    with the other decisions free: once with no plant at its site in any period (``saving_usd`` = that
    present worth minus the roadmap's: what the site saves), and once with the same plant decided one
    period later (``delay_cost_usd``; a plant of the last period delayed leaves the horizon, so its delay
    cost is its saving). Both are present worths (USD, to the first period's year); with a MIP gap above
    zero each re-solve may be up to that gap from its optimum, so differences within
    ``gap_usd`` (= gap x the roadmap's present worth) are not significant.

    Parameters
    ----------
    plan : RoadmapPlan
        The solved roadmap.
    cand : Candidates
        The candidate facilities (their sites).
    inst : Instance
        The single-year instance (used facilities).
    mip_gap : float
        Relative gap of each re-solve (fraction).
    time_limit_s : float
        HiGHS's time limit of each re-solve (s).
    max_plants : int
        Most plants explained (two re-solves each).

    Returns
    -------
    pandas.DataFrame
        site_id, decision_year, saving_usd, delay_cost_usd and gap_usd (USD), one row per plant explained.
    """
    rp, (pf, *_) = plan.rp, plan.options
    decided = plan.run.decided.astype(bool)
    site_of = cand.fac_site[inst.used_fac[pf]]  # site of each plant option
    iv, itau = np.nonzero(decided)
    order = np.argsort(itau, kind="stable")[:max_plants]
    rows = []
    for v, tau in zip(iv[order], itau[order], strict=True):  # two re-solves per plant, a handful of plants
        held = np.full(decided.shape, -1)
        held[site_of == site_of[v], :] = 0
        without = solve_roadmap(rp, mip_gap, time_limit_s, fixed=held).objective_usd
        if tau + 1 < len(rp.years):
            held[v, tau + 1] = 1
            delayed = solve_roadmap(rp, mip_gap, time_limit_s, fixed=held).objective_usd
        else:
            delayed = without
        rows.append({"site_id": cand.sites["site_id"].to_numpy()[site_of[v]], "decision_year": int(rp.years[tau]),
                     "saving_usd": round(without - plan.objective_usd, 0),
                     "delay_cost_usd": round(delayed - plan.objective_usd, 0),
                     "gap_usd": round(mip_gap * plan.objective_usd, 0)})
    return pd.DataFrame(rows, columns=["site_id", "decision_year", "saving_usd", "delay_cost_usd", "gap_usd"])


@dataclass
class RoadmapOutcome:
    """The roadmap of a set of settlements: the perfect-foresight plan, the myopic one (or None), the
    plants started (`plant_table`), the plant option serving each settlement in each period (periods x
    settlements, -1: stand-alone) and the single-year instance and candidates it was built on."""

    plan: RoadmapPlan
    myopic: RoadmapPlan | None
    plants: pd.DataFrame
    settlement_option: np.ndarray
    instance: Instance
    candidates: Candidates


def _without_plants(inst: Instance, opt) -> Problem:
    """The Problem of an instance's units without pairs or facilities (every unit stays stand-alone)."""
    u = inst.units
    none, nothing = np.zeros(0, int), np.zeros(0)
    return Problem(u["demand_kwh_per_year"].to_numpy(float), u["peak_kw"].to_numpy(float),
                   u["standalone_annual_cost_usd"].to_numpy(float), none, none, nothing, none, nothing, none, nothing,
                   nothing, nothing, nothing, nothing, nothing, nothing, 0, opt.reserve_margin_fraction)


def roadmap_model(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, enabled, allowed: np.ndarray,
                  catalogue: Catalogue, money: Money, opt, load_factor: float, carbon_price_usd_per_t: float,
                  demand: PeriodDemand, settings) -> tuple[RoadmapProblem, Instance, Candidates]:
    """The roadmap in arrays on the single-year plan's model at the last period's demand (not solved).

    Parameters
    ----------
    region, settlements, sites, catalogue, money, opt, load_factor, carbon_price_usd_per_t, demand, settings
        As in `plan_roadmap`.
    enabled : sequence of str
        Enabled catalogue technologies.
    allowed : numpy.ndarray
        May the settlement use a reactor of this kind (bool, settlements x KINDS).

    Returns
    -------
    rp : RoadmapProblem
    inst : Instance
        The single-year instance (units, settlement labels, used facilities).
    cand : Candidates
        The candidate facilities at the catalogue's (first-module) costs.
    """
    groups = by_option(catalogue, list(enabled))
    techs_by_kind = {kind: groups[KIND_OPTION[kind]] for kind in KINDS}
    diesel = first_of(catalogue, "diesel")
    suitable = sites[sites["suitable"].to_numpy(bool)]
    cand = candidates(suitable, techs_by_kind, diesel, money, load_factor, carbon_price_usd_per_t)
    n_periods = len(demand.years)
    most = max([t.max_units * t.modules_per_unit for t in cand.techs] + [1]) * max(len(cand.sites), 1)
    if settings.max_modules_started_per_period is not None:
        most = min(most, settings.max_modules_started_per_period * n_periods)
    inst = fit_instance(region, settlements, allowed, learning_candidates(cand, most), opt,
                        first_of(catalogue, "grid_extension"), first_of(catalogue, "submarine_cable"), money)
    if inst.prob is None:  # no unit can gain from a plant: a roadmap without plants
        inst = replace(inst, prob=_without_plants(inst, opt))
    return roadmap_problem(inst, cand, demand, money, settings), inst, cand


def plan_roadmap(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, basis: CostBasis, catalogue: Catalogue,
                 money: Money, opt, load_factor: float, carbon_price_usd_per_t: float, demand: PeriodDemand, settings,
                 *, myopic: bool) -> RoadmapOutcome:
    """Build the roadmap on the single-year plan's model at the last period's demand and solve it.

    Parameters
    ----------
    region : Region
        Land / sea layers (network and cable routes).
    settlements : pandas.DataFrame
        The settlements at the last period's demand (as `optimize.assemble.optimise` takes them), with
        standalone_annual_cost_usd (USD/yr) of that period; not modified.
    sites : pandas.DataFrame
        Screened candidate sites (`suitable` flags which may be used).
    basis : CostBasis
        The cost basis (enabled technologies, region rules).
    catalogue : Catalogue
        Technology data, with each reactor design's construction_years, earliest_order_year and
        learning_rate_per_doubling.
    money : Money
        Discount rate and horizon.
    opt : smrplan.scenario.Optimisation
        Solver settings (mip_gap, time_limit_s per solve), reach, clustering, reserve margin.
    load_factor : float
        Demand load factor (mean / peak).
    carbon_price_usd_per_t : float
        Carbon price on diesel CO2 (USD/t).
    demand : PeriodDemand
        Demand and stand-alone cost of every period.
    settings : smrplan.scenario.Roadmap
        Periods, modules started per period, budget, method (full or rolling horizon).
    myopic : bool
        Also solve the myopic roadmap.

    Returns
    -------
    RoadmapOutcome
    """
    rp, inst, cand = roadmap_model(region, settlements, sites, basis.enabled, basis.allowed, catalogue, money, opt,
                                   load_factor, carbon_price_usd_per_t, demand, settings)
    plan = plan_by_method(rp, settings, opt.mip_gap, opt.time_limit_s)
    why = explain_order(plan, cand, inst, opt.mip_gap, opt.time_limit_s, settings.explain_order_max_plants)
    table = plant_table(plan, cand, inst, settlements["id"].astype(str).to_numpy())
    table = table.merge(why, on=["site_id", "decision_year"], how="left", validate="one_to_one")
    return RoadmapOutcome(plan, myopic_plan(rp, opt.mip_gap, opt.time_limit_s) if myopic else None, table,
                          plan.unit_option[:, inst.labels], inst, cand)


def first_reactor_year(outcome: RoadmapOutcome) -> np.ndarray:
    """The first period year in which a plant serves each settlement (NaN: never within the roadmap).

    Parameters
    ----------
    outcome : RoadmapOutcome
        The solved roadmap.

    Returns
    -------
    numpy.ndarray
        Year per settlement, in the settlements' order.
    """
    served = outcome.settlement_option >= 0  # periods x settlements
    years = outcome.plan.rp.years.astype(float)
    return np.where(served.any(axis=0), years[np.argmax(served, axis=0)], np.nan)


def yearly_trajectory(outcome: RoadmapOutcome, costs: list[OptionCosts]) -> pd.DataFrame:
    """The roadmap year by year, from the first period's year to the end of the last period.

    Each year takes its period's annual cost and service; the places without a plant in service run
    their least-cost stand-alone option (its CO2 and the diesel its genset burns). The reactor plants'
    back-up diesel through refuelling outages is in the annual cost but not in the CO2 and litres.

    Parameters
    ----------
    outcome : RoadmapOutcome
        The solved roadmap.
    costs : list of OptionCosts
        The option costs of every period's demand (costs.engine.option_costs), in period order.

    Returns
    -------
    pandas.DataFrame
        year, period_year, capex_usd (reactor capex committed that year: plants decided, USD),
        annual_cost_usd (USD/yr), co2_t (t CO2/yr), diesel_l (l/yr), reactor_mw_in_service (MW) and
        places_on_reactors (settlements served by a plant).
    """
    rp, plants_ = outcome.plan.rp, outcome.plants
    served = outcome.settlement_option >= 0  # periods x settlements
    co2, litres = np.zeros(len(costs)), np.zeros(len(costs))
    for t, c in enumerate(costs):  # one vectorised pass per period
        alone = c.annual_usd[:, STANDALONE_COLUMNS]
        choice = np.nanargmin(alone, axis=1)
        fuel = np.column_stack([c.standalone[o]["fuel_l"].to_numpy(float) if "fuel_l" in c.standalone[o]
                                else np.zeros(len(alone)) for o in STANDALONE_OPTIONS])
        rows = np.arange(len(alone))
        co2[t] = float(c.co2_t[:, STANDALONE_COLUMNS][rows, choice][~served[t]].sum())
        litres[t] = float(fuel[rows, choice][~served[t]].sum())
    years = np.arange(int(rp.years[0]), int(rp.years[-1]) + rp.step_years)
    period = np.minimum((years - rp.years[0]) // rp.step_years, len(rp.years) - 1)
    in_service = (plants_["service_year"].to_numpy()[None, :] <= rp.years[:, None]) & (plants_["service_year"].to_numpy() >= 0)
    mw = in_service.astype(float) @ plants_["capacity_mw"].to_numpy(float)
    capex = pd.Series(plants_["capex_usd"].to_numpy(float)).groupby(plants_["decision_year"].to_numpy()).sum()
    return pd.DataFrame({"year": years, "period_year": rp.years[period],
                         "capex_usd": capex.reindex(years, fill_value=0.0).to_numpy(),
                         "annual_cost_usd": outcome.plan.annual_cost_usd[period], "co2_t": co2[period],
                         "diesel_l": litres[period], "reactor_mw_in_service": mw[period],
                         "places_on_reactors": served.sum(axis=1)[period]})
