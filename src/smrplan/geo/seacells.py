"""A pre-classified grid of cells that answers `Region.is_sea` for most points without geometry.

The region's bounding box of what is not sea (`Region.enclosed`: the pieces of filled land, lakes and
mainland-enclosed water, an STRtree of polygons) is cut into square cells of `CELL_DEG` degrees, and
each mixed cell into quarters, `REFINE_LEVELS` times (a quadtree, stored by coarse cell: one class
for a coarse cell whose finest cells all share it, the grid of its finest cells otherwise). A cell is
*land* when one piece covers the whole cell, *sea* when no piece touches it, and *mixed* otherwise;
each cell is tested slightly enlarged (`_MARGIN_DEG`), so a point that rounding puts in a neighbouring
cell is still inside the tested box. A point in a land or sea cell takes the cell's class, which is
what the exact test (a point is not at sea when it intersects a piece) would give; a point off the
grid is beyond every piece, at sea; a point in a mixed cell or not finite gets the exact test. The
answers are therefore identical to `Region.is_sea`, only cheaper: two STRtree queries over the cells
once per region, then an array lookup per point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

# Side of the coarsest cells (degrees, about 22 km) and the times a mixed cell is quartered again
# (down to 0.00625 degrees, about 700 m): India's box (about 30 x 31 degrees) becomes about 25,000
# coarse cells; only the mixed ones (coasts, lake shores, island groups and the cut lines between
# pieces) are refined. Each level halves the points left to the exact test (measured on a national
# screen: 653,000 at 3 levels, 163,000 at 5) and doubles the build (1 s to 5.5 s for India), which
# is paid once per land layer (`geo.diskcache`). The grid of the finest cells would be 26 MB of int8 at
# 5 levels; kept only inside the 2,146 coarse cells whose finest cells differ, it is 2.2 MB.
CELL_DEG = 0.2
REFINE_LEVELS = 5
# Each cell is tested enlarged by this much (degrees, about 1 mm) on every side, far more than the
# rounding of a point's cell index.
_MARGIN_DEG = 1e-8
_SEA, _LAND, _MIXED = 0, 1, 2


@dataclass(frozen=True)
class SeaCells:
    """Class of every finest cell (`_SEA`, `_LAND`, `_MIXED`), stored by coarse cell, and the grid's
    origin and cell side.

    A coarse cell holds `side` x `side` finest cells (rows by latitude). Where they all share one class
    the coarse cell holds that class alone; elsewhere its finest cells are kept in `blocks`.

    Attributes
    ----------
    coarse : numpy.ndarray
        Class shared by all finest cells of each coarse cell, -1 where they differ (int8, rows of
        latitude x columns of longitude).
    block_of : numpy.ndarray
        Position in `blocks` of each coarse cell of class -1, -1 elsewhere (int32, shape of `coarse`).
    blocks : numpy.ndarray
        Finest cells of the coarse cells of class -1 (int8, blocks x side x side).
    lon0, lat0 : float
        South-west corner of the grid (degrees, WGS84).
    cell : float
        Side of the finest cells (degrees).
    """

    coarse: np.ndarray
    block_of: np.ndarray
    blocks: np.ndarray
    lon0: float
    lat0: float
    cell: float

    @property
    def side(self) -> int:
        """Finest cells along a coarse cell's side."""
        return int(self.blocks.shape[1])

    @classmethod
    def build(cls, not_sea: shapely.STRtree, cell: float = CELL_DEG, levels: int = REFINE_LEVELS) -> SeaCells:
        """Classify the cells of the pieces' bounding box.

        Parameters
        ----------
        not_sea : shapely.STRtree
            Polygons (WGS84) a point must intersect not to be at sea (`Region.enclosed().not_sea`).
        cell : float
            Side of the coarsest cells (degrees).
        levels : int
            Times each mixed cell is cut into four and its quarters classified again.

        Returns
        -------
        SeaCells
            The classified grid of the finest cells (side `cell` / 2 ** `levels`); with no pieces, a
            single sea cell.
        """
        geoms = not_sea.geometries
        if len(geoms) == 0:
            return cls.of_grid(np.zeros((1, 1), np.int8), 0.0, 0.0, 360.0, 1)
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        nx, ny = int(np.ceil((x1 - x0) / cell)) + 1, int(np.ceil((y1 - y0) / cell)) + 1
        ii, jj = np.divmod(np.arange(nx * ny), nx)
        kind = _classify(not_sea, x0 + jj * cell, y0 + ii * cell, cell).reshape(ny, nx)
        for _ in range(levels):
            kind, cell = np.repeat(np.repeat(kind, 2, axis=0), 2, axis=1), cell / 2
            ii, jj = np.nonzero(kind == _MIXED)
            kind[ii, jj] = _classify(not_sea, x0 + jj * cell, y0 + ii * cell, cell)
        return cls.of_grid(kind, float(x0), float(y0), float(cell), 2 ** levels)

    @classmethod
    def of_grid(cls, kind: np.ndarray, lon0: float, lat0: float, cell: float, side: int) -> SeaCells:
        """The cells of a whole grid of finest cells, stored by coarse cells of `side` x `side`.

        Parameters
        ----------
        kind : numpy.ndarray
            Class of each finest cell (int8, rows of latitude x columns of longitude); each coarse
            cell is `side` of them along each side (`kind`'s shape is a multiple of `side`).
        lon0, lat0 : float
            South-west corner of the grid (degrees).
        cell : float
            Side of the finest cells (degrees).
        side : int
            Finest cells along a coarse cell's side.

        Returns
        -------
        SeaCells
        """
        ny, nx = kind.shape[0] // side, kind.shape[1] // side
        by_block = kind.reshape(ny, side, nx, side).swapaxes(1, 2)  # (ny, nx, side, side)
        first = by_block[:, :, :1, :1]
        uniform = (by_block == first).all(axis=(2, 3))
        coarse = np.where(uniform, first[:, :, 0, 0], -1).astype(np.int8)
        block_of = np.full((ny, nx), -1, np.int32)
        block_of[~uniform] = np.arange(int((~uniform).sum()), dtype=np.int32)
        return cls(coarse, block_of, np.ascontiguousarray(by_block[~uniform], np.int8).reshape(-1, side, side),
                   lon0, lat0, cell)

    def arrays(self) -> dict[str, np.ndarray]:
        """The grid as arrays (for `diskcache`): ``coarse``, ``block_of``, ``blocks`` and ``origin``
        (lon0, lat0, cell; degrees)."""
        return {"coarse": self.coarse, "block_of": self.block_of, "blocks": self.blocks,
                "origin": np.array([self.lon0, self.lat0, self.cell])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SeaCells:
        """The grid `arrays` gave."""
        lon0, lat0, cell = (float(v) for v in arrays["origin"])
        return cls(np.asarray(arrays["coarse"], np.int8), np.asarray(arrays["block_of"], np.int32),
                   np.asarray(arrays["blocks"], np.int8), lon0, lat0, cell)

    def is_sea(self, lon: np.ndarray, lat: np.ndarray,
               exact: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Boolean array: is each WGS84 point at sea? Cells answer; `exact` answers points in mixed cells.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Points (degrees, WGS84).
        exact : callable
            The exact test (`Region.is_sea`), called once on the points the cells do not decide.

        Returns
        -------
        numpy.ndarray
            True at sea (bool).
        """
        side = self.side
        ny, nx = self.coarse.shape[0] * side, self.coarse.shape[1] * side
        fi, fj = np.floor((lat - self.lat0) / self.cell), np.floor((lon - self.lon0) / self.cell)
        inside = (fi >= 0) & (fi < ny) & (fj >= 0) & (fj < nx)  # False for NaN
        kind = np.where(np.isfinite(lon) & np.isfinite(lat), _SEA, _MIXED).astype(np.int8)  # off the grid: sea
        i, j = fi[inside].astype(np.intp), fj[inside].astype(np.intp)
        bi, bj = i // side, j // side
        found = self.coarse[bi, bj]
        split = found < 0
        found[split] = self.blocks[self.block_of[bi[split], bj[split]], i[split] % side, j[split] % side]
        kind[inside] = found
        out = kind == _SEA
        mixed = np.flatnonzero(kind == _MIXED)
        if len(mixed):
            out[mixed] = exact(lon[mixed], lat[mixed])
        return out


def _classify(not_sea: shapely.STRtree, left: np.ndarray, bottom: np.ndarray, cell: float) -> np.ndarray:
    """Class of each cell (`_SEA`, `_LAND` or `_MIXED`, int8) from its south-west corner (degrees) and
    side (degrees), the cell enlarged by `_MARGIN_DEG` on every side."""
    boxes = shapely.box(left - _MARGIN_DEG, bottom - _MARGIN_DEG, left + cell + _MARGIN_DEG,
                        bottom + cell + _MARGIN_DEG)
    kind = np.full(len(boxes), _SEA, np.int8)
    kind[not_sea.query(boxes, predicate="intersects")[0]] = _MIXED
    kind[not_sea.query(boxes, predicate="covered_by")[0]] = _LAND
    return kind
