"""Least-cost deployment plan: a facility-location MILP solved with linopy + HiGHS.

Units u are the settlements, or clusters of nearby settlements (cluster.py: quadtree cells, small
where the load is dense) when there are more than `optimisation.cluster_above` of them. A unit has
annual demand E_u (kWh/yr), peak P_u (kW) and c_u (USD/yr), the annual cost of its members' best
stand-alone options (diesel, PV + battery, grid; the carbon price included). Sites s are the
candidate sites screened *suitable* (siting.py): an unsuitable site, a floating berth in too shallow
water for example, never enters the model. A facility f = (s, t) is a plant of reactor technology t
of the site's kind (land, micro, floating); a plant option v = (f, n) is that plant with n = 1..N_t
modules.

Pruning before the model (each step keeps the optimum of the model that follows, except the first,
which is the modelling choice the scenario makes): a unit may use only its `nearest_sites` nearest
suitable sites within `max_network_distance_km`, of a kind its region allows
(`allowed_options_by_region`). A pair whose unit alone exceeds every plant at the site (peak with
reserve or energy beyond N modules) is dropped with the pairs whose network path runs through it.
Then, when `min_reactor_share` is 0 (a share may force a loss): a pair that cannot pay even alone
and free of capital (a_p + min_t v_t E_u >= c_u) and lies on no profitable pair's network path is
dropped (taking a unit out of a plant never raises the plant's cost); a facility or a plant option
whose lower bound on cost minus stand-alone cost, over any set of units, is not negative is dropped
(bounds in `_useful_facilities` and `plants`).

Variables: x_a in {0,1} for assignments a = (u, v) of a unit to a plant option at one of its sites,
o_v in {0,1} (plant option built), b_v >= 0 (diesel back-up for refuelling, kW).

    min  sum_u c_u + sum_a (a_p + v_t E_u - c_u) x_a + sum_v ((F_t + M_t n) o_v + B_f b_v)
    s.t. sum_v x_(u,v) <= 1                                    each unit served at most once
         x_a <= o_v                        a joined to the site   (disaggregated linking, one per a)
         x_a <= x_parent(a)                a joined to a unit     (its network path must be served too)
         sum_(a at v) P_u (1 + r) x_a <= n K_t o_v                 capacity with reserve margin r
         sum_(a at v) P_u x_a <= (n - 1) K_t o_v + b_v             one module refuelling
         sum_(a at v) E_u / 8760 x_a <= CF_t n K_t o_v             energy at the capacity factor
         b_v <= K_t o_v;  sum_(v at s) o_v <= 1                    one plant per site
         [sum_v o_v <= max_sites]   [sum_a E_u x_a >= min_reactor_share sum_u E_u]

K_t is the module size (kW), CF_t the capacity factor, v_t variable O&M + fuel (USD/kWh), F_t the
plant's fixed annual cost (floating shore works), M_t the annual cost of a module (capex with interest
during construction, replacement, salvage and decommissioning over the horizon, plus fixed O&M) and
B_f the annual cost of a kW of diesel back-up (capex, fixed O&M, fuel through the refuelling outage at
the scenario load factor, island logistics when the site's nearest unit is an island, and the carbon
price on its CO2). These are the coefficients of economics.reactor_plant_cost, so a plant serving one
unit costs what the cost engine says. One option per module count (rather than an integer module
count per facility) is the tighter formulation: a fractional plant cannot serve whole units with a
fraction of a module, which closed most of the LP gap on the benchmark regions. b_v <= K_t o_v is
valid (with the reserve, the shortfall while a module refuels never exceeds one module); an energy
row is written only where some unit's mean load at the capacity factor exceeds its peak with reserve
(otherwise the capacity row implies it). The solver works in kUSD/yr; the stand-alone constant is the
objective's offset, so HiGHS's relative gap is the gap on the plan's total annual cost (the gap on
the net saving against everyone stand-alone is reported beside it).

Network (shared trunks): each pair pays a_p, the annualised line (overland line, submarine cable on
the part of the straight route that crosses sea, a substation; line type by the unit's own peak) from
the unit to its *parent*: the nearest of its 8 nearest units that is closer to the site than the unit
itself and nearer to it than the site, else the site. The constraint x_a <= x_parent(a) makes every
plant's network a tree rooted at the site whose cost the objective counts exactly, so trunks are
shared instead of running a star line from every settlement to the site (which over-estimates).
Still approximate: an edge is sized by its unit's own peak, not the load it passes on; routes are
straight lines. Clustered units add their local network (cluster.py). Built sites also report the
minimum spanning tree length of the plant and its settlements (plan.py).

Warm start: a greedy add-one-plant heuristic (each round, every free site offers its best technology
with the most profitable run of its nearest still-available units, and the offers that no better
offer overlaps are built) is passed to HiGHS as its first incumbent through the solver model that
linopy builds (highspy setSolution), so the plan never costs more than the greedy one or than
everyone stand-alone. After the solve each built site gets its cheapest technology and module count
for the units it serves, and a plant costing more than its units alone (possible within the MIP gap)
is closed. HiGHS has 1 - `search_time_fraction` of the time limit; when it stops short of the gap, the
regional search (regional_search.py) improves its plan window by window in the rest.

Why not a reactor: for the largest units left without one, a bisection on a multiplier of
capex_usd_per_kw (module capex only; shore works and O&M unchanged) finds where the unit's cheapest
own plant (any technology at any of its candidate sites, with a direct line) matches its stand-alone
cost. Sharing a plant could win earlier, so the reduction found is sufficient, not necessary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from functools import partial

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from smrplan.catalogue.catalogue import Technology
from smrplan.costs.economics import Money, diesel_cost, idc_factor, line_cost, pv_factor
from smrplan.errors import InputError
from smrplan.geo.distance import PointIndex, haversine_km
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.optimize import regional_search
from smrplan.optimize.cluster import ZERO_KM, cluster_settlements, top_cell_km
from smrplan.optimize.pairs import expand, reachable, reindex, with_ancestors
from smrplan.options import KIND_OPTION, KINDS  # also imported from here by api, explore, assemble, uncertainty
from smrplan.units import HOURS_PER_YEAR as HOURS

NEIGHBOURS = 8  # nearby units searched for a unit's parent in a site's network tree
SCALE = 1e-3  # solver objective in kUSD/yr
TOL = 1e-6  # integrality / feasibility tolerance when sizing plants from a solution
BISECTION_STEPS = 50
WHY_TOP = 10  # largest units without a reactor explained in plan.json `why`

log = logging.getLogger(__name__)


@dataclass
class Facility:
    site_id: str
    kind: str
    tech: Technology
    lon: float
    lat: float


@dataclass
class PlanResult:
    """MILP outcome mapped to settlements: served settlement -> facility, plant sizes, solver report.

    `pair_annual_cost` and `pair_link` give each served settlement its share (by demand) of its unit's
    connection (USD/yr; km; USD) plus its energy's variable cost; `network_km` is each facility's
    network length in the model (tree edges and local cluster networks); `unit_labels` maps every
    settlement to the unit the MILP saw; `breakeven` explains the largest units without a reactor."""

    assignment: pd.Series  # settlement index -> facility index (or -1)
    facilities: list[Facility]
    modules: np.ndarray
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


@dataclass
class Problem:
    """The MILP in arrays. Units: E (kWh/yr), P (kW), c (USD/yr). Pairs: unit, site, connection cost
    a (USD/yr), parent pair (-1 = joined to the site), distance to the site (km, orders the greedy
    heuristic). Facilities: site, module kW K, max modules N, capacity factor CF, fixed F (USD/yr),
    per module M (USD/yr), back-up B (USD/yr per kW), variable v (USD/kWh)."""

    E: np.ndarray
    P: np.ndarray
    c: np.ndarray
    pair_unit: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    pair_parent: np.ndarray
    pair_km: np.ndarray
    fac_site: np.ndarray
    K: np.ndarray
    N: np.ndarray
    CF: np.ndarray
    F: np.ndarray
    M: np.ndarray
    B: np.ndarray
    v: np.ndarray
    n_sites: int
    reserve: float
    max_sites: int | None = None
    min_share: float = 0.0
    site_lon: np.ndarray | None = None  # site positions (degrees) for the regional decomposition
    site_lat: np.ndarray | None = None


@dataclass
class Solution:
    """A plan for a Problem: served pairs (bool), built facilities (bool) with their modules and
    back-up (kW), total annual cost (USD/yr, stand-alone units included) and the solver's report."""

    x: np.ndarray
    opened: np.ndarray
    modules: np.ndarray
    backup_kw: np.ndarray
    objective_usd: float
    report: dict = field(default_factory=dict)


