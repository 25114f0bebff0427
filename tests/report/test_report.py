"""report.html: self-contained, its tables and plots, the methods section, and regeneration.

A run of the bundled india-islands scenario is made once per module; a copy of it gets fixture
results (a dispatch.parquet with a reactor system, a built reactor site, a sensitivity list, a Monte
Carlo sweep and a land layer) so that every optional section of the report appears.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from markupsafe import escape

from conftest import run_cli
from smrplan.api import run
from smrplan.dispatch.reliability import outage_spans
from smrplan.options import ALL_OPTIONS
from smrplan.report import plots
from smrplan.report.html import build_report, hardest_week, sweep_table
from smrplan.report.sites import point_xy


class _Assets(HTMLParser):
    """Collects every URL a page would load: script src, link href, img/iframe/source src."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.plots: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "figure" and a.get("data-plot"):
            self.plots.append(a["data-plot"])


def parse(path: Path) -> _Assets:
    p = _Assets()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def islands(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "islands"
    run("india-islands", out=out, csv=True)
    return out


def add_fixture_results(run_dir: Path, land_dir: Path) -> dict:
    """Give a run directory every optional result: a built reactor site serving two settlements, a
    dispatch.parquet (one reactor system with its refuelling outage, one PV hybrid), a sensitivity
    list, sweep.json and a land layer. Returns what was added."""
    plan = json.loads((run_dir / "plan.json").read_text())
    st = pd.read_csv(run_dir / "settlements.csv")
    ids = st["id"].astype(str).tolist()
    plan["reactor_sites"] = [{
        "site_id": "L-TEST", "kind": "land", "option": "land_reactor", "technology": "smr55_india",
        "technology_name": "India SMR-55", "modules": 2, "capacity_mw": 110.0, "backup_diesel_kw": 0.0,
        "lon": float(st["lon"].iloc[0]) + 0.05, "lat": float(st["lat"].iloc[0]) + 0.05, "settlements_served": ids[:2],
        "population_served": 1000, "demand_mwh_per_year": 5000.0, "peak_mw": 1.0, "network_length_km": 12.0,
        "submarine_km": 0.0, "capex_usd": 5e8, "annual_cost_usd": 4e7, "lcoe_usd_per_kwh": 0.2,
        "standalone_annual_cost_usd": 5e7, "saving_vs_standalone_usd_per_year": 1e7}]
    record = {"system_id": "L-TEST", "type": "land_reactor", "technology": "smr55_india", "modules": 2,
              "operating_year_simulated": 0, "load_mwh_per_year": 90000.0}
    catalogue = json.loads((run_dir / "catalogue.json").read_text())
    spans = outage_spans(record, catalogue)
    record["refuelling_outages_h"] = [list(s) for s in spans]
    hours = np.arange(8760)
    load = 10000 + 3000 * np.sin(2 * np.pi * hours / 24)
    available = np.full(8760, 2 * 55000.0)
    for first, end in spans:
        available[first:end] = 55000.0 * 0.1  # most of the plant out: diesel carries the rest
    reactor = np.minimum(load, available)
    frames = [pd.DataFrame({"system_id": "L-TEST", "hour": hours.astype(np.int16), "load": load, "reactor": reactor,
                            "pv": 0.0, "battery_charge": 0.0, "battery_discharge": 0.0, "soc": 0.0,
                            "diesel": load - reactor, "curtailment": 0.0, "unserved": 0.0})]
    pv = np.clip(8000 * np.sin(np.pi * ((hours % 24) - 6) / 12), 0, None)
    frames.append(pd.DataFrame({"system_id": "S-TEST", "hour": hours.astype(np.int16), "load": 3000.0, "reactor": 0.0,
                                "pv": pv, "battery_charge": np.clip(pv - 3000, 0, None), "battery_discharge": 0.0,
                                "soc": 1000.0, "diesel": np.clip(3000 - pv, 0, None), "curtailment": 0.0,
                                "unserved": 0.0}))
    pd.concat(frames).astype({c: "float32" for c in ("load", "reactor", "pv", "diesel", "soc")}).to_parquet(
        run_dir / "dispatch.parquet", index=False)
    plan["dispatch"] = {"systems": [record, {"system_id": "S-TEST", "type": "pv_battery", "technology": "pv_battery_hybrid",
                                             "modules": 0, "operating_year_simulated": 0, "load_mwh_per_year": 26280.0}],
                        "added_annual_cost_usd": 0.0, "note": "fixture"}
    plan["sensitivity"] = [
        {"parameter": "reactors.capex_usd_per_kw", "low_value": 3000, "high_value": 12000,
         "low_total_usd": plan["total_annual_cost_usd"] * 0.9, "high_total_usd": plan["total_annual_cost_usd"] * 1.2},
        {"parameter": "finance.discount_rate", "low_value": 0.03, "high_value": 0.10,
         "low_total_usd": plan["total_annual_cost_usd"] * 0.95, "high_total_usd": plan["total_annual_cost_usd"] * 1.05}]
    (run_dir / "sweep.json").write_text(json.dumps(
        {"draws": 100, "settlements": {i: {"pv_battery": 0.7, "land_reactor": 0.3} for i in ids}}))
    land = land_dir / "land.geojson"
    x, y = float(st["lon"].mean()), float(st["lat"].mean())
    import geopandas as gpd

    gpd.GeoDataFrame(geometry=[shapely.box(x - 1, y - 1, x + 1, y + 1).buffer(0.2)], crs="EPSG:4326").to_file(land)
    plan["data"]["sources"]["land"] = str(land)
    (run_dir / "plan.json").write_text(json.dumps(plan))
    return {"spans": spans}


@pytest.fixture(scope="module")
def full(islands, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report-full") / "islands"
    shutil.copytree(islands, out)
    added = add_fixture_results(out, out.parent)
    build_report(out)
    return out, added


def test_report_is_self_contained(islands):
    page = parse(islands / "report.html")
    assert not [u for u in page.urls if re.match(r"^(https?:)?//", u)], page.urls
    text = (islands / "report.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in text and "cdn.plot.ly/plotly" not in text.split("</script>", 1)[1]
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", text)


def test_report_tables(islands):
    page = parse(islands / "report.html")
    for table in ("totals", "costs", "funnel-kinds", "funnel-criteria", "funnel-skipped", "solver-status",
                  "data-sources", "settings", "sources", "catalogue"):
        assert table in page.ids, table
    text = (islands / "report.html").read_text(encoding="utf-8")
    plan = json.loads((islands / "plan.json").read_text())
    assert plan["solver"]["termination"] in text
    assert "no faults layer: no openly licensed" in text  # a criterion not evaluated, with its reason


def test_log_names_totals_in_both_currencies(islands):
    plan = json.loads((islands / "plan.json").read_text())
    log = (islands / "log.txt").read_text(encoding="utf-8")
    assert f"net present cost {plan['total_npv_usd']:,.0f} USD ({plan['total_npv_inr_crore']} INR crore)" in log
    assert f"({plan['options']['pv_battery']['lcoe_inr_per_kwh']} INR/kWh)" in log


def test_why_section_shows_the_break_even_of_the_largest_places(islands):
    """At central costs no reactor is built on the islands; the report's `why` table lists the
    largest places with the capex reduction plan.json gives for each."""
    page = parse(islands / "report.html")
    plan = json.loads((islands / "plan.json").read_text())
    unserved = plan["why"]["not_served_by_reactor"]
    assert unserved and "why-unserved" in page.ids
    text = (islands / "report.html").read_text(encoding="utf-8")
    for u in unserved:
        assert str(escape(u["largest_settlement"])) in text
        if u["required_capex_reduction_fraction"] is not None:
            assert f"{100 * u['required_capex_reduction_fraction']:.1f} %" in text


def test_run_directory_carries_npv_and_inr(islands):
    """Net present cost beside every annual cost and INR beside USD: plan.json totals, option totals,
    the settlements table, and the report's cost tables."""
    import yaml

    from smrplan.costs.economics import crf

    plan = json.loads((islands / "plan.json").read_text())
    fin = yaml.safe_load((islands / "scenario.yaml").read_text())["finance"]
    k, inr = crf(fin["discount_rate"], fin["horizon_years"]), fin["inr_per_usd"]
    assert plan["total_npv_usd"] == pytest.approx(plan["total_annual_cost_usd"] / k, rel=1e-9)
    assert plan["total_npv_inr_crore"] == pytest.approx(plan["total_npv_usd"] * inr / 1e7, abs=0.01)
    assert plan["total_annual_cost_inr_crore"] == pytest.approx(plan["total_annual_cost_usd"] * inr / 1e7, abs=0.01)
    assert plan["currency"]["total_annual_cost_inr_crore"] == plan["total_annual_cost_inr_crore"]
    assert plan["currency"]["capital_recovery_factor"] == pytest.approx(k, rel=1e-9)
    for t in plan["options"].values():
        assert t["npv_usd"] == pytest.approx(t["annual_cost_usd"] / k, rel=1e-9, abs=0.01)
        for field in ("capex", "annual_cost", "npv"):
            assert t[f"{field}_inr_crore"] == pytest.approx(t[f"{field}_usd"] * inr / 1e7, abs=0.01)
    st = pd.read_csv(islands / "settlements.csv")
    cols = list(st.columns)
    e = st["demand_kwh_per_year"].to_numpy(float)
    for option in ALL_OPTIONS:
        assert cols.index(f"npv_{option}_usd") == cols.index(f"lcoe_{option}_usd_per_kwh") + 1
        np.testing.assert_allclose(st[f"npv_{option}_usd"], st[f"lcoe_{option}_usd_per_kwh"] * e / k, rtol=1e-9)
    np.testing.assert_allclose(st["chosen_npv_usd"], st["chosen_annual_cost_usd"] / k, rtol=1e-9)
    np.testing.assert_allclose(st["chosen_annual_cost_inr"], st["chosen_annual_cost_usd"] * inr, rtol=1e-9)
    np.testing.assert_allclose(st["chosen_lcoe_inr_per_kwh"], st["chosen_annual_cost_usd"] * inr / e, rtol=1e-9)
    planned = plan.get("total_annual_cost_before_dispatch_usd", plan["total_annual_cost_usd"])
    assert st["chosen_npv_usd"].sum() == pytest.approx(planned / k, rel=1e-6)
    text = (islands / "report.html").read_text(encoding="utf-8")
    for heading in ("LCOE (₹/kWh)", "net present cost (M USD)", "net present cost (₹ crore)", "NPV of costs"):
        assert heading in text, heading
    assert f"{plan['total_npv_usd'] / 1e6:,.1f} M USD" in text


def test_one_plot_per_available_result(islands):
    page = parse(islands / "report.html")
    # The plain run has a dispatch (PV hybrids) and the sensitivity tornado, but no reactor or sweep.
    assert sorted(page.plots) == sorted(["map", "lcoe", "cost", "dispatch", "tornado"])


def test_methods_section_lists_sources_of_values_used(islands):
    text = (islands / "report.html").read_text(encoding="utf-8")
    cat = json.loads((islands / "catalogue.json").read_text())
    plan_yaml = (islands / "scenario.yaml").read_text()
    import yaml

    enabled = set(yaml.safe_load(plan_yaml)["technologies"]["enabled"])
    used = {r["source"] for r in cat if r["technology"] in enabled}
    unused = {r["source"] for r in cat if r["technology"] not in enabled} - used
    methods = text[text.index('id="methods"'):]
    assert all(str(escape(s)) in methods for s in used)
    assert not any(str(escape(s)) in methods.split('id="catalogue"')[0] for s in unused)
    for label in ("real discount rate", "base year of money", "horizon (years)", "INR per USD"):
        assert label in methods


def test_fixture_results_add_their_plots(full):
    run_dir, added = full
    assert added["spans"], "the fixture reactor must have a refuelling outage in its simulated year"
    page = parse(run_dir / "report.html")
    assert sorted(page.plots) == sorted(["map", "lcoe", "cost", "dispatch", "outage", "tornado", "sweep"])
    assert "built-sites" in page.ids
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    for name in ("built reactor site", "service lines", "land and coast", "refuelling outage"):
        assert name in text, name
    assert not [u for u in page.urls if re.match(r"^(https?:)?//", u)]


def test_report_command_regenerates(islands, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(islands, run_dir)
    (run_dir / "report.html").unlink()
    r = run_cli(["report", str(run_dir)], timeout=300)
    assert r.returncode == 0, r.stderr
    assert (run_dir / "report.html").stat().st_size > 1_000_000


def test_report_command_bad_input(tmp_path):
    r = run_cli(["report", str(tmp_path)], timeout=120)
    assert r.returncode == 2 and "not a run directory" in r.stderr


def test_pdf_without_chromium_exits_2(islands, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(islands, run_dir)
    env = {**__import__("os").environ, "SMRPLAN_CHROMIUM": str(tmp_path / "no-such-chromium")}
    r = run_cli(["report", str(run_dir), "--pdf"], timeout=120, env=env)
    assert r.returncode == 2 and "Chromium was not found" in r.stderr
    assert not (run_dir / "report.pdf").exists()


# ------------------------------------------------------------------------------ pure functions
def _settlements(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": [f"S{i}" for i in range(n)], "name": [f"place {i}" for i in range(n)],
                         "lon": rng.uniform(70, 95, n), "lat": rng.uniform(6, 35, n),
                         "chosen_option": rng.choice(ALL_OPTIONS, n), "demand_kwh_per_year": rng.uniform(1e4, 1e7, n),
                         "peak_kw": rng.uniform(5, 2000, n), "population_target": rng.uniform(100, 1e5, n),
                         "lcoe_diesel_usd_per_kwh": rng.uniform(0.2, 0.6, n)})


def test_settlement_points_aggregate_above_the_limit():
    st = _settlements(5000)
    pts, note = plots.settlement_points(st, max_points=500)
    assert note and len(pts) <= 600
    assert pts["demand_kwh_per_year"].sum() == pytest.approx(st["demand_kwh_per_year"].sum())
    assert set(pts["option"]) <= set(ALL_OPTIONS)
    small, none = plots.settlement_points(st.head(100), max_points=500)
    assert none == "" and len(small) == 100


def test_site_points_sample_keeps_every_outcome():
    n = 20000
    reason = np.where(np.arange(n) % 1000 == 0, "airports (3.0; needs >= 8 km)", "on_land (0.00; needs on land)")
    sites = pd.DataFrame({"lon": np.linspace(70, 90, n), "lat": np.linspace(8, 30, n), "kind": "land",
                          "suitable": np.arange(n) % 7 == 0, "reason": reason})
    sites.loc[sites.suitable, "reason"] = "suitable"
    pts, note = plots.site_points(sites, max_points=2000)
    assert note and len(pts) < 2600
    assert set(pts["outcome"]) == {"suitable", "on_land", "airports"}


def test_outline_xy_separates_rings():
    polys = [shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3), shapely.box(50, 50, 51, 51)]
    x, y = plots.outline_xy(polys, (-1, -1, 4, 4), 0.01)
    assert np.isnan(x).sum() == 1 and len(x) == 11  # two closed rings of five points, one gap


def test_sweep_table_forms():
    a = sweep_table({"A": {"diesel": 0.2, "land_reactor": 0.8}})
    b = sweep_table([{"id": "A", "option": "diesel", "probability": 0.2},
                     {"id": "A", "option": "land_reactor", "probability": 0.8}])
    c = sweep_table({"settlements": [{"id": "A", "probabilities": {"diesel": 0.2, "land_reactor": 0.8}}]})
    d = sweep_table([{"id": "A", "p_diesel": 0.2, "p_land_reactor": 0.8}])
    for t in (a, b, c, d):
        assert t.loc["A", "land_reactor"] == pytest.approx(0.8) and t.loc["A", "diesel"] == pytest.approx(0.2)
    assert sweep_table([]) is None


def test_hardest_week_finds_the_diesel_week():
    hourly = pd.DataFrame({"hour": np.arange(8760), "load": 1.0, "diesel": 0.0, "unserved": 0.0})
    hourly.loc[5000:5100, "diesel"] = 1.0
    first = hardest_week(hourly)
    assert first % 24 == 0 and first <= 5000 and first + 168 >= 5100


def test_solver_rows_show_the_regional_search_when_it_ran():
    from smrplan.report.tables import solver_rows

    plan = {"solver": {"name": "highs", "status": "ok", "mip_gap": 0.034,
                       "search": {"objective_before_usd": 42.0e9, "objective_usd": 41.0e9, "time_s": 390.0,
                                  "passes": [{}, {}, {}]}}}
    rows = dict(solver_rows(plan))
    assert rows["MIP gap"] == "3.400 %"
    assert "3 passes" in rows["regional search (USD/yr)"] and "390 s" in rows["regional search (USD/yr)"]
    assert "regional search (USD/yr)" not in dict(solver_rows({"solver": {"name": "highs"}}))


def test_solver_rows_show_the_gap_against_its_target_and_the_bound():
    from smrplan.report.tables import solver_rows

    short = dict(solver_rows({"solver": {"mip_gap": 0.0324, "mip_dual_bound_usd": 39.68e9, "settings": {"mip_gap": 0.01}}}))
    assert short["MIP gap"] == "3.240 % (target 1 %, not reached)"
    assert short["lower bound (USD/yr)"] == "39,680,000,000"
    met = dict(solver_rows({"solver": {"mip_gap": 0.0031, "settings": {"mip_gap": 0.01}}}))
    assert met["MIP gap"] == "0.310 % (target 1 %)" and "lower bound (USD/yr)" not in met


@pytest.mark.parametrize("byte_order", [1, 0])
def test_point_xy_reads_wkb_points_as_shapely_does(byte_order):
    points = shapely.points(np.random.default_rng(3).uniform(-180, 180, (500, 2)))
    expected = shapely.get_coordinates(points)
    for kind in (pa.binary(), pa.large_binary()):
        wkb = pa.array(shapely.to_wkb(points, byte_order=byte_order), type=kind)
        np.testing.assert_array_equal(point_xy(wkb), expected)
        np.testing.assert_array_equal(point_xy(wkb.slice(7, 100)), expected[7:107])  # an offset into the buffers
    mixed = pa.array(shapely.to_wkb([shapely.Point(1, 2), shapely.Point(3, 4, 5)]), type=pa.binary())  # one 3-D
    np.testing.assert_array_equal(point_xy(mixed), [[1, 2], [3, 4]])
    assert point_xy(pa.array([], type=pa.binary())).shape == (0, 2)
