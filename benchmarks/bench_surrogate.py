"""Benchmark: the sweep surrogate of the india-national scenario (targets: an answer in under 100 ms,
held-out R² of at least 0.95 on the total annual cost, from at most 1,000 draws).

A national sweep of `draws` + `HELD_OUT` draws runs on a dask LocalCluster of 2 workers in a fresh
Python process (as `smrplan sweep` runs; the data directory defaults to ../shared/data). The surrogate
(smrplan.uncertainty.surrogate.train_surrogate) is trained on the first `draws` draws and tested on the
other `HELD_OUT`, which it has never seen: R² and the share of held-out draws inside the reported
90 % band. An answer is one `Surrogate.predict` call at a random point of the training range (total
cost, reactor share and every region's probability of a reactor), timed over `ANSWERS` calls.
Reported as figures: the median answer time (ms) and 1 - held-out R² of the total annual cost (target
0.05, i.e. R² >= 0.95); printed: the sweep's draws per second and wall time, the training time.

Run: python benchmarks/bench_surrogate.py [draws] [data_dir]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import figure

TARGET_ANSWER_MS = 100.0
TARGET_R2 = 0.95
DRAWS = 1000
HELD_OUT = 200
WORKERS = 2
ANSWERS = 200
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def run(draws: int, out: str, data_dir: str) -> None:
    """The national sweep (the child process)."""
    import smrplan.api as api

    api.sweep("india-national", out, data_dir=data_dir, draws=draws, workers=WORKERS)


def main(draws: int = DRAWS, data_dir: Path = DATA_DIR) -> int:
    import numpy as np
    import pandas as pd

    from smrplan.uncertainty.surrogate import train_surrogate

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--run", str(draws + HELD_OUT), str(out), str(data_dir)], check=True)
        wall = time.perf_counter() - t0
        summary = json.loads((out / "sweep.json").read_text())
        frame = pd.read_parquet(out / "draws.parquet")
    inputs = [c["column"] for d in summary["distributions"] for c in d["columns"]]
    train, held = frame[frame["draw"] < draws], frame[frame["draw"] >= draws]
    t1 = time.perf_counter()
    s = train_surrogate(train, inputs, seed=summary["seed"])
    train_s = time.perf_counter() - t1
    y = held["total_annual_cost_usd"].to_numpy(float)
    pred = s.models["total_annual_cost_usd"].predict(held[inputs].to_numpy(float))
    r2 = 1.0 - float(np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    inside = float(np.mean(np.abs(y - pred) <= s.errors["total_annual_cost_usd"]["band"]))
    rng = np.random.default_rng(0)
    times = []
    for _ in range(ANSWERS):
        point = dict(zip(inputs, rng.uniform(s.low, s.high).tolist(), strict=True))
        t2 = time.perf_counter()
        s.predict(point)
        times.append(1000.0 * (time.perf_counter() - t2))
    answer_ms = statistics.median(times)
    figure(f"surrogate answer (total cost, reactor share, {len(s.regions)} regions)", answer_ms, TARGET_ANSWER_MS, "ms")
    figure(f"1 - held-out R2 of the total annual cost, {draws:,} training draws", 1.0 - r2, 1.0 - TARGET_R2, "fraction")
    print(f"sweep of {summary['draws']:,} national draws ({summary['settlements']:,} settlements): {wall:.1f} s end to "
          f"end, draws {summary['elapsed_s']:.1f} s ({summary['draws_per_second']} draws/s on {summary['workers']} workers)")
    e = s.errors["total_annual_cost_usd"]
    print(f"training on {len(train):,} draws: {train_s:.1f} s; cross-validated R2 {e['r2']:.4f}, held-out R2 {r2:.4f} on "
          f"{len(held)} draws; {100 * inside:.0f} % of held-out draws inside the reported 90 % band "
          f"(+- {e['band'] / 1e9:.3f} G USD/yr); answer median {answer_ms:.2f} ms, max {max(times):.2f} ms")
    print(f"regions ({summary.get('regions', {}).get('column')}): {len(s.regions)}, mean probability of a reactor "
          f"{statistics.mean(r['base_rate'] for r in s.region_errors.values()) if s.regions else float('nan'):.3f}")
    ok = answer_ms < TARGET_ANSWER_MS and r2 >= TARGET_R2 and draws <= DRAWS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        run(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DRAWS,
                      Path(sys.argv[2]) if len(sys.argv) > 2 else DATA_DIR))
