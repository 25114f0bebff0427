"""Great-circle distances and neighbour searches on WGS84 points.

Distances are haversine on a sphere of radius 6,371.0088 km (IUGG mean Earth radius), in km.
Neighbour searches (`PointIndex`) use a scipy cKDTree over 3-D unit vectors, so they scale to
national point sets without Python loops over points, on `process_threads` threads (scipy's searches
release the GIL; the results do not depend on the threads). Sums of weights within radii use a grid of
running totals (`smrplan.geo.summed_grid`), whose work does not grow with the points inside each circle.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from smrplan.partition import process_threads

if TYPE_CHECKING:
    from smrplan.geo.summed_grid import SummedGrid

_GRID_LOCK = threading.Lock()

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius (Moritz 2000, Geodetic Reference System 1980)
WITHIN_TOLERANCE_KM = 1e-6  # 1 mm: a point on a radius query's circle counts as inside


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting arrays).

    Parameters
    ----------
    lon1, lat1 : array_like
        First points (degrees, WGS84).
    lon2, lat2 : array_like
        Second points (degrees, WGS84), broadcast against the first.

    Returns
    -------
    numpy.ndarray
        Distance on a sphere of radius `EARTH_RADIUS_KM` (km).
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def destination(lon, lat, bearing_deg, distance_km) -> tuple[np.ndarray, np.ndarray]:
    """Point reached from (lon, lat) along a bearing (degrees from north) after distance_km.

    Parameters
    ----------
    lon, lat : array_like
        Start points (degrees, WGS84).
    bearing_deg : array_like
        Initial bearing (degrees clockwise from north).
    distance_km : array_like
        Great-circle distance travelled (km).

    Returns
    -------
    lon, lat : numpy.ndarray
        End points (degrees, WGS84; longitude wrapped to [-180, 180)).
    """
    lat1, lon1 = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    brg = np.radians(np.asarray(bearing_deg, float))
    d = np.asarray(distance_km, float) / EARTH_RADIUS_KM
    lat2 = np.arcsin(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(brg))
    lon2 = lon1 + np.arctan2(np.sin(brg) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2))
    return (np.degrees(lon2) + 540) % 360 - 180, np.degrees(lat2)


def unit_vectors(lon, lat) -> np.ndarray:
    """Unit vectors of WGS84 points on the sphere, the space of `PointIndex`'s searches.

    Parameters
    ----------
    lon, lat : array_like
        (M,) points, degrees.

    Returns
    -------
    numpy.ndarray
        (M, 3) x, y, z: x towards (0 E, 0 N), z towards the north pole.
    """
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def _chord(km: float) -> float:
    """Straight-line distance between two unit vectors `km` apart on the sphere."""
    return 2.0 * np.sin(min(km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))


class PointIndex:
    """WGS84 points in a scipy cKDTree over 3-D unit vectors, for nearest and radius queries in
    great-circle km: the chord between unit vectors grows with the arc, so the nearest by chord is
    the nearest on the sphere, and a radius r is the chord 2 sin(r / 2R). Distances returned are
    `haversine_km` of the pairs found. The one spherical neighbour index of the package."""

    def __init__(self, lon, lat):
        self.lon, self.lat = np.asarray(lon, float), np.asarray(lat, float)
        self.n = len(self.lon)
        self._tree = cKDTree(unit_vectors(self.lon, self.lat)) if self.n else None
        self._grid: SummedGrid | None = None

    def nearest(self, lon, lat, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances (km) and indices of the k nearest indexed points for each query point: arrays
        (queries, k), nearest first; inf and -1 when the index is empty."""
        lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        if self._tree is None or len(lon) == 0:
            return np.full((len(lon), k), np.inf), np.full((len(lon), k), -1)
        k = min(k, self.n)
        _, idx = self._tree.query(unit_vectors(lon, lat), k=k, workers=process_threads())
        idx = np.asarray(idx).reshape(len(lon), k)
        return haversine_km(lon[:, None], lat[:, None], self.lon[idx], self.lat[idx]), idx

    def neighbours(self, k: int) -> np.ndarray:
        """Positions of each indexed point's k nearest indexed points (itself among them, first unless
        another point shares its place), nearest first: an array (points, min(k, points))."""
        if self._tree is None:
            return np.zeros((0, k), dtype=np.intp)
        k = min(k, self.n)
        return np.asarray(self._tree.query(self._tree.data, k=k, workers=process_threads())[1]).reshape(self.n, k)

    def sums_within(self, lon, lat, weights, radii_km) -> np.ndarray:
        """Sums of the indexed points' weights within each radius (km, inclusive, 1 mm tolerance) of each
        query point.

        A point is within when its chord from the query is at most the chord of the radius, as in
        `within`. The sums come from the index's `SummedGrid` (built at the first call and kept): whole
        grid cells inside a circle are summed from running totals, only the points of the cells its
        edge crosses are measured, so the work grows with the query points and the radii, not with the
        points inside each circle (a national set of millions of settlements has thousands within 16 km
        of each site). Each query point's sums have the same bits whichever other points, radii, chunks
        and threads it is queried with; for whole-number weights they are exact.

        Parameters
        ----------
        lon, lat : array_like
            (Q,) query points, degrees.
        weights : array_like
            (M,) or (M, K) weights of the indexed points (e.g. persons).
        radii_km : sequence of float
            The R radii, km.

        Returns
        -------
        numpy.ndarray
            (Q, R, K) sums (K = 1 for one weight per point).
        """
        from smrplan.geo.summed_grid import SummedGrid  # numba's import, where sums are asked for only

        with _GRID_LOCK:  # threads that share an index build its grid once
            if self._grid is None:
                self._grid = SummedGrid.build(self.lon, self.lat, unit_vectors(self.lon, self.lat) if self._tree is None
                                              else self._tree.data)
        arcs = (np.asarray(radii_km, float) + WITHIN_TOLERANCE_KM) / EARTH_RADIUS_KM
        return self._grid.sums(lon, lat, weights, arcs)

    def __getstate__(self) -> dict:
        """The index without its summed grid, which a process that needs it builds (it is larger than the points)."""
        return {**self.__dict__, "_grid": None}

    def within(self, lon, lat, radius_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All pairs within radius_km (inclusive, 1 mm tolerance) as flat arrays sorted by query:
        query index, point index, km."""
        lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        if self._tree is None or len(lon) == 0:
            e = np.array([], dtype=np.int64)
            return e, e, np.array([], dtype=float)
        pairs = cKDTree(unit_vectors(lon, lat)).sparse_distance_matrix(self._tree, _chord(radius_km + WITHIN_TOLERANCE_KM),
                                                                 output_type="ndarray")
        q, p = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
        order = np.lexsort((p, q))
        q, p = q[order], p[order]
        d = haversine_km(lon[q], lat[q], self.lon[p], self.lat[p])
        keep = d <= radius_km + WITHIN_TOLERANCE_KM
        return q[keep], p[keep], d[keep]
