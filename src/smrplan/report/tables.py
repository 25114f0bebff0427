"""Tables and the methods text of the report, as plain rows for the page template.

Pure functions of the run directory's plan.json (a dict), scenario.yaml (a dict) and catalogue.json
(a list of rows). Numbers are formatted here (thousands separators, units in the column headings),
so the template only lays them out. Money is constant USD of the scenario base year; INR columns use
the scenario's INR rate (1 crore = 1e7). Net present cost (NPV of costs over the horizon) comes from
plan.json (`npv_usd`, blank for run directories written before it existed).
"""

from __future__ import annotations

from collections import defaultdict

from smrplan.options import ALL_OPTIONS, OPTION_LABELS
from smrplan.units import CRORE


def num(value, digits: int = 0) -> str:
    """A number with thousands separators and `digits` decimals ("" for None/NaN)."""
    if value is None or value != value:  # None or NaN
        return ""
    return f"{float(value):,.{digits}f}"


def sig(value) -> str:
    """A catalogue value for reading: text as is, numbers >= 10,000 with separators, others to six
    significant digits ("" for None)."""
    if value is None or isinstance(value, str):
        return value or ""
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.6g}"


def totals_rows(plan: dict) -> list[dict]:
    """Totals by chosen option: settlements, population, demand (GWh/yr), capacity (MW), LCOE (USD/kWh
    and INR/kWh)."""
    inr = plan["currency"]["inr_per_usd"]
    rows = []
    for option in _ordered(plan["options"]):
        t = plan["options"][option]
        lcoe = t["lcoe_usd_per_kwh"]
        rows.append({"option": option, "label": OPTION_LABELS.get(option, option), "settlements": num(t["settlements"]),
                     "population": num(t["population"]), "gwh": num(t["demand_mwh_per_year"] / 1e3, 2),
                     "mw": num(t["capacity_mw"], 1), "lcoe": num(lcoe, 3),
                     "lcoe_inr": num(None if lcoe is None else lcoe * inr, 2)})
    return rows


GRID_STATUS_LABELS = {"connected": "on the grid", "weak": "on the grid, few hours of supply (weak)",
                      "isolated_mainland": "isolated, mainland", "isolated_island": "isolated, island"}


def grid_status_rows(plan: dict) -> list[dict]:
    """The existing grid (plan.json `grid_status`): settlements, population, demand (GWh/yr), annual cost
    (M USD/yr) and the options chosen, per status; empty when the plan has no grid status."""
    rows = []
    for status, t in (plan.get("grid_status") or {}).get("by_status", {}).items():
        rows.append({"status": status, "label": GRID_STATUS_LABELS.get(status, status), "settlements": num(t["settlements"]),
                     "population": num(t["population"]), "gwh": num(t["demand_mwh_per_year"] / 1e3, 2),
                     "annual_musd": num(t["annual_cost_usd"] / 1e6, 2),
                     "options": ", ".join(f"{OPTION_LABELS.get(o, o)} {n:,}" for o, n in t["chosen_options"].items())})
    return rows


def cost_rows(plan: dict) -> list[dict]:
    """Investment, annual cost and net present cost per option (M USD, INR crore, share of the total
    annual cost), and a total row."""
    inr = plan["currency"]["inr_per_usd"]
    options = plan["options"]
    total = sum(t["annual_cost_usd"] for t in options.values()) or 1.0

    def row(label: str, capex, annual, npv) -> dict:
        return {"label": label, "capex_musd": num(capex / 1e6, 1), "capex_crore": num(capex * inr / CRORE, 0),
                "annual_musd": num(annual / 1e6, 2), "annual_crore": num(annual * inr / CRORE, 1),
                "npv_musd": "" if npv is None else num(npv / 1e6, 1),
                "npv_crore": "" if npv is None else num(npv * inr / CRORE, 0), "share": num(100.0 * annual / total, 1)}

    rows = [row(OPTION_LABELS.get(o, o), options[o]["capex_usd"], options[o]["annual_cost_usd"], options[o].get("npv_usd"))
            for o in _ordered(options)]
    ts = list(options.values())
    npvs = [t.get("npv_usd") for t in ts]
    rows.append({**row("total", sum(t["capex_usd"] for t in ts), sum(t["annual_cost_usd"] for t in ts),
                       None if None in npvs else sum(npvs)), "total": True})
    return rows


def npv_note(plan: dict, scenario: dict) -> str:
    """What the net present cost columns mean, with the scenario's horizon, discount rate and INR rate."""
    fin = scenario.get("finance", {})
    horizon, rate = fin.get("horizon_years"), fin.get("discount_rate")
    over = f" over {horizon} years at a real discount rate of {100 * rate:.1f} %" if horizon and rate is not None else ""
    return (f"Net present cost (NPV of costs, HOMER's NPC){over}: investments, replacements, decommissioning, "
            "operation and fuel, less salvage, discounted to the base year; equal to annual cost / CRF. "
            f"₹ at {plan['currency']['inr_per_usd']:g} per USD; 1 crore = 10 million.")


