"""The public Python API (imported by the package face and the command line only).

    import smrplan
    plan = smrplan.run("india-islands", out="runs/islands")
    plan.settlements      # GeoDataFrame, one row per settlement with every option's LCOE
    plan.sites            # GeoDataFrame of every candidate site, screened, built ones flagged
    plan.summary          # the plan.json content
    same = smrplan.read_run("runs/islands")        # a written run directory, read back
    entries, table = smrplan.tornado("india-islands", vary=["reactors.capex_usd_per_kw=4000:12000"])
    summary = smrplan.sweep("india-islands", "runs/islands-sweep", draws=1000, workers=2)

Each function resolves the scenario, runs the pipeline's stages (smrplan.pipeline) and, for `run`
and `sweep`, writes the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace as dataclass_replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from smrplan.errors import InputError
from smrplan.geo.io import read_vector
from smrplan.outputs.read import RunDirectory, read_run
from smrplan.outputs.write import write_run
from smrplan.pipeline import Progress, cost_basis_of, make_plan, prepare_inputs, screen_sites
from smrplan.results import Plan
from smrplan.scenario import Scenario, resolve_scenario
from smrplan.scenario import load_scenario as _load_scenario
from smrplan.siting.screen import ScreenResult
from smrplan.uncertainty.model import build_model, with_uncertainty
from smrplan.uncertainty.sampling import sampler_for
from smrplan.uncertainty.sweep import open_client, run_sweep
from smrplan.uncertainty.tornado import tornado_of, with_vary

__all__ = ["Plan", "RunDirectory", "load_scenario", "plan", "read_run", "run", "screen", "sweep", "tornado"]


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
    """
    return make_plan(load_scenario(scenario, data_dir), progress, repair=repair)


def screen(scenario: str | Path | Scenario, data_dir: str | Path | None = None, *, candidates: str | Path | None = None,
           progress: Progress = _quiet, repair: bool = False) -> ScreenResult:
    """The siting funnel alone: candidate sites (plus those of a `candidates` file, column `kind`)
    screened by every criterion, with reasons."""
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
        *, repair: bool = False) -> Plan:
    """Run a scenario and write its run directory (atomically); returns the plan with `run_dir` set.
    Parameters as `plan`; `out` defaults to runs/<scenario>-<time stamp>; an existing `out` needs
    `overwrite`."""
    sc = load_scenario(scenario, data_dir)
    out_dir = Path(out) if out is not None else default_out(sc.name)
    if out_dir.exists() and not overwrite:
        raise InputError(out_dir, "--out", "the output directory exists; choose another or pass --overwrite")
    p = make_plan(sc, progress, repair=repair)
    write_run(p, out_dir, overwrite=overwrite, progress=progress)
    return p.written_to(out_dir)


def tornado(scenario: str | Path | Scenario, data_dir: str | Path | None = None, vary: list[str] | None = None,
            progress: Progress = _quiet, *, repair: bool = False) -> tuple[list[dict], pd.DataFrame]:
    """One-at-a-time sensitivity of the least-cost choices without an optimisation.

    Returns tornado entries (largest total-cost swing first, as plan.json `sensitivity`) and a table of
    settlements per least-cost option at base, low and high for every input. `vary`: `TARGET=LOW:HIGH`
    items replacing the scenario's uncertain inputs (uncertainty.tornado.parse_vary).
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
          progress: Callable[[str, int | None, int | None], None] = lambda s, d, t: None, repair: bool = False) -> dict:
    """Monte Carlo over the scenario's uncertain inputs on dask.distributed; returns sweep.json.

    The cluster (`workers` local processes, or the running one at `scheduler`) starts first so that its
    workers load while the inputs stage runs; `draws`, `seed` and `batch_draws` replace the scenario's
    values. An interrupted sweep into the same `out` resumes where it stopped.
    """
    sc = load_scenario(scenario, data_dir)
    run_sc = with_uncertainty(sc, draws=draws, seed=seed, batch_draws=batch_draws)
    sampler_for(run_sc)  # a bad block fails before the cluster starts or any layer is read
    with open_client(workers, scheduler) as client:
        stage = lambda s: progress(s, None, None)  # noqa: E731
        inputs = prepare_inputs(run_sc, stage, repair=repair)
        basis = cost_basis_of(inputs, screen_sites(inputs, stage), stage)
        model = build_model(inputs, basis, reoptimise=reoptimise)
        return run_sweep(model, out, client, progress)
