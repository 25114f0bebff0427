"""The command line end to end: the default region, the data-directory scenario and bad input."""

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import yaml

import smrplan as smrplan_package
from conftest import run_cli
from smrplan.options import ALL_OPTIONS, REACTOR_OPTIONS


def smrplan(*args, cwd=None):
    return run_cli([*map(str, args)], cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def islands_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "islands"
    r = smrplan("run", "india-islands", "--out", out)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def test_run_directory_is_complete(islands_run: Path):
    for name in ("scenario.yaml", "catalogue.json", "settlements.gpkg", "sites.gpkg", "sites_rejected.parquet",
                 "site_reasons.csv", "plan.json", "report.html", "log.txt", "dispatch.parquet", "context.gpkg", "plan.qgs"):
        assert (islands_run / name).is_file(), name
    for name in ("settlements.csv", "sites.csv", "sites_rejected.csv"):  # CSV copies only with --csv
        assert not (islands_run / name).exists(), name
    assert not list(islands_run.parent.glob(".islands.tmp-*"))


def test_plan_json_contract_and_consistency(islands_run: Path):
    plan = json.loads((islands_run / "plan.json").read_text())
    for key in ("scenario", "target_year", "settlements", "population", "demand_mwh_per_year", "options",
                "reactor_sites", "total_annual_cost_usd", "emissions_t_co2_per_year", "versions", "solver", "siting"):
        assert key in plan, key
    assert plan["settlements"] == 19
    opts = plan["options"]
    assert set(opts) == set(ALL_OPTIONS)
    assert sum(o["settlements"] for o in opts.values()) == plan["settlements"]
    assert sum(o["population"] for o in opts.values()) == pytest.approx(plan["population"], abs=len(opts))
    assert sum(o["demand_mwh_per_year"] for o in opts.values()) == pytest.approx(plan["demand_mwh_per_year"], rel=1e-6)
    assert sum(o["annual_cost_usd"] for o in opts.values()) == pytest.approx(plan["total_annual_cost_usd"], rel=1e-6)
    assert plan["total_annual_cost_usd"] > 0 and np.isfinite(plan["total_annual_cost_usd"])
    # the plan never costs more than every settlement on its best stand-alone option (both as planned,
    # before the hourly check adds back-up or fuel it finds missing)
    planned = plan.get("total_annual_cost_before_dispatch_usd", plan["total_annual_cost_usd"])
    assert planned <= plan["standalone_annual_cost_usd"] * (1 + 1e-9)
    for site in plan["reactor_sites"]:
        for key in ("site_id", "kind", "technology", "modules", "capacity_mw", "lon", "lat", "settlements_served",
                    "demand_mwh_per_year"):
            assert key in site


def test_every_settlement_chooses_its_cheapest_feasible_option(islands_run: Path):
    st = gpd.read_file(islands_run / "settlements.gpkg", layer="settlements")
    cols = [f"lcoe_{o}_usd_per_kwh" for o in ALL_OPTIONS]
    assert set(cols) <= set(st.columns)
    lcoes = st[cols].to_numpy(float)
    chosen = st.apply(lambda r: r[f"lcoe_{r['chosen_option']}_usd_per_kwh"], axis=1).to_numpy(float)
    assert np.isfinite(chosen).all() and (chosen > 0).all()
    assert np.allclose(chosen, np.nanmin(lcoes, axis=1), rtol=1e-6)
    assert (lcoes[np.isfinite(lcoes)] > 0).all()


def test_a_run_without_the_optimisation_stage_takes_each_settlements_least_cost_option(tmp_path: Path):
    """optimisation.enabled false on the island territories, with cheap microreactors and floating plants so
    that some settlements take a reactor of their own: no model, every settlement on its cheapest option,
    one plant per such settlement, and the run directory complete."""
    scenario = yaml.safe_load((Path(smrplan_package.__file__).parent / "scenarios" / "india-islands.yaml").read_text())
    scenario.setdefault("optimisation", {})["enabled"] = False
    scenario.setdefault("technologies", {})["overrides"] = {"klt40s_floating": {"capex_usd_per_kw": 500.0},
                                                            "evinci_micro": {"capex_usd_per_kw": 500.0}}
    (tmp_path / "skip.yaml").write_text(yaml.safe_dump(scenario))
    out = tmp_path / "run"
    r = smrplan("run", tmp_path / "skip.yaml", "--out", out)
    assert r.returncode == 0, r.stderr + r.stdout
    plan = json.loads((out / "plan.json").read_text())
    assert plan["solver"]["termination"] == "skipped" and "optimisation.enabled is false" in plan["solver"]["status"]
    assert plan["solver"]["variables"] == 0
    st = gpd.read_file(out / "settlements.gpkg", layer="settlements")
    lcoes = st[[f"lcoe_{o}_usd_per_kwh" for o in ALL_OPTIONS]].to_numpy(float)
    chosen = st.apply(lambda r: r[f"lcoe_{r['chosen_option']}_usd_per_kwh"], axis=1).to_numpy(float)
    assert np.array_equal(chosen, np.nanmin(lcoes, axis=1))
    reactors = st["chosen_option"].isin(REACTOR_OPTIONS)
    assert reactors.any() and len(plan["reactor_sites"]) == reactors.sum()
    assert all(len(site["settlements_served"]) == 1 for site in plan["reactor_sites"])
    planned = plan.get("total_annual_cost_before_dispatch_usd", plan["total_annual_cost_usd"])
    assert planned == pytest.approx(plan["solver"]["objective_usd"], rel=1e-9)
    for name in ("report.html", "sites.gpkg", "dispatch.parquet", "log.txt"):
        assert (out / name).is_file(), name


def test_sites_layer_has_reasons(islands_run: Path):
    sites = gpd.read_file(islands_run / "sites.gpkg", layer="sites")
    assert {"site_id", "kind", "suitable", "reason", "built"} <= set(sites.columns)
    assert sites.suitable.astype(bool).all() and (sites.reason == "suitable").all()  # full rows: suitable and built
    rejected = gpd.read_parquet(islands_run / "sites_rejected.parquet")
    assert set(sites.kind) | set(rejected.kind.astype(str)) == {"land", "micro", "floating"}
    assert (rejected.first_failed.astype(str) != "").all() and (rejected.failed.astype(str) != "").all()


def test_report_opens_offline(islands_run: Path):
    html = (islands_run / "report.html").read_text()
    assert "<script src=\"http" not in html and "cdn." not in html.split("Plotly")[0]
    assert "plotly" in html.lower() and 'id="map"' in html


def test_existing_out_is_refused_unless_overwrite(islands_run: Path):
    r = smrplan("run", "india-islands", "--out", islands_run)
    assert r.returncode == 2 and "--overwrite" in r.stderr


def test_scenarios_and_show():
    r = smrplan("scenarios")
    assert r.returncode == 0 and "india-islands" in r.stdout
    r = smrplan("scenario", "show", "india-islands")
    assert r.returncode == 0 and "name: india-islands" in r.stdout and "discount_rate" in r.stdout


def test_data_dir_scenario(shared_data, tmp_path):
    out = tmp_path / "osm"
    r = smrplan("run", "india-islands-osm", "--data-dir", shared_data, "--out", out)
    assert r.returncode == 0, r.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert "land" in plan["data"]["sources"]
    assert plan["data"]["dropped_rows"]["power_plants"] > 0  # GPPD rows without coordinates are counted
    removed = plan["siting"]["removed_by_criterion"]
    assert "water_depth" in removed and "cyclones" in removed and "earthquake_count" in removed
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    fl = sites[(sites.kind == "floating")]
    # floating candidates near the main Andaman islands
    assert ((fl.lon > 92.4) & (fl.lon < 93.2) & (fl.lat > 10.5) & (fl.lat < 13.7)).any()


BAD_SCENARIOS = {
    "unknown_key.yaml": ("name: x\ndata: {settlements: 'bundled:islands.csv'}\nfinanse: {}\n", "finanse"),
    "wrong_type.yaml": ("name: x\ndata: {settlements: 'bundled:islands.csv'}\nfinance: {discount_rate: lots}\n",
                        "finance.discount_rate"),
    "bad_yaml.yaml": ("name: x\ndata: {settlements: [\n", "line"),
    "missing_layer.yaml": ("name: x\ndata: {settlements: nowhere.csv}\n", "nowhere.csv"),
    "unknown_tech.yaml": ("name: x\ndata: {settlements: 'bundled:islands.csv'}\ntechnologies: {enabled: [fusion]}\n",
                          "technologies.enabled"),
    "bad_override.yaml": ("name: x\ndata: {settlements: 'bundled:islands.csv'}\n"
                          "technologies: {overrides: {diesel_minigrid: {diesel_price_usd_per_l: -1}}}\n",
                          "diesel_price_usd_per_l"),
}


@pytest.mark.parametrize("name", sorted(BAD_SCENARIOS))
def test_bad_scenarios_exit_2_without_traceback(tmp_path, name):
    text, field = BAD_SCENARIOS[name]
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = smrplan("run", p, "--out", out)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and field in r.stderr and name in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


@pytest.mark.parametrize("rows, field", [
    ("a,A,72.6,10.5,-4\n", "population"),
    ("a,A,,10.5,4\n", "lon"),
    ("a,A,7260000,1050000,4\n", "lon/lat"),
])
def test_bad_settlements_exit_2(tmp_path, rows, field):
    (tmp_path / "s.csv").write_text("id,name,lon,lat,population\n" + rows, encoding="utf-8")
    (tmp_path / "sc.yaml").write_text("name: x\ndata: {settlements: s.csv}\n", encoding="utf-8")
    r = smrplan("run", tmp_path / "sc.yaml", "--out", tmp_path / "out")
    assert r.returncode == 2 and "s.csv" in r.stderr and field in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def _bad_region(tmp_path: Path) -> Path:
    (tmp_path / "s.csv").write_text(
        "id,name,lon,lat,population\n"
        "a,Port Blair,92.73,11.62,100000\n"
        "a,Bambooflat,92.72,11.70,5000\n"      # duplicate id: renamed a-2
        "c,Havelock,92.98,12.01,-6000\n"        # negative population: dropped
        "d,Neil,,,3000\n"                       # no coordinates: dropped
        "e,Far away,150.0,11.0,700\n",          # outside the region: dropped
        encoding="utf-8")
    (tmp_path / "sc.yaml").write_text(
        "name: repaired\ndata: {settlements: s.csv}\noutputs: {report: false, sensitivity: false, dispatch: false}\n",
        encoding="utf-8")
    return tmp_path


def test_repair_flag_run_logs_fixes_and_counts_them_in_plan_json(tmp_path):
    d = _bad_region(tmp_path)
    r = smrplan("run", d / "sc.yaml", "--data-dir", d, "--out", d.parent / f"{d.name}-out")
    assert r.returncode == 2 and "s.csv: row 5, column lon" in r.stderr and not (d.parent / f"{d.name}-out").exists()
    r = smrplan("run", d / "sc.yaml", "--data-dir", d, "--out", d.parent / f"{d.name}-out", "--repair")
    assert r.returncode == 0, r.stderr
    for part in ("row 3 (id a), column id", "row 4 (id c), column population", "row 5 (id d), geometry",
                 "row 6 (id e), geometry"):
        assert part in r.stderr, part
    plan = json.loads((d.parent / f"{d.name}-out" / "plan.json").read_text())
    assert plan["settlements"] == 2
    assert plan["data"]["repairs"] == {"settlements": {"bad_population": 1, "empty_geometry": 1,
                                                       "outside_region": 1, "duplicate_id": 1}}
    assert plan["data"]["dropped_rows"]["settlements"] == 3
    st = gpd.read_file(d.parent / f"{d.name}-out" / "settlements.gpkg", layer="settlements")
    assert sorted(st["id"]) == ["a", "a-2"]


def test_repair_flag_on_screen_and_data_check(tmp_path):
    d = _bad_region(tmp_path)
    r = smrplan("screen", d / "sc.yaml", "--data-dir", d)
    assert r.returncode == 2 and "row 5, column lon" in r.stderr
    r = smrplan("screen", d / "sc.yaml", "--data-dir", d, "--repair")
    assert r.returncode == 0, r.stderr
    assert "duplicate id; renamed 'a-2'" in r.stderr and "candidates" in r.stdout
    r = smrplan("data", "check", d, "--layer", "settlements=s.csv")
    assert r.returncode == 2
    r = smrplan("data", "check", d, "--layer", "settlements=s.csv", "--repair")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "--repair fixes" in r.stdout.replace("\n", " ") or "fixes:" in r.stdout
    r = smrplan("costs", d / "sc.yaml", "--data-dir", d, "--repair", "--vary", "finance.discount_rate=0.05:0.1")
    assert r.returncode == 0, r.stderr
    assert "row 4 (id c), column population" in r.stderr


@pytest.mark.parametrize("args, option", [(["sweep", "india-islands", "--out", "x", "--draws", "0"], "--draws"),
                                          (["sweep", "india-islands", "--out", "x", "--workers", "-1"], "--workers"),
                                          (["sweep", "india-islands", "--out", "x", "--sobol", "--sobol-samples", "12"],
                                           "--sobol-samples"),
                                          (["alternatives", "india-islands", "--random-directions", "-1"],
                                           "--random-directions"),
                                          (["run", "--bogus"], "--bogus"),
                                          (["explore", "--port", "abc"], "--port")])
def test_usage_errors_exit_2_naming_the_option(args, option, tmp_path):
    r = smrplan(*args, cwd=tmp_path)
    assert r.returncode == 2 and option in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_overwrite_never_replaces_the_input_folder(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "scenario.yaml").write_text(smrplan("scenario", "show", "india-islands").stdout)
    before = sorted(p.name for p in d.iterdir())
    r = smrplan("run", d / "scenario.yaml", "--out", d, "--overwrite")
    assert r.returncode == 2 and "--out" in r.stderr and "input" in r.stderr, r.stderr
    r = smrplan("run", "india-islands", "--out", ".", "--overwrite", cwd=d)
    assert r.returncode == 2 and "only a run directory" in r.stderr, r.stderr
    assert sorted(p.name for p in d.iterdir()) == before


def _small_region(tmp_path: Path) -> Path:
    tmp_path.mkdir()
    (tmp_path / "s.csv").write_text("id,name,lon,lat,population\n001,Port Blair,92.73,11.62,100000\n"
                                    "002,Bambooflat,92.72,11.70,5000\n", encoding="utf-8")
    (tmp_path / "sc.yaml").write_text(
        "name: small\ndata: {settlements: s.csv}\noutputs: {report: false, sensitivity: false, dispatch: false}\n",
        encoding="utf-8")
    return tmp_path


def test_ids_with_leading_zeros_stay_text_in_the_outputs(tmp_path):
    d = _small_region(tmp_path / "d")
    out = tmp_path / "out"
    r = smrplan("run", d / "sc.yaml", "--out", out, "--csv")
    assert r.returncode == 0, r.stderr
    import pandas as pd

    assert sorted(pd.read_csv(out / "settlements.csv", dtype=str)["id"]) == ["001", "002"]
    assert sorted(gpd.read_file(out / "settlements.gpkg", layer="settlements")["id"]) == ["001", "002"]
    assert {s for site in json.loads((out / "plan.json").read_text())["reactor_sites"]
            for s in site["settlements_served"]} <= {"001", "002"}


@pytest.mark.parametrize("out, expect", [
    ("{dir}/s.csv", "would replace the input"),
    ("{dir}/sc.yaml", "would replace the input"),
    ("{tmp}/sites.txt", "unknown suffix '.txt'"),
    ("{tmp}/folder.gpkg", "is a folder"),
    ("{tmp}/afile/sites.gpkg", "afile is a file, not a folder"),
    ("{dir}/sites.gpkg", "lies inside the input or data folder"),
])
def test_screen_out_checked_before_the_screen(tmp_path, out, expect):
    d = _small_region(tmp_path / "d")
    (tmp_path / "folder.gpkg").mkdir()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    before = (d / "s.csv").read_bytes(), (d / "sc.yaml").read_bytes()
    target = out.format(dir=d, tmp=tmp_path)
    r = smrplan("screen", d / "sc.yaml", "--data-dir", d, "--out", target)
    assert r.returncode == 2, r.stderr
    assert "--out: " in r.stderr and expect in r.stderr and "Traceback" not in r.stderr and "candidates" not in r.stdout
    assert ((d / "s.csv").read_bytes(), (d / "sc.yaml").read_bytes()) == before


def test_screen_out_writes_a_geopackage(tmp_path):
    d = _small_region(tmp_path / "d")
    out = tmp_path / "new" / "sites.gpkg"
    r = smrplan("screen", d / "sc.yaml", "--out", out)
    assert r.returncode == 0, r.stderr
    assert len(gpd.read_file(out, layer="sites")) > 0 and sorted(p.name for p in out.parent.iterdir()) == ["sites.gpkg"]
