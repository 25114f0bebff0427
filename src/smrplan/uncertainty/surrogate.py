"""A learned surrogate of a sweep: total annual cost, reactor share and each region's probability of a
reactor from the uncertain inputs, with its own cross-validated error next to every prediction.

Trained on a sweep's draws (draws.parquet: the inputs drawn and the outputs of
uncertainty.model.evaluate), one gradient-boosted tree ensemble per output (scikit-learn
GradientBoostingRegressor). Its error is measured, not assumed: K-fold cross-validation gives an
out-of-fold prediction for every draw, hence R2, RMSE and the `COVERAGE` quantile of the absolute
out-of-fold error, which is the half-width of the band reported with each prediction (a cross-validated
split-conformal band; Vovk et al. 2005, Barber et al. 2021, "CV+"). A held-out draw's error lies inside
the band for about that share of draws (test).

Regions (uncertainty.model.region_groups: the coarsest of territory / state / district with more than
one group) each get a gradient-boosted classifier of whether a reactor serves at least one of their
settlements in a draw (draws.parquet `reactor_in:<region>`); its prediction is the probability of a
reactor there, reported with the cross-validated Brier score (mean squared error of the out-of-fold
probabilities; 0 is perfect, the base rate's own Brier score p (1 - p) is the no-skill reference). A
region with the same outcome in every draw is that constant, Brier score 0.

A query outside the inputs' training range (the sweep's drawn min..max) is flagged: the band does not
hold there, recompute exactly (`smrplan sweep`, or the explorer's exact recomputation).

    s, summary = sweep_surrogate("runs/sweep")   # trained on the sweep's draws
    s.predict({"finance.discount_rate": 0.05})   # value, band, out of range, per output; per region
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smrplan.errors import InputError
from smrplan.uncertainty.model import REGION_PREFIX

SURROGATE_OUTPUTS = ("total_annual_cost_usd", "reactor_share")
COVERAGE = 0.9
FOLDS = 5
MIN_DRAWS = 50
METHOD = ("GradientBoostingRegressor per output; band: the 90 % quantile of the 5-fold out-of-fold absolute error "
          "(cross-validated conformal). Per region GradientBoostingClassifier of a reactor serving a settlement "
          "there; error: the 5-fold out-of-fold Brier score")


@dataclass
class Surrogate:
    """Trained models per output and per region, their cross-validated errors and the inputs' training range.

    Attributes
    ----------
    inputs : list of str
        Input columns, in model order (units as drawn: USD/kW, fraction, ...).
    models : dict
        Output -> fitted regressor (on every draw).
    errors : dict
        Output -> {"r2", "rmse", "band", "coverage", "folds", "draws"}; band and rmse in the output's unit.
    low, high, base : numpy.ndarray
        The inputs' least and greatest drawn values, and their medians (values not given in a query).
    regions : dict
        Region -> fitted classifier, or the constant probability (0 or 1) of a region with one outcome.
    region_errors : dict
        Region -> {"brier", "base_rate", "base_rate_brier", "folds", "draws"} (probabilities, fractions).
    """

    inputs: list[str]
    models: dict
    errors: dict
    low: np.ndarray
    high: np.ndarray
    base: np.ndarray
    regions: dict = field(default_factory=dict)
    region_errors: dict = field(default_factory=dict)

    def predict(self, values: dict[str, float]) -> dict:
        """The outputs at one point of the inputs, each with its error; the one prediction function of
        `smrplan surrogate` and the explorer.

        Parameters
        ----------
        values : dict of str to float
            Input values by column (others at the median of the draws).

        Returns
        -------
        dict
            Per output: value, band (half-width of the COVERAGE interval, in the output's unit),
            low and high (value -+ band); `regions`: per region p_reactor (probability) and brier (its
            cross-validated Brier score); and out_of_range: the inputs outside the training range.

        Raises
        ------
        InputError
            Naming an unknown input.
        """
        unknown = sorted(set(values) - set(self.inputs))
        if unknown:
            raise InputError(None, "--set", f"unknown input(s) {unknown}; inputs are {self.inputs}")
        x = self.base.copy()
        for k, v in values.items():
            x[self.inputs.index(k)] = float(v)
        outside = [c for c, v, lo, hi in zip(self.inputs, x, self.low, self.high, strict=True) if not lo <= v <= hi]
        out: dict = {"out_of_range": outside}
        for name, model in self.models.items():
            y = float(model.predict(x[None, :])[0])
            band = self.errors[name]["band"]
            out[name] = {"value": y, "band": band, "low": y - band, "high": y + band}
        out["regions"] = {r: {"p_reactor": float(m) if isinstance(m, float) else float(m.predict_proba(x[None, :])[0, 1]),
                              "brier": self.region_errors[r]["brier"]} for r, m in self.regions.items()}
        return out

    def record(self) -> dict:
        """surrogate.json's model part: per output its errors, per region its error, the inputs' training
        range (in their units) and the method."""
        return {"outputs": self.errors, "regions": self.region_errors, "method": METHOD,
                "inputs": [{"column": c, "low": float(lo), "high": float(hi)}
                           for c, lo, hi in zip(self.inputs, self.low, self.high, strict=True)]}


def _regressor(seed: int):
    """Gradient-boosted trees (single-threaded: the sweep's workers may share the cores)."""
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8,
                                     random_state=seed)


def _classifier(seed: int):
    """Gradient-boosted trees for a region's reactor / no reactor (smaller than the regressors: a
    national sweep has some thirty regions)."""
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_depth=2, subsample=0.8,
                                      random_state=seed)


