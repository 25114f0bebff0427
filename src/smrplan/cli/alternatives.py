"""`smrplan alternatives`: near-optimal plans within a cost slack of the least cost, solved on Dask.

A thin layer over smrplan.api.alternatives; imports happen inside the command so that
`smrplan --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)
out_console = Console()


def alternatives(
    scenario: Annotated[str, typer.Argument(help="Bundled scenario name or YAML file (its `alternatives` block).")],
    out: Annotated[Path | None, typer.Option("--out", help="Run directory (default "
                                             "runs/<scenario>-alternatives-<time>).")] = None,
    random_directions: Annotated[int | None, typer.Option("--random-directions", min=0, max=1000, help="Random "
                                 "directions over the sites (default: alternatives.random_directions).")] = None,
    slack: Annotated[float | None, typer.Option("--slack", help="Cost slack, a fraction of the least cost, above 0 "
                                                "and at most 1 (default: alternatives.cost_slack_fraction).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=0, help="Local Dask worker processes, one "
                                                "thread each (default: CPU count); 0 solves in this process.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler "
                                                  "(e.g. tcp://10.0.0.5:8786) instead of local workers.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Directory the scenario's layer paths "
                                                  "are relative to.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")] = False,
) -> None:
    """Near-optimal alternatives: within the cost slack, the fewest and most reactor MW and sites, diesel
    litres and emissions, and random directions; sites in every plan (must-have) and in some (optional)."""
    from smrplan.api import alternatives as run

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("starting", total=None)
        result = run(scenario, out, data_dir, random_directions=random_directions, slack=slack, workers=workers,
                     scheduler=scheduler, overwrite=overwrite, progress=lambda s: bar.update(task, description=s))
    r = result.record
    table = Table(title=f"{r['solved']} of {r['plans']} plans within {100 * r['cost_slack_fraction']:.1f} % of the "
                        f"least cost ({r['least_cost_usd'] / 1e6:,.2f} M USD/yr)")
    for col in ("objective", "direction", "M USD/yr", "slack used", "reactor MW", "sites", "reactor share",
                "M litres/yr", "kt CO2/yr"):
        table.add_column(col, justify="right")
    for _, a in result.table.iterrows():
        if a.get("total_annual_cost_usd") is None or a["total_annual_cost_usd"] != a["total_annual_cost_usd"]:
            table.add_row(a["objective"], a["direction"], a["status"], *[""] * 6)
            continue
        table.add_row(a["objective"], a["direction"], f"{a['total_annual_cost_usd'] / 1e6:,.2f}",
                      f"{a['slack_used_fraction']:.1%}", f"{a['reactor_capacity_mw']:,.1f}", str(int(a["reactor_sites"])),
                      f"{a['reactor_share']:.1%}", f"{a['diesel_litres_per_year'] / 1e6:,.2f}",
                      f"{a['emissions_t_co2_per_year'] / 1e3:,.1f}")
    out_console.print(table)
    out_console.print(f"{r['must_have_sites']} must-have and {r['optional_sites']} optional sites")
