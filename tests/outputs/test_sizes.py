"""A run directory sized for people: full rows only for suitable and built sites, the rejected ones
compact with reason codes that all map to text, CSV copies only on request, the hourly file a sample
unless every system is asked for, and every file's size in log.txt."""

import json
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.conftest import stable_summary

import smrplan
from smrplan.dispatch.reliability import hourly_systems
from smrplan.options import ALL_OPTIONS
from smrplan.outputs.write import write_run
from smrplan.report.html import dispatch_figures, read_sites
from smrplan.report.sites import CODE_SEPARATOR, reason_text
from smrplan.scenario import load_scenario, with_outputs

PER_OPTION = 5


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """The island territories (no tornado, at most PER_OPTION hourly systems per option) planned and
    written twice: by default, and with CSV copies and every hourly series (the dispatch keeps only the
    hourly series the scenario asks for)."""
    sc = load_scenario("india-islands")
    sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={
        "sensitivity": False, "report": False, "dispatch_sample_systems_per_option": PER_OPTION})})
    plan = smrplan.plan(sc)
    folder = tmp_path_factory.mktemp("sized")
    default = write_run(plan, folder / "default")
    every = write_run(smrplan.plan(with_outputs(sc, csv=True, all_dispatch=True)), folder / "all")
    return default, every


def test_rejected_sites_are_compact_with_codes_that_all_map_to_text(runs):
    run, _ = runs
    plan = json.loads((run / "plan.json").read_text())
    sites = gpd.read_file(run / "sites.gpkg", layer="sites")
    assert (sites["suitable"].astype(bool) | sites["built"].astype(bool)).all()  # full rows: suitable and built only
    rejected = gpd.read_parquet(run / "sites_rejected.parquet")
    assert len(sites) + len(rejected) == plan["siting"]["candidates"] and len(rejected) > 0
    assert list(rejected.columns) == ["site_id", "kind", "first_failed", "first_failed_value", "failed", "geometry"]
    assert rejected.crs.to_epsg() == 4326 and not set(rejected["site_id"]) & set(sites["site_id"])
    reasons = pd.read_csv(run / "site_reasons.csv", keep_default_na=False)
    assert list(reasons["code"]) == [c["name"] for c in plan["siting"]["criteria"]]
    assert (reasons["label"].str.len() > 0).all() and (reasons["limit"].str.len() > 0).all()
    firsts = set(rejected["first_failed"].astype(str))
    codes = set(firsts)
    for combo in rejected["failed"].astype(str).unique():
        codes |= set(combo.split(CODE_SEPARATOR))
    assert codes and codes <= set(reasons["code"])
    first_of_list = rejected["failed"].astype(str).str.split(CODE_SEPARATOR).str[0]
    assert (first_of_list == rejected["first_failed"].astype(str)).all()
    # as many failures of each criterion as the screen counted (kept sites fail none)
    counts = pd.Series(np.concatenate(rejected["failed"].astype(str).str.split(CODE_SEPARATOR).to_numpy())).value_counts()
    for code, n in plan["siting"]["removed_by_criterion"].items():
        assert counts.get(code, 0) == n, code
    text = reason_text(rejected.head(50), reasons)
    assert all(t.startswith(f"{c} (") and "needs" in t for t, c in zip(text, rejected["first_failed"].head(50), strict=True))
    drawn = read_sites(run)  # the report's map reads both files
    assert len(drawn) == plan["siting"]["candidates"] and set(drawn["first_failed"]) == firsts | {"suitable"}


def test_categorical_columns_are_written_as_text(runs):
    """The plan holds grid_status, chosen_option, technology, kind and origin as codes; the GeoPackage
    layers and the CSV copies hold their texts."""
    _, every = runs
    for file, layer, columns in (("settlements.gpkg", "settlements",
                                  ("grid_status", "grid_status_source", "chosen_option", "technology")),
                                 ("sites.gpkg", "sites", ("kind", "origin", "technology"))):
        with sqlite3.connect(every / file) as db:
            types = {row[1]: row[2] for row in db.execute(f"PRAGMA table_info({layer})")}
        assert all(types[c] == "TEXT" for c in columns), types
        table = gpd.read_file(every / file, layer=layer)
        copy = pd.read_csv(every / f"{layer}.csv", keep_default_na=False)
        for c in columns:
            assert table[c].dtype == object and copy[c].astype(str).tolist() == table[c].tolist(), c
    st = gpd.read_file(every / "settlements.gpkg", layer="settlements")
    assert set(st["chosen_option"]) <= set(ALL_OPTIONS) and set(st["grid_status"]) <= {"connected", "weak", "unconnected"}


