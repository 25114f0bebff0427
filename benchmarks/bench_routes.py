"""Benchmark: the land / sea split of 350,000 straight routes over the national land layer.

Target: `smrplan.geo.grid.route_split_km` on 350,000 routes (about as many as an india-national run
splits: settlements to their grid point and to their nearest suitable site of each kind) in under 5 s
on a 2-core machine, the one-off classification of the sea cells included and the land pieces already
cut (`Region.enclosed`, which the siting stage builds first in a run). Routes start at uniform points
on India's land and end at a point a normal 0.3 degree (about 33 km) away in each coordinate, some at
sea. The land layer comes from the real data folder (SMRPLAN_TEST_DATA or ../shared/data); without
it the global land mask stands in and the figure is marked as not comparable.

Run: python benchmarks/bench_routes.py [n_routes]
"""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import numpy as np
from bench_siting import layers
from common import figure

from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.geo.synthetic import points_on_land

TARGET_S = 5.0


def main(n: int) -> None:
    lay = layers()
    region = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers={"land": lay["land"]} if lay else {})
    rng = np.random.default_rng(0)
    lon1, lat1 = points_on_land(region, n, rng)
    lon2, lat2 = lon1 + rng.normal(0, 0.3, n), lat1 + rng.normal(0, 0.3, n)
    region.enclosed()
    t0 = time.perf_counter()
    land, sea = route_split_km(region, lon1, lat1, lon2, lat2)
    seconds = time.perf_counter() - t0
    print(f"split {n:,} routes in {seconds:.2f} s: {(sea > 0).mean():.1%} cross sea, {land.sum() + sea.sum():,.0f} km")
    suffix = "" if lay else " (global land mask, not comparable)"
    figure(f"land/sea split of {n:,} routes{suffix}", seconds, TARGET_S)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 350_000)
