"""Population for places that have none, and population projection.

`allocate_population` spreads district totals (e.g. Census 2011 district populations joined with
`smrplan.geo.importers.join_census_districts`) over the places of each district that have no
population of their own (e.g. GeoNames postal places): each district's total minus the population
of its places that have one, in equal shares or in proportion to a weight column. Places are
assigned to districts with a spatial index (shapely STRtree); everything is vectorised over places.

Assumptions: a place belongs to the first district (in the districts' order) whose polygon
intersects its point; places with a population keep it; a district whose known places already hold
more than its total allocates nothing (reported); districts without a total (NaN) allocate nothing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError


def allocate_population(places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, total: str = "population",
                        weight: str | None = None) -> gpd.GeoDataFrame:
    """Fill missing ``population`` (persons) of places from district totals.

    places: points (any CRS; matched in the districts' CRS) with a ``population`` column, NaN where
        unknown (a missing column means every place is unknown).
    districts: polygons with the district total (persons) in column `total`; NaN = no total.
    weight: optional column of `places` (>= 0, e.g. a household count or a settlement size class)
        that divides a district's remainder among its places without population in proportion to
        it; None = equal shares. A district whose unknown places all weigh 0 uses equal shares.

    Returns a copy of the places with ``population`` filled where possible, ``district_index`` (the
    label of the district in `districts`, NA outside every district) and ``population_source``:
    "input" (had one), "allocated", or "none" (outside every district, or in a district without a
    total or with nothing left to allocate). ``attrs["allocation"]`` reports: places_outside,
    places_without_total, districts_over_allocated (known population above the total),
    allocated_population, unallocated_population (remainders of districts without unknown places).
    """
    if total not in districts.columns:
        raise InputError(None, f"districts column {total}", f"no district total column {total!r}; "
                                                           f"found {list(districts.columns)}")
    n, n_d = len(places), len(districts)
    pts = places.geometry.to_crs(districts.crs) if places.crs != districts.crs else places.geometry
    place_idx, district_idx = shapely.STRtree(districts.geometry.values).query(
        pts.values, predicate="intersects")
    order = np.lexsort((district_idx, place_idx))  # first district of each place
    place_idx, district_idx = place_idx[order], district_idx[order]
    first = np.unique(place_idx, return_index=True)[1]
    district = np.full(n, -1)
    district[place_idx[first]] = district_idx[first]
    inside = district >= 0

    pop = (pd.to_numeric(places["population"], errors="coerce").to_numpy(float) if "population" in places.columns
           else np.full(n, np.nan))
    known = np.isfinite(pop)
    unknown_in = ~known & inside
    w = np.ones(n)
    if weight is not None:
        w = _weights(places, weight)
    d_safe = np.where(inside, district, 0)
    totals = pd.to_numeric(districts[total], errors="coerce").to_numpy(float)
    known_sum = np.bincount(district[known & inside], weights=pop[known & inside], minlength=n_d)
    n_unknown = np.bincount(district[unknown_in], minlength=n_d)
    w_sum = np.bincount(district[unknown_in], weights=w[unknown_in], minlength=n_d)
    remainder = totals - known_sum
    over = remainder < 0
    remainder = np.where(over, 0.0, remainder)
    equal = w_sum <= 0  # no weight in the district: equal shares
    share_w = np.where(equal[d_safe], 1.0, w)
    share_sum = np.where(equal, n_unknown, w_sum)
    has_total = np.isfinite(totals)
    gets = unknown_in & has_total[d_safe] & (remainder[d_safe] > 0)
    allocated = np.where(gets, remainder[d_safe] * share_w / np.maximum(share_sum[d_safe], 1e-300), np.nan)

    out = places.copy()
    out["population"] = np.where(known, pop, allocated)
    labels = pd.Series(districts.index.to_numpy()[d_safe], index=out.index)
    if districts.index.dtype.kind in "iu":
        labels = labels.astype("Int64")
    out["district_index"] = labels.where(inside)  # missing outside every district
    out["population_source"] = np.select([known, gets], ["input", "allocated"], "none")
    out.attrs["allocation"] = {
        "places_outside": int((~inside).sum()),
        "places_without_total": int((unknown_in & ~has_total[d_safe]).sum()),
        "districts_over_allocated": int((over & has_total).sum()),
        "allocated_population": float(np.nansum(allocated)),
        "unallocated_population": float(remainder[has_total & (n_unknown == 0)].sum()),
    }
    return out


def _weights(places: pd.DataFrame, column: str) -> np.ndarray:
    if column not in places.columns:
        raise InputError(None, f"places column {column}", f"weight column missing; found {list(places.columns)}")
    raw = places[column]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        r = bad[0]
        ident = f" (id {places['id'].iloc[r]})" if "id" in places.columns else ""
        raise InputError(None, f"row {r + 1}{ident}, column {column}",
                         f"weight {raw.iloc[r]!r} must be a finite number >= 0 ({len(bad)} row(s))")
    return w


def project_population(pop: float | np.ndarray | pd.Series, base_year: int | np.ndarray,
                       target_year: int | np.ndarray, growth: float | np.ndarray | pd.Series
                       ) -> float | np.ndarray | pd.Series:
    """Population in `target_year`: pop x (1 + growth) ^ (target_year - base_year).

    pop: persons (scalar, array or Series); base_year, target_year: years (scalars or per row);
    growth: annual growth rate as a fraction (0.01 = 1 %/yr), a scalar or one per row (> -1).
    Compound growth at a constant rate is assumed. A Series in gives a Series (same index) out.
    """
    g = np.asarray(growth, dtype=float)
    if np.any(~np.isfinite(g)) or np.any(g <= -1):
        raise InputError(None, "growth", "annual growth rates must be finite numbers above -1 (fractions, 0.01 = 1 %/yr)")
    years = np.asarray(target_year, dtype=float) - np.asarray(base_year, dtype=float)
    factor = (1.0 + g) ** years
    if isinstance(pop, pd.Series):
        return pop * factor
    out = np.asarray(pop, dtype=float) * factor
    return float(out) if out.ndim == 0 else out
