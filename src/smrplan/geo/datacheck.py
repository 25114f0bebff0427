"""Checks of a data directory before a run: is every layer readable, and does it look right?

`check_data_dir` looks at each layer (given by a mapping, or every .gpkg, .parquet, .geojson, .shp,
.csv / .parquet with lon/lat columns and .tif found under the directory) and reports rows, CRS,
extent (WGS84 degrees) and problems. Each problem starts with "error:" (the layer cannot be used as
it is: a run would stop or be wrong) or "warning:" (worth a look). Checks:

* readable, has features, has a CRS; coordinates that are not degrees under a geographic CRS, or
  degrees under a projected one (a wrong CRS);
* empty or missing geometries (an error for the ``settlements`` layer, a warning elsewhere: such
  rows are skipped), invalid geometries (a warning: they are repaired with make_valid);
* the ``settlements`` layer's required columns (id, name, population);
* duplicate ids (``id``, ``geonameid``, ``gppd_idnr`` or ``osm_id``, the first present);
* population (``population`` or its aliases): negative, NaN (an error for ``settlements``) or
  implausibly large (``max_settlement_population`` in ``data/data_checks.yaml``);
* features outside the region's bounding box (``regions`` in ``data/data_checks.yaml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError
from smrplan.geo.io import DEFAULT_REGION, LAT_NAMES, LON_NAMES, SETTLEMENT_ALIASES, WGS84, data_limits, read_table

VECTOR_SUFFIXES = (".gpkg", ".parquet", ".geojson", ".shp", ".csv")
RASTER_SUFFIXES = (".tif", ".tiff")
_ID_COLUMNS = ("id", "geonameid", "gppd_idnr", "osm_id")
COLUMNS = ["layer", "file", "rows", "crs", "extent", "problems", "status"]


def limits() -> dict[str, Any]:
    """The limits of ``data/data_checks.yaml`` (region boxes, maximum settlement population)."""
    return data_limits()


def discover_layers(directory: Path) -> dict[str, Path]:
    """Layer files under `directory` (recursively, hidden folders skipped), named by their path
    relative to it without the suffix. CSV and plain Parquet files count only with lon/lat columns."""
    found: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in RASTER_SUFFIXES or (suffix in VECTOR_SUFFIXES and _has_coordinates(path)):
            found[rel.with_suffix("").as_posix()] = path
    return found


def _has_coordinates(path: Path) -> bool:
    """A table (.csv / .parquet) holds coordinates: lon/lat columns or a geometry column."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            columns = pd.read_csv(path, nrows=0, encoding="utf-8").columns
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            columns = pd.Index(pq.read_schema(path).names)
        else:
            return True
    except (ValueError, OSError, UnicodeDecodeError):
        return True  # unreadable: let the check report it
    lower = {str(c).lower() for c in columns}
    return "geometry" in lower or (bool(lower & set(LON_NAMES)) and bool(lower & set(LAT_NAMES)))