def facility_costs(tech: Technology, diesel: Technology, money: Money, is_island: bool,
                   load_factor: float, carbon_price: float = 0.0) -> dict[str, float]:
    """Linear cost coefficients of one facility (USD/yr): per plant, per module (capex and O&M parts),
    per kW of diesel back-up (with the carbon price on its CO2), per kWh; and the sizing data."""
    mod_kw = tech["module_size_mw"] * 1000.0
    per_kw = tech["capex_usd_per_kw"] * float(idc_factor(money.discount_rate, tech["construction_years"]))
    k_plant = pv_factor(tech["lifetime_years"], money, tech["decommissioning_fraction_of_capex"]) * money.crf
    outage_h = tech["refuelling_outage_days"] * 24.0 / tech["refuelling_interval_years"]
    b = diesel_cost(np.array([outage_h * load_factor]), np.array([1.0]), diesel, money, np.array([is_island]))
    module_capex = mod_kw * per_kw * k_plant
    module_om = mod_kw * tech["fixed_om_usd_per_kw_year"]
    return {"fixed": (tech.get("shore_works_usd", 0.0) or 0.0) * k_plant,
            "module": module_capex + module_om, "module_capex": module_capex, "module_om": module_om,
            "backup_per_kw": float(b["annual_cost_usd"].iloc[0] + carbon_price * b["co2_t"].iloc[0]),
            "var_per_kwh": (tech["variable_om_usd_per_mwh"] + tech["fuel_usd_per_mwh"]) / 1000.0,
            "module_kw": mod_kw, "max_modules": tech["max_modules_per_plant"], "cf": tech["capacity_factor"]}


def allowed_kinds(settlements: pd.DataFrame, opt) -> np.ndarray:
    """Boolean (settlements x KINDS): may the settlement use a reactor of this kind
    (optimisation.allowed_options_by_region; a settlement matched by no rule may use every kind)."""
    ok = np.ones((len(settlements), len(KINDS)), bool)
    for column, by_value in (getattr(opt, "allowed_options_by_region", None) or {}).items():
        if column not in settlements.columns:
            raise InputError(None, f"optimisation.allowed_options_by_region.{column}",
                             f"the settlements have no column {column!r}")
        values = settlements[column].astype(str).to_numpy()
        for value, options in by_value.items():  # a few regions
            ok[values == str(value)] &= np.isin([KIND_OPTION[k] for k in KINDS], list(options))
    return ok


def plant_cost(P, E, K, N, CF, F, M, B, v, reserve: float):
    """Cheapest plant of a facility for a load (vectorised): modules n = the most of
    ceil(P (1 + reserve) / K), ceil(E / (8760 CF K)) and 1, then one spare module or diesel back-up
    for the peak not covered while one module refuels, whichever costs less. Returns annual cost
    (USD/yr, variable cost included; inf where more than N modules are needed), modules, back-up kW."""
    P, E = np.asarray(P, float), np.asarray(E, float)
    need = np.maximum(np.maximum(np.ceil(P * (1.0 + reserve) / K - TOL), np.ceil(E / (HOURS * CF * K) - TOL)), 1.0)
    short = np.maximum(P - (need - 1.0) * K, 0.0)
    spare = need + (short > TOL)
    diesel = (B * short < M * (spare - need)) | (spare > N)
    n = np.where(diesel, need, spare)
    b = np.where(diesel, short, 0.0)
    cost = np.where(need <= N, F + M * n + B * b + v * E, np.inf)
    return cost, n, b


@dataclass(frozen=True)
class Grain:
    """Clustering resolution: quadtree cells from max_km down to min_km (km), split while their peak
    exceeds split_peak_kw (cluster.py); limit_km is the largest cell the scenario allows."""

    min_km: float
    max_km: float
    split_peak_kw: float
    limit_km: float

    @classmethod
    def first(cls, opt) -> Grain:
        """Uniform cells of cluster_km (at least 1 km): merging costs plan quality (a cluster is
        served whole, over its own local network), so sparse areas merge only when the model is too
        large."""
        km = max(opt.cluster_km, 1.0)
        return cls(km, km, opt.cluster_split_peak_kw, max(opt.cluster_max_km, km))

    def coarser(self, stats: dict) -> Grain:
        """The next coarser grain for a model that is too large: larger cells where the load is
        light (the largest side doubles, up to limit_km); then a higher split peak (x 1.5) while
        some cell is still split; then every cell 1.5 times larger."""
        top = top_cell_km(self.min_km, self.max_km)
        if 2.0 * top <= self.limit_km + 1e-9:
            return replace(self, max_km=2.0 * top)
        sides = [float(k) for k in stats.get("clusters_by_cell_km", {})]
        if sides and min(sides) < top - 1e-9:
            return replace(self, split_peak_kw=1.5 * self.split_peak_kw)
        return replace(self, min_km=1.5 * self.min_km, max_km=1.5 * top, limit_km=1.5 * self.limit_km)


@dataclass(frozen=True)
class Search:
    """Regional search after HiGHS (regional_search.py): the share of the time limit kept for it and
    the full model's assignment variables per window."""

    time_fraction: float
    window_assignments: int


@dataclass
class _Instance:
    """The MILP for one choice of units, with what is needed to map its solution back."""

    units: pd.DataFrame
    labels: np.ndarray
    clustering: dict
    net: Network
    site_island: np.ndarray
    candidate_pairs: int
    pu: np.ndarray
    a: np.ndarray
    link: dict
    used_fac: np.ndarray
    prob: Problem | None
    size: int = 0  # assignment variables of the model (0 without a model)


