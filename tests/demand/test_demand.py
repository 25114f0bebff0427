import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smrplan.demand.load import compute_demand, hourly_load_kw, hourly_shape, mix_names
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
    c = (1 + d.consumption_growth_per_year) ** (2035 - 2011)
    res = 2_000 * g * d.tier_kwh_per_household_year[d.tier - 1] * c
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


def test_consumption_per_household_grows_and_falls_back_before_the_base_year():
    d = load_scenario("india-islands").demand.model_copy(update={"population_growth_per_year": 0.0})
    st_ = _settlements(population=[5_000.0], households=[1_000.0])
    by_year = {y: compute_demand(st_, d, y).iloc[0]["demand_kwh_per_year"] for y in (2001, 2011, 2035)}
    g = 1 + d.consumption_growth_per_year
    assert by_year[2035] / by_year[2011] == pytest.approx(g ** 24)
    assert by_year[2001] / by_year[2011] == pytest.approx(g ** -10)


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


# --- anchor loads: joined to the nearest settlement within demand.anchor_join_max_km, else their own --

def _anchor_files(tmp_path):
    (tmp_path / "s.csv").write_text("id,name,lon,lat,population,anchor_load_kw,territory,is_island\n"
                                    "a,A,92.70,11.60,1000,50,Andaman,True\n"
                                    "b,B,92.90,11.90,2000,,Andaman,True\n", encoding="utf-8")
    # p1 ~1.1 km from A, p2 ~2.2 km from A, p3 ~80 km from both: a remote mine
    (tmp_path / "anchors.csv").write_text("id,name,type,lon,lat,anchor_load_kw\n"
                                          "p1,Jetty,port,92.71,11.60,300\n"
                                          "p2,,desalination,92.70,11.62,200\n"
                                          ",Mine,mine,93.40,11.90,1000\n", encoding="utf-8")
    (tmp_path / "sc.yaml").write_text("name: anchors\ndata:\n  settlements: s.csv\n  anchor_loads: anchors.csv\n",
                                      encoding="utf-8")
    return tmp_path


def test_anchor_loads_join_or_become_settlements(tmp_path):
    from smrplan.geo.layers import load_region
    from smrplan.scenario import apply_data_dir

    d = _anchor_files(tmp_path)
    sc = apply_data_dir(load_scenario(d / "sc.yaml"), d)
    assert sc.demand.anchor_join_max_km == 5.0
    region = load_region(sc)
    st_ = region.settlements.set_index("id")
    assert list(st_.index) == ["a", "b", "anchor-4"]
    assert st_.loc["a", "anchor_load_kw"] == 550.0 and st_.loc["a", "anchor_ids"] == "p1;p2"
    assert st_.loc["b", "anchor_load_kw"] == 0.0 and not st_.loc["b", "is_anchor_only"]
    mine = st_.loc["anchor-4"]
    assert mine["is_anchor_only"] and mine["population"] == 0 and mine["anchor_load_kw"] == 1000.0
    assert mine["name"] == "Mine" and mine["territory"] == "Andaman" and bool(mine["is_island"])
    assert region.anchor_loads == {"points": 3, "joined": 2, "added_as_settlements": 1, "joined_kw": 500.0,
                                   "added_kw": 1000.0, "max_join_km": 5.0}
    assert region.data_record()["anchor_loads"]["added_as_settlements"] == 1
    out = compute_demand(region.settlements, sc.demand, sc.target_year).set_index("id")
    assert out.loc["anchor-4", "demand_kwh_per_year"] == pytest.approx(1000 * 8760 * sc.demand.anchor_load_factor)
    assert out.loc["anchor-4", "households_target"] == 0
    # a tighter join distance: p2 (2.2 km) becomes its own settlement too
    tight = sc.model_copy(update={"demand": sc.demand.model_copy(update={"anchor_join_max_km": 2.0})})
    r2 = load_region(tight)
    assert r2.anchor_loads["joined"] == 1 and set(r2.settlements["id"]) == {"a", "b", "p2", "anchor-4"}