def _region_model(X: np.ndarray, y: np.ndarray, folds, seed: int) -> tuple[object, dict]:
    """A region's classifier (or constant probability) and its cross-validated Brier score.

    Parameters
    ----------
    X : numpy.ndarray
        Inputs (draws x inputs).
    y : numpy.ndarray
        1 when a reactor serves the region in the draw, else 0.
    folds : sklearn.model_selection.KFold
        The folds of the outputs' cross-validation.
    seed : int
        Seed of the classifier.

    Returns
    -------
    model : classifier or float
        Fitted on every draw; the constant probability when y never changes (or changes in fewer draws
        than there are folds: too few to learn from).
    error : dict
        brier (out-of-fold), base_rate and its Brier score base_rate (1 - base_rate), folds, draws.
    """
    from sklearn.model_selection import cross_val_predict

    rate = float(y.mean())
    record = {"base_rate": rate, "base_rate_brier": rate * (1.0 - rate), "folds": FOLDS, "draws": len(y)}
    if min(y.sum(), len(y) - y.sum()) < FOLDS:
        return rate, {"brier": rate * (1.0 - rate), **record}
    oof = cross_val_predict(_classifier(seed), X, y, cv=folds, method="predict_proba")[:, 1]
    return _classifier(seed).fit(X, y), {"brier": float(np.mean((oof - y) ** 2)), **record}


def train_surrogate(draws: pd.DataFrame, inputs: list[str], outputs: tuple[str, ...] = SURROGATE_OUTPUTS,
                    seed: int = 0) -> Surrogate:
    """Fit one model per output and per region (draws.parquet `reactor_in:<region>` columns) on the
    draws and measure its error by K-fold cross-validation.

    Parameters
    ----------
    draws : pandas.DataFrame
        The input columns and the outputs (draws.parquet of a sweep; USD/yr, fraction, 0/1 per region).
    inputs : list of str
        The input columns.
    outputs : tuple of str
        The outputs to learn.
    seed : int
        Seed of the folds and the models.

    Returns
    -------
    Surrogate

    Raises
    ------
    InputError
        With fewer than MIN_DRAWS draws, or a missing column.
    """
    from sklearn.model_selection import KFold, cross_val_predict

    missing = [c for c in (*inputs, *outputs) if c not in draws.columns]
    if missing:
        raise InputError(None, "draws.parquet", f"missing column(s) {missing}")
    if len(draws) < MIN_DRAWS:
        raise InputError(None, "draws.parquet", f"{len(draws)} draws; a surrogate needs at least {MIN_DRAWS}")
    X = draws[inputs].to_numpy(float)
    folds = KFold(FOLDS, shuffle=True, random_state=seed)
    models, errors = {}, {}
    for name in outputs:
        y = draws[name].to_numpy(float)
        oof = cross_val_predict(_regressor(seed), X, y, cv=folds)
        resid = np.abs(y - oof)
        var = float(np.var(y))
        n = len(y)
        level = min(np.ceil((n + 1) * COVERAGE) / n, 1.0)  # the conformal quantile's finite-sample level
        errors[name] = {"r2": 1.0 - float(np.mean((y - oof) ** 2)) / var if var > 0 else 1.0,
                        "rmse": float(np.sqrt(np.mean((y - oof) ** 2))),
                        "band": float(np.quantile(resid, level, method="higher")), "coverage": COVERAGE,
                        "folds": FOLDS, "draws": n}
        models[name] = _regressor(seed).fit(X, y)
    regions, region_errors = {}, {}
    for col in (c for c in draws.columns if c.startswith(REGION_PREFIX)):
        name = col.removeprefix(REGION_PREFIX)
        regions[name], region_errors[name] = _region_model(X, (draws[col].to_numpy(float) > 0).astype(int), folds, seed)
    return Surrogate(list(inputs), models, errors, X.min(axis=0), X.max(axis=0), np.median(X, axis=0),
                     regions, region_errors)


def sweep_surrogate(sweep_dir: str | Path) -> tuple[Surrogate, dict]:
    """The surrogate of a finished sweep directory, trained on its draws.

    Parameters
    ----------
    sweep_dir : str or pathlib.Path
        A finished sweep directory (sweep.json, draws.parquet).

    Returns
    -------
    surrogate : Surrogate
        Trained on every draw (the inputs: the sweep's distributions' columns; seed: the sweep's).
    summary : dict
        The sweep's sweep.json.

    Raises
    ------
    InputError
        Naming the directory when it is not a finished sweep, or draws.parquet when it lacks a column
        or holds too few draws.
    """
    d = Path(sweep_dir)
    if not (d / "sweep.json").is_file() or not (d / "draws.parquet").is_file():
        raise InputError(d, "SWEEP_DIR", "not a finished sweep directory (sweep.json and draws.parquet expected)")
    try:
        summary = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
        inputs = [c["column"] for dist in summary["distributions"] for c in dist["columns"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(d / "sweep.json", "distributions", f"unreadable sweep summary ({exc}); rerun the sweep") from None
    try:
        return train_surrogate(pd.read_parquet(d / "draws.parquet"), inputs, seed=int(summary.get("seed", 0))), summary
    except InputError as exc:
        raise InputError(d / "draws.parquet", None, exc.message) from None
