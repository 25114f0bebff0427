"""Coal sites screened with the siting rules and the repowering criteria, on hand-made layers."""

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from smrplan.geo.layers import Region
from smrplan.scenario import load_scenario
from smrplan.siting.repowering import retirement, screen_coal_sites, site_table

RULES = load_scenario("india-islands").siting.model_copy(update={"excluded_seismic_zones": ["V", "VI"]})


def _units():
    return pd.DataFrame({"gem_unit_id": ["a1", "a2", "b1", "c1"], "gem_location_id": ["A", "A", "B", "C"],
                         "plant_name": ["A", "A", "B", "C"], "state": "X", "capacity_mw": [210.0, 500.0, 60.0, 660.0],
                         "start_year": [1985.0, 2012.0, 1990.0, np.nan], "planned_retirement": [np.nan, 2030.0, np.nan, np.nan],
                         "lon": [80.0, 80.0, 80.5, 79.5], "lat": [10.0, 10.0, 10.0, 10.5],
                         "is_captive": [False, False, True, False],
                         "captive_industry": ["", "", "cement & building", ""]})


def test_retirement_rule_planned_then_useful_life():
    u = retirement(_units(), 25.0, 2035)
    assert u.expected_retirement_year.tolist()[:3] == [2010.0, 2030.0, 2015.0]
    assert u.retirement_basis.tolist() == ["useful life", "planned", "useful life", "undated"]
    assert u.retiring.tolist() == [True, True, True, False]
    s = site_table(u).set_index("gem_location_id")
    assert s.loc["A", "retiring_mw"] == 710.0 and s.loc["C", "retiring_mw"] == 0.0
    assert np.isnan(s.loc["C", "first_retirement_year"])


def test_site_without_cooling_water_or_in_high_seismic_zone_fails_with_reason():
    u = retirement(_units(), 25.0, 2035)
    sites = site_table(u)
    st = gpd.GeoDataFrame({"id": ["t"], "name": ["t"], "population": [100.0], "population_target": [100.0]},
                          geometry=gpd.points_from_xy([80.3], [10.3]), crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[box(75.0, 5.0, 85.0, 15.0)], crs="EPSG:4326")  # no sea or water nearby
    zones = gpd.GeoDataFrame({"zone": ["V", "III"]}, geometry=[box(80.4, 9.5, 81.0, 10.5), box(79.0, 9.5, 80.4, 11.0)],
                             crs="EPSG:4326")
    res = screen_coal_sites(Region(settlements=st, layers={"land": land, "seismic_zones": zones}), RULES, sites, 55.0, 2035)
    s = res.sites.set_index("site_id")
    assert not s.loc["A", "cooling_water_pass"] and "cooling_water" in s.loc["A", "reason"]
    assert not s.loc["B", "seismic_zone_pass"] and "seismic_zone" in s.loc["B", "reason"]
    assert s.loc["A", "seismic_zone_pass"]
    assert not s.loc["C", "retirement_pass"] and "retirement (n/a" in s.loc["C", "reason"]
    assert not s.loc["C", "retiring_capacity_pass"]
    assert s.loc["B", "retiring_capacity_pass"]  # 60 MW holds one 55 MW module
    assert not s.suitable.any()
