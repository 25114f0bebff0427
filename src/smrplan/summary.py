"""The parts of plan.json, each from typed stage results (results.Plan.summary assembles them once).

Totals by option, emissions, `why`, versions; the dispatch stage's section and the back-up cost it
adds to the totals; then the net present cost and INR figures derived from the USD ones
(`money_fields`).
"""

from __future__ import annotations

import platform

import numpy as np
import pandas as pd

from smrplan.costs.economics import Money
from smrplan.optimize.milp import solver_versions
from smrplan.optimize.solve import PlanResult
from smrplan.options import ALL_OPTIONS, REACTOR_OPTIONS, STANDALONE_OPTIONS
from smrplan.units import CRORE
from smrplan.version import __version__

VOLATILE_FIELDS = ("created_utc", "timings_s", "partitioning",
                   "solver.time_s", "solver.build_s", "solver.solve_s", "solver.solver_time_s",
                   "solver.search.time_s")
SOLVER_TIMINGS = ("build_s", "solve_s", "solver_time_s")


def rows_by_option(chosen: pd.Series) -> dict[str, np.ndarray]:
    """Which rows chose each option of `ALL_OPTIONS` (bool arrays), from one factorisation of the
    column: comparing a million texts once per option costs about 0.1 s each."""
    codes, names = pd.factorize(chosen, use_na_sentinel=True)
    position = {str(name): i for i, name in enumerate(names)}
    return {o: codes == position[o] if o in position else np.zeros(len(codes), bool) for o in ALL_OPTIONS}


def emissions_t_co2(settlements: pd.DataFrame, standalone: dict[str, pd.DataFrame]) -> float:
    """CO2 of the stand-alone options chosen (t/yr); reactor plants count none."""
    rows = rows_by_option(settlements["chosen_option"])
    return sum(float(standalone[o]["co2_t"].to_numpy()[rows[o]].sum()) for o in STANDALONE_OPTIONS)


def versions() -> dict[str, str]:
    """Versions of smrplan, Python and the libraries that decide the numbers."""
    import geopandas
    import shapely

    return {"smrplan": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "geopandas": geopandas.__version__, "shapely": shapely.__version__,
            **solver_versions()}


def add_dispatch(summary: dict, section: dict) -> None:
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


def option_totals(st: pd.DataFrame, details: dict[str, pd.DataFrame], sites: list[dict]) -> dict[str, dict]:
    """Totals by chosen option: settlements, population, demand, capacity, capex, annual cost, LCOE.

    Parameters
    ----------
    st : pandas.DataFrame
        The assembled settlements: chosen_option, population_target (persons), demand_kwh_per_year
        (kWh/yr), chosen_annual_cost_usd (USD/yr).
    details : dict of str to pandas.DataFrame
        Sizing frames of the stand-alone options, one row per settlement: capacity_kw (kW), capex_usd (USD).
    sites : list of dict
        The built reactor sites: option, capacity_mw (MW), capex_usd (USD).

    Returns
    -------
    dict
        {option: {settlements, population (persons), demand_mwh_per_year (MWh/yr), capacity_mw (MW),
        capex_usd (USD), annual_cost_usd (USD/yr), lcoe_usd_per_kwh (USD/kWh; None without demand)}}.
    """
    out = {}
    rows = rows_by_option(st["chosen_option"])
    demand, cost = st["demand_kwh_per_year"].to_numpy(float), st["chosen_annual_cost_usd"].to_numpy(float)
    population = st["population_target"].to_numpy(float)
    for option in ALL_OPTIONS:
        sel = rows[option]
        energy, annual = float(np.nansum(demand[sel])), float(np.nansum(cost[sel]))
        if option in REACTOR_OPTIONS:
            built = [s for s in sites if s["option"] == option]
            cap_mw = sum(s["capacity_mw"] for s in built)
            capex = float(sum(s["capex_usd"] for s in built))
        else:
            cap_mw = float(details[option]["capacity_kw"].to_numpy()[sel].sum()) / 1000.0
            capex = float(details[option]["capex_usd"].to_numpy()[sel].sum())
        out[option] = {"settlements": int(sel.sum()), "population": round(float(np.nansum(population[sel]))),
                       "demand_mwh_per_year": round(energy / 1000.0, 3), "capacity_mw": round(cap_mw, 3),
                       "capex_usd": round(capex, 2), "annual_cost_usd": round(annual, 2),
                       "lcoe_usd_per_kwh": round(annual / energy, 5) if energy > 0 else None}
    return out


