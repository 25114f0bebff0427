"""Monte Carlo on the roadmap: the probability that each site is started, and in service, by each period.

Each draw takes the scenario's uncertain inputs (uncertainty.sampling, the same draws as `smrplan
sweep`), applies them with `model.draw_inputs` to demand at every period's first year, costs every
period's options with the cost engine (`model.costs_of`, the bridging supply) and plans the roadmap
exactly as the deterministic one is planned (`optimize.roadmap.roadmap_model` on the single-year model
at the last period's demand, solved by the scenario's `roadmap.method`). Draws run in batches of
`uncertainty.batch_draws`, in this process or on dask.distributed (`sweep.execute_batches`).

A site is started by period t when a plant at it is decided in t or earlier, and in service by t when
that plant's first power precedes t's start (`RoadmapProblem.serves`); both are cumulative, so each
site's probabilities never fall from one period to the next. With zero-width ranges every draw is the
deterministic roadmap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smrplan.optimize.roadmap import period_demand, plan_by_method, roadmap_model
from smrplan.uncertainty.model import SweepModel, costs_of, draw_inputs
from smrplan.uncertainty.sweep import PERCENTILES, execute_batches

if TYPE_CHECKING:
    from dask.distributed import Client

@dataclass(frozen=True)
class RoadmapBatch:
    """Draws first..stop-1 of a roadmap Monte Carlo: per draw its inputs, present worth (USD) and
    plants; counts over the batch of each suitable site started and in service by each period
    (sites x periods)."""

    batch_id: int
    draws: pd.DataFrame
    started: np.ndarray
    in_service: np.ndarray


def roadmap_of_row(model: SweepModel, row: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The roadmap of one row of input values.

    Parameters
    ----------
    model : SweepModel
        The sweep model of a roadmap (its scenario's target year the last period's, its region kept).
    row : numpy.ndarray
        Input values, in the columns of model.sampler.

    Returns
    -------
    started, in_service : numpy.ndarray
        Suitable site (model.sites order) started / in service by each period (bool, sites x periods).
    present_worth_usd : float
        The roadmap's present worth (USD, to the first period's year).
    """
    sc = model.scenario
    rm, opt = sc.roadmap, sc.optimisation
    assert model.region is not None, "a roadmap Monte Carlo keeps the region"
    years = rm.years
    drawn = [draw_inputs(model, row, y) for y in years]  # demand of every period's first year
    costs = [costs_of(model, d) for d in drawn]
    last = drawn[-1]
    demand = period_demand(years, [d.energy_kwh for d in drawn], [d.peak_kw for d in drawn], costs, model.settlements,
                           last.catalogue, last.money)
    st = model.settlements.assign(population_target=last.population, demand_kwh_per_year=last.energy_kwh,
                                  peak_kw=last.peak_kw, standalone_annual_cost_usd=costs[-1].standalone_annual_usd)
    rp, inst, cand = roadmap_model(model.region, st, model.sites, model.basis.enabled, model.basis.allowed,
                                   last.catalogue, last.money, opt, sc.demand.load_factor, last.carbon_price_usd_per_t,
                                   demand, rm)
    plan = plan_by_method(rp, rm, opt.mip_gap, opt.time_limit_s)
    pf = plan.options[0]
    iv, itau = np.nonzero(plan.run.decided)
    site_ids = cand.sites["site_id"].to_numpy()[cand.fac_site[inst.used_fac[pf[iv]]]]
    pos = pd.Index(model.sites["site_id"]).get_indexer(site_ids)
    T = len(years)
    started, in_service = np.zeros((len(model.sites), T), bool), np.zeros((len(model.sites), T), bool)
    started[pos] |= itau[:, None] <= np.arange(T)[None, :]
    in_service[pos] |= rp.serves()[rp.design[pf[iv]], itau]
    return started, in_service, plan.objective_usd


