"""Existing supply: the diesel gensets already installed, which run until they retire or are replaced.

The bundled table (data/existing_diesel.csv) gives, per territory, the diesel capacity still within its
life in a given year. Ages are not published, so the fleet is taken to retire evenly over one genset
life from that year; what is left in a year is shared over the territory's settlements by peak demand.
Until it retires, a settlement's diesel option pays no capital for that capacity: its annual cost is
less the capital annuity of the kW it already has (at most the kW its diesel system needs).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import Money, crf, first_of
from smrplan.costs.engine import STANDALONE_COLUMNS, OptionCosts
from smrplan.options import ALL_OPTIONS


@lru_cache(maxsize=1)
def existing_diesel_table() -> pd.DataFrame:
    """data/existing_diesel.csv: territory, diesel_kw (kW), as_of_year, source, note (read once; not to
    be modified)."""
    with resources.files("smrplan.data").joinpath("existing_diesel.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, comment="#")


def existing_diesel_kw(settlements: pd.DataFrame, year: int, life_years: float,
                       table: pd.DataFrame | None = None) -> np.ndarray:
    """kW of existing diesel capacity each settlement still has in `year`.

    Parameters
    ----------
    settlements : pandas.DataFrame
        With ``territory`` (no existing fleet without it) and ``peak_kw`` (kW), the shares' weights.
    year : int
        Calendar year.
    life_years : float
        Genset life (yr): the fleet of a figure of year Y is gone by Y + life.
    table : pandas.DataFrame, optional
        `existing_diesel_table()` (read when not given).

    Returns
    -------
    numpy.ndarray
        kW per settlement (0 outside the table's territories).
    """
    table = existing_diesel_table() if table is None else table
    if "territory" not in settlements.columns or not len(settlements):
        return np.zeros(len(settlements))
    territory = settlements["territory"].astype(str).to_numpy()
    peak = settlements["peak_kw"].to_numpy(float)
    total = pd.Series(peak).groupby(territory).transform("sum").to_numpy()
    row = table.set_index("territory").reindex(territory)
    alive = np.clip(1.0 - (year - row["as_of_year"].to_numpy(float)) / life_years, 0.0, 1.0)
    kw = row["diesel_kw"].to_numpy(float) * alive * np.divide(peak, total, out=np.zeros_like(peak), where=total > 0)
    return np.nan_to_num(kw, nan=0.0)


def standalone_with_existing_usd(costs: OptionCosts, existing_kw: np.ndarray, catalogue: Catalogue,
                                 money: Money) -> np.ndarray:
    """Cheapest stand-alone annual cost per settlement when its existing gensets' capital is sunk.

    Parameters
    ----------
    costs : OptionCosts
        The option costs of the year (diesel capacity in kW and annual cost in USD/yr).
    existing_kw : numpy.ndarray
        Existing diesel kW per settlement (`existing_diesel_kw`).
    catalogue : Catalogue
        Its diesel entry gives capex (USD/kW) and life (yr).
    money : Money
        Discount rate of the annuity.

    Returns
    -------
    numpy.ndarray
        USD/yr per settlement: the cheapest of the stand-alone options, the diesel option less the
        annuity of min(existing kW, its capacity).
    """
    diesel = first_of(catalogue, "diesel")
    annuity = float(diesel["capex_usd_per_kw"]) * crf(money.discount_rate, float(diesel["lifetime_years"]))
    j = ALL_OPTIONS.index("diesel")
    annual = costs.annual_usd[:, STANDALONE_COLUMNS].copy()
    col = int(np.flatnonzero(STANDALONE_COLUMNS == j)[0])
    annual[:, col] -= annuity * np.minimum(np.nan_to_num(costs.capacity_kw[:, j]), existing_kw)
    return np.nanmin(annual, axis=1)
