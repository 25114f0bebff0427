"""Benchmark: reactor site screening at national scale, and the national settlement build.

Target: screening (`smrplan.siting.screen`) of 100,000 candidate sites against 1,000,000 settlements
and the national layers (OpenStreetMap land polygons of India, ISC-GEM earthquakes, IBTrACS cyclone
tracks) in under 30 s on a 2-core machine. The time includes the one-off work a fresh region does
(cutting the land polygons into pieces, indexing the coastline and the settlements).

Settlements are synthetic but realistic: points drawn uniformly over India's land (rejection sampling
in the 68.2-97.4 E, 6.8-37.1 N box against the land layer; about 0.3 places per km2, as India's
650,000 villages and 8,000 towns over 3.3 million km2), village-like log-normal populations (median
about 665 persons) plus 2 % towns (log-normal, median about 22,000). Candidates: 45 % land and 45 %
micro at random points on land, 10 % floating 0.5-3 km off random coastline points (either side, so
some fail on_water as generated ones do). Layers come from the real data folder (SMRPLAN_TEST_DATA
or ../shared/data) when present; without it the global land mask stands in and the hazard layers
are absent (the figure is then not comparable and is marked so).

A second figure times building the national settlement set from the data folder (GeoNames towns and
post-office places with Census 2011 district totals; `smrplan.geo.layers.build_settlements`) against
60 s, and prints its settlement count and population.

Run: python benchmarks/bench_siting.py [n_settlements] [n_candidates]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from common import figure
from pyproj import Transformer

from smrplan.geo.io import read_vector
from smrplan.geo.layers import Region, _clean_polygons, build_settlements
from smrplan.geo.synthetic import INDIA_BOX, points_on_land
from smrplan.scenario import load_scenario
from smrplan.siting.screen import generate_candidates, screen

TARGET_SCREEN_S = 30.0
TARGET_BUILD_S = 60.0
DATA = Path(os.environ.get("SMRPLAN_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def layers() -> dict[str, gpd.GeoDataFrame]:
    """National layers from the data folder (empty when it is absent)."""
    if not DATA.is_dir():
        return {}
    land_path = DATA / "land_coastline_in" / "osm_land_india_polygons.geojson"
    return {"land": _clean_polygons(read_vector(land_path), land_path),
            "earthquakes": read_vector(DATA / "earthquakes_iscgem_in" / "iscgem_v7_60-100E_0-40N.csv"),
            "cyclone_tracks": read_vector(DATA / "cyclone_tracks_nio" / "IBTrACS_TCBT_AS_BOB_1982-2023.csv")}


def synthetic_region(n: int, lay: dict, seed: int = 0) -> Region:
    rng = np.random.default_rng(seed)
    probe = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers=dict(lay))
    x, y = points_on_land(probe, n, rng)
    town = rng.random(n) < 0.02
    pop = np.round(np.where(town, rng.lognormal(10.0, 0.8, n), rng.lognormal(6.5, 1.2, n)))
    st = gpd.GeoDataFrame({"id": np.char.add("S", np.arange(n).astype(str)), "name": "", "population": pop,
                           "population_target": pop}, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    return Region(settlements=st, layers=dict(lay))


def synthetic_candidates(region: Region, m: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    n_float = m // 10
    n_land = m - n_float
    x, y = points_on_land(region, n_land, rng)
    kinds = np.where(np.arange(n_land) % 2 == 0, "land", "micro")
    if region.land is not None:
        segs = region._coast().geometries
        c = shapely.centroid(np.asarray(segs.take(rng.integers(0, len(segs), n_float))))
        ang, dist = rng.uniform(0, 2 * np.pi, n_float), rng.uniform(500.0, 3000.0, n_float)
        fx, fy = Transformer.from_crs(region.metric_crs, "EPSG:4326", always_xy=True).transform(
            shapely.get_x(c) + dist * np.cos(ang), shapely.get_y(c) + dist * np.sin(ang))
    else:
        fx, fy = rng.uniform(INDIA_BOX[0], INDIA_BOX[2], n_float), rng.uniform(INDIA_BOX[1], INDIA_BOX[3], n_float)
    lon, lat = np.concatenate([x, fx]), np.concatenate([y, fy])
    kind = np.concatenate([kinds, np.full(n_float, "floating")])
    df = pd.DataFrame({"site_id": np.char.add("C", np.arange(m).astype(str)), "kind": kind, "lon": lon, "lat": lat,
                       "origin": "bench", "from_settlement": "", "offshore_km": np.nan})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def main(n: int = 1_000_000, m: int = 100_000) -> int:
    sc = load_scenario("india-national")
    lay = layers()
    real = bool(lay)
    t0 = time.perf_counter()
    region = synthetic_region(n, lay)
    cands = synthetic_candidates(region, m)
    t1 = time.perf_counter()
    print(f"synthesised {n:,} settlements and {m:,} candidates in {t1 - t0:.1f} s "
          f"({'real layers from ' + str(DATA) if real else 'no data folder: global land mask, no hazard layers'})")
    fresh = Region(settlements=region.settlements, layers=region.layers, metric_crs=region.metric_crs)
    t2 = time.perf_counter()
    res = screen(fresh, sc.siting, cands, {"micro": 1.0}, sc.optimisation.max_network_distance_km)
    t3 = time.perf_counter()
    s = res.summary()
    print(f"screened {m:,} candidates against {n:,} settlements in {t3 - t2:.2f} s "
          f"(target < {TARGET_SCREEN_S:.0f} s): {s['suitable']:,} suitable; removed by criterion "
          f"{s['removed_by_criterion']}")
    t4 = time.perf_counter()
    gen = generate_candidates(fresh, sc.siting, sc.optimisation.max_network_distance_km)
    print(f"context: generate_candidates for the {n:,} synthetic settlements took {time.perf_counter() - t4:.1f} s "
          f"({len(gen):,} candidates: {gen.groupby(['kind', 'origin']).size().to_dict()})")
    label = "" if real else " (no data folder: not comparable)"
    figure(f"screen {m:,} candidates x {n:,} settlements{label}", t3 - t2, TARGET_SCREEN_S)
    ok = (t3 - t2) < TARGET_SCREEN_S
    if real:
        d = DATA
        t5 = time.perf_counter()
        st, _, report = build_settlements(
            towns=d / "settlements_geonames_in" / "geonames_cities500_IN.csv",
            postal_places=d / "settlements_geonames_in" / "geonames_postal_IN.parquet",
            districts=d / "admin_boundaries_in" / "india_districts.geojson",
            district_population=d / "census2011_population_in" / "census2011_districts.csv")
        t6 = time.perf_counter()
        print(f"national settlement set: {len(st):,} settlements, {st['population'].sum() / 1e9:.4f} billion persons "
              f"(Census 2011 {report['census_population'] / 1e9:.4f} billion), built in {t6 - t5:.1f} s; "
              f"dropped rows {report['dropped_rows']}")
        figure("build the national settlement set (GeoNames + Census 2011)", t6 - t5, TARGET_BUILD_S)
        ok &= (t6 - t5) < TARGET_BUILD_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