def roadmap_batch(model: SweepModel, batch_id: int, first: int, stop: int) -> RoadmapBatch:
    """Draws first..stop-1 of the roadmap Monte Carlo (the task a worker runs).

    Parameters
    ----------
    model : SweepModel
        The sweep model of a roadmap.
    batch_id : int
        The batch's number.
    first, stop : int
        First draw and the draw after the last.

    Returns
    -------
    RoadmapBatch
    """
    ids = np.arange(first, stop)
    values = model.sampler.values(ids)
    T = len(model.scenario.roadmap.years)
    started, in_service = np.zeros((len(model.sites), T), np.int64), np.zeros((len(model.sites), T), np.int64)
    worth, plants = [], []
    for row in values:  # one roadmap MILP per draw
        s, i, w = roadmap_of_row(model, row)
        started += s
        in_service += i
        worth.append(w)
        plants.append(int(s[:, -1].sum()))
    draws = pd.concat([pd.DataFrame({"draw": ids}), pd.DataFrame(values, columns=model.sampler.columns),
                       pd.DataFrame({"present_worth_usd": worth, "plants": plants})], axis=1)
    return RoadmapBatch(batch_id, draws, started, in_service)


def roadmap_monte_carlo(model: SweepModel, client: Client | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Run the roadmap of every draw and count, per suitable site and period, how often it is started
    and in service.

    Parameters
    ----------
    model : SweepModel
        The sweep model of a roadmap (`uncertainty.model.build_model` with the region kept, on the
        inputs at the last period's demand); its scenario's uncertainty block gives draws, seed and
        batch size.
    client : dask.distributed.Client, optional
        A cluster (uncertainty.sweep.open_client); None runs every batch here. Results do not depend on it.

    Returns
    -------
    probabilities : pandas.DataFrame
        One row per site started in at least one draw and period: site_id, kind, lon, lat (degrees),
        period_year, p_started and p_in_service (fractions of the draws).
    draws : pandas.DataFrame
        Per draw: its number, the inputs drawn, present_worth_usd (USD) and plants started.
    section : dict
        The plan.json ``roadmap.monte_carlo`` section: draws, seed, distributions, present worth
        percentiles (USD), plants percentiles, sites ever started, elapsed_s (s).
    """
    t0 = time.perf_counter()
    years = model.scenario.roadmap.years
    started, in_service = np.zeros((len(model.sites), len(years)), np.int64), np.zeros((len(model.sites), len(years)),
                                                                                       np.int64)
    frames: list[pd.DataFrame] = []

    def add(res: RoadmapBatch) -> None:
        started[:] += res.started
        in_service[:] += res.in_service
        frames.append(res.draws)

    execute_batches(model, list(model.batches()), client, add, task=roadmap_batch)
    draws = pd.concat(frames, ignore_index=True).sort_values("draw", kind="stable").reset_index(drop=True)
    n = len(draws)
    ever = np.flatnonzero(started[:, -1] > 0)
    sites = model.sites.iloc[ever]
    probabilities = pd.DataFrame({
        "site_id": np.repeat(sites["site_id"].to_numpy(), len(years)), "kind": np.repeat(sites["kind"].to_numpy(), len(years)),
        "lon": np.repeat(sites["lon"].to_numpy(float), len(years)), "lat": np.repeat(sites["lat"].to_numpy(float), len(years)),
        "period_year": np.tile(np.asarray(years, int), len(ever)),
        "p_started": (started[ever] / n).ravel(), "p_in_service": (in_service[ever] / n).ravel()})
    unc = model.scenario.uncertainty

    def pct(x) -> dict:
        return {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(x, PERCENTILES), strict=True)}

    section = {"draws": n, "seed": unc.seed, "batch_draws": unc.batch_draws,
               "distributions": [d.record() for d in model.sampler.distributions],
               "present_worth_usd": pct(draws["present_worth_usd"]), "plants": pct(draws["plants"]),
               "sites_ever_started": int(len(ever)),
               "elapsed_s": round(time.perf_counter() - t0, 3)}
    return probabilities, draws, section
