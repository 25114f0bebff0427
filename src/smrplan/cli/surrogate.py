"""`smrplan surrogate`: a learned surrogate of a sweep, with its cross-validated error.

A thin layer over smrplan.api.surrogate; imports happen inside the command so that `smrplan --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from smrplan.errors import InputError

out_console = Console()


def _parse(items: list[str]) -> dict[str, float]:
    """`COLUMN=VALUE` items as a mapping (exit status 2 naming --set for a bad one)."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            if not sep:
                raise ValueError
            values[name.strip()] = float(raw)
        except ValueError:
            raise InputError(None, "--set", f"{item!r} is not COLUMN=NUMBER (e.g. finance.discount_rate=0.05)") from None
    return values


def surrogate(
    sweep_dir: Annotated[Path, typer.Argument(help="A finished sweep directory (smrplan sweep --out).")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="COLUMN=NUMBER: an input value to predict at "
                                                   "(repeatable); others at the draws' median.")] = None,
) -> None:
    """Learn total cost, reactor share and each region's probability of a reactor from a sweep's draws;
    print the cross-validated error and, with --set, a prediction with its error band."""
    from smrplan.api import surrogate as run

    r = run(sweep_dir, _parse(set_ or []))
    for name, e in r["outputs"].items():
        out_console.print(f"{name}: cross-validated R2 {e['r2']:.3f}, RMSE {e['rmse']:.4g}, "
                          f"{100 * e['coverage']:.0f} % band +- {e['band']:.4g} ({e['draws']} draws, {e['folds']} folds)")
    regions = r["regions"]
    if regions:
        mean_brier = sum(e["brier"] for e in regions.values()) / len(regions)
        out_console.print(f"{len(regions)} region(s) ({r['region_column'] or 'all settlements'}): probability of a "
                          f"reactor, cross-validated Brier score {mean_brier:.3f} on average")
    p = r.get("prediction")
    if p:
        for name in r["outputs"]:
            v = p[name]
            out_console.print(f"predicted {name}: {v['value']:.4g} +- {v['band']:.4g} "
                              f"({v['low']:.4g} .. {v['high']:.4g}) in {r['prediction_ms']:.1f} ms")
        for name, v in sorted(p["regions"].items(), key=lambda kv: -kv[1]["p_reactor"]):
            out_console.print(f"  P(reactor in {name}): {v['p_reactor']:.2f} (Brier {v['brier']:.3f})")
        if p["out_of_range"]:
            out_console.print(f"[yellow]outside the training range: {', '.join(p['out_of_range'])}; the band does not "
                              "hold there: run the sweep with these values for an exact answer[/yellow]")
    out_console.print(f"surrogate.json written to {sweep_dir}")
