"""Repowering costs: the site-reuse credit, coal running cost and the ranking, on a hand-checked set."""

import numpy as np
import pandas as pd
import pytest

from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.catalogue.repowering import repowering_parameters, values
from smrplan.costs.economics import Money, grid_plant_cost
from smrplan.costs.repowering import designs_of, repowering_costs, site_credit_fraction
from smrplan.errors import InputError

CAT = resolve_catalogue(["bsmr200_india"], {}, 2024, "test")
MONEY = Money(0.08, 30)


def _set():
    units = pd.DataFrame({"gem_location_id": ["A", "B", "C"], "capacity_mw": [500.0, 500.0, 500.0],
                          "capacity_factor": [0.5, 0.5, 0.5], "annual_co2_mt": [2.2, 2.6, 3.0],
                          "heat_rate_btu_per_kwh": [9000.0, 10000.0, 11000.0], "retiring": True,
                          "expected_retirement_year": [2036.0, 2040.0, 2030.0]})
    sites = pd.DataFrame({"gem_location_id": ["A", "B", "C"], "retiring_mw": 500.0, "is_captive": [False, False, True],
                          "suitable": True, "cooling_water_pass": [True, False, True]})
    return units, sites


def test_zero_credit_zero_carbon_ranks_by_lcoe_difference_alone():
    p = values(repowering_parameters(2024, {"site_reuse_credit_fraction": 0.0}))
    units, sites = _set()
    d = designs_of(CAT, ["bsmr200_india"])
    c = repowering_costs(units, sites, CAT, d, CAT["kudankulam_vver1000"], MONEY, p, 0.0).sites
    # Hand check: fuel scaled by heat rate over the capacity-weighted mean (10,000 Btu/kWh), O&M over the energy.
    energy = 500e3 * 0.5 * 8760
    coal = p["coal_fuel_usd_per_kwh"] * np.array([0.9, 1.0, 1.1]) + 500e3 * p["coal_fixed_om_usd_per_kw_year"] / energy
    np.testing.assert_allclose(c.coal_usd_per_kwh, coal)
    n = np.ceil(energy / grid_plant_cost([1], d[0], MONEY)["energy_kwh"].iloc[0])
    reactor = grid_plant_cost([n], d[0], MONEY)["lcoe_usd_per_kwh"].iloc[0]
    np.testing.assert_allclose(c.reactor_usd_per_kwh, reactor)
    np.testing.assert_allclose(c.advantage_usd_per_kwh, coal - reactor)
    assert c.set_index("gem_location_id")["rank"].to_dict() == {"C": 1, "B": 2, "A": 3}  # dearest coal first
    assert (c.credit_fraction == 0).all()


def test_credit_by_account_and_carbon_price():
    p = values(repowering_parameters(2024))
    assert site_credit_fraction(np.array([True, False]), p) == pytest.approx([0.25, 0.25 * 0.7])
    units, sites = _set()
    d = designs_of(CAT, ["bsmr200_india"])
    base = repowering_costs(units, sites, CAT, d, CAT["kudankulam_vver1000"], MONEY, p, 0.0).sites
    taxed = repowering_costs(units, sites, CAT, d, CAT["kudankulam_vver1000"], MONEY, p, 100.0).sites
    # B lost its cooling-water share: a dearer reactor than A.
    assert base.reactor_usd_per_kwh[1] > base.reactor_usd_per_kwh[0]
    np.testing.assert_allclose(taxed.coal_usd_per_kwh - base.coal_usd_per_kwh, 100.0 * base.coal_t_co2_per_mwh / 1000)
    # At the break-even carbon price the coal cost equals the reactor's LCOE.
    be = base.breakeven_carbon_usd_per_t.to_numpy()
    np.testing.assert_allclose(base.coal_ex_carbon_usd_per_kwh + be * base.coal_t_co2_per_mwh / 1000,
                               base.reactor_usd_per_kwh)


def test_overrides_are_checked():
    with pytest.raises(InputError, match="repowering.overrides.site_reuse_credit_fraction"):
        repowering_parameters(2024, {"site_reuse_credit_fraction": 1.5})
    with pytest.raises(InputError, match=r"repowering.overrides.process_heat_share.*fraction in \[0, 1\]"):
        repowering_parameters(2024, {"process_heat_share": 1.5})
    with pytest.raises(InputError, match="repowering.overrides.process_heat_usd_per_kwh_th"):
        repowering_parameters(2024, {"process_heat_usd_per_kwh_th": -0.01})
    with pytest.raises(InputError, match="repowering.overrides.nonsense"):
        repowering_parameters(2024, {"nonsense": 1.0})
    with pytest.raises(InputError, match="repowering.designs"):
        designs_of(CAT, ["diesel_minigrid"])


def test_process_heat_is_a_co_product_at_heat_using_captive_sites_only():
    """With a heat share, a design that states its thermal power sells heat at a captive steel plant:
    its LCOE is (annual cost - heat credit) / electricity left; a captive unit of another industry, a
    public utility's unit and a design without a published thermal power are costed as before."""
    cat = resolve_catalogue(["bwrx300", "bsmr200_india"], {}, 2024, "test")
    units, sites = _set()
    sites["is_captive"] = [True, True, False]
    sites["captive_industry"] = ["iron & steel", "machinery", ""]
    off = values(repowering_parameters(2024))
    on = values(repowering_parameters(2024, {"process_heat_share": 0.1}))
    assert off["process_heat_share"] == 0.0  # an option, off by default
    for key in ("bwrx300", "bsmr200_india"):
        d = designs_of(cat, [key])
        base = repowering_costs(units, sites, cat, d, cat["kudankulam_vver1000"], MONEY, off, 0.0).sites
        heat = repowering_costs(units, sites, cat, d, cat["kudankulam_vver1000"], MONEY, on, 0.0).sites
        if key == "bsmr200_india":  # no thermal power published: nothing changes
            np.testing.assert_allclose(heat.reactor_usd_per_kwh, base.reactor_usd_per_kwh)
            continue
        ratio = cat[key]["thermal_mw_per_module"] / cat[key]["module_size_mw"]
        e = base.reactor_energy_kwh[0]
        credit = e * 0.1 * ratio * on["process_heat_usd_per_kwh_th"]
        assert heat.reactor_heat_kwh_th[0] == pytest.approx(e * 0.1 * ratio)
        assert heat.reactor_usd_per_kwh[0] == pytest.approx((base.reactor_annual_cost_usd[0] - credit) / (0.9 * e))
        # heat at a coal boiler's cost is worth less than the reactor power it displaces; dearer heat pays
        assert heat.reactor_usd_per_kwh[0] > base.reactor_usd_per_kwh[0]
        dear = values(repowering_parameters(2024, {"process_heat_share": 0.1, "process_heat_usd_per_kwh_th": 0.1}))
        rich = repowering_costs(units, sites, cat, d, cat["kudankulam_vver1000"], MONEY, dear, 0.0).sites
        assert rich.reactor_usd_per_kwh[0] < base.reactor_usd_per_kwh[0]
        np.testing.assert_allclose(heat.reactor_usd_per_kwh[1:], base.reactor_usd_per_kwh[1:])
        assert (heat.reactor_heat_kwh_th[1:] == 0).all()
