"""Figures of the report and of the explorer (plotly), built from run-directory tables.

Each function is pure: data frames and plan.json sections in, plotly traces or a Figure out; no
file is read here (see html.py). Large inputs are reduced before they are drawn so that a national
run stays within the report's size budget: settlements above `MAX_SETTLEMENT_POINTS` are aggregated
to grid cells (`settlement_points`), candidate sites above `MAX_SITE_POINTS` are sampled per
screening outcome (`site_points`), and LCOE distributions above `MAX_LCOE_POINTS` are drawn as
precomputed box statistics.

Units: demand in kWh/yr in the tables, shown as GWh/yr; power in kW, shown as MW; money in constant
USD of the scenario base year; coordinates in WGS84 degrees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from _plotly_utils.utils import convert_to_base64
from plotly.subplots import make_subplots

from smrplan.options import ALL_OPTIONS, OPTION_COLOURS, OPTION_LABELS  # explore.py reads the last two from here
from smrplan.report.sites import reason_text
from smrplan.units import KW_PER_MW

MAX_SETTLEMENT_POINTS = 10_000
MAX_SITE_POINTS = 10_000
MAX_LCOE_POINTS = 5_000
MIN_SITES_PER_GROUP = 50
CRITERION_COLOURS = ("#d62728", "#e377c2", "#bcbd22", "#8c564b", "#ff9896", "#c49c94", "#f7b6d2", "#dbdb8d",
                     "#9edae5", "#c5b0d5", "#ffbb78", "#98df8a")
# Marker shape of each existing-grid status (geo.grid_status): isolated systems are circles, places
# on the national grid squares, weak-grid places triangles; colour stays the chosen option.
GRID_STATUS_SYMBOLS = {"unconnected": "circle", "connected": "square", "weak": "triangle-up", "": "circle"}
GRID_STATUS_LABELS = {"unconnected": "isolated system (not on the national grid)", "connected": "on the national grid",
                      "weak": "on the national grid, weak supply (< 8 h/day)"}
# Marker diameters (px, smallest and largest) of places already on the national grid (connected or weak).
ON_GRID_MARKER_PX = (4.0, 9.0)
# Above this many points a trace is drawn with WebGL (scattergl), which pans and zooms 50,000 points.
WEBGL_POINTS = 2_000
# Reactor zones of a kind, and service and grid-extension lines, are drawn from the start up to these
# numbers; above them (a national plan) they stay hidden until clicked in the legend, so that panning
# stays smooth (they are specks and clutter until the map is zoomed in).
MAX_ZONES_SHOWN = 50
MAX_LINES_SHOWN = 500
# Suitable candidate sites are drawn from the start up to this many points (hidden until clicked above).
MAX_SITES_SHOWN = 2_000
# Context point layers (power plants, dams, airports) with more points are hidden until clicked in the legend.
MAX_CONTEXT_POINTS_SHOWN = 1_000
# Settlement names are written on the map when a panel holds at most this many.
MAX_NAMED = 80
ZONE_STYLE = {"exclusion": {"color": "#b2182b", "dash": "solid", "fill": "rgba(178, 24, 43, 0.25)"},
              "epz": {"color": "#b2182b", "dash": "dash", "fill": "rgba(178, 24, 43, 0.05)"}}
_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "template": "plotly_white",
           "font": {"family": "system-ui, sans-serif", "size": 12}}


# ------------------------------------------------------------------------------------------ map data
def settlement_points(st: pd.DataFrame, max_points: int = MAX_SETTLEMENT_POINTS) -> tuple[pd.DataFrame, str]:
    """Points to draw for the settlements: one per settlement, or grid cells above `max_points`.

    `st` needs lon, lat, demand_kwh_per_year, peak_kw, population_target (or population), id, name,
    and chosen_option with the lcoe_<option>_usd_per_kwh columns for a finished plan (without them
    the labels leave the option out, as the explorer colours points itself). Returns columns lon,
    lat, option, demand_kwh_per_year, label (hover text) and a note ("" when every settlement is
    drawn), plus name and grid_status ("" where unknown). A cell takes the option serving most of its
    demand and the grid status of most of its settlements; its size is its summed demand.
    """
    pop_col = "population_target" if "population_target" in st.columns else "population"
    demand = st["demand_kwh_per_year"].astype(float)
    planned = "chosen_option" in st.columns
    option = st["chosen_option"].astype(str) if planned else pd.Series("", index=st.index)
    if len(st) <= max_points:
        label = (st["name"].astype(str) + " (" + st["id"].astype(str) + ")<br>"
                 + (option.map(OPTION_LABELS).fillna(option) + "<br>" if planned else "")
                 + (demand / 1e6).round(2).astype(str) + " GWh/yr, peak "
                 + (st["peak_kw"].astype(float) / 1e3).round(2).astype(str) + " MW<br>population "
                 + st[pop_col].astype(float).round().astype("int64").astype(str)
                 + ("<br>LCOE " + _chosen_lcoe(st).round(3).astype(str) + " USD/kWh" if planned else ""))
        if "grid_status" in st.columns:
            label = label + "<br>" + st["grid_status"].astype(object).map(GRID_STATUS_LABELS).fillna("grid status unknown")
        return pd.DataFrame({"lon": st["lon"].to_numpy(float), "lat": st["lat"].to_numpy(float),
                             "option": option.to_numpy(), "demand_kwh_per_year": demand.to_numpy(),
                             "label": label.to_numpy(), "name": st["name"].astype(str).to_numpy(),
                             "grid_status": _status(st).to_numpy()}), ""
    cell_id, cell = grid_cells(st["lon"].to_numpy(float), st["lat"].to_numpy(float), max_points)
    frame = pd.DataFrame({"cell": cell_id, "option": option.to_numpy(), "demand": demand.to_numpy(),
                          "lon": st["lon"].to_numpy(float), "lat": st["lat"].to_numpy(float),
                          "pop": st[pop_col].to_numpy(float)})
    by_option = frame.pivot_table(index="cell", columns="option", values="demand", aggfunc="sum", fill_value=0.0)
    counts = frame.pivot_table(index="cell", columns="option", values="demand", aggfunc="size", fill_value=0)
    centre = frame.groupby("cell").agg(lon=("lon", "mean"), lat=("lat", "mean"), pop=("pop", "sum"),
                                       n=("demand", "size"), demand=("demand", "sum"))
    dominant = by_option.idxmax(axis=1).reindex(centre.index)
    mix = pd.Series("", index=counts.index)
    for name in counts.columns[counts.columns != ""]:  # one pass per option (six at most), vectorised over cells
        c = counts[name]
        mix = mix + np.where(c > 0, "<br>" + OPTION_LABELS.get(name, name) + ": " + c.astype(str), "")
    label = (centre["n"].astype(str) + " settlements in this cell (" + f"{cell:.2f}" + "° grid)<br>"
             + (centre["demand"] / 1e6).round(2).astype(str) + " GWh/yr, population "
             + centre["pop"].round().astype("int64").astype(str) + mix.reindex(centre.index))
    note = (f"{len(st):,} settlements are drawn as {len(centre):,} grid cells of {cell:.2f}°; each cell takes "
            "the option serving most of its demand and is sized by its total demand.")
    frame["status"] = _status(st).to_numpy()
    by_status = frame.groupby(["cell", "status"]).size().sort_values(ascending=False, kind="stable")
    status = by_status.reset_index().drop_duplicates("cell").set_index("cell")["status"].reindex(centre.index)
    return pd.DataFrame({"lon": centre["lon"].to_numpy(), "lat": centre["lat"].to_numpy(),
                         "option": dominant.to_numpy(), "demand_kwh_per_year": centre["demand"].to_numpy(),
                         "label": label.to_numpy(), "name": "", "grid_status": status.to_numpy()}), note


def _status(st: pd.DataFrame) -> pd.Series:
    """Each settlement's grid status (connected, weak, unconnected), "" without the column."""
    if "grid_status" not in st.columns:
        return pd.Series("", index=st.index)
    return st["grid_status"].astype(str).where(st["grid_status"].notna(), "")


