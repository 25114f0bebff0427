"""Reading region layers: settlements and vector/raster layers from a data directory or the package.

A layer reference in a scenario is either ``bundled:<file>`` (package data under ``smrplan/data``), an
absolute path, or a path relative to the data directory (``--data-dir``; otherwise the scenario file's
folder). Vector files are read with pyogrio (GeoPackage, GeoParquet, GeoJSON, Shapefile) or pandas
(CSV / Parquet with lon/lat columns). Everything is returned in WGS84 (EPSG:4326). Inputs are never
modified. Every problem raises `InputError` naming the file, row and field.

Repair mode (``repair=True``, the CLI's ``--repair``): instead of stopping, fixable problems of the
settlements and anchor-load layers are fixed and each fix is logged (logger ``smrplan.io``, level
WARNING) with the file, row and field; the counts per kind are returned in ``gdf.attrs["repairs"]``
and rows left out in ``gdf.attrs["dropped_rows"]``. Fixes: empty id -> ``row-<n>``; duplicate id ->
renamed ``<id>-2``, ``<id>-3``...; missing, non-numeric or negative population (or anchor kW) -> row
dropped; invalid geometry -> ``make_valid``; empty or missing geometry or coordinates -> row dropped;
point outside the region box (``regions`` of ``data/data_checks.yaml``) or not lon/lat degrees -> row
dropped; negative or non-numeric optional number (households, anchor_load_kw, ...) -> left blank;
layer without CRS -> EPSG:4326 assumed. A missing required column, an unreadable file, or an
implausibly large population (a unit error of the whole column, more likely than a bad row) stay
errors. Without repair, points outside the region box are only logged.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
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
from smrplan.scenario import defaults

WGS84 = "EPSG:4326"
log = logging.getLogger("smrplan.io")
# Region box of data/data_checks.yaml that settlements and anchor loads are expected in when the caller
# names none: the default scenario's region.extent.
DEFAULT_REGION = defaults()["region"]["extent"]
# Repairs of one kind in one file logged row by row; the rest are summarised in one line (and counted).
LOG_EACH = 100
LON_NAMES = ("lon", "longitude", "x", "lng")
LAT_NAMES = ("lat", "latitude", "y")
# Column aliases accepted for the settlement contract (first match wins).
SETTLEMENT_ALIASES = {
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


def read_table(path: Path, any_suffix: bool = False, **csv_kwargs) -> pd.DataFrame:
    """Read a CSV (UTF-8; pandas keyword arguments `csv_kwargs`) or Parquet table by its suffix; with
    `any_suffix`, a file of another suffix (GeoNames .txt) is read as CSV. Every failure is an
    InputError naming the file."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(path, None, "file not found")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv" or any_suffix:
            return pd.read_csv(path, encoding="utf-8", **csv_kwargs)
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text; save the file as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "the file is empty; expected a header row and data rows") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(path, None, f"unreadable table ({str(exc).splitlines()[0]})") from None
    raise InputError(path, None, f"unsupported table format {suffix!r}; expected .csv or .parquet")


@dataclass
class Fixes:
    """The repairs made to one file: counts per kind, each fix logged with file, row and field."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    dropped: int = 0

    def add(self, kind: str, where: list[str], message: str | list[str], drops: bool = False) -> None:
        """Record len(where) fixes of one kind; `where` names row and field of each, `message` says
        what was wrong and what was done (one text for all, or one per row)."""
        n = len(where)
        if n == 0:
            return
        self.counts[kind] = self.counts.get(kind, 0) + n
        self.dropped += n if drops else 0
        texts = [message] * n if isinstance(message, str) else message
        for w, t in zip(where[:LOG_EACH], texts[:LOG_EACH], strict=True):
            log.warning("%s: %s: %s (repaired: %s)", self.path, w, t, kind)
        if n > LOG_EACH:
            log.warning("%s: %d more row(s) repaired the same way (%s); all are counted in plan.json data.repairs",
                        self.path, n - LOG_EACH, kind)


def _row_offset(path: Path) -> int:
    """Row number of a file's first record: line 2 of a CSV (after the header), feature 1 otherwise."""
    return 2 if path.suffix.lower() == ".csv" else 1


