"""Read a run directory back (the pair of outputs.write.write_run)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from smrplan.errors import InputError
from smrplan.report.sites import REJECTED_FILE, SITES_FILE, read_reasons
from smrplan.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class RunDirectory:
    """What a run directory holds, typed: the scenario as run, the catalogue records, the settlement
    and site tables (GeoDataFrames, WGS84; `sites` holds the suitable and built sites in full), plan.json,
    when written the hourly dispatch, and the sites that fail the screen with their reason codes
    (`rejected_sites`, see `smrplan.report.sites`; None for a run directory written before them, whose
    `sites` holds every candidate) and the table of those codes (`site_reasons`)."""

    run_dir: Path
    scenario: Scenario
    catalogue: list[dict]
    settlements: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    summary: dict
    dispatch: pd.DataFrame | None
    rejected_sites: gpd.GeoDataFrame | None = None
    site_reasons: pd.DataFrame | None = None


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
    rejected = gpd.read_parquet(d / REJECTED_FILE) if (d / REJECTED_FILE).is_file() else None
    return RunDirectory(d, load_scenario(d / "scenario.yaml"), catalogue,
                        gpd.read_file(d / "settlements.gpkg", engine="pyogrio"),
                        gpd.read_file(d / SITES_FILE, layer="sites", engine="pyogrio"), summary, dispatch,
                        rejected, read_reasons(d))
