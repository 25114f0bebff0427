"""Assemble a plan: per-settlement option costs, the chosen option, reactor sites, totals and why.

The plan's settlement table carries one `lcoe_<option>_usd_per_kwh` column per option. For a
reactor option it is the settlement's own cheapest plant of that kind (a plant at the nearest
suitable site serving only it, with its connection); for a settlement the optimiser assigns to a
shared plant, its column for that plant's option is its share of the plant's cost. Shares are
proportional to each member's best individual annual cost (the cheapest of its stand-alone and
own-reactor options), so every member pays the same fraction of what it would pay alone; when the
plant costs less than its members alone (the optimiser's reason to build it), each member's share is
below every alternative, and the chosen option is the least-cost one for every settlement.

Net present cost (NPV of costs over the horizon, HOMER's "NPC") stands next to every annual cost:
`npv_<option>_usd` beside each LCOE column and `chosen_npv_usd`, each annual cost / CRF(r, H)
(economics.net_present_cost; a shared plant's member: its allocated annual cost / CRF), with
`chosen_annual_cost_inr` and `chosen_lcoe_inr_per_kwh` at the scenario's INR rate. `money_fields`
derives the plan.json NPV and INR figures (totals, option totals, reactor sites) from the USD annual
costs and investments; 1 crore = 1e7 INR.

`why_section` explains the plan (plan.json `why`): for each built site, the annual saving against
every member on its best stand-alone option; for the largest units (settlements or clusters) left
without a reactor, the fractional fall of reactor capex_usd_per_kw at which a plant of their own would
break even (optimize._breakeven, a bisection on the capex multiplier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import (
    ALL_OPTIONS,
    REACTOR_OPTIONS,
    STANDALONE_OPTIONS,
    Money,
    by_option,
    first_of,
    idc_factor,
    lcoe,
    net_present_cost,
)
from smrplan.costs.engine import CostBasis, OptionCosts
from smrplan.geo.grid import mst_length_km
from smrplan.geo.layers import Region
from smrplan.optimize.solve import KIND_OPTION, PlanResult, solve_plan


def lcoe_col(option: str) -> str:
    return f"lcoe_{option}_usd_per_kwh"


def npv_col(option: str) -> str:
    return f"npv_{option}_usd"


CRORE = 1e7  # INR


def plant_capex_usd(tech, modules: float, backup_kw: float, diesel_capex_per_kw: float, discount_rate: float) -> float:
    """Investment of a built plant: modules with interest during construction, shore works, back-up."""
    per_kw = tech["capex_usd_per_kw"] * float(idc_factor(discount_rate, tech["construction_years"]))
    return float(modules * tech["module_size_mw"] * 1000.0 * per_kw + (tech.get("shore_works_usd", 0.0) or 0.0)
                 + backup_kw * diesel_capex_per_kw)


def assemble(settlements: pd.DataFrame, result: PlanResult, annual: dict[str, np.ndarray],
             diesel_capex_per_kw: float, discount_rate: float, money: Money | None = None,
             inr_per_usd: float | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Return the settlement table with chosen options and the built-site records.

    `annual` maps each option to per-settlement annual cost (NaN where infeasible). With `money`,
    the table also gets the net present cost columns (`npv_<option>_usd`, `chosen_npv_usd`); with
    `inr_per_usd`, `chosen_annual_cost_inr` and `chosen_lcoe_inr_per_kwh`.
    """
    st = settlements.copy()
    e = st["demand_kwh_per_year"].to_numpy(float)
    for option in ALL_OPTIONS:
        st[lcoe_col(option)] = lcoe(annual[option], e)
        if money is not None:
            st[npv_col(option)] = net_present_cost(annual[option], money)
    best_individual = np.nanmin(np.column_stack([annual[o] for o in ALL_OPTIONS]), axis=1)
    standalone = np.column_stack([annual[o] for o in ("diesel", "pv_battery", "grid")])
    standalone_choice = np.array(["diesel", "pv_battery", "grid"])[np.nanargmin(standalone, axis=1)]
    st["chosen_option"] = standalone_choice
    st["chosen_annual_cost_usd"] = np.nanmin(standalone, axis=1)
    st["site_id"] = ""
    st["technology"] = ""
    sites: list[dict] = []
    for f in np.flatnonzero(result.opened):
        members = np.flatnonzero(result.assignment.to_numpy() == f)
        if len(members) == 0:
            continue
        fac = result.facilities[f]
        option = KIND_OPTION[fac.kind]
        plant_cost = result.facility_annual_cost[f] + result.pair_annual_cost.iloc[members].sum()
        alone = best_individual[members]
        share = plant_cost / alone.sum()
        allocated = alone * share
        st.loc[st.index[members], lcoe_col(option)] = allocated / e[members]
        if money is not None:
            st.loc[st.index[members], npv_col(option)] = net_present_cost(allocated, money)
        st.loc[st.index[members], "chosen_option"] = option
        st.loc[st.index[members], "chosen_annual_cost_usd"] = allocated
        st.loc[st.index[members], "site_id"] = fac.site_id
        st.loc[st.index[members], "technology"] = fac.tech.key
        mod_kw = fac.tech["module_size_mw"] * 1000.0
        lons = np.concatenate([[fac.lon], st["lon"].to_numpy()[members]])
        lats = np.concatenate([[fac.lat], st["lat"].to_numpy()[members]])
        demand = float(e[members].sum())
        capex = plant_capex_usd(fac.tech, result.modules[f], result.backup_kw[f], diesel_capex_per_kw, discount_rate)
        capex += float(result.pair_link["link_capex_usd"].iloc[members].sum())
        sites.append({
            "site_id": fac.site_id, "kind": fac.kind, "option": option, "technology": fac.tech.key,
            "technology_name": fac.tech.name, "modules": int(result.modules[f]),
            "capacity_mw": round(float(result.modules[f] * mod_kw / 1000.0), 3),
            "backup_diesel_kw": round(float(result.backup_kw[f]), 1),
            "lon": round(fac.lon, 5), "lat": round(fac.lat, 5),
            "settlements_served": [str(x) for x in st["id"].to_numpy()[members]],
            "population_served": round(float(st["population_target"].to_numpy()[members].sum())),
            "demand_mwh_per_year": round(demand / 1000.0, 3),
            "peak_mw": round(float(st["peak_kw"].to_numpy()[members].sum()) / 1000.0, 3),
            "network_length_km": round(mst_length_km(lons, lats), 3),
            "network_model_km": round(float(result.network_km[f]), 3) if len(result.network_km) else None,
            "submarine_km": round(float(result.pair_link["sea_km"].iloc[members].sum()), 3),
            "capex_usd": round(capex, 2),
            "annual_cost_usd": round(float(plant_cost), 2),
            "lcoe_usd_per_kwh": round(float(plant_cost / demand), 5) if demand > 0 else None,
            "standalone_annual_cost_usd": round(float(st["standalone_annual_cost_usd"].to_numpy()[members].sum()), 2),
            "saving_vs_standalone_usd_per_year": round(
                float(st["standalone_annual_cost_usd"].to_numpy()[members].sum() - plant_cost), 2),
        })
    chosen = st["chosen_annual_cost_usd"].to_numpy(float)
    if money is not None:
        st["chosen_npv_usd"] = net_present_cost(chosen, money)
    if inr_per_usd is not None:
        st["chosen_annual_cost_inr"] = chosen * inr_per_usd
        st["chosen_lcoe_inr_per_kwh"] = lcoe(chosen * inr_per_usd, e)
    return st, sites


