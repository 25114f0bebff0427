"""Benchmark: read, check and compute demand for 1,000,000 settlements (targets: < 20 s, < 4 GiB).

A child process synthesises the settlements (seeded; village-like log-normal populations, India's
extent) and writes them to a temporary CSV or Parquet file, so that the memory of the synthesis is
not counted. This process then times `smrplan.geo.io.read_settlements` (read + contract checks) and
`smrplan.demand.load.compute_demand` with the bundled india-islands scenario's demand block, and reports
the wall time and the peak resident memory of the process (resource.getrusage ru_maxrss, which
includes the interpreter and the imported libraries).

Run: python benchmarks/bench_demand.py [n_settlements] [csv|parquet]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import figure

TARGET_SECONDS = 20.0
TARGET_GIB = 4.0
N_SETTLEMENTS = 1_000_000


def synthesise(n: int, path: Path, seed: int = 0) -> None:
    """Write n settlements: id, name, lon, lat (India's box), population, households, urban share."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("S", np.arange(n).astype(str))
    population = np.round(rng.lognormal(mean=6.5, sigma=1.2, size=n))  # median about 665 persons
    urban = rng.random(n) < 0.05
    df = pd.DataFrame({
        "id": ids,
        "name": np.char.add("Village ", np.arange(n).astype(str)),
        "lon": np.round(rng.uniform(68.2, 97.4, n), 5),
        "lat": np.round(rng.uniform(6.8, 37.1, n), 5),
        "population": population,
        "households": np.round(population / rng.uniform(4.2, 5.4, n)),
        "population_urban": np.where(urban, population, 0.0),
    })
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def main(n: int = N_SETTLEMENTS, fmt: str = "csv") -> int:
    from smrplan.demand.load import compute_demand
    from smrplan.geo.io import read_settlements
    from smrplan.scenario import load_scenario

    scenario = load_scenario("india-islands")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"settlements.{fmt}"
        subprocess.run([sys.executable, __file__, "--write", str(n), str(path)], check=True)
        size_mib = path.stat().st_size / 2**20
        t0 = time.perf_counter()
        settlements = read_settlements(path)
        t1 = time.perf_counter()
        demand = compute_demand(settlements, scenario.demand, scenario.target_year)
        t2 = time.perf_counter()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30  # Linux: KiB
    total = t2 - t0
    print(f"{n:,} settlements from {fmt} ({size_mib:,.0f} MiB): read + check {t1 - t0:.2f} s, "
          f"compute_demand {t2 - t1:.2f} s")
    print(f"total {total:.2f} s (target < {TARGET_SECONDS:.0f} s), peak memory {peak_gib:.2f} GiB "
          f"(target < {TARGET_GIB:.0f} GiB); demand {demand['demand_kwh_per_year'].sum() / 1e9:,.1f} TWh/yr")
    ok = total < TARGET_SECONDS and peak_gib < TARGET_GIB
    print("PASS" if ok else "FAIL")
    figure(f"read, check and demand for {n:,} settlements ({fmt})", total, TARGET_SECONDS)
    figure(f"peak memory, {n:,} settlements ({fmt})", peak_gib, TARGET_GIB, "GiB")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        synthesise(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else N_SETTLEMENTS,
                      sys.argv[2] if len(sys.argv) > 2 else "csv"))