def solve_plan(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, techs_by_kind: dict[str, list[Technology]],
               diesel: Technology, grid: Technology, cable: Technology, money: Money, opt, load_factor: float,
               carbon_price: float = 0.0) -> PlanResult:
    """Build, solve and explain the MILP. `settlements` needs lon, lat, demand_kwh_per_year, peak_kw,
    standalone_annual_cost_usd, is_island (and the columns of allowed_options_by_region); `sites` the
    candidates (site_id, kind, lon, lat; only rows with `suitable` true are used when it is given).
    Settlements are clustered (quadtree cells from cluster_max_km down to cluster_km, split above
    cluster_split_peak_kw; cluster.py) when there are more than cluster_above. While the model has more
    than `max_assignments` assignment variables, settlements are clustered anyway and the grain
    coarsens (`Grain.coarser`: the split peak rises by half while some cell is split, then the cells
    grow by half) until it has fewer."""
    t0 = time.perf_counter()
    if "suitable" in sites.columns:
        sites = sites[sites["suitable"].to_numpy(bool)]
    sites = sites[sites["kind"].isin([k for k in KINDS if techs_by_kind.get(k)])].reset_index(drop=True)
    n_set = len(settlements)
    techs = [t for k in KINDS for t in techs_by_kind.get(k, [])]
    tech_kind = np.array([KINDS.index(k) for k in KINDS for _ in techs_by_kind.get(k, [])], int)
    site_kind = np.array([KINDS.index(k) for k in sites["kind"]], int)
    fac_site = np.concatenate([np.repeat(np.flatnonzero(site_kind == j), (tech_kind == j).sum()) for j in range(len(KINDS))]
                              + [np.zeros(0, int)]).astype(int)
    fac_tech = np.concatenate([np.tile(np.flatnonzero(tech_kind == j), (site_kind == j).sum()) for j in range(len(KINDS))]
                              + [np.zeros(0, int)]).astype(int)
    facilities = [Facility(str(sites["site_id"].iat[s]), KINDS[site_kind[s]], techs[t], float(sites["lon"].iat[s]),
                           float(sites["lat"].iat[s])) for s, t in zip(fac_site, fac_tech, strict=True)]
    settings = {"mip_gap": opt.mip_gap, "time_limit_s": opt.time_limit_s,
                "search_time_fraction": opt.search_time_fraction, "search_window_assignments": opt.search_window_assignments,
                "nearest_sites": opt.nearest_sites,
                "max_network_distance_km": opt.max_network_distance_km, "max_sites": opt.max_sites,
                "min_reactor_share": opt.min_reactor_share, "cluster_km": opt.cluster_km,
                "cluster_max_km": opt.cluster_max_km, "cluster_split_peak_kw": opt.cluster_split_peak_kw,
                "cluster_above": opt.cluster_above, "reserve_margin_fraction": opt.reserve_margin_fraction,
                "allowed_options_by_region": dict(getattr(opt, "allowed_options_by_region", None) or {}),
                "carbon_price_usd_per_t": carbon_price, "max_assignments": opt.max_assignments}
    allowed = allowed_kinds(settlements, opt)
    coef = {isl: [facility_costs(t, diesel, money, isl, load_factor, carbon_price) for t in techs] for isl in (False, True)}
    tc = pd.DataFrame({key: [cf[key] for cf in coef[False]] for key in coef[False][0]} if techs else {})
    b_isl = np.array([cf["backup_per_kw"] for cf in coef[True]])
    fixed = (region, settlements, sites, site_kind, fac_site, fac_tech, tc, b_isl, allowed, opt, grid, cable, money)
    grain = Grain.first(opt) if n_set > opt.cluster_above and opt.cluster_km > 0 else None
    inst = _instance(grain, *fixed)
    while inst.size > opt.max_assignments and len(inst.units) > 1:
        grain = Grain.first(opt) if grain is None else grain.coarser(inst.clustering)
        inst = _instance(grain, *fixed)
    units, labels, prob = inst.units, inst.labels, inst.prob
    base = {"name": "highs", "settings": settings, "clustering": inst.clustering, "units": int(len(units)),
            "facilities": len(facilities), "candidate_pairs": inst.candidate_pairs}
    c_total = float(units["standalone_annual_cost_usd"].sum())
    breakeven = partial(_breakeven, units, sites=sites, site_kind=site_kind, techs=techs, tech_kind=tech_kind, tc=tc,
                        b_isl=b_isl, site_island=inst.site_island, net=inst.net, opt=opt)
    if prob is None:
        status = "no candidate facilities" if not facilities else "no settlement can gain from a suitable site within reach"
        res = _nothing_built(n_set, labels, facilities, c_total, {**base, "status": status}, t0)
        if facilities and len(units):
            res.breakeven = breakeven(np.ones(len(units), bool))
        return res
    build_s = time.perf_counter() - t0
    sol = solve_problem(prob, opt.mip_gap, opt.time_limit_s,
                        search=Search(opt.search_time_fraction, opt.search_window_assignments))

    # Map the solution back to facilities and settlements.
    pu, a, link, used_fac = inst.pu, inst.a, inst.link, inst.used_fac
    E = units["demand_kwh_per_year"].to_numpy(float)
    n_fac = len(facilities)
    opened, modules, backup = np.zeros(n_fac, bool), np.zeros(n_fac), np.zeros(n_fac)
    opened[used_fac], modules[used_fac], backup[used_fac] = sol.opened, sol.modules, sol.backup_kw
    fac_cost = np.zeros(n_fac)
    fac_cost[used_fac] = (prob.F * sol.opened + prob.M * sol.modules + prob.B * sol.backup_kw)
    site_fac = np.full(prob.n_sites, -1)
    site_fac[prob.fac_site[sol.opened]] = used_fac[sol.opened]
    served = np.flatnonzero(sol.x)
    unit_fac = np.full(len(units), -1)
    unit_fac[pu[served]] = site_fac[prob.pair_site[served]]
    unit_pair = np.full(len(units), -1)
    unit_pair[pu[served]] = served
    network_km = np.zeros(n_fac)
    np.add.at(network_km, unit_fac[pu[served]], link["land_km"][served] + link["sea_km"][served]
              + (units["net_land_km"] + units["net_sea_km"]).to_numpy()[pu[served]])
    e_set = settlements["demand_kwh_per_year"].to_numpy(float)
    share = np.divide(e_set, E[labels], out=1.0 / units["members"].to_numpy(float)[labels], where=E[labels] > 0)
    f_set, p_set = unit_fac[labels], unit_pair[labels]
    on = p_set >= 0
    v_fac = tc["var_per_kwh"].to_numpy()[fac_tech]
    unit_cost = np.where(unit_pair >= 0, a[np.maximum(unit_pair, 0)] + v_fac[np.maximum(unit_fac, 0)] * E, 0.0)
    pair_link = pd.DataFrame({
        "land_km": np.where(on, share * (link["land_km"][np.maximum(p_set, 0)] + units["net_land_km"].to_numpy()[labels]), 0.0),
        "sea_km": np.where(on, share * (link["sea_km"][np.maximum(p_set, 0)] + units["net_sea_km"].to_numpy()[labels]), 0.0),
        "link_capex_usd": np.where(on, share * (link["capex_usd"][np.maximum(p_set, 0)]
                                                + units["net_capex_usd"].to_numpy()[labels]), 0.0)}, index=range(n_set))
    solver = {**base, **sol.report, "build_s": round(build_s, 3), "time_s": round(time.perf_counter() - t0, 3)}
    if solver["mip_gap"] > opt.mip_gap:
        log.warning("the plan is the best found in %.0f s, proven within %.2f %% of the optimum, not the %.2f %% of "
                    "optimisation.mip_gap: raise optimisation.time_limit_s, or narrow optimisation.nearest_sites for "
                    "a model HiGHS can prove (methodology 4.2)", solver["time_s"], 100 * solver["mip_gap"], 100 * opt.mip_gap)
    return PlanResult(pd.Series(f_set, index=range(n_set)), facilities, modules, backup, opened, fac_cost,
                      pd.Series(np.where(on, share * unit_cost[labels], 0.0), index=range(n_set)), pair_link,
                      solver, sol.objective_usd, network_km, labels, breakeven(unit_fac < 0))


