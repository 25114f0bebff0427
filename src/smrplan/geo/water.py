"""Inland water: the lake, river and dam layers, and land pieces joined across narrow water.

Three classes of surface (docs/methodology.md, "Land, sea and inland water"):

* land: inside a land polygon (not in one of its holes);
* inland water: a hole of a land polygon (rivers, reservoirs, ponds), a lake polygon of the `lakes`
  layer, or water enclosed by land once gaps narrower than `region.water_gap_km` are closed (a lagoon
  such as Vembanad, whose mouth at Kochi is a few hundred metres wide, lies outside the land
  polygons' outer rings but is enclosed this way);
* sea: everything else.

The enclosed land (`enclosed_pieces`) is the morphological closing of the filled land polygons by
half the gap (buffer out, buffer back in, in the metric CRS), unioned with the filled land polygons
and the lake polygons, then filled. Each of its parts is one connected piece of land and inland
water: a river island (Majuli) lies inside the filled mainland, a lagoon's shores are one piece, and
land across a channel narrower than the gap (Rameswaram) is joined to the mainland.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from smrplan.errors import InputError
from smrplan.geo.checks import numbers, required_columns
from smrplan.geo.io import _to_wgs84, read_rows

# Kinds of water `Region.water_distance_km` knows, in the order ties are resolved.
WATER_KINDS = ("sea", "river", "lake", "dam")
_GEOMETRY = {"lakes": ({"Polygon", "MultiPolygon"}, "polygons (lakes and reservoirs)"),
             "rivers": ({"LineString", "MultiLineString"}, "lines (river centre lines)"),
             "dams": ({"Point"}, "points (dam locations, or a table with lon/lat)")}
# Arc segments per quarter circle of the closing buffers: the closing only decides which water is
# enclosed, so a coarse arc (2 segments, at most 8 % inside the true circle) is enough and 5x faster.
_QUAD_SEGS = 2


def read_water_layer(name: str, path: Path, repair: bool = False) -> gpd.GeoDataFrame:
    """Read an inland water layer: ``lakes`` (polygons), ``rivers`` (lines, optional ``wdb_level``)
    or ``dams`` (points with ``gross_storage_mcm``).

    Parameters
    ----------
    name : {"lakes", "rivers", "dams"}
        The layer.
    path : Path
        Its file (any vector format; dams also a CSV / Parquet table with lon / lat columns, degrees).
    repair : bool
        Drop rows without coordinates or geometry and dams with a bad storage (logged, counted)
        instead of stopping.

    Returns
    -------
    geopandas.GeoDataFrame
        geometry (WGS84) with, for rivers, ``wdb_level`` (World Data Bank II level 1-10, NaN when the
        layer has none) and, for dams, ``gross_storage_mcm`` (million m3, NaN where unknown).
        ``attrs["dropped_rows"]`` counts the rows left out, ``attrs["repairs"]`` the fixes.

    Raises
    ------
    InputError
        Naming the file, row and field: no feature of the expected geometry type, a dams table
        without ``gross_storage_mcm``, a negative or non-numeric storage, a river level outside 1-10.
    """
    t = read_rows(path, "repair" if repair else "raise", drop_missing_coords=True)
    _to_wgs84(t)
    types, expect = _GEOMETRY[name]
    geom = t.gdf.geometry
    keep = geom.notna().to_numpy() & ~geom.is_empty.to_numpy() & geom.geom_type.isin(types).to_numpy()
    if not keep.any():
        found = sorted(set(geom.dropna().geom_type))
        raise InputError(path, "geometry", f"the {name} layer has no {expect}; found {found or 'no geometry'}")
    t.dropped += int((~keep).sum())
    t.select(keep)
    if name == "dams":
        required_columns(t, ("gross_storage_mcm",))
        numbers(t, "gross_storage_mcm", minimum=0.0, missing=None, kind="bad_storage")
    if name == "rivers":
        if "wdb_level" not in t.gdf.columns:
            t.gdf["wdb_level"] = np.nan
        numbers(t, "wdb_level", minimum=1.0, missing=None, kind="bad_river_level")
        over = t.gdf["wdb_level"].to_numpy(float) > 10
        if over.any():
            r = int(np.flatnonzero(over)[0])
            raise InputError(path, t.label(r, "column wdb_level"),
                             f"{t.gdf['wdb_level'].iloc[r]:g} is not a World Data Bank II level; expected 1-10")
    cols = {"lakes": [], "rivers": ["wdb_level"], "dams": ["gross_storage_mcm"]}[name]
    gdf = gpd.GeoDataFrame(t.gdf[cols + ["geometry"]], geometry="geometry", crs="EPSG:4326")
    if name == "lakes":
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    gdf.attrs["dropped_rows"] = t.dropped
    if repair:
        gdf.attrs["repairs"] = dict(t.fixes.counts)
    return gdf


def enclosed_pieces(land: np.ndarray, lakes: np.ndarray, metric_crs: str, gap_km: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Connected pieces of land and inland water (filled polygons, WGS84) and their areas.

    Parameters
    ----------
    land : numpy.ndarray
        Land polygons (WGS84); their holes are inland water.
    lakes : numpy.ndarray
        Lake and reservoir polygons (WGS84), possibly empty.
    metric_crs : str
        CRS the closing is done in (metres).
    gap_km : float
        Water narrower than this joins the land on both sides (closing by half of it).

    Returns
    -------
    pieces : numpy.ndarray
        Filled polygons (WGS84), one per connected piece: the filled land polygons closed by
        `gap_km` / 2, with the lake polygons, unioned.
    area_km2 : numpy.ndarray
        Area of each piece (km2, in the metric CRS).
    """
    filled = shapely.polygons(shapely.get_exterior_ring(land))
    geoms = gpd.GeoSeries(np.concatenate([filled, np.asarray(lakes, dtype=object)]), crs="EPSG:4326")
    metric = shapely.union_all(geoms.to_crs(metric_crs).values)
    d = gap_km * 500.0
    closed = shapely.buffer(shapely.buffer(metric, d, quad_segs=_QUAD_SEGS), -d, quad_segs=_QUAD_SEGS) if d > 0 else metric
    parts = shapely.get_parts(shapely.union_all([closed, metric]))
    parts = shapely.polygons(shapely.get_exterior_ring(parts[shapely.get_type_id(parts) == 3]))
    parts = shapely.get_parts(shapely.union_all(parts))  # a filled island in another piece's hole joins it
    area = shapely.area(parts) / 1e6
    return gpd.GeoSeries(parts, crs=metric_crs).to_crs("EPSG:4326").values, area
