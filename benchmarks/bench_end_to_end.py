"""Benchmark: `smrplan run` end to end on synthetic national settlement sets (issue targets: 100,000
settlements under 30 s and 2 GiB with optimisation and dispatch, under 15 s and 1 GiB without the
optimisation stage).

Settlements are uniform random points on India's land (the OSM land layer of the data folder,
SMRPLAN_TEST_DATA or ../shared/data) with log-normal populations (median about 700 persons, seeded);
every other layer is the india-national scenario's (districts, grid statistics, land, water, hazards).
Each case runs in its own child process (`smrplan.api.run`, report included), timed as a whole with its
peak resident memory (os.wait4), as `run_all.py` measures scripts.

Run: python benchmarks/bench_end_to_end.py [n_settlements ...]   (default 100000)
"""

from __future__ import annotations

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

TARGETS = {True: (30.0, 2048.0), False: (15.0, 1024.0)}  # optimisation on / off: seconds, MiB
CHILD = """
import sys
from smrplan.api import run
run(sys.argv[1], out=sys.argv[2], data_dir=sys.argv[3], overwrite=True)
"""


def settlements_csv(n: int, path: Path, seed: int = 0) -> None:
    """n synthetic settlements on India's land (`smrplan.geo.synthetic`): id, name, lon, lat, population."""
    land = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers=layers())
    synthetic_settlements(land, n, seed).to_csv(path, index=False)


def scenario_file(csv: Path, path: Path, optimise: bool) -> None:
    """The india-national scenario on the synthetic settlements (optimisation stage on or off)."""
    sc = national_scenario(csv, f"synthetic-{'opt' if optimise else 'noopt'}", optimise)
    path.write_text(yaml.safe_dump(sc), encoding="utf-8")


def run_case(scenario: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(scenario), str(out), str(DATA)])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run of {scenario.name} failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024.0


def main(sizes: list[int]) -> None:
    if not DATA.is_dir():
        raise SystemExit(f"needs the real data folder ({DATA})")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            csv = Path(tmp) / f"settlements_{n}.csv"
            settlements_csv(n, csv)
            for optimise in (True, False):
                sc = Path(tmp) / f"scenario_{n}_{optimise}.yaml"
                scenario_file(csv, sc, optimise)
                seconds, mib = run_case(sc, Path(tmp) / f"run_{n}_{optimise}")
                tag = "opt" if optimise else "noopt"
                target_s, target_mib = TARGETS[optimise]
                print(f"{n:,} settlements, optimisation {'on' if optimise else 'off'}: {seconds:.1f} s, {mib:,.0f} MiB peak")
                figure(f"end_to_end_{n}_{tag}_seconds", seconds, target_s if n == 100_000 else float("nan"), "s")
                figure(f"end_to_end_{n}_{tag}_peak_mib", mib, target_mib if n == 100_000 else float("nan"), "MiB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000])
