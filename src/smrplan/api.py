"""Public Python API: the same stages the CLI runs, for notebooks.

    import smrplan
    plan = smrplan.run("india-islands", out="runs/islands")
    plan.settlements      # GeoDataFrame, one row per settlement with every option's LCOE
    plan.sites            # GeoDataFrame of every candidate site, screened, built ones flagged
    plan.summary          # the plan.json content
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from smrplan.catalogue.catalogue import Catalogue, resolve_catalogue, to_records
from smrplan.costs.economics import (
    ALL_OPTIONS,
    HOURS,
    REACTOR_OPTIONS,
    Money,
    by_option,
    diesel_cost,
    first_of,
    grid_cost,
    line_cost,
    pv_battery_cost,
    reactor_plant_cost,
)
from smrplan.demand.load import compute_demand, hourly_shape
from smrplan.geo.distance import PointIndex
from smrplan.geo.grid import nearest_grid, route_split_km
from smrplan.geo.layers import Region, load_region
from smrplan.optimize.assemble import assemble, money_fields, option_totals, why_section
from smrplan.optimize.solve import KIND_OPTION, KINDS, allowed_kinds, solve_plan
from smrplan.scenario import Scenario, apply_data_dir, load_scenario
from smrplan.siting.screen import ScreenResult, generate_candidates, screen
from smrplan.version import __version__

log = logging.getLogger("smrplan")
Progress = Callable[[str], None]
VOLATILE_FIELDS = ("created_utc", "timings_s", "solver.time_s", "solver.build_s", "solver.solve_s", "solver.solver_time_s",
                   "solver.search.time_s")


@dataclass
class Plan:
    """A finished plan: settlements and sites as GeoDataFrames, the plan.json summary, and inputs."""

    scenario: Scenario
    catalogue: Catalogue
    settlements: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    summary: dict
    region: Region
    screen: ScreenResult
    run_dir: Path | None = None
    extras: dict = field(default_factory=dict)


def _resolve_scenario(scenario: str | Path | Scenario, data_dir) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return apply_data_dir(sc, data_dir)


def prepare(scenario: Scenario, progress: Progress = lambda s: None, *, repair: bool = False):
    """Region, catalogue and demand for a scenario (the first stages of every command). repair: fix
    bad settlement / anchor-load rows (logged, counted in region.repairs) instead of stopping."""
    progress("catalogue")
    cat = resolve_catalogue(scenario.technologies.enabled, scenario.technologies.overrides,
                            scenario.finance.base_year, scenario.source)
    progress("region layers")
    region = load_region(scenario, repair=repair)
    progress("demand")
    st = compute_demand(region.settlements, scenario.demand, scenario.target_year)
    st["lon"], st["lat"] = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    region.settlements = st
    return cat, region, st


def standalone_costs(st: pd.DataFrame, region: Region, cat: Catalogue, scenario: Scenario) -> dict[str, pd.DataFrame]:
    """Cost of diesel, PV + battery hybrid and grid/cable for every settlement (vectorised)."""
    money = Money(scenario.finance.discount_rate, scenario.finance.horizon_years)
    g = nearest_grid(region, st["lon"].to_numpy(), st["lat"].to_numpy())
    for k, v in g.items():
        st[k] = v
    if "is_island" not in st.columns:
        st["is_island"] = np.isfinite(g["grid_sea_km"]) & (g["grid_sea_km"] > 0) | ~np.isfinite(g["grid_distance_km"])
    island = st["is_island"].to_numpy(bool)
    e, peak = st["demand_kwh_per_year"].to_numpy(float), st["peak_kw"].to_numpy(float)
    diesel = first_of(cat, "diesel")
    enabled = set(scenario.technologies.enabled)
    out: dict[str, pd.DataFrame] = {}
    out["diesel"] = diesel_cost(e, peak, diesel, money, island)
    out["diesel"]["feasible"] = "diesel_minigrid" in enabled or any(cat[t].option == "diesel" for t in enabled)
    shape = hourly_shape(scenario.demand.load_shape)
    night_share = float(shape.reshape(365, 24)[:, list(range(0, 7)) + list(range(18, 24))].sum())
    out["pv_battery"] = pv_battery_cost(e, peak, night_share, first_of(cat, "pv_battery"), diesel, money, island)
    out["pv_battery"]["feasible"] = any(cat[t].option == "pv_battery" for t in enabled)
    out["grid"] = grid_cost(e, peak, st["grid_land_km"].to_numpy(), st["grid_sea_km"].to_numpy(),
                            first_of(cat, "grid_extension"), first_of(cat, "submarine_cable"), money)
    out["grid"]["feasible"] &= any(cat[t].option in ("grid_extension", "submarine_cable") for t in enabled)
    return out


def own_reactor_costs(st: pd.DataFrame, region: Region, sites: pd.DataFrame, cat: Catalogue, scenario: Scenario,
                      techs_by_kind: dict) -> dict[str, pd.DataFrame]:
    """Per settlement and reactor option: the cheapest plant at the nearest suitable site of that kind
    serving the settlement alone, with its connection (NaN annual cost where none is possible)."""
    money = Money(scenario.finance.discount_rate, scenario.finance.horizon_years)
    diesel, grid, cable = first_of(cat, "diesel"), first_of(cat, "grid_extension"), first_of(cat, "submarine_cable")
    e, peak = st["demand_kwh_per_year"].to_numpy(float), st["peak_kw"].to_numpy(float)
    island = st["is_island"].to_numpy(bool)
    out = {}
    for kind, option in KIND_OPTION.items():
        res = pd.DataFrame({"annual_cost_usd": np.nan, "capex_usd": np.nan, "capacity_kw": np.nan,
                            "site_id": "", "technology": ""}, index=range(len(st)))
        cand = sites[(sites.kind == kind) & sites.suitable]
        techs = techs_by_kind.get(kind, [])
        if len(cand) and techs:
            d, idx = PointIndex(cand.lon.to_numpy(), cand.lat.to_numpy()).nearest(st["lon"], st["lat"], k=1)
            d, idx = d[:, 0], idx[:, 0]
            land, sea = route_split_km(region, cand.lon.to_numpy()[idx], cand.lat.to_numpy()[idx],
                                       st["lon"].to_numpy(), st["lat"].to_numpy())
            link = line_cost(land, sea, peak, grid, cable, money)
            best = np.full(len(st), np.inf)
            for tech in techs:  # a handful of technologies, each vectorised over settlements
                r = reactor_plant_cost(e, peak, tech, diesel, money, scenario.optimisation.reserve_margin_fraction,
                                       scenario.technologies.reactor_backup, island)
                annual = np.where(r["feasible"], r["annual_cost_usd"] + link["annual_cost_usd"], np.inf)
                better = annual < best
                best = np.where(better, annual, best)
                res.loc[better, "capex_usd"] = (r["capex_usd"] + link["capex_usd"]).to_numpy()[better]
                res.loc[better, "capacity_kw"] = r["capacity_kw"].to_numpy()[better]
                res.loc[better, "technology"] = tech.key
            reach = d <= scenario.optimisation.max_network_distance_km
            res["annual_cost_usd"] = np.where(np.isfinite(best) & reach, best, np.nan)
            res["site_id"] = np.where(reach, cand.site_id.to_numpy()[idx], "")
        out[option] = res
    return out


def run_screen(scenario: Scenario, region: Region, cat: Catalogue, progress: Progress = lambda s: None) -> ScreenResult:
    """Generate and screen candidate sites."""
    progress("siting")
    techs_by_kind = _techs_by_kind(cat, scenario)
    epz = {kind: min((t.get("epz_km", np.inf) or np.inf) for t in techs) for kind, techs in techs_by_kind.items() if techs}
    cands = generate_candidates(region, scenario.siting, scenario.optimisation.max_network_distance_km,
                                region.layers.get("candidates"))
    return screen(region, scenario.siting, cands, epz, scenario.optimisation.max_network_distance_km)


def _techs_by_kind(cat: Catalogue, scenario: Scenario) -> dict:
    groups = by_option(cat, scenario.technologies.enabled)
    return {kind: groups[option] for kind, option in KIND_OPTION.items()}


def plan(scenario: str | Path | Scenario, data_dir: str | Path | None = None,
         progress: Progress = lambda s: None, *, repair: bool = False) -> Plan:
    """Run every stage in memory and return the plan (nothing written). repair: see `prepare`."""
    t0 = time.perf_counter()
    sc = _resolve_scenario(scenario, data_dir)
    cat, region, st = prepare(sc, progress, repair=repair)
    progress("costs")
    details = standalone_costs(st, region, cat, sc)
    scr = run_screen(sc, region, cat, progress)
    sites = scr.sites
    techs_by_kind = _techs_by_kind(cat, sc)
    own = own_reactor_costs(st, region, sites, cat, sc, techs_by_kind)
    money = Money(sc.finance.discount_rate, sc.finance.horizon_years)
    carbon = sc.finance.carbon_price_usd_per_t
    annual: dict[str, np.ndarray] = {}
    for option in ("diesel", "pv_battery", "grid"):
        d = details[option]
        annual[option] = np.where(d["feasible"], d["annual_cost_usd"] + carbon * d["co2_t"], np.nan)
    allowed = allowed_kinds(st, sc.optimisation)  # reactor options by region
    for kind, option in KIND_OPTION.items():
        annual[option] = np.where(allowed[:, KINDS.index(kind)], own[option]["annual_cost_usd"].to_numpy(float), np.nan)
    standalone = np.column_stack([annual[o] for o in ("diesel", "pv_battery", "grid")])
    if np.isnan(standalone).all(axis=1).any():
        raise RuntimeError("a settlement has no feasible stand-alone option; enable diesel_minigrid")
    st["standalone_annual_cost_usd"] = np.nanmin(standalone, axis=1)
    progress("optimisation")
    suitable = sites[sites.suitable]
    result = solve_plan(region, st, suitable, techs_by_kind, first_of(cat, "diesel"), first_of(cat, "grid_extension"),
                        first_of(cat, "submarine_cable"), money, sc.optimisation, sc.demand.load_factor, carbon)
    diesel = first_of(cat, "diesel")
    st2, built = assemble(st, result, annual, diesel["capex_usd_per_kw"], sc.finance.discount_rate, money=money,
                          inr_per_usd=sc.finance.inr_per_usd)
    sites = sites.copy()
    sites["built"] = sites["site_id"].isin([b["site_id"] for b in built])
    sites["technology"] = sites["site_id"].map({b["site_id"]: b["technology"] for b in built}).fillna("")
    sites["modules"] = sites["site_id"].map({b["site_id"]: b["modules"] for b in built}).fillna(0).astype(int)
    details_all = {**details, **{o: own[o] for o in REACTOR_OPTIONS}}
    totals = option_totals(st2, details_all, built)
    emissions = _emissions(st2, details, built)
    solver = dict(result.solver)  # its time breakdown goes with the other (volatile) timings
    solver_timings = {f"optimisation_{k}": solver.pop(k) for k in ("build_s", "solve_s", "solver_time_s") if k in solver}
    summary = {
        "scenario": sc.name, "description": sc.description, "target_year": sc.target_year,
        "settlements": int(len(st2)), "population": round(float(st2["population_target"].sum())),
        "demand_mwh_per_year": round(float(st2["demand_kwh_per_year"].sum()) / 1000.0, 3),
        "peak_mw": round(float(st2["peak_kw"].sum()) / 1000.0, 3),
        "options": totals, "reactor_sites": built,
        "total_annual_cost_usd": round(float(st2["chosen_annual_cost_usd"].sum()), 2),
        "standalone_annual_cost_usd": round(float(st2["standalone_annual_cost_usd"].sum()), 2),
        "emissions_t_co2_per_year": round(emissions, 3),
        "currency": {"unit": f"USD {sc.finance.base_year}"},  # INR and NPV figures: money_fields below
        "siting": scr.summary(), "solver": solver, "why": why_section(st2, result, annual),
        "data": region.data_record(),
        "versions": _versions(),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "volatile_fields": list(VOLATILE_FIELDS),
        "timings_s": {"total": round(time.perf_counter() - t0, 3), **solver_timings},
    }
    money_fields(summary, money, sc.finance.inr_per_usd)  # NPV and INR figures beside the USD ones
    st_gdf = gpd.GeoDataFrame(st2, geometry=st2.geometry, crs="EPSG:4326")
    return Plan(sc, cat, st_gdf, sites, summary, region, scr, extras={"details": details})


def _emissions(st: pd.DataFrame, details: dict[str, pd.DataFrame], built: list[dict]) -> float:
    total = 0.0
    for option in ("diesel", "pv_battery", "grid"):
        sel = (st["chosen_option"] == option).to_numpy()
        total += float(details[option]["co2_t"].to_numpy()[sel].sum())
    return total


def _versions() -> dict[str, str]:
    import geopandas
    import highspy  # noqa: F401
    import linopy
    import shapely

    return {"smrplan": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "geopandas": geopandas.__version__, "shapely": shapely.__version__,
            "linopy": linopy.__version__}


def default_out(scenario_name: str) -> Path:
    return Path("runs") / f"{scenario_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run(scenario: str | Path | Scenario = "india-islands", out: str | Path | None = None,
        data_dir: str | Path | None = None, overwrite: bool = False, progress: Progress = lambda s: None,
        *, repair: bool = False) -> Plan:
    """Run a scenario and write its run directory (atomically). Returns the plan. repair: fix bad
    settlement / anchor-load rows (each fix logged, counted in plan.json data.repairs) instead of stopping."""
    from smrplan.outputs.write import write_run

    sc = _resolve_scenario(scenario, data_dir)
    out_dir = Path(out) if out is not None else default_out(sc.name)
    if out_dir.exists() and not overwrite:
        from smrplan.errors import InputError

        raise InputError(out_dir, "--out", "the output directory exists; choose another or pass --overwrite")
    p = plan(sc, progress=progress, repair=repair)
    if sc.outputs.dispatch:
        progress("hourly dispatch")
        add_dispatch(p)
    if sc.outputs.sensitivity:
        from smrplan.uncertainty.tornado import tornado

        p.summary["sensitivity"], _ = tornado(sc, progress=progress, repair=repair)
    write_run(p, out_dir, overwrite=overwrite, progress=progress)
    p.run_dir = out_dir
    return p


def add_dispatch(p: Plan) -> Plan:
    """Simulate the plan's systems hour by hour, size back-up to the reliability target and add the
    extra back-up cost to the plan's totals (see reliability.py)."""
    from smrplan.dispatch.reliability import check

    section, result = check(p, p.extras["details"])
    s = p.summary
    s["dispatch"] = section
    added = section.get("added_annual_cost_usd", 0.0)
    if added:
        s["total_annual_cost_before_dispatch_usd"] = s["total_annual_cost_usd"]
        s["total_annual_cost_usd"] = round(s["total_annual_cost_usd"] + added, 2)
        by_type: dict[str, float] = {}
        for rec in section["systems"]:
            by_type[rec["type"]] = by_type.get(rec["type"], 0.0) + rec["added_annual_cost_usd"]
        for option, extra in by_type.items():
            t = s["options"][option]
            t["annual_cost_usd"] = round(t["annual_cost_usd"] + extra, 2)
            energy = t["demand_mwh_per_year"] * 1000.0
            t["lcoe_usd_per_kwh"] = round(t["annual_cost_usd"] / energy, 5) if energy > 0 else None
    money_fields(s, Money(p.scenario.finance.discount_rate, p.scenario.finance.horizon_years), p.scenario.finance.inr_per_usd)
    p.extras["dispatch_result"] = result
    return p


def scenario_yaml(sc: Scenario) -> str:
    return yaml.safe_dump(sc.to_dict(), sort_keys=False, allow_unicode=True)


def catalogue_records(cat: Catalogue) -> list[dict]:
    return to_records(cat)


__all__ = ["Plan", "plan", "run", "ALL_OPTIONS", "HOURS"]
