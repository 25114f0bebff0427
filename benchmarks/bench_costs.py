"""Benchmark: costing every option for 1,000,000 settlements (target: under 2 s).

Synthetic settlements with plausible demand and grid distances; every option of the packaged
catalogue is costed with the vectorised engine (diesel, PV + battery hybrid, grid/cable, and every
reactor technology as a plant serving the settlement alone), as `api.standalone_costs` and
`api.own_reactor_costs` do after distances are known.

Run: python benchmarks/bench_costs.py [n_settlements]
"""

from __future__ import annotations

import sys

import numpy as np
from common import figure, timed

from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.costs.economics import (
    Money,
    diesel_cost,
    first_of,
    grid_cost,
    pv_battery_cost,
    reactor_plant_cost,
)
from smrplan.scenario import load_scenario

TARGET_S = 2.0


def main(n: int) -> None:
    sc = load_scenario("india-islands")
    cat = resolve_catalogue(sc.technologies.enabled, {}, sc.finance.base_year, sc.source)
    money = Money(sc.finance.discount_rate, sc.finance.horizon_years)
    rng = np.random.default_rng(0)
    e = rng.lognormal(np.log(2e5), 1.5, n)
    peak = e / 8760 / rng.uniform(0.3, 0.7, n)
    land, sea = rng.uniform(0, 80, n), np.where(rng.random(n) < 0.1, rng.uniform(0, 200, n), 0.0)
    island = sea > 0
    diesel, pv = first_of(cat, "diesel"), first_of(cat, "pv_battery")
    grid, cable = first_of(cat, "grid_extension"), first_of(cat, "submarine_cable")
    reactors = [t for t in cat.values() if t.is_reactor and t.key in sc.technologies.enabled]

    def cost_all():
        out = [diesel_cost(e, peak, diesel, money, island),
               pv_battery_cost(e, peak, 0.5, pv, diesel, money, island),
               grid_cost(e, peak, land, sea, grid, cable, money)]
        out += [reactor_plant_cost(e, peak, t, diesel, money, 0.15, "cheapest", island) for t in reactors]
        return out

    seconds, frames = timed(cost_all)
    print(f"costed {n:,} settlements x {len(frames)} options/technologies in {seconds:.2f} s")
    figure(f"costing {n:,} settlements, every option", seconds, TARGET_S)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
