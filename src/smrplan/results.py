"""Typed results of the pipeline's stages and the finished `Plan` they make up.

Each stage (smrplan.pipeline) returns one of these; none is modified after it is made. A `Plan`
holds the stage results as fields; its `summary` (the content of plan.json) is built from them once,
on first use (smrplan.summary).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import Money
from smrplan.costs.engine import CostBasis, OptionCosts, Reach
from smrplan.dispatch.simulate import DispatchResult
from smrplan.geo.layers import Region
from smrplan.optimize.assemble import Optimised
from smrplan.optimize.roadmap import RoadmapOutcome
from smrplan.scenario import Scenario
from smrplan.siting.screen import ScreenResult
from smrplan.summary import (
    SOLVER_TIMINGS,
    VOLATILE_FIELDS,
    add_dispatch,
    emissions_t_co2,
    grid_status_section,
    money_fields,
    option_totals,
    versions,
    why_section,
)


@dataclass(frozen=True)
class Inputs:
    """The inputs stage: what every later stage reads.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario (data directory applied).
    catalogue : Catalogue
        Technology data in base-year USD, overrides applied.
    region : Region
        Region layers as loaded (its `settlements` are the ones read, before demand).
    settlements : geopandas.GeoDataFrame
        One row per settlement: the read columns plus demand (`population_target`,
        `households_target`, `demand_kwh_per_year`, `peak_kw`), `lon`, `lat`, the route to the grid
        (`grid_distance_km`, `grid_land_km`, `grid_sea_km`, `grid_lon`, `grid_lat`) and `is_island`.
    money : Money
        Discount rate and horizon.
    night_share : float
        Share of the annual load in night hours (PV energy that passes the battery).
    """

    scenario: Scenario
    catalogue: Catalogue
    region: Region
    settlements: gpd.GeoDataFrame
    money: Money
    night_share: float


@dataclass(frozen=True)
class Dispatch:
    """The dispatch stage: the plan.json `dispatch` section and the hourly result (None when nothing
    was simulated)."""

    section: dict
    result: DispatchResult | None


@dataclass(frozen=True)
class Plan:
    """A finished plan: the results of every stage, in the order they ran.

    Attributes
    ----------
    inputs : Inputs
        Scenario, catalogue, region, settlements with demand, money.
    screen : ScreenResult
        Every candidate site, each criterion's value and pass / fail, with reasons.
    basis : CostBasis
        Draw-independent data of the option-cost engine (reach to suitable sites included).
    costs : OptionCosts
        Every option's cost for every settlement.
    optimised : Optimised
        The least-cost plan (solver result, assembled settlements, built plants, flagged sites).
    dispatch : Dispatch, optional
        Hour-by-hour check and back-up sizing.
    sensitivity : list[dict], optional
        One-at-a-time tornado entries, largest swing first.
    timings_s : dict
        Wall-clock seconds of the stages.
    created_utc : str
        When the plan was made (ISO 8601).
    run_dir : pathlib.Path, optional
        The run directory once written.
    partitioning : dict
        How the per-settlement stages ran (smrplan.partition.Partitioner.record): partitions, rows per
        partition, workers, scheduler; and the site screen's candidate_partitions and
        candidates_per_partition.
    """

    inputs: Inputs
    screen: ScreenResult
    basis: CostBasis
    costs: OptionCosts
    optimised: Optimised
    dispatch: Dispatch | None = None
    sensitivity: list[dict] | None = None
    timings_s: dict = field(default_factory=dict)
    created_utc: str = ""
    run_dir: Path | None = None
    partitioning: dict = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    @property
    def catalogue(self) -> Catalogue:
        return self.inputs.catalogue

    @property
    def region(self) -> Region:
        return self.inputs.region

    @property
    def reach(self) -> Reach:
        return self.basis.reach

    @property
    def settlements(self) -> gpd.GeoDataFrame:
        """Settlements with demand, every option's LCOE and NPV and the chosen option (GeoDataFrame)."""
        st = self.optimised.settlements
        return gpd.GeoDataFrame(st, geometry=st.geometry, crs="EPSG:4326")

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """Every screened candidate site, built ones flagged with technology and modules."""
        return self.optimised.sites

    @property
    def standalone(self) -> dict[str, pd.DataFrame]:
        """Sizing frames of the stand-alone options (diesel, pv_battery, grid) per settlement."""
        return dict(self.costs.standalone)

    def written_to(self, run_dir: Path) -> Plan:
        """The same plan with `run_dir` set (its summary, already built, is kept)."""
        out = replace(self, run_dir=Path(run_dir))
        if "summary" in self.__dict__:
            out.__dict__["summary"] = self.__dict__["summary"]
        return out

    @cached_property
    def summary(self) -> dict:
        """The plan.json content, built once from the stage results (smrplan.summary does the parts)."""
        sc, opt = self.scenario, self.optimised
        st = opt.settlements
        standalone = self.standalone
        solver = dict(opt.result.solver)  # its time breakdown goes with the other (volatile) timings
        solver_timings = {f"optimisation_{k}": solver.pop(k) for k in SOLVER_TIMINGS if k in solver}
        summary = {
            "scenario": sc.name, "description": sc.description, "target_year": sc.target_year,
            "settlements": int(len(st)), "population": round(float(st["population_target"].sum())),
            "demand_mwh_per_year": round(float(st["demand_kwh_per_year"].sum()) / 1000.0, 3),
            "peak_mw": round(float(st["peak_kw"].sum()) / 1000.0, 3),
            "options": option_totals(st, standalone, opt.built), "reactor_sites": [dict(b) for b in opt.built],
            "total_annual_cost_usd": round(float(st["chosen_annual_cost_usd"].sum()), 2),
            "standalone_annual_cost_usd": round(float(st["standalone_annual_cost_usd"].sum()), 2),
            "emissions_t_co2_per_year": round(emissions_t_co2(st, standalone), 3),
            "currency": {"unit": f"USD {sc.finance.base_year}"},  # INR and NPV figures: money_fields below
            "siting": self.screen.summary(), "solver": solver, "why": why_section(st, opt.result, self.costs.by_option),
            "data": self.region.data_record(), "grid_status": grid_status_section(st),
            "versions": versions(),
            "created_utc": self.created_utc,
            "volatile_fields": list(VOLATILE_FIELDS),
            "timings_s": {**self.timings_s, **solver_timings},
            "partitioning": self.partitioning,
        }
        if self.dispatch is not None:
            add_dispatch(summary, self.dispatch.section)
        if self.sensitivity is not None:
            summary["sensitivity"] = self.sensitivity
        return money_fields(summary, self.inputs.money, sc.finance.inr_per_usd)


