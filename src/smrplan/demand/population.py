"""Population for places that have none.

`allocate_population` spreads district totals (e.g. Census 2011 district populations joined with
`smrplan.geo.importers.join_census_districts`) over the places of each district that have no
population of their own (e.g. GeoNames postal places): each district's total minus the population
of its places that have one, in equal shares or in proportion to a weight column. Places are
assigned to districts with a spatial index (shapely STRtree); everything is vectorised over places.

Assumptions: a place belongs to the first district (in the districts' order) whose polygon
intersects its point; places with a population keep it; a district whose known places already hold
more than its total allocates nothing (reported); districts without a total (NaN) allocate nothing.

Districts newer than the census (`census_pools`): a district without a census total was carved out
of one or more neighbouring census districts, and the census counted its people there. Such a
district is pooled with the districts of the same state that share a border with it (connected
components of the graph "shares a border, same state, at least one of the two without a total", so
that a chain of new districts joins the districts around it); the pool's census totals are added and
allocated over all places of the pool by the same rule as a single district (`allocate_population`
with ``pool=``). Districts with a total that touch no new district form a pool of their own, so their
allocation is unchanged. Persons are conserved: each pool hands out exactly its summed census totals
unless its known places already hold more (reported) or it has no place without a population.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError


def census_pools(districts: gpd.GeoDataFrame, total: str = "population", state: str = "st_nm") -> np.ndarray:
    """Pool label (0..k-1) of each district: districts without a census total (NaN in `total`) are
    joined with every district of the same `state` that shares a border with them (a stretch of
    boundary of positive length; touching at a corner is not enough), transitively through other
    districts without a total; every other district is a pool of its own.

    One STRtree query over all districts, the shared length of the candidate pairs, and connected
    components of the resulting graph (scipy); no loop over districts.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        District polygons (a projected or geographic CRS; only the topology is used).
    total : str, default "population"
        Column of the census totals (persons; NaN or text = no total).
    state : str, default "st_nm"
        Column of the state names (compared trimmed, case-insensitive); without it, one state.

    Returns
    -------
    numpy.ndarray
        Pool label of each district (int), in the districts' order.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(districts)
    if n == 0:
        return np.zeros(0, dtype=int)
    geoms = np.asarray(districts.geometry.values)
    has = np.isfinite(pd.to_numeric(districts[total], errors="coerce").to_numpy(float))
    st = districts[state].astype(str).str.strip().str.lower().to_numpy() if state in districts.columns \
        else np.zeros(n, dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (a < b) & (st[a] == st[b]) & ~(has[a] & has[b])
    a, b = a[keep], b[keep]
    if len(a):
        # Boundary of one inside the other (closed) polygon: a shared border, or an overlap of
        # slightly mismatched neighbours; a corner touch has length 0.
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[a]), geoms[b]))
        a, b = a[shared > 0], b[shared > 0]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def allocate_population(places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, total: str = "population",
                        weight: str | None = None, pool: str | None = None) -> gpd.GeoDataFrame:
    """Fill missing ``population`` (persons) of places from district totals.

    Steps: each place is matched to the first district containing it (`_first_district`), districts
    are grouped into pools (`_pool_numbers`), and each pool's remainder is shared over its places
    without a population (`_pool_shares`).

    Parameters
    ----------
    places : geopandas.GeoDataFrame
        Points (any CRS; matched in the districts' CRS) with a ``population`` column, persons, NaN
        where unknown (a missing column means every place is unknown).
    districts : geopandas.GeoDataFrame
        Polygons with the district total (persons) in column `total`; NaN = no total.
    total : str
        Column of `districts` holding the totals, persons.
    weight : str or None
        Optional column of `places` (>= 0, e.g. a household count or a settlement size class) that
        divides a district's remainder among its places without population in proportion to it;
        None = equal shares. A district whose unknown places all weigh 0 uses equal shares.
    pool : str or None
        Optional column of `districts` (e.g. from `census_pools`); districts with the same value form
        one pool: their totals (NaN ignored; NaN when none has one) are added and allocated over the
        places of all of them, by the same rule. None = every district alone.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of the places with ``population`` (persons) filled where possible, ``district_index``
        (the label of the district in `districts`, NA outside every district) and
        ``population_source``: "input" (had one), "allocated", or "none" (outside every district, or
        in a district without a total or with nothing left to allocate). ``attrs["allocation"]``
        reports: places_outside, places_without_total, districts_over_allocated (pools, i.e.
        districts without `pool`, whose known population is above the total),
        over_allocated_population (persons of known places above those totals),
        allocated_population, unallocated_population (persons; remainders of pools without unknown
        places).

    Raises
    ------
    InputError
        When `districts` has no column `total`, or `weight` is given and missing, negative or not a
        number.
    """
    if total not in districts.columns:
        raise InputError(None, f"districts column {total}", f"no district total column {total!r}; "
                                                           f"found {list(districts.columns)}")
    n = len(places)
    district = _first_district(places.geometry, districts)
    inside = district >= 0
    pop = (pd.to_numeric(places["population"], errors="coerce").to_numpy(float) if "population" in places.columns
           else np.full(n, np.nan))
    known = np.isfinite(pop)
    w = np.ones(n) if weight is None else _weights(places, weight)
    d_totals = pd.to_numeric(districts[total], errors="coerce").to_numpy(float)
    allocated, report = _pool_shares(pop, w, district, _pool_numbers(districts, pool), d_totals)

    out = places.copy()
    out["population"] = np.where(known, pop, allocated)
    d_safe = np.where(inside, district, 0)
    labels = pd.Series(districts.index.to_numpy()[d_safe], index=out.index)
    if districts.index.dtype.kind in "iu":
        labels = labels.astype("Int64")
    out["district_index"] = labels.where(inside)  # missing outside every district
    out["population_source"] = np.select([known, np.isfinite(allocated)], ["input", "allocated"], "none")
    out.attrs["allocation"] = report
    return out


