"""The national settlement set: settlements built from GeoNames towns and post-office places with
Census 2011 district totals (smrplan.geo.layers.build_settlements), on hand-made files where every
number is known, and on the real public files (../shared/data; skipped when absent)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from smrplan.errors import InputError
from smrplan.geo.layers import build_settlements, load_region
from smrplan.limits import data_limits
from smrplan.scenario import apply_data_dir, load_scenario, parse_scenario

CENSUS_INDIA_2011 = 1_210_854_977  # Census of India 2011, Table A-1 (shared/data/census2011_population_in)


@pytest.fixture
def small(tmp_path):
    """District A (census total 10,000) and district B (created after 2011, no census row) side by
    side in one state; district C of another state touches B but has its own total."""
    (tmp_path / "towns.csv").write_text(
        "geonameid,name,latitude,longitude,population,feature_code,country_code\n"
        "1,Atown,10.5,72.2,4000,PPLA,IN\n"
        "2,Asection,10.6,72.3,900,PPLX,IN\n"     # a section of a place: left out, counted
        "3,Abroad,10.5,72.4,700,PPL,LK\n",       # another country: left out, counted
        encoding="utf-8")
    (tmp_path / "postal.csv").write_text(
        "postal_code,place_name,latitude,longitude\n"
        "100001,P1,10.5,72.6\n"
        "100001,P2,10.5,72.6\n"                  # same point as P1: one settlement, two post offices
        "100002,P3,10.7,72.8\n"
        "100003,P4,10.5,72.2\n"                  # on the town's point: merged into the town
        "100004,P5,10.5,73.5\n"                  # in the new district B: shares A's remainder
        "100005,P6,12.0,80.0\n"                  # outside every district: no population
        "100006,P7,,\n",                         # no coordinates
        encoding="utf-8")
    districts = gpd.GeoDataFrame(
        {"st_nm": ["Alpha", "Alpha", "Beta"], "district": ["A", "B", "C"], "dt_code": [1, 0, 2]},
        geometry=[shapely.box(72, 10, 73, 11), shapely.box(73, 10, 74, 11), shapely.box(74, 10, 75, 11)],
        crs="EPSG:4326")
    districts.to_file(tmp_path / "districts.geojson", driver="GeoJSON")
    (tmp_path / "census.csv").write_text(
        "state_code,district_code,state_name,district_name,pop_total\n"
        "1,1,Alpha,A,10000\n"
        "2,2,Beta,C,3000\n",
        encoding="utf-8")
    return tmp_path


def test_small_build_allocates_dedupes_and_counts(small):
    st, districts, report = build_settlements(small / "towns.csv", small / "postal.csv",
                                              small / "districts.geojson", small / "census.csv")
    by = st.set_index("name")
    assert list(st["id"]) == list(dict.fromkeys(st["id"]))  # unique
    assert set(by.index) == {"Atown", "P1", "P3", "P5"}
    assert by.loc["Atown", "population"] == 4000 and by.loc["Atown", "population_source"] == "input"
    assert by.loc["Atown", "post_offices"] == 1 and by.loc["Atown", "source"] == "town"
    # A's remainder 6,000 over P1 (two post offices), P3 and P5 (district B pooled with A): 3,000 / 1,500 / 1,500
    assert by.loc["P1", "population"] == 3000 and by.loc["P1", "post_offices"] == 2
    assert by.loc["P3", "population"] == 1500 and by.loc["P5", "population"] == 1500
    assert by.loc["P5", "district"] == "B" and by.loc["P5", "st_nm"] == "Alpha"  # its own district
    assert by.loc["P5", "census_pool"] == by.loc["P1", "census_pool"]
    assert st["population"].sum() == 10000
    assert report["dropped_rows"] == {"towns": 2, "postal_places": 1, "postal_places_shared_coordinates": 2,
                                      "settlements_without_population": 1}
    assert report["districts_without_census_total"] == 1 and report["new_districts_pooled"] == 1
    assert report["districts_left_without_total"] == 0 and report["census_pools"] == 1
    assert report["districts_pooled"] == 2 and report["pooled_census_population"] == 10000
    assert report["pooled_allocated_population"] == 6000 and report["state_balance"] == {"Beta": -3000.0}  # C: no place
    assert report["town_population"] + report["allocated_population"] == st["population"].sum()
    # B pooled with A (same state, shared border), not with C (other state); C keeps its own total
    d = districts.set_index("district")
    assert d.loc["A", "census_pool"] == d.loc["B", "census_pool"] != d.loc["C", "census_pool"]
    assert d.loc["A", "population"] == 10000 and pd.isna(d.loc["B", "population"])
    assert d.loc["B", "pool_population"] == 10000 and d.loc["C", "pool_population"] == 3000


def test_small_scenario_builds_settlements_through_load_region(small):
    (small / "sc.yaml").write_text(
        "name: small\ndata:\n  towns: towns.csv\n  postal_places: postal.csv\n  districts: districts.geojson\n"
        "  district_population: census.csv\n", encoding="utf-8")
    region = load_region(apply_data_dir(load_scenario(small / "sc.yaml"), small))
    assert len(region.settlements) == 4 and region.settlements["population"].sum() == 10000
    assert region.dropped_rows["postal_places_shared_coordinates"] == 2
    assert "population" in region.layers["districts"].columns
    assert set(region.sources) >= {"towns", "postal_places", "districts", "district_population"}
    json.dumps(region.dropped_rows)  # plan.json can hold it


def test_postal_places_alone_are_enough(small):
    st, _, report = build_settlements(None, small / "postal.csv", small / "districts.geojson", small / "census.csv")
    assert st["population"].sum() == 10000 and "towns" not in report["dropped_rows"]


@pytest.mark.parametrize("data, field", [
    ({"towns": "t.csv", "districts": "d.geojson"}, "data.district_population"),
    ({"postal_places": "p.parquet", "district_population": "c.csv"}, "data.districts"),
    ({"districts": "d.geojson", "district_population": "c.csv"}, "data.towns or data.postal_places"),
    ({"settlements": "s.csv", "towns": "t.csv"}, "not both"),
    ({"land": "l.geojson"}, "'settlements' layer is required"),
])
def test_validator_names_the_missing_field(data, field):
    with pytest.raises(InputError) as exc:
        parse_scenario({"name": "x", "data": data}, "x.yaml")
    assert field in str(exc.value) and "x.yaml" in str(exc.value)


def test_bad_census_file_names_file_and_column(small):
    (small / "census.csv").write_text("state_code,district_code,state_name,district_name,pop_total\n"
                                      "1,1,Alpha,A,lots\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        build_settlements(small / "towns.csv", None, small / "districts.geojson", small / "census.csv")
    assert "census.csv" in str(exc.value) and "pop_total" in str(exc.value)


def test_national_set_from_the_real_files(shared_data):
    d = shared_data
    st, districts, report = build_settlements(
        d / "settlements_geonames_in" / "geonames_cities500_IN.csv",
        d / "settlements_geonames_in" / "geonames_postal_IN.parquet",
        d / "admin_boundaries_in" / "india_districts.geojson",
        d / "census2011_population_in" / "census2011_districts.csv")
    n = len(st)
    assert 45_000 <= n <= 60_000  # 3,541 towns + 49,582 distinct post-office points, less the dropped
    assert st["id"].is_unique and st["population"].notna().all() and (st["population"] > 0).all()
    total = float(st["population"].sum())
    assert report["census_population"] == CENSUS_INDIA_2011
    assert total == pytest.approx(report["town_population"] + report["allocated_population"], rel=1e-9)
    # Within a few % of the census: what is not allocated (districts whose known places hold their
    # whole total) is missing, and towns above their district's total (7 districts) add a little.
    assert abs(total - CENSUS_INDIA_2011) / CENSUS_INDIA_2011 < 0.03
    assert abs(total + report["unallocated_population"] - CENSUS_INDIA_2011) / CENSUS_INDIA_2011 < 0.01
    box = data_limits()["regions"]["india"]
    x, y = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    assert ((x >= box["min_lon"]) & (x <= box["max_lon"]) & (y >= box["min_lat"]) & (y <= box["max_lat"])).all()
    dropped = report["dropped_rows"]
    assert dropped["postal_places_shared_coordinates"] > 100_000  # 155,570 places on about 49,600 points
    assert dropped["settlements_without_population"] < 0.02 * n
    assert report["towns"] + (st["source"] == "postal").sum() == n
    # About 92 districts newer than Census 2011: every one pooled with same-state neighbours that have a total
    assert 80 <= report["districts_without_census_total"] <= 110
    assert report["new_districts_pooled"] == report["districts_without_census_total"]
    assert report["districts_left_without_total"] == 0
    assert report["pooled_allocated_population"] > 1e8
    assert districts["population"].sum() == pytest.approx(CENSUS_INDIA_2011)
    _states_conserved(st, districts, report)


def _states_conserved(st, districts, report):
    """Per state, the places hold the census totals of its districts, except where a pool's towns hold
    more than its total (kept) or a pool has no place to allocate to: the rule, recomputed per pool."""
    census = districts.groupby("st_nm")["population"].sum()
    got = st[st["st_nm"] != ""].groupby("st_nm")["population"].sum().reindex(census.index, fill_value=0.0)
    pool_total = districts.groupby("census_pool")["population"].sum(min_count=1)
    inp = st[st["population_source"] == "input"].groupby("census_pool")["population"].sum()
    has_alloc = st.loc[st["population_source"] == "allocated", "census_pool"].unique()
    known = inp.reindex(pool_total.index, fill_value=0.0)
    expected_pool = pd.Series(np.where(pool_total.index.isin(has_alloc), pool_total, known), index=pool_total.index)
    pool_state = districts.groupby("census_pool")["st_nm"].first()
    expected = expected_pool.groupby(pool_state).sum().reindex(census.index)
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), abs=1.0)
    exact = [s for s in census.index if s not in report["state_balance"]]
    assert len(exact) >= 25  # most states hold exactly their census population
    assert got[exact].to_numpy() == pytest.approx(census[exact].to_numpy(), abs=1.0)
    assert "Telangana" in exact  # 23 of its 33 districts are newer than 2011: pooled, its total is kept


def test_india_national_scenario_loads(shared_data):
    sc = apply_data_dir(load_scenario("india-national"), shared_data)
    region = load_region(sc)
    assert len(region.settlements) > 45_000
    assert {"towns", "postal_places", "postal_places_shared_coordinates", "settlements_without_population",
            "power_plants"} <= set(region.dropped_rows)
    assert {"land", "earthquakes", "cyclone_tracks", "districts", "power_plants"} <= set(region.layers)
    assert "bathymetry" in region.rasters
