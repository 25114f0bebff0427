"""Importers for the public data sources users download, each a pure function of file path(s).

Every importer returns a GeoDataFrame in WGS84 (EPSG:4326) in the project's contracts
(design.md, "Data contracts") and raises `InputError` naming the file, the row and the field on bad
input: the checks are the rules of `smrplan.geo.checks` in its ``raise`` mode, as for the layers of a
run (a non-numeric value of an optional column is a warning and taken as blank). Row numbers are
file lines for text tables with a header (the header is line 1, so the first record is row 2), lines
for header-less dumps, and 1-based record numbers for Parquet and vector files.

Sources and what comes out:

* GeoNames ``cities500`` / ``cities15000`` (tab-separated dump rows, or the CSV/Parquet extracts):
  settlements (``id`` = ``GN-<geonameid>``, ``name``, ``population`` in persons, point geometry).
  GeoNames writes 0 for an unknown population; it becomes NaN (to be allocated, see
  `smrplan.demand.population`).
* GeoNames postal codes (dump or Parquet): post-office places, population NaN (GeoNames has none).
* WRI Global Power Plant Database CSV: points with ``capacity_mw`` (MW) and ``primary_fuel``; rows
  without coordinates are dropped and counted in ``gdf.attrs["dropped_rows"]``.
* Natural Earth / OpenStreetMap land polygons: valid, exploded polygons with ``area_km2`` (km2,
  computed in the equal-area EPSG:6933 as the shared land files were).
* DataMeet-style district boundaries (``st_nm``, ``district``, ``dt_code``) and Census 2011 district
  populations (Table A-1), joined by code or name (`join_census_districts`).
* A population raster (WorldPop / GHS-POP style GeoTIFF, persons per cell) aggregated to given
  settlements (nearest settlement within a distance) or to an h3 hexagon grid.
* An OpenStreetMap power-line extract: ``grid_lines`` with ``voltage_kv`` (kV).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError
from smrplan.geo.checks import WGS84, Rows, empty_ids, numbers, points_from_columns, required_columns, unique_ids
from smrplan.geo.distance import PointIndex
from smrplan.geo.io import open_raster, read_table, read_vector

# Equal-area CRS for areas (WGS 84 / NSIDC EASE-Grid 2.0 Global), as used for area_km2 in
# shared/data/land_coastline_in/SOURCE.md.
EQUAL_AREA_CRS = "EPSG:6933"
# Columns of the GeoNames dumps (allCountries.txt, cities500.txt, ...), in file order; see
# https://download.geonames.org/export/dump/readme.txt ("The main 'geoname' table").
GEONAMES_COLUMNS = (
    "geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class",
    "feature_code", "country_code", "cc2", "admin1_code", "admin2_code", "admin3_code", "admin4_code",
    "population", "elevation", "dem", "timezone", "modification_date",
)
# Columns of the GeoNames postal-code dumps (e.g. IN.txt), in file order; see
# https://download.geonames.org/export/zip/readme.txt.
GEONAMES_POSTAL_COLUMNS = (
    "country_code", "postal_code", "place_name", "admin_name1", "admin_code1", "admin_name2",
    "admin_code2", "admin_name3", "admin_code3", "latitude", "longitude", "accuracy",
)
# GeoNames feature codes that are not separate living places (https://www.geonames.org/export/codes.html):
# PPLX section of a populated place (its people are counted in the parent place), PPLH historical,
# PPLQ abandoned, PPLW destroyed, PPLCH historical capital.
GEONAMES_EXCLUDED_FEATURE_CODES = ("PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH")
# Codes read as text so that leading zeros survive ("01" = Andaman & Nicobar).
_GEONAMES_TEXT = {c: str for c in ("geonameid", "admin1_code", "admin1code", "admin2_code", "admin2code")}
_GEONAMES_OPTIONAL = ("feature_code", "admin1_code", "admin1_name", "admin2_code")
_GEONAMES_ALIASES = {"admin1code": "admin1_code", "admin2code": "admin2_code", "countrycode": "country_code",
                     "lat": "latitude", "lon": "longitude", "lng": "longitude"}
_GPPD_REQUIRED = ("gppd_idnr", "name", "capacity_mw", "latitude", "longitude", "primary_fuel")
_GPPD_OPTIONAL = ("commissioning_year", "owner", "source")
# DataMeet shapefiles use ST_CEN_CD / DT_CEN_CD / censuscode for the census 2011 codes.
_DISTRICT_ALIASES = {"st_cen_cd": "st_code", "dt_cen_cd": "dt_code", "censuscode": "dt_code"}
_OSM_ID_COLUMNS = ("id", "osm_id", "@id", "osm_way_id")


# --- shared helpers -------------------------------------------------------------------------------

Frame = TypeVar("Frame", bound=pd.DataFrame)  # a table or a layer (GeoDataFrame)


def _lower_columns(df: Frame, aliases: dict[str, str]) -> Frame:
    """Lower-case column names and apply aliases (an alias never overwrites an existing column)."""
    df = df.rename(columns={c: c.lower() for c in df.columns if isinstance(c, str)})
    return df.rename(columns={a: t for a, t in aliases.items() if a in df.columns and t not in df.columns})


def _first_row(path: Path, header: bool) -> int:
    """Row number of the first record: line 2 of a text table with a header, otherwise record 1."""
    return 2 if header and path.suffix.lower() != ".parquet" else 1


def _ids(t: Rows, column: str) -> None:
    """An id column as stripped text: blank or duplicate ids are errors."""
    t.gdf[column] = t.gdf[column].astype("string").str.strip()
    empty_ids(t, column)
    unique_ids(t, column)
    t.gdf[column] = t.gdf[column].astype(str)


def _polygon_parts(geoms: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid polygon parts of each geometry and the index of the geometry each came from.

    Geometries not `valid` are repaired with `shapely.make_valid`; collections are opened
    (repeatedly, for nested ones) and their points and lines dropped.
    """
    geoms = geoms.copy()
    geoms[~valid] = shapely.make_valid(geoms[~valid])
    index = np.arange(len(geoms))
    multi = np.isin(shapely.get_type_id(geoms), [4, 5, 6, 7])
    while multi.any():
        parts, part_index = shapely.get_parts(geoms[multi], return_index=True)
        geoms = np.concatenate([geoms[~multi], parts])
        index = np.concatenate([index[~multi], index[multi][part_index]])
        multi = np.isin(shapely.get_type_id(geoms), [4, 5, 6, 7])
    keep = (shapely.get_type_id(geoms) == 3) & ~shapely.is_empty(geoms)
    order = np.argsort(index[keep], kind="stable")
    return geoms[keep][order], index[keep][order]