def _crore(usd, inr_per_usd: float):
    return None if usd is None else round(float(usd) * inr_per_usd / CRORE, 2)


def _with_after(record: dict, derived: dict[str, dict]) -> dict:
    """`record` with each derived group of fields placed right after its anchor key (replacing any
    earlier values of those fields), in place; other keys keep their order."""
    names = {k for group in derived.values() for k in group}
    items = []
    for k, v in record.items():
        if k in names:
            continue
        items.append((k, v))
        items += list(derived.get(k, {}).items())
    record.clear()
    record.update(items)
    return record


def money_fields(summary: dict, money: Money, inr_per_usd: float) -> dict:
    """Add (or refresh) plan.json's net present cost and INR figures, derived from its USD annual
    costs and investments: NPV = annual / CRF(r, H); INR crore = USD x rate / 1e7. Top level:
    `total_annual_cost_inr_crore`, `total_npv_usd`, `total_npv_inr_crore`, `standalone_npv_usd`; per
    option: `capex_inr_crore`, `annual_cost_inr_crore`, `npv_usd`, `npv_inr_crore`, `lcoe_inr_per_kwh`;
    per reactor site: `npv_usd`; `currency` gets the CRF and the total in crore. Call again after the
    annual costs change.

    Parameters
    ----------
    summary : dict
        plan.json's summary with USD figures (USD, USD/yr); modified in place.
    money : Money
        Real discount rate (fraction/yr) and horizon H (years) of the CRF.
    inr_per_usd : float
        Exchange rate (INR/USD).

    Returns
    -------
    dict
        `summary` itself, with the derived fields (NPV in USD, INR crore, INR/kWh) after the USD ones
        they come from.
    """
    k = money.crf
    npv = lambda usd: round(float(usd) / k, 2)  # noqa: E731
    for t in summary.get("options", {}).values():
        energy_kwh = t.get("demand_mwh_per_year", 0.0) * 1000.0
        _with_after(t, {"capex_usd": {"capex_inr_crore": _crore(t["capex_usd"], inr_per_usd)},
                        "annual_cost_usd": {"annual_cost_inr_crore": _crore(t["annual_cost_usd"], inr_per_usd),
                                            "npv_usd": npv(t["annual_cost_usd"]),
                                            "npv_inr_crore": _crore(t["annual_cost_usd"] / k, inr_per_usd)},
                        "lcoe_usd_per_kwh": {"lcoe_inr_per_kwh": round(t["annual_cost_usd"] * inr_per_usd / energy_kwh, 4)
                                             if energy_kwh > 0 else None}})
    for site in summary.get("reactor_sites", []):
        _with_after(site, {"annual_cost_usd": {"npv_usd": npv(site["annual_cost_usd"])}})
    total = summary["total_annual_cost_usd"]
    _with_after(summary, {
        "total_annual_cost_usd": {"total_annual_cost_inr_crore": _crore(total, inr_per_usd),
                                  "total_npv_usd": npv(total), "total_npv_inr_crore": _crore(total / k, inr_per_usd)},
        "standalone_annual_cost_usd": {"standalone_npv_usd": npv(summary.get("standalone_annual_cost_usd", 0.0))}})
    cur = summary.setdefault("currency", {})
    cur.update({"inr_per_usd": inr_per_usd, "inr_crore": CRORE, "capital_recovery_factor": round(k, 10),
                "npv": (f"net present cost (NPV of costs) over {money.horizon_years} years at a real discount rate of "
                        f"{money.discount_rate:g} = annual cost / capital_recovery_factor"),
                "total_annual_cost_inr_crore": _crore(total, inr_per_usd)})
    return summary


