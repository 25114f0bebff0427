"""Hand-calculated cost cases (to 0.1 %) and the agreement with OnSSET's LCOE definition."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import tech
from smrplan.costs.economics import (
    Money,
    crf,
    diesel_cost,
    grid_cost,
    idc_factor,
    investment_pv,
    lcoe,
    line_cost,
    net_present_cost,
    pv_battery_cost,
    reactor_plant_cost,
)

DIESEL = tech("d", "diesel", capex_usd_per_kw=500.0, lifetime_years=15.0, fixed_om_usd_per_kw_year=20.0,
              variable_om_usd_per_kwh=0.01, fuel_curve_intercept_l_per_kwh_rated=0.08145,
              fuel_curve_slope_l_per_kwh=0.246, min_load_fraction=0.3, average_loading_fraction=0.75, diesel_price_usd_per_l=1.0,
              island_logistics_usd_per_l=0.2, co2_kg_per_l=2.68, reserve_margin_fraction=0.2)


def onsset_lcoe(capex, life, om_per_year, fuel_per_year, energy, r, project_life):
    """OnSSET's definition, written out year by year: investment in year 0, reinvestment when the
    technology life ends inside the project, linear salvage in the last year, costs and generation
    from year 1; LCOE = discounted costs / discounted generation."""
    years = np.arange(project_life + 1)
    inv = np.zeros(project_life + 1)
    inv[0] = capex
    t = life
    while t < project_life:
        inv[int(t)] += capex
        t += life
    used = project_life - np.floor(project_life / life) * life
    salvage = np.zeros(project_life + 1)
    salvage[-1] = capex * (1 - used / life) if used > 0 else 0.0
    om = np.r_[0.0, np.full(project_life, om_per_year + fuel_per_year)]
    gen = np.r_[0.0, np.full(project_life, energy)]
    disc = (1 + r) ** years
    return ((inv + om - salvage) / disc).sum() / (gen / disc).sum()


def test_crf_and_idc():
    assert crf(0.08, 20) == pytest.approx(0.101852, rel=1e-5)
    assert crf(0.0, 20) == pytest.approx(0.05)
    assert idc_factor(0.08, 5) == pytest.approx(((1.08 ** 5) - 1) / (0.08 * 5))
    assert idc_factor(0.08, 0) == 1.0


@pytest.mark.parametrize("life, horizon", [(15, 30), (20, 20), (12, 30), (40, 30)])
def test_lcoe_agrees_with_onsset_definition(life, horizon):
    money = Money(0.08, horizon)
    capex, om, energy = 1_000_000.0, 30_000.0, 2_000_000.0
    ours = (investment_pv(np.array([capex]), life, money)[0] * money.crf + om) / energy
    assert ours == pytest.approx(onsset_lcoe(capex, life, om, 0.0, energy, 0.08, horizon), rel=1e-9)


def test_diesel_genset_by_hand():
    money = Money(0.10, 15)
    e, peak = 1_000_000.0, 250.0
    r = diesel_cost(np.array([e]), np.array([peak]), DIESEL, money, np.array([True])).iloc[0]
    cap = 250 * 1.2
    litres = (0.08145 / 0.75 + 0.246) * e
    annual = cap * 500 * crf(0.10, 15) + cap * 20 + 0.01 * e + litres * 1.2
    assert r["capacity_kw"] == pytest.approx(cap)
    assert r["fuel_l"] == pytest.approx(litres, rel=1e-3)
    assert r["annual_cost_usd"] == pytest.approx(annual, rel=1e-3)
    assert r["co2_t"] == pytest.approx(litres * 2.68 / 1000, rel=1e-3)


def test_pv_battery_by_hand():
    pv = tech("pv", "pv_battery", pv_capex_usd_per_kw=800.0, pv_lifetime_years=25.0, pv_fixed_om_usd_per_kw_year=15.0,
              pv_capacity_factor=0.18, battery_capex_usd_per_kwh=300.0, battery_lifetime_years=12.0,
              battery_roundtrip_efficiency=0.9, battery_min_soc_fraction=0.2, battery_hours=6.0,
              inverter_capex_usd_per_kw=150.0, renewable_fraction=0.8, island_capex_multiplier=1.25)
    money = Money(0.08, 25)
    e, peak, night = 500_000.0, 100.0, 0.5
    r = pv_battery_cost(np.array([e]), np.array([peak]), night, pv, DIESEL, money, np.array([False])).iloc[0]
    pv_kw = 0.8 * e * (1 + 0.5 * (1 / 0.9 - 1)) / (8760 * 0.18)
    batt = 6 * e / 8760 / 0.8
    # battery replaced at year 12 and 24, salvage of 11/12 of the third unit at year 25
    batt_pv = 300 * batt * (1 + 1.08 ** -12 + 1.08 ** -24 - (11 / 12) * 1.08 ** -25)
    inv_pv = 150 * peak * (1 + 1.08 ** -12 + 1.08 ** -24 - (11 / 12) * 1.08 ** -25)
    gen_cap = peak * 1.2
    gen_litres = (0.08145 / 0.75 + 0.246) * 0.2 * e
    gen_pv = 500 * gen_cap * (1 + 1.08 ** -15 - (5 / 15) * 1.08 ** -25)
    annual = ((800 * pv_kw + batt_pv + inv_pv + gen_pv) * crf(0.08, 25) + 15 * pv_kw + 20 * gen_cap
              + 0.01 * 0.2 * e + gen_litres * 1.0)
    assert r["pv_kw"] == pytest.approx(pv_kw, rel=1e-3)
    assert r["battery_kwh"] == pytest.approx(batt, rel=1e-3)
    assert r["annual_cost_usd"] == pytest.approx(annual, rel=1e-3)


REACTOR = tech("r", "land_reactor", module_size_mw=10.0, max_modules_per_plant=4.0, capacity_factor=0.9,
               refuelling_interval_years=2.0, refuelling_outage_days=20.0, construction_years=4.0,
               lifetime_years=40.0, capex_usd_per_kw=8000.0, fixed_om_usd_per_kw_year=130.0,
               variable_om_usd_per_mwh=2.5, fuel_usd_per_mwh=11.0, decommissioning_fraction_of_capex=0.15)


def test_two_module_reactor_with_refuelling_backup_by_hand():
    """Peak 8 MW: one 10 MW module covers peak + 15 % reserve; N+1 adds a second for refuelling."""
    money = Money(0.07, 40)
    e, peak = 50_000_000.0, 8_000.0
    r = reactor_plant_cost(np.array([e]), np.array([peak]), REACTOR, DIESEL, money, 0.15, "n_plus_1").iloc[0]
    assert r["modules"] == 2
    kw = 20_000
    capex = kw * 8000 * ((1.07 ** 4 - 1) / (0.07 * 4))
    pv = capex * (1 + 0.15 * 1.07 ** -40)  # retires exactly at the horizon: decommissioning, no salvage
    annual = pv * crf(0.07, 40) + kw * 130 + e / 1000 * 13.5
    assert r["capex_usd"] == pytest.approx(capex, rel=1e-3)
    assert r["annual_cost_usd"] == pytest.approx(annual, rel=1e-3)
    assert r["feasible"]


BARGE = tech("b", "floating_reactor", module_size_mw=35.0, max_modules_per_plant=2.0, modules_per_purchase=2.0,
             capacity_factor=0.85, refuelling_interval_years=3.0, refuelling_outage_days=45.0, construction_years=4.0,
             lifetime_years=40.0, capex_usd_per_kw=10000.0, fixed_om_usd_per_kw_year=150.0, variable_om_usd_per_mwh=3.0,
             fuel_usd_per_mwh=15.0, decommissioning_fraction_of_capex=0.15, shore_works_usd=50e6)


def test_a_barge_is_bought_whole_by_hand():
    """Peak 20 MW: one 35 MW module would do, but the barge carries two, so the plant is 70 MW. While
    one reactor refuels the other carries 35 MW > 20 MW, so no back-up is needed either way."""
    money = Money(0.07, 40)
    e, peak = 100_000_000.0, 20_000.0
    for backup in ("n_plus_1", "diesel", "cheapest"):
        r = reactor_plant_cost(np.array([e]), np.array([peak]), BARGE, DIESEL, money, 0.15, backup).iloc[0]
        assert r["modules"] == 2 and r["capacity_kw"] == 70_000 and r["backup_diesel_kw"] == 0, backup
        capex = 70_000 * 10000 * ((1.07 ** 4 - 1) / (0.07 * 4))
        assert r["capex_usd"] == pytest.approx(capex + 50e6, rel=1e-3)
        pv = (capex + 50e6) * (1 + 0.15 * 1.07 ** -40)
        annual = pv * crf(0.07, 40) + 70_000 * 150 + e / 1000 * 18.0
        assert r["annual_cost_usd"] == pytest.approx(annual, rel=1e-3)
        assert r["feasible"]


def test_barge_refuelling_shortfall_and_whole_unit_limit():
    """Peak 50 MW: one barge (70 MW) covers 50 x 1.15 = 57.5 MW; with one reactor refuelling 35 MW
    remain, so N+1 would need a second barge (infeasible at one barge per plant) and diesel covers 15 MW."""
    money = Money(0.07, 40)
    e, peak = np.array([300e6]), np.array([50_000.0])
    dsl = reactor_plant_cost(e, peak, BARGE, DIESEL, money, 0.15, "diesel").iloc[0]
    assert dsl["modules"] == 2 and dsl["backup_diesel_kw"] == pytest.approx(15_000 * 1.2, rel=1e-3) and dsl["feasible"]
    n1 = reactor_plant_cost(e, peak, BARGE, DIESEL, money, 0.15, "n_plus_1").iloc[0]
    assert n1["modules"] == 4 and not n1["feasible"]
    half = tech("h", "floating_reactor", **{**{k: p.value for k, p in BARGE.parameters.items()}, "max_modules_per_plant": 1.0})
    assert half.max_units == 0
    assert not reactor_plant_cost(np.array([1e6]), np.array([500.0]), half, DIESEL, money, 0.15)["feasible"].iloc[0]


def test_reactor_backup_choice_and_module_limit():
    money = Money(0.07, 40)
    e, peak = np.array([50e6, 300e6]), np.array([8_000.0, 45_000.0])
    n1 = reactor_plant_cost(e, peak, REACTOR, DIESEL, money, 0.15, "n_plus_1")
    dsl = reactor_plant_cost(e, peak, REACTOR, DIESEL, money, 0.15, "diesel")
    best = reactor_plant_cost(e, peak, REACTOR, DIESEL, money, 0.15, "cheapest")
    assert (dsl["modules"].to_numpy() <= n1["modules"].to_numpy()).all()
    assert np.allclose(best["annual_cost_usd"], np.minimum(n1["annual_cost_usd"], dsl["annual_cost_usd"]))
    assert not n1["feasible"].iloc[1]  # 45 MW x 1.15 needs 6 modules of 10 MW, the plant holds 4


GRID = tech("g", "grid_extension", mv_line_usd_per_km=20_000.0, hv_line_usd_per_km=150_000.0,
            mv_max_capacity_kw=10_000.0, substation_usd=500_000.0, grid_supply_usd_per_kwh=0.08,
            losses_fraction=0.1, line_lifetime_years=40.0, line_om_fraction_per_year=0.02,
            max_distance_km=100.0, grid_emission_t_co2_per_mwh=0.727)
CABLE = tech("c", "submarine_cable", cable_usd_per_km=1_500_000.0, landing_station_usd=2_000_000.0,
             lifetime_years=40.0, om_fraction_per_year=0.01, max_length_km=300.0)


def test_grid_cost_with_cable_and_limits():
    money = Money(0.08, 40)
    r = grid_cost(np.array([1e6, 1e6]), np.array([500.0, 500.0]), np.array([10.0, 10.0]), np.array([0.0, 400.0]),
                  GRID, CABLE, money)
    capex0 = 10 * 20_000 + 500_000
    annual0 = capex0 * crf(0.08, 40) + capex0 * 0.02 + 1e6 / 0.9 * 0.08
    assert r["annual_cost_usd"].iloc[0] == pytest.approx(annual0, rel=1e-3)
    assert r["feasible"].iloc[0] and not r["feasible"].iloc[1]
    assert r["co2_t"].iloc[0] == pytest.approx(1e6 / 0.9 / 1000 * 0.727)


@given(st.floats(1e3, 1e9), st.floats(0.05, 1.0))
def test_costs_positive_and_lcoe_finite(energy, lf):
    money = Money(0.08, 30)
    peak = energy / 8760 / lf
    d = diesel_cost(np.array([energy]), np.array([peak]), DIESEL, money, np.array([True]))
    r = reactor_plant_cost(np.array([energy]), np.array([peak]), REACTOR, DIESEL, money, 0.15)
    for frame in (d, r):
        cost = frame["annual_cost_usd"].to_numpy()
        assert np.isfinite(cost).all() and (cost > 0).all()
        assert np.isfinite(lcoe(cost, [energy])).all()


def test_diesel_net_present_cost_by_hand():
    """Net present cost (NPV of costs) of a diesel genset written out year by year: purchase at year 0,
    replacement at year 15, salvage of 2/3 of the second unit at year 20, O&M and fuel in years 1-20."""
    money = Money(0.10, 20)
    e, peak = 1_000_000.0, 250.0
    r = diesel_cost(np.array([e]), np.array([peak]), DIESEL, money, np.array([True])).iloc[0]
    cap = peak * 1.2
    capex = cap * 500
    running = cap * 20 + 0.01 * e + (0.08145 / 0.75 + 0.246) * e * (1.0 + 0.2)
    years = np.arange(21)
    flows = np.zeros(21)
    flows[0] += capex
    flows[15] += capex
    flows[20] -= capex * (1 - 5 / 15)
    flows[1:] += running
    npc = float((flows / 1.10 ** years).sum())
    assert r["npv_usd"] == pytest.approx(npc, rel=1e-3)
    assert r["npv_usd"] == pytest.approx(r["annual_cost_usd"] / crf(0.10, 20), rel=1e-12)
    assert net_present_cost(r["annual_cost_usd"], money) == pytest.approx(npc, rel=1e-3)


@pytest.mark.parametrize("r_, horizon", [(0.08, 30), (0.0, 25), (0.05, 40)])
def test_npv_is_annual_cost_over_crf_for_every_option(r_, horizon):
    money = Money(r_, horizon)
    e, peak, island = np.array([5e4, 2e6, 3e8]), np.array([12.0, 400.0, 45_000.0]), np.array([True, False, True])
    pv = tech("pv", "pv_battery", pv_capex_usd_per_kw=800.0, pv_lifetime_years=25.0, pv_fixed_om_usd_per_kw_year=15.0,
              pv_capacity_factor=0.18, battery_capex_usd_per_kwh=300.0, battery_lifetime_years=12.0,
              battery_roundtrip_efficiency=0.9, battery_min_soc_fraction=0.2, battery_hours=6.0,
              inverter_capex_usd_per_kw=150.0, renewable_fraction=0.8, island_capex_multiplier=1.25)
    land, sea = np.array([5.0, 50.0, 0.0]), np.array([0.0, 20.0, 400.0])
    frames = [diesel_cost(e, peak, DIESEL, money, island), pv_battery_cost(e, peak, 0.5, pv, DIESEL, money, island),
              grid_cost(e, peak, land, sea, GRID, CABLE, money), line_cost(land, sea, peak, GRID, CABLE, money),
              reactor_plant_cost(e, peak, REACTOR, DIESEL, money, 0.15, "cheapest", island)]
    for f in frames:
        assert f["npv_usd"].dtype == float
        np.testing.assert_allclose(f["npv_usd"].to_numpy(), f["annual_cost_usd"].to_numpy() / crf(r_, horizon), rtol=1e-12)
    if r_ == 0.0:  # undiscounted: the horizon's total
        np.testing.assert_allclose(frames[0]["npv_usd"], frames[0]["annual_cost_usd"] * horizon, rtol=1e-12)
