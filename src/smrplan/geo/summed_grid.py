"""Sums of point weights within radii of query points, from running totals over a latitude-longitude grid.

The points are sorted by the cell of a regular latitude-longitude grid they lie in, row after row, and
the weights are summed cumulatively in that order, so the weight of any run of cells in one row is the
difference of two running totals. For a query point and a radius, the cells of each row that the circle
may reach are a run of columns (the distance from the query to a cell's centre grows with the
longitude difference along a row); within that run, the cells whose centre lies within the radius less
the cell's half-diagonal (the distance from its centre to its farthest corner) hold only points within
the radius, and are summed from the running totals. Only the points of the cells at either end of the
run, which the circle may cross, are measured one by one, by the chord between unit vectors as
`smrplan.geo.distance.PointIndex` measures it. So the work of a query grows with the radius over the
cell size (rows) and with the points in a band about a cell wide along the circle, not with every point
inside the circle: at millions of settlements, thousands lie within 16 km of a site.

The classification leaves a margin of about 6 mm on either side (`MARGIN_RAD`), far above the rounding of the
trigonometry, so a cell summed whole holds no point beyond the radius and a cell left out holds none
within it. The grid wraps at the antimeridian. A query's sums add its rows in order, each row's whole
cells first and then its measured points in grid order: the same bits whichever other points it is
queried with, and whichever chunks or threads. For whole-number weights (persons) the sums are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smrplan.compiled import compiled
from smrplan.partition import on_threads, process_threads

MARGIN_RAD = 1e-9  # about 6 mm of arc: cells summed whole lie this far inside the radius, cells left out this far outside
POINTS_PER_CELL = 8  # mean points of an occupied cell: fewer rows per query against fewer points measured one by one
MAX_CELLS = 1 << 24  # cells of the grid at most (its table of cell starts: 128 MB)
QUERY_CHUNK = 20_000  # query points per call of the compiled loop, spread over threads


@dataclass(frozen=True)
class SummedGrid:
    """Points sorted by the cell of a latitude-longitude grid (`build`), for sums within radii (`sums`).

    Attributes
    ----------
    lat0, lon0 : float
        South-west corner of the grid, radians.
    dlat, dlon : float
        Cell height and width, radians.
    rows, cols : int
        Cells along the meridians and the parallels.
    order : numpy.ndarray
        (M,) position of each sorted point among the points given.
    xyz : numpy.ndarray
        (M, 3) unit vectors of the sorted points.
    start : numpy.ndarray
        (rows x cols + 1,) position of the first sorted point of each cell (row-major), then M.
    half_diagonal : numpy.ndarray
        (rows,) distance from a cell's centre to its farthest corner in each row, radians of arc.
    """

    lat0: float
    lon0: float
    dlat: float
    dlon: float
    rows: int
    cols: int
    order: np.ndarray
    xyz: np.ndarray
    start: np.ndarray
    half_diagonal: np.ndarray

    @classmethod
    def build(cls, lon, lat, unit, points_per_cell: float = POINTS_PER_CELL, max_cells: int = MAX_CELLS
              ) -> SummedGrid:
        """The grid of points given in degrees, its cells sized for `points_per_cell`.

        Parameters
        ----------
        lon, lat : array_like
            (M,) points, degrees.
        unit : array_like
            (M, 3) their unit vectors (x, y, z), as `smrplan.geo.distance.PointIndex` indexes them.
        points_per_cell : float, default `POINTS_PER_CELL`
            Mean points of an occupied cell the size aims at: the cell side is set from the points per
            unit area of the bounding box, then once more from the share of its cells that hold points
            (settlements cover land, not the sea in their box). A cell is no taller nor wider than the
            points' extent. Results do not depend on it (tested); the time does, little between 4 and 32.
        max_cells : int, default `MAX_CELLS`
            Cells at most; the cells grow where more would be needed.

        Returns
        -------
        SummedGrid
        """
        lam = _wrapped(np.radians(np.asarray(lon, float)))
        phi = np.radians(np.asarray(lat, float))
        n = len(phi)
        lat0, lon0 = (float(phi.min()), float(lam.min())) if n else (0.0, 0.0)
        span_lat = float(phi.max()) - lat0 if n else 0.0
        span_lon = float(lam.max()) - lon0 if n else 0.0
        squash = max(math.cos(lat0 + span_lat / 2), 0.05)  # a cell's width over its height at mid-latitude
        area = max(span_lat, 1e-9) * max(span_lon * squash, 1e-9)  # radians squared, flat
        side = math.sqrt(area * points_per_cell / max(n, 1))
        for refine in (True, False):
            while True:  # cells no larger than the points' extent, and no more than max_cells of them
                dlat, dlon = min(side, max(span_lat, 1e-9)), min(side / squash, max(span_lon, 1e-9))
                rows, cols = int(span_lat / dlat) + 1, int(span_lon / dlon) + 1
                if rows * cols <= max_cells:
                    break
                side *= 1.25
            cell = np.minimum((phi - lat0) / dlat, rows - 1).astype(np.int64) * cols + \
                np.minimum((lam - lon0) / dlon, cols - 1).astype(np.int64)
            counts = np.bincount(cell, minlength=rows * cols)
            if refine and n:  # the points per occupied cell, not per cell of the bounding box
                side = side * math.sqrt(np.count_nonzero(counts) * points_per_cell / n)
        order = np.argsort(cell, kind="stable")
        start = np.zeros(rows * cols + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        xyz = np.asarray(unit, float).reshape(n, 3)[order]
        centre = lat0 + (np.arange(rows) + 0.5) * dlat
        half_diagonal = np.maximum(_arc(centre, centre + dlat / 2, dlon / 2), _arc(centre, centre - dlat / 2, dlon / 2))
        return cls(lat0, lon0, dlat, dlon, rows, cols, order, xyz, start, half_diagonal)

    def sums(self, lon, lat, weights, arcs) -> np.ndarray:
        """Sums of the points' weights within each radius of each query point, radii as angles of arc.

        Parameters
        ----------
        lon, lat : array_like
            (Q,) query points, degrees.
        weights : array_like
            (M, K) or (M,) weights of the points, in the order given to `build`.
        arcs : sequence of float
            The R radii, radians of arc (km over the Earth's radius); a point is within when its chord
            from the query (between unit vectors) is at most the chord of the arc, 2 sin(arc / 2).

        Returns
        -------
        numpy.ndarray
            (Q, R, K) sums.
        """
        lam = _wrapped(np.radians(np.atleast_1d(np.asarray(lon, float))))
        phi = np.radians(np.atleast_1d(np.asarray(lat, float)))
        w = np.asarray(weights, float)
        w = w[:, None] if w.ndim == 1 else w
        arcs = np.asarray(arcs, float).reshape(-1)
        out = np.zeros((len(phi), len(arcs), w.shape[1]))
        if len(phi) == 0 or len(arcs) == 0 or len(self.order) == 0:
            return out
        ordered = np.ascontiguousarray(w[self.order])
        running = np.zeros((len(self.order) + 1, w.shape[1]))
        np.cumsum(ordered, axis=0, out=running[1:])
        grid = (self.lat0, self.lon0, self.dlat, self.dlon, self.cols, self.start, self.xyz, ordered, running,
                self.half_diagonal, MARGIN_RAD)

        def fill(part: slice) -> None:
            _sums(*grid, phi[part], lam[part], arcs, out[part])

        step = max(1, min(QUERY_CHUNK, -(-len(phi) // process_threads())))
        on_threads(fill, (slice(a, a + step) for a in range(0, len(phi), step)))  # each writes its own rows
        return out


def _wrapped(lam: np.ndarray) -> np.ndarray:
    """Longitudes in radians brought into [-pi, pi)."""
    return (lam + np.pi) % (2 * np.pi) - np.pi


def _arc(lat1, lat2, dlon) -> np.ndarray:
    """Great-circle angle between points at two latitudes `dlon` apart, radians (haversine)."""
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


@compiled
def _half_width(arc: float, hav_dlat: float, cos_product: float) -> float:
    """Longitude difference at which a parallel meets the circle of `arc` radians around a point, from
    haversine terms: -1 when the parallel lies beyond the circle, pi when the circle holds it all."""
    if arc >= math.pi:
        return math.pi
    if arc <= 0.0:
        return -1.0
    x = (math.sin(arc / 2) ** 2 - hav_dlat) / cos_product if cos_product > 0.0 else (
        1.0 if math.sin(arc / 2) ** 2 >= hav_dlat else -1.0)
    if x < 0.0:
        return -1.0
    if x >= 1.0:
        return math.pi
    return 2.0 * math.asin(math.sqrt(x))


@compiled
def _sums(lat0: float, lon0: float, dlat: float, dlon: float, cols: int, start: np.ndarray, xyz: np.ndarray,
          ordered: np.ndarray, running: np.ndarray, half_diagonal: np.ndarray, margin: float, phi: np.ndarray, lam: np.ndarray,
          arcs: np.ndarray, out: np.ndarray) -> None:
    """Add each query's sums within each arc to `out` (Q, R, K), row by row of the grid (module docstring).

    Angles in radians; `ordered` (M, K) holds the weights in cell order, `running` (M + 1, K) their
    running totals.
    """
    rows = half_diagonal.shape[0]
    widest = half_diagonal.max()
    for q in range(phi.shape[0]):
        pq, lq = phi[q], lam[q]
        cq = math.cos(pq)
        ux, uy, uz = cq * math.cos(lq), cq * math.sin(lq), math.sin(pq)
        for k in range(arcs.shape[0]):
            arc = arcs[k]
            chord2 = (2.0 * math.sin(min(arc, math.pi) / 2)) ** 2
            reach = arc + widest + margin
            first = max(0, int(math.floor((pq - reach - lat0) / dlat)))
            last = min(rows - 1, int(math.floor((pq + reach - lat0) / dlat)))
            for row in range(first, last + 1):
                pc = lat0 + (row + 0.5) * dlat
                hav_dlat = math.sin((pc - pq) / 2) ** 2
                cos_product = cq * math.cos(pc)
                h = half_diagonal[row]
                outer = _half_width(arc + h + margin, hav_dlat, cos_product)
                if outer < 0.0:
                    continue
                whole = outer >= math.pi  # the circle holds a whole parallel: measure every point of the row
                inner = -1.0 if whole else _half_width(arc - h - margin, hav_dlat, cos_product)
                base = row * cols
                for s in range(1 if whole else 3):  # the query's longitude and its copies a turn west and east
                    centre = (lq + (s - 1) * 2.0 * math.pi - lon0) / dlon - 0.5
                    if whole:
                        lo, hi = 0, cols - 1
                    else:
                        lo = max(0, int(math.ceil(centre - outer / dlon)))
                        hi = min(cols - 1, int(math.floor(centre + outer / dlon)))
                    if lo > hi:
                        continue
                    in_lo, in_hi = hi + 1, hi  # no cell whole unless the inner run says so
                    if inner >= 0.0:
                        a = max(lo, int(math.ceil(centre - inner / dlon)))
                        b = min(hi, int(math.floor(centre + inner / dlon)))
                        if a <= b:
                            in_lo, in_hi = a, b
                    s0, s1 = start[base + in_lo], start[base + in_hi + 1]
                    for j in range(running.shape[1]):
                        out[q, k, j] += running[s1, j] - running[s0, j]
                    _add_measured(out[q, k], xyz, ordered, start[base + lo], s0, ux, uy, uz, chord2)
                    _add_measured(out[q, k], xyz, ordered, s1, start[base + hi + 1], ux, uy, uz, chord2)


@compiled
def _add_measured(total: np.ndarray, xyz: np.ndarray, ordered: np.ndarray, first: int, stop: int, ux: float,
                  uy: float, uz: float, chord2: float) -> None:
    """Add to `total` (K,) the weights of the sorted points first to stop - 1 whose squared chord from the
    unit vector (ux, uy, uz) is at most `chord2`, in their order."""
    for p in range(first, stop):
        if (xyz[p, 0] - ux) ** 2 + (xyz[p, 1] - uy) ** 2 + (xyz[p, 2] - uz) ** 2 <= chord2:
            for j in range(total.shape[0]):
                total[j] += ordered[p, j]
