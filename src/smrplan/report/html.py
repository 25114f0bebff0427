"""report.html: one self-contained page per run directory, readable offline.

`build_report(run_dir)` reads the run directory (plan.json, scenario.yaml, catalogue.json, the
settlements and sites GeoPackages, the rejected sites with their reason codes (sites.py), and when
present dispatch.parquet, sweep.json and the land layer the run used), builds the figures (plots.py)
and tables (tables.py) and renders templates/report.html.j2 with jinja2. plotly.js is inlined from
the installed plotly package, so the page fetches nothing at view time; the map draws the land
outlines itself (no tiles, no topojson). `print_pdf` prints the page to PDF with headless Chromium.

Sections appear only for results the run has: dispatch (dispatch.parquet), sensitivity (plan.json
`sensitivity`), Monte Carlo sweep (sweep.json beside plan.json, or plan.json `sweep`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pyogrio
from jinja2 import Environment, PackageLoader, select_autoescape
from pandas.api.types import union_categoricals
from plotly.offline import get_plotlyjs

from smrplan.options import ALL_OPTIONS, OPTION_COLOURS
from smrplan.report import geography, plots, tables
from smrplan.report.sites import SITES_FILE, read_reasons, read_rejected, reasons_table
from smrplan.units import CRORE
from smrplan.yamltext import parse_yaml

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}
MAP_CONFIG = {**PLOT_CONFIG, "scrollZoom": True}
MAP_HEIGHT = 900  # px: the panels and, under them, the legend
ROADMAP_PROBABILITY_ROWS = 30  # sites in the roadmap report's Monte Carlo table, most often started first
WEEK_H = 168
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_SETTLEMENT_COLUMNS = ("id", "name", "lon", "lat", "chosen_option", "demand_kwh_per_year", "peak_kw",
                       "population_target", "population", "grid_status", "grid_lon", "grid_lat", "territory", "state")
_SITE_COLUMNS = ("lon", "lat", "kind", "suitable", "reason")


# ---------------------------------------------------------------------------------------- reading
def read_table(path: Path, wanted: tuple[str, ...], prefix: str = "") -> pd.DataFrame:
    """Columns `wanted` (and any starting with `prefix`) of a run directory's GeoPackage layer, as a
    plain DataFrame without geometry (lon/lat are columns of both layers).

    Parameters
    ----------
    path : Path
        A GeoPackage of the run directory (settlements.gpkg, sites.gpkg); its layer named as the file
        is read.
    wanted : tuple of str
        Columns read where the layer has them.
    prefix : str, default ""
        Also read every column starting with it (e.g. ``lcoe_``); "" reads no more.

    Returns
    -------
    pandas.DataFrame
        The columns as stored (units of the run directory: lon/lat degrees, kWh/yr, kW, USD/kWh...).
    """
    fields = set(pyogrio.read_info(path, layer=path.stem)["fields"])
    cols = [c for c in wanted if c in fields] + sorted(c for c in fields if prefix and c.startswith(prefix))
    return pyogrio.read_dataframe(path, layer=path.stem, columns=cols, read_geometry=False, use_arrow=True)


def read_sites(run_dir: Path) -> pd.DataFrame:
    """Every screened site of a run directory for the map: lon, lat (degrees), kind, suitable, reason,
    first_failed (the code of the first criterion failed, "suitable" for suitable sites) and, for the
    rows of the rejected-sites file, their codes (first_failed_value, failed).

    The full rows of `smrplan.report.sites.SITES_FILE` and the compact rows of its rejected-sites file.
    The latter's reason is left missing: `smrplan.report.plots.site_points` rebuilds it from the codes
    (`smrplan.report.sites.reason_text`) for the sites it draws only. A run directory written before
    that file keeps every site, with its reason text, in the first.

    Parameters
    ----------
    run_dir : Path
        The run directory.

    Returns
    -------
    pandas.DataFrame
        One row per candidate site.
    """
    sites = read_table(run_dir / SITES_FILE, _SITE_COLUMNS)
    sites["first_failed"] = plots.first_failed(sites["reason"], sites["suitable"]).to_numpy()
    rejected = read_rejected(run_dir)
    if rejected is None:
        return sites
    n, m = len(sites), len(rejected)

    def codes(full: pd.Series, compact: pd.Series) -> pd.Categorical:
        # categories, not a text per site: a million rejected sites share a few hundred codes
        return union_categoricals([pd.Categorical(full.astype(str)), pd.Categorical(compact)])

    return pd.DataFrame({
        "lon": np.concatenate([sites["lon"].to_numpy(float), rejected["lon"].to_numpy(float)]),
        "lat": np.concatenate([sites["lat"].to_numpy(float), rejected["lat"].to_numpy(float)]),
        "kind": codes(sites["kind"], rejected["kind"]),
        "suitable": np.concatenate([sites["suitable"].to_numpy(bool), np.zeros(m, bool)]),
        "reason": np.concatenate([sites["reason"].to_numpy(object), np.full(m, None, object)]),
        "first_failed": codes(sites["first_failed"], rejected["first_failed"]),
        "first_failed_value": np.concatenate([np.full(n, np.nan), rejected["first_failed_value"].to_numpy(float)]),
        "failed": codes(pd.Series("", index=sites.index), rejected["failed"])})


def read_outlines(path: str | None, bbox: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray, str]:
    """Land outlines of the layer at `path` inside `bbox` (padded by half its extent), simplified to
    about 1/2,500 of the padded box's extent. Returns x, y (NaN-separated) and a note when the layer is missing or unreadable."""
    empty = np.array([])
    if not path:
        return empty, empty, "The run used no land layer, so no coastlines are drawn."
    if not Path(path).is_file():
        return empty, empty, f"The run's land layer {path} is not on this machine, so no coastlines are drawn."
    pad = 0.5 * max(bbox[2] - bbox[0], bbox[3] - bbox[1]) + 0.5  # room to pan and for the map's aspect ratio
    box = (bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad)
    try:
        gdf = pyogrio.read_dataframe(path, columns=[], bbox=box)
        if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
            gdf = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # an unreadable layer costs the outlines, not the report
        return empty, empty, f"The land layer {path} could not be read ({type(exc).__name__}); no coastlines drawn."
    tolerance = max(box[2] - box[0], box[3] - box[1]) / 2500.0
    x, y = plots.outline_xy(gdf.geometry.to_numpy(), box, tolerance)
    return x, y, f"Land and coast outlines: {Path(path).name}, simplified to {tolerance * 111:.1f} km."


