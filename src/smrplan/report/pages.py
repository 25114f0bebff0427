"""report.html of a sweep directory and of an alternatives run: one self-contained page each, readable
offline.

The pages read only the directory's files. The static figures (report/plots/*.png, drawn by
report.static with matplotlib) are embedded inline as base64 data URIs, so the page stays one file; the
sweep's tornado is a plotly figure, like the plan report's, with plotly.js inlined. Both pages use
templates/study.html.j2: a headline, then sections of an optional figure or image, an optional table
and notes.

* `build_sweep_report`: percentiles of the sweep's outputs, option probabilities, each region's
  probability of a reactor, the tornado, the Sobol indices plot (with --sobol) and the surrogate's
  cross-validated errors (after `smrplan surrogate`);
* `build_alternatives_report`: the near-optimal plans, the cost-against-reactor-share frontier and the
  map of must-have and optional sites.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from plotly.offline import get_plotlyjs

from smrplan.report import plots, tables
from smrplan.report.html import PLOT_CONFIG, environment
from smrplan.report.static import PLOTS_DIR

_METRICS = (("total_annual_cost_usd", "total annual cost", "M USD/yr", 1e-6),
            ("reactor_share", "reactor share of demand", "%", 100.0),
            ("reactor_capacity_mw", "reactor capacity", "MW", 1.0),
            ("emissions_t_co2_per_year", "emissions", "kt CO2/yr", 1e-3))


def image_uri(path: Path) -> str | None:
    """A PNG file as a data URI (None when it is missing).

    Parameters
    ----------
    path : Path
        The PNG file.

    Returns
    -------
    str or None
        ``data:image/png;base64,...``.
    """
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None


def _write(out_dir: Path, context: dict) -> Path:
    """Render study.html.j2 to out_dir/report.html (through a temporary name)."""
    page = environment().get_template("study.html.j2").render(**context)
    out = out_dir / "report.html"
    tmp = out.with_name(".report.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def _surrogate_section(sweep_dir: Path) -> dict | None:
    """The surrogate's cross-validated errors (surrogate.json), or None before `smrplan surrogate`."""
    path = sweep_dir / "surrogate.json"
    if not path.is_file():
        return None
    s = json.loads(path.read_text(encoding="utf-8"))
    rows = [[name, tables.num(e["r2"], 4), f"{e['rmse']:.4g}", f"± {e['band']:.4g}", e["draws"]]
            for name, e in s["outputs"].items()]
    regions = s.get("regions") or {}
    notes = [f"{len(regions)} region(s) ({s.get('region_column') or 'all settlements'}): cross-validated Brier score of "
             f"the probability of a reactor {min(e['brier'] for e in regions.values()):.3f} to "
             f"{max(e['brier'] for e in regions.values()):.3f} (0 is perfect, 0.25 a coin toss)."] if regions else []
    return {"id": "surrogate", "title": "Learned surrogate: cross-validated error", "head": [
        "output", "R²", "RMSE", f"{100 * next(iter(s['outputs'].values()))['coverage']:.0f} % band", "draws"],
        "rows": rows, "notes": [*notes, s["method"] + "."]}


def sweep_context(sweep_dir: Path) -> dict:
    """What the sweep page shows, from sweep.json, report/plots/sobol.png and surrogate.json.

    Parameters
    ----------
    sweep_dir : Path
        A finished sweep directory.

    Returns
    -------
    dict
        The template's title, headline, sections, plotly.js and run information.
    """
    s = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    pct = s["percentiles"]
    headline = [(f"{label} P50 (P5–P95)", f"{tables.num(pct[k]['p50'] * f, 2)} ({tables.num(pct[k]['p5'] * f, 2)}–"
                 f"{tables.num(pct[k]['p95'] * f, 2)}) {unit}") for k, label, unit, f in _METRICS if k in pct]
    headline += [("draws", tables.num(s["draws"])), ("settlements", tables.num(s["settlements"])),
                 ("P(a reactor is least cost somewhere)", f"{100 * s['probability_reactor_least_cost_anywhere']:.0f} %")]
    sections = [{"id": "options", "title": "Options over the draws",
                 "head": ["option", "chosen in some settlement (share of draws)", "mean settlements", "mean demand share"],
                 "rows": [[o, f"{100 * v['probability_chosen']:.0f} %", tables.num(v["mean_settlements"], 1),
                           f"{100 * v['mean_demand_share']:.1f} %"] for o, v in s["options"].items()], "notes": []}]
    regions = (s.get("regions") or {}).get("p_reactor") or {}
    if regions:
        sections.append({"id": "regions", "title": "Probability of a reactor by region",
                         "head": [s["regions"]["column"] or "region", "share of draws with a reactor serving a settlement"],
                         "rows": [[k, f"{100 * v:.0f} %"] for k, v in sorted(regions.items(), key=lambda kv: -(kv[1] or 0))],
                         "notes": []})
    figure = None
    if s.get("tornado"):
        fig = plots.tornado_figure(s["tornado"], float(s["base"]["total_annual_cost_usd"]))
        figure = fig.to_html(full_html=False, include_plotlyjs=False, div_id="plot-tornado", config=PLOT_CONFIG)
        sections.append({"id": "tornado", "title": "One at a time: total annual cost at each input's low and high",
                         "figure": figure, "notes": []})
    sobol = image_uri(sweep_dir / PLOTS_DIR / "sobol.png")
    if sobol:
        sections.append({"id": "sobol", "title": "Global sensitivity: Sobol indices", "image": sobol,
                         "alt": "Sobol first-order and total indices per input",
                         "notes": ["S1: the share of the output's variance an input explains alone; ST: with all its "
                                   "interactions; bars: 95 % confidence intervals (sobol.parquet)."]})
    surrogate = _surrogate_section(sweep_dir)
    if surrogate:
        sections.append(surrogate)
    return {"title": f"{s['scenario']}: Monte Carlo sweep", "headline": headline, "sections": sections,
            "plotlyjs": get_plotlyjs() if figure else None, "created": s.get("created_utc", ""),
            "version": s.get("smrplan", ""), "currency": s.get("currency", ""), "mode": s.get("mode", "")}


