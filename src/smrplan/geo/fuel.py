"""Which settlements buy diesel at a fuel depot's price.

Island diesel pays a logistics surcharge for the onward delivery from a depot to outer-island power
houses by sea (the catalogue's `island_logistics_usd_per_l`). A settlement that a road tanker reaches
from a depot pays the depot price: its nearest depot lies within `region.fuel_depot_reach_km` and the
straight route between them crosses no more sea than `region.water_gap_km` (the width below which the
project treats two shores as joined; `smrplan.geo.grid.route_split_km` measures the sea part).
"""

from __future__ import annotations

import numpy as np

from smrplan.geo.distance import PointIndex
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region


def at_fuel_depot(region: Region, lon, lat, reach_km: float) -> np.ndarray:
    """Per settlement: is diesel bought at a depot's price (no island logistics surcharge)?

    Parameters
    ----------
    region : Region
        Its `fuel_depots` (points, WGS84), land and sea (`Region.is_sea`) and `water_gap_km` (km).
    lon, lat : array_like
        Settlement positions (degrees, WGS84).
    reach_km : float
        Longest straight-line road haul from a depot without the surcharge (km).

    Returns
    -------
    numpy.ndarray
        Bool per settlement; all False when the region has no fuel depots.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    out = np.zeros(len(lon), bool)
    depots = region.fuel_depots
    if depots is None or not len(depots) or not len(lon):
        return out
    dlon, dlat = depots.geometry.x.to_numpy(), depots.geometry.y.to_numpy()
    dist, idx = PointIndex(dlon, dlat).nearest(lon, lat, k=1)
    near = np.flatnonzero(dist[:, 0] <= reach_km)
    if len(near):
        nearest = idx[near, 0]
        _, sea_km = route_split_km(region, dlon[nearest], dlat[nearest], lon[near], lat[near])
        out[near] = sea_km <= region.water_gap_km
    return out


def fuel_surcharge(is_island, fuel_at_depot=None) -> np.ndarray:
    """Per settlement (or unit): pays the island logistics surcharge on diesel, i.e. on an island and
    not at a fuel depot (`at_fuel_depot`; None: no depot known).

    Parameters
    ----------
    is_island : array_like of bool
        On an island.
    fuel_at_depot : array_like of bool, optional
        Diesel bought at a depot's price.

    Returns
    -------
    numpy.ndarray
        Bool per row.
    """
    island = np.asarray(is_island, bool)
    return island if fuel_at_depot is None else island & ~np.asarray(fuel_at_depot, bool)


def surcharge_column(settlements) -> np.ndarray:
    """`fuel_surcharge` of a settlement table (columns `is_island` and, where known, `fuel_at_depot`)."""
    at_depot = settlements["fuel_at_depot"].to_numpy(bool) if "fuel_at_depot" in settlements else None
    return fuel_surcharge(settlements["is_island"].to_numpy(bool), at_depot)
