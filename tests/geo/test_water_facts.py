"""Facts about India's land, sea and inland water, checked on the real layers (../shared/data; skipped
when absent): OpenStreetMap land polygons with GSHHG lakes, GSHHG / WDB-II rivers and the CWC dams.

Lake points are the coordinates of each lake's Wikipedia infobox; the test first checks that each lies
off the land polygons (on water), so a wrong coordinate fails instead of passing. Towns are GeoNames
cities500 points (read from the data folder by name).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from tests.conftest import SHARED_DATA

from smrplan.geo.layers import Region
from smrplan.geo.water import read_water_layer

LAKES = {"Chilika": (85.317, 19.717), "Vembanad": (76.400, 9.600), "Loktak": (93.783, 24.550),
         "Dal": (74.867, 34.117)}
SHORE_TOWNS = ("Rambha", "Alappuzha", "Moirang", "Srinagar")  # on Chilika, Vembanad, Loktak, Dal
ISLAND_TOWNS = ("Port Blair", "Kavaratti")
MAINLAND_TOWNS = ("Kolkata", "New Delhi")


@pytest.fixture(scope="module")
def india():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    data = SHARED_DATA
    land = gpd.read_file(data / "land_coastline_in" / "osm_land_india_polygons.geojson")[["geometry"]]
    water = data / "inland_water_in"
    layers = {"land": land, "lakes": read_water_layer("lakes", water / "gshhg_lakes_in.geojson"),
              "rivers": read_water_layer("rivers", water / "gshhg_wdb2_rivers_canals_in.geojson"),
              "dams": read_water_layer("dams", water / "nrld2019_large_dams_in.csv")}
    towns = pd.read_csv(data / "settlements_geonames_in" / "geonames_cities500_IN.csv")
    towns = towns[towns.asciiname.isin(SHORE_TOWNS + ISLAND_TOWNS + MAINLAND_TOWNS)]
    towns = towns.sort_values("population", ascending=False).drop_duplicates("asciiname").set_index("asciiname")
    st = gpd.GeoDataFrame(towns, geometry=gpd.points_from_xy(towns.longitude, towns.latitude), crs="EPSG:4326")
    return Region(settlements=st, layers=layers)


def _xy(region: Region, names) -> tuple[np.ndarray, np.ndarray]:
    st = region.settlements.loc[list(names)]
    return st.geometry.x.to_numpy(), st.geometry.y.to_numpy()


def test_lakes_and_lagoons_are_inland_water_not_sea(india):
    lon, lat = np.array([p[0] for p in LAKES.values()]), np.array([p[1] for p in LAKES.values()])
    assert not india.is_land(lon, lat).any(), "each lake point lies on water"
    assert not india.is_sea(lon, lat).any(), dict(zip(LAKES, india.is_sea(lon, lat), strict=True))
    assert india.is_inland_water(lon, lat).all()


def test_lake_shores_and_mainland_cities_are_not_islands_and_the_island_towns_are(india):
    st = india.land_status(*_xy(india, SHORE_TOWNS + MAINLAND_TOWNS + ISLAND_TOWNS))
    assert st["is_island"].tolist() == [False] * 6 + [True] * 2
    assert (st["off_land_km"] <= india.land_tolerance_km).all()


def test_cooling_water_near_the_lakes_and_rivers(india):
    lon, lat = _xy(india, ("Rambha", "Kolkata", "New Delhi"))
    d, kind = india.water_distance_km(lon, lat, min_storage_mcm=130.0, max_river_level=2, max_km=32.0)
    assert kind[0] == "sea" and d[0] < 2.0  # Chilika, a lagoon of sea water
    assert kind[1] == "river" and d[1] < 5.0  # the Hooghly
    assert kind[2] == "river" and d[2] < 10.0  # the Yamuna
