"""Global sensitivity: Sobol first-order and total indices from a Saltelli design (SALib).

The one-at-a-time tornado moves one input with the others at base and misses interactions. Sobol
indices split the variance of an output over the inputs (Sobol 2001; Saltelli et al. 2010): the
first-order index S1_i is the share of the variance that input i explains alone, the total index
ST_i the share it explains with all its interactions (ST_i >= S1_i; ST_i - S1_i is the interaction
part; sum S1 <= 1). Estimators: Saltelli (2002) / Jansen (1999) as implemented by SALib
(Herman & Usher 2017; Iwanaga et al. 2022), with bootstrap confidence intervals.

Design: a scrambled Sobol sequence of N base samples in 2 D dimensions gives matrices A and B and,
for every input i, A with column i from B; N (D + 2) rows in all (second-order indices are not
estimated). Rows are uniform quantiles in [0, 1]^D, one column per uncertain input
(uncertainty.sampling: a `reactors.` target moves every reactor technology by its one quantile).

    table = sobol_indices(f, names, base_samples=512, seed=1)   # f: quantiles (rows x D) -> outputs

On a sweep model (`sobol_of_model`) each row is costed and decided by uncertainty.model.evaluate,
as every Monte Carlo draw is, on the sweep's dask cluster in chunks. The indices assume independent
inputs: correlation groups of the uncertainty block are not applied (the record says so).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smrplan.errors import InputError
from smrplan.uncertainty.model import SweepModel, evaluate

if TYPE_CHECKING:
    from dask.distributed import Client

SOBOL_OUTPUTS = ("total_annual_cost_usd", "lcoe_usd_per_kwh", "reactor_share")
INDEX_COLUMNS = ("output", "input", "S1", "S1_conf", "ST", "ST_conf")
CONFIDENCE_LEVEL = 0.95
RESAMPLES = 200
CHUNK_ROWS = 256


def check_base_samples(n: int, field: str = "--sobol-samples") -> None:
    """A Saltelli design needs a power of two base samples (the Sobol sequence's balance), at least 4.

    Parameters
    ----------
    n : int
        Base samples N (the design has N (D + 2) rows).
    field : str
        Option or field named in the error.

    Raises
    ------
    InputError
        When `n` is not a power of two of at least 4.
    """
    if n < 4 or n & (n - 1):
        raise InputError(None, field, f"{n} is not a power of two of at least 4 (e.g. 256, 512, 1024)")


def saltelli_design(n_inputs: int, base_samples: int, seed: int) -> np.ndarray:
    """The Saltelli design in uniform quantiles: N (D + 2) rows x D inputs, each in (0, 1).

    Parameters
    ----------
    n_inputs : int
        Inputs D.
    base_samples : int
        Base samples N (a power of two).
    seed : int
        Seed of the sequence's scrambling.

    Returns
    -------
    numpy.ndarray
        Rows in SALib's order (A, then A with column i from B for each i, then B).
    """
    from SALib.sample import sobol as sobol_sample

    check_base_samples(base_samples)
    problem = {"num_vars": n_inputs, "names": [f"x{i}" for i in range(n_inputs)], "bounds": [[0.0, 1.0]] * n_inputs}
    return sobol_sample.sample(problem, base_samples, calc_second_order=False, scramble=True, seed=seed)


def analyse(y: np.ndarray, names: list[str], seed: int) -> pd.DataFrame:
    """First-order and total indices of one output over the rows of a Saltelli design.

    Parameters
    ----------
    y : numpy.ndarray
        The output at every design row (any unit; indices are fractions of its variance).
    names : list of str
        The inputs, in the design's column order.
    seed : int
        Seed of the bootstrap of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        Per input: S1, S1_conf, ST, ST_conf (fractions; conf is the half-width of the 95 % interval).
        An output that does not vary has every index 0.
    """
    from SALib.analyze import sobol as sobol_analyze

    y = np.asarray(y, float)
    if not np.all(np.isfinite(y)):
        raise ValueError("the output is not finite at every design row")
    if np.ptp(y) <= 1e-12 * max(abs(float(y.mean())), 1.0):
        zero = np.zeros(len(names))
        return pd.DataFrame({"input": names, "S1": zero, "S1_conf": zero, "ST": zero, "ST_conf": zero})
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    with warnings.catch_warnings():  # SALib warns when some bootstrap resample is constant (a step-like output)
        warnings.simplefilter("ignore", UserWarning)
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                                    conf_level=CONFIDENCE_LEVEL, seed=seed)
    return pd.DataFrame({"input": names, **{k: np.asarray(res[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")}})


def sobol_indices(func: Callable[[np.ndarray], pd.DataFrame | np.ndarray], names: list[str], base_samples: int,
                  seed: int) -> pd.DataFrame:
    """Sobol first-order and total indices of a model's outputs over independent inputs.

    Parameters
    ----------
    func : callable
        Maps uniform quantiles (rows x inputs, each in [0, 1]) to the outputs: a DataFrame with one
        column per output, or an array (one output, named "y").
    names : list of str
        The inputs (D).
    base_samples : int
        Base samples N, a power of two; `func` sees N (D + 2) rows.
    seed : int
        Seed of the design and of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per output and input: output, input, S1, S1_conf, ST, ST_conf (fractions of the
        output's variance; conf the half-width of the 95 % bootstrap interval).
    """
    u = saltelli_design(len(names), base_samples, seed)
    out = func(u)
    frame = out if isinstance(out, pd.DataFrame) else pd.DataFrame({"y": np.asarray(out, float)})
    tables = [analyse(frame[c].to_numpy(float), names, seed).assign(output=c) for c in frame.columns]
    return pd.concat(tables, ignore_index=True)[list(INDEX_COLUMNS)]


def _metrics(model: SweepModel, values: np.ndarray) -> pd.DataFrame:
    """The Sobol outputs of rows of input values (a worker's task): total annual cost (USD/yr), the
    system's LCOE (USD/kWh) and the reactor share of demand (fraction)."""
    m = evaluate(model, values).metrics
    lcoe = m["total_annual_cost_usd"] / (m["demand_mwh_per_year"] * 1000.0)
    return pd.DataFrame({"total_annual_cost_usd": m["total_annual_cost_usd"], "lcoe_usd_per_kwh": lcoe,
                         "reactor_share": m["reactor_share"]})


def evaluate_rows(model: SweepModel, values: np.ndarray, client: Client | None) -> pd.DataFrame:
    """The Sobol outputs of rows of input values, in chunks of CHUNK_ROWS on the client's cluster (the
    model scattered once) or in this process (client None); rows keep their order.

    Parameters
    ----------
    model : SweepModel
        The sweep model.
    values : numpy.ndarray
        Rows x the sampler's columns (catalogue or scenario units).
    client : dask.distributed.Client or None
        The sweep's client (uncertainty.sweep.open_client).

    Returns
    -------
    pandas.DataFrame
        total_annual_cost_usd (USD/yr), lcoe_usd_per_kwh (USD/kWh), reactor_share (fraction) per row.
    """
    chunks = [values[i:i + CHUNK_ROWS] for i in range(0, len(values), CHUNK_ROWS)]
    if client is None:
        parts = [_metrics(model, c) for c in chunks]
    else:
        shipped = client.scatter(model, broadcast=True, hash=False)
        parts = client.gather([client.submit(_metrics, shipped, c, pure=False) for c in chunks])
    return pd.concat(parts, ignore_index=True)


def sobol_of_model(model: SweepModel, base_samples: int, client: Client | None = None) -> tuple[pd.DataFrame, dict]:
    """Sobol indices of the total annual cost, LCOE and reactor share over a sweep's uncertain inputs.

    Parameters
    ----------
    model : SweepModel
        The sweep model: its sampler's distributions are the inputs (one per target), its seed seeds
        the design.
    base_samples : int
        Base samples N (a power of two); N (D + 2) rows are evaluated.
    client : dask.distributed.Client or None
        Where the rows are evaluated (None: this process).

    Returns
    -------
    table : pandas.DataFrame
        output, input, S1, S1_conf, ST, ST_conf (fractions of the output's variance).
    record : dict
        sweep.json `sobol`: method, base samples, evaluations, inputs, confidence level, whether
        correlation groups were left out, and per output the indices, largest ST first.

    Raises
    ------
    InputError
        Naming the scenario's `uncertainty.parameters` when it has fewer than two inputs, or
        `--sobol-samples` when `base_samples` is not a power of two of at least 4.
    """
    dists = model.sampler.distributions
    if len(dists) < 2:
        raise InputError(model.scenario.source, "uncertainty.parameters", "Sobol indices need at least two uncertain inputs")
    names = [d.target for d in dists]
    table = sobol_indices(lambda u: evaluate_rows(model, model.sampler.at_quantiles(u), client), names, base_samples,
                          model.scenario.uncertainty.seed)
    record = {
        "method": "Saltelli design (scrambled Sobol sequence, N (D + 2) rows), Saltelli 2002 first-order and "
                  "Jansen 1999 total estimators (SALib), bootstrap confidence intervals",
        "base_samples": base_samples, "evaluations": base_samples * (len(names) + 2), "inputs": names,
        "confidence_level": CONFIDENCE_LEVEL, "bootstrap_resamples": RESAMPLES,
        "correlations_applied": False, "correlation_groups_left_out": len(model.scenario.uncertainty.correlations),
        "outputs": {out: [{k: (str(r[k]) if k == "input" else round(float(r[k]), 6)) for k in INDEX_COLUMNS[1:]}
                          for _, r in g.sort_values("ST", ascending=False, kind="stable").iterrows()]
                    for out, g in table.groupby("output", sort=False)},
    }
    return table, record
