"""Allocation of district totals to places without population, and population projection."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from smrplan.demand.population import allocate_population, census_pools
from smrplan.errors import InputError

# Two districts side by side (lon 72-73 and 73-74), a third without a census total.
DISTRICTS = gpd.GeoDataFrame({"district": ["West", "East", "New"], "population": [1000.0, 500.0, np.nan]},
                             geometry=[shapely.box(72, 10, 73, 11), shapely.box(73, 10, 74, 11),
                                       shapely.box(74, 10, 75, 11)], crs="EPSG:4326")


def _places(lons, pops, **extra):
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(len(lons))], "population": pops, **extra},
                            geometry=gpd.points_from_xy(lons, [10.5] * len(lons)), crs="EPSG:4326")


def test_equal_shares_after_known_places():
    places = _places([72.2, 72.4, 72.6, 73.5, 73.6, 80.0, 74.5], [400.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan])
    out = allocate_population(places, DISTRICTS)
    assert list(out["population"].iloc[:5]) == [400.0, 300.0, 300.0, 250.0, 250.0]
    assert np.isnan(out["population"].iloc[5]) and np.isnan(out["population"].iloc[6])
    assert list(out["population_source"]) == ["input", "allocated", "allocated", "allocated", "allocated", "none", "none"]
    assert list(out["district_index"].iloc[:5]) == [0, 0, 0, 1, 1] and pd.isna(out["district_index"].iloc[5])
    assert out.attrs["allocation"] == {"places_outside": 1, "places_without_total": 1, "districts_over_allocated": 0,
                                       "over_allocated_population": 0.0, "allocated_population": 1100.0,
                                       "unallocated_population": 0.0}
    assert places["population"].isna().sum() == 6  # input untouched


def test_weights_and_zero_weights():
    places = _places([72.2, 72.4, 73.5, 73.6], [np.nan] * 4, households=[1.0, 3.0, 0.0, 0.0])
    out = allocate_population(places, DISTRICTS, weight="households")
    assert list(out["population"]) == [250.0, 750.0, 250.0, 250.0]  # East: all weights 0 -> equal shares


def test_over_allocated_and_unallocated_districts():
    places = _places([72.2, 72.4, 73.5], [1500.0, np.nan, 200.0])
    out = allocate_population(places, DISTRICTS)
    assert out["population_source"].iloc[1] == "none" and np.isnan(out["population"].iloc[1])
    a = out.attrs["allocation"]
    assert a["districts_over_allocated"] == 1 and a["unallocated_population"] == 300.0  # East has no unknown place


def test_places_in_another_crs_and_missing_population_column():
    places = _places([72.5, 73.5], [np.nan, np.nan]).drop(columns="population").to_crs("EPSG:7755")
    out = allocate_population(places, DISTRICTS)
    assert list(out["population"]) == [1000.0, 500.0]


def test_place_on_shared_border_goes_to_first_district():
    out = allocate_population(_places([73.0], [np.nan]), DISTRICTS)
    assert out["district_index"].iloc[0] == 0 and out["population"].iloc[0] == 1000.0


def test_bad_inputs():
    places = _places([72.2, 72.4], [np.nan, np.nan], households=[1.0, -2.0])
    with pytest.raises(InputError) as exc:
        allocate_population(places, DISTRICTS, weight="households")
    assert "row 2 (id p1), column households" in str(exc.value)
    with pytest.raises(InputError, match="weight column missing"):
        allocate_population(places, DISTRICTS, weight="size")
    with pytest.raises(InputError, match="pop_total"):
        allocate_population(places, DISTRICTS, total="pop_total")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(72.01, 73.99), st.one_of(st.none(), st.floats(0, 100)),
                          st.floats(0.1, 10)), min_size=1, max_size=40))
def test_district_totals_are_kept(rows):
    """Where a district has places without population and its known places hold less than its total,
    the district's places add up to the total exactly."""
    lons, pops, weights = zip(*rows, strict=True)
    places = _places(list(lons), [np.nan if p is None else p for p in pops], w=list(weights))
    out = allocate_population(places, DISTRICTS, weight="w")
    for d, total in ((0, 1000.0), (1, 500.0)):
        mine = out["district_index"].to_numpy(dtype=float) == d
        unknown = mine & out["population_source"].ne("input").to_numpy()
        if unknown.any() and out.loc[mine & ~unknown, "population"].sum() < total:
            assert out.loc[mine, "population"].sum() == pytest.approx(total)
            assert (out.loc[unknown, "population_source"] == "allocated").all()


