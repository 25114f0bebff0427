"""One cost engine: the plan, the Monte Carlo sweep's base draw, the tornado's base case and the
explorer's initial state cost every option for every settlement identically and make the same
choices, on a scenario that uses every scenario feature (region rules, carbon price, anchor loads,
catalogue overrides, minimum reactor share). A default run reads the region and screens the sites
once; the sweep re-optimises with region rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import smrplan.pipeline as pipeline
from conftest import run_cli
from smrplan.api import plan, run
from smrplan.explore import load_target, optimise_state, option_costs_for, prepare_state
from smrplan.options import ALL_OPTIONS, REACTOR_OPTIONS
from smrplan.uncertainty.model import build_model, costs_of, draw_inputs, reoptimise, run_tornado
from smrplan.uncertainty.tornado import tornado_entries

LAKSHADWEEP_RULE = {"territory": {"Lakshadweep": ["floating_reactor"]}}


@pytest.fixture(scope="module")
def scenario_path(tmp_path_factory) -> Path:
    """india-islands with region rules, a carbon price, an anchor load at Port Blair, cheaper reactors
    and a minimum reactor share."""
    d = tmp_path_factory.mktemp("every-feature")
    pd.DataFrame({"id": ["port-blair-harbour"], "name": ["Port Blair harbour"], "type": ["port"],
                  "anchor_load_kw": [4000.0], "lon": [92.7340], "lat": [11.6680]}).to_csv(d / "anchors.csv", index=False)
    sc = {"name": "every-feature", "target_year": 2035,
          "data": {"settlements": "bundled:islands.csv", "anchor_loads": str(d / "anchors.csv")},
          "finance": {"carbon_price_usd_per_t": 60.0},
          "technologies": {"overrides": {"bsmr200_india": {"capex_usd_per_kw": 2500.0},
                                         "smr55_india": {"capex_usd_per_kw": 3000.0},
                                         "ritm200m_floating": {"capex_usd_per_kw": 3500.0}}},
          "optimisation": {"allowed_options_by_region": LAKSHADWEEP_RULE, "min_reactor_share": 0.3},
          "outputs": {"report": False}}
    path = d / "every-feature.yaml"
    path.write_text(yaml.safe_dump(sc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def the_plan(scenario_path):
    return plan(scenario_path)


def test_the_scenario_uses_every_feature(the_plan):
    st = the_plan.settlements
    assert the_plan.region.anchor_loads["joined"] == 1
    assert the_plan.summary["options"]["land_reactor"]["settlements"] + \
        the_plan.summary["options"]["floating_reactor"]["settlements"] > 0, "cheap reactors should be built"
    lak = (st["territory"] == "Lakshadweep").to_numpy()
    for option in ("land_reactor", "micro_reactor"):
        assert np.isnan(the_plan.costs.annual(option)[lak]).all(), f"the region rule must forbid {option}"
        assert not st.loc[lak, "chosen_option"].eq(option).any()


def test_plan_sweep_tornado_and_explorer_cost_and_choose_identically(the_plan):
    p = the_plan
    costs = p.costs
    chosen, cost = costs.least_cost()
    e = p.settlements["demand_kwh_per_year"].to_numpy(float)
    for j, option in enumerate(ALL_OPTIONS):  # the plan's own LCOE columns are the engine's
        if option not in REACTOR_OPTIONS:
            np.testing.assert_array_equal(p.settlements[f"lcoe_{option}_usd_per_kwh"].to_numpy(float),
                                          costs.annual_usd[:, j] / e, err_msg=option)

    model = build_model(p.inputs, p.basis)
    base = model.sampler.base()
    drawn = costs_of(model, draw_inputs(model, base))
    np.testing.assert_array_equal(drawn.annual_usd, costs.annual_usd)
    np.testing.assert_array_equal(drawn.least_cost()[0], chosen)

    frame = run_tornado(model).draws
    assert frame["total_annual_cost_usd"].iloc[0] == pytest.approx(cost.sum(), rel=1e-12)
    entries, _ = tornado_entries(model, frame)  # the report reads the tornado against its own base
    assert all(e["base_total_usd"] == pytest.approx(cost.sum(), rel=1e-12) for e in entries)
    counts = np.bincount(chosen, minlength=len(ALL_OPTIONS))
    assert [int(frame[f"settlements_{o}"].iloc[0]) for o in ALL_OPTIONS] == counts.tolist()

    state = prepare_state(load_target(str(p.scenario.source)))
    explored = option_costs_for(state, state.base)
    np.testing.assert_array_equal(explored.annual_usd, costs.annual_usd)
    np.testing.assert_array_equal(state.base_choice, chosen)


def test_plan_sweep_and_explorer_optimise_to_the_same_plan(the_plan):
    p = the_plan
    want = p.settlements["chosen_option"].to_numpy()
    model = build_model(p.inputs, p.basis, reoptimise=True)
    inp = draw_inputs(model, model.sampler.base())
    out = reoptimise(model, inp, costs_of(model, inp))
    assert np.array(ALL_OPTIONS)[out.chosen].tolist() == want.tolist()
    np.testing.assert_allclose(out.cost_usd, p.settlements["chosen_annual_cost_usd"].to_numpy(float), rtol=1e-9)

    state = prepare_state(load_target(str(p.scenario.source)))
    result = optimise_state(state, state.base)
    got = {t["option"]: t["settlements"] for t in result["totals"]}
    assert got == {o: int((want == o).sum()) for o in ALL_OPTIONS}


def test_a_run_reads_the_region_and_screens_the_sites_once(monkeypatch, tmp_path):
    calls = {"load_region": 0, "screen": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pipeline, "load_region", counted("load_region", pipeline.load_region))
    monkeypatch.setattr(pipeline, "screen", counted("screen", pipeline.screen))
    p = run("india-islands", out=tmp_path / "run")
    assert p.scenario.outputs.sensitivity and p.scenario.outputs.dispatch, "the default run has both stages"
    assert p.summary["sensitivity"] and p.summary["dispatch"]["systems"]
    assert calls == {"load_region": 1, "screen": 1}


def test_stages_do_not_modify_their_inputs(the_plan):
    p = the_plan
    before = p.inputs.settlements.copy()
    sites_before = p.screen.sites.copy()
    pipeline.optimise_plan(p.inputs, p.screen, p.basis, p.costs)
    pipeline.dispatch_plan(p)
    pd.testing.assert_frame_equal(p.inputs.settlements, before)
    pd.testing.assert_frame_equal(p.screen.sites, sites_before)
    assert "chosen_option" not in p.inputs.settlements.columns


def test_sweep_reoptimises_with_region_rules(scenario_path, tmp_path):
    out = tmp_path / "sweep"
    r = run_cli(["sweep", str(scenario_path), "--draws", "4", "--batch-draws", "2", "--workers", "0",
                 "--reoptimise", "--out", str(out)], timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads((out / "sweep.json").read_text())
    assert s["draws"] == 4 and s["reoptimise"]
    st = pd.read_parquet(out / "settlement_options.parquet")
    islands = pd.read_csv(Path(__file__).parents[2] / "src/smrplan/data/islands.csv", dtype={"id": str})
    lak = st["id"].isin(islands.loc[islands["territory"] == "Lakshadweep", "id"])
    assert lak.sum() > 0
    assert (st.loc[lak, ["p_land_reactor", "p_micro_reactor"]] == 0).all().all()
