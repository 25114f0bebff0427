"""`smrplan explore`: a local web app to move the main assumptions and see the least-cost choice
per settlement change on the map.

The scenario is loaded once (`prepare_state`) by the pipeline's own stages: inputs (region, demand,
route to the grid), the siting screen and the cost engine's basis (each settlement's nearest suitable
site of every kind with its route), plus the demand at every tier. Every slider move (`recompute`)
then only rebuilds the catalogue with the overrides (catalogue.apply_overrides) and calls the cost
engine (costs.engine.option_costs, the function the plan uses): no geometry, no file, no solver. The
answer is each settlement's cheapest option on its own, reactor options costed as a plant of its own
at its nearest suitable site. Shared plants serving several settlements need the MILP:
`optimise_state` re-solves it with the plan's own solve-and-assemble (optimize.assemble.optimise) on
request, only for regions of at most `MILP_MAX_SETTLEMENTS` settlements and within
`MILP_TIME_LIMIT_S`; so does `roadmap_state` (POST /api/roadmap), the roadmap of the slider values by
the pipeline's own `roadmap_stages` (which sites get plants in which period). The carbon price
applies to the emissions of diesel, hybrid and grid supply, and region rules restrict reactor kinds,
as in the plan.

With a sweep of the same scenario (`smrplan explore SCENARIO --surrogate SWEEP_DIR`), the sweep's
surrogate (uncertainty.surrogate, trained at start on the sweep's draws) answers every slider move too
(`predict_state`, POST /api/predict): total annual cost and reactor share with their cross-validated
90 % band and each region's probability of a reactor with its Brier score. The sliders map onto the
sweep's inputs (reactor capex and diesel price: the catalogue value times the multiplier; the discount
rate as it is); sliders the sweep did not vary (carbon price, demand tier, consumption growth), once
moved, and values outside the drawn range are named, as the band does not hold there. A scenario of more
settlements than `live_max_settlements` (data/explore.yaml, with its note) then recomputes exactly only
on request (the page's "Exact recomputation" button, POST /api/recompute); a smaller one recomputes at
every move as without a surrogate.

The server (FastAPI + uvicorn) binds 127.0.0.1 unless told otherwise, answers only requests whose Host
header names a loopback name or the bound address (no DNS rebinding), validates every request body
with pydantic (types, ranges, finite numbers, no extra fields, at most `MAX_BODY_BYTES` given by
Content-Length; a body without it, chunked, is refused), never reads a path sent by a client, and
serves one page with plotly.js inlined and a content security policy that allows no other origin and
no framing. Bound to any other address it requires a random access token (`access_token`), given
once in the URL and kept in a same-site cookie.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict, Field

from smrplan.catalogue.catalogue import Catalogue, apply_overrides
from smrplan.costs.economics import Money, first_of
from smrplan.costs.engine import CostBasis, OptionCosts, option_costs
from smrplan.demand.load import DemandBasis, demand_basis, settlement_demand
from smrplan.errors import InputError
from smrplan.optimize.assemble import optimise
from smrplan.options import ALL_OPTIONS
from smrplan.pipeline import cost_basis_of, prepare_inputs, roadmap_stages, screen_sites
from smrplan.report import plots
from smrplan.report.html import environment, read_outlines
from smrplan.results import Inputs
from smrplan.scenario import Scenario, resolve_scenario
from smrplan.siting.screen import ScreenResult
from smrplan.uncertainty.surrogate import Surrogate, sweep_surrogate
from smrplan.yamltext import parse_yaml

MILP_MAX_SETTLEMENTS = 2_000
MILP_TIME_LIMIT_S = 60.0
MAX_BODY_BYTES = 2_048
DEMAND_CACHE = 8  # demand vectors kept per explorer state (memory bound: 8 x 2 arrays per settlement)
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "smrplan_token"


class Params(BaseModel):
    """Slider values. Multipliers scale the scenario's catalogue values (1 = as in the scenario)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    reactor_capex_multiplier: float = Field(1.0, ge=0.2, le=3.0, description="x every reactor's capex_usd_per_kw")
    diesel_price_multiplier: float = Field(1.0, ge=0.25, le=4.0, description="x diesel price (USD/l)")
    discount_rate: float = Field(0.08, ge=0.0, le=0.2, description="real discount rate, fraction per year")
    carbon_price_usd_per_t: float = Field(0.0, ge=0.0, le=500.0, description="USD per t CO2")
    demand_tier: int = Field(4, ge=1, le=5, description="Multi-Tier Framework tier of household demand")
    consumption_growth_per_year: float = Field(0.02, ge=-0.1, le=0.3, description="growth of use per household and "
                                               "per non-residential user, fraction per year")


