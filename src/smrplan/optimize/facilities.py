"""The candidate facilities: every suitable site with every enabled reactor technology of its kind,
and the linear cost coefficients of each (USD/yr per plant, per module, per kW of back-up; USD/kWh).

A facility f = (s, t) is a plant of reactor technology t at site s of the technology's kind (land,
micro, floating). Its module costs M_t (capex with interest during construction, replacement, salvage
and decommissioning over the horizon, plus fixed O&M), fixed cost F_t (floating shore works), back-up
cost B_f (diesel capex, fixed O&M and fuel through the refuelling outage at the scenario load factor,
island logistics, carbon price) and variable cost v_t are those of economics.reactor_plant_cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Technology
from smrplan.costs.economics import Money, diesel_cost, pv_factor, reactor_capex_usd_per_kw
from smrplan.options import KINDS
from smrplan.units import KW_PER_MW


@dataclass
class Facility:
    """A candidate plant: a site (id, kind, position in degrees) with one reactor technology."""

    site_id: str
    kind: str
    tech: Technology
    lon: float
    lat: float


def facility_costs(tech: Technology, diesel: Technology, money: Money, is_island: bool,
                   load_factor: float, carbon_price: float = 0.0) -> dict[str, float]:
    """Linear cost coefficients of one facility and its sizing data.

    Parameters
    ----------
    tech : Technology
        The reactor technology.
    diesel : Technology
        The diesel generator used as back-up through refuelling.
    money : Money
        Discount rate and horizon.
    is_island : bool
        Whether the back-up diesel pays island logistics.
    load_factor : float
        Demand load factor (mean / peak), the back-up's load through the outage.
    carbon_price : float
        Carbon price on the back-up's CO2 (USD/t).

    Returns
    -------
    dict
        fixed (USD/yr per plant), module, module_capex, module_om (USD/yr per purchase unit: a module,
        or a whole barge), backup_per_kw (USD/yr per kW), var_per_kwh (USD/kWh), module_kw (kW of a
        purchase unit), outage_kw (kW of one module, out while it refuels), max_modules (most purchase
        units per plant) and cf (capacity factor).
    """
    mod_kw = tech.unit_kw  # a purchase unit: one module, or a whole barge
    per_kw = reactor_capex_usd_per_kw(tech, money.discount_rate)
    k_plant = pv_factor(tech["lifetime_years"], money, tech["decommissioning_fraction_of_capex"]) * money.crf
    outage_h = tech["refuelling_outage_days"] * 24.0 / tech["refuelling_interval_years"]
    b = diesel_cost(np.array([outage_h * load_factor]), np.array([1.0]), diesel, money, np.array([is_island]))
    module_capex = mod_kw * per_kw * k_plant
    module_om = mod_kw * tech["fixed_om_usd_per_kw_year"]
    return {"fixed": (tech.get("shore_works_usd", 0.0) or 0.0) * k_plant,
            "module": module_capex + module_om, "module_capex": module_capex, "module_om": module_om,
            "backup_per_kw": float(b["annual_cost_usd"].iloc[0] + carbon_price * b["co2_t"].iloc[0]),
            "var_per_kwh": (tech["variable_om_usd_per_mwh"] + tech["fuel_usd_per_mwh"]) / 1000.0,
            "module_kw": mod_kw, "outage_kw": tech["module_size_mw"] * KW_PER_MW, "max_modules": tech.max_units,
            "cf": tech["capacity_factor"]}


@dataclass
class Candidates:
    """The candidate facilities: every usable site with every technology of its kind.

    Attributes
    ----------
    sites : pandas.DataFrame
        Suitable sites of a kind with some technology (site_id, kind, lon, lat), index 0..S-1.
    site_kind : numpy.ndarray
        Kind of each site (index into KINDS).
    techs : list[Technology]
        The technologies, by kind in the order of KINDS.
    tech_kind : numpy.ndarray
        Kind of each technology (index into KINDS).
    fac_site, fac_tech : numpy.ndarray
        Site and technology of each facility.
    coef : pandas.DataFrame
        One row per technology: `facility_costs` on the mainland (USD/yr, kW, USD/kWh).
    backup_island : numpy.ndarray
        Back-up cost per technology on an island (USD/yr per kW).
    """

    sites: pd.DataFrame
    site_kind: np.ndarray
    techs: list[Technology]
    tech_kind: np.ndarray
    fac_site: np.ndarray
    fac_tech: np.ndarray
    coef: pd.DataFrame
    backup_island: np.ndarray


def candidates(sites: pd.DataFrame, techs_by_kind: dict[str, list[Technology]], diesel: Technology, money: Money,
               load_factor: float, carbon_price: float) -> Candidates:
    """The candidate facilities of the screened sites and their cost coefficients.

    Parameters
    ----------
    sites : pandas.DataFrame
        Candidate sites (site_id, kind, lon, lat; only rows with `suitable` true when it is given).
    techs_by_kind : dict
        Enabled reactor technologies by site kind (land, micro, floating).
    diesel : Technology
        The back-up diesel generator.
    money : Money
        Discount rate and horizon.
    load_factor : float
        Demand load factor (mean / peak).
    carbon_price : float
        Carbon price on the back-up's CO2 (USD/t).

    Returns
    -------
    Candidates
    """
    if "suitable" in sites.columns:
        sites = sites[sites["suitable"].to_numpy(bool)]
    sites = sites[sites["kind"].isin([k for k in KINDS if techs_by_kind.get(k)])].reset_index(drop=True)
    techs = [t for k in KINDS for t in techs_by_kind.get(k, [])]
    tech_kind = np.array([KINDS.index(k) for k in KINDS for _ in techs_by_kind.get(k, [])], int)
    site_kind = np.array([KINDS.index(k) for k in sites["kind"]], int)
    fac_site = np.concatenate([np.repeat(np.flatnonzero(site_kind == j), (tech_kind == j).sum()) for j in range(len(KINDS))]
                              + [np.zeros(0, int)]).astype(int)
    fac_tech = np.concatenate([np.tile(np.flatnonzero(tech_kind == j), (site_kind == j).sum()) for j in range(len(KINDS))]
                              + [np.zeros(0, int)]).astype(int)
    coef = {isl: [facility_costs(t, diesel, money, isl, load_factor, carbon_price) for t in techs] for isl in (False, True)}
    tc = pd.DataFrame({key: [cf[key] for cf in coef[False]] for key in coef[False][0]} if techs else {})
    b_isl = np.array([cf["backup_per_kw"] for cf in coef[True]])
    return Candidates(sites, site_kind, techs, tech_kind, fac_site, fac_tech, tc, b_isl)


class CandidateFacilities(Sequence[Facility]):
    """Every facility of `Candidates` as a sequence of `Facility`, each made only when asked for.

    A national run has hundreds of thousands of candidate facilities and the plan reads a few (the
    built ones), so none is made in advance.

    Parameters
    ----------
    cand : Candidates
        The candidate facilities (sites with site_id, lon and lat in degrees; technologies).
    """

    def __init__(self, cand: Candidates) -> None:
        self._cand = cand
        self._ids = cand.sites["site_id"].to_numpy()
        self._lon, self._lat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)

    def __len__(self) -> int:
        return len(self._cand.fac_site)

    @overload
    def __getitem__(self, f: int) -> Facility: ...

    @overload
    def __getitem__(self, f: slice) -> list[Facility]: ...

    def __getitem__(self, f: int | slice) -> Facility | list[Facility]:
        if isinstance(f, slice):
            return [self[i] for i in range(*f.indices(len(self)))]
        c = self._cand
        s, t = int(c.fac_site[f]), int(c.fac_tech[f])
        return Facility(str(self._ids[s]), KINDS[c.site_kind[s]], c.techs[t], float(self._lon[s]), float(self._lat[s]))
