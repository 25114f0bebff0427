"""Checks of a data directory before a run: is every layer readable, and does it look right?

`check_data_dir` looks at each layer (given by a mapping, or every .gpkg, .parquet, .geojson, .shp,
.csv / .parquet with lon/lat columns and .tif found under the directory) and reports rows, CRS,
extent (WGS84 degrees) and problems. Each problem starts with "error:" (the layer cannot be used as
it is: a run would stop or be wrong) or "warning:" (worth a look). The checks of vector layers are
the rules of `smrplan.geo.checks` in its ``report`` mode, the same rules that stop a run (``raise``)
or that ``--repair`` fixes (``repair``):

* readable, has features, has a CRS (`missing_crs`); coordinates that are not degrees under a
  geographic CRS (`degrees`), or degrees under a projected one (`projected_degrees`): a wrong CRS;
* empty or missing geometries (`empty_geometry`), invalid geometries (`invalid_geometry`, a warning);
* the ``settlements`` layer's required columns (id, name, population; `required_columns`);
* empty and duplicate ids (``id``, ``geonameid``, ``gppd_idnr`` or ``osm_id``, the first present;
  `empty_ids`, `unique_ids`);
* population (``population`` or its aliases; `numbers`, `implausible`): negative, NaN or
  implausibly large (``max_settlement_population`` in ``data/data_checks.yaml``);
* features outside the region's bounding box (``regions`` in ``data/data_checks.yaml``; `outside_region`).

Empty geometries, missing population and empty or duplicate ids are errors for the ``settlements``
layer (a run stops on them) and warnings elsewhere (a run skips such rows or does not use the ids).
Rasters are checked for a CRS, nodata everywhere and their extent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError
from smrplan.geo import checks
from smrplan.geo.checks import LAT_NAMES, LON_NAMES, WGS84, data_limits
from smrplan.geo.coal import coal_unit_rules
from smrplan.geo.io import DEFAULT_REGION, SETTLEMENT_ALIASES, read_rows

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

    Parameters
    ----------
    directory : str or Path
        The data directory.
    mapping : dict of str to str, optional
        Layer name -> file (relative to `directory`, or absolute); None = discover files.
    region : str
        A key of ``regions`` in ``data/data_checks.yaml`` for the bounding-box check.

    Returns
    -------
    pandas.DataFrame
        layer, file, rows (features, or cells of a raster), crs, extent ((min_lon, min_lat, max_lon,
        max_lat) in degrees, or None), problems (list of "error: ..." / "warning: ..." texts) and status
        ("ok", "warning" or "error").

    Raises
    ------
    InputError
        When `directory` is not a directory or `region` is unknown (problems of the layers are reported,
        not raised).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, None, "not a directory")
    regions = limits()["regions"]
    if region not in regions:
        raise InputError(None, "region", f"unknown region {region!r}; expected one of {sorted(regions)}")
    layers = (discover_layers(directory) if mapping is None
              else {name: (Path(f) if Path(f).is_absolute() else directory / f) for name, f in mapping.items()})
    rows = [_check_layer(name, path, region) for name, path in layers.items()]
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out["rows"] = out["rows"].astype("Int64")
    out["status"] = [("error" if any(p.startswith("error") for p in probs) else "warning" if probs else "ok")
                     for probs in out["problems"]]
    return out


def _check_layer(name: str, path: Path, region: str) -> list[Any]:
    bounds = limits()["regions"][region]
    if not path.exists():
        return [name, str(path), None, None, None, ["error: file not found"]]
    if path.suffix.lower() in RASTER_SUFFIXES:
        return [name, str(path), *_check_raster(path, bounds)]
    try:
        t = read_rows(path, mode="report")
    except InputError as exc:
        return [name, str(path), None, None, None, [f"error: {exc.message}"]]
    n, crs = len(t.gdf), (t.gdf.crs.to_string() if t.gdf.crs is not None else None)
    settlements = name == "settlements"
    level = "error" if settlements else "warning"
    checks.missing_crs(t)
    checks.empty_geometry(t, level=level)
    checks.invalid_geometry(t)
    checks.degrees(t)
    checks.projected_degrees(t)
    if settlements:
        checks.required_columns(t, ("id", "name", "population"), SETTLEMENT_ALIASES)
    cols = {str(c).lower(): c for c in t.gdf.columns}
    id_col = next((cols[c] for c in _ID_COLUMNS if c in cols), None)
    if id_col is not None:
        checks.empty_ids(t, id_col, level=level)
        checks.unique_ids(t, id_col, level=level)
    pop = next((cols[a] for a in SETTLEMENT_ALIASES["population"] if a in cols), None)
    if pop is not None:
        checks.numbers(t, pop, minimum=0.0, missing=level, kind="bad_population")
        checks.implausible(t, pop, float(limits()["max_settlement_population"]))
    if "gem_unit_id" in cols:  # a coal_units table (Global Coal Plant Tracker): the importer's own rules
        coal = checks.Rows(pd.DataFrame(t.gdf.drop(columns=["geometry"], errors="ignore")), path, mode="report",
                           first_row=int(t.rows[0]) if len(t.rows) else None)
        coal_unit_rules(coal)
        t.problems += coal.problems
    extent = None
    if checks.reproject(t):
        present = ~(t.gdf.geometry.isna().to_numpy() | shapely.is_empty(t.gdf.geometry.values))
        if present.any():
            extent = tuple(round(float(v), 4) for v in shapely.total_bounds(t.gdf.geometry.values[present]))
            checks.outside_region(t, bounds, region)
    return [name, str(path), n, crs, extent, [str(p) for p in t.problems]]


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
