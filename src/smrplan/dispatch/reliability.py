"""Hour-by-hour check of the planned systems and back-up sized from it (the dispatch stage's glue).

Systems simulated (dispatch.py, 8,760 hours, all at once):

* every built reactor plant: its modules (minimum load, ramp, staggered refuelling and forced
  outages from the catalogue) and the plan's diesel back-up, serving the summed load of its
  settlements;
* stand-alone PV + battery hybrids and diesel mini-grids (the largest `max_standalone_systems` by
  demand), sized as the cost engine sized them.

Grid-connected settlements are not simulated (the grid is taken as reliable). Load shapes come from
demand.hourly_load_kw; PV from pvlib clear-sky irradiance (solar.py) times the monthly derate pattern
of the scenario, scaled so the annual yield equals the catalogue PV capacity factor, or, with
``dispatch.pv_tmy``, from the user's solar year (e.g. a TMY) at the yield it gives (`pv_profiles`).
For reactor systems the simulated year is, per system, the one of the first refuelling cycle with the
fewest module-hours available (the year holding the refuelling outages). Diesel is simulated as units of
`diesel_unit_fraction_of_peak` x system peak.

Back-up sizing: `dispatch.size_backup` finds the fewest diesel units meeting the reliability target.
Units beyond those in the plan are added at the catalogue's diesel capex and fixed O&M, annualised
like every other cost (economics.annualised); for stand-alone systems the simulated diesel fuel (and
its carbon price) replaces the cost engine's estimate. The sum is fed back into the plan's totals
(`dispatch.added_annual_cost_usd`, may be negative); the per-settlement LCOE columns stay the planning
values, so a large difference is a signal to revisit the plan.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue, to_records
from smrplan.costs.economics import Money, annualised, diesel_price_usd_per_l, first_of
from smrplan.demand.load import hourly_load_kw
from smrplan.dispatch.simulate import (
    Battery,
    Diesel,
    DispatchResult,
    Reactor,
    Systems,
    reactor_modules_available,
    simulate,
    simulate_with_backup,
)
from smrplan.dispatch.solar import pv_profile_from_tmy, pv_profile_kw_per_kwp, read_tmy, uses_lattice
from smrplan.errors import InputError
from smrplan.geo.fuel import surcharge_column
from smrplan.geo.io import resolve
from smrplan.partition import on_threads
from smrplan.scenario import Scenario
from smrplan.units import HOURS_PER_YEAR, KG_PER_TONNE, KW_PER_MW


def monthly_derate(ref: str, data_dir) -> np.ndarray:
    """The 12 monthly derate factors of the first profile in a derate file (CSV with m01..m12)."""
    path = resolve(ref, data_dir, None, "dispatch.monthly_derate") if not ref.startswith("bundled:") else \
        Path(str(resources.files("smrplan.data").joinpath(ref.removeprefix("bundled:"))))
    with open(str(path), encoding="utf-8") as f:
        table = pd.read_csv(f, comment="#")
    cols = [f"m{m:02d}" for m in range(1, 13)]
    if not set(cols) <= set(table.columns) or table.empty:
        raise InputError(path, "m01..m12", "expected twelve monthly factor columns m01..m12")
    values = table[cols].iloc[0].to_numpy(float)
    if not ((values > 0) & (values <= 1)).all():
        raise InputError(path, "m01..m12", "monthly factors must lie in (0, 1]")
    return values


def _diesel(cat: Catalogue, n: int, unit_kw: np.ndarray, units: np.ndarray) -> Diesel:
    d = first_of(cat, "diesel")
    return Diesel(unit_kw=unit_kw, n_units=units, min_load_fraction=np.full(n, d["min_load_fraction"]),
                  intercept_l_per_kwh_rated=np.full(n, d["fuel_curve_intercept_l_per_kwh_rated"]),
                  slope_l_per_kwh=np.full(n, d["fuel_curve_slope_l_per_kwh"]))


def system_table(sc: Scenario, st: pd.DataFrame, built: list[dict], details: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The systems of a plan to simulate, one row each: every built reactor plant, then the largest
    stand-alone systems by demand (``dispatch.max_standalone_systems``).

    Parameters
    ----------
    sc : Scenario
        The plan's scenario (dispatch settings).
    st : pandas.DataFrame
        The plan's settlements (chosen_option, site_id, demand_kwh_per_year, peak_kw, is_island).
    built : list[dict]
        The built reactor plants (optimize.assemble.Optimised.built).
    details : Mapping[str, pandas.DataFrame]
        Sizing frames of the stand-alone options (costs.engine.OptionCosts.standalone).

    Returns
    -------
    pandas.DataFrame
        system_id, type, technology, lon, lat (degrees), modules, backup_kw, pv_kw (kW), battery_kwh
        (kWh), energy_kwh (kWh/yr), peak_kw (kW), settlements, is_island, fuel_surcharge,
        planned_fuel_cost_usd (USD/yr; NaN for reactor plants).
    """
    dsp = sc.dispatch
    rows: list[dict[Hashable, Any]] = []
    for site in built:
        members = st["site_id"] == site["site_id"]
        rows.append({"system_id": site["site_id"], "type": site["option"], "technology": site["technology"],
                     "lon": site["lon"], "lat": site["lat"], "modules": site["modules"],
                     "backup_kw": site["backup_diesel_kw"], "pv_kw": 0.0, "battery_kwh": 0.0,
                     "energy_kwh": float(st.loc[members, "demand_kwh_per_year"].sum()),
                     "peak_kw": float(st.loc[members, "peak_kw"].sum()), "settlements": int(members.sum()),
                     "is_island": bool(st.loc[members, "is_island"].any()),
                     "fuel_surcharge": bool(surcharge_column(st.loc[members]).any()), "planned_fuel_cost_usd": np.nan})
    standalone = st[st["chosen_option"].isin(["pv_battery", "diesel"])]
    standalone = standalone.nlargest(dsp.max_standalone_systems, "demand_kwh_per_year")
    if len(standalone):
        idx = standalone.index.to_numpy()
        pv = details["pv_battery"].iloc[idx]
        is_pv = (standalone["chosen_option"] == "pv_battery").to_numpy()
        planned_fuel = np.where(is_pv, details["pv_battery"]["fuel_cost_usd"].to_numpy()[idx],
                                details["diesel"]["fuel_cost_usd"].to_numpy()[idx])
        cap = np.where(is_pv, details["pv_battery"]["capacity_kw"].to_numpy()[idx] - pv["pv_kw"].to_numpy(),
                       details["diesel"]["capacity_kw"].to_numpy()[idx])
        rows += pd.DataFrame({
            "system_id": standalone["id"].to_numpy(), "type": standalone["chosen_option"].to_numpy(),
            "technology": np.where(is_pv, "pv_battery_hybrid", "diesel_minigrid"),
            "lon": standalone["lon"].to_numpy(), "lat": standalone["lat"].to_numpy(), "modules": 0,
            "backup_kw": cap, "pv_kw": np.where(is_pv, pv["pv_kw"].to_numpy(), 0.0),
            "battery_kwh": np.where(is_pv, pv["battery_kwh"].to_numpy(), 0.0),
            "energy_kwh": standalone["demand_kwh_per_year"].to_numpy(),
            "peak_kw": standalone["peak_kw"].to_numpy(), "settlements": 1,
            "is_island": standalone["is_island"].to_numpy(bool), "fuel_surcharge": surcharge_column(standalone),
            "planned_fuel_cost_usd": planned_fuel}).to_dict("records")
    return pd.DataFrame(rows)


