"""The dispatch stage on real plans: systems built from the plan, energy balance, back-up sizing."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import smrplan
from smrplan.dispatch.reliability import check
from smrplan.dispatch.simulate import write_dispatch_parquet
from smrplan.dispatch.solar import read_tmy
from smrplan.scenario import load_scenario, scenario_yaml

CHEAP_REACTORS = {"ritm200n_land": {"capex_usd_per_kw": 1500.0}, "klt40s_floating": {"capex_usd_per_kw": 1500.0},
                  "evinci_micro": {"capex_usd_per_kw": 2000.0}}


@pytest.fixture(scope="module")
def reactor_run(tmp_path_factory):
    """The island scenario with reactor capex overridden low enough that plants get built."""
    d = tmp_path_factory.mktemp("rel")
    sc = yaml.safe_load(scenario_yaml(load_scenario("india-islands")))
    sc["technologies"]["overrides"] = CHEAP_REACTORS
    sc["name"] = "cheap-reactors"
    path = d / "cheap.yaml"
    path.write_text(yaml.safe_dump(sc), encoding="utf-8")
    plan = smrplan.run(path, out=d / "run")
    return plan, d / "run"


def test_reactor_systems_simulated_and_sized(reactor_run):
    plan, run_dir = reactor_run
    assert plan.summary["reactor_sites"], "cheap reactors should be built"
    section = json.loads((run_dir / "plan.json").read_text())["dispatch"]
    systems = pd.DataFrame(section["systems"])
    reactors = systems[systems["type"].str.endswith("reactor")]
    assert len(reactors) == len(plan.summary["reactor_sites"])
    target = plan.scenario.dispatch.max_unserved_fraction
    assert (systems["unserved_fraction"] <= target + 1e-9).all()
    assert systems["meets_target"].all()
    assert (reactors["reactor_capacity_factor"] > 0).all() and (reactors["reactor_capacity_factor"] <= 1).all()


def test_dispatch_parquet_balances_every_hour(reactor_run):
    _, run_dir = reactor_run
    h = pd.read_parquet(run_dir / "dispatch.parquet")
    assert set(h.groupby("system_id").size()) == {8760}
    gen = h.reactor + h.pv + h.diesel + h.battery_discharge + h.unserved
    use = h.load + h.battery_charge + h.curtailment
    scale = np.maximum(h.load.abs(), 1.0)
    assert (np.abs(gen - use) / scale).max() < 1e-4  # float32 storage: relative tolerance


def test_added_cost_folds_into_totals(reactor_run):
    plan, _ = reactor_run
    s = plan.summary
    added = s["dispatch"]["added_annual_cost_usd"]
    if added:
        assert s["total_annual_cost_usd"] == pytest.approx(s["total_annual_cost_before_dispatch_usd"] + added, abs=0.1)
    assert sum(o["annual_cost_usd"] for o in s["options"].values()) == pytest.approx(s["total_annual_cost_usd"],
                                                                                    rel=1e-6)


# --- PV profile of the dispatch stage: clear sky scaled to the catalogue, or the scenario's solar year

def _with_tmy(pv_tmy, data_dir):
    sc = load_scenario("india-islands")
    return sc.model_copy(update={"dispatch": sc.dispatch.model_copy(update={"pv_tmy": pv_tmy}),
                                 "data_dir": str(data_dir)})


def test_pv_profiles_clear_sky_scaled_to_the_catalogue_yield():
    from smrplan.dispatch.reliability import pv_profiles

    sc = load_scenario("india-islands")
    assert sc.dispatch.pv_tmy is None
    profile = pv_profiles(sc, 0.17, np.array([11.67, 10.57]), np.array([92.74, 72.64]))
    assert profile.shape == (2, 8760)
    np.testing.assert_allclose(profile.sum(axis=1), 0.17 * 8760)


def test_pv_profiles_from_the_scenario_solar_year(tmp_path):
    from smrplan.dispatch.reliability import pv_profiles
    from smrplan.errors import InputError

    hours = np.arange(8760) % 24
    kw = np.where((hours >= 7) & (hours < 17), 0.5, 0.0)  # 1,825 kWh/kWp: its own yield, not the catalogue's
    pd.DataFrame({"kw_per_kwp": kw}).to_csv(tmp_path / "site_pv.csv", index=False)
    profile = pv_profiles(_with_tmy("site_pv.csv", tmp_path), 0.17, np.array([11.67, 10.57]), np.array([92.74, 72.64]))
    np.testing.assert_allclose(profile, np.vstack([kw, kw]))
    with pytest.raises(InputError, match="dispatch.pv_tmy"):
        pv_profiles(_with_tmy("absent.epw", tmp_path), 0.17, np.array([11.67]), np.array([92.74]))


def test_the_solar_year_is_read_once_for_every_chunk_of_systems(tmp_path, monkeypatch):
    from smrplan.dispatch import reliability

    hours = np.arange(8760) % 24
    path = tmp_path / "site_pv.csv"
    pd.DataFrame({"kw_per_kwp": np.where((hours >= 7) & (hours < 17), 0.5, 0.0)}).to_csv(path, index=False)
    reads = []
    monkeypatch.setattr(reliability, "read_tmy", lambda *a, **k: reads.append(a) or read_tmy(*a, **k))
    sc = _with_tmy("site_pv.csv", tmp_path)
    first = reliability.pv_profiles(sc, 0.17, np.array([11.67]), np.array([92.74]))
    again = reliability.pv_profiles(sc, 0.17, np.array([10.57]), np.array([72.64]))
    assert len(reads) == 1
    np.testing.assert_array_equal(first, again)
    pd.DataFrame({"kw_per_kwp": np.where((hours >= 8) & (hours < 16), 0.25, 0.0)}).to_csv(path, index=False)
    changed = reliability.pv_profiles(sc, 0.17, np.array([11.67]), np.array([92.74]))
    assert len(reads) == 2 and changed.sum() < first.sum()  # a file written again is read again


@pytest.mark.parametrize("chunk", [1, 3])
def test_dispatch_by_chunks_is_one_dispatch_of_all_systems(reactor_run, chunk, tmp_path):
    """Chunks of neighbouring systems give the figures, back-up units and kept hourly series of one
    chunk holding every system (plants and PV systems); dispatch.parquet holds the kept systems only."""
    plan, _ = reactor_run

    def run(size):
        sc = plan.scenario.model_copy(update={"dispatch": plan.scenario.dispatch.model_copy(
            update={"chunk_systems": size})})
        return check(sc, plan.catalogue, plan.settlements, plan.optimised.built, plan.standalone, plan.inputs.money)

    whole_section, whole = run(100000)
    section, result = run(chunk)
    assert len(section["systems"]) > 3 and {"pv_battery", "land_reactor"} <= {s["type"] for s in section["systems"]}
    assert section["systems"] == whole_section["systems"]
    pd.testing.assert_frame_equal(result.totals, whole.totals)
    assert result.hourly_ids.tolist() == whole.hourly_ids.tolist()
    for name in ("soc", "diesel", "unserved", "reactor", "load", "pv"):
        np.testing.assert_array_equal(getattr(result.hourly, name), getattr(whole.hourly, name), err_msg=name)
    frame = pd.read_parquet(write_dispatch_parquet(result, tmp_path / "dispatch.parquet"))
    assert sorted(frame["system_id"].unique()) == sorted(result.hourly_ids)