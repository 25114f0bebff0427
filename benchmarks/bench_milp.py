"""Benchmark: the least-cost plan MILP (optimize.solve_plan) on synthetic regions.

Targets: 10,000 settlements and 1,000 candidate sites solved to a proven MIP gap <= 1 % in under
120 s; 100,000 settlements (2,000 sites) in under 15 minutes through clustering. The gap is HiGHS's
relative gap on the objective, the plan's total annual cost; the gap on the net saving against
everyone stand-alone is printed beside it.

The region is synthetic but costed with the real engine: the bundled india-islands scenario's
finance, demand and optimisation blocks and the packaged catalogue, so coefficients are realistic.
So that reactors compete (they do not at the catalogue's central capex against PV + battery), the
reactor capex is the low end of each catalogue range and carbon costs 50 USD/t. Settlements lie in a
remote inland square in central India (grid nodes 80 km beyond its corners, so only corner
settlements can reach the grid; land everywhere, so the land mask is the global one), about 5 km2
per settlement as in rural India: dense clusters of villages around towns (log-normal populations,
median 150,000; half of the towns with an industrial anchor load of 10-60 MW: mines, steel, cement)
and villages scattered between them. Candidate sites: 70 % land sites 3-10 km from settlements
picked in proportion to demand, 30 % microreactor sites 1-3 km from them; all screened suitable.

Run: python benchmarks/bench_milp.py [10000 | 100000 | all]
"""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from common import figure

from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.costs.economics import Money, by_option, diesel_cost, first_of, grid_cost, pv_battery_cost
from smrplan.costs.engine import allowed_kinds
from smrplan.demand.load import compute_demand, hourly_shape
from smrplan.geo.distance import PointIndex, destination
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.optimize.solve import solve_plan
from smrplan.options import KIND_OPTION
from smrplan.scenario import load_scenario

CENTRE = (80.0, 23.0)  # central India: land in every direction for 350 km
KM2_PER_SETTLEMENT = 5.0
CARBON_PRICE = 50.0
# settlements: (sites, target s, solve time limit s: HiGHS, then the regional search when HiGHS stops
# short of the gap). Both run the scenario's own optimisation settings (they cluster above 5,000
# settlements in 5 km cells, coarsened by optimize.solve_plan as a quadtree while the model has more
# than optimisation.max_assignments assignment variables) except the time limit, which a planner
# raises for a national run: the scenario's 120 s below the 120 s target, 780 s below the 15-minute one.
CASES = {10_000: (1_000, 120.0, 110.0), 100_000: (2_000, 900.0, 780.0)}


def standalone_usd(e, peak, route, sc, cat, money) -> np.ndarray:
    """Each settlement's least stand-alone annual cost (USD/yr, carbon priced): diesel, PV + battery
    or a grid line over `route` (land km, sea km), for demand e (kWh/yr) and peak (kW)."""
    diesel = first_of(cat, "diesel")
    shape = hourly_shape(sc.demand.load_shape).reshape(365, 24)
    night = float(shape[:, list(range(0, 7)) + list(range(18, 24))].sum())
    options = [diesel_cost(e, peak, diesel, money, False),
               pv_battery_cost(e, peak, night, first_of(cat, "pv_battery"), diesel, money, False),
               grid_cost(e, peak, *route, first_of(cat, "grid_extension"), first_of(cat, "submarine_cable"), money)]
    annual = np.column_stack([np.where(o["feasible"], o["annual_cost_usd"] + CARBON_PRICE * o["co2_t"], np.nan)
                              if "feasible" in o else o["annual_cost_usd"] + CARBON_PRICE * o["co2_t"] for o in options])
    return np.nanmin(annual, axis=1)


