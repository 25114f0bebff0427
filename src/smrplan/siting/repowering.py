"""Coal sites as land small-reactor sites: which units retire, and the screen of every site.

Retirement (`retirement`): a unit is expected to retire in its owner's planned retirement year (GEM
``planned_retirement``) or, without one, at its start year plus the useful life
(``useful_life_years`` of data/coal_repowering.yaml: 25 years, CERC Tariff Regulations 2019). A unit
is *retiring* when its expected retirement falls no later than the scenario's ``repowering.retiring_by``
year (default: the target year). A unit without a start year is not retiring (not dated).

The screen (`screen_coal_sites`) runs the scenario's siting rule set (smrplan.siting.screen.screen:
exclusion and sterilised zones, population, hazards, seismic zone, cooling water...) on one land
candidate at each plant location, plus two repowering criteria:

* ``retiring_capacity``: MW of retiring units at the site, at least the smallest module of the
  designs costed (a site whose retiring units cannot hold one module is not a repowering site);
* ``retirement``: the earliest expected retirement year of the site's units, no later than the
  retiring-by year.

Every site gets each criterion's value, pass or fail, ``suitable`` and a ``reason``, as other
candidates do. No Python loop runs over units or sites.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from smrplan.geo.coal import coal_sites
from smrplan.geo.layers import Region
from smrplan.scenario import Siting
from smrplan.siting.screen import Criterion, ScreenResult, labels, screen


def retirement(units: pd.DataFrame, useful_life_years: float, retiring_by: int) -> pd.DataFrame:
    """Expected retirement year, age and retiring flag of each unit.

    Parameters
    ----------
    units : pandas.DataFrame
        Coal units with ``start_year`` and ``planned_retirement`` (years, NaN where blank).
    useful_life_years : float
        Years from start to expected retirement when no retirement is planned (yr).
    retiring_by : int
        Units expected to retire no later than this year are retiring.

    Returns
    -------
    pandas.DataFrame
        A copy with ``expected_retirement_year`` (yr, NaN when undated), ``retirement_basis``
        ("planned", "useful life" or "undated"), ``age_years`` (at `retiring_by`, yr) and ``retiring`` (bool).
    """
    out = units.copy()
    start = out["start_year"].to_numpy(float)
    planned = out["planned_retirement"].to_numpy(float)
    expected = np.where(np.isfinite(planned), planned, start + useful_life_years)
    out["expected_retirement_year"] = expected
    out["retirement_basis"] = np.where(np.isfinite(planned), "planned",
                                       np.where(np.isfinite(start), "useful life", "undated"))
    out["age_years"] = retiring_by - start
    out["retiring"] = np.isfinite(expected) & (expected <= retiring_by)
    return out


def site_table(units: pd.DataFrame) -> pd.DataFrame:
    """The plant locations of the units (smrplan.geo.coal.coal_sites) with their retiring capacity.

    Parameters
    ----------
    units : pandas.DataFrame
        Units with ``retiring``, ``expected_retirement_year``, ``capacity_mw`` (MW) and the columns of
        `coal_sites`.

    Returns
    -------
    pandas.DataFrame
        `coal_sites` plus ``retiring_units``, ``retiring_mw`` (MW), ``first_retirement_year`` (yr,
        earliest expected retirement of the site's units, NaN when none is dated) and
        ``oldest_start_year`` (yr).
    """
    sites = coal_sites(units)
    g = units.groupby("gem_location_id", sort=True)
    ret = units["retiring"].to_numpy(bool)
    mw = pd.Series(np.where(ret, units["capacity_mw"].to_numpy(float), 0.0), index=units.index)
    add = pd.DataFrame({"retiring_units": g["retiring"].sum(), "retiring_mw": mw.groupby(units["gem_location_id"]).sum(),
                        "first_retirement_year": g["expected_retirement_year"].min(),
                        "oldest_start_year": g["start_year"].min()})
    return sites.merge(add, left_on="gem_location_id", right_index=True, how="left")


def repowering_criteria(sites: pd.DataFrame, smallest_module_mw: float, retiring_by: int) -> list[Criterion]:
    """The repowering criteria of each site (see the module docstring).

    Parameters
    ----------
    sites : pandas.DataFrame
        `site_table` rows: ``retiring_mw`` (MW) and ``first_retirement_year`` (yr).
    smallest_module_mw : float
        Smallest purchase unit among the designs costed (MWe).
    retiring_by : int
        The retiring-by year.

    Returns
    -------
    list of Criterion
        retirement (year), retiring_capacity (MW).
    """
    first = sites["first_retirement_year"].to_numpy(float)
    mw = sites["retiring_mw"].to_numpy(float)
    return [Criterion("retirement", "earliest expected retirement of a unit (year)", first,
                      np.isfinite(first) & (first <= retiring_by),
                      f"<= {retiring_by} (planned retirement, else start year + useful life)"),
            Criterion("retiring_capacity", "capacity of the site's retiring units (MW)", mw,
                      mw >= smallest_module_mw - 1e-9, f">= {smallest_module_mw:g} MW, one module of the designs costed")]


def screen_coal_sites(region: Region, rules: Siting, sites: pd.DataFrame, smallest_module_mw: float,
                      retiring_by: int, epz_km: float | None = None, max_network_km: float = 150.0) -> ScreenResult:
    """Screen every coal site as a land small-reactor site with the scenario's siting rules and the
    repowering criteria.

    Parameters
    ----------
    region : Region
        Settlements (population), land, water, hazard and seismic-zone layers.
    rules : Siting
        The scenario's siting rules.
    sites : pandas.DataFrame
        `site_table` rows (``gem_location_id``, ``lon`` / ``lat`` in degrees, ``retiring_mw`` in MW...).
    smallest_module_mw : float
        Smallest purchase unit of the designs costed (MWe), for ``retiring_capacity``.
    retiring_by : int
        The retiring-by year, for ``retirement``.
    epz_km : float, optional
        Smallest emergency planning zone of the designs costed (km); the scenario's applies where larger.
    max_network_km : float
        Largest distance to a load (km, the ``nearest_load`` rule).

    Returns
    -------
    ScreenResult
        One land candidate per site: ``site_id`` (= gem_location_id), the site columns, every
        criterion's ``_value`` and ``_pass``, ``suitable`` and ``reason``.
    """
    cand = sites.copy()
    cand.insert(0, "site_id", cand["gem_location_id"].astype(str))
    for name, values in labels("land", "coal site", len(cand), rules.h3_resolution).items():
        cand[name] = values
    cand["from_settlement"], cand["offshore_km"] = "", np.nan
    cand = gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand["lon"], cand["lat"]), crs="EPSG:4326")
    extra = repowering_criteria(sites, smallest_module_mw, retiring_by)
    return screen(region, rules, cand, {"land": epz_km} if epz_km is not None else None, max_network_km, extra=extra)
