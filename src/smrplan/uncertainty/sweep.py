"""Monte Carlo over costs and demand: how sure is the least-cost answer?

The scenario's `uncertainty` block lists uncertain inputs (scenarios/defaults.yaml documents the
targets and holds the default set with sources). A sweep draws them `draws` times and, per draw,
finds what every settlement would choose, the total annual cost (USD/yr, constant base-year USD),
the reactor share of demand, the reactor capacity (MW) and emissions (t CO2/yr).

    summary = smrplan.sweep("india-islands", "runs/islands-sweep", draws=1000, workers=2)   # sweep.json

or, step by step: `with open_client(workers=2) as client:` build the model once from the plan's
inputs and cost basis (uncertainty.model.build_model) and run_sweep(model, out, client) (draws on
dask.distributed).

Draws: uncertainty.sampling. What a draw decides and how: uncertainty.model.

The sweep directory

    scenario.yaml               the scenario as run (draws and seed included)
    manifest.json, done.txt     the sweep's fingerprint; finished batch ids, one per line
    parts/                      per batch of `batch_draws` draws: draws-, options- and sites-<id>.parquet,
                                each written to a temporary name and renamed; a rerun of an interrupted
                                sweep runs only the batches not in done.txt
    draws.parquet               per draw (sorted by draw index): the inputs drawn, total annual cost,
                                demand, reactor share, reactor capacity, emissions, settlements and
                                demand share per option, and per region (uncertainty.model.region_groups)
                                `reactor_in:<region>`, 1 when a reactor serves a settlement there
    settlement_options.parquet  per settlement: probability of each option being chosen, p_reactor
    sites.parquet               per suitable site: p_built (--reoptimise) or p_least_cost (a plant here
                                is the least-cost option of at least one settlement it would serve alone)
    tornado.parquet             one-at-a-time: each target at its low and at its high, the others at
                                base; total cost and reactor share (one row per input column)
    sweep.json                  summary: distributions, P5/P50/P95 and mean, option probabilities,
                                tornado (largest swing first), each region's probability of a
                                reactor, Sobol indices (--sobol);
                                `volatile_fields` differ between runs
    sobol.parquet               with --sobol: per output and input, S1, S1_conf, ST, ST_conf
                                (uncertainty.sobol); report/plots/sobol.png their bar chart
    report.html                 the sweep's page (smrplan.report.pages, written by smrplan.api.sweep):
                                percentiles, option and region probabilities, tornado, the Sobol plot
                                embedded, the surrogate's errors once `smrplan surrogate` has run
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smrplan.costs.engine import REACTOR_COLUMNS
from smrplan.errors import InputError
from smrplan.options import ALL_OPTIONS
from smrplan.scenario import scenario_yaml
from smrplan.uncertainty.model import TORNADO_ID, BatchResult, SweepModel, run_batch, run_tornado
from smrplan.uncertainty.sobol import sobol_of_model
from smrplan.uncertainty.tornado import tornado_entries
from smrplan.version import __version__

if TYPE_CHECKING:
    from dask.distributed import Client

Progress = Callable[[str, int | None, int | None], None]
SUMMARY_METRICS = ("total_annual_cost_usd", "reactor_share", "reactor_capacity_mw", "emissions_t_co2_per_year")
PERCENTILES = (5, 50, 95)
VOLATILE_FIELDS = ("workers", "scheduler", "created_utc", "elapsed_s", "draws_per_second", "resumed_draws",
                   "sobol_elapsed_s")


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
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
        _write_text(out / "scenario.yaml", scenario_yaml(model.scenario))
        _write_text(mpath, json.dumps(manifest, indent=2) + "\n")
    done: set[int | str] = set()
    draws_of: dict[int | str, int | None] = {b: stop - first for b, first, stop in model.batches()}
    draws_of[TORNADO_ID] = None  # one row per tornado setting
    shapes = {"draws": ("draw",), "options": tuple(ALL_OPTIONS), "sites": ("count",)}
    rows = {"options": len(model.settlements), "sites": len(model.sites)}
    done_file = out / "done.txt"
    if done_file.exists():
        text = done_file.read_text(encoding="utf-8")
        complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]  # drop a torn last line
        for line in complete.split():
            if line != TORNADO_ID and not line.isdigit():
                continue  # a damaged line: its batch runs again
            bid: int | str = line if line == TORNADO_ID else int(line)
            if bid not in draws_of:
                continue  # a batch of no such number: not part of this sweep
            expected = {"draws": draws_of[bid], **rows}
            if all(_readable_part(out / "parts" / name, shapes[kind], expected[kind])
                   for kind, name in zip(shapes, _part_names(bid), strict=True)):
                done.add(bid)
    return done


def _readable_part(path: Path, columns: tuple[str, ...], rows: int | None) -> bool:
    """Whether a part file is a whole Parquet file of the expected shape (a damaged part is computed again).

    Parameters
    ----------
    path : Path
        The part file.
    columns : tuple of str
        Columns it must hold.
    rows : int or None
        Rows it must hold (None: any number).
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except (OSError, ValueError):  # missing, truncated or not Parquet (pyarrow.ArrowInvalid is a ValueError)
        return False
    return set(columns) <= set(meta.schema.names) and (rows is None or meta.num_rows == rows)


