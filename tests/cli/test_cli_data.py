"""`smrplan data import`: every dataset of docs/data.md from a public download to a layer file the run reads."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point, Polygon, box
from typer.testing import CliRunner

from conftest import run_cli
from smrplan.cli.data import data_app, import_app
from smrplan.errors import InputError
from smrplan.geo.importers import read_districts
from smrplan.geo.io import read_settlements, read_vector

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def run(*args) -> object:
    result = CliRunner().invoke(data_app, ["import", *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


# --- small downloads written here ---------------------------------------------------------------------

def geonames_dump(path: Path) -> Path:
    def row(gid, name, lat, lon, code="PPL", country="IN", pop="1200"):
        return "\t".join(map(str, [gid, name, name, "", lat, lon, "P", code, country, "", "14", "", "", "", pop, "", "5",
                                   "Asia/Kolkata", "2020-01-01"]))

    path.write_text("\n".join([row(1, "Kavaratti", 10.566, 72.642, pop="11210"), row(2, "Colombo", 6.93, 79.85, country="LK"),
                               row(3, "Old town", 10.5, 72.6, code="PPLX"), row(4, "Agatti", 10.85, 72.19, pop="0")])
                    + "\n", encoding="utf-8")
    return path


def gppd(path: Path) -> Path:
    path.write_text("country,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel,commissioning_year\n"
                    "IND,Kavaratti DG,IND1,3.2,10.56,72.64,Oil,1990\n"
                    "IND,Unknown site,IND2,1.0,,,Solar,\n"
                    "LKA,Norochcholai,LKA1,900,8.0,79.7,Coal,2011\n", encoding="utf-8")
    return path


def districts_and_census(folder: Path) -> tuple[Path, Path]:
    d = gpd.GeoDataFrame({"ST_NM": ["Lakshadweep", "Lakshadweep"], "DISTRICT": ["Lakshadweep", "New"],
                          "DT_CEN_CD": ["587", "0"]}, geometry=[box(72, 10, 72.5, 10.5), box(72.5, 10, 73, 10.5)],
                         crs="EPSG:4326")
    d.to_file(folder / "districts.geojson")
    (folder / "census.csv").write_text("state_code,district_code,state_name,district_name,pop_total\n"
                                       "31,587,Lakshadweep,Lakshadweep,64473\n", encoding="utf-8")
    return folder / "districts.geojson", folder / "census.csv"


def population_raster(path: Path) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=2, width=2, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.01, 0.0, 72.0, 0.0, -0.01, 11.0), nodata=-99.0) as dst:
        dst.write(np.array([[10, 0], [-99, 20]], dtype="float32"), 1)
    return path


# --- every dataset ----------------------------------------------------------------------------------

def test_every_documented_import_is_a_command():
    documented = set(re.findall(r"smrplan data import ([a-z_]+)", DOCS.read_text(encoding="utf-8")))
    commands = {c.name for c in import_app.registered_commands}
    assert documented == commands
    for name in commands:
        result = CliRunner().invoke(data_app, ["import", name, "--help"])
        assert result.exit_code == 0 and "--out" in result.output


def test_towns_to_every_format(tmp_path):
    src = geonames_dump(tmp_path / "cities500.txt")
    out = run("towns", src, "--out", tmp_path / "towns.gpkg")
    assert "wrote" in out.output and "2 feature(s)" in out.output and "1 without a population" in out.output
    for suffix in (".gpkg", ".geojson", ".parquet", ".csv"):
        path = tmp_path / f"towns{suffix}"
        run("towns", src, "--out", path)
        gdf = read_vector(path)
        assert list(gdf["id"]) == ["GN-1", "GN-4"] and gdf.crs.to_epsg() == 4326, suffix
        assert gdf["population"].iloc[0] == 11210 and pd.isna(gdf["population"].iloc[1])
        assert gdf.geometry.iloc[0].equals(Point(72.642, 10.566))
    assert len(read_vector(run_to(tmp_path, "towns", src, "--country", "LK"))) == 1
    assert no_temporary_files(tmp_path)


def run_to(folder: Path, *args) -> Path:
    out = folder / "out.gpkg"
    run(*args, "--out", out)
    return out


def test_postal_places_and_power_plants(tmp_path):
    postal = tmp_path / "IN.txt"
    postal.write_text("IN\t744301\tCar Nicobar\tAndaman & Nicobar\t01\tNicobar\t\t\t\t9.16\t92.76\t1\n"
                      "IN\t744301\tMalacca\tAndaman & Nicobar\t01\tNicobar\t\t\t\t\t\t\n", encoding="utf-8")
    out = run("postal_places", postal, "--out", tmp_path / "postal.csv")
    assert "1 row(s) without coordinates left out" in out.output
    places = read_vector(tmp_path / "postal.csv")
    assert list(places["id"]) == ["PIN-744301-1"] and places["population"].isna().all()
    out = run("power_plants", gppd(tmp_path / "gppd.csv"), "--out", tmp_path / "plants.gpkg")
    plants = read_vector(tmp_path / "plants.gpkg")
    assert list(plants["id"]) == ["IND1"] and plants["capacity_mw"].iloc[0] == 3.2
    assert "1 row(s) without coordinates left out" in out.output


def test_districts_and_district_population(tmp_path):
    districts, census = districts_and_census(tmp_path)
    run("districts", districts, "--out", tmp_path / "d.gpkg")
    d = read_districts(tmp_path / "d.gpkg")  # the written layer reads back as the districts layer
    assert list(d["district"]) == ["Lakshadweep", "New"] and d["dt_code"].iloc[0] == 587 and pd.isna(d["dt_code"].iloc[1])
    out = run("district_population", census, "--districts", districts, "--out", tmp_path / "dp.parquet")
    assert "1 polygon(s) without a census total" in out.output and "New" in out.output
    joined = gpd.read_parquet(tmp_path / "dp.parquet")
    assert joined["population"].iloc[0] == 64473 and list(joined["census_match"]) == ["code", "none"]


def test_land_from_several_files(tmp_path):
    bowtie = Polygon([(72, 10), (72.1, 10.1), (72.1, 10), (72, 10.1)])
    gpd.GeoDataFrame(geometry=[bowtie, LineString([(72, 10), (73, 10)])], crs="EPSG:4326").to_file(tmp_path / "a.geojson")
    gpd.GeoDataFrame(geometry=[box(73, 10, 73.1, 10.1)], crs="EPSG:4326").to_file(tmp_path / "b.geojson")
    out = run("land", tmp_path / "a.geojson", tmp_path / "b.geojson", "--out", tmp_path / "land.gpkg")
    assert "1 invalid polygon(s) repaired" in out.output and "1 feature(s) without a polygon dropped" in out.output
    land = read_vector(tmp_path / "land.gpkg")
    assert (land.geom_type == "Polygon").all() and land.is_valid.all() and (land["area_km2"] > 0).all()
    assert set(land["source"]) == {"a.geojson", "b.geojson"}


def test_grid_lines(tmp_path):
    line = {"type": "LineString", "coordinates": [[72.0, 11.0], [72.1, 11.1]]}
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "way/1", "power": "line", "voltage": "220000;33000"}, "geometry": line},
        {"type": "Feature", "properties": {"id": "way/2", "power": "cable", "voltage": "33000"}, "geometry": line},
        {"type": "Feature", "properties": {"id": "node/3", "power": "tower"},
         "geometry": {"type": "Point", "coordinates": [72.0, 11.0]}}]}
    (tmp_path / "power.geojson").write_text(json.dumps(fc), encoding="utf-8")
    out = run("grid_lines", tmp_path / "power.geojson", "--out", tmp_path / "grid.parquet")
    assert "2 other feature(s)" in out.output
    lines = read_vector(tmp_path / "grid.parquet")
    assert list(lines["id"]) == ["way/1"] and lines["voltage_kv"].iloc[0] == 220.0
    run("grid_lines", tmp_path / "power.geojson", "--kind", "line", "--kind", "cable", "--out", tmp_path / "g2.gpkg")
    assert len(read_vector(tmp_path / "g2.gpkg")) == 2


def test_population_raster_to_settlements_layers(tmp_path):
    raster = population_raster(tmp_path / "pop.tif")
    run("population_raster", raster, "--h3-resolution", "7", "--out", tmp_path / "hex.gpkg")
    hexes = read_settlements(tmp_path / "hex.gpkg")  # a settlements layer as the run reads it
    assert hexes["population"].sum() == 30.0
    pd.DataFrame({"id": ["a", "b"], "name": ["A", "B"], "population": [0, 0], "lon": [72.005, 72.015],
                  "lat": [10.995, 10.985]}).to_csv(tmp_path / "st.csv", index=False)
    out = run("population_raster", raster, "--settlements", tmp_path / "st.csv", "--max-distance-km", "0.5",
              "--out", tmp_path / "st_pop.csv")
    assert "30 persons assigned" in out.output
    st = read_settlements(tmp_path / "st_pop.csv")
    assert list(st["population"]) == [10.0, 20.0]


# --- real downloads (shared data) -------------------------------------------------------------------

def test_shared_data_imports(shared_data, tmp_path):
    gn = shared_data / "settlements_geonames_in"
    run("towns", gn / "geonames_cities500_IN.csv", "--out", tmp_path / "towns.parquet")
    assert len(gpd.read_parquet(tmp_path / "towns.parquet")) == 3560 - 17 - 2
    run("power_plants", shared_data / "power_plants_in" / "gppd_database_IND.csv", "--out", tmp_path / "pp.gpkg")
    assert len(read_vector(tmp_path / "pp.gpkg")) == 907 - 46
    out = run("district_population", shared_data / "census2011_population_in" / "census2011_districts.csv",
              "--districts", shared_data / "admin_boundaries_in" / "india_districts.geojson", "--out", tmp_path / "dp.gpkg")
    assert "92 polygon(s) without a census total" in out.output
    assert read_vector(tmp_path / "dp.gpkg")["population"].sum() == 1_210_854_977
    assert no_temporary_files(tmp_path)


# --- bad input: exit status 2 naming the file and field, nothing written ---------------------------

def smrplan(*args) -> subprocess.CompletedProcess:
    return run_cli([*map(str, args)], timeout=300)


def test_bad_rows_exit_2_naming_file_and_field(tmp_path):
    bad = tmp_path / "gppd.csv"
    bad.write_text("country,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel\nIND,X,IND1,big,10.5,72.6,Oil\n",
                   encoding="utf-8")
    out = tmp_path / "plants.gpkg"
    r = smrplan("data", "import", "power_plants", bad, "--out", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "gppd.csv" in r.stderr and "row 2, column capacity_mw" in r.stderr
    assert not out.exists() and no_temporary_files(tmp_path)
    r = smrplan("data", "import", "towns", bad, "--out", tmp_path / "towns.gpkg")
    assert r.returncode == 2 and "gppd.csv" in r.stderr and "column geonameid" in r.stderr


@pytest.mark.parametrize("args, where", [
    (["towns", "{dir}/absent.txt", "--out", "{dir}/t.gpkg"], "absent.txt: file not found"),
    (["towns", "{dir}/cities500.txt", "--out", "{dir}/t.shp"], "t.shp: --out: unknown suffix"),
    (["towns", "{dir}/cities500.txt", "--out", "{dir}/none/t.gpkg"], "t.gpkg: --out: the folder does not exist"),
    (["power_plants", "{dir}/gppd.csv", "--out", "{dir}/gppd.csv"], "gppd.csv: --out: is the source file"),
    (["districts", "{dir}/cities500.txt", "--out", "{dir}/d.csv"], "d.csv: --out: CSV holds points only"),
    (["population_raster", "{dir}/cities500.txt", "--out", "{dir}/p.gpkg"], "--h3-resolution / --settlements"),
    (["population_raster", "{dir}/cities500.txt", "--settlements", "{dir}/cities500.txt", "--out", "{dir}/p.gpkg"],
     "--max-distance-km: required"),
])
def test_bad_arguments_name_the_option(tmp_path, args, where):
    geonames_dump(tmp_path / "cities500.txt")
    gppd(tmp_path / "gppd.csv")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(data_app, ["import", *(a.replace("{dir}", str(tmp_path)) for a in args)])
    assert isinstance(result.exception, InputError)  # smrplan.cli.main turns it into exit status 2
    assert where in str(result.exception)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    src = geonames_dump(tmp_path / "cities500.txt")
    out = tmp_path / "towns.gpkg"
    run("towns", src, "--out", out)
    kept = out.read_bytes()

    def broken(self, *args, **kwargs):
        Path(args[0]).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", broken)
    result = CliRunner().invoke(data_app, ["import", "towns", str(src), "--out", str(out)])
    assert isinstance(result.exception, OSError)
    assert out.read_bytes() == kept and no_temporary_files(tmp_path)  # the old layer stays whole