def _points_from_table(df: pd.DataFrame, path: Path, drop_missing: bool = False,
                       keep_bad: bool = False) -> gpd.GeoDataFrame:
    """Points from lon/lat columns. drop_missing: rows without coordinates dropped and counted;
    keep_bad: such rows get no geometry and coordinates out of range are kept, for the caller to
    repair (repair mode); otherwise both are errors."""
    cols = {c.lower(): c for c in df.columns}
    lon = next((cols[c] for c in LON_NAMES if c in cols), None)
    lat = next((cols[c] for c in LAT_NAMES if c in cols), None)
    if lon is None or lat is None:
        raise InputError(path, "lon/lat", f"no coordinate columns; expected one of {LON_NAMES} and "
                                          f"one of {LAT_NAMES}, found {list(df.columns)}")
    dropped = 0
    if drop_missing:
        ok = np.isfinite(pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)) & np.isfinite(
            pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float))
        dropped = int((~ok).sum())
        df = df.loc[ok].reset_index(drop=True)
    if len(df) == 0:
        raise InputError(path, None, "the table has a header but no rows")
    xy = {}
    for name in (lon, lat):
        values = pd.to_numeric(df[name], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad) and not keep_bad:
            raise InputError(path, f"row {bad[0] + 2}, column {name}",
                             f"missing or non-numeric coordinate ({len(bad)} row(s)); expected decimal degrees")
        xy[name] = values.to_numpy(dtype=float)
        if not keep_bad:
            df[name] = values
    x, y = xy[lon], xy[lat]
    out_of_range = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
    if len(out_of_range) and not keep_bad:
        r = out_of_range[0]
        raise InputError(path, f"row {r + 2}, columns {lon}/{lat}",
                         f"({df[lon].iloc[r]}, {df[lat].iloc[r]}) is not WGS84 lon/lat in degrees; "
                         "reproject the file to EPSG:4326 (is it in a projected CRS?)")
    ok = np.isfinite(x) & np.isfinite(y)
    geom = np.full(len(df), None, dtype=object)
    geom[ok] = shapely.points(x[ok], y[ok])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, index=df.index, crs=WGS84), crs=WGS84)
    gdf.attrs["dropped_rows"] = dropped
    return gdf


def read_vector(path: Path, drop_missing_coords: bool = False, repair: bool = False,
                fixes: Fixes | None = None) -> gpd.GeoDataFrame:
    """Read any supported vector file as a GeoDataFrame in WGS84.

    With ``drop_missing_coords`` rows of a CSV/Parquet table without coordinates are dropped and
    counted in ``gdf.attrs["dropped_rows"]`` (for optional context layers such as power plants);
    otherwise they are an error. With ``repair`` a layer without CRS is taken as EPSG:4326 (logged,
    counted in ``gdf.attrs["repairs"]`` as ``missing_crs``).
    """
    fixes = fixes if fixes is not None else (Fixes(path) if repair else None)
    if path.suffix.lower() in (".csv", ".parquet"):
        df = read_table(path)
        if path.suffix.lower() == ".parquet" and "geometry" in df.columns:
            try:
                gdf = _to_wgs84(gpd.read_parquet(path), path, fixes)
            except (ValueError, TypeError) as exc:
                raise InputError(path, "geometry", f"unreadable GeoParquet ({exc})") from None
        else:
            gdf = _points_from_table(df, path, drop_missing=drop_missing_coords, keep_bad=False)
    else:
        try:
            gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:  # pyogrio raises several DataSource errors; all mean unreadable input
            raise InputError(path, None, f"unreadable vector file ({str(exc).splitlines()[0]})") from None
        gdf = _to_wgs84(gdf, path, fixes)
    if fixes is not None:
        gdf.attrs["repairs"] = dict(fixes.counts)
    return gdf