def synthetic(n: int, n_sites: int, seed: int = 0, with_route: bool = False):
    """Arguments of solve_plan for a synthetic region of n settlements and n_sites candidate sites;
    with_route: also the grid route of each settlement (land km, sea km), the catalogue and the scenario."""
    sc = load_scenario("india-islands")
    central = resolve_catalogue(sc.technologies.enabled, {}, sc.finance.base_year, sc.source)
    low = {k: {"capex_usd_per_kw": t.parameters["capex_usd_per_kw"].low} for k, t in central.items() if t.is_reactor}
    cat = resolve_catalogue(sc.technologies.enabled, low, sc.finance.base_year, sc.source)
    money = Money(sc.finance.discount_rate, sc.finance.horizon_years)
    rng = np.random.default_rng(seed)
    half = np.sqrt(KM2_PER_SETTLEMENT * n) / 2.0
    n_towns = max(5, n // 200)

    def uniform(k):
        lon, lat = destination(CENTRE[0], CENTRE[1], 90.0, rng.uniform(-half, half, k))
        return destination(lon, lat, 0.0, rng.uniform(-half, half, k))

    tlon, tlat = uniform(n_towns)
    tpop = np.round(rng.lognormal(np.log(150_000), 0.9, n_towns))
    near = int(0.7 * (n - n_towns))
    town = rng.choice(n_towns, near, p=tpop / tpop.sum())
    vlon, vlat = destination(tlon[town], tlat[town], rng.uniform(0, 360, near), np.abs(rng.normal(0, 8.0, near)))
    ulon, ulat = uniform(n - n_towns - near)
    lon, lat = np.concatenate([tlon, vlon, ulon]), np.concatenate([tlat, vlat, ulat])
    pop = np.concatenate([tpop, np.round(rng.lognormal(np.log(1_200), 0.9, n - n_towns))])
    anchor = np.where((np.arange(n) < n_towns) & (rng.random(n) < 0.5), rng.uniform(10_000, 60_000, n), 0.0)
    gdf = gpd.GeoDataFrame({"id": [f"S{i}" for i in range(n)], "name": [f"Place {i}" for i in range(n)],
                            "population": pop, "urban": np.arange(n) < n_towns, "anchor_load_kw": anchor},
                           geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    st = pd.DataFrame(compute_demand(gdf, sc.demand, sc.target_year).drop(columns="geometry"))
    st["lon"], st["lat"], st["is_island"] = lon, lat, False
    e, peak = st["demand_kwh_per_year"].to_numpy(), st["peak_kw"].to_numpy()
    diesel = first_of(cat, "diesel")
    region = Region(settlements=gdf)
    glon, glat = destination(CENTRE[0], CENTRE[1], np.array([45.0, 135.0, 225.0, 315.0]), half * np.sqrt(2) + 80.0)
    dist, idx = PointIndex(glon, glat).nearest(lon, lat, k=1)
    route = route_split_km(region, lon, lat, glon[idx[:, 0]], glat[idx[:, 0]])
    st["standalone_annual_cost_usd"] = standalone_usd(e, peak, route, sc, cat, money)
    n_land = int(0.7 * n_sites)
    at = rng.choice(n, n_sites, p=e / e.sum())
    slon, slat = destination(lon[at], lat[at], rng.uniform(0, 360, n_sites),
                             np.where(np.arange(n_sites) < n_land, rng.uniform(3, 10, n_sites), rng.uniform(1, 3, n_sites)))
    sites = pd.DataFrame({"site_id": [f"C{i}" for i in range(n_sites)],
                          "kind": np.where(np.arange(n_sites) < n_land, "land", "micro"),
                          "lon": slon, "lat": slat, "suitable": True})
    groups = by_option(cat, sc.technologies.enabled)
    techs = {kind: groups[option] for kind, option in KIND_OPTION.items()}
    args = (region, st, sites, techs, diesel, first_of(cat, "grid_extension"), first_of(cat, "submarine_cable"),
            money, sc.optimisation, sc.demand.load_factor, CARBON_PRICE)
    return (route, cat, sc, args) if with_route else args


def run(n: int) -> bool:
    n_sites, target_s, limit_s = CASES.get(n, (max(n // 10, 10), 120.0, 110.0))
    t0 = time.perf_counter()
    args = list(synthetic(n, n_sites))
    args[8] = args[8].model_copy(update={"time_limit_s": limit_s})
    allowed = allowed_kinds(args[1], args[8])
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = solve_plan(*args, allowed=allowed)
    elapsed = time.perf_counter() - t0
    s = res.solver
    st = args[1]
    served = res.assignment.to_numpy() >= 0
    share = st["demand_kwh_per_year"].to_numpy()[served].sum() / st["demand_kwh_per_year"].sum()
    clustered = s["clustering"]["clustered"]
    print(f"\n{n:,} settlements, {n_sites:,} sites ({'clustered' if clustered else 'no clustering'}); "
          f"instance built in {made:.1f} s")
    print(f"  units {s['units']:,}  candidate pairs {s['candidate_pairs']:,}  pairs in model {s['pairs']:,}  "
          f"facilities {s['facilities']:,}")
    print(f"  variables {s['variables']:,} (binary {s['binaries']:,}; plant options {s['plant_options']:,})  "
          f"constraints {s['constraints']:,}  nodes {s['nodes']:,}")
    print(f"  status {s['status']} / {s['termination']}; build {s['build_s']:.1f} s, solve {s['solve_s']:.1f} s "
          f"(HiGHS {s['solver_time_s']:.1f} s)")
    if clustered:
        print(f"  clustering: {s['clustering']}")
    print(f"  stand-alone {s['stand_alone_objective_usd'] / 1e6:,.1f} M USD/yr; greedy warm start "
          f"{s['warm_start']['objective_usd'] / 1e6:,.1f} ({s['warm_start']['plants']} plants, used: "
          f"{s['warm_start']['used']}); plan {s['objective_usd'] / 1e6:,.1f} ({int(res.opened.sum())} plants, "
          f"{share:.1%} of demand from reactors)")
    if "search" in s:
        q = s["search"]
        print(f"  regional search: {q['objective_before_usd'] / 1e6:,.1f} -> {q['objective_usd'] / 1e6:,.1f} M USD/yr in "
              f"{q['time_s']:.0f} s; passes (windows, improved): {[(x['windows'], x['improved']) for x in q['passes']]}")
    print(f"  proven gap {s['mip_gap']:.4%} of the total annual cost ({s['mip_gap_net_saving'] or 0.0:.4%} of the net saving)")
    print(f"  time {elapsed:.1f} s  (target < {target_s:.0f} s);  gap {s['mip_gap']:.4%}  (target <= 1 %)")
    tag = f"milp_{n // 1000}k"
    figure(f"{tag}_time", elapsed, target_s, "s")
    figure(f"{tag}_gap", s["mip_gap"], 0.01, "fraction")
    return elapsed < target_s and s["mip_gap"] <= 0.01 + 1e-9


def main(which: str) -> int:
    ok = [run(n) for n in (list(CASES) if which == "all" else [int(which)])]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "10000"))