def read_sweep(run_dir: Path, plan: dict) -> pd.DataFrame | None:
    """Per-settlement probability of each option from sweep.json (beside plan.json) or plan.json
    `sweep`. Accepted forms: {id: {option: p}}; a list of {id, probabilities: {option: p}}; a list of
    {id, option, probability}; any of these under a "settlements" or "probabilities" key."""
    path = run_dir / "sweep.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else plan.get("sweep")
    return None if raw is None else sweep_table(raw)


def sweep_table(raw) -> pd.DataFrame | None:
    """Rows = settlement ids, columns = options, values = probability (see read_sweep)."""
    if isinstance(raw, dict):
        for key in ("settlements", "probabilities"):
            if key in raw:
                return sweep_table(raw[key])
        frame = pd.DataFrame.from_dict(raw, orient="index")
    elif isinstance(raw, list) and raw:
        rec = pd.DataFrame(raw)
        if "probabilities" in rec.columns:
            frame = pd.DataFrame(list(rec["probabilities"]), index=rec["id"].astype(str))
        elif {"option", "probability"} <= set(rec.columns):
            frame = rec.pivot_table(index="id", columns="option", values="probability", aggfunc="sum")
        else:
            frame = rec.set_index("id")
    else:
        return None
    frame.index = frame.index.astype(str)
    frame.columns = [str(c).removeprefix("p_") for c in frame.columns]
    frame = frame[[c for c in frame.columns if c in ALL_OPTIONS]].apply(pd.to_numeric, errors="coerce")
    return frame.fillna(0.0) if len(frame.columns) else None


