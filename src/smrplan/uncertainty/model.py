"""The draw-independent model of the Monte Carlo sweep and the tornado, and what one row of input
values decides.

A `SweepModel` is built from the plan's inputs stage and cost basis (`build_model`): region, demand,
routes to the grid, the site screen and the reach to suitable sites are computed once, by the same
pipeline stages as the plan, never again from the scenario. The screen uses base-case population, so
population growth draws change demand and costs, not which sites pass.

Per row of input values (`evaluate`):

* the drawn catalogue values, discount rate and demand settings are applied (`draw_inputs`); demand
  follows demand.load.settlement_demand with the drawn growth rate and tier scale;
* every option is costed by the cost engine (costs.engine.option_costs), exactly as the plan does,
  region rules included;
* without re-optimising (the default) each settlement takes its least-cost option, a reactor option
  being its own plant at its nearest suitable site; reactor capacity is the sum of those
  single-settlement plants, an upper bound for the capacity of shared plants;
* with `reoptimise`, the plan's MILP is solved and assembled by optimize.assemble.optimise, as the
  plan is; sites record whether they were built.

Emissions count the CO2 of the stand-alone options chosen (diesel, the hybrid's diesel, grid), like
plan.json; the diesel back-up of reactor plants during refuelling is not counted.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from pydantic import ValidationError

from smrplan.catalogue.catalogue import Catalogue, to_records
from smrplan.costs.economics import Money
from smrplan.costs.engine import REACTOR_COLUMNS, STANDALONE_COLUMNS, CostBasis, OptionCosts, option_costs
from smrplan.demand.load import DemandBasis, demand_basis, settlement_demand
from smrplan.errors import InputError
from smrplan.geo.layers import Region
from smrplan.optimize.assemble import optimise
from smrplan.options import ALL_OPTIONS, REACTOR_OPTIONS
from smrplan.partition import on_threads, partitioner_for
from smrplan.results import Inputs
from smrplan.scenario import Scenario
from smrplan.uncertainty.sampling import Sampler, resolve_distributions
from smrplan.version import __version__

METRICS = ("total_annual_cost_usd", "demand_mwh_per_year", "reactor_share", "reactor_capacity_mw",
           "emissions_t_co2_per_year")
TORNADO_ID = "tornado"
# Settlement columns that group settlements into regions, coarsest first: the first with more than one
# group is the grouping (islands: territory; national: state, `st_nm` of the district boundaries).
REGION_COLUMNS = ("territory", "state", "st_nm", "state_name", "district")
REGION_PREFIX = "reactor_in:"  # draws.parquet column per region: 1 when a reactor serves a settlement there
ALL_REGION = "all settlements"  # the one region when no column has more than one group


@dataclass(frozen=True)
class Regions:
    """The settlements grouped into regions (see `region_groups`).

    Attributes
    ----------
    column : str or None
        The grouping column (None: one region of all settlements).
    names : list of str
        Region names, sorted.
    codes : numpy.ndarray
        Per settlement, the index of its region in `names`.
    """

    column: str | None
    names: list[str]
    codes: np.ndarray

    @property
    def draw_columns(self) -> list[str]:
        """draws.parquet columns of the regions (REGION_PREFIX + name)."""
        return [REGION_PREFIX + n for n in self.names]


def region_groups(settlements: pd.DataFrame) -> Regions:
    """The regions of a set of settlements: the coarsest of REGION_COLUMNS present with more than one
    group (blank names count as one group, "unknown"); one region, ALL_REGION, when none has.

    Parameters
    ----------
    settlements : pandas.DataFrame
        The settlements (any of REGION_COLUMNS).

    Returns
    -------
    Regions
    """
    for col in REGION_COLUMNS:
        if col in settlements.columns:
            codes, distinct = pd.factorize(settlements[col], use_na_sentinel=False)  # hashed once, then per name
            cleaned = pd.Series(distinct, dtype=object).fillna("").astype(str).str.strip().replace("", "unknown")
            names, of_distinct = np.unique(cleaned.to_numpy(), return_inverse=True)
            if len(names) > 1:
                return Regions(col, [str(n) for n in names], of_distinct.astype(np.int64)[codes])
    return Regions(None, [ALL_REGION], np.zeros(len(settlements), np.int64))


@dataclass(frozen=True)
class SweepModel:
    """Everything a row of input values needs that does not depend on it, computed once and shipped
    to the workers.

    Attributes
    ----------
    scenario, catalogue : Scenario, Catalogue
        As resolved by the inputs stage (uncertainty block as run).
    sampler : Sampler
        The uncertain inputs.
    reoptimise : bool
        Solve the MILP per row (else each settlement's least-cost option).
    settlements : pandas.DataFrame
        The inputs stage's settlements (without geometry).
    demand : DemandBasis
        What demand depends on apart from the demand settings.
    basis : CostBasis
        The cost engine's basis (reach, island flags, grid routes, region rules).
    region : Region, optional
        Only when re-optimising (network and cable routes).
    """

    scenario: Scenario
    catalogue: Catalogue
    sampler: Sampler
    reoptimise: bool
    settlements: pd.DataFrame
    demand: DemandBasis
    basis: CostBasis
    region: Region | None = None

    @property
    def draws(self) -> int:
        return self.scenario.uncertainty.draws

    @property
    def sites(self) -> pd.DataFrame:
        """The suitable sites (positions used by `DrawOutcome.site_pos`)."""
        return self.basis.reach.sites

    @cached_property
    def regions(self) -> Regions:
        """The settlements' regions (`region_groups`)."""
        return region_groups(self.settlements)

    @cached_property
    def parts(self) -> list[np.ndarray]:
        """Positions of the parts of the settlements a row's least-cost choices are made by, one part's
        costs held at a time: the scenario's partitions (`scale`), cut the same way with or without a
        cluster so that the figures never depend on where they ran."""
        n, scale = len(self.settlements), self.scenario.scale
        return partitioner_for(n, scale.partition_above_settlements, scale.partition_settlements).parts(n)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what determines the results: the resolved scenario (uncertainty block included), the
        catalogue, the mode, the smrplan version and the precomputed data (so that a change of data or
        code that alters the screen or the distances is caught). A resumed sweep must match it."""
        payload = {"scenario": self.scenario.to_dict(), "catalogue": to_records(self.catalogue),
                   "reoptimise": self.reoptimise, "version": __version__, "night_share": self.basis.night_share}
        h = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
        for df in (self.settlements[["id", "lon", "lat"]], self.sites[["site_id", "kind", "lon", "lat"]]):
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        b, d = self.basis, self.demand
        arrays = [d.population, d.urban_share, d.households, d.anchor_load_kw, d.existing_demand_kwh, b.is_island,
                  b.fuel_surcharge, b.grid_land_km, b.grid_sea_km, b.allowed,
                  *(a for r in b.reach.by_kind.values() for a in (r.site_pos, r.land_km, r.sea_km))]
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def batches(self) -> list[tuple[int, int, int]]:
        """(batch id, first draw, stop draw) for every batch of `batch_draws` draws."""
        bd = self.scenario.uncertainty.batch_draws
        return [(b, s, min(s + bd, self.draws)) for b, s in enumerate(range(0, self.draws, bd))]


def with_uncertainty(scenario: Scenario, *, draws: int | None = None, seed: int | None = None,
                     batch_draws: int | None = None) -> Scenario:
    """The scenario with `draws`, `seed` and `batch_draws` replaced where given (validated: errors name
    the scenario file and `uncertainty`).

    Parameters
    ----------
    scenario : Scenario
        The scenario; not modified.
    draws : int or None, default None
        Number of Monte Carlo draws.
    seed : int or None, default None
        Seed of the sampler.
    batch_draws : int or None, default None
        Draws per batch (the task of one worker).

    Returns
    -------
    Scenario
        A copy with the given values (the scenario itself when none is given).

    Raises
    ------
    InputError
        When a value breaks the uncertainty block's schema.
    """
    updates = {k: v for k, v in (("draws", draws), ("seed", seed), ("batch_draws", batch_draws)) if v is not None}
    if not updates:
        return scenario
    try:
        unc = scenario.uncertainty.model_validate({**scenario.uncertainty.model_dump(), **updates})
    except ValidationError as exc:
        raise InputError(scenario.source, "uncertainty",
                         "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    return scenario.model_copy(update={"uncertainty": unc})


def build_model(inputs: Inputs, basis: CostBasis, *, scenario: Scenario | None = None,
                reoptimise: bool = False) -> SweepModel:
    """The sweep model of a plan's inputs stage and cost basis.

    Parameters
    ----------
    inputs : Inputs
        The inputs stage (settlements with demand, catalogue, region).
    basis : CostBasis
        The cost basis of the same settlements (pipeline.cost_basis_of).
    scenario : Scenario, optional
        The scenario whose uncertainty block is run (default: the inputs' scenario); only its
        uncertainty block may differ from the inputs' scenario.
    reoptimise : bool
        Solve the MILP per row.

    Returns
    -------
    SweepModel

    Raises
    ------
    InputError
        For a bad uncertainty block (see uncertainty.sampling.resolve_distributions).
    """
    sc = scenario if scenario is not None else inputs.scenario
    sampler = resolve_distributions(sc, inputs.catalogue)
    st = pd.DataFrame(inputs.settlements.drop(columns="geometry"))
    return SweepModel(scenario=sc, catalogue=inputs.catalogue, sampler=sampler, reoptimise=reoptimise, settlements=st,
                      demand=demand_basis(st), basis=basis, region=inputs.region if reoptimise else None)


# ------------------------------------------------------------------------------------------------
# One row of input values
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrawInputs:
    """A row's catalogue, money, carbon price, demand (kWh/yr), peak (kW) and target-year population."""

    catalogue: Catalogue
    money: Money
    carbon_price_usd_per_t: float
    energy_kwh: np.ndarray
    peak_kw: np.ndarray
    population: np.ndarray


def draw_inputs(model: SweepModel, row: np.ndarray, year: int | None = None) -> DrawInputs:
    """Apply one row of input values to the base catalogue, finance and demand settings.

    Parameters
    ----------
    model : SweepModel
        The sweep model.
    row : numpy.ndarray
        Input values, in the columns of model.sampler (their catalogue or scenario units).
    year : int, optional
        Year of the demand (default the scenario's target year; a roadmap's period years).

    Returns
    -------
    DrawInputs
    """
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
    scale = values.get("demand.tier_kwh_scale", 1.0)
    drawn = d.model_copy(update={
        "population_growth_per_year": values.get("demand.population_growth_per_year", d.population_growth_per_year),
        "tier_kwh_per_household_year": [v * scale for v in d.tier_kwh_per_household_year]})
    dem = settlement_demand(model.demand, drawn, sc.target_year if year is None else year)
    money = Money(values.get("finance.discount_rate", sc.finance.discount_rate), sc.finance.horizon_years)
    return DrawInputs(cat, money, sc.finance.carbon_price_usd_per_t, dem["demand_kwh_per_year"], dem["peak_kw"],
                      dem["population_target"])


def costs_of(model: SweepModel, inp: DrawInputs, rows: np.ndarray | None = None) -> OptionCosts:
    """Every option's cost for every settlement in a row, or for the settlements at positions `rows`
    (the cost engine).

    Parameters
    ----------
    model : SweepModel
        The sweep model (its cost basis).
    inp : DrawInputs
        The row's catalogue, money, carbon price (USD/t CO2), demand (kWh/yr) and peak (kW).
    rows : numpy.ndarray, optional
        Positions of the settlements to cost (default all).

    Returns
    -------
    OptionCosts
        In the order of `rows`.
    """
    if rows is None:
        return option_costs(model.basis, inp.catalogue, inp.money, inp.carbon_price_usd_per_t, inp.energy_kwh,
                            inp.peak_kw)
    return option_costs(model.basis.take(rows), inp.catalogue, inp.money, inp.carbon_price_usd_per_t,
                        inp.energy_kwh[rows], inp.peak_kw[rows])


@dataclass(frozen=True)
class DrawOutcome:
    """What a row decided: option index per settlement (ALL_OPTIONS order), its annual cost (USD/yr) and
    CO2 (t/yr) at that option, the reactor capacity (MW) and the sites used (positions in model.sites)."""

    chosen: np.ndarray
    cost_usd: np.ndarray
    co2_t: np.ndarray
    reactor_capacity_mw: float
    site_pos: np.ndarray

    @staticmethod
    def joined(parts: list[DrawOutcome]) -> DrawOutcome:
        """The outcomes of consecutive parts of the settlements as one, in their order."""
        if len(parts) == 1:
            return parts[0]
        return DrawOutcome(np.concatenate([p.chosen for p in parts]), np.concatenate([p.cost_usd for p in parts]),
                           np.concatenate([p.co2_t for p in parts]), sum(p.reactor_capacity_mw for p in parts),
                           np.unique(np.concatenate([p.site_pos for p in parts])))


def decide(model: SweepModel, inp: DrawInputs) -> DrawOutcome:
    """A row's outcome: the plan re-optimised (`reoptimise`) on every settlement's costs, or each
    settlement's least-cost option (`choose`) part after part (`SweepModel.parts`), so that one part's
    costs are held at a time.

    Parameters
    ----------
    model : SweepModel
        The sweep model.
    inp : DrawInputs
        The row's inputs.

    Returns
    -------
    DrawOutcome
    """
    if model.reoptimise:
        return reoptimise(model, inp, costs_of(model, inp))
    return DrawOutcome.joined([choose(model, inp, costs_of(model, inp, rows)) for rows in model.parts])


def choose(model: SweepModel, inp: DrawInputs, costs: OptionCosts) -> DrawOutcome:
    """Each settlement's least-cost option on its own; its own plant's site when a reactor.

    Parameters
    ----------
    model : SweepModel
        The sweep model (unused: the costs already hold the row).
    inp : DrawInputs
        The row's inputs (unused; `choose` and `reoptimise` share one signature).
    costs : OptionCosts
        Every option's annual cost (USD/yr), capacity (kW) and site per settlement for the row.

    Returns
    -------
    DrawOutcome
        Option index, annual cost (USD/yr) and CO2 (t/yr) per settlement, reactor capacity (MW, the sum
        of the single-settlement plants) and the sites used.
    """
    chosen, cost = costs.least_cost()
    rows = np.arange(len(chosen))
    is_reactor = np.isin(chosen, REACTOR_COLUMNS)
    capacity_mw = float(costs.capacity_kw[rows, chosen][is_reactor].sum()) / 1000.0
    used = [costs.site_pos[chosen == ALL_OPTIONS.index(o), q] for q, o in enumerate(REACTOR_OPTIONS)]
    return DrawOutcome(chosen, cost, costs.co2_t[rows, chosen], capacity_mw, np.unique(np.concatenate(used)).astype(int))


def reoptimise(model: SweepModel, inp: DrawInputs, costs: OptionCosts) -> DrawOutcome:
    """Solve and assemble the plan for the row (optimize.assemble.optimise, as the plan does).

    Parameters
    ----------
    model : SweepModel
        The sweep model, built with ``reoptimise=True`` (it holds the region).
    inp : DrawInputs
        The row's catalogue, money, carbon price (USD/t CO2), demand (kWh/yr), peak (kW) and population
        (persons).
    costs : OptionCosts
        Every option's cost per settlement for the row.

    Returns
    -------
    DrawOutcome
        Option index, annual cost (USD/yr) and CO2 (t/yr) per settlement, capacity of the built plants
        (MW) and their sites.
    """
    sc = model.scenario
    assert model.region is not None, "the region is kept when re-optimising"
    st = model.settlements.copy()
    st["population_target"], st["demand_kwh_per_year"], st["peak_kw"] = inp.population, inp.energy_kwh, inp.peak_kw
    out = optimise(model.region, st, model.sites, model.basis, costs, inp.catalogue, inp.money, sc.optimisation,
                   sc.demand.load_factor, inp.carbon_price_usd_per_t)
    chosen = pd.Index(ALL_OPTIONS).get_indexer(pd.Index(out.settlements["chosen_option"]))
    site_pos = pd.Index(model.sites["site_id"]).get_indexer([b["site_id"] for b in out.built])
    return DrawOutcome(chosen, out.settlements["chosen_annual_cost_usd"].to_numpy(float),
                       costs.co2_t[np.arange(len(chosen)), chosen], float(sum(b["capacity_mw"] for b in out.built)),
                       np.sort(site_pos))


@dataclass(frozen=True)
class Evaluation:
    """Results of rows of input values: per-row metrics, and counts over the rows of each
    settlement's chosen option (settlements x options) and of each site being used."""

    metrics: pd.DataFrame
    option_counts: np.ndarray
    site_counts: np.ndarray


def metric_columns(regions: Regions) -> list[str]:
    """Columns of `Evaluation.metrics`: METRICS, settlements and demand share per option, and per region
    whether a reactor serves a settlement there (0 or 1)."""
    return [*METRICS, *(f"settlements_{o}" for o in ALL_OPTIONS), *(f"share_{o}" for o in ALL_OPTIONS),
            *regions.draw_columns]


def evaluate(model: SweepModel, values: np.ndarray) -> Evaluation:
    """Evaluate rows of input values (draws, or the tornado's one-at-a-time rows). Each row is
    vectorised over settlements. Without re-optimising, rows run side by side on the process's threads
    (`smrplan.partition.on_threads`: one per thread, each adding its counts under a lock, so the sums
    do not depend on the order rows finish in); re-optimising, one after the other (the MILP is per row
    and the solver has its own threads).

    Memory: without re-optimising, one part's costs per row in work at a time (`decide`).

    Metrics per row: total annual cost (USD/yr), demand (MWh/yr), reactor share of demand, reactor
    capacity (MW), emissions (t CO2/yr), per option the settlements choosing it and its demand share,
    and per region (model.regions) 1 when a reactor serves at least one of its settlements, else 0.
    """
    n_set, n_opt = len(model.settlements), len(ALL_OPTIONS)
    option_counts = np.zeros((n_set, n_opt), np.int64)
    site_counts = np.zeros(len(model.sites), np.int64)
    rows = np.arange(n_set)
    regions = model.regions
    adding = threading.Lock()

    def record(row: np.ndarray) -> dict:
        inp = draw_inputs(model, row)
        out = decide(model, inp)
        with adding:
            option_counts[rows, out.chosen] += 1
            site_counts[out.site_pos] += 1
        e = inp.energy_kwh
        total_e = float(e.sum())
        share = np.bincount(out.chosen, weights=e, minlength=n_opt) / total_e if total_e > 0 else np.zeros(n_opt)
        standalone = np.isin(out.chosen, STANDALONE_COLUMNS)
        rec = {"total_annual_cost_usd": float(out.cost_usd.sum()), "demand_mwh_per_year": total_e / 1000.0,
               "reactor_share": float(share[REACTOR_COLUMNS].sum()), "reactor_capacity_mw": out.reactor_capacity_mw,
               "emissions_t_co2_per_year": float(out.co2_t[standalone].sum())}
        counts = np.bincount(out.chosen, minlength=n_opt)
        for j, option in enumerate(ALL_OPTIONS):
            rec[f"settlements_{option}"] = int(counts[j])
            rec[f"share_{option}"] = float(share[j])
        served = np.bincount(regions.codes[np.isin(out.chosen, REACTOR_COLUMNS)], minlength=len(regions.names)) > 0
        rec.update(zip(regions.draw_columns, served.astype(int).tolist(), strict=True))
        return rec

    records = [record(row) for row in values] if model.reoptimise else on_threads(record, values)
    return Evaluation(pd.DataFrame.from_records(records, columns=metric_columns(regions)), option_counts, site_counts)


@dataclass(frozen=True)
class BatchResult:
    """One batch of rows: per-row inputs and metrics, and the batch's option and site counts."""

    batch_id: int | str
    draws: pd.DataFrame
    option_counts: np.ndarray
    site_counts: np.ndarray


def run_batch(model: SweepModel, batch_id: int, first: int, stop: int) -> BatchResult:
    """Draws first..stop-1 (the task a worker runs).

    Parameters
    ----------
    model : SweepModel
        The sweep model.
    batch_id : int
        The batch's number.
    first, stop : int
        First draw and the draw after the last.

    Returns
    -------
    BatchResult
        Per draw: its number, the drawn inputs (in their catalogue or scenario units) and the metrics of
        `evaluate` (USD/yr, MWh/yr, MW, t CO2/yr, fractions); counts of each settlement's option and of
        each site's use over the batch.
    """
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