def _instance(grain: Grain | None, region, settlements, sites, site_kind, fac_site, fac_tech, tc, b_isl, allowed, opt,
              grid, cable, money) -> _Instance:
    """Units (settlements, or clusters at `grain`), their pruned pairs and the Problem."""
    units, labels, cstats = _units(region, settlements, allowed, grain, opt, grid, cable, money)
    net = Network(region, grid, cable, money, clustered=bool(cstats["clustered"]))
    slon, slat = sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)
    ulon, ulat = units["lon"].to_numpy(float), units["lat"].to_numpy(float)
    if not len(fac_site) or not len(units):
        return _Instance(units, labels, cstats, net, np.zeros(len(sites), bool), 0, *([np.zeros(0, int)] * 2), {},
                         np.zeros(0, int), None)
    site_island = units["is_island"].to_numpy(bool)[PointIndex(ulon, ulat).nearest(slon, slat, k=1)[1][:, 0]]
    fac_b = np.where(site_island[fac_site], b_isl[fac_tech], tc["backup_per_kw"].to_numpy()[fac_tech])
    pu, ps, pkm = _candidate_pairs(ulon, ulat, slon, slat, site_kind, units[[f"allow_{k}" for k in KINDS]].to_numpy(bool), opt)
    candidate_pairs = len(pu)
    parent, tlon, tlat = _tree_parents(ulon, ulat, pu, ps, pkm, slon, slat)
    E, P = units["demand_kwh_per_year"].to_numpy(float), units["peak_kw"].to_numpy(float)
    c = units["standalone_annual_cost_usd"].to_numpy(float)
    link = net.links(ulon[pu], ulat[pu], tlon, tlat, P[pu])
    a = link["annual_usd"] + units["net_annual_usd"].to_numpy(float)[pu]
    # A pair whose unit alone is too large for every plant at the site (peak with reserve or energy
    # beyond N modules) can never be served, nor can the pairs whose network path runs through it.
    keep = reachable(_carried(P, E, pu, ps, fac_site, tc.iloc[fac_tech], opt.reserve_margin_fraction), parent)
    pu, ps, pkm, a, parent = pu[keep], ps[keep], pkm[keep], a[keep], reindex(parent, keep)
    link = {k: v[keep] for k, v in link.items()}
    useful = np.ones(len(fac_site), bool)
    if opt.min_reactor_share <= 0:
        useful = _useful_facilities(E, P, c, pu, ps, a, fac_site, tc.iloc[fac_tech], opt.reserve_margin_fraction)
        v_min = np.full(len(sites), np.inf)
        np.minimum.at(v_min, fac_site, tc["var_per_kwh"].to_numpy()[fac_tech])
        # A whole site goes when none of its facilities may pay (a pair's ancestors share its site).
        keep = with_ancestors(np.isin(ps, fac_site[useful]) & (a + v_min[ps] * E[pu] - c[pu] < 0), parent)
        pu, ps, pkm, a, parent = pu[keep], ps[keep], pkm[keep], a[keep], reindex(parent, keep)
        link = {k: v[keep] for k, v in link.items()}
    used_sites = np.unique(ps)
    used_fac = np.flatnonzero(np.isin(fac_site, used_sites) & useful)  # facilities some unit may use
    if not len(used_fac):
        return _Instance(units, labels, cstats, net, site_island, candidate_pairs, pu, a, link, used_fac, None)
    site_pos = np.full(len(sites), -1)
    site_pos[used_sites] = np.arange(len(used_sites))
    ft = fac_tech[used_fac]
    prob = Problem(E, P, c, pu, site_pos[ps], a, parent, pkm, site_pos[fac_site[used_fac]],
                   tc["module_kw"].to_numpy()[ft], tc["max_modules"].to_numpy()[ft], tc["cf"].to_numpy()[ft],
                   tc["fixed"].to_numpy()[ft], tc["module"].to_numpy()[ft], fac_b[used_fac],
                   tc["var_per_kwh"].to_numpy()[ft], len(used_sites), opt.reserve_margin_fraction,
                   opt.max_sites, opt.min_reactor_share, slon[used_sites], slat[used_sites])
    size = len(assignments(prob, *plants(prob))[0])
    return _Instance(units, labels, cstats, net, site_island, candidate_pairs, pu, a, link, used_fac,
                     prob if size else None, size)  # None: no unit fits a plant option that might pay


def _nothing_built(n_set, labels, facilities, c_total, report, t0) -> PlanResult:
    n_fac = len(facilities)
    report = {**report, "termination": "skipped", "objective_usd": c_total, "mip_gap": 0.0, "mip_gap_net_saving": 0.0,
              "stand_alone_objective_usd": c_total, "time_s": round(time.perf_counter() - t0, 3), "variables": 0,
              "constraints": 0, "pairs": 0, "warm_start": {"heuristic": "greedy add-one-plant", "used": False}}
    return PlanResult(pd.Series(-1, index=range(n_set)), facilities, np.zeros(n_fac), np.zeros(n_fac),
                      np.zeros(n_fac, bool), np.zeros(n_fac), pd.Series(0.0, index=range(n_set)),
                      pd.DataFrame({"land_km": 0.0, "sea_km": 0.0, "link_capex_usd": 0.0}, index=range(n_set)),
                      report, c_total, np.zeros(n_fac), labels)