def test_csv_copies_only_on_request(runs):
    default, every = runs
    assert sorted(p.name for p in default.glob("*.csv")) == ["site_reasons.csv"]
    for name in ("settlements.csv", "sites.csv", "sites_rejected.csv"):
        assert (every / name).is_file(), name
    rejected = pd.read_csv(every / "sites_rejected.csv")
    assert {"site_id", "first_failed", "failed", "lon", "lat"} <= set(rejected.columns)
    assert len(rejected) == pq.read_metadata(every / "sites_rejected.parquet").num_rows
    assert "- csv" in (every / "scenario.yaml").read_text() and "- csv" not in (default / "scenario.yaml").read_text()


def test_hourly_dispatch_is_a_sample_by_default_and_complete_on_request(runs):
    default, every = runs
    plan = json.loads((default / "plan.json").read_text())
    assert stable_summary(plan) == stable_summary(json.loads((every / "plan.json").read_text()))
    systems = pd.DataFrame(plan["dispatch"]["systems"])
    assert len(systems) > PER_OPTION
    sample = pd.read_parquet(default / "dispatch.parquet", columns=["system_id"])["system_id"].unique()
    full = pd.read_parquet(every / "dispatch.parquet", columns=["system_id"])["system_id"].unique()
    assert sorted(full) == sorted(systems["system_id"])
    per_type = systems.set_index("system_id").loc[sample, "type"].value_counts()
    assert (per_type <= PER_OPTION).all() and len(sample) == sum(min(PER_OPTION, n) for n in systems["type"].value_counts())
    assert systems.loc[systems["load_mwh_per_year"].idxmax(), "system_id"] in sample  # the report's plot
    assert f"hourly series of {len(sample)} of {len(systems)}" in (default / "log.txt").read_text()
    note = dispatch_figures(default / "dispatch.parquet", plan, [], int(plan["target_year"]))[0]["note"]
    assert f"keeps {len(sample)} of them" in note  # the report says the file is a sample


def test_hourly_sample_keeps_every_reactor_plant_and_spreads_over_the_load_range():
    records = ([{"system_id": f"R{i}", "type": "land_reactor", "load_mwh_per_year": 1.0} for i in range(40)]
               + [{"system_id": f"P{i}", "type": "pv_battery", "load_mwh_per_year": float(i)} for i in range(100)]
               + [{"system_id": f"D{i}", "type": "diesel", "load_mwh_per_year": float(i)} for i in range(3)])
    kept = hourly_systems(records, 5)
    assert [k for k in kept if k.startswith("R")] == [f"R{i}" for i in range(40)]
    assert [k for k in kept if k.startswith("P")] == ["P0", "P25", "P49", "P74", "P99"]  # largest to smallest
    assert [k for k in kept if k.startswith("D")] == ["D0", "D1", "D2"]
    assert hourly_systems(records, None) == [r["system_id"] for r in records]
    assert hourly_systems(records, 0) == [f"R{i}" for i in range(40)]


def test_log_lists_every_file_with_its_size(runs):
    for run in runs:
        log = (run / "log.txt").read_text()
        listed = dict(re.findall(r"^file (\S+): ([\d,]+) bytes", log, flags=re.M))
        files = {p.name: p.stat().st_size for p in run.iterdir() if p.is_file() and p.name not in (".smrplan-run", "log.txt")}
        assert {k: int(v.replace(",", "")) for k, v in listed.items()} == files
        total = re.search(r"^files: (\d+), total ([\d,]+) bytes", log, flags=re.M)
        assert total and int(total[1]) == len(files) and int(total[2].replace(",", "")) == sum(files.values())