@dataclass(frozen=True)
class Optimised:
    """The least-cost plan of a set of settlements.

    Attributes
    ----------
    result : PlanResult
        The solver's plan: facilities, opened sites, assignment, modules, solver record.
    settlements : pandas.DataFrame
        A copy of the settlements with every option's LCOE (and NPV), `standalone_annual_cost_usd`,
        `chosen_option`, `chosen_annual_cost_usd`, `site_id` and `technology` (see `assemble`).
    built : list[dict]
        One record per built reactor plant (site, technology, modules, members, capex, annual cost).
    sites : pandas.DataFrame
        The screened candidate sites given, with `built`, `technology` and `modules`.
    """

    result: PlanResult
    settlements: pd.DataFrame
    built: list[dict]
    sites: pd.DataFrame


def optimise(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, basis: CostBasis, costs: OptionCosts,
             catalogue: Catalogue, money: Money, opt, load_factor: float, carbon_price_usd_per_t: float,
             inr_per_usd: float | None = None) -> Optimised:
    """Solve the plan's facility-location MILP and assemble the plan: the one "solve and assemble"
    of the plan, the Monte Carlo re-optimisation and the explorer.

    Parameters
    ----------
    region : Region
        Land / sea layers (network and cable routes).
    settlements : pandas.DataFrame
        id, lon, lat, is_island, population_target, demand_kwh_per_year (kWh/yr), peak_kw (kW) and any
        other columns to carry; not modified.
    sites : pandas.DataFrame
        Screened candidate sites (`suitable` flags which the plan may use).
    basis, costs : CostBasis, OptionCosts
        The option-cost engine's basis and its costs for these settlements and this catalogue.
    catalogue : Catalogue
        Technology data.
    money : Money
        Discount rate and horizon.
    opt : smrplan.scenario.Optimisation
        Solver settings, limits, reserve margin.
    load_factor : float
        Demand load factor (mean / peak).
    carbon_price_usd_per_t : float
        Carbon price on stand-alone emissions (USD/t CO2).
    inr_per_usd : float, optional
        Adds `chosen_annual_cost_inr` and `chosen_lcoe_inr_per_kwh`.

    Returns
    -------
    Optimised
    """
    st = settlements.copy()
    st["standalone_annual_cost_usd"] = costs.standalone_annual_usd
    groups = by_option(catalogue, list(basis.enabled))
    techs_by_kind = {kind: groups[option] for kind, option in KIND_OPTION.items()}
    diesel = first_of(catalogue, "diesel")
    suitable = sites[sites["suitable"].to_numpy(bool)]
    result = solve_plan(region, st, suitable, techs_by_kind, diesel, first_of(catalogue, "grid_extension"),
                        first_of(catalogue, "submarine_cable"), money, opt, load_factor, carbon_price_usd_per_t)
    assembled, built = assemble(st, result, costs.by_option, diesel["capex_usd_per_kw"], money.discount_rate,
                                money=money, inr_per_usd=inr_per_usd)
    flagged = sites.copy()
    flagged["built"] = flagged["site_id"].isin([b["site_id"] for b in built])
    flagged["technology"] = flagged["site_id"].map({b["site_id"]: b["technology"] for b in built}).fillna("")
    flagged["modules"] = flagged["site_id"].map({b["site_id"]: b["modules"] for b in built}).fillna(0).astype(int)
    return Optimised(result, assembled, built, flagged)


