"""Monte Carlo over costs and demand: how sure is the least-cost answer?

The scenario's `uncertainty` block lists uncertain inputs (scenarios/defaults.yaml documents the
targets and holds the default set with sources). A sweep draws them `draws` times and, per draw,
finds what every settlement would choose, the total annual cost (USD/yr, constant base-year USD),
the reactor share of demand, the reactor capacity (MW) and emissions (t CO2/yr).

    summary = sweep("india-islands", "runs/islands-sweep", draws=1000, workers=2)   # sweep.json content

or, step by step: `with open_client(workers=2) as client:` build_model(...) once (scenario,
catalogue, distances, screen) and run_sweep(model, out, client) (draws on dask.distributed).

Method and assumptions

* Draws. Each target has one distribution (triangular: mode = base value; uniform; lognormal:
  median = base value, log-sd = ln(high/low) / (2 z95), truncated to [low, high]); low/high default
  to the catalogue's range. A `reactors.<parameter>` target moves every enabled reactor technology
  by one shared uniform draw, each within its own range (fully correlated). Correlation groups give
  equicorrelated normal scores (one-factor Gaussian copula): z = sqrt(rho) f + sqrt(1 - rho) e.
  Draw i takes its normal scores from child i of numpy `SeedSequence(seed)` (spawn key (i,)), so a
  draw's inputs depend only on the seed, the block and i, never on batches or workers.
* Per draw without re-optimising (the default): demand is scaled from the base run (households
  grow with (1 + g)^years; the tier's kWh scale with `demand.tier_kwh_scale`); every option is
  costed with economics.py exactly as api.standalone_costs and api.own_reactor_costs do (a reactor
  option = the settlement's own cheapest plant at its nearest suitable site of that kind); each
  settlement takes its least-cost option (stand-alone options pay the carbon price on their CO2,
  as in api.plan). Reactor capacity is the sum of those single-settlement plants, so it is an upper
  bound for the capacity of shared plants.
* With `reoptimise`, each draw solves the facility-location MILP (optimize.solve_plan) and
  assembles the plan (plan.assemble), as api.plan does; sites record whether they were built.
* Precomputed once, shipped to the workers: region and demand base, distances to the grid and to
  each settlement's nearest suitable site, the site screen. The screen uses base-case population,
  so population growth draws change demand and costs, not which sites pass.
* Emissions count the CO2 of the stand-alone options chosen (diesel, the hybrid's diesel, grid),
  like plan.json; the diesel back-up of reactor plants during refuelling is not counted.

The sweep directory

    scenario.yaml               the scenario as run (draws and seed included)
    manifest.json, done.txt     the sweep's fingerprint; finished batch ids, one per line
    parts/                      per batch of `batch_draws` draws: draws-, options- and sites-<id>.parquet,
                                each written to a temporary name and renamed; a rerun of an interrupted
                                sweep runs only the batches not in done.txt
    draws.parquet               per draw (sorted by draw index): the inputs drawn, total annual cost,
                                demand, reactor share, reactor capacity, emissions, settlements and
                                demand share per option
    settlement_options.parquet  per settlement: probability of each option being chosen, p_reactor
    sites.parquet               per suitable site: p_built (--reoptimise) or p_least_cost (a plant here
                                is the least-cost option of at least one settlement it would serve alone)
    tornado.parquet             one-at-a-time: each target at its low and at its high, the others at
                                base; total cost and reactor share (one row per input column)
    sweep.json                  summary: distributions, P5/P50/P95 and mean, option probabilities,
                                tornado (largest swing first); `volatile_fields` differ between runs
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.special import ndtr, ndtri

from smrplan.catalogue.catalogue import Catalogue, resolve_catalogue, to_records
from smrplan.costs.economics import (
    ALL_OPTIONS,
    HOURS,
    REACTOR_OPTIONS,
    STANDALONE_OPTIONS,
    Money,
    by_option,
    diesel_cost,
    first_of,
    grid_cost,
    line_cost,
    pv_battery_cost,
    reactor_plant_cost,
)
from smrplan.errors import InputError
from smrplan.optimize.solve import KIND_OPTION
from smrplan.scenario import Demand, Finance, Scenario
from smrplan.version import __version__

if TYPE_CHECKING:
    from dask.distributed import Client

Progress = Callable[[str, int | None, int | None], None]
SCENARIO_TARGETS = ("finance.discount_rate", "demand.population_growth_per_year", "demand.tier_kwh_scale")
GROUP_HEAD = "reactors"
REACTOR_COLUMNS = np.array([ALL_OPTIONS.index(o) for o in REACTOR_OPTIONS])
STANDALONE_COLUMNS = np.array([ALL_OPTIONS.index(o) for o in STANDALONE_OPTIONS])
METRICS = ("total_annual_cost_usd", "demand_mwh_per_year", "reactor_share", "reactor_capacity_mw",
           "emissions_t_co2_per_year")
SUMMARY_METRICS = ("total_annual_cost_usd", "reactor_share", "reactor_capacity_mw", "emissions_t_co2_per_year")
PERCENTILES = (5, 50, 95)
VOLATILE_FIELDS = ("workers", "scheduler", "created_utc", "elapsed_s", "draws_per_second", "resumed_draws")
TORNADO_ID = "tornado"


# ------------------------------------------------------------------------------------------------
# Distributions and draws
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Distribution:
    """One resolved entry of `uncertainty.parameters`: its input columns (one per technology for a
    `reactors.` group, all moved by the same draw) with low, base (mode or median) and high each."""

    target: str
    kind: str  # triangular | uniform | lognormal
    columns: tuple[str, ...]
    low: np.ndarray
    base: np.ndarray
    high: np.ndarray

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Values (B draws x columns) at uniform quantiles u (B,), inside [low, high]."""
        a, c, b = self.low, self.base, self.high
        u = np.asarray(u, float)[:, None]
        w = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "uniform":
                x = a + u * w
            elif self.kind == "triangular":
                fc = np.where(w > 0, (c - a) / w, 0.0)
                x = np.where(u < fc, a + np.sqrt(u * w * (c - a)), b - np.sqrt((1.0 - u) * w * (b - c)))
            else:  # lognormal, median c, log-sd ln(b/a) / (2 z95), truncated to [a, b]
                sigma = np.log(b / a) / (2.0 * ndtri(0.95))
                lo, hi = ndtr((np.log(a) - np.log(c)) / sigma), ndtr((np.log(b) - np.log(c)) / sigma)
                x = np.where(b > a, np.exp(np.log(c) + sigma * ndtri(lo + u * (hi - lo))), c)
        return np.clip(np.where(w > 0, x, a), a, b)

    def record(self) -> dict:
        return {"target": self.target, "distribution": self.kind,
                "columns": [{"column": col, "low": float(lo), "base": float(ba), "high": float(hi)}
                            for col, lo, ba, hi in zip(self.columns, self.low, self.base, self.high, strict=True)]}