def grid_cells(lon: np.ndarray, lat: np.ndarray, max_cells: int) -> tuple[np.ndarray, float]:
    """Square grid cells (degrees) sized so the bounding box holds about `max_cells` cells.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Points (degrees).
    max_cells : int
        About how many cells the points' bounding box is cut into.

    Returns
    -------
    cell : numpy.ndarray
        Each point's cell number (int).
    size : float
        The cell size (degrees).
    """
    width = max(float(np.ptp(lon)), 1e-6)
    height = max(float(np.ptp(lat)), 1e-6)
    size = max(np.sqrt(width * height / max_cells), 1e-4)
    cols = int(np.floor(width / size)) + 1
    ix = np.floor((lon - lon.min()) / size).astype(np.int64)
    iy = np.floor((lat - lat.min()) / size).astype(np.int64)
    return iy * cols + ix, float(size)


def _chosen_lcoe(st: pd.DataFrame) -> pd.Series:
    """LCOE of each settlement's chosen option (USD/kWh), from its lcoe_<option>_usd_per_kwh column."""
    out = pd.Series(np.nan, index=st.index)
    for option in ALL_OPTIONS:
        col = f"lcoe_{option}_usd_per_kwh"
        if col in st.columns:
            sel = st["chosen_option"] == option
            out[sel] = st.loc[sel, col].astype(float)
    return out


def first_failed(reason: pd.Series, suitable: pd.Series) -> pd.Series:
    """Screening outcome per site: "suitable" or the name of the first criterion it fails (the
    reason text lists failures as `name (value; needs limit); ...`)."""
    first = reason.astype(str).str.extract(r"^\s*([A-Za-z0-9_]+)", expand=False).fillna("unknown")
    return first.where(~suitable.astype(bool), "suitable")


