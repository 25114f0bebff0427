"""Benchmark: costing every option for 1,000,000 settlements (target: under 2 s).

Synthetic settlements with plausible demand, grid routes and routes to their nearest suitable site of
each reactor kind; every option of the packaged catalogue is costed by the cost engine
(`smrplan.costs.engine.option_costs`, the function the plan, the sweep and the explorer call: diesel,
PV + battery hybrid, grid/cable, and every enabled reactor technology as a plant serving the
settlement alone), after the reach is known.

Run: python benchmarks/bench_costs.py [n_settlements]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from common import figure, timed

from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.costs.economics import Money
from smrplan.costs.engine import CostBasis, KindReach, Reach, option_costs
from smrplan.optimize.solve import KINDS
from smrplan.scenario import load_scenario

TARGET_S = 2.0
SITES_PER_KIND = 2_000


def main(n: int) -> None:
    sc = load_scenario("india-islands")
    cat = resolve_catalogue(sc.technologies.enabled, {}, sc.finance.base_year, sc.source)
    money = Money(sc.finance.discount_rate, sc.finance.horizon_years)
    rng = np.random.default_rng(0)
    e = rng.lognormal(np.log(2e5), 1.5, n)
    peak = e / 8760 / rng.uniform(0.3, 0.7, n)
    land, sea = rng.uniform(0, 80, n), np.where(rng.random(n) < 0.1, rng.uniform(0, 200, n), 0.0)
    sites = pd.DataFrame({"site_id": [f"S{i:06d}" for i in range(SITES_PER_KIND * len(KINDS))],
                          "kind": np.repeat(KINDS, SITES_PER_KIND), "suitable": True})
    by_kind = {}
    for k, kind in enumerate(KINDS):
        dist = rng.uniform(0, 80, n)
        pos = np.where(dist <= 50, k * SITES_PER_KIND + rng.integers(0, SITES_PER_KIND, n), -1)
        by_kind[kind] = KindReach(pos, dist, dist * rng.uniform(0.5, 1, n), np.where(sea > 0, dist * 0.3, 0.0))
    basis = CostBasis(is_island=sea > 0, grid_land_km=land, grid_sea_km=sea, allowed=np.ones((n, len(KINDS)), bool),
                      reach=Reach(sites, by_kind, 50.0), night_share=0.5, enabled=tuple(sc.technologies.enabled),
                      reserve_margin_fraction=sc.optimisation.reserve_margin_fraction,
                      reactor_backup=sc.technologies.reactor_backup)

    seconds, costs = timed(lambda: option_costs(basis, cat, money, 0.0, e, peak))
    print(f"costed {n:,} settlements x {costs.annual_usd.shape[1]} options in {seconds:.2f} s")
    figure(f"costing {n:,} settlements, every option", seconds, TARGET_S)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
