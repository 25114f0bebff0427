"""Demand per settlement: households, annual energy, peak and the hourly load shape.

Method (all defaults in scenarios/defaults.yaml with their sources):

* population in the target year = population x (1 + g)^(target_year - population_base_year);
* households = the settlement's household count grown like population, or population / household
  size (urban and rural sizes weighted by the urban share when `population_urban` is given);
* consumption growth c = (1 + consumption_growth_per_year)^(target_year - population_base_year): the
  use per household and per non-residential user grows from the base-year level;
* residential energy (kWh/yr) = households x the Multi-Tier Framework threshold of the scenario tier x c;
* total energy = residential / (1 - non-residential share) + anchor load (kW) x 8,760 h x anchor load
  factor; a measured `existing_demand_kwh`, grown at the consumption growth rate, is a floor;
* calibration: where a settlement has a measured energy (`measured_energy_kwh`, kWh/yr, in
  `measured_year`), the energy above (without anchor loads) is scaled by measured / modelled-in-that-year,
  one factor per settlement, so the model reproduces the measured figure and grows from it;
* peak (kW) = total energy / 8,760 h / load factor.

Hourly shapes (8,760 values) mix the normalised daily profiles of `data/load_shapes.csv` by the
shares and monthly factors of `data/load_mixes.csv`, then are sharpened or flattened (a power of
the shape) so that the annual peak matches the load factor while annual energy is kept exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd

from smrplan.errors import InputError
from smrplan.scenario import Demand
from smrplan.units import HOURS_PER_YEAR  # also imported from here by uncertainty.sweep


@dataclass(frozen=True)
class DemandBasis:
    """What a settlement's demand depends on apart from the scenario's demand settings.

    Attributes
    ----------
    population : numpy.ndarray
        Census population in `population_base_year`.
    urban_share : numpy.ndarray
        Urban share of the population (0-1): from `population_urban`, the `urban` flag, or 0.
    households : numpy.ndarray
        Given household count in the base year (NaN where not given).
    anchor_load_kw : numpy.ndarray
        Anchor load (kW, 0 where none).
    existing_demand_kwh : numpy.ndarray
        Measured demand in the base year (kWh/yr, 0 where none).
    measured_energy_kwh : numpy.ndarray
        Measured recent energy the demand is calibrated to (kWh/yr, NaN where none).
    measured_year : numpy.ndarray
        Year of `measured_energy_kwh` (NaN where none).
    """

    population: np.ndarray
    urban_share: np.ndarray
    households: np.ndarray
    anchor_load_kw: np.ndarray
    existing_demand_kwh: np.ndarray
    measured_energy_kwh: np.ndarray
    measured_year: np.ndarray


def demand_basis(settlements: pd.DataFrame) -> DemandBasis:
    """The `DemandBasis` of a settlement table (columns `population` and the optional `population_urban`,
    `urban`, `households`, `anchor_load_kw`, `existing_demand_kwh`, `measured_energy_kwh` with `measured_year`).

    Raises
    ------
    InputError
        When a measured energy is not positive or has no year.
    """
    pop = settlements["population"].to_numpy(float)
    n = len(pop)
    if "population_urban" in settlements.columns:
        urban_share = np.divide(settlements["population_urban"].to_numpy(float), pop,
                                out=np.zeros_like(pop), where=pop > 0).clip(0, 1)
    elif "urban" in settlements.columns:
        urban_share = settlements["urban"].astype(bool).to_numpy(float)
    else:
        urban_share = np.zeros(n)

    def column(name: str, missing: float) -> np.ndarray:
        return settlements[name].to_numpy(float) if name in settlements.columns else np.full(n, missing)

    measured, year = column("measured_energy_kwh", np.nan), column("measured_year", np.nan)
    bad = np.isfinite(measured) & ((measured <= 0) | ~np.isfinite(year))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(None, f"row {row}, measured_energy_kwh",
                         f"measured energy must be > 0 kWh/yr with a measured_year; got {measured[row]} in {year[row]}")
    return DemandBasis(pop, urban_share, column("households", np.nan), np.nan_to_num(column("anchor_load_kw", 0.0)),
                       np.nan_to_num(column("existing_demand_kwh", 0.0)), measured, year)


def _uncalibrated_kwh(basis: DemandBasis, demand: Demand, year: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Households and residential + non-residential energy (kWh/yr, no anchor loads) in `year`, before calibration."""
    years = np.asarray(year, float) - demand.population_base_year
    pop_growth = (1.0 + demand.population_growth_per_year) ** years
    hh_size = basis.urban_share * demand.household_size_urban + (1 - basis.urban_share) * demand.household_size_rural
    given = basis.households
    households = np.where(np.isfinite(given) & (given > 0), given * pop_growth, basis.population * pop_growth / hh_size)
    consumption_growth = (1.0 + demand.consumption_growth_per_year) ** years
    residential = households * demand.tier_kwh_per_household_year[demand.tier - 1] * consumption_growth
    return households, residential / (1.0 - demand.non_residential_share)


def calibration_factor(basis: DemandBasis, demand: Demand) -> np.ndarray:
    """Per-settlement scale of modelled energy: measured / modelled in the measured year (1 where not measured)."""
    measured = np.isfinite(basis.measured_energy_kwh)
    modelled = _uncalibrated_kwh(basis, demand, np.where(measured, basis.measured_year, demand.population_base_year))[1]
    return np.where(measured & (modelled > 0), np.divide(basis.measured_energy_kwh, modelled, out=np.ones_like(modelled),
                                                         where=modelled > 0), 1.0)