def site_points(sites: pd.DataFrame, max_points: int = MAX_SITE_POINTS, seed: int = 0,
                reasons: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """Candidate sites to draw: lon, lat, kind, outcome (first failed criterion or "suitable"),
    reason, and total (sites with that outcome, drawn or not).

    Above `max_points` a seeded random sample is drawn: suitable sites get up to half the budget,
    the rest is shared among the failure groups in proportion to their size, each keeping at least
    `MIN_SITES_PER_GROUP` (or the whole group); a note says so. A missing reason (the compact rows of
    the rejected-sites file) is rebuilt from the site's codes for the sites drawn only
    (`smrplan.report.sites.reason_text`).

    Parameters
    ----------
    sites : pandas.DataFrame
        The screened sites: lon, lat (degrees; else a point geometry), kind, suitable, reason and,
        when known, first_failed (the code of the first criterion failed, "suitable" for suitable
        sites; else taken from the reason text, `first_failed`); rows without a reason hold
        first_failed_value and failed.
    max_points : int, default `MAX_SITE_POINTS`
        Most sites drawn.
    seed : int, default 0
        Seed of the sample.
    reasons : pandas.DataFrame, optional
        The reason-code table (`smrplan.report.sites.reasons_table`); needed when a reason is missing.

    Returns
    -------
    points : pandas.DataFrame
        The sites drawn, with the columns above.
    note : str
        What was sampled ("" when every site is drawn).
    """
    lon = sites["lon"] if "lon" in sites.columns else sites.geometry.x
    lat = sites["lat"] if "lat" in sites.columns else sites.geometry.y
    outcome = sites["first_failed"] if "first_failed" in sites.columns else first_failed(sites["reason"], sites["suitable"])
    # kind and outcome stay categories until the sample is drawn: a text per site costs seconds at a million
    out = pd.DataFrame({"lon": np.asarray(lon, float), "lat": np.asarray(lat, float),
                        "kind": pd.Categorical(sites["kind"]), "outcome": pd.Categorical(outcome),
                        "reason": sites["reason"].to_numpy(object)})
    out["total"] = out.groupby("outcome", observed=True)["outcome"].transform("size").to_numpy(int)
    note = ""
    if len(out) > max_points:
        rng = np.random.default_rng(seed)
        shuffled = out.iloc[rng.permutation(len(out))]
        rank = shuffled.groupby("outcome", observed=True).cumcount()
        size = shuffled["total"]
        ok = (shuffled["outcome"] == "suitable").to_numpy(bool)
        n_ok = int(ok.sum())
        budget = max_points - min(n_ok, max_points // 2)
        quota = np.where(ok, max_points // 2, np.maximum(np.ceil(size * budget / max(len(out) - n_ok, 1)),
                                                          np.minimum(size, MIN_SITES_PER_GROUP)))
        out = shuffled[rank < quota].sort_index()
        note = (f"{len(sites):,} candidate sites: a random sample of {len(out):,} is drawn (suitable ones first, then "
                f"each screening outcome in proportion, at least {MIN_SITES_PER_GROUP} per outcome); legend and funnel "
                "count all.")
    out["kind"], out["outcome"] = out["kind"].astype(str), out["outcome"].astype(str)
    missing = out["reason"].isna().to_numpy()
    if missing.any():
        if reasons is None:
            raise ValueError("sites without a reason text need the reason-code table (reasons)")
        out.loc[missing, "reason"] = reason_text(sites.iloc[out.index[missing]], reasons)
    out["reason"] = out["reason"].astype(str)
    return out, note


def outline_xy(geoms, bbox: tuple[float, float, float, float], tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Land outlines as x, y arrays with NaN between rings, for one filled plotly trace.

    Exterior rings only (lakes are not drawn); every ring that meets the box is kept, however small
    (small islands matter here); polygons are cut at the box.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        Polygons in WGS84.
    bbox : tuple of float
        (minx, miny, maxx, maxy) of what is drawn, degrees.
    tolerance : float
        Douglas-Peucker tolerance, degrees.

    Returns
    -------
    x, y : numpy.ndarray
        Ring coordinates (degrees, rounded to 1e-4), NaN between rings; empty without land in the box.
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = shapely.get_parts(shapely.clip_by_rect(parts[shapely.intersects(parts, shapely.box(*bbox))], *bbox))
    rings = shapely.simplify(shapely.get_exterior_ring(parts[shapely.get_type_id(parts) == 3]), tolerance,
                             preserve_topology=False)
    rings = rings[~shapely.is_empty(rings)]
    if len(rings) == 0:
        return np.array([]), np.array([])
    coords, index = shapely.get_coordinates(rings, return_index=True)
    breaks = np.flatnonzero(np.diff(index)) + 1
    xy = np.insert(coords, breaks, np.nan, axis=0)
    return np.round(xy[:, 0], 4), np.round(xy[:, 1], 4)


# ------------------------------------------------------------------------------------------- traces
def outline_trace(x: np.ndarray, y: np.ndarray) -> go.Scatter:
    """Filled land polygons (one trace)."""
    return go.Scatter(x=x, y=y, mode="lines", fill="toself", fillcolor="rgba(222, 214, 190, 0.55)",
                      line={"color": "#9c9277", "width": 0.7}, name="land and coast", hoverinfo="skip")


def site_traces(points: pd.DataFrame, criterion_labels: dict[str, str]) -> list[go.Scatter | go.Scattergl]:
    """Candidate sites: one trace for suitable ones (hidden until clicked in the legend above
    `MAX_SITES_SHOWN` points) and one per first failed criterion (hidden until clicked), WebGL above
    `WEBGL_POINTS` sites; hover shows the kind and the full reason."""
    traces = []
    groups = points.groupby("outcome", sort=False)
    totals = points.groupby("outcome")["total"].first()
    order = ["suitable"] + sorted((str(k) for k in groups.groups if k != "suitable"), key=lambda k: -totals[k])
    kind = go.Scattergl if len(points) > WEBGL_POINTS else go.Scatter
    for i, outcome in enumerate(k for k in order if k in groups.groups):
        g = groups.get_group(outcome)
        ok = outcome == "suitable"
        label = "candidate: suitable" if ok else f"fails: {criterion_labels.get(outcome, outcome)}"
        traces.append(kind(
            x=g["lon"].to_numpy(), y=g["lat"].to_numpy(), mode="markers", name=f"{label} ({int(g['total'].iloc[0]):,})",
            legendgroup=f"sites-{outcome}", visible=True if ok and len(g) <= MAX_SITES_SHOWN else "legendonly",
            marker={"size": 4, "opacity": 0.5 if ok else 0.45, "symbol": "diamond" if ok else "circle",
                    "color": "#2ca02c" if ok else CRITERION_COLOURS[(i - 1) % len(CRITERION_COLOURS)]},
            customdata=np.column_stack([g["kind"].to_numpy(), g["reason"].to_numpy()]),
            hovertemplate="%{customdata[0]} site<br>%{customdata[1]}<extra>" + ("suitable" if ok else outcome)
                          + "</extra>"))
    return traces


def marker_size(demand_kwh: np.ndarray, on_grid: np.ndarray | None = None) -> np.ndarray:
    """Marker diameter (px) growing with the square root of demand, 6 to 30 px; `on_grid` (bool per
    point) draws those points within `ON_GRID_MARKER_PX` instead, on the same scale of demand."""
    d = np.asarray(demand_kwh, float)
    scale = np.sqrt(d / max(float(np.nanmax(d, initial=0.0)), 1.0))
    size = 6.0 + 24.0 * scale
    if on_grid is not None:
        low, high = ON_GRID_MARKER_PX
        size[on_grid] = low + (high - low) * scale[on_grid]
    return size


def settlement_traces(points: pd.DataFrame, names: bool = False) -> list[go.Scatter | go.Scattergl]:
    """Settlements (or cells) coloured by chosen option and sized by demand, one trace per option; the
    marker shape shows the grid status (`GRID_STATUS_SYMBOLS`) when `points` has one. Places already on
    the national grid are drawn small (`ON_GRID_MARKER_PX`) and underneath, so that the isolated systems a
    plan is about stand out on a national map. `names` writes
    each settlement's name beside it (`points` needs a name column)."""
    status = points["grid_status"].astype(str) if "grid_status" in points.columns else pd.Series("", index=points.index)
    symbol = status.map(GRID_STATUS_SYMBOLS).fillna("circle").to_numpy()
    size = marker_size(points["demand_kwh_per_year"].to_numpy(), on_grid=status.isin(["connected", "weak"]).to_numpy())
    kind = go.Scattergl if len(points) > WEBGL_POINTS else go.Scatter
    position = (label_positions(points["lon"].to_numpy(float), points["lat"].to_numpy(float)) if names
                else np.full(len(points), "top center"))
    traces = []
    for option in sorted(ALL_OPTIONS, key=lambda o: o != "grid"):  # the grid underneath, isolated systems on top
        sel = (points["option"] == option).to_numpy()
        if not sel.any():
            continue
        extra = ({"mode": "markers+text", "text": points["name"].to_numpy()[sel], "textposition": position[sel],
                  "textfont": {"size": 10, "color": "#222"}, "hovertext": points["label"].to_numpy()[sel],
                  "hovertemplate": "%{hovertext}<extra></extra>"} if names else
                 {"mode": "markers", "text": points["label"].to_numpy()[sel], "hovertemplate": "%{text}<extra></extra>"})
        traces.append(kind(
            x=points["lon"].to_numpy()[sel], y=points["lat"].to_numpy()[sel],
            name=f"settlement: {OPTION_LABELS[option]} ({int(sel.sum()):,})", legendgroup=f"opt-{option}",
            marker={"size": size[sel], "color": OPTION_COLOURS[option], "symbol": symbol[sel],
                    "line": {"width": 1, "color": "white"}}, **extra))
    return traces


def label_positions(lon: np.ndarray, lat: np.ndarray, wide_deg: float = 0.2, high_deg: float = 0.15) -> np.ndarray:
    """Where to write each point's name: above it, or below when another point lies less than
    `wide_deg` degrees east or west and less than `high_deg` degrees north of it (so that a name does
    not print over its neighbour's).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        The points, degrees.
    wide_deg, high_deg : float, default 0.2 and 0.15
        How far east or west and north a neighbour crowds a name, degrees.

    Returns
    -------
    numpy.ndarray
        plotly text positions, "top center" or "bottom center".
    """
    dx = np.abs(lon[:, None] - lon[None, :])
    dy = lat[None, :] - lat[:, None]  # > 0: the other point lies north
    crowded = ((dx < wide_deg) & (dy > 0) & (dy < high_deg)).any(axis=1)
    return np.where(crowded, "bottom center", "top center")


def grid_status_legend(points: pd.DataFrame) -> list[go.Scatter]:
    """Legend entries (no data drawn) for the marker shapes of the grid statuses present in `points`."""
    if "grid_status" not in points.columns:
        return []
    present = [s for s in GRID_STATUS_LABELS if (points["grid_status"] == s).any()]
    return [go.Scatter(x=[None], y=[None], mode="markers",
                       name=f"{GRID_STATUS_SYMBOLS[s].split('-')[0]}: {GRID_STATUS_LABELS[s]}",
                       legendgroup=f"status-{s}", marker={"symbol": GRID_STATUS_SYMBOLS[s], "size": 10, "color": "#777"},
                       hoverinfo="skip") for s in present]


def grid_extension_trace(st: pd.DataFrame) -> list[go.Scatter]:
    """Lines from each settlement that chose grid extension to its grid connection point (grid_lon,
    grid_lat): the submarine or overland cable of the plan; hidden until clicked in the legend above
    `MAX_LINES_SHOWN` lines. Places already on the grid (grid_status connected or weak) need no new line
    and get none."""
    if "grid_lon" not in st.columns or "chosen_option" not in st.columns:
        return []
    new = (st["grid_status"].astype(object).fillna("").astype(str).isin(["", "unconnected"]) if "grid_status" in st.columns
           else True)
    g = st[(st["chosen_option"] == "grid") & st["grid_lon"].notna() & new]
    if g.empty:
        return []
    n = len(g)
    x, y = np.full(3 * n, np.nan), np.full(3 * n, np.nan)
    x[0::3], x[1::3] = g["lon"].to_numpy(float), g["grid_lon"].to_numpy(float)
    y[0::3], y[1::3] = g["lat"].to_numpy(float), g["grid_lat"].to_numpy(float)
    return [go.Scatter(x=x, y=y, mode="lines", name=f"grid extension ({n:,})", legendgroup="grid-extension",
                       line={"color": OPTION_COLOURS["grid"], "width": 1.5}, hoverinfo="skip",
                       visible=True if n <= MAX_LINES_SHOWN else "legendonly")]


def zone_traces(zones: pd.DataFrame) -> list[go.Scatter]:
    """Exclusion zones and emergency planning zones of built reactors, drawn to scale (one trace per
    zone kind; `zones` has zone, radius_km, site_id and the circle's geometry in WGS84); hidden until
    clicked in the legend above `MAX_ZONES_SHOWN` zones of a kind."""
    traces = []
    for zone, title in (("epz", "emergency planning zone"), ("exclusion", "exclusion zone")):
        z = zones[zones["zone"] == zone] if len(zones) else zones
        if not len(z):
            continue
        coords, index = shapely.get_coordinates(shapely.get_exterior_ring(z.geometry.to_numpy()), return_index=True)
        xy = np.insert(coords, np.flatnonzero(np.diff(index)) + 1, np.nan, axis=0)
        style = ZONE_STYLE[zone]
        radii = ", ".join(f"{r:g}" for r in sorted(set(z["radius_km"].astype(float))))
        traces.append(go.Scatter(x=np.round(xy[:, 0], 5), y=np.round(xy[:, 1], 5), mode="lines", fill="toself",
                                 fillcolor=style["fill"], line={"color": style["color"], "width": 1.2, "dash": style["dash"]},
                                 name=f"{title} ({radii} km)", legendgroup=f"zone-{zone}", hoverinfo="skip",
                                 visible=True if len(z) <= MAX_ZONES_SHOWN else "legendonly"))
    return traces


def context_traces(context: dict[str, pd.DataFrame]) -> list[go.Scatter | go.Scattergl]:
    """Context layers of the run (report.geography.CONTEXT_LAYERS) other than land: seismic zone
    outlines, cyclone tracks and earthquakes (hidden until clicked in the legend), power plants, dams
    and airports (WebGL above `WEBGL_POINTS` points, hidden until clicked above `MAX_CONTEXT_POINTS_SHOWN`)."""
    traces = []
    zones = context.get("seismic_zones")
    if zones is not None and "zone" in zones.columns:
        for zone, g in zones.groupby("zone"):
            coords, index = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(g.geometry.to_numpy())),
                                                    return_index=True)
            xy = np.insert(coords, np.flatnonzero(np.diff(index)) + 1, np.nan, axis=0)
            traces.append(go.Scatter(x=np.round(xy[:, 0], 4), y=np.round(xy[:, 1], 4), mode="lines",
                                     name=f"IS 1893 seismic zone {zone}", legendgroup=f"seismic-{zone}", visible="legendonly",
                                     line={"color": "#7b3294", "width": 1, "dash": "dot"}, hoverinfo="skip"))
    tracks = context.get("cyclone_tracks")
    if tracks is not None and len(tracks):
        sid = next((c for c in ("CS_ID", "SID", "storm_id") if c in tracks.columns), None)
        if sid is not None:
            pts = tracks.assign(_x=tracks.geometry.x, _y=tracks.geometry.y).sort_values([sid, *tracks.columns[:1]])
            breaks = np.flatnonzero(pts[sid].to_numpy()[1:] != pts[sid].to_numpy()[:-1]) + 1
            xy = np.insert(pts[["_x", "_y"]].to_numpy(float), breaks, np.nan, axis=0)
            traces.append(go.Scatter(x=np.round(xy[:, 0], 3), y=np.round(xy[:, 1], 3), mode="lines",
                                     name=f"cyclone tracks ({pts[sid].nunique()} storms)", legendgroup="cyclones",
                                     visible="legendonly", line={"color": "#5e3c99", "width": 0.8}, opacity=0.6,
                                     hoverinfo="skip"))
    quakes = context.get("earthquakes")
    if quakes is not None and len(quakes):
        mcol = next((c for c in ("mw", "mag", "magnitude", "Mw") if c in quakes.columns), None)
        if mcol is not None:
            mag = pd.to_numeric(quakes[mcol], errors="coerce").to_numpy(float)
            strong = mag >= 6.0
            traces.append(go.Scatter(x=quakes.geometry.x.to_numpy()[strong], y=quakes.geometry.y.to_numpy()[strong],
                                     mode="markers", name=f"earthquakes Mw >= 6 ({int(strong.sum())})", legendgroup="quakes",
                                     visible="legendonly", marker={"size": 3 + 2.5 * (mag[strong] - 6.0) ** 2 + 4,
                                                                   "color": "rgba(0,0,0,0)",
                                                                   "line": {"color": "#8c510a", "width": 1}},
                                     text=[f"Mw {m:.1f}" for m in mag[strong]],
                                     hovertemplate="earthquake %{text}<extra></extra>"))
    for name, title, symbol, colour, field in (("power_plants", "power plant", "square", "#444", "name"),
                                              ("dams", "large dam", "triangle-down", "#2166ac", "dam_name"),
                                              ("airports", "airport", "cross", "#111", "name")):
        layer = context.get(name)
        if layer is None or not len(layer):
            continue
        pts = layer.geometry.representative_point()
        text = layer[field].astype(str).to_numpy() if field in layer.columns else np.full(len(layer), title)
        kind = go.Scattergl if len(layer) > WEBGL_POINTS else go.Scatter
        traces.append(kind(x=pts.x.to_numpy(), y=pts.y.to_numpy(), mode="markers", name=f"{title} ({len(layer)})",
                           legendgroup=name, visible=True if len(layer) <= MAX_CONTEXT_POINTS_SHOWN else "legendonly",
                           marker={"symbol": symbol, "size": 8, "color": colour, "line": {"width": 1, "color": "white"}},
                           text=text, hovertemplate=title + ": %{text}<extra></extra>"))
    return traces