def _read_points_layer(path: Path, fixes: Fixes | None) -> gpd.GeoDataFrame:
    """A settlement-like layer as read (repair mode keeps rows with bad coordinates for the checks)."""
    if fixes is not None and path.suffix.lower() in (".csv", ".parquet"):
        df = read_table(path)
        if not (path.suffix.lower() == ".parquet" and "geometry" in df.columns):
            return _points_from_table(df, path, keep_bad=True)
    return read_vector(path, fixes=fixes)


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path, fixes: Fixes | None = None) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        if fixes is None:
            raise InputError(path, "CRS", "the layer has no coordinate reference system; set one (e.g. EPSG:4326)")
        fixes.add("missing_crs", ["CRS"], "the layer has no coordinate reference system; EPSG:4326 (WGS84 "
                                          "lon/lat degrees) assumed")
        gdf = gdf.set_crs(WGS84)
    if len(gdf) == 0:
        raise InputError(path, None, "the layer has no features")
    return gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf


def _where(rows: np.ndarray, ids: np.ndarray | None, idx: np.ndarray, what: str) -> list[str]:
    """'row 5 (id X), column population' for the records at positions idx."""
    if ids is None:
        return [f"row {r}, {what}" for r in rows[idx]]
    return [f"row {r} (id {i}), {what}" for r, i in zip(rows[idx], ids[idx], strict=True)]


class Rows:
    """A layer being checked with the original row number of each record (kept through drops)."""

    def __init__(self, gdf: gpd.GeoDataFrame, path: Path, fixes: Fixes | None):
        self.gdf = gdf.reset_index(drop=True)
        self.path = path
        self.fixes = fixes
        self.rows = np.arange(len(gdf)) + _row_offset(path)

    def ids(self) -> np.ndarray | None:
        return self.gdf["id"].astype(str).to_numpy() if "id" in self.gdf.columns else None

    def label(self, r: int, what: str) -> str:
        ident = f" (id {self.gdf['id'].iloc[r]})" if "id" in self.gdf.columns else ""
        return f"row {self.rows[r]}{ident}, {what}"

    def drop(self, mask: np.ndarray, kind: str, what: str, message: str | list[str]) -> None:
        """Repair mode: drop the rows in mask, logged and counted."""
        idx = np.flatnonzero(mask)
        self.fixes.add(kind, _where(self.rows, self.ids(), idx, what), message, drops=True)
        self.gdf = self.gdf.loc[~mask].reset_index(drop=True)
        self.rows = self.rows[~mask]


def _check_ids(t: Rows, prefix: str, empty_error: str) -> None:
    """Empty ids: an error, or `<prefix><row>` with repair. Duplicates are checked by `unique_ids`."""
    gdf = t.gdf
    blank = gdf["id"].isna().to_numpy() | gdf["id"].astype(str).str.strip().eq("").to_numpy()
    if blank.any():
        if t.fixes is None:
            r = int(np.flatnonzero(blank)[0])
            raise InputError(t.path, f"row {t.rows[r]}, column id", empty_error)
        idx = np.flatnonzero(blank)
        new = np.char.add(prefix, t.rows[idx].astype(str)).astype(object)
        t.fixes.add("empty_id", [f"row {r}, column id" for r in t.rows[idx]],
                    [f"empty id; set to {n!r}" for n in new])
        ids = gdf["id"].astype(object).to_numpy().copy()
        ids[idx] = new
        gdf["id"] = ids
    gdf["id"] = gdf["id"].astype(str)


