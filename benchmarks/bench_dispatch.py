"""Benchmark: hourly dispatch of 1,000 systems over 8760 hours (target: under 10 s).

Times the reactor availability draws plus the rule-based dispatch with hourly series kept (the
measured figure), and, for information, the totals-only dispatch and the back-up sizing. Inputs are
synthetic and seeded; the PV profile is a simple daily sine so that only the dispatch is timed.

Run: python benchmarks/bench_dispatch.py [n_systems]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from common import figure

from smrplan.dispatch.simulate import (
    Battery,
    Diesel,
    Reactor,
    Systems,
    reactor_modules_available,
    simulate,
    size_backup,
)
from smrplan.units import HOURS_PER_YEAR

TARGET_SECONDS = 10.0
N_SYSTEMS = 1000


def synthetic_systems(n_systems: int, seed: int = 0) -> Systems:
    """Random but plausible systems: 0-4 reactor modules, diesel units, PV and a battery."""
    rng = np.random.default_rng(seed)
    hours = np.arange(HOURS_PER_YEAR)
    daily = 0.75 + 0.25 * np.sin(2 * np.pi * ((hours % 24) - 12) / 24)
    load = (
        rng.uniform(200, 20_000, (n_systems, 1)) * daily * rng.uniform(0.9, 1.1, (n_systems, HOURS_PER_YEAR))
    )
    sun = np.clip(np.sin(np.pi * ((hours % 24) - 6) / 12), 0, None)
    profile = sun * rng.uniform(0.4, 0.9, (n_systems, HOURS_PER_YEAR))
    n = n_systems
    return Systems(
        load,
        rng.uniform(0, 5_000, n),
        profile,
        Reactor(
            module_kw=rng.choice([1_500.0, 5_000.0, 10_000.0], n),
            n_modules=rng.integers(0, 5, n),
            min_load_fraction=0.4,
            ramp_fraction_per_hour=0.3,
            refuelling_interval_years=rng.choice([1.5, 2.0, 3.0], n),
            outage_days=30.0,
            forced_outage_rate=0.03,
            mean_repair_hours=72.0,
        ),
        Diesel(
            unit_kw=500.0,
            n_units=rng.integers(0, 10, n),
            min_load_fraction=0.3,
            intercept_l_per_kwh_rated=0.08,
            slope_l_per_kwh=0.25,
        ),
        Battery(
            energy_kwh=rng.uniform(0, 10_000, n),
            power_kw=2_000.0,
            round_trip_efficiency=0.88,
            min_soc_fraction=0.1,
            initial_soc_fraction=0.5,
        ),
    )


def timed(function, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main(n_systems: int = N_SYSTEMS) -> float:
    """Run the benchmark, print the figures and return the measured seconds (availability + dispatch)."""
    systems = synthetic_systems(n_systems)
    available, t_available = timed(reactor_modules_available, systems.reactor, operating_year=1, seed=1)
    result, t_dispatch = timed(simulate, systems, available)
    _, t_totals = timed(simulate, systems, available, keep_hourly=False)
    units, t_sizing = timed(size_backup, systems, available, max_unserved_fraction=0.001)
    measured = t_available + t_dispatch
    status = "OK" if measured < TARGET_SECONDS else "SLOWER THAN TARGET"
    print(f"dispatch {HOURS_PER_YEAR} h x {n_systems} systems")
    print(f"  reactor availability        {t_available:7.2f} s")
    print(f"  dispatch, hourly kept       {t_dispatch:7.2f} s")
    print(f"  measured (the two above)    {measured:7.2f} s   target < {TARGET_SECONDS:.0f} s   {status}")
    print(f"  dispatch, totals only       {t_totals:7.2f} s   (information)")
    print(f"  size_backup (0.1 % target)  {t_sizing:7.2f} s   (information; {int(units.sum())} units in all)")
    unserved = result.totals["unserved_kwh"].sum() / result.totals["load_kwh"].sum()
    print(f"  unserved share of load, as planned: {unserved:.4f}")
    figure(f"dispatch {HOURS_PER_YEAR} h x {n_systems:,} systems", measured, TARGET_SECONDS)
    return measured


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N_SYSTEMS)