@dataclass(frozen=True)
class Sampler:
    """The uncertain inputs of a scenario and how draw i gets its values."""

    distributions: tuple[Distribution, ...]
    group_of: tuple[int, ...]  # per distribution: index of its correlation group, or -1
    rho: tuple[float, ...]  # per correlation group
    seed: int

    @property
    def columns(self) -> list[str]:
        return [c for d in self.distributions for c in d.columns]

    def scores(self, draw_ids: np.ndarray) -> np.ndarray:
        """Normal scores (B x distributions): draw i from child i of SeedSequence(seed)."""
        n, g = len(self.distributions), len(self.rho)
        z = np.array([np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(int(i),)))
                      .standard_normal(n + g) for i in draw_ids]).reshape(len(draw_ids), n + g)
        out = z[:, :n].copy()
        for p, grp in enumerate(self.group_of):
            if grp >= 0:
                out[:, p] = np.sqrt(self.rho[grp]) * z[:, n + grp] + np.sqrt(1.0 - self.rho[grp]) * z[:, p]
        return out

    def values(self, draw_ids: np.ndarray) -> np.ndarray:
        """Input values (B draws x columns) of the given draw indices."""
        u = ndtr(self.scores(np.asarray(draw_ids)))
        parts = [d.quantile(u[:, p]) for p, d in enumerate(self.distributions)]
        return np.hstack(parts) if parts else np.zeros((len(draw_ids), 0))

    def base(self) -> np.ndarray:
        return np.concatenate([d.base for d in self.distributions]) if self.distributions else np.zeros(0)

    def one_at_a_time(self) -> np.ndarray:
        """Rows: all inputs at base, then for each distribution its columns at low, then at high."""
        base = self.base()
        rows = [base]
        start = 0
        for d in self.distributions:
            sl = slice(start, start + len(d.columns))
            for end in (d.low, d.high):
                row = base.copy()
                row[sl] = end
                rows.append(row)
            start = sl.stop
        return np.array(rows)


def _reactor_techs(cat: Catalogue, scenario: Scenario) -> list[str]:
    groups = by_option(cat, scenario.technologies.enabled)
    return [t.key for option in KIND_OPTION.values() for t in groups[option]]


def _used_techs(cat: Catalogue, scenario: Scenario) -> set[str]:
    """Enabled technologies plus the single entries the cost engine always reads (first_of)."""
    return set(scenario.technologies.enabled) | {first_of(cat, o).key for o in
                                                 ("diesel", "pv_battery", "grid_extension", "submarine_cable")}


def _scenario_base(scenario: Scenario, target: str) -> float:
    if target == "finance.discount_rate":
        return scenario.finance.discount_rate
    if target == "demand.population_growth_per_year":
        return scenario.demand.population_growth_per_year
    return 1.0  # demand.tier_kwh_scale multiplies the scenario's tier threshold


def _check_scenario_value(scenario: Scenario, target: str, value: float, where: str) -> None:
    """A drawn scenario value must pass the scenario's own validation (e.g. discount rate >= 0)."""
    try:
        if target == "finance.discount_rate":
            Finance.model_validate({**scenario.finance.model_dump(), "discount_rate": value})
        elif target == "demand.population_growth_per_year":
            Demand.model_validate({**scenario.demand.model_dump(), "population_growth_per_year": value})
        else:
            tiers = [v * value for v in scenario.demand.tier_kwh_per_household_year]
            Demand.model_validate({**scenario.demand.model_dump(), "tier_kwh_per_household_year": tiers})
    except ValidationError as exc:
        msg = "; ".join(e["msg"] for e in exc.errors())
        raise InputError(scenario.source, where, f"{value} is not a valid {target}: {msg}") from None


