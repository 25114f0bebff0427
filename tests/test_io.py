"""Reading settlements and layers: the contract and clear errors for bad files."""

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from smrplan.errors import InputError
from smrplan.geo.io import read_settlements, read_vector, resolve

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
