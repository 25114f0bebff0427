"""One-at-a-time sensitivity of the least-cost answer (the tornado of `smrplan costs --vary` and of
plan.json's `sensitivity`).

Each uncertain input is set to its low and then its high value with every other input at its base;
for each setting every settlement takes its least-cost option (stand-alone options and its own
cheapest reactor plant, exactly as the Monte Carlo sweep costs a draw: uncertainty.evaluate). The
result per input: total annual cost (USD/yr), reactor share of demand and the number of settlements
choosing each option at low, base and high.

Inputs come from the scenario's `uncertainty.parameters` (catalogue ranges by default) or from
`--vary TARGET=LOW:HIGH` arguments, where TARGET is "<technology>.<parameter>",
"reactors.<parameter>" (every enabled reactor technology, absolute values applied to each) or one of
the scenario targets of uncertainty.py (e.g. finance.discount_rate).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from smrplan.costs.economics import ALL_OPTIONS
from smrplan.errors import InputError
from smrplan.scenario import Scenario, UncertainParameter


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
        except ValueError as exc:
            raise InputError(None, "--vary", f"{item!r}: {exc.errors()[0]['msg']}") from None
    return out


def tornado(scenario: str | Path | Scenario, data_dir: str | Path | None = None, vary: list[str] | None = None,
            progress: Callable[[str], None] = lambda s: None, *, repair: bool = False) -> tuple[list[dict], pd.DataFrame]:
    """Tornado entries (largest total-cost swing first, as plan.json `sensitivity`) and a table of
    settlements per least-cost option at base, low and high for every input. repair: as `api.prepare`."""
    from smrplan.api import _resolve_scenario
    from smrplan.uncertainty.sweep import build_model, run_tornado, tornado_entries

    sc = _resolve_scenario(scenario, data_dir)
    if vary:
        unc = sc.uncertainty.model_copy(update={"parameters": parse_vary(vary), "correlations": []})
        sc = sc.model_copy(update={"uncertainty": unc})
    model = build_model(sc, progress=lambda s, d, t: progress(s), repair=repair)
    progress("tornado")
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