def _units(region, settlements, allowed, grain: Grain | None, opt, grid, cable, money) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The MILP's units: clusters at `grain` (None: the settlements themselves), with allow_<kind>
    flags and local network columns (zero when unclustered)."""
    n = len(settlements)
    island = settlements["is_island"].to_numpy(bool)
    if grain is not None:
        code = allowed @ (1 << np.arange(len(KINDS)))
        cl = cluster_settlements(region, settlements, grain.min_km, code * 2 + island, grid, cable, money,
                                 grain.split_peak_kw, grain.max_km)
        units = cl.units
        member = np.zeros(len(units), int)
        member[cl.labels] = np.arange(n)  # any member: the members of a cluster share these flags
        for j, k in enumerate(KINDS):
            units[f"allow_{k}"] = allowed[member, j]
        return units, cl.labels, {**cl.stats, "cluster_above": opt.cluster_above,
                                  "grown_for_size": grain != Grain.first(opt)}
    cols = ["lon", "lat", "demand_kwh_per_year", "peak_kw", "standalone_annual_cost_usd"]
    units = settlements[cols].reset_index(drop=True).astype(float)
    units["is_island"] = island
    units["members"] = 1
    for col in ("net_land_km", "net_sea_km", "net_capex_usd", "net_annual_usd"):
        units[col] = 0.0
    for j, k in enumerate(KINDS):
        units[f"allow_{k}"] = allowed[:, j]
    return units, np.arange(n), {"clustered": False, "settlements": n, "clusters": n,
                                 "cluster_above": opt.cluster_above}


class Network:
    """Connection costs of lines from units to a parent unit or a site (economics.line_cost over the
    land/sea split of the straight route). A clustered unit's local network already carries one
    substation per member, so its link to the parent carries none."""

    def __init__(self, region: Region, grid: Technology, cable: Technology, money: Money, clustered: bool):
        self.region, self.grid, self.cable, self.money = region, grid, cable, money
        sub = line_cost(np.array([ZERO_KM]), np.array([0.0]), np.array([0.0]), grid, cable, money)
        self.sub_annual = float(sub["annual_cost_usd"].iloc[0]) if clustered else 0.0
        self.sub_capex = float(sub["capex_usd"].iloc[0]) if clustered else 0.0

    def links(self, lon1, lat1, lon2, lat2, peak_kw) -> dict[str, np.ndarray]:
        land, sea = route_split_km(self.region, lon1, lat1, lon2, lat2)
        cost = line_cost(land, sea, peak_kw, self.grid, self.cable, self.money)
        has = (land + sea) > 0
        return {"land_km": land, "sea_km": sea,
                "annual_usd": cost["annual_cost_usd"].to_numpy() - has * self.sub_annual,
                "capex_usd": cost["capex_usd"].to_numpy() - has * self.sub_capex}


def _candidate_pairs(ulon, ulat, slon, slat, site_kind, uallowed, opt):
    """(unit, site, km) for each unit's nearest suitable sites within reach, of a kind it may use."""
    k = min(opt.nearest_sites, len(slon))
    dist, near = PointIndex(slon, slat).nearest(ulon, ulat, k=k)
    pu, ps, km = np.repeat(np.arange(len(ulon)), k), near.ravel(), dist.ravel()
    keep = (km <= opt.max_network_distance_km) & uallowed[pu, site_kind[ps]]
    return pu[keep], ps[keep], km[keep]


def _tree_parents(ulon, ulat, pu, ps, pkm, slon, slat):
    """Parent pair of each pair in its site's network tree (-1: joined to the site) and the point the
    unit's line runs to. The parent is the nearest of the unit's NEIGHBOURS nearest units that is
    paired with the same site, strictly closer to it, and nearer to the unit than the site is."""
    n_u, n_p, n_s = len(ulon), len(pu), len(slon)
    parent = np.full(n_p, -1)
    k = min(NEIGHBOURS + 1, n_u)
    if k > 1 and n_p:
        nd, ni = PointIndex(ulon, ulat).nearest(ulon, ulat, k=k)
        key = pu * n_s + ps
        order = np.argsort(key)
        cand_u, cand_d = ni[pu], nd[pu]
        ck = cand_u * n_s + ps[:, None]
        pos = np.minimum(np.searchsorted(key[order], ck), n_p - 1)
        cand_p = order[pos]
        valid = ((key[cand_p] == ck) & (cand_u != pu[:, None]) & (pkm[cand_p] < pkm[:, None])
                 & (cand_d < pkm[:, None]))
        first = np.argmax(valid, axis=1)
        parent = np.where(valid.any(axis=1), cand_p[np.arange(n_p), first], -1)
    root = parent < 0
    tlon = np.where(root, slon[ps], ulon[pu[np.maximum(parent, 0)]])
    tlat = np.where(root, slat[ps], ulat[pu[np.maximum(parent, 0)]])
    return parent, tlon, tlat


def _carried(P, E, pu, ps, fac_site, coef: pd.DataFrame, reserve: float) -> np.ndarray:
    """Pairs whose unit alone fits some plant at the site: peak with reserve within N modules and
    annual energy within N modules at the capacity factor (bool per pair)."""
    rep, f = expand(ps, fac_site)
    K, N = coef["module_kw"].to_numpy()[f], coef["max_modules"].to_numpy()[f]
    u = pu[rep]  # as in plant_cost: at most N modules needed
    fits = (P[u] * (1.0 + reserve) / K - TOL <= N) & (E[u] / (HOURS * coef["cf"].to_numpy()[f] * K) - TOL <= N)
    return np.bincount(rep[fits], minlength=len(pu)) > 0


def _useful_facilities(E, P, c, pu, ps, a, fac_site, coef: pd.DataFrame, reserve: float) -> np.ndarray:
    """Facilities that might save money (bool per facility). A plant of f serving a set S of units has
    n >= 1 modules and n K >= sum w_u with w_u = P_u (1 + r) (capacity) or E_u / (8760 CF)
    (energy), so for any lam in [0, 1] its cost minus the units' stand-alone cost is at least
    F + lam M + sum_(u in S) ((1 - lam) M w_u / K + a_u + v E_u - c_u), and at least
    F + lam M + sum_u min(0, ...) whatever S is. A facility whose bound is not below -1 USD/yr for
    some lam (a grid of 11 values) and either load never pays, with or without the others."""
    rep, f = expand(ps, fac_site)
    u = pu[rep]
    K, CF, M = (coef[k].to_numpy()[f] for k in ("module_kw", "cf", "module"))
    gain = a[rep] + coef["var_per_kwh"].to_numpy()[f] * E[u] - c[u]
    fixed, module = coef["fixed"].to_numpy(), coef["module"].to_numpy()
    bound = np.full(len(fac_site), -np.inf)
    for load in (P[u] * (1.0 + reserve), E[u] / (HOURS * CF)):
        for lam in np.linspace(0.0, 1.0, 11):
            b = fixed + lam * module + np.bincount(f, np.minimum((1.0 - lam) * M / K * load + gain, 0.0), len(fac_site))
            bound = np.maximum(bound, b)
    return bound < -1.0


# ---------------------------------------------------------------------------------------------
# Solving a Problem: greedy warm start, linopy model, HiGHS, polish.