def option_totals(st: pd.DataFrame, details: dict[str, pd.DataFrame], sites: list[dict]) -> dict[str, dict]:
    """Totals by chosen option: settlements, population, demand, capacity, capex, annual cost, LCOE."""
    out = {}
    for option in ALL_OPTIONS:
        sel = (st["chosen_option"] == option).to_numpy()
        energy = float(st.loc[sel, "demand_kwh_per_year"].sum())
        annual = float(st.loc[sel, "chosen_annual_cost_usd"].sum())
        if option in REACTOR_OPTIONS:
            built = [s for s in sites if s["option"] == option]
            cap_mw = sum(s["capacity_mw"] for s in built)
            capex = float(sum(s["capex_usd"] for s in built))
        else:
            cap_mw = float(details[option]["capacity_kw"].to_numpy()[sel].sum()) / 1000.0
            capex = float(details[option]["capex_usd"].to_numpy()[sel].sum())
        out[option] = {"settlements": int(sel.sum()), "population": round(float(st.loc[sel, "population_target"].sum())),
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
    annual costs change."""
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
    `st` is the assembled settlement table; `annual` the per-option annual costs (USD/yr)."""
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
            "site_id": result.facilities[f].site_id, "technology": result.facilities[f].tech.key,
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
    for row in result.breakeven.itertuples(index=False):  # at most optimize.WHY_TOP units
        members = np.flatnonzero(labels == row.unit)
        members = members[np.argsort(-e[members], kind="stable")]
        mult = float(row.breakeven_capex_multiplier)
        if not np.isfinite(row.own_reactor_annual_cost_usd):
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
            "demand_mwh_per_year": round(float(row.demand_kwh_per_year) / 1000.0, 3),
            "best_standalone_option": str(pd.Series(best_option[members]).mode().iat[0]),
            "standalone_annual_cost_usd": round(float(row.standalone_annual_cost_usd), 2),
            "own_reactor_annual_cost_usd": (round(float(row.own_reactor_annual_cost_usd), 2)
                                            if np.isfinite(row.own_reactor_annual_cost_usd) else None),
            "technology": row.technology or None, "site_id": row.site_id or None,
            "distance_km": round(float(row.distance_km), 3) if np.isfinite(row.distance_km) else None,
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