def resolve_distributions(scenario: Scenario, cat: Catalogue) -> Sampler:
    """Check the scenario's uncertainty block against the catalogue and resolve every range.

    Raises InputError naming the scenario file and the field (`uncertainty.parameters.<i>.<key>`)
    for an unknown target or parameter, a text parameter, a target without a range, a base value
    outside [low, high] for triangular/lognormal, a non-positive lognormal low, a negative cost,
    or an input drawn twice.
    """
    unc, src = scenario.uncertainty, scenario.source
    used = _used_techs(cat, scenario)
    reactors = _reactor_techs(cat, scenario)
    dists: list[Distribution] = []
    drawn_by: dict[str, str] = {}
    for i, p in enumerate(unc.parameters):
        where = f"uncertainty.parameters.{i}"
        head, name = p.target.split(".", 1)
        cols: list[tuple[str, float, float, float]] = []  # column, low, base, high
        if head in ("finance", "demand"):
            if p.target not in SCENARIO_TARGETS:
                raise InputError(src, f"{where}.target",
                                 f"unknown target {p.target!r}; scenario targets are {list(SCENARIO_TARGETS)}")
            if p.low is None or p.high is None:
                raise InputError(src, f"{where}.low" if p.low is None else f"{where}.high",
                                 f"required for {p.target}, which has no catalogue range")
            for key, value in (("low", p.low), ("high", p.high)):
                _check_scenario_value(scenario, p.target, value, f"{where}.{key}")
            cols.append((p.target, p.low, _scenario_base(scenario, p.target), p.high))
        else:
            if head == GROUP_HEAD:
                if p.low is not None or p.high is not None:
                    raise InputError(src, f"{where}.low" if p.low is not None else f"{where}.high",
                                     "a reactors. group takes each technology's catalogue range; "
                                     "list technologies one by one to give ranges")
                if not reactors:
                    raise InputError(src, f"{where}.target", "no reactor technology is enabled")
                keys = reactors
            elif head not in cat:
                raise InputError(src, f"{where}.target", f"unknown technology {head!r}; expected "
                                 f"'{GROUP_HEAD}', 'finance', 'demand' or one of {sorted(cat)}")
            elif head not in used:
                raise InputError(src, f"{where}.target",
                                 f"{head} is not used by this scenario; add it to technologies.enabled")
            else:
                keys = [head]
            for key in keys:
                param = cat[key].parameters.get(name)
                numeric = sorted(n for n, q in cat[key].parameters.items() if not isinstance(q.value, str))
                if param is None or isinstance(param.value, str):
                    raise InputError(src, f"{where}.target", f"{key} has no numeric parameter {name!r}; "
                                     f"numeric parameters: {numeric}")
                low = p.low if p.low is not None else param.low
                high = p.high if p.high is not None else param.high
                if low is None or high is None:
                    raise InputError(src, f"{where}.low", f"{key}.{name} has no catalogue range; give low and high")
                # A scenario override may move the base outside the catalogue's range: a range taken from
                # the catalogue then stretches to include it (a range given in the block does not).
                if p.low is None:
                    low = min(low, float(param.value))
                if p.high is None:
                    high = max(high, float(param.value))
                if param.is_money and low < 0:
                    raise InputError(src, f"{where}.low", f"negative cost {low} for {key}.{name}")
                cols.append((f"{key}.{name}", float(low), float(param.value), float(high)))
        for col, low, base, high in cols:
            if col in drawn_by:
                raise InputError(src, f"{where}.target", f"{col} is already drawn by {drawn_by[col]!r}")
            drawn_by[col] = p.target
            if low > high:
                raise InputError(src, where, f"low ({low}) is greater than high ({high}) for {col}")
            if p.distribution != "uniform" and not low <= base <= high:
                raise InputError(src, where, f"the base value of {col} ({base}) lies outside [{low}, {high}]; "
                                 f"a {p.distribution} distribution needs it inside (give low and high)")
            if p.distribution == "lognormal" and low <= 0:
                raise InputError(src, f"{where}.low", f"a lognormal distribution needs low > 0 ({col}: {low})")
        c = list(zip(*cols, strict=True))
        dists.append(Distribution(p.target, p.distribution, tuple(c[0]), np.array(c[1], float),
                                  np.array(c[2], float), np.array(c[3], float)))
    group_of = [-1] * len(dists)
    targets = [p.target for p in unc.parameters]
    for g, group in enumerate(unc.correlations):
        for t in group.parameters:
            group_of[targets.index(t)] = g
    return Sampler(tuple(dists), tuple(group_of), tuple(g.rho for g in unc.correlations), unc.seed)


# ------------------------------------------------------------------------------------------------
# The draw-independent model
# ------------------------------------------------------------------------------------------------
@dataclass
class ReactorReach:
    """Per settlement, its nearest suitable site of one kind: position in the sites table (-1 beyond
    the network distance or without sites) and the land / sea km of the straight connection."""

    site_pos: np.ndarray
    land_km: np.ndarray
    sea_km: np.ndarray