def solve_problem(p: Problem, mip_gap: float, time_limit_s: float, start: np.ndarray | None = None,
                  search: Search | None = None) -> Solution:
    """Solve the MILP of `p` with HiGHS from a warm start: the cheaper of the greedy plan and
    `start` (served pairs, optional) that meets the reactor share; polish the plan it returns. With
    `search`, HiGHS has (1 - search.time_fraction) of `time_limit_s` (s), and when it stops short of
    `mip_gap` the regional search (regional_search.py) improves its plan in the time left."""
    t_start = time.perf_counter()
    c_total = float(p.c.sum())
    offers = [("greedy add-one-plant", evaluate(p, greedy_plan(p), close_unprofitable=False))]
    if start is not None:
        offers.append(("given plan", evaluate(p, start, close_unprofitable=False)))
    meets = [(name, s) for name, s in offers
             if p.min_share <= 0 or (p.E[p.pair_unit] * s.x).sum() >= p.min_share * p.E.sum() - TOL]
    heuristic, warm = min(meets, key=lambda o: o[1].objective_usd) if meets else offers[0]
    pf, pn = plants(p)
    assigned = assignments(p, pf, pn)
    if not len(assigned[0]):  # no unit fits a plant option that might pay
        if not meets:
            raise RuntimeError("the reactor share cannot be met: no unit fits a reactor plant within reach")
        warm.report = {"status": "ok", "termination": "no assignment can pay", "objective_usd": warm.objective_usd,
                       "mip_gap": 0.0, "mip_gap_net_saving": 0.0, "stand_alone_objective_usd": c_total, "variables": 0,
                       "pairs": int(len(p.pair_unit)), "polish": warm.report}
        return warm
    t = time.perf_counter()
    with warnings.catch_warnings():
        # linopy's legacy-alignment notice: every operand here shares its coordinates exactly.
        warnings.simplefilter("ignore", category=getattr(linopy, "LinopySemanticsWarning", Warning))
        m, var = _model(p, pf, pn, *assigned)
        vector = _start_vector(m, var, p, warm) if meets else None
        highs_s = time_limit_s * (1.0 - search.time_fraction) if search is not None else time_limit_s
        run = _run_highs(m, vector, mip_gap, highs_s, SCALE * c_total)
    solve_s = time.perf_counter() - t
    x_sol = var["x"].solution.to_numpy() if run["has_solution"] else None
    if x_sol is not None:
        served = np.zeros(len(p.pair_unit), bool)
        served[var["pair"][x_sol > 0.5]] = True
        final = evaluate(p, served, close_unprofitable=p.min_share <= 0)
        if meets and warm.objective_usd < final.objective_usd:  # solver tolerances only
            final = warm
    elif meets:
        final = warm
    else:
        raise RuntimeError(f"the plan could not be solved: {run['status']} / {run['termination']}")
    bound = run["dual_bound"] / SCALE
    report = {
        "status": run["status"], "termination": run["termination"],
        "solver_objective_usd": run["objective"] / SCALE if x_sol is not None else None,
        "mip_dual_bound_usd": bound if np.isfinite(bound) else None,
        "mip_gap_basis": "relative to the plan's total annual cost (the objective)",
        "solve_s": round(solve_s, 3), "solver_time_s": run["solver_time_s"], "nodes": run["nodes"],
        "variables": int(m.nvars), "binaries": int(m.binaries.nvars), "plant_options": int(len(var["plant_fac"])),
        "constraints": int(m.ncons), "pairs": int(len(p.pair_unit)),
        "warm_start": {"heuristic": heuristic, "used": run["warm_start_accepted"],
                       "objective_usd": warm.objective_usd, "plants": int(warm.opened.sum())},
        "stand_alone_objective_usd": c_total, "polish": final.report,
    }
    if search is not None and _gap(final.objective_usd, bound, c_total)[0] > mip_gap:
        final, report["search"] = regional_search.improve(
            p, final, lambda sub, x, limit_s: solve_problem(sub, mip_gap, limit_s, start=x),
            lambda q, x: evaluate(q, x, close_unprofitable=q.min_share <= 0),
            time_limit_s - (time.perf_counter() - t_start), len(var["pair"]), search.window_assignments)
        report["polish"] = final.report  # of the plan the search returns
    gap, gap_net = _gap(final.objective_usd, bound, c_total)
    final.report = {**report, "objective_usd": final.objective_usd, "mip_gap": gap, "mip_gap_net_saving": gap_net}
    return final


def _gap(objective: float, bound: float, c_total: float) -> tuple[float, float | None]:
    """Proven relative gap of a plan (USD/yr) to the dual bound: on the total annual cost, and on the
    net saving against everyone stand-alone (c_total; None without a bound)."""
    excess = max(objective - bound, 0.0) if np.isfinite(bound) else np.inf
    saving = c_total - objective
    return (excess / objective if objective > 0 else 0.0,
            (excess / saving if saving > TOL else 0.0) if np.isfinite(excess) else None)


def greedy_plan(p: Problem) -> np.ndarray:
    """Greedy add-one-plant heuristic: served pairs (bool). Each round every free site offers its most
    profitable (technology, run of its nearest available units in distance order) and the offers not
    overlapped by a better one are built; rounds repeat until no offer saves money or max_sites is met.
    A run in distance order always contains each member's network parent."""
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
            cost = plant_cost(cP, cE, p.K[f], p.N[f], p.CF[f], p.F[f], p.M[f], p.B[f], p.v[f], p.reserve)[0]
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
    """The plan for served pairs `x`: at each used site its cheapest facility and sizing
    (`plant_cost`); with close_unprofitable, a plant costing more than its units' stand-alone
    options is closed. Objective = total annual cost (USD/yr)."""
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
        cost, n, b = plant_cost(load_p, load_e, p.K[g], p.N[g], p.CF[g], p.F[g], p.M[g], p.B[g], p.v[g], p.reserve)
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


def _rows(m: linopy.Model, row: np.ndarray, labels: np.ndarray, coeffs: np.ndarray, dim: str):
    """Linear expressions sum_j coeffs_j var_j per row from (row, variable label, coefficient)
    triplets, one row per distinct row id, as a (dim, _term) block. Returns (expression, row ids)."""
    ids, row = np.unique(row, return_inverse=True)
    order = np.argsort(row, kind="stable")
    row, labels, coeffs = row[order], labels[order], coeffs[order]
    counts = np.bincount(row, minlength=len(ids))
    pos = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    var = np.full((len(ids), max(int(counts.max()), 1)), -1, dtype=np.int64)
    coef = np.zeros(var.shape)
    var[row, pos], coef[row, pos] = labels, coeffs
    ds = xr.Dataset({"coeffs": ((dim, "_term"), coef), "vars": ((dim, "_term"), var)},
                    coords={dim: np.arange(len(ids))})
    return linopy.LinearExpression(ds, m), ids


