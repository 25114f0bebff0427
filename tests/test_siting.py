"""Siting rules on small hand-made layers where the answer is known, boundary cases included."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from smrplan.geo.distance import destination
from smrplan.geo.layers import Region
from smrplan.scenario import load_scenario
from smrplan.siting import generate_candidates, screen

RULES = load_scenario("india-islands").siting


def _region(settlements, land=None, **layers):
    st = gpd.GeoDataFrame(settlements, geometry=gpd.points_from_xy(settlements["lon"], settlements["lat"]),
                          crs="EPSG:4326")
    st["population_target"] = st["population"]
    lay = dict(layers)
    if land is not None:
        lay["land"] = gpd.GeoDataFrame(geometry=[land], crs="EPSG:4326")
    return Region(settlements=st, layers=lay)


def _cands(points, kind):
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    return gpd.GeoDataFrame({"site_id": [f"c{i}" for i in range(len(points))], "kind": kind, "lon": lon, "lat": lat,
                             "origin": "test", "from_settlement": ""},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


LAND = box(79.0, 9.0, 81.0, 11.0)


def test_exclusion_zone_boundary_is_inclusive():
    reg = _region({"id": ["a"], "name": ["a"], "population": [100.0], "lon": [80.0], "lat": [10.0]}, LAND)
    at = destination(80.0, 10.0, 90.0, RULES.exclusion_zone_km)
    inside = destination(80.0, 10.0, 90.0, RULES.exclusion_zone_km - 0.01)
    res = screen(reg, RULES, _cands([(float(at[0]), float(at[1])), (float(inside[0]), float(inside[1]))], "land"))
    s = res.sites
    assert s.exclusion_zone_pass.tolist() == [True, False]
    assert "exclusion_zone" in s.reason.iloc[1] and "exclusion_zone" not in s.reason.iloc[0]


def test_sterilised_zone_population_limit():
    lim = RULES.sterilised_zone_max_population
    reg = _region({"id": ["a", "b"], "name": ["a", "b"], "population": [lim, 1.0], "lon": [80.0, 80.0],
                   "lat": [10.0, 10.2]}, LAND)
    x, y = destination(80.0, 10.0, 270.0, RULES.sterilised_zone_km)  # exactly at the radius
    res = screen(reg, RULES, _cands([(float(x), float(y))], "land"))
    assert res.sites.sterilised_zone_value.iloc[0] == pytest.approx(lim)
    assert bool(res.sites.sterilised_zone_pass.iloc[0])  # at the limit passes
    reg.settlements.loc[0, "population_target"] = lim + 1
    res = screen(reg, RULES, _cands([(float(x), float(y))], "land"))
    assert not bool(res.sites.sterilised_zone_pass.iloc[0])


def test_population_centre_and_density():
    reg = _region({"id": ["town"], "name": ["t"], "population": [100_000.0], "lon": [80.0], "lat": [10.0]}, LAND)
    near = destination(80.0, 10.0, 0.0, 5.0)
    far = destination(80.0, 10.0, 0.0, 40.0)
    res = screen(reg, RULES, _cands([(float(near[0]), float(near[1])), (float(far[0]), float(far[1]))], "land"))
    s = res.sites
    assert s.population_centre_pass.tolist() == [False, True]
    assert s.population_density_pass.tolist() == [False, True]


def test_land_and_water_kinds():
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND)
    res = screen(reg, RULES, pd.concat([_cands([(80.5, 10.5)], "land"), _cands([(81.5, 10.5)], "floating"),
                                        _cands([(81.5, 10.6)], "land")], ignore_index=True))
    s = res.sites
    assert s.on_land_pass.tolist() == [True, True, False]
    assert s.on_water_pass.tolist() == [True, True, True]  # on_water applies to floating only
    assert bool(s.on_water_value.iloc[1] == 1.0)


def test_seismic_zone_border_takes_the_higher_zone():
    zones = gpd.GeoDataFrame({"zone": ["V", "VI"]}, geometry=[box(79, 9, 80, 11), box(80, 9, 81, 11)],
                             crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.2], "lat": [9.2]}, LAND,
                  seismic_zones=zones)
    res = screen(reg, RULES, _cands([(80.0, 10.0), (79.5, 10.0)], "land"))
    assert res.sites.seismic_zone_pass.tolist() == [False, True]


def test_earthquake_counts_within_radius():
    r = RULES.earthquake_radius_km
    lon_in, _ = destination(80.0, 10.0, 90.0, r - 1)
    lon_out, _ = destination(80.0, 10.0, 90.0, r + 1)
    eq = gpd.GeoDataFrame({"mw": [RULES.earthquake_max_magnitude + 0.1, 9.0]},
                          geometry=[Point(float(lon_in), 10.0), Point(float(lon_out), 10.0)], crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.2], "lat": [9.2]}, LAND, earthquakes=eq)
    res = screen(reg, RULES, _cands([(80.0, 10.0)], "land"))
    s = res.sites.iloc[0]
    assert s.earthquake_max_magnitude_value == pytest.approx(RULES.earthquake_max_magnitude + 0.1)
    assert not s.earthquake_max_magnitude_pass
    assert s.earthquake_count_value == 1


def test_not_evaluated_criteria_are_listed():
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND)
    res = screen(reg, RULES, _cands([(80.5, 10.5)], "land"))
    summ = res.summary()
    not_eval = {c["name"] for c in summ["criteria"] if not c["evaluated"]}
    assert {"seismic_zone", "capable_fault", "cyclones", "water_depth"} <= not_eval


def test_candidates_generated_per_kind_and_offshore_points_at_sea():
    reg = _region({"id": ["a"], "name": ["a"], "population": [1000.0], "lon": [80.99], "lat": [10.0]}, LAND)
    c = generate_candidates(reg, RULES, 150.0)
    assert set(c.kind) == {"land", "micro", "floating"}
    fl = c[c.kind == "floating"]
    assert len(fl) > 0 and not reg.is_land(fl.lon.to_numpy(), fl.lat.to_numpy()).any()
    assert c.site_id.is_unique
    # the h3 grid over the land polygon adds land candidates
    assert (c.origin.str.startswith("h3")).sum() > 0
    assert np.isfinite(fl.offshore_km).all()
