"""A large point layer streamed to GDAL in Arrow batches gives the layer geopandas writes in one piece."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Polygon

from smrplan.outputs import write as W


def _points(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(2)
    return gpd.GeoDataFrame({
        "id": [f"s{i}" for i in range(n)], "population": rng.integers(1, 5000, n),
        "lcoe_usd_per_kwh": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        "is_island": rng.random(n) < 0.2, "site_id": np.where(rng.random(n) < 0.5, "", "L000001"),
    }, geometry=gpd.points_from_xy(rng.uniform(68, 97, n), rng.uniform(6, 36, n)), crs="EPSG:4326")


def _layer(path) -> tuple[pd.DataFrame, dict, list]:
    info = pyogrio.read_info(path, layer="t")
    with sqlite3.connect(path) as db:
        tables = sorted(r[0] for r in db.execute("select name from sqlite_master where type='table' and name like 'rtree_t_%'"))
        columns = db.execute("pragma table_info(t)").fetchall()
    keep = {k: (list(v) if hasattr(v, "tolist") else v) for k, v in info.items() if k in
            ("crs", "geometry_type", "fields", "dtypes", "features", "geometry_name")}
    return gpd.read_file(path, layer="t").to_wkt(), {**keep, "rtree": tables}, columns


def test_a_streamed_point_layer_equals_the_one_written_whole(tmp_path, monkeypatch):
    gdf = _points(2_500)
    whole, streamed = tmp_path / "whole.gpkg", tmp_path / "streamed.gpkg"
    gdf.to_file(whole, layer="t", driver="GPKG", engine="pyogrio", use_arrow=True)
    monkeypatch.setattr(W, "GPKG_BATCH_ROWS", 1_000)  # three batches, the last short
    batches = []
    stream = W._arrow_batches
    monkeypatch.setattr(W, "_arrow_batches", lambda g: batches.append(len(g)) or stream(g))
    W.write_gpkg(gdf, streamed, "t")
    assert batches == [2_500]
    (a, info_a, cols_a), (b, info_b, cols_b) = _layer(whole), _layer(streamed)
    pd.testing.assert_frame_equal(a, b)
    assert info_a == info_b and cols_a == cols_b
    assert info_b["features"] == 2_500 and info_b["geometry_type"] == "Point" and info_b["rtree"]


def test_polygons_and_small_layers_are_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(W, "GPKG_BATCH_ROWS", 1)
    zones = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Polygon([(0, 0), (1, 0), (1, 1)])] * 2, crs="EPSG:4326")
    calls = []
    monkeypatch.setattr(W, "_arrow_batches", lambda gdf: calls.append(gdf))
    W.write_gpkg(zones, tmp_path / "z.gpkg", "t")
    assert not calls and pyogrio.read_info(tmp_path / "z.gpkg", layer="t")["geometry_type"] == "Polygon"
