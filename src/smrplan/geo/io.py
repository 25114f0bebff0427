"""Reading region layers: settlements and vector/raster layers from a data directory or the package.

A layer reference in a scenario is either ``bundled:<file>`` (package data under ``smrplan/data``), an
absolute path, or a path relative to the data directory (``--data-dir``; otherwise the scenario file's
folder). Vector files are read with pyogrio (GeoPackage, GeoParquet, GeoJSON, Shapefile) or pandas
(CSV / Parquet with lon/lat columns). Everything is returned in WGS84 (EPSG:4326). Inputs are never
modified. Every problem raises `InputError` naming the file, row and field.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from smrplan.errors import InputError

WGS84 = "EPSG:4326"
_LON_NAMES = ("lon", "longitude", "x", "lng")
_LAT_NAMES = ("lat", "latitude", "y")
# Column aliases accepted for the settlement contract (first match wins).
_SETTLEMENT_ALIASES = {
    "population": ("population", "population_2011", "pop", "tot_p"),
    "households": ("households", "households_2011", "no_hh"),
    "population_urban": ("population_urban", "pop_urban_2011", "tot_p_urban"),
}


@lru_cache(maxsize=1)
def data_limits() -> dict[str, Any]:
    """Sanity limits of ``data/data_checks.yaml`` (region boxes, largest plausible settlement)."""
    text = resources.files("smrplan.data").joinpath("data_checks.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def resolve(ref: str, data_dir: str | Path | None, base_dir: str | Path | None = None,
            field: str | None = None) -> Path:
    """Turn a layer reference into a path; raise (naming `field`, e.g. the scenario key) if it does not exist."""
    if ref.startswith("bundled:"):
        path = Path(str(resources.files("smrplan.data").joinpath(ref.removeprefix("bundled:"))))
    else:
        path = Path(ref)
        if not path.is_absolute():
            root = Path(data_dir) if data_dir is not None else Path(base_dir or ".")
            path = root / path
    if not path.exists():
        hint = "" if data_dir is not None or ref.startswith("bundled:") else " (give --data-dir DIR)"
        raise InputError(path, field, f"layer file not found{hint}")
    return path


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8")
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text; save the CSV as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "the file is empty; expected a header row and data rows") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(path, None, f"unreadable table ({str(exc).splitlines()[0]})") from None
    raise InputError(path, None, f"unsupported table format {suffix!r}")


def _points_from_table(df: pd.DataFrame, path: Path, drop_missing: bool = False) -> gpd.GeoDataFrame:
    cols = {c.lower(): c for c in df.columns}
    lon = next((cols[c] for c in _LON_NAMES if c in cols), None)
    lat = next((cols[c] for c in _LAT_NAMES if c in cols), None)
    if lon is None or lat is None:
        raise InputError(path, "lon/lat", f"no coordinate columns; expected one of {_LON_NAMES} and "
                                          f"one of {_LAT_NAMES}, found {list(df.columns)}")
    dropped = 0
    if drop_missing:
        ok = np.isfinite(pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)) & np.isfinite(
            pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float))
        dropped = int((~ok).sum())
        df = df.loc[ok].reset_index(drop=True)
    for name in (lon, lat):
        values = pd.to_numeric(df[name], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise InputError(path, f"row {bad[0] + 2}, column {name}",
                             f"missing or non-numeric coordinate ({len(bad)} row(s)); expected decimal degrees")
        df[name] = values
    out_of_range = np.flatnonzero((df[lon].abs() > 180) | (df[lat].abs() > 90))
    if len(out_of_range):
        r = out_of_range[0]
        raise InputError(path, f"row {r + 2}, columns {lon}/{lat}",
                         f"({df[lon].iloc[r]}, {df[lat].iloc[r]}) is not WGS84 lon/lat in degrees; "
                         "reproject the file to EPSG:4326 (is it in a projected CRS?)")
    if len(df) == 0:
        raise InputError(path, None, "the table has a header but no rows")
    geom = gpd.points_from_xy(df[lon], df[lat], crs=WGS84)
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs=WGS84)
    gdf.attrs["dropped_rows"] = dropped
    return gdf


def read_vector(path: Path, drop_missing_coords: bool = False) -> gpd.GeoDataFrame:
    """Read any supported vector file as a GeoDataFrame in WGS84.

    With ``drop_missing_coords`` rows of a CSV/Parquet table without coordinates are dropped and
    counted in ``gdf.attrs["dropped_rows"]`` (for optional context layers such as power plants);
    otherwise they are an error.
    """
    if path.suffix.lower() in (".csv", ".parquet"):
        df = _read_table(path)
        if path.suffix.lower() == ".parquet" and "geometry" in df.columns:
            try:
                return _to_wgs84(gpd.read_parquet(path), path)
            except (ValueError, TypeError) as exc:
                raise InputError(path, "geometry", f"unreadable GeoParquet ({exc})") from None
        return _points_from_table(df, path, drop_missing=drop_missing_coords)
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several DataSource errors; all mean unreadable input
        raise InputError(path, None, f"unreadable vector file ({str(exc).splitlines()[0]})") from None
    return _to_wgs84(gdf, path)


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InputError(path, "CRS", "the layer has no coordinate reference system; set one (e.g. EPSG:4326)")
    if len(gdf) == 0:
        raise InputError(path, None, "the layer has no features")
    return gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf


def read_settlements(path: Path) -> gpd.GeoDataFrame:
    """Read settlements and check the contract: id, name, point geometry (WGS84), population >= 0.

    Optional columns carried through: households, population_urban, anchor_load_kw,
    existing_demand_kwh, grid_connected. Aliases such as ``population_2011`` are accepted.
    """
    gdf = read_vector(path)
    lower = {c.lower(): c for c in gdf.columns}
    for target, aliases in _SETTLEMENT_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is not None and found != target:
            gdf = gdf.rename(columns={found: target})
    for col in ("id", "name", "population"):
        if col not in gdf.columns:
            raise InputError(path, col, f"required column is missing; found {list(gdf.columns)}")
    if gdf["id"].isna().any():
        r = int(np.flatnonzero(gdf["id"].isna().to_numpy())[0])
        raise InputError(path, f"row {r + 2}, column id", "empty id; every settlement needs a unique id")
    gdf["id"] = gdf["id"].astype(str)
    dup = gdf["id"].duplicated(keep=False)
    if dup.any():
        ids = sorted(gdf.loc[dup, "id"].unique())[:5]
        raise InputError(path, "id", f"duplicate ids {ids}; ids must be unique")
    _check_numeric(gdf, path, "population", minimum=0.0, required=True)
    cap = float(data_limits()["max_settlement_population"])
    huge = np.flatnonzero(gdf["population"].to_numpy(float) > cap)
    if len(huge):
        r = int(huge[0])
        raise InputError(path, f"row {r + 2} (id {gdf['id'].iloc[r]}), column population",
                         f"{gdf['population'].iloc[r]:g} is implausibly large for one settlement (limit {cap:g}, "
                         "data/data_checks.yaml); is the column in the right unit?")
    for col in ("households", "population_urban", "anchor_load_kw", "existing_demand_kwh"):
        if col in gdf.columns:
            _check_numeric(gdf, path, col, minimum=0.0, required=False)
    geom = gdf.geometry
    empty = geom.isna().to_numpy() | shapely.is_empty(geom.values)
    if empty.any():
        r = int(np.flatnonzero(empty)[0])
        raise InputError(path, f"row {r + 2} (id {gdf['id'].iloc[r]}), geometry",
                         "empty or missing geometry; every settlement needs a point")
    not_point = ~np.isin(shapely.get_type_id(geom.values), [0])
    if not_point.any():
        # Polygons (e.g. village boundaries) become points on their surface.
        gdf.loc[not_point, "geometry"] = geom[not_point].representative_point()
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    outside = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90) | ~np.isfinite(x) | ~np.isfinite(y))
    if len(outside):
        r = int(outside[0])
        raise InputError(path, f"row {r + 2} (id {gdf['id'].iloc[r]}), geometry",
                         f"({x[r]:g}, {y[r]:g}) is not lon/lat in degrees; the file's CRS does not match its "
                         "coordinates (reproject to EPSG:4326 or declare the right CRS)")
    gdf["name"] = gdf["name"].fillna("").astype(str)
    return gdf.reset_index(drop=True)


def _check_numeric(gdf: gpd.GeoDataFrame, path: Path, col: str, minimum: float, required: bool) -> None:
    values = pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if required and missing.any():
        r = int(np.flatnonzero(missing)[0])
        raise InputError(path, f"row {r + 2} (id {gdf['id'].iloc[r]}), column {col}",
                         f"{gdf[col].iloc[r]!r} is not a finite number; expected a number >= {minimum:g}")
    below = np.flatnonzero(values < minimum)
    if len(below):
        r = int(below[0])
        raise InputError(path, f"row {r + 2} (id {gdf['id'].iloc[r]}), column {col}",
                         f"{values[r]:g} is negative; expected a number >= {minimum:g}")
    gdf[col] = values


def read_raster(path: Path):
    """Open a single-band raster (GeoTIFF) and return (array float64 with NaN nodata, transform, crs)."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            arr = src.read(1).astype(float)
            if src.nodata is not None:
                arr[arr == src.nodata] = np.nan
            if src.crs is None:
                raise InputError(path, "CRS", "the raster has no coordinate reference system")
            return arr, src.transform, src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(path, None, f"unreadable raster ({exc})") from None


def sample_raster(path: Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Raster values at WGS84 points (nearest cell); NaN outside the raster."""
    arr, transform, crs = read_raster(path)
    if crs.to_epsg() != 4326:
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    inv = ~transform
    col, row = inv * (np.asarray(lon, float), np.asarray(lat, float))
    col, row = np.floor(col).astype(int), np.floor(row).astype(int)
    ok = (row >= 0) & (row < arr.shape[0]) & (col >= 0) & (col < arr.shape[1])
    out = np.full(len(np.asarray(lon)), np.nan)
    out[ok] = arr[row[ok], col[ok]]
    return out