def _area_km2(geoms: np.ndarray) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs=WGS84).to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6


def _norm_name(values: pd.Series) -> pd.Series:
    """Names compared case- and punctuation-free, with '&' read as 'and'."""
    return (values.astype("string").str.lower().str.replace("&", "and", regex=False)
            .str.replace(r"[^a-z0-9]", "", regex=True))


# --- GeoNames ---------------------------------------------------------------------------------------

def _is_dump(path: Path) -> bool:
    return path.suffix.lower() in (".txt", ".tsv")


def _read_dump(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A header-less tab-separated GeoNames dump, every field as text."""
    df = read_table(path, any_suffix=True, sep="\t", header=None, dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    if df.shape[1] != len(columns):
        raise InputError(path, None, f"expected {len(columns)} tab-separated GeoNames columns per line, "
                                     f"found {df.shape[1]}; is this the right dump?")
    df.columns = list(columns)
    return df


def read_geonames_cities(path: Path, country: str | None = "IN",
                         exclude_feature_codes: Sequence[str] = GEONAMES_EXCLUDED_FEATURE_CODES
                         ) -> gpd.GeoDataFrame:
    """Settlements from a GeoNames cities dump (``cities500.txt``, ``allCountries.txt``: header-less,
    tab-separated) or an extract with a header (CSV/Parquet with ``geonameid``, ``name``,
    ``latitude``, ``longitude``, ``population``).

    Rows of other countries (when the file has ``country_code``) and feature codes that are not
    separate places (`GEONAMES_EXCLUDED_FEATURE_CODES`) are left out. Population is in persons;
    GeoNames' 0 (unknown) becomes NaN. Columns: id (``GN-<geonameid>``), name, population,
    feature_code / admin1_code / admin1_name / admin2_code where the file has them, geometry.

    Parameters
    ----------
    path : Path
        The dump (``.txt`` / ``.tsv``) or extract (``.csv`` / ``.parquet``).
    country : str or None, default "IN"
        ISO 3166-1 alpha-2 code of the rows kept (None: every country).
    exclude_feature_codes : sequence of str
        GeoNames feature codes left out (default `GEONAMES_EXCLUDED_FEATURE_CODES`).

    Returns
    -------
    geopandas.GeoDataFrame
        The places in WGS84, with the columns above.

    Raises
    ------
    InputError
        Naming the file, row and field: an unreadable file, a dump of the wrong column count, a missing
        required column, no place left after the selection, a negative or non-numeric population, a
        blank or duplicate geonameid, or a bad coordinate.
    """
    path = Path(path)
    dump = _is_dump(path)
    df = _read_dump(path, GEONAMES_COLUMNS) if dump else read_table(path, any_suffix=True, dtype=_GEONAMES_TEXT)
    t = Rows(_lower_columns(df, _GEONAMES_ALIASES), path, first_row=_first_row(path, header=not dump))
    required_columns(t, ("geonameid", "name", "latitude", "longitude", "population"))
    keep = np.ones(len(t.gdf), bool)
    if country is not None and "country_code" in t.gdf.columns:
        keep &= t.gdf["country_code"].astype("string").eq(country).fillna(False).to_numpy()
    if "feature_code" in t.gdf.columns:
        keep &= ~t.gdf["feature_code"].isin(list(exclude_feature_codes)).to_numpy()
    t.select(keep)
    if len(t.gdf) == 0:
        raise InputError(path, None, f"no places left after selecting country {country!r}")
    numbers(t, "population", minimum=0.0)
    _ids(t, "geonameid")
    points_from_columns(t, "longitude", "latitude")
    gdf = t.gdf
    pop = gdf["population"].to_numpy(float)
    gdf = gdf.assign(id="GN-" + gdf["geonameid"], population=np.where(pop > 0, pop, np.nan),
                     name=gdf["name"].fillna("").astype(str))
    cols = ["id", "name", "population"] + [c for c in _GEONAMES_OPTIONAL if c in gdf.columns]
    return gdf[[*cols, "geometry"]]


def read_geonames_postal(path: Path) -> gpd.GeoDataFrame:
    """Post-office places from a GeoNames postal-code dump (``IN.txt``, header-less, tab-separated)
    or an extract with a header (CSV/Parquet with ``postal_code``, ``place_name``, ``latitude``,
    ``longitude``).

    GeoNames has no population for postal places: ``population`` is NaN (allocate it with
    `smrplan.demand.population.allocate_population`). ``id`` is ``PIN-<postal code>-<n>``, n numbering
    the places sharing a PIN in file order. Rows without coordinates are dropped and counted in
    ``attrs["dropped_rows"]``. Many coordinates are approximate (GeoNames ``accuracy``: 1 estimated,
    4 from a geonameid, 6 centroid), and several places often share one point. Columns: id, name,
    population, postal_code, admin_name1 (state), admin_name2 (district), admin_name3 (sub-district),
    accuracy (those the file has), geometry.
    """
    path = Path(path)
    dump = _is_dump(path)
    df = _read_dump(path, GEONAMES_POSTAL_COLUMNS) if dump else read_table(path, any_suffix=True, dtype={"postal_code": str})
    t = Rows(_lower_columns(df, _GEONAMES_ALIASES), path, first_row=_first_row(path, header=not dump))
    required_columns(t, ("postal_code", "place_name", "latitude", "longitude"))
    empty_ids(t, "postal_code")  # the PIN is the id's stem
    pin = t.gdf["postal_code"].astype(str).str.strip()
    n = t.gdf.groupby(pin, sort=False).cumcount() + 1
    t.gdf = t.gdf.assign(id="PIN-" + pin + "-" + n.astype(str), name=t.gdf["place_name"].fillna("").astype(str),
                         population=np.nan, postal_code=pin)
    points_from_columns(t, "longitude", "latitude", drop_missing=True)
    optional = ("postal_code", "admin_name1", "admin_name2", "admin_name3", "accuracy")
    cols = ["id", "name", "population"] + [c for c in optional if c in t.gdf.columns]
    out = t.gdf[[*cols, "geometry"]]
    out.attrs["dropped_rows"] = t.dropped
    return out


# --- power plants -------------------------------------------------------------------------------------

def read_gppd(path: Path, country: str | None = "IND") -> gpd.GeoDataFrame:
    """Power plants from a WRI Global Power Plant Database CSV (global file or a country table).

    Columns: id (``gppd_idnr``), name, capacity_mw (MW, >= 0), primary_fuel, and commissioning_year,
    owner, source when present, geometry. Rows of other countries (when ``country`` is given and the
    file has a ``country`` column) are left out; rows without coordinates are dropped and counted in
    ``attrs["dropped_rows"]``.
    """
    path = Path(path)
    t = Rows(_lower_columns(read_table(path, any_suffix=True, low_memory=False), {}), path,
             first_row=_first_row(path, header=True))
    required_columns(t, _GPPD_REQUIRED)
    if country is not None and "country" in t.gdf.columns:
        t.select(t.gdf["country"].astype("string").eq(country).fillna(False).to_numpy())
    numbers(t, "capacity_mw", minimum=0.0)
    _ids(t, "gppd_idnr")
    points_from_columns(t, "longitude", "latitude", drop_missing=True)
    gdf = t.gdf.assign(id=t.gdf["gppd_idnr"], name=t.gdf["name"].fillna("").astype(str),
                       primary_fuel=t.gdf["primary_fuel"].astype("string"))
    cols = ["id", "name", "capacity_mw", "primary_fuel"] + [c for c in _GPPD_OPTIONAL if c in gdf.columns]
    out = gdf[[*cols, "geometry"]]
    out.attrs["dropped_rows"] = t.dropped
    return out


# --- land polygons --------------------------------------------------------------------------------

def read_land_polygons(paths: Path | Sequence[Path]) -> gpd.GeoDataFrame:
    """Land (and island) polygons from Natural Earth or OpenStreetMap files, one or several.

    Invalid polygons are repaired (`shapely.make_valid`), multi-part geometries and collections are
    exploded into single polygons, and non-polygon parts (lines, points left by clipping) are dropped:
    ``attrs["dropped_features"]`` counts input features without any polygon, ``attrs["repaired"]``
    the invalid ones. Columns: area_km2 (km2, EPSG:6933), source (file name), geometry.
    """
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    frames, dropped, repaired = [], 0, 0
    for path in paths:
        gdf = read_vector(path)
        geoms = np.asarray(gdf.geometry.values)
        geoms = geoms[~(pd.isna(geoms) | shapely.is_empty(geoms))]
        valid = shapely.is_valid(geoms)
        repaired += int((~valid).sum())
        parts, index = _polygon_parts(geoms, valid)
        dropped += int(len(gdf) - len(np.unique(index)))
        frames.append(gpd.GeoDataFrame({"source": path.name}, index=range(len(parts)), geometry=parts,
                                       crs=WGS84))
    land = pd.concat(frames, ignore_index=True) if frames else gpd.GeoDataFrame(geometry=[], crs=WGS84)
    if len(land) == 0:
        raise InputError(", ".join(str(p) for p in paths), "geometry",
                         "no polygons found; a land layer needs Polygon or MultiPolygon features")
    land = gpd.GeoDataFrame(land, geometry="geometry", crs=WGS84)
    land.insert(0, "area_km2", _area_km2(land.geometry.values))
    land.attrs.update(dropped_features=dropped, repaired=repaired)
    return land


# --- districts and census -----------------------------------------------------------------------

def read_districts(path: Path) -> gpd.GeoDataFrame:
    """District boundaries in the DataMeet schema: ``st_nm`` (state), ``district``, optional
    ``st_code`` and ``dt_code`` (Census 2011 codes; DataMeet's ST_CEN_CD / DT_CEN_CD / censuscode
    are accepted). Codes become nullable integers, with 0 (used for districts created after 2011)
    read as missing. Invalid polygons are repaired; a row without a polygon is an error.
    Columns: st_nm, st_code, district, dt_code, area_km2 (km2, EPSG:6933), the other input columns,
    geometry (one (multi)polygon per district).
    """
    path = Path(path)
    gdf = read_vector(path)
    gdf = _lower_columns(gdf, _DISTRICT_ALIASES)
    required_columns(Rows(gdf, path), ("st_nm", "district"))
    geoms = np.asarray(gdf.geometry.values)
    geoms = np.where(pd.isna(geoms), shapely.Point(), geoms)
    parts, index = _polygon_parts(geoms, shapely.is_valid(geoms))
    has_poly = np.zeros(len(gdf), bool)
    has_poly[index] = True
    if not has_poly.all():
        r = int(np.flatnonzero(~has_poly)[0])
        raise InputError(path, f"row {r + 1} (district {gdf['district'].iloc[r]!r}), geometry",
                         "no polygon (empty, missing or not a polygon); districts need polygons")
    merged = shapely.multipolygons(parts, indices=index)
    gdf = gdf.set_geometry(gpd.GeoSeries(merged, index=gdf.index, crs=WGS84))
    for col in ("st_code", "dt_code"):
        codes = (pd.to_numeric(gdf[col], errors="coerce") if col in gdf.columns
                 else pd.Series(np.nan, index=gdf.index))
        gdf[col] = codes.where(codes > 0).round().astype("Int64")
    gdf["area_km2"] = _area_km2(gdf.geometry.values)
    front = ["st_nm", "st_code", "district", "dt_code", "area_km2"]
    return gdf[front + [c for c in gdf.columns if c not in front]]


def read_census_districts(path: Path) -> pd.DataFrame:
    """Census of India 2011 district totals (Table A-1 as in shared/data/census2011_population_in).

    Needs ``state_code``, ``district_code``, ``state_name``, ``district_name`` (or ``name``) and
    ``pop_total``; ``households`` and ``pop_urban`` are kept when present. Returns a DataFrame with
    state_code, district_code, state_name, district_name, population (persons), households,
    population_urban (NaN where absent).
    """
    path = Path(path)
    t = Rows(_lower_columns(read_table(path, any_suffix=True), {"name": "district_name"}), path,
             first_row=_first_row(path, header=True))
    required_columns(t, ("state_code", "district_code", "state_name", "district_name", "pop_total"))
    numbers(t, "state_code", minimum=0)
    numbers(t, "district_code", minimum=1)
    numbers(t, "pop_total", minimum=0)
    for col in ("households", "pop_urban"):
        if col in t.gdf.columns:
            numbers(t, col, minimum=0, missing=None)
    df = t.gdf
    out = pd.DataFrame({
        "state_code": df["state_code"].astype(int),
        "district_code": df["district_code"].astype(int),
        "state_name": df["state_name"].astype(str).str.strip(),
        "district_name": df["district_name"].astype(str).str.strip(),
        "population": df["pop_total"],
    })
    for src, dst in (("households", "households"), ("pop_urban", "population_urban")):
        out[dst] = df[src] if src in df.columns else np.nan
    unique_ids(Rows(out, path, first_row=_first_row(path, header=True)), "district_code")
    return out


def _package_table(name: str) -> pd.DataFrame:
    with resources.files("smrplan.data").joinpath(name).open(encoding="utf-8") as f:
        return pd.read_csv(f, comment="#")


def join_census_districts(districts: gpd.GeoDataFrame, census: pd.DataFrame) -> gpd.GeoDataFrame:
    """Census 2011 district population joined to district polygons (from `read_districts`,
    `read_census_districts`).

    Matching, in order, each census district used once:

    1. by code: ``dt_code`` = census ``district_code`` when the states agree (same name, '&' = 'and',
       or a successor state in ``data/india_state_successors.csv`` such as Telangana for Andhra
       Pradesh), so that e.g. Mizoram polygons carrying Nagaland's census codes are not joined;
    2. by alias: census districts drawn inside another polygon (``data/census_district_aliases.csv``,
       e.g. the nine NCT of Delhi districts in one polygon) add their totals to it;
    3. by name: remaining polygons and census districts of the same state with the same name.

    Adds population, households, population_urban (census 2011 persons / households, summed over the
    matched census districts; NaN when none matched), census_district_codes (";"-joined) and
    census_match ("code", "alias", "name", combinations such as "code+alias", or "none").
    ``attrs["unmatched_districts"]`` lists polygons without a census total (mostly districts created
    after 2011, whose people the census counts in their parent district) and
    ``attrs["unmatched_census"]`` census districts without a polygon.
    """
    d = pd.DataFrame({"pos": np.arange(len(districts)), "state": _norm_name(districts["st_nm"]),
                      "name": _norm_name(districts["district"]),
                      "code": districts["dt_code"].astype("Int64") if "dt_code" in districts.columns
                      else pd.array([pd.NA] * len(districts), dtype="Int64")})
    c = census.reset_index(drop=True)
    c = pd.DataFrame({"cpos": np.arange(len(c)), "cstate": _norm_name(c["state_name"]),
                      "cname": _norm_name(c["district_name"]), "ccode": c["district_code"].astype("Int64")})
    succ = _package_table("india_state_successors.csv")
    states = c["cstate"].unique()
    successors = pd.DataFrame({"cstate": _norm_name(succ["census_state"]), "state": _norm_name(succ["state"])})
    allowed = pd.concat([pd.DataFrame({"cstate": states, "state": states}), successors],
                        ignore_index=True).drop_duplicates()

    def same_state(pairs: pd.DataFrame) -> pd.DataFrame:
        return pairs.merge(allowed, on=["cstate", "state"], how="inner")

    by_code = same_state(d.dropna(subset=["code"]).merge(c, left_on="code", right_on="ccode"))
    by_code = by_code.drop_duplicates("cpos").drop_duplicates("pos").assign(how="code")
    aliases = _package_table("census_district_aliases.csv")
    alias = pd.DataFrame({"ccode": aliases["census_district_code"].astype("Int64"),
                          "state": _norm_name(aliases["state"]), "name": _norm_name(aliases["district"])})
    by_alias = (alias.merge(c[~c["cpos"].isin(by_code["cpos"])], on="ccode")
                .merge(d, on=["state", "name"]).drop_duplicates("cpos").assign(how="alias"))
    used_c = set(by_code["cpos"]) | set(by_alias["cpos"])
    used_d = set(by_code["pos"]) | set(by_alias["pos"])
    by_name = same_state(d[~d["pos"].isin(used_d)].merge(c[~c["cpos"].isin(used_c)],
                                                         left_on="name", right_on="cname"))
    by_name = by_name.drop_duplicates("cpos").drop_duplicates("pos").assign(how="name")
    links = pd.concat([m[["pos", "cpos", "how"]] for m in (by_code, by_alias, by_name)], ignore_index=True)
    values = census.reset_index(drop=True).iloc[links["cpos"].to_numpy()]
    links = links.assign(population=values["population"].to_numpy(float),
                         households=values["households"].to_numpy(float),
                         population_urban=values["population_urban"].to_numpy(float),
                         code=values["district_code"].astype(str).to_numpy())
    grouped = links.groupby("pos")
    agg = pd.DataFrame({
        # min_count=1: a district whose matched census rows all lack a value stays NaN, not 0.
        "population": grouped["population"].sum(min_count=1),
        "households": grouped["households"].sum(min_count=1),
        "population_urban": grouped["population_urban"].sum(min_count=1),
        "census_district_codes": grouped["code"].agg(";".join),
        "census_match": grouped["how"].agg(lambda s: "+".join(dict.fromkeys(s))),
    }).reindex(np.arange(len(districts)))
    out = districts.copy()
    for col in agg.columns:
        out[col] = agg[col].to_numpy()
    out["census_match"] = out["census_match"].fillna("none")
    out["census_district_codes"] = out["census_district_codes"].fillna("")
    out.attrs["unmatched_districts"] = list(out.loc[out["census_match"].eq("none").to_numpy(), "district"])
    out.attrs["unmatched_census"] = list(census["district_name"].iloc[
        np.setdiff1d(np.arange(len(census)), links["cpos"].to_numpy())])
    return out


# --- population rasters -----------------------------------------------------------------------------

def _raster_cells(path: Path, block_rows: int):
    """Yield (lon, lat, population) of the populated cells of a single-band population raster, in
    strips of `block_rows` rows (memory stays bounded). Cell centres are returned in WGS84 degrees;
    nodata and NaN cells are skipped; negative values are an error naming the cell."""
    from pyproj import Transformer
    from rasterio.windows import Window

    if not Path(path).exists():
        raise InputError(path, None, "file not found")
    with open_raster(path) as src:
        to_wgs84 = None if src.crs.to_epsg() == 4326 else Transformer.from_crs(src.crs, WGS84, always_xy=True)
        for r0 in range(0, src.height, block_rows):
            h = min(block_rows, src.height - r0)
            block = src.read(1, window=Window(0, r0, src.width, h), masked=True)
            values = np.ma.filled(block.astype(float), np.nan)
            negative = np.argwhere(values < 0)
            if len(negative):
                r, col = negative[0]
                raise InputError(path, f"band 1, row {r0 + r + 1}, column {col + 1}",
                                 f"negative population {values[r, col]:g} "
                                 "(declare it as the raster's nodata value if it is one)")
            rows, cols = np.nonzero(values > 0)
            t = src.transform  # affine: x = a col + b row + c, y = d col + e row + f (cell centres)
            cc, rr = cols + 0.5, rows + r0 + 0.5
            x, y = t.a * cc + t.b * rr + t.c, t.d * cc + t.e * rr + t.f
            if to_wgs84 is not None:
                x, y = to_wgs84.transform(x, y)
            yield np.asarray(x, float), np.asarray(y, float), values[rows, cols]


def raster_population_to_settlements(raster: Path, settlements: gpd.GeoDataFrame, max_distance_km: float,
                                     block_rows: int = 1024) -> gpd.GeoDataFrame:
    """Population of each settlement from a population raster (persons per cell).

    Each populated cell's people go to the settlement nearest to the cell centre (great-circle
    distance; `smrplan.geo.distance.PointIndex`) if it lies within
    `max_distance_km` (km); farther cells are not assigned (``attrs["unassigned_population"]``
    persons in ``attrs["unassigned_cells"]`` cells).
    Returns a copy of the settlements (in their own CRS) with ``population`` replaced by the
    aggregated persons (0 where no cell is assigned).

    Parameters
    ----------
    raster : Path
        Single-band GeoTIFF of persons per cell, with a CRS.
    settlements : geopandas.GeoDataFrame
        Points in any CRS (it must be set); not modified.
    max_distance_km : float
        Farthest a cell centre may be from the settlement it is assigned to (km).
    block_rows : int, default 1024
        Raster rows read at a time (bounds memory).

    Returns
    -------
    geopandas.GeoDataFrame
        The copy described above: ``population`` in persons; ``attrs["unassigned_population"]``
        (persons) and ``attrs["unassigned_cells"]``.

    Raises
    ------
    InputError
        When `max_distance_km` is not positive, or the raster is missing, unreadable, without a CRS or
        holds a negative population.
    """
    if max_distance_km <= 0:
        raise InputError(None, "max_distance_km", f"{max_distance_km} must be > 0 km")
    pts = settlements.to_crs(WGS84).geometry
    index = PointIndex(pts.x.to_numpy(), pts.y.to_numpy())
    total = np.zeros(len(settlements))
    lost_pop, lost_cells = 0.0, 0
    for lon, lat, pop in _raster_cells(Path(raster), block_rows):
        dist, idx = index.nearest(lon, lat, k=1)
        found = dist[:, 0] <= max_distance_km
        total += np.bincount(idx[found, 0], weights=pop[found], minlength=len(settlements))
        lost_pop += float(pop[~found].sum())
        lost_cells += int((~found).sum())
    out = settlements.copy()
    out["population"] = total
    out.attrs.update(unassigned_population=lost_pop, unassigned_cells=lost_cells)
    return out


def _h3_hex(cells: np.ndarray) -> np.ndarray:
    """h3 cell integers (uint64) as their 15-character hexadecimal strings, vectorised."""
    shifts = np.arange(14, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = (cells[:, None] >> shifts[None, :]) & np.uint64(0xF)
    digits = np.frombuffer(b"0123456789abcdef", dtype="S1")[nibbles.astype(np.intp)]
    return digits.view("S15").ravel().astype(str)


def raster_population_to_h3(raster: Path, resolution: int, block_rows: int = 1024) -> gpd.GeoDataFrame:
    """Settlements on an h3 hexagon grid from a population raster (persons per cell).

    Each populated raster cell goes to the h3 cell (at `resolution`, 0-15) containing its centre;
    every h3 cell with people becomes one settlement: id = the h3 index, name "", population =
    persons, point = the population-weighted mean of its raster cell centres (where people live,
    rather than the hexagon centre). The h3 library has no array API, so the cell lookup calls
    ``h3.latlng_to_cell`` once per populated raster cell (about 0.6 s per million cells).

    Parameters
    ----------
    raster : Path
        Single-band GeoTIFF of persons per cell, with a CRS.
    resolution : int
        h3 resolution, 0-15.
    block_rows : int, default 1024
        Raster rows read at a time (bounds memory).

    Returns
    -------
    geopandas.GeoDataFrame
        One settlement per populated h3 cell: id, name, population (persons) and point in WGS84.

    Raises
    ------
    InputError
        When `resolution` is outside 0-15, or the raster is missing, unreadable, without a CRS, holds a
        negative population or no populated cell.
    """
    import h3.api.numpy_int as h3n

    if not 0 <= resolution <= 15:
        raise InputError(None, "resolution", f"h3 resolution {resolution} must be within 0-15")
    to_cell = np.frompyfunc(h3n.latlng_to_cell, 3, 1)
    frames = []
    for lon, lat, pop in _raster_cells(Path(raster), block_rows):
        if len(pop):
            cells = to_cell(lat, lon, resolution).astype(np.uint64)
            frames.append(pd.DataFrame({"cell": cells, "pop": pop, "wx": pop * lon, "wy": pop * lat})
                          .groupby("cell").sum())
    if not frames:
        raise InputError(raster, None, "the raster has no populated cells (all nodata, NaN or 0)")
    agg = pd.concat(frames).groupby(level=0).sum()
    cells = agg.index.to_numpy(np.uint64)
    pop = agg["pop"].to_numpy()
    centre = gpd.points_from_xy(agg["wx"].to_numpy() / pop, agg["wy"].to_numpy() / pop)
    return gpd.GeoDataFrame({"id": _h3_hex(cells), "name": "", "population": pop}, geometry=centre, crs=WGS84)


# --- OpenStreetMap power lines ------------------------------------------------------------------

def _tag(gdf: pd.DataFrame, key: str) -> pd.Series:
    """An OSM tag as a column, or parsed from GDAL's ``other_tags`` (``"key"=>"value",...``)."""
    if key in gdf.columns:
        return gdf[key].astype("string")
    if "other_tags" in gdf.columns:
        return gdf["other_tags"].astype("string").str.extract(rf'"{key}"=>"([^"]*)"', expand=False)
    return pd.Series(pd.NA, index=gdf.index, dtype="string")


