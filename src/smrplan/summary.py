"""plan.json: the summary of a finished plan, built once from its typed stage results.

Totals by option, built reactor plants, emissions, siting funnel, solver record, `why`, data record
and versions; the dispatch stage's section and the back-up cost it adds to the totals; the tornado;
then the net present cost and INR figures derived from the USD ones (optimize.assemble.money_fields).
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smrplan.costs.economics import STANDALONE_OPTIONS
from smrplan.optimize.assemble import money_fields, option_totals, why_section
from smrplan.version import __version__

if TYPE_CHECKING:
    from smrplan.results import Plan

VOLATILE_FIELDS = ("created_utc", "timings_s", "solver.time_s", "solver.build_s", "solver.solve_s", "solver.solver_time_s",
                   "solver.search.time_s")
SOLVER_TIMINGS = ("build_s", "solve_s", "solver_time_s")


def emissions_t_co2(settlements: pd.DataFrame, standalone: dict[str, pd.DataFrame]) -> float:
    """CO2 of the stand-alone options chosen (t/yr); reactor plants count none."""
    total = 0.0
    for option in STANDALONE_OPTIONS:
        sel = (settlements["chosen_option"] == option).to_numpy()
        total += float(standalone[option]["co2_t"].to_numpy()[sel].sum())
    return total


def versions() -> dict[str, str]:
    """Versions of smrplan, Python and the libraries that decide the numbers."""
    import geopandas
    import linopy
    import shapely

    return {"smrplan": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "geopandas": geopandas.__version__, "shapely": shapely.__version__,
            "linopy": linopy.__version__}


def _add_dispatch(summary: dict, section: dict) -> None:
    """The dispatch section, and its added back-up cost in the total and in each option's total."""
    summary["dispatch"] = section
    added = section.get("added_annual_cost_usd", 0.0)
    if not added:
        return
    summary["total_annual_cost_before_dispatch_usd"] = summary["total_annual_cost_usd"]
    summary["total_annual_cost_usd"] = round(summary["total_annual_cost_usd"] + added, 2)
    by_type: dict[str, float] = {}
    for rec in section["systems"]:
        by_type[rec["type"]] = by_type.get(rec["type"], 0.0) + rec["added_annual_cost_usd"]
    for option, extra in by_type.items():
        t = summary["options"][option]
        t["annual_cost_usd"] = round(t["annual_cost_usd"] + extra, 2)
        energy = t["demand_mwh_per_year"] * 1000.0
        t["lcoe_usd_per_kwh"] = round(t["annual_cost_usd"] / energy, 5) if energy > 0 else None


def plan_summary(plan: Plan) -> dict:
    """The plan.json content of a plan (a new dict)."""
    sc, opt = plan.scenario, plan.optimised
    st = opt.settlements
    standalone = plan.standalone
    solver = dict(opt.result.solver)  # its time breakdown goes with the other (volatile) timings
    solver_timings = {f"optimisation_{k}": solver.pop(k) for k in SOLVER_TIMINGS if k in solver}
    summary = {
        "scenario": sc.name, "description": sc.description, "target_year": sc.target_year,
        "settlements": int(len(st)), "population": round(float(st["population_target"].sum())),
        "demand_mwh_per_year": round(float(st["demand_kwh_per_year"].sum()) / 1000.0, 3),
        "peak_mw": round(float(st["peak_kw"].sum()) / 1000.0, 3),
        "options": option_totals(st, standalone, opt.built), "reactor_sites": [dict(b) for b in opt.built],
        "total_annual_cost_usd": round(float(st["chosen_annual_cost_usd"].sum()), 2),
        "standalone_annual_cost_usd": round(float(st["standalone_annual_cost_usd"].sum()), 2),
        "emissions_t_co2_per_year": round(emissions_t_co2(st, standalone), 3),
        "currency": {"unit": f"USD {sc.finance.base_year}"},  # INR and NPV figures: money_fields below
        "siting": plan.screen.summary(), "solver": solver, "why": why_section(st, opt.result, plan.costs.by_option),
        "data": plan.region.data_record(),
        "versions": versions(),
        "created_utc": plan.created_utc,
        "volatile_fields": list(VOLATILE_FIELDS),
        "timings_s": {**plan.timings_s, **solver_timings},
    }
    if plan.dispatch is not None:
        _add_dispatch(summary, plan.dispatch.section)
    if plan.sensitivity is not None:
        summary["sensitivity"] = plan.sensitivity
    return money_fields(summary, plan.inputs.money, sc.finance.inr_per_usd)
