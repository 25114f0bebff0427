"""Near-optimal alternatives (modelling to generate alternatives, MGA): plans within a cost slack of the
least cost that are as different as possible.

A least-cost plan is one point of a flat optimum: for a few percent more, very different plans exist
(DeCarolis 2011; Neumann & Brown 2021; Lombardi et al. 2020, SPORES). `near_optimal` solves the plan
MILP (milp.create_model, the model of the plan) for its least cost C*, then for each direction keeps
the cost objective as a constraint, total annual cost <= (1 + slack) C*, and minimises or maximises
the direction instead (milp.solve_alternatives):

* reactor capacity (MW built) and the number of reactor sites, each minimised and maximised;
* diesel litres and emissions (t CO2/yr) of the settlements left on their stand-alone option
  (their best stand-alone option's fuel and CO2, as plan.json counts emissions; the reactor plants'
  back-up diesel during refuelling is not counted), each minimised and maximised;
* `random_directions` random weightings of the sites (standard normal weight per site, seeded),
  minimised: the plans that spread over the rest of the near-optimal space.

The directions are independent MILPs, solved in parallel on a dask.distributed client (the sweep's
cluster: each worker builds the model once, solves the least cost and then its share of the
directions) or one after the other. The model is the plan's, except that nothing is pruned for being
unable to save money (instance.fit_instance, problem.plants with keep_unprofitable): a near-optimal
plan may build a plant that loses money. Each alternative is reported exactly as solved (no polish).

Sites built in every alternative (the least-cost plan included) are "must-have", those built in some
"optional".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import Money, by_option, first_of
from smrplan.costs.engine import STANDALONE_COLUMNS, CostBasis, OptionCosts, suitable_sites
from smrplan.geo.layers import Region
from smrplan.optimize.heuristics import evaluate, greedy_plan
from smrplan.optimize.milp import solve_alternatives
from smrplan.optimize.problem import Direction, Problem, Solution, assignments, plants
from smrplan.optimize.solve import plan_instance
from smrplan.options import KIND_OPTION, STANDALONE_OPTIONS

if TYPE_CHECKING:
    from dask.distributed import Client

EXTREMES = ("reactor_capacity_mw", "reactor_sites", "diesel_litres", "emissions_t_co2")
LEAST_COST = "total_cost"


def directions(p: Problem, litres: np.ndarray, co2_t: np.ndarray, random_directions: int, seed: int) -> list[Direction]:
    """The directions of the alternatives: each extreme minimised and maximised, then the random ones.

    Parameters
    ----------
    p : Problem
        The MILP (its units and sites).
    litres, co2_t : numpy.ndarray
        Per unit: diesel litres per year and t CO2 per year of its stand-alone option.
    random_directions : int
        Random weightings of the sites (each minimised).
    seed : int
        Seed of the random weights.

    Returns
    -------
    list of Direction
    """
    base = [Direction("reactor_capacity_mw", "", cap_w=1.0), Direction("reactor_sites", "", site_w=np.ones(p.n_sites)),
            Direction("diesel_litres", "", unit_w=-np.asarray(litres, float)),
            Direction("emissions_t_co2", "", unit_w=-np.asarray(co2_t, float))]
    out = [replace(d, sense=sense) for d in base for sense in ("min", "max")]
    rng = np.random.default_rng(seed)
    out += [Direction(f"random_{i + 1}", "min", site_w=rng.standard_normal(p.n_sites)) for i in range(random_directions)]
    return out


def _solve(p: Problem, pf: np.ndarray, pn: np.ndarray, assigned: tuple, dirs: list[Direction], slack: float,
           warm: Solution, mip_gap: float, time_limit_s: float) -> list[tuple[Solution | None, dict]]:
    """The least-cost plan and a share of the directions on one model (a worker's task)."""
    return solve_alternatives(p, pf, pn, assigned, list(dirs), slack, warm, mip_gap, time_limit_s)


@dataclass
class NearOptimal:
    """The least-cost plan and the alternatives of a Problem.

    Attributes
    ----------
    least_cost : Solution
        The least-cost plan of the (unpruned) model; objective_usd its total annual cost (USD/yr).
    cost_limit_usd : float
        (1 + slack) x its cost (USD/yr).
    found : list of (Direction, Solution or None, dict)
        Per direction: the plan (None when HiGHS found none) and HiGHS's record.
    record : dict
        HiGHS's record of the least-cost solve.
    """

    least_cost: Solution
    cost_limit_usd: float
    found: list[tuple[Direction, Solution | None, dict]]
    record: dict


def near_optimal(p: Problem, slack: float, dirs: list[Direction], mip_gap: float, time_limit_s: float,
                 client: Client | None = None) -> NearOptimal:
    """Solve the least-cost plan, then every direction within (1 + slack) x its cost.

    Parameters
    ----------
    p : Problem
        The MILP (built with keep_unprofitable for the full near-optimal space).
    slack : float
        Cost slack (fraction of the least cost).
    dirs : list of Direction
        The directions (`directions`).
    mip_gap : float
        HiGHS's relative gap for every solve (fraction).
    time_limit_s : float
        HiGHS's time limit per solve (s).
    client : dask.distributed.Client or None
        Solve the directions on its workers (None: one after the other in this process).

    Returns
    -------
    NearOptimal

    Raises
    ------
    RuntimeError
        When the least-cost plan cannot be solved.
    """
    pf, pn = plants(p, keep_unprofitable=True)
    args = (pf, pn, assignments(p, pf, pn))
    warm = evaluate(p, greedy_plan(p), close_unprofitable=False)
    if client is None:
        parts = [_solve(p, *args, dirs, slack, warm, mip_gap, time_limit_s)]
    else:  # one model per worker: each solves the least cost (a fraction of a second), then every n-th direction
        n = max(min(len(client.scheduler_info()["workers"]), len(dirs)), 1)
        shipped = client.scatter([p, *args, warm], broadcast=True, hash=False)
        parts = client.gather([client.submit(_solve, shipped[0], *shipped[1:4], dirs[k::n], slack, shipped[4], mip_gap,
                                             time_limit_s, pure=False) for k in range(n)])
    least, record = parts[0][0]
    if least is None:
        raise RuntimeError(f"the least-cost plan could not be solved: {record['status']} / {record['termination']}")
    results = [parts[i % len(parts)][1 + i // len(parts)] for i in range(len(dirs))]
    limit = (1.0 + slack) * least.objective_usd
    found = [(d, s, rec) for d, (s, rec) in zip(dirs, results, strict=True)]
    return NearOptimal(least, limit, found, record)


def metrics(p: Problem, s: Solution, litres: np.ndarray, co2_t: np.ndarray) -> dict:
    """What a plan of a Problem builds and burns.

    Parameters
    ----------
    p : Problem
        The MILP: units' demand E (kWh/yr), purchase-unit size K (kW).
    s : Solution
        The plan.
    litres, co2_t : numpy.ndarray
        Per unit: stand-alone diesel litres per year and t CO2 per year.

    Returns
    -------
    dict
        total_annual_cost_usd (USD/yr), reactor_capacity_mw (MW), reactor_sites, reactor_share (of
        demand, fraction), diesel_litres_per_year (l/yr), emissions_t_co2_per_year (t/yr).
    """
    served_unit = np.zeros(len(p.E), bool)
    served_unit[p.pair_unit[s.x]] = True
    alone = ~served_unit
    return {"total_annual_cost_usd": float(s.objective_usd),
            "reactor_capacity_mw": float((p.K * s.modules)[s.opened].sum()) / 1000.0,
            "reactor_sites": int(np.unique(p.fac_site[s.opened]).size),
            "reactor_share": float(p.E[served_unit].sum() / p.E.sum()) if p.E.sum() > 0 else 0.0,
            "diesel_litres_per_year": float(litres[alone].sum()), "emissions_t_co2_per_year": float(co2_t[alone].sum())}


def standalone_fuel(costs: OptionCosts) -> tuple[np.ndarray, np.ndarray]:
    """Per settlement: diesel litres per year and t CO2 per year of its best stand-alone option (the
    option the plan gives it without a reactor).

    Parameters
    ----------
    costs : OptionCosts
        The cost engine's costs (annual USD/yr, the stand-alone sizing frames with fuel_l and co2_t).

    Returns
    -------
    litres, co2_t : numpy.ndarray
        l/yr and t CO2/yr.
    """
    best = np.nanargmin(costs.annual_usd[:, STANDALONE_COLUMNS], axis=1)
    rows = np.arange(len(best))
    litres = np.column_stack([costs.standalone[o]["fuel_l"].to_numpy(float) for o in STANDALONE_OPTIONS])[rows, best]
    co2 = np.column_stack([costs.standalone[o]["co2_t"].to_numpy(float) for o in STANDALONE_OPTIONS])[rows, best]
    return litres, co2


@dataclass
class Alternatives:
    """Near-optimal alternatives of a plan.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per plan (the least-cost one first): objective, direction, status, total_annual_cost_usd
        (USD/yr), cost_limit_usd, slack_used_fraction, reactor_capacity_mw (MW), reactor_sites,
        reactor_share, diesel_litres_per_year (l/yr), emissions_t_co2_per_year (t/yr), sites (ids, ";").
    sites : pandas.DataFrame
        Every site built in some plan: site_id, kind, lon, lat (degrees), plans (count), share_of_plans,
        class ("must-have" or "optional").
    record : dict
        Slack, number of plans, model size, units, the least-cost solve's record.
    """

    table: pd.DataFrame
    sites: pd.DataFrame
    record: dict


def plan_alternatives(region: Region, settlements: pd.DataFrame, sites: pd.DataFrame, basis: CostBasis,
                      costs: OptionCosts, catalogue: Catalogue, money: Money, opt, load_factor: float,
                      carbon_price_usd_per_t: float, settings, client: Client | None = None) -> Alternatives:
    """The least-cost plan and its near-optimal alternatives for a set of settlements.

    Parameters
    ----------
    region, settlements, sites, basis, costs, catalogue, money, opt, load_factor, carbon_price_usd_per_t
        As in assemble.optimise (demand in kWh/yr, peak in kW, carbon price in USD/t CO2).
    settings : smrplan.scenario.Alternatives
        Cost slack (fraction), random directions and their seed.
    client : dask.distributed.Client or None
        Where the alternatives are solved.

    Returns
    -------
    Alternatives

    Raises
    ------
    RuntimeError
        When the least-cost plan cannot be solved.
    """
    st = settlements.copy()
    st["standalone_annual_cost_usd"] = costs.standalone_annual_usd
    groups = by_option(catalogue, list(basis.enabled))
    cand, _, inst = plan_instance(region, st, suitable_sites(sites), {k: groups[o] for k, o in KIND_OPTION.items()},
                                  first_of(catalogue, "diesel"), first_of(catalogue, "grid_extension"),
                                  first_of(catalogue, "submarine_cable"), money, opt, load_factor,
                                  carbon_price_usd_per_t, allowed=basis.allowed, keep_unprofitable=True)
    if inst.prob is None:
        raise RuntimeError("no settlement can be served by a reactor at a suitable site within reach: "
                           "there is no plan to vary")
    p = inst.prob
    litres_s, co2_s = standalone_fuel(costs)
    litres = np.bincount(inst.labels, litres_s, len(inst.units))
    co2 = np.bincount(inst.labels, co2_s, len(inst.units))
    dirs = directions(p, litres, co2, settings.random_directions, settings.seed)
    res = near_optimal(p, settings.cost_slack_fraction, dirs, opt.mip_gap, opt.time_limit_s, client)
    site_rows = cand.sites.iloc[np.unique(inst.pairs.site)].reset_index(drop=True)
    return _tables(p, res, site_rows, litres, co2, settings.cost_slack_fraction,
                   {"units": int(len(inst.units)), "clustering": inst.clustering})


def _tables(p: Problem, res: NearOptimal, site_rows: pd.DataFrame, litres: np.ndarray, co2: np.ndarray, slack: float,
            extra: dict) -> Alternatives:
    """The alternatives table, the site classes and the record."""
    ids = site_rows["site_id"].astype(str).to_numpy()
    rows, built = [], []
    plans = [(Direction(LEAST_COST, "min"), res.least_cost, res.record), *res.found]
    for d, s, rec in plans:
        row: dict = {"objective": d.objective, "direction": "minimise" if d.sense == "min" else "maximise",
                     "status": f"{rec['status']} / {rec['termination']}"}
        if s is not None:
            at = np.unique(p.fac_site[s.opened])
            built.append(at)
            m = metrics(p, s, litres, co2)
            row.update(m, sites=";".join(ids[at]),
                       slack_used_fraction=m["total_annual_cost_usd"] / res.least_cost.objective_usd - 1.0)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["cost_limit_usd"] = res.cost_limit_usd
    counts = np.bincount(np.concatenate(built), minlength=len(ids)) if built else np.zeros(len(ids), int)
    some = counts > 0
    sites = site_rows.loc[some, ["site_id", "kind", "lon", "lat"]].reset_index(drop=True)
    sites["plans"] = counts[some]
    sites["share_of_plans"] = counts[some] / len(built)
    sites["class"] = np.where(counts[some] == len(built), "must-have", "optional")
    record = {"cost_slack_fraction": slack, "least_cost_usd": res.least_cost.objective_usd,
              "cost_limit_usd": res.cost_limit_usd, "plans": len(plans), "solved": len(built),
              "must_have_sites": int((sites["class"] == "must-have").sum()),
              "optional_sites": int((sites["class"] == "optional").sum()),
              "least_cost_solve": res.record, **extra}
    return Alternatives(table, sites, record)