def scale_bar_trace(x_range: tuple[float, float], y_range: tuple[float, float], km: float, lon_deg: float) -> go.Scatter:
    """A scale bar in the lower left of a panel, drawn in map coordinates so that it keeps its true
    length when the map is zoomed (the report's script also redraws it for the zoomed extent).

    Parameters
    ----------
    x_range, y_range : tuple of float
        The panel's longitude and latitude ranges, degrees.
    km : float
        Length the bar stands for, km.
    lon_deg : float
        Degrees of longitude that `km` spans at the panel's latitude.

    Returns
    -------
    plotly.graph_objects.Scatter
        The bar with end ticks and its label, named "scale".
    """
    x0 = x_range[0] + 0.06 * (x_range[1] - x_range[0])
    y0 = y_range[0] + 0.04 * (y_range[1] - y_range[0])
    tick = 0.008 * (y_range[1] - y_range[0])
    return go.Scatter(x=[x0, x0, x0, x0 + lon_deg, x0 + lon_deg], y=[y0 + tick, y0, y0, y0, y0 + tick],
                      mode="lines+text", text=["", "", "", "", f"{km:g} km"], textposition="top right",
                      line={"color": "#222", "width": 2.5}, showlegend=False, hoverinfo="skip", name="scale")


def built_traces(built: list[dict], st: pd.DataFrame) -> list[go.Scatter]:
    """Built reactor sites (stars, hover with technology and modules) and service lines from each
    site to the settlements it serves (plan.json reactor_sites[].settlements_served); the lines are
    hidden until clicked in the legend above `MAX_LINES_SHOWN`."""
    if not built:
        return []
    sites = pd.DataFrame(built)
    served = sites[["site_id", "lon", "lat", "settlements_served"]].explode("settlements_served").dropna()
    where = pd.DataFrame({"lon": st["lon"].to_numpy(float), "lat": st["lat"].to_numpy(float)},
                         index=st["id"].astype(str).to_numpy())
    to = where.reindex(served["settlements_served"].astype(str).to_numpy())
    n = len(served)
    x = np.full(3 * n, np.nan)
    y = np.full(3 * n, np.nan)
    x[0::3], x[1::3] = served["lon"].to_numpy(float), to["lon"].to_numpy()
    y[0::3], y[1::3] = served["lat"].to_numpy(float), to["lat"].to_numpy()
    lines = go.Scatter(x=x, y=y, mode="lines", name=f"service lines ({n:,})", hoverinfo="skip",
                       line={"color": "#333", "width": 1.2, "dash": "dot"},
                       visible=True if n <= MAX_LINES_SHOWN else "legendonly")
    text = (sites["technology_name"].astype(str) + " at " + sites["site_id"].astype(str) + "<br>"
            + sites["modules"].astype(str) + " module(s), " + sites["capacity_mw"].astype(str) + " MW<br>serves "
            + sites["settlements_served"].map(len).astype(str) + " settlement(s), "
            + sites["demand_mwh_per_year"].astype(float).div(1000).round(1).astype(str) + " GWh/yr")
    stars = go.Scatter(x=sites["lon"], y=sites["lat"], mode="markers", name=f"built reactor site ({len(sites)})",
                       legendgroup="built", marker={"symbol": "star", "size": 17, "color": "black",
                                                    "line": {"width": 1, "color": "gold"}},
                       text=text, hovertemplate="%{text}<extra></extra>")
    return [lines, stars]


