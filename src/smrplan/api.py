"""The public Python API (imported by the package face and the command line only).

    import smrplan
    plan = smrplan.run("india-islands", out="runs/islands")
    plan.settlements      # GeoDataFrame, one row per settlement with every option's LCOE
    plan.sites            # GeoDataFrame of every candidate site, screened, built ones flagged
    plan.summary          # the plan.json content
    same = smrplan.read_run("runs/islands")        # a written run directory, read back
    entries, table = smrplan.tornado("india-islands", vary=["reactors.capex_usd_per_kw=4000:12000"])
    summary = smrplan.sweep("india-islands", "runs/islands-sweep", draws=1000, workers=2)
    road = smrplan.roadmap("india-islands", out="runs/islands-roadmap")   # plants started 2030-2050
    road.outcome.plants   # one row per plant: site, design, modules, decision year, first power, places served
    road.trajectory       # year by year: capex, annual cost, CO2, diesel litres
    alts = smrplan.alternatives("india-islands", "runs/islands-alternatives", workers=2)   # near-optimal plans
    alts.table            # one row per plan: objective, direction, cost, reactor MW and sites, litres, CO2

Each function resolves the scenario, runs the pipeline's stages (smrplan.pipeline) and, for `run`
and `sweep`, writes the results.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import replace as dataclass_replace
from datetime import datetime
from importlib import resources
from pathlib import Path

import pandas as pd

from smrplan.errors import InputError
from smrplan.geo.io import read_vector
from smrplan.optimize.alternatives import Alternatives
from smrplan.outputs.read import RunDirectory, read_run
from smrplan.outputs.rundir import claimed_out, write_file
from smrplan.outputs.write import write_alternatives_run, write_repowering_run, write_roadmap_run, write_run
from smrplan.pipeline import (
    Progress,
    cluster_of,
    cost_basis_of,
    cost_options,
    make_plan,
    make_roadmap,
    near_optimal_plans,
    prepare_inputs,
    repower_coal,
    screen_sites,
)
from smrplan.report.pages import build_sweep_report
from smrplan.report.static import write_sobol_figure
from smrplan.results import Plan, Repowering, Roadmap
from smrplan.scenario import RULE_SETS, Scenario, resolve_scenario, with_alternatives, with_outputs
from smrplan.scenario import load_scenario as _load_scenario
from smrplan.siting.screen import ScreenResult
from smrplan.uncertainty.model import build_model, with_uncertainty
from smrplan.uncertainty.sampling import sampler_for
from smrplan.uncertainty.sobol import check_base_samples
from smrplan.uncertainty.sweep import open_client, run_sweep
from smrplan.uncertainty.tornado import tornado_of, with_vary

__all__ = ["Plan", "Roadmap", "RunDirectory", "alternatives", "load_scenario", "plan", "read_run", "roadmap", "run",
           "screen", "surrogate", "sweep", "tornado"]


def _quiet(stage: str) -> None:
    """Default progress callback: report nothing."""


def load_scenario(scenario: str | Path | Scenario, data_dir: str | Path | None = None) -> Scenario:
    """A scenario by bundled name (`smrplan scenarios`) or YAML path, every default resolved, with
    `data_dir` (relative layer paths are read from it) applied."""
    return resolve_scenario(scenario if isinstance(scenario, Scenario) else _load_scenario(scenario), data_dir)


def plan(scenario: str | Path | Scenario, data_dir: str | Path | None = None, progress: Progress = _quiet,
         *, repair: bool = False) -> Plan:
    """Run every stage in memory and return the plan (nothing written).

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    progress : callable
        Called with each step's name.
    repair : bool
        Fix bad settlement / anchor-load rows (each fix logged, counted in plan.json data.repairs)
        instead of stopping.

    Returns
    -------
    Plan
        Settlements with every option's LCOE (USD/kWh) and the chosen one, screened sites, built plants
        and the plan.json summary (USD of the scenario's base year).

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it, a bad catalogue or
        layer (see `smrplan.pipeline.prepare_inputs`).
    """
    return make_plan(load_scenario(scenario, data_dir), progress, repair=repair)


def screen(scenario: str | Path | Scenario, data_dir: str | Path | None = None, *, candidates: str | Path | None = None,
           progress: Progress = _quiet, repair: bool = False) -> ScreenResult:
    """The siting funnel alone: candidate sites (plus those of a `candidates` file, column `kind`)
    screened by every criterion, with reasons.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    candidates : str or pathlib.Path, optional
        A vector file of extra candidate sites with a `kind` column (land, micro or floating).
    progress : callable
        Called with each step's name.
    repair : bool
        As in `plan`.

    Returns
    -------
    ScreenResult
        Every candidate with each criterion's value (in its unit: km, persons/km2, m, percent...),
        pass / fail, `suitable` and `reason`.

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it, a bad catalogue or
        layer (see `smrplan.pipeline.prepare_inputs`), or a bad `candidates` file.
    """
    sc = load_scenario(scenario, data_dir)
    inputs = prepare_inputs(sc, progress, repair=repair)
    if candidates is not None:
        layers = {**inputs.region.layers, "candidates": read_vector(Path(candidates))}
        inputs = dataclass_replace(inputs, region=dataclass_replace(inputs.region, layers=layers))
    return screen_sites(inputs, progress)


def default_out(scenario_name: str) -> Path:
    """runs/<scenario>-<local time stamp>."""
    return Path("runs") / f"{scenario_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run(scenario: str | Path | Scenario = "india-islands", out: str | Path | None = None,
        data_dir: str | Path | None = None, overwrite: bool = False, progress: Progress = _quiet,
        *, repair: bool = False, csv: bool = False, all_dispatch: bool = False, workers: int | None = None,
        scheduler: str | None = None) -> Plan | Repowering | Roadmap:
    """Run a scenario and write its run directory (atomically); returns the plan with `run_dir` set
    (a scenario of ``study: coal_repowering`` returns its `Repowering` study instead, and one of
    ``study: roadmap`` its `Roadmap`, as `roadmap` does).

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    out : str or pathlib.Path, optional
        The run directory (default runs/<scenario>-<time stamp>).
    overwrite : bool
        Replace an existing `out`.
    progress : callable
        Called with each step's name.
    repair : bool
        As in `plan`.
    csv : bool
        Also write CSV copies of the tables (as ``outputs.formats`` with csv).
    all_dispatch : bool
        Keep the hourly series of every simulated system in dispatch.parquet (as
        ``outputs.dispatch_hourly: all``); by default every reactor plant and a sample of each option.
    workers : int, optional
        Run the per-settlement stages partitioned on a local Dask cluster of this many worker processes
        (smrplan.pipeline.partitioner; 0: in this process). Without `workers` or `scheduler` they run in
        this process, partitioned above the scenario's ``scale.partition_above_settlements``.
    scheduler : str, optional
        Address of a running dask scheduler to run them on instead (e.g. tcp://10.0.0.5:8786).

    Returns
    -------
    Plan
        As `plan` returns it, with `run_dir` set; the results do not depend on `workers` or `scheduler`
        (plan.json `partitioning` says how it ran).

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it, a bad catalogue or
        layer (see `smrplan.pipeline.prepare_inputs`), or an existing `out` without `overwrite`.
    """
    sc = with_outputs(load_scenario(scenario, data_dir), csv=csv, all_dispatch=all_dispatch)
    out_dir = Path(out) if out is not None else default_out(sc.name)
    protected = input_paths(sc)
    if sc.study == "roadmap":
        return roadmap(sc, out=out_dir, overwrite=overwrite, progress=progress)
    if sc.study == "coal_repowering":
        with claimed_out(out_dir, overwrite, protected):
            study = repower_coal(sc, progress)
            write_repowering_run(study, out_dir, overwrite=overwrite, progress=progress, protected=protected)
        return dataclass_replace(study, run_dir=out_dir)
    cluster = open_client(workers, scheduler) if workers is not None or scheduler is not None else contextlib.nullcontext(None)
    with claimed_out(out_dir, overwrite, protected), cluster as client:  # checked and locked before any computation
        p = make_plan(sc, progress, repair=repair, client=client)
        write_run(p, out_dir, overwrite=overwrite, progress=progress, protected=protected)
    return p.written_to(out_dir)


def roadmap(scenario: str | Path | Scenario = "india-islands", out: str | Path | None = None,
            data_dir: str | Path | None = None, overwrite: bool = False, progress: Progress = _quiet, *,
            draws: int | None = None, workers: int | None = None, scheduler: str | None = None) -> Roadmap:
    """Plan a scenario's roadmap over its `roadmap` periods and write its run directory (atomically).

    With `draws`, the roadmap is also planned for that many draws of the scenario's uncertain inputs
    (its `uncertainty` block, as `sweep` draws them) on dask.distributed: the probability that each
    site is started and in service by each period (roadmap_probabilities.parquet, plan.json
    roadmap.monte_carlo, the report's table).

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    out : str or pathlib.Path, optional
        The run directory (default runs/<scenario>-roadmap-<time stamp>).
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    overwrite : bool
        Replace an existing `out`.
    progress : callable
        Called with each step's name.
    draws : int, optional
        Monte Carlo draws of the roadmap (one roadmap MILP each); none when not given.
    workers : int, optional
        Local worker processes for the draws (default: CPU count; 0 runs them in this process).
    scheduler : str, optional
        Address of a running dask scheduler to use instead.

    Returns
    -------
    Roadmap
        The plants started per period (`outcome.plants`), the yearly trajectory and the plan.json
        `summary`, with `run_dir` set.

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it (its `roadmap` block
        included), a bad catalogue or layer, or an existing `out` without `overwrite`.
    """
    sc = load_scenario(scenario, data_dir)
    if draws is not None:
        sampler_for(with_uncertainty(sc, draws=draws))  # a bad uncertainty block fails before any computation
    out_dir = Path(out) if out is not None else default_out(f"{sc.name}-roadmap")
    protected = input_paths(sc)
    cluster = open_client(workers, scheduler) if draws is not None else contextlib.nullcontext(None)
    with claimed_out(out_dir, overwrite, protected), cluster as client:  # checked and locked before any computation
        road = make_roadmap(sc, progress, draws=draws, client=client)
        write_roadmap_run(road, out_dir, overwrite=overwrite, progress=progress, protected=protected)
    return dataclass_replace(road, run_dir=out_dir)


def input_paths(sc: Scenario) -> list[Path]:
    """The files and folders a scenario reads (an output directory must keep clear of them): the
    scenario file, its data directory (an output may not lie inside it), every layer or table file it
    names, and the bundled data and scenario folders."""
    source = Path(sc.source)
    base = source.parent if source.is_file() else Path(".")
    root = Path(sc.data_dir) if sc.data_dir is not None else base
    paths = [Path(str(resources.files("smrplan.data"))), Path(str(resources.files("smrplan.scenarios")))]
    paths += [source] if source.is_file() else []
    paths += [Path(sc.data_dir)] if sc.data_dir is not None else []
    refs = [*sc.data.values(), sc.region.grid_nodes, sc.dispatch.pv_tmy, sc.dispatch.monthly_derate, sc.siting.rules]
    for ref in refs:
        if ref and not ref.startswith("bundled:") and ref not in RULE_SETS:
            path = Path(ref) if Path(ref).is_absolute() else root / ref
            paths.append(path)
    return paths


def tornado(scenario: str | Path | Scenario, data_dir: str | Path | None = None, vary: list[str] | None = None,
            progress: Progress = _quiet, *, repair: bool = False) -> tuple[list[dict], pd.DataFrame]:
    """One-at-a-time sensitivity of the least-cost choices without an optimisation.

    Returns tornado entries (largest total-cost swing first, as plan.json `sensitivity`) and a table of
    settlements per least-cost option at base, low and high for every input. `vary`: `TARGET=LOW:HIGH`
    items replacing the scenario's uncertain inputs (uncertainty.tornado.parse_vary).

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    vary : list of str, optional
        `TARGET=LOW:HIGH` items, LOW and HIGH in the target's unit (e.g. USD/kW); default the
        scenario's uncertainty block.
    progress : callable
        Called with each step's name.
    repair : bool
        As in `plan`.

    Returns
    -------
    entries : list of dict
        Per input: low and high values, base, low and high total annual cost (USD/yr) and reactor share
        (fraction), swing (USD/yr).
    table : pandas.DataFrame
        Per input and setting (base, low, high): total annual cost (USD/yr), reactor share (fraction)
        and the number of settlements choosing each option.

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it, a bad catalogue or
        layer (see `smrplan.pipeline.prepare_inputs`), or a bad `vary`
        item or uncertainty block.
    """
    sc = load_scenario(scenario, data_dir)
    run_sc = with_vary(sc, vary) if vary else sc
    sampler_for(run_sc)  # a bad block fails before any layer is read
    inputs = prepare_inputs(sc, progress, repair=repair)
    basis = cost_basis_of(inputs, screen_sites(inputs, progress), progress)
    progress("tornado")
    return tornado_of(build_model(inputs, basis, scenario=run_sc))


def sweep(scenario: str | Path | Scenario, out: str | Path, data_dir: str | Path | None = None, *,
          draws: int | None = None, seed: int | None = None, batch_draws: int | None = None,
          reoptimise: bool = False, workers: int | None = None, scheduler: str | None = None,
          progress: Callable[[str, int | None, int | None], None] = lambda s, d, t: None, repair: bool = False,
          sobol_samples: int | None = None) -> dict:
    """Monte Carlo over the scenario's uncertain inputs on dask.distributed; returns sweep.json.

    The cluster (`workers` local processes, or the running one at `scheduler`) starts first so that its
    workers load while the inputs stage runs; `draws`, `seed` and `batch_draws` replace the scenario's
    values. An interrupted sweep into the same `out` resumes where it stopped.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario.
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    out : str or pathlib.Path
        The sweep directory.
    draws, seed, batch_draws : int, optional
        Number of draws, sampler seed and draws per batch (default the scenario's).
    reoptimise : bool
        Solve the plan's MILP for every draw (else each settlement's least-cost option).
    workers : int, optional
        Local worker processes to start.
    scheduler : str, optional
        Address of a running dask scheduler to use instead.
    progress : callable
        Called with (step, draws done, draws in all); the counts are None for a step without them.
    repair : bool
        As in `plan`.
    sobol_samples : int, optional
        Also the Sobol indices of the total annual cost, LCOE and reactor share from a Saltelli design
        of this many base samples (a power of two; smrplan.uncertainty.sobol): sobol.parquet,
        sweep.json `sobol` and report/plots/sobol.png. Either way report.html (smrplan.report.pages),
        with the Sobol plot embedded when there is one.

    Returns
    -------
    dict
        sweep.json (see `smrplan.uncertainty.sweep.run_sweep`): percentiles of the total annual cost
        (USD/yr), reactor share (fraction), reactor capacity (MW) and emissions (t CO2/yr).

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it, a bad catalogue or
        layer (see `smrplan.pipeline.prepare_inputs`), a bad uncertainty block, an `out` holding
        another sweep, one that is or holds an input, or one another sweep is writing.
    """
    sc = load_scenario(scenario, data_dir)
    run_sc = with_uncertainty(sc, draws=draws, seed=seed, batch_draws=batch_draws)
    sampler = sampler_for(run_sc)  # a bad block fails before the cluster starts or any layer is read
    if sobol_samples is not None:
        check_base_samples(sobol_samples)
        if len(sampler.distributions) < 2:
            raise InputError(sc.source, "uncertainty.parameters", "Sobol indices need at least two uncertain inputs")
    with claimed_out(Path(out), False, input_paths(sc), resume=True), open_client(workers, scheduler) as client:
        stage = lambda s: progress(s, None, None)  # noqa: E731
        cluster = cluster_of(client)
        inputs = prepare_inputs(run_sc, stage, repair=repair, cluster=cluster)
        basis = cost_basis_of(inputs, screen_sites(inputs, stage, cluster), stage, cluster)
        model = build_model(inputs, basis, reoptimise=reoptimise)
        summary = run_sweep(model, out, client, progress, sobol_samples=sobol_samples)
        if sobol_samples is not None:
            write_sobol_figure(Path(out))
        progress("report", None, None)
        build_sweep_report(out)
        return summary


def alternatives(scenario: str | Path | Scenario, out: str | Path | None = None, data_dir: str | Path | None = None,
                 *, random_directions: int | None = None, slack: float | None = None, workers: int | None = None,
                 scheduler: str | None = None, overwrite: bool = False, progress: Progress = _quiet,
                 repair: bool = False) -> Alternatives:
    """The least-cost plan and its near-optimal alternatives (smrplan.optimize.alternatives), solved on
    dask.distributed, written to a run directory (atomically).

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario
        Bundled scenario name, YAML path or a loaded scenario (its `alternatives` block).
    out : str or pathlib.Path, optional
        The run directory (default runs/<scenario>-alternatives-<time stamp>).
    data_dir : str or pathlib.Path, optional
        Directory relative layer paths are read from.
    random_directions : int, optional
        Random directions (default alternatives.random_directions).
    slack : float, optional
        Cost slack, a fraction of the least cost (default alternatives.cost_slack_fraction).
    workers : int, optional
        Local worker processes to start (0: solve in this process).
    scheduler : str, optional
        Address of a running dask scheduler to use instead.
    overwrite : bool
        Replace an existing `out`.
    progress : callable
        Called with each step's name.
    repair : bool
        As in `plan`.

    Returns
    -------
    Alternatives
        The plans (total annual cost USD/yr, reactor MW and sites, reactor share, diesel l/yr, t CO2/yr)
        and the sites built in every plan ("must-have") or in some ("optional").

    Raises
    ------
    InputError
        Naming the file and field: an unknown scenario or a bad value in it (its `alternatives` block,
        or `random_directions` / `slack` outside their bounds), a bad catalogue or layer, or an
        existing `out` without `overwrite`.
    """
    sc = with_alternatives(load_scenario(scenario, data_dir), random_directions=random_directions, slack=slack)
    out_dir = Path(out) if out is not None else default_out(f"{sc.name}-alternatives")
    protected = input_paths(sc)
    t0 = time.perf_counter()
    with claimed_out(out_dir, overwrite, protected), open_client(workers, scheduler) as client:
        cluster = cluster_of(client)
        inputs = prepare_inputs(sc, progress, repair=repair, cluster=cluster)
        screened = screen_sites(inputs, progress, cluster)
        basis = cost_basis_of(inputs, screened, progress, cluster)
        result = near_optimal_plans(inputs, screened, basis, cost_options(inputs, basis, progress, cluster), progress,
                                    client)
        timings = {"total": round(time.perf_counter() - t0, 3),
                   "workers": len(client.scheduler_info()["workers"]) if client is not None else 0}
        write_alternatives_run(result, sc, inputs.settlements, out_dir, overwrite=overwrite, progress=progress,
                               protected=protected, timings_s=timings)
    return result


def surrogate(sweep_dir: str | Path, values: dict[str, float] | None = None) -> dict:
    """Train the surrogate of a sweep (smrplan.uncertainty.surrogate) on its draws, write
    surrogate.json into the sweep directory (atomically) and predict at `values`.

    Parameters
    ----------
    sweep_dir : str or pathlib.Path
        A finished sweep directory (sweep.json, draws.parquet).
    values : dict of str to float, optional
        Input values (the sweep's input columns, in their units); others at the draws' median.

    Returns
    -------
    dict
        surrogate.json (also summarised in the sweep's report.html): per output the cross-validated R2,
        RMSE and error band (the output's unit: USD/yr, fraction), per region the cross-validated Brier
        score of its probability of a reactor, the inputs' training range, train_s (s); with `values`,
        `prediction` (each output's value with its band, each region's probability with its Brier score,
        inputs out of the training range) and `prediction_ms` (ms).

    Raises
    ------
    InputError
        Naming the directory or file when it is not a finished sweep, or an unknown input.
    """
    from smrplan.uncertainty.surrogate import sweep_surrogate

    d = Path(sweep_dir)
    t0 = time.perf_counter()
    s, summary = sweep_surrogate(d)
    record = {"sweep": summary.get("scenario"), "draws": summary.get("draws"),
              "region_column": (summary.get("regions") or {}).get("column"), **s.record(),
              "train_s": round(time.perf_counter() - t0, 3)}
    write_file(d / "surrogate.json", lambda p: p.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8"))
    build_sweep_report(d)  # now with the surrogate's errors
    if values:
        t1 = time.perf_counter()
        record["prediction"] = s.predict(values)
        record["prediction_ms"] = round(1000.0 * (time.perf_counter() - t1), 3)
    return record
