"""The roadmap on the bundled islands: one period without lead time or learning is the single-year
plan; supply in every period; earliest order years; the run directory, report and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import run_cli
from smrplan.catalogue.catalogue import read_catalogue
from smrplan.outputs.write import write_roadmap_run
from smrplan.pipeline import make_plan, make_roadmap
from smrplan.scenario import Scenario, bundled_text, load_scenario


def islands(carbon_usd_per_t: float = 150.0, **reactor_overrides) -> Scenario:
    """The islands at the low end of every reactor's capex range with a carbon price, so that plants pay."""
    sc = load_scenario("india-islands")
    cat = read_catalogue()
    reactors = [k for k in sc.technologies.enabled if cat[k].is_reactor]
    overrides = {k: {"capex_usd_per_kw": cat[k].parameters["capex_usd_per_kw"].low, **reactor_overrides} for k in reactors}
    return sc.model_copy(update={
        "technologies": sc.technologies.model_copy(update={"overrides": overrides}),
        "finance": sc.finance.model_copy(update={"carbon_price_usd_per_t": carbon_usd_per_t}),
        "optimisation": sc.optimisation.model_copy(update={"mip_gap": 0.0}), "target_year": 2050})


def with_periods(sc: Scenario, first: int, last: int, **kw) -> Scenario:
    return sc.model_copy(update={"roadmap": sc.roadmap.model_copy(update={"first_year": first, "last_year": last, **kw})})


@pytest.fixture(scope="module")
def roadmap():
    return make_roadmap(islands())


def test_one_period_without_lead_time_or_learning_is_the_single_year_plan():
    sc = islands(construction_years=0.0, learning_rate_per_doubling=0.0)
    plan = make_plan(sc, dispatch=False, sensitivity=False)
    assert plan.optimised.built  # a case where reactors are built
    r = make_roadmap(with_periods(sc, 2050, 2050, myopic_comparison=False))
    assert r.outcome.plan.annual_cost_usd[0] == pytest.approx(plan.optimised.result.objective_usd, rel=1e-6)
    assert sorted(r.outcome.plants["site_id"]) == sorted(b["site_id"] for b in plan.optimised.built)


def test_every_place_has_supply_in_every_year(roadmap):
    plan, plants = roadmap.outcome.plan, roadmap.outcome.plants
    assert len(plants) and (plants["first_power_year"] <= plants["service_year"]).all()
    rp, option = plan.rp, roadmap.outcome.settlement_option
    in_service = np.einsum("vs,vst->vt", plan.run.decided.astype(float), rp.serves()[rp.design[plan.options[0]]].astype(float))
    t, s = np.nonzero(option >= 0)
    assert (in_service[option[t, s], t] > 0).all()  # served only by a plant in service
    assert np.isfinite(rp.c).all()  # everyone else keeps a stand-alone option: the bridging supply
    assert (roadmap.trajectory["annual_cost_usd"] > 0).all() and len(roadmap.trajectory) == 25


def test_a_design_not_available_until_2040_is_never_started_earlier():
    later = make_roadmap(with_periods(islands(earliest_order_year=2040.0), 2030, 2050, myopic_comparison=False))
    assert len(later.outcome.plants) and (later.outcome.plants["decision_year"] >= 2040).all()


def test_myopic_costs_at_least_the_roadmap(roadmap):
    m = roadmap.summary["roadmap"]["myopic"]
    assert m["extra_cost_usd"] >= -1e-6 * roadmap.outcome.plan.objective_usd


def test_why_this_order_every_early_plant_saves_and_its_delay_costs(roadmap):
    """With a zero MIP gap, taking a plant's site away or delaying the plant can only cost more; a plant of
    the last period delayed leaves the horizon, so its delay costs what it saves."""
    plants, objective = roadmap.outcome.plants, roadmap.outcome.plan.objective_usd
    explained = plants.dropna(subset=["saving_usd"])
    assert len(explained) == min(len(plants), roadmap.scenario.roadmap.explain_order_max_plants) > 0
    assert (explained["saving_usd"] >= -1e-6 * objective).all()
    assert (explained["delay_cost_usd"] >= -1e-6 * objective).all()
    assert (explained["saving_usd"] > 0).any()  # at least one site is worth having
    last = explained[explained["decision_year"] == roadmap.outcome.plan.rp.years[-1]]
    assert (last["delay_cost_usd"] == last["saving_usd"]).all()


