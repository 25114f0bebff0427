"""Land, sea and inland water on small synthetic geometry: a lake hole, a lagoon, a river island, a sea
strait, points just off a coast, the water distance of each kind, and the inland water readers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from smrplan.errors import InputError
from smrplan.geo.distance import destination
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.geo.water import read_water_layer

# A 2 x 2 degree mainland (about 48,000 km2 at 10 N, above the 20,000 km2 default mainland size).
MAIN = box(78.0, 9.0, 80.0, 11.0)


def _region(land, lakes=None, rivers=None, dams=None, **kw) -> Region:
    st = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(79.0, 10.0)], crs="EPSG:4326")
    layers = {"land": gpd.GeoDataFrame(geometry=list(land), crs="EPSG:4326").explode(ignore_index=True)}
    for name, layer in (("lakes", lakes), ("rivers", rivers), ("dams", dams)):
        if layer is not None:
            layers[name] = layer
    return Region(settlements=st, layers=layers, **kw)


def _off(lon, lat, bearing, km):
    x, y = destination(np.array([lon]), np.array([lat]), np.array([bearing]), km)
    return float(x[0]), float(y[0])


def test_a_lake_hole_is_inland_water_and_a_route_across_it_is_overland():
    hole = box(78.9, 9.9, 79.1, 10.1)  # a 22 km lake in the mainland
    reg = _region([Polygon(MAIN.exterior.coords, [hole.exterior.coords])])
    assert reg.is_sea([79.0], [10.0]).tolist() == [False]
    assert reg.is_inland_water([79.0], [10.0]).tolist() == [True]
    assert not reg.is_land([79.0], [10.0])[0]
    land_km, sea_km = route_split_km(reg, [78.8], [10.0], [79.2], [10.0])
    assert sea_km[0] == 0.0 and land_km[0] == pytest.approx(43.8, abs=0.5)
    assert reg.is_sea([77.5], [10.0]).tolist() == [True]


@pytest.mark.parametrize(("mouth_km", "sea"), [(1.0, False), (10.0, True)])
def test_a_lagoon_behind_a_narrow_mouth_is_inland_water(mouth_km, sea):
    """A 20 x 40 km lagoon on the east coast, open to the sea through a mouth `mouth_km` wide: it is
    inland water when the mouth is narrower than water_gap_km (4 km), sea otherwise."""
    half = mouth_km / 111.0 / 2.0
    lagoon = box(79.6, 9.8, 79.98, 10.2)
    mouth = box(79.97, 10.0 - half, 80.01, 10.0 + half)
    land = MAIN.difference(lagoon).difference(mouth)
    reg = _region([land])
    assert reg.is_sea([79.8], [10.0]).tolist() == [sea]
    assert reg.is_land([79.8], [10.0]).tolist() == [False]
    # the shores of the lagoon are one piece of land with the mainland either way
    assert not reg.land_status([79.55, 79.99], [10.0, 10.5])["is_island"].any()


def test_a_river_island_is_joined_to_the_mainland_and_a_sea_island_is_not():
    river = box(78.5, 9.95, 79.5, 10.05)  # an 11 km wide river, a hole in the mainland
    majuli = box(78.9, 9.98, 79.1, 10.02)  # an island in it
    main = Polygon(MAIN.exterior.coords, [river.exterior.coords])
    far = box(81.0, 10.0, 81.1, 10.1)  # about 110 km off the coast
    near = box(80.02, 10.5, 80.1, 10.6)  # a channel of about 2 km (narrower than water_gap_km)
    reg = _region([main, majuli, far, near])
    st = reg.land_status([79.0, 81.05, 80.06], [10.0, 10.05, 10.55])
    assert st["is_island"].tolist() == [False, True, False]
    assert not st["land_snapped"].any() and (st["off_land_km"] == 0).all()
    # a cable to the far island crosses sea, the channel to the near one is spanned overland
    _, sea_far = route_split_km(reg, [79.9], [10.05], [81.05], [10.05])
    _, sea_near = route_split_km(reg, [79.98], [10.55], [80.06], [10.55])
    assert sea_far[0] == pytest.approx(110.0, rel=0.05) and sea_near[0] == 0.0


def test_islands_of_a_region_without_mainland_are_all_islands_and_their_straits_stay_sea():
    a, b = box(92.0, 11.0, 92.2, 11.2), box(92.22, 11.0, 92.4, 11.2)  # 2 km apart, about 1,000 km2 together
    reg = _region([a, b])
    assert reg.land_status([92.1, 92.3], [11.1, 11.1])["is_island"].all()
    assert reg.is_sea([92.21], [11.1]).tolist() == [True]  # a floating plant may berth in the strait


def test_a_point_just_off_the_coast_is_snapped_to_land_within_the_tolerance():
    reg = _region([MAIN])
    x1, y1 = _off(80.0, 10.0, 90.0, 0.05)
    x2, y2 = _off(80.0, 10.0, 90.0, 5.0)
    st = reg.land_status([x1, x2, 79.0], [y1, y2, 10.0])
    assert st["land_snapped"].tolist() == [True, False, False]
    # planar distances in the metric CRS (EPSG:7755 scale about 1 % off at 10 N)
    assert st["off_land_km"][0] == pytest.approx(0.05, rel=0.02) and st["off_land_km"][1] == pytest.approx(5.0, rel=0.02)
    assert not st["is_island"].any()  # off land, each counts on its nearest piece: the mainland


def test_water_distance_of_each_kind():
    lakes = gpd.GeoDataFrame(geometry=[box(78.9, 9.9, 79.0, 10.0)], crs="EPSG:4326")
    rivers = gpd.GeoDataFrame({"wdb_level": [1.0, 4.0]}, geometry=[LineString([(78.2, 9.0), (78.2, 11.0)]),
                                                                   LineString([(78.5, 9.0), (78.5, 11.0)])], crs="EPSG:4326")
    dams = gpd.GeoDataFrame({"gross_storage_mcm": [500.0, 10.0, np.nan]},
                            geometry=[Point(79.5, 10.5), Point(79.3, 10.0), Point(79.45, 10.5)], crs="EPSG:4326")
    reg = _region([MAIN], lakes=lakes, rivers=rivers, dams=dams)
    lon, lat = np.array([78.95, 78.45, 79.3, 79.51, 79.98, 82.0]), np.array([9.95, 10.0, 10.01, 10.5, 9.5, 10.0])
    d, kind = reg.water_distance_km(lon, lat, min_storage_mcm=130.0, max_river_level=2)
    assert kind.tolist() == ["lake", "river", "lake", "dam", "sea", "sea"]
    assert d[0] == 0.0 and d[5] == 0.0
    assert d[1] == pytest.approx(27.4, abs=0.5)  # the level-1 river at 78.2 E; the level-4 one does not count
    assert d[3] == pytest.approx(1.1, abs=0.1)  # the 500 MCM dam; the 10 MCM and the unknown one do not
    assert d[4] == pytest.approx(2.2, abs=0.1)
    d2, kind2 = reg.water_distance_km(lon[:2], lat[:2], kinds=("river",), max_river_level=4)
    assert kind2.tolist() == ["river", "river"] and d2[1] == pytest.approx(5.5, abs=0.2)
    far, none = reg.water_distance_km([79.0], [10.5], kinds=("dam",), min_storage_mcm=1e6, max_km=50.0)
    assert far[0] == np.inf and none[0] == ""


def test_water_distance_without_a_land_layer_samples_the_land_mask():
    st = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(79.0, 10.0)], crs="EPSG:4326")
    reg = Region(settlements=st)
    d, kind = reg.water_distance_km([80.5, 78.0], [15.0, 22.0], kinds=("sea",), max_km=200.0)
    assert kind[0] == "sea" and 0 < d[0] < 200  # near Nellore, on the east coast
    assert d[1] == np.inf and kind[1] == ""  # central India
    with pytest.raises(ValueError):
        reg.water_distance_km([80.5], [15.0], kinds=("sea",))


def test_readers_reject_a_lakes_layer_without_polygons_and_a_negative_storage(tmp_path):
    pts = tmp_path / "lakes.csv"
    pd.DataFrame({"lon": [79.0], "lat": [10.0]}).to_csv(pts, index=False)
    with pytest.raises(InputError, match="lakes.csv.*geometry.*polygons"):
        read_water_layer("lakes", pts)
    dams = tmp_path / "dams.csv"
    pd.DataFrame({"lon": [79.0, 79.1], "lat": [10.0, 10.1], "gross_storage_mcm": [5.0, -1.0]}).to_csv(dams, index=False)
    with pytest.raises(InputError, match="dams.csv.*row 3.*gross_storage_mcm"):
        read_water_layer("dams", dams)
    bare = tmp_path / "bare.csv"
    pd.DataFrame({"lon": [79.0], "lat": [10.0]}).to_csv(bare, index=False)
    with pytest.raises(InputError, match="gross_storage_mcm"):
        read_water_layer("dams", bare)
    fixed = read_water_layer("dams", dams, repair=True)
    assert len(fixed) == 2 and np.isnan(fixed["gross_storage_mcm"].iloc[1])


def test_river_levels_are_world_data_bank_levels(tmp_path):
    path = tmp_path / "rivers.geojson"
    gpd.GeoDataFrame({"wdb_level": [1, 12]}, geometry=[LineString([(78, 9), (78, 10)]), LineString([(79, 9), (79, 10)])],
                     crs="EPSG:4326").to_file(path)
    with pytest.raises(InputError, match="wdb_level.*1-10"):
        read_water_layer("rivers", path)
    ok = gpd.GeoDataFrame(geometry=[LineString([(78, 9), (78, 10)])], crs="EPSG:4326")
    ok.to_file(path)
    assert np.isnan(read_water_layer("rivers", path)["wdb_level"]).all()
