"""Line searches of the land layer: the first crossing of a ray with the coast (the crossings kept by
their line equations, `_may_be_first`, give the same first crossing as every crossing shapely finds)
and the nearest water within per-point bounds (`_nearest_within_km`, the same distances as an
unbounded search)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from smrplan.geo import layers
from smrplan.geo.layers import Region, _may_be_first, _nearest_within_km


def first_crossings(rays, segments, ri, si, x0, y0):
    """Ray, x and y of the first crossing of each ray, as `Region.coast_crossing_km` picks it."""
    start = shapely.points(x0[ri], y0[ri])
    hit = shapely.intersection(rays[ri], segments[si])
    first = pd.DataFrame({"ray": ri, "d": shapely.distance(start, hit), "k": np.arange(len(ri))})
    k = first.sort_values(["ray", "d"]).drop_duplicates("ray")["k"].to_numpy()
    cross = shapely.get_point(shapely.shortest_line(start[k], hit[k]), 1)
    return ri[k], shapely.get_x(cross), shapely.get_y(cross)


def test_kept_crossings_give_the_same_first_crossing_as_all():
    rng = np.random.default_rng(3)
    # A zigzag coast in metric coordinates with flat pieces (some rays run along them) and shared vertices.
    xs = np.cumsum(rng.choice([0.0, 100.0, 250.0], 400)) + 1e6
    ys = np.round(rng.normal(0, 300, 400), -2) + 2e6
    coast = np.column_stack([xs, ys])
    segments = shapely.linestrings(np.stack([coast[:-1], coast[1:]], axis=1))
    n = 3000
    x0, y0 = rng.uniform(xs.min(), xs.max(), n), rng.uniform(2e6 - 1000, 2e6 + 1000, n)
    bearing = rng.choice(np.arange(0.0, 360.0, 22.5), n)
    bearing[::5], y0[::5] = 90.0, ys[rng.integers(0, 400, len(y0[::5]))]  # along the flat pieces
    x1, y1 = x0 + 3000.0 * np.sin(np.radians(bearing)), y0 + 3000.0 * np.cos(np.radians(bearing))
    rays = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
    ri, si = shapely.STRtree(segments).query(rays, predicate="intersects")
    keep = _may_be_first(np.column_stack([x0, y0, x1, y1])[ri], shapely.get_coordinates(segments[si]), ri, n)
    assert keep.sum() < len(ri) / 2  # most crossings need no exact intersection
    every = first_crossings(rays, segments, ri, si, x0, y0)
    kept = first_crossings(rays, segments, ri[keep], si[keep], x0, y0)
    for a, b in zip(every, kept, strict=True):
        assert np.array_equal(a, b)


def test_nearest_within_bounds_equals_the_unbounded_nearest_where_it_is_within():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 200_000, (500, 2))
    lines = shapely.linestrings(np.stack([a, a + rng.normal(0, 2000, (500, 2))], axis=1))
    tree = shapely.STRtree(lines)
    pts = shapely.points(rng.uniform(-50_000, 250_000, (4000, 2)))
    (q, _), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    nearest = np.full(len(pts), np.inf)
    nearest[q] = dist / 1000.0
    bound = np.where(rng.random(4000) < 0.2, np.inf, rng.choice([0.0, 0.5, 3.0, 10.0, 40.0, 100.0], 4000))
    got = _nearest_within_km(tree, pts, bound)
    within = nearest <= bound
    assert np.array_equal(got[within], nearest[within])  # the same bits
    assert (got[~within] > bound[~within]).all()


def test_rays_by_chunks_on_threads_cross_where_the_rays_in_one_piece_do(monkeypatch):
    rng = np.random.default_rng(5)
    angle = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    radius = 1.0 + 0.2 * rng.random(300)  # a jagged coast
    ring = np.column_stack([79.0 + radius * np.cos(angle), 10.0 + radius * np.sin(angle)])
    land = gpd.GeoDataFrame(geometry=[shapely.Polygon(ring), shapely.Point(80.6, 10.1).buffer(0.08)], crs="EPSG:4326")
    region = Region(settlements=gpd.GeoDataFrame(geometry=[shapely.Point(79.0, 10.0)], crs="EPSG:4326"),
                    layers={"land": land})
    n = 3_000
    lon, lat, bearing = rng.uniform(77.7, 80.5, n), rng.uniform(8.8, 11.2, n), rng.uniform(0, 360, n)
    whole = region.coast_crossing_km(lon, lat, bearing, 60.0)
    monkeypatch.setattr(layers, "CROSSING_CHUNK", 256)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert np.array_equal(region.coast_crossing_km(lon, lat, bearing, 60.0), whole)
    assert np.isfinite(whole).mean() > 0.5 and (whole == 0).any() and np.isinf(whole).any()
