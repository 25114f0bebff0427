"""The disk cache of prepared region geometry: entries kept, keyed by every input, never half-written,
and answers identical with and without it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from smrplan.geo import diskcache
from smrplan.geo.diskcache import cached, key_of, pack_geometries, unpack_geometries
from smrplan.geo.layers import Region


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMRPLAN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.asarray(value)}

    return compute, calls


def test_an_entry_is_computed_once_then_read(cache):
    compute, calls = counting([1.0, 2.0])
    first = cached("t", key_of(["a"]), compute)
    again = cached("t", key_of(["a"]), compute)
    assert len(calls) == 1 and np.array_equal(first["x"], again["x"])
    other = cached("t", key_of(["b"]), compute)  # another input, another entry
    assert len(calls) == 2 and np.array_equal(other["x"], first["x"])
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["t", "t"]  # no temporary file left


def test_keys_follow_every_input_and_the_code():
    geoms = np.array([shapely.box(0, 0, 1, 1)], dtype=object)
    moved = np.array([shapely.box(0, 0, 1, 1.0001)], dtype=object)
    base = key_of([geoms, 2.0, "EPSG:7755"])
    assert base == key_of([geoms.copy(), 2.0, "EPSG:7755"])
    assert len({base, key_of([moved, 2.0, "EPSG:7755"]), key_of([geoms, 2.5, "EPSG:7755"]),
                key_of([geoms, 2.0, "EPSG:7755"], code=[diskcache])}) == 4


def test_an_empty_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SMRPLAN_CACHE_DIR", "")
    compute, calls = counting([3.0])
    cached("t", "k", compute), cached("t", "k", compute)
    assert len(calls) == 2 and diskcache.cache_dir() is None


def test_an_unreadable_entry_is_computed_again(cache):
    compute, calls = counting([4.0])
    cached("t", "k" * 40, compute)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"not an npz")
    assert cached("t", "k" * 40, compute)["x"].tolist() == [4.0] and len(calls) == 2


def test_an_unwritable_folder_only_costs_the_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("SMRPLAN_CACHE_DIR", str(blocker / "cache"))
    compute, calls = counting([5.0])
    assert cached("t", "k", compute)["x"].tolist() == [5.0] and cached("t", "k", compute)["x"].tolist() == [5.0]
    assert len(calls) == 2


def test_geometries_survive_packing():
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.Polygon([(2, 2), (3, 2), (3, 3)]).buffer(0.1),
                      shapely.MultiPolygon([shapely.box(5, 5, 6, 6), shapely.box(7, 7, 8, 8)])], dtype=object)
    assert all(shapely.equals_exact(unpack_geometries(pack_geometries(geoms)), geoms, tolerance=0))


def islands_region() -> Region:
    """Two islands and a lake on a mainland, settlements on each."""
    mainland = shapely.box(0, 0, 2, 2).difference(shapely.box(0.5, 0.5, 0.7, 0.7))
    land = gpd.GeoDataFrame(geometry=[mainland, shapely.box(2.5, 0, 2.6, 0.1), shapely.box(3, 1, 3.05, 1.05)],
                            crs="EPSG:4326")
    lakes = gpd.GeoDataFrame(geometry=[shapely.box(1.2, 1.2, 1.4, 1.4)], crs="EPSG:4326")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0, 2.55, 3.02], [1.0, 0.05, 1.02]), crs="EPSG:4326")
    return Region(settlements=pts, layers={"land": land, "lakes": lakes}, mainland_min_area_km2=1000.0)


def test_cold_and_warm_regions_answer_alike(cache):
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-0.5, 3.5, 5000), rng.uniform(-0.5, 2.5, 5000)
    answers = []
    for _ in range(2):  # the first region fills the cache, the second reads it
        r = islands_region()
        status = r.land_status(np.array([1.0, 2.55, 3.02]), np.array([1.0, 0.05, 1.02]))
        answers.append((r.is_sea_many(lon, lat), r.is_sea(lon, lat), status["is_island"], r.is_land(lon, lat),
                        r.land_pieces()[0]))
    assert {p.name.split("-")[0] for p in cache.iterdir()} == {"enclosed", "seacells", "landpieces"}
    (sea_cold, exact_cold, island_cold, land_cold, pieces_cold), (sea_warm, exact_warm, island_warm, land_warm,
                                                                  pieces_warm) = answers
    assert np.array_equal(sea_cold, sea_warm) and np.array_equal(exact_cold, exact_warm)
    assert np.array_equal(land_cold, land_warm) and shapely.equals_exact(pieces_cold, pieces_warm, 0.0).all()
    assert np.array_equal(sea_warm, exact_warm)
    assert island_cold.tolist() == island_warm.tolist() == [False, True, True]
