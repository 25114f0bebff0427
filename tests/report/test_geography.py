"""Map geography of the report (smrplan.report.geography): circles to scale, panels, scale bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from smrplan.report import geography


def test_circle_is_true_to_scale():
    x, y = geography.circle_lonlat(92.62, 11.46, 16.0)
    _, _, d = Geod(ellps="WGS84").inv(np.full(len(x), 92.62), np.full(len(x), 11.46), x, y)
    assert d == pytest.approx(16_000, rel=0.01)  # sphere against ellipsoid: well within 1 %
    assert (x[0], y[0]) == pytest.approx((x[-1], y[-1]))


def test_reactor_zones_use_kind_and_technology_radii():
    sites = [{"site_id": "A", "kind": "land", "technology": "t1", "lon": 92.7, "lat": 11.6},
             {"site_id": "B", "kind": "micro", "technology": "t2", "lon": 72.6, "lat": 10.5}]
    siting = {"exclusion_zone_km": 1.6, "micro_exclusion_zone_km": 0.5, "emergency_planning_zone_km": 16.0}
    catalogue = [{"technology": "t2", "parameter": "epz_km", "value": 5.0}]
    z = geography.reactor_zones(sites, siting, catalogue).set_index(["site_id", "zone"])["radius_km"]
    assert z.to_dict() == {("A", "exclusion"): 1.6, ("A", "epz"): 16.0, ("B", "exclusion"): 0.5, ("B", "epz"): 5.0}
    assert geography.reactor_zones([], siting, catalogue).empty


def test_island_groups_get_panels_and_a_country_one():
    lon = np.array([72.2, 72.7, 73.0, 92.7, 92.9, 93.8])
    lat = np.array([10.8, 11.1, 8.3, 11.7, 9.2, 7.0])
    assert [list(g) for g in geography.panels(lon, lat)] == [[0, 1, 2], [3, 4, 5]]
    rng = np.random.default_rng(0)
    mainland = np.column_stack([rng.uniform(70, 90, 500), rng.uniform(10, 30, 500)])
    both = np.vstack([mainland, np.column_stack([lon, lat])])
    assert len(geography.panels(both[:, 0], both[:, 1])) == 1  # the islands are too few for panels of their own


def test_scale_bar_is_a_round_fifth_of_the_width():
    assert geography.scale_bar_km(2.0, 11.0) == 25  # 2 degrees at 11 N: 218 km wide
    assert geography.km_to_lon_deg(109.2, 11.0) == pytest.approx(1.0, rel=0.01)


def test_panel_title_is_the_shared_territory():
    g = pd.DataFrame({"territory": ["Lakshadweep"] * 2, "name": ["a", "b"], "demand_kwh_per_year": [1, 2]})
    assert geography.label_of(g) == "Lakshadweep"
    assert geography.label_of(g.drop(columns="territory")) == "b and 1 more"