def test_anchor_loads_errors_and_repairs(tmp_path):
    from smrplan.errors import InputError
    from smrplan.geo.layers import load_region
    from smrplan.scenario import apply_data_dir

    d = _anchor_files(tmp_path)
    sc = apply_data_dir(load_scenario(d / "sc.yaml"), d)
    (d / "anchors.csv").write_text("id,lon,lat,anchor_load_kw\nb,94.0,12.0,10\nq,92.7,11.6,-1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_region(sc)
    assert "anchors.csv" in str(exc.value) and "row 3 (id q), column anchor_load_kw" in str(exc.value)
    region = load_region(sc, repair=True)  # q dropped; the far anchor "b" clashes with settlement b: renamed
    assert set(region.settlements["id"]) == {"a", "b", "b-2"}
    assert region.repairs["anchor_loads"] == {"bad_anchor_load": 1, "duplicate_id": 1}
    assert region.dropped_rows["anchor_loads"] == 1
    (d / "anchors.csv").write_text("id,lon,lat,anchor_load_kw\nb,94.0,12.0,10\n", encoding="utf-8")
    with pytest.raises(InputError, match="already a settlement id"):
        load_region(sc)
    (d / "anchors.csv").write_text("id,lon,lat,kw\nx,94.0,12.0,10\n", encoding="utf-8")
    with pytest.raises(InputError, match="anchor_load_kw"):
        load_region(sc, repair=True)  # a missing required column is not repairable


def _bundled_units(prefix):
    from importlib import resources

    import pandas as pd
    with resources.files("smrplan.data").joinpath("islands.csv").open(encoding="utf-8") as f:
        t = pd.read_csv(f)
    t = t[t["territory"].str.startswith(prefix)]
    return t.rename(columns={"population_2011": "population", "households_2011": "households",
                             "pop_urban_2011": "population_urban"})


@pytest.mark.parametrize(("prefix", "year", "measured_kwh"), [
    ("Andaman", 2001, 135.86e6),   # A&N generation 2000-01 (and.nic.in citizen charter): a 15-year backcast
    ("Andaman", 2016, 201e6),      # A&N generation about 2016 (vidyut.andaman.gov.in): the calibration year
    ("Lakshadweep", 2012, 46e6),   # Lakshadweep gross generation 2011-12: the calibration year
])
def test_backcast_of_the_bundled_islands_within_20_percent(prefix, year, measured_kwh):
    d = load_scenario("india-islands").demand
    modelled = compute_demand(_bundled_units(prefix), d, year)["demand_kwh_per_year"].sum()
    assert modelled == pytest.approx(measured_kwh, rel=0.2)


def test_bundled_islands_demand_grows_from_the_measured_level():
    d = load_scenario("india-islands").demand
    units = _bundled_units("Andaman")
    by_year = [compute_demand(units, d, y)["demand_kwh_per_year"].sum() for y in (2016, 2025, 2035)]
    assert by_year[0] < by_year[1] < by_year[2]
    growth = (1 + d.population_growth_per_year) * (1 + d.consumption_growth_per_year)
    assert by_year[2] / by_year[0] == pytest.approx(growth**19)


def test_calibration_reproduces_the_measured_figure_and_rejects_bad_ones():
    from smrplan.errors import InputError
    d = load_scenario("india-islands").demand
    st_ = _settlements(population=[5_000.0, 5_000.0], measured_energy_kwh=[3e6, np.nan], measured_year=[2016.0, np.nan])
    out = compute_demand(st_, d, 2016)["demand_kwh_per_year"]
    assert out.iloc[0] == pytest.approx(3e6)
    assert out.iloc[1] != pytest.approx(3e6)
    with pytest.raises(InputError, match="measured_energy_kwh"):
        compute_demand(_settlements(population=[5_000.0], measured_energy_kwh=[0.0], measured_year=[2016.0]), d, 2035)