@dataclass
class SweepModel:
    """Everything a draw needs that does not depend on it, computed once (build_model) and shipped
    to the workers. Arrays are per settlement in the order of `settlements`."""

    scenario: Scenario
    catalogue: Catalogue
    sampler: Sampler
    reoptimise: bool
    settlements: pd.DataFrame  # id, name, lon, lat, is_island
    sites: pd.DataFrame  # suitable candidate sites: site_id, kind, lon, lat
    households_unit: np.ndarray  # households in the target year at zero population growth
    population: np.ndarray  # census population (base year)
    anchor_kwh: np.ndarray  # anchor load energy, kWh/yr
    floor_kwh: np.ndarray  # measured demand grown to the target year, kWh/yr (0 without)
    grid_land_km: np.ndarray
    grid_sea_km: np.ndarray
    night_share: float  # share of annual load in the night hours (PV energy that passes the battery)
    reach: dict[str, ReactorReach]
    region: object | None = None  # geo.layers.Region, only for reoptimise (solve_plan routes cables)

    @property
    def draws(self) -> int:
        return self.scenario.uncertainty.draws

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what determines the results: the resolved scenario (uncertainty block included),
        the catalogue, the mode, the smrplan version and the precomputed data (so that a change of
        data or code that alters the screen or the distances is caught). A resumed sweep must match it."""
        payload = {"scenario": self.scenario.to_dict(), "catalogue": to_records(self.catalogue),
                   "reoptimise": self.reoptimise, "version": __version__, "night_share": self.night_share}
        h = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
        for df in (self.settlements, self.sites):
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        arrays = [self.households_unit, self.population, self.anchor_kwh, self.floor_kwh, self.grid_land_km,
                  self.grid_sea_km, *(a for r in self.reach.values() for a in (r.site_pos, r.land_km, r.sea_km))]
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def batches(self) -> list[tuple[int, int, int]]:
        """(batch id, first draw, stop draw) for every batch of `batch_draws` draws."""
        bd = self.scenario.uncertainty.batch_draws
        return [(b, s, min(s + bd, self.draws)) for b, s in enumerate(range(0, self.draws, bd))]


def build_model(scenario: str | Path | Scenario, data_dir: str | Path | None = None, *, draws: int | None = None,
                seed: int | None = None, batch_draws: int | None = None, reoptimise: bool = False,
                progress: Progress = lambda s, d, t: None, repair: bool = False) -> SweepModel:
    """Load the scenario, resolve its distributions and precompute the draw-independent data
    (region, demand base, grid and site distances, site screen). `draws`, `seed` and `batch_draws`
    replace the scenario's uncertainty values (and are recorded in the sweep's scenario.yaml).
    repair: as `api.prepare`."""
    from smrplan.api import _resolve_scenario, prepare, run_screen, standalone_costs
    from smrplan.demand.load import HOURS_PER_YEAR, compute_demand, hourly_shape
    from smrplan.geo.distance import PointIndex
    from smrplan.geo.grid import route_split_km

    sc = _resolve_scenario(scenario, data_dir)
    updates = {k: v for k, v in (("draws", draws), ("seed", seed), ("batch_draws", batch_draws)) if v is not None}
    if updates:
        try:
            unc = sc.uncertainty.model_validate({**sc.uncertainty.model_dump(), **updates})
        except ValidationError as exc:
            raise InputError(sc.source, "uncertainty", "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
        sc = sc.model_copy(update={"uncertainty": unc})
    sampler = resolve_distributions(sc, resolve_catalogue(sc.technologies.enabled, sc.technologies.overrides,
                                                          sc.finance.base_year, sc.source))  # bad blocks fail fast
    cat, region, st = prepare(sc, lambda s: progress(s, None, None), repair=repair)
    progress("grid distances", None, None)
    standalone_costs(st, region, cat, sc)  # adds grid_land_km, grid_sea_km and is_island to st
    scr = run_screen(sc, region, cat, lambda s: progress(s, None, None))
    d = sc.demand
    years = sc.target_year - d.population_base_year
    unit = compute_demand(st, d.model_copy(update={"population_growth_per_year": 0.0}), sc.target_year)
    anchor = (np.nan_to_num(st["anchor_load_kw"].to_numpy(float)) * HOURS_PER_YEAR * d.anchor_load_factor
              if "anchor_load_kw" in st.columns else np.zeros(len(st)))
    floor = (np.nan_to_num(st["existing_demand_kwh"].to_numpy(float)) * (1.0 + d.consumption_growth_per_year) ** years
             if "existing_demand_kwh" in st.columns else np.zeros(len(st)))
    shape = hourly_shape(d.load_shape).reshape(365, 24)
    night_share = float(shape[:, list(range(0, 7)) + list(range(18, 24))].sum())  # as api.standalone_costs
    sites = scr.sites[scr.sites.suitable][["site_id", "kind", "lon", "lat"]].reset_index(drop=True)
    slon, slat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    reach: dict[str, ReactorReach] = {}
    for kind in KIND_OPTION:
        pos = np.flatnonzero(sites["kind"].to_numpy() == kind)
        if len(pos) == 0 or len(st) == 0:
            reach[kind] = ReactorReach(np.full(len(st), -1), np.zeros(len(st)), np.zeros(len(st)))
            continue
        dist, idx = PointIndex(sites["lon"].to_numpy()[pos], sites["lat"].to_numpy()[pos]).nearest(slon, slat, k=1)
        nearest = pos[idx[:, 0]]
        land, sea = route_split_km(region, sites["lon"].to_numpy()[nearest], sites["lat"].to_numpy()[nearest], slon, slat)
        ok = dist[:, 0] <= sc.optimisation.max_network_distance_km
        reach[kind] = ReactorReach(np.where(ok, nearest, -1), land, sea)
    table = pd.DataFrame({"id": st["id"].astype(str).to_numpy(), "name": st["name"].astype(str).to_numpy(),
                          "lon": slon, "lat": slat, "is_island": st["is_island"].to_numpy(bool)})
    return SweepModel(
        scenario=sc, catalogue=cat, sampler=sampler, reoptimise=reoptimise, settlements=table, sites=sites,
        households_unit=unit["households_target"].to_numpy(float), population=st["population"].to_numpy(float),
        anchor_kwh=anchor, floor_kwh=floor, grid_land_km=st["grid_land_km"].to_numpy(float),
        grid_sea_km=st["grid_sea_km"].to_numpy(float), night_share=night_share, reach=reach,
        region=region if reoptimise else None)


# ------------------------------------------------------------------------------------------------
# One draw
# ------------------------------------------------------------------------------------------------
@dataclass
class DrawInputs:
    """A draw's catalogue, money, demand (kWh/yr), peak (kW) and target-year population."""

    catalogue: Catalogue
    money: Money
    energy_kwh: np.ndarray
    peak_kw: np.ndarray
    population: np.ndarray


def draw_inputs(model: SweepModel, row: np.ndarray) -> DrawInputs:
    """Apply one row of input values (columns of model.sampler) to the base catalogue, finance and
    demand. Demand follows demand.compute_demand: energy = max(households x tier kWh x scale /
    (1 - non-residential share) + anchor kWh, grown measured kWh); peak = energy / 8760 / load factor."""
    sc = model.scenario
    values = dict(zip(model.sampler.columns, row.tolist(), strict=True))
    by_tech: dict[str, dict[str, float]] = {}
    for col, v in values.items():
        head, name = col.split(".", 1)
        if head not in ("finance", "demand"):
            by_tech.setdefault(head, {})[name] = v
    cat = dict(model.catalogue)
    for key, params in by_tech.items():
        tech = cat[key]
        new = dict(tech.parameters)
        for name, v in params.items():
            new[name] = replace(new[name], value=v)
        cat[key] = replace(tech, parameters=new)
    d = sc.demand
    growth = (1.0 + values.get("demand.population_growth_per_year", d.population_growth_per_year)) ** (
        sc.target_year - d.population_base_year)
    tier_kwh = d.tier_kwh_per_household_year[d.tier - 1] * values.get("demand.tier_kwh_scale", 1.0)
    energy = model.households_unit * growth * tier_kwh / (1.0 - d.non_residential_share) + model.anchor_kwh
    energy = np.maximum(energy, model.floor_kwh)
    money = Money(values.get("finance.discount_rate", sc.finance.discount_rate), sc.finance.horizon_years)
    return DrawInputs(cat, money, energy, energy / HOURS / d.load_factor, model.population * growth)