# --------------------------------------------------------------------------------------- dispatch
def hardest_week(hourly: pd.DataFrame) -> int:
    """First hour of the 7-day window (starting at midnight) with the most diesel and unserved energy,
    or of the highest load when neither occurs."""
    none = pd.Series(0.0, index=hourly.index)
    need = (hourly.get("diesel", none) + hourly.get("unserved", none)).to_numpy(float)
    if need.sum() <= 0:
        need = hourly["load"].to_numpy(float)
    csum = np.concatenate([[0.0], np.cumsum(need)])
    starts = np.arange(0, max(len(need) - WEEK_H, 0) + 1, 24)
    return int(starts[np.argmax(csum[np.minimum(starts + WEEK_H, len(need))] - csum[starts])])


def dispatch_figures(path: Path, plan: dict, catalogue: list[dict], year: int) -> list[dict]:
    """Up to two dispatch plots: the largest system's hardest week, and the largest reactor system's
    refuelling outage window (the outage with a day either side, at least a week).

    Parameters
    ----------
    path : Path
        The run's dispatch.parquet (hourly kWh per system).
    plan : dict
        plan.json: its ``dispatch.systems`` records (load_mwh_per_year, type, refuelling_outages_h...).
    catalogue : list of dict
        The run's catalogue.json records; not read (the outage spans come from plan.json).
    year : int
        Target year, the calendar of the hours on the time axis.

    Returns
    -------
    list of dict
        name, title, figure (plotly Figure, kW) and note of each plot.
    """
    import pyarrow.parquet as pq

    records = pd.DataFrame(plan.get("dispatch", {}).get("systems", []))
    ids = pq.read_table(path, columns=["system_id"]).column("system_id").unique().to_pylist()
    if records.empty:
        records = pd.DataFrame({"system_id": ids, "type": "", "load_mwh_per_year": 0.0})
    kept = (f" The hourly file keeps {len(ids):,} of them (every reactor plant and a sample of each other option)."
            if len(ids) < len(records) else "")
    records = records.sort_values("load_mwh_per_year", ascending=False, kind="stable")
    start = pd.Timestamp(f"{year}-01-01")
    out = []

    def series(system_id: str) -> pd.DataFrame:
        return pq.read_table(path, filters=[("system_id", "=", system_id)]).to_pandas().sort_values("hour")

    top = records.iloc[0]
    hourly = series(str(top["system_id"]))
    if len(hourly):
        first = hardest_week(hourly)
        week = hourly.iloc[first:first + WEEK_H]
        title = f"{top['system_id']} ({top.get('type', '')}): hardest week (most diesel and unserved energy)"
        out.append({"name": "dispatch", "title": "Dispatch week", "figure": plots.dispatch_figure(week, start, title),
                    "note": f"{len(records):,} system(s) simulated hour by hour; the largest is shown.{kept}"})
    reactors = records[records["type"].astype(str).str.endswith("_reactor")]
    for rec in reactors.to_dict("records")[:1]:
        spans = [tuple(s) for s in rec.get("refuelling_outages_h") or []]
        hourly = series(str(rec["system_id"])) if rec["system_id"] != top["system_id"] else hourly
        if not spans or hourly.empty:
            continue
        first, end = spans[0]
        lo = max(first - 24, 0)
        hi = min(max(end + 24, lo + WEEK_H), len(hourly))
        window = hourly.iloc[lo:hi]
        title = f"{rec['system_id']} ({rec.get('technology', '')}, {int(rec.get('modules', 0))} module(s)): refuelling outage"
        out.append({"name": "outage", "title": "Refuelling outage window",
                    "figure": plots.dispatch_figure(window, start, title, [s for s in spans if s[0] < hi and s[1] > lo]),
                    "note": f"{len(spans)} scheduled outage(s) in the simulated year; shaded: modules out for refuelling."})
    return out


