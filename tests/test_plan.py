"""Assembling a plan from the MILP: per-settlement allocation, built-site records and `why`."""

from __future__ import annotations

import numpy as np
import pytest

from smrplan.economics import ALL_OPTIONS, REACTOR_OPTIONS
from smrplan.plan import assemble, lcoe_col, why_section
from test_optimize import real, solve, town_case  # noqa: F401  (the `real` fixture)


def annual_costs(st, res):
    """Per-option annual costs: stand-alone options around the table's stand-alone cost; each
    reactor option a plant of the settlement's own that never beats the shared plant."""
    alone = st["standalone_annual_cost_usd"].to_numpy()
    out = {"diesel": alone * 1.1, "pv_battery": alone, "grid": np.full(len(st), np.nan)}
    for option in REACTOR_OPTIONS:
        out[option] = alone * 3.0
    return out


@pytest.fixture(scope="module")
def planned(real):  # noqa: F811
    region, st, sites = town_case(real, tariff=0.3)
    res = solve(real, region, st, sites, mip_gap=0.01)
    annual = annual_costs(st, res)
    st2, built = assemble(st, res, annual, real["diesel"]["capex_usd_per_kw"], real["money"].discount_rate)
    return st, res, annual, st2, built


def test_every_settlement_is_allocated_once_and_totals_match(planned):
    st, res, annual, st2, built = planned
    assert len(st2) == len(st) and built
    served = [i for b in built for i in b["settlements_served"]]
    assert len(served) == len(set(served)) == int((res.assignment >= 0).sum())
    assert st2["chosen_annual_cost_usd"].sum() == pytest.approx(res.objective_usd, rel=1e-9)
    assert st2["chosen_annual_cost_usd"].sum() <= st["standalone_annual_cost_usd"].sum()
    for b in built:
        assert b["annual_cost_usd"] <= b["standalone_annual_cost_usd"]
        assert b["network_length_km"] <= b["network_model_km"] + 1e-6  # the spanning tree is never longer


def test_chosen_option_has_the_lowest_lcoe(planned):
    _, _, _, st2, _ = planned
    lcoes = st2[[lcoe_col(o) for o in ALL_OPTIONS]].to_numpy(float)
    chosen = np.array([st2[lcoe_col(o)].iat[i] for i, o in enumerate(st2["chosen_option"])])
    assert np.allclose(chosen, np.nanmin(lcoes, axis=1), rtol=1e-9)


def test_why_explains_built_sites_and_the_largest_without_a_reactor(planned):
    st, res, annual, st2, built = planned
    why = why_section(st2, res, annual)
    assert why["unit"] == "settlement" and len(why["built_sites"]) == len(built)
    for site, rec in zip(why["built_sites"], built, strict=True):
        assert site["site_id"] == rec["site_id"] and site["settlements"] == len(rec["settlements_served"])
        assert site["saving_usd_per_year"] == pytest.approx(site["standalone_annual_cost_usd"]
                                                            - site["plant_annual_cost_usd"], abs=0.02)
        assert site["saving_usd_per_year"] >= 0
        assert sum(site["members_by_best_standalone_option"].values()) == site["settlements"]
        assert all(m["best_standalone_option"] == "pv_battery" for m in site["members"])
    unserved = set(st2.loc[st2["site_id"] == "", "id"])
    largest = st2.loc[st2["site_id"] == ""].nlargest(len(why["not_served_by_reactor"]), "demand_kwh_per_year")
    assert [u["settlements"][0] for u in why["not_served_by_reactor"]] == list(largest["id"])
    for u in why["not_served_by_reactor"]:
        assert set(u["settlements"]) <= unserved
        if u["breakeven_capex_multiplier"] is not None:
            assert u["required_capex_reduction_fraction"] == pytest.approx(1 - u["breakeven_capex_multiplier"], abs=1e-4)
            assert u["technology"] and u["site_id"]