@dataclass
class OptionCosts:
    """Per settlement x option (ALL_OPTIONS order): annual cost (USD/yr, NaN where infeasible; the
    carbon price included for stand-alone options), capacity (kW) and CO2 (t/yr; 0 for reactors)."""

    annual_usd: np.ndarray
    capacity_kw: np.ndarray
    co2_t: np.ndarray


def option_costs(model: SweepModel, inp: DrawInputs) -> OptionCosts:
    """Every option's cost for every settlement (vectorised over settlements), with the formulas and
    feasibility rules of api.standalone_costs, api.own_reactor_costs and api.plan."""
    sc, cat, money = model.scenario, inp.catalogue, inp.money
    e, peak = inp.energy_kwh, inp.peak_kw
    island = model.settlements["is_island"].to_numpy(bool)
    enabled = set(sc.technologies.enabled)
    diesel, grid, cable = first_of(cat, "diesel"), first_of(cat, "grid_extension"), first_of(cat, "submarine_cable")
    n = len(e)
    annual = np.full((n, len(ALL_OPTIONS)), np.nan)
    capacity = np.full((n, len(ALL_OPTIONS)), np.nan)
    co2 = np.zeros((n, len(ALL_OPTIONS)))
    frames = {
        "diesel": (diesel_cost(e, peak, diesel, money, island),
                   "diesel_minigrid" in enabled or any(cat[t].option == "diesel" for t in enabled)),
        "pv_battery": (pv_battery_cost(e, peak, model.night_share, first_of(cat, "pv_battery"), diesel, money, island),
                       any(cat[t].option == "pv_battery" for t in enabled)),
    }
    g = grid_cost(e, peak, model.grid_land_km, model.grid_sea_km, grid, cable, money)
    frames["grid"] = (g, g["feasible"].to_numpy() & any(cat[t].option in ("grid_extension", "submarine_cable")
                                                        for t in enabled))
    carbon = sc.finance.carbon_price_usd_per_t
    for option, (f, feasible) in frames.items():
        j = ALL_OPTIONS.index(option)
        annual[:, j] = np.where(feasible, f["annual_cost_usd"].to_numpy() + carbon * f["co2_t"].to_numpy(), np.nan)
        capacity[:, j] = f["capacity_kw"].to_numpy()
        co2[:, j] = f["co2_t"].to_numpy()
    groups = by_option(cat, sc.technologies.enabled)
    for kind, option in KIND_OPTION.items():
        r = model.reach[kind]
        techs = groups[option]
        if not techs or (r.site_pos < 0).all():
            continue
        link = line_cost(r.land_km, r.sea_km, peak, grid, cable, money)["annual_cost_usd"].to_numpy()
        best, cap = np.full(n, np.inf), np.full(n, np.nan)
        for tech in techs:  # a handful of technologies, each vectorised over settlements
            plant = reactor_plant_cost(e, peak, tech, diesel, money, sc.optimisation.reserve_margin_fraction,
                                       sc.technologies.reactor_backup, island)
            a = np.where(plant["feasible"].to_numpy(), plant["annual_cost_usd"].to_numpy() + link, np.inf)
            better = a < best
            best = np.where(better, a, best)
            cap = np.where(better, plant["capacity_kw"].to_numpy(), cap)
        j = ALL_OPTIONS.index(option)
        ok = np.isfinite(best) & (r.site_pos >= 0)
        annual[:, j] = np.where(ok, best, np.nan)
        capacity[:, j] = np.where(ok, cap, np.nan)
    if np.isnan(annual[:, STANDALONE_COLUMNS]).all(axis=1).any():
        raise RuntimeError("a settlement has no feasible stand-alone option in a draw; enable diesel_minigrid")
    return OptionCosts(annual, capacity, co2)


@dataclass
class DrawOutcome:
    """What a draw decided: option index per settlement (ALL_OPTIONS order), its annual cost (USD/yr),
    the reactor capacity (MW) and the sites used (positions in model.sites)."""

    chosen: np.ndarray
    cost_usd: np.ndarray
    reactor_capacity_mw: float
    site_pos: np.ndarray


def choose(model: SweepModel, inp: DrawInputs, costs: OptionCosts) -> DrawOutcome:
    """Cost and choice: each settlement's least-cost option; its own plant's site when a reactor."""
    chosen = np.nanargmin(costs.annual_usd, axis=1)
    rows = np.arange(len(chosen))
    is_reactor = np.isin(chosen, REACTOR_COLUMNS)
    capacity_mw = float(costs.capacity_kw[rows, chosen][is_reactor].sum()) / 1000.0
    used = [model.reach[kind].site_pos[chosen == ALL_OPTIONS.index(option)] for kind, option in KIND_OPTION.items()]
    return DrawOutcome(chosen, costs.annual_usd[rows, chosen], capacity_mw, np.unique(np.concatenate(used)))