@dataclass(frozen=True)
class Repowering:
    """The coal-repowering study (smrplan.pipeline.repower_coal).

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    units : geopandas.GeoDataFrame
        Every coal unit of the screened statuses: GEM columns, ``expected_retirement_year``,
        ``retirement_basis``, ``age_years``, ``retiring``, ``replacement_year`` (yr), ``coal_energy_kwh``
        (kWh/yr), ``coal_co2_t`` (t/yr), the site's verdict and reactor.
    sites : geopandas.GeoDataFrame
        One row per plant location: the screen (criteria values, pass, ``suitable``, ``reason``), the costs
        (smrplan.costs.repowering) and ``p_beats_coal`` (Monte Carlo probability).
    screen : ScreenResult
        The siting screen of the sites.
    reference : dict
        Comparison values (large plant, grid average cost of supply, industrial tariff; USD/kWh).
    parameters : dict
        The repowering parameters used, as records with source and year.
    retiring_by : int
        Units expected to retire by this year are retiring.
    timings_s : dict
        Wall-clock seconds of the steps.
    created_utc : str
        When the study was made (ISO 8601).
    run_dir : pathlib.Path, optional
        The run directory once written.
    """

    scenario: Scenario
    units: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    screen: ScreenResult
    reference: dict
    parameters: dict
    retiring_by: int
    timings_s: dict = field(default_factory=dict)
    created_utc: str = ""
    run_dir: Path | None = None

    @cached_property
    def summary(self) -> dict:
        """plan.json of the study: its `coal_repowering` section and the run metadata."""
        return {"study": "coal_repowering", "scenario": self.scenario.name, "created_utc": self.created_utc,
                "versions": versions(), "timings_s": self.timings_s,
                "coal_repowering": repowering_section(self.units, self.sites, self.reference, self.parameters,
                                                      self.retiring_by, self.screen.summary())}