def voltage_kv(voltage: pd.Series) -> np.ndarray:
    """Highest voltage of OSM ``voltage`` tags (volts, several separated by ';') in kV.

    "220000;33000" gives 220.0; values that are not numbers (e.g. "medium") are ignored; NaN when
    none is left.
    """
    parts = voltage.astype("string").str.split(";").explode()
    volts = pd.to_numeric(parts.str.strip(), errors="coerce")
    return (volts.groupby(level=0).max() / 1000.0).reindex(voltage.index).to_numpy(float)


def read_osm_power_lines(path: Path, kinds: Sequence[str] = ("line", "minor_line")) -> gpd.GeoDataFrame:
    """Grid lines from an OpenStreetMap extract (GeoJSON / GeoPackage of ways with ``power`` and
    ``voltage`` tags, as columns or in GDAL's ``other_tags``).

    Keeps line geometries tagged ``power`` in `kinds`; towers, poles, substations and any other
    features are dropped and counted in ``attrs["dropped_features"]``. Columns: id (OSM id when the
    file has one, else the feature number), power, voltage_kv (kV, highest of the tagged voltages, NaN
    when untagged), name (when present), geometry.
    """
    path = Path(path)
    gdf = _lower_columns(read_vector(path), {})
    power = _tag(gdf, "power")
    if power.isna().all():
        raise InputError(path, "power", "no OSM 'power' tag in the file (as a column or in other_tags); "
                                        "export ways with power=line")
    geoms = gdf.geometry.values
    is_line = np.isin(shapely.get_type_id(geoms), [1, 5]) & ~shapely.is_empty(geoms) & ~pd.isna(geoms)
    keep = (power.isin(list(kinds)).fillna(False).to_numpy() & is_line)
    id_col = next((c for c in _OSM_ID_COLUMNS if c in gdf.columns), None)
    ids = (gdf[id_col].astype(str) if id_col
           else pd.Series(np.arange(1, len(gdf) + 1).astype(str), index=gdf.index))
    out = gpd.GeoDataFrame({"id": ids[keep].to_numpy(), "power": power[keep].to_numpy(),
                            "voltage_kv": voltage_kv(_tag(gdf, "voltage")[keep])},
                           geometry=gdf.geometry[keep].to_numpy(), crs=WGS84)
    name = _tag(gdf, "name")
    if name.notna().any():
        out.insert(3, "name", name[keep].to_numpy())
    out.attrs["dropped_features"] = int((~keep).sum())
    return out
