"""The chain of stages, in order, each a function returning a typed result (smrplan.results):

    inputs = prepare_inputs(scenario)          # catalogue, region, demand, route to the grid, money
    screen = screen_sites(inputs)              # candidate sites, every criterion with reasons
    basis = cost_basis_of(inputs, screen)      # reach to suitable sites, island flags, region rules
    costs = cost_options(inputs, basis)        # every option for every settlement (costs.engine)
    optimised = optimise_plan(inputs, screen, basis, costs)     # the least-cost plan (MILP)
    dispatch = dispatch_plan(plan)             # hour by hour, back-up to the reliability target
    sensitivity = sensitivity_of(plan)         # one-at-a-time tornado from the same basis

`make_roadmap` plans over the scenario's `roadmap` periods instead of one target year: the same stages
at the last period's demand, the option costs of every period's demand, and the roadmap MILP
(smrplan.optimize.roadmap) on the single-year model.

A scenario of ``study: coal_repowering`` runs `repower_coal` instead: coal units, their retirement, the
screen of every coal site with the same siting rules, costs against keeping the coal units.

`make_plan` runs them all. No stage modifies its inputs; the region is loaded and the sites are
screened once per plan, and the tornado starts from the plan's inputs and basis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, resolve_catalogue
from smrplan.catalogue.repowering import records as param_records
from smrplan.catalogue.repowering import repowering_parameters
from smrplan.catalogue.repowering import values as param_values
from smrplan.costs.economics import Money, by_option
from smrplan.costs.engine import (
    REACH_COLUMNS,
    CostBasis,
    OptionCosts,
    Reach,
    SiteIndex,
    cost_basis,
    night_share,
    option_costs,
    reach,
    site_index,
    suitable_sites,
)
from smrplan.costs.repowering import designs_of, repowering_costs
from smrplan.demand.load import demand_basis, hourly_shape, settlement_demand
from smrplan.dispatch.reliability import check, tmy_path
from smrplan.geo.fuel import at_fuel_depot
from smrplan.geo.grid import nearest_grid
from smrplan.geo.grid_status import (
    ROUTE_READS,
    STATUS_READS,
    anchor_towns,
    district_states,
    grid_points,
    grid_status,
    route_to_grid,
    rules,
    status_groups,
)
from smrplan.geo.layers import Region, load_region
from smrplan.optimize.alternatives import Alternatives, plan_alternatives
from smrplan.optimize.assemble import Optimised, optimise
from smrplan.optimize.roadmap import RoadmapOutcome, period_demand, plan_roadmap, yearly_trajectory
from smrplan.options import KIND_OPTION
from smrplan.partition import Cluster, Partitioner, partitioner_for, side_by_side, stitch
from smrplan.results import Dispatch, Inputs, Plan, Repowering, Roadmap
from smrplan.scenario import Scenario
from smrplan.siting.repowering import retirement, screen_coal_sites, site_table
from smrplan.siting.screen import ScreenResult, generate_candidates, screen
from smrplan.uncertainty.model import build_model, with_uncertainty
from smrplan.uncertainty.repowering import beat_probability
from smrplan.uncertainty.roadmap import roadmap_monte_carlo
from smrplan.uncertainty.tornado import tornado_of

if TYPE_CHECKING:
    from dask.distributed import Client

Progress = Callable[[str], None]


def _quiet(stage: str) -> None:
    """Default progress callback: report nothing."""


def partitioner(scenario: Scenario, settlements: int, cluster: Cluster | None = None) -> Partitioner:
    """How the per-settlement stages of a scenario run (its `scale` block; smrplan.partition).

    Parameters
    ----------
    scenario : Scenario
        Its `scale.partition_above_settlements` and `scale.partition_settlements`.
    settlements : int
        Number of settlements.
    cluster : Cluster, optional
        The cluster the partitions run on (always partitioned then).

    Returns
    -------
    Partitioner
    """
    return partitioner_for(settlements, scenario.scale.partition_above_settlements, scenario.scale.partition_settlements,
                           cluster)


def candidate_partitioner(scenario: Scenario, candidates: int, cluster: Cluster | None = None) -> Partitioner:
    """How the site screen of a scenario runs (its `scale` block; smrplan.partition).

    Parameters
    ----------
    scenario : Scenario
        Its `scale.partition_above_candidates` and `scale.partition_candidates`.
    candidates : int
        Number of candidate sites.
    cluster : Cluster, optional
        The cluster the partitions run on (always partitioned then).

    Returns
    -------
    Partitioner
    """
    return partitioner_for(candidates, scenario.scale.partition_above_candidates, scenario.scale.partition_candidates,
                           cluster)


def cluster_of(client: Client | None) -> Cluster | None:
    """The run's `Cluster` on `client` (None without one): every stage given it sends each shared
    value (the region's layers, the settlement points...) to the workers once."""
    return None if client is None else Cluster(client)


def prepare_inputs(scenario: Scenario, progress: Progress = _quiet, *, repair: bool = False,
                   cluster: Cluster | None = None) -> Inputs:
    """The inputs stage: catalogue, region layers, demand per settlement and the route to the grid.

    The per-settlement steps run by partitions (`partitioner`) with the same results.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario (smrplan.scenario.resolve_scenario).
    progress : callable
        Called with the name of each step.
    repair : bool
        Fix bad settlement / anchor-load rows (each fix logged, counted in plan.json data.repairs)
        instead of stopping.
    cluster : Cluster, optional
        The cluster the per-settlement steps run on (None: in this process).

    Returns
    -------
    Inputs
        Its region is the loaded one with the new settlements (the same `Region.bare` layers).
        Settlements gain demand columns, lon / lat, the grid route columns, `fuel_at_depot` (diesel at a
        depot's price: geo.fuel.at_fuel_depot) and `is_island`, unless the
        layer gives `is_island`: with a land layer, the settlement's piece of land is not joined to the
        mainland (`Region.land_status`, which also gives off_land_km (km) and land_snapped); without one,
        the route to the grid crosses sea or there is no grid. With a grid
        layer or electrification statistics, grid_status, grid_status_source, grid_supply_hours (h/day) and
        the grid route measured to the existing grid (geo.grid_status).

    Raises
    ------
    InputError
        Naming the file, row and field: a bad catalogue, override or layer (without `repair`, any row
        breaking the settlement or anchor-load contract), or an unknown load shape.
    """
    progress("catalogue")
    cat = resolve_catalogue(scenario.technologies.enabled, scenario.technologies.overrides,
                            scenario.finance.base_year, scenario.source)
    progress("region layers")
    region = load_region(scenario, repair=repair)
    demand_basis(region.settlements)  # a bad measured energy is named by its row of the whole table, not a partition's
    part = partitioner(scenario, len(region.settlements), cluster)
    context = part.share(region.bare())  # the layers, sent once
    progress("demand and grid distances")
    parts = part.parts(len(region.settlements))
    made = stitch(part.map(settlement_inputs, (region.settlements.iloc[p] for p in parts), scenario, context), parts)
    st = region.settlements.copy(deep=False)  # this stage's own table: its columns are set, the rows not copied
    _set_columns(st, made)
    del made
    region = region.with_settlements(st)
    progress("grid status")
    grid = grid_columns(scenario, region, st, part, context)
    if grid is not None:
        _set_columns(st, grid)
    money = Money(scenario.finance.discount_rate, scenario.finance.horizon_years)
    return Inputs(scenario, cat, region, st, money,
                  night_share(hourly_shape(scenario.demand.load_shape)))


def _set_columns(table: pd.DataFrame, columns: pd.DataFrame) -> None:
    """Set (add or replace) `columns` in `table`, whose rows they share; categoricals stay categorical."""
    for name in columns.columns:
        table[name] = columns[name].array


def settlement_inputs(settlements: gpd.GeoDataFrame, scenario: Scenario, region: Region) -> pd.DataFrame:
    """The row-wise steps of the inputs stage for some settlements: demand, lon / lat, the route to the
    existing grid, the state, the land status and island flag, and diesel at a depot's price (see
    `prepare_inputs`). Only the columns made come back (a partition does not send back what it was sent).
    The steps are independent and run side by side (`smrplan.partition.side_by_side`).

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        Settlements as read (WGS84 points); not modified.
    scenario : Scenario
        Demand settings, target year, fuel depot reach (km).
    region : Region
        The region's layers (its own settlements are not read).

    Returns
    -------
    pandas.DataFrame
        Indexed as `settlements`, in the order they go into the table: the demand columns
        (`smrplan.demand.load.settlement_demand`: kWh/yr, kW, persons), lon, lat (degrees),
        grid_distance_km, grid_land_km, grid_sea_km (km), grid_lon, grid_lat; st_nm (the state,
        `district_states`) when the settlements have none and the region has district polygons;
        off_land_km (km) and land_snapped with a land layer; is_island unless the settlements have it;
        fuel_at_depot.
    """
    lon, lat = settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy()
    named = "st_nm" in settlements.columns
    demand, grid, states, land, fuel = side_by_side(  # independent steps, mostly GEOS and numpy
        lambda: settlement_demand(demand_basis(settlements), scenario.demand, scenario.target_year),
        lambda: nearest_grid(region, lon, lat),
        lambda: None if named else district_states(region, lon, lat),
        lambda: region.land_status(lon, lat),
        lambda: at_fuel_depot(region, lon, lat, scenario.region.fuel_depot_reach_km))
    cols: dict = dict(demand)
    cols["lon"], cols["lat"] = lon, lat
    cols.update(grid)
    if states is not None:
        cols["st_nm"] = states
    if land is not None:
        cols["off_land_km"], cols["land_snapped"] = land["off_land_km"], land["land_snapped"]
    if "is_island" not in settlements.columns:
        if land is not None:
            cols["is_island"] = land["is_island"]
        else:
            sea, dist = np.asarray(cols["grid_sea_km"]), np.asarray(cols["grid_distance_km"])
            cols["is_island"] = np.isfinite(sea) & (sea > 0) | ~np.isfinite(dist)
    cols["fuel_at_depot"] = fuel
    return pd.DataFrame(cols, index=settlements.index)


def grid_columns(scenario: Scenario, region: Region, st: gpd.GeoDataFrame, part: Partitioner,
                 context: Region) -> pd.DataFrame | None:
    """The settlements' grid status and their route measured to the existing grid (geo.grid_status),
    by partitions: the status over whole calibration groups (`status_groups`) with the region's
    anchor towns, then the routes to the region's on-grid settlements and substations.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its grid data).
    region : Region
        The region (its layers).
    st : geopandas.GeoDataFrame
        Settlements with lon, lat (degrees), population, is_island and the grid route columns; not modified.
    part : Partitioner
        How the steps run.
    context : Region
        The region's layers as the partitions receive them (`Partitioner.share`).

    Returns
    -------
    pandas.DataFrame or None
        grid_status, grid_status_source (categoricals), grid_supply_hours (h/day) and the grid route
        columns (km, degrees), indexed as `st`; None when no status is made (see grid_status).
    """
    groups = status_groups(scenario, region, st)
    parts = part.parts(len(st), None if groups is None else groups.to_numpy())
    towns = anchor_towns(st, rules())
    reads = [c for c in STATUS_READS if c in st.columns]  # the pieces carry what the steps read
    pieces = part.map(grid_status, (st.iloc[p][reads] for p in parts), scenario, context, towns)
    if any(p is None for p in pieces):
        return None
    status = stitch(pieces, parts)
    del pieces
    routed = st[[c for c in ROUTE_READS if c not in status.columns]].assign(grid_status=status["grid_status"].array)
    parts = part.parts(len(st))
    points = part.share(grid_points(region, routed))
    routes = stitch(part.map(route_to_grid, (routed.iloc[p][list(ROUTE_READS)] for p in parts), context, points), parts)
    return pd.concat([status, routes], axis=1)


def screen_sites(inputs: Inputs, progress: Progress = _quiet, cluster: Cluster | None = None) -> ScreenResult:
    """The siting stage: generate candidate sites across the region by partitions of settlements
    (`partitioner`; with the `candidates` layer's) and screen them by partitions of candidates
    (`candidate_partitioner`), with the same results. A partitioned screen is compact: its result
    holds full rows of the suitable sites only and compact rows of the others (`screen`), as the run
    directory keeps them.

    The emergency planning zone of each kind is the smallest of its enabled technologies' (km).

    Parameters
    ----------
    inputs : Inputs
        The inputs stage: region, settlements (population in persons), scenario and catalogue.
    progress : callable
        Called with the name of each step.
    cluster : Cluster, optional
        The cluster the screen runs on (None: in this process).

    Returns
    -------
    ScreenResult
        Every candidate with each criterion's value and verdict, `suitable` and `reason`.
    """
    progress("siting")
    sc, region = inputs.scenario, inputs.region
    groups = by_option(inputs.catalogue, sc.technologies.enabled)
    epz = {kind: min((t.get("epz_km", np.inf) or np.inf) for t in groups[option])
           for kind, option in KIND_OPTION.items() if groups[option]}
    max_km = sc.optimisation.max_network_distance_km
    cands = generate_candidates(region, sc.siting, max_km, region.layers.get("candidates"),
                                part=partitioner(sc, len(inputs.settlements), cluster))
    part = candidate_partitioner(sc, len(cands), cluster)
    return screen(region, sc.siting, cands, epz, max_km, part=part,
                  compact=part.cluster is not None or len(part.parts(len(cands))) > 1)


def cost_basis_of(inputs: Inputs, screened: ScreenResult, progress: Progress = _quiet,
                  cluster: Cluster | None = None) -> CostBasis:
    """The draw-independent basis of the cost engine: each settlement's nearest suitable site of every
    reactor kind and its route (by partitions, `partitioner`), island flags, grid routes and the region rules.

    Parameters
    ----------
    inputs : Inputs
        The inputs stage (settlements with lon / lat in degrees, region, scenario).
    screened : ScreenResult
        The siting stage; its suitable sites are reached.
    progress : callable
        Called with the name of each step.
    cluster : Cluster, optional
        The cluster the reach runs on (None: in this process).

    Returns
    -------
    CostBasis
        Reach to the nearest suitable site of each kind (distances in km), island flags, grid routes (km),
        region rules.

    Raises
    ------
    InputError
        When a region rule names a column the settlements do not have.
    """
    progress("routes to candidate sites")
    st = inputs.settlements
    part = partitioner(inputs.scenario, len(st), cluster)
    region = part.share(inputs.region.bare())
    index = part.share(site_index(screened.sites[list(REACH_COLUMNS)]))  # positions and kinds, indexed once
    pieces = part.map(reach_of, (st.iloc[p][["lon", "lat"]] for p in part.parts(len(st))), region, index,
                      inputs.scenario.optimisation.max_network_distance_km)
    joined = replace(Reach.joined(pieces), sites=suitable_sites(screened.sites))
    return cost_basis(inputs.scenario, st, joined, inputs.night_share)


def reach_of(points: pd.DataFrame, region: Region, index: SiteIndex, max_network_distance_km: float) -> Reach:
    """`costs.engine.reach` of some settlements, without its sites table (each partition would send
    back the same one; `cost_basis_of` puts the whole table back).

    Parameters
    ----------
    points : pandas.DataFrame
        lon, lat of the settlements (degrees).
    region : Region
        Land and sea for the route split.
    index : SiteIndex
        The suitable sites by kind (`costs.engine.site_index`).
    max_network_distance_km : float
        Farthest a settlement may be from a plant it is served by (km).

    Returns
    -------
    Reach
        Its sites table empty.
    """
    out = reach(region, points["lon"].to_numpy(), points["lat"].to_numpy(), index, max_network_distance_km)
    return replace(out, sites=out.sites.iloc[:0])


def cost_options(inputs: Inputs, basis: CostBasis, progress: Progress = _quiet,
                 cluster: Cluster | None = None) -> OptionCosts:
    """The costs stage: every option for every settlement at the scenario's values, by partitions
    (`partitioner`).

    Parameters
    ----------
    inputs : Inputs
        The inputs stage: catalogue (base-year USD), money, carbon price (USD/t CO2), settlements with
        demand_kwh_per_year (kWh/yr) and peak_kw (kW).
    basis : CostBasis
        The cost basis of the same settlements.
    progress : callable
        Called with the name of each step.
    cluster : Cluster, optional
        The cluster the costs run on (None: in this process).

    Returns
    -------
    OptionCosts
        Annual cost (USD/yr), investment (USD), capacity (kW) and CO2 (t/yr) per settlement and option.

    Raises
    ------
    InputError
        When a settlement has no feasible stand-alone option.
    """
    progress("costs")
    st = inputs.settlements
    part = partitioner(inputs.scenario, len(st), cluster)
    energy, peak = st["demand_kwh_per_year"].to_numpy(float), st["peak_kw"].to_numpy(float)
    no_sites = replace(basis, reach=replace(basis.reach, sites=basis.reach.sites.iloc[:0]))  # costs read positions only
    pieces = part.map(costs_of, ((no_sites.take(p), energy[p], peak[p]) for p in part.parts(len(st))),
                      part.share(inputs.catalogue), inputs.money, inputs.scenario.finance.carbon_price_usd_per_t)
    return OptionCosts.joined(pieces)


def costs_of(piece: tuple[CostBasis, np.ndarray, np.ndarray], catalogue: Catalogue, money: Money,
             carbon_price_usd_per_t: float) -> OptionCosts:
    """`costs.engine.option_costs` of some settlements.

    Parameters
    ----------
    piece : tuple
        Their cost basis, demand (kWh/yr) and peak (kW).
    catalogue : Catalogue
        Technology data (base-year USD).
    money : Money
        Discount rate and horizon.
    carbon_price_usd_per_t : float
        Carbon price (USD/t CO2).

    Returns
    -------
    OptionCosts
    """
    basis, energy, peak = piece
    return option_costs(basis, catalogue, money, carbon_price_usd_per_t, energy, peak)


def optimise_plan(inputs: Inputs, screened: ScreenResult, basis: CostBasis, costs: OptionCosts,
                  progress: Progress = _quiet) -> Optimised:
    """The optimisation stage: the least-cost plan (optimize.assemble.optimise).

    Parameters
    ----------
    inputs : Inputs
        The inputs stage.
    screened : ScreenResult
        The siting stage; its suitable sites are the plants' candidate sites.
    basis : CostBasis
        The cost basis.
    costs : OptionCosts
        The costs stage.
    progress : callable
        Called with the name of each step.

    Returns
    -------
    Optimised
        The solver result, the assembled settlements (LCOE in USD/kWh, annual costs in USD/yr) and the
        built plants.
    """
    progress("optimisation")
    sc = inputs.scenario
    return optimise(inputs.region, inputs.settlements, screened.sites, basis, costs, inputs.catalogue, inputs.money,
                    sc.optimisation, sc.demand.load_factor, sc.finance.carbon_price_usd_per_t,
                    inr_per_usd=sc.finance.inr_per_usd)


def near_optimal_plans(inputs: Inputs, screened: ScreenResult, basis: CostBasis, costs: OptionCosts,
                       progress: Progress = _quiet, client: Client | None = None) -> Alternatives:
    """The least-cost plan and its near-optimal alternatives (optimize.alternatives), with the
    scenario's `alternatives` settings (cost slack, random directions, seed).

    Parameters
    ----------
    inputs : Inputs
        The inputs stage.
    screened : ScreenResult
        The siting stage; its suitable sites are the plants' candidate sites.
    basis : CostBasis
        The cost basis.
    costs : OptionCosts
        The costs stage (USD/yr; the stand-alone options' litres and t CO2 per year).
    progress : callable
        Called with the name of each step.
    client : dask.distributed.Client or None
        Where the alternatives are solved (None: in this process).

    Returns
    -------
    Alternatives
        The plans (USD/yr, MW, l/yr, t CO2/yr), the sites built in every plan or in some.
    """
    progress("near-optimal alternatives")
    sc = inputs.scenario
    return plan_alternatives(inputs.region, inputs.settlements, screened.sites, basis, costs, inputs.catalogue,
                             inputs.money, sc.optimisation, sc.demand.load_factor, sc.finance.carbon_price_usd_per_t,
                             sc.alternatives, client)


def dispatch_plan(plan: Plan, progress: Progress = _quiet) -> Dispatch:
    """The dispatch stage: simulate the plan's systems hour by hour and size back-up to the
    reliability target (dispatch.reliability.check)."""
    progress("hourly dispatch")
    section, result = check(plan.scenario, plan.catalogue, plan.settlements, plan.optimised.built, plan.standalone,
                            plan.inputs.money)
    return Dispatch(section, result)


def sensitivity_of(plan: Plan, progress: Progress = _quiet) -> list[dict]:
    """The sensitivity stage: the one-at-a-time tornado of the scenario's uncertain inputs, from the
    plan's inputs and cost basis (nothing loaded or screened again)."""
    progress("tornado")
    entries, _ = tornado_of(build_model(plan.inputs, plan.basis))
    return entries


def make_plan(scenario: Scenario, progress: Progress = _quiet, *, repair: bool = False,
              dispatch: bool | None = None, sensitivity: bool | None = None, client: Client | None = None) -> Plan:
    """Run every stage in memory and return the plan (nothing written).

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario.
    progress : callable
        Called with each step's name.
    repair : bool
        See `prepare_inputs`.
    dispatch, sensitivity : bool, optional
        Run the dispatch / tornado stages (default: the scenario's `outputs.dispatch` /
        `outputs.sensitivity`).
    client : dask.distributed.Client, optional
        The cluster the per-settlement stages and the site screen run on, partitioned (`partitioner`,
        `candidate_partitioner`; shared values sent once, `cluster_of`); None: in this process.

    Returns
    -------
    Plan
        Every stage's result; ``timings_s`` holds the run time (s), ``partitioning`` how the
        per-settlement stages ran (smrplan.partition.Partitioner.record) and the screen's
        ``candidate_partitions`` and ``candidates_per_partition``.

    Raises
    ------
    InputError
        For bad input (see `prepare_inputs`), a bad solar year or derate file (a missing
        ``dispatch.pv_tmy`` fails before the stages run) or, with the sensitivity stage, a bad
        uncertainty block.
    """
    t0 = time.perf_counter()
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_dispatch = scenario.outputs.dispatch if dispatch is None else dispatch
    if run_dispatch and scenario.dispatch.pv_tmy is not None:
        tmy_path(scenario)  # a missing solar file fails now, not after the optimisation
    cluster = cluster_of(client)
    inputs = prepare_inputs(scenario, progress, repair=repair, cluster=cluster)
    screened = screen_sites(inputs, progress, cluster)
    basis = cost_basis_of(inputs, screened, progress, cluster)
    costs = cost_options(inputs, basis, progress, cluster)
    optimised = optimise_plan(inputs, screened, basis, costs, progress)
    n, sites = len(inputs.settlements), candidate_partitioner(scenario, len(screened.sites), cluster).record(
        len(screened.sites))
    plan = Plan(inputs, screened, basis, costs, optimised, created_utc=created,
                partitioning={**partitioner(scenario, n, cluster).record(n), "candidate_partitions": sites["partitions"],
                              "candidates_per_partition": sites["rows_per_partition"]})
    if run_dispatch:
        plan = replace(plan, dispatch=dispatch_plan(plan, progress))
    if scenario.outputs.sensitivity if sensitivity is None else sensitivity:
        plan = replace(plan, sensitivity=sensitivity_of(plan, progress))
    return replace(plan, timings_s={"total": round(time.perf_counter() - t0, 3)})


def repower_coal(scenario: Scenario, progress: Progress = _quiet) -> Repowering:
    """The coal-repowering study (scenario ``study: coal_repowering``): read the coal units, mark the
    retiring ones, screen every plant location as a land small-reactor site, cost the designs with the
    site-reuse credit against keeping the coal units, and draw the probability that a reactor wins.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario with ``data.coal_units`` and its ``repowering`` block.
    progress : callable
        Called with the name of each step.

    Returns
    -------
    Repowering
        Units and sites with verdicts, reasons and costs (USD of the base year); ``timings_s`` in s.

    Raises
    ------
    InputError
        Naming the file and field: a bad layer, an unknown design or parameter override.
    """
    t0 = time.perf_counter()
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rp, fin = scenario.repowering, scenario.finance
    progress("catalogue")
    cat = resolve_catalogue(scenario.technologies.enabled, scenario.technologies.overrides, fin.base_year, scenario.source)
    designs = designs_of(cat, rp.designs, scenario.source)
    large = designs_of(cat, [rp.large_reference], scenario.source)[0]
    params = repowering_parameters(fin.base_year, rp.overrides, scenario.source)
    p = param_values(params)
    progress("region layers")
    region = load_region(scenario)
    t_region = time.perf_counter()
    units = region.layers["coal_units"]
    units = units[units["status"].isin(rp.statuses).to_numpy()].reset_index(drop=True)
    units["lon"], units["lat"] = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    retiring_by = rp.retiring_by if rp.retiring_by is not None else scenario.target_year
    units = retirement(units, p["useful_life_years"], retiring_by)
    progress("screening coal sites")
    sites = site_table(units)
    smallest = min(t.unit_kw for t in designs) / 1000.0
    epz = min((t.get("epz_km", np.inf) or np.inf) for t in designs)
    screened = screen_coal_sites(region, scenario.siting, sites, smallest, retiring_by, epz,
                                 scenario.optimisation.max_network_distance_km)
    progress("costs against coal")
    money = Money(fin.discount_rate, fin.horizon_years)
    costs = repowering_costs(units, screened.sites, cat, designs, large, money, p, fin.carbon_price_usd_per_t)
    t_cost = time.perf_counter()
    progress("Monte Carlo")
    prob = beat_probability(units, screened.sites, cat, designs, large, money, params, fin.carbon_price_usd_per_t,
                            rp.draws, rp.seed)
    site_cols = costs.sites.drop(columns=["gem_location_id", "is_captive"])
    out_sites = screened.sites.join(site_cols.set_axis(screened.sites.index))
    out_sites["p_beats_coal"] = prob
    verdict = out_sites.set_index("site_id")
    loc = units["gem_location_id"].astype(str)
    units = units.join(costs.units)
    units["site_suitable"] = loc.map(verdict["suitable"]).fillna(False).to_numpy(bool)
    units["site_reason"] = loc.map(verdict["reason"]).to_numpy()
    units["site_best_design"] = loc.map(verdict["best_design"]).to_numpy()
    timings = {"region": round(t_region - t0, 3), "screen_and_costs": round(t_cost - t_region, 3),
               "total": round(time.perf_counter() - t0, 3)}
    return Repowering(scenario, units, out_sites, screened, costs.reference, param_records(params), int(retiring_by),
                      timings, created)


def make_roadmap(scenario: Scenario, progress: Progress = _quiet, *, draws: int | None = None,
                 client: Client | None = None) -> Roadmap:
    """The roadmap of a scenario over its `roadmap` periods (nothing written).

    The inputs, siting and cost-basis stages run once at the last period's demand (the single-year
    model the roadmap is built on); the option costs run for every period's demand (the demand model
    at each period's first year), and give each place's bridging supply until first power, with the
    capital of its existing gensets sunk while they last (`smrplan.costs.existing`). With `draws`, the
    roadmap of every draw of the scenario's uncertain inputs too (uncertainty.roadmap).

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario with its `roadmap` block.
    progress : callable
        Called with the name of each step.
    draws : int, optional
        Monte Carlo draws of the roadmap (the `uncertainty` block's inputs, seed and batch size); none
        when not given.
    client : dask.distributed.Client, optional
        The cluster the draws run on (uncertainty.sweep.open_client); None runs them here.

    Returns
    -------
    Roadmap
        The plants started per period, the myopic comparison when asked, the yearly trajectory, the
        Monte Carlo with draws; ``timings_s`` in s.

    Raises
    ------
    InputError
        For bad input (see `prepare_inputs`).
    """
    t0 = time.perf_counter()
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    inputs = prepare_inputs(scenario.model_copy(update={"target_year": scenario.roadmap.years[-1]}), progress)
    screened = screen_sites(inputs, progress)
    basis = cost_basis_of(inputs, screened, progress)
    t_inputs = time.perf_counter()
    outcome, trajectory = roadmap_stages(scenario, inputs, screened, basis, inputs.catalogue, inputs.money, progress)
    t_plan = time.perf_counter()
    monte_carlo = None
    if draws is not None:
        progress(f"roadmap of {draws} draws")
        model = build_model(inputs, basis, scenario=with_uncertainty(inputs.scenario, draws=draws), reoptimise=True)
        monte_carlo = roadmap_monte_carlo(model, client)
    timings = {"inputs_and_costs": round(t_inputs - t0, 3), "roadmap": round(t_plan - t_inputs, 3),
               "monte_carlo": round(time.perf_counter() - t_plan, 3), "total": round(time.perf_counter() - t0, 3)}
    return Roadmap(scenario, inputs, outcome, trajectory, timings, created, monte_carlo=monte_carlo)


def roadmap_stages(scenario: Scenario, inputs: Inputs, screened: ScreenResult, basis: CostBasis, catalogue: Catalogue,
                   money: Money, progress: Progress = _quiet) -> tuple[RoadmapOutcome, pd.DataFrame]:
    """The roadmap's own stages on prepared inputs, screen and cost basis: the option costs and the
    bridging supply of every period, the roadmap MILP and the yearly trajectory (`make_roadmap`; the
    explorer calls it with its slider values).

    Parameters
    ----------
    scenario : Scenario
        Its `roadmap` block (periods, limits), demand settings and carbon price are used.
    inputs : Inputs
        The pipeline's inputs (any target year: demand is recomputed per period).
    screened : ScreenResult
        The site screen.
    basis : CostBasis
        The cost basis.
    catalogue : Catalogue
        The technology data costed (base-year USD).
    money : Money
        Discount rate and horizon.
    progress : callable
        Called with the name of each step.

    Returns
    -------
    tuple
        The solved roadmap (`RoadmapOutcome`) and its yearly trajectory (pandas.DataFrame).
    """
    rm, fin = scenario.roadmap, scenario.finance
    years = rm.years
    progress("costs per period")
    db = demand_basis(inputs.settlements)
    per = [settlement_demand(db, scenario.demand, y) for y in years]
    costs = [option_costs(basis, catalogue, money, fin.carbon_price_usd_per_t, d["demand_kwh_per_year"], d["peak_kw"])
             for d in per]  # one vectorised pass per period
    demand = period_demand(years, [d["demand_kwh_per_year"] for d in per], [d["peak_kw"] for d in per], costs,
                           inputs.settlements, catalogue, money)
    st = inputs.settlements.assign(demand_kwh_per_year=per[-1]["demand_kwh_per_year"], peak_kw=per[-1]["peak_kw"],
                                   standalone_annual_cost_usd=costs[-1].standalone_annual_usd)
    progress("roadmap")
    outcome = plan_roadmap(inputs.region, st, screened.sites, basis, catalogue, money, scenario.optimisation,
                           scenario.demand.load_factor, fin.carbon_price_usd_per_t, demand, rm, myopic=rm.myopic_comparison)
    return outcome, yearly_trajectory(outcome, costs)
