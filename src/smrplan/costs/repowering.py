"""What repowering a coal site with small reactors costs, against keeping its coal units.

Per site (vectorised over sites; a loop only over the few reactor designs):

* the coal units that retire (smrplan.siting.repowering) give the capacity to replace (MW) and the
  energy they give, capacity x capacity factor (GEM's, else ``coal_capacity_factor``) x 8,760 h;
* each design is sized in whole purchase units to that energy, at least one unit and never more than
  the retiring capacity (the reused grid connection) nor the design's maximum per plant; a design whose
  one unit is larger than the retiring capacity is not offered there;
* its cost is `economics.grid_plant_cost` with the site-reuse credit: ``site_reuse_credit_fraction``
  (DOE 2022: 15-35 % of overnight capital) times the shares of the cost accounts the site can reuse
  (grid connection, land and buildings always; cooling water only where the site passes the
  ``cooling_water`` criterion);
* keeping the coal unit to the end of its life costs its avoidable running cost per kWh: fuel
  (``coal_fuel_usd_per_kwh``, a fleet-average energy charge, scaled by the unit's GEM heat rate over the
  capacity-weighted mean heat rate of the units given), fixed O&M (``coal_fixed_om_usd_per_kw_year`` over its energy) and the
  scenario's carbon price on its CO2 (GEM's annual estimate over its energy, t/kWh);
* at captive sites of heat-using industries a design that states its thermal power may sell
  ``process_heat_share`` of it as steam (`with_process_heat`; off by default);
* captive units also compare with buying from the grid at the industrial tariff
  (``industrial_tariff_usd_per_kwh``); the Kudankulam-class large plant (greenfield, no credit) and the
  grid's average cost of supply are reported as references.

The cheapest design per site is its reactor option; ``advantage_usd_per_kwh`` = coal cost - reactor
LCOE ranks the sites. ``breakeven_carbon_usd_per_t`` is the carbon price at which the reactor's LCOE
equals the coal unit's running cost. A unit is best replaced in ``first_reactor_year`` when its site's
reactor beats the coal unit, else at its expected retirement (never before the first reactor year).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, Technology
from smrplan.catalogue.repowering import CREDIT_ACCOUNTS, process_heat_industries
from smrplan.costs.economics import Money, first_of, grid_plant_cost
from smrplan.errors import InputError
from smrplan.units import HOURS_PER_YEAR, KW_PER_MW

_REACTOR_OPTIONS = ("land_reactor", "large_reactor")


@dataclass(frozen=True)
class RepoweringCosts:
    """Costs of repowering each coal site.

    Attributes
    ----------
    sites : pandas.DataFrame
        One row per site (the rows given, same order): coal energy (kWh/yr), CO2 (t/yr), coal running
        cost (USD/kWh), credit (fraction), per design ``lcoe_<key>_usd_per_kwh`` (USD/kWh, NaN where not
        offered) and ``units_<key>``, the best design and its capacity (kW), capex (USD), credit (USD),
        LCOE (USD/kWh), advantage (USD/kWh), ``beats_coal``, ``breakeven_carbon_usd_per_t`` and, for
        captive sites, ``beats_tariff``.
    units : pandas.DataFrame
        One row per unit given: ``replacement_year`` (yr; NaN for units that do not retire).
    reference : dict
        Scalars for comparison: large-plant LCOE, the grid's average cost of supply, industrial tariff
        (USD/kWh), carbon price (USD/t).
    """

    sites: pd.DataFrame
    units: pd.DataFrame
    reference: dict


def designs_of(catalogue: Catalogue, keys: Sequence[str], source: str = "scenario") -> list[Technology]:
    """The land reactor designs to cost (catalogue keys), checked.

    Parameters
    ----------
    catalogue : Catalogue
        The scenario's catalogue.
    keys : sequence of str
        Catalogue keys (``repowering.designs`` or the large reference).
    source : str
        The scenario file, named in errors.

    Returns
    -------
    list of Technology
        The entries, in the order given.

    Raises
    ------
    InputError
        When a key is unknown or not a land or large reactor.
    """
    out = []
    for key in keys:
        if key not in catalogue:
            raise InputError(source, "repowering.designs", f"unknown technology {key!r}; expected some of {sorted(catalogue)}")
        if catalogue[key].option not in _REACTOR_OPTIONS:
            raise InputError(source, "repowering.designs", f"{key!r} is a {catalogue[key].option}; expected a land reactor")
        out.append(catalogue[key])
    return out


def site_credit_fraction(cooling_ok: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Share of a design's overnight capex a site's reuse saves (fraction): the DOE 2022 credit times
    the shares of the accounts the site reuses (cooling water only where `cooling_ok`)."""
    shares = {a: p[f"credit_share_{a}"] for a in CREDIT_ACCOUNTS}
    reused = shares["grid_connection"] + shares["land"] + shares["buildings"] \
        + shares["cooling_water"] * np.asarray(cooling_ok, bool)
    return p["site_reuse_credit_fraction"] * reused


