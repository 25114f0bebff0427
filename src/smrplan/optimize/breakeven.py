"""Why not a reactor: break-even capex for the largest units left without one.

For the largest units left without a reactor, a bisection on a multiplier of capex_usd_per_kw (module
capex only; shore works and O&M unchanged) finds where the unit's cheapest own plant (any technology
at any of its candidate sites, with a direct line) matches its stand-alone cost. Sharing a plant
could win earlier, so the reduction found is sufficient, not necessary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smrplan.geo.distance import haversine_km
from smrplan.optimize.facilities import Candidates
from smrplan.optimize.network import Network, candidate_pairs
from smrplan.optimize.problem import plant_cost
from smrplan.options import KINDS

BISECTION_STEPS = 50
WHY_TOP = 10  # largest units without a reactor explained in plan.json `why`
COLUMNS = ["unit", "demand_kwh_per_year", "standalone_annual_cost_usd", "own_reactor_annual_cost_usd", "site_id",
           "technology", "distance_km", "breakeven_capex_multiplier"]


def breakeven(units: pd.DataFrame, unserved: np.ndarray, cand: Candidates, site_island: np.ndarray, net: Network,
              opt, top: int = WHY_TOP) -> pd.DataFrame:
    """Break-even capex multiplier of the `top` largest unserved units (by demand).

    The multiplier m on capex_usd_per_kw at which the unit's cheapest own plant (any technology at
    any candidate site, a direct line) costs its stand-alone cost, by bisection (own-plant cost rises
    with m). m = 1: a plant alone already pays (not built because sites are shared or limited); NaN:
    no reduction suffices.

    Parameters
    ----------
    units : pandas.DataFrame
        The MILP's units (instance.Instance.units).
    unserved : numpy.ndarray
        Units without a reactor (bool per unit).
    cand : Candidates
        The candidate facilities.
    site_island : numpy.ndarray
        Per candidate site: is its nearest unit an island (back-up cost).
    net : Network
        Line costs.
    opt : smrplan.scenario.Optimisation
        Reach settings and reserve margin.
    top : int
        Units explained.

    Returns
    -------
    pandas.DataFrame
        One row per unit explained, largest first: unit (index), demand_kwh_per_year (kWh/yr),
        standalone_annual_cost_usd and own_reactor_annual_cost_usd (USD/yr; NaN without a plant that
        fits), site_id, technology (key) and distance_km (km) of its cheapest own plant,
        breakeven_capex_multiplier.
    """
    chosen = np.flatnonzero(unserved)
    chosen = chosen[np.argsort(-units["demand_kwh_per_year"].to_numpy()[chosen], kind="stable")][:top]
    if not len(chosen):
        return pd.DataFrame(columns=COLUMNS)
    own = _OwnPlants.of(units.iloc[chosen].reset_index(drop=True), cand, site_island, net, opt)
    c = own.units["standalone_annual_cost_usd"].to_numpy(float)
    now = own.best(np.ones(len(c)))
    mult = _bisect(own, c)
    row = own.cheapest(np.where(np.isfinite(mult), mult, 1.0))
    has = row >= 0
    pick = np.maximum(row, 0)
    site = np.where(has, own.site[pick] if len(own.unit) else 0, 0)
    key = np.array([tt.key for tt in cand.techs], dtype=object)
    ulon, ulat = own.units["lon"].to_numpy(float), own.units["lat"].to_numpy(float)
    slon, slat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)
    return pd.DataFrame({
        "unit": chosen, "demand_kwh_per_year": own.units["demand_kwh_per_year"].to_numpy(float),
        "standalone_annual_cost_usd": c, "own_reactor_annual_cost_usd": np.where(np.isfinite(now), now, np.nan),
        "site_id": np.where(has, cand.sites["site_id"].to_numpy()[site], ""),
        "technology": np.where(has, key[own.tech[pick]] if len(own.unit) else "", ""),
        "distance_km": np.where(has, haversine_km(ulon, ulat, slon[site], slat[site]), np.nan),
        "breakeven_capex_multiplier": mult})


@dataclass
class _OwnPlants:
    """Every own plant of some units: one row per (unit, candidate site, technology of the site's
    kind), with a direct line (annual cost a, USD/yr) and the site's back-up cost B (USD/yr per kW)."""

    units: pd.DataFrame
    unit: np.ndarray
    site: np.ndarray
    tech: np.ndarray
    a: np.ndarray
    B: np.ndarray
    cand: Candidates
    reserve: float

    @classmethod
    def of(cls, units: pd.DataFrame, cand: Candidates, site_island: np.ndarray, net: Network, opt) -> _OwnPlants:
        ulon, ulat = units["lon"].to_numpy(float), units["lat"].to_numpy(float)
        slon, slat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)
        pu, ps, _ = candidate_pairs(ulon, ulat, slon, slat, cand.site_kind,
                                    units[[f"allow_{k}" for k in KINDS]].to_numpy(bool), opt)
        link = net.links(ulon[pu], ulat[pu], slon[ps], slat[ps], units["peak_kw"].to_numpy(float)[pu])
        a = link["annual_usd"] + units["net_annual_usd"].to_numpy(float)[pu]
        rows_p, t = np.nonzero(cand.tech_kind[None, :] == cand.site_kind[ps][:, None])
        B = np.where(site_island[ps[rows_p]], cand.backup_island[t], cand.coef["backup_per_kw"].to_numpy()[t])
        return cls(units, pu[rows_p], ps[rows_p], t, a[rows_p], B, cand, opt.reserve_margin_fraction)

    def cost(self, mult: np.ndarray) -> np.ndarray:
        """Annual cost of each own plant (USD/yr) with module capex x mult (one multiplier per unit)."""
        tc, t, u = self.cand.coef, self.tech, self.unit
        M = mult[u] * tc["module_capex"].to_numpy()[t] + tc["module_om"].to_numpy()[t]
        E, P = self.units["demand_kwh_per_year"].to_numpy(float), self.units["peak_kw"].to_numpy(float)
        return plant_cost(P[u], E[u], tc["module_kw"].to_numpy()[t], tc["max_modules"].to_numpy()[t],
                          tc["cf"].to_numpy()[t], tc["fixed"].to_numpy()[t], M, self.B, tc["var_per_kwh"].to_numpy()[t],
                          self.reserve, tc["outage_kw"].to_numpy()[t])[0] + self.a

    def best(self, mult: np.ndarray) -> np.ndarray:
        """Each unit's cheapest own plant (USD/yr; inf without one)."""
        out = np.full(len(self.units), np.inf)
        np.minimum.at(out, self.unit, self.cost(mult))
        return out

    def cheapest(self, mult: np.ndarray) -> np.ndarray:
        """Row of each unit's cheapest own plant at `mult` (-1 without one)."""
        u = self.unit
        order = np.lexsort((self.cost(mult), u))
        first = order[np.r_[True, u[order][1:] != u[order][:-1]]] if len(u) else order
        row = np.full(len(self.units), -1)
        row[u[first]] = first
        return row


def _bisect(own: _OwnPlants, c: np.ndarray) -> np.ndarray:
    """Capex multiplier in [0, 1] at which each unit's cheapest own plant costs `c` (USD/yr): 1 when it
    already does at full capex, NaN when it does not even free of capex."""
    lo, hi = np.zeros(len(c)), np.ones(len(c))
    now, floor = own.best(hi), own.best(lo)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        wins = own.best(mid) <= c
        lo, hi = np.where(wins, mid, lo), np.where(wins, hi, mid)
    return np.where(now <= c, 1.0, np.where(floor <= c, lo, np.nan))
