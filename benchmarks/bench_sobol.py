"""Benchmark: Sobol indices for 22 uncertain inputs of the bundled india-islands scenario (target:
< 5 minutes end to end on 2 worker processes of a 2-core machine).

The scenario's uncertainty block is replaced by 22 inputs (reactor, diesel, PV + battery, cable and
grid costs and performance, each within its catalogue range; discount rate, population growth and
the demand tier scale); `smrplan.sweep(..., sobol_samples=512)` then runs a small Monte Carlo sweep
(100 draws) and the Saltelli design of 512 x (22 + 2) = 12,288 evaluations on a dask LocalCluster of
2 workers, in a fresh Python process (as `smrplan sweep --sobol` runs): imports, cluster start,
model build, draws, tornado, design, indices and the plot.
Reported: the wall time of the whole run and of the Sobol phase (sweep.json `sobol_elapsed_s`), and
the three inputs with the largest total index of the total annual cost.

Run: python benchmarks/bench_sobol.py [base_samples]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import figure

TARGET_SECONDS = 300.0
BASE_SAMPLES = 512
DRAWS = 100
WORKERS = 2
RANGES = {"finance.discount_rate": (0.03, 0.10), "demand.population_growth_per_year": (0.0067, 0.0164),
          "demand.tier_kwh_scale": (0.8, 1.3)}
TARGETS = (
    "reactors.capex_usd_per_kw", "reactors.fixed_om_usd_per_kw_year", "reactors.fuel_usd_per_mwh",
    "reactors.variable_om_usd_per_mwh", "reactors.capacity_factor", "reactors.construction_years",
    "reactors.decommissioning_fraction_of_capex", "diesel_minigrid.diesel_price_usd_per_l",
    "diesel_minigrid.capex_usd_per_kw", "diesel_minigrid.fixed_om_usd_per_kw_year",
    "diesel_minigrid.island_logistics_usd_per_l", "diesel_minigrid.fuel_curve_slope_l_per_kwh",
    "pv_battery_hybrid.pv_capex_usd_per_kw", "pv_battery_hybrid.battery_capex_usd_per_kwh",
    "pv_battery_hybrid.pv_capacity_factor", "pv_battery_hybrid.battery_lifetime_years",
    "pv_battery_hybrid.island_capex_multiplier", "submarine_cable.cable_usd_per_km",
    "grid_extension.grid_supply_usd_per_kwh", *RANGES,
)


def run(base_samples: int, out: str) -> None:
    """One sweep with Sobol indices (the child process)."""
    import smrplan.api as api
    from smrplan.scenario import Uncertainty

    sc = api.load_scenario("india-islands")
    params = [{"target": t, "distribution": "triangular",
               **({"low": RANGES[t][0], "high": RANGES[t][1]} if t in RANGES else {})} for t in TARGETS]
    unc = Uncertainty.model_validate({**sc.uncertainty.model_dump(), "parameters": params})
    api.sweep(sc.model_copy(update={"uncertainty": unc}), out, draws=DRAWS, workers=WORKERS,
              sobol_samples=base_samples)


def main(base_samples: int = BASE_SAMPLES) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sobol"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--run", str(base_samples), str(out)], check=True)
        wall = time.perf_counter() - t0
        s = json.loads((out / "sweep.json").read_text())
        plot_ok = (out / "report" / "plots" / "sobol.png").is_file()
    sobol = s["sobol"]
    n = len(sobol["inputs"])
    figure(f"Sobol indices, {n} inputs x {base_samples} base samples, {WORKERS} workers, end to end", wall,
           TARGET_SECONDS)
    print(f"{n} inputs, {sobol['evaluations']:,} evaluations: {wall:.1f} s end to end, Sobol phase "
          f"{s['sobol_elapsed_s']:.1f} s ({sobol['evaluations'] / s['sobol_elapsed_s']:.0f} evaluations/s); "
          f"plot written: {plot_ok}")
    for r in sobol["outputs"]["total_annual_cost_usd"][:3]:
        print(f"  total cost: {r['input']}: S1 {r['S1']:.3f} +- {r['S1_conf']:.3f}, ST {r['ST']:.3f} +- {r['ST_conf']:.3f}")
    ok = wall < TARGET_SECONDS and n >= 20 and plot_ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        run(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else BASE_SAMPLES))
