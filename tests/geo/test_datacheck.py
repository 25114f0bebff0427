"""`check_data_dir` and `smrplan data check`: a report of every layer and its problems."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from shapely.geometry import Point, Polygon
from typer.testing import CliRunner

from smrplan.cli.data import data_app
from smrplan.errors import InputError
from smrplan.geo.datacheck import check_data_dir, discover_layers, has_errors, limits

GOOD_CSV = "id,name,lon,lat,population\na,Kavaratti,72.64,10.56,11210\nb,Agatti,72.19,10.85,7560\n"


def _write_raster(path, arr, crs="EPSG:4326", nodata=-99.0):
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1, dtype="float32",
                       crs=crs, transform=Affine(0.01, 0.0, 72.0, 0.0, -0.01, 11.0), nodata=nodata) as dst:
        dst.write(arr.astype("float32"), 1)


@pytest.fixture
def good_dir(tmp_path):
    (tmp_path / "settlements.csv").write_text(GOOD_CSV, encoding="utf-8")
    land = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(72.6, 10.5, 72.7, 10.6)], crs="EPSG:4326")
    (tmp_path / "land").mkdir()
    land.to_file(tmp_path / "land" / "islands.gpkg")
    _write_raster(tmp_path / "pop.tif", np.array([[1.0, 2.0], [3.0, -99.0]]))
    (tmp_path / "census.csv").write_text("district,pop\nA,5\n", encoding="utf-8")  # no coordinates: not a layer
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.geojson").write_text("{}", encoding="utf-8")
    return tmp_path


def _problems(report, layer):
    return " | ".join(report.set_index("layer").loc[layer, "problems"])


def test_discovery_and_clean_report(good_dir):
    assert sorted(discover_layers(good_dir)) == ["land/islands", "pop", "settlements"]
    report = check_data_dir(good_dir)
    assert list(report.columns) == ["layer", "file", "rows", "crs", "extent", "problems", "status"]
    assert (report["status"] == "ok").all() and not has_errors(report)
    by = report.set_index("layer")
    assert by.loc["settlements", "rows"] == 2 and by.loc["settlements", "crs"] == "EPSG:4326"
    assert by.loc["settlements", "extent"] == (72.19, 10.56, 72.64, 10.85)
    assert by.loc["pop", "rows"] == 4 and by.loc["pop", "extent"] == pytest.approx((72.0, 10.98, 72.02, 11.0))


def test_settlement_problems(tmp_path):
    (tmp_path / "s.csv").write_text(
        "id,name,lon,lat,population\n"
        "a,A,72.6,10.5,100\n"
        "a,B,72.7,10.6,-5\n"          # duplicate id, negative population
        "c,C,72.8,10.7,\n"            # missing population
        "d,D,,,20\n"                  # missing coordinates
        "e,E,72.9,10.8,80000000\n"    # implausible
        "f,F,10.5,72.6,10\n",         # lon/lat swapped: outside the region
        encoding="utf-8")
    report = check_data_dir(tmp_path, {"settlements": "s.csv"})
    text = _problems(report, "settlements")
    assert report["status"].iloc[0] == "error" and has_errors(report)
    assert "1 duplicate id value(s) in 2 rows, e.g. ['a']" in text
    assert "error: 1 negative population (row 3)" in text
    assert "error: 1 missing or non-numeric population (row 4)" in text
    assert "error: 1 empty or missing geometries or coordinates (row 5)" in text
    assert "above 50,000,000 per place" in text and "(row 6)" in text
    assert "outside the region" in text and "lon and lat swapped" in text
    # the same file under another layer name: missing values are warnings, the rest stays an error
    other = check_data_dir(tmp_path, {"places": "s.csv"})
    assert "warning: 1 missing or non-numeric population" in _problems(other, "places")


def test_settlements_need_contract_columns(tmp_path):
    (tmp_path / "s.csv").write_text("geonameid,lon,lat\n1,72.6,10.5\n", encoding="utf-8")
    text = _problems(check_data_dir(tmp_path, {"settlements": "s.csv"}), "settlements")
    assert "required column 'id'" in text and "required column 'name'" in text and "no population column" in text


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_geometry_and_crs_problems(tmp_path):
    bowtie = Polygon([(72.0, 10.0), (72.1, 10.1), (72.1, 10.0), (72.0, 10.1)])
    gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=[bowtie, shapely.box(72, 10, 73, 11), None],
                     crs="EPSG:4326").to_file(tmp_path / "land.gpkg")
    # metres in a GeoJSON (which always declares WGS84): the wrong CRS
    (tmp_path / "projected.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [720000, 1100000]}}]}),
        encoding="utf-8")
    gpd.GeoDataFrame({"id": [1]}, geometry=[Point(72.6, 10.5)]).to_file(tmp_path / "nocrs.shp")
    # degrees declared as a projected CRS
    gpd.GeoDataFrame({"id": [1]}, geometry=[Point(72.6, 10.5)], crs="EPSG:7755").to_file(tmp_path / "deg.gpkg")
    (tmp_path / "broken.gpkg").write_bytes(b"this is not a geopackage")
    report = check_data_dir(tmp_path).set_index("layer")
    land = " | ".join(report.loc["land", "problems"])
    assert "warning: 1 invalid geometries (row 1;" in land and "warning: 1 empty or missing geometries" in land
    assert report.loc["land", "status"] == "warning"
    assert "are not degrees but the CRS EPSG:4326 is geographic" in " ".join(report.loc["projected", "problems"])
    assert report.loc["nocrs", "problems"][0].startswith("error: no coordinate reference system")
    assert "look like degrees but the CRS EPSG:7755 is projected" in " ".join(report.loc["deg", "problems"])
    assert report.loc["broken", "problems"][0].startswith("error: unreadable vector file")
    assert report.loc["broken", "status"] == "error" and pd.isna(report.loc["broken", "rows"])


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_raster_problems(tmp_path):
    _write_raster(tmp_path / "nodata.tif", np.full((2, 2), -99.0))
    with rasterio.open(tmp_path / "nocrs.tif", "w", driver="GTiff", height=1, width=1, count=1, dtype="float32") as dst:
        dst.write(np.ones((1, 1), "float32"), 1)
    (tmp_path / "garbage.tif").write_bytes(b"no tiff")
    report = check_data_dir(tmp_path).set_index("layer")
    assert report.loc["nodata", "problems"] == ["error: every cell is nodata"]
    assert "no coordinate reference system" in report.loc["nocrs", "problems"][0]
    assert report.loc["garbage", "problems"][0].startswith("error: unreadable raster")


def test_mapping_missing_file_and_bad_directory(tmp_path):
    report = check_data_dir(tmp_path, {"land": "land/none.gpkg"})
    assert report["problems"].iloc[0] == ["error: file not found"] and has_errors(report)
    with pytest.raises(InputError, match="not a directory"):
        check_data_dir(tmp_path / "none")
    with pytest.raises(InputError, match="unknown region"):
        check_data_dir(tmp_path, region="mars")


def test_limits_file_has_region_and_cap():
    lim = limits()
    assert lim["max_settlement_population"] == 50_000_000
    assert lim["regions"]["india"]["min_lon"] < 68.1 and lim["regions"]["india"]["max_lat"] > 37.1


def test_cli_check(good_dir):
    runner = CliRunner(env={"COLUMNS": "200"})  # rich sizes its table from COLUMNS
    ok = runner.invoke(data_app, ["check", str(good_dir)])
    assert ok.exit_code == 0, ok.output
    assert "settlements" in ok.output and "72.19..72.64 E" in ok.output
    (good_dir / "bad.csv").write_text("id,name,lon,lat,population\na,A,72.6,10.5,-1\n", encoding="utf-8")
    bad = runner.invoke(data_app, ["check", str(good_dir), "--layer", "settlements=bad.csv", "--layer",
                                   "land=land/islands.gpkg"])
    assert bad.exit_code == 2 and "negative population" in bad.output and "land" in bad.output
    usage = runner.invoke(data_app, ["check", str(good_dir), "--layer", "settlements"])
    assert usage.exit_code == 2 and "NAME=FILE" in usage.output


def test_cli_missing_directory(tmp_path):
    result = CliRunner().invoke(data_app, ["check", str(tmp_path / "none")])
    assert isinstance(result.exception, InputError)  # smrplan.cli.main turns it into exit status 2


def test_shared_data_has_no_errors(shared_data):
    report = check_data_dir(shared_data)
    assert not has_errors(report), report.loc[report["status"] == "error", ["layer", "problems"]].to_string()
    by = report.set_index("layer")
    assert by.loc["power_plants_in/gppd_database_IND", "problems"] == [
        "warning: 46 empty or missing geometries or coordinates (row 16, 27, 44 ...)"]
    assert by.loc["settlements_geonames_in/geonames_postal_IN", "rows"] == 155570
    assert "earthquakes_iscgem_in/iscgem_v7_60-100E_0-40N" in by.index  # CSV with lat/lon columns
    assert "census2011_population_in/census2011_districts" not in by.index  # no coordinates


def test_coal_units_table_gets_the_importers_rules(tmp_path):
    """A Global Coal Plant Tracker table is checked with the coal_units importer's own rules: schema
    bounds, required cells and unique unit ids, each problem naming its row and column."""
    rows = [{"gem_unit_id": "G1", "gem_location_id": "L1", "plant_name": "P", "capacity_mw": 210, "status": "operating",
             "start_year": 1990, "latitude": 22.0, "longitude": 80.0}] * 2
    table = pd.DataFrame(rows)
    table.loc[1, "capacity_mw"] = 20000  # above the schema's 10,000 MW; and G1 twice
    table.to_csv(tmp_path / "coal.csv", index=False)
    rep = check_data_dir(tmp_path)
    probs = " | ".join(rep.loc[rep.layer == "coal", "problems"].iloc[0])
    assert rep.loc[rep.layer == "coal", "status"].iloc[0] == "error"
    assert "capacity_mw" in probs and "10000" in probs and "G1" in probs
    table.loc[1, ["gem_unit_id", "capacity_mw"]] = ["G2", 300]
    table.to_csv(tmp_path / "coal.csv", index=False)
    assert check_data_dir(tmp_path).loc[lambda r: r.layer == "coal", "status"].iloc[0] == "ok"