def map_figure(traces: list, bbox: tuple[float, float, float, float], height: int = 680) -> go.Figure:
    """The map on lon/lat axes (no tiles, nothing fetched), framed on `bbox` (minx, miny, maxx, maxy,
    degrees) with a 5 % margin; a degree of latitude is drawn 1 / cos(mid-latitude) times as long as a
    degree of longitude, so shapes keep their proportions.

    Parameters
    ----------
    traces : list of plotly traces
        What is drawn, x = longitude and y = latitude (degrees).
    bbox : tuple of float
        (minx, miny, maxx, maxy), degrees.
    height : int, default 680
        Figure height (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    minx, miny, maxx, maxy = bbox
    padx, pady = max((maxx - minx) * 0.05, 0.05), max((maxy - miny) * 0.05, 0.05)
    ratio = 1.0 / max(np.cos(np.radians((miny + maxy) / 2.0)), 0.2)
    fig = go.Figure(traces)
    fig.update_layout(**_LAYOUT, height=height, legend={"orientation": "v", "x": 1.01, "y": 1, "font": {"size": 11}},
                      xaxis={"title": "longitude (°E)", "zeroline": False, "range": [minx - padx, maxx + padx]},
                      yaxis={"title": "latitude (°N)", "scaleanchor": "x", "scaleratio": ratio, "zeroline": False,
                             "range": [miny - pady, maxy + pady]},
                      plot_bgcolor="#eef4f8", dragmode="pan", hovermode="closest")
    return fig


def panel_map_figure(traces: list, ranges: list[tuple[float, float, float, float]], titles: list[str],
                     scale_bars: list[go.Scatter], height: int = 680) -> dict:
    """The map in one or more side-by-side panels (island groups far apart), each on lon/lat axes
    framed on its own range, zoomed and panned on its own; a degree of latitude is drawn
    1 / cos(mid-latitude) times as long as a degree of longitude, so shapes keep their proportions.
    Every trace is drawn in every panel; the legend lists it once and toggles it in all.

    The figure is returned as plotly's dictionary, each panel's traces as copies of the traces'
    dictionaries pointed at the panel's axes: the traces were checked when they were made, and
    checking every copy again as a plotly object cost most of the report's time.

    Parameters
    ----------
    traces : list of plotly traces
        What is drawn, x = longitude and y = latitude (degrees).
    ranges : list of tuple of float
        (minx, maxx, miny, maxy) of each panel, degrees.
    titles : list of str
        Title of each panel ("" for none).
    scale_bars : list of plotly traces
        One scale bar per panel (`scale_bar_trace`).
    height : int, default 680
        Figure height (px).

    Returns
    -------
    dict
        ``data`` (trace dictionaries) and ``layout``, for `plotly.io.to_html`.
    """
    n = len(ranges)
    # each panel's share of the width is what its extent needs at the common height
    widths = [max((r[1] - r[0]) * np.cos(np.radians((r[2] + r[3]) / 2.0)) / max(r[3] - r[2], 1e-3), 1e-3) for r in ranges]
    fig = make_subplots(rows=1, cols=n, column_widths=[w / sum(widths) for w in widths],
                        subplot_titles=titles if any(titles) else None, horizontal_spacing=0.06 if n > 1 else 0.0)
    shown = [t.to_plotly_json() for t in traces]
    convert_to_base64(shown)  # numeric arrays as typed arrays, as plotly writes a checked figure
    data = []
    for i, (minx, maxx, miny, maxy) in enumerate(ranges):
        suffix = "" if i == 0 else str(i + 1)
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        for t in shown:
            data.append({**t, "legendgroup": t.get("legendgroup") or t.get("name"), **({"showlegend": False} if i else {}),
                         **axes})
        bar = scale_bars[i].to_plotly_json()
        convert_to_base64(bar)
        data.append({**bar, **axes})
        ratio = 1.0 / max(np.cos(np.radians((miny + maxy) / 2.0)), 0.2)
        fig.update_layout({f"xaxis{suffix}": {"title": "longitude (°E)", "zeroline": False, "range": [minx, maxx],
                                              "showgrid": True, "gridcolor": "#dde6ee"},
                           f"yaxis{suffix}": {"title": "latitude (°N)" if i == 0 else None, "scaleanchor": f"x{suffix}",
                                              "scaleratio": ratio, "zeroline": False, "range": [miny, maxy],
                                              "showgrid": True, "gridcolor": "#dde6ee"}})
    # the legend goes under the panels, which keep the page's whole width (on screen and on paper)
    fig.update_layout(**_LAYOUT, height=height, plot_bgcolor="#e6f0f7", dragmode="pan", hovermode="closest",
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.1, "yanchor": "top",
                              "font": {"size": 11}})
    return {"data": data, "layout": fig.to_dict()["layout"]}


# ------------------------------------------------------------------------------------------- plots
def lcoe_figure(st: pd.DataFrame, max_points: int = MAX_LCOE_POINTS) -> tuple[go.Figure, str]:
    """LCOE of every option across settlements (USD/kWh): a box per option with every settlement as
    a point, or precomputed box statistics above `max_points` settlements."""
    fig = go.Figure()
    many = len(st) > max_points
    for option in ALL_OPTIONS:
        col = f"lcoe_{option}_usd_per_kwh"
        if col not in st.columns:
            continue
        v = st[col].astype(float)
        ok = np.isfinite(v.to_numpy())
        if not ok.any():
            continue
        colour = OPTION_COLOURS[option]
        name = f"{OPTION_LABELS[option]} ({int(ok.sum()):,})"
        if many:
            q = np.quantile(v[ok], [0.0, 0.25, 0.5, 0.75, 1.0])
            iqr = q[3] - q[1]
            lo = float(v[ok][v[ok] >= q[1] - 1.5 * iqr].min())
            hi = float(v[ok][v[ok] <= q[3] + 1.5 * iqr].max())
            fig.add_trace(go.Box(y=[name], q1=[q[1]], median=[q[2]], q3=[q[3]], lowerfence=[lo], upperfence=[hi],
                                 name=name, marker_color=colour, orientation="h"))
        else:
            fig.add_trace(go.Box(x=v[ok].to_numpy(), name=name, marker_color=colour, boxpoints="all", jitter=0.5,
                                 pointpos=0, orientation="h", text=st.loc[ok, "name"].astype(str).to_numpy(),
                                 hovertemplate="%{text}: %{x:.3f} USD/kWh<extra></extra>"))
    fig.update_layout(**_LAYOUT, height=120 + 55 * len(fig.data), showlegend=False,
                      xaxis={"title": "LCOE (USD/kWh)", "type": "log"})
    note = (f"{len(st):,} settlements: boxes from precomputed quartiles; whiskers at 1.5 x IQR."
            if many else "")
    return fig, note


def cost_figure(options: dict[str, dict]) -> go.Figure:
    """Investment (M USD) and annual cost (M USD/yr) of each chosen option (plan.json options)."""
    names = [o for o in ALL_OPTIONS if o in options and options[o]["settlements"] > 0] or list(options)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("investment (M USD)", "annual cost (M USD/yr)"))
    labels = [OPTION_LABELS.get(o, o) for o in names]
    colours = [OPTION_COLOURS.get(o, "#999") for o in names]
    fig.add_trace(go.Bar(x=labels, y=[options[o]["capex_usd"] / 1e6 for o in names], marker_color=colours,
                         hovertemplate="%{x}: %{y:,.1f} M USD<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=[options[o]["annual_cost_usd"] / 1e6 for o in names], marker_color=colours,
                         hovertemplate="%{x}: %{y:,.2f} M USD/yr<extra></extra>"), row=1, col=2)
    fig.update_layout(**_LAYOUT, height=360, showlegend=False)
    return fig


def tornado_figure(rows: list[dict], base_total_usd: float) -> go.Figure:
    """Sensitivity tornado: change of the total annual cost (M USD/yr) when each parameter is set to
    its low and high value, widest swing on top."""
    df = pd.DataFrame(rows)
    df["low_delta"] = (df["low_total_usd"].astype(float) - base_total_usd) / 1e6
    df["high_delta"] = (df["high_total_usd"].astype(float) - base_total_usd) / 1e6
    df = df.assign(span=(df["high_delta"] - df["low_delta"]).abs()).sort_values("span")
    label = df["parameter"].astype(str)
    fig = go.Figure([
        go.Bar(y=label, x=df["low_delta"], orientation="h", name="low value", marker_color="#4c9be8",
               customdata=df["low_value"].astype(str), hovertemplate="%{y} = %{customdata}: %{x:+,.2f} M USD/yr<extra></extra>"),
        go.Bar(y=label, x=df["high_delta"], orientation="h", name="high value", marker_color="#e8804c",
               customdata=df["high_value"].astype(str), hovertemplate="%{y} = %{customdata}: %{x:+,.2f} M USD/yr<extra></extra>"),
    ])
    fig.update_layout(**_LAYOUT, barmode="overlay", height=140 + 32 * len(df),
                      xaxis={"title": f"change of total annual cost from {base_total_usd / 1e6:,.1f} M USD/yr"})
    return fig


def dispatch_figure(hourly: pd.DataFrame, start: pd.Timestamp, title: str,
                    outage: list[tuple[int, int]] | None = None) -> go.Figure:
    """Hour-by-hour balance of one system over a window: supply stacked (reactor, PV, battery
    discharge, diesel, unserved), sinks below zero (battery charge, curtailment), load as a line and
    battery state of charge on the right axis. `hourly` holds the window's rows (hour of year);
    `outage` lists (first hour, end hour) of refuelling outages, shaded. Power in MW (or kW when small).

    Parameters
    ----------
    hourly : pandas.DataFrame
        The window's rows of dispatch.parquet: hour (of the year), load and the other series (kWh per
        hour, i.e. kW; soc in kWh).
    start : pandas.Timestamp
        Start of hour 0 (January 1, 00:00 of the target year).
    title : str
        Figure title.
    outage : list of (int, int) or None, default None
        Refuelling outages as (first hour, end hour) of the year.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    scale, unit = (KW_PER_MW, "MW") if float(hourly["load"].max()) >= KW_PER_MW else (1.0, "kW")
    t = start + pd.to_timedelta(hourly["hour"].to_numpy(), unit="h")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    supply = {"reactor": "#1f77b4", "pv": "#ffbf00", "battery_discharge": "#2ca02c", "diesel": "#8c564b",
              "unserved": "#d62728"}
    for col, colour in supply.items():
        if col in hourly.columns and float(hourly[col].abs().max()) > 0:
            fig.add_trace(go.Scatter(x=t, y=hourly[col] / scale, name=col.replace("_", " "), stackgroup="supply",
                                     line={"width": 0.5, "color": colour}), secondary_y=False)
    for col, colour in {"battery_charge": "#98df8a", "curtailment": "#c7c7c7"}.items():
        if col in hourly.columns and float(hourly[col].abs().max()) > 0:
            fig.add_trace(go.Scatter(x=t, y=-hourly[col] / scale, name=col.replace("_", " "), stackgroup="sink",
                                     line={"width": 0.5, "color": colour}), secondary_y=False)
    fig.add_trace(go.Scatter(x=t, y=hourly["load"] / scale, name="load", line={"color": "black", "width": 2}),
                  secondary_y=False)
    if "soc" in hourly.columns and float(hourly["soc"].max()) > 0:
        fig.add_trace(go.Scatter(x=t, y=hourly["soc"] / scale, name=f"battery SOC ({unit}h)",
                                 line={"color": "#2ca02c", "dash": "dot", "width": 1.5}), secondary_y=True)
    for first, end in outage or []:
        fig.add_vrect(x0=start + pd.Timedelta(hours=first), x1=start + pd.Timedelta(hours=end),
                      fillcolor="rgba(214, 39, 40, 0.12)", line_width=0, annotation_text="refuelling outage",
                      annotation_position="top left")
    fig.update_layout(**_LAYOUT, height=420, title={"text": title, "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.18}, hovermode="x unified")
    fig.update_yaxes(title_text=f"power ({unit})", secondary_y=False)
    fig.update_yaxes(title_text=f"state of charge ({unit}h)", secondary_y=True, showgrid=False, rangemode="tozero")
    return fig


def sweep_figure(prob: pd.DataFrame, names: pd.Series, max_rows: int = 60) -> tuple[go.Figure, str]:
    """Monte Carlo sweep: probability that each option is the settlement's least-cost choice.

    Shows the `max_rows` settlements with the highest probability of any reactor option (ties in the
    table's order).

    Parameters
    ----------
    prob : pandas.DataFrame
        Rows = settlement ids, columns = options, values = probability (fraction, 0 to 1).
    names : pandas.Series
        Settlement names by id (the id is shown where a name is missing).
    max_rows : int, default 60
        Most settlements shown.

    Returns
    -------
    figure : plotly.graph_objects.Figure
    note : str
        How many settlements are left out ("" when none).
    """
    reactor_cols = [c for c in prob.columns if c.endswith("_reactor")]
    score = prob[reactor_cols].sum(axis=1) if reactor_cols else pd.Series(0.0, index=prob.index)
    order = score.sort_values(ascending=False, kind="stable").index[:max_rows][::-1]
    shown = prob.loc[order]
    label = names.reindex(shown.index).fillna(pd.Series(shown.index, index=shown.index)).astype(str)
    fig = go.Figure([go.Bar(y=label, x=shown[o], orientation="h", name=OPTION_LABELS.get(o, o),
                            marker_color=OPTION_COLOURS.get(o, "#999"),
                            hovertemplate="%{y}: P = %{x:.2f}<extra>" + OPTION_LABELS.get(o, o) + "</extra>")
                     for o in [c for c in ALL_OPTIONS if c in shown.columns]])
    fig.update_layout(**_LAYOUT, barmode="stack", height=160 + 18 * len(shown),
                      xaxis={"title": "probability of being the least-cost option", "range": [0, 1]},
                      legend={"orientation": "h", "y": -0.08 if len(shown) > 20 else -0.25})
    note = (f"the {max_rows} of {len(prob):,} settlements most likely to choose a reactor are shown"
            if len(prob) > max_rows else "")
    return fig, note


def coal_sites_figure(sites: pd.DataFrame) -> go.Figure:
    """Map of the coal sites (lon / lat, degrees): marker area by retiring capacity (MW), colour by
    verdict (reactor beats coal, suitable, not suitable), hover with the reason."""
    mw = sites["retiring_mw"].to_numpy(float)
    size = 6.0 + 24.0 * np.sqrt(np.clip(mw, 0.0, None) / max(float(np.nanmax(mw, initial=1.0)), 1.0))
    suitable = sites["suitable"].astype(str).str.lower().isin(["1", "true"]).to_numpy()
    beats = sites["beats_coal"].astype(str).str.lower().isin(["1", "true"]).to_numpy() & suitable
    traces = []
    for label, mask, colour in (("not suitable", ~suitable, "#bbbbbb"), ("suitable, coal cheaper", suitable & ~beats, "#1f77b4"),
                                ("suitable, reactor cheaper", beats, "#2ca02c")):
        s = sites[mask]
        text = (s["plant_name"].astype(str) + " (" + s["retiring_mw"].round(0).astype(str) + " MW retiring)<br>"
                + s["reason"].astype(str).str.slice(0, 300))
        traces.append(go.Scatter(x=s["lon"], y=s["lat"], mode="markers", name=label, text=text, hoverinfo="text",
                                 marker={"size": size[mask], "color": colour, "line": {"width": 0.5, "color": "#333"}}))
    fig = go.Figure(traces)
    fig.update_layout(height=620, xaxis={"title": "longitude (°E)", "scaleanchor": "y"}, yaxis={"title": "latitude (°N)"},
                      margin={"l": 50, "r": 10, "t": 10, "b": 40}, legend={"orientation": "h"})
    return fig


def repowerable_figure(gw_by_year: dict[str, float]) -> go.Figure:
    """Bar chart: GW of retiring coal units at suitable sites by the year each is best replaced, and
    the cumulative GW."""
    years = list(gw_by_year)
    gw = np.array([gw_by_year[y] for y in years], float)
    fig = go.Figure([go.Bar(x=years, y=gw, name="GW replaced that year", marker_color="#1f77b4"),
                     go.Scatter(x=years, y=np.cumsum(gw), name="cumulative GW", mode="lines+markers",
                                line={"color": "#d62728"})])
    fig.update_layout(height=360, xaxis={"title": "replacement year", "type": "category"}, yaxis={"title": "GW"},
                      margin={"l": 50, "r": 10, "t": 10, "b": 40}, legend={"orientation": "h"})
    return fig


def gantt_figure(plants: pd.DataFrame, last_year: int) -> go.Figure:
    """Gantt chart of a roadmap (years): each plant's construction, from its decision year to first
    power, then its service to the end of the roadmap; one row per plant (site and design).

    Parameters
    ----------
    plants : pandas.DataFrame
        roadmap.csv: site_id, design, modules, decision_year, first_power_year, service_year.
    last_year : int
        The end of the roadmap's last period (year).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    label = plants["site_id"].astype(str) + " · " + plants["design"].astype(str) + " × " + plants["modules"].astype(str)
    build = plants["first_power_year"].to_numpy(float) - plants["decision_year"].to_numpy(float)
    runs = np.maximum(last_year - plants["first_power_year"].to_numpy(float), 0.0)
    fig = go.Figure([
        go.Bar(y=label, x=build, base=plants["decision_year"], orientation="h", name="construction (lead time)",
               marker_color="#ff7f0e", hovertemplate="%{y}: decided %{base}, first power after %{x:.1f} yr<extra></extra>"),
        go.Bar(y=label, x=runs, base=plants["first_power_year"], orientation="h", name="in service",
               marker_color="#1f77b4", hovertemplate="%{y}: first power %{base}<extra></extra>")])
    fig.update_layout(barmode="overlay", height=160 + 28 * len(plants), xaxis={"title": "year"},
                      yaxis={"autorange": "reversed"}, margin={"l": 220, "r": 10, "t": 10, "b": 40},
                      legend={"orientation": "h"})
    return fig


def roadmap_traces(st: pd.DataFrame, plants: pd.DataFrame) -> list[go.Scatter | go.Scattergl]:
    """A roadmap on the map: settlements coloured by the first year a plant serves them (grey where none
    does within the roadmap) and the plants as stars coloured by their first-power year, on one colour
    scale; a plant's hover tells what it saves and what delaying it a period would cost.

    Parameters
    ----------
    st : pandas.DataFrame
        roadmap_settlements.csv: id, name, lon, lat (degrees), first_reactor_year (NaN: never).
    plants : pandas.DataFrame
        roadmap.csv: site_id, design, modules, decision_year, first_power_year, lon, lat, and the
        saving_usd and delay_cost_usd of "why this order" (NaN where not explained).

    Returns
    -------
    list of plotly traces
    """
    years = np.concatenate([st["first_reactor_year"].dropna().to_numpy(float), plants["first_power_year"].to_numpy(float)])
    scale = {"colorscale": "Viridis", "cmin": float(years.min()) if len(years) else 2030.0,
             "cmax": float(years.max()) if len(years) else 2050.0}
    kind = go.Scattergl if len(st) > WEBGL_POINTS else go.Scatter
    never = st["first_reactor_year"].isna().to_numpy()
    traces: list[go.Scatter | go.Scattergl] = [kind(
        x=st["lon"][never], y=st["lat"][never], mode="markers", name=f"stand-alone supply throughout ({int(never.sum()):,})",
        marker={"size": 6, "color": "#bdbdbd", "line": {"width": 0.5, "color": "white"}}, text=st["name"][never],
        hovertemplate="%{text}: stand-alone supply throughout<extra></extra>")]
    if (~never).any():
        traces.append(kind(
            x=st["lon"][~never], y=st["lat"][~never], mode="markers", name=f"served by a plant ({int((~never).sum()):,})",
            marker={"size": 9, "color": st["first_reactor_year"][~never], **scale, "line": {"width": 0.5, "color": "white"}},
            text=st["name"][~never], hovertemplate="%{text}: served by a plant from %{marker.color:.0f}<extra></extra>"))
    if len(plants):
        def musd(col: str) -> pd.Series:
            v = plants[col] if col in plants.columns else pd.Series(np.nan, index=plants.index)
            return (v.astype(float) / 1e6).map(lambda x: "not explained" if np.isnan(x) else f"{x:,.1f} M USD")
        text = (plants["site_id"].astype(str) + ": " + plants["design"].astype(str) + " × " + plants["modules"].astype(str)
                + "<br>decided " + plants["decision_year"].astype(str) + ", first power "
                + plants["first_power_year"].astype(float).round(1).astype(str)
                + "<br>saves " + musd("saving_usd") + "; a period's delay costs " + musd("delay_cost_usd"))
        traces.append(go.Scatter(
            x=plants["lon"], y=plants["lat"], mode="markers", name=f"plants by first-power year ({len(plants)})",
            marker={"symbol": "star", "size": 18, "color": plants["first_power_year"].astype(float), **scale, "showscale": True,
                    "colorbar": {"title": {"text": "first power /<br>first served"}, "x": 1.0, "len": 0.5, "y": 0.25},
                    "line": {"width": 1, "color": "black"}},
            text=text, hovertemplate="%{text}<extra></extra>"))
    return traces


def trajectory_figure(traj: pd.DataFrame) -> go.Figure:
    """The roadmap year by year: annual cost and capex committed (million USD, left) and diesel burnt
    (million litres, right).

    Parameters
    ----------
    traj : pandas.DataFrame
        trajectory.csv: year, capex_usd (USD), annual_cost_usd (USD/yr), diesel_l (l/yr).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure([
        go.Bar(x=traj["year"], y=traj["capex_usd"] / 1e6, name="reactor capex committed (M USD)", marker_color="#ff7f0e"),
        go.Scatter(x=traj["year"], y=traj["annual_cost_usd"] / 1e6, name="annual cost (M USD/yr)", mode="lines",
                   line={"color": "#1f77b4", "shape": "hv"}),
        go.Scatter(x=traj["year"], y=traj["diesel_l"] / 1e6, name="diesel (million l/yr)", mode="lines", yaxis="y2",
                   line={"color": "#8c564b", "dash": "dot", "shape": "hv"})])
    fig.update_layout(height=380, xaxis={"title": "year"}, yaxis={"title": "million USD"},
                      yaxis2={"title": "million litres", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      margin={"l": 60, "r": 60, "t": 10, "b": 40}, legend={"orientation": "h"})
    return fig
