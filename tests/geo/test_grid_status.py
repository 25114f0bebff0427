"""Existing-grid status: the calibrated proxy, the grid-layer rule, the statistics readers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smrplan.errors import InputError
from smrplan.geo.grid_status import (
    STATUSES,
    anchor_towns,
    calibration_group,
    district_states,
    grid_points,
    island_status,
    layer_status,
    proxy_status,
    read_statistics,
    route_to_grid,
    rules,
)
from smrplan.geo.layers import Region
from smrplan.partition import Partitioner, stitch

HOURS = {"pct_1_4h": 2.5, "pct_4_8h": 6.0}


def _stats(tmp_path, share=0.5, states=True):
    census = tmp_path / "census.csv"
    pd.DataFrame({"district_code": [1, 2], "state_name": ["KERALA", "KERALA"], "households_a1": [100, 100],
                  "households_rural_a1": [100, 100], "share_electric_lighting": [share, share]}).to_csv(census, index=False)
    ma = None
    if states:
        ma = tmp_path / "ma.csv"
        pd.DataFrame({"state": ["Kerala"], "villages_surveyed": [10], "pct_no_electricity": [20.0],
                      "pct_1_4h": [0.0], "pct_4_8h": [20.0]}).to_csv(ma, index=False)
    return read_statistics(census, ma, HOURS)


def _settlements(n=10, island=None):
    return pd.DataFrame({"lon": 76.0 + np.arange(n) * 0.1, "lat": np.full(n, 10.0),
                         "population": np.full(n, 1000.0), "st_nm": "Kerala",
                         "is_island": np.zeros(n, bool) if island is None else island})


def test_proxy_meets_the_state_share_farthest_last(tmp_path):
    out = proxy_status(_settlements(), np.array([76.0]), np.array([10.0]), _stats(tmp_path), None, rules())
    on = out["grid_status"] != "unconnected"
    assert on.sum() == 8  # 20 % of villages without electricity, all households rural
    assert not on.iloc[-2:].any()  # the two farthest from the anchor
    weak = out["grid_status"] == "weak"
    assert weak.sum() == 1 and out.loc[weak, "grid_supply_hours"].iloc[0] == pytest.approx(6.0)


def test_islands_are_never_connected_and_cities_always(tmp_path):
    st = _settlements(island=np.array([True] + [False] * 9))
    st.loc[9, "population"] = 2e6
    out = proxy_status(st, np.array([76.0]), np.array([10.0]), _stats(tmp_path), None, rules())
    assert out["grid_status"].iloc[0] == "unconnected" and out["grid_status_source"].iloc[0].startswith("island")
    assert out["grid_status"].iloc[9] == "connected"


def test_all_india_figures_when_the_state_is_missing(tmp_path):
    out = proxy_status(_settlements(100), np.array([76.0]), np.array([10.0]), _stats(tmp_path, states=False), None, rules())
    assert (out["grid_status"] == "unconnected").sum() == round(100 * rules()["all_india_no_electricity_share"])
    assert out["grid_status_source"].str.contains("All India").all()


def test_layer_rule_uses_the_distance_threshold():
    out = layer_status(np.array([0.0, 4.9, 5.1, np.inf]), rules(), pd.RangeIndex(4))
    assert out["grid_status"].tolist() == ["connected", "connected", "unconnected", "unconnected"]


def test_share_outside_0_1_names_file_and_field(tmp_path):
    with pytest.raises(InputError, match="share_electric_lighting"):
        _stats(tmp_path, share=1.5)


def test_missing_column_names_it(tmp_path):
    path = tmp_path / "census.csv"
    pd.DataFrame({"district_code": [1]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="state_name"):
        read_statistics(path, None, HOURS)


def test_yes_no_share_and_repeated_column_are_errors(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text("district_code,state_name,households_a1,share_electric_lighting\n1,KERALA,100,True\n"
                    "2,KERALA,100,False\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2, share_electric_lighting: a share between 0 and 1 is expected, got True"):
        read_statistics(path, None, HOURS)
    path.write_text("district_code,state_name,households_a1,share_electric_lighting,state_name\n1,KERALA,100,0.5,K\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="column state_name: the header names this column more than once"):
        read_statistics(path, None, HOURS)


def test_islands_without_grid_data_are_isolated_systems():
    out = island_status(pd.RangeIndex(3))
    assert (out["grid_status"] == "unconnected").all() and (out["grid_supply_hours"] == 0).all()
    assert out["grid_status_source"].iloc[0] == "island, off the national grid"


def _two_states(n=40):
    """Settlements of two states side by side, a town of one next to villages of the other, one island."""
    rng = np.random.default_rng(7)
    st = pd.DataFrame({"lon": 76.0 + rng.uniform(0, 2, n), "lat": 10.0 + rng.uniform(0, 2, n),
                       "population": rng.choice([500.0, 2000.0, 30000.0], n, p=[0.6, 0.3, 0.1]),
                       "st_nm": np.where(np.arange(n) % 2, "Kerala", "Goa"), "is_island": np.arange(n) == 3})
    st.loc[0, "population"] = 30000.0  # a town of Goa, an anchor of the ranking of the Kerala villages
    return st


def test_proxy_by_whole_groups_with_the_regions_towns_matches_the_whole_table(tmp_path):
    st, r, stats = _two_states(), rules(), _stats(tmp_path)
    whole = proxy_status(st, np.array([76.0]), np.array([10.0]), stats, None, r)
    parts = Partitioner(10).parts(len(st), calibration_group(st, None).to_numpy())
    assert len(parts) == 2
    pieces = [proxy_status(st.iloc[p], np.array([76.0]), np.array([10.0]), stats, None, r, anchor_towns(st, r))
              for p in parts]
    pd.testing.assert_frame_equal(stitch(pieces, parts), whole)


def test_routes_to_the_regions_grid_points_by_parts_match_the_whole_table(tmp_path):
    st = _two_states().assign(grid_status=lambda f: np.where(f["population"] > 1000, "connected", "unconnected"),
                              grid_distance_km=500.0, grid_land_km=500.0, grid_sea_km=0.0, grid_lon=80.0, grid_lat=10.0)
    region = Region(settlements=st.iloc[:0])
    whole = route_to_grid(st, region, grid_points(region, st))
    parts = Partitioner(7).parts(len(st))
    pieces = [route_to_grid(st.iloc[p], region, grid_points(region, st)) for p in parts]
    pd.testing.assert_frame_equal(stitch(pieces, parts), whole)
    assert (whole["grid_distance_km"] < 500.0).all()


def test_status_columns_are_categorical_and_stay_so_when_partitions_are_stitched(tmp_path):
    """grid_status holds codes of STATUSES and grid_status_source codes of its texts, from every status
    function; partitions whose sources differ (a state's own figure, All India's) stitch into the same
    categories as the whole table."""
    st, r, stats = _two_states(), rules(), _stats(tmp_path)
    whole = proxy_status(st, np.array([76.0]), np.array([10.0]), stats, None, r)
    for out in (whole, layer_status(np.array([1.0, 50.0]), r, pd.RangeIndex(2)), island_status(pd.RangeIndex(3))):
        assert list(out["grid_status"].cat.categories) == list(STATUSES)
        assert isinstance(out["grid_status_source"].dtype, pd.CategoricalDtype)
    parts = Partitioner(10).parts(len(st), calibration_group(st, None).to_numpy())
    pieces = [proxy_status(st.iloc[p], np.array([76.0]), np.array([10.0]), stats, None, r, anchor_towns(st, r))
              for p in parts]
    assert len({tuple(p["grid_status_source"].cat.categories) for p in pieces}) == 2  # the pieces disagree
    stitched = stitch(pieces, parts)
    assert list(stitched["grid_status_source"].cat.categories) == list(whole["grid_status_source"].cat.categories)
    assert stitched["grid_status"].dtype == whole["grid_status"].dtype


def test_settlements_without_a_state_take_that_of_their_district_polygon():
    """Two districts of two states side by side: points in each take its state, a point on their
    shared border the first district's, a point outside every district none; no layer, no states."""
    import geopandas as gpd
    import shapely

    districts = gpd.GeoDataFrame({"st_nm": ["Kerala", "Tamil Nadu"], "district": ["A", "B"]},
                                 geometry=[shapely.box(76, 10, 77, 11), shapely.box(77, 10, 78, 11)], crs="EPSG:4326")
    region = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers={"districts": districts})
    states = district_states(region, np.array([76.5, 77.5, 77.0, 80.0]), np.array([10.5, 10.5, 10.5, 10.5]))
    assert list(states) == ["Kerala", "Tamil Nadu", "Kerala", ""]
    assert list(states.categories) == ["", "Kerala", "Tamil Nadu"]  # every state: partitions share categories
    bare = Region(settlements=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), layers={})
    assert district_states(bare, np.array([76.5]), np.array([10.5])) is None