def systems_of(sc: Scenario, cat: Catalogue, meta: pd.DataFrame, lattice: bool | None = None) -> Systems:
    """What `dispatch.simulate` runs for rows of `system_table`: hourly loads (kW) from the load-shape
    mix, PV output per kWp (`pv_profiles`), the reactors, a battery of the peak's power and diesel in
    units of ``dispatch.diesel_unit_fraction_of_peak`` x peak, as many as the plan's back-up needs.

    Parameters
    ----------
    sc, cat : Scenario, Catalogue
        The plan's scenario (dispatch and demand settings) and technology data.
    meta : pandas.DataFrame
        Rows of `system_table`.
    lattice : bool or None
        Passed to `pv_profiles`: the same choice for every part of a plan's systems.

    Returns
    -------
    Systems
        One system per row, in order; ``diesel.unit_kw`` and ``diesel.n_units`` are the unit size
        (kW) and the planned units.

    Raises
    ------
    InputError
        When PV systems are simulated and the solar year (``dispatch.pv_tmy``) or the monthly derate
        file is missing or invalid (`pv_profiles`).
    """
    dsp = sc.dispatch
    n = len(meta)
    load = hourly_load_kw(meta["energy_kwh"].to_numpy(), meta["peak_kw"].to_numpy(), sc.demand.load_shape)
    peak = load.max(axis=1)
    unit_kw = np.maximum(peak * dsp.diesel_unit_fraction_of_peak, 1.0)
    units_planned = np.ceil(meta["backup_kw"].to_numpy() / unit_kw - 1e-9)
    reactor = _reactors(meta, cat, dsp.mean_repair_hours)
    pvsys = cat["pv_battery_hybrid"] if "pv_battery_hybrid" in cat else first_of(cat, "pv_battery")
    has_batt = meta["battery_kwh"].to_numpy() > 0
    battery = Battery(energy_kwh=meta["battery_kwh"].to_numpy(), power_kw=np.where(has_batt, peak, 0.0),
                      round_trip_efficiency=np.where(has_batt, pvsys["battery_roundtrip_efficiency"], 0.0),
                      min_soc_fraction=np.where(has_batt, pvsys["battery_min_soc_fraction"], 0.0),
                      initial_soc_fraction=np.where(has_batt, max(dsp.battery_initial_soc_fraction,
                                                                  pvsys["battery_min_soc_fraction"]), 0.0))
    has_pv = meta["pv_kw"].to_numpy() > 0
    if has_pv.all():  # no copy into a table of zeros
        profile = pv_profiles(sc, pvsys["pv_capacity_factor"], meta["lat"].to_numpy(), meta["lon"].to_numpy(),
                              lattice)
    else:
        profile = np.zeros((n, HOURS_PER_YEAR))
        if has_pv.any():
            profile[has_pv] = pv_profiles(sc, pvsys["pv_capacity_factor"], meta.loc[has_pv, "lat"].to_numpy(),
                                          meta.loc[has_pv, "lon"].to_numpy(), lattice)
    systems = Systems(load_kw=load, pv_kw=meta["pv_kw"].to_numpy(), pv_profile_kw_per_kwp=profile,
                      reactor=reactor, diesel=_diesel(cat, n, unit_kw, units_planned),
                      battery=battery, system_id=meta["system_id"].to_numpy())
    return systems