def reoptimise(model: SweepModel, inp: DrawInputs, costs: OptionCosts) -> DrawOutcome:
    """Solve the facility-location MILP for the draw and assemble the plan, as api.plan does."""
    from smrplan.optimize.assemble import assemble
    from smrplan.optimize.solve import solve_plan

    sc, cat = model.scenario, inp.catalogue
    st = model.settlements[["id", "lon", "lat", "is_island"]].copy()
    st["population_target"] = inp.population
    st["demand_kwh_per_year"] = inp.energy_kwh
    st["peak_kw"] = inp.peak_kw
    st["standalone_annual_cost_usd"] = np.nanmin(costs.annual_usd[:, STANDALONE_COLUMNS], axis=1)
    groups = by_option(cat, sc.technologies.enabled)
    techs_by_kind = {kind: groups[option] for kind, option in KIND_OPTION.items()}
    diesel = first_of(cat, "diesel")
    result = solve_plan(model.region, st, model.sites, techs_by_kind, diesel, first_of(cat, "grid_extension"),
                        first_of(cat, "submarine_cable"), inp.money, sc.optimisation, sc.demand.load_factor,
                        sc.finance.carbon_price_usd_per_t)
    annual = {o: costs.annual_usd[:, j] for j, o in enumerate(ALL_OPTIONS)}
    st2, built = assemble(st, result, annual, diesel["capex_usd_per_kw"], inp.money.discount_rate)
    chosen = pd.Index(ALL_OPTIONS).get_indexer(st2["chosen_option"])
    site_pos = pd.Index(model.sites["site_id"]).get_indexer([b["site_id"] for b in built])
    return DrawOutcome(chosen, st2["chosen_annual_cost_usd"].to_numpy(float),
                       float(sum(b["capacity_mw"] for b in built)), np.sort(site_pos))


@dataclass
class Evaluation:
    """Results of rows of input values: per-row metrics, and counts over the rows of each
    settlement's chosen option (settlements x options) and of each site being used."""

    metrics: pd.DataFrame
    option_counts: np.ndarray
    site_counts: np.ndarray


def evaluate(model: SweepModel, values: np.ndarray) -> Evaluation:
    """Evaluate rows of input values (draws, or the tornado's one-at-a-time rows). Each row is
    vectorised over settlements; rows run one after the other (the MILP, when re-optimising, is per row).

    Metrics per row: total annual cost (USD/yr), demand (MWh/yr), reactor share of demand, reactor
    capacity (MW), emissions (t CO2/yr), and per option the settlements choosing it and its demand share.
    """
    n_set, n_opt = len(model.settlements), len(ALL_OPTIONS)
    option_counts = np.zeros((n_set, n_opt), np.int64)
    site_counts = np.zeros(len(model.sites), np.int64)
    decide = reoptimise if model.reoptimise else choose
    records = []
    rows = np.arange(n_set)
    for row in values:
        inp = draw_inputs(model, row)
        costs = option_costs(model, inp)
        out = decide(model, inp, costs)
        option_counts[rows, out.chosen] += 1
        site_counts[out.site_pos] += 1
        e = inp.energy_kwh
        total_e = float(e.sum())
        share = np.bincount(out.chosen, weights=e, minlength=n_opt) / total_e if total_e > 0 else np.zeros(n_opt)
        standalone = np.isin(out.chosen, STANDALONE_COLUMNS)
        rec = {"total_annual_cost_usd": float(out.cost_usd.sum()), "demand_mwh_per_year": total_e / 1000.0,
               "reactor_share": float(share[REACTOR_COLUMNS].sum()), "reactor_capacity_mw": out.reactor_capacity_mw,
               "emissions_t_co2_per_year": float(costs.co2_t[rows, out.chosen][standalone].sum())}
        counts = np.bincount(out.chosen, minlength=n_opt)
        for j, option in enumerate(ALL_OPTIONS):
            rec[f"settlements_{option}"] = int(counts[j])
            rec[f"share_{option}"] = float(share[j])
        records.append(rec)
    return Evaluation(pd.DataFrame.from_records(records, columns=_metric_columns()), option_counts, site_counts)


def _metric_columns() -> list[str]:
    return [*METRICS, *(f"settlements_{o}" for o in ALL_OPTIONS), *(f"share_{o}" for o in ALL_OPTIONS)]


@dataclass
class BatchResult:
    """One batch of draws: per-draw inputs and metrics, and the batch's option and site counts."""

    batch_id: int | str
    draws: pd.DataFrame
    option_counts: np.ndarray
    site_counts: np.ndarray


def run_batch(model: SweepModel, batch_id: int, first: int, stop: int) -> BatchResult:
    """Draws first..stop-1 (the task a worker runs)."""
    ids = np.arange(first, stop)
    values = model.sampler.values(ids)
    ev = evaluate(model, values)
    inputs = pd.DataFrame(values, columns=model.sampler.columns)
    draws = pd.concat([pd.DataFrame({"draw": ids}), inputs, ev.metrics], axis=1)
    return BatchResult(batch_id, draws, ev.option_counts, ev.site_counts)


def run_tornado(model: SweepModel) -> BatchResult:
    """One-at-a-time rows (base, then each distribution at its low and at its high)."""
    values = model.sampler.one_at_a_time()
    ev = evaluate(model, values)
    frame = pd.concat([pd.DataFrame(values, columns=model.sampler.columns), ev.metrics], axis=1)
    return BatchResult(TORNADO_ID, frame, ev.option_counts, ev.site_counts)


# ------------------------------------------------------------------------------------------------
# The sweep: batches on dask.distributed, streamed to part files, resumable
# ------------------------------------------------------------------------------------------------
def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _write_parquet(path: Path, df: pd.DataFrame) -> None:
    _atomic_write(path, lambda p: df.to_parquet(p, index=False))


def _part_names(batch_id: int | str) -> tuple[str, str, str]:
    tag = batch_id if isinstance(batch_id, str) else f"{batch_id:06d}"
    return f"draws-{tag}.parquet", f"options-{tag}.parquet", f"sites-{tag}.parquet"