@dataclass
class State:
    """What every recomputation needs, prepared once per scenario (see `prepare_state`)."""

    inputs: Inputs
    screen: ScreenResult
    basis: CostBasis
    demand: DemandBasis
    point: np.ndarray
    points: pd.DataFrame
    point_note: str
    base: Params
    base_choice: np.ndarray | None = None
    surrogate: Surrogate | None = None
    surrogate_sweep: dict | None = None
    demand_cache: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    optimise_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    @property
    def settlements(self) -> pd.DataFrame:
        return self.inputs.settlements

    @property
    def sites(self) -> pd.DataFrame:
        return self.screen.sites

    @property
    def can_optimise(self) -> bool:
        return len(self.settlements) <= MILP_MAX_SETTLEMENTS

    @property
    def live(self) -> bool:
        """Whether every slider move recomputes exactly (always without a surrogate)."""
        return self.surrogate is None or len(self.settlements) <= explore_defaults()["live_max_settlements"]


@lru_cache(maxsize=1)
def explore_defaults() -> dict:
    """The explorer's defaults (data/explore.yaml, each with its note).

    Returns
    -------
    dict
        live_max_settlements: the most settlements recomputed exactly at every slider move when a
        surrogate is given (count).
    """
    return parse_yaml(resources.files("smrplan.data").joinpath("explore.yaml").read_text(encoding="utf-8"))


def prepare_state(scenario: Scenario, progress=lambda s: None) -> State:
    """Load and screen a scenario once (the pipeline's inputs, siting and cost-basis stages) and what
    the demand depends on."""
    inputs = prepare_inputs(scenario, progress)
    screened = screen_sites(inputs, progress)
    basis = cost_basis_of(inputs, screened, progress)
    st = inputs.settlements
    points, note = plots.settlement_points(st)
    point = np.arange(len(st))
    if note:  # aggregated: settlement -> cell, numbered in the (sorted) order settlement_points gives cells
        cell = plots.grid_cells(st["lon"].to_numpy(float), st["lat"].to_numpy(float), plots.MAX_SETTLEMENT_POINTS)[0]
        point = np.unique(cell, return_inverse=True)[1]
    base = Params(reactor_capex_multiplier=1.0, diesel_price_multiplier=1.0, discount_rate=scenario.finance.discount_rate,
                  carbon_price_usd_per_t=scenario.finance.carbon_price_usd_per_t, demand_tier=scenario.demand.tier,
                  consumption_growth_per_year=scenario.demand.consumption_growth_per_year)
    state = State(inputs, screened, basis, demand_basis(st), point, points, note, base)
    state.base_choice = option_costs_for(state, base).least_cost()[0]
    return state


