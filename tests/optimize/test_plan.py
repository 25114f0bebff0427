"""Assembling a plan from the MILP: per-settlement allocation, built-site records, `why`, and the
net present cost (NPV of costs) and INR figures of the settlements and plan.json totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_optimize import real, solve, town_case  # noqa: F401  (the `real` fixture)

from smrplan.costs.economics import net_present_cost
from smrplan.optimize.assemble import assemble, lcoe_col, npv_col
from smrplan.options import ALL_OPTIONS, REACTOR_OPTIONS
from smrplan.summary import money_fields, option_totals, why_section


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


def test_chosen_option_and_technology_are_categoricals(planned):
    _, _, _, st2, built = planned
    assert list(st2["chosen_option"].cat.categories) == list(ALL_OPTIONS)
    assert set(st2["technology"].cat.categories) == set(st2["technology"]) >= {b["technology"] for b in built}


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


# ----------------------------------------------------------------------------------------------
# Net present cost and INR.

INR = 84.0


@pytest.fixture(scope="module")
def assembled(real):  # noqa: F811
    region, st, sites = town_case(real, tariff=0.3)
    res = solve(real, region, st, sites, mip_gap=0.01)
    annual = annual_costs(st, res)
    money = real["money"]
    st2, built = assemble(st, res, annual, real["diesel"]["capex_usd_per_kw"], money.discount_rate, money=money,
                          inr_per_usd=INR)
    return st2, built, annual, money


def test_settlement_npv_columns_follow_the_annual_costs(assembled):
    st2, built, annual, money = assembled
    assert built, "the town case builds reactor plants"
    e = st2["demand_kwh_per_year"].to_numpy(float)
    cols = list(st2.columns)
    for option in ALL_OPTIONS:
        assert cols.index(npv_col(option)) == cols.index(lcoe_col(option)) + 1  # next to its LCOE
        # stand-alone and own-plant values: annual / CRF; shared-plant members: allocated annual / CRF
        np.testing.assert_allclose(st2[npv_col(option)], st2[lcoe_col(option)] * e / money.crf, rtol=1e-12)
    np.testing.assert_allclose(st2["npv_diesel_usd"], annual["diesel"] / money.crf, rtol=1e-12)
    chosen = st2["chosen_annual_cost_usd"].to_numpy(float)
    np.testing.assert_allclose(st2["chosen_npv_usd"], net_present_cost(chosen, money), rtol=1e-12)
    np.testing.assert_allclose(st2["chosen_annual_cost_inr"], chosen * INR, rtol=1e-12)
    np.testing.assert_allclose(st2["chosen_lcoe_inr_per_kwh"], chosen * INR / e, rtol=1e-12)
    for site in built:  # a plant's NPV is its members' NPV shares summed
        members = st2["id"].astype(str).isin(site["settlements_served"]).to_numpy()
        assert st2.loc[members, "chosen_npv_usd"].sum() == pytest.approx(site["annual_cost_usd"] / money.crf, rel=1e-6)
        assert st2.loc[members, npv_col(site["option"])].sum() == pytest.approx(
            st2.loc[members, "chosen_npv_usd"].sum(), rel=1e-12)


def test_plan_totals_get_npv_and_inr(assembled):
    st2, built, _, money = assembled
    zeros = pd.DataFrame({"capacity_kw": np.zeros(len(st2)), "capex_usd": np.zeros(len(st2))})
    totals = option_totals(st2, {o: zeros for o in ("diesel", "pv_battery", "grid")}, built)
    total = round(float(st2["chosen_annual_cost_usd"].sum()), 2)
    summary = {"options": totals, "reactor_sites": built, "total_annual_cost_usd": total,
               "standalone_annual_cost_usd": round(float(st2["standalone_annual_cost_usd"].sum()), 2),
               "currency": {"unit": "USD 2024", "inr_per_usd": INR}}
    money_fields(summary, money, INR)
    assert summary["total_npv_usd"] == pytest.approx(st2["chosen_npv_usd"].sum(), rel=1e-9)
    assert summary["total_npv_inr_crore"] == pytest.approx(st2["chosen_npv_usd"].sum() * INR / 1e7, abs=0.01)
    assert summary["total_annual_cost_inr_crore"] == summary["currency"]["total_annual_cost_inr_crore"]
    assert list(summary)[:4] == ["options", "reactor_sites", "total_annual_cost_usd", "total_annual_cost_inr_crore"]
    for option, t in summary["options"].items():
        sel = (st2["chosen_option"] == option).to_numpy()
        assert t["npv_usd"] == pytest.approx(st2.loc[sel, "chosen_npv_usd"].sum(), rel=1e-9, abs=0.01)
        assert t["npv_inr_crore"] == pytest.approx(t["npv_usd"] * INR / 1e7, abs=0.01)
        assert t["annual_cost_inr_crore"] == pytest.approx(t["annual_cost_usd"] * INR / 1e7, abs=0.01)
        assert t["capex_inr_crore"] == pytest.approx(t["capex_usd"] * INR / 1e7, abs=0.01)
        if t["lcoe_usd_per_kwh"] is not None:
            assert t["lcoe_inr_per_kwh"] == pytest.approx(t["lcoe_usd_per_kwh"] * INR, rel=1e-4)
    for site in summary["reactor_sites"]:
        assert site["npv_usd"] == pytest.approx(site["annual_cost_usd"] / money.crf, rel=1e-9)
    # Refreshing after the annual costs change (the dispatch check adds back-up) keeps order and values in step.
    before = list(summary["options"]["pv_battery"])
    summary["options"]["pv_battery"]["annual_cost_usd"] += 1e6
    summary["total_annual_cost_usd"] += 1e6
    money_fields(summary, money, INR)
    assert list(summary["options"]["pv_battery"]) == before
    assert summary["total_npv_usd"] == pytest.approx(summary["total_annual_cost_usd"] / money.crf, rel=1e-9)
    assert summary["options"]["pv_battery"]["npv_usd"] == pytest.approx(
        summary["options"]["pv_battery"]["annual_cost_usd"] / money.crf, rel=1e-9)
