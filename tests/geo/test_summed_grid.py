import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smrplan.geo.distance import EARTH_RADIUS_KM, haversine_km, unit_vectors
from smrplan.geo.summed_grid import SummedGrid


def brute(lon, lat, w, qlon, qlat, radii_km):
    """Sums by measuring every pair."""
    d = haversine_km(np.asarray(qlon)[:, None], np.asarray(qlat)[:, None], np.asarray(lon)[None, :],
                     np.asarray(lat)[None, :])
    return np.stack([(d <= r) @ w for r in radii_km], axis=1)


def arcs(radii_km):
    return np.asarray(radii_km) / EARTH_RADIUS_KM


@pytest.mark.parametrize("points_per_cell", [0.5, 8, 10**6])
def test_sums_are_those_of_every_pair_whatever_the_cell_size(points_per_cell):
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(76, 78, 5000), rng.uniform(10, 12, 5000)
    w = np.column_stack([rng.integers(1, 5000, 5000), rng.integers(0, 2, 5000)]).astype(float)
    qlon, qlat = rng.uniform(75.8, 78.2, 300), rng.uniform(9.8, 12.2, 300)  # some outside the points' box
    radii = [0.3, 1.6, 5.0, 16.0, 120.0]
    got = SummedGrid.build(lon, lat, unit_vectors(lon, lat), points_per_cell=points_per_cell).sums(qlon, qlat, w, arcs(radii))
    assert np.array_equal(got, brute(lon, lat, w, qlon, qlat, radii))  # whole numbers: exact


def test_sums_cross_the_antimeridian_and_reach_over_a_pole():
    rng = np.random.default_rng(4)
    lon = np.concatenate([rng.uniform(178, 180, 800), rng.uniform(-180, -178, 800), rng.uniform(-180, 180, 400)])
    lat = np.concatenate([rng.uniform(-18, -16, 1600), rng.uniform(86, 90, 400)])  # Fiji, and around the north pole
    w = rng.integers(1, 100, 2000).astype(float)
    qlon = np.array([179.99, -179.99, 180.0, -180.0, 178.5, -178.5, 0.0, 120.0, 540.0 - 0.01])
    qlat = np.array([-17.0, -17.0, -17.0, -17.0, -17.5, -16.5, 89.9, 88.0, -17.0])
    radii = [5.0, 50.0, 150.0, 400.0]
    grid = SummedGrid.build(lon, lat, unit_vectors(lon, lat))
    got = grid.sums(qlon, qlat, w[:, None], arcs(radii))[:, :, 0]
    want = brute(lon, lat, w, qlon, qlat, radii)
    assert np.array_equal(got, want)
    assert (want[:2, 1] > 0).all()  # the circles hold points on both sides of the antimeridian


def test_points_on_cell_edges_and_in_one_place_are_counted_once():
    lon, lat = np.meshgrid(np.linspace(77.0, 77.5, 26), np.linspace(11.0, 11.5, 26))
    lon, lat = np.repeat(lon.ravel(), 3), np.repeat(lat.ravel(), 3)  # a lattice, each point thrice
    w = np.ones(len(lon))
    grid = SummedGrid.build(lon, lat, unit_vectors(lon, lat), points_per_cell=3)
    qlon, qlat = lon[::7], lat[::7]
    radii = [1.0, 2.23, 7.7, 30.0]
    assert np.array_equal(grid.sums(qlon, qlat, w, arcs(radii))[:, :, 0], brute(lon, lat, w, qlon, qlat, radii))
    assert grid.sums([77.25], [11.25], w, arcs([500.0]))[0, 0, 0] == len(lon)


def test_a_query_sums_do_not_depend_on_the_others_and_without_points_are_zero():
    rng = np.random.default_rng(6)
    lon, lat = rng.uniform(70, 71, 3000), rng.uniform(20, 21, 3000)
    w = rng.lognormal(5, 1, (3000, 2)) / 7.0  # fractional: the bits, not only the value
    grid = SummedGrid.build(lon, lat, unit_vectors(lon, lat))
    qlon, qlat = rng.uniform(70, 71, 200), rng.uniform(20, 21, 200)
    every = grid.sums(qlon, qlat, w, arcs([2.0, 9.0]))
    assert np.array_equal(grid.sums(qlon[50:60], qlat[50:60], w, arcs([9.0])), every[50:60, 1:])
    np.testing.assert_allclose(every[:, :, 0], brute(lon, lat, w[:, 0], qlon, qlat, [2.0, 9.0]), rtol=1e-11)
    empty = SummedGrid.build([], [], np.zeros((0, 3)))
    assert empty.sums([70.0], [20.0], np.zeros((0, 2)), arcs([5.0])).tolist() == [[[0.0, 0.0]]]
    assert grid.sums([], [], w, arcs([5.0])).shape == (0, 1, 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-89, 89), st.integers(0, 1000)), min_size=1, max_size=60),
       st.floats(-180, 180), st.floats(-89, 89), st.floats(0.01, 3000), st.floats(0.5, 50))
def test_sums_match_every_pair_for_any_points(points, qlon, qlat, radius_km, points_per_cell):
    lon, lat, w = np.array(points, float).T
    grid = SummedGrid.build(lon, lat, unit_vectors(lon, lat), points_per_cell=points_per_cell)
    got = grid.sums([qlon], [qlat], w, arcs([radius_km]))
    d = haversine_km(qlon, qlat, lon, lat)
    clear = np.abs(d - radius_km) > 1e-6  # points on the circle itself are inside or not by the chord's rounding
    assert got[0, 0, 0] >= w[clear & (d <= radius_km)].sum() and got[0, 0, 0] <= w[(d <= radius_km) | ~clear].sum()