def check_data_dir(directory: str | Path, mapping: dict[str, str] | None = None,
                   region: str = DEFAULT_REGION) -> pd.DataFrame:
    """Check the layers of a data directory; one row per layer.

    mapping: layer name -> file (relative to `directory`, or absolute); None = discover files.
    region: a key of ``regions`` in ``data/data_checks.yaml`` for the bounding-box check.
    Returns a DataFrame with layer, file, rows (features, or cells of a raster), crs, extent
    ((min_lon, min_lat, max_lon, max_lat) in degrees, or None), problems (list of "error: ..." /
    "warning: ..." texts) and status ("ok", "warning" or "error").
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, None, "not a directory")
    regions = limits()["regions"]
    if region not in regions:
        raise InputError(None, "region", f"unknown region {region!r}; expected one of {sorted(regions)}")
    bounds = regions[region]
    layers = (discover_layers(directory) if mapping is None
              else {name: (Path(f) if Path(f).is_absolute() else directory / f) for name, f in mapping.items()})
    rows = [_check_layer(name, path, bounds) for name, path in layers.items()]
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out["rows"] = out["rows"].astype("Int64")
    out["status"] = [("error" if any(p.startswith("error") for p in probs) else "warning" if probs else "ok")
                     for probs in out["problems"]]
    return out


def _check_layer(name: str, path: Path, bounds: dict[str, float]) -> list[Any]:
    if not path.exists():
        return [name, str(path), None, None, None, ["error: file not found"]]
    if path.suffix.lower() in RASTER_SUFFIXES:
        return [name, str(path), *_check_raster(path, bounds)]
    try:
        gdf, first_row = _read(path)
    except InputError as exc:
        return [name, str(path), None, None, None, [f"error: {exc.message}"]]
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    settlements = name == "settlements"
    problems = _geometry_problems(gdf, first_row, settlements)
    if settlements:
        missing = [c for c in ("id", "name") if c not in gdf.columns]
        problems += [f"error: required column {c!r} is missing (settlements need id, name, population)"
                     for c in missing]
    problems += _id_problems(gdf)
    problems += _population_problems(gdf, first_row, settlements)
    wgs = gdf if gdf.crs is None or gdf.crs.equals(WGS84) else _to_wgs84(gdf, problems)
    extent = None
    if wgs is not None:
        present = ~(wgs.geometry.isna().to_numpy() | shapely.is_empty(wgs.geometry.values))
        if present.any():
            extent = tuple(round(float(v), 4) for v in shapely.total_bounds(wgs.geometry.values[present]))
            problems += _region_problems(wgs.geometry.values[present], bounds)
    return [name, str(path), len(gdf), crs, extent, problems]


def _read(path: Path) -> tuple[gpd.GeoDataFrame, int]:
    """The layer as stored (CRS and rows untouched) and the row number of its first record.

    Tables with lon/lat columns become points in WGS84, with no geometry where a coordinate is
    missing or not a number; their first record is row 2 of a CSV (after the header).
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        df = read_table(path)
        if suffix == ".parquet" and "geometry" in df.columns:
            try:
                gdf = gpd.read_parquet(path)
            except (ValueError, TypeError) as exc:
                raise InputError(path, "geometry", f"unreadable GeoParquet ({exc})") from None
            first_row = 1
        else:
            cols = {str(c).lower(): c for c in df.columns}
            lon = next((cols[c] for c in LON_NAMES if c in cols), None)
            lat = next((cols[c] for c in LAT_NAMES if c in cols), None)
            if lon is None or lat is None:
                raise InputError(path, "lon/lat", "no coordinate columns")
            x = pd.to_numeric(df[lon], errors="coerce").to_numpy(float)
            y = pd.to_numeric(df[lat], errors="coerce").to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            geoms = np.full(len(df), None, dtype=object)
            geoms[ok] = shapely.points(x[ok], y[ok])
            gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=WGS84)
            first_row = 2 if suffix == ".csv" else 1
    else:
        try:
            gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:  # pyogrio raises several DataSource errors; all mean unreadable input
            raise InputError(path, None, f"unreadable vector file ({str(exc).splitlines()[0]})") from None
        first_row = 1
    if len(gdf) == 0:
        raise InputError(path, None, "the layer has no features")
    return gdf, first_row


def _to_wgs84(gdf: gpd.GeoDataFrame, problems: list[str]) -> gpd.GeoDataFrame | None:
    try:
        return gdf.to_crs(WGS84)
    except Exception as exc:  # pyproj raises several errors for impossible transformations
        problems.append(f"error: cannot reproject to EPSG:4326 ({str(exc).splitlines()[0]})")
        return None


def _first_rows(mask: np.ndarray, first_row: int, k: int = 3) -> str:
    """'row 4, 9, 12' for the first k True entries of mask (records numbered from `first_row`)."""
    rows = np.flatnonzero(mask)[:k] + first_row
    return "row " + ", ".join(str(r) for r in rows) + (" ..." if mask.sum() > k else "")


def _geometry_problems(gdf: gpd.GeoDataFrame, first_row: int, settlements: bool) -> list[str]:
    problems = []
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    if crs is None:
        problems.append("error: no coordinate reference system; set one (e.g. EPSG:4326)")
    geoms = gdf.geometry.values
    empty = gdf.geometry.isna().to_numpy() | shapely.is_empty(geoms)
    if empty.any():
        level = "error" if settlements else "warning"
        problems.append(f"{level}: {int(empty.sum())} empty or missing geometries or coordinates "
                        f"({_first_rows(empty, first_row)})")
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        problems.append(f"warning: {int(invalid.sum())} invalid geometries ({_first_rows(invalid, first_row)}; "
                        "repaired with make_valid when read)")
    if crs is not None and (~empty).any():
        x0, y0, x1, y1 = shapely.total_bounds(geoms[~empty])
        degrees = -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90
        if gdf.crs.is_geographic and not degrees:
            problems.append(f"error: coordinates ({x0:.0f}..{x1:.0f}, {y0:.0f}..{y1:.0f}) are not degrees but "
                            f"the CRS {crs} is geographic; declare the file's real CRS")
        elif gdf.crs.is_projected and degrees and max(abs(x1 - x0), abs(y1 - y0)) < 360:
            problems.append(f"warning: coordinates look like degrees but the CRS {crs} is projected; "
                            "is the CRS right?")
    return problems


