"""One-at-a-time sensitivity of the least-cost answer (the tornado of `smrplan costs --vary` and of
plan.json's `sensitivity`).

Each uncertain input is set to its low and then its high value with every other input at its base;
for each setting every settlement takes its least-cost option (stand-alone options and its own
cheapest reactor plant, costed by the cost engine as in the Monte Carlo sweep: uncertainty.model.evaluate). The
result per input: total annual cost (USD/yr), reactor share of demand and the number of settlements
choosing each option at low, base and high.

Inputs come from the scenario's `uncertainty.parameters` (catalogue ranges by default) or from
`--vary TARGET=LOW:HIGH` arguments, where TARGET is "<technology>.<parameter>",
"reactors.<parameter>" (every enabled reactor technology, absolute values applied to each) or one of
the scenario targets of uncertainty.sampling (e.g. finance.discount_rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError

from smrplan.errors import InputError
from smrplan.options import ALL_OPTIONS
from smrplan.scenario import Scenario, UncertainParameter
from smrplan.uncertainty.model import SweepModel, run_tornado
from smrplan.uncertainty.sampling import Distribution


def parse_vary(items: list[str]) -> list[UncertainParameter]:
    """Parse `TARGET=LOW:HIGH` items into uniform uncertain parameters (errors name `--vary`)."""
    out = []
    for item in items:
        target, sep, span = item.partition("=")
        low, sep2, high = span.partition(":")
        try:
            lo, hi = float(low), float(high)
        except ValueError:
            lo = hi = float("nan")
        if not sep or not sep2 or not np.isfinite(lo) or not np.isfinite(hi):
            raise InputError(None, "--vary", f"{item!r}: expected TARGET=LOW:HIGH with numbers, e.g. "
                                             "diesel_minigrid.diesel_price_usd_per_l=0.8:1.6")
        if lo > hi:
            raise InputError(None, "--vary", f"{item!r}: LOW ({lo:g}) is greater than HIGH ({hi:g})")
        try:
            out.append(UncertainParameter(target=target.strip(), distribution="uniform", low=lo, high=hi))
        except ValidationError as exc:
            raise InputError(None, "--vary", f"{item!r}: {exc.errors()[0]['msg']}") from None
    return out


def tornado_of(model: SweepModel) -> tuple[list[dict], pd.DataFrame]:
    """Tornado entries (largest total-cost swing first, as plan.json `sensitivity`) and a table of
    settlements per least-cost option at base, low and high for every input.

    Parameters
    ----------
    model : SweepModel
        Built from a plan's (or the inputs stage's) inputs and cost basis (uncertainty.model.build_model).
    """
    frame = run_tornado(model).draws
    entries, _ = tornado_entries(model, frame)
    counts = frame[[f"settlements_{o}" for o in ALL_OPTIONS]].to_numpy()
    rows = []
    for p, d in enumerate(model.sampler.distributions):
        for label, r in (("base", 0), ("low", 1 + 2 * p), ("high", 2 + 2 * p)):
            rows.append({"parameter": d.target, "setting": label,
                         "total_annual_cost_usd": float(frame["total_annual_cost_usd"].iloc[r]),
                         "reactor_share": float(frame["reactor_share"].iloc[r]),
                         **{o: int(counts[r, j]) for j, o in enumerate(ALL_OPTIONS)}})
    return entries, pd.DataFrame(rows)


def with_vary(scenario: Scenario, vary: list[str]) -> Scenario:
    """The scenario with its uncertain inputs replaced by `--vary TARGET=LOW:HIGH` items (uniform)."""
    unc = scenario.uncertainty.model_copy(update={"parameters": parse_vary(vary), "correlations": []})
    return scenario.model_copy(update={"uncertainty": unc})


def _distribution_value(d: Distribution, values: np.ndarray) -> float | dict[str, float]:
    """A distribution's value in a row: a number, or {column: value} for a `reactors.` group."""
    if len(d.columns) == 1:
        return float(values[0])
    return {c: float(v) for c, v in zip(d.columns, values, strict=True)}


def tornado_entries(model: SweepModel, frame: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """Tornado entries (largest total-cost swing first) and its long table (one row per input column).

    Each entry carries the base row's total (`base_total_usd`, every input at its base value, each
    settlement on its least-cost option with reactors as plants of its own), the reference its low and
    high totals are to be read against; a plan's own total (shared plants, dispatch back-up) differs.
    """
    entries, rows, swings = [], [], []
    base_total, base_share = float(frame.iloc[0]["total_annual_cost_usd"]), float(frame.iloc[0]["reactor_share"])
    for p, d in enumerate(model.sampler.distributions):
        cols = list(d.columns)
        lo, hi = frame.iloc[1 + 2 * p], frame.iloc[2 + 2 * p]
        swing = abs(float(hi["total_annual_cost_usd"]) - float(lo["total_annual_cost_usd"]))
        entry = {"parameter": d.target, "distribution": d.kind,
                 "low_value": _distribution_value(d, d.low), "high_value": _distribution_value(d, d.high),
                 "base_total_usd": base_total, "base_reactor_share": base_share,
                 "low_total_usd": float(lo["total_annual_cost_usd"]), "high_total_usd": float(hi["total_annual_cost_usd"]),
                 "low_reactor_share": float(lo["reactor_share"]), "high_reactor_share": float(hi["reactor_share"]),
                 "swing_usd": swing}
        entries.append(entry)
        swings.append(swing)
        for j, col in enumerate(cols):
            rows.append({"parameter": d.target, "column": col, "low_value": float(d.low[j]),
                         "base_value": float(d.base[j]), "high_value": float(d.high[j]),
                         **{k: entry[k] for k in ("low_total_usd", "high_total_usd", "low_reactor_share",
                                                  "high_reactor_share", "swing_usd")}})
    order = sorted(range(len(entries)), key=lambda i: -swings[i])
    entries = [entries[i] for i in order]
    rank = {e["parameter"]: r for r, e in enumerate(entries)}
    table = pd.DataFrame(rows, columns=["parameter", "column", "low_value", "base_value", "high_value",
                                        "low_total_usd", "high_total_usd", "low_reactor_share", "high_reactor_share",
                                        "swing_usd"])
    table = table.iloc[np.argsort([rank[p] for p in table["parameter"]], kind="stable")].reset_index(drop=True)
    return entries, table
