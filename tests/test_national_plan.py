"""Facts an Indian planner checks first, on the national plan made from the real public data
(../shared/data; skipped when absent): most people are on the grid, the big cities are on it, the
islands are islands and the mainland is not, and reactors are planned only for isolated places."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import SHARED_DATA
from smrplan.api import plan as make_plan

# Mission Antyodaya 2020: 4.3 % of villages without electricity; Saubhagya (2017-22) connected 2.86
# crore households (shared/data/electrification_in SOURCE.md). Share of the population on the grid
# (connected or weak): at least 93 % (every unelectrified village as large as the average one, plus
# a margin) and not 100 % (some hamlets remain off-grid).
GRID_SHARE_RANGE = (0.93, 0.995)
# Lakshadweep and the Andaman & Nicobar Islands: boxes around each territory (degrees).
ISLAND_BOXES = {"Lakshadweep": (71.5, 8.0, 74.0, 12.5), "Andaman and Nicobar": (92.0, 6.5, 94.5, 14.0)}


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return make_plan("india-national", data_dir=SHARED_DATA).optimised.settlements


def test_grid_connected_share_within_the_statistics(national):
    pop = national["population_target"].to_numpy(float)
    on_grid = national["grid_status"].isin(["connected", "weak"]).to_numpy()
    share = pop[on_grid].sum() / pop.sum()
    assert GRID_SHARE_RANGE[0] <= share <= GRID_SHARE_RANGE[1], share


def test_no_million_plus_city_gets_a_mini_grid_or_a_reactor_of_its_own(national):
    big = national[national["population"] >= 1_000_000]
    assert len(big) >= 30, "Census 2011: 53 urban agglomerations of a million or more"
    assert set(big["grid_status"]) <= {"connected", "weak"}
    assert set(big["chosen_option"]) == {"grid"}, big.loc[big["chosen_option"] != "grid", ["name", "chosen_option"]]


def test_reactors_serve_only_isolated_places(national):
    served = national[national["chosen_option"].str.endswith("_reactor")]
    assert (served["grid_status"] == "unconnected").all()


def test_the_island_territories_are_islands_and_the_mainland_is_not(national):
    lon, lat = national["lon"].to_numpy(), national["lat"].to_numpy()
    for name, (x0, y0, x1, y1) in ISLAND_BOXES.items():
        inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        assert inside.sum() >= 5, name
        assert national["is_island"].to_numpy()[inside].all(), name
    pop = national["population_target"].to_numpy(float)
    island_share = pop[national["is_island"].to_numpy(bool)].sum() / pop.sum()
    assert island_share < 0.005, island_share  # islands hold about 0.1 % of India's people (Census 2011)
    assert not national["is_island"].to_numpy()[national["population"].to_numpy() >= 1_000_000].any()
