"""Run every benchmark several times and print each performance figure next to its target.

Each `bench_*.py` script prints `FIGURE <name> | measured=<v> | target=<v> | unit=<u>` lines
(benchmarks/common.py). This runner starts each script `--repeats` times as a child process, takes the
median of every figure and the child's peak resident memory (os.wait4), and prints a table.

A script that takes more than about 10 minutes says so with a module-level ``SLOW = True`` and runs
only with ``--all`` (or when named in ``--only``).

Run: python benchmarks/run_all.py [--repeats 3] [--only costs,dispatch] [--all]
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_once(script: Path) -> tuple[dict[str, tuple[float, float, str]], float, float, str]:
    """Figures printed by one run, its wall time (s), peak memory (MiB) and its output."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script)], cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    figures = {}
    for line in out.splitlines():
        if line.startswith("FIGURE "):
            name, *fields = [p.strip() for p in line[len("FIGURE "):].split("|")]
            kv = dict(f.split("=", 1) for f in fields)
            figures[name] = (float(kv["measured"]), float(kv["target"]), kv.get("unit", "s"))
    if proc.returncode != 0:
        print(out, file=sys.stderr)
        raise SystemExit(f"{script.name} failed with exit status {proc.returncode}")
    return figures, wall, usage.ru_maxrss / 1024.0, out


def slow(script: Path) -> bool:
    """Whether a script sets ``SLOW = True`` at module level (read, not imported)."""
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SLOW" for t in node.targets):
            return isinstance(node.value, ast.Constant) and node.value.value is True
    return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated script names without bench_ and .py")
    ap.add_argument("--all", action="store_true", help="also the slow scripts (SLOW = True)")
    args = ap.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    scripts = sorted(p for p in HERE.glob("bench_*.py") if p.stem.removeprefix("bench_") in only
                     or not only and (args.all or not slow(p)))
    rows = []
    for script in scripts:
        print(f"running {script.name} x{args.repeats} ...", flush=True)
        runs = [run_once(script) for _ in range(args.repeats)]
        names = list(runs[0][0])
        peak = max(r[2] for r in runs)
        for name in names:
            values = [r[0][name][0] for r in runs if name in r[0]]
            target, unit = runs[0][0][name][1], runs[0][0][name][2]
            med = statistics.median(values)
            rows.append((name, med, target, unit, "yes" if med <= target else "NO", peak,
                         ", ".join(f"{v:.3g}" for v in values)))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"\n{'figure':<{width}}  {'median':>10}  {'target':>8}  unit  met  peak MiB  runs")
    for name, med, target, unit, ok, peak, values in rows:
        print(f"{name:<{width}}  {med:>10.3g}  {target:>8.3g}  {unit:<4}  {ok:<3}  {peak:>8.0f}  {values}")


if __name__ == "__main__":
    main()
