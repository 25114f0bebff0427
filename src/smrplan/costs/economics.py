"""One cost method for every supply option, vectorised over settlements.

Discounted cash flow over the scenario horizon H (OnSSET convention, Mentis et al. 2017): each
component's investment is paid at year 0 (with interest during construction for reactors), replaced
at the end of its life while inside the horizon, and leaves a linear salvage value at year H;
operation, fuel and energy run from year 1 to H. Then

    LCOE = sum_t costs_t / (1+r)^t  /  sum_t E_t / (1+r)^t
         = (PV(investments - salvage + decommissioning) * CRF(r, H) + annual O&M + fuel) / E

because energy is constant from year 1 to H; `annual_cost_usd` is the numerator, the constant
annual payment with the same present value. Every cost frame also carries `npv_usd`, the net present
cost (NPV of costs, HOMER's "NPC") over the horizon: that present value itself,

    NPC = PV(investments - salvage + decommissioning) + (annual O&M + fuel) / CRF(r, H)
        = annual_cost_usd / CRF(r, H)

(`net_present_cost`). Money is constant USD of the scenario base year.

Sizing: diesel to peak x (1 + reserve); PV + battery hybrid by its design renewable share;
grid extension / submarine cable by distance; reactor plants in whole modules with refuelling
back-up by one extra module (N+1) or by diesel, whichever costs less.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, Technology
from smrplan.options import ALL_OPTIONS, CATALOGUE_OPTION_SUPPLIES
from smrplan.units import HOURS_PER_YEAR as HOURS
from smrplan.units import KG_PER_TONNE, KW_PER_MW


@dataclass(frozen=True)
class Money:
    """Discounting settings: real discount rate and horizon (years)."""

    discount_rate: float
    horizon_years: int

    @property
    def crf(self) -> float:
        return crf(self.discount_rate, self.horizon_years)


def crf(r: float, n: float) -> float:
    """Capital recovery factor: annual payment per unit of present value over n years at rate r."""
    growth = math.expm1(n * math.log1p(r))  # (1 + r)^n - 1, exact for rates near zero
    if growth == 0:
        return 1.0 / n
    return r * (growth + 1.0) / growth


def idc_factor(r: float, construction_years) -> np.ndarray:
    """Interest during construction: overnight capex spent evenly over T years, compounded to start
    of operation at rate r: ((1+r)^T - 1) / (r T) (1 when T = 0 or r = 0)."""
    t = np.asarray(construction_years, float)
    if r == 0:
        return np.ones_like(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.expm1(t * np.log1p(r)) / (r * t)  # ((1 + r)^T - 1) / (r T), exact for rates near zero
    return np.where(t > 0, f, 1.0)


def reactor_capex_usd_per_kw(tech: Technology, discount_rate: float) -> float:
    """A reactor's investment per kW at the start of operation: overnight `capex_usd_per_kw` times the
    interest during construction over its `construction_years` (`idc_factor`), USD/kW. The one place
    interest during construction is applied (costing, optimisation and the built plants' capex)."""
    return float(tech["capex_usd_per_kw"] * idc_factor(discount_rate, tech["construction_years"]))


def pv_factor(life_years: float, money: Money, end_of_life_fraction: float = 0.0) -> float:
    """Present value at year 0 per USD of capex of a component over the horizon: first purchase,
    replacements at each multiple of its life inside the horizon, an end-of-life cost (fraction of
    capex, e.g. decommissioning) at each retirement inside the horizon, minus linear salvage at H.

    Parameters
    ----------
    life_years : float
        Lifetime of the component (years).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    end_of_life_fraction : float, default 0
        Cost at each retirement inside the horizon, e.g. decommissioning (fraction of capex).

    Returns
    -------
    float
        Present value at year 0 per USD of capex (USD/USD).

    Raises
    ------
    ValueError
        When the lifetime is not positive.
    """
    r, h, life = money.discount_rate, money.horizon_years, float(life_years)
    if life <= 0:
        raise ValueError("lifetime must be positive")
    starts = np.arange(0.0, h, life)
    pv = float(np.sum((1.0 + r) ** -starts))
    ends = starts + life
    retire = ends[ends <= h]
    pv += end_of_life_fraction * float(np.sum((1.0 + r) ** -retire))
    used = h - np.floor(h / life) * life  # age of the last unit at H (0 = retires exactly at H)
    salvage = (1.0 - used / life) if used > 0 else 0.0
    return pv - salvage * (1.0 + r) ** -h


def investment_pv(capex_usd, life_years, money: Money, end_of_life_fraction=0.0) -> np.ndarray:
    """Present value (year 0) of components' investments over the horizon (see `pv_factor`);
    capex may be an array, life and end-of-life fraction are per component type (scalars).

    Parameters
    ----------
    capex_usd : array_like
        Investment of each component, paid at year 0 and at each replacement (USD).
    life_years : float
        Lifetime of the component type (years).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    end_of_life_fraction : float, default 0
        Cost at each retirement inside the horizon (fraction of capex).

    Returns
    -------
    numpy.ndarray
        Present value at year 0 of each component's investments (USD).
    """
    return np.asarray(capex_usd, float) * pv_factor(float(life_years), money, float(end_of_life_fraction))


def annualised(capex_usd, life_years, money: Money, end_of_life_fraction=0.0) -> np.ndarray:
    """Equivalent annual cost of a component's investments over the horizon (USD/yr).

    Parameters
    ----------
    capex_usd : array_like
        Investment of each component (USD).
    life_years : float
        Lifetime of the component type (years).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    end_of_life_fraction : float, default 0
        Cost at each retirement inside the horizon (fraction of capex).

    Returns
    -------
    numpy.ndarray
        `investment_pv` x CRF(r, H), per component (USD/yr).
    """
    return investment_pv(capex_usd, life_years, money, end_of_life_fraction) * money.crf


def net_present_cost(annual_cost_usd, money: Money) -> np.ndarray:
    """Net present cost (NPV of costs, USD at year 0) over the horizon of an annual cost built as
    PV(investments) x CRF + running costs: the present value of the investments (replacements,
    salvage, decommissioning) plus operation, fuel and energy from year 1 to H discounted, which is
    annual / CRF(r, H). NaN stays NaN (infeasible options)."""
    return np.asarray(annual_cost_usd, float) / money.crf


def _frame(**cols) -> pd.DataFrame:
    """Columns as float arrays, except boolean flags (e.g. `feasible`)."""
    data = {k: np.asarray(v, bool if np.asarray(v).dtype == bool else float) for k, v in cols.items()}
    return pd.DataFrame(data, copy=False)  # no block consolidation: a large-table hot path


def diesel_price_usd_per_l(diesel: Technology, surcharge) -> np.ndarray:
    """Diesel price delivered (USD/l): the catalogue price, plus the island logistics surcharge where
    fuel travels on beyond a depot by sea (`surcharge`, bool per settlement or system)."""
    return diesel["diesel_price_usd_per_l"] + np.where(surcharge, diesel["island_logistics_usd_per_l"], 0.0)


def diesel_cost(energy_kwh, peak_kw, diesel: Technology, money: Money, surcharge) -> pd.DataFrame:
    """Diesel genset mini-grid sized to peak x (1 + reserve margin).

    Fuel (HOMER affine curve, litres per hour = intercept x online rated kW + slope x output kW),
    summed over the year with units committed to run at the average loading fraction on average:
    litres = (intercept / loading + slope) x kWh. Island settlements away from a fuel depot pay the
    island logistics surcharge on every litre (`diesel_price_usd_per_l`).

    Parameters
    ----------
    energy_kwh : array_like
        Annual energy served per settlement (kWh/yr).
    peak_kw : array_like
        Peak load per settlement (kW).
    diesel : Technology
        The catalogue's diesel entry: reserve margin (fraction), fuel curve (l/kWh), average loading
        (fraction), fuel price and island surcharge (USD/l), capex (USD/kW), lifetime (years), fixed O&M
        (USD/kW/yr), variable O&M (USD/kWh), CO2 (kg/l).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    surcharge : bool or array_like of bool
        Settlements that pay the island logistics surcharge on fuel (islands, not at a fuel depot).

    Returns
    -------
    pandas.DataFrame
        One row per settlement: `capacity_kw` (kW), `capex_usd` (USD), `annual_cost_usd` (USD/yr),
        `npv_usd` (USD), `fuel_l` (l/yr), `co2_t` (t CO2/yr), `fuel_cost_usd` (USD/yr).
    """
    e = np.asarray(energy_kwh, float)
    cap = np.asarray(peak_kw, float) * (1.0 + diesel["reserve_margin_fraction"])
    litres = (diesel["fuel_curve_intercept_l_per_kwh_rated"] / diesel["average_loading_fraction"]
              + diesel["fuel_curve_slope_l_per_kwh"]) * e
    price = diesel_price_usd_per_l(diesel, surcharge)
    capex = cap * diesel["capex_usd_per_kw"]
    annual = (annualised(capex, diesel["lifetime_years"], money) + cap * diesel["fixed_om_usd_per_kw_year"]
              + e * diesel["variable_om_usd_per_kwh"] + litres * price)
    return _frame(capacity_kw=cap, capex_usd=capex, annual_cost_usd=annual, npv_usd=net_present_cost(annual, money),
                  fuel_l=litres,
                  co2_t=litres * diesel["co2_kg_per_l"] / KG_PER_TONNE, fuel_cost_usd=litres * price)


def pv_battery_cost(energy_kwh, peak_kw, night_share: float, pv: Technology, diesel: Technology, money: Money,
                    is_island, surcharge=None) -> pd.DataFrame:
    """Solar PV + battery (+ diesel) hybrid mini-grid.

    PV supplies the design renewable share f of energy; the part of it used at night (night_share of
    f x E) passes the battery and loses (1 - round-trip efficiency). PV kW = f E (1 + s (1/eta - 1)) /
    (8760 x capacity factor); battery kWh = battery_hours x mean load / (1 - min SOC); inverter to
    peak; a diesel genset to peak x (1 + reserve) supplies (1 - f) E.
    Islands pay the island capex multiplier on PV, battery and inverter.

    Parameters
    ----------
    energy_kwh : array_like
        Annual energy served per settlement (kWh/yr).
    peak_kw : array_like
        Peak load per settlement (kW); sizes the inverter and the diesel genset.
    night_share : float
        Share of the annual load in night hours (fraction), s above.
    pv : Technology
        The catalogue's PV + battery entry: renewable share f and round-trip efficiency eta (fractions),
        PV capacity factor (fraction), battery hours (h), minimum state of charge (fraction), capex of PV
        and inverter (USD/kW) and battery (USD/kWh), island capex multiplier, lifetimes (years), PV fixed
        O&M (USD/kW/yr).
    diesel : Technology
        The catalogue's diesel entry, for the genset (see `diesel_cost`).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    is_island : bool or array_like of bool
        Settlements that pay the island capex multiplier.
    surcharge : bool or array_like of bool, optional
        Settlements that pay the island fuel surcharge (see `diesel_cost`); default `is_island`.

    Returns
    -------
    pandas.DataFrame
        One row per settlement: `capacity_kw` (PV plus genset, kW), `pv_kw` (kW), `battery_kwh` (kWh of
        storage), `capex_usd` (USD), `annual_cost_usd` (USD/yr), `npv_usd` (USD), `fuel_l` (l/yr),
        `co2_t` (t CO2/yr), `fuel_cost_usd` (USD/yr).
    """
    e = np.asarray(energy_kwh, float)
    peak = np.asarray(peak_kw, float)
    f = pv["renewable_fraction"]
    eta = pv["battery_roundtrip_efficiency"]
    mult = np.where(is_island, pv["island_capex_multiplier"], 1.0)
    pv_kw = f * e * (1.0 + night_share * (1.0 / eta - 1.0)) / (HOURS * pv["pv_capacity_factor"])
    batt_kwh = pv["battery_hours"] * e / HOURS / (1.0 - pv["battery_min_soc_fraction"])
    pv_capex = pv_kw * pv["pv_capex_usd_per_kw"] * mult
    batt_capex = batt_kwh * pv["battery_capex_usd_per_kwh"] * mult
    inv_capex = peak * pv["inverter_capex_usd_per_kw"] * mult
    gen = diesel_cost((1.0 - f) * e, peak, diesel, money, is_island if surcharge is None else surcharge)
    annual = (annualised(pv_capex, pv["pv_lifetime_years"], money)
              + annualised(batt_capex, pv["battery_lifetime_years"], money)
              + annualised(inv_capex, pv["battery_lifetime_years"], money)
              + pv_kw * pv["pv_fixed_om_usd_per_kw_year"] + gen["annual_cost_usd"].to_numpy())
    return _frame(capacity_kw=pv_kw + gen["capacity_kw"].to_numpy(), pv_kw=pv_kw, battery_kwh=batt_kwh,
                  capex_usd=pv_capex + batt_capex + inv_capex + gen["capex_usd"].to_numpy(),
                  annual_cost_usd=annual, npv_usd=net_present_cost(annual, money), fuel_l=gen["fuel_l"].to_numpy(),
                  co2_t=gen["co2_t"].to_numpy(),
                  fuel_cost_usd=gen["fuel_cost_usd"].to_numpy())


def line_cost(land_km, sea_km, peak_kw, grid: Technology, cable: Technology, money: Money) -> pd.DataFrame:
    """Capex and annual cost of a link: land line (MV up to its capacity, HV above) plus submarine
    cable for the sea part, a substation, and a landing station at each end of a cable.

    Parameters
    ----------
    land_km, sea_km : array_like
        Land and sea length of each link (km).
    peak_kw : array_like
        Peak load carried (kW): MV line up to the grid entry's `mv_max_capacity_kw`, HV above.
    grid : Technology
        The catalogue's grid extension entry: line costs (USD/km), substation (USD), line lifetime
        (years), line O&M (fraction of capex/yr).
    cable : Technology
        The catalogue's submarine cable entry: cable cost (USD/km), landing station (USD), lifetime
        (years), O&M (fraction of capex/yr).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).

    Returns
    -------
    pandas.DataFrame
        One row per link: `capex_usd` (USD), `annual_cost_usd` (USD/yr), `npv_usd` (USD).
    """
    land = np.asarray(land_km, float)
    sea = np.asarray(sea_km, float)
    peak = np.asarray(peak_kw, float)
    per_km = np.where(peak <= grid["mv_max_capacity_kw"], grid["mv_line_usd_per_km"], grid["hv_line_usd_per_km"])
    land_capex = land * per_km + np.where(land + sea > 0, grid["substation_usd"], 0.0)
    sea_capex = sea * cable["cable_usd_per_km"] + np.where(sea > 0, 2 * cable["landing_station_usd"], 0.0)
    annual = (annualised(land_capex, grid["line_lifetime_years"], money)
              + annualised(sea_capex, cable["lifetime_years"], money)
              + land_capex * grid["line_om_fraction_per_year"] + sea_capex * cable["om_fraction_per_year"])
    return _frame(capex_usd=land_capex + sea_capex, annual_cost_usd=annual, npv_usd=net_present_cost(annual, money))


def grid_cost(energy_kwh, peak_kw, land_km, sea_km, grid: Technology, cable: Technology,
              money: Money) -> pd.DataFrame:
    """Grid extension (and submarine cable where the route crosses sea): link cost plus grid supply
    at the bulk cost grossed up for losses. Infeasible beyond the maximum line or cable length.

    Parameters
    ----------
    energy_kwh : array_like
        Annual energy delivered per settlement (kWh/yr).
    peak_kw : array_like
        Peak load per settlement (kW).
    land_km, sea_km : array_like
        Land and sea length of the route to the nearest grid point (km).
    grid : Technology
        The catalogue's grid extension entry: line costs (see `line_cost`), losses (fraction), bulk supply
        cost (USD/kWh), maximum line length (km), grid emission factor (t CO2/MWh).
    cable : Technology
        The catalogue's submarine cable entry (see `line_cost`), with its maximum length (km).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).

    Returns
    -------
    pandas.DataFrame
        One row per settlement: `capacity_kw` (the peak, kW), `capex_usd` (USD), `annual_cost_usd`
        (USD/yr), `npv_usd` (USD), `fuel_l` and `fuel_cost_usd` (zero), `co2_t` (t CO2/yr of the energy
        bought, losses included), `feasible` (bool).
    """
    e = np.asarray(energy_kwh, float)
    link = line_cost(land_km, sea_km, peak_kw, grid, cable, money)
    bought = e / (1.0 - grid["losses_fraction"])
    annual = link["annual_cost_usd"].to_numpy() + bought * grid["grid_supply_usd_per_kwh"]
    feasible = (np.asarray(land_km) <= grid["max_distance_km"]) & (np.asarray(sea_km) <= cable["max_length_km"])
    return _frame(capacity_kw=np.asarray(peak_kw, float), capex_usd=link["capex_usd"].to_numpy(),
                  annual_cost_usd=annual, npv_usd=net_present_cost(annual, money), fuel_l=np.zeros_like(e),
                  fuel_cost_usd=np.zeros_like(e),
                  co2_t=bought / KW_PER_MW * grid["grid_emission_t_co2_per_mwh"], feasible=feasible)


def reactor_plant_cost(energy_kwh, peak_kw, tech: Technology, diesel: Technology, money: Money,
                       reserve_margin: float, backup: str = "cheapest", surcharge=True) -> pd.DataFrame:
    """A reactor plant in whole modules serving a load (energy kWh/yr, peak kW), vectorised.

    Plants are bought in whole purchase units of `Technology.modules_per_unit` modules (a two-reactor
    barge is one unit): units n = ceil(peak x (1 + reserve) / unit kW), at least enough for energy at
    the capacity factor. Refuelling back-up (one module refuels at a time): "n_plus_1" adds a unit when
    the others and the rest of the refuelling unit cannot carry the peak during one module's outage;
    "diesel" keeps n and adds diesel gensets (priced as `diesel_cost`) for that shortfall, with fuel
    for the outage energy (shortfall x outage hours x load factor); "cheapest" takes the lower annual
    cost. Capex = modules x module kW x capex/kW x IDC + shore works (floating, once per plant);
    decommissioning at end of life as a fraction of capex. Infeasible when more units than the plant's
    maximum (`Technology.max_units`) would be needed.

    Parameters
    ----------
    energy_kwh : array_like
        Annual energy served per plant (kWh/yr).
    peak_kw : array_like
        Peak load per plant (kW).
    tech : Technology
        The reactor's catalogue entry: module size (MW), capacity factor (fraction), overnight capex
        (USD/kW) and construction time (years), shore works (USD), lifetime (years), decommissioning
        (fraction of capex), fixed O&M (USD/kW/yr), variable O&M and fuel (USD/MWh), refuelling outage
        (days) and interval (years), maximum modules per plant.
    diesel : Technology
        The catalogue's diesel entry, for diesel back-up (see `diesel_cost`).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    reserve_margin : float
        Capacity above peak (fraction of peak).
    backup : {"cheapest", "n_plus_1", "diesel"}, default "cheapest"
        Refuelling back-up rule; any other value acts as "cheapest".
    surcharge : bool or array_like of bool, default True
        Plants whose diesel back-up pays the island fuel surcharge (islands, not at a fuel depot).

    Returns
    -------
    pandas.DataFrame
        One row per plant: `modules` (whole purchase units x modules per unit), `capacity_kw` (kW of
        modules), `backup_diesel_kw` (kW),
        `capex_usd` (USD, back-up included), `annual_cost_usd` (USD/yr), `npv_usd` (USD), `fuel_l`
        (diesel back-up, l/yr), `fuel_cost_usd` (USD/yr), `co2_t` (t CO2/yr), `feasible` (bool: no more
        than the maximum modules per plant).
    """
    e = np.asarray(energy_kwh, float)
    peak = np.asarray(peak_kw, float)
    mod_kw, unit_kw = tech["module_size_mw"] * KW_PER_MW, tech.unit_kw
    need = np.maximum(np.ceil(peak * (1.0 + reserve_margin) / unit_kw - 1e-9),
                      np.ceil(e / (unit_kw * HOURS * tech["capacity_factor"]) - 1e-9))
    need = np.maximum(need, 1.0)
    shortfall_kw = np.maximum(peak - (need * unit_kw - mod_kw), 0.0)  # peak not covered with one module out
    per_kw = reactor_capex_usd_per_kw(tech, money.discount_rate)
    fixed = tech.get("shore_works_usd", 0.0) or 0.0
    k_plant = pv_factor(tech["lifetime_years"], money, tech["decommissioning_fraction_of_capex"]) * money.crf
    energy_cost = e / KW_PER_MW * (tech["variable_om_usd_per_mwh"] + tech["fuel_usd_per_mwh"])
    per_unit_annual = unit_kw * (per_kw * k_plant + tech["fixed_om_usd_per_kw_year"])

    n1 = need + (shortfall_kw > 0)
    annual_a = n1 * per_unit_annual + fixed * k_plant + energy_cost
    # Diesel back-up for the shortfall, priced like a diesel mini-grid running through the outages.
    outage_h = tech["refuelling_outage_days"] * 24.0 / tech["refuelling_interval_years"]
    load_factor = np.divide(e / HOURS, peak, out=np.zeros_like(e), where=peak > 0)
    outage_kwh = shortfall_kw * outage_h * load_factor
    d = diesel_cost(outage_kwh, shortfall_kw, diesel, money, surcharge)
    d_annual, d_capex = d["annual_cost_usd"].to_numpy(), d["capex_usd"].to_numpy()
    annual_b = need * per_unit_annual + fixed * k_plant + energy_cost + d_annual
    if backup == "n_plus_1":
        pick_b = np.zeros(len(e), bool)
    elif backup == "diesel":
        pick_b = np.ones(len(e), bool)
    else:
        pick_b = annual_b < annual_a
    units = np.where(pick_b, need, n1)
    annual = np.where(pick_b, annual_b, annual_a)
    keep = lambda col: np.where(pick_b, d[col].to_numpy(), 0.0)  # noqa: E731
    return _frame(modules=units * tech.modules_per_unit, capacity_kw=units * unit_kw, backup_diesel_kw=keep("capacity_kw"),
                  capex_usd=units * unit_kw * per_kw + fixed + np.where(pick_b, d_capex, 0.0),
                  annual_cost_usd=annual, npv_usd=net_present_cost(annual, money), fuel_l=keep("fuel_l"),
                  fuel_cost_usd=keep("fuel_cost_usd"), co2_t=keep("co2_t"), feasible=units <= tech.max_units)


def grid_plant_cost(units, tech: Technology, money: Money, credit_fraction=0.0) -> pd.DataFrame:
    """A reactor plant that sells all its output to the grid (a grid-side plant: no local load, no
    refuelling back-up, the grid covers the outages), vectorised over plants.

    Energy E = units x unit kW x capacity factor x (1 - refuelling share) x 8,760 h, where the
    refuelling share is outage days / (365 x refuelling interval years). Capex = units x unit kW x
    overnight capex/kW x (1 - credit) x IDC (`reactor_capex_usd_per_kw`): the credit is the share of the
    overnight cost a reused site saves (grid connection, cooling water, land, buildings). Annual cost =
    capex x PV factor (life, decommissioning) x CRF + fixed O&M x kW + (variable O&M + fuel) x MWh.

    Parameters
    ----------
    units : array_like
        Whole purchase units of the design per plant (`Technology.modules_per_unit` modules each).
    tech : Technology
        A reactor entry: module size (MW), capacity factor (fraction), refuelling outage (days) and
        interval (years), overnight capex (USD/kW), construction (years), lifetime (years),
        decommissioning (fraction of capex), fixed O&M (USD/kW/yr), variable O&M and fuel (USD/MWh).
    money : Money
        Real discount rate (fraction/yr) and horizon H (years).
    credit_fraction : float or array_like, default 0
        Share of the overnight capex saved by reusing a site (fraction, 0 = greenfield).

    Returns
    -------
    pandas.DataFrame
        One row per plant: `capacity_kw` (kW), `energy_kwh` (kWh/yr), `capex_usd` (USD, after the credit
        and with IDC), `credit_usd` (USD of overnight capex saved), `annual_cost_usd` (USD/yr),
        `npv_usd` (USD), `lcoe_usd_per_kwh` (USD/kWh).
    """
    n = np.asarray(units, float)
    credit = np.asarray(credit_fraction, float) * np.ones_like(n)
    kw = n * tech.unit_kw
    refuel = tech["refuelling_outage_days"] / (365.0 * tech["refuelling_interval_years"])
    energy = kw * HOURS * tech["capacity_factor"] * (1.0 - refuel)
    capex = kw * reactor_capex_usd_per_kw(tech, money.discount_rate) * (1.0 - credit)
    k_plant = pv_factor(tech["lifetime_years"], money, tech["decommissioning_fraction_of_capex"]) * money.crf
    annual = (capex * k_plant + kw * tech["fixed_om_usd_per_kw_year"]
              + energy / KW_PER_MW * (tech["variable_om_usd_per_mwh"] + tech["fuel_usd_per_mwh"]))
    return _frame(capacity_kw=kw, energy_kwh=energy, capex_usd=capex, credit_usd=kw * tech["capex_usd_per_kw"] * credit,
                  annual_cost_usd=annual, npv_usd=net_present_cost(annual, money), lcoe_usd_per_kwh=lcoe(annual, energy))


def by_option(catalogue: Catalogue, enabled: list[str]) -> dict[str, list[Technology]]:
    """Enabled technologies grouped by the planning option they supply (data/options.csv); reference
    entries (a grid-side large reactor, the local network) supply none."""
    groups: dict[str, list[Technology]] = {o: [] for o in ALL_OPTIONS}
    for key in enabled:
        option = CATALOGUE_OPTION_SUPPLIES[catalogue[key].option]
        if option is not None:
            groups[option].append(catalogue[key])
    return groups


def first_of(catalogue: Catalogue, option: str) -> Technology:
    """The catalogue's entry for a single-entry option (diesel, pv_battery, grid_extension, ...)."""
    for tech in catalogue.values():
        if tech.option == option:
            return tech
    raise KeyError(option)


def lcoe(annual_cost_usd, energy_kwh) -> np.ndarray:
    """Levelised cost (USD/kWh) = annual cost / annual energy (NaN where energy is zero)."""
    e = np.asarray(energy_kwh, float)
    return np.divide(np.asarray(annual_cost_usd, float), e, out=np.full_like(e, np.nan), where=e > 0)