# ------------------------------------------------------------------------------------------ page
def _div(fig: go.Figure | dict, div_id: str, config: dict = PLOT_CONFIG) -> str:
    """The figure's <div> (plotly.js is on the page once); a dictionary figure is not checked again."""
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=config, validate=False)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The jinja2 environment of the report and explorer templates (HTML autoescaped)."""
    return Environment(loader=PackageLoader("smrplan.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def read_context(run_dir: Path, plan: dict) -> dict[str, gpd.GeoDataFrame]:
    """The context layers of a run (geography.CONTEXT_FILE in the run directory, EPSG:4326), by layer
    name; for a run directory without that file, the land layer the run read when it is still on this
    machine. Unreadable layers are left out (the map draws without them)."""
    path = run_dir / geography.CONTEXT_FILE
    out: dict[str, gpd.GeoDataFrame] = {}
    if path.is_file():
        for name in pyogrio.list_layers(path)[:, 0]:
            try:
                out[str(name)] = pyogrio.read_dataframe(path, layer=str(name))
            except Exception:  # an unreadable layer costs that layer, not the report
                continue
        return out
    land = plan.get("data", {}).get("sources", {}).get("land")
    if land and Path(land).is_file():
        try:
            out["land"] = pyogrio.read_dataframe(land, columns=[])
        except Exception:  # as above
            pass
    return out


def panel_frames(st: pd.DataFrame, extra_lon: np.ndarray,
                 extra_lat: np.ndarray) -> tuple[list[tuple[float, float, float, float]], list[str], list[go.Scatter]]:
    """Range, title and scale bar of each map panel (`geography.panels` of the settlements).

    Parameters
    ----------
    st : pandas.DataFrame
        Settlements with lon and lat (degrees); their groups far apart get a panel each.
    extra_lon, extra_lat : numpy.ndarray
        Other points (degrees) a panel also frames when they lie within 1 degree of its settlements.

    Returns
    -------
    tuple
        Ranges (minx, maxx, miny, maxy, degrees), titles ("" with one panel) and scale bars.
    """
    lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    groups = geography.panels(lon, lat)
    ranges, titles, bars = [], [], []
    for g in groups:
        minx, maxx, miny, maxy = lon[g].min(), lon[g].max(), lat[g].min(), lat[g].max()
        near = (extra_lon >= minx - 1) & (extra_lon <= maxx + 1) & (extra_lat >= miny - 1) & (extra_lat <= maxy + 1)
        xs, ys = np.concatenate([[minx, maxx], extra_lon[near]]), np.concatenate([[miny, maxy], extra_lat[near]])
        pad = max(0.08 * max(np.ptp(xs), np.ptp(ys)), 0.15)
        r = (float(xs.min() - pad), float(xs.max() + pad), float(ys.min() - pad), float(ys.max() + pad))
        ranges.append(r)
        titles.append(geography.label_of(st.iloc[g]) if len(groups) > 1 else "")
        mid = (r[2] + r[3]) / 2.0
        km = geography.scale_bar_km(r[1] - r[0], mid)
        bars.append(plots.scale_bar_trace((r[0], r[1]), (r[2], r[3]), km, geography.km_to_lon_deg(km, mid)))
    return ranges, titles, bars


def land_traces(context: dict[str, gpd.GeoDataFrame], ranges: list[tuple[float, float, float, float]]) -> tuple[list, list[str]]:
    """The land and coast of the context layers around the panels, simplified to 1/2,500 of the smallest
    panel, as a trace (none without a land layer) and a note.

    Parameters
    ----------
    context : dict
        Context layers (`read_context`), by name.
    ranges : list of tuple
        The panels' ranges (minx, maxx, miny, maxy, degrees).

    Returns
    -------
    tuple
        Traces (list) and notes (list of str).
    """
    land = context.get("land")
    if land is None or not len(land):
        return [], ["The run used no land layer, so no coastlines are drawn."]
    box = (min(r[0] for r in ranges) - 1, min(r[2] for r in ranges) - 1, max(r[1] for r in ranges) + 1,
           max(r[3] for r in ranges) + 1)
    tolerance = min(max(r[1] - r[0], r[3] - r[2]) for r in ranges) / 2500.0
    x, y = plots.outline_xy(land.geometry.to_numpy(), box, tolerance)
    if not len(x):
        return [], []
    return ([plots.outline_trace(x, y).update(legendrank=1000)],
            [f"Land and coast drawn from the run's land layer, simplified to {tolerance * 111 * 1000:.0f} m."])


def map_section(plan: dict, st: pd.DataFrame, sites: pd.DataFrame, scenario: dict | None = None,
                catalogue: list[dict] | None = None, context: dict[str, gpd.GeoDataFrame] | None = None,
                reasons: pd.DataFrame | None = None) -> dict:
    """The map's figure and its notes (aggregation, sampling, outlines, data credits).

    Island groups far apart (geography.panels) get a panel each; every panel has a scale bar.

    Parameters
    ----------
    plan : dict
        plan.json: data sources and attributions, siting criteria and built reactor sites.
    st : pandas.DataFrame
        The settlements of the run (lon, lat in degrees, chosen_option, grid_status, demand...).
    sites : pandas.DataFrame
        The candidate sites of the run (lon, lat in degrees, kind, suitable, reason; `read_sites`).
    scenario : dict, optional
        scenario.yaml (siting: exclusion zone radii); without it no reactor zones are drawn.
    catalogue : list of dict, optional
        catalogue.json records (EPZ radius of each technology).
    context : dict, optional
        Context layers (`read_context`), by name; without them no land or hazards are drawn.
    reasons : pandas.DataFrame, optional
        The run's reason-code table (`smrplan.report.sites.read_reasons`), for the reason text of the
        rejected sites drawn; without it the codes are shown with unknown limits.

    Returns
    -------
    dict
        figure (plotly Figure) and notes (list of str).
    """
    context = context or {}
    points, st_note = plots.settlement_points(st)
    site_pts, site_note = plots.site_points(sites, reasons=reasons if reasons is not None else reasons_table({}))
    built = plan.get("reactor_sites", [])
    zones = (geography.reactor_zones(built, scenario.get("siting", {}), catalogue or [])
             if scenario is not None else geography.reactor_zones([], {}, []))
    near = (site_pts["outcome"] == "suitable").to_numpy()
    extra_lon, extra_lat = site_pts["lon"].to_numpy(float)[near], site_pts["lat"].to_numpy(float)[near]
    if len(zones):
        zb = zones.geometry.bounds
        extra_lon = np.concatenate([extra_lon, zb["minx"].to_numpy(), zb["maxx"].to_numpy()])
        extra_lat = np.concatenate([extra_lat, zb["miny"].to_numpy(), zb["maxy"].to_numpy()])
    ranges, titles, bars = panel_frames(st, extra_lon, extra_lat)
    notes = [n for n in (st_note, site_note) if n]
    traces, land_notes = land_traces(context, ranges)
    notes += land_notes
    labels = {c["name"]: c["label"] for c in plan.get("siting", {}).get("criteria", [])}
    named = len(points) <= geography.MAX_PANELS * plots.MAX_NAMED and "name" in points.columns
    # drawn bottom to top; listed in the legend by rank: settlements, grid status, reactors, zones, networks, sites, context
    layers = [(900, plots.context_traces(context)), (400, plots.zone_traces(zones)), (600, plots.site_traces(site_pts, labels)),
              (500, plots.grid_extension_trace(st)), (300, plots.built_traces(built, st)),
              (100, plots.settlement_traces(points, names=named)), (200, plots.grid_status_legend(points))]
    for rank, group in layers:
        for t in group:
            t.legendrank = rank
        traces += group
    if len(zones):
        notes.append("Exclusion zones (solid) and emergency planning zones (dashed) are drawn to scale around each "
                     "built reactor.")
    credits = plan.get("data", {}).get("attributions", {})
    if credits:
        notes.append("Map data: " + "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(credits.items())) + ".")
    return {"figure": plots.panel_map_figure(traces, ranges, titles, bars, height=MAP_HEIGHT), "notes": notes}


def report_context(run_dir: Path) -> dict:
    """Everything the report template shows, from the files of a run directory."""
    run_dir = Path(run_dir)
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    scenario = parse_yaml((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
    catalogue = json.loads((run_dir / "catalogue.json").read_text(encoding="utf-8"))
    st = read_table(run_dir / "settlements.gpkg", _SETTLEMENT_COLUMNS, prefix="lcoe_")
    sites = read_sites(run_dir)
    if "population_target" not in st.columns:
        st["population_target"] = st["population"]
    m = map_section(plan, st, sites, scenario, catalogue, read_context(run_dir, plan), read_reasons(run_dir))
    figures = [{"name": "map", "title": "Map", "div": _div(m["figure"], "map", MAP_CONFIG), "notes": m["notes"]}]
    lcoe_fig, lcoe_note = plots.lcoe_figure(st)
    figures.append({"name": "lcoe", "title": "Cost of electricity by option across settlements",
                    "div": _div(lcoe_fig, "plot-lcoe"), "notes": [lcoe_note] if lcoe_note else []})
    figures.append({"name": "cost", "title": "Investment and annual cost by chosen option",
                    "div": _div(plots.cost_figure(plan["options"]), "plot-cost"), "notes": []})
    sens = plan.get("sensitivity")
    if isinstance(sens, dict):
        base = float(sens.get("base_total_usd", plan["total_annual_cost_usd"]))
        sens = sens.get("parameters")
    elif sens and "base_total_usd" in sens[0]:
        base = float(sens[0]["base_total_usd"])  # the tornado's own base row (least-cost per settlement)
    else:
        base = float(plan["total_annual_cost_usd"])
    if sens:
        figures.append({"name": "tornado", "title": "Sensitivity of the total annual cost",
                        "div": _div(plots.tornado_figure(sens, base), "plot-tornado"), "notes": []})
    if (run_dir / "dispatch.parquet").is_file():
        for d in dispatch_figures(run_dir / "dispatch.parquet", plan, catalogue, int(plan["target_year"])):
            figures.append({"name": d["name"], "title": d["title"], "div": _div(d["figure"], f"plot-{d['name']}"),
                            "notes": [d["note"]]})
    prob = read_sweep(run_dir, plan)
    if prob is not None and len(prob):
        names = pd.Series(st["name"].astype(str).to_numpy(), index=st["id"].astype(str).to_numpy())
        sweep_fig, sweep_note = plots.sweep_figure(prob, names)
        figures.append({"name": "sweep", "title": "Monte Carlo sweep: probability of each option",
                        "div": _div(sweep_fig, "plot-sweep"), "notes": [sweep_note] if sweep_note else []})
    inr = plan["currency"]["inr_per_usd"]
    headline = [
        ("settlements", tables.num(plan["settlements"])), ("population", tables.num(plan["population"])),
        ("demand", f"{tables.num(plan['demand_mwh_per_year'] / 1e3, 1)} GWh/yr"),
        ("total annual cost", f"{tables.num(plan['total_annual_cost_usd'] / 1e6, 2)} M USD/yr "
                              f"(₹{tables.num(plan['total_annual_cost_usd'] * inr / CRORE, 0)} crore)"),
        *([("net present cost", f"{tables.num(plan['total_npv_usd'] / 1e6, 1)} M USD "
                                f"(₹{tables.num(plan['total_npv_usd'] * inr / CRORE, 0)} crore)")]
          if plan.get("total_npv_usd") is not None else []),
        ("stand-alone cost (no reactors)", f"{tables.num(plan.get('standalone_annual_cost_usd', 0) / 1e6, 2)} M USD/yr "
                                           f"(₹{tables.num(plan.get('standalone_annual_cost_usd', 0) * inr / CRORE, 0)} crore)"),
        ("emissions", f"{tables.num(plan['emissions_t_co2_per_year'], 0)} t CO2/yr"),
        ("reactor sites built", tables.num(len(plan.get("reactor_sites", [])))),
    ]
    return {
        "plan": plan, "title": f"{plan['scenario']}: plan for {plan['target_year']}", "headline": headline,
        "currency": plan["currency"]["unit"], "figures": {f["name"]: f for f in figures},
        "totals": tables.totals_rows(plan),
        "grid_status": tables.grid_status_rows(plan), "costs": tables.cost_rows(plan), "built": tables.built_rows(plan),
        "why": tables.why_rows(plan), "npv_note": tables.npv_note(plan, scenario),
        "funnel": tables.funnel(plan), "solver": tables.solver_rows(plan), "data": tables.data_rows(plan),
        "dispatch": plan.get("dispatch"), "methods": tables.methods(scenario, catalogue),
        "colours": OPTION_COLOURS, "plotlyjs": get_plotlyjs(), "scale_steps": list(geography.SCALE_STEPS_KM),
        "earth_radius_km": geography.EARTH_RADIUS_KM, "created": plan.get("created_utc", ""),
        "versions": plan.get("versions", {}),
    }


_COAL_SITE_COLUMNS = ("site_id", "plant_name", "state", "lon", "lat", "retiring_mw", "suitable", "reason", "beats_coal",
                      "rank")


def repowering_context(run_dir: Path) -> dict:
    """What the coal-repowering report shows, from plan.json and coal.gpkg of a run directory."""
    run_dir = Path(run_dir)
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    scenario = parse_yaml((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
    section = plan["coal_repowering"]
    sites = pyogrio.read_dataframe(run_dir / "coal.gpkg", layer="coal_sites", columns=list(_COAL_SITE_COLUMNS),
                                   read_geometry=False)
    figures = {"coal_map": {"name": "coal_map", "title": "Coal sites: verdict and retiring capacity",
                            "div": _div(plots.coal_sites_figure(sites), "plot-coal-map", MAP_CONFIG), "notes": []},
               "coal_years": {"name": "coal_years", "title": "GW of retiring units at suitable sites, by replacement year",
                              "div": _div(plots.repowerable_figure(section["repowerable_gw_by_year"]), "plot-coal-years"),
                              "notes": []}}
    u, st, ref = section["units"], section["sites"], section["reference"]
    headline = [("units screened", f"{tables.num(u['screened'])} ({tables.num(u['mw'] / 1e3, 1)} GW)"),
                (f"retiring by {section['retiring_by']}",
                 f"{tables.num(u['retiring'])} ({tables.num(u['retiring_mw'] / 1e3, 1)} GW)"),
                ("sites suitable", f"{tables.num(st['suitable'])} of {tables.num(st['screened'])}"),
                ("repowerable", f"{tables.num(u['repowerable_mw'] / 1e3, 1)} GW of retiring units"),
                ("reactor beats coal at", f"{tables.num(st['beat_coal'])} sites"),
                ("large-plant reference", f"{tables.num(ref['large_reactor_usd_per_kwh'], 3)} USD/kWh"),
                ("grid average cost of supply", f"{tables.num(ref['grid_average_cost_of_supply_usd_per_kwh'], 3)} USD/kWh")]
    return {"plan": plan, "section": section, "scenario": scenario, "figures": figures, "headline": headline,
            "title": f"{plan['scenario']}: small reactors at retiring coal units", "plotlyjs": get_plotlyjs(),
            "created": plan.get("created_utc", ""), "versions": plan.get("versions", {}),
            "currency": f"USD {scenario['finance']['base_year']}"}


def roadmap_context(run_dir: Path) -> dict:
    """What the roadmap report shows, from plan.json, roadmap.csv, roadmap_settlements.csv,
    trajectory.csv and context.gpkg of a run directory."""
    run_dir = Path(run_dir)
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    scenario = parse_yaml((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
    section = plan["roadmap"]
    plants = pd.read_csv(run_dir / "roadmap.csv")
    traj = pd.read_csv(run_dir / "trajectory.csv")
    end = int(traj["year"].max()) + 1
    st = pd.read_csv(run_dir / geography.ROADMAP_SETTLEMENTS)
    ranges, titles, bars = panel_frames(st, plants["lon"].to_numpy(float), plants["lat"].to_numpy(float))
    traces, map_notes = land_traces(read_context(run_dir, plan), ranges)
    traces += plots.roadmap_traces(st, plants)
    figures = {"map": {"name": "roadmap-map", "title": "Where and when: plants by first-power year, places by the year a "
                       "plant first serves them", "notes": map_notes,
                       "div": _div(plots.panel_map_figure(traces, ranges, titles, bars, height=MAP_HEIGHT), "map", MAP_CONFIG)},
               "gantt": {"name": "gantt", "title": "Plants: construction from the decision year, then service",
                         "div": _div(plots.gantt_figure(plants, end), "plot-gantt") if len(plants) else "",
                         "notes": [] if len(plants) else ["no plant is started: every place keeps its stand-alone supply"]},
               "trajectory": {"name": "trajectory", "title": "Capex committed, annual cost and diesel, year by year",
                              "div": _div(plots.trajectory_figure(traj), "plot-trajectory"), "notes": []}}
    headline = [("periods", f"{section['periods'][0]}–{section['periods'][-1]}, every {section['step_years']} years"),
                ("plants started", f"{section['plants']} ({section['modules']} modules)"),
                ("reactor capex", f"{tables.num(section['capex_usd'] / 1e6, 1)} M USD"),
                ("present worth of the roadmap", f"{tables.num(section['present_worth_usd'] / 1e6, 1)} M USD")]
    if "myopic" in section:
        headline.append(("myopic plan costs more by", f"{tables.num(section['myopic']['extra_cost_usd'] / 1e6, 1)} M USD"))
    return {"plan": plan, "section": section, "scenario": scenario, "figures": figures, "headline": headline,
            "probabilities": roadmap_probabilities(run_dir, ROADMAP_PROBABILITY_ROWS),
            "plants": plants.to_dict(orient="records"), "trajectory": traj.to_dict(orient="records"),
            "title": f"{plan['scenario']}: roadmap of small reactors", "plotlyjs": get_plotlyjs(),
            "created": plan.get("created_utc", ""), "versions": plan.get("versions", {}),
            "currency": f"USD {scenario['finance']['base_year']}"}


def roadmap_probabilities(run_dir: Path, rows: int) -> list[dict] | None:
    """The roadmap Monte Carlo's sites as table rows (site_id, kind, then the probability that the site
    is started by each period, keyed by year), the `rows` sites most often started by the last period
    first; None when the run directory has no Monte Carlo."""
    path = Path(run_dir) / geography.ROADMAP_PROBABILITIES
    if not path.exists():
        return None
    p = pd.read_parquet(path)
    years = sorted(p["period_year"].unique())
    wide = p.pivot_table(index="site_id", columns="period_year", values="p_started", sort=False)
    wide = wide.sort_values(years[::-1], ascending=False, kind="stable").head(rows)
    kind = p.drop_duplicates("site_id").set_index("site_id")["kind"]
    values = wide[years].to_numpy(float)
    return [{"site_id": str(site), "kind": str(kind[site]), "by_year": dict(zip(map(int, years), row.tolist(), strict=True))}
            for site, row in zip(wide.index, values, strict=True)]


def build_report(run_dir: Path) -> Path:
    """Write report.html into a run directory from the files already there; returns its path. The page
    is streamed to the file as the template renders it (never held whole: its figures are megabytes)."""
    plan = json.loads((Path(run_dir) / "plan.json").read_text(encoding="utf-8"))
    if plan.get("study") == "roadmap":
        name, context = "roadmap.html.j2", roadmap_context(run_dir)
    elif plan.get("study") == "coal_repowering":
        name, context = "repowering.html.j2", repowering_context(run_dir)
    else:
        name, context = "report.html.j2", report_context(run_dir)
    out = Path(run_dir) / "report.html"
    tmp = out.with_name(".report.html.tmp")
    environment().get_template(name).stream(**context).dump(str(tmp), encoding="utf-8")
    tmp.replace(out)
    return out


# ------------------------------------------------------------------------------------------- PDF
def find_chromium() -> str | None:
    """Path of a Chromium (or Chrome) executable: $SMRPLAN_CHROMIUM, else the first on PATH."""
    env = os.environ.get("SMRPLAN_CHROMIUM")
    if env:
        return env if shutil.which(env) else None
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def print_pdf(html_path: Path, pdf_path: Path, chromium: str, timeout_s: float = 180.0) -> Path:
    """Print a page to PDF with headless Chromium (fresh profile, no background networking).
    Raises RuntimeError with Chromium's message when no PDF is written.

    Parameters
    ----------
    html_path : Path
        The page.
    pdf_path : Path
        The PDF written.
    chromium : str
        Chromium (or Chrome) executable, e.g. from `find_chromium`.
    timeout_s : float, default 180
        Longest Chromium may run (s).

    Returns
    -------
    Path
        `pdf_path`, resolved.

    Raises
    ------
    RuntimeError
        When Chromium writes no PDF.
    subprocess.TimeoutExpired
        When Chromium runs longer than `timeout_s`.
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="smrplan-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
               f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return pdf_path
