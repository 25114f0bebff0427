"""Tests of the hourly dispatch: hand-built cases, energy balance and property tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smrplan.dispatch.simulate import (
    Battery,
    Diesel,
    HourlySeries,
    Reactor,
    Systems,
    reactor_modules_available,
    simulate,
    simulate_with_backup,
    size_backup,
    write_dispatch_parquet,
)
from smrplan.errors import InputError
from smrplan.units import HOURS_PER_YEAR

BALANCE_TOLERANCE_KWH = 1e-6


def reactor(**overrides) -> Reactor:
    values = dict(
        module_kw=1000.0,
        n_modules=1,
        min_load_fraction=0.3,
        ramp_fraction_per_hour=1.0,
        refuelling_interval_years=1.5,
        outage_days=30.0,
        forced_outage_rate=0.0,
        mean_repair_hours=0.0,
    )
    values.update(overrides)
    return Reactor(**values)


def diesel(**overrides) -> Diesel:
    values = dict(
        unit_kw=100.0, n_units=0, min_load_fraction=0.3, intercept_l_per_kwh_rated=0.08, slope_l_per_kwh=0.25
    )
    values.update(overrides)
    return Diesel(**values)


def battery(**overrides) -> Battery:
    values = dict(
        energy_kwh=100.0,
        power_kw=50.0,
        round_trip_efficiency=0.81,
        min_soc_fraction=0.2,
        initial_soc_fraction=0.5,
    )
    values.update(overrides)
    return Battery(**values)


def flat_systems(load_kw: float, n_hours: int = HOURS_PER_YEAR, **components) -> Systems:
    parts = dict(reactor=Reactor.absent(1), diesel=Diesel.absent(1), battery=Battery.absent(1))
    parts.update(components)
    load = np.full((1, n_hours), load_kw)
    return Systems(load, 0.0, np.zeros_like(load), **parts)


def imbalance(h: HourlySeries) -> np.ndarray:
    supply = h.reactor + h.pv + h.diesel + h.battery_discharge + h.unserved
    return supply - (h.load + h.battery_charge + h.curtailment)


# ---------------------------------------------------------------------------------------------------
# Reactor outages


def test_two_module_plant_covers_one_module_refuelling_outage():
    systems = flat_systems(800.0, reactor=reactor(n_modules=2, ramp_fraction_per_hour=0.5))
    for year in range(4):
        available = reactor_modules_available(systems.reactor, operating_year=year, seed=0)
        result = simulate(systems, available)
        assert available.min() >= 1, "staggered modules must not refuel at the same time"
        assert result.totals["unserved_kwh"].iloc[0] == 0.0
        assert np.abs(imbalance(result.hourly)).max() < BALANCE_TOLERANCE_KWH
    # Year 1: module 0 refuels 1.5 years after start, i.e. from hour 4380 of year 1, for 30 days.
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=0)
    assert np.flatnonzero(available[0] < 2).tolist() == list(range(4380, 4380 + 720))


def test_single_module_without_backup_loses_exactly_the_outage_energy():
    load_kw = 500.0
    systems = flat_systems(load_kw, reactor=reactor(n_modules=1))
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=0)
    outage_hours = 30 * 24
    assert (available == 0).sum() == outage_hours
    summary = simulate(systems, available).summary(diesel_price_usd_per_litre=1.0, co2_kg_per_litre=2.7)
    assert summary["unserved_kwh"].iloc[0] == pytest.approx(load_kw * outage_hours, abs=1e-6)
    assert summary["hours_short"].iloc[0] == outage_hours
    assert summary["reactor_capacity_factor"].iloc[0] == pytest.approx(
        load_kw * (HOURS_PER_YEAR - outage_hours) / (1000.0 * HOURS_PER_YEAR)
    )


def test_scheduled_outages_are_staggered_one_per_module_per_interval():
    plant = reactor(n_modules=4, refuelling_interval_years=2.0, outage_days=30.0)
    out_hours = [4 - reactor_modules_available(plant, operating_year=year, seed=0) for year in range(4)]
    assert all(o.max() <= 1 for o in out_hours), "never two modules out at once"
    # Outage starts (k - m/4) x 2 years before year 4: module 0 once, modules 1-3 twice each.
    assert sum(o.sum() for o in out_hours) == 7 * 720


def test_forced_outages_reproducible_and_at_the_given_rate():
    n = 400
    plant = reactor(
        n_modules=2,
        refuelling_interval_years=0.0,
        outage_days=0.0,
        forced_outage_rate=0.1,
        mean_repair_hours=50.0,
    ).broadcast(n)
    first = reactor_modules_available(plant, operating_year=0, seed=7)
    again = reactor_modules_available(plant, operating_year=0, seed=7)
    other = reactor_modules_available(plant, operating_year=0, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    unavailable = 1 - first.mean() / 2
    assert unavailable == pytest.approx(0.1, abs=0.01)
    # Outages last many hours on average (not independent hourly draws).
    starts = (np.diff(first, axis=1) < 0).sum()
    assert (2 * first.size - first.sum()) / starts == pytest.approx(50.0, rel=0.2)


# ---------------------------------------------------------------------------------------------------
# Diesel and battery by hand


def test_diesel_fuel_follows_affine_curve_by_hand():
    load = np.array([[50.0, 150.0, 250.0, 20.0, 400.0]])
    systems = Systems(load, 0.0, np.zeros_like(load), Reactor.absent(1), diesel(n_units=3), Battery.absent(1))
    result = simulate(systems, np.zeros_like(load))
    h = result.hourly
    # Units online: 1, 2, 3, 1 (at 30 % minimum load: 30 kW for 20 kW, 10 kW dumped), 3 (capped).
    online_kw = np.array([100.0, 200.0, 300.0, 100.0, 300.0])
    output_kw = np.array([50.0, 150.0, 250.0, 30.0, 300.0])
    np.testing.assert_allclose(h.diesel[0], output_kw)
    np.testing.assert_allclose(h.diesel_fuel_l[0], 0.08 * online_kw + 0.25 * output_kw)
    np.testing.assert_allclose(h.curtailment[0], [0, 0, 0, 10.0, 0])
    np.testing.assert_allclose(h.unserved[0], [0, 0, 0, 0, 100.0])
    litres = (0.08 * online_kw + 0.25 * output_kw).sum()
    summary = result.summary(diesel_price_usd_per_litre=1.2, co2_kg_per_litre=2.68)
    assert summary["diesel_litres"].iloc[0] == pytest.approx(litres)
    assert summary["diesel_cost_usd"].iloc[0] == pytest.approx(1.2 * litres)
    assert summary["emissions_t_co2"].iloc[0] == pytest.approx(2.68 * litres / 1000)
    assert np.isnan(summary["reactor_capacity_factor"].iloc[0])


def test_battery_by_hand():
    # eta = sqrt(0.81) = 0.9 each way; store 100 kWh, 50 kW, 20 kWh minimum, starts at 50 kWh.
    load = np.array([[0.0, 0.0, 100.0, 100.0]])
    profile = np.array([[1.0, 1.0, 0.0, 0.0]])
    systems = Systems(load, 60.0, profile, Reactor.absent(1), Diesel.absent(1), battery())
    h = simulate(systems, np.zeros_like(load)).hourly
    np.testing.assert_allclose(h.battery_charge[0], [50.0, 5 / 0.9, 0, 0])
    np.testing.assert_allclose(h.curtailment[0], [10.0, 60 - 5 / 0.9, 0, 0])
    np.testing.assert_allclose(h.battery_discharge[0], [0, 0, 50.0, (100 - 50 / 0.9 - 20) * 0.9])
    np.testing.assert_allclose(h.soc[0], [95.0, 100.0, 100 - 50 / 0.9, 20.0])
    np.testing.assert_allclose(h.unserved[0], [0, 0, 50.0, 100 - (100 - 50 / 0.9 - 20) * 0.9])


def test_diesel_minimum_load_reduces_battery_discharge_first():
    # 120 kW deficit; battery gives 50 kW, the remaining 70 kW needs one 100 kW unit at >= 80 kW.
    load = np.array([[120.0]])
    systems = Systems(
        load,
        0.0,
        np.zeros_like(load),
        Reactor.absent(1),
        diesel(n_units=2, min_load_fraction=0.8),
        battery(initial_soc_fraction=1.0),
    )
    h = simulate(systems, np.zeros_like(load)).hourly
    assert h.diesel[0, 0] == pytest.approx(80.0)
    assert h.battery_discharge[0, 0] == pytest.approx(40.0)
    assert h.battery_charge[0, 0] == 0.0
    assert h.curtailment[0, 0] == 0.0


def test_reactor_ramp_and_minimum_load():
    # Load steps 900 -> 200 -> 900 kW; reactor 1000 kW, 50 %/h ramp, 40 % minimum.
    load = np.array([[900.0, 200.0, 200.0, 900.0]])
    systems = Systems(
        load,
        0.0,
        np.zeros_like(load),
        reactor(
            ramp_fraction_per_hour=0.5, min_load_fraction=0.4, refuelling_interval_years=0.0, outage_days=0.0
        ),
        Diesel.absent(1),
        Battery.absent(1),
    )
    h = simulate(systems, np.ones_like(load)).hourly
    np.testing.assert_allclose(h.reactor[0], [900.0, 400.0, 400.0, 900.0])
    np.testing.assert_allclose(h.curtailment[0], [0, 200.0, 200.0, 0])


# ---------------------------------------------------------------------------------------------------
# Many systems at once


def random_systems(rng: np.random.Generator, n_systems: int, n_hours: int) -> Systems:
    hours = np.arange(n_hours)
    shape = 0.7 + 0.3 * np.sin(2 * np.pi * (hours % 24) / 24)
    load = rng.uniform(50, 2000, (n_systems, 1)) * shape * rng.uniform(0.8, 1.2, (n_systems, n_hours))
    sun = np.clip(np.sin(np.pi * ((hours % 24) - 6) / 12), 0, None)
    profile = sun * rng.uniform(0.3, 0.9, (n_systems, n_hours))
    n = n_systems
    return Systems(
        load,
        rng.uniform(0, 2000, n) * rng.integers(0, 2, n),
        profile,
        Reactor(
            module_kw=rng.uniform(100, 1500, n),
            n_modules=rng.integers(0, 4, n),
            min_load_fraction=rng.uniform(0, 0.6, n),
            ramp_fraction_per_hour=rng.uniform(0.05, 1.0, n),
            refuelling_interval_years=rng.choice([0.0, 1.0, 1.5, 3.0], n),
            outage_days=rng.uniform(0, 40, n),
            forced_outage_rate=rng.uniform(0, 0.2, n),
            mean_repair_hours=rng.uniform(5, 200, n),
        ),
        Diesel(
            unit_kw=rng.uniform(50, 500, n),
            n_units=rng.integers(0, 5, n),
            min_load_fraction=rng.uniform(0, 0.5, n),
            intercept_l_per_kwh_rated=rng.uniform(0, 0.1, n),
            slope_l_per_kwh=rng.uniform(0.2, 0.3, n),
        ),
        Battery(
            energy_kwh=rng.uniform(0, 3000, n) * rng.integers(0, 2, n),
            power_kw=rng.uniform(0, 1000, n),
            round_trip_efficiency=rng.uniform(0.7, 1.0, n),
            min_soc_fraction=rng.uniform(0, 0.3, n),
            initial_soc_fraction=rng.uniform(0.3, 1.0, n),
        ),
        system_id=np.array([f"s{i}" for i in range(n)]),
    )


def check_invariants(systems: Systems, available: np.ndarray) -> None:
    result = simulate(systems, available)
    h = result.hourly
    assert np.abs(imbalance(result.hourly)).max() < BALANCE_TOLERANCE_KWH
    for name in ("reactor", "pv", "battery_charge", "battery_discharge", "diesel", "curtailment", "unserved"):
        assert getattr(h, name).min() >= -1e-9, name
    b = systems.battery
    assert np.all(h.soc >= (b.min_soc_fraction * b.energy_kwh)[:, None] - 1e-9)
    assert np.all(h.soc <= b.energy_kwh[:, None] + 1e-9)
    assert np.all(h.battery_charge <= b.power_kw[:, None] + 1e-9)
    assert np.all(h.battery_discharge <= b.power_kw[:, None] + 1e-9)
    assert not np.any((h.battery_charge > 1e-9) & (h.battery_discharge > 1e-9))
    assert np.all(h.reactor <= available * systems.reactor.module_kw[:, None] + 1e-9)
    assert np.all(h.diesel <= systems.diesel.rated_kw[:, None] + 1e-9)
    assert np.all(h.unserved <= h.load + 1e-9)
    summary = result.summary(diesel_price_usd_per_litre=1.0, co2_kg_per_litre=2.7)
    assert summary["renewable_share"].between(0, 1 + 1e-12).all()
    assert summary["unserved_fraction"].between(0, 1 + 1e-12).all()
    without_hourly = simulate(systems, available, keep_hourly=False)
    assert without_hourly.hourly is None
    pd.testing.assert_frame_equal(without_hourly.totals, result.totals, rtol=1e-9)


def test_many_random_systems_full_year():
    systems = random_systems(np.random.default_rng(1), 40, HOURS_PER_YEAR)
    available = reactor_modules_available(systems.reactor, operating_year=2, seed=3)
    check_invariants(systems, available)


def test_systems_are_independent_of_the_batch():
    systems = random_systems(np.random.default_rng(2), 6, 500)
    available = reactor_modules_available(systems.reactor, operating_year=0, seed=1, n_hours=500)
    together = simulate(systems, available)
    for i in range(systems.n_systems):
        alone = simulate(systems.take(np.array([i])), available[i : i + 1])
        np.testing.assert_array_equal(alone.hourly.unserved[0], together.hourly.unserved[i])
        np.testing.assert_array_equal(alone.hourly.soc[0], together.hourly.soc[i])
        pd.testing.assert_frame_equal(alone.totals, together.totals.iloc[[i]])



def reference_dispatch(systems: Systems, available: np.ndarray) -> dict[str, np.ndarray]:
    """The dispatch rule written out plainly, one hour after another over (S,) arrays: the hourly
    series (S, H) the optimised `simulate` must reproduce exactly."""
    r, d, b = systems.reactor, systems.diesel, systems.battery
    eta = np.sqrt(b.round_trip_efficiency)
    inv_eta = np.divide(1.0, eta, out=np.zeros_like(eta), where=eta > 0)
    inv_unit = np.divide(1.0, d.unit_kw, out=np.zeros_like(d.unit_kw), where=d.unit_kw > 0)
    capacity = available * r.module_kw[:, None]
    pv = systems.pv_kw[:, None] * systems.pv_profile_kw_per_kwp
    net_all = systems.load_kw - pv
    out = {k: np.zeros_like(net_all) for k in ("reactor", "battery_charge", "battery_discharge", "soc", "diesel",
                                                 "diesel_fuel_l", "curtailment", "unserved")}
    reactor_kw = np.minimum(np.maximum(net_all[:, 0], r.min_load_fraction * capacity[:, 0]), capacity[:, 0])
    soc = b.initial_soc_fraction * b.energy_kwh
    for i in range(net_all.shape[1]):
        cap, net = capacity[:, i], net_all[:, i]
        step = r.ramp_fraction_per_hour * cap
        low = np.minimum(np.maximum(r.min_load_fraction * cap, reactor_kw - step), cap)
        high = np.maximum(np.minimum(cap, reactor_kw + step), low)
        reactor_kw = np.minimum(np.maximum(net, low), high)
        deficit, surplus = np.maximum(net - reactor_kw, 0.0), np.maximum(reactor_kw - net, 0.0)
        discharge = np.minimum(deficit, np.maximum(np.minimum(b.power_kw, (soc - b.min_soc_fraction * b.energy_kwh)
                                                              * eta), 0.0))
        need = deficit - discharge
        online = np.clip(np.ceil((need - 1e-9) * inv_unit), 0.0, d.n_units) * d.unit_kw
        served = np.minimum(need, online)
        diesel_kw = np.minimum(np.maximum(need, d.min_load_fraction * online), online)
        give_back = np.minimum(diesel_kw - served, discharge)
        discharge = discharge - give_back
        spare = surplus + diesel_kw - served - give_back
        charge = np.minimum(spare, np.maximum(np.minimum(b.power_kw, (b.energy_kwh - soc) * inv_eta), 0.0))
        soc = soc + charge * eta - discharge * inv_eta
        for key, value in (("reactor", reactor_kw), ("battery_charge", charge), ("battery_discharge", discharge),
                           ("soc", soc), ("diesel", diesel_kw), ("curtailment", spare - charge),
                           ("unserved", need - served),
                           ("diesel_fuel_l", d.intercept_l_per_kwh_rated * online + d.slope_l_per_kwh * diesel_kw)):
            out[key][:, i] = value
    return out


def test_simulate_reproduces_the_plain_hourly_loop():
    # Reactors, PV, batteries and diesel mixed, systems with a reactor neither first nor last.
    systems = random_systems(np.random.default_rng(5), 30, 2000)
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=2, n_hours=2000)
    expected = reference_dispatch(systems, available)
    result = simulate(systems, available)
    for name, series in expected.items():
        np.testing.assert_allclose(getattr(result.hourly, name), series, rtol=1e-12, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(result.totals["unserved_kwh"], expected["unserved"].sum(axis=1), rtol=1e-9)
    no_backup = systems.with_diesel_units(np.zeros(systems.n_systems))
    expected = reference_dispatch(no_backup, available)
    np.testing.assert_allclose(simulate(no_backup, available).hourly.soc, expected["soc"], rtol=1e-12, atol=1e-9)

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_systems=st.integers(1, 5),
    n_hours=st.integers(1, 300),
    year=st.integers(0, 6),
)
def test_property_energy_balance_and_limits(seed, n_systems, n_hours, year):
    systems = random_systems(np.random.default_rng(seed), n_systems, n_hours)
    available = reactor_modules_available(systems.reactor, operating_year=year, seed=seed, n_hours=n_hours)
    check_invariants(systems, available)


# ---------------------------------------------------------------------------------------------------
# Back-up sizing


def test_size_backup_by_hand():
    # System 0: one 1000 kW module with a 30-day outage, 500 kW load: needs 3 x 200 kW units.
    # System 1: no scheduled or forced outages: needs none.
    # System 2: no reactor, 450 kW load, target 0: 3 units.
    load = np.array([[500.0], [500.0], [450.0]]) * np.ones((3, HOURS_PER_YEAR))
    plant = Reactor(
        module_kw=[1000.0, 1000.0, 0.0],
        n_modules=[1, 1, 0],
        min_load_fraction=0.3,
        ramp_fraction_per_hour=1.0,
        refuelling_interval_years=[1.5, 0.0, 0.0],
        outage_days=[30.0, 0.0, 0.0],
        forced_outage_rate=0.0,
        mean_repair_hours=0.0,
    )
    systems = Systems(load, 0.0, np.zeros_like(load), plant, diesel(unit_kw=200.0), Battery.absent(3))
    available = reactor_modules_available(plant, operating_year=1, seed=0)
    units = size_backup(systems, available, max_unserved_fraction=0.001)
    np.testing.assert_array_equal(units, [3, 0, 3])
    # The outage loses 720 h / 8760 h = 8.2 % of the load; two units leave 100 kW x 720 h = 1.6 %.
    units = size_backup(systems, available, max_unserved_fraction=[0.02, 0.0, 0.0])
    np.testing.assert_array_equal(units, [2, 0, 3])
    units = size_backup(systems, available, max_unserved_fraction=[0.1, 0.0, 0.0])
    np.testing.assert_array_equal(units, [0, 0, 3])



def test_size_backup_gives_the_recorded_unit_counts():
    # Recorded from the plain bisection (one full simulation per round) before the dispatch was sped up.
    systems = random_systems(np.random.default_rng(11), 40, HOURS_PER_YEAR)
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=5)
    units = size_backup(systems, available, max_unserved_fraction=0.001)
    np.testing.assert_array_equal(units, [2, 2, 11, 1, 3, 3, 1, 1, 8, 3, 1, 4, 6, 0, 4, 7, 1, 3, 7, 4, 12, 2, 9, 8, 7,
                                          4, 0, 4, 3, 2, 10, 2, 0, 14, 11, 4, 2, 0, 10, 0])
    units = size_backup(systems, available, max_unserved_fraction=0.0)
    np.testing.assert_array_equal(units, [2, 3, 12, 1, 5, 12, 2, 1, 11, 4, 3, 4, 8, 0, 5, 7, 2, 4, 7, 4, 14, 2, 10, 10,
                                          8, 5, 0, 5, 4, 3, 11, 2, 0, 14, 12, 5, 2, 0, 11, 1])


@pytest.mark.parametrize("planned_units", [0, 20])
def test_simulate_with_backup_is_simulate_size_simulate(planned_units):
    # 0 planned units: most systems get more (the final dispatch is run again); 20: none does (reused).
    systems = random_systems(np.random.default_rng(8), 12, 1500)
    systems = systems.with_diesel_units(np.full(systems.n_systems, planned_units))
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=4, n_hours=1500)
    planned, needed, final = simulate_with_backup(systems, available, max_unserved_fraction=0.01)
    pd.testing.assert_frame_equal(planned.totals, simulate(systems, available, keep_hourly=False).totals)
    assert planned.hourly is None
    np.testing.assert_array_equal(needed, size_backup(systems, available, max_unserved_fraction=0.01))
    expected = simulate(systems.with_diesel_units(np.maximum(needed, planned_units)), available)
    pd.testing.assert_frame_equal(final.totals, expected.totals)
    for name in ("soc", "diesel", "unserved", "curtailment", "diesel_fuel_l", "reactor", "load", "pv"):
        np.testing.assert_array_equal(getattr(final.hourly, name), getattr(expected.hourly, name), err_msg=name)

@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), target=st.sampled_from([0.0, 0.001, 0.01, 0.05]))
def test_property_size_backup_is_the_fewest_meeting_the_target(seed, target):
    systems = random_systems(np.random.default_rng(seed), 4, 400)
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=seed, n_hours=400)
    units = size_backup(systems, available, max_unserved_fraction=target)
    allowed = target * systems.load_kw.sum(axis=1) + 1e-6

    def unserved(n_units: np.ndarray) -> np.ndarray:
        trial = systems.with_diesel_units(n_units)
        return simulate(trial, available, keep_hourly=False).totals["unserved_kwh"].to_numpy()

    assert np.all(unserved(units) <= allowed)
    fewer = units > 0
    assert np.all(unserved(np.maximum(units - 1, 0))[fewer] > allowed[fewer])


# ---------------------------------------------------------------------------------------------------
# Reference LP: the least-cost dispatch with full foresight bounds what the rule can achieve


LP_PRICES = dict(diesel_price_usd_per_litre=1.2, reactor_cost_usd_per_kwh=0.01, unserved_cost_usd_per_kwh=5.0)


def _lp_model(systems: Systems, available: np.ndarray, *, diesel_price_usd_per_litre: float,
              reactor_cost_usd_per_kwh: float, unserved_cost_usd_per_kwh: float, final_soc_at_least_initial: bool):
    """The linopy model of `least_cost_dispatch` and its PV series (kW), for the one system of `systems`."""
    import linopy
    import xarray as xr

    r, d, b = systems.reactor, systems.diesel, systems.battery
    hours = pd.RangeIndex(systems.n_hours, name="hour")

    def series(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, dtype=float), coords=[hours])

    load = series(systems.load_kw[0])
    pv = series(systems.pv_kw[0] * systems.pv_profile_kw_per_kwp[0])
    capacity = series(available * r.module_kw[0])
    battery_kw = float(b.power_kw[0]) if b.energy_kwh[0] > 0 else 0.0
    eta = float(b.one_way_efficiency[0]) if b.energy_kwh[0] > 0 else 1.0

    m = linopy.Model()
    reactor = m.add_variables(lower=r.min_load_fraction[0] * capacity, upper=capacity, name="reactor")
    online = m.add_variables(lower=0.0, upper=float(d.rated_kw[0]), coords=[hours], name="diesel_online")
    diesel = m.add_variables(lower=0.0, coords=[hours], name="diesel")
    charge = m.add_variables(lower=0.0, upper=battery_kw, coords=[hours], name="battery_charge")
    discharge = m.add_variables(lower=0.0, upper=battery_kw, coords=[hours], name="battery_discharge")
    soc = m.add_variables(lower=float(b.min_soc_fraction[0] * b.energy_kwh[0]), upper=float(b.energy_kwh[0]),
                          coords=[hours], name="soc")
    curtailment = m.add_variables(lower=0.0, coords=[hours], name="curtailment")
    unserved = m.add_variables(lower=0.0, upper=load, name="unserved")

    m.add_constraints(reactor + pv + diesel + discharge + unserved - charge - curtailment == load, name="balance")
    m.add_constraints(diesel <= online, name="diesel_max")
    m.add_constraints(diesel >= d.min_load_fraction[0] * online, name="diesel_min")
    later = hours[1:]

    def previous(var):
        """``var`` of the hour before, labelled with the hours 1..H-1."""
        return var.isel(hour=slice(None, -1)).assign_coords(hour=later)

    stored = soc - eta * charge + discharge / eta
    m.add_constraints(stored.sel(hour=later) - previous(soc) == 0, name="soc")
    initial_kwh = float(b.initial_soc_fraction[0] * b.energy_kwh[0])
    m.add_constraints(stored.sel(hour=hours[:1]) == initial_kwh, name="soc_first")
    if final_soc_at_least_initial:
        m.add_constraints(soc.sel(hour=hours[-1:]) >= initial_kwh, name="soc_final")
    ramp_hours = later[available[1:] == available[:-1]]
    if len(ramp_hours):
        step = (r.ramp_fraction_per_hour[0] * capacity).sel(hour=ramp_hours)
        change = reactor.sel(hour=ramp_hours) - previous(reactor).sel(hour=ramp_hours)
        m.add_constraints(change <= step, name="ramp_up")
        m.add_constraints(change >= -step, name="ramp_down")
    fuel = d.intercept_l_per_kwh_rated[0] * online + d.slope_l_per_kwh[0] * diesel
    m.add_objective(diesel_price_usd_per_litre * fuel.sum() + reactor_cost_usd_per_kwh * reactor.sum()
                    + unserved_cost_usd_per_kwh * unserved.sum())
    return m, pv.to_numpy()


def least_cost_dispatch(systems: Systems, modules_available: np.ndarray, *, final_soc_at_least_initial: bool = True,
                        **prices: float) -> HourlySeries:
    """Least-cost hourly dispatch of one system as a linear programme (linopy + HiGHS), (1, H) series.

    Minimises diesel_price_usd_per_litre (USD/L) x fuel (L) + reactor_cost_usd_per_kwh (USD/kWh) x reactor
    energy + unserved_cost_usd_per_kwh (USD/kWh) x unserved energy; curtailment is free. Same components as
    `simulate`, relaxed: diesel commitment is a continuous online capacity u (0 <= u <= installed kW) with
    output in [min_load_fraction x u, u] and fuel = intercept x u + slope x output (a lower bound on
    whole-unit commitment); the reactor ramp limit holds between hours with the same modules in service;
    the battery is charged with full foresight and, with `final_soc_at_least_initial`, ends the period at
    least as full as it started.
    """
    assert systems.n_systems == 1 and np.shape(modules_available) == systems.load_kw.shape
    d = systems.diesel
    model, pv = _lp_model(systems, np.asarray(modules_available, dtype=float)[0],
                          final_soc_at_least_initial=final_soc_at_least_initial, **prices)
    status, condition = model.solve(solver_name="highs", io_api="direct", progress=False, output_flag=False)
    assert status == "ok", condition

    def solved(name: str) -> np.ndarray:
        return model.variables[name].solution.to_numpy()[None, :]

    return HourlySeries(
        load=systems.load_kw.copy(), reactor=solved("reactor"), pv=pv[None, :], battery_charge=solved("battery_charge"),
        battery_discharge=solved("battery_discharge"), soc=solved("soc"), diesel=solved("diesel"),
        diesel_fuel_l=d.intercept_l_per_kwh_rated[0] * solved("diesel_online") + d.slope_l_per_kwh[0] * solved("diesel"),
        curtailment=solved("curtailment"), unserved=solved("unserved"))


def objective(h: HourlySeries) -> float:
    return float(h.diesel_fuel_l.sum() * LP_PRICES["diesel_price_usd_per_litre"]
                 + h.reactor.sum() * LP_PRICES["reactor_cost_usd_per_kwh"]
                 + h.unserved.sum() * LP_PRICES["unserved_cost_usd_per_kwh"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lp_balances_and_costs_no_more_than_the_rule(seed):
    rng = np.random.default_rng(seed)
    systems = random_systems(rng, 1, 168)
    systems = systems.with_diesel_units(np.array([3.0]))
    available = reactor_modules_available(systems.reactor, operating_year=1, seed=seed, n_hours=168)
    lp = least_cost_dispatch(systems, available, final_soc_at_least_initial=False, **LP_PRICES)
    rule = simulate(systems, available)
    assert np.abs(imbalance(lp)).max() < BALANCE_TOLERANCE_KWH
    b = systems.battery
    assert lp.soc.min() >= b.min_soc_fraction[0] * b.energy_kwh[0] - 1e-6
    assert lp.soc.max() <= b.energy_kwh[0] + 1e-6
    assert objective(lp) <= objective(rule.hourly) * (1 + 1e-7) + 1e-6


def test_lp_keeps_final_soc_and_reactor_limits():
    load = np.full((1, 48), 600.0)
    systems = Systems(
        load,
        0.0,
        np.zeros_like(load),
        reactor(module_kw=500.0, refuelling_interval_years=0.0, outage_days=0.0, min_load_fraction=0.5),
        diesel(n_units=2),
        battery(energy_kwh=400.0, power_kw=100.0),
    )
    h = least_cost_dispatch(systems, np.ones_like(load), **LP_PRICES)
    assert h.soc[0, -1] >= 0.5 * 400.0 - 1e-6
    np.testing.assert_allclose(h.reactor[0], 500.0, atol=1e-6)
    assert h.unserved.sum() == pytest.approx(0.0, abs=1e-6)
    # Without a final-state condition the stored energy above the minimum replaces diesel.
    free = least_cost_dispatch(systems, np.ones_like(load), final_soc_at_least_initial=False, **LP_PRICES)
    assert free.diesel.sum() == pytest.approx(h.diesel.sum() - (200.0 - 80.0) * 0.9, abs=1e-4)


# ---------------------------------------------------------------------------------------------------
# Output and validation


def test_parquet_long_form(tmp_path):
    systems = random_systems(np.random.default_rng(4), 70, 100)
    available = reactor_modules_available(systems.reactor, operating_year=0, seed=0, n_hours=100)
    result = simulate(systems, available)
    path = write_dispatch_parquet(result, tmp_path / "run" / "dispatch.parquet")
    frame = pd.read_parquet(path)
    assert len(frame) == 70 * 100
    assert list(frame.columns[:2]) == ["system_id", "hour"]
    assert {
        "load",
        "reactor",
        "pv",
        "battery_charge",
        "battery_discharge",
        "soc",
        "diesel",
        "curtailment",
        "unserved",
    } <= set(frame.columns)
    row = frame[(frame["system_id"] == "s65") & (frame["hour"] == 42)].iloc[0]
    assert row["soc"] == pytest.approx(result.hourly.soc[65, 42], rel=1e-6)
    assert frame["unserved"].dtype == np.float32


def test_parquet_needs_hourly(tmp_path):
    systems = random_systems(np.random.default_rng(4), 2, 10)
    result = simulate(systems, np.zeros((2, 10)), keep_hourly=False)
    with pytest.raises(InputError, match="keep_hourly"):
        write_dispatch_parquet(result, tmp_path / "dispatch.parquet")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: reactor(refuelling_interval_years=0.5), "reactor.refuelling_interval_years"),
        (lambda: reactor(forced_outage_rate=0.1, mean_repair_hours=0.0), "reactor.mean_repair_hours"),
        (lambda: reactor(n_modules=1.5), "reactor.n_modules"),
        (lambda: diesel(min_load_fraction=1.5), "diesel.min_load_fraction"),
        (lambda: battery(round_trip_efficiency=0.0), "battery.round_trip_efficiency"),
        (lambda: battery(initial_soc_fraction=0.1), "battery.initial_soc_fraction"),
    ],
)
def test_invalid_components_name_the_field(make, field):
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        make()


def test_systems_check_shapes():
    load = np.ones((2, 10))
    with pytest.raises(InputError, match="pv_profile_kw_per_kwp"):
        Systems(load, 0.0, np.ones((2, 9)), Reactor.absent(2), Diesel.absent(2), Battery.absent(2))
    with pytest.raises(InputError, match="reactor.module_kw"):
        Systems(load, 0.0, np.zeros_like(load), Reactor.absent(3), Diesel.absent(2), Battery.absent(2))
    systems = Systems(load, 0.0, np.zeros_like(load), Reactor.absent(2), Diesel.absent(2), Battery.absent(2))
    with pytest.raises(InputError, match="modules_available"):
        simulate(systems, np.ones_like(load))


def test_the_rule_compiles_without_a_folder_for_numbas_cache(monkeypatch):
    """Where numba finds no folder it may write its cache to, it refuses to cache: the rule is then
    compiled for the process alone and gives the same dispatch."""
    import importlib

    from smrplan import compiled
    from smrplan.dispatch import kernel

    compile_ = compiled.njit

    def refusing(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function 'dispatch': no locator available for file")
        return compile_(*args, **kwargs)

    systems = random_systems(np.random.default_rng(4), 5, 300)
    available = reactor_modules_available(systems.reactor, operating_year=0, seed=1, n_hours=300)
    cached = simulate(systems, available)
    monkeypatch.setattr(compiled, "njit", refusing)
    try:
        uncached = importlib.reload(kernel)
        assert type(uncached.dispatch._cache).__name__ == "NullCache"  # compiled for this process only
        pd.testing.assert_frame_equal(simulate(systems, available).totals, cached.totals)
    finally:
        monkeypatch.undo()
        importlib.reload(kernel)
