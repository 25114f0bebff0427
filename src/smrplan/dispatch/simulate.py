"""Hour-by-hour check of planned systems: reactor, diesel, PV and battery against an hourly load.

Many systems are simulated in one call (S systems x H hours, H = 8760 for a year): inputs and results
are arrays over systems, and the rule runs compiled, one system's hours after another
(`smrplan.dispatch.kernel`), holding nothing per hour unless the hourly series are kept. Time step
1 h, so a power in kW held for one step is that many kWh.

Dispatch rule of `simulate`, applied in each hour to every system:

1. PV is must-take: ``pv = pv_kw * profile_kw_per_kwp``.
2. The reactor follows the net load (load - PV) between its minimum stable output
   (``min_load_fraction`` x online capacity) and its online capacity, moving at most
   ``ramp_fraction_per_hour`` x online capacity from the previous hour's output. Online capacity is the
   number of modules available (scheduled refuelling and forced outages removed) x ``module_kw``. A
   module leaving service drops its output at once (a trip is not ramp-limited); a returning module
   starts at the minimum stable output if the ramp limit would hold the plant below it. In the first
   hour the reactor starts at the output that follows the net load.
3. Surplus (PV + reactor above load) charges the battery within its power and energy limits; the rest
   is curtailed (dumped).
4. A deficit is covered by the battery discharging down to its minimum state of charge.
5. Diesel covers what remains: the fewest whole genset units whose rated power covers it are committed
   (at most the units installed), and each runs at least at ``min_load_fraction`` of its rating. Any
   output forced by that minimum first reduces the battery discharge of the hour, then charges the
   battery, then is curtailed. Fuel, L/h = ``intercept_l_per_kwh_rated`` x rated kW online +
   ``slope_l_per_kwh`` x output kW (the HOMER affine fuel curve).
6. What is still missing is unserved energy.

The battery's round-trip efficiency is split evenly: charge and discharge efficiency are both its square
root. State of charge (``soc``) is the stored energy at the end of each hour, kWh.

Scheduled outages (`reactor_modules_available`): module ``m`` of ``n`` starts its ``k``-th refuelling
and maintenance outage ``(k - m / n) x refuelling_interval_years`` after the start of commercial
operation (k = 1, 2, ...), so the modules' outages are spread evenly over the interval and do not
overlap while ``outage_days <= interval / n``. With an interval of at least one year a module has at most
one outage starting in any year. ``operating_year`` (0 = first year of operation) chooses which year
is simulated; an outage running over the start of the year is counted in the part that falls inside.

Forced outages: each module alternates between service and forced outage with exponential durations;
the mean outage lasts ``mean_repair_hours`` and the mean time in service is
``mean_repair_hours x (1 - rate) / rate``, so the long-run share of time on forced outage is
``forced_outage_rate``. Every module starts the year in the stationary state. Draws come from one numpy
generator seeded by ``seed``: the same systems and seed give the same outages.

`size_backup` finds the fewest diesel units meeting a reliability target, by bisection on all systems
at once; `simulate_with_backup` runs the whole check (as planned, sizing, with the back-up) on one
set of prepared inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from smrplan.errors import InputError
from smrplan.units import HOURS_PER_DAY, HOURS_PER_YEAR, KG_PER_TONNE

# Numerical tolerance, kW (= kWh per hour): deficits below it commit no diesel and hours whose unserved
# energy is below it do not count as short. Far below any metered quantity.
TOLERANCE_KW = 1e-9
# Systems per parquet row group.
_PARQUET_SYSTEMS_PER_GROUP = 64

SERIES_UNITS = {
    "load": "kWh",
    "reactor": "kWh",
    "pv": "kWh",
    "battery_charge": "kWh",
    "battery_discharge": "kWh",
    "soc": "kWh",
    "diesel": "kWh",
    "diesel_fuel_l": "L",
    "curtailment": "kWh",
    "unserved": "kWh",
}


def _as_vector(value: npt.ArrayLike, name: str) -> np.ndarray:
    array = np.atleast_1d(np.array(value, dtype=float))
    if array.ndim != 1:
        raise InputError(
            None, name, f"expected a number or a 1-D array over systems, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise InputError(None, name, "must be finite")
    return array


@dataclass(frozen=True)
class _Component:
    """Shared behaviour of the per-system component records: every field is a float array over systems."""

    _prefix = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _as_vector(getattr(self, f.name), f"{self._prefix}.{f.name}"))
        self._validate()

    def _validate(self) -> None:
        """Raise InputError for values out of range; each component defines its checks."""

    def _field(self, name: str) -> str:
        return f"{self._prefix}.{name}"

    def _require(self, ok: np.ndarray | bool, name: str, message: str) -> None:
        if not np.all(ok):
            raise InputError(None, self._field(name), message)

    def broadcast(self, n_systems: int) -> Self:
        """This record with every field repeated to length ``n_systems`` (fields must have length 1 or S)."""
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v.size not in (1, n_systems):
                raise InputError(None, self._field(f.name), f"has {v.size} values for {n_systems} systems")
            values[f.name] = np.broadcast_to(v, (n_systems,)).copy()
        return replace(self, **values)

    def take(self, index: np.ndarray) -> Self:
        """This record for the systems at ``index`` (an integer or boolean array)."""
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _is_fraction(x: np.ndarray) -> np.ndarray:
    return (x >= 0) & (x <= 1)


def _is_whole(x: np.ndarray) -> np.ndarray:
    return (x >= 0) & (x == np.round(x))


@dataclass(frozen=True)
class Reactor(_Component):
    """Reactor plant of each system. Arrays over systems (or one value for all); zeros mean no reactor.

    module_kw: net electric output of one module, kW.
    n_modules: modules installed (whole number).
    min_load_fraction: minimum stable output, fraction of online capacity.
    ramp_fraction_per_hour: largest change of output in one hour, fraction of online capacity.
    refuelling_interval_years: years between two refuelling outages of one module (>= 1), 0 = none.
    outage_days: length of one refuelling/maintenance outage, days.
    forced_outage_rate: long-run share of time a module is on forced outage, fraction in [0, 1).
    mean_repair_hours: mean length of one forced outage, hours (> 0 where forced_outage_rate > 0).
    """

    module_kw: np.ndarray
    n_modules: np.ndarray
    min_load_fraction: np.ndarray
    ramp_fraction_per_hour: np.ndarray
    refuelling_interval_years: np.ndarray
    outage_days: np.ndarray
    forced_outage_rate: np.ndarray
    mean_repair_hours: np.ndarray

    _prefix = "reactor"

    @classmethod
    def absent(cls, n_systems: int) -> Reactor:
        """No reactor in any of ``n_systems`` systems."""
        zeros = np.zeros(n_systems)
        return cls(*(zeros for _ in fields(cls)))

    def _validate(self) -> None:
        self._require(self.module_kw >= 0, "module_kw", "must be >= 0 kW")
        self._require(_is_whole(self.n_modules), "n_modules", "must be a whole number >= 0")
        self._require(_is_fraction(self.min_load_fraction), "min_load_fraction", "must be in [0, 1]")
        self._require(self.ramp_fraction_per_hour >= 0, "ramp_fraction_per_hour", "must be >= 0")
        interval = self.refuelling_interval_years
        self._require(
            (interval == 0) | (interval >= 1),
            "refuelling_interval_years",
            "must be 0 (no scheduled outages) or at least 1 year",
        )
        self._require(self.outage_days >= 0, "outage_days", "must be >= 0 days")
        self._require(
            (interval == 0) | (self.outage_days * HOURS_PER_DAY <= interval * HOURS_PER_YEAR),
            "outage_days",
            "must not exceed the refuelling interval (ignored where the interval is 0)",
        )
        rate = self.forced_outage_rate
        self._require((rate >= 0) & (rate < 1), "forced_outage_rate", "must be in [0, 1)")
        self._require(
            (rate == 0) | (self.mean_repair_hours > 0),
            "mean_repair_hours",
            "must be > 0 hours where forced_outage_rate > 0",
        )

    @property
    def rated_kw(self) -> np.ndarray:
        """Installed reactor capacity, kW."""
        return self.module_kw * self.n_modules

    @property
    def leading_systems(self) -> int:
        """How many leading systems hold every reactor (1 + the position of the last system with one)."""
        return int(np.flatnonzero(self.rated_kw > 0).max(initial=-1)) + 1


@dataclass(frozen=True)
class Diesel(_Component):
    """Diesel gensets of each system, as ``n_units`` identical units of ``unit_kw``; zeros mean none.

    unit_kw: rated output of one genset unit, kW.
    n_units: units installed (whole number).
    min_load_fraction: minimum output of a running unit, fraction of its rating.
    intercept_l_per_kwh_rated: fuel curve intercept, L/h per kW of rated capacity online.
    slope_l_per_kwh: fuel curve slope, L per kWh of output.
    """

    unit_kw: np.ndarray
    n_units: np.ndarray
    min_load_fraction: np.ndarray
    intercept_l_per_kwh_rated: np.ndarray
    slope_l_per_kwh: np.ndarray

    _prefix = "diesel"

    @classmethod
    def absent(cls, n_systems: int) -> Diesel:
        """No diesel in any of ``n_systems`` systems."""
        zeros = np.zeros(n_systems)
        return cls(*(zeros for _ in fields(cls)))

    def _validate(self) -> None:
        self._require(self.unit_kw >= 0, "unit_kw", "must be >= 0 kW")
        self._require(_is_whole(self.n_units), "n_units", "must be a whole number >= 0")
        self._require((self.n_units == 0) | (self.unit_kw > 0), "unit_kw", "must be > 0 kW where n_units > 0")
        self._require(_is_fraction(self.min_load_fraction), "min_load_fraction", "must be in [0, 1]")
        self._require(self.intercept_l_per_kwh_rated >= 0, "intercept_l_per_kwh_rated", "must be >= 0 L/kWh")
        self._require(self.slope_l_per_kwh >= 0, "slope_l_per_kwh", "must be >= 0 L/kWh")

    @property
    def rated_kw(self) -> np.ndarray:
        """Installed diesel capacity, kW."""
        return self.unit_kw * self.n_units


@dataclass(frozen=True)
class Battery(_Component):
    """Battery of each system; zeros mean none.

    energy_kwh: usable-plus-reserve storage capacity, kWh.
    power_kw: largest charge or discharge power, kW.
    round_trip_efficiency: AC-AC, fraction in (0, 1] where energy_kwh > 0.
    min_soc_fraction: lowest state of charge, fraction of energy_kwh.
    initial_soc_fraction: state of charge before the first hour, fraction of energy_kwh.
    """

    energy_kwh: np.ndarray
    power_kw: np.ndarray
    round_trip_efficiency: np.ndarray
    min_soc_fraction: np.ndarray
    initial_soc_fraction: np.ndarray

    _prefix = "battery"

    @classmethod
    def absent(cls, n_systems: int) -> Battery:
        """No battery in any of ``n_systems`` systems."""
        zeros = np.zeros(n_systems)
        return cls(*(zeros for _ in fields(cls)))

    def _validate(self) -> None:
        self._require(self.energy_kwh >= 0, "energy_kwh", "must be >= 0 kWh")
        self._require(self.power_kw >= 0, "power_kw", "must be >= 0 kW")
        eff = self.round_trip_efficiency
        self._require(
            (self.energy_kwh == 0) | ((eff > 0) & (eff <= 1)),
            "round_trip_efficiency",
            "must be in (0, 1] where energy_kwh > 0",
        )
        self._require(_is_fraction(self.min_soc_fraction), "min_soc_fraction", "must be in [0, 1]")
        self._require(
            (self.initial_soc_fraction >= self.min_soc_fraction) & (self.initial_soc_fraction <= 1),
            "initial_soc_fraction",
            "must be between min_soc_fraction and 1",
        )

    @property
    def one_way_efficiency(self) -> np.ndarray:
        """Charge (and discharge) efficiency, the square root of the round trip; fraction."""
        return np.sqrt(self.round_trip_efficiency)


@dataclass(frozen=True)
class Systems:
    """S systems to simulate over H hours.

    load_kw: hourly load, kW (S, H).
    pv_kw: installed PV, kWp (S,) or one value.
    pv_profile_kw_per_kwp: PV output per kWp, kW/kWp (S, H).
    reactor, diesel, battery: components; fields of length S or 1.
    system_id: identifiers (S,); defaults to 0..S-1.
    """

    load_kw: np.ndarray
    pv_kw: np.ndarray
    pv_profile_kw_per_kwp: np.ndarray
    reactor: Reactor
    diesel: Diesel
    battery: Battery
    system_id: np.ndarray | None = None

    def __post_init__(self) -> None:
        load = np.asarray(self.load_kw, dtype=float)
        if load.ndim != 2 or load.shape[1] == 0:
            raise InputError(None, "load_kw", f"expected (systems, hours >= 1), got shape {load.shape}")
        n_systems = load.shape[0]
        profile = np.asarray(self.pv_profile_kw_per_kwp, dtype=float)
        if profile.shape != load.shape:
            raise InputError(
                None, "pv_profile_kw_per_kwp", f"shape {profile.shape} differs from load {load.shape}"
            )
        for name, array in (("load_kw", load), ("pv_profile_kw_per_kwp", profile)):
            if not (np.all(np.isfinite(array)) and np.all(array >= 0)):
                raise InputError(None, name, "must be finite and >= 0")
        pv_kw = _as_vector(self.pv_kw, "pv_kw")
        if not np.all(pv_kw >= 0):
            raise InputError(None, "pv_kw", "must be >= 0 kWp")
        if pv_kw.size not in (1, n_systems):
            raise InputError(None, "pv_kw", f"has {pv_kw.size} values for {n_systems} systems")
        ids = np.arange(n_systems) if self.system_id is None else np.asarray(self.system_id)
        if ids.shape != (n_systems,):
            raise InputError(None, "system_id", f"expected {n_systems} identifiers, got shape {ids.shape}")
        object.__setattr__(self, "load_kw", load)
        object.__setattr__(self, "pv_profile_kw_per_kwp", profile)
        object.__setattr__(self, "pv_kw", np.broadcast_to(pv_kw, (n_systems,)).copy())
        object.__setattr__(self, "system_id", ids)
        for name in ("reactor", "diesel", "battery"):
            object.__setattr__(self, name, getattr(self, name).broadcast(n_systems))

    @property
    def n_systems(self) -> int:
        return self.load_kw.shape[0]

    @property
    def n_hours(self) -> int:
        return self.load_kw.shape[1]

    def take(self, index: np.ndarray) -> Systems:
        """The systems at ``index`` (integer or boolean array)."""
        assert self.system_id is not None, "set by __post_init__"
        return Systems(
            self.load_kw[index],
            self.pv_kw[index],
            self.pv_profile_kw_per_kwp[index],
            self.reactor.take(index),
            self.diesel.take(index),
            self.battery.take(index),
            self.system_id[index],
        )

    def with_diesel_units(self, n_units: np.ndarray) -> Systems:
        """The same systems with ``n_units`` diesel units each (whole numbers, (S,) or one value)."""
        return replace(self, diesel=replace(self.diesel, n_units=n_units))


@dataclass(frozen=True)
class HourlySeries:
    """Hourly results, each (S, H). Energies in kWh per hour (= mean kW); soc in kWh at the end of the
    hour; diesel_fuel_l in litres per hour."""

    load: np.ndarray
    reactor: np.ndarray
    pv: np.ndarray
    battery_charge: np.ndarray
    battery_discharge: np.ndarray
    soc: np.ndarray
    diesel: np.ndarray
    diesel_fuel_l: np.ndarray
    curtailment: np.ndarray
    unserved: np.ndarray


@dataclass(frozen=True)
class DispatchResult:
    """Outcome of a dispatch.

    system_id: identifiers (S,).
    totals: per-system sums indexed by system_id: load_kwh, reactor_kwh, pv_kwh, pv_used_kwh (PV less
        the curtailment taken from PV first), diesel_kwh, diesel_litres, battery_charge_kwh,
        battery_discharge_kwh, curtailment_kwh, unserved_kwh, hours_short (hours with unserved energy),
        reactor_rated_kw, n_hours.
    hourly: hourly series, or None when not kept: (S, H), or one row per `hourly_ids` when given.
    hourly_ids: the systems of the rows of `hourly` when they are not every system (None: all, in the
        order of system_id).
    """

    system_id: np.ndarray
    totals: pd.DataFrame
    hourly: HourlySeries | None
    hourly_ids: np.ndarray | None = None

    @classmethod
    def joined(cls, parts: Sequence[DispatchResult]) -> DispatchResult:
        """The totals of several results over disjoint systems, one after another (no hourly series)."""
        return cls(np.concatenate([p.system_id for p in parts]), pd.concat([p.totals for p in parts]), None)

    def summary(self, *, diesel_price_usd_per_litre: float | np.ndarray, co2_kg_per_litre: float) -> pd.DataFrame:
        """Per-system summary indexed by system_id.

        Columns: unserved_kwh, unserved_fraction (of annual load), hours_short, diesel_litres,
        diesel_cost_usd (litres x ``diesel_price_usd_per_litre``, USD/L, one price or one per system), curtailment_kwh,
        reactor_capacity_factor (reactor energy / (rated kW x hours); NaN without a reactor),
        renewable_share (PV energy put to use / all generation put to use, i.e. reactor + PV + diesel -
        curtailment, energy delivered to the load or the battery; curtailment is taken from PV first
        because the reactor and diesel are at their minimum whenever energy is dumped),
        emissions_t_co2 (litres x
        ``co2_kg_per_litre``, kg CO2/L, / 1000), followed by the energy totals.
        """
        t = self.totals
        load = t["load_kwh"].to_numpy()
        used = (t["reactor_kwh"] + t["pv_kwh"] + t["diesel_kwh"] - t["curtailment_kwh"]).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            unserved_fraction = np.where(load > 0, t["unserved_kwh"] / load, 0.0)
            renewable_share = np.where(used > 0, t["pv_used_kwh"] / used, 0.0)
            rated_kwh = t["reactor_rated_kw"].to_numpy() * t["n_hours"].to_numpy()
            capacity_factor = np.where(rated_kwh > 0, t["reactor_kwh"] / rated_kwh, np.nan)
        summary = pd.DataFrame(
            {
                "unserved_kwh": t["unserved_kwh"],
                "unserved_fraction": unserved_fraction,
                "hours_short": t["hours_short"],
                "diesel_litres": t["diesel_litres"],
                "diesel_cost_usd": t["diesel_litres"] * diesel_price_usd_per_litre,
                "curtailment_kwh": t["curtailment_kwh"],
                "reactor_capacity_factor": capacity_factor,
                "renewable_share": renewable_share,
                "emissions_t_co2": t["diesel_litres"] * co2_kg_per_litre / KG_PER_TONNE,
            },
            index=t.index,
        )
        extra = t.drop(columns=[c for c in t.columns if c in summary.columns])
        return summary.join(extra)


# ---------------------------------------------------------------------------------------------------
# Reactor availability


def _interval_mask(start_h: np.ndarray, stop_h: np.ndarray, n_hours: int) -> np.ndarray:
    """Hours covered by intervals [start, stop), (S, K) in hours from the window start, as (S, H) bool.

    Interval ends are rounded to whole hours and clipped to the window; empty intervals cover nothing.
    """
    n_systems, n_intervals = start_h.shape
    start = np.clip(np.rint(start_h), 0, n_hours).astype(np.int64)
    stop = np.clip(np.rint(stop_h), 0, n_hours).astype(np.int64)
    stop = np.maximum(stop, start)
    rows = np.repeat(np.arange(n_systems), n_intervals) * (n_hours + 1)
    size = n_systems * (n_hours + 1)
    edges = np.bincount(rows + start.ravel(), minlength=size) - np.bincount(
        rows + stop.ravel(), minlength=size
    )
    return np.cumsum(edges.reshape(n_systems, n_hours + 1), axis=1)[:, :n_hours] > 0


def _scheduled_outages(reactor: Reactor, module: int, operating_year: int, n_hours: int) -> np.ndarray:
    """(S, H) bool: hours of the simulated year in which module ``module`` is in a scheduled outage."""
    interval_h = reactor.refuelling_interval_years * HOURS_PER_YEAR
    has_schedule = (interval_h > 0) & (reactor.outage_days > 0) & (module < reactor.n_modules)
    if not np.any(has_schedule):
        return np.zeros((has_schedule.size, n_hours), dtype=bool)
    # Systems without a schedule get a placeholder interval of one year; their outages are masked below.
    interval_h = np.where(has_schedule, interval_h, HOURS_PER_YEAR)
    duration_h = reactor.outage_days * HOURS_PER_DAY
    phase = module / np.maximum(reactor.n_modules, 1)
    window_start = operating_year * HOURS_PER_YEAR
    # Outage k starts at (k - phase) * interval; the first that can still overlap the window:
    k_first = np.maximum(np.ceil((window_start - duration_h) / interval_h + phase), 1)
    # Outages starting within (window start - duration, window end): spans (H + duration) / interval + 1.
    spans = (n_hours + duration_h[has_schedule]) / interval_h[has_schedule]
    k = k_first[:, None] + np.arange(int(np.ceil(spans.max())) + 1)[None, :]
    start = (k - phase[:, None]) * interval_h[:, None] - window_start
    start = np.where(has_schedule[:, None], start, n_hours)
    return _interval_mask(start, start + duration_h[:, None], n_hours)


def _forced_outages(reactor: Reactor, module: int, n_hours: int, rng: np.random.Generator) -> np.ndarray:
    """(S, H) bool: hours in which module ``module`` is on forced outage (alternating renewal process)."""
    rate = np.where(module < reactor.n_modules, reactor.forced_outage_rate, 0.0)
    active = rate > 0
    n_systems = rate.size
    if not np.any(active):
        return np.zeros((n_systems, n_hours), dtype=bool)
    # Inactive systems get placeholder durations of 1 h; their draws are masked out below.
    repair_h = np.where(active, reactor.mean_repair_hours, 1.0)
    service_h = np.where(active, repair_h * (1 - rate) / np.where(active, rate, 1.0), 1.0)
    expected_cycles = np.max(n_hours / (service_h + repair_h), where=active, initial=0.0)
    cycles = int(np.ceil(2 * expected_cycles)) + 4
    while True:
        starts_down = rng.random(n_systems) < rate
        up = rng.exponential(1.0, (n_systems, cycles)) * service_h[:, None]
        down = rng.exponential(1.0, (n_systems, cycles)) * repair_h[:, None]
        up[:, 0] = np.where(starts_down, 0.0, up[:, 0])
        stop = np.cumsum(up, axis=1) + np.cumsum(down, axis=1)
        if np.all((stop[:, -1] >= n_hours) | ~active):
            break
        cycles *= 2
    start = np.where(active[:, None], stop - down, n_hours)
    return _interval_mask(start, stop, n_hours)


def reactor_modules_available(
    reactor: Reactor, *, operating_year: int, seed: int, n_hours: int = HOURS_PER_YEAR
) -> np.ndarray:
    """Reactor modules in service in each hour, (S, H) float of whole numbers.

    Parameters
    ----------
    reactor : Reactor
        Plant of each system (S,): modules, refuelling interval (years) and outage (days), forced outage
        rate (fraction of time) and mean repair time (h).
    operating_year : int
        Year of operation simulated, 0 = the first; fixes where the staggered refuelling outages fall
        (see the module docstring).
    seed : int
        Seed of the forced-outage draws; the same reactor arrays and seed give the same result.
    n_hours : int, default 8760
        Hours simulated from the start of that year.

    Returns
    -------
    numpy.ndarray
        (S, H) modules in service in each hour (0 for systems without a reactor).

    Raises
    ------
    InputError
        When `operating_year` is negative.
    """
    if operating_year < 0:
        raise InputError(None, "operating_year", "must be >= 0")
    rng = np.random.default_rng(seed)
    available = np.zeros((reactor.module_kw.size, n_hours))
    for module in range(int(reactor.n_modules.max(initial=0))):
        out = _scheduled_outages(reactor, module, operating_year, n_hours)
        out |= _forced_outages(reactor, module, n_hours, rng)
        available += (module < reactor.n_modules)[:, None] & ~out
    return available


# ---------------------------------------------------------------------------------------------------
# Rule-based simulation


def _compiled():
    """The compiled dispatch rule (`smrplan.dispatch.kernel`), imported when a dispatch first runs so
    that runs without one do not pay numba's import."""
    from smrplan.dispatch import kernel

    return kernel


