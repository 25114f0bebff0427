"""Coal units (Global Energy Monitor, Global Coal Plant Tracker) and the layers their screen reads.

* `read_coal_units`: the ``coal_units`` layer, one row per unit or phase, checked against the column
  schema ``data/coal_units_schema.csv`` (required columns, blank cells, bounds); bad input raises
  `InputError` naming the file, the row (with the unit id) and the column.
* `coal_sites`: the units grouped by plant location (``gem_location_id``), vectorised with a groupby.
* `district_seismic_zones`: IS 1893 zones per district (a table) joined to the district polygons, a
  ``seismic_zones`` polygon layer for the siting screen.

The layer is read as it is: which units count as retiring is the repowering screen's business
(smrplan.siting.repowering).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from smrplan.errors import InputError
from smrplan.geo.checks import Rows, empty_ids, numbers, points_from_columns, required_columns, unique_ids
from smrplan.geo.io import read_table

# Zone order of IS 1893 (Part 1); a district zone column may hold any of these.
SEISMIC_ZONES = ("II", "III", "IV", "V", "VI")


@lru_cache(maxsize=1)
def coal_units_schema() -> pd.DataFrame:
    """The column schema of the coal_units layer (data/coal_units_schema.csv): column, unit, type,
    required, missing, minimum, maximum, description."""
    with resources.files("smrplan.data").joinpath("coal_units_schema.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, comment="#", dtype={"minimum": float, "maximum": float})


def _bounded(t: Rows, column: str, minimum: float, maximum: float, missing: str) -> None:
    """A numeric column within [minimum, maximum] (either may be NaN: no bound); blank cells are an
    error when `missing` is ``error``."""
    numbers(t, column, minimum=None if np.isnan(minimum) else float(minimum),
            missing="error" if missing == "error" else None)
    if np.isnan(maximum):
        return
    values = t.gdf[column].to_numpy(float)
    above = np.isfinite(values) & (values > maximum)
    if above.any():
        n = int(above.sum())
        t.found("bad_value", above, f"column {column}", level="error",
                first=lambda r: f"{values[r]:g} is above {maximum:g} ({n} row(s)); expected a number <= {maximum:g}",
                message=f"{n} {column} above {maximum:g}")


def coal_unit_rules(t: Rows, schema: pd.DataFrame | None = None) -> None:
    """The rules of the coal_units layer on a table under check (raised, repaired or reported by the
    mode of `t`, see `smrplan.geo.checks`): column names lower-cased, the schema's required columns,
    ``id`` = ``gem_unit_id`` present and unique, required text cells not blank and every number within
    the schema's bounds (missing optional columns added blank). `read_coal_units` and
    `smrplan data check` apply the same rules.

    Parameters
    ----------
    t : Rows
        The table (its records are changed in place: lower-cased names, added columns).
    schema : pandas.DataFrame, optional
        `coal_units_schema()` (read when not given).
    """
    schema = coal_units_schema() if schema is None else schema
    t.gdf.columns = [str(c).strip().lower() for c in t.gdf.columns]
    required = schema.loc[schema["required"] == "yes", "column"].tolist()
    required_columns(t, required)
    if not set(required) <= set(t.gdf.columns):  # reported (in raise mode, already raised)
        return
    for col in schema.loc[(schema["type"] == "text") & ~schema["column"].isin(t.gdf.columns), "column"]:
        t.gdf[col] = ""
    t.gdf["id"] = t.gdf["gem_unit_id"]
    empty_ids(t, "id")
    unique_ids(t, "id")
    text = schema[(schema["type"] == "text") & (schema["missing"] == "error")]
    for col in text["column"]:
        blank = t.gdf[col].isna().to_numpy() | (t.gdf[col].astype(str).str.strip() == "").to_numpy()
        if blank.any():
            t.found("bad_value", blank, f"column {col}", level="error", first=f"blank; expected a {col} value",
                    message=f"{int(blank.sum())} blank {col}")
    numeric = schema[(schema["type"] == "number") & ~schema["column"].isin(["latitude", "longitude"])]
    for col, lo, hi, missing in zip(numeric["column"].astype(str), numeric["minimum"].astype(float),
                                    numeric["maximum"].astype(float), numeric["missing"].astype(str), strict=True):
        if col not in t.gdf.columns:  # a dozen schema columns
            t.gdf[col] = np.nan
            continue
        _bounded(t, col, lo, hi, missing)


def read_coal_units(path: str | Path) -> gpd.GeoDataFrame:
    """The coal_units layer: a Global Coal Plant Tracker CSV (or any table with its columns).

    Parameters
    ----------
    path : str or pathlib.Path
        The table; columns as in data/coal_units_schema.csv (``gem_unit_id``, ``gem_location_id``,
        ``capacity_mw`` in MW, ``status``, ``start_year``, ``latitude`` / ``longitude`` in degrees...).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit, in WGS84: ``id`` (= gem_unit_id), the schema's columns (numbers as float,
        years NaN where blank), ``is_captive`` (bool: ``captive_industry`` not blank) and point geometry.

    Raises
    ------
    InputError
        Naming the file, the row and unit id, and the column: a required column missing, a required
        cell blank, a value outside the schema's bounds, a duplicate ``gem_unit_id``, bad coordinates.
    """
    path = Path(path)
    schema = coal_units_schema()
    t = Rows(read_table(path, any_suffix=True, low_memory=False), path)
    coal_unit_rules(t, schema)
    points_from_columns(t, "longitude", "latitude")
    gdf = t.gdf
    for col in schema.loc[schema["type"] == "text", "column"]:
        gdf[col] = gdf[col].fillna("").astype(str).str.strip()
    gdf["status"] = gdf["status"].str.lower()
    gdf["is_captive"] = gdf["captive_industry"] != ""
    cols = ["id", *schema["column"], "is_captive"]
    return gpd.GeoDataFrame(gdf[[c for c in cols if c in gdf.columns]], geometry=gdf.geometry, crs="EPSG:4326")


def coal_sites(units: pd.DataFrame, weight: str = "capacity_mw") -> pd.DataFrame:
    """Units grouped by plant location: one row per ``gem_location_id``.

    Parameters
    ----------
    units : pandas.DataFrame
        Coal units with ``gem_location_id``, ``plant_name``, ``state``, ``capacity_mw`` (MW), ``lon`` /
        ``lat`` (degrees) and ``is_captive``.
    weight : str
        Column summed per site (MW).

    Returns
    -------
    pandas.DataFrame
        ``gem_location_id``, ``plant_name``, ``state``, ``units`` (count), ``capacity_mw`` (sum, MW),
        ``lon`` / ``lat`` (of the site's largest unit, degrees), ``is_captive`` (any unit captive),
        ``captive_industry`` (of the largest captive unit, else "").
    """
    u = units.sort_values([weight], ascending=False, kind="stable")
    g = u.groupby("gem_location_id", sort=True)
    first = g.first()
    out = pd.DataFrame({"plant_name": first["plant_name"], "state": first["state"], "units": g.size(),
                        "capacity_mw": g[weight].sum(), "lon": first["lon"], "lat": first["lat"],
                        "is_captive": g["is_captive"].any()})
    cap = u[u["is_captive"]].groupby("gem_location_id")["captive_industry"].first()
    out["captive_industry"] = cap.reindex(out.index).fillna("")
    return out.reset_index()


def district_seismic_zones(table: str | Path, districts: gpd.GeoDataFrame, column: str = "zone_max") -> gpd.GeoDataFrame:
    """District polygons with an IS 1893 seismic ``zone`` from a district table.

    Districts are matched on ``dt_code`` (the census 2011 district code of the district layer).
    Districts the table lacks are left out: a site there has no zone and the seismic criterion passes
    it as unknown (the screen's note counts such sites).

    Parameters
    ----------
    table : str or pathlib.Path
        CSV with ``dt_code`` and `column` (II-VI), e.g. zones of the large dams in each district.
    districts : geopandas.GeoDataFrame
        District polygons with ``dt_code``.
    column : str, default "zone_max"
        The zone column used (the highest zone recorded in the district: a conservative screen).

    Returns
    -------
    geopandas.GeoDataFrame
        ``dt_code``, ``zone`` and the district polygon, WGS84.

    Raises
    ------
    InputError
        When the table lacks ``dt_code`` or `column`, or a zone is not one of II-VI.
    """
    path = Path(table)
    t = read_table(path, any_suffix=True)
    t.columns = [str(c).strip().lower() for c in t.columns]
    for col in ("dt_code", column):
        if col not in t.columns:
            raise InputError(path, f"column {col}", f"required column is missing; found {list(t.columns)}")
    zone = t[column].astype(str).str.strip().str.upper()
    bad = ~zone.isin(SEISMIC_ZONES)
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(path, f"row {r + 2}, column {column}", f"{t[column].iloc[r]!r}; expected one of {SEISMIC_ZONES}")
    if "dt_code" not in districts.columns:
        raise InputError("districts layer", "dt_code", "required to join district seismic zones")
    codes = pd.to_numeric(t["dt_code"], errors="coerce")
    by_code = pd.Series(zone.to_numpy(), index=codes.to_numpy())
    by_code = by_code[~by_code.index.duplicated()]
    d = districts[["dt_code", "geometry"]].copy()
    d["zone"] = pd.to_numeric(d["dt_code"], errors="coerce").map(by_code)
    d = d[d["zone"].notna()].reset_index(drop=True)
    return gpd.GeoDataFrame(d, geometry="geometry", crs=districts.crs)