def _first_district(points: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> np.ndarray:
    """District of each point, by one STRtree query.

    Parameters
    ----------
    points : geopandas.GeoSeries
        Place points, any CRS (matched in the districts' CRS).
    districts : geopandas.GeoDataFrame
        District polygons.

    Returns
    -------
    numpy.ndarray
        (N,) int: position (0..D-1) in `districts` of the first district whose polygon intersects each
        point, -1 for a point outside every district.
    """
    pts = points.to_crs(districts.crs) if points.crs != districts.crs else points
    place_idx, district_idx = shapely.STRtree(districts.geometry.values).query(pts.values, predicate="intersects")
    order = np.lexsort((district_idx, place_idx))  # first district of each place
    place_idx, district_idx = place_idx[order], district_idx[order]
    first = np.unique(place_idx, return_index=True)[1]
    district = np.full(len(points), -1)
    district[place_idx[first]] = district_idx[first]
    return district


def _pool_numbers(districts: pd.DataFrame, pool: str | None) -> np.ndarray:
    """Pool of each district.

    Parameters
    ----------
    districts : pandas.DataFrame
        The districts.
    pool : str or None
        Column of `districts` whose equal values form one pool; None = every district alone.

    Returns
    -------
    numpy.ndarray
        (D,) int pool number 0..P-1: the district's own position without `pool`, else the rank of its
        value in column `pool` in order of appearance (NaN is a value of its own).
    """
    if pool is None:
        return np.arange(len(districts))
    if pool not in districts.columns:
        raise InputError(None, f"districts column {pool}", f"no pool column {pool!r}; found {list(districts.columns)}")
    return pd.factorize(districts[pool].to_numpy(), use_na_sentinel=False)[0]


def _pool_shares(pop: np.ndarray, w: np.ndarray, district: np.ndarray, pool_of: np.ndarray,
                 d_totals: np.ndarray) -> tuple[np.ndarray, dict]:
    """Share each pool's total minus its known population over its places without a population.

    The shares are in proportion to the weights, or equal when every unknown place of the pool weighs
    0. A pool whose known places hold more than its total allocates nothing (reported as over
    allocated); a pool without unknown places keeps its remainder (reported as unallocated).

    Parameters
    ----------
    pop : numpy.ndarray
        (N,) known population of each place, persons; NaN where unknown.
    w : numpy.ndarray
        (N,) weight of each place, >= 0 (any unit; only ratios within a pool matter).
    district : numpy.ndarray
        (N,) int district position of each place, -1 outside every district.
    pool_of : numpy.ndarray
        (D,) int pool number of each district.
    d_totals : numpy.ndarray
        (D,) district totals, persons; NaN = no total.

    Returns
    -------
    allocated : numpy.ndarray
        (N,) persons allocated to each place; NaN where nothing is allocated (known population, outside
        every district, pool without a total or with nothing left).
    report : dict
        places_outside, places_without_total, districts_over_allocated (counts),
        over_allocated_population, allocated_population, unallocated_population (persons).
    """
    n, n_d = len(pop), len(d_totals)
    inside = district >= 0
    known = np.isfinite(pop)
    unknown_in = ~known & inside
    n_p = int(pool_of.max()) + 1 if n_d else 0
    p_of = pool_of[np.where(inside, district, 0)] if n_d else np.zeros(n, dtype=int)  # 0 outside: masked
    d_has = np.isfinite(d_totals)
    totals = np.bincount(pool_of[d_has], weights=d_totals[d_has], minlength=n_p)
    has_total = np.bincount(pool_of[d_has], minlength=n_p) > 0
    totals = np.where(has_total, totals, np.nan)
    known_sum = np.bincount(p_of[known & inside], weights=pop[known & inside], minlength=n_p)
    n_unknown = np.bincount(p_of[unknown_in], minlength=n_p)
    w_sum = np.bincount(p_of[unknown_in], weights=w[unknown_in], minlength=n_p)
    remainder = totals - known_sum
    over = remainder < 0
    over_by = np.where(over & has_total, -remainder, 0.0)
    remainder = np.where(over, 0.0, remainder)
    equal = w_sum <= 0  # no weight in the pool: equal shares
    share_w = np.where(equal[p_of], 1.0, w)
    share_sum = np.where(equal, n_unknown, w_sum)
    gets = unknown_in & has_total[p_of] & (remainder[p_of] > 0)
    allocated = np.where(gets, remainder[p_of] * share_w / np.maximum(share_sum[p_of], 1e-300), np.nan)
    report = {
        "places_outside": int((~inside).sum()),
        "places_without_total": int((unknown_in & ~has_total[p_of]).sum()),
        "districts_over_allocated": int((over & has_total).sum()),
        "over_allocated_population": float(over_by.sum()),
        "allocated_population": float(np.nansum(allocated)),
        "unallocated_population": float(remainder[has_total & (n_unknown == 0)].sum()),
    }
    return allocated, report


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