def test_allocate_postal_places_to_census_districts(shared_data):
    from smrplan.geo import importers as im

    districts = im.join_census_districts(
        im.read_districts(shared_data / "admin_boundaries_in" / "india_districts.geojson"),
        im.read_census_districts(shared_data / "census2011_population_in" / "census2011_districts.csv"))
    gn = shared_data / "settlements_geonames_in"
    towns = im.read_geonames_cities(gn / "geonames_cities500_IN.csv")
    postal = im.read_geonames_postal(gn / "geonames_postal_IN.parquet")
    places = pd.concat([towns[["id", "name", "population", "geometry"]],
                        postal[["id", "name", "population", "geometry"]]], ignore_index=True)
    out = allocate_population(places, districts)
    a = out.attrs["allocation"]
    assert out["population_source"].eq("allocated").sum() > 140_000
    assert a["places_outside"] < 0.01 * len(places)  # coastal points just off the simplified polygons
    # matched districts with unknown places hand out their whole total
    got = out.groupby("district_index")["population"].sum()
    has_unknown = out.loc[out["population_source"] != "input", "district_index"].dropna().unique()
    ok = districts.index.isin(has_unknown) & districts["population"].notna().to_numpy()
    ok &= ~districts.index.isin(out.loc[out["population_source"].eq("none"), "district_index"].dropna())
    assert got.reindex(districts.index[ok]).to_numpy() == pytest.approx(districts.loc[ok, "population"].to_numpy())


# Census pools: district "N1" (no census total) was carved out of West and Mid of state S; "N2" (no
# total) touches only N1; "Far" of state S touches nothing new; "Other" of state T touches N1 but
# belongs to another state. Corner-only contact (Corner) does not pool.
POOL_DISTRICTS = gpd.GeoDataFrame(
    {"district": ["West", "Mid", "N1", "N2", "Far", "Other", "Corner"],
     "st_nm": ["S", "S", "S", "S", "S", "T", "S"],
     "population": [1000.0, 2000.0, np.nan, np.nan, 700.0, 900.0, 300.0]},
    geometry=[shapely.box(0, 0, 1, 1), shapely.box(0, 1, 1, 2), shapely.box(1, 0, 2, 2), shapely.box(2, 0, 3, 1),
              shapely.box(5, 0, 6, 1), shapely.box(1, 2, 2, 3), shapely.box(3, 1, 4, 2)], crs="EPSG:4326")


def test_census_pools_connect_new_districts_with_their_same_state_neighbours():
    labels = census_pools(POOL_DISTRICTS)
    pool = dict(zip(POOL_DISTRICTS["district"], labels, strict=True))
    assert pool["West"] == pool["Mid"] == pool["N1"] == pool["N2"]
    assert len({pool["Far"], pool["Other"], pool["Corner"], pool["West"]}) == 4  # N2 meets Corner at a point only


def test_pooled_allocation_conserves_the_pooled_totals():
    d = POOL_DISTRICTS.assign(pool=census_pools(POOL_DISTRICTS))
    # West holds a town of 1,500 (more than its own 1,000): pooled, the pool's 3,000 still covers it.
    lons = [0.5, 0.5, 1.5, 1.5, 2.5, 5.5, 1.5, 3.5]
    lats = [0.5, 1.5, 0.5, 1.5, 0.5, 0.5, 2.5, 1.5]
    places = gpd.GeoDataFrame({"id": [f"p{i}" for i in range(8)],
                               "population": [1500.0] + [np.nan] * 7, "w": [1, 1, 1, 1, 2, 1, 1, 1]},
                              geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    out = allocate_population(places, d, weight="w", pool="pool")
    pop = out["population"].to_numpy()
    # pool {West, Mid, N1, N2}: 3,000 - 1,500 = 1,500 over weights 1 + 1 + 1 + 2
    assert pop[:5] == pytest.approx([1500.0, 300.0, 300.0, 300.0, 600.0])
    assert pop[5] == 700.0 and pop[6] == 900.0 and pop[7] == 300.0  # Far, Other, Corner alone
    assert np.nansum(pop) == pytest.approx(d["population"].sum())  # every census person placed once
    a = out.attrs["allocation"]
    assert a["districts_over_allocated"] == 0 and a["over_allocated_population"] == 0.0
    alone = allocate_population(places, d, weight="w")  # without pools N1, N2 get nothing, West is over
    assert np.isnan(alone["population"].iloc[2]) and alone.attrs["allocation"]["over_allocated_population"] == 500.0


def test_pool_without_any_total_allocates_nothing():
    d = POOL_DISTRICTS.iloc[[2, 3]].reset_index(drop=True)
    d = d.assign(pool=census_pools(d))
    out = allocate_population(_places([1.5, 2.5], [np.nan, np.nan]).set_geometry(
        gpd.points_from_xy([1.5, 2.5], [0.5, 0.5], crs="EPSG:4326")), d, pool="pool")
    assert out["population"].isna().all() and out.attrs["allocation"]["places_without_total"] == 2
    with pytest.raises(InputError, match="pool column"):
        allocate_population(out, d, pool="nope")