def plants(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The plant options of the MILP: (facility, module count n) for n = 1..N of each facility, less
    those that can never save money. For a plant of n modules serving units S, cost minus the units'
    stand-alone cost >= F + M n + sum_S g_a with g_a = a_p + v E_u - c_u and sum_S P_u (1 + r) <= K n;
    the least such sum over fractional S is a fractional knapsack (units by g_a / (P_u (1 + r)),
    most negative first). An option whose bound is not below -1 USD/yr is dropped (unless a reactor
    share is required), and so is n when n - 1 modules carry every candidate unit (reserve, energy)
    and through refuelling without back-up."""
    fac = np.repeat(np.arange(len(p.fac_site)), p.N.astype(int))
    n = (np.arange(len(fac)) - np.repeat(np.cumsum(p.N.astype(int)) - p.N.astype(int), p.N.astype(int)) + 1).astype(float)
    pair, f = expand(p.pair_site, p.fac_site)
    u = p.pair_unit[pair]
    g = p.pair_cost[pair] + p.v[f] * p.E[u] - p.c[u]
    w = p.P[u] * (1.0 + p.reserve)
    total_p = np.bincount(f, p.P[u], len(p.fac_site))
    total_e = np.bincount(f, p.E[u], len(p.fac_site)) / (HOURS * p.CF)
    sel = g < 0
    f, g, w = f[sel], g[sel], w[sel]
    order = np.lexsort((g / np.maximum(w, 1e-12), f))
    f, g, w = f[order], np.r_[g[order], 0.0], np.r_[w[order], 1.0]  # a sentinel item at the end
    cw, cg = np.r_[0.0, np.cumsum(w)], np.r_[0.0, np.cumsum(g)]  # sums of the items before index i
    first = np.searchsorted(f, np.arange(len(p.fac_site)))[fac]
    last = np.searchsorted(f, np.arange(len(p.fac_site)), side="right")[fac]
    cap = cw[first] + p.K[fac] * n  # capacity on the running sum of weights
    k = np.clip(np.searchsorted(cw, cap, side="right") - 1, first, last)  # items first..k-1 fit whole
    part = np.where(k < last, (cap - cw[k]) / w[k] * g[k], 0.0)  # a share of the next item
    bound = p.F[fac] + p.M[fac] * n + cg[k] - cg[first] + part
    spare = ((np.maximum(total_p[fac] * (1.0 + p.reserve), total_e[fac]) <= p.K[fac] * (n - 1))
             & (total_p[fac] <= p.K[fac] * (n - 2)))
    keep = ((bound < -1.0) | (p.min_share > 0)) & ~spare  # a reactor share may force a loss-making plant
    keep &= ~_dominated(p, fac)
    return fac[keep], n[keep]


def _dominated(p: Problem, fac: np.ndarray) -> np.ndarray:
    """Plant options (f, n), all n = 1..N_f of every f in order (`fac`), that another technology g at
    the same site always beats (bool per option): same module size and n <= N_g, so g's capacity and
    refuelling rows are f's; F_g + M_g n + max(B_g - B_f, 0) K <= F_f + M_f n and v_g <= v_f, so with
    the same units and back-up g costs no more; and g's energy row binds no sooner (CF_g >= CF_f, or
    no unit paired with the site has a mean load at CF_g above its peak with reserve). Of two options
    that beat each other the one of the lower facility index stays."""
    pair, f = expand(p.pair_site, p.fac_site)
    u = p.pair_unit[pair]
    ratio = np.zeros(p.n_sites)
    np.maximum.at(ratio, p.pair_site[pair], p.E[u] / (HOURS * np.maximum(p.P[u] * (1.0 + p.reserve), 1e-12)))
    fi, gi = expand(p.fac_site, p.fac_site)  # every (f, g) at one site
    fi, gi = fi[fi != gi], gi[fi != gi]
    start = np.cumsum(p.N.astype(int)) - p.N.astype(int)
    out = np.zeros(len(fac), bool)

    def beats(a, b, k):  # does a's option of k modules beat b's?
        energy = (p.CF[a] >= p.CF[b]) | (ratio[p.fac_site[a]] <= p.CF[a])
        return ((p.K[a] == p.K[b]) & (k <= p.N[a]) & (k <= p.N[b]) & (p.v[a] <= p.v[b]) & energy
                & (p.F[a] + p.M[a] * k + np.maximum(p.B[a] - p.B[b], 0.0) * p.K[a] <= p.F[b] + p.M[b] * k))

    for k in range(1, int(p.N.max(initial=0)) + 1):  # a few module counts
        hit = beats(gi, fi, k) & (~beats(fi, gi, k) | (gi < fi))
        out[start[fi[hit]] + k - 1] = True
    return out


def assignments(p: Problem, plant_fac: np.ndarray, plant_n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MILP's assignments: every (pair, plant option at the pair's site) whose unit alone fits the
    option (peak with reserve and energy at the capacity factor within n modules: x_a = 1 is
    otherwise infeasible, and leaving it in lets the relaxation fill plants with fractions of large
    units), and whose network parent's assignment to the same option exists; as arrays of pair,
    plant and parent assignment (-1: joined to the site)."""
    pair, plant = expand(p.pair_site, p.fac_site[plant_fac])
    u, f = p.pair_unit[pair], plant_fac[plant]
    fits = ((p.P[u] * (1.0 + p.reserve) / p.K[f] - TOL <= plant_n[plant])
            & (p.E[u] / (HOURS * p.CF[f] * p.K[f]) - TOL <= plant_n[plant]))
    key = pair * len(plant_fac) + plant
    order = np.argsort(key)
    up = p.pair_parent[pair]
    pos = np.searchsorted(key[order], np.maximum(up, 0) * len(plant_fac) + plant)
    parent = np.where(up >= 0, order[np.minimum(pos, max(len(order) - 1, 0))], -1)
    keep = reachable(fits, parent)
    return pair[keep], plant[keep], reindex(parent, keep)


def _model(p: Problem, pf: np.ndarray, pn: np.ndarray, pair: np.ndarray, plant: np.ndarray,
           parent: np.ndarray) -> tuple[linopy.Model, dict]:
    """The linopy model of `p` (formulation in the module docstring) over its plant options
    (`plants`: facility pf, modules pn) and assignments (`assignments`: pair, plant, parent)."""
    m = linopy.Model()
    aidx = pd.RangeIndex(len(pair), name="assignment")
    vidx = pd.RangeIndex(len(pf), name="plant")
    K, cap = p.K[pf], p.K[pf] * pn
    x = m.add_variables(binary=True, coords=[aidx], name="x")
    o = m.add_variables(binary=True, coords=[vidx], name="open")
    b = m.add_variables(lower=0, upper=xr.DataArray(K, coords=[vidx]), coords=[vidx], name="backup_kw")
    X, Op, B = (v.labels.to_numpy() for v in (x, o, b))
    u = p.pair_unit[pair]
    nv, ones, cat = len(pf), np.ones(len(pair)), np.concatenate
    v_all = np.arange(nv)

    def add(name, row, labels, coeffs, sign, rhs):
        expr, _ = _rows(m, np.asarray(row), np.asarray(labels), np.asarray(coeffs, float), f"{name}_row")
        m.add_constraints(expr, sign, rhs, name=name)

    add("served_once", u, X, ones, "<=", 1)
    root, child = np.flatnonzero(parent < 0), np.flatnonzero(parent >= 0)
    add("link_site", cat([root, root]), cat([X[root], Op[plant[root]]]), cat([ones[root], -ones[root]]), "<=", 0)
    if len(child):
        add("link_tree", cat([child, child]), cat([X[child], X[parent[child]]]), cat([ones[child], -ones[child]]), "<=", 0)
    add("capacity", cat([plant, v_all]), cat([X, Op]), cat([p.P[u] * (1.0 + p.reserve), -cap]), "<=", 0)
    add("refuelling", cat([plant, v_all, v_all]), cat([X, Op, B]), cat([p.P[u], -(cap - K), -np.ones(nv)]), "<=", 0)
    m.add_constraints(b - o * xr.DataArray(K, coords=[vidx]) <= 0, name="backup_limit")
    # A plant's energy row is implied by its capacity row when every unit's mean load at the capacity
    # factor is within its peak with reserve (the usual case); only the others are written.
    cf = p.CF[pf]
    ev = np.unique(plant[p.E[u] / (HOURS * cf[plant]) > p.P[u] * (1.0 + p.reserve)])
    if len(ev):
        sel = np.isin(plant, ev)
        add("energy", cat([plant[sel], ev]), cat([X[sel], Op[ev]]), cat([p.E[u[sel]] / HOURS, -(cf * cap)[ev]]), "<=", 0)
    add("one_plant", p.fac_site[pf], Op, np.ones(nv), "<=", 1)
    if p.max_sites is not None:
        m.add_constraints(o.sum() <= p.max_sites, name="max_sites")
    if p.min_share > 0:
        m.add_constraints((x * xr.DataArray(p.E[u] / HOURS, coords=[aidx])).sum() >= p.min_share * p.E.sum() / HOURS,
                          name="min_share")
    fac = pf[plant]
    obj, _ = _rows(m, np.zeros(len(pair) + 2 * nv, int), cat([X, Op, B]),
                   SCALE * cat([p.pair_cost[pair] + p.v[fac] * p.E[u] - p.c[u], p.F[pf] + p.M[pf] * pn, p.B[pf]]),
                   "objective_row")
    m.add_objective(obj.sum())
    return m, {"x": x, "open": o, "backup_kw": b, "pair": pair, "plant": plant, "plant_fac": pf, "plant_n": pn}