WHY_MEMBERS = 25  # members listed per built site, largest demand first
WHY_SETTLEMENTS = 20  # settlement ids listed per unit without a reactor


def why_section(st: pd.DataFrame, result: PlanResult, annual: dict[str, np.ndarray]) -> dict:
    """plan.json `why`: savings of built sites against their members' best stand-alone options, and
    the capex reduction at which each of the largest units without a reactor would have one.
    `st` is the assembled settlement table; `annual` the per-option annual costs (USD/yr).

    Parameters
    ----------
    st : pandas.DataFrame
        The assembled settlements: id, name, demand_kwh_per_year (kWh/yr), chosen_annual_cost_usd (USD/yr).
    result : PlanResult
        The solver result: assignment, opened facilities, unit labels and the breakeven table.
    annual : dict of str to numpy.ndarray
        Annual cost of each option per settlement (USD/yr; NaN where infeasible).

    Returns
    -------
    dict
        method, unit ("cluster" or "settlement"), built_sites (costs in USD/yr, saving as a fraction) and
        not_served_by_reactor (demand in MWh/yr, costs in USD/yr, distance in km, capex multiplier and
        required reduction as fractions).
    """
    names = np.array(STANDALONE_OPTIONS)
    standalone = np.column_stack([annual[o] for o in STANDALONE_OPTIONS])
    best_option = names[np.nanargmin(standalone, axis=1)]
    best_cost = np.nanmin(standalone, axis=1)
    ids, e = st["id"].astype(str).to_numpy(), st["demand_kwh_per_year"].to_numpy(float)
    chosen = st["chosen_annual_cost_usd"].to_numpy(float)
    assignment = result.assignment.to_numpy()
    built = []
    for f in np.flatnonzero(result.opened):  # a few built sites
        members = np.flatnonzero(assignment == f)
        if not len(members):
            continue
        alone, plant = float(best_cost[members].sum()), float(chosen[members].sum())
        top = members[np.argsort(-e[members], kind="stable")][:WHY_MEMBERS]
        options, counts = np.unique(best_option[members], return_counts=True)
        built.append({
            "site_id": result.facilities[int(f)].site_id, "technology": result.facilities[int(f)].tech.key,
            "settlements": int(len(members)), "standalone_annual_cost_usd": round(alone, 2),
            "plant_annual_cost_usd": round(plant, 2), "saving_usd_per_year": round(alone - plant, 2),
            "saving_fraction": round((alone - plant) / alone, 5) if alone > 0 else None,
            "members_by_best_standalone_option": {str(o): int(c) for o, c in zip(options, counts, strict=True)},
            "members": [{"id": ids[i], "best_standalone_option": str(best_option[i]),
                         "standalone_annual_cost_usd": round(float(best_cost[i]), 2),
                         "reactor_annual_cost_usd": round(float(chosen[i]), 2),
                         "saving_usd_per_year": round(float(best_cost[i] - chosen[i]), 2)} for i in top],
            "members_listed": int(len(top))})
    labels = result.unit_labels if len(result.unit_labels) == len(st) else np.arange(len(st))
    clustered = bool(result.solver.get("clustering", {}).get("clustered", False))
    unserved = []
    for row in result.breakeven.to_dict("records"):  # at most optimize.WHY_TOP units
        members = np.flatnonzero(labels == row["unit"])
        members = members[np.argsort(-e[members], kind="stable")]
        mult = float(row["breakeven_capex_multiplier"])
        if not np.isfinite(row["own_reactor_annual_cost_usd"]):
            note = "no suitable site within reach for a reactor of an allowed kind"
        elif not np.isfinite(mult):
            note = "no capex reduction suffices: connection, fuel, O&M and back-up alone cost more than stand-alone"
        elif mult >= 1.0:
            note = ("a plant of its own already costs less than stand-alone; the plan uses its sites for "
                    "other settlements, or max_sites or the MIP gap kept it out")
        else:
            note = "a reactor of its own would win at this capex reduction (sharing a plant may win sooner)"
        unserved.append({
            "settlements": [ids[i] for i in members[:WHY_SETTLEMENTS]], "members": int(len(members)),
            "largest_settlement": str(st["name"].to_numpy()[members[0]]) if "name" in st.columns else ids[members[0]],
            "demand_mwh_per_year": round(float(row["demand_kwh_per_year"]) / 1000.0, 3),
            "best_standalone_option": str(pd.Series(best_option[members]).mode().iat[0]),
            "standalone_annual_cost_usd": round(float(row["standalone_annual_cost_usd"]), 2),
            "own_reactor_annual_cost_usd": (round(float(row["own_reactor_annual_cost_usd"]), 2)
                                            if np.isfinite(row["own_reactor_annual_cost_usd"]) else None),
            "technology": row["technology"] or None, "site_id": row["site_id"] or None,
            "distance_km": round(float(row["distance_km"]), 3) if np.isfinite(row["distance_km"]) else None,
            "breakeven_capex_multiplier": round(mult, 4) if np.isfinite(mult) else None,
            "required_capex_reduction_fraction": round(max(1.0 - mult, 0.0), 4) if np.isfinite(mult) else None,
            "note": note})
    return {
        "method": ("built sites: members' best stand-alone annual cost minus their share of the plant's "
                   "annual cost. Not served (largest first): bisection on a multiplier of every reactor "
                   "technology's capex_usd_per_kw until the cheapest plant of the unit's own (any allowed "
                   "technology at any candidate site, a direct line) costs its stand-alone cost; the "
                   "reduction is 1 - multiplier. Sufficient, not necessary: a shared plant may win sooner."),
        "unit": "cluster" if clustered else "settlement",
        "built_sites": built, "not_served_by_reactor": unserved}


