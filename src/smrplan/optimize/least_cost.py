"""The plan without the optimisation stage: every settlement takes its least-cost option alone.

With ``optimisation.enabled: false`` no MILP is built. As in OnSSET, each settlement takes the
cheapest of its options in the cost engine (`smrplan.costs.engine.option_costs`): a stand-alone
system (diesel, PV + battery, grid) or a reactor plant of its own at its nearest suitable site of the
kind (with the engine's cheapest technology, module count and back-up); equally cheap options go to the
first in ALL_OPTIONS order, stand-alone ones first. Plants are never shared, so the plan is an upper
estimate of the optimised one; `max_sites` and `min_reactor_share` do not apply. The result is a
`PlanResult` with one facility per settlement on a reactor, assembled like an optimised plan
(`smrplan.optimize.assemble`); its solver record says the optimisation was skipped.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import Money, first_of, line_cost, reactor_plant_cost
from smrplan.costs.engine import CostBasis, OptionCosts
from smrplan.optimize.facilities import Facility
from smrplan.optimize.solve import PlanResult
from smrplan.options import ALL_OPTIONS, KIND_OPTION, REACTOR_OPTIONS

SKIPPED = "skipped (optimisation.enabled is false): each settlement's least-cost option on its own"


def least_cost_plan(settlements: pd.DataFrame, basis: CostBasis, costs: OptionCosts, catalogue: Catalogue,
                    money: Money) -> PlanResult:
    """Each settlement's least-cost option, a reactor plant serving it alone where that is cheapest.

    Parameters
    ----------
    settlements : pandas.DataFrame
        demand_kwh_per_year (kWh/yr), peak_kw (kW) and standalone_annual_cost_usd (USD/yr); not modified.
    basis, costs : CostBasis, OptionCosts
        The cost engine's basis (reach to the suitable sites) and its costs for these settlements.
    catalogue : Catalogue
        Technology data.
    money : Money
        Discount rate and horizon.

    Returns
    -------
    PlanResult
        One opened facility per settlement whose cheapest option is a reactor; its `solver` record
        (status and termination ``skipped``) goes to plan.json.
    """
    t0 = time.perf_counter()
    n = len(settlements)
    annual = costs.annual_usd
    choice = np.nanargmin(annual, axis=1)  # every settlement has a feasible stand-alone option
    sites = basis.reach.sites
    e, peak = (settlements[c].to_numpy(float) for c in ("demand_kwh_per_year", "peak_kw"))
    members, facilities, frames = [], [], []
    for q, option in enumerate(REACTOR_OPTIONS):
        at = np.flatnonzero(choice == ALL_OPTIONS.index(option))
        kind = next(k for k, o in KIND_OPTION.items() if o == option)
        r = basis.reach.by_kind[kind]
        for key in np.unique(costs.technology[at, q]):
            got = at[costs.technology[at, q] == key]
            tech = catalogue[key]
            pos = costs.site_pos[got, q]
            facilities += [Facility(str(s), kind, tech, float(x), float(y)) for s, x, y in
                           zip(sites["site_id"].to_numpy()[pos], sites["lon"].to_numpy(float)[pos],
                               sites["lat"].to_numpy(float)[pos], strict=True)]
            plant = reactor_plant_cost(e[got], peak[got], tech, first_of(catalogue, "diesel"), money,
                                       basis.reserve_margin_fraction, basis.reactor_backup, basis.fuel_surcharge[got])
            link = line_cost(r.land_km[got], r.sea_km[got], peak[got], first_of(catalogue, "grid_extension"),
                             first_of(catalogue, "submarine_cable"), money)
            frames.append(pd.DataFrame({"modules": plant["modules"].to_numpy(), "backup_kw": plant["backup_diesel_kw"].to_numpy(),
                                        "annual": annual[got, ALL_OPTIONS.index(option)], "km": r.distance_km[got],
                                        "land_km": r.land_km[got], "sea_km": r.sea_km[got],
                                        "link_capex_usd": link["capex_usd"].to_numpy()}))
            members.append(got)
    return _result(n, np.concatenate(members) if members else np.zeros(0, int), facilities, frames,
                   float(np.nanmin(annual, axis=1).sum()), time.perf_counter() - t0)


def _result(n: int, members: np.ndarray, facilities: list[Facility], frames: list[pd.DataFrame], objective: float,
            seconds: float) -> PlanResult:
    """The PlanResult of own plants: facility f serves settlement members[f] alone."""
    plants = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["modules", "backup_kw", "annual", "km", "land_km", "sea_km", "link_capex_usd"], dtype=float)
    n_fac = len(facilities)
    assignment = np.full(n, -1)
    assignment[members] = np.arange(n_fac)
    link = pd.DataFrame({"land_km": 0.0, "sea_km": 0.0, "link_capex_usd": 0.0}, index=range(n))
    link.iloc[members] = plants[["land_km", "sea_km", "link_capex_usd"]].to_numpy()
    solver = {"name": "none", "status": SKIPPED, "termination": "skipped", "objective_usd": objective, "mip_gap": 0.0,
              "units": n, "facilities": n_fac, "variables": 0, "constraints": 0, "pairs": 0,
              "time_s": round(seconds, 3)}
    return PlanResult(pd.Series(assignment, index=range(n)), facilities, plants["modules"].to_numpy(float),
                      plants["backup_kw"].to_numpy(float), np.ones(n_fac, bool), plants["annual"].to_numpy(float),
                      pd.Series(0.0, index=range(n)), link, solver, objective, plants["km"].to_numpy(float),
                      np.arange(n))