def _open_sweep_dir(model: SweepModel, out: Path) -> set[int | str]:
    """Create the sweep directory or check that it holds the same sweep; return finished batch ids."""
    manifest = {"fingerprint": model.fingerprint, "scenario": model.scenario.name, "draws": model.draws,
                "seed": model.scenario.uncertainty.seed, "batch_draws": model.scenario.uncertainty.batch_draws,
                "batches": len(model.batches()), "reoptimise": model.reoptimise, "smrplan": __version__}
    mpath = out / "manifest.json"
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(mpath, None, f"unreadable sweep manifest ({exc}); choose another --out") from None
        if old.get("fingerprint") != model.fingerprint:
            raise InputError(out, "--out", "holds a different sweep (scenario, catalogue, draws, seed, batch size or "
                                           "--reoptimise differ); choose another directory")
    elif out.exists() and any(out.iterdir()):
        raise InputError(out, "--out", "exists and is not a sweep directory; choose another directory")
    (out / "parts").mkdir(parents=True, exist_ok=True)
    if not mpath.exists():
        from smrplan.api import scenario_yaml

        _write_text(out / "scenario.yaml", scenario_yaml(model.scenario))
        _write_text(mpath, json.dumps(manifest, indent=2) + "\n")
    done: set[int | str] = set()
    done_file = out / "done.txt"
    if done_file.exists():
        text = done_file.read_text(encoding="utf-8")
        complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]  # drop a torn last line
        for line in complete.split():
            bid: int | str = line if line == TORNADO_ID else int(line)
            if all((out / "parts" / name).exists() for name in _part_names(bid)):
                done.add(bid)
    return done


def _save_part(out: Path, res: BatchResult) -> None:
    """Write a batch's part files (each to a temporary name, then renamed), then record it as done."""
    d_name, o_name, s_name = _part_names(res.batch_id)
    parts = out / "parts"
    _write_parquet(parts / d_name, res.draws)
    _write_parquet(parts / o_name, pd.DataFrame(res.option_counts, columns=list(ALL_OPTIONS)))
    _write_parquet(parts / s_name, pd.DataFrame({"count": res.site_counts}))
    with open(out / "done.txt", "a", encoding="utf-8") as f:
        f.write(f"{res.batch_id}\n")
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def open_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client | None]:
    """A dask.distributed Client for the sweep: a LocalCluster of `workers` single-threaded worker
    processes (default: CPU count), or the running cluster at `scheduler` (its workers need smrplan
    installed); None when workers is 0 (every batch runs in this process). The workers start
    importing smrplan at once, so that they are ready when the client has built the model."""
    if scheduler is not None and workers is not None:
        raise InputError(None, "--scheduler", "give either --workers (a local cluster) or --scheduler, not both")
    if scheduler is None and workers == 0:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            # held until the sweep ends (a released future is cancelled)
            _warm = [client.submit(importlib.import_module, __name__, workers=[w], allow_other_workers=False,
                                   pure=False) for w in client.scheduler_info()["workers"]]
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _execute(model: SweepModel, todo: list[tuple[int | str, int, int]], client: Client | None,
             on_result: Callable[[BatchResult], None]) -> None:
    """Run the batches (and the tornado, id TORNADO_ID) in this process (client None) or on the
    client's cluster (the model scattered once to every worker); hand each result to on_result as
    it finishes."""
    if client is None:
        for bid, first, stop in todo:
            on_result(_task(model, bid, first, stop))
        return
    from dask.distributed import as_completed

    shipped = client.scatter(model, broadcast=True, hash=False)
    futures = [client.submit(_task, shipped, bid, first, stop, pure=False) for bid, first, stop in todo]
    for fut in as_completed(futures):
        on_result(fut.result())
        fut.release()


def _task(model: SweepModel, bid: int | str, first: int, stop: int) -> BatchResult:
    return run_tornado(model) if bid == TORNADO_ID else run_batch(model, bid, first, stop)


def _distribution_value(d: Distribution, values: np.ndarray) -> float | dict[str, float]:
    """A distribution's value in a row: a number, or {column: value} for a `reactors.` group."""
    if len(d.columns) == 1:
        return float(values[0])
    return {c: float(v) for c, v in zip(d.columns, values, strict=True)}