def tmy_path(sc: Scenario) -> Path:
    """The `dispatch.pv_tmy` file: relative to the data directory, else to the scenario file.

    Raises
    ------
    InputError
        When the file does not exist (naming `dispatch.pv_tmy`).
    """
    base = Path(sc.source).parent if Path(sc.source).exists() else None
    return Path(resolve(str(sc.dispatch.pv_tmy), sc.data_dir, base, "dispatch.pv_tmy"))


def pv_profiles(sc: Scenario, capacity_factor: float, lat: np.ndarray, lon: np.ndarray,
                lattice: bool | None = None) -> np.ndarray:
    """Hourly PV output per kWp of PV systems in the target year.

    With ``dispatch.pv_tmy`` the user's solar year (`solar.read_tmy`, path relative to the data
    directory, else to the scenario file) at the yield it gives; otherwise clear sky times the monthly
    derate, scaled so that each system's annual yield is `capacity_factor` x 8,760 h.

    Parameters
    ----------
    sc : Scenario
        Gives the target year, the data directory and the ``dispatch`` settings.
    capacity_factor : float
        Catalogue PV capacity factor, fraction (clear sky only).
    lat, lon : numpy.ndarray
        (S,) system coordinates, degrees.
    lattice : bool or None
        Clear sky from the lattice or at every site (`solar.pv_profile_kw_per_kwp`); None: its rule.

    Returns
    -------
    numpy.ndarray
        (S, 8760) kW per kWp in each local hour.

    Raises
    ------
    InputError
        When the solar year (``dispatch.pv_tmy``) or the monthly derate file is missing, unreadable or
        implausible.
    """
    dsp = sc.dispatch
    if dsp.pv_tmy is not None:
        path = tmy_path(sc)
        stat = path.stat()
        tmy = _solar_year(str(path), (stat.st_size, stat.st_mtime_ns), sc.target_year, sc.region.timezone).copy()
        return pv_profile_from_tmy(tmy, lat, lon, sc.target_year, system_loss_fraction=dsp.pv_system_loss_fraction,
                                   timezone=sc.region.timezone)
    raw = pv_profile_kw_per_kwp(lat, lon, sc.target_year, monthly_derate(dsp.monthly_derate, sc.data_dir),
                                system_loss_fraction=dsp.pv_system_loss_fraction, timezone=sc.region.timezone,
                                lattice_step_deg=dsp.pv_lattice_step_deg, lattice=lattice)
    raw *= (capacity_factor * HOURS_PER_YEAR / raw.sum(axis=1))[:, None]  # in place: the array is this call's own
    return raw


