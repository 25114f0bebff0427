import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from smrplan.geo import summed_grid
from smrplan.geo.distance import PointIndex, destination, haversine_km


def test_haversine_known_distance():
    # Port Blair to Chennai: about 1,360 km great circle.
    d = haversine_km(92.735, 11.665, 80.27847, 13.08784)
    assert 1340 < d < 1380


@given(st.floats(-179, 179), st.floats(-80, 80), st.floats(0, 360), st.floats(0.01, 500))
def test_destination_round_trip(lon, lat, brg, dist):
    x, y = destination(lon, lat, brg, dist)
    assert abs(haversine_km(lon, lat, x, y) - dist) < 1e-6 * max(dist, 1)


def test_within_is_inclusive_at_the_radius():
    x, y = destination(72.0, 11.0, 90.0, 5.0)
    idx = PointIndex([x], [y])
    q, p, d = idx.within([72.0], [11.0], 5.0)
    assert len(q) == 1 and abs(d[0] - 5.0) < 1e-9
    q, _, _ = idx.within([72.0], [11.0], 4.999)
    assert len(q) == 0


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(70, 95, 300), rng.uniform(5, 30, 300)
    qlon, qlat = rng.uniform(70, 95, 50), rng.uniform(5, 30, 50)
    d, i = PointIndex(lon, lat).nearest(qlon, qlat, k=1)
    brute = haversine_km(qlon[:, None], qlat[:, None], lon[None, :], lat[None, :])
    assert np.allclose(d[:, 0], brute.min(axis=1))
    assert (i[:, 0] == brute.argmin(axis=1)).all()


def test_sums_within_match_brute_force_for_every_radius_and_weight():
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(76, 78, 3000), rng.uniform(10, 12, 3000)
    w = np.column_stack([rng.lognormal(6, 1, 3000), rng.integers(0, 2, 3000) * 1.0])
    qlon, qlat = rng.uniform(76, 78, 400), rng.uniform(10, 12, 400)
    radii = [16.0, 1.6, 5.0, 30.0]
    got = PointIndex(lon, lat).sums_within(qlon, qlat, w, radii)
    d = haversine_km(qlon[:, None], qlat[:, None], lon[None, :], lat[None, :])
    for k, r in enumerate(radii):
        np.testing.assert_allclose(got[:, k, :], np.einsum("qm,mj->qj", (d <= r).astype(float), w), rtol=1e-12)
    on_circle = destination(np.array([77.0]), np.array([11.0]), np.array([30.0]), np.array([5.0]))
    one = PointIndex(*on_circle).sums_within([77.0], [11.0], [2.5], [5.0, 4.999])
    assert one[:, :, 0].tolist() == [[2.5, 0.0]]  # inclusive at the radius, as `within`
    assert PointIndex(lon, lat).sums_within([], [], w, radii).shape == (0, 4, 2)


def test_sums_within_of_a_point_do_not_depend_on_the_points_queried_with_it():
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(76, 78, 20000), rng.uniform(10, 12, 20000)
    w = np.column_stack([rng.lognormal(6, 1, 20000) * 1.37, rng.lognormal(3, 2, 20000) / 3.0])
    qlon, qlat = rng.uniform(76, 78, 3000), rng.uniform(10, 12, 3000)
    index = PointIndex(lon, lat)
    every = index.sums_within(qlon, qlat, w, [1.6, 5.0, 16.0])
    some = rng.permutation(3000)[:1000]
    fewer = index.sums_within(qlon[some], qlat[some], w, [5.0, 1.6])
    assert np.array_equal(fewer, every[some][:, [1, 0]])  # the same bits, not only close


def test_sums_within_and_nearest_do_not_depend_on_chunks_or_threads(monkeypatch):
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(76, 78, 20000), rng.uniform(10, 12, 20000)
    w = rng.lognormal(6, 1, 20000) * 1.37
    qlon, qlat = rng.uniform(76, 78, 2500), rng.uniform(10, 12, 2500)
    index = PointIndex(lon, lat)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = index.sums_within(qlon, qlat, w, [1.6, 16.0])
    near_one = index.nearest(qlon, qlat, k=3)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    for chunk in (1, 333, 2500):  # from one query point a call to all of them in one
        monkeypatch.setattr(summed_grid, "QUERY_CHUNK", chunk)
        assert np.array_equal(index.sums_within(qlon, qlat, w, [1.6, 16.0]), one)
    near_two = index.nearest(qlon, qlat, k=3)
    assert np.array_equal(near_two[0], near_one[0]) and np.array_equal(near_two[1], near_one[1])


def test_an_index_is_pickled_without_its_summed_grid():
    index = PointIndex([77.0, 77.1], [11.0, 11.1])
    before = index.sums_within([77.0], [11.0], [1.0, 2.0], [20.0])
    again = pickle.loads(pickle.dumps(index))
    assert index._grid is not None and again._grid is None
    assert np.array_equal(again.sums_within([77.0], [11.0], [1.0, 2.0], [20.0]), before)


def test_neighbours_are_the_nearest_of_the_indexed_points_themselves():
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(70, 95, 400), rng.uniform(5, 30, 400)
    nb = PointIndex(lon, lat).neighbours(4)
    brute = np.argsort(haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :]), axis=1)[:, :4]
    assert nb.shape == (400, 4) and (nb[:, 0] == np.arange(400)).all()
    assert np.array_equal(nb, brute)
    assert PointIndex(lon[:2], lat[:2]).neighbours(5).shape == (2, 2)
    assert PointIndex([], []).neighbours(3).shape == (0, 3)
