"""A learned surrogate of a sweep: total annual cost and reactor share from the uncertain inputs, with
its own cross-validated error next to every prediction.

Trained on a sweep's draws (draws.parquet: the inputs drawn and the outputs of
uncertainty.model.evaluate), one gradient-boosted tree ensemble per output (scikit-learn
GradientBoostingRegressor). Its error is measured, not assumed: K-fold cross-validation gives an
out-of-fold prediction for every draw, hence R2, RMSE and the `COVERAGE` quantile of the absolute
out-of-fold error, which is the half-width of the band reported with each prediction (a cross-validated
split-conformal band; Vovk et al. 2005, Barber et al. 2021, "CV+"). A held-out draw's error lies inside
the band for about that share of draws (test). A query outside the inputs' training range (the sweep's
drawn min..max) is flagged: the band does not hold there, recompute exactly (`smrplan sweep`).

    s = train_surrogate(draws, inputs)          # inputs: the sweep's input columns
    s.predict({"finance.discount_rate": 0.05})   # value, band, out of range, per output
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.errors import InputError

SURROGATE_OUTPUTS = ("total_annual_cost_usd", "reactor_share")
COVERAGE = 0.9
FOLDS = 5


@dataclass
class Surrogate:
    """Trained models per output, their cross-validated errors and the inputs' training range.

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
    """

    inputs: list[str]
    models: dict
    errors: dict
    low: np.ndarray
    high: np.ndarray
    base: np.ndarray

    def predict(self, values: dict[str, float]) -> dict:
        """The outputs at one point of the inputs, each with its error band.

        Parameters
        ----------
        values : dict of str to float
            Input values by column (others at the median of the draws).

        Returns
        -------
        dict
            Per output: value, band (half-width of the COVERAGE interval, in the output's unit),
            low and high (value -+ band); and out_of_range: the inputs outside the training range.

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
        return out


def _regressor(seed: int):
    """Gradient-boosted trees (single-threaded: the sweep's workers may share the cores)."""
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8,
                                     random_state=seed)


def train_surrogate(draws: pd.DataFrame, inputs: list[str], outputs: tuple[str, ...] = SURROGATE_OUTPUTS,
                    seed: int = 0) -> Surrogate:
    """Fit one model per output on the draws and measure its error by K-fold cross-validation.

    Parameters
    ----------
    draws : pandas.DataFrame
        The input columns and the outputs (draws.parquet of a sweep; USD/yr, fraction).
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
        With fewer than 50 draws, or a missing column.
    """
    from sklearn.model_selection import KFold, cross_val_predict

    missing = [c for c in (*inputs, *outputs) if c not in draws.columns]
    if missing:
        raise InputError(None, "draws.parquet", f"missing column(s) {missing}")
    if len(draws) < 50:
        raise InputError(None, "draws.parquet", f"{len(draws)} draws; a surrogate needs at least 50")
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
    return Surrogate(list(inputs), models, errors, X.min(axis=0), X.max(axis=0), np.median(X, axis=0))