def coal_running(units: pd.DataFrame, p: dict[str, float], carbon_price_usd_per_t: float) -> pd.DataFrame:
    """Energy, CO2 and avoidable running cost of each coal unit.

    Parameters
    ----------
    units : pandas.DataFrame
        ``capacity_mw`` (MW), ``capacity_factor`` (fraction, NaN = the default), ``annual_co2_mt``
        (Mt CO2/yr, GEM's estimate at its capacity factor), ``heat_rate_btu_per_kwh`` (Btu/kWh; NaN =
        the mean).
    p : dict
        Repowering parameter values (coal fuel USD/kWh, fixed O&M USD/kW/yr, default capacity factor).
    carbon_price_usd_per_t : float
        USD/t CO2.

    Returns
    -------
    pandas.DataFrame
        ``energy_kwh`` (kWh/yr), ``co2_t`` (t/yr), ``running_usd`` (USD/yr, carbon included),
        ``running_ex_carbon_usd`` (USD/yr).
    """
    kw = units["capacity_mw"].to_numpy(float) * KW_PER_MW
    cf = units["capacity_factor"].to_numpy(float)
    cf = np.where(np.isfinite(cf) & (cf > 0), cf, p["coal_capacity_factor"])
    energy = kw * cf * HOURS_PER_YEAR
    co2 = np.nan_to_num(units["annual_co2_mt"].to_numpy(float)) * 1e6
    rate = units["heat_rate_btu_per_kwh"].to_numpy(float)
    known = np.isfinite(rate) & (rate > 0)
    mean_rate = np.average(rate[known], weights=kw[known]) if (known & (kw > 0)).any() else np.nan
    scale = np.where(known, rate / mean_rate, 1.0)
    ex = energy * p["coal_fuel_usd_per_kwh"] * scale + kw * p["coal_fixed_om_usd_per_kw_year"]
    return pd.DataFrame({"energy_kwh": energy, "co2_t": co2, "running_ex_carbon_usd": ex,
                         "running_usd": ex + carbon_price_usd_per_t * co2}, index=units.index)


def heat_sites(sites: pd.DataFrame) -> np.ndarray:
    """Bool per site: a captive unit of a heat-using industry (``captive_industry`` in
    `process_heat_industries`, data/coal_repowering.yaml)."""
    industry = sites["captive_industry"] if "captive_industry" in sites else pd.Series("", index=sites.index)
    heat = industry.fillna("").astype(str).str.strip().str.lower().isin(process_heat_industries()).to_numpy()
    return sites["is_captive"].to_numpy(bool) & heat


def with_process_heat(plant: pd.DataFrame, tech: Technology, heat_site: np.ndarray, p: dict[str, float]) -> pd.DataFrame:
    """A plant's cost per site with process heat as a co-product where the site can take it.

    At a captive site of a heat-using industry (`heat_site`), a design whose catalogue entry states its
    thermal power (``thermal_mw_per_module``) sends ``process_heat_share`` of it to the industry as
    steam: heat (kWh_th/yr) = energy x share x thermal / electrical module power, valued at
    ``process_heat_usd_per_kwh_th`` (what the captive boiler's coal would cost), and the electricity
    falls by the same share (conservative: steam taken before the turbine; extraction at a lower
    pressure would lose less electricity per kWh of heat). The LCOE is then (annual cost - heat credit)
    / electricity delivered.

    Parameters
    ----------
    plant : pandas.DataFrame
        `economics.grid_plant_cost` per site: energy_kwh (kWh/yr), annual_cost_usd (USD/yr), lcoe_usd_per_kwh.
    tech : Technology
        The design.
    heat_site : numpy.ndarray
        Bool per site: a captive unit of a heat-using industry.
    p : dict
        Repowering parameter values (process_heat_share, process_heat_usd_per_kwh_th).

    Returns
    -------
    pandas.DataFrame
        A copy with energy_kwh and lcoe_usd_per_kwh net of the heat, and heat_kwh_th (kWh_th/yr) and
        heat_credit_usd (USD/yr) columns (zero where no heat is sold).
    """
    out = plant.copy()
    share = p["process_heat_share"]
    thermal = tech.parameters.get("thermal_mw_per_module")
    used = heat_site & (share > 0) & (thermal is not None)
    ratio = float(thermal.value) / float(tech["module_size_mw"]) if thermal is not None else 0.0
    energy = out["energy_kwh"].to_numpy(float)
    heat = np.where(used, energy * share * ratio, 0.0)
    credit = heat * p["process_heat_usd_per_kwh_th"]
    out["heat_kwh_th"], out["heat_credit_usd"] = heat, credit
    delivered = np.where(used, energy * (1.0 - share), energy)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lcoe_usd_per_kwh"] = np.where(used, (out["annual_cost_usd"].to_numpy(float) - credit) / delivered,
                                           out["lcoe_usd_per_kwh"].to_numpy(float))
    out["energy_kwh"] = delivered
    return out