@dataclass(frozen=True)
class _Inputs:
    """What the compiled rule reads, made once per call: load and PV profile (S, H), PV kWp (S,), the
    reactor capacity online (kW) of the first K systems, (K, H), K = `Reactor.leading_systems` (beyond
    them no reactor runs), and the per-system constants (S, P), columns `kernel.PARAMETERS`."""

    load: np.ndarray
    profile: np.ndarray
    pv_kw: np.ndarray
    capacity: np.ndarray
    constants: np.ndarray

    @classmethod
    def of(cls, systems: Systems, available: np.ndarray) -> _Inputs:
        r, d, b = systems.reactor, systems.diesel, systems.battery
        k = r.leading_systems
        eta = b.one_way_efficiency
        columns = {
            "reactor_min": r.min_load_fraction, "reactor_ramp": r.ramp_fraction_per_hour, "unit_kw": d.unit_kw,
            "inv_unit_kw": np.divide(1.0, d.unit_kw, out=np.zeros_like(d.unit_kw), where=d.unit_kw > 0),
            "diesel_min": d.min_load_fraction, "fuel_intercept": d.intercept_l_per_kwh_rated,
            "fuel_slope": d.slope_l_per_kwh, "battery_kw": b.power_kw, "battery_kwh": b.energy_kwh,
            "soc_min_kwh": b.min_soc_fraction * b.energy_kwh, "eta": eta,
            "inv_eta": np.divide(1.0, eta, out=np.zeros_like(eta), where=eta > 0),
            "soc_initial_kwh": b.initial_soc_fraction * b.energy_kwh,
        }
        constants = np.column_stack([columns[name] for name in _compiled().PARAMETERS])
        capacity = np.ascontiguousarray(available[:k] * r.module_kw[:k, None])
        return cls(np.ascontiguousarray(systems.load_kw), np.ascontiguousarray(systems.pv_profile_kw_per_kwp),
                   systems.pv_kw, capacity, constants)

    @property
    def pv(self) -> np.ndarray:
        """PV output, kW (S, H)."""
        return self.profile * self.pv_kw[:, None]


