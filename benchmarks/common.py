"""Shared helpers for the benchmark scripts.

Each script prints, for every performance figure it measures, one line

    FIGURE <name> | measured=<value> | target=<value> | unit=<unit>

which `run_all.py` collects (median over several runs) and prints next to the targets, with each
run's peak memory. Scripts also print human-readable context.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def figure(name: str, measured: float, target: float, unit: str = "s") -> None:
    """Print one machine-readable performance figure (lower is better)."""
    print(f"FIGURE {name} | measured={measured:.6g} | target={target:.6g} | unit={unit}", flush=True)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall-clock seconds of one call and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out
