"""Monte Carlo sweeps: draws, correlation, bad blocks, identical results on 0 or 2 Dask workers,
resuming a killed sweep, re-optimisation with region rules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from smrplan import pipeline
from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.errors import InputError
from smrplan.options import ALL_OPTIONS
from smrplan.scenario import load_scenario, parse_scenario
from smrplan.uncertainty import model as M
from smrplan.uncertainty import sampling as S
from smrplan.uncertainty import sweep as U

DRAWS, BATCH = 240, 20
OUTPUTS = ("draws.parquet", "settlement_options.parquet", "sites.parquet", "tornado.parquet")
CLI = [sys.executable, "-c", "from smrplan.cli.main import main; main()"]


def _sampler(block: dict) -> S.Sampler:
    sc = parse_scenario({"name": "t", "data": {"settlements": "bundled:islands.csv"}, "uncertainty": block}, "t.yaml")
    cat = resolve_catalogue(sc.technologies.enabled, sc.technologies.overrides, sc.finance.base_year, sc.source)
    return S.resolve_distributions(sc, cat)


@pytest.fixture(scope="module")
def reopt_model() -> M.SweepModel:
    sc = M.with_uncertainty(load_scenario("india-islands"), draws=DRAWS, batch_draws=BATCH)
    inputs = pipeline.prepare_inputs(sc)
    return M.build_model(inputs, pipeline.cost_basis_of(inputs, pipeline.screen_sites(inputs)), reoptimise=True)


@pytest.fixture(scope="module")
def model(reopt_model) -> M.SweepModel:
    return replace(reopt_model, reoptimise=False, region=None)


@pytest.fixture(scope="module")
def reference(model, tmp_path_factory) -> Path:
    """The sweep run in this process, batch after batch."""
    out = tmp_path_factory.mktemp("sweeps") / "reference"
    U.run_sweep(model, out)
    return out


def _same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ja, jb = (json.loads((d / "sweep.json").read_text()) for d in (a, b))
    for key in U.VOLATILE_FIELDS:
        ja.pop(key), jb.pop(key)
    assert ja == jb


def test_distributions_sample_within_their_ranges():
    sampler = _sampler({"parameters": [
        {"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "triangular"},
        {"target": "pv_battery_hybrid.pv_capex_usd_per_kw", "distribution": "uniform", "low": 500, "high": 900},
        {"target": "pv_battery_hybrid.battery_capex_usd_per_kwh", "distribution": "lognormal"},
        {"target": "demand.tier_kwh_scale", "distribution": "triangular", "low": 0.8, "high": 1.3}]})
    x = sampler.values(np.arange(4000))
    low = np.concatenate([d.low for d in sampler.distributions])
    high = np.concatenate([d.high for d in sampler.distributions])
    base = sampler.base()
    assert (x >= low).all() and (x <= high).all()
    assert x[:, 0].mean() == pytest.approx((low[0] + base[0] + high[0]) / 3, rel=0.01)  # triangular mean
    assert np.median(x[:, 2]) == pytest.approx(base[2], rel=0.05)  # lognormal median = catalogue value
    assert x[:, 1].mean() == pytest.approx(700, rel=0.02)
    assert base[3] == 1.0
    # draw i depends on the seed and i only: a later slice equals the same draws taken alone
    np.testing.assert_array_equal(sampler.values(np.arange(3000, 3010)), x[3000:3010])
    child = np.random.SeedSequence(sampler.seed).spawn(8)[7]
    z = np.random.default_rng(child).standard_normal(len(sampler.distributions))
    np.testing.assert_array_equal(sampler.scores(np.array([7]))[0], z)


def test_correlated_parameters_move_together():
    sampler = _sampler({"parameters": [
        {"target": "reactors.capex_usd_per_kw", "distribution": "uniform"},
        {"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "uniform"},
        {"target": "diesel_minigrid.capex_usd_per_kw", "distribution": "uniform"},
        {"target": "pv_battery_hybrid.pv_capex_usd_per_kw", "distribution": "uniform"},
        {"target": "pv_battery_hybrid.battery_capex_usd_per_kwh", "distribution": "uniform"}],
        "correlations": [{"parameters": ["diesel_minigrid.diesel_price_usd_per_l", "diesel_minigrid.capex_usd_per_kw"],
                          "rho": 1.0},
                         {"parameters": ["pv_battery_hybrid.pv_capex_usd_per_kw",
                                         "pv_battery_hybrid.battery_capex_usd_per_kwh"], "rho": 0.7}]})
    x = sampler.values(np.arange(3000))
    low = np.concatenate([d.low for d in sampler.distributions])
    high = np.concatenate([d.high for d in sampler.distributions])
    u = (x - low) / (high - low)  # uniform quantiles
    reactors = sampler.distributions[0]
    assert len(reactors.columns) >= 6 and all(c.endswith(".capex_usd_per_kw") for c in reactors.columns)
    k = len(reactors.columns)
    np.testing.assert_allclose(u[:, :k], u[:, [0]] * np.ones((1, k)), atol=1e-9)  # one shared draw
    np.testing.assert_allclose(u[:, k], u[:, k + 1], atol=1e-9)  # rho = 1
    ranks = pd.DataFrame(u[:, k + 2:]).corr(method="spearman").iloc[0, 1]
    assert 0.6 < ranks < 0.75  # Spearman of a Gaussian copula with rho 0.7 is 0.68
    assert abs(pd.DataFrame(u[:, [0, k + 2]]).corr(method="spearman").iloc[0, 1]) < 0.06  # independent


@pytest.mark.parametrize("block, field, words", [
    ({"parameters": [{"target": "diesel_minigrid.no_such_thing", "distribution": "uniform"}]},
     "uncertainty.parameters.0.target", "no numeric parameter"),
    ({"parameters": [{"target": "nowhere_reactor.capex_usd_per_kw", "distribution": "uniform"}]},
     "uncertainty.parameters.0.target", "unknown technology"),
    ({"parameters": [{"target": "finance.horizon_years", "distribution": "uniform", "low": 20, "high": 40}]},
     "uncertainty.parameters.0.target", "unknown target"),
    ({"parameters": [{"target": "finance.discount_rate", "distribution": "uniform"}]},
     "uncertainty.parameters.0.low", "no catalogue range"),
    ({"parameters": [{"target": "reactors.capex_usd_per_kw", "distribution": "uniform", "low": 1000}]},
     "uncertainty.parameters.0.low", "each technology's catalogue range"),
    ({"parameters": [{"target": "klt40s_floating.cooling", "distribution": "uniform"}]},
     "uncertainty.parameters.0.target", "no numeric parameter"),
    ({"parameters": [{"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "triangular",
                      "low": 1.5, "high": 2.0}]}, "uncertainty.parameters.0", "outside"),
    ({"parameters": [{"target": "finance.discount_rate", "distribution": "uniform", "low": -0.02, "high": 0.1}]},
     "uncertainty.parameters.0.low", "not a valid finance.discount_rate"),
    ({"parameters": [{"target": "reactors.capex_usd_per_kw", "distribution": "uniform"},
                     {"target": "bwrx300.capex_usd_per_kw", "distribution": "uniform"}]},
     "uncertainty.parameters.1.target", "already drawn"),
])
def test_bad_blocks_name_the_field(block, field, words):
    with pytest.raises(InputError) as err:
        _sampler(block)
    assert err.value.file == "t.yaml" and err.value.field == field and words in err.value.message


@pytest.mark.parametrize("block, words", [
    ({"parameters": [{"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "uniform",
                      "low": 2, "high": 1}]}, "uncertainty.parameters.0: Value error, low (2.0) is greater than high"),
    ({"parameters": [{"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "beta"}]},
     "uncertainty.parameters.0.distribution"),
    ({"parameters": [{"target": "diesel_minigrid.diesel_price_usd_per_l", "distribution": "uniform", "sd": 1}]},
     "uncertainty.parameters.0.sd: unknown key"),
    ({"correlations": [{"parameters": ["finance.discount_rate", "demand.nothing"], "rho": 0.5}]},
     "not among the parameters' targets"),
])
def test_invalid_blocks_fail_validation_naming_the_field(block, words):
    with pytest.raises(InputError) as err:
        parse_scenario({"name": "t", "data": {"settlements": "x.csv"}, "uncertainty": block}, "t.yaml")
    assert err.value.file == "t.yaml" and words in err.value.message


def test_reoptimise_builds_sites_and_never_costs_more_than_own_plants(reopt_model, model):
    mip_gap = reopt_model.scenario.optimisation.mip_gap
    plan = M.run_batch(reopt_model, 0, 0, 3)
    alone = M.run_batch(model, 0, 0, 3)
    assert (plan.draws["total_annual_cost_usd"] <= alone.draws["total_annual_cost_usd"] * (1 + mip_gap)).all()
    built_draws = int((plan.draws["reactor_capacity_mw"] > 0).sum())
    assert plan.site_counts.sum() >= built_draws and (plan.site_counts.sum() == 0) == (built_draws == 0)
    assert plan.option_counts.sum() == 3 * len(reopt_model.settlements)


def test_least_cost_rows_by_parts_of_the_settlements_equal_the_whole(model):
    """Without re-optimising a row's costs are held one part of the settlements at a time; the
    figures are those of all settlements at once."""
    scale = model.scenario.scale.model_copy(update={"partition_above_settlements": 0, "partition_settlements": 4})
    parted = replace(model, scenario=model.scenario.model_copy(update={"scale": scale}))
    assert len(model.parts) == 1 and len(parted.parts) == -(-len(model.settlements) // 4) > 1
    whole, by_parts = M.run_batch(model, 0, 0, 5), M.run_batch(parted, 0, 0, 5)
    pd.testing.assert_frame_equal(by_parts.draws, whole.draws, check_exact=False, rtol=1e-12)
    np.testing.assert_array_equal(by_parts.option_counts, whole.option_counts)
    np.testing.assert_array_equal(by_parts.site_counts, whole.site_counts)
    assert whole.draws["total_annual_cost_usd"].nunique() > 1  # the rows differ


def test_rows_on_threads_give_the_rows_one_after_the_other(model, monkeypatch):
    """Without re-optimising, rows run side by side on threads; each row's figures and the counts are
    those of one thread."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    alone = M.run_batch(model, 0, 0, 12)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    threaded = M.run_batch(model, 0, 0, 12)
    pd.testing.assert_frame_equal(threaded.draws, alone.draws, check_exact=True)
    np.testing.assert_array_equal(threaded.option_counts, alone.option_counts)
    np.testing.assert_array_equal(threaded.site_counts, alone.site_counts)
    assert alone.option_counts.sum() == 12 * len(model.settlements)