def test_the_run_directory_has_the_roadmap_trajectory_and_gantt_chart(roadmap, tmp_path):
    out = write_roadmap_run(roadmap, tmp_path / "run", protected=[])
    plants = pd.read_csv(out / "roadmap.csv")
    assert list(plants.columns[:8]) == ["site_id", "kind", "design", "modules", "capacity_mw", "decision_year",
                                        "first_power_year", "service_year"]
    assert len(plants) == len(roadmap.outcome.plants) and "places_served" in plants
    traj = pd.read_csv(out / "trajectory.csv")
    assert {"capex_usd", "annual_cost_usd", "co2_t", "diesel_l"} <= set(traj.columns)
    assert traj["capex_usd"].sum() == pytest.approx(plants["capex_usd"].sum())
    assert json.loads((out / "plan.json").read_text())["study"] == "roadmap"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "plot-gantt" in page and plants["site_id"].iloc[0] in page
    assert (out / ".smrplan-run").exists() and (out / "catalogue.json").exists()
    # the map: land, every place with the first year a plant serves it, plants coloured by first-power year
    st = pd.read_csv(out / "roadmap_settlements.csv")
    assert len(st) == len(roadmap.inputs.settlements) and st["first_reactor_year"].notna().any()
    served = roadmap.outcome.settlement_option >= 0
    assert (st["first_reactor_year"].notna().to_numpy() == served.any(axis=0)).all()
    assert st["first_reactor_year"].min() >= plants["service_year"].min()
    assert 'id="map"' in page and "land and coast" in page and "plants by first-power year" in page
    assert "a period's delay costs" in page
    done = run_cli(["report", str(out)], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr  # the report regenerates from the run directory



def test_without_reactor_technologies_the_roadmap_is_everyone_stand_alone():
    sc = load_scenario("india-islands")
    alone = sc.model_copy(update={"technologies": sc.technologies.model_copy(
        update={"enabled": ["diesel_minigrid", "pv_battery_hybrid", "grid_extension", "submarine_cable"]})})
    r = make_roadmap(alone)
    rp = r.outcome.plan.rp
    assert r.outcome.plants.empty and (r.outcome.settlement_option < 0).all()
    assert r.outcome.plan.objective_usd == pytest.approx(float(rp.weight @ rp.c.sum(axis=1)))


def test_run_on_a_roadmap_study_writes_the_roadmap(tmp_path):
    """`smrplan run` on a scenario with a roadmap block plans its periods, as `smrplan roadmap` does; a
    bad roadmap value exits 2 naming the field."""
    raw = yaml.safe_load(bundled_text("india-islands"))
    raw.pop("study", None)  # a roadmap block alone makes it a roadmap study
    raw.update(roadmap={"first_year": 2030, "last_year": 2035, "myopic_comparison": False, "explain_order_max_plants": 0})
    sc = tmp_path / "islands-roadmap.yaml"
    sc.write_text(yaml.safe_dump(raw), encoding="utf-8")
    r = run_cli(["run", sc, "--out", tmp_path / "run"], timeout=600)
    assert r.returncode == 0, r.stderr
    assert "roadmap 2030-2035" in r.stdout
    out = tmp_path / "run"
    assert json.loads((out / "plan.json").read_text())["roadmap"]["periods"] == [2030, 2035]
    assert (out / "roadmap.csv").is_file() and (out / "report.html").is_file()
    assert load_scenario("india-islands").study == "settlements"  # the defaults' roadmap block alone does not
    raw["roadmap"]["explain_order_max_plants"] = -1
    sc.write_text(yaml.safe_dump(raw), encoding="utf-8")
    r = run_cli(["run", sc, "--out", tmp_path / "bad"], timeout=300)
    assert r.returncode == 2 and "explain_order_max_plants" in r.stderr and not (tmp_path / "bad").exists()
