"""Static figures (PNG) of a sweep or alternatives directory, drawn with matplotlib (no browser needed).

Each `write_*` function reads the directory's tables (never a model) and writes its figure to
`<dir>/report/plots/<name>.png` (to a temporary name, then renamed). The look follows the report's
plotly figures (plots.py): white background with light grid lines, the tornado's colours for the two
bars of a pair, the option colours and labels of smrplan.options.

Figures:

* `write_sobol_figure`: Sobol first-order (S1) and total (ST) indices per input with their 95 %
  confidence intervals, one panel per output (sweep.json `sobol`, sobol.parquet);
* `write_frontier_figure`: near-optimal alternatives, total annual cost against reactor share of
  demand, each point labelled by its objective and direction (alternatives.csv);
* `write_alternatives_map`: sites built in every near-optimal plan ("must-have") and in some
  ("optional"), with the settlements (alternative_sites.csv, settlements.csv).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from smrplan.options import OPTION_COLOURS

PLOTS_DIR = Path("report") / "plots"
LOW_COLOUR, HIGH_COLOUR = "#4c9be8", "#e8804c"  # plots.tornado_figure's low / high bars
GRID_COLOUR = "#ebf0f8"
CLASS_COLOURS = {"must-have": "#b2182b", "optional": "#e8804c"}
OUTPUT_LABELS = {"total_annual_cost_usd": "total annual cost", "lcoe_usd_per_kwh": "system LCOE",
                 "reactor_share": "reactor share of demand"}
DPI = 110


def _axes_style(ax) -> None:
    """The plotly_white look: no frame, light grid lines behind the data."""
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.grid(True, color=GRID_COLOUR, linewidth=1.0)
    ax.set_axisbelow(True)
    ax.tick_params(length=0, labelsize=9)


def _save(fig, out_dir: Path, name: str) -> Path:
    """Write the figure to out_dir/report/plots/<name>.png atomically and close it."""
    import matplotlib.pyplot as plt

    folder = out_dir / PLOTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    tmp = folder / f".{name}.png.tmp"
    fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def write_sobol_figure(sweep_dir: Path) -> Path:
    """Bar chart of the Sobol indices of a sweep directory (sobol.parquet): per output a panel with
    S1 and ST of every input and their 95 % confidence intervals, inputs ordered by ST of the first
    output.

    Parameters
    ----------
    sweep_dir : Path
        A sweep directory holding sobol.parquet (output, input, S1, S1_conf, ST, ST_conf; fractions).

    Returns
    -------
    Path
        report/plots/sobol.png inside the sweep directory.
    """
    plt = _pyplot()
    table = pd.read_parquet(sweep_dir / "sobol.parquet")
    outputs = list(dict.fromkeys(table["output"]))
    first = table[table["output"] == outputs[0]].sort_values("ST", kind="stable")
    order = list(first["input"])
    y = np.arange(len(order))
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs) + 2.6, 1.2 + 0.32 * len(order)),
                             sharey=True, squeeze=False)
    for ax, out in zip(axes[0], outputs, strict=True):
        t = table[table["output"] == out].set_index("input").reindex(order)
        varies = bool(t[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy().any())
        for k, (col, colour, label) in enumerate((("S1", LOW_COLOUR, "first order S1"), ("ST", HIGH_COLOUR, "total ST"))):
            if varies:
                ax.barh(y + (0.2 if k else -0.2), t[col].clip(lower=0), height=0.38, color=colour, label=label,
                        xerr=t[f"{col}_conf"], error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#444"})
        ax.set_title(OUTPUT_LABELS.get(out, out), fontsize=11)
        if not varies:
            ax.text(0.5, 0.5, "the same in every evaluation:\nno variance to share", transform=ax.transAxes,
                    ha="center", va="center", fontsize=10, color="#666")
        ax.set_xlim(0, max(1.0, float((t["ST"] + t["ST_conf"]).max()) * 1.05))
        ax.set_xlabel("share of the output's variance")
        _axes_style(ax)
    axes[0][0].set_yticks(y, order)
    handles = next((h for h in (ax.get_legend_handles_labels() for ax in axes[0]) if h[0]), None)
    if handles is not None:
        axes[0][0].legend(*handles, loc="lower right", fontsize=9, frameon=False)
    fig.suptitle("Sobol indices: what decides the answer (bars: estimate, whiskers: 95 % interval)", fontsize=12)
    fig.tight_layout()
    return _save(fig, sweep_dir, "sobol")


def write_frontier_figure(run_dir: Path) -> Path:
    """Near-optimal alternatives: total annual cost (M USD/yr) against reactor share of demand (%),
    the least-cost plan and the slack's cost limit marked; plans at the same point share one label
    listing their objectives (alternatives.csv).

    Parameters
    ----------
    run_dir : Path
        An alternatives run directory (alternatives.csv: objective, direction, total_annual_cost_usd,
        reactor_share, cost_limit_usd).

    Returns
    -------
    Path
        report/plots/frontier.png inside the run directory.
    """
    plt = _pyplot()
    alt = pd.read_csv(run_dir / "alternatives.csv").dropna(subset=["total_annual_cost_usd"])
    alt = alt.assign(x=alt["reactor_share"] * 100.0, y=alt["total_annual_cost_usd"] / 1e6,
                     label=alt["direction"].str[:3] + " " + alt["objective"].str.replace("_", " "))
    fig, ax = plt.subplots(figsize=(9.0, 5.6))
    least = alt["objective"] == "total_cost"
    ax.scatter(alt.loc[~least, "x"], alt.loc[~least, "y"], s=40, color=OPTION_COLOURS.get("floating_reactor", LOW_COLOUR),
               zorder=2, label="near-optimal alternative")
    ax.scatter(alt.loc[least, "x"], alt.loc[least, "y"], s=110, marker="*", color="#111", zorder=3, label="least-cost plan")
    ax.axhline(float(alt["cost_limit_usd"].iloc[0]) / 1e6, color=HIGH_COLOUR, linestyle="--", linewidth=1,
               label="cost limit: least cost x (1 + slack)")
    for x, g in alt.groupby(alt["x"].round(1), sort=False):  # one label per reactor share
        names = [n for n in dict.fromkeys(g["label"]) if not n.startswith("min total cost")]
        shown = names[:5] + ([f"+ {len(names) - 5} more"] if len(names) > 5 else [])
        if shown:
            ax.annotate("\n".join(shown), (x, float(g["y"].min())), fontsize=7, xytext=(7, -4),
                        textcoords="offset points", va="top", color="#333")
    ax.margins(x=0.25, y=0.15)
    ax.set_xlabel("reactor share of demand (%)")
    ax.set_ylabel("total annual cost (M USD/yr)")
    ax.set_title("Near-optimal plans: cost against reactor share", fontsize=12)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _axes_style(ax)
    fig.tight_layout()
    return _save(fig, run_dir, "frontier")


def write_alternatives_map(run_dir: Path) -> Path:
    """Map (lon / lat, degrees) of the sites built in every near-optimal plan ("must-have") and in
    some ("optional"), marker area by the share of plans building them and labelled with it, over the
    settlements (alternative_sites.csv, settlements.csv).

    Parameters
    ----------
    run_dir : Path
        An alternatives run directory.

    Returns
    -------
    Path
        report/plots/alternatives_map.png inside the run directory.
    """
    plt = _pyplot()
    sites = pd.read_csv(run_dir / "alternative_sites.csv")
    st = pd.read_csv(run_dir / "settlements.csv")
    lon, lat = pd.concat([st["lon"], sites["lon"]]), pd.concat([st["lat"], sites["lat"]])
    squash = np.cos(np.deg2rad(float(lat.mean())))
    wide = max(float(lon.max() - lon.min()) * squash, 0.1)
    high = max(float(lat.max() - lat.min()), 0.1)
    fig, ax = plt.subplots(figsize=(9.0, float(np.clip(9.0 * high / wide, 3.5, 10.0)) + 1.2))
    demand = st["demand_kwh_per_year"] if "demand_kwh_per_year" in st else pd.Series(1.0, index=st.index)
    ax.scatter(st["lon"], st["lat"], s=8 + 60 * np.sqrt(demand / max(float(demand.max()), 1.0)), color="#999",
               alpha=0.6, label="settlement (area: demand)", zorder=1)
    for cls, colour in CLASS_COLOURS.items():
        at = sites[sites["class"] == cls]
        if len(at):
            ax.scatter(at["lon"], at["lat"], s=30 + 120 * at["share_of_plans"], color=colour, edgecolor="black",
                       linewidth=0.5, marker="^", label=f"{cls} site ({len(at)})", zorder=3)
    if len(sites) <= 30:
        for i, (_, r) in enumerate(sites.sort_values(["lat", "lon"]).iterrows()):  # neighbours' labels staggered
            ax.annotate(f"{r['site_id']} ({r['share_of_plans']:.0%})", (r["lon"], r["lat"]), fontsize=7,
                        xytext=(6, 10 * (i % 3) - 8), textcoords="offset points", color="#333")
    must = int((sites["class"] == "must-have").sum())
    ax.set_aspect(1.0 / squash)
    ax.margins(0.08)
    ax.set_xlabel("longitude (degrees)")
    ax.set_ylabel("latitude (degrees)")
    ax.set_title("Reactor sites of the near-optimal plans" + ("" if must else " (no site is in every plan)"),
                 fontsize=12)
    ax.legend(fontsize=8, frameon=False, loc="best")
    _axes_style(ax)
    fig.tight_layout()
    return _save(fig, run_dir, "alternatives_map")
