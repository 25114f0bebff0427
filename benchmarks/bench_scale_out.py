"""Benchmark: national settlement sets through demand, costs and siting on a 2-worker Dask cluster.

Issue target: 10,000,000 synthetic settlements through demand, costs and siting on a 2-worker local
Dask cluster, within this machine's memory (24 GiB), with the throughput per worker stated.

The settlements (uniform random points on India's land with log-normal populations,
`smrplan.geo.synthetic`, seeded) are written to a Parquet file in a temporary folder by a child
process, so that their generation is not counted. The india-national scenario on that file
(`national_scenario`, its `scale` block as bundled) then runs the stages `prepare_inputs` ->
`screen_sites` (candidates by partitions of settlements, screen by partitions of candidates) ->
`cost_basis_of` -> `cost_options` on a LocalCluster of 2 single-threaded worker processes
(`MEMORY_LIMIT` each); optimisation, dispatch and outputs are not part of the target.

Measured: wall seconds of every stage; settlements per second per worker (settlements over the four
stages' seconds, over the workers); peak resident memory of this process, of each worker process and
of the whole process tree at once (RSS sampled every `SAMPLE_S` s by a thread with psutil; the
nannies, a few hundred MiB, are in the total). Geometry prepared from the land layer is kept in
SMRPLAN_CACHE_DIR when set (warm after the first run), else in the temporary folder (cold: its
preparation is part of the inputs stage).

It takes more than ten minutes at the default size, so `run_all.py` runs it only with ``--all`` (`SLOW`).
Measured on a 2-core, 24 GiB machine (warm geometry cache, 2026-12-07): 10,000,000 settlements in 683 s
(inputs 154 s, screen 433 s, reach 66 s, costs 31 s; 7,322 settlements per second per worker; 18.7 GiB
for all processes at once, this process 15.9 GiB, workers at most 2.7 GiB; 9,376,124 candidates,
216 suitable); 3,000,000 in 338 s before the zone-population sums came from a summed grid
(docs/methodology.md, section 6).

Run: python benchmarks/bench_scale_out.py [n_settlements ...]   (default 10000000)
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import geopandas as gpd
import psutil
import yaml
from bench_siting import DATA, layers
from common import figure
from dask.distributed import Client, LocalCluster

from smrplan.api import load_scenario
from smrplan.geo.layers import Region
from smrplan.geo.synthetic import national_scenario, synthetic_settlements
from smrplan.pipeline import cluster_of, cost_basis_of, cost_options, prepare_inputs, screen_sites

SLOW = True  # run_all.py runs it only with --all
WORKERS = 2
MEMORY_LIMIT = "8GiB"  # per worker: two workers and this process within the machine's 24 GiB
SAMPLE_S = 0.25
TARGET_PEAK_GIB = 24.0
GIB = 2.0**30


def write_settlements(n: int, path: Path, seed: int = 0) -> None:
    """n synthetic settlements on India's land (`smrplan.geo.synthetic`) as a Parquet table: id, name,
    lon, lat (degrees), population (persons)."""
    land = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers=layers())
    synthetic_settlements(land, n, seed).to_parquet(path, index=False)


class PeakMemory:
    """Peak resident memory (bytes) of this process, of each child process and of the whole tree at
    once, over the run and over each stage (`mark`), sampled every `SAMPLE_S` s by a thread."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peaks: dict[int, int] = {}  # pid -> peak bytes over the run
        self.total = 0
        self.window: tuple[dict[int, int], int] = ({}, 0)  # since the last mark
        self.stages: dict[str, tuple[dict[int, int], int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        """One sample of every process of the tree."""
        rss = {}
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                rss[proc.pid] = proc.memory_info().rss
            except psutil.Error:
                continue
        with self._lock:
            for peaks in (self.peaks, self.window[0]):
                for pid, b in rss.items():
                    peaks[pid] = max(peaks.get(pid, 0), b)
            self.total = max(self.total, sum(rss.values()))
            self.window = (self.window[0], max(self.window[1], sum(rss.values())))

    def mark(self, stage: str) -> None:
        """End a stage: its peaks are those since the previous mark."""
        self.sample()
        with self._lock:
            self.stages[stage], self.window = self.window, ({}, 0)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def run_stages(n: int, scenario_path: Path, client: Client, mem: PeakMemory) -> dict[str, float]:
    """Wall seconds of each stage of the national scenario on the cluster (each stage's peak memory
    marked in `mem`)."""
    sc = load_scenario(scenario_path, DATA)
    cluster = cluster_of(client)
    seconds = {}
    start = t0 = time.perf_counter()

    def progress(step: str) -> None:
        print(f"    {time.perf_counter() - start:7.1f} s  {step}", flush=True)

    inputs = prepare_inputs(sc, progress, cluster=cluster)
    seconds["inputs"], t0 = time.perf_counter() - t0, time.perf_counter()
    mem.mark("inputs")
    screened = screen_sites(inputs, progress, cluster=cluster)
    seconds["screen"], t0 = time.perf_counter() - t0, time.perf_counter()
    mem.mark("screen")
    basis = cost_basis_of(inputs, screened, progress, cluster=cluster)
    seconds["reach"], t0 = time.perf_counter() - t0, time.perf_counter()
    mem.mark("reach")
    costs = cost_options(inputs, basis, progress, cluster=cluster)
    seconds["costs"] = time.perf_counter() - t0
    mem.mark("costs")
    counts = screened.summary()
    print(f"{n:,} settlements: {counts['candidates']:,} candidates, {counts['suitable']:,} suitable, "
          f"{len(costs.standalone_annual_usd):,} settlements costed", flush=True)
    return seconds


def measure(n: int, tmp: Path) -> None:
    """Generate n settlements, run the stages on a fresh 2-worker cluster and print the figures."""
    path = tmp / f"settlements_{n}.parquet"
    t0 = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        pool.submit(write_settlements, n, path).result()
    print(f"{n:,} settlements written in {time.perf_counter() - t0:.0f} s", flush=True)
    scenario_path = tmp / f"scenario_{n}.yaml"
    scenario_path.write_text(yaml.safe_dump(national_scenario(path, f"scale-{n}", optimise=False, dispatch=False)),
                             encoding="utf-8")
    with PeakMemory() as mem, LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                           memory_limit=MEMORY_LIMIT, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
        seconds = run_stages(n, scenario_path, client, mem)
    total = sum(seconds.values())
    for stage, s in seconds.items():
        peaks, tree = mem.stages[stage]
        print(f"  {stage}: {s:.1f} s; peak GiB main {peaks.get(mem.me.pid, 0) / GIB:.2f}, workers "
              + ", ".join(f"{peaks.get(pid, 0) / GIB:.2f}" for pid in sorted(workers)) + f", tree {tree / GIB:.2f}",
              flush=True)
        figure(f"scale_out_{n}_{stage}_seconds", s, math.nan, "s")
    figure(f"scale_out_{n}_seconds", total, math.nan, "s")
    figure(f"scale_out_{n}_settlements_per_second_per_worker", n / total / WORKERS, math.nan, "1/s")
    for role, pids in (("main", {mem.me.pid}), ("worker", workers)):
        peaks = [mem.peaks.get(pid, 0) for pid in sorted(pids)]
        print(f"  peak {role}: " + ", ".join(f"{p / GIB:.2f} GiB" for p in peaks), flush=True)
        figure(f"scale_out_{n}_peak_gib_{role}", max(peaks) / GIB, math.nan, "GiB")
    figure(f"scale_out_{n}_peak_gib_total", mem.total / GIB, TARGET_PEAK_GIB, "GiB")


def main(sizes: list[int]) -> None:
    if not DATA.is_dir():
        raise SystemExit(f"needs the real data folder ({DATA})")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SMRPLAN_CACHE_DIR", str(Path(tmp) / "cache"))
        for n in sizes:
            measure(n, Path(tmp))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000_000])
