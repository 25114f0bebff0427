"""Benchmark: a 1,000-draw Monte Carlo sweep of the bundled india-islands scenario (cost and choice,
no re-optimisation) on a dask LocalCluster with 1 and with 2 worker processes (target: < 60 s each,
end to end on a 2-core machine).

Each run is `smrplan.uncertainty.sweep` in a fresh Python process (as `smrplan sweep` runs) into a
temporary directory: imports, cluster start, model build (region, demand, grid distances, site
screen), all draws, the tornado and the summary files.
Reported: the wall time of the whole run, and draws per second of the sweep phase (from shipping
the model to the workers to the last part file, as recorded in sweep.json). The sweeps of both runs
must be identical (same seed); the benchmark checks that too.

Run: python benchmarks/bench_sweep.py [draws]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import figure

TARGET_SECONDS = 60.0
DRAWS = 1000
OUTPUTS = ("draws.parquet", "settlement_options.parquet", "sites.parquet", "tornado.parquet")


def run(draws: int, workers: int, out: str) -> None:
    """One sweep (the child process)."""
    from smrplan.uncertainty.sweep import sweep

    sweep("india-islands", out, draws=draws, workers=workers)


def main(draws: int = DRAWS) -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            out = Path(tmp) / f"workers-{workers}"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--run", str(draws), str(workers), str(out)], check=True)
            wall = time.perf_counter() - t0
            s = json.loads((out / "sweep.json").read_text())
            passed = wall < TARGET_SECONDS
            ok &= passed
            figure(f"sweep {draws:,} draws, {workers} worker(s), end to end", wall, TARGET_SECONDS)
            print(f"{workers} worker(s): {draws:,} draws in {wall:.1f} s end to end "
                  f"({draws / wall:.1f} draws/s; sweep phase {s['draws_per_second']:.1f} draws/s); "
                  f"target < {TARGET_SECONDS:.0f} s: {'PASS' if passed else 'FAIL'}")
        same = all((Path(tmp) / "workers-1" / f).read_bytes() == (Path(tmp) / "workers-2" / f).read_bytes()
                   for f in OUTPUTS)
        print(f"1 and 2 workers give identical outputs: {same}")
    ok &= same
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        run(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DRAWS))