def _id_problems(gdf: pd.DataFrame) -> list[str]:
    cols = {str(c).lower(): c for c in gdf.columns}
    col = next((cols[c] for c in _ID_COLUMNS if c in cols), None)
    if col is None:
        return []
    ids = gdf[col].astype("string")
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if not dup.any():
        return []
    examples = sorted(ids[dup].unique())[:3]
    return [f"error: {int(ids[dup].nunique())} duplicate {col} value(s) in {int(dup.sum())} rows, e.g. {examples}"]


def _population_problems(gdf: pd.DataFrame, first_row: int, settlements: bool) -> list[str]:
    cols = {str(c).lower(): c for c in gdf.columns}
    col = next((cols[a] for a in SETTLEMENT_ALIASES["population"] if a in cols), None)
    if col is None:
        return ["error: no population column"] if settlements else []
    raw = gdf[col]
    pop = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    problems = []
    missing = ~np.isfinite(pop)
    if missing.any():
        level = "error" if settlements else "warning"
        problems.append(f"{level}: {int(missing.sum())} missing or non-numeric {col} ({_first_rows(missing, first_row)})")
    negative = pop < 0
    if negative.any():
        problems.append(f"error: {int(negative.sum())} negative {col} ({_first_rows(negative, first_row)})")
    cap = float(limits()["max_settlement_population"])
    large = pop > cap
    if large.any():
        problems.append(f"error: {int(large.sum())} {col} above {cap:,.0f} per place, implausible "
                        f"({_first_rows(large, first_row)})")
    return problems


def _region_problems(geoms: np.ndarray, b: dict[str, float]) -> list[str]:
    box = shapely.box(b["min_lon"], b["min_lat"], b["max_lon"], b["max_lat"])
    outside = ~shapely.intersects(geoms, box)
    if not outside.any():
        return []
    text = (f"warning: {int(outside.sum())} of {len(geoms)} features outside the region "
            f"({b['min_lon']:g}..{b['max_lon']:g} E, {b['min_lat']:g}..{b['max_lat']:g} N)")
    pts = outside & (shapely.get_type_id(geoms) == 0)
    if pts.any():
        swapped = shapely.intersects(shapely.points(shapely.get_y(geoms[pts]), shapely.get_x(geoms[pts])), box)
        if swapped.mean() > 0.5:
            text += "; most would fall inside with lon and lat swapped"
    return [text]


def _check_raster(path: Path, bounds: dict[str, float]) -> list[Any]:
    """rows (cells), crs, extent, problems of a single-band raster."""
    import rasterio
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(path) as src:
            crs = src.crs.to_string() if src.crs is not None else None
            cells = src.width * src.height
            problems = [] if crs else ["error: the raster has no coordinate reference system"]
            extent = None
            if crs:
                extent = tuple(round(v, 4) for v in transform_bounds(src.crs, WGS84, *src.bounds))
                box = shapely.box(*extent)
                region = shapely.box(bounds["min_lon"], bounds["min_lat"], bounds["max_lon"], bounds["max_lat"])
                if not box.intersects(region):
                    problems.append("warning: the raster lies outside the region")
            if not any(np.isfinite(np.ma.filled(src.read(1, window=w, masked=True).astype(float), np.nan)).any()
                       for _, w in src.block_windows(1)):
                problems.append("error: every cell is nodata")
    except rasterio.errors.RasterioIOError as exc:
        return [None, None, None, [f"error: unreadable raster ({str(exc).splitlines()[0]})"]]
    return [cells, crs, extent, problems]


def has_errors(report: pd.DataFrame) -> bool:
    """True when any layer of a `check_data_dir` report has an error."""
    return bool((report["status"] == "error").any())
