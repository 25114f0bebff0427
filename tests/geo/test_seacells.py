"""The pre-classified sea cells give exactly `Region.is_sea`: random routes over a synthetic coast with
islands, a lagoon, a lake hole and a lake layer, points on cell edges and polygon borders, and the
routes of the national land layer."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from smrplan.geo import grid
from smrplan.geo.distance import haversine_km
from smrplan.geo.grid import ROUTE_SAMPLES, route_split_km
from smrplan.geo.io import read_vector, resolve
from smrplan.geo.layers import Region
from smrplan.geo.seacells import CELL_DEG, REFINE_LEVELS, SeaCells
from smrplan.scenario import apply_data_dir, load_scenario


def _split_by_exact_test(region: Region, lon1, lat1, lon2, lat2):
    """The route split as defined: the share of the route's evenly spaced samples that `is_sea` puts at sea."""
    length = haversine_km(lon1, lat1, lon2, lat2)
    t = (np.arange(ROUTE_SAMPLES) + 0.5) / ROUTE_SAMPLES
    lon = lon1[:, None] + (lon2 - lon1)[:, None] * t[None, :]
    lat = lat1[:, None] + (lat2 - lat1)[:, None] * t[None, :]
    sea = length * region.is_sea(lon.ravel(), lat.ravel()).reshape(lon.shape).mean(axis=1)
    return length - sea, sea


@pytest.fixture(scope="module")
def coast() -> Region:
    """A mainland with a jagged coast, a lake hole and a lagoon, islands near and far, and a lake layer."""
    rng = np.random.default_rng(3)
    angle = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    radius = 1.0 + 0.15 * rng.random(400)
    ring = np.column_stack([79.0 + radius * np.cos(angle), 10.0 + radius * np.sin(angle)])
    main = Polygon(ring, [box(78.7, 9.7, 78.9, 9.9).exterior.coords]).difference(box(79.7, 9.9, 80.3, 10.0))
    islands = [Point(80.4 + 0.3 * i, 10.0 + 0.2 * (i % 2)).buffer(0.05 + 0.02 * i) for i in range(5)]
    land = gpd.GeoDataFrame(geometry=[main, *islands], crs="EPSG:4326").explode(ignore_index=True)
    lakes = gpd.GeoDataFrame(geometry=[box(79.2, 10.3, 79.4, 10.45)], crs="EPSG:4326")
    st = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(79.0, 10.0)], crs="EPSG:4326")
    return Region(settlements=st, layers={"land": land, "lakes": lakes})


def test_random_routes_split_exactly_as_the_exact_test(coast):
    rng = np.random.default_rng(7)
    n = 20_000
    lon1, lat1 = rng.uniform(77.5, 82.0, n), rng.uniform(8.5, 11.5, n)
    lon2, lat2 = lon1 + rng.normal(0, 0.5, n), lat1 + rng.normal(0, 0.5, n)
    land, sea = route_split_km(coast, lon1, lat1, lon2, lat2)
    want_land, want_sea = _split_by_exact_test(coast, lon1, lat1, lon2, lat2)
    assert np.array_equal(land, want_land) and np.array_equal(sea, want_sea)
    assert (sea > 0).mean() > 0.3 and (land > 0).mean() > 0.3  # both kinds of route are common


def test_routes_split_in_chunks_on_threads_as_in_one_piece(coast, monkeypatch):
    rng = np.random.default_rng(12)
    n = 5_000
    lon1, lat1 = rng.uniform(77.5, 82.0, n), rng.uniform(8.5, 11.5, n)
    lon2, lat2 = lon1 + rng.normal(0, 0.5, n), lat1 + rng.normal(0, 0.5, n)
    whole = route_split_km(coast, lon1, lat1, lon2, lat2)
    monkeypatch.setattr(grid, "ROUTE_CHUNK", 333)
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        land, sea = route_split_km(coast, lon1, lat1, lon2, lat2)
        assert np.array_equal(land, whole[0]) and np.array_equal(sea, whole[1])


def test_points_on_cell_edges_borders_and_off_the_grid_match_the_exact_test(coast):
    cells = SeaCells.build(coast.enclosed().not_sea)
    edges = cells.lon0 + np.arange(-2, 60) * cells.cell
    rows = cells.lat0 + np.arange(-2, 60) * cells.cell
    lon, lat = (a.ravel() for a in np.meshgrid(edges, rows))
    border = shapely.get_coordinates(shapely.boundary(coast.enclosed().not_sea.geometries))
    lon = np.concatenate([lon, border[:, 0], [np.nan, 79.0, 200.0]])
    lat = np.concatenate([lat, border[:, 1], [10.0, np.nan, 10.0]])
    assert np.array_equal(cells.is_sea(lon, lat, coast.is_sea), coast.is_sea(lon, lat))
    assert cells.cell == pytest.approx(CELL_DEG / 2 ** REFINE_LEVELS)
    assert set(np.unique(cells.coarse)) | set(np.unique(cells.blocks)) == {-1, 0, 1, 2}


