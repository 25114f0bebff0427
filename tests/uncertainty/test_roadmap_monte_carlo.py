"""Monte Carlo on the roadmap: zero-width ranges give the deterministic roadmap in every draw; the
probability that a site is started by a period lies in [0, 1] and never falls over the periods; the
run directory, report and bad input of `smrplan roadmap --draws`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.test_roadmap_islands import islands, with_periods

from conftest import run_cli
from smrplan.pipeline import make_roadmap
from smrplan.scenario import Scenario, UncertainParameter, scenario_yaml


def fixed_inputs(sc: Scenario) -> Scenario:
    """The scenario with its uncertain inputs of zero width, at their base values."""
    params = [UncertainParameter(target="finance.discount_rate", distribution="uniform", low=sc.finance.discount_rate,
                                 high=sc.finance.discount_rate),
              UncertainParameter(target="demand.population_growth_per_year", distribution="triangular",
                                 low=sc.demand.population_growth_per_year, high=sc.demand.population_growth_per_year)]
    return sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"parameters": params, "correlations": [],
                                                                                  "batch_draws": 1})})


def test_zero_width_ranges_give_the_deterministic_roadmap_in_every_draw():
    sc = fixed_inputs(with_periods(islands(), 2030, 2045, myopic_comparison=False, explain_order_max_plants=0))
    r = make_roadmap(sc, draws=2)  # two batches of one draw, in this process
    probabilities, draws, section = r.monte_carlo
    plants = r.outcome.plants
    assert len(plants) and section["draws"] == 2 and len(draws) == 2
    assert draws["present_worth_usd"].to_numpy() == pytest.approx(r.outcome.plan.objective_usd, rel=1e-9)
    assert set(probabilities["site_id"]) == set(plants["site_id"])  # no other site is ever started
    decided = plants.set_index("site_id")
    for row in probabilities.itertuples():
        assert row.p_started == float(row.period_year >= decided.at[row.site_id, "decision_year"])
        service = decided.at[row.site_id, "service_year"]
        assert row.p_in_service == float(0 <= service <= row.period_year)


def test_probabilities_by_site_and_period_in_the_run_directory_and_report(tmp_path):
    """Uncertain inputs at their default ranges: probabilities within [0, 1], non-decreasing over the
    periods for each site, a site in service only once started; plan.json, the parquet and the report;
    the roadmap (and every draw's) by the rolling horizon, its bound and gap reported."""
    sc = with_periods(islands(), 2030, 2040, myopic_comparison=False, explain_order_max_plants=0, method="rolling",
                      lookahead_periods=0)
    path = tmp_path / "islands-roadmap.yaml"
    path.write_text(scenario_yaml(sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(
        update={"batch_draws": 2})})), encoding="utf-8")
    done = run_cli(["roadmap", path, "--out", tmp_path / "run", "--draws", "4", "--workers", "0"], timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "run"
    p = pd.read_parquet(out / "roadmap_probabilities.parquet")
    assert len(p) and p[["p_started", "p_in_service"]].apply(lambda c: c.between(0.0, 1.0)).all().all()
    wide = p.pivot_table(index="site_id", columns="period_year", values="p_started").to_numpy()
    assert (np.diff(wide, axis=1) >= 0).all()
    assert (p["p_in_service"] <= p["p_started"]).all()
    assert (p["p_started"] * 4).round(9).mod(1).eq(0).all()  # shares of four draws
    section = json.loads((out / "plan.json").read_text())["roadmap"]
    assert section["method"] == "rolling" and section["lookahead_periods"] == 0 and section["gap"] >= 0.0
    assert section["bound_usd"] <= section["present_worth_usd"]
    mc = section["monte_carlo"]
    assert mc["draws"] == 4 and mc["sites_ever_started"] == p["site_id"].nunique()
    assert len(pd.read_parquet(out / "roadmap_draws.parquet")) == 4
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="roadmap-uncertainty"' in page and "started by 2040" in page and p["site_id"].iloc[0] in page
    assert "LP relaxation" in page and "a proven gap" in page
    assert "4 draws" in done.stdout


def test_a_bad_uncertainty_block_exits_2_before_any_computation(tmp_path):
    sc = islands()
    bad = sc.uncertainty.model_copy(update={"parameters": [UncertainParameter(target="finance.discount_rate",
                                                                              distribution="uniform")]})
    path = tmp_path / "bad.yaml"
    path.write_text(scenario_yaml(sc.model_copy(update={"uncertainty": bad})), encoding="utf-8")
    done = run_cli(["roadmap", path, "--out", tmp_path / "run", "--draws", "2", "--workers", "0"], timeout=300)
    assert done.returncode == 2 and "uncertainty.parameters" in done.stderr and not (tmp_path / "run").exists()