def test_sweep_outputs(reference, model):
    s = json.loads((reference / "sweep.json").read_text())
    assert s["draws"] == DRAWS and s["seed"] == model.scenario.uncertainty.seed and s["workers"] == 0
    for key in U.SUMMARY_METRICS:
        p = s["percentiles"][key]
        assert p["p5"] <= p["p50"] <= p["p95"]
    assert {t["parameter"] for t in s["tornado"]} == {p.target for p in model.scenario.uncertainty.parameters}
    swings = [t["swing_usd"] for t in s["tornado"]]
    assert swings == sorted(swings, reverse=True)
    for t in s["tornado"]:
        assert set(t) >= {"parameter", "low_value", "high_value", "low_total_usd", "high_total_usd",
                          "low_reactor_share", "high_reactor_share"}
    draws = pd.read_parquet(reference / "draws.parquet")
    assert draws["draw"].tolist() == list(range(DRAWS))
    assert set(model.sampler.columns) <= set(draws.columns)
    assert draws[[f"settlements_{o}" for o in ALL_OPTIONS]].sum(axis=1).eq(len(model.settlements)).all()
    assert s["percentiles"]["total_annual_cost_usd"]["mean"] == pytest.approx(draws["total_annual_cost_usd"].mean())
    st = pd.read_parquet(reference / "settlement_options.parquet")
    np.testing.assert_allclose(st[[f"p_{o}" for o in ALL_OPTIONS]].sum(axis=1), 1.0)
    sites = pd.read_parquet(reference / "sites.parquet")
    assert len(sites) == len(model.sites) and sites["p_least_cost"].between(0, 1).all()