def repowering_costs(units: pd.DataFrame, sites: pd.DataFrame, catalogue: Catalogue, designs: Sequence[Technology],
                     large: Technology, money: Money, p: dict[str, float], carbon_price_usd_per_t: float,
                     ) -> RepoweringCosts:
    """Cost every design at every site against the site's retiring coal units.

    Parameters
    ----------
    units : pandas.DataFrame
        Coal units with ``gem_location_id``, ``retiring`` (bool), ``expected_retirement_year`` (yr) and
        the columns of `coal_running`.
    sites : pandas.DataFrame
        Screened sites: ``gem_location_id``, ``retiring_mw`` (MW), ``is_captive``, ``suitable`` and
        ``cooling_water_pass`` (bool; absent = no cooling credit).
    catalogue : Catalogue
        Base-year USD; its grid_extension entry gives the average cost of supply (USD/kWh).
    designs : sequence of Technology
        Land reactor designs (see `designs_of`).
    large : Technology
        The large-plant reference (Kudankulam-class), costed greenfield for one unit.
    money : Money
        Discount rate and horizon.
    p : dict
        Repowering parameter values (smrplan.catalogue.repowering.values), base-year USD.
    carbon_price_usd_per_t : float
        Carbon price on the coal units' CO2 (USD/t).

    Returns
    -------
    RepoweringCosts
    """
    run = coal_running(units, p, carbon_price_usd_per_t)
    ret = units["retiring"].to_numpy(bool)
    loc = units["gem_location_id"].to_numpy()
    cols = {c: pd.Series(np.where(ret, run[c].to_numpy(), 0.0)).groupby(loc).sum()
            for c in ("energy_kwh", "co2_t", "running_usd", "running_ex_carbon_usd")}
    kw_ret = pd.Series(np.where(ret, units["capacity_mw"].to_numpy(float) * KW_PER_MW, 0.0)).groupby(loc).sum()
    site_ids = sites["gem_location_id"].to_numpy()
    coal = pd.DataFrame({c: s.reindex(site_ids).fillna(0.0).to_numpy() for c, s in cols.items()})
    retiring_kw = kw_ret.reindex(site_ids).fillna(0.0).to_numpy()
    energy = coal["energy_kwh"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        coal_usd = np.where(energy > 0, coal["running_usd"].to_numpy() / energy, np.nan)
        coal_ex = np.where(energy > 0, coal["running_ex_carbon_usd"].to_numpy() / energy, np.nan)
        intensity = np.where(energy > 0, coal["co2_t"].to_numpy() / energy, np.nan)  # t/kWh
    cooling = sites["cooling_water_pass"].to_numpy(bool) if "cooling_water_pass" in sites else np.zeros(len(sites), bool)
    credit = site_credit_fraction(cooling, p)
    out = pd.DataFrame({"gem_location_id": site_ids, "coal_energy_kwh": energy, "coal_co2_t": coal["co2_t"].to_numpy(),
                        "coal_usd_per_kwh": coal_usd, "coal_ex_carbon_usd_per_kwh": coal_ex,
                        "coal_t_co2_per_mwh": intensity * KW_PER_MW, "credit_fraction": credit})
    n_d, n_s = len(designs), len(sites)
    lcoe = np.full((n_d, n_s), np.inf)
    fields = {f: np.zeros((n_d, n_s)) for f in ("capacity_kw", "energy_kwh", "capex_usd", "credit_usd", "annual_cost_usd",
                                                 "heat_kwh_th", "heat_credit_usd")}
    units_of = np.zeros((n_d, n_s))
    for i, tech in enumerate(designs):  # a handful of designs, each vectorised over sites
        unit_kw = tech.unit_kw
        per_unit_kwh = grid_plant_cost(np.ones(1), tech, money)["energy_kwh"].to_numpy()[0]
        most = np.minimum(np.floor(retiring_kw / unit_kw + 1e-9), tech.max_units)
        n = np.clip(np.ceil(energy / per_unit_kwh - 1e-9), 1.0, np.maximum(most, 1.0))
        offered = most >= 1
        plant = with_process_heat(grid_plant_cost(n, tech, money, credit), tech, heat_sites(sites), p)
        lcoe[i] = np.where(offered, plant["lcoe_usd_per_kwh"].to_numpy(), np.inf)
        units_of[i] = np.where(offered, n, 0.0)
        for f in fields:
            fields[f][i] = plant[f].to_numpy()
        out[f"lcoe_{tech.key}_usd_per_kwh"] = np.where(offered, lcoe[i], np.nan)
        out[f"units_{tech.key}"] = units_of[i].astype(int)
    best = lcoe.argmin(axis=0) if n_d else np.zeros(n_s, int)
    cols_ = np.arange(n_s)
    best_lcoe = lcoe[best, cols_] if n_d else np.full(n_s, np.inf)
    found = np.isfinite(best_lcoe)
    keys = np.array([t.key for t in designs] or [""], dtype=object)
    out["best_design"] = np.where(found, keys[best], "")
    out["reactor_units"] = np.where(found, units_of[best, cols_], 0).astype(int) if n_d else 0
    for f, arr in fields.items():
        out[f"reactor_{f}"] = np.where(found, arr[best, cols_], np.nan) if n_d else np.nan
    out["reactor_usd_per_kwh"] = np.where(found, best_lcoe, np.nan)
    out["advantage_usd_per_kwh"] = coal_usd - out["reactor_usd_per_kwh"].to_numpy()
    out["beats_coal"] = found & (out["advantage_usd_per_kwh"].to_numpy() > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["breakeven_carbon_usd_per_t"] = np.where(found & (intensity > 0),
                                                     np.maximum(best_lcoe - coal_ex, 0.0) / intensity, np.nan)
    tariff, captive = p["industrial_tariff_usd_per_kwh"], sites["is_captive"].to_numpy(bool)
    out["is_captive"], out["beats_tariff"] = captive, captive & found & (best_lcoe < tariff)
    suitable = sites["suitable"].to_numpy(bool) if "suitable" in sites else np.ones(n_s, bool)
    score = np.where(suitable & found, out["advantage_usd_per_kwh"].to_numpy(), -np.inf)
    order = np.lexsort((site_ids, -score))
    rank = np.empty(n_s, int)
    rank[order] = np.arange(1, n_s + 1)
    out["rank"] = np.where(suitable & found, rank, 0)
    # Replacement year of each retiring unit.
    beats = pd.Series(out["beats_coal"].to_numpy() & suitable, index=site_ids)
    unit_beats = beats.reindex(loc).fillna(False).to_numpy(bool)
    first = p["first_reactor_year"]
    expected = units["expected_retirement_year"].to_numpy(float)
    year = np.where(unit_beats, first, np.maximum(expected, first))
    unit_out = pd.DataFrame({"replacement_year": np.where(ret, year, np.nan), "site_beats_coal": unit_beats,
                             "coal_energy_kwh": run["energy_kwh"].to_numpy(), "coal_co2_t": run["co2_t"].to_numpy()},
                            index=units.index)
    large_plant = grid_plant_cost(np.ones(1), large, money)
    acs = first_of(catalogue, "grid_extension")["average_cost_of_supply_usd_per_kwh"]
    reference = {"large_reactor": large.key, "large_reactor_name": large.name,
                 "large_reactor_usd_per_kwh": float(large_plant["lcoe_usd_per_kwh"].iloc[0]),
                 "grid_average_cost_of_supply_usd_per_kwh": acs,
                 "industrial_tariff_usd_per_kwh": tariff, "carbon_price_usd_per_t": float(carbon_price_usd_per_t)}
    return RepoweringCosts(out, unit_out, reference)
