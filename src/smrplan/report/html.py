"""report.html: a self-contained page (plotly.js inlined from the plotly package) with a map of
settlements by chosen option, candidate and built sites, and the totals table. Opens offline."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from smrplan.report.outputs import read_run

OPTION_COLOURS = {"diesel": "#8c564b", "pv_battery": "#ff7f0e", "grid": "#7f7f7f",
                  "land_reactor": "#1f77b4", "floating_reactor": "#17becf", "micro_reactor": "#9467bd"}


def _map(run: dict) -> go.Figure:
    st, sites = run["settlements"], run["sites"]
    fig = go.Figure()
    ok = sites[sites["suitable"].astype(bool)]
    bad = sites[~sites["suitable"].astype(bool)]
    fig.add_trace(go.Scatter(x=bad.geometry.x, y=bad.geometry.y, mode="markers", name="candidate site: unsuitable",
                             marker={"size": 4, "color": "#d62728", "opacity": 0.35}, text=bad["reason"],
                             hovertemplate="%{text}<extra>unsuitable</extra>", visible="legendonly"))
    fig.add_trace(go.Scatter(x=ok.geometry.x, y=ok.geometry.y, mode="markers", name="candidate site: suitable",
                             marker={"size": 5, "color": "#2ca02c", "opacity": 0.6}, text=ok["kind"],
                             hovertemplate="%{text} site<extra>suitable</extra>"))
    demand = st["demand_kwh_per_year"].astype(float)
    size = 6 + 24 * (demand / max(demand.max(), 1.0)) ** 0.5
    for option, colour in OPTION_COLOURS.items():
        sel = st["chosen_option"] == option
        if not sel.any():
            continue
        s = st[sel]
        text = [f"{n} ({i})<br>{option}<br>{d / 1e6:.1f} GWh/yr, peak {p / 1e3:.2f} MW"
                for n, i, d, p in zip(s["name"], s["id"], s["demand_kwh_per_year"], s["peak_kw"], strict=True)]
        fig.add_trace(go.Scatter(x=s.geometry.x, y=s.geometry.y, mode="markers", name=f"settlement: {option}",
                                 marker={"size": size[sel], "color": colour, "line": {"width": 1, "color": "white"}},
                                 text=text, hovertemplate="%{text}<extra></extra>"))
    built = run["plan"].get("reactor_sites", [])
    if built:
        fig.add_trace(go.Scatter(x=[b["lon"] for b in built], y=[b["lat"] for b in built], mode="markers",
                                 name="built reactor site", marker={"symbol": "star", "size": 16, "color": "black"},
                                 text=[f"{b['technology_name']}<br>{b['modules']} module(s), {b['capacity_mw']} MW"
                                       for b in built], hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=650, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"},
                      xaxis={"title": "longitude"}, yaxis={"title": "latitude", "scaleanchor": "x"})
    return fig


def build_report(run_dir: Path) -> Path:
    """Write report.html into a run directory from the files already there."""
    run = read_run(run_dir)
    plan = run["plan"]
    rows = "".join(
        f"<tr><td>{html.escape(o)}</td><td>{t['settlements']}</td><td>{t['population']:,}</td>"
        f"<td>{t['demand_mwh_per_year']:,.0f}</td><td>{t['capacity_mw']:,.1f}</td>"
        f"<td>{t['annual_cost_usd'] / 1e6:,.2f}</td><td>{'' if t['lcoe_usd_per_kwh'] is None else t['lcoe_usd_per_kwh']}</td></tr>"
        for o, t in plan["options"].items())
    fig = _map(run).to_html(full_html=False, include_plotlyjs=False, div_id="map")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>smrplan: {html.escape(plan['scenario'])}</title>
<script>{get_plotlyjs()}</script>
<style>body{{font-family:sans-serif;margin:1.5em;}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style>
</head><body>
<h1>{html.escape(plan['scenario'])}: plan for {plan['target_year']}</h1>
<p>{html.escape(plan.get('description', ''))}</p>
<h2>Map</h2>{fig}
<h2>Totals by option</h2>
<table id="totals"><tr><th>option</th><th>settlements</th><th>population</th><th>MWh/yr</th><th>MW</th><th>annual cost (M USD)</th><th>LCOE (USD/kWh)</th></tr>{rows}</table>
<p>Total annual cost {plan['total_annual_cost_usd'] / 1e6:,.2f} M USD ({plan['currency']['unit']}); emissions {plan['emissions_t_co2_per_year']:,.0f} t CO2/yr.</p>
</body></html>"""
    out = Path(run_dir) / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