def test_two_dask_workers_give_the_same_results(model, reference, tmp_path):
    with U.open_client(workers=2) as client:
        s = U.run_sweep(model, tmp_path / "dask", client)
    assert s["workers"] == 2
    _same_outputs(reference, tmp_path / "dask")


def test_killed_sweep_resumes_to_the_same_results(model, reference, tmp_path):
    """The CLI is killed (SIGKILL) after a few batches; resuming runs only the missing ones."""
    out = tmp_path / "killed"
    args = [*CLI, "sweep", "india-islands", "--draws", str(DRAWS), "--batch-draws", str(BATCH), "--workers", "0",
            "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120

    def finished_batches() -> list[str]:
        done = out / "done.txt"
        return [b for b in done.read_text().split() if b != M.TORNADO_ID] if done.exists() else []

    while len(finished_batches()) < 3 and proc.poll() is None:
        assert time.monotonic() < deadline, "no batch finished"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "sweep.json").exists(), "the sweep finished before it could be killed"
    done = finished_batches()
    s = U.run_sweep(model, out)  # the same sweep as the command's, resumed in this process
    assert s["resumed_draws"] == BATCH * len(done) >= 3 * BATCH
    _same_outputs(reference, out)


def test_a_different_sweep_is_not_mixed_into_an_existing_directory(model, reference):
    unc = model.scenario.uncertainty.model_copy(update={"seed": model.scenario.uncertainty.seed + 1})
    other = replace(model, scenario=model.scenario.model_copy(update={"uncertainty": unc}))
    with pytest.raises(InputError) as err:
        U.run_sweep(other, reference)
    assert err.value.field == "--out" and "different sweep" in err.value.message


