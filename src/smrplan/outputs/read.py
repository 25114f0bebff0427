"""Read a run directory back (the pair of outputs.write.write_run)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from smrplan.errors import InputError
from smrplan.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class RunDirectory:
    """What a run directory holds, typed: the scenario as run, the catalogue records, the settlement
    and site tables (GeoDataFrames, WGS84), plan.json and, when written, the hourly dispatch."""

    run_dir: Path
    scenario: Scenario
    catalogue: list[dict]
    settlements: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    summary: dict
    dispatch: pd.DataFrame | None


def read_run(run_dir: str | Path) -> RunDirectory:
    """Read a run directory written by `smrplan run` / `smrplan.run`.

    Raises
    ------
    InputError
        When a file of the run directory is missing or unreadable (naming it).
    """
    d = Path(run_dir)
    for name in ("scenario.yaml", "catalogue.json", "settlements.gpkg", "sites.gpkg", "plan.json"):
        if not (d / name).is_file():
            raise InputError(d / name, None, "missing: not a complete smrplan run directory")
    try:
        summary = json.loads((d / "plan.json").read_text(encoding="utf-8"))
        catalogue = json.loads((d / "catalogue.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(d, "plan.json", f"unreadable ({exc})") from None
    dispatch = pd.read_parquet(d / "dispatch.parquet") if (d / "dispatch.parquet").is_file() else None
    return RunDirectory(d, load_scenario(d / "scenario.yaml"), catalogue,
                        gpd.read_file(d / "settlements.gpkg", engine="pyogrio"),
                        gpd.read_file(d / "sites.gpkg", layer="sites", engine="pyogrio"), summary, dispatch)
