"""Fuel depots: who buys diesel at the depot's price, on synthetic islands and on the bundled ones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from smrplan.costs.economics import Money, diesel_cost
from smrplan.geo.distance import destination
from smrplan.geo.fuel import at_fuel_depot, fuel_surcharge
from smrplan.geo.layers import Region
from smrplan.pipeline import prepare_inputs
from smrplan.scenario import load_scenario

# Two islands 30 km apart at 10 N: a 40 km one with the depot and a 10 km one to its east.
DEPOT_ISLAND, OUTER_ISLAND = box(92.0, 10.0, 92.36, 10.36), box(92.63, 10.0, 92.72, 10.09)


def _region(depots=True) -> Region:
    st = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(92.1, 10.1)], crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[DEPOT_ISLAND, OUTER_ISLAND], crs="EPSG:4326")
    dep = gpd.GeoDataFrame({"id": ["D"]}, geometry=[Point(92.05, 10.05)], crs="EPSG:4326") if depots else None
    return Region(settlements=st, layers={"land": land}, fuel_depots=dep)


def test_road_reach_on_the_depot_island_only():
    lon, lat = destination(np.array([92.05, 92.05]), np.array([10.05, 10.05]), np.array([45.0, 45.0]),
                           np.array([20.0, 55.0]))
    lon, lat = np.r_[lon, 92.67], np.r_[lat, 10.04]  # 20 km and 55 km across the depot island; the outer island
    assert at_fuel_depot(_region(), lon, lat, reach_km=60.0).tolist() == [True, False, False]  # 55 km: past its coast
    assert at_fuel_depot(_region(), lon, lat, reach_km=10.0).tolist() == [False, False, False]
    assert at_fuel_depot(_region(depots=False), lon, lat, reach_km=60.0).tolist() == [False, False, False]


def test_no_island_surcharge_at_a_depot():
    island, depot = np.array([True, True, False]), np.array([True, False, False])
    assert fuel_surcharge(island, depot).tolist() == [False, True, False]
    assert fuel_surcharge(island).tolist() == [True, True, False]


def test_bundled_depots_port_blair_kavaratti_minicoy():
    """Port Blair, Ferrargunj (South Andaman by road) and Kavaratti and Minicoy buy at the depot's
    price; Andrott and Kalpeni (barrels by boat) and Car Nicobar pay the surcharge."""
    st = prepare_inputs(load_scenario("india-islands")).settlements.set_index("name")
    assert st.loc[["Port Blair", "Ferrargunj", "Kavaratti", "Minicoy"], "fuel_at_depot"].all()
    assert not st.loc[["Andrott", "Kalpeni", "Car Nicobar", "Agatti"], "fuel_at_depot"].any()
    assert st["is_island"].all()


def test_diesel_at_the_depot_costs_the_surcharge_less():
    from conftest import tech

    d = tech("d", "diesel", capex_usd_per_kw=500.0, lifetime_years=15.0, fixed_om_usd_per_kw_year=20.0,
             variable_om_usd_per_kwh=0.01, fuel_curve_intercept_l_per_kwh_rated=0.08145, fuel_curve_slope_l_per_kwh=0.246,
             average_loading_fraction=0.75, diesel_price_usd_per_l=1.0, island_logistics_usd_per_l=0.2,
             co2_kg_per_l=2.68, reserve_margin_fraction=0.2)
    e = np.array([1e6, 1e6])
    r = diesel_cost(e, e / 8760 / 0.5, d, Money(0.08, 25), fuel_surcharge([True, True], [True, False]))
    litres = r["fuel_l"].to_numpy()
    assert r["annual_cost_usd"].iloc[1] - r["annual_cost_usd"].iloc[0] == pytest.approx(0.2 * litres[1])
