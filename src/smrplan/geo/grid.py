"""Distances to the existing grid, land/sea split of routes, and network lengths.

* Route split: a straight route between two WGS84 points is sampled at evenly spaced interior points;
  the share of samples at sea (`Region.is_sea`) gives the submarine part, the rest is an overland line.
  Samples on inland water (rivers, lakes, reservoirs, lagoons) count as overland: lines in India are
  strung across rivers and lakes on towers. End points count as land (they are settlements, grid
  nodes or berths).
* Nearest grid: the nearest grid node (`PointIndex`) or, when a `grid_lines` layer is given, the nearest
  point of a grid line (STRtree nearest in the metric CRS), whichever is closer.
* Network length for a group of points: the minimum spanning tree of their great-circle distances
  (scipy), a standard upper estimate of a Steiner tree (at most 2/sqrt(3) ~ 1.155 times longer).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree

from smrplan.geo.distance import PointIndex, haversine_km
from smrplan.geo.layers import Region
from smrplan.partition import on_threads

ROUTE_SAMPLES = 32
# Routes split at a time: bounds the sample arrays to ROUTE_CHUNK x ROUTE_SAMPLES points (about 34 MB
# of coordinates) per thread however many routes there are.
ROUTE_CHUNK = 65_536


def route_split_km(region: Region, lon1, lat1, lon2, lat2, samples: int = ROUTE_SAMPLES):
    """Land / sea split of straight routes between point pairs, vectorised over pairs.

    Parameters
    ----------
    region : Region
        Land, sea and inland water (`Region.is_sea`).
    lon1, lat1, lon2, lat2 : array_like
        Route ends (degrees, WGS84).
    samples : int
        Interior points sampled along each route.

    Returns
    -------
    land_km, sea_km : numpy.ndarray
        Overland (inland water crossings included) and submarine length of each route (km).

    Notes
    -----
    Routes are split `ROUTE_CHUNK` at a time. The first chunk runs alone (it builds what the region
    keeps for its land / sea tests, such as `Region.is_sea_many`'s cells); the others run side by side
    on threads (`smrplan.partition.on_threads`; numpy and GEOS release the GIL), each writing its own routes.
    """
    lon1, lat1, lon2, lat2 = (np.asarray(a, float) for a in (lon1, lat1, lon2, lat2))
    length = haversine_km(lon1, lat1, lon2, lat2)
    if len(length) == 0:
        return length, length.copy()
    t = (np.arange(samples) + 0.5) / samples
    share = np.empty(len(length))

    def split(a: int) -> None:
        c = slice(a, a + ROUTE_CHUNK)
        lon = lon1[c, None] + (lon2[c] - lon1[c])[:, None] * t[None, :]
        lat = lat1[c, None] + (lat2[c] - lat1[c])[:, None] * t[None, :]
        share[c] = region.is_sea_many(lon.ravel(), lat.ravel()).reshape(lon.shape).mean(axis=1)

    on_threads(split, range(0, len(length), ROUTE_CHUNK), first_alone=True)  # each chunk writes its own routes
    sea = length * share
    return length - sea, sea


def nearest_grid(region: Region, lon, lat) -> dict[str, np.ndarray]:
    """Nearest grid connection point of each settlement: distance and its land/sea split.

    Parameters
    ----------
    region : Region
        Grid nodes and / or a `grid_lines` layer, and the land mask.
    lon, lat : array_like
        Settlement positions (degrees, WGS84).

    Returns
    -------
    dict
        grid_distance_km, grid_land_km, grid_sea_km (km) and grid_lon, grid_lat (degrees) of the
        connection point; distances are infinite (positions NaN) when the region has no grid layer.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = len(lon)
    best = np.full(n, np.inf)
    glon, glat = np.full(n, np.nan), np.full(n, np.nan)
    if region.grid_nodes is not None and len(region.grid_nodes):
        g = region.grid_nodes.geometry
        dist, idx = PointIndex(g.x.to_numpy(), g.y.to_numpy()).nearest(lon, lat, k=1)
        best, glon, glat = dist[:, 0], g.x.to_numpy()[idx[:, 0]], g.y.to_numpy()[idx[:, 0]]
    lines = region.layers.get("grid_lines")
    if lines is not None and len(lines):
        crs = region.metric_crs
        geoms = lines.to_crs(crs).geometry.values
        pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(crs).values
        tree = shapely.STRtree(geoms)
        (qi, li), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
        nearest_pts = shapely.shortest_line(pts[qi], geoms[li])
        end = gpd.GeoSeries(shapely.get_point(nearest_pts, 1), crs=crs).to_crs("EPSG:4326")
        closer = d / 1000.0 < best[qi]
        sel = qi[closer]
        best[sel] = d[closer] / 1000.0
        glon[sel], glat[sel] = end.x.to_numpy()[closer], end.y.to_numpy()[closer]
    land_km, sea_km = np.full(n, np.inf), np.full(n, np.inf)
    ok = np.isfinite(best)
    if ok.any():
        land_km[ok], sea_km[ok] = route_split_km(region, lon[ok], lat[ok], glon[ok], glat[ok])
    return {"grid_distance_km": best, "grid_land_km": land_km, "grid_sea_km": sea_km,
            "grid_lon": glon, "grid_lat": glat}


def mst_length_km(lon, lat) -> float:
    """Length of the minimum spanning tree joining points over great-circle distances.

    Parameters
    ----------
    lon, lat : array_like
        Point positions (degrees, WGS84).

    Returns
    -------
    float
        Tree length (km); 0 for fewer than two points.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if len(lon) < 2:
        return 0.0
    d = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    d[d == 0] = 1e-9  # coincident points stay connected
    np.fill_diagonal(d, 0.0)
    return float(minimum_spanning_tree(d).sum())

