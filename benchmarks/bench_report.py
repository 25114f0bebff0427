"""Benchmark: report.html for a national-scale run directory (targets: < 30 s, < 25 MB), and the
explorer's update for the default scenario (target: < 1 s).

The run directory is synthesised in the run-directory format (seeded): 600,000 settlements and
100,000 candidate sites over India's extent as GeoPackages, 300 built reactor sites serving 20
settlements each, a dispatch.parquet of 2,000 systems x 8,760 hours, a sensitivity list and a sweep;
plan.json, scenario.yaml and catalogue.json come from a run of the bundled india-islands scenario,
and the land layer (context.gpkg) is the OSM India polygons when ../shared/data is present. Then
`smrplan.report.html.build_report` is timed (reading the run directory included) and the page's
size is reported, and the page is opened in headless Chromium (when installed) to time ten zooms of
its map (Plotly.relayout until the next frame is drawn; median in ms). Headless Chromium here renders
WebGL in software (SwiftShader, no GPU), so the zoom figure is an upper bound for a desktop browser.
The map aggregates settlements to grid cells and samples the sites above 10,000
(plots.py), with a note in the page. Last, the explorer's recomputation (smrplan.explore.recompute, one
slider move, without HTTP) is timed on the bundled india-islands scenario: median of 20 moves.

Run: python benchmarks/bench_report.py [n_settlements] [n_sites]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from common import figure, timed

from smrplan.api import run
from smrplan.explore import load_target, prepare_state, recompute
from smrplan.options import ALL_OPTIONS
from smrplan.report.geography import CONTEXT_FILE
from smrplan.report.html import build_report

TARGET_SECONDS = 30.0
TARGET_MB = 25.0
TARGET_UPDATE_SECONDS = 1.0
TARGET_ZOOM_MS = 1000.0  # software rendering; a desktop browser with a GPU draws the WebGL traces far faster
CHROMIUM = Path("/usr/bin/chromium")
ZOOM = """async () => {
  const d = document.getElementById('map'), out = [];
  const x0 = d._fullLayout.xaxis.range.slice(), y0 = d._fullLayout.yaxis.range.slice();
  for (let i = 0; i < 10; i++) {
    const f = 0.5 + 0.05 * i, cx = (x0[0] + x0[1]) / 2 + 0.3 * i, cy = (y0[0] + y0[1]) / 2, t = performance.now();
    await Plotly.relayout(d, {'xaxis.range': [cx - f * (x0[1] - x0[0]) / 2, cx + f * (x0[1] - x0[0]) / 2],
                              'yaxis.range': [cy - f * (y0[1] - y0[0]) / 2, cy + f * (y0[1] - y0[0]) / 2]});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    out.push(performance.now() - t);
  }
  return out;
}"""
N_SETTLEMENTS = 600_000
N_SITES = 100_000
N_BUILT = 300
N_SYSTEMS = 2_000
SHARED = Path(os.environ.get("SMRPLAN_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CRITERIA = ("on_land (0.00; needs on land)", "population_density (412; needs <= 193 persons/km2)",
            "exclusion_zone (0.8; needs >= 1.6 km)", "nearest_load (210; needs <= 150.0 km)",
            "seismic_zone (5; needs not in zone V)", "airports (3.1; needs >= 8.0 km)")


def synthesise(out: Path, n_set: int, n_sites: int, seed: int = 0) -> None:
    """Turn the run directory `out` (of a small run) into a national-scale one."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(68.2, 97.4, n_set), rng.uniform(6.8, 35.5, n_set)
    ids = np.char.add("S", np.arange(n_set).astype(str))
    pop = np.round(rng.lognormal(6.5, 1.2, n_set))
    demand = pop / 4.8 * 1250 / 0.55
    share = {"diesel": 0.3, "pv_battery": 0.35, "grid": 0.25, "land_reactor": 0.04, "floating_reactor": 0.02,
             "micro_reactor": 0.04}
    option = rng.choice(np.array(ALL_OPTIONS), n_set, p=[share[o] for o in ALL_OPTIONS])
    st = pd.DataFrame({"id": ids, "name": np.char.add("Village ", np.arange(n_set).astype(str)), "population": pop,
                       "population_target": pop * 1.27, "demand_kwh_per_year": demand, "peak_kw": demand / 8760 / 0.55,
                       "chosen_option": option, "lon": lon, "lat": lat})
    for i, o in enumerate(ALL_OPTIONS):
        st[f"lcoe_{o}_usd_per_kwh"] = rng.lognormal(np.log(0.25 + 0.05 * i), 0.4, n_set)
    gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_file(
        out / "settlements.gpkg", layer="settlements", driver="GPKG", engine="pyogrio")
    suitable = rng.random(n_sites) < 0.1
    sites = pd.DataFrame({"site_id": np.char.add("L", np.arange(n_sites).astype(str)),
                          "lon": rng.uniform(68.2, 97.4, n_sites), "lat": rng.uniform(6.8, 35.5, n_sites),
                          "kind": rng.choice(np.array(["land", "micro", "floating"]), n_sites, p=[0.8, 0.15, 0.05]),
                          "suitable": suitable,
                          "reason": np.where(suitable, "suitable", rng.choice(np.array(CRITERIA), n_sites))})
    gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites.lon, sites.lat), crs="EPSG:4326").to_file(
        out / "sites.gpkg", layer="sites", driver="GPKG", engine="pyogrio")
    plan = json.loads((out / "plan.json").read_text())
    plan["settlements"] = n_set
    served = rng.choice(n_set, (N_BUILT, 20), replace=False)
    plan["reactor_sites"] = [{
        "site_id": f"B{k}", "kind": "land", "option": "land_reactor", "technology": "smr55_india",
        "technology_name": "India SMR-55", "modules": 2, "capacity_mw": 110.0, "backup_diesel_kw": 0.0,
        "lon": float(lon[served[k, 0]]), "lat": float(lat[served[k, 0]]), "settlements_served": ids[served[k]].tolist(),
        "population_served": 20000, "demand_mwh_per_year": 90000.0, "peak_mw": 18.0, "network_length_km": 80.0,
        "submarine_km": 0.0, "capex_usd": 7e8, "annual_cost_usd": 6e7, "lcoe_usd_per_kwh": 0.12,
        "standalone_annual_cost_usd": 7e7, "saving_vs_standalone_usd_per_year": 1e7} for k in range(N_BUILT)]
    systems = ids[:N_SYSTEMS]
    plan["dispatch"] = {"systems": [{"system_id": s, "type": "pv_battery", "technology": "pv_battery_hybrid", "modules": 0,
                                     "operating_year_simulated": 0, "load_mwh_per_year": float(1000 - i)}
                                    for i, s in enumerate(systems)], "added_annual_cost_usd": 0.0, "note": "synthetic"}
    plan["sensitivity"] = [{"parameter": f"p{i}", "low_value": 0, "high_value": 1, "low_total_usd": 9e8 - i * 1e7,
                            "high_total_usd": 1.1e9 + i * 1e7} for i in range(8)]
    land = SHARED / "land_coastline_in" / "osm_land_india_polygons.geojson"
    if land.is_file():  # the run directory's context layers: India's land instead of the islands'
        plan["data"]["sources"]["land"] = str(land)
        (out / CONTEXT_FILE).unlink(missing_ok=True)
        gpd.read_file(land, engine="pyogrio").to_file(out / CONTEXT_FILE, layer="land", driver="GPKG", engine="pyogrio")
    (out / "plan.json").write_text(json.dumps(plan))
    (out / "sweep.json").write_text(json.dumps({"settlements": {i: {"diesel": 0.5, "land_reactor": 0.5} for i in ids[:5000]}}))
    hours = np.arange(8760, dtype=np.int16)
    load = (1000 + 400 * np.sin(2 * np.pi * hours / 24)).astype(np.float32)
    series = ("load", "reactor", "pv", "battery_charge", "battery_discharge", "soc", "diesel", "curtailment", "unserved")
    schema = pa.schema([("system_id", pa.string()), ("hour", pa.int16())] + [(c, pa.float32()) for c in series])
    with pq.ParquetWriter(out / "dispatch.parquet", schema) as w:
        for first in range(0, N_SYSTEMS, 100):
            chunk = systems[first:first + 100]
            n = len(chunk) * 8760
            cols = {"system_id": np.repeat(chunk, 8760), "hour": np.tile(hours, len(chunk)), "load": np.tile(load, len(chunk))}
            for c in ("reactor", "pv", "battery_charge", "battery_discharge", "soc", "curtailment", "unserved"):
                cols[c] = np.zeros(n, np.float32)
            cols["diesel"] = cols["load"]
            w.write_table(pa.table(cols, schema=schema))