def grid_status_section(st: pd.DataFrame) -> dict:
    """The existing grid: isolated systems apart from grid-connected places (geo.grid_status).

    Parameters
    ----------
    st : pandas.DataFrame
        Assembled settlements with grid_status, grid_status_source, is_island, population_target (persons),
        demand_kwh_per_year (kWh/yr), chosen_option and chosen_annual_cost_usd (USD/yr).

    Returns
    -------
    dict
        Per status (connected, weak, unconnected; unconnected split into `island` and `mainland`): settlements,
        population, demand (MWh/yr), annual cost (USD/yr), settlements per chosen option; per status source:
        settlements and population. Empty when the settlements have no grid status.
    """
    if "grid_status" not in st.columns:
        return {}
    status = st["grid_status"].astype(str).to_numpy()
    isolated = np.where(st["is_island"].to_numpy(bool), "isolated_island", "isolated_mainland")
    place = np.where(status == "unconnected", isolated, status)
    frame = pd.DataFrame({"place": place, "n": 1, "population": st["population_target"].to_numpy(float),
                          "demand_mwh_per_year": st["demand_kwh_per_year"].to_numpy(float) / 1000.0,
                          "annual_cost_usd": st["chosen_annual_cost_usd"].to_numpy(float),
                          "source": st["grid_status_source"].astype(str).to_numpy(), "option": st["chosen_option"].to_numpy()})
    by = frame.groupby("place")[["n", "population", "demand_mwh_per_year", "annual_cost_usd"]].sum()
    options = {str(p): {str(o): int(k) for o, k in g.groupby("option").size().items()} for p, g in frame.groupby("place")}
    sources = frame.groupby("source")[["n", "population"]].sum()
    return {
        "by_status": {p: {"settlements": int(row["n"]), "population": round(float(row["population"])),
                          "demand_mwh_per_year": round(float(row["demand_mwh_per_year"]), 3),
                          "annual_cost_usd": round(float(row["annual_cost_usd"]), 2),
                          "chosen_options": options[str(p)]} for p, row in by.iterrows()},
        "by_source": {s: {"settlements": int(row["n"]), "population": round(float(row["population"]))}
                      for s, row in sources.iterrows()},
        "population_share_on_grid": round(float(frame["population"][frame["place"].isin(["connected", "weak"])].sum()
                                                / max(frame["population"].sum(), 1e-9)), 4),
    }