def repowering_section(units: pd.DataFrame, sites: pd.DataFrame, reference: dict, parameters: dict,
                       retiring_by: int, screen: dict) -> dict:
    """The plan.json ``coal_repowering`` section: counts and GW of units and sites at each step of the
    screen, the reactors and their cost against coal, GW repowered by year, the ranked sites.

    Parameters
    ----------
    units : pandas.DataFrame
        Units with ``capacity_mw`` (MW), ``retiring``, ``site_suitable``, ``replacement_year`` (yr),
        ``coal_co2_t`` (t/yr), ``is_captive``.
    sites : pandas.DataFrame
        Sites with the screen and costs columns (USD, USD/kWh, kW).
    reference, parameters : dict
        Comparison values and the parameter records.
    retiring_by : int
        The retiring-by year.
    screen : dict
        `ScreenResult.summary()` of the sites.

    Returns
    -------
    dict
        JSON-ready; money in base-year USD, capacity in MW and GW, emissions in t CO2/yr.
    """
    ret = units["retiring"].to_numpy(bool)
    ok = ret & units["site_suitable"].to_numpy(bool)
    mw = units["capacity_mw"].to_numpy(float)
    s_ok = sites["suitable"].to_numpy(bool)
    ranked = sites[sites["rank"] > 0].sort_values("rank")
    beats = ranked["beats_coal"].to_numpy(bool)
    by_year = pd.Series(mw[ok]).groupby(units["replacement_year"].to_numpy(float)[ok]).sum().sort_index()
    cap = units["is_captive"].to_numpy(bool)
    cols = ["rank", "gem_location_id", "plant_name", "state", "retiring_mw", "best_design", "reactor_units",
            "reactor_capacity_kw", "reactor_usd_per_kwh", "coal_usd_per_kwh", "advantage_usd_per_kwh",
            "breakeven_carbon_usd_per_t", "p_beats_coal", "is_captive", "captive_industry", "credit_fraction"]

    return {
        "retiring_by": int(retiring_by),
        "units": {"screened": int(len(units)), "mw": round(float(mw.sum()), 1),
                  "retiring": int(ret.sum()), "retiring_mw": round(float(mw[ret].sum()), 1),
                  "retiring_at_suitable_sites": int(ok.sum()), "repowerable_mw": round(float(mw[ok].sum()), 1),
                  "captive": int(cap.sum()), "captive_mw": round(float(mw[cap].sum()), 1),
                  "captive_repowerable_mw": round(float(mw[ok & cap].sum()), 1)},
        "sites": {"screened": int(len(sites)), "with_retiring_units": int((sites["retiring_mw"] > 0).sum()),
                  "suitable": int(s_ok.sum()), "ranked": int(len(ranked)), "beat_coal": int(beats.sum()),
                  "captive_beat_tariff": int(ranked["beats_tariff"].sum())},
        "screen": screen,
        "reactors": {"units": int(ranked["reactor_units"].sum()),
                     "capacity_mw": round(float(ranked["reactor_capacity_kw"].sum()) / 1000.0, 1),
                     "capex_usd": float(ranked["reactor_capex_usd"].sum()),
                     "credit_usd": float(ranked["reactor_credit_usd"].sum()),
                     "energy_kwh": float(ranked["reactor_energy_kwh"].sum()),
                     "by_design": {str(k): int(v) for k, v in ranked["best_design"].value_counts().to_dict().items()},
                     "median_usd_per_kwh": float(ranked["reactor_usd_per_kwh"].median()) if len(ranked) else None,
                     "median_breakeven_carbon_usd_per_t": float(ranked["breakeven_carbon_usd_per_t"].median())
                     if len(ranked) else None},
        "coal": {"median_usd_per_kwh": float(ranked["coal_usd_per_kwh"].median()) if len(ranked) else None,
                 "co2_t_per_year_at_suitable_sites": float(units["coal_co2_t"].to_numpy(float)[ok].sum())},
        "repowerable_gw_by_year": {str(int(y)): round(float(v) / 1000.0, 3)
                                   for y, v in zip(by_year.index.to_numpy(float), by_year.to_numpy(float), strict=True)},
        "reference": reference,
        "parameters": parameters,
        "ranked_sites": json.loads(ranked.head(50)[cols].round(5).to_json(orient="records")),
    }


