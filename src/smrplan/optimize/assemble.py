"""Solve and assemble a plan: per-settlement option costs, the chosen option and the built plants.

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
`chosen_annual_cost_inr` and `chosen_lcoe_inr_per_kwh` at the scenario's INR rate.

`optimise` is the one "solve and assemble" of the package: the plan, the sweep's re-optimisation and
the explorer call it. plan.json's totals, NPV / INR figures and `why` are built from its result by
smrplan.summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.categories import categorical, repeated
from smrplan.costs.economics import Money, by_option, first_of, lcoe, net_present_cost, reactor_capex_usd_per_kw
from smrplan.costs.engine import CostBasis, OptionCosts, suitable_sites
from smrplan.geo.grid import mst_length_km
from smrplan.geo.layers import Region
from smrplan.optimize.least_cost import least_cost_plan
from smrplan.optimize.solve import PlanResult, solve_plan
from smrplan.options import ALL_OPTIONS, KIND_OPTION


def lcoe_col(option: str) -> str:
    """Name of an option's LCOE column of the settlement table (USD/kWh)."""
    return f"lcoe_{option}_usd_per_kwh"


def npv_col(option: str) -> str:
    """Name of an option's net present cost column of the settlement table (USD)."""
    return f"npv_{option}_usd"


def plant_capex_usd(tech, modules: float, backup_kw: float, diesel_capex_per_kw: float, discount_rate: float) -> float:
    """Investment of a built plant: modules with interest during construction, shore works, back-up.

    Parameters
    ----------
    tech : Technology
        The reactor's catalogue entry: module size (MW), overnight capex (USD/kW), construction time
        (years), shore works (USD).
    modules : float
        Modules built.
    backup_kw : float
        Diesel back-up built (kW).
    diesel_capex_per_kw : float
        Diesel genset investment (USD/kW).
    discount_rate : float
        Real discount rate of the interest during construction (fraction/yr).

    Returns
    -------
    float
        The plant's investment (USD).
    """
    per_kw = reactor_capex_usd_per_kw(tech, discount_rate)
    return float(modules * tech["module_size_mw"] * 1000.0 * per_kw + (tech.get("shore_works_usd", 0.0) or 0.0)
                 + backup_kw * diesel_capex_per_kw)