def _read_part(path: Path) -> pd.DataFrame:
    """A part file's table; damage found only when its data are read (its footer was whole) is an
    InputError naming the file: removed, the part is computed again by the same command."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise InputError(path, None, f"damaged sweep part ({str(exc).splitlines()[0]}); remove the file and rerun "
                                     "the same command: its batch is computed again") from None


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


def _import_module(name: str, attempts: int = 3) -> None:
    """Import a module on a worker ahead of its first task. A task's data unpickled at the same time in
    another thread may be importing the same modules: Python then breaks the circular wait by raising
    in one of the two threads (importlib's _DeadlockError, a RuntimeError); the warm-up, not the task,
    gives way and tries again once that import is done."""
    for attempt in range(attempts):
        try:
            importlib.import_module(name)
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


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
            _warm = [client.submit(_import_module, __name__, workers=[w], allow_other_workers=False,
                                   pure=False) for w in client.scheduler_info()["workers"]]
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def execute_batches(model: SweepModel, todo: list[tuple[int | str, int, int]], client: Client | None,
                    on_result: Callable, task: Callable | None = None) -> None:
    """Run batches of rows in this process (client None) or on the client's cluster (the model
    scattered once to every worker) and hand each result to `on_result` as it finishes.

    Parameters
    ----------
    model : SweepModel
        The sweep model.
    todo : list of (batch id, first draw, stop draw)
        The batches (id TORNADO_ID: the tornado's rows).
    client : dask.distributed.Client or None
        The cluster, or None to run here.
    on_result : callable
        Called with each batch's result.
    task : callable, optional
        task(model, batch id, first, stop) -> result; default the sweep's batch (or tornado) of
        `run_batch`; uncertainty.roadmap runs its roadmap batches through it.
    """
    task = _task if task is None else task
    if client is None:
        for bid, first, stop in todo:
            on_result(task(model, bid, first, stop))
        return
    from dask.distributed import as_completed

    shipped = client.scatter(model, broadcast=True, hash=False)
    futures = [client.submit(task, shipped, bid, first, stop, pure=False) for bid, first, stop in todo]
    for fut in as_completed(futures):
        on_result(fut.result())
        fut.release()


def _task(model: SweepModel, bid: int | str, first: int, stop: int) -> BatchResult:
    if bid == TORNADO_ID:
        return run_tornado(model)
    assert isinstance(bid, int), "batches are numbered"
    return run_batch(model, bid, first, stop)


def _stats(x: np.ndarray) -> dict[str, float]:
    q = np.percentile(x, PERCENTILES)
    return {**{f"p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)}, "mean": float(np.mean(x))}


def _finalise(model: SweepModel, out: Path, run_info: dict) -> dict:
    """Combine the part files (sorted by draw index) into the sweep's tables and sweep.json."""
    parts = out / "parts"
    batches = model.batches()
    draws = pd.concat([_read_part(parts / _part_names(b)[0]) for b, _, _ in batches], ignore_index=True)
    draws = draws.sort_values("draw", kind="stable").reset_index(drop=True)
    option_counts = sum((_read_part(parts / _part_names(b)[1]).to_numpy(np.int64) for b, _, _ in batches),
                        start=np.zeros((len(model.settlements), len(ALL_OPTIONS)), np.int64))
    site_counts = sum((_read_part(parts / _part_names(b)[2])["count"].to_numpy(np.int64) for b, _, _ in batches),
                      start=np.zeros(len(model.sites), np.int64))
    n = len(draws)
    prob = option_counts / n
    st = model.settlements[["id", "name", "lon", "lat"]].copy()
    for j, option in enumerate(ALL_OPTIONS):
        st[f"p_{option}"] = prob[:, j]
    st["p_reactor"] = prob[:, REACTOR_COLUMNS].sum(axis=1)
    st["most_likely_option"] = np.array(ALL_OPTIONS)[np.argmax(option_counts, axis=1)]
    sites = model.sites.copy()
    sites["p_built" if model.reoptimise else "p_least_cost"] = site_counts / n
    tornado_frame = _read_part(parts / _part_names(TORNADO_ID)[0])
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
        "regions": {"column": model.regions.column,
                    "p_reactor": {n: float(draws[c].mean()) if c in draws else None
                                  for n, c in zip(model.regions.names, model.regions.draw_columns, strict=True)}},
        "tornado": tornado,
        "files": {"draws": "draws.parquet", "settlement_options": "settlement_options.parquet",
                  "sites": "sites.parquet", "tornado": "tornado.parquet",
                  **({"sobol": "sobol.parquet"} if "sobol" in run_info else {})},
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
              progress: Progress = lambda s, d, t: None, *, sobol_samples: int | None = None) -> dict:
    """Run (or resume) the model's sweep into directory `out` and return the sweep.json content.

    Batches already recorded in out/done.txt with their part files are not run again.

    Parameters
    ----------
    model : SweepModel
        The sweep model (uncertain inputs, draws, seed, batch size).
    out : str or Path
        The sweep directory (created, or resumed when it holds the same sweep).
    client : dask.distributed.Client or None, default None
        A dask Client (see open_client) or None to run in this process; results do not depend on it.
    progress : callable, default no report
        Called with (step, draws done, draws in all); the counts are None for a step without them.
    sobol_samples : int or None, default None
        With it, also the Sobol indices (uncertainty.sobol) from a Saltelli design of this many base
        samples (a power of two): sobol.parquet and sweep.json `sobol`.

    Returns
    -------
    dict
        sweep.json: base and percentiles (5, 50, 95) of the total annual cost (USD/yr), reactor share
        of demand (fraction), reactor capacity (MW) and emissions (t CO2/yr); option probabilities; the
        tornado; run information (elapsed_s in s, draws per second); `sobol` when asked for.

    Raises
    ------
    InputError
        When `out` exists and is not a sweep directory, holds a different sweep, or its manifest is
        unreadable.
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
        execute_batches(model, todo, client, on_result)
    elapsed = time.perf_counter() - t0
    extra: dict = {"sobol_elapsed_s": None}
    if sobol_samples is not None:
        progress("Sobol indices", None, None)
        t1 = time.perf_counter()
        table, extra["sobol"] = sobol_of_model(model, sobol_samples, client)
        extra["sobol_elapsed_s"] = round(time.perf_counter() - t1, 3)
        _write_parquet(out / "sobol.parquet", table)
    else:
        (out / "sobol.parquet").unlink(missing_ok=True)  # of an earlier run of the same sweep
    ran = finished[0] - resumed
    progress("summary", None, None)
    info = {"workers": len(client.scheduler_info()["workers"]) if client is not None else 0,
            "scheduler": client.scheduler.address if client is not None else None,
            "elapsed_s": round(elapsed, 3), "draws_per_second": round(ran / elapsed, 2) if ran and elapsed > 0 else None,
            "resumed_draws": resumed, **extra}
    return _finalise(model, out, info)