def test_cli_reports_a_bad_block_with_status_2(tmp_path, monkeypatch, capsys):
    from smrplan.cli.main import main

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "data": {"settlements": "bundled:islands.csv"},
                                    "uncertainty": {"parameters": [{"target": "diesel_minigrid.price",
                                                                    "distribution": "uniform"}]}}))
    monkeypatch.setattr(sys, "argv", ["smrplan", "sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "0"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert "uncertainty.parameters.0.target" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_a_damaged_part_is_computed_again_on_resume(model, reference, tmp_path):
    import shutil

    out = tmp_path / "damaged"
    shutil.copytree(reference, out)
    for name in ("sweep.json", *OUTPUTS):
        (out / name).unlink()
    first = sorted((out / "parts").glob("draws-0*.parquet"))[0]
    first.write_bytes(first.read_bytes()[:100])  # a torn part file
    (out / "done.txt").write_text((out / "done.txt").read_text() + "x!\n")  # and a damaged record
    s = U.run_sweep(model, out)
    assert s["resumed_draws"] == DRAWS - BATCH
    _same_outputs(reference, out)


def test_a_part_of_the_wrong_shape_is_computed_again_on_resume(model, reference, tmp_path):
    import shutil

    out = tmp_path / "wrong"
    shutil.copytree(reference, out)
    for name in ("sweep.json", *OUTPUTS):
        (out / name).unlink()
    parts = sorted((out / "parts").glob("draws-0*.parquet"))
    pd.read_parquet(parts[0]).iloc[:1].to_parquet(parts[0])  # whole Parquet, rows missing
    sites = sorted((out / "parts").glob("sites-0*.parquet"))[1]
    pd.DataFrame({"other": [1]}).to_parquet(sites)  # whole Parquet, wrong columns
    (out / "done.txt").write_text((out / "done.txt").read_text() + "999999\n")  # a batch of no such number
    s = U.run_sweep(model, out)
    assert s["resumed_draws"] == DRAWS - 2 * BATCH
    _same_outputs(reference, out)


def test_a_part_damaged_inside_is_an_error_naming_it_and_computed_again_once_removed(model, reference, tmp_path):
    import shutil

    out = tmp_path / "inside"
    shutil.copytree(reference, out)
    for name in ("sweep.json", *OUTPUTS):
        (out / name).unlink()
    part = sorted((out / "parts").glob("draws-0*.parquet"))[0]
    data = bytearray(part.read_bytes())
    data[8:60] = b"\xab" * 52  # a page header overwritten: the footer is whole, the data are not
    part.write_bytes(bytes(data))
    with pytest.raises(InputError, match=f"{part.name}: damaged sweep part .*remove the file and rerun"):
        U.run_sweep(model, out)
    part.unlink()
    s = U.run_sweep(model, out)
    assert s["resumed_draws"] == DRAWS - BATCH
    _same_outputs(reference, out)


def test_region_groups_name_blank_and_padded_places_once_in_sorted_order():
    names = np.array(["Kerala", "Tamil Nadu ", " Kerala", "", None, "Assam"], dtype=object)
    rows = names[np.random.default_rng(0).integers(0, 6, 500)]
    for column in (pd.Series(rows), pd.Series(pd.Categorical(rows))):  # state names come as either
        regions = M.region_groups(pd.DataFrame({"territory": ["one"] * 500, "state": column}))
        assert regions.column == "state" and regions.names == ["Assam", "Kerala", "Tamil Nadu", "unknown"]
        want = pd.Series(rows).fillna("").str.strip().replace("", "unknown").map(regions.names.index)
        assert np.array_equal(regions.codes, want.to_numpy())
    alone = M.region_groups(pd.DataFrame({"state": ["Goa"] * 3}))
    assert alone.column is None and alone.names == [M.ALL_REGION] and alone.codes.tolist() == [0, 0, 0]