def demand_for(state: State, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Energy (kWh/yr) and peak (kW) of every settlement in the target year under the slider's tier and
    consumption growth (the pipeline's `settlement_demand`; calibrated settlements keep their measured
    figure and grow from it, so the tier moves only the uncalibrated ones). The last DEMAND_CACHE slider
    pairs are kept."""
    key = (p.demand_tier, p.consumption_growth_per_year)
    if key not in state.demand_cache:
        if len(state.demand_cache) >= DEMAND_CACHE:
            state.demand_cache.pop(next(iter(state.demand_cache)))
        d = settlement_demand(state.demand, scenario_for(state, p).demand, state.scenario.target_year)
        state.demand_cache[key] = (d["demand_kwh_per_year"], d["peak_kw"])
    return state.demand_cache[key]


def scenario_for(state: State, p: Params) -> Scenario:
    """The scenario with the slider values of its own settings: discount rate, carbon price, demand tier
    and consumption growth (the multipliers act on the catalogue, `catalogue_for`)."""
    sc = state.scenario
    return sc.model_copy(update={
        "finance": sc.finance.model_copy(update={"discount_rate": p.discount_rate,
                                                 "carbon_price_usd_per_t": p.carbon_price_usd_per_t}),
        "demand": sc.demand.model_copy(update={"tier": p.demand_tier,
                                               "consumption_growth_per_year": p.consumption_growth_per_year})})


def catalogue_for(state: State, p: Params) -> Catalogue:
    """The scenario's catalogue with the slider multipliers applied as overrides."""
    enabled = state.scenario.technologies.enabled
    cat = state.inputs.catalogue
    overrides = {t: {"capex_usd_per_kw": cat[t]["capex_usd_per_kw"] * p.reactor_capex_multiplier}
                 for t in enabled if cat[t].is_reactor}
    diesel = first_of(cat, "diesel")
    overrides[diesel.key] = {"diesel_price_usd_per_l": diesel["diesel_price_usd_per_l"] * p.diesel_price_multiplier}
    return apply_overrides(cat, overrides, "smrplan explore")


def option_costs_for(state: State, p: Params) -> OptionCosts:
    """Every option's cost for every settlement under `p` (the cost engine, as the plan uses it)."""
    money = Money(p.discount_rate, state.scenario.finance.horizon_years)
    return option_costs(state.basis, catalogue_for(state, p), money, p.carbon_price_usd_per_t, *demand_for(state, p))


def _result(state: State, p: Params, chosen: np.ndarray, cost: np.ndarray, built: list[dict] | None, t0: float) -> dict:
    """The response body: per map point the option (index into ALL_OPTIONS), totals per option, the
    number of settlements whose choice differs from the scenario's values, and timings."""
    e = demand_for(state, p)[0]
    n_opt = len(ALL_OPTIONS)
    n_points = len(state.points)
    weight = np.bincount(state.point * n_opt + chosen, weights=e, minlength=n_points * n_opt).reshape(n_points, n_opt)
    point_option = weight.argmax(axis=1)
    pop = state.settlements["population_target"].to_numpy(float)
    count = np.bincount(chosen, minlength=n_opt)
    energy = np.bincount(chosen, weights=e, minlength=n_opt)
    annual = np.bincount(chosen, weights=cost, minlength=n_opt)
    people = np.bincount(chosen, weights=pop, minlength=n_opt)
    totals = [{"option": o, "label": plots.OPTION_LABELS[o], "colour": plots.OPTION_COLOURS[o], "settlements": int(count[i]),
               "population": round(float(people[i])), "gwh_per_year": round(float(energy[i]) / 1e6, 3),
               "annual_cost_musd": round(float(annual[i]) / 1e6, 3),
               "lcoe_usd_per_kwh": round(float(annual[i] / energy[i]), 4) if energy[i] > 0 else None}
              for i, o in enumerate(ALL_OPTIONS)]
    return {"params": p.model_dump(), "point_option": point_option.tolist(), "options": list(ALL_OPTIONS),
            "totals": totals, "total_annual_cost_musd": round(float(cost.sum()) / 1e6, 3),
            "total_gwh_per_year": round(float(e.sum()) / 1e6, 3),
            "changed_from_base": int((chosen != state.base_choice).sum()), "built": built,
            "method": "per-settlement" if built is None else "milp", "compute_ms": round(1000 * (time.perf_counter() - t0), 1)}


def recompute(state: State, p: Params) -> dict:
    """Least-cost option per settlement under `p` (no solver): see the module docstring."""
    t0 = time.perf_counter()
    chosen, cost = option_costs_for(state, p).least_cost()
    return _result(state, p, chosen, cost, None, t0)


def optimise_state(state: State, p: Params) -> dict:
    """Re-solve the plan's MILP under `p` (shared plants, module counts) for a small region with the
    plan's own solve-and-assemble (optimize.assemble.optimise); raises ValueError above
    MILP_MAX_SETTLEMENTS settlements."""
    if not state.can_optimise:
        raise ValueError(f"optimisation is offered up to {MILP_MAX_SETTLEMENTS:,} settlements; "
                         f"this region has {len(state.settlements):,}")
    t0 = time.perf_counter()
    sc = state.scenario
    costs = option_costs_for(state, p)
    st = state.settlements.copy()
    st["demand_kwh_per_year"], st["peak_kw"] = demand_for(state, p)
    opt = sc.optimisation.model_copy(update={"time_limit_s": min(sc.optimisation.time_limit_s, MILP_TIME_LIMIT_S)})
    out = optimise(state.inputs.region, st, state.sites, state.basis, costs, catalogue_for(state, p),
                   Money(p.discount_rate, sc.finance.horizon_years), opt, sc.demand.load_factor, p.carbon_price_usd_per_t)
    st2 = out.settlements
    chosen = pd.Categorical(st2["chosen_option"], categories=list(ALL_OPTIONS)).codes.astype(np.int64)
    lines = [{"site_id": b["site_id"], "lon": b["lon"], "lat": b["lat"], "technology": b["technology_name"],
              "modules": b["modules"], "capacity_mw": b["capacity_mw"],
              "served": st2.loc[st2["id"].astype(str).isin(b["settlements_served"]), ["lon", "lat"]].to_numpy().tolist()}
             for b in out.built]
    result = _result(state, p, chosen, st2["chosen_annual_cost_usd"].to_numpy(float), lines, t0)
    result["solver"] = {k: out.result.solver.get(k) for k in ("status", "termination", "mip_gap", "time_s")}
    return result


def roadmap_state(state: State, p: Params) -> dict:
    """The roadmap under `p` (the pipeline's `roadmap_stages` on the prepared inputs, with the slider
    values): plants by decision year and the year-by-year trajectory. Without the myopic comparison and
    "why this order" (the roadmap run gives both); raises ValueError above MILP_MAX_SETTLEMENTS."""
    if not state.can_optimise:
        raise ValueError(f"the roadmap is offered up to {MILP_MAX_SETTLEMENTS:,} settlements; "
                         f"this region has {len(state.settlements):,}")
    t0 = time.perf_counter()
    sc = scenario_for(state, p)
    sc = sc.model_copy(update={
        "roadmap": sc.roadmap.model_copy(update={"myopic_comparison": False, "explain_order_max_plants": 0}),
        "optimisation": sc.optimisation.model_copy(update={"time_limit_s": min(sc.optimisation.time_limit_s,
                                                                                MILP_TIME_LIMIT_S)})})
    money = Money(p.discount_rate, sc.finance.horizon_years)
    outcome, traj = roadmap_stages(sc, state.inputs, state.screen, state.basis, catalogue_for(state, p), money)
    plants = outcome.plants[["site_id", "kind", "design", "modules", "capacity_mw", "decision_year", "first_power_year",
                             "service_year", "capex_usd", "places_served", "lon", "lat"]]
    return {"params": p.model_dump(), "periods": [int(y) for y in outcome.plan.rp.years],
            "present_worth_musd": round(outcome.plan.objective_usd / 1e6, 3),
            "plants": plants.to_dict(orient="records"),
            "trajectory": traj[["year", "capex_usd", "annual_cost_usd", "diesel_l", "reactor_mw_in_service"]].to_dict(
                orient="records"),
            "solver": {k: outcome.plan.run.record.get(k) for k in ("status", "termination", "mip_gap", "time_s")},
            "compute_ms": round(1000 * (time.perf_counter() - t0), 1)}


# --------------------------------------------------------------------------------------- surrogate
SLIDER_LABELS = {"reactor_capex_multiplier": "reactor capex", "diesel_price_multiplier": "diesel price",
                 "discount_rate": "discount rate", "carbon_price_usd_per_t": "carbon price",
                 "demand_tier": "demand tier", "consumption_growth_per_year": "consumption growth"}


def attach_surrogate(state: State, sweep_dir: str | Path) -> State:
    """Train the surrogate of a sweep of the same scenario and attach it to the state.

    Parameters
    ----------
    state : State
        The prepared scenario (modified: `surrogate` and `surrogate_sweep` set).
    sweep_dir : str or pathlib.Path
        A finished sweep directory of the same scenario (sweep.json, draws.parquet).

    Returns
    -------
    State
        `state`.

    Raises
    ------
    InputError
        Naming --surrogate when the directory is not a finished sweep or the sweep is of another scenario.
    """
    try:
        surrogate, summary = sweep_surrogate(sweep_dir)
    except InputError as exc:
        raise InputError(exc.file, "--surrogate", exc.message) from None
    if summary.get("scenario") != state.scenario.name:
        raise InputError(sweep_dir, "--surrogate", f"a sweep of {summary.get('scenario')!r}, not of {state.scenario.name!r}: "
                                                   "give a sweep of the explored scenario")
    state.surrogate, state.surrogate_sweep = surrogate, summary
    return state


def surrogate_values(state: State, p: Params) -> tuple[dict[str, float], list[str]]:
    """The sweep inputs the sliders set, and the sliders moved from the scenario's values that the sweep
    did not vary (the surrogate cannot answer for them).

    Parameters
    ----------
    state : State
        The prepared scenario with its surrogate.
    p : Params
        Slider values.

    Returns
    -------
    values : dict of str to float
        Sweep input column -> value in its unit (USD/kW, USD/l, fraction per year).
    not_learned : list of str
        Labels of the moved sliders the sweep did not vary.
    """
    assert state.surrogate is not None, "a surrogate is attached"
    inputs = set(state.surrogate.inputs)
    cat = state.inputs.catalogue
    diesel = first_of(cat, "diesel").key
    values: dict[str, float] = {}
    covered = set()
    for col in inputs:
        head, name = col.split(".", 1)
        if head in cat and cat[head].is_reactor and name == "capex_usd_per_kw":
            values[col] = cat[head][name] * p.reactor_capex_multiplier
            covered.add("reactor_capex_multiplier")
        elif head == diesel and name == "diesel_price_usd_per_l":
            values[col] = cat[head][name] * p.diesel_price_multiplier
            covered.add("diesel_price_multiplier")
    if "finance.discount_rate" in inputs:
        values["finance.discount_rate"] = p.discount_rate
        covered.add("discount_rate")
    moved = [k for k, v in p.model_dump().items() if v != getattr(state.base, k)]
    return values, [SLIDER_LABELS[k] for k in moved if k not in covered]


def predict_state(state: State, p: Params) -> dict:
    """The surrogate's answer under `p` (uncertainty.surrogate.Surrogate.predict, the function of
    `smrplan surrogate`): total annual cost (M USD/yr) and reactor share with their 90 % bands, each
    region's probability of a reactor with its Brier score (highest first), the sweep inputs outside the
    training range, the sliders the sweep did not vary, and the time taken (ms).

    Parameters
    ----------
    state : State
        The prepared scenario with its surrogate.
    p : Params
        Slider values.

    Returns
    -------
    dict
        The response body of /api/predict.
    """
    t0 = time.perf_counter()
    values, not_learned = surrogate_values(state, p)
    assert state.surrogate is not None and state.surrogate_sweep is not None, "a surrogate is attached"
    r = state.surrogate.predict(values)
    cost, share = r["total_annual_cost_usd"], r["reactor_share"]
    errors = state.surrogate.errors
    return {"method": "surrogate", "params": p.model_dump(),
            "total_annual_cost_musd": {k: round(cost[k] / 1e6, 3) for k in ("value", "band", "low", "high")},
            "reactor_share": {k: round(share[k], 4) for k in ("value", "band", "low", "high")},
            "r2": {k: round(errors[k]["r2"], 4) for k in errors}, "coverage": errors["total_annual_cost_usd"]["coverage"],
            "regions": [{"region": k, "p_reactor": round(v["p_reactor"], 3), "brier": round(v["brier"], 4)}
                        for k, v in sorted(r["regions"].items(), key=lambda kv: (-kv[1]["p_reactor"], kv[0]))],
            "region_column": (state.surrogate_sweep.get("regions") or {}).get("column"),
            "out_of_range": r["out_of_range"], "not_learned": not_learned,
            "draws": errors["total_annual_cost_usd"]["draws"], "compute_ms": round(1000 * (time.perf_counter() - t0), 1)}


# -------------------------------------------------------------------------------------------- page
def map_json(state: State) -> str:
    """The explorer's map as plotly JSON: land outlines (when the scenario has a land layer), suitable
    sites, one settlement trace coloured per point (meta "settlements"), built
    plants and service lines (filled after an optimisation) and a legend entry per option."""

    st = state.settlements
    suitable = state.sites[state.sites.suitable]
    lon = np.concatenate([st["lon"].to_numpy(float), suitable["lon"].to_numpy(float)])
    lat = np.concatenate([st["lat"].to_numpy(float), suitable["lat"].to_numpy(float)])
    bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    x, y, _ = read_outlines(state.inputs.region.sources.get("land"), bbox)
    pts = state.points
    traces = [plots.outline_trace(x, y),
              go.Scatter(x=suitable["lon"], y=suitable["lat"], mode="markers", name=f"suitable site ({len(suitable):,})",
                         marker={"size": 5, "color": "#2ca02c", "symbol": "diamond", "opacity": 0.6},
                         text=suitable["kind"], hovertemplate="%{text} site<extra>suitable</extra>"),
              go.Scatter(x=pts["lon"], y=pts["lat"], mode="markers", name="settlements", showlegend=False, meta="settlements",
                         marker={"size": plots.marker_size(pts["demand_kwh_per_year"].to_numpy()), "color": "#999",
                                 "line": {"width": 1, "color": "white"}},
                         customdata=pts["label"], text=[""] * len(pts),
                         hovertemplate="%{customdata}<br><b>%{text}</b><extra></extra>"),
              go.Scatter(x=[], y=[], mode="lines", name="service lines", meta="lines", line={"color": "#333", "dash": "dot"},
                         hoverinfo="skip"),
              go.Scatter(x=[], y=[], mode="markers", name="built reactor site", meta="built", text=[],
                         marker={"symbol": "star", "size": 17, "color": "black", "line": {"width": 1, "color": "gold"}},
                         hovertemplate="%{text}<extra></extra>")]
    traces += [go.Scatter(x=[None], y=[None], mode="markers", name=plots.OPTION_LABELS[o], legendgroup=o,
                          marker={"size": 10, "color": plots.OPTION_COLOURS[o]}) for o in ALL_OPTIONS]
    fig = plots.map_figure(traces, bbox, height=640)
    fig.update_layout(uirevision="keep")
    return fig.to_json().replace("</", "<\\/")  # safe inside <script>


def page_html(state: State) -> str:
    """The explorer page (jinja2 template explore.html.j2, plotly.js inlined)."""
    from plotly.offline import get_plotlyjs


    sc = state.scenario
    sliders = [
        {"id": "reactor_capex_multiplier", "label": "Reactor capex", "min": 0.2, "max": 3.0, "step": 0.05,
         "value": 1.0, "unit": "× catalogue"},
        {"id": "diesel_price_multiplier", "label": "Diesel price", "min": 0.25, "max": 4.0, "step": 0.05,
         "value": 1.0, "unit": "× catalogue"},
        {"id": "discount_rate", "label": "Discount rate", "min": 0.0, "max": 0.2, "step": 0.005,
         "value": sc.finance.discount_rate, "unit": "per year"},
        {"id": "carbon_price_usd_per_t", "label": "Carbon price", "min": 0, "max": 500, "step": 5,
         "value": sc.finance.carbon_price_usd_per_t, "unit": "USD/t CO2"},
        {"id": "demand_tier", "label": "Demand tier", "min": 1, "max": 5, "step": 1, "value": sc.demand.tier, "unit": "MTF tier"},
        {"id": "consumption_growth_per_year", "label": "Consumption growth", "min": -0.02, "max": 0.1, "step": 0.005,
         "value": sc.demand.consumption_growth_per_year, "unit": "per year"},
    ]
    first = recompute(state, state.base)
    prediction = predict_state(state, state.base) if state.surrogate is not None else None
    return environment().get_template("explore.html.j2").render(
        title=f"smrplan explore: {sc.name}", scenario=sc, sliders=sliders, map_json=map_json(state), initial=first,
        plotlyjs=get_plotlyjs(), n_settlements=len(state.settlements), point_note=state.point_note,
        can_optimise=state.can_optimise, milp_max=MILP_MAX_SETTLEMENTS,
        roadmap_years=f"{state.scenario.roadmap.years[0]}-{state.scenario.roadmap.years[-1]}", prediction=prediction,
        live=state.live, live_max=explore_defaults()["live_max_settlements"])


def access_token(host: str) -> str | None:
    """A random access token for a server bound to `host`, or None for a loopback address."""
    import secrets

    return None if host in LOOPBACK else secrets.token_urlsafe(24)


def _refusal(request, hosts: frozenset[str], token: str | None):
    """Why a request is refused as (status, detail), or None: an unknown Host, a missing token, a
    body that is chunked, unsized or too large."""
    import hmac

    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.strip("[]") not in hosts:
        return 421, f"unknown Host header {host!r}"
    if token is not None:
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return 403, "an access token is required (open the URL printed by smrplan explore)"
    if request.method == "POST":
        length = request.headers.get("content-length")
        if "transfer-encoding" in request.headers or length is None or not length.isdigit():
            return 411, "a Content-Length header (and no Transfer-Encoding) is required"
        if int(length) > MAX_BODY_BYTES:
            return 413, f"request body larger than {MAX_BODY_BYTES} bytes"
    return None


def create_app(state: State, host: str = "127.0.0.1", token: str | None = None):
    """The FastAPI application serving one prepared scenario.

    Parameters
    ----------
    state : State
        The prepared scenario (`prepare_state`).
    host : str, default "127.0.0.1"
        The bound address; its name is accepted in the Host header besides the loopback names.
    token : str or None, default None
        The access token every request must carry (query `token` or the cookie it sets), if any.

    Returns
    -------
    fastapi.FastAPI
        The page, /api/health, /api/recompute, /api/optimise and /api/predict (the surrogate's answer;
        422 without a surrogate).
    """
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="smrplan explore", docs_url=None, redoc_url=None, openapi_url=None)
    page = page_html(state)
    hosts = frozenset({*LOOPBACK, host.strip("[]")})

    @app.middleware("http")
    async def _limits(request, call_next):
        refused = _refusal(request, hosts, token)
        if refused is not None:
            response = JSONResponse({"detail": refused[1]}, status_code=refused[0])
        else:
            response = await call_next(request)
            if token is not None and request.query_params.get("token"):
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):  # the field and the rule, never the value sent (NaN is no JSON)
        return JSONResponse({"detail": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]},
                            status_code=422)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok", "scenario": state.scenario.name, "settlements": len(state.settlements),
                "surrogate": state.surrogate is not None, "live": state.live}

    @app.post("/api/recompute")
    def api_recompute(p: Params) -> dict:
        return recompute(state, p)

    @app.post("/api/predict")
    def api_predict(p: Params) -> dict:
        if state.surrogate is None:
            raise HTTPException(422, "no surrogate: start smrplan explore with --surrogate SWEEP_DIR")
        return predict_state(state, p)

    def solve(kind: str, fn, p: Params) -> dict:
        if not state.can_optimise:
            raise HTTPException(422, f"the {kind} is offered up to {MILP_MAX_SETTLEMENTS:,} settlements")
        if not state.optimise_lock.acquire(blocking=False):
            raise HTTPException(409, "an optimisation is already running")
        try:
            return fn(state, p)
        finally:
            state.optimise_lock.release()

    @app.post("/api/optimise")
    def api_optimise(p: Params) -> dict:
        return solve("optimisation", optimise_state, p)

    @app.post("/api/roadmap")
    def api_roadmap(p: Params) -> dict:
        return solve("roadmap", roadmap_state, p)

    return app


def serve(state: State, host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> None:
    """Serve the explorer until interrupted.

    Parameters
    ----------
    state : State
        What every recomputation needs: inputs, screen, cost basis, demand per tier (`prepare_state`).
    host : str, default "127.0.0.1"
        Address to listen on (the default serves this machine only).
    port : int, default 8765
        TCP port.
    token : str or None, default None
        Access token every request must carry (`access_token`); None on loopback.
    """
    import uvicorn

    uvicorn.run(create_app(state, host, token), host=host, port=port, log_level="warning")


def load_target(target: str, data_dir: str | Path | None = None) -> Scenario:
    """The scenario of a run directory (its scenario.yaml) or a bundled name / YAML file."""
    path = Path(target)
    if path.is_dir() and (path / "scenario.yaml").is_file():
        return resolve_scenario(path / "scenario.yaml", data_dir)
    return resolve_scenario(target, data_dir)