@lru_cache(maxsize=4)
def _solar_year(path: str, stamp: tuple[int, int], year: int, timezone: str) -> pd.DataFrame:
    """`solar.read_tmy` of a file, read once for each state of the file (`stamp`: size and modification
    time), as the dispatch profiles its systems a chunk at a time."""
    return read_tmy(path, year=year, timezone=timezone)


def _reactors(meta: pd.DataFrame, cat: Catalogue, mean_repair_hours: float) -> Reactor:
    n = len(meta)
    cols = {k: np.zeros(n) for k in ("module_kw", "min", "ramp", "interval", "outage", "forced")}
    for i, key in enumerate(meta["technology"].to_numpy()):  # one lookup per system: a catalogue key, not data
        tech = cat.get(key)
        if tech is None or not tech.is_reactor:
            continue
        cols["module_kw"][i] = tech["module_size_mw"] * KW_PER_MW
        cols["min"][i] = tech["min_load_fraction"]
        cols["ramp"][i] = tech["ramp_fraction_per_min"] * 60.0
        cols["interval"][i] = tech["refuelling_interval_years"]
        cols["outage"][i] = tech["refuelling_outage_days"]
        cols["forced"][i] = tech["forced_outage_rate"]
    return Reactor(module_kw=cols["module_kw"], n_modules=meta["modules"].to_numpy(float),
                   min_load_fraction=cols["min"], ramp_fraction_per_hour=cols["ramp"],
                   refuelling_interval_years=np.where(cols["interval"] > 0, np.maximum(cols["interval"], 1.0), 0.0),
                   outage_days=cols["outage"], forced_outage_rate=cols["forced"],
                   mean_repair_hours=np.full(n, mean_repair_hours))