@dataclass(frozen=True)
class Roadmap:
    """A roadmap of small-reactor plants over the scenario's periods (smrplan.pipeline.make_roadmap).

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    inputs : Inputs
        The inputs stage at the last period's demand.
    outcome : RoadmapOutcome
        The perfect-foresight roadmap (plants started, service per period), the myopic one when asked.
    trajectory : pandas.DataFrame
        Year by year: capex committed (USD), annual cost (USD/yr), CO2 (t/yr), diesel (l/yr), reactor MW
        in service, places on reactors (optimize.roadmap.yearly_trajectory).
    timings_s : dict
        Wall-clock seconds of the steps.
    created_utc : str
        When the roadmap was made (ISO 8601).
    run_dir : pathlib.Path, optional
        The run directory once written.
    monte_carlo : tuple of (pandas.DataFrame, pandas.DataFrame, dict), optional
        With draws: the probability that each site is started and in service by each period, the
        draws, and the plan.json ``roadmap.monte_carlo`` section (uncertainty.roadmap).
    """

    scenario: Scenario
    inputs: Inputs
    outcome: RoadmapOutcome
    trajectory: pd.DataFrame
    timings_s: dict = field(default_factory=dict)
    created_utc: str = ""
    run_dir: Path | None = None
    monte_carlo: tuple[pd.DataFrame, pd.DataFrame, dict] | None = None

    @cached_property
    def summary(self) -> dict:
        """plan.json of a roadmap run: its ``roadmap`` section and the run metadata."""
        return {"study": "roadmap", "scenario": self.scenario.name, "created_utc": self.created_utc,
                "versions": versions(), "timings_s": self.timings_s, "roadmap": roadmap_section(self)}


def _finite(value, digits: int) -> float | None:
    """`value` rounded, or None when it is absent or not finite (JSON has no infinity)."""
    return round(float(value), digits) if value is not None and math.isfinite(value) else None


def roadmap_section(r: Roadmap) -> dict:
    """The plan.json ``roadmap`` section: periods, settings, present worth and annual cost per period
    (USD of the base year), the myopic plan's cost against it, the plants started and the solver record.

    Parameters
    ----------
    r : Roadmap
        The roadmap.

    Returns
    -------
    dict
        JSON-ready; money in base-year USD (present worth discounted to the first period's year).
    """
    plan, myopic, rm = r.outcome.plan, r.outcome.myopic, r.scenario.roadmap
    section = {
        "periods": [int(y) for y in plan.rp.years], "step_years": rm.step_years,
        "max_modules_started_per_period": rm.max_modules_started_per_period,
        "budget_usd_per_period": rm.budget_usd_per_period,
        "present_worth_usd": round(plan.objective_usd, 2),
        "annual_cost_usd_by_period": {str(y): round(float(c), 2) for y, c in zip(plan.rp.years, plan.annual_cost_usd,
                                                                                strict=True)},
        "stand_alone_annual_cost_usd_by_period": {str(y): round(float(c), 2)
                                                  for y, c in zip(plan.rp.years, plan.rp.c.sum(axis=1), strict=True)},
        "plants": int(len(r.outcome.plants)), "modules": int(r.outcome.plants["modules"].sum()),
        "capex_usd": round(float(r.outcome.plants["capex_usd"].sum()), 0),
        "solver": plan.run.record,
        "method": rm.method, "lookahead_periods": rm.lookahead_periods if rm.method == "rolling" else None,
        "bound_usd": _finite(plan.run.record.get("bound_usd"), 2), "gap": _finite(plan.run.record.get("gap"), 6),
        "mip_gap": r.scenario.optimisation.mip_gap, "gap_usd": round(r.scenario.optimisation.mip_gap * plan.objective_usd, 0),
        "explain_order_max_plants": rm.explain_order_max_plants,
    }
    if r.monte_carlo is not None:
        section["monte_carlo"] = r.monte_carlo[2]
    if myopic is not None:
        section["myopic"] = {"present_worth_usd": round(myopic.objective_usd, 2),
                             "extra_cost_usd": round(myopic.objective_usd - plan.objective_usd, 2),
                             "plants": int(myopic.run.decided.sum())}
    return section