def built_rows(plan: dict) -> list[dict]:
    """Built reactor sites: technology, modules, capacity, settlements and people served, cost."""
    return [{"site_id": s["site_id"], "kind": s["kind"], "technology": s["technology_name"], "modules": s["modules"],
             "mw": num(s["capacity_mw"], 1), "backup_kw": num(s.get("backup_diesel_kw"), 0),
             "served": num(len(s["settlements_served"])), "population": num(s["population_served"]),
             "gwh": num(s["demand_mwh_per_year"] / 1e3, 2), "network_km": num(s.get("network_length_km"), 1),
             "submarine_km": num(s.get("submarine_km"), 1), "capex_musd": num(s["capex_usd"] / 1e6, 1),
             "lcoe": num(s["lcoe_usd_per_kwh"], 3),
             "saving_musd": num(s.get("saving_vs_standalone_usd_per_year", 0.0) / 1e6, 2),
             "lon": s["lon"], "lat": s["lat"]}
            for s in plan.get("reactor_sites", [])]


def why_rows(plan: dict) -> dict:
    """plan.json `why` as table rows: per built site the saving against its members' best stand-alone
    options; per large unit left without a reactor the capex reduction at which a plant of its own
    would break even. Empty lists for runs written before the section existed."""
    why = plan.get("why") or {}
    built = [{"site_id": s["site_id"], "technology": s["technology"], "settlements": num(s["settlements"]),
              "standalone_musd": num(s["standalone_annual_cost_usd"] / 1e6, 2),
              "plant_musd": num(s["plant_annual_cost_usd"] / 1e6, 2),
              "saving_musd": num(s["saving_usd_per_year"] / 1e6, 2),
              "saving_pct": "" if s.get("saving_fraction") is None else f"{100 * s['saving_fraction']:.1f} %",
              "options": ", ".join(f"{k} {v}" for k, v in s.get("members_by_best_standalone_option", {}).items())}
             for s in why.get("built_sites", [])]
    unserved = [{"place": u["largest_settlement"], "members": num(u["members"]),
                 "gwh": num(u["demand_mwh_per_year"] / 1e3, 2), "option": u["best_standalone_option"],
                 "standalone_musd": num(u["standalone_annual_cost_usd"] / 1e6, 2),
                 "own_musd": "" if u.get("own_reactor_annual_cost_usd") is None
                 else num(u["own_reactor_annual_cost_usd"] / 1e6, 2),
                 "technology": u.get("technology") or "", "site_id": u.get("site_id") or "",
                 "reduction": "" if u.get("required_capex_reduction_fraction") is None
                 else f"{100 * u['required_capex_reduction_fraction']:.1f} %", "note": u["note"]}
                for u in why.get("not_served_by_reactor", [])]
    return {"built": built, "unserved": unserved, "method": why.get("method", ""), "unit": why.get("unit", "settlement")}


def funnel(plan: dict) -> dict:
    """Siting funnel: candidates and suitable sites per kind; per criterion the label, limit and the
    number of candidates failing it; criteria not evaluated with the reason; the rule set used (name,
    title, each rule's value, source and year)."""
    s = plan["siting"]
    kinds = [{"kind": k, "candidates": num(v["candidates"]), "suitable": num(v["suitable"])}
             for k, v in s.get("by_kind", {}).items()]
    removed = s.get("removed_by_criterion", {})
    evaluated = [{"name": c["name"], "label": c["label"], "limit": c["limit"], "fails": num(removed.get(c["name"], 0))}
                 for c in s.get("criteria", []) if c["evaluated"]]
    skipped = [{"name": c["name"], "label": c["label"], "note": c["note"]}
               for c in s.get("criteria", []) if not c["evaluated"]]
    rs = s.get("rule_set") or {}
    rules = [{"name": k, "value": f"{float(r['value']):,g}", "source": r["source"], "year": r.get("year") or ""}
             for k, r in rs.get("rules", {}).items()]
    return {"candidates": num(s["candidates"]), "suitable": num(s["suitable"]), "kinds": kinds,
            "evaluated": evaluated, "skipped": skipped, "rule_set": rs.get("name", ""),
            "rule_set_title": rs.get("title", ""), "rules": rules}


