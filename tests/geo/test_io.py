"""Reading settlements and layers: the contract and clear errors for bad files."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from smrplan.errors import InputError
from smrplan.geo.io import id_columns, read_anchor_loads, read_settlements, read_vector, resolve

HEADER = "id,name,lon,lat,population\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER, name="s.csv") -> Path:
    p = tmp_path / name
    p.write_text(header + body, encoding="utf-8")
    return p


def test_bundled_islands_read():
    st = read_settlements(resolve("bundled:islands.csv", None))
    assert len(st) == 19
    assert st["population"].sum() == pytest.approx(64473 + 380581, rel=0.01)
    assert st.crs.to_epsg() == 4326 and (st.geom_type == "Point").all()


@pytest.mark.parametrize("body, header, field", [
    ("a,A,72,11,-5\n", HEADER, "population"),
    ("a,A,72,11,many\n", HEADER, "population"),
    ("a,A,,11,10\n", HEADER, "lon"),
    ("a,A,720000,1100000,10\n", HEADER, "lon/lat"),
    ("a,A,72,11,10\na,B,72,11,10\n", HEADER, "id"),
    ("a,A,72,11\n", "id,name,lon,lat\n", "population"),
    ("A,72,11,10\n", "name,lon,lat,population\n", "id"),
    ("a,A,11,10\n", "id,name,lat,population\n", "lon/lat"),
])
def test_bad_settlements(tmp_path, body, header, field):
    p = _csv(tmp_path, body, header)
    with pytest.raises(InputError) as exc:
        read_settlements(p)
    assert str(p) in str(exc.value) and field in str(exc.value)


def test_row_number_in_message(tmp_path):
    p = _csv(tmp_path, "a,A,72,11,10\nb,B,72,11,-1\n")
    with pytest.raises(InputError, match="row 3"):
        read_settlements(p)


def test_empty_and_non_utf8_files(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_settlements(p)
    q = tmp_path / "latin.csv"
    q.write_bytes((HEADER + "a,Kavaratt\xef,72,11,10\n").encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_settlements(q)


def test_geopackage_reprojected_and_empty_geometry(tmp_path):
    g = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["A", "B"], "population": [1.0, 2.0]},
                         geometry=[Point(72.6, 10.5), Point(72.7, 10.6)], crs="EPSG:4326").to_crs("EPSG:7755")
    p = tmp_path / "s.gpkg"
    g.to_file(p, layer="settlements")
    st = read_settlements(p)
    assert st.crs.to_epsg() == 4326 and abs(st.geometry.x.iloc[0] - 72.6) < 1e-6
    g2 = g.copy()
    g2.loc[1, "geometry"] = None
    p2 = tmp_path / "s2.gpkg"
    g2.to_file(p2, layer="settlements")
    with pytest.raises(InputError, match="geometry"):
        read_settlements(p2)


def test_crs_mismatch(tmp_path):
    p = tmp_path / "projected.geojson"
    p.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                 '{"id":"a","name":"A","population":5},'
                 '"geometry":{"type":"Point","coordinates":[720000,1100000]}}]}', encoding="utf-8")
    # GeoJSON declares WGS84, but these are projected metres: a CRS mismatch
    with pytest.raises(InputError, match="CRS does not match"):
        read_settlements(p)


def test_shapefile_without_crs(tmp_path):
    g = gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "population": [1.0]}, geometry=[Point(72.6, 10.5)])
    p = tmp_path / "s.shp"
    g.to_file(p)
    with pytest.raises(InputError, match="coordinate reference system"):
        read_settlements(p)


def test_missing_layer_names_data_dir_hint(tmp_path):
    with pytest.raises(InputError, match="--data-dir"):
        resolve("land/none.geojson", None, tmp_path)


def test_drop_rows_without_coordinates_counted(tmp_path):
    p = _csv(tmp_path, "a,A,72,11,10\nb,B,,,5\n", name="plants.csv")
    g = read_vector(p, drop_missing_coords=True)
    assert len(g) == 1 and g.attrs["dropped_rows"] == 1


# --- repair mode (--repair): each fix logged with file, row and field, counted per kind ------------

def _repair(p, caplog, **kw):
    import logging

    with caplog.at_level(logging.WARNING, logger="smrplan"):
        return read_settlements(p, repair=True, **kw)


def test_repair_duplicate_and_empty_ids(tmp_path, caplog):
    p = _csv(tmp_path, "a,A,72,11,10\na,B,72.1,11,20\n,C,72.2,11,5\na-2,D,72.3,11,1\n")
    st = _repair(p, caplog)
    assert list(st["id"]) == ["a", "a-2-dup", "row-4", "a-2"]  # "a-2" is taken by row 5: a further suffix
    assert st["id"].is_unique and st.attrs["repairs"] == {"empty_id": 1, "duplicate_id": 1}
    assert st.attrs["dropped_rows"] == 0
    assert f"{p}: row 3 (id a), column id: duplicate id" in caplog.text and "row 4, column id" in caplog.text


@pytest.mark.parametrize("value", ["-5", "many", "", "nan", "inf"])
def test_repair_bad_population_drops_the_row(tmp_path, caplog, value):
    p = _csv(tmp_path, f"a,A,72,11,10\nb,B,72.1,11,{value}\n")
    st = _repair(p, caplog)
    assert list(st["id"]) == ["a"] and st.attrs["repairs"] == {"bad_population": 1} and st.attrs["dropped_rows"] == 1
    assert "row 3 (id b), column population" in caplog.text and "row dropped" in caplog.text


def test_repair_missing_coordinates_and_points_outside_the_region(tmp_path, caplog):
    p = _csv(tmp_path, "a,A,72,11,10\nb,B,,,5\nc,C,150,11,7\nd,D,720000,1100000,3\n")
    st = _repair(p, caplog)
    assert list(st["id"]) == ["a"] and st.attrs["dropped_rows"] == 3
    assert st.attrs["repairs"] == {"empty_geometry": 1, "outside_region": 2}
    assert "row 3 (id b), geometry" in caplog.text and "row 5 (id d), geometry" in caplog.text
    # without repair: outside the region box is only a warning, not-degrees stays an error
    assert list(read_settlements(_csv(tmp_path, "a,A,72,11,10\nc,C,150,11,7\n", name="o.csv"))["id"]) == ["a", "c"]
    with pytest.raises(InputError, match="row 3, column lon"):
        read_settlements(p)


def test_repair_invalid_and_empty_geometries(tmp_path, caplog):
    bowtie = Polygon([(72, 10), (73, 11), (73, 10), (72, 11), (72, 10)])  # self-intersecting
    g = gpd.GeoDataFrame({"id": ["a", "b", "c"], "name": ["A", "B", "C"], "population": [1.0, 2.0, 3.0]},
                         geometry=[bowtie, Point(72.7, 10.6), None], crs="EPSG:4326")
    p = tmp_path / "s.gpkg"
    g.to_file(p, layer="settlements")
    st = _repair(p, caplog)
    assert list(st["id"]) == ["a", "b"] and (st.geom_type == "Point").all()
    assert st.attrs["repairs"] == {"empty_geometry": 1, "invalid_geometry": 1}
    assert "row 3 (id c), geometry" in caplog.text and "row 1 (id a), geometry: invalid geometry" in caplog.text
    with pytest.raises(InputError, match="geometry"):
        read_settlements(p)


def test_repair_missing_crs_assumes_wgs84(tmp_path, caplog):
    g = gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "population": [1.0]}, geometry=[Point(72.6, 10.5)])
    p = tmp_path / "s.shp"
    g.to_file(p)
    st = _repair(p, caplog)
    assert st.crs.to_epsg() == 4326 and st.attrs["repairs"] == {"missing_crs": 1}
    assert "s.shp: CRS" in caplog.text and "EPSG:4326" in caplog.text
    assert read_vector(p, repair=True).attrs["repairs"] == {"missing_crs": 1}


def test_repair_bad_optional_values_are_blanked(tmp_path, caplog):
    p = _csv(tmp_path, "a,A,72,11,10,-3\nb,B,72.1,11,20,12\n", header="id,name,lon,lat,population,anchor_load_kw\n")
    st = _repair(p, caplog)
    assert len(st) == 2 and np.isnan(st["anchor_load_kw"].iloc[0]) and st["anchor_load_kw"].iloc[1] == 12
    assert st.attrs["repairs"] == {"bad_value": 1} and "row 2 (id a), column anchor_load_kw" in caplog.text


def test_repair_cannot_fix_a_missing_column_or_an_empty_result(tmp_path):
    with pytest.raises(InputError, match="population"):
        read_settlements(_csv(tmp_path, "a,A,72,11\n", header="id,name,lon,lat\n"), repair=True)
    with pytest.raises(InputError, match="no settlement is left"):
        read_settlements(_csv(tmp_path, "a,A,72,11,-1\n", name="x.csv"), repair=True)
    with pytest.raises(InputError, match="implausibly large"):
        read_settlements(_csv(tmp_path, "a,A,72,11,9e9\n", name="y.csv"), repair=True)


def test_repair_logs_many_rows_in_bounded_lines(tmp_path, caplog):
    from smrplan.geo.checks import LOG_EACH

    body = "".join(f"p{i},P,72,11,-1\n" for i in range(LOG_EACH + 30)) + "ok,OK,72,11,5\n"
    st = _repair(_csv(tmp_path, body), caplog)
    assert len(st) == 1 and st.attrs["repairs"] == {"bad_population": LOG_EACH + 30}
    assert caplog.text.count("column population") == LOG_EACH and "30 more row(s)" in caplog.text


def test_anchor_loads_read_and_errors(tmp_path, caplog):
    from smrplan.geo.io import read_anchor_loads

    p = _csv(tmp_path, "72,11,500,port,Port A\n72.5,11,200,mine,\n", header="lon,lat,anchor_load_kw,type,name\n",
             name="anchors.csv")
    a = read_anchor_loads(p)
    assert list(a["id"]) == ["anchor-2", "anchor-3"] and list(a["name"]) == ["Port A", "mine anchor-3"]
    assert list(a["anchor_load_kw"]) == [500.0, 200.0] and a.crs.to_epsg() == 4326
    for header, body, field in [("lon,lat,kw\n", "72,11,5\n", "anchor_load_kw"),
                                ("lon,lat,anchor_load_kw\n", "72,11,-5\n", "row 2 (id anchor-2), column anchor_load_kw"),
                                ("lon,lat,anchor_load_kw\n", "72,11,lots\n", "column anchor_load_kw"),
                                ("lon,lat,anchor_load_kw\n", "72,,5\n", "lat"),
                                ("id,lon,lat,anchor_load_kw\n", "m,72,11,5\nm,72,11,6\n", "duplicate ids")]:
        q = _csv(tmp_path, body, header=header, name="bad.csv")
        with pytest.raises(InputError) as exc:
            read_anchor_loads(q)
        assert str(q) in str(exc.value) and field in str(exc.value)
    q = _csv(tmp_path, "72,11,-5\n72.1,11,7\n", header="lon,lat,anchor_load_kw\n", name="rep.csv")
    import logging

    with caplog.at_level(logging.WARNING, logger="smrplan"):
        a = read_anchor_loads(q, repair=True)
    assert list(a["id"]) == ["anchor-3"] and a.attrs["repairs"] == {"bad_anchor_load": 1}
    assert "rep.csv: row 2 (id anchor-2), column anchor_load_kw" in caplog.text


# --- ids as text, repeated header names, yes/no numbers, unknown CRSs -----------------------------

def test_ids_stay_text(tmp_path):
    p = _csv(tmp_path, "001,A,72.6,10.5,10\n0x2,B,72.7,10.6,20\n1e3,C,72.8,10.7,30\n")
    assert list(read_settlements(p)["id"]) == ["001", "0x2", "1e3"]
    a = tmp_path / "anchors.csv"
    a.write_text("id,anchor_load_kw,lon,lat,site_id\n007,5,72.6,10.5,010\n", encoding="utf-8")
    assert read_anchor_loads(a)["id"].tolist() == ["007"]
    assert read_vector(a)["site_id"].tolist() == ["010"]


def test_id_columns_are_data():
    assert id_columns(["ID", "name", "storm_id", "population", "geonameid"]) == ["ID", "storm_id", "geonameid"]


@pytest.mark.parametrize("header, column", [
    ("id,name,lon,lat,population,name\n", "name"),
    ("id,name,lon,lat,population,population\n", "population"),
    ("id,id,name,lon,lat,population\n", "id"),
])
def test_repeated_header_column_is_an_error(tmp_path, header, column):
    body = ",".join(["a", "A", "72.6", "10.5", "10", "x"][:header.count(",") + 1]) + "\n"
    p = _csv(tmp_path, body, header)
    with pytest.raises(InputError, match=f"column {column}: the header names this column more than once") as e:
        read_settlements(p)
    assert e.value.file == str(p)
    with pytest.raises(InputError, match="more than once"):
        read_vector(p)


def test_repeated_column_of_a_vector_file_is_an_error(tmp_path):
    p = tmp_path / "s.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([["a"], [72.6], [10.5], [1.0], [2.0]], names=["id", "lon", "lat", "population", "population"]), p)
    with pytest.raises(InputError, match="column population: the header names"):
        read_settlements(p)


@pytest.mark.parametrize("cells", [("True", "False"), ("True", ""), ("10", "true")])
def test_yes_no_population_is_an_error(tmp_path, cells):
    p = _csv(tmp_path, f"a,A,72.6,10.5,{cells[0]}\nb,B,72.7,10.6,{cells[1]}\n")
    with pytest.raises(InputError, match=r"column population: .*(yes/no value, not a number|is not a number)"):
        read_settlements(p)


def test_yes_no_population_in_geojson_names_the_row(tmp_path):
    p = tmp_path / "s.geojson"
    p.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a","name":"A",'
                 '"population":true},"geometry":{"type":"Point","coordinates":[72.6,10.5]}}]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1 \(id a\), column population: True is a yes/no value"):
        read_settlements(p)


def test_yes_no_optional_number_is_blanked_by_repair(tmp_path, caplog):
    p = _csv(tmp_path, "a,A,72.6,10.5,10,True\n", header="id,name,lon,lat,population,households\n")
    st = _repair(p, caplog)
    assert np.isnan(st["households"].iloc[0]) and st.attrs["repairs"] == {"bad_value": 1}


def _geojson(tmp_path, crs_member: str, coordinates="[72.6,10.5]") -> Path:
    p = tmp_path / "layer.geojson"
    p.write_text('{"type":"FeatureCollection",' + crs_member + '"features":[{"type":"Feature","properties":'
                 '{"id":"a","name":"A","population":5},"geometry":{"type":"Point","coordinates":' + coordinates + '}}]}',
                 encoding="utf-8")
    return p


@pytest.mark.parametrize("member, shown", [
    ('"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},', "urn:ogc:def:crs:EPSG::999999"),
    ('"crs":{"type":"name","properties":{"name":"NOT:A-CRS"}},', "NOT:A-CRS"),
    ('"crs":{"type":"link","properties":{"href":"http://example.com/crs","type":"proj4"}},', "link"),
])
def test_unknown_geojson_crs_is_an_error_in_every_mode(tmp_path, member, shown):
    p = _geojson(tmp_path, member)
    for read in (read_settlements, read_vector):
        for repair in (False, True):
            with pytest.raises(InputError, match="CRS: unknown CRS .*pyproj cannot resolve it") as e:
                read(p, repair=repair)
            assert shown in str(e.value) and e.value.file == str(p)


def test_known_geojson_crs_is_used(tmp_path):
    p = _geojson(tmp_path, '"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32643"}},',
                 "[300000,1200000]")
    g = read_vector(p)
    assert g.crs.to_epsg() == 4326 and 70 < g.geometry.x.iloc[0] < 75


def test_geojson_without_crs_must_hold_degrees(tmp_path):
    assert read_vector(_geojson(tmp_path, "")).crs.to_epsg() == 4326
    with pytest.raises(InputError, match="not WGS84 lon/lat in degrees"):
        read_vector(_geojson(tmp_path, "", "[720000,1100000]"))


def test_unreadable_prj_and_unknown_geopackage_srs_are_unknown_crs(tmp_path):
    import sqlite3

    g = gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "population": [1.0]}, geometry=[Point(72.6, 10.5)], crs="EPSG:4326")
    g.to_file(tmp_path / "s.shp")
    (tmp_path / "s.prj").write_text("NOT A CRS", encoding="utf-8")
    with pytest.raises(InputError, match="unknown CRS 'NOT A CRS' \\(s.prj\\)"):
        read_settlements(tmp_path / "s.shp", repair=True)
    g.to_file(tmp_path / "s.gpkg")
    with sqlite3.connect(tmp_path / "s.gpkg") as con:
        con.execute("update gpkg_geometry_columns set srs_id=12345")
    with pytest.raises(InputError, match="unknown CRS .*srs_id"):
        read_vector(tmp_path / "s.gpkg")


def test_layer_without_crs_is_assumed_wgs84_only_in_degrees(tmp_path, caplog):
    g = gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "population": [1.0]}, geometry=[Point(720000, 1100000)])
    g.to_file(tmp_path / "m.shp")
    for read in (read_settlements, read_vector):
        with pytest.raises(InputError, match="CRS: no coordinate reference system.*cannot be assumed"):
            read(tmp_path / "m.shp", repair=True)


def test_json_true_among_numbers_is_not_read_as_1(tmp_path):
    p = tmp_path / "s.geojson"
    p.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a","name":"A",'
                 '"population":12,"grid_connected":true},"geometry":{"type":"Point","coordinates":[72.6,10.5]}},'
                 '{"type":"Feature","properties":{"id":"b","name":"B","population":true,"grid_connected":false},'
                 '"geometry":{"type":"Point","coordinates":[72.7,10.6]}}]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2 \(id b\), column population: True is a yes/no value"):
        read_settlements(p)
    p.write_text(p.read_text(encoding="utf-8").replace('"population":true', '"population":7'), encoding="utf-8")
    st = read_settlements(p)  # a column of booleans alone stays one
    assert st["population"].tolist() == [12, 7] and st["grid_connected"].tolist() == [True, False]


def test_bundled_island_extracts_are_small_and_credited():
    """data/india_islands: about 1 MB at most in all, every file credited in sources.csv (licence and
    attribution) and described in SOURCE.md; the layer reader finds the credit."""
    from importlib import resources

    from smrplan.geo.io import SOURCES_TABLE, attribution

    folder = Path(str(resources.files("smrplan.data").joinpath("india_islands")))
    files = {p.name for p in folder.iterdir() if p.name not in (SOURCES_TABLE, "SOURCE.md")}
    assert sum((folder / f).stat().st_size for f in files) <= 1_000_000
    table = pd.read_csv(folder / SOURCES_TABLE, dtype=str)
    assert set(table["file"]) == files
    assert table[["licence", "attribution", "made_from"]].notna().all().all()
    source_md = (folder / "SOURCE.md").read_text(encoding="utf-8")
    assert "scripts/make-islands-extracts.py" in source_md and all(f in source_md for f in files)
    assert attribution(folder / "land.geojson") == "© OpenStreetMap contributors (via geo-maps countries-land-10m) (ODbL 1.0)"
    assert attribution(folder.parent / "islands.csv") == ""