def _start_vector(m: linopy.Model, var: dict, p: Problem, s: Solution) -> np.ndarray:
    """Values of every variable (by linopy label) for a plan (the warm start); None when one of its
    plants is not among the model's plant options."""
    pf, pn = var["plant_fac"], var["plant_n"]
    chosen = s.opened[pf] & (s.modules[pf] == pn)
    if chosen.sum() != s.opened.sum():
        return None
    start = np.zeros(max(int(var[k].labels.max(initial=-1)) for k in ("x", "open", "backup_kw")) + 1)
    for name, value in (("x", s.x[var["pair"]] & chosen[var["plant"]]), ("open", chosen),
                        ("backup_kw", np.where(chosen, s.backup_kw[pf], 0.0))):
        start[var[name].labels.to_numpy()] = value
    return start


def _run_highs(m: linopy.Model, start: np.ndarray | None, mip_gap: float, time_limit_s: float, offset: float) -> dict:
    """Solve with HiGHS through linopy's direct interface, passing `start` as the first incumbent and
    the objective's constant `offset` (everyone stand-alone) so that the gap is relative to the total
    annual cost. Objective and dual bound are returned with the offset, in the model's units."""
    options = {"mip_rel_gap": mip_gap, "time_limit": float(time_limit_s), "output_flag": False,
               "random_seed": 0, "threads": 1}
    with _quiet_stdout():
        solver = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct", options=options)
        h = solver.solver_model
        h.changeObjectiveOffset(offset)
        accepted = False
        if start is not None:
            cols = m.matrices.vlabels
            accepted = h.setSolution(len(cols), np.arange(len(cols), dtype=np.int32),
                                     start[cols].astype(float)) == highspy.HighsStatus.kOk
        result = solver.solve()
        m.assign_result(result, solver=solver)
    info = h.getInfo()
    has = m.variables["x"].solution is not None and np.isfinite(m.variables["x"].solution.to_numpy()).all()
    dual = float(info.mip_dual_bound) if m.status in ("ok", "warning") else -np.inf
    return {"status": str(m.status), "termination": str(m.termination_condition), "has_solution": bool(has),
            "objective": float(m.objective.value) if has else np.nan, "dual_bound": dual,
            "solver_time_s": round(float(h.getRunTime()), 3), "nodes": int(info.mip_node_count),
            "warm_start_accepted": bool(accepted)}


@contextlib.contextmanager
def _quiet_stdout():
    """Silence the solver's banner, which HiGHS prints from C on file descriptor 1."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured stdout without a descriptor
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


# ---------------------------------------------------------------------------------------------
# Why not a reactor: break-even capex for the largest units left without one.


def _breakeven(units, unserved, *, sites, site_kind, techs, tech_kind, tc, b_isl, site_island, net: Network,
               opt, top: int = WHY_TOP) -> pd.DataFrame:
    """For the `top` largest unserved units (by demand): the multiplier m on capex_usd_per_kw at which
    the unit's cheapest own plant (any technology at any candidate site, a direct line) costs its
    stand-alone cost, by bisection (own-plant cost rises with m). m = 1: a plant alone already pays
    (not built because sites are shared or limited); NaN: no reduction suffices."""
    cand = np.flatnonzero(unserved)
    cand = cand[np.argsort(-units["demand_kwh_per_year"].to_numpy()[cand], kind="stable")][:top]
    if not len(cand):
        return pd.DataFrame(columns=["unit", "demand_kwh_per_year", "standalone_annual_cost_usd",
                                     "own_reactor_annual_cost_usd", "site_id", "technology", "distance_km",
                                     "breakeven_capex_multiplier"])
    sub = units.iloc[cand].reset_index(drop=True)
    ulon, ulat = sub["lon"].to_numpy(float), sub["lat"].to_numpy(float)
    pu, ps, _ = _candidate_pairs(ulon, ulat, sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), site_kind,
                                 sub[[f"allow_{k}" for k in KINDS]].to_numpy(bool), opt)
    E, P = sub["demand_kwh_per_year"].to_numpy(float), sub["peak_kw"].to_numpy(float)
    c = sub["standalone_annual_cost_usd"].to_numpy(float)
    link = net.links(ulon[pu], ulat[pu], sites["lon"].to_numpy(float)[ps], sites["lat"].to_numpy(float)[ps], P[pu])
    a = link["annual_usd"] + sub["net_annual_usd"].to_numpy(float)[pu]
    # Rows (unit, site, technology of the site's kind).
    rows_p, t = np.nonzero(tech_kind[None, :] == site_kind[ps][:, None])
    u = pu[rows_p]
    B = np.where(site_island[ps[rows_p]], b_isl[t], tc["backup_per_kw"].to_numpy()[t])

    def own(mult: np.ndarray) -> np.ndarray:
        M = mult[u] * tc["module_capex"].to_numpy()[t] + tc["module_om"].to_numpy()[t]
        return plant_cost(P[u], E[u], tc["module_kw"].to_numpy()[t], tc["max_modules"].to_numpy()[t],
                          tc["cf"].to_numpy()[t], tc["fixed"].to_numpy()[t], M, B, tc["var_per_kwh"].to_numpy()[t],
                          opt.reserve_margin_fraction)[0] + a[rows_p]

    def best(mult: np.ndarray) -> np.ndarray:
        out = np.full(len(sub), np.inf)
        np.minimum.at(out, u, own(mult))
        return out

    lo, hi = np.zeros(len(sub)), np.ones(len(sub))
    now, floor = best(hi), best(lo)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        wins = best(mid) <= c
        lo, hi = np.where(wins, mid, lo), np.where(wins, hi, mid)
    mult = np.where(now <= c, 1.0, np.where(floor <= c, lo, np.nan))
    cost_at = own(np.where(np.isfinite(mult), mult, 1.0))
    order = np.lexsort((cost_at, u))
    first = order[np.r_[True, u[order][1:] != u[order][:-1]]] if len(u) else order
    row = np.full(len(sub), -1)
    row[u[first]] = first
    has = row >= 0
    site = np.where(has, ps[rows_p[np.maximum(row, 0)]] if len(u) else 0, 0)
    key = np.array([tt.key for tt in techs], dtype=object)
    return pd.DataFrame({
        "unit": cand, "demand_kwh_per_year": E, "standalone_annual_cost_usd": c,
        "own_reactor_annual_cost_usd": np.where(np.isfinite(now), now, np.nan),
        "site_id": np.where(has, sites["site_id"].to_numpy()[site], ""),
        "technology": np.where(has, key[t[np.maximum(row, 0)]] if len(u) else "", ""),
        "distance_km": np.where(has, haversine_km(ulon, ulat, sites["lon"].to_numpy(float)[site],
                                                  sites["lat"].to_numpy(float)[site]), np.nan),
        "breakeven_capex_multiplier": mult})
