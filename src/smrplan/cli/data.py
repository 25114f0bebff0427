"""`smrplan data ...`: commands about a data directory (registered in cli.py as the "data" group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from smrplan.errors import InputError
from smrplan.geo.io import DEFAULT_REGION

data_app = typer.Typer(no_args_is_help=True, help="Check the layers of a data directory.")


@data_app.callback()
def _data() -> None:
    """Commands about a data directory (a group even with one command, so `data check` reads alike
    standalone and under `smrplan`)."""


def _mapping(layers: list[str] | None) -> dict[str, str] | None:
    if not layers:
        return None
    mapping = {}
    for item in layers:
        name, sep, file = item.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise typer.BadParameter(f"{item!r} is not NAME=FILE", param_hint="--layer")
        mapping[name.strip()] = file.strip()
    return mapping


def _with_repairs(report: pd.DataFrame, region: str) -> pd.DataFrame:
    """For each layer with errors: read it as a run with --repair would (settlements and anchor_loads
    with their repairing readers; other layers only when their errors are a missing CRS). When that
    succeeds, the layer's status becomes "warning" and a line lists the repairs made."""
    from smrplan.geo.io import read_anchor_loads, read_settlements, read_vector

    report = report.copy()
    for i in np.flatnonzero(report["status"].eq("error").to_numpy()):  # layers, not rows
        name, path, problems = report.at[i, "layer"], Path(report.at[i, "file"]), list(report.at[i, "problems"])
        errors = [p for p in problems if p.startswith("error")]
        try:
            if name == "settlements":
                gdf = read_settlements(path, repair=True, region=region)
            elif name == "anchor_loads":
                gdf = read_anchor_loads(path, repair=True, region=region)
            elif all("coordinate reference system" in e for e in errors):
                gdf = read_vector(path, drop_missing_coords=True, repair=True)
            else:
                continue
        except InputError as exc:
            problems.append(f"error: not repairable with --repair: {exc.message}")
            report.at[i, "problems"] = problems
            continue
        fixes = ", ".join(f"{k} {v}" for k, v in gdf.attrs.get("repairs", {}).items()) or "none needed"
        problems = [p.replace("error:", "warning (repaired with --repair):", 1) for p in problems]
        problems.append(f"warning: --repair fixes: {fixes}; {gdf.attrs.get('dropped_rows', 0)} row(s) dropped")
        report.at[i, "problems"] = problems
        report.at[i, "status"] = "warning"
    return report


@data_app.command("check")
def check(directory: Annotated[Path, typer.Argument(help="Data directory.")],
          layer: Annotated[list[str] | None, typer.Option(
              "--layer", help="NAME=FILE (relative to DIR); repeat. Default: every layer file found.")] = None,
          region: Annotated[str, typer.Option("--region", help="Bounding box for the region check.")] = DEFAULT_REGION,
          repair: Annotated[bool, typer.Option(
              "--repair", help="Also say which errors `smrplan run --repair` would fix (and how, row by row, in the "
                               "log); such layers count as warnings, not errors.")] = False,
          ) -> None:
    """Check every layer: readable, rows, CRS, extent, geometries, ids, population. Exit 2 on errors."""
    from smrplan.geo.datacheck import check_data_dir, has_errors

    if not directory.is_dir():
        raise InputError(directory, None, "not a directory")
    report = check_data_dir(directory, _mapping(layer), region=region)
    if repair:
        report = _with_repairs(report, region)
    table = Table(title=f"{directory}: {len(report)} layer(s)", show_lines=True)
    for col, justify in (("layer", "left"), ("rows", "right"), ("CRS", "left"), ("extent (lon/lat)", "left"),
                         ("problems", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    colour = {"ok": "green", "warning": "yellow", "error": "red"}
    for r in report.itertuples(index=False):
        extent = "-"
        if r.extent is not None:
            x0, y0, x1, y1 = r.extent
            extent = f"{x0:.2f}..{x1:.2f} E, {y0:.2f}..{y1:.2f} N"
        table.add_row(f"[{colour[r.status]}]{r.layer}[/]", "-" if pd.isna(r.rows) else f"{int(r.rows):,}",
                      r.crs or "-", extent, "\n".join(r.problems) or "ok")
    Console().print(table)
    if has_errors(report):
        raise typer.Exit(code=2)