def test_cells_stored_by_coarse_cell_answer_as_the_whole_grid():
    """A grid of uniform and mixed coarse cells: each point gets the class of its finest cell, points off
    the grid are at sea, and only the coarse cells whose finest cells differ keep them."""
    rng = np.random.default_rng(5)
    side, ny, nx = 4, 6, 7
    coarse = rng.integers(0, 3, (ny, nx))
    kind = np.repeat(np.repeat(coarse, side, axis=0), side, axis=1).astype(np.int8)
    split = rng.random((ny, nx)) < 0.3
    fine = rng.integers(0, 3, kind.shape).astype(np.int8)
    spread = np.repeat(np.repeat(split, side, axis=0), side, axis=1)
    kind[spread] = fine[spread]
    cells = SeaCells.of_grid(kind, 70.0, 8.0, 0.05, side)
    assert len(cells.blocks) <= split.sum() and cells.blocks.shape[1:] == (side, side)
    lon = rng.uniform(69.9, 70.0 + 0.05 * nx * side + 0.1, 5000)
    lat = rng.uniform(7.9, 8.0 + 0.05 * ny * side + 0.1, 5000)
    exact_calls = []

    def exact(x, y):
        exact_calls.append(len(x))
        return np.full(len(x), True)

    got = cells.is_sea(lon, lat, exact)
    i, j = np.floor((lat - 8.0) / 0.05).astype(int), np.floor((lon - 70.0) / 0.05).astype(int)
    inside = (i >= 0) & (i < ny * side) & (j >= 0) & (j < nx * side)
    want = np.ones(len(lon), bool)
    k = kind[i[inside], j[inside]]
    want[inside] = (k == 0) | (k == 2)  # mixed cells take the exact test, here "at sea"
    assert np.array_equal(got, want)
    assert sum(exact_calls) == int((k == 2).sum())


def test_the_cells_of_a_region_without_pieces_are_all_sea():
    cells = SeaCells.build(shapely.STRtree(np.array([], dtype=object)))
    assert cells.is_sea(np.array([79.0, np.nan]), np.array([10.0, 1.0]), lambda x, y: np.zeros(len(x), bool)).tolist() \
        == [True, False]


def test_national_routes_split_exactly_as_the_exact_test(shared_data):
    """Routes of up to about 100 km over the real land layer of the india-national scenario."""
    sc = apply_data_dir(load_scenario("india-national"), shared_data)
    land = read_vector(resolve(sc.data["land"], sc.data_dir)).explode(ignore_index=True)
    region = Region(settlements=gpd.GeoDataFrame(geometry=[Point(78.0, 20.0)], crs="EPSG:4326"),
                    layers={"land": land}, metric_crs=sc.region.metric_crs, water_gap_km=sc.region.water_gap_km,
                    mainland_min_area_km2=sc.region.mainland_min_area_km2)
    rng = np.random.default_rng(11)
    n = 20_000
    lon1, lat1 = rng.uniform(68.0, 97.0, n), rng.uniform(6.0, 36.0, n)
    lon2, lat2 = lon1 + rng.normal(0, 0.5, n), lat1 + rng.normal(0, 0.5, n)
    land_km, sea_km = route_split_km(region, lon1, lat1, lon2, lat2)
    want_land, want_sea = _split_by_exact_test(region, lon1, lat1, lon2, lat2)
    assert np.array_equal(land_km, want_land) and np.array_equal(sea_km, want_sea)


def test_threads_asking_together_build_the_region_structures_once(coast, monkeypatch):
    fresh = Region(settlements=coast.settlements, layers=coast.layers)
    built = []
    own = Region._enclosed_of

    def slow(self, land):
        built.append(1)
        time.sleep(0.2)  # every thread arrives while the first is building
        return own(self, land)

    monkeypatch.setattr(Region, "_enclosed_of", slow)
    lon, lat = np.linspace(77.5, 82.0, 500), np.linspace(8.5, 11.5, 500)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: fresh.is_sea_many(lon, lat), range(4)))
    assert len(built) == 1
    assert all(np.array_equal(a, coast.is_sea(lon, lat)) for a in answers)