def gap_text(sol: dict) -> str:
    """The proven relative MIP gap, with the scenario's target and whether the plan reached it."""
    if sol.get("mip_gap") is None:
        return ""
    gap, target = float(sol["mip_gap"]), sol.get("settings", {}).get("mip_gap")
    if target is None:
        return f"{100 * gap:.3f} %"
    return f"{100 * gap:.3f} % (target {100 * float(target):g} %{'' if gap <= float(target) else ', not reached'})"


def solver_rows(plan: dict) -> list[tuple[str, str]]:
    """Solver report as (field, value) pairs: status, termination, objective, MIP gap (with its target)
    and dual bound, time, size, the regional search's improvement when it ran, and the settings."""
    sol = plan.get("solver", {})
    rows = [("solver", str(sol.get("name", ""))), ("status", str(sol.get("status", ""))),
            ("termination", str(sol.get("termination", ""))),
            ("objective (USD/yr)", num(sol.get("objective_usd"), 0)),
            ("MIP gap", gap_text(sol)), ("lower bound (USD/yr)", num(sol.get("mip_dual_bound_usd"), 0)),
            ("time (s)", num(sol.get("time_s"), 2)), ("variables", num(sol.get("variables"))),
            ("constraints", num(sol.get("constraints"))), ("facilities", num(sol.get("facilities"))),
            ("settlement-site pairs", num(sol.get("pairs")))]
    search = sol.get("search")
    if search:
        rows += [("regional search (USD/yr)", f"{num(search['objective_before_usd'], 0)} to {num(search['objective_usd'], 0)} "
                  f"in {num(search['time_s'], 0)} s, {len(search['passes'])} passes")]
    rows += [(f"setting: {k}", "" if v is None else str(v)) for k, v in sol.get("settings", {}).items()]
    return [(k, v) for k, v in rows if v != ""]


def data_rows(plan: dict) -> list[dict]:
    """Data layers read: layer, source path and rows dropped (without coordinates)."""
    data = plan.get("data", {})
    sources, dropped = data.get("sources", {}), data.get("dropped_rows", {})
    return [{"layer": layer, "source": sources.get(layer, ""), "dropped": num(dropped.get(layer))}
            for layer in sorted(set(sources) | set(dropped))]


def methods(scenario: dict, catalogue: list[dict]) -> dict:
    """Methods and sources: finance and demand settings of the scenario, the technologies enabled,
    the overrides, and every source of a catalogue value the run used (enabled technologies only),
    with the parameters it supports."""
    enabled = list(scenario.get("technologies", {}).get("enabled", []))
    used = [r for r in catalogue if r["technology"] in enabled]
    by_source: dict[tuple[str, int], list[str]] = defaultdict(list)
    for r in used:  # catalogue rows (a few hundred), not settlements
        by_source[(str(r["source"]), int(r["year"]))].append(f"{r['technology']}.{r['parameter']}")
    sources = [{"source": src, "year": year, "parameters": ", ".join(params), "count": len(params)}
               for (src, year), params in sorted(by_source.items(), key=lambda kv: (-len(kv[1]), kv[0][0]))]
    fin, dem = scenario.get("finance", {}), scenario.get("demand", {})
    overrides = [{"technology": t, "parameter": p, "value": v}
                 for t, params in scenario.get("technologies", {}).get("overrides", {}).items() for p, v in params.items()]
    tiers = dem.get("tier_kwh_per_household_year", [])
    tier = dem.get("tier")
    settings = [
        ("target year", scenario.get("target_year")),
        ("base year of money (constant USD)", fin.get("base_year")),
        ("real discount rate", f"{100 * fin['discount_rate']:.1f} %" if "discount_rate" in fin else None),
        ("horizon (years)", fin.get("horizon_years")),
        ("INR per USD", fin.get("inr_per_usd")),
        ("carbon price (USD/t CO2)", fin.get("carbon_price_usd_per_t")),
        ("demand tier (Multi-Tier Framework)", f"{tier} ({tiers[tier - 1]:,} kWh per household and year)"
         if tier and len(tiers) >= tier else tier),
        ("population growth per year", dem.get("population_growth_per_year")),
        ("non-residential share of demand", dem.get("non_residential_share")),
        ("load factor", dem.get("load_factor")),
        ("reactor refuelling back-up", scenario.get("technologies", {}).get("reactor_backup")),
    ]
    names = {r["technology"]: r.get("option", "") for r in used}
    return {"settings": [(k, v) for k, v in settings if v is not None], "technologies": [
        {"key": k, "option": names.get(k, "")} for k in enabled], "overrides": overrides, "sources": sources,
        "parameters": [{**r, "value": sig(r["value"]), "low": sig(r.get("low")), "high": sig(r.get("high"))}
                       for r in used]}


def _ordered(options: dict) -> list[str]:
    return [o for o in ALL_OPTIONS if o in options] + [o for o in options if o not in ALL_OPTIONS]