def availability(reactor: Reactor, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Modules in service per hour (S, 8760) in each system's worst year of its first refuelling
    cycle, and the year chosen."""
    years = int(np.ceil(reactor.refuelling_interval_years.max(initial=1.0)))
    best = reactor_modules_available(reactor, operating_year=0, seed=seed)
    chosen = np.zeros(reactor.module_kw.size, int)
    for year in range(1, years):  # a few years of the refuelling cycle, each vectorised over systems
        avail = reactor_modules_available(reactor, operating_year=year, seed=seed)
        worse = avail.sum(axis=1) < best.sum(axis=1)
        best[worse] = avail[worse]
        chosen[worse] = year
    return best, chosen


def check(sc: Scenario, cat: Catalogue, st: pd.DataFrame, built: list[dict],
          details: Mapping[str, pd.DataFrame], money: Money) -> tuple[dict, DispatchResult | None]:
    """Simulate the plan's systems, size back-up to the reliability target and price what it adds.

    Parameters
    ----------
    sc, cat : Scenario, Catalogue
        The plan's scenario and technology data.
    st, built, details
        As `system_table`.
    money : Money
        Discount rate (fraction/yr) and horizon (years) that annualise the added back-up.

    Returns
    -------
    section : dict
        The plan.json `dispatch` section: per system the unserved energy (kWh/yr, fraction), diesel
        litres (l/yr) and cost (USD/yr), back-up units and kW added, added annual cost (USD/yr).
    result : DispatchResult or None
        The final dispatch result (hourly series kept); None without a system to simulate.

    Raises
    ------
    InputError
        As `systems_of`.
    """
    meta = system_table(sc, st, built, details)
    if meta.empty:
        return {"systems": [], "note": "no reactor, PV + battery or diesel system to simulate"}, None
    reactor = _reactors(meta, cat, sc.dispatch.mean_repair_hours)
    avail, year = availability(reactor, sc.dispatch.seed)
    avail = avail[:reactor.leading_systems].copy()  # the plants' rows
    planned, sized_units, final, meta = simulated(sc, cat, meta, avail, hourly_of(sc, meta))
    final_units = np.maximum(sized_units, meta["backup_units_planned"].to_numpy())
    diesel = first_of(cat, "diesel")
    price = diesel_price_usd_per_l(diesel, meta["fuel_surcharge"].to_numpy(bool))
    summary = final.summary(diesel_price_usd_per_litre=price, co2_kg_per_litre=diesel["co2_kg_per_l"])
    before = planned.summary(diesel_price_usd_per_litre=price, co2_kg_per_litre=diesel["co2_kg_per_l"])
    added_kw = (final_units - meta["backup_units_planned"].to_numpy()) * meta["diesel_unit_kw"].to_numpy()
    # Fuel: the simulated diesel use replaces the cost engine's estimate for stand-alone systems (for
    # reactor plants the back-up fuel estimate is kept; the simulated litres are reported).
    planned_fuel = meta["planned_fuel_cost_usd"].to_numpy(float)
    fuel_delta = np.where(np.isfinite(planned_fuel), summary["diesel_cost_usd"].to_numpy() - planned_fuel, 0.0)
    carbon = sc.finance.carbon_price_usd_per_t * np.where(
        np.isfinite(planned_fuel), fuel_delta / price * diesel["co2_kg_per_l"] / KG_PER_TONNE, 0.0)
    added_cost = annualised(added_kw * diesel["capex_usd_per_kw"], diesel["lifetime_years"], money) + \
        added_kw * diesel["fixed_om_usd_per_kw_year"] + fuel_delta + carbon
    out = meta[["system_id", "type", "technology", "settlements", "modules"]].copy()
    out["load_mwh_per_year"] = meta["energy_kwh"].to_numpy() / KW_PER_MW
    out["operating_year_simulated"] = year
    out["unserved_fraction_as_planned"] = before["unserved_fraction"].to_numpy()
    out["backup_unit_kw"] = meta["diesel_unit_kw"].to_numpy()
    out["backup_units_planned"] = meta["backup_units_planned"].to_numpy().astype(int)
    out["backup_units_needed"] = sized_units
    out["added_backup_kw"] = added_kw
    out["fuel_cost_difference_usd"] = fuel_delta
    out["added_annual_cost_usd"] = added_cost
    for col in ("unserved_kwh", "unserved_fraction", "hours_short", "diesel_litres", "diesel_cost_usd",
                "curtailment_kwh", "reactor_capacity_factor", "renewable_share", "emissions_t_co2"):
        out[col] = summary[col].to_numpy()
    out["meets_target"] = out["unserved_fraction"] <= sc.dispatch.max_unserved_fraction + 1e-12
    system_records = _records(out)
    records = to_records(cat)
    for rec in system_records:
        if str(rec["type"]).endswith("_reactor"):
            rec["refuelling_outages_h"] = [list(s) for s in outage_spans(rec, records)]
    section = {
        "settings": sc.dispatch.model_dump(mode="json"),
        "systems_simulated": int(len(out)),
        "systems_meeting_target_as_planned": int((out["unserved_fraction_as_planned"]
                                                  <= sc.dispatch.max_unserved_fraction + 1e-12).sum()),
        "added_annual_cost_usd": round(float(added_cost.sum()), 2),
        "diesel_litres_per_year": round(float(out["diesel_litres"].sum()), 1),
        "note": ("grid-connected settlements are not simulated; added cost = extra diesel back-up capacity "
                 "needed to meet the reliability target + simulated minus estimated fuel of stand-alone systems"),
        "systems": system_records,
    }
    return section, final


def hourly_of(sc: Scenario, meta: pd.DataFrame) -> np.ndarray:
    """Positions (in `meta`) of the systems whose hourly series the run keeps (`hourly_systems` with the
    scenario's ``outputs.dispatch_hourly`` and sample size)."""
    o = sc.outputs
    table = pd.DataFrame({"system_id": meta["system_id"].astype(str).to_numpy(), "type": meta["type"].to_numpy(),
                          "load_mwh_per_year": meta["energy_kwh"].to_numpy(float) / KW_PER_MW})
    kept = hourly_systems(table.to_dict("records"),
                          None if o.dispatch_hourly == "all" else o.dispatch_sample_systems_per_option)
    return np.flatnonzero(table["system_id"].isin(kept).to_numpy())


def simulated(sc: Scenario, cat: Catalogue, meta: pd.DataFrame, reactor_avail: np.ndarray, hourly: np.ndarray
              ) -> tuple[DispatchResult, np.ndarray, DispatchResult, pd.DataFrame]:
    """`simulate_with_backup` of every system of `meta`, ``dispatch.chunk_systems`` at a time, keeping
    the hourly series of the systems at positions `hourly` only: the hourly loads and PV output of one
    chunk per thread are what the stage holds (chunks run side by side, `smrplan.partition.on_threads`;
    the compiled rule releases the GIL), so memory grows with the chunk and the kept series, not with
    the systems simulated. Chunks hold neighbours (by cell of the PV lattice, when there is one), so that
    each computes clear sky at few lattice nodes; whether PV comes from the lattice is decided once for all systems
    (`solar.uses_lattice`). Systems are dispatched independently: the figures do not depend on the
    chunks.

    Parameters
    ----------
    sc, cat : Scenario, Catalogue
        The plan's scenario (dispatch settings) and technology data.
    meta : pandas.DataFrame
        The systems (`system_table`), reactor plants first.
    reactor_avail : numpy.ndarray
        Reactor modules in service per hour of the first K systems, (K, H); from K on none has a reactor.
    hourly : numpy.ndarray
        Positions of the systems whose hourly series are kept.

    Returns
    -------
    planned, needed, final
        As `simulate_with_backup`, in the order of `meta`; `final` holds totals of every system and
        hourly series of the kept systems only (its `hourly_ids`).
    meta : pandas.DataFrame
        A copy of `meta` with diesel_unit_kw (kW) and backup_units_planned.
    """
    dsp = sc.dispatch
    n, (k, n_hours) = len(meta), reactor_avail.shape
    lat, lon = meta["lat"].to_numpy(float), meta["lon"].to_numpy(float)
    pv = meta["pv_kw"].to_numpy(float) > 0
    step = dsp.pv_lattice_step_deg
    lattice = uses_lattice(lat[pv], lon[pv], step) if dsp.pv_tmy is None else None

    def available(idx: np.ndarray) -> np.ndarray:
        out = np.zeros((len(idx), n_hours))  # pages without a plant are never written
        out[idx < k] = reactor_avail[idx[idx < k]]
        return out

    def chunk(idx: np.ndarray) -> tuple[tuple, tuple[np.ndarray, np.ndarray]]:  # a chunk of systems
        systems = systems_of(sc, cat, meta.iloc[idx], lattice)
        return (simulate_with_backup(systems, available(idx), max_unserved_fraction=dsp.max_unserved_fraction,
                                     keep_hourly=False), (systems.diesel.unit_kw, systems.diesel.n_units))

    order = np.lexsort((np.floor(lon / step), np.floor(lat / step))) if step else np.arange(n)  # by lattice cell
    positions = [np.sort(idx) for idx in np.array_split(order, -(-n // dsp.chunk_systems))]  # plants first
    parts, units = zip(*on_threads(chunk, positions), strict=True)
    back = np.argsort(np.concatenate(positions))

    def joined(results: list[DispatchResult]) -> DispatchResult:
        whole = DispatchResult.joined(results)
        return DispatchResult(whole.system_id[back], whole.totals.iloc[back], None)

    needed = np.concatenate([p[1] for p in parts])[back]
    meta = meta.assign(diesel_unit_kw=np.concatenate([u[0] for u in units])[back],
                       backup_units_planned=np.concatenate([u[1] for u in units])[back])
    kept_units = np.maximum(needed, meta["backup_units_planned"].to_numpy())[hourly]
    kept = simulate(systems_of(sc, cat, meta.iloc[hourly], lattice).with_diesel_units(kept_units),
                    available(hourly), keep_hourly=True)
    final = joined([p[2] for p in parts])
    return joined([p[0] for p in parts]), needed, replace(final, hourly=kept.hourly, hourly_ids=kept.system_id), meta


def outage_spans(record: dict, catalogue: list[dict]) -> list[tuple[int, int]]:
    """Scheduled refuelling outages of a reactor system in its simulated year, as (first hour, end
    hour) spans: the dispatch model's own staggered schedule (reactor_modules_available) with forced
    outages left out (plan.json dispatch.systems[].refuelling_outages_h, drawn by the report).

    Parameters
    ----------
    record : dict
        A dispatch.systems entry: technology, modules, operating_year_simulated.
    catalogue : list[dict]
        Catalogue records (catalogue.catalogue.to_records: technology, parameter, value).
    """
    values = {r["parameter"]: r["value"] for r in catalogue if r["technology"] == record.get("technology")}
    modules = float(record.get("modules") or 0)
    interval = float(values.get("refuelling_interval_years") or 0.0)
    days = float(values.get("refuelling_outage_days") or 0.0)
    if modules <= 0 or interval <= 0 or days <= 0:
        return []
    one = lambda v: np.array([float(v)])  # noqa: E731
    reactor = Reactor(module_kw=one(1.0), n_modules=one(modules), min_load_fraction=one(0.0),
                      ramp_fraction_per_hour=one(1.0), refuelling_interval_years=one(max(interval, 1.0)),
                      outage_days=one(days), forced_outage_rate=one(0.0), mean_repair_hours=one(1.0))
    out = reactor_modules_available(reactor, operating_year=int(record.get("operating_year_simulated") or 0),
                                    seed=0)[0] < modules
    edges = np.diff(np.concatenate([[0], out.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _records(frame: pd.DataFrame) -> list[dict]:
    recs = frame.replace({np.nan: None}).to_dict("records")
    for r in recs:
        for k, v in r.items():
            if isinstance(v, np.generic):
                r[k] = v.item()
            if isinstance(r[k], float):
                r[k] = round(r[k], 6)
    return recs


def hourly_systems(systems: list[dict], per_option: int | None) -> list[str]:
    """The systems whose hourly series a run directory keeps (dispatch.parquet): every reactor plant
    and, of each other option, at most `per_option` systems spread evenly over the load range,
    the largest first; all of them when `per_option` is None.

    Parameters
    ----------
    systems : list of dict
        The plan.json ``dispatch.systems`` records: system_id, type (the option), load_mwh_per_year.
    per_option : int or None
        Most stand-alone systems kept per option (``outputs.dispatch_sample_systems_per_option``);
        None keeps every system (``outputs.dispatch_hourly: all``).

    Returns
    -------
    list of str
        The system ids kept, in the order of `systems`.
    """
    table = pd.DataFrame(systems, columns=["system_id", "type", "load_mwh_per_year"])
    if per_option is None:
        return table["system_id"].astype(str).tolist()
    rank = table["load_mwh_per_year"].astype(float).rank(method="first", ascending=False)
    keep = table["type"].astype(str).str.endswith("_reactor").to_numpy()
    for _, group in table[~keep].groupby("type", sort=False):  # options, not systems
        order = group.index[np.argsort(rank[group.index].to_numpy(), kind="stable")]
        picks = np.unique(np.round(np.linspace(0, len(order) - 1, min(per_option, len(order)))).astype(int))
        keep[order[picks]] = True
    return table.loc[keep, "system_id"].astype(str).tolist()
