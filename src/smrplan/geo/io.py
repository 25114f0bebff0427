"""Reading region layers: settlements and vector/raster layers from a data directory or the package.

A layer reference in a scenario is either ``bundled:<file>`` (package data under ``smrplan/data``), an
absolute path, or a path relative to the data directory (``--data-dir``; otherwise the scenario file's
folder). Vector files are read with pyogrio (GeoPackage, GeoParquet, GeoJSON, Shapefile) or pandas
(CSV / Parquet with lon/lat columns). Everything is returned in WGS84 (EPSG:4326). Inputs are never
modified. The checks are the rules of `smrplan.geo.checks` in its ``raise`` mode: every error raises
`InputError` naming the file, row and field; warnings (e.g. points outside the region box) are logged.

Repair mode (``repair=True``, the CLI's ``--repair``) runs the same rules in their ``repair`` mode:
fixable problems of the settlements and anchor-load layers are fixed and each fix is logged (logger
``smrplan.io``, level WARNING) with the file, row and field; the counts per kind are returned in
``gdf.attrs["repairs"]`` and rows left out in ``gdf.attrs["dropped_rows"]``. Fixes: empty id ->
``row-<n>``; duplicate id -> renamed ``<id>-2``, ``<id>-3``...; missing, non-numeric or negative
population (or anchor kW) -> row dropped; invalid geometry -> ``make_valid``; empty or missing geometry
or coordinates -> row dropped; point outside the region box (``regions`` of ``data/data_checks.yaml``)
or not lon/lat degrees -> row dropped; negative or non-numeric optional number (households,
anchor_load_kw, ...) -> left blank; layer without CRS -> EPSG:4326 assumed when every coordinate is
lon/lat degrees. A missing required column, an unreadable file, an implausibly large population (a
unit error of the whole column, more likely than a bad row), a CRS pyproj cannot resolve and a layer
without CRS whose coordinates are not degrees stay errors. Other layers (`read_vector`) only get the
CRS fix and lose empty geometries.

Every table: a column name repeated in the header is an error; id columns (`id_columns`, listed in
``data/data_checks.yaml``) are read as text so that ``001`` stays ``001``; a yes/no value (boolean) in
a numeric column is an error, never 1 or 0. CRS rule: a vector file's declared CRS must be one pyproj
resolves (a GeoJSON ``crs`` member GDAL does not know is not taken as WGS84); a GeoJSON without
``crs`` member is WGS84 (RFC 7946) and its coordinates must be degrees; any other layer without CRS
is an error, which ``--repair`` mends by assuming EPSG:4326 only when all coordinates are degrees.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from smrplan.errors import InputError
from smrplan.geo.checks import (
    WGS84,
    Rows,
    data_limits,
    degrees,
    empty_geometry,
    empty_ids,
    implausible,
    invalid_geometry,
    is_blank,
    missing_crs,
    not_empty,
    numbers,
    numeric_values,
    outside_region,
    points_from_columns,
    projected_degrees,
    reproject,
    required_columns,
    unique_ids,
    yes_no,
)
from smrplan.scenario import defaults

# Region box of data/data_checks.yaml that settlements and anchor loads are expected in when the caller
# names none: the default scenario's region.extent.
DEFAULT_REGION = defaults()["region"]["extent"]
# Table of licence and attribution per file, looked for beside a layer (see `attribution`).
SOURCES_TABLE = "sources.csv"
# Column aliases accepted for the settlement contract (first match wins).
SETTLEMENT_ALIASES = {
    "population": ("population", "population_2011", "pop", "tot_p"),
    "households": ("households", "households_2011", "no_hh"),
    "population_urban": ("population_urban", "pop_urban_2011", "tot_p_urban"),
}


def resolve(ref: str, data_dir: str | Path | None, base_dir: str | Path | None = None,
            field: str | None = None) -> Path:
    """Turn a layer reference into a path; raise (naming `field`, e.g. the scenario key) if it does not exist.

    Parameters
    ----------
    ref : str
        ``bundled:<file>``, an absolute path, or a path relative to the data directory.
    data_dir : str or Path or None
        The data directory (``--data-dir``) relative references are read from.
    base_dir : str or Path or None, default None
        Folder used without a data directory (the scenario file's folder; None: the working directory).
    field : str or None, default None
        What the reference was given as (e.g. the scenario key), named in the error.

    Returns
    -------
    Path
        The existing file.

    Raises
    ------
    InputError
        When the file does not exist.
    """
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


def id_columns(columns: Iterable[object]) -> list[str]:
    """The columns read as text: a name, in lower case, among ``id_columns.names`` of
    ``data/data_checks.yaml`` or ending with one of its ``suffixes`` (``id``, ``site_id``...).

    Parameters
    ----------
    columns : iterable
        Column names.

    Returns
    -------
    list of str
        The names of the id columns, as given.
    """
    spec = data_limits()["id_columns"]
    names, suffixes = set(spec["names"]), tuple(spec["suffixes"])
    return [str(c) for c in columns if str(c).lower() in names or str(c).lower().endswith(suffixes)]


def unique_columns(path: Path, columns: Iterable[object]) -> None:
    """Raise InputError naming the file and the first column name given twice in its header.

    Parameters
    ----------
    path : Path
        The table, named in the error.
    columns : iterable
        The column names as written in the file (before pandas renames a repeat ``x`` to ``x.1``).

    Raises
    ------
    InputError
        When a name appears more than once.
    """
    names = pd.Index([str(c) for c in columns])
    repeated = names[names.duplicated()]
    if len(repeated):
        name = repeated[0]
        where = ", ".join(str(i + 1) for i in np.flatnonzero(names == name))
        raise InputError(path, f"column {name}", f"the header names this column more than once (columns {where}); "
                                                 "each column name must appear once")


# Keyword arguments of pandas.read_csv that also apply to reading the header row alone.
_HEADER_KWARGS = ("sep", "delimiter", "quoting", "quotechar", "escapechar", "skiprows", "comment")


def _csv_header(path: Path, csv_kwargs: dict) -> list[str]:
    """The names of a CSV's header row as written (pandas would rename a repeated name)."""
    head = pd.read_csv(path, encoding="utf-8", header=None, nrows=1, dtype=str, keep_default_na=False,
                       **{k: v for k, v in csv_kwargs.items() if k in _HEADER_KWARGS})
    return [str(c) for c in head.iloc[0]] if len(head) else []


def attribution(path: Path) -> str:
    """Credit line of a data file from the ``sources.csv`` in its folder (columns ``file``,
    ``attribution``, ``licence``), as "attribution (licence)"; "" when the folder has no such table or
    the table has no row for the file. The bundled extracts (data/india_islands) carry one."""
    table = Path(path).parent / SOURCES_TABLE
    if not table.is_file():
        return ""
    rows = pd.read_csv(table, dtype=str).fillna("")
    row = rows[rows["file"] == Path(path).name]
    if row.empty:
        return ""
    return f"{row['attribution'].iloc[0]} ({row['licence'].iloc[0]})"


def read_table(path: Path, any_suffix: bool = False, **csv_kwargs) -> pd.DataFrame:
    """Read a CSV (UTF-8; pandas keyword arguments `csv_kwargs`) or Parquet table by its suffix; with
    `any_suffix`, a file of another suffix (GeoNames .txt) is read as CSV. Every failure is an
    InputError naming the file.

    A column name given twice in the header is an error. The id columns of a CSV with a header
    (`id_columns`) are read as text, so that ``001`` stays ``001``.

    Parameters
    ----------
    path : Path
        A ``.csv`` or ``.parquet`` file.
    any_suffix : bool, default False
        Read a file of any other suffix as CSV.
    **csv_kwargs
        Keyword arguments of `pandas.read_csv`; a ``dtype`` mapping is added to the id columns' text type.

    Returns
    -------
    pandas.DataFrame
        The table as stored, id columns as text.

    Raises
    ------
    InputError
        When the file is missing, empty, not UTF-8, unreadable or of another format, or its header
        names a column twice.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(path, None, "file not found")
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            unique_columns(path, pq.read_schema(path).names)
            return pd.read_parquet(path)
        if suffix == ".csv" or any_suffix:
            if csv_kwargs.get("header", "infer") is not None:
                header = _csv_header(path, csv_kwargs)
                unique_columns(path, header)
                given = csv_kwargs.pop("dtype", None)
                if given is None or isinstance(given, dict):
                    csv_kwargs["dtype"] = {**dict.fromkeys(id_columns(header), str), **(given or {})}
                else:
                    csv_kwargs["dtype"] = given
            return pd.read_csv(path, encoding="utf-8", **csv_kwargs)
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text; save the file as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "the file is empty; expected a header row and data rows") from None
    except InputError:
        raise
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(path, None, f"unreadable table ({str(exc).splitlines()[0]})") from None
    raise InputError(path, None, f"unsupported table format {suffix!r}; expected .csv or .parquet")


def read_rows(path: Path, mode: str = "raise", drop_missing_coords: bool = False) -> Rows:
    """Read a vector file or a lon/lat table as a layer to check, its CRS and records as stored.

    Parameters
    ----------
    path : Path
        GeoPackage, GeoParquet, GeoJSON, Shapefile, or CSV / Parquet with lon/lat columns (degrees).
    mode : {"raise", "repair", "report"}
        Mode of the checks (`smrplan.geo.checks`).
    drop_missing_coords : bool
        Table rows with a blank coordinate are dropped and counted in ``Rows.dropped``.

    Returns
    -------
    Rows
        The records (a GeoDataFrame) with their row numbers: tables' points in WGS84 (in raise mode
        every coordinate checked; otherwise records without numeric coordinates have no geometry).

    Raises
    ------
    InputError
        An unreadable file or a layer without records, in every mode; in raise mode also a missing,
        non-numeric or out-of-range coordinate of a table.
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        df = read_table(path)
        if suffix == ".parquet" and "geometry" in df.columns:
            try:
                t = Rows(gpd.read_parquet(path), path, mode=mode)
            except (ValueError, TypeError) as exc:
                raise InputError(path, "geometry", f"unreadable GeoParquet ({exc})") from None
        else:
            t = Rows(df, path, mode=mode)
            points_from_columns(t, drop_missing=drop_missing_coords)
    else:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:  # pyogrio raises several DataSource errors; all mean unreadable input
            raise InputError(path, None, f"unreadable vector file ({str(exc).splitlines()[0]})") from None
        unresolved = _unresolved_crs(path, gdf, [str(w.message) for w in caught])
        for w in caught:
            if unresolved is None or not _CRS_WARNING.search(str(w.message)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if unresolved is not None:
            gdf = gdf.set_crs(None, allow_override=True)
        unique_columns(path, gdf.columns)
        gdf = _geojson_yes_no(path, gdf)
        t = Rows(gdf, path, mode=mode)
        t.unresolved_crs = unresolved
    not_empty(t)
    return t


# GDAL's warnings of a CRS it cannot read (e.g. "unable to read srs_id '12345' from gpkg_spatial_ref_sys").
_CRS_WARNING = re.compile(r"srs|crs|spatial.?ref|projection", re.IGNORECASE)
# The ``crs`` member of a GeoJSON file (2008 specification), an object of at most two levels.
_GEOJSON_CRS = re.compile(rb'"crs"\s*:\s*(\{(?:[^{}]|\{[^{}]*\})*\})')


def _geojson_yes_no(path: Path, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with the JSON booleans GDAL turned into numbers put back as booleans.

    GDAL reads a GeoJSON property holding numbers and ``true`` / ``false`` as a number field (true
    becomes 1), so that the checks of numeric columns could not see them. The file is parsed again
    only when a key given a boolean somewhere was read as a number column; a property of booleans
    alone is already read as booleans.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return gdf
    data = path.read_bytes()
    numeric = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_numeric_dtype(gdf[c].dtype)
               and not pd.api.types.is_bool_dtype(gdf[c].dtype)
               and re.search(b'"' + re.escape(str(c).encode()) + rb'"\s*:\s*(?:true|false)\b', data)]
    if not numeric:
        return gdf
    try:
        flat = pd.json_normalize(json.loads(data).get("features") or [], max_level=1)
        props = flat.filter(regex=r"^properties\.").rename(columns=lambda c: c.removeprefix("properties."))
    except (ValueError, AttributeError, TypeError, KeyError):
        return gdf  # GDAL read it; a layout this reader does not follow is left to the other checks
    if len(props) != len(gdf):
        return gdf
    for column in set(numeric) & set(props.columns):
        flags = yes_no(props[column])
        if flags.any():
            restored = gdf[column].astype(object).to_numpy()
            restored[flags] = props[column].to_numpy()[flags]
            gdf[column] = restored
    return gdf


def _unresolved_crs(path: Path, gdf: gpd.GeoDataFrame, messages: list[str]) -> str | None:
    """The CRS a vector file declares when pyproj cannot resolve it, described for a message; None when
    the file declares none or a known one.

    GDAL reads a GeoJSON ``crs`` member it does not know as EPSG:4326 without a word, so the member is
    read here (``{"type": "name", "properties": {"name": ...}}``; any other form is unknown). A
    shapefile whose .prj cannot be read, and a layer GDAL warned about (a GeoPackage srs_id without
    a definition), have no CRS after reading.
    """
    if path.suffix.lower() in (".geojson", ".json"):
        found = _GEOJSON_CRS.search(path.read_bytes())
        if found is None:
            return None
        text = found.group(1).decode("utf-8", "replace")
        try:
            member = json.loads(text)
            name = member["properties"]["name"] if member.get("type") == "name" else None
            if not isinstance(name, str):
                return f"crs member {text}"
            pyproj.CRS.from_user_input(name)
        except (ValueError, TypeError, KeyError, AttributeError, pyproj.exceptions.CRSError):
            return f"{name!r} (crs member)" if isinstance(name, str) else f"crs member {text}"
        return None
    if gdf.crs is not None:
        return None
    prj = next((p for p in (path.with_suffix(".prj"), path.with_suffix(".PRJ")) if p.is_file()), None)
    if path.suffix.lower() == ".shp" and prj is not None:
        return f"{prj.read_text(encoding='utf-8', errors='replace').strip()[:80]!r} ({prj.name})"
    return next((f"(GDAL: {m})" for m in messages if _CRS_WARNING.search(m)), None)


def _to_wgs84(t: Rows) -> None:
    """CRS checks of a layer as stored, then reprojection to WGS84."""
    missing_crs(t)
    projected_degrees(t)
    reproject(t)


def read_vector(path: Path, drop_missing_coords: bool = False, repair: bool = False) -> gpd.GeoDataFrame:
    """Read any supported vector file as a GeoDataFrame in WGS84.

    With ``drop_missing_coords`` rows of a CSV/Parquet table with a blank coordinate are dropped and
    counted in ``gdf.attrs["dropped_rows"]`` (for optional context layers such as power plants);
    otherwise they are an error. Empty geometries are a warning (logged; with ``repair`` dropped).
    With ``repair`` a layer without CRS is taken as EPSG:4326; the fixes are counted in
    ``gdf.attrs["repairs"]``.

    Parameters
    ----------
    path : Path
        GeoPackage, GeoParquet, GeoJSON, Shapefile, or CSV / Parquet with lon/lat columns (degrees).
    drop_missing_coords : bool, default False
        Drop table rows with a blank coordinate instead of raising.
    repair : bool, default False
        Take a layer without CRS as EPSG:4326 and drop empty geometries.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in WGS84; ``attrs["dropped_rows"]`` the rows left out, ``attrs["repairs"]`` (with
        ``repair``) the fixes per kind.

    Raises
    ------
    InputError
        When the file is unreadable or has no records, a coordinate is missing or not a number, or the
        CRS is missing (without ``repair``) or cannot be reprojected to WGS84.
    """
    t = read_rows(path, "repair" if repair else "raise", drop_missing_coords)
    _to_wgs84(t)
    degrees(t)
    empty_geometry(t, level="warning")
    gdf = t.gdf
    gdf.attrs["dropped_rows"] = t.dropped
    if repair:
        gdf.attrs["repairs"] = dict(t.fixes.counts)
    return gdf


def _point_checks(t: Rows, region: str | None) -> None:
    """Geometry rules of a point layer (settlements, anchor loads); polygons become a point on their surface."""
    empty_geometry(t)
    invalid_geometry(t)
    geom = t.gdf.geometry.values
    not_point = shapely.get_type_id(geom) != 0
    if not_point.any():  # e.g. village boundaries
        pts = geom.copy()
        pts[not_point] = shapely.point_on_surface(geom[not_point])
        t.gdf = t.gdf.set_geometry(gpd.GeoSeries(pts, index=t.gdf.index, crs=t.gdf.crs))
    degrees(t)
    if region is not None:
        outside_region(t, data_limits()["regions"][region], region)


def _finish(t: Rows, what: str) -> gpd.GeoDataFrame:
    if len(t.gdf) == 0:
        raise InputError(t.path, None, f"no {what} is left after --repair dropped {t.dropped} row(s) "
                                       f"({t.fixes.counts}); fix the file")
    out = t.gdf.reset_index(drop=True)
    out.attrs = {"dropped_rows": t.dropped, "repairs": dict(t.fixes.counts)}
    return out


def read_settlements(path: Path, repair: bool = False, region: str | None = DEFAULT_REGION) -> gpd.GeoDataFrame:
    """Read settlements and check the contract: id, name, point geometry (WGS84), population >= 0.

    Optional columns carried through: households, population_urban, anchor_load_kw,
    existing_demand_kwh, grid_connected, measured_energy_kwh with measured_year (calibration).
    Aliases such as ``population_2011`` are accepted.

    Parameters
    ----------
    path : Path
        The settlements file.
    repair : bool
        Fix what can be fixed (see the module docstring) instead of stopping.
    region : str or None
        Key of ``regions`` in ``data/data_checks.yaml`` whose box the points are expected in (None: no check).

    Returns
    -------
    geopandas.GeoDataFrame
        Population in persons; ``attrs["repairs"]`` counts the fixes per kind, ``attrs["dropped_rows"]``
        the rows left out.

    Raises
    ------
    InputError
        Naming the file, row and field: an unreadable file, a missing required column, an implausibly
        large population, no settlement left after the repairs, and (without ``repair``) any other error
        of the contract.
    """
    t = read_rows(path, "repair" if repair else "raise")
    _to_wgs84(t)
    lower = {c.lower(): c for c in t.gdf.columns}
    for target, aliases in SETTLEMENT_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is not None and found != target:
            t.gdf = t.gdf.rename(columns={found: target})
    required_columns(t, ("id", "name", "population"), SETTLEMENT_ALIASES)
    empty_ids(t, prefix="row-")
    t.gdf["id"] = t.gdf["id"].astype(str)
    if not repair:
        unique_ids(t)
    numbers(t, "population", minimum=0.0, kind="bad_population")
    implausible(t, "population", float(data_limits()["max_settlement_population"]))
    for col in ("households", "population_urban", "anchor_load_kw", "existing_demand_kwh"):
        if col in t.gdf.columns:
            numbers(t, col, minimum=0.0, missing=None, kind="bad_value")
    if "measured_energy_kwh" in t.gdf.columns:
        _measured_energy(t)
    _point_checks(t, region)
    if repair:
        unique_ids(t)
    t.gdf["name"] = t.gdf["name"].fillna("").astype(str)
    return _finish(t, "settlement")


def _measured_energy(t: Rows) -> None:
    """The calibration columns: `measured_energy_kwh` (kWh/yr) > 0 wherever given, each with a `measured_year`."""
    numbers(t, "measured_energy_kwh", minimum=0.0, missing=None, kind="bad_value")
    measured = numeric_values(t.gdf["measured_energy_kwh"])
    year = (numeric_values(t.gdf["measured_year"]) if "measured_year" in t.gdf.columns
            else np.full(len(measured), np.nan))
    bad = np.isfinite(measured) & ((measured <= 0) | ~np.isfinite(year))
    if bad.any():
        t.found("bad_value", bad, "column measured_energy_kwh", level="error",
                first=lambda r: f"{measured[r]:g} in year {year[r]:g}: expected a measured energy > 0 kWh/yr "
                                "with its measured_year",
                message="measured energy not positive or without a measured_year (calibration)")


def read_anchor_loads(path: Path, repair: bool = False, region: str | None = DEFAULT_REGION) -> gpd.GeoDataFrame:
    """Read a point layer of productive / anchor loads (ports, desalination, defence, tourism, mines).

    Columns: ``anchor_load_kw`` (required, a number >= 0: the load's mean-year demand basis, kW),
    optional ``id``, ``type`` and ``name``; point geometry (polygons become a point on their surface).
    Without an ``id`` column (or where it is blank) a load's id is ``anchor-<n>``, n its row number.

    Parameters
    ----------
    path : Path
        The anchor-load file.
    repair : bool
        Fix what can be fixed, as in `read_settlements` (bad kW -> row dropped as ``bad_anchor_load``).
    region : str or None
        Key of ``regions`` in ``data/data_checks.yaml`` whose box the points are expected in (None: no check).

    Returns
    -------
    geopandas.GeoDataFrame
        id, name (the type and id where blank), type, anchor_load_kw (kW) and geometry in WGS84;
        ``attrs["rows"]`` holds each load's row number in the file, ``attrs["repairs"]`` and
        ``attrs["dropped_rows"]`` as in `read_settlements`.

    Raises
    ------
    InputError
        Naming the file, row and field: an unreadable file, no ``anchor_load_kw`` column, and (without
        ``repair``) a duplicate id, a missing or negative load or a bad point; with it, no load left.
    """
    t = read_rows(path, "repair" if repair else "raise")
    _to_wgs84(t)
    lower = {c.lower(): c for c in t.gdf.columns}
    t.gdf = t.gdf.rename(columns={lower[c]: c for c in ("anchor_load_kw", "id", "type", "name") if c in lower})
    required_columns(t, ("anchor_load_kw",))
    ids = (t.gdf["id"].astype(object).to_numpy().copy() if "id" in t.gdf.columns
           else np.full(len(t.gdf), None, dtype=object))
    blank = is_blank(pd.Series(ids))
    ids[blank] = np.char.add("anchor-", t.rows[blank].astype(str)).astype(object)
    t.gdf["id"] = pd.Series(ids, index=t.gdf.index).astype(str)
    if not repair:
        unique_ids(t)
    numbers(t, "anchor_load_kw", minimum=0.0, kind="bad_anchor_load")
    _point_checks(t, region)
    if repair:
        unique_ids(t)
    out = t.gdf
    out["type"] = out["type"].fillna("").astype(str) if "type" in out.columns else ""
    out["name"] = (out["name"].fillna("").astype(str) if "name" in out.columns else pd.Series("", index=out.index))
    unnamed = out["name"].str.strip().eq("")
    out.loc[unnamed, "name"] = np.where(out.loc[unnamed, "type"].str.strip().ne(""),
                                        out.loc[unnamed, "type"] + " " + out.loc[unnamed, "id"],
                                        out.loc[unnamed, "id"])
    t.gdf = out[["id", "name", "type", "anchor_load_kw", "geometry"]]
    res = _finish(t, "anchor load")
    res.attrs["rows"] = [int(r) for r in t.rows]  # original row numbers, for messages of the join
    return res


@contextlib.contextmanager
def open_raster(path: Path):
    """An open rasterio dataset of a raster with a coordinate reference system. An unreadable file
    (when opened or read inside the block) or a raster without a CRS is an InputError naming the file."""
    import rasterio

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(path, None, f"unreadable raster ({str(exc).splitlines()[0]})") from None
    with src:
        if src.crs is None:
            raise InputError(path, "CRS", "the raster has no coordinate reference system")
        try:
            yield src
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(path, None, f"unreadable raster ({str(exc).splitlines()[0]})") from None


def cell_of(transform, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(column, row) of the raster cells holding points (x, y) in the raster's CRS, as floats floored
    to whole cells (from the inverse affine's coefficients; vectorised; NaN stays NaN).

    Parameters
    ----------
    transform : affine.Affine
        The raster's affine transform (cell to CRS coordinates).
    x, y : array_like
        Point coordinates in the raster's CRS units.

    Returns
    -------
    col, row : numpy.ndarray
        Cell column and row indices (floats; NaN where x or y is NaN).
    """
    inv = ~transform
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.floor(inv.a * x + inv.b * y + inv.c), np.floor(inv.d * x + inv.e * y + inv.f)


def read_raster(path: Path):
    """Open a single-band raster (GeoTIFF) and return (array float64 with NaN nodata, transform, crs)."""
    with open_raster(path) as src:
        arr = src.read(1).astype(float)
        if src.nodata is not None:
            arr[arr == src.nodata] = np.nan
        return arr, src.transform, src.crs


def sample_raster(path: Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Raster values at WGS84 points (nearest cell); NaN outside the raster.

    Parameters
    ----------
    path : Path
        A single-band raster (GeoTIFF) with a CRS.
    lon, lat : numpy.ndarray
        Points (degrees, WGS84).

    Returns
    -------
    numpy.ndarray
        The value of the cell holding each point, in the raster's unit; NaN outside the raster or at
        nodata cells.

    Raises
    ------
    InputError
        When the raster is unreadable or has no CRS.
    """
    arr, transform, crs = read_raster(path)
    if crs.to_epsg() != 4326:
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    col, row = cell_of(transform, lon, lat)
    col, row = col.astype(int), row.astype(int)
    ok = (row >= 0) & (row < arr.shape[0]) & (col >= 0) & (col < arr.shape[1])
    out = np.full(len(np.asarray(lon)), np.nan)
    out[ok] = arr[row[ok], col[ok]]
    return out