def tornado_entries(model: SweepModel, frame: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """Tornado entries (largest total-cost swing first) and its long table (one row per input column)."""
    entries, rows = [], []
    for p, d in enumerate(model.sampler.distributions):
        cols = list(d.columns)
        lo, hi = frame.iloc[1 + 2 * p], frame.iloc[2 + 2 * p]
        entry = {"parameter": d.target, "distribution": d.kind,
                 "low_value": _distribution_value(d, d.low), "high_value": _distribution_value(d, d.high),
                 "low_total_usd": float(lo["total_annual_cost_usd"]), "high_total_usd": float(hi["total_annual_cost_usd"]),
                 "low_reactor_share": float(lo["reactor_share"]), "high_reactor_share": float(hi["reactor_share"]),
                 "swing_usd": abs(float(hi["total_annual_cost_usd"]) - float(lo["total_annual_cost_usd"]))}
        entries.append(entry)
        for j, col in enumerate(cols):
            rows.append({"parameter": d.target, "column": col, "low_value": float(d.low[j]),
                         "base_value": float(d.base[j]), "high_value": float(d.high[j]),
                         **{k: entry[k] for k in ("low_total_usd", "high_total_usd", "low_reactor_share",
                                                  "high_reactor_share", "swing_usd")}})
    order = sorted(range(len(entries)), key=lambda i: -entries[i]["swing_usd"])
    entries = [entries[i] for i in order]
    rank = {e["parameter"]: r for r, e in enumerate(entries)}
    table = pd.DataFrame(rows, columns=["parameter", "column", "low_value", "base_value", "high_value",
                                        "low_total_usd", "high_total_usd", "low_reactor_share", "high_reactor_share",
                                        "swing_usd"])
    table = table.iloc[np.argsort([rank[p] for p in table["parameter"]], kind="stable")].reset_index(drop=True)
    return entries, table


def _stats(x: np.ndarray) -> dict[str, float]:
    q = np.percentile(x, PERCENTILES)
    return {**{f"p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)}, "mean": float(np.mean(x))}


def _finalise(model: SweepModel, out: Path, run_info: dict) -> dict:
    """Combine the part files (sorted by draw index) into the sweep's tables and sweep.json."""
    parts = out / "parts"
    batches = model.batches()
    draws = pd.concat([pd.read_parquet(parts / _part_names(b)[0]) for b, _, _ in batches], ignore_index=True)
    draws = draws.sort_values("draw", kind="stable").reset_index(drop=True)
    option_counts = sum(pd.read_parquet(parts / _part_names(b)[1]).to_numpy(np.int64) for b, _, _ in batches)
    site_counts = sum(pd.read_parquet(parts / _part_names(b)[2])["count"].to_numpy(np.int64) for b, _, _ in batches)
    n = len(draws)
    prob = option_counts / n
    st = model.settlements[["id", "name", "lon", "lat"]].copy()
    for j, option in enumerate(ALL_OPTIONS):
        st[f"p_{option}"] = prob[:, j]
    st["p_reactor"] = prob[:, REACTOR_COLUMNS].sum(axis=1)
    st["most_likely_option"] = np.array(ALL_OPTIONS)[np.argmax(option_counts, axis=1)]
    sites = model.sites.copy()
    sites["p_built" if model.reoptimise else "p_least_cost"] = site_counts / n
    tornado_frame = pd.read_parquet(parts / _part_names(TORNADO_ID)[0])
    tornado, tornado_table = tornado_entries(model, tornado_frame)
    base = tornado_frame.iloc[0]
    unc = model.scenario.uncertainty
    summary = {
        "scenario": model.scenario.name, "source": model.scenario.source, "target_year": model.scenario.target_year,
        "draws": n, "seed": unc.seed, "batch_draws": unc.batch_draws, "reoptimise": model.reoptimise,
        "mode": "MILP per draw (optimize.solve_plan)" if model.reoptimise else
                "cost and choice: each settlement's least-cost option, own plant for reactors",
        "settlements": int(len(st)), "suitable_sites": int(len(sites)),
        "currency": f"USD {model.scenario.finance.base_year}",
        "distributions": [d.record() for d in model.sampler.distributions],
        "correlations": [g.model_dump() for g in unc.correlations],
        "base": {k: float(base[k]) for k in SUMMARY_METRICS},
        "percentiles": {k: _stats(draws[k].to_numpy(float)) for k in SUMMARY_METRICS},
        "options": {o: {"probability_chosen": float((draws[f"settlements_{o}"] > 0).mean()),
                        "mean_settlements": float(draws[f"settlements_{o}"].mean()),
                        "mean_demand_share": float(draws[f"share_{o}"].mean())} for o in ALL_OPTIONS},
        "probability_reactor_least_cost_anywhere": float((draws["reactor_share"] > 0).mean()),
        "tornado": tornado,
        "files": {"draws": "draws.parquet", "settlement_options": "settlement_options.parquet",
                  "sites": "sites.parquet", "tornado": "tornado.parquet"},
        "fingerprint": model.fingerprint, "smrplan": __version__,
        **run_info,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "volatile_fields": list(VOLATILE_FIELDS),
    }
    _write_parquet(out / "draws.parquet", draws)
    _write_parquet(out / "settlement_options.parquet", st)
    _write_parquet(out / "sites.parquet", sites)
    _write_parquet(out / "tornado.parquet", tornado_table)
    _write_text(out / "sweep.json", json.dumps(summary, indent=2) + "\n")
    return summary


def run_sweep(model: SweepModel, out: str | Path, client: Client | None = None,
              progress: Progress = lambda s, d, t: None) -> dict:
    """Run (or resume) the model's sweep into directory `out` and return the sweep.json content.

    client: a dask Client (see open_client) or None to run in this process; results do not depend
    on it. Batches already recorded in out/done.txt with their part files are not run again.
    """
    out = Path(out)
    done = _open_sweep_dir(model, out)
    todo: list[tuple[int | str, int, int]] = [b for b in model.batches() if b[0] not in done]
    if TORNADO_ID not in done:
        todo.insert(0, (TORNADO_ID, 0, 0))
    finished = [sum(stop - first for b, first, stop in model.batches() if b in done)]
    resumed = finished[0]
    progress("draws", finished[0], model.draws)
    t0 = time.perf_counter()

    def on_result(res: BatchResult) -> None:
        _save_part(out, res)
        if res.batch_id != TORNADO_ID:
            finished[0] += len(res.draws)
            progress("draws", finished[0], model.draws)

    if todo:
        _execute(model, todo, client, on_result)
    elapsed = time.perf_counter() - t0
    ran = finished[0] - resumed
    progress("summary", None, None)
    info = {"workers": len(client.scheduler_info()["workers"]) if client is not None else 0,
            "scheduler": client.scheduler.address if client is not None else None,
            "elapsed_s": round(elapsed, 3), "draws_per_second": round(ran / elapsed, 2) if ran and elapsed > 0 else None,
            "resumed_draws": resumed}
    return _finalise(model, out, info)


def sweep(scenario: str | Path | Scenario, out: str | Path, data_dir: str | Path | None = None, *,
          draws: int | None = None, seed: int | None = None, batch_draws: int | None = None,
          reoptimise: bool = False, workers: int | None = None, scheduler: str | None = None,
          progress: Progress = lambda s, d, t: None) -> dict:
    """Build the model and run (or resume) the sweep on local workers or a scheduler; the cluster
    starts first so that its workers load while the model is built. Returns the sweep.json content."""
    with open_client(workers, scheduler) as client:
        model = build_model(scenario, data_dir, draws=draws, seed=seed, batch_draws=batch_draws,
                            reoptimise=reoptimise, progress=progress)
        return run_sweep(model, out, client, progress)