def unique_ids(t: Rows, existing: pd.Series | None = None) -> None:
    """Duplicate ids (within the layer, or with `existing` ids): an error, or with repair the second
    and later occurrences renamed ``<id>-2``, ``<id>-3``... (a name already taken gets a further suffix)."""
    ids = t.gdf["id"]
    taken = pd.concat([existing, ids], ignore_index=True) if existing is not None else ids
    n_before = 0 if existing is None else len(existing)
    dup = taken.duplicated(keep="first").to_numpy()[n_before:]
    if not dup.any():
        return
    if t.fixes is None:
        if existing is not None:
            r = int(np.flatnonzero(dup)[0])
            raise InputError(t.path, t.label(r, "column id"),
                             f"id {ids.iloc[r]!r} is already a settlement id; ids must be unique")
        both = ids.duplicated(keep=False)
        raise InputError(t.path, "id", f"duplicate ids {sorted(ids[both].unique())[:5]}; ids must be unique")
    idx = np.flatnonzero(dup)
    occurrence = taken.groupby(taken).cumcount().to_numpy()[n_before:] + 1
    new = ids.to_numpy(dtype=object).copy()
    new[idx] = [f"{i}-{k}" for i, k in zip(ids.to_numpy()[idx], occurrence[idx], strict=True)]
    used = set(taken.to_numpy()) if existing is not None else set(ids.to_numpy())
    clash = np.array([v in used for v in new[idx]], dtype=bool)
    while clash.any():  # rounds over the (rare) renamed ids that collide with existing ones
        new[idx[clash]] = [f"{v}-dup" for v in new[idx[clash]]]
        clash = np.array([v in used for v in new[idx]], dtype=bool) | pd.Series(new).duplicated().to_numpy()[idx]
    t.fixes.add("duplicate_id", _where(t.rows, ids.to_numpy(dtype=str), idx, "column id"),
                [f"duplicate id; renamed {v!r}" for v in new[idx]])
    t.gdf["id"] = new.astype(str)


