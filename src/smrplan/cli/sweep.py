"""`smrplan sweep`: Monte Carlo over costs and demand, locally or on a Dask cluster.

A thin layer over smrplan.uncertainty.sweep with a rich progress bar. Imports of
the sweep machinery happen inside the command so that `smrplan --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

console = Console(stderr=True)
out_console = Console()


def sweep(
    scenario: Annotated[str, typer.Argument(help="Bundled scenario name or YAML file (its `uncertainty` block).")],
    out: Annotated[Path, typer.Option("--out", help="Sweep directory. Rerun the same command to resume "
                                                    "an interrupted sweep: only unfinished batches run.")],
    draws: Annotated[int | None, typer.Option("--draws", min=1, help="Number of draws (default: the "
                                                                      "scenario's uncertainty.draws).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=0, help="Local Dask worker processes, one "
                                                "thread each (default: CPU count); 0 runs in this process.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler "
                                                  "(e.g. tcp://10.0.0.5:8786) instead of local workers.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Directory the scenario's layer paths "
                                                  "are relative to.")] = None,
    reoptimise: Annotated[bool, typer.Option("--reoptimise", help="Solve the siting MILP in every draw "
                                             "(slow) instead of each settlement's least-cost option.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: uncertainty.seed).")] = None,
    batch_draws: Annotated[int | None, typer.Option("--batch-draws", min=1, help="Draws per task and part "
                                                    "file (default: uncertainty.batch_draws).")] = None,
    sobol: Annotated[bool, typer.Option("--sobol", help="Also Sobol first-order and total indices of total cost, "
                                        "LCOE and reactor share (Saltelli design; sobol.parquet, sweep.json "
                                        "`sobol`, report/plots/sobol.png).")] = False,
    sobol_samples: Annotated[int, typer.Option("--sobol-samples", min=4, help="Base samples N of the Saltelli "
                                               "design, a power of two; N x (inputs + 2) evaluations.")] = 512,
) -> None:
    """Monte Carlo sweep over uncertain costs and demand: probabilities of each option, P5/P50/P95 of
    total cost, reactor capacity and emissions, and a tornado of one-at-a-time ranges."""
    from smrplan.api import sweep as run

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("starting", total=None)

            def progress(stage: str, done: int | None, total: int | None) -> None:
                if done is None:
                    bar.update(task, description=stage)
                else:
                    bar.update(task, description=stage, completed=done, total=total)

            summary = run(scenario, out, data_dir, draws=draws, seed=seed, batch_draws=batch_draws,
                          reoptimise=reoptimise, workers=workers, scheduler=scheduler, progress=progress,
                          sobol_samples=sobol_samples if sobol else None)
    except KeyboardInterrupt:
        console.print(f"[red]interrupted[/red]; finished batches are kept in {out}: rerun the same command to resume")
        raise typer.Exit(130) from None
    _print_summary(summary, out)


def _print_summary(s: dict, out: Path) -> None:
    table = Table(title=f"{s['scenario']} {s['target_year']}: {s['draws']:,} draws (seed {s['seed']}), "
                        f"{s['currency']}")
    for col in ("quantity", "P5", "P50", "P95", "base"):
        table.add_column(col, justify="right")
    fmt = {"total_annual_cost_usd": ("total cost, M USD/yr", 1e-6, "{:,.2f}"),
           "reactor_share": ("reactor share of demand", 1.0, "{:.1%}"),
           "reactor_capacity_mw": ("reactor capacity, MW", 1.0, "{:,.1f}"),
           "emissions_t_co2_per_year": ("emissions, kt CO2/yr", 1e-3, "{:,.1f}")}
    for key, (label, scale, f) in fmt.items():
        p = s["percentiles"][key]
        table.add_row(label, *(f.format(p[k] * scale) for k in ("p5", "p50", "p95")), f.format(s["base"][key] * scale))
    out_console.print(table)
    probs = ", ".join(f"{o} {v['probability_chosen']:.0%}" for o, v in s["options"].items())
    out_console.print(f"P(option chosen by at least one settlement): {probs}")
    out_console.print("largest total-cost swings (one at a time, low -> high):")
    for t in s["tornado"][:5]:
        out_console.print(f"  {t['parameter']}: {t['low_total_usd'] / 1e6:,.2f} -> {t['high_total_usd'] / 1e6:,.2f} "
                          f"M USD/yr, reactor share {t['low_reactor_share']:.1%} -> {t['high_reactor_share']:.1%}")
    if "sobol" in s:
        _print_sobol(s["sobol"])
    rate = f", {s['draws_per_second']:,.1f} draws/s" if s.get("draws_per_second") else ""
    out_console.print(f"sweep directory: {out} ({s['elapsed_s']:.1f} s{rate})")


def _print_sobol(sobol: dict) -> None:
    """The inputs with the largest total Sobol index of each output."""
    out_console.print(f"Sobol indices ({sobol['evaluations']:,} evaluations; S1 first order, ST total):")
    for output, rows in sobol["outputs"].items():
        top = ", ".join(f"{r['input']} S1 {r['S1']:.2f} ST {r['ST']:.2f}" for r in rows[:3])
        out_console.print(f"  {output}: {top}")