def settlement_demand(basis: DemandBasis, demand: Demand, target_year: int) -> dict[str, np.ndarray]:
    """Demand of every settlement in the target year (the method in the module docstring).

    Parameters
    ----------
    basis : DemandBasis
        Per-settlement population, households and measured loads.
    demand : smrplan.scenario.Demand
        The scenario's demand settings (growth rates, tier, household sizes, shares, load factors).
    target_year : int
        Year the demand is for.

    Returns
    -------
    dict[str, numpy.ndarray]
        population_target, households_target, residential_kwh_per_year, demand_kwh_per_year (kWh/yr)
        and peak_kw (kW).
    """
    years = target_year - demand.population_base_year
    population = basis.population * (1.0 + demand.population_growth_per_year) ** years
    households, energy = _uncalibrated_kwh(basis, demand, target_year)
    scale = calibration_factor(basis, demand)
    residential = energy * (1.0 - demand.non_residential_share) * scale
    total = energy * scale + basis.anchor_load_kw * HOURS_PER_YEAR * demand.anchor_load_factor
    total = np.maximum(total, basis.existing_demand_kwh * (1.0 + demand.consumption_growth_per_year) ** years)
    return {"population_target": population, "households_target": households, "residential_kwh_per_year": residential,
            "demand_kwh_per_year": total, "peak_kw": total / HOURS_PER_YEAR / demand.load_factor}


def compute_demand(settlements: gpd.GeoDataFrame, demand: Demand, target_year: int) -> gpd.GeoDataFrame:
    """A copy of the settlements with their demand columns (see `settlement_demand`): population_target,
    households_target, residential_kwh_per_year, demand_kwh_per_year (kWh/yr) and peak_kw (kW).

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        ``population`` (persons, in the scenario's population base year) and the optional columns of
        `demand_basis`; not modified.
    demand : smrplan.scenario.Demand
        The scenario's demand settings.
    target_year : int
        Year the demand is for.

    Returns
    -------
    geopandas.GeoDataFrame
        The copy, with population_target (persons) and households_target added as well.
    """
    out = settlements.copy()
    for name, values in settlement_demand(demand_basis(settlements), demand, target_year).items():
        out[name] = values
    return out


@lru_cache(maxsize=8)
def _shape_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = resources.files("smrplan.data")
    with data.joinpath("load_shapes.csv").open(encoding="utf-8") as f:
        shapes = pd.read_csv(f, comment="#").set_index("profile")
    with data.joinpath("load_mixes.csv").open(encoding="utf-8") as f:
        mixes = pd.read_csv(f, comment="#").set_index("mix")
    return shapes, mixes


def mix_names() -> list[str]:
    """Names of the load-shape mixes available in data/load_mixes.csv."""
    return sorted(_shape_tables()[1].index)


def hourly_shape(mix: str, year: int = 2035) -> np.ndarray:
    """Normalised 8,760-hour shape (sums to 1) for a load mix, local time, non-leap year days."""
    shapes, mixes = _shape_tables()
    if mix not in mixes.index:
        raise InputError(None, "demand.load_shape", f"unknown load shape {mix!r}; expected one of {mix_names()}")
    row = mixes.loc[mix]
    hours = [f"h{h:02d}" for h in range(24)]
    daily = np.zeros(24)
    for profile in shapes.index:
        share = float(row.get(profile, 0.0))
        p = shapes.loc[profile, hours].to_numpy(float)
        daily += share * p / p.sum()
    days = pd.date_range(f"{year}-01-01", periods=365, freq="D")
    month_factor = row[[f"m{m:02d}" for m in range(1, 13)]].to_numpy(float)[days.month - 1]
    shape = (month_factor[:, None] * daily[None, :]).ravel()
    return shape / shape.sum()


def hourly_load_kw(annual_kwh: np.ndarray, peak_kw: np.ndarray, mix: str) -> np.ndarray:
    """Hourly load (S x 8760, kW) for S systems with given annual energy and peak.

    The normalised shape s is sharpened or flattened as s^gamma (renormalised to keep annual energy
    exactly) with gamma found by bisection so that peak / mean load equals each system's
    peak / mean (peak / mean of s^gamma rises monotonically with gamma). Loads stay positive; a peak
    below the mean is raised to the mean (flat load).

    Parameters
    ----------
    annual_kwh : numpy.ndarray
        Annual energy of each system (kWh/yr).
    peak_kw : numpy.ndarray
        Peak load of each system (kW).
    mix : str
        Load-shape mix of ``data/load_mixes.csv`` (`mix_names`).

    Returns
    -------
    numpy.ndarray
        Hourly load (kW), S x 8760, each row summing to the system's annual kWh.

    Raises
    ------
    InputError
        When `mix` is not a known load-shape mix.
    """
    shape = hourly_shape(mix)
    annual_kwh = np.asarray(annual_kwh, float)
    mean_kw = annual_kwh / HOURS_PER_YEAR
    ratio = np.divide(np.asarray(peak_kw, float), mean_kw, out=np.ones_like(mean_kw), where=mean_kw > 0)
    ratio = np.maximum(ratio, 1.0)
    targets, inverse = np.unique(np.round(ratio, 9), return_inverse=True)
    log_s = np.log(shape / shape.max())[None, :]
    lo, hi = np.zeros(len(targets)), np.full(len(targets), 1.0)

    def peak_ratio(gamma: np.ndarray) -> np.ndarray:
        w = np.exp(gamma[:, None] * log_s)
        return w.max(axis=1) / w.mean(axis=1)

    while (peak_ratio(hi) < targets).any() and hi.max() < 1e4:
        hi = np.where(peak_ratio(hi) < targets, hi * 2.0, hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = peak_ratio(mid) < targets
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    gamma = 0.5 * (lo + hi)
    w = np.exp(gamma[:, None] * log_s)
    w /= w.sum(axis=1, keepdims=True)
    return annual_kwh[:, None] * w[inverse]