def _run(inputs: _Inputs, rows: np.ndarray, n_units: np.ndarray, keep_hourly: bool
         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """The dispatch of the systems at `rows` with `n_units` diesel units each: per-system totals
    (`kernel.TOTALS`) and, with `keep_hourly`, their (R, H) series (`kernel.SERIES`)."""
    kernel = _compiled()
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n_hours = inputs.load.shape[1]
    totals = np.empty((rows.size, len(kernel.TOTALS)))
    hourly = np.empty((len(kernel.SERIES), rows.size if keep_hourly else 0, n_hours))
    kernel.dispatch(inputs.load, inputs.profile, inputs.pv_kw, inputs.capacity, rows,
                    np.ascontiguousarray(n_units, dtype=float), inputs.constants, TOLERANCE_KW, totals, hourly)
    sums = {name: totals[:, i] for i, name in enumerate(kernel.TOTALS)}
    sums["hours_short"] = sums["hours_short"].astype(np.int64)
    return sums, ({name: hourly[i] for i, name in enumerate(kernel.SERIES)} if keep_hourly else None)


def _result(systems: Systems, totals: dict[str, np.ndarray], inputs: _Inputs,
            hourly: dict[str, np.ndarray] | None) -> DispatchResult:
    assert systems.system_id is not None, "set by Systems.__post_init__"
    frame = pd.DataFrame(totals, index=pd.Index(systems.system_id, name="system_id"))
    frame["reactor_rated_kw"] = systems.reactor.rated_kw
    frame["n_hours"] = systems.n_hours
    series = None if hourly is None else HourlySeries(load=inputs.load, pv=inputs.pv, **hourly)
    return DispatchResult(systems.system_id, frame, series)


def _check_availability(systems: Systems, modules_available: np.ndarray) -> np.ndarray:
    available = np.asarray(modules_available, dtype=float)
    if available.shape != systems.load_kw.shape:
        raise InputError(
            None, "modules_available", f"shape {available.shape} differs from load {systems.load_kw.shape}"
        )
    if np.any(available < 0) or np.any(available > systems.reactor.n_modules[:, None]):
        raise InputError(None, "modules_available", "must lie between 0 and n_modules")
    return available


def simulate(systems: Systems, modules_available: np.ndarray, *, keep_hourly: bool = True) -> DispatchResult:
    """Rule-based hourly dispatch of all systems at once (rule in the module docstring).

    Parameters
    ----------
    systems : Systems
        The S systems and their hourly load (kW) and PV profile (kW/kWp).
    modules_available : numpy.ndarray
        Reactor modules in service per hour, (S, H), e.g. from `reactor_modules_available`.
    keep_hourly : bool, default True
        Keep the hourly series (about 10 x 8 bytes x S x H of memory); totals are always kept.

    Returns
    -------
    DispatchResult
        Per-system totals over the H hours (kWh, litres, hours short) and, with `keep_hourly`, the
        hourly series (kWh per hour).

    Raises
    ------
    InputError
        When `modules_available` does not have the shape of the load or lies outside 0..n_modules.
    """
    inputs = _Inputs.of(systems, _check_availability(systems, modules_available))
    totals, hourly = _run(inputs, np.arange(systems.n_systems), systems.diesel.n_units, keep_hourly)
    return _result(systems, totals, inputs, hourly)


# ---------------------------------------------------------------------------------------------------
# Back-up sizing


def _allowed_unserved_kwh(systems: Systems, max_unserved_fraction: npt.ArrayLike) -> np.ndarray:
    """Unserved energy (kWh) each system may have over its hours to meet the target; checks the inputs."""
    if np.any(systems.diesel.unit_kw <= 0):
        raise InputError(None, "diesel.unit_kw", "must be > 0 kW for every system to size back-up")
    target = np.broadcast_to(_as_vector(max_unserved_fraction, "max_unserved_fraction"), (systems.n_systems,))
    if np.any((target < 0) | (target > 1)):
        raise InputError(None, "max_unserved_fraction", "must be in [0, 1]")
    return target * systems.load_kw.sum(axis=1) + TOLERANCE_KW * systems.n_hours


def _bisect_units(systems: Systems, inputs: _Inputs, allowed_kwh: np.ndarray,
                  unserved_without_diesel: np.ndarray | None = None) -> np.ndarray:
    """The bisection of `size_backup`: (S,) int units. Each round simulates only the systems still
    unresolved; the first (no diesel) skips the systems whose unserved energy without diesel (kWh, NaN
    where not known) is given."""

    def meets_target(index: np.ndarray, units: np.ndarray) -> np.ndarray:
        totals, _ = _run(inputs, index, units, False)
        return totals["unserved_kwh"] <= allowed_kwh[index]

    high = np.ceil(systems.load_kw.max(axis=1, initial=0.0) / systems.diesel.unit_kw)
    low = np.full(systems.n_systems, -1.0)
    everyone = np.arange(systems.n_systems)
    known = np.full(systems.n_systems, np.nan) if unserved_without_diesel is None else unserved_without_diesel
    zero_ok = known <= allowed_kwh
    unknown = everyone[np.isnan(known)]
    if unknown.size:
        zero_ok[unknown] = meets_target(unknown, np.zeros(unknown.size))
    high[zero_ok] = 0.0
    low[~zero_ok] = 0.0
    while np.any(high - low > 1):
        index = everyone[high - low > 1]
        mid = np.floor((low[index] + high[index]) / 2)
        ok = meets_target(index, mid)
        high[index[ok]] = mid[ok]
        low[index[~ok]] = mid[~ok]
    return high.astype(np.int64)


def size_backup(
    systems: Systems, modules_available: np.ndarray, *, max_unserved_fraction: npt.ArrayLike
) -> np.ndarray:
    """Fewest diesel units per system keeping unserved energy at most ``max_unserved_fraction`` of load.

    Bisection over unit counts on all unresolved systems at once: 0 units is tried first, and
    ceil(peak load / unit_kw) units always suffice (diesel alone then covers any deficit). The answer
    meets the target and one unit fewer does not; it is the smallest such count when unserved energy
    does not rise with more units, which the dispatch rule gives in practice.

    Parameters
    ----------
    systems : Systems
        The systems; their diesel ``unit_kw`` (kW, > 0 for every system) and fuel/min-load data are
        used, their ``n_units`` is ignored.
    modules_available : numpy.ndarray
        Reactor modules in service per hour, (S, H).
    max_unserved_fraction : float or array_like
        Reliability target, fraction of the load energy over the simulated hours (e.g. 0.001), one
        value or (S,).

    Returns
    -------
    numpy.ndarray
        The number of diesel units, (S,) int.

    Raises
    ------
    InputError
        When a ``unit_kw`` is not positive, `max_unserved_fraction` is outside [0, 1], or
        `modules_available` does not fit the systems.
    """
    available = _check_availability(systems, modules_available)
    allowed_kwh = _allowed_unserved_kwh(systems, max_unserved_fraction)
    return _bisect_units(systems, _Inputs.of(systems, available), allowed_kwh)


def simulate_with_backup(
    systems: Systems, modules_available: np.ndarray, *, max_unserved_fraction: npt.ArrayLike, keep_hourly: bool = True
) -> tuple[DispatchResult, np.ndarray, DispatchResult]:
    """The systems as planned, the back-up units they need and the systems with that back-up.

    The same as `simulate` (as planned, totals only), `size_backup` and `simulate` again (hourly series
    kept) with ``max(needed, planned)`` units, on one set of prepared inputs. Systems whose plan
    never commits diesel skip the sizing's trial without diesel (it is the dispatch as planned), and
    where no system's units change the first dispatch is the final one and is not repeated.

    Parameters
    ----------
    systems : Systems
        The systems with their planned diesel units (``diesel.n_units``; ``unit_kw`` > 0 kW each).
    modules_available : numpy.ndarray
        Reactor modules in service per hour, (S, H).
    max_unserved_fraction : float or array_like
        Reliability target, fraction of the load energy (one value or (S,)).
    keep_hourly : bool
        Keep the final dispatch's hourly series.

    Returns
    -------
    planned : DispatchResult
        Totals of the dispatch as planned (no hourly series).
    needed : numpy.ndarray
        (S,) int diesel units of `size_backup`.
    final : DispatchResult
        The dispatch with ``max(needed, planned)`` units, hourly series kept with `keep_hourly`.

    Raises
    ------
    InputError
        As `size_backup`.
    """
    available = _check_availability(systems, modules_available)
    allowed_kwh = _allowed_unserved_kwh(systems, max_unserved_fraction)
    inputs = _Inputs.of(systems, available)
    everyone = np.arange(systems.n_systems)
    totals, hourly = _run(inputs, everyone, systems.diesel.n_units, keep_hourly)
    planned = _result(systems, totals, inputs, None)
    # Where the plan never commits diesel, the dispatch without diesel is the same one.
    without_diesel = (totals["diesel_kwh"] == 0) | (systems.diesel.n_units == 0)
    needed = _bisect_units(systems, inputs, allowed_kwh, np.where(without_diesel, totals["unserved_kwh"], np.nan))
    final_units = np.maximum(needed, systems.diesel.n_units)
    if np.array_equal(final_units, systems.diesel.n_units):
        return planned, needed, _result(systems, totals, inputs, hourly)
    del hourly  # freed before the final dispatch allocates its own series
    totals, hourly = _run(inputs, everyone, final_units, keep_hourly)
    return planned, needed, _result(systems, totals, inputs, hourly)


# ---------------------------------------------------------------------------------------------------
# Output


def write_dispatch_parquet(result: DispatchResult, path: str | Path, systems: Sequence[str] | None = None) -> Path:
    """Write the hourly series in long form to ``path`` (e.g. ``<run>/dispatch.parquet``).

    Columns: system_id, hour (0..H-1, int16 or int32), then one float32 column per series of
    `HourlySeries` (kWh per hour; soc kWh; diesel_fuel_l litres). Units are stored in the schema metadata.
    Written in row groups of a few systems, so memory stays small; zstd with byte-stream-split float
    columns halves the file against the default snappy (measured on the india-islands run: 2.1 MB ->
    1.1 MB).

    Parameters
    ----------
    result : DispatchResult
        A dispatch kept hour by hour (``keep_hourly=True``).
    path : str or Path
        The file written (its folder is made).
    systems : sequence of str, optional
        Ids of the systems written, in the result's order; every system when None.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    InputError
        When the result has no hourly series.
    """
    if result.hourly is None:
        raise InputError(None, "hourly", "the result has no hourly series; simulate with keep_hourly=True")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(HourlySeries)]
    n_hours = result.hourly.load.shape[1]
    row_ids = result.system_id if result.hourly_ids is None else result.hourly_ids
    rows = (np.arange(len(row_ids)) if systems is None
            else np.flatnonzero(np.isin(row_ids.astype(str), np.asarray(list(systems), dtype=str))))
    hour_type = np.int16 if n_hours <= np.iinfo(np.int16).max else np.int32
    hour = np.arange(n_hours, dtype=hour_type)
    ids = pa.array(row_ids)
    schema = pa.schema(
        [("system_id", ids.type), ("hour", pa.from_numpy_dtype(hour_type))]
        + [(name, pa.float32()) for name in names],
        metadata={f"unit.{name}": unit for name, unit in SERIES_UNITS.items()},
    )
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=["system_id", "hour"],
                          use_byte_stream_split=names) as writer:
        for first in range(0, len(rows), _PARQUET_SYSTEMS_PER_GROUP):
            chunk = rows[first:first + _PARQUET_SYSTEMS_PER_GROUP]
            count = len(chunk)
            columns = {
                "system_id": pa.array(np.repeat(row_ids[chunk], n_hours), type=ids.type),
                "hour": np.tile(hour, count),
            }
            for name in names:
                columns[name] = getattr(result.hourly, name)[chunk].astype(np.float32).ravel()
            writer.write_table(pa.table(columns, schema=schema))
    return path