def assemble(settlements: pd.DataFrame, result: PlanResult, annual: dict[str, np.ndarray],
             diesel_capex_per_kw: float, discount_rate: float, money: Money | None = None,
             inr_per_usd: float | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Return the settlement table with chosen options and the built-site records.

    `annual` maps each option to per-settlement annual cost (NaN where infeasible). With `money`,
    the table also gets the net present cost columns (`npv_<option>_usd`, `chosen_npv_usd`); with
    `inr_per_usd`, `chosen_annual_cost_inr` and `chosen_lcoe_inr_per_kwh`.

    Parameters
    ----------
    settlements : pandas.DataFrame
        id, lon, lat (degrees), population_target (persons), demand_kwh_per_year (kWh/yr), peak_kw (kW)
        and standalone_annual_cost_usd (USD/yr); not modified.
    result : PlanResult
        The solver's plan: opened facilities, assignment, modules, back-up kW, annual costs (USD/yr).
    annual : dict of str to numpy.ndarray
        Annual cost of each option per settlement (USD/yr).
    diesel_capex_per_kw : float
        Diesel back-up investment (USD/kW).
    discount_rate : float
        Real discount rate of the reactors' interest during construction (fraction/yr).
    money : Money or None, default None
        Discount rate and horizon of the net present costs; None: no NPV columns.
    inr_per_usd : float or None, default None
        Exchange rate (INR/USD); None: no INR columns.

    Returns
    -------
    settlements : pandas.DataFrame
        The copy with `lcoe_<option>_usd_per_kwh` (USD/kWh), `chosen_option` (a Categorical of
        `ALL_OPTIONS`), `chosen_annual_cost_usd` (USD/yr), `site_id`, `technology` (a Categorical of
        "" and the catalogue keys built) and the NPV (USD) and INR (INR/yr, INR/kWh) columns asked for.
    built : list of dict
        One record per built plant: capacity_mw, peak_mw (MW), backup_diesel_kw (kW), lon, lat
        (degrees), population_served (persons), demand_mwh_per_year (MWh/yr), network and submarine
        lengths (km), capex_usd (USD), annual costs and savings (USD/yr), lcoe_usd_per_kwh (USD/kWh).
    """
    st = settlements.copy(deep=False)  # columns are added, none is written in place
    e = st["demand_kwh_per_year"].to_numpy(float)
    for option in ALL_OPTIONS:
        st[lcoe_col(option)] = lcoe(annual[option], e)
        if money is not None:
            st[npv_col(option)] = net_present_cost(annual[option], money)
    best_individual = np.nanmin(np.column_stack([annual[o] for o in ALL_OPTIONS]), axis=1)
    standalone = np.column_stack([annual[o] for o in ("diesel", "pv_battery", "grid")])
    standalone_choice = np.array(["diesel", "pv_battery", "grid"])[np.nanargmin(standalone, axis=1)]
    st["chosen_option"] = categorical(standalone_choice, ALL_OPTIONS)
    st["chosen_annual_cost_usd"] = np.nanmin(standalone, axis=1)
    st["site_id"] = ""
    st["technology"] = repeated("", len(st), ("",))  # in its place among the columns; set below
    choice, technology = standalone_choice.astype(object), np.full(len(st), "", dtype=object)
    sites: list[dict] = []
    for f in np.flatnonzero(result.opened):
        members = np.flatnonzero(result.assignment.to_numpy() == f)
        if len(members) == 0:
            continue
        fac = result.facilities[int(f)]
        option = KIND_OPTION[fac.kind]
        plant_cost = result.facility_annual_cost[f] + result.pair_annual_cost.iloc[members].sum()
        alone = best_individual[members]
        share = plant_cost / alone.sum()
        allocated = alone * share
        st.loc[st.index[members], lcoe_col(option)] = allocated / e[members]
        if money is not None:
            st.loc[st.index[members], npv_col(option)] = net_present_cost(allocated, money)
        choice[members], technology[members] = option, fac.tech.key
        st.loc[st.index[members], "chosen_annual_cost_usd"] = allocated
        st.loc[st.index[members], "site_id"] = fac.site_id
        lons = np.concatenate([[fac.lon], st["lon"].to_numpy()[members]])
        lats = np.concatenate([[fac.lat], st["lat"].to_numpy()[members]])
        demand = float(e[members].sum())
        modules = int(result.modules[f])
        capex = plant_capex_usd(fac.tech, modules, result.backup_kw[f], diesel_capex_per_kw, discount_rate)
        capex += float(result.pair_link["link_capex_usd"].iloc[members].sum())
        sites.append({
            "site_id": fac.site_id, "kind": fac.kind, "option": option, "technology": fac.tech.key,
            "technology_name": fac.tech.name, "modules": modules,
            "capacity_mw": round(modules * fac.tech["module_size_mw"], 3),
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
    st["chosen_option"], st["technology"] = categorical(choice, ALL_OPTIONS), categorical(technology)
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
    of the plan, the Monte Carlo re-optimisation and the explorer. With ``opt.enabled`` false no MILP
    is built: each settlement takes its least-cost option alone (`least_cost.least_cost_plan`).

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
    st = settlements.copy(deep=False)  # one column added
    st["standalone_annual_cost_usd"] = costs.standalone_annual_usd
    groups = by_option(catalogue, list(basis.enabled))
    techs_by_kind = {kind: groups[option] for kind, option in KIND_OPTION.items()}
    diesel = first_of(catalogue, "diesel")
    if opt.enabled:
        suitable = suitable_sites(sites)
        result = solve_plan(region, st, suitable, techs_by_kind, diesel, first_of(catalogue, "grid_extension"),
                            first_of(catalogue, "submarine_cable"), money, opt, load_factor, carbon_price_usd_per_t,
                            allowed=basis.allowed)
    else:
        result = least_cost_plan(st, basis, costs, catalogue, money)
    assembled, built = assemble(st, result, costs.by_option, diesel["capex_usd_per_kw"], money.discount_rate,
                                money=money, inr_per_usd=inr_per_usd)
    flagged = sites.copy(deep=False)  # columns added or replaced, none written in place
    flagged["built"] = flagged["site_id"].isin([b["site_id"] for b in built])
    flagged["technology"] = categorical(flagged["site_id"].map({b["site_id"]: b["technology"] for b in built}).fillna(""))
    flagged["modules"] = flagged["site_id"].map({b["site_id"]: b["modules"] for b in built}).fillna(0).astype(int)
    return Optimised(result, assembled, built, flagged)
