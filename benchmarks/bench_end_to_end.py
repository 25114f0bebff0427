"""Benchmark: `smrplan run` end to end on synthetic national settlement sets.

Issue targets: 100,000 settlements under 30 s and 2 GiB with optimisation and dispatch, under 15 s and
1 GiB without the optimisation stage; 1,000,000 settlements with clustering under 90 s and 4 GiB, time
and memory growing no faster than linearly from 100,000 (the exponent is printed).

Cases, each in its own child process (the command `smrplan run`, report included) timed as a whole
with its peak resident memory (os.wait4), as `run_all.py` measures scripts:

- ``opt``: the national scenario as it is (optimisation with clustering, dispatch, tornado, report);
- ``noopt``: optimisation off (each settlement's least-cost option), dispatch on;
- ``screen``: optimisation and dispatch off, the national screening run OnSSET makes.

Settlements are uniform random points on India's land (`smrplan.geo.synthetic`, the OSM land layer of
the data folder, SMRPLAN_TEST_DATA or ../shared/data) with log-normal populations (median about 700
persons, seeded); every other layer is the india-national scenario's. Geometry prepared from the land
layer is kept on disk between runs (`smrplan.geo.diskcache`), some of it for the settlements' extent
(the h3 cells of their box): a first, untimed run of each size (``opt`` at the smallest, in a fresh
cache folder, ``screen`` at the others) fills the cache, so the figures are those of every later run
on the same data; the first run's time is printed too.

Run: python benchmarks/bench_end_to_end.py [n_settlements ...]   (default 100000; the 1,000,000 figures and
the growth exponent: python benchmarks/bench_end_to_end.py 100000 1000000)
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import yaml
from bench_siting import DATA, layers
from common import figure

from smrplan.geo.layers import Region
from smrplan.geo.synthetic import national_scenario, synthetic_settlements

# Case: (optimisation, dispatch, targets by size: seconds, MiB).
CASES = {"opt": (True, True, {100_000: (30.0, 2048.0), 1_000_000: (90.0, 4096.0)}),
         "noopt": (False, True, {100_000: (15.0, 1024.0)}),
         "screen": (False, False, {})}
CHILD = """
import sys
from smrplan.cli.main import main
sys.argv = ["smrplan", "run", sys.argv[1], "--out", sys.argv[2], "--data-dir", sys.argv[3], "--overwrite"]
main()
"""


def settlements_csv(n: int, path: Path, seed: int = 0) -> None:
    """n synthetic settlements on India's land (`smrplan.geo.synthetic`): id, name, lon, lat, population."""
    land = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers=layers())
    synthetic_settlements(land, n, seed).to_csv(path, index=False)


def scenario_file(csv: Path, path: Path, case: str) -> None:
    """The india-national scenario on the synthetic settlements, with the case's stages."""
    optimise, dispatch, _ = CASES[case]
    path.write_text(yaml.safe_dump(national_scenario(csv, f"synthetic-{case}", optimise, dispatch)), encoding="utf-8")


def run_case(scenario: Path, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(scenario), str(out), str(DATA)], env=env,
                            stdout=subprocess.DEVNULL)  # the run's summary table
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run of {scenario.name} failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024.0


def main(sizes: list[int]) -> None:
    if not DATA.is_dir():
        raise SystemExit(f"needs the real data folder ({DATA})")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SMRPLAN_CACHE_DIR": str(Path(tmp) / "cache")}
        measured: dict[tuple[str, int], tuple[float, float]] = {}
        for k, n in enumerate(sorted(sizes)):
            csv = Path(tmp) / f"settlements_{n}.csv"
            settlements_csv(n, csv)
            scenarios = {case: Path(tmp) / f"scenario_{n}_{case}.yaml" for case in CASES}
            for case, sc in scenarios.items():
                scenario_file(csv, sc, case)
            first = "opt" if k == 0 else "screen"  # untimed: fills the cache with this size's geometry
            cold, _ = run_case(scenarios[first], Path(tmp) / "cold", env)
            print(f"{n:,} settlements, {first}, {'empty cache' if k == 0 else 'first run of this size'}: {cold:.1f} s")
            for case, (_, _, targets) in CASES.items():
                seconds, mib = measured[case, n] = run_case(scenarios[case], Path(tmp) / f"run_{n}_{case}", env)
                target_s, target_mib = targets.get(n, (math.nan, math.nan))
                print(f"{n:,} settlements, {case}: {seconds:.1f} s, {mib:,.0f} MiB peak")
                figure(f"end_to_end_{n}_{case}_seconds", seconds, target_s, "s")
                figure(f"end_to_end_{n}_{case}_peak_mib", mib, target_mib, "MiB")
        small, large = min(sizes), max(sizes)
        if large > small:
            for case in CASES:
                (s0, m0), (s1, m1) = measured[case, small], measured[case, large]
                ratio = math.log(large / small)
                print(f"{case}: time grows as n^{math.log(s1 / s0) / ratio:.2f}, memory as n^{math.log(m1 / m0) / ratio:.2f} "
                      f"from {small:,} to {large:,} settlements")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000])
