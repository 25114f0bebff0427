import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smrplan.demand import compute_demand, hourly_load_kw, hourly_shape, mix_names
from smrplan.scenario import load_scenario


def _settlements(**cols):
    n = len(next(iter(cols.values())))
    return gpd.GeoDataFrame({"id": [str(i) for i in range(n)], "name": "x", **cols},
                            geometry=gpd.points_from_xy(np.zeros(n), np.zeros(n)), crs="EPSG:4326")


def test_demand_by_hand():
    d = load_scenario("india-islands").demand
    st_ = _settlements(population=[10_000.0], households=[2_000.0], population_urban=[0.0])
    out = compute_demand(st_, d, 2035).iloc[0]
    g = (1 + d.population_growth_per_year) ** (2035 - 2011)
    assert out["population_target"] == pytest.approx(10_000 * g)
    assert out["households_target"] == pytest.approx(2_000 * g)
    res = 2_000 * g * d.tier_kwh_per_household_year[d.tier - 1]
    assert out["demand_kwh_per_year"] == pytest.approx(res / (1 - d.non_residential_share))
    assert out["peak_kw"] == pytest.approx(out["demand_kwh_per_year"] / 8760 / d.load_factor)


def test_households_from_size_and_anchor_load():
    d = load_scenario("india-islands").demand
    st_ = _settlements(population=[4_900.0, 4_600.0], population_urban=[0.0, 4_600.0], anchor_load_kw=[0.0, 100.0])
    out = compute_demand(st_, d, 2011)
    assert out["households_target"].tolist() == pytest.approx([1000.0, 1000.0])
    extra = 100 * 8760 * d.anchor_load_factor
    assert out["demand_kwh_per_year"].iloc[1] - out["demand_kwh_per_year"].iloc[0] == pytest.approx(extra)


def test_existing_demand_is_a_floor():
    d = load_scenario("india-islands").demand
    st_ = _settlements(population=[100.0], existing_demand_kwh=[1e7])
    out = compute_demand(st_, d, 2011).iloc[0]
    assert out["demand_kwh_per_year"] == pytest.approx(1e7)


@pytest.mark.parametrize("mix", mix_names())
def test_shapes_normalised(mix):
    s = hourly_shape(mix)
    assert s.shape == (8760,) and s.sum() == pytest.approx(1.0) and (s > 0).all()


@given(st.floats(1e3, 1e8), st.floats(0.3, 0.95))
def test_hourly_load_keeps_energy_and_peak(energy, lf):
    peak = energy / 8760 / lf
    load = hourly_load_kw(np.array([energy]), np.array([peak]), "island")[0]
    assert load.sum() == pytest.approx(energy, rel=1e-9)
    assert load.max() == pytest.approx(max(peak, energy / 8760), rel=1e-6)
    assert (load >= 0).all()