def build_sweep_report(sweep_dir: str | Path) -> Path:
    """Write report.html into a sweep directory (see `sweep_context`); returns its path.

    Parameters
    ----------
    sweep_dir : str or Path
        A finished sweep directory (sweep.json).

    Returns
    -------
    Path
        sweep_dir/report.html, written through a temporary name.
    """
    d = Path(sweep_dir)
    return _write(d, sweep_context(d))


def alternatives_context(run_dir: Path) -> dict:
    """What the alternatives page shows, from alternatives.json and report/plots/frontier.png and
    alternatives_map.png.

    Parameters
    ----------
    run_dir : Path
        An alternatives run directory.

    Returns
    -------
    dict
        The template's title, headline, sections and run information.
    """
    a = json.loads((run_dir / "alternatives.json").read_text(encoding="utf-8"))
    table = pd.DataFrame(a["alternatives"])
    headline = [("least cost", f"{tables.num(a['least_cost_usd'] / 1e6, 2)} M USD/yr"),
                ("cost slack", f"{100 * a['cost_slack_fraction']:.1f} %"),
                ("plans solved", f"{a['solved']} of {a['plans']}"),
                ("must-have / optional sites", f"{a['must_have_sites']} / {a['optional_sites']}")]
    formats: dict[str, Callable[[Any], str]] = {
               "objective": str, "direction": str, "total_annual_cost_usd": lambda v: tables.num(v / 1e6, 2),
               "reactor_capacity_mw": lambda v: tables.num(v, 1), "reactor_sites": lambda v: tables.num(v),
               "reactor_share": lambda v: f"{100 * v:.1f} %", "diesel_litres_per_year": lambda v: tables.num(v / 1e6, 2),
               "emissions_t_co2_per_year": lambda v: tables.num(v / 1e3, 1)}
    heads = {"total_annual_cost_usd": "total annual cost (M USD/yr)", "reactor_capacity_mw": "reactor MW",
             "reactor_share": "reactor share of demand", "diesel_litres_per_year": "diesel (million l/yr)",
             "emissions_t_co2_per_year": "emissions (kt CO2/yr)", "reactor_sites": "reactor sites"}
    cols = [c for c in formats if c in table.columns]
    rows = [["–" if v is None or v != v else formats[c](v) for c, v in zip(cols, r, strict=True)]
            for r in table[cols].itertuples(index=False)]
    sections = [{"id": "frontier", "title": "Cost against reactor share of demand",
                 "image": image_uri(run_dir / PLOTS_DIR / "frontier.png"), "alt": "frontier of the near-optimal plans",
                 "notes": []},
                {"id": "sites", "title": "Sites built in every near-optimal plan (must-have) and in some (optional)",
                 "image": image_uri(run_dir / PLOTS_DIR / "alternatives_map.png"), "alt": "must-have and optional sites",
                 "notes": []},
                {"id": "plans", "title": "The plans", "head": [heads.get(c, c) for c in cols], "rows": rows,
                 "notes": ["Each plan as solved; its solver status and every column in alternatives.csv."]}]
    return {"title": f"{a['scenario']}: near-optimal alternatives", "headline": headline, "sections": sections,
            "plotlyjs": None, "created": "", "version": a.get("smrplan", ""), "currency": a.get("currency", ""),
            "mode": f"within {100 * a['cost_slack_fraction']:.1f} % of the least cost"}


def build_alternatives_report(run_dir: str | Path) -> Path:
    """Write report.html into an alternatives run directory (see `alternatives_context`); returns its path.

    Parameters
    ----------
    run_dir : str or Path
        An alternatives run directory (alternatives.json, report/plots/*.png).

    Returns
    -------
    Path
        run_dir/report.html, written through a temporary name.
    """
    d = Path(run_dir)
    return _write(d, alternatives_context(d))
