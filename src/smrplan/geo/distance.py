"""Great-circle distances and neighbour searches on WGS84 points.

Distances are haversine on a sphere of radius 6,371.0088 km (IUGG mean Earth radius), in km.
Neighbour searches use scikit-learn's BallTree with the haversine metric, so they scale to national
point sets without Python loops over points.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import BallTree

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius (Moritz 2000, Geodetic Reference System 1980)


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


class PointIndex:
    """BallTree (haversine) over WGS84 points for radius and nearest queries, distances in km."""

    def __init__(self, lon, lat):
        self.n = len(np.asarray(lon))
        xy = np.radians(np.column_stack([np.asarray(lat, float), np.asarray(lon, float)]))
        self._tree = BallTree(xy if self.n else np.zeros((1, 2)), metric="haversine")

    @staticmethod
    def _q(lon, lat) -> np.ndarray:
        return np.radians(np.column_stack([np.asarray(lat, float), np.asarray(lon, float)]))

    def nearest(self, lon, lat, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances (km) and indices of the k nearest indexed points for each query point."""
        if self.n == 0:
            m = len(np.asarray(lon))
            return np.full((m, k), np.inf), np.full((m, k), -1)
        k = min(k, self.n)
        dist, idx = self._tree.query(self._q(lon, lat), k=k)
        return dist * EARTH_RADIUS_KM, idx

    def within(self, lon, lat, radius_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All pairs within radius_km (inclusive), as flat arrays (query index, point index, km)."""
        m = len(np.asarray(lon))
        if self.n == 0 or m == 0:
            e = np.array([], dtype=int)
            return e, e, np.array([], dtype=float)
        # A hair above the radius so a point exactly on the circle is counted (inclusive rule).
        idx, dist = self._tree.query_radius(self._q(lon, lat), r=(radius_km + 1e-9) / EARTH_RADIUS_KM,
                                            return_distance=True)
        counts = np.fromiter((len(i) for i in idx), dtype=np.int64, count=m)
        q = np.repeat(np.arange(m), counts)
        p = np.concatenate(idx).astype(np.int64) if counts.sum() else np.array([], dtype=np.int64)
        d = np.concatenate(dist) * EARTH_RADIUS_KM if counts.sum() else np.array([], dtype=float)
        return q, p, d
