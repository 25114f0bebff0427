"""Existing diesel gensets (smrplan.costs.existing): the fleet a territory still has in a year, shared by
peak, and the stand-alone cost with its capital sunk."""

import numpy as np
import pandas as pd
import pytest

from smrplan.catalogue.catalogue import resolve_catalogue
from smrplan.costs.economics import Money, crf, first_of
from smrplan.costs.engine import OptionCosts
from smrplan.costs.existing import existing_diesel_kw, existing_diesel_table, standalone_with_existing_usd
from smrplan.options import ALL_OPTIONS

TABLE = pd.DataFrame({"territory": ["T"], "diesel_kw": [1000.0], "as_of_year": [2020]})


def test_fleet_shared_by_peak_and_retiring_over_one_life():
    st = pd.DataFrame({"territory": ["T", "T", "U"], "peak_kw": [300.0, 100.0, 50.0]})
    np.testing.assert_allclose(existing_diesel_kw(st, 2020, 20.0, TABLE), [750.0, 250.0, 0.0])
    np.testing.assert_allclose(existing_diesel_kw(st, 2030, 20.0, TABLE), [375.0, 125.0, 0.0])
    assert (existing_diesel_kw(st, 2045, 20.0, TABLE) == 0).all()
    assert (existing_diesel_kw(st.drop(columns="territory"), 2020, 20.0, TABLE) == 0).all()


def test_bundled_fleet_is_the_islands_in_life_capacity():
    t = existing_diesel_table().set_index("territory")
    assert t.loc["Andaman and Nicobar Islands", "diesel_kw"] == 47465  # 99.2 MW less 51.745 MW past its life
    assert set(t.index) == {"Andaman and Nicobar Islands", "Lakshadweep"} and t["source"].str.len().min() > 20


def test_sunk_capital_lowers_only_the_diesel_option():
    cat = resolve_catalogue(["diesel_minigrid", "pv_battery_hybrid"], {}, 2024, "test")
    money = Money(0.08, 30)
    n, j = 3, ALL_OPTIONS.index("diesel")
    annual = np.full((n, len(ALL_OPTIONS)), np.nan)
    annual[:, j] = [100_000.0, 100_000.0, 100_000.0]
    annual[:, ALL_OPTIONS.index("pv_battery")] = [90_000.0, 200_000.0, 200_000.0]
    cap = np.zeros((n, len(ALL_OPTIONS)))
    cap[:, j] = 100.0
    costs = OptionCosts(annual, np.zeros_like(annual), cap, np.zeros_like(annual), np.zeros((n, 3), str),
                        np.full((n, 3), -1), {})
    d = first_of(cat, "diesel")
    annuity = d["capex_usd_per_kw"] * crf(0.08, d["lifetime_years"])
    got = standalone_with_existing_usd(costs, np.array([50.0, 500.0, 0.0]), cat, money)
    assert got[0] == pytest.approx(min(90_000.0, 100_000.0 - 50 * annuity))
    assert got[1] == pytest.approx(100_000.0 - 100 * annuity)  # no more than the kW the system needs
    assert got[2] == pytest.approx(100_000.0)
