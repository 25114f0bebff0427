"""`smrplan data ...`: commands about a data directory (registered in cli.py as the "data" group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from smrplan.errors import InputError

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


@data_app.command("check")
def check(directory: Annotated[Path, typer.Argument(help="Data directory.")],
          layer: Annotated[list[str] | None, typer.Option(
              "--layer", help="NAME=FILE (relative to DIR); repeat. Default: every layer file found.")] = None,
          region: Annotated[str, typer.Option("--region", help="Bounding box for the region check.")] = "india",
          ) -> None:
    """Check every layer: readable, rows, CRS, extent, geometries, ids, population. Exit 2 on errors."""
    from smrplan.datacheck import check_data_dir, has_errors

    if not directory.is_dir():
        raise InputError(directory, None, "not a directory")
    report = check_data_dir(directory, _mapping(layer), region=region)
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