def zoom_ms(page_path: Path) -> float:
    """Median milliseconds of ten zooms of the report's map in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_path.as_uri())
        page.wait_for_function("() => document.getElementById('map') && document.getElementById('map')._fullLayout",
                               timeout=180_000)
        ms = page.evaluate(ZOOM)
        browser.close()
    return float(np.median(ms))


def main() -> None:
    n_set = int(sys.argv[1]) if len(sys.argv) > 1 else N_SETTLEMENTS
    n_sites = int(sys.argv[2]) if len(sys.argv) > 2 else N_SITES
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "national"
        run("india-islands", out=out)
        synthesise(out, n_set, n_sites)
        print(f"synthesised run directory: {n_set:,} settlements, {n_sites:,} sites, {N_SYSTEMS:,} dispatch systems")
        seconds, path = timed(lambda: build_report(out))
        mb = path.stat().st_size / 1e6
        print(f"report.html: {seconds:.1f} s (target < {TARGET_SECONDS:.0f} s), {mb:.1f} MB (target < {TARGET_MB:.0f} MB)")
        figure("report_national_seconds", seconds, TARGET_SECONDS, "s")
        figure("report_national_mb", mb, TARGET_MB, "MB")
        if CHROMIUM.exists():
            zoom = zoom_ms(path)
            print(f"map zoom in headless Chromium (software WebGL): {zoom:.0f} ms (target < {TARGET_ZOOM_MS:.0f} ms)")
            figure("report_map_zoom_ms", zoom, TARGET_ZOOM_MS, "ms")
    state = prepare_state(load_target("india-islands"))
    moves = [timed(lambda m=m: recompute(state, state.base.model_copy(update={"reactor_capex_multiplier": m})))[0]
             for m in np.linspace(0.2, 3.0, 20)]
    update = float(np.median(moves))
    print(f"explorer update (india-islands, {len(state.settlements)} settlements): {1000 * update:.1f} ms "
          f"(target < {1000 * TARGET_UPDATE_SECONDS:.0f} ms)")
    figure("explore_update_seconds", update, TARGET_UPDATE_SECONDS, "s")


if __name__ == "__main__":
    main()
