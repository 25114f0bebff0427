"""Monte Carlo of coal-site repowering: the probability that a small reactor beats the coal unit.

Three inputs are drawn, each triangular over its range (mode = the base value): the overnight capex of
the reactor designs (one shared uniform quantile, each design within its catalogue low-high, fully
correlated as `reactors.capex_usd_per_kw` in a sweep), the DOE 2022 site-reuse credit (15-35 %) and the
coal fuel cost (data/coal_repowering.yaml ranges). Costs come from the one cost method
(smrplan.costs.repowering.repowering_costs), evaluated at three corners; the reactor LCOE is linear in
capex x (1 - credit) and the coal cost linear in the fuel price, so every draw is exact:

    LCOE(f, c) = L(capex 0) + K f (1 - c),    coal(x) = C(fuel 0) + G x,

with K the capex part of the LCOE per unit capex factor f. The draws are arrays (draws x designs x
sites); no Python loop runs over draws or sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, Parameter, Technology
from smrplan.costs.economics import Money
from smrplan.costs.repowering import repowering_costs
from smrplan.uncertainty.sampling import Distribution


def _with_capex(tech: Technology, factor: float) -> Technology:
    p = tech.parameters["capex_usd_per_kw"]
    return replace(tech, parameters={**tech.parameters, "capex_usd_per_kw": replace(p, value=float(p.value) * factor)})


def beat_probability(units: pd.DataFrame, sites: pd.DataFrame, catalogue: Catalogue, designs: Sequence[Technology],
                     large: Technology, money: Money, params: dict[str, Parameter], carbon_price_usd_per_t: float,
                     draws: int, seed: int) -> np.ndarray:
    """Share of draws in which the cheapest design's LCOE is below the coal unit's running cost, per site.

    Parameters
    ----------
    units, sites, catalogue, designs, large, money, carbon_price_usd_per_t
        As for `repowering_costs` (USD of the base year, USD/t CO2).
    params : dict of str to Parameter
        Repowering parameters with their low and high (smrplan.catalogue.repowering).
    draws : int
        Number of draws (0: NaN for every site).
    seed : int
        Seed of numpy's default generator.

    Returns
    -------
    numpy.ndarray
        Probability (fraction of draws) per site; NaN where no design is offered or draws is 0.
    """
    n_s = len(sites)
    if draws <= 0 or not designs:
        return np.full(n_s, np.nan)
    p = {k: float(v.value) for k, v in params.items()}
    keys = [t.key for t in designs]

    def lcoe(ds, **over) -> tuple[np.ndarray, np.ndarray]:
        c = repowering_costs(units, sites, catalogue, ds, large, money, {**p, **over}, carbon_price_usd_per_t).sites
        return np.vstack([c[f"lcoe_{k}_usd_per_kwh"].to_numpy(float) for k in keys]), c["coal_usd_per_kwh"].to_numpy(float)

    zero_capex = [_with_capex(t, 0.0) for t in designs]
    base, coal = lcoe(designs, site_reuse_credit_fraction=0.0)
    floor, coal0 = lcoe(zero_capex, site_reuse_credit_fraction=0.0, coal_fuel_usd_per_kwh=0.0)
    k = base - floor  # capex part of the LCOE at the base capex, no credit (USD/kWh)
    fuel = params["coal_fuel_usd_per_kwh"]
    g = (coal - coal0) / float(fuel.value) if float(fuel.value) > 0 else np.zeros(n_s)
    cooling = sites["cooling_water_pass"].to_numpy(bool) if "cooling_water_pass" in sites else np.zeros(n_s, bool)
    shares = (p["credit_share_grid_connection"] + p["credit_share_land"] + p["credit_share_buildings"]
              + p["credit_share_cooling_water"] * cooling)
    rng = np.random.default_rng(seed)
    u = rng.random((3, draws))
    capex = np.array([float(t.parameters["capex_usd_per_kw"].value) for t in designs])
    low = np.array([t.parameters["capex_usd_per_kw"].low or c for t, c in zip(designs, capex, strict=True)])
    high = np.array([t.parameters["capex_usd_per_kw"].high or c for t, c in zip(designs, capex, strict=True)])
    f = Distribution("reactors.capex_usd_per_kw", "triangular", tuple(keys), low, capex, high).quantile(u[0]) / capex
    cr, fu = (Distribution(name, "triangular", (name,), np.array([params[name].low]), np.array([p[name]]),
                           np.array([params[name].high])).quantile(x)[:, 0]
              for name, x in (("site_reuse_credit_fraction", u[1]), ("coal_fuel_usd_per_kwh", u[2])))
    credit = cr[:, None] * shares[None, :]  # draws x sites
    reactor = floor[None] + k[None] * f[:, :, None] * (1.0 - credit[:, None, :])  # draws x designs x sites
    best = np.nanmin(np.where(np.isfinite(reactor), reactor, np.inf), axis=1)
    coal_d = coal0[None, :] + g[None, :] * fu[:, None]
    prob = (best < coal_d).mean(axis=0)
    return np.where(np.isfinite(best).any(axis=0), prob, np.nan)
