"""Least-cost deployment plan: a facility-location MILP solved with linopy + HiGHS.

Sets: settlements i (demand E_i kWh/yr, peak P_i kW, best stand-alone annual cost c_i), facilities
f = (suitable site s, reactor technology t of the site's kind), and assignment pairs (i, f) pruned to
each settlement's `nearest_sites` sites within `max_network_distance_km`.

Variables: o_f (plant opened, binary), n_f (modules, integer), b_f (diesel refuelling back-up, kW),
x_if (settlement i served by f, binary).

    min  sum_i c_i + sum_(i,f) (a_if + v_f E_i - c_i) x_if + sum_f (F_f o_f + M_f n_f + B_f b_f)
    s.t. sum_f x_if <= 1                                  each settlement served once at most
         sum_i P_i (1 + reserve) x_if <= K_f n_f           capacity with reserve
         sum_i P_i x_if <= K_f (n_f - o_f) + b_f           one module refuelling: others + diesel carry peak
         sum_i E_i x_if <= K_f 8760 CF_f n_f              energy at the capacity factor
         n_f <= N_f o_f ;  sum_t o_(s,t) <= 1             module limit; one plant per site
         [sum_f o_f <= max_sites] [sum E_i x_if >= share sum E_i]

a_if is the annualised star connection from the site to the settlement (overland line and submarine
cable by route), v_f the reactor's variable O&M + fuel per kWh, F_f the plant's fixed annual cost
(shore works), M_f the annual cost per module (capex with interest during construction, replacement,
salvage and decommissioning, plus fixed O&M), B_f the annual cost per kW of diesel back-up (capex,
fixed O&M and fuel through the refuelling outage). Settlements not assigned keep their best
stand-alone option. Shared trunks are not credited in the objective (star connections over-estimate
the network); the reported network length is the minimum spanning tree of each plant and its
settlements.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from smrplan.catalogue.catalogue import Technology
from smrplan.economics import HOURS, Money, annualised, diesel_cost, idc_factor, line_cost
from smrplan.geo.distance import PointIndex
from smrplan.geo.layers import Region
from smrplan.grid import route_split_km

KIND_OPTION = {"land": "land_reactor", "micro": "micro_reactor", "floating": "floating_reactor"}


@dataclass
class Facility:
    site_id: str
    kind: str
    tech: Technology
    lon: float
    lat: float


@dataclass
class PlanResult:
    """MILP outcome: served settlement -> facility, facility sizes and solver report."""

    assignment: pd.Series  # settlement index -> facility index (or -1)
    facilities: list[Facility]
    modules: np.ndarray
    backup_kw: np.ndarray
    opened: np.ndarray
    facility_annual_cost: np.ndarray
    pair_annual_cost: pd.Series  # settlement index -> connection + variable cost of its assignment
    pair_link: pd.DataFrame  # settlement index -> land_km, sea_km, capex of its connection
    solver: dict = field(default_factory=dict)
    objective_usd: float = 0.0


def facility_costs(tech: Technology, diesel: Technology, money: Money, is_island: bool,
                   load_factor: float) -> dict[str, float]:
    """Linear cost coefficients of one facility: per plant, per module, per kW of back-up, per kWh."""
    mod_kw = tech["module_size_mw"] * 1000.0
    per_kw = tech["capex_usd_per_kw"] * float(idc_factor(money.discount_rate, tech["construction_years"]))
    module = float(annualised(np.array([mod_kw * per_kw]), tech["lifetime_years"], money,
                              tech["decommissioning_fraction_of_capex"])[0]) + mod_kw * tech["fixed_om_usd_per_kw_year"]
    fixed = float(annualised(np.array([tech.get("shore_works_usd", 0.0) or 0.0]), tech["lifetime_years"], money)[0])
    outage_h = tech["refuelling_outage_days"] * 24.0 / tech["refuelling_interval_years"]
    b = diesel_cost(np.array([outage_h * load_factor]), np.array([1.0]), diesel, money, np.array([is_island]))
    return {"fixed": fixed, "module": module, "backup_per_kw": float(b["annual_cost_usd"].iloc[0]),
            "var_per_kwh": (tech["variable_om_usd_per_mwh"] + tech["fuel_usd_per_mwh"]) / 1000.0,
            "module_kw": mod_kw, "max_modules": tech["max_modules_per_plant"], "cf": tech["capacity_factor"]}


def solve_plan(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, techs_by_kind: dict[str, list[Technology]],
               diesel: Technology, grid: Technology, cable: Technology, money: Money, opt, load_factor: float,
               carbon_price: float = 0.0) -> PlanResult:
    """Build and solve the MILP. `settlements` needs lon, lat, demand_kwh_per_year, peak_kw,
    standalone_annual_cost_usd, is_island; `sites` the suitable candidates (site_id, kind, lon, lat)."""
    t0 = time.perf_counter()
    n_set = len(settlements)
    facilities: list[Facility] = []
    for row in sites.itertuples(index=False):
        for tech in techs_by_kind.get(row.kind, []):
            facilities.append(Facility(row.site_id, row.kind, tech, float(row.lon), float(row.lat)))
    empty = PlanResult(pd.Series(-1, index=range(n_set)), facilities, np.zeros(len(facilities)),
                       np.zeros(len(facilities)), np.zeros(len(facilities), bool), np.zeros(len(facilities)),
                       pd.Series(0.0, index=range(n_set)), pd.DataFrame(index=range(n_set)),
                       {"status": "no candidate facilities", "termination": "skipped", "mip_gap": 0.0,
                        "time_s": 0.0, "variables": 0, "constraints": 0})
    if not facilities or n_set == 0:
        empty.objective_usd = float(settlements["standalone_annual_cost_usd"].sum())
        return empty

    slon, slat = settlements["lon"].to_numpy(float), settlements["lat"].to_numpy(float)
    E = settlements["demand_kwh_per_year"].to_numpy(float)
    P = settlements["peak_kw"].to_numpy(float)
    c = settlements["standalone_annual_cost_usd"].to_numpy(float)
    island = settlements["is_island"].to_numpy(bool)
    site_ids = sites["site_id"].to_numpy()
    site_idx = PointIndex(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    k = min(opt.nearest_sites, len(sites))
    dist, nearest = site_idx.nearest(slon, slat, k=k)
    ii = np.repeat(np.arange(n_set), k)
    ss = nearest.ravel()
    keep = dist.ravel() <= opt.max_network_distance_km
    ii, ss = ii[keep], ss[keep]
    # Expand site pairs to facility pairs (each site has one facility per technology of its kind).
    fac_site = np.array([np.flatnonzero(site_ids == f.site_id)[0] for f in facilities])
    site_to_facs = pd.Series(np.arange(len(facilities))).groupby(fac_site).apply(list)
    pair_i, pair_f = [], []
    for s, facs in site_to_facs.items():  # loop over sites (candidates), not settlements
        sel = ii[ss == s]
        for f in facs:
            pair_i.append(sel)
            pair_f.append(np.full(len(sel), f))
    pair_i = np.concatenate(pair_i) if pair_i else np.array([], int)
    pair_f = np.concatenate(pair_f) if pair_f else np.array([], int)
    if len(pair_i) == 0:
        empty.objective_usd = float(c.sum())
        empty.solver["status"] = "no settlement within reach of a suitable site"
        return empty

    flon = np.array([f.lon for f in facilities])
    flat = np.array([f.lat for f in facilities])
    land_km, sea_km = route_split_km(region, flon[pair_f], flat[pair_f], slon[pair_i], slat[pair_i])
    link = line_cost(land_km, sea_km, P[pair_i], grid, cable, money)
    coef = [facility_costs(f.tech, diesel, money, bool(island.any()), load_factor) for f in facilities]
    var = np.array([cf["var_per_kwh"] for cf in coef])
    pair_cost = link["annual_cost_usd"].to_numpy() + var[pair_f] * E[pair_i]

    with warnings.catch_warnings():
        # linopy's legacy-alignment notice: every operand here shares its coordinates exactly.
        warnings.simplefilter("ignore", category=getattr(linopy, "LinopySemanticsWarning", Warning))
        return _build_and_solve(region, facilities, pair_i, pair_f, coef, pair_cost, land_km, sea_km, link,
                                fac_site, E, P, c, opt, carbon_price, n_set, t0)


def _build_and_solve(region, facilities, pair_i, pair_f, coef, pair_cost, land_km, sea_km, link, fac_site,
                     E, P, c, opt, carbon_price, n_set, t0) -> PlanResult:
    m = linopy.Model()
    pidx = pd.RangeIndex(len(pair_i), name="pair")
    fidx = pd.RangeIndex(len(facilities), name="fac")
    mod_kw = np.array([cf["module_kw"] for cf in coef])
    x = m.add_variables(binary=True, coords=[pidx], name="x")
    o = m.add_variables(binary=True, coords=[fidx], name="open")
    n = m.add_variables(lower=0, upper=xr.DataArray([cf["max_modules"] for cf in coef], coords=[fidx]),
                        integer=True, coords=[fidx], name="modules")
    b = m.add_variables(lower=0, coords=[fidx], name="backup_kw")
    by_set = xr.DataArray(pair_i, coords=[pidx], name="settlement")
    by_fac = xr.DataArray(pair_f, coords=[pidx], name="fac")
    da = lambda v: xr.DataArray(np.asarray(v, float), coords=[pidx])  # noqa: E731
    fa = lambda v: xr.DataArray(np.asarray(v, float), coords=[fidx])  # noqa: E731
    m.add_constraints(x.groupby(by_set).sum() <= 1, name="served_once")
    res = 1.0 + opt.reserve_margin_fraction
    m.add_constraints((x * da(P[pair_i] * res)).groupby(by_fac).sum() - n * fa(mod_kw) <= 0, name="capacity")
    m.add_constraints((x * da(P[pair_i])).groupby(by_fac).sum() - n * fa(mod_kw) + o * fa(mod_kw) - b <= 0,
                      name="refuelling")
    m.add_constraints((x * da(E[pair_i])).groupby(by_fac).sum()
                      - n * fa(mod_kw * HOURS * np.array([cf["cf"] for cf in coef])) <= 0, name="energy")
    m.add_constraints(n - o * fa([cf["max_modules"] for cf in coef]) <= 0, name="module_limit")
    m.add_constraints(o.groupby(xr.DataArray(fac_site, coords=[fidx], name="site")).sum() <= 1, name="one_plant")
    if opt.max_sites is not None:
        m.add_constraints(o.sum() <= opt.max_sites, name="max_sites")
    if opt.min_reactor_share > 0:
        m.add_constraints((x * da(E[pair_i])).sum() >= opt.min_reactor_share * E.sum(), name="min_share")
    obj = ((x * da(pair_cost - c[pair_i])).sum() + (o * fa([cf["fixed"] for cf in coef])).sum()
           + (n * fa([cf["module"] for cf in coef])).sum() + (b * fa([cf["backup_per_kw"] for cf in coef])).sum())
    m.add_objective(obj)
    with _quiet_stdout():
        status, termination = m.solve(solver_name="highs", mip_rel_gap=opt.mip_gap, time_limit=opt.time_limit_s,
                                      output_flag=False, random_seed=0, threads=1)
    elapsed = time.perf_counter() - t0
    if status != "ok" or x.solution is None:
        raise RuntimeError(f"the plan could not be solved: {status} / {termination}")
    xs = np.round(x.solution.to_numpy()).astype(bool)
    served_i, served_f = pair_i[xs], pair_f[xs]
    assignment = pd.Series(-1, index=range(n_set))
    assignment.iloc[served_i] = served_f
    pcost = pd.Series(0.0, index=range(n_set))
    pcost.iloc[served_i] = pair_cost[xs]
    pair_link = pd.DataFrame({"land_km": 0.0, "sea_km": 0.0, "link_capex_usd": 0.0}, index=range(n_set))
    pair_link.iloc[served_i] = np.column_stack([land_km[xs], sea_km[xs], link["capex_usd"].to_numpy()[xs]])
    nsol = np.round(n.solution.to_numpy())
    bsol = np.clip(b.solution.to_numpy(), 0, None)
    osol = np.round(o.solution.to_numpy()).astype(bool)
    fac_cost = (osol * np.array([cf["fixed"] for cf in coef]) + nsol * np.array([cf["module"] for cf in coef])
                + bsol * np.array([cf["backup_per_kw"] for cf in coef]))
    objective = float(m.objective.value) + float(c.sum())
    gap = _mip_gap(m)
    solver = {"name": "highs", "status": status, "termination": str(termination), "objective_usd": objective,
              "mip_gap": gap, "time_s": round(elapsed, 3), "variables": int(m.nvars), "constraints": int(m.ncons),
              "pairs": int(len(pair_i)), "facilities": len(facilities),
              "settings": {"mip_gap": opt.mip_gap, "time_limit_s": opt.time_limit_s, "nearest_sites": opt.nearest_sites,
                           "max_network_distance_km": opt.max_network_distance_km, "max_sites": opt.max_sites,
                           "min_reactor_share": opt.min_reactor_share, "carbon_price_usd_per_t": carbon_price}}
    return PlanResult(assignment, facilities, nsol, bsol, osol, fac_cost, pcost, pair_link, solver, objective)


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


def _mip_gap(m: linopy.Model) -> float:
    try:
        info = m.solver_model.getInfo()
        gap = float(info.mip_gap)
        return 0.0 if not np.isfinite(gap) else gap
    except Exception:  # the LP path of HiGHS has no MIP gap
        return 0.0