def _numeric(t: Rows, col: str, minimum: float, required: bool, kind: str) -> None:
    """A numeric column: NaN allowed unless required; text, NaN (when required) and values below
    `minimum` are errors, or with repair: the row dropped (required) or the value left blank."""
    raw = t.gdf[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    text = ~raw.isna().to_numpy() & ~np.isfinite(values)  # a value given but not a number
    missing = ~np.isfinite(values)
    below = np.isfinite(values) & (values < minimum)
    if t.fixes is None:
        if required and missing.any():
            r = int(np.flatnonzero(missing)[0])
            raise InputError(t.path, t.label(r, f"column {col}"),
                             f"{raw.iloc[r]!r} is not a finite number; expected a number >= {minimum:g}")
        if not required and text.any():  # an optional value that is not a number counts as not given
            r = int(np.flatnonzero(text)[0])
            log.warning("%s: %d value(s) of optional column %s are not numbers and are taken as blank, e.g. %s: %r",
                        t.path, int(text.sum()), col, t.label(r, f"column {col}"), raw.iloc[r])
            values = np.where(text, np.nan, values)
        if below.any():
            r = int(np.flatnonzero(below)[0])
            raise InputError(t.path, t.label(r, f"column {col}"),
                             f"{values[r]:g} is negative; expected a number >= {minimum:g}")
        t.gdf[col] = values
        return
    bad = (missing if required else text) | below
    msgs = [f"{v!r} is not a number >= {minimum:g}" for v in raw.to_numpy()[bad]]
    if required:
        t.gdf[col] = values
        t.drop(bad, kind, f"column {col}", [m + "; row dropped" for m in msgs])
    else:
        idx = np.flatnonzero(bad)
        t.fixes.add(kind, _where(t.rows, t.ids(), idx, f"column {col}"), [m + "; left blank" for m in msgs])
        t.gdf[col] = np.where(bad, np.nan, values)


def _points(t: Rows, what: str, region: str | None) -> None:
    """Geometry checks of a point layer: empty (error / dropped), invalid (make_valid with repair),
    polygons to a point on their surface, not lon/lat degrees (error / dropped), outside the region box
    (logged / dropped with repair)."""
    geom = t.gdf.geometry
    empty = geom.isna().to_numpy() | shapely.is_empty(geom.values)
    if empty.any():
        if t.fixes is None:
            r = int(np.flatnonzero(empty)[0])
            raise InputError(t.path, t.label(r, "geometry"), f"empty or missing geometry; every {what} needs a point")
        t.drop(empty, "empty_geometry", "geometry", "empty or missing geometry or coordinates; row dropped")
    geom = t.gdf.geometry
    if t.fixes is not None:
        invalid = ~shapely.is_valid(geom.values)
        if invalid.any():
            t.fixes.add("invalid_geometry", _where(t.rows, t.ids(), np.flatnonzero(invalid), "geometry"),
                        "invalid geometry; repaired with make_valid")
            fixed = t.gdf.geometry.to_numpy().copy()
            fixed[invalid] = shapely.make_valid(fixed[invalid])
            t.gdf = t.gdf.set_geometry(gpd.GeoSeries(fixed, index=t.gdf.index, crs=t.gdf.crs))
            geom = t.gdf.geometry
            empty = shapely.is_empty(geom.values)
            if empty.any():
                t.drop(empty, "empty_geometry", "geometry", "geometry empty after make_valid; row dropped")
                geom = t.gdf.geometry
    not_point = ~np.isin(shapely.get_type_id(geom.values), [0])
    if not_point.any():
        # Polygons (e.g. village boundaries) become points on their surface.
        pts = geom.values.copy()
        pts[not_point] = shapely.point_on_surface(geom.values[not_point])
        t.gdf = t.gdf.set_geometry(gpd.GeoSeries(pts, index=t.gdf.index, crs=t.gdf.crs))
    x, y = shapely.get_x(t.gdf.geometry.values), shapely.get_y(t.gdf.geometry.values)
    not_deg = (np.abs(x) > 180) | (np.abs(y) > 90) | ~np.isfinite(x) | ~np.isfinite(y)
    if not_deg.any():
        if t.fixes is None:
            r = int(np.flatnonzero(not_deg)[0])
            raise InputError(t.path, t.label(r, "geometry"),
                             f"({x[r]:g}, {y[r]:g}) is not lon/lat in degrees; the file's CRS does not match its "
                             "coordinates (reproject to EPSG:4326 or declare the right CRS)")
        t.drop(not_deg, "outside_region", "geometry",
               [f"({a:g}, {b:g}) is not lon/lat in degrees (wrong CRS?); row dropped" for a, b in
                zip(x[not_deg], y[not_deg], strict=True)])
        x, y = shapely.get_x(t.gdf.geometry.values), shapely.get_y(t.gdf.geometry.values)
    if region is None:
        return
    b = data_limits()["regions"][region]
    outside = (x < b["min_lon"]) | (x > b["max_lon"]) | (y < b["min_lat"]) | (y > b["max_lat"])
    if not outside.any():
        return
    box = f"{b['min_lon']:g}..{b['max_lon']:g} E, {b['min_lat']:g}..{b['max_lat']:g} N"
    if t.fixes is None:
        r = int(np.flatnonzero(outside)[0])
        log.warning("%s: %d %s point(s) outside the region %s (%s), e.g. %s; kept (--repair drops them)",
                    t.path, int(outside.sum()), what, region, box, t.label(r, "geometry"))
        return
    t.drop(outside, "outside_region", "geometry",
           [f"({a:g}, {c:g}) is outside the region {region} ({box}); row dropped" for a, c in
            zip(x[outside], y[outside], strict=True)])


def _finish(t: Rows, what: str) -> gpd.GeoDataFrame:
    if len(t.gdf) == 0:
        raise InputError(t.path, None, f"no {what} is left after --repair dropped {t.fixes.dropped} row(s) "
                                       f"({t.fixes.counts}); fix the file")
    out = t.gdf.reset_index(drop=True)
    out.attrs = {"dropped_rows": t.fixes.dropped if t.fixes else 0,
                 "repairs": dict(t.fixes.counts) if t.fixes else {}}
    return out


def read_settlements(path: Path, repair: bool = False, region: str | None = DEFAULT_REGION) -> gpd.GeoDataFrame:
    """Read settlements and check the contract: id, name, point geometry (WGS84), population >= 0.

    Optional columns carried through: households, population_urban, anchor_load_kw,
    existing_demand_kwh, grid_connected. Aliases such as ``population_2011`` are accepted.
    repair: fix what can be fixed (see the module docstring) instead of stopping; region: key of
    ``regions`` in ``data/data_checks.yaml`` whose box the points are expected in (None: no check).
    ``attrs["repairs"]`` counts the fixes per kind, ``attrs["dropped_rows"]`` the rows left out.
    """
    fixes = Fixes(path) if repair else None
    gdf = _read_points_layer(path, fixes)
    lower = {c.lower(): c for c in gdf.columns}
    for target, aliases in SETTLEMENT_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is not None and found != target:
            gdf = gdf.rename(columns={found: target})
    for col in ("id", "name", "population"):
        if col not in gdf.columns:
            raise InputError(path, col, f"required column is missing; found {list(gdf.columns)}")
    t = Rows(gdf, path, fixes)
    _check_ids(t, "row-", "empty id; every settlement needs a unique id")
    if not repair:
        unique_ids(t)
    _numeric(t, "population", 0.0, required=True, kind="bad_population")
    cap = float(data_limits()["max_settlement_population"])
    huge = np.flatnonzero(t.gdf["population"].to_numpy(float) > cap)
    if len(huge):
        r = int(huge[0])
        raise InputError(path, t.label(r, "column population"),
                         f"{t.gdf['population'].iloc[r]:g} is implausibly large for one settlement (limit {cap:g}, "
                         "data/data_checks.yaml); is the column in the right unit?")
    for col in ("households", "population_urban", "anchor_load_kw", "existing_demand_kwh"):
        if col in t.gdf.columns:
            _numeric(t, col, 0.0, required=False, kind="bad_value")
    _points(t, "settlement", region)
    if repair:
        unique_ids(t)
    t.gdf["name"] = t.gdf["name"].fillna("").astype(str)
    return _finish(t, "settlement")


def read_anchor_loads(path: Path, repair: bool = False, region: str | None = DEFAULT_REGION) -> gpd.GeoDataFrame:
    """Read a point layer of productive / anchor loads (ports, desalination, defence, tourism, mines).

    Columns: ``anchor_load_kw`` (required, a number >= 0: the load's mean-year demand basis, kW),
    optional ``id``, ``type`` and ``name``; point geometry (polygons become a point on their surface).
    Without an ``id`` column (or where it is blank) a load's id is ``anchor-<n>``, n its row number.
    repair and region as in `read_settlements` (bad kW -> row dropped as ``bad_anchor_load``).
    Returns id, name, type, anchor_load_kw and geometry in WGS84.
    """
    fixes = Fixes(path) if repair else None
    gdf = _read_points_layer(path, fixes)
    lower = {c.lower(): c for c in gdf.columns}
    gdf = gdf.rename(columns={lower[c]: c for c in ("anchor_load_kw", "id", "type", "name") if c in lower})
    if "anchor_load_kw" not in gdf.columns:
        raise InputError(path, "anchor_load_kw", f"required column is missing; found {list(gdf.columns)}")
    t = Rows(gdf, path, None)
    if "id" not in t.gdf.columns:
        t.gdf["id"] = np.char.add("anchor-", t.rows.astype(str)).astype(object)
    blank = t.gdf["id"].isna().to_numpy() | t.gdf["id"].astype(str).str.strip().eq("").to_numpy()
    ids = t.gdf["id"].astype(object).to_numpy().copy()
    ids[blank] = np.char.add("anchor-", t.rows[blank].astype(str)).astype(object)
    t.gdf["id"] = pd.Series(ids, index=t.gdf.index).astype(str)
    t.fixes = fixes
    if not repair:
        unique_ids(t)
    _numeric(t, "anchor_load_kw", 0.0, required=True, kind="bad_anchor_load")
    _points(t, "anchor load", region)
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
    to whole cells (from the inverse affine's coefficients; vectorised; NaN stays NaN)."""
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
    """Raster values at WGS84 points (nearest cell); NaN outside the raster."""
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
