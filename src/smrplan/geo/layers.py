"""The region of a scenario: settlements plus optional context layers, all in WGS84.

Land and sea: with a `land` polygon layer, a point is on land when a polygon covers it; without one,
the `global-land-mask` package (1 km grid, offline) decides, and every settlement's own point counts
as land (the mask misses small atolls such as Kavaratti and Bitra, as design.md records).
Holes in the land polygons are inland water (the OpenStreetMap India polygon has about 27,000:
rivers, reservoirs, lakes and ponds, 47,700 km2 in all). They are not land (`is_land`), but they are
not sea either. `is_sea` is off the land polygons' outer rings, off the `lakes` layer and off the water
the mainland encloses across narrow gaps (lagoons; `enclosed`, `smrplan.geo.water`), so that floating
plants are placed and screened at sea, never on a reservoir, a lagoon or a village pond; the coastline
(`coast_distance_km`) is the polygons' outer rings. `land_status` tells islands (land not joined to the
mainland) and `water_distance_km` the nearest cooling water (sea, river, lake, dam).

National scale: a country's land polygon has over 100,000 vertices, and a point-in-polygon test
or a nearest-boundary query against one such polygon costs time proportional to its vertex count.
The land layer is therefore cut (once per region, cached) into pieces of at most
`MAX_PIECE_VERTICES` vertices by recursive halving of their bounding boxes (as PostGIS
ST_Subdivide does), and the coastline into two-point segments; STRtree queries over the pieces and
segments then take about a microsecond per point (100,000 points in about 0.1 s).

Settlements come from a `settlements` layer, or are built from GeoNames towns, GeoNames post-office
places and Census 2011 district totals (`build_settlements`). Productive (anchor) loads of an
`anchor_loads` point layer are then joined to the nearest settlement within
`demand.anchor_join_max_km`; a load farther from every settlement becomes a settlement of its own
(population 0, ``is_anchor_only``), so that a remote mine or port is still planned for
(`join_anchor_loads`). With ``repair`` (the CLI's ``--repair``) fixable problems of the settlements
and anchor layers are repaired, logged and counted instead of stopping (see `smrplan.geo.io`).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from smrplan.demand.population import allocate_population, census_pools
from smrplan.errors import InputError
from smrplan.geo import seacells, water
from smrplan.geo.checks import Fixes, Rows, unique_ids
from smrplan.geo.coal import district_seismic_zones, read_coal_units
from smrplan.geo.diskcache import cached, key_of, pack_geometries, unpack_geometries
from smrplan.geo.distance import PointIndex, destination, haversine_km
from smrplan.geo.importers import (
    join_census_districts,
    read_census_districts,
    read_districts,
    read_geonames_cities,
    read_geonames_postal,
)
from smrplan.geo.io import attribution, read_anchor_loads, read_settlements, read_vector, resolve
from smrplan.geo.seacells import SeaCells
from smrplan.geo.water import WATER_KINDS, enclosed_pieces, read_water_layer
from smrplan.limits import data_limits
from smrplan.partition import on_threads
from smrplan.scenario import BUILD_LAYERS, DISTRICT_TABLES, STATISTICS_LAYERS, WATER_LAYERS, Scenario, defaults

log = logging.getLogger("smrplan.layers")

_RASTER_LAYERS = {"bathymetry", "dem"}
# Largest number of vertices of one land piece: 256 keeps each point-in-polygon test cheap while the
# mainland of India (about 157,000 vertices) becomes about 1,800 pieces (measured: 100,000 points
# in 0.1 s against 9 s for 1,000 points on the whole polygon).
MAX_PIECE_VERTICES = 256
# Bearings (degrees) and step (km) of the search for the sea along rays over the global land mask.
SEA_BEARINGS = np.arange(0.0, 360.0, 22.5)
SEA_STEP_KM = 0.25
# Settlement points closer than this are the same place when building settlements (degrees; 1e-5 deg
# is about 1 m, finer than the 4-decimal (11 m) coordinates GeoNames publishes).
_SAME_POINT_DEG = 1e-5
# A ray-coast crossing whose distance from the line equations is this much beyond the ray's least is not
# its first (m: far above the rounding of the equations and of shapely's crossing point, `_may_be_first`);
# a segment within this sine of its ray's direction counts as parallel.
_CROSSING_TOL_M = 1.0
_PARALLEL_SINE = 1e-9
# Tops of the groups of search bounds of `_nearest_within_km` (km).
_BOUND_GROUPS_KM = np.array([1.0, 4.0, 16.0, 64.0, np.inf])
CROSSING_CHUNK = 32_768
"""Rays of `Region.coast_crossing_km` measured together (a bound on the memory of their intersections)."""
# Held while a region builds what it keeps (land pieces, coast, enclosed water, sea cells, water trees):
# threads that ask for the same structure together build it once (re-entrant: builds use each other).
_BUILD_LOCK = threading.RLock()


@dataclass
class Region:
    """Settlements and context layers of a scenario (GeoDataFrames in EPSG:4326).

    `dropped_rows` counts input rows left out, by layer (and by reason for built settlements);
    `repairs` counts the fixes of repair mode, by layer and kind; `data_gaps` says why a layer is
    missing (the scenario's `data_gaps`); `attributions` credits each layer read from a folder that
    carries a sources.csv (`smrplan.geo.io.attribution`); `anchor_loads` reports the join of
    the anchor-load layer (empty without one); `settlement_build` reports how built settlements were
    made (counts, persons, pooled districts), empty otherwise. `data_record()` is plan.json's `data`.
    """

    settlements: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    rasters: dict[str, Path] = field(default_factory=dict)
    grid_nodes: gpd.GeoDataFrame | None = None
    fuel_depots: gpd.GeoDataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    settlement_build: dict = field(default_factory=dict)
    repairs: dict[str, dict[str, int]] = field(default_factory=dict)
    anchor_loads: dict = field(default_factory=dict)
    data_gaps: dict[str, str] = field(default_factory=dict)
    attributions: dict[str, str] = field(default_factory=dict)
    metric_crs: str = field(default_factory=lambda: defaults()["region"]["metric_crs"])  # the default scenario's
    land_tolerance_km: float = field(default_factory=lambda: defaults()["region"]["land_tolerance_km"])
    water_gap_km: float = field(default_factory=lambda: defaults()["region"]["water_gap_km"])
    mainland_min_area_km2: float = field(default_factory=lambda: defaults()["region"]["mainland_min_area_km2"])
    _kept: dict[Hashable, Any] = field(default_factory=dict, repr=False)  # see `_once`
    _bare: Region | None = field(default=None, init=False, repr=False, compare=False)

    def _once(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What the region keeps under `key` (the land key, land pieces, coast, enclosed water, sea
        cells, water trees), built by `build` the first time it is asked for. Threads that ask together
        build it once (`_BUILD_LOCK`, re-entrant: builds ask for each other). Copies of the region
        (`bare`, `with_settlements`) have the same layers and keep the same structures."""
        if key not in self._kept:
            with _BUILD_LOCK:
                if key not in self._kept:
                    self._kept[key] = build()
        return self._kept[key]

    def bare(self) -> Region:
        """The region without its settlements: the layers as partitions receive them
        (smrplan.partition), one object for this region and the copies `with_settlements` makes, so
        that a cluster receives it once per run. Its empty settlement table is a copy, not a view that
        would keep the whole table's arrays."""
        if self._bare is None:
            self._bare = replace(self, settlements=self.settlements.iloc[:0].copy())
        return self._bare

    def with_settlements(self, settlements: gpd.GeoDataFrame) -> Region:
        """A copy of the region with other settlements (the same layers, and the same `bare` region).

        Parameters
        ----------
        settlements : geopandas.GeoDataFrame
            The copy's settlements (WGS84 points).

        Returns
        -------
        Region
        """
        out = replace(self, settlements=settlements)
        out._bare = self.bare()
        return out

    def data_record(self) -> dict:
        """What was read, dropped, repaired, joined and built: the `data` section of plan.json."""
        rec: dict = {"sources": self.sources, "dropped_rows": self.dropped_rows,
                     "repairs": {layer: dict(kinds) for layer, kinds in self.repairs.items() if kinds}}
        if self.attributions:
            rec["attributions"] = self.attributions
        if self.data_gaps:
            rec["gaps"] = self.data_gaps
        if self.anchor_loads:
            rec["anchor_loads"] = self.anchor_loads
        if self.settlement_build:
            rec["settlement_build"] = self.settlement_build
        return rec

    @property
    def land(self) -> gpd.GeoDataFrame | None:
        return self.layers.get("land")

    def land_pieces(self, filled: bool = False) -> tuple[np.ndarray, shapely.STRtree] | None:
        """The land polygons (with `filled`, their outer rings: land plus inland water) cut into
        pieces of at most MAX_PIECE_VERTICES vertices (WGS84) and an STRtree over them; None without a
        land layer. Computed once per region; the pieces are kept on disk per land layer
        (`geo.diskcache`, `land_key`)."""
        land = self.land
        if land is None:
            return None

        def cut() -> dict[str, np.ndarray]:
            geoms = np.asarray(land.geometry.values)
            if filled:
                geoms = shapely.polygons(shapely.get_exterior_ring(geoms))
            return pack_geometries(subdivide(geoms, MAX_PIECE_VERTICES))

        def build() -> tuple[np.ndarray, shapely.STRtree]:
            pieces = unpack_geometries(cached("landpieces", key_of([self.land_key(), filled]), cut))
            return pieces, shapely.STRtree(pieces)

        return self._once(("land pieces", filled), build)

    def _covered(self, lon: np.ndarray, lat: np.ndarray, filled: bool) -> np.ndarray:
        cut = self.land_pieces(filled)
        assert cut is not None, "points are tested against the land layer only when there is one"
        _, tree = cut
        hit = tree.query(shapely.points(lon, lat), predicate="intersects")
        out = np.zeros(len(lon), bool)
        out[hit[0]] = True
        return out

    def is_land(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean array: is each WGS84 point on land (inside or on the border of a land polygon,
        not in one of its holes)?"""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if self.land is None:
            from global_land_mask import globe

            return np.asarray(globe.is_land(np.clip(lat, -89.99, 89.99), ((lon + 180) % 360) - 180), bool)
        return self._covered(lon, lat, filled=False)

    def enclosed(self) -> _Enclosed | None:
        """The connected pieces of land and inland water (`smrplan.geo.water.enclosed_pieces`: the land
        polygons filled, closed across water narrower than `water_gap_km`, with the lake polygons) and
        what is not sea, cut for point queries; None without a land layer. Computed once per region.

        Water enclosed by the closing is inland water only within the mainland pieces (lagoons such as
        Vembanad); between islands (an atoll's lagoon, the straits and harbours of the Andamans) it
        stays sea, where floating plants may berth. Not sea, then: the filled land polygons, the lake
        polygons and the mainland pieces.
        """
        land = self.land
        if land is None:
            return None
        return self._once("enclosed", lambda: self._enclosed_of(land))

    def _enclosed_of(self, land: gpd.GeoDataFrame) -> _Enclosed:
        """`enclosed` built from the land layer (the connected pieces from the disk cache)."""
        lakes = self.layers.get("lakes")
        lake_geoms = np.asarray(lakes.geometry.values) if lakes is not None else np.array([], dtype=object)

        def pieces_of_land() -> dict[str, np.ndarray]:
            parts, area = enclosed_pieces(np.asarray(land.geometry.values), lake_geoms, self.metric_crs,
                                          self.water_gap_km)
            return {**pack_geometries(parts), "area_km2": area}

        entry = cached("enclosed", self.land_key(), pieces_of_land)
        parts, area = unpack_geometries(entry), entry["area_km2"]
        cut = [subdivide(np.array([p], dtype=object), MAX_PIECE_VERTICES) for p in parts]  # pieces, not points
        owner = np.repeat(np.arange(len(parts)), [len(c) for c in cut])
        pieces = np.concatenate(cut)
        mainland = area >= self.mainland_min_area_km2
        cut_filled = self.land_pieces(filled=True)
        assert cut_filled is not None, "the land layer exists here"
        filled = cut_filled[0]
        not_sea = np.concatenate([pieces[mainland[owner]], filled, subdivide(lake_geoms, MAX_PIECE_VERTICES)])
        metric = gpd.GeoSeries(parts, crs="EPSG:4326").to_crs(self.metric_crs).values
        return _Enclosed(shapely.STRtree(pieces), owner, mainland, shapely.STRtree(metric), shapely.STRtree(not_sea))

    def land_key(self) -> str:
        """Digest of what the land geometry prepared once per land layer depends on (`diskcache.key_of`):
        the land and lake polygons, the metric CRS, the water gap (km), the mainland's least area (km2)
        and the code of this module, `water` and `seacells`. Computed once per region."""
        land = self.land
        assert land is not None, "only a land layer is prepared"

        def digest() -> str:
            lakes = self.layers.get("lakes")
            lake_geoms = np.asarray(lakes.geometry.values) if lakes is not None else np.array([], dtype=object)
            return key_of([np.asarray(land.geometry.values), lake_geoms, self.metric_crs, self.water_gap_km,
                           self.mainland_min_area_km2, shapely.geos_version],
                          code=[sys.modules[__name__], water, seacells])

        return self._once("land key", digest)

    def _lake_hit(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean array: is each WGS84 point in a polygon of the `lakes` layer (False without one)?"""
        out = np.zeros(len(lon), bool)
        lakes = self.layers.get("lakes")
        if lakes is not None and len(lon):
            out[shapely.STRtree(lakes.geometry.values).query(shapely.points(lon, lat), predicate="intersects")[0]] = True
        return out

    def is_sea(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean array: is each WGS84 point at sea, neither on land nor on inland water?

        With a land layer: outside the land polygons (holes included), the lakes, and the water the
        mainland encloses across gaps narrower than `water_gap_km` (`enclosed`). Without one: not on land
        by the global land mask and not in a polygon of the `lakes` layer.
        """
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        enc = self.enclosed()
        if enc is None:
            return ~self.is_land(lon, lat) & ~self._lake_hit(lon, lat)
        hit = enc.not_sea.query(shapely.points(lon, lat), predicate="intersects")[0]
        out = np.ones(len(lon), bool)
        out[hit] = False
        return out

    def is_sea_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """`is_sea` for many points at once, identical answers: with a land layer the cells of `SeaCells`
        (classified once per region) decide most points and only those in mixed cells are tested
        exactly; without one the global land mask is already a lookup."""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        enc = self.enclosed()
        if enc is None:
            return self.is_sea(lon, lat)
        cells = self._once("sea cells", lambda: SeaCells.from_arrays(
            cached("seacells", self.land_key(), lambda: SeaCells.build(enc.not_sea).arrays())))
        return cells.is_sea(lon, lat, self.is_sea)

    def is_inland_water(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean array: is each WGS84 point on inland water (neither land nor sea)?"""
        return ~self.is_land(lon, lat) & ~self.is_sea(lon, lat)

    def land_status(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray] | None:
        """Which piece of land each settlement stands on, and whether that piece is an island.

        A point inside a piece of `enclosed` is on it; a point off every piece counts as on the nearest
        one. Within `land_tolerance_km` (the resolution of the land data) it is flagged ``land_snapped``;
        farther off (a coordinate in the sea or beyond the border of the land layer: a settlement is a
        place where people live on land) it is logged with its distance in ``off_land_km``. The mainland
        is every piece of at least `mainland_min_area_km2` (none in a region of islands only); a
        settlement on any other piece is an island.

        Returns
        -------
        dict or None
            ``off_land_km`` (km to the nearest piece, 0 on one), ``land_snapped`` (bool: off land, within
            the tolerance), ``is_island`` (bool: the piece is not mainland); None without a land layer.
        """
        enc = self.enclosed()
        if enc is None:
            return None
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        n = len(lon)
        part = np.full(n, -1)
        qi, pi = enc.tree.query(shapely.points(lon, lat), predicate="intersects")
        part[qi] = enc.owner[pi]
        off = np.zeros(n)
        out = np.flatnonzero(part < 0)
        if len(out):
            pts = self.metric_points(lon[out], lat[out])
            (q, p), d = enc.parts_metric.query_nearest(pts, return_distance=True, all_matches=False)
            part[out[q]], off[out[q]] = p, d / 1000.0
        snapped = (off > 0) & (off <= self.land_tolerance_km)
        far = off > self.land_tolerance_km
        if far.any():
            log.warning("%d point(s) lie more than %g km off the land layer (farthest %.1f km): each counts as on "
                        "the nearest piece of land (column off_land_km)", int(far.sum()), self.land_tolerance_km,
                        float(off.max()))
        return {"off_land_km": off, "land_snapped": snapped, "is_island": ~enc.mainland[part]}

    def _coast(self) -> shapely.STRtree:
        """STRtree over the coastline segments in the metric CRS (built once)."""
        land = self.land
        assert land is not None, "the coastline is that of the land layer"

        def build() -> shapely.STRtree:
            rings = gpd.GeoSeries(shapely.get_exterior_ring(np.asarray(land.geometry.values)), crs="EPSG:4326")
            return shapely.STRtree(_segments(rings.to_crs(self.metric_crs).values))

        return self._once("coast", build)

    def coast_distance_km(self, lon: np.ndarray, lat: np.ndarray, max_km: float | None = None) -> np.ndarray:
        """Distance (km) from each point to the nearest coastline of the land layer; NaN without one.

        The coastline is the outer ring of every land polygon (holes, which are inland water, are
        not coast), cut into two-point segments; distances are planar in the region's metric CRS
        (`metric_crs`, EPSG:7755 India NSF LCC by default) from an STRtree nearest query. With
        `max_km` the search stops there and farther points get inf (much faster far inland).
        """
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if self.land is None or len(lon) == 0:
            return np.full(len(lon), np.nan)
        return self._coast_km(self.metric_points(lon, lat), max_km)

    def metric_points(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """WGS84 points (degrees) as shapely points in the region's metric CRS (m), the same as
        geopandas' ``to_crs`` gives.

        Parameters
        ----------
        lon, lat : numpy.ndarray
            Points (degrees, WGS84).

        Returns
        -------
        numpy.ndarray
            Shapely points (metric CRS, m).
        """
        x, y = Transformer.from_crs("EPSG:4326", self.metric_crs, always_xy=True).transform(lon, lat)
        return shapely.points(x, y)

    def _coast_km(self, pts: np.ndarray, max_km: float | None) -> np.ndarray:
        """`coast_distance_km` of points already in the metric CRS (land layer required)."""
        idx, dist = self._coast().query_nearest(pts, return_distance=True, all_matches=False,
                                                max_distance=None if max_km is None else max_km * 1000.0)
        out = np.full(len(pts), np.nan if max_km is None else np.inf)
        out[idx[0]] = dist / 1000.0
        return out

    def coast_crossing_km(self, lon: np.ndarray, lat: np.ndarray, bearing_deg: np.ndarray,
                          max_km: float) -> np.ndarray:
        """Great-circle distance (km) from each point along its bearing (degrees from north) to the
        first crossing of the coastline within `max_km`; 0 for a point already at sea; inf when the
        ray stays on land (or inland water). Needs a land layer (ValueError otherwise).

        Each ray is a straight segment in the metric CRS from the point to the point `max_km` away
        (conformal projection: straight within a fraction of a percent over tens of km); its
        intersections with the coast segments come from one STRtree query; those that may be the
        ray's first by the lines' equations (`_may_be_first`) are intersected exactly (shapely), and
        the nearest intersection's great-circle distance is returned. No loop over rays: they go
        `CROSSING_CHUNK` at a time, side by side on the process's threads (GEOS releases the GIL).
        """
        if self.land is None:
            raise ValueError("coast_crossing_km needs a land layer")
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        brg = np.broadcast_to(np.asarray(bearing_deg, float), lon.shape)
        out = np.full(len(lon), np.inf)

        def cross(first: int) -> None:  # each chunk writes its own rays
            c = slice(first, first + CROSSING_CHUNK)
            out[c] = self._crossing_km(lon[c], lat[c], brg[c], max_km)

        on_threads(cross, range(0, len(lon), CROSSING_CHUNK))
        return out

    def _crossing_km(self, lon: np.ndarray, lat: np.ndarray, brg: np.ndarray, max_km: float) -> np.ndarray:
        """`coast_crossing_km` of some rays in one piece."""
        out = np.full(len(lon), np.inf)
        ex, ey = destination(lon, lat, brg, max_km)
        to_m = Transformer.from_crs("EPSG:4326", self.metric_crs, always_xy=True)
        x0, y0 = to_m.transform(lon, lat)
        x1, y1 = to_m.transform(ex, ey)
        rays = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
        tree = self._coast()
        ri, si = tree.query(rays, predicate="intersects")
        near = _may_be_first(np.column_stack([x0, y0, x1, y1])[ri], shapely.get_coordinates(tree.geometries.take(si)),
                             ri, len(lon))
        ri, si = ri[near], si[near]
        if len(ri):
            start = shapely.points(np.asarray(x0)[ri], np.asarray(y0)[ri])
            hit = shapely.intersection(rays[ri], tree.geometries.take(si))
            first = pd.DataFrame({"ray": ri, "d": shapely.distance(start, hit), "k": np.arange(len(ri))})
            first = first.sort_values(["ray", "d"]).drop_duplicates("ray")
            k = first["k"].to_numpy()
            cross = hit[k]  # a crossing point, or the point of an overlap nearest the start
            part = np.flatnonzero(shapely.get_type_id(cross) != 0)
            cross[part] = shapely.get_point(shapely.shortest_line(start[k[part]], cross[part]), 1)
            cx, cy = Transformer.from_crs(self.metric_crs, "EPSG:4326", always_xy=True).transform(
                shapely.get_x(cross), shapely.get_y(cross))
            ray = first["ray"].to_numpy()
            out[ray] = haversine_km(lon[ray], lat[ray], cx, cy)
        out[self.is_sea_many(lon, lat)] = 0.0
        return out

    def _water_tree(self, kind: str, min_storage_mcm: float, max_river_level: int
                    ) -> tuple[np.ndarray, shapely.STRtree] | None:
        """Geometries of one inland kind of cooling water in the metric CRS and an STRtree over them:
        river segments of WDB-II level <= max_river_level (every line where the level is unknown),
        lake polygons, dam points with a known storage >= min_storage_mcm; None without any."""
        layer = self.layers.get({"river": "rivers", "lake": "lakes", "dam": "dams"}[kind])
        if layer is None:
            return None

        def build() -> tuple[np.ndarray, shapely.STRtree]:
            kept = layer
            if kind == "river":
                kept = layer[~(layer["wdb_level"].to_numpy(float) > max_river_level)]
            elif kind == "dam":
                kept = layer[layer["gross_storage_mcm"].to_numpy(float) >= min_storage_mcm]
            geoms = kept.to_crs(self.metric_crs).geometry.values
            if kind == "river":
                geoms = _segments(geoms)
            return geoms, shapely.STRtree(geoms)

        geoms, tree = self._once(("water", kind, min_storage_mcm, max_river_level), build)
        return (geoms, tree) if len(geoms) else None

    def water_distance_km(self, lon: np.ndarray, lat: np.ndarray, kinds: tuple[str, ...] = WATER_KINDS, *,
                          min_storage_mcm: float = 0.0, max_river_level: int = 10, max_km: float | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point to the nearest water of the given kinds, and that water's kind.

        Kinds: ``sea`` (sea water, lagoons included: with a land layer the planar distance to the outer
        rings of the land polygons, `coast_distance_km`, 0 off them; without one the first sea sample of
        the global land mask along 16 bearings at 0.25 km steps, up to `max_km`), ``river`` (lines of the `rivers`
        layer of World Data Bank II level <= `max_river_level`; every line when the level is unknown),
        ``lake`` (polygons of the `lakes` layer, 0 inside) and ``dam`` (points of the `dams` layer with a
        gross storage >= `min_storage_mcm` million m3; unknown storage does not count). Distances are
        planar in the metric CRS (STRtree nearest queries, each kind searched only as far as the nearest
        water of the kinds before it, `_nearest_within_km`); a kind without a layer is never nearest.
        Holes of the land polygons are not counted: most are ponds and river reaches of unknown volume.

        Parameters
        ----------
        lon, lat : array_like
            Points (degrees, WGS84).
        kinds : tuple of str
            Some of `smrplan.geo.water.WATER_KINDS`.
        min_storage_mcm, max_river_level : float, int
            Smallest dam storage (million m3) and largest WDB-II river level that count.
        max_km : float or None
            Search no farther (km); None: no limit (required without a land layer when ``sea`` is asked).

        Returns
        -------
        distance_km, kind : numpy.ndarray
            Distance (km; inf when no water of the kinds lies within `max_km`) and kind ("" then).
        """
        unknown = set(kinds) - set(WATER_KINDS)
        if unknown:
            raise ValueError(f"unknown water kind(s) {sorted(unknown)}; expected some of {WATER_KINDS}")
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        best, kind = np.full(len(lon), np.inf), np.full(len(lon), "", dtype=object)
        if len(lon) == 0:
            return best, kind
        pts = self.metric_points(lon, lat)
        limit = None if max_km is None else max_km * 1000.0
        for k in WATER_KINDS:
            if k not in kinds:
                continue
            d = np.full(len(lon), np.inf)
            if k == "sea":
                d = self._sea_km(lon, lat, pts, limit)
            else:
                found = self._water_tree(k, min_storage_mcm, max_river_level)
                if found is not None:  # only water closer than the nearest so far can change the answer
                    d = _nearest_within_km(found[1], pts, np.minimum(best, np.inf if max_km is None else max_km))
            closer = d < best
            best[closer], kind[closer] = d[closer], k
        return best, kind

    def _sea_km(self, lon: np.ndarray, lat: np.ndarray, pts: np.ndarray, limit_m: float | None) -> np.ndarray:
        """Distance (km) to sea water for `water_distance_km` (points in degrees and as `pts` in the
        metric CRS): with a land layer, to the outer rings of the land polygons (the coastline, lagoon
        shores included: a lagoon holds sea water), 0 off them; without one, along rays over the global
        land mask up to `limit_m` (m)."""
        if self.land is None:
            if limit_m is None:
                raise ValueError("the sea distance without a land layer needs max_km")
            return mask_first_sea_km(self, lon, lat, SEA_BEARINGS, SEA_STEP_KM, limit_m / 1000.0).min(axis=1)
        d = self._coast_km(pts, None if limit_m is None else limit_m / 1000.0)
        d[~self._covered(lon, lat, filled=True)] = 0.0
        return d


def mask_first_sea_km(region: Region, lon, lat, bearings: np.ndarray, step_km: float, search_km: float) -> np.ndarray:
    """Distance along each bearing from each point to the first sample at sea (`Region.is_sea`).

    Parameters
    ----------
    region : Region
        Land, sea and inland water.
    lon, lat : array_like
        Points (degrees, WGS84).
    bearings : numpy.ndarray
        Bearings (degrees from north).
    step_km, search_km : float
        Sample spacing and farthest sample along each bearing (km).

    Returns
    -------
    numpy.ndarray
        (points, bearings) distance (km) of the first sample at sea; inf when none is.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n, b = len(lon), len(bearings)
    steps = np.arange(step_km, search_km + 1e-9, step_km)
    k = len(steps)
    if n == 0 or k == 0:
        return np.full((n, b), np.inf)
    brg = np.asarray(bearings, float)
    x, y = destination(lon[:, None, None], lat[:, None, None], brg[None, :, None], steps[None, None, :])
    sea = region.is_sea_many(x.ravel(), y.ravel()).reshape(n, b, k)
    return np.where(sea, steps, np.inf).min(axis=2)


@dataclass(frozen=True)
class _Enclosed:
    """Pieces of land and inland water (`Region.enclosed`): `tree` over the pieces (WGS84, cut for point
    queries), `owner` (the connected part of each piece), `mainland` (bool per part), `parts_metric`
    (STRtree over the parts in the metric CRS) and `not_sea` (STRtree over what is not sea, WGS84)."""

    tree: shapely.STRtree
    owner: np.ndarray
    mainland: np.ndarray
    parts_metric: shapely.STRtree
    not_sea: shapely.STRtree


def subdivide(geoms: np.ndarray, max_vertices: int) -> np.ndarray:
    """Polygons cut into pieces of at most `max_vertices` vertices by halving each oversized piece's
    bounding box along its longer side (shapely.clip_by_rect). The pieces cover exactly the input
    area; a loop over pieces (about 2,000 for India), not over points."""
    out: list = []
    stack = [g for g in shapely.get_parts(geoms) if not shapely.is_empty(g)]
    while stack:
        p = stack.pop()
        if shapely.get_num_coordinates(p) <= max_vertices:
            out.append(p)
            continue
        x0, y0, x1, y1 = p.bounds
        if x1 - x0 >= y1 - y0:
            m = (x0 + x1) / 2
            halves = (shapely.clip_by_rect(p, x0, y0, m, y1), shapely.clip_by_rect(p, m, y0, x1, y1))
        else:
            m = (y0 + y1) / 2
            halves = (shapely.clip_by_rect(p, x0, y0, x1, m), shapely.clip_by_rect(p, x0, m, x1, y1))
        for h in halves:
            stack.extend(g for g in shapely.get_parts(h)
                         if shapely.get_type_id(g) == 3 and not shapely.is_empty(g))
    return np.array(out, dtype=object)


def _nearest_within_km(tree: shapely.STRtree, pts: np.ndarray, bound_km: np.ndarray) -> np.ndarray:
    """Distance (km) from each point to the nearest geometry of `tree` (metric CRS) when one lies within
    the point's bound (km; inf: no bound); inf otherwise, or another geometry's distance beyond the bound.

    The points are queried in groups of bounds up to 1, 4, 16, 64 km and beyond, each with its group's
    largest bound as the search limit, so that short bounds prune the search; a distance found is the
    tree's nearest distance, as an unbounded query gives it. No loop over points.

    Parameters
    ----------
    tree : shapely.STRtree
        Geometries in the metric CRS (m).
    pts : numpy.ndarray
        Shapely points in the metric CRS (m).
    bound_km : numpy.ndarray
        (points,) farthest distance of interest (km); points with 0 are not queried.

    Returns
    -------
    numpy.ndarray
        (points,) km.
    """
    out = np.full(len(pts), np.inf)
    group = np.searchsorted(_BOUND_GROUPS_KM, bound_km)  # the first group whose top is at least the bound
    for g in np.unique(group[bound_km > 0]):  # at most five groups, not points
        sel = np.flatnonzero((group == g) & (bound_km > 0))
        top = float(min(_BOUND_GROUPS_KM[g], bound_km[sel].max()))
        (q, _), dist = tree.query_nearest(pts[sel], return_distance=True, all_matches=False,
                                          max_distance=None if np.isinf(top) else top * 1000.0)
        out[sel[q]] = dist / 1000.0
    return out


def _may_be_first(ray: np.ndarray, seg: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Which ray-segment crossings may be their ray's first (nearest its start): those whose distance
    from the start, computed from the lines' equations, is within `_CROSSING_TOL_M` of the ray's least;
    a segment (nearly) parallel to its ray is kept when its nearest point is. The exact crossing
    (shapely.intersection) is then needed for these alone, and the nearest of them is the nearest of all.

    Parameters
    ----------
    ray : numpy.ndarray
        (P, 4) start x, y and end x, y of each pair's ray (metric CRS, m).
    seg : numpy.ndarray
        (2 P, 2) the two ends of each pair's segment, pair after pair (m).
    owner : numpy.ndarray
        (P,) the ray of each pair (0..n-1).
    n : int
        The number of rays.

    Returns
    -------
    numpy.ndarray
        (P,) bool.
    """
    p, r = ray[:, :2], ray[:, 2:] - ray[:, :2]
    q, s = seg[0::2], seg[1::2] - seg[0::2]
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    length, seg_length = np.hypot(r[:, 0], r[:, 1]), np.hypot(s[:, 0], s[:, 1])
    parallel = np.abs(denom) <= _PARALLEL_SINE * length * seg_length
    with np.errstate(divide="ignore", invalid="ignore"):
        along = ((q[:, 0] - p[:, 0]) * s[:, 1] - (q[:, 1] - p[:, 1]) * s[:, 0]) / denom * length
        t = np.clip(((p[:, 0] - q[:, 0]) * s[:, 0] + (p[:, 1] - q[:, 1]) * s[:, 1]) / seg_length ** 2, 0.0, 1.0)
    to_segment = np.hypot(q[:, 0] + t * s[:, 0] - p[:, 0], q[:, 1] + t * s[:, 1] - p[:, 1])
    low = np.where(parallel, to_segment, along) - _CROSSING_TOL_M
    least = np.full(n, np.inf)
    np.minimum.at(least, owner, np.where(parallel, np.inf, along + _CROSSING_TOL_M))
    return ~(low > least[owner])


def _segments(lines: np.ndarray) -> np.ndarray:
    """Every (multi)line cut into its two-point segments (vectorised)."""
    parts = shapely.get_parts(lines)
    xy, which = shapely.get_coordinates(parts, return_index=True)
    same = which[1:] == which[:-1]
    return shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))


def load_region(scenario: Scenario, repair: bool = False) -> Region:
    """Read every layer the scenario names: `settlements`, or the layers settlements are built from
    (`towns` and/or `postal_places`, `districts`, `district_population`; see `build_settlements`),
    the `anchor_loads` joined to them (`join_anchor_loads`), and the optional context layers.

    repair: fix what can be fixed in the settlements and anchor-load layers (and take a context
    layer without CRS as EPSG:4326) instead of stopping; every fix is logged and counted in
    `Region.repairs`, every row left out in `Region.dropped_rows`.
    """
    base = Path(scenario.source).parent if Path(scenario.source).exists() else Path(".")
    data_dir = scenario.data_dir
    sources: dict[str, str] = {}
    layers: dict[str, gpd.GeoDataFrame] = {}
    rasters: dict[str, Path] = {}
    dropped: dict[str, int] = {}
    repairs: dict[str, dict[str, int]] = {}
    where = f"data.{{}} of scenario {scenario.source}"

    attributions: dict[str, str] = {}

    def path_of(name: str) -> Path:
        path = resolve(scenario.data[name], data_dir, base, where.format(name))
        sources[name] = str(path)
        credit = attribution(path)
        if credit:
            attributions[name] = credit
        return path

    build: dict = {}
    if "settlements" in scenario.data:
        settlements = read_settlements(path_of("settlements"), repair=repair, region=scenario.region.extent)
        dropped["settlements"] = int(settlements.attrs.get("dropped_rows", 0))
        repairs["settlements"] = dict(settlements.attrs.get("repairs", {}))
        settlements.attrs = {}
    else:
        settlements, districts, build = build_settlements(
            towns=path_of("towns") if "towns" in scenario.data else None,
            postal_places=path_of("postal_places") if "postal_places" in scenario.data else None,
            districts=path_of("districts"), district_population=path_of("district_population"))
        dropped.update(build.pop("dropped_rows"))
        layers["districts"] = districts
    anchor_report: dict = {}
    if "anchor_loads" in scenario.data:
        path = path_of("anchor_loads")
        anchors = read_anchor_loads(path, repair=repair, region=scenario.region.extent)
        dropped["anchor_loads"] = int(anchors.attrs.get("dropped_rows", 0))
        repairs["anchor_loads"] = dict(anchors.attrs.get("repairs", {}))
        settlements, anchor_report = join_anchor_loads(settlements, anchors, scenario.demand.anchor_join_max_km,
                                                       path=path, repair=repair)
        for kind, n in anchor_report.pop("repairs").items():
            repairs["anchor_loads"][kind] = repairs["anchor_loads"].get(kind, 0) + n
    for name in scenario.data:
        if name in ("settlements", "anchor_loads", *BUILD_LAYERS, *STATISTICS_LAYERS, *layers, *DISTRICT_TABLES):
            continue
        path = path_of(name)
        if name == "coal_units":
            layers[name] = read_coal_units(path)
            continue
        if name in _RASTER_LAYERS:
            rasters[name] = path
            continue
        gdf = (read_water_layer(name, path, repair=repair) if name in WATER_LAYERS
               else read_vector(path, drop_missing_coords=True, repair=repair))
        dropped[name] = int(gdf.attrs.get("dropped_rows", 0))
        if gdf.attrs.get("repairs"):
            repairs[name] = dict(gdf.attrs["repairs"])
        if name == "land":
            gdf = _clean_polygons(gdf, path)
        layers[name] = gdf
    if "district_seismic_zones" in scenario.data and "seismic_zones" not in layers:
        # IS 1893 zone per district joined to the district polygons (the scenario checks data.districts).
        districts = layers["districts"] if "districts" in layers else read_districts(path_of("districts"))
        layers["seismic_zones"] = district_seismic_zones(path_of("district_seismic_zones"), districts)
    points = _region_points(scenario, data_dir, base, repair, repairs, sources)
    if repair:
        total = {k: sum(v.values()) for k, v in repairs.items() if v}
        log.warning("--repair: %s", ", ".join(f"{k}: {n} fix(es) {repairs[k]}" for k, n in total.items())
                    if total else "nothing to repair")
    return Region(settlements=settlements, layers=layers, rasters=rasters, grid_nodes=points["grid_nodes"],
                  fuel_depots=points["fuel_depots"], sources=sources, dropped_rows=dropped, settlement_build=build,
                  repairs=repairs, anchor_loads=anchor_report, data_gaps=dict(scenario.data_gaps),
                  attributions=attributions, metric_crs=scenario.region.metric_crs,
                  land_tolerance_km=scenario.region.land_tolerance_km, water_gap_km=scenario.region.water_gap_km,
                  mainland_min_area_km2=scenario.region.mainland_min_area_km2)


def _region_points(scenario: Scenario, data_dir, base, repair: bool, repairs: dict, sources: dict
                   ) -> dict[str, gpd.GeoDataFrame | None]:
    """The point tables named in the scenario's region block (`grid_nodes`, `fuel_depots`), each None
    when not named; their repairs and paths are added to `repairs` and `sources`."""
    points: dict[str, gpd.GeoDataFrame | None] = {}
    for name in ("grid_nodes", "fuel_depots"):
        ref = getattr(scenario.region, name)
        points[name] = None
        if ref:
            path = resolve(ref, data_dir, base, f"region.{name} of scenario {scenario.source}")
            gdf = read_vector(path, repair=repair)
            if gdf.attrs.get("repairs"):
                repairs[name] = dict(gdf.attrs["repairs"])
            sources[name] = str(path)
            points[name] = gdf
    return points


def join_anchor_loads(settlements: gpd.GeoDataFrame, anchors: gpd.GeoDataFrame, max_km: float,
                      path: Path | None = None, repair: bool = False) -> tuple[gpd.GeoDataFrame, dict]:
    """Add anchor (productive) loads to the settlements.

    Each anchor point (`geo.io.read_anchor_loads`: id, name, type, anchor_load_kw, point) joins the
    nearest settlement (great-circle, `smrplan.geo.distance.PointIndex`) when it lies within `max_km`: its kW are added to
    that settlement's ``anchor_load_kw`` (blank counts as 0) and its id to ``anchor_ids``. A point
    farther than `max_km` from every settlement becomes a settlement of its own: its id (``anchor-<n>``
    when the layer has none) and name, population 0, its kW as ``anchor_load_kw``, ``is_anchor_only``
    True; text and yes/no columns of the settlements (territory, district, state, island flag ...)
    are taken from the nearest settlement, other numbers are left blank. An added id equal to a
    settlement id is an error, or with `repair` renamed with a suffix (logged).

    Parameters
    ----------
    settlements, anchors : geopandas.GeoDataFrame
        The settlements and the anchor points (kW), WGS84; not modified.
    max_km : float
        Farthest an anchor point joins a settlement (km).
    path : Path or None
        The anchor-load file, named in messages.
    repair : bool
        Rename an added id equal to a settlement id instead of raising.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, dict)
        The settlements (new rows last) and a report: points, joined, added_as_settlements,
        joined_kw and added_kw (kW), max_join_km (km), repairs (kind -> count).

    Raises
    ------
    InputError
        Without `repair`, when an added id equals a settlement id.
    """

    st = settlements.reset_index(drop=True).copy()
    a = anchors.reset_index(drop=True)
    n = len(st)
    kw = a["anchor_load_kw"].to_numpy(float)
    ax, ay = shapely.get_x(a.geometry.values), shapely.get_y(a.geometry.values)
    dist, idx = PointIndex(shapely.get_x(st.geometry.values), shapely.get_y(st.geometry.values)).nearest(ax, ay, k=1)
    dist, idx = dist[:, 0], idx[:, 0]
    joined = np.isfinite(dist) & (dist <= max_km)
    base = (np.nan_to_num(pd.to_numeric(st["anchor_load_kw"], errors="coerce").to_numpy(float))
            if "anchor_load_kw" in st.columns else np.zeros(n))
    st["anchor_load_kw"] = base + np.bincount(idx[joined], weights=kw[joined], minlength=n)
    ids_by = a.loc[joined, "id"].astype(str).groupby(idx[joined]).agg(";".join)
    st["anchor_ids"] = pd.Series(ids_by, dtype=object).reindex(np.arange(n)).fillna("").to_numpy()
    st["is_anchor_only"] = False
    source = path or Path("anchor_loads")
    fixes = Fixes(source) if repair else None
    far = ~joined
    if far.any():
        new = a.loc[far].reset_index(drop=True)
        t = Rows(new[["id"]].copy(), source, fixes)
        t.rows = np.asarray(a.attrs.get("rows", np.arange(len(a)) + 1))[far]
        unique_ids(t, existing=st["id"].astype(str))
        near = idx[far] if n else np.zeros(int(far.sum()), dtype=int)
        rows: dict = {}
        for col in st.columns:  # columns of the settlements (tens), not rows
            if col == "geometry":
                continue
            kind = st[col].dtype.kind
            if n and (kind in "bOSU" or isinstance(st[col].dtype, pd.CategoricalDtype | pd.StringDtype)):
                rows[col] = st[col].to_numpy()[near]
            else:
                rows[col] = np.full(len(new), np.nan)
        rows.update({"id": t.gdf["id"].to_numpy(), "name": new["name"].to_numpy(), "population": 0.0,
                     "anchor_load_kw": new["anchor_load_kw"].to_numpy(float),
                     "anchor_ids": t.gdf["id"].to_numpy(), "is_anchor_only": True})
        if "source" in st.columns:
            rows["source"] = "anchor_loads"
        if "population_source" in st.columns:
            rows["population_source"] = "anchor"
        added = gpd.GeoDataFrame(rows, geometry=list(new.geometry.values), crs=st.crs)
        st = gpd.GeoDataFrame(pd.concat([st, added[st.columns]], ignore_index=True), geometry="geometry", crs=st.crs)
    report = {"points": int(len(a)), "joined": int(joined.sum()), "added_as_settlements": int(far.sum()),
              "joined_kw": round(float(kw[joined].sum()), 3), "added_kw": round(float(kw[far].sum()), 3),
              "max_join_km": float(max_km), "repairs": dict(fixes.counts) if fixes else {}}
    log.info("anchor loads: %d point(s), %d joined to a settlement within %g km (%.0f kW), %d added as "
             "settlements of their own (%.0f kW)", report["points"], report["joined"], max_km, report["joined_kw"],
             report["added_as_settlements"], report["added_kw"])
    return st, report


def build_settlements(towns: Path | None, postal_places: Path | None, districts: Path,
                      district_population: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """Settlements from GeoNames towns and post-office places with Census district totals.

    Steps and assumptions:

    1. Places at the same point (coordinates equal to 1e-5 deg, about 1 m) are one settlement: the
       first town there (else the first post-office place) gives id and name, known populations
       add up, and ``post_offices`` counts the post-office places merged. GeoNames puts many post
       offices of a sub-district on one estimated point (155,570 places on 49,582 points in the 2024
       dump); the merged rows are counted in dropped_rows["postal_places_shared_coordinates"]
       (`_read_places`, `_merge_same_point`).
    2. District polygons without a census total (districts created after 2011, whose people the
       census counts in the districts they were carved from) are pooled with the districts of the
       same state that share a border with them, transitively through other new districts
       (`smrplan.demand.population.census_pools`); a pool's census totals are added and shared over all its
       places. A district with a total that touches no new district is a pool of its own (`_pooled_districts`).
    3. Each pool's census total minus its towns' populations is shared over its places without a
       population in proportion to the number of post offices they stand for (one post office, one
       locality; `smrplan.demand.population.allocate_population`).
    4. Places left without population (outside every district, in a pool without a total, or in a
       pool whose towns already hold more than its total) are dropped and counted (`_allocate_to_places`).

    Persons are conserved per state: the places of a state hold the census totals of its districts,
    except for pools whose towns hold more than their total (the excess is kept, reported as
    over_allocated_population) and pools without a place to allocate to (reported as
    unallocated_population); `state_balance` lists the states where these occur.

    Parameters
    ----------
    towns : Path or None
        GeoNames cities file (`read_geonames_cities`; India only, sections of places PPLX and
        historical/abandoned places left out); a town keeps its GeoNames population (persons).
    postal_places : Path or None
        GeoNames postal-code file (`read_geonames_postal`), places without population.
    districts : Path
        District polygons (`read_districts`).
    district_population : Path
        Census 2011 district totals (`read_census_districts`), joined with `join_census_districts`.

    Returns
    -------
    settlements : geopandas.GeoDataFrame
        id, name, population (persons), source ("town"/"postal"), post_offices, district, st_nm (the
        place's own district and state), census_pool, population_source, geometry (WGS84 points).
    districts : geopandas.GeoDataFrame
        The district polygons with their own census population (persons; NaN for new districts),
        census_pool and pool_population (persons).
    report : dict
        dropped_rows per reason and the figures of `_build_report` (counts; population in persons).

    Raises
    ------
    InputError
        Naming the file, row and field, when one of the four files is unreadable or breaks its contract
        (see the readers above).
    """
    places, dropped = _read_places(towns, postal_places)
    merged = _merge_same_point(places)
    dropped["postal_places_shared_coordinates"] = len(places) - len(merged)
    census, joined, pool_size = _pooled_districts(districts, district_population)
    out, alloc, pooled_alloc = _allocate_to_places(merged, joined, pool_size, towns)
    dropped["settlements_without_population"] = len(merged) - len(out)
    report = _build_report(out, joined, census, pool_size, alloc, pooled_alloc, dropped,
                           n_postal=int((places["source"] == "postal").sum()))
    log.info("settlements built: %d places, %d of %d districts without a Census 2011 total pooled with their "
             "neighbours into %d pools of %d districts (%.0f census persons; %.0f allocated to places in pools)",
             report["settlements"], report["new_districts_pooled"], report["districts_without_census_total"],
             report["census_pools"], report["districts_pooled"], report["pooled_census_population"], pooled_alloc)
    return out, joined, report


def _read_places(towns: Path | None, postal_places: Path | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """GeoNames towns and post-office places in one table.

    Parameters
    ----------
    towns : Path or None
        GeoNames cities file (`smrplan.geo.importers.read_geonames_cities`).
    postal_places : Path or None
        GeoNames postal-code file (`smrplan.geo.importers.read_geonames_postal`).

    Returns
    -------
    places : pandas.DataFrame
        Towns first, then post-office places: id, name, population (persons; NaN where GeoNames has
        none, always for post-office places), source ("town"/"postal"), post_offices (0 for a town, 1
        for a post-office place), geometry (WGS84 points).
    dropped : dict
        Rows of each file left out: ``towns`` (other countries, sections of places, historical or
        abandoned places) and ``postal_places`` (without coordinates), for the files given.
    """

    dropped: dict[str, int] = {}
    frames = []
    if towns is not None:
        t = read_geonames_cities(towns)
        dropped["towns"] = _row_count(towns) - len(t)
        frames.append(pd.DataFrame({"id": t["id"], "name": t["name"], "population": t["population"],
                                    "source": "town", "post_offices": 0, "geometry": t.geometry.values}))
    if postal_places is not None:
        p = read_geonames_postal(postal_places)
        dropped["postal_places"] = int(p.attrs.get("dropped_rows", 0))
        frames.append(pd.DataFrame({"id": p["id"], "name": p["name"], "population": np.nan,
                                    "source": "postal", "post_offices": 1, "geometry": p.geometry.values}))
    return pd.concat(frames, ignore_index=True), dropped


def _merge_same_point(places: pd.DataFrame) -> gpd.GeoDataFrame:
    """One settlement per point (coordinates equal to `_SAME_POINT_DEG` degrees).

    Parameters
    ----------
    places : pandas.DataFrame
        Output of `_read_places`.

    Returns
    -------
    geopandas.GeoDataFrame
        id, name, source and geometry of the first place at each point, population (persons, the sum
        of the known populations there; NaN when none is known), post_offices (summed); EPSG:4326.
    """
    x = np.round(shapely.get_x(places["geometry"].to_numpy()) / _SAME_POINT_DEG).astype(np.int64)
    y = np.round(shapely.get_y(places["geometry"].to_numpy()) / _SAME_POINT_DEG).astype(np.int64)
    groups = places.groupby([x, y], sort=False)  # groups in order of first appearance, as `first` below
    first = ~pd.MultiIndex.from_arrays([x, y]).duplicated()
    merged = pd.DataFrame({"id": groups["id"].first(), "name": groups["name"].first(),
                           "population": groups["population"].sum(min_count=1),
                           "source": groups["source"].first(), "post_offices": groups["post_offices"].sum()}
                          ).reset_index(drop=True)
    merged["geometry"] = places["geometry"].to_numpy()[first]  # the first place's point (a geometry is never missing)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def _pooled_districts(districts: Path, district_population: Path
                      ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray]:
    """District polygons joined to their Census 2011 totals and pooled with their new neighbours.

    Parameters
    ----------
    districts : Path
        District polygons (`smrplan.geo.importers.read_districts`).
    district_population : Path
        Census 2011 district totals (`smrplan.geo.importers.read_census_districts`).

    Returns
    -------
    census : pandas.DataFrame
        The census table as read (population in persons).
    joined : geopandas.GeoDataFrame
        The polygons (`join_census_districts`) with census_pool (`census_pools`) and pool_population
        (persons, the pool's summed census totals; NaN when no district of the pool has one).
    pool_size : numpy.ndarray
        (D,) int number of districts in each district's pool.
    """

    census = read_census_districts(district_population)
    joined = join_census_districts(read_districts(districts), census).reset_index(drop=True)
    joined["census_pool"] = census_pools(joined, total="population", state="st_nm")
    pools = joined.groupby("census_pool")
    joined["pool_population"] = pools["population"].transform(lambda v: v.sum(min_count=1))
    return census, joined, pools["population"].transform("size").to_numpy()


def _allocate_to_places(merged: gpd.GeoDataFrame, joined: gpd.GeoDataFrame, pool_size: np.ndarray,
                        towns: Path | None) -> tuple[gpd.GeoDataFrame, dict, float]:
    """Census totals shared over the places (weighted by post offices); places left without population dropped.

    Parameters
    ----------
    merged : geopandas.GeoDataFrame
        Places of `_merge_same_point`.
    joined : geopandas.GeoDataFrame
        Pooled districts of `_pooled_districts`.
    pool_size : numpy.ndarray
        (D,) int number of districts in each district's pool.
    towns : Path or None
        The towns file, named in the error about an implausibly large town.

    Returns
    -------
    settlements : geopandas.GeoDataFrame
        The places with a population (see `build_settlements`).
    allocation : dict
        ``attrs["allocation"]`` of `allocate_population` (counts; persons).
    pooled_allocated : float
        Persons allocated to places in pools of more than one district.
    """

    merged = merged.assign(weight=np.maximum(merged["post_offices"].to_numpy(float), 1.0))
    out = allocate_population(merged, joined, total="population", weight="weight", pool="census_pool")
    alloc = out.attrs["allocation"]
    ok = np.isfinite(out["population"].to_numpy(float))
    d = out["district_index"].to_numpy()
    inside = ~pd.isna(d)
    di = np.where(inside, d, 0).astype(int)
    out["district"] = np.where(inside, joined["district"].to_numpy()[di], "")
    out["st_nm"] = np.where(inside, joined["st_nm"].to_numpy()[di], "")
    out["census_pool"] = np.where(inside, joined["census_pool"].to_numpy()[di], -1)
    in_pool = inside & (pool_size[di] > 1)
    pooled_alloc = float(out.loc[ok & in_pool & (out["population_source"] == "allocated").to_numpy(), "population"].sum())
    out = out.loc[ok, ["id", "name", "population", "source", "post_offices", "district", "st_nm", "census_pool",
                       "population_source", "geometry"]].reset_index(drop=True)
    out["post_offices"] = out["post_offices"].astype(int)
    cap = float(data_limits()["max_settlement_population"])
    if (out["population"] > cap).any():
        r = int(np.flatnonzero(out["population"].to_numpy() > cap)[0])
        raise InputError(towns, f"id {out['id'].iloc[r]}, column population",
                         f"{out['population'].iloc[r]:g} is above the plausible {cap:g} for one settlement")
    return out, alloc, pooled_alloc


def _build_report(out: gpd.GeoDataFrame, joined: gpd.GeoDataFrame, census: pd.DataFrame, pool_size: np.ndarray,
                  alloc: dict, pooled_alloc: float, dropped: dict[str, int], n_postal: int) -> dict:
    """Figures of a settlement build (plan.json ``data.settlement_build``, with ``dropped_rows``).

    Parameters
    ----------
    out, joined, census, pool_size, alloc, pooled_alloc
        As returned by `_allocate_to_places` and `_pooled_districts`.
    dropped : dict
        Rows left out, by reason (counts).
    n_postal : int
        Post-office places read.

    Returns
    -------
    dict
        dropped_rows; towns, postal_places_read, settlements (counts); census_population, town_population, allocated_population,
        unallocated_population, over_allocated_population (persons); districts,
        districts_without_census_total, new_districts_pooled, districts_left_without_total,
        census_pools, districts_pooled (counts); pooled_census_population, pooled_allocated_population
        (persons); districts_over_allocated (count); unmatched_census_districts (names); state_balance
        (persons by state, `_state_balance`).
    """
    new_d = joined["population"].isna().to_numpy()
    pooled = pool_size > 1
    no_total = joined["pool_population"].isna().to_numpy()
    return {
        "dropped_rows": dropped,
        "towns": int((out["source"] == "town").sum()), "postal_places_read": n_postal,
        "settlements": int(len(out)),
        "census_population": float(census["population"].sum()),
        "town_population": float(out.loc[out["population_source"] == "input", "population"].sum()),
        "allocated_population": float(out.loc[out["population_source"] == "allocated", "population"].sum()),
        "unallocated_population": alloc["unallocated_population"],
        "over_allocated_population": alloc["over_allocated_population"],
        "districts": int(len(joined)),
        "districts_without_census_total": int(new_d.sum()),
        "new_districts_pooled": int((new_d & pooled & ~no_total).sum()),
        "districts_left_without_total": int((new_d & no_total).sum()),
        "census_pools": int(joined.loc[pooled, "census_pool"].nunique()),
        "districts_pooled": int((pooled & ~no_total).sum()),
        "pooled_census_population": float(joined.loc[pooled, "population"].sum()),
        "pooled_allocated_population": pooled_alloc,
        "districts_over_allocated": alloc["districts_over_allocated"],
        "unmatched_census_districts": list(joined.attrs.get("unmatched_census", [])),
        "state_balance": _state_balance(out, joined),
    }


def _state_balance(places: pd.DataFrame, districts: pd.DataFrame) -> dict[str, float]:
    """Persons of the built places minus the census totals of the districts, per state, for the
    states where they differ by a person or more (towns above their pool's total, pools without a place
    to allocate to, towns outside every district under state "")."""
    census = districts.groupby("st_nm")["population"].sum()
    got = places.groupby("st_nm")["population"].sum()
    diff = got.reindex(census.index.union(got.index), fill_value=0.0) - census.reindex(
        census.index.union(got.index), fill_value=0.0)
    diff = diff[diff.abs() >= 1.0].round(0)
    return {str(k): float(v) for k, v in diff.items()}


def _row_count(path: Path) -> int:
    """Records in a table file: Parquet metadata, or text lines (minus the header of CSV files)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with open(path, "rb") as f:
        lines = sum(1 for line in f if line.strip())
    return lines - (1 if path.suffix.lower() == ".csv" else 0)


def _clean_polygons(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    types = set(gdf.geom_type.dropna().unique())
    if not types <= {"Polygon", "MultiPolygon"}:
        raise InputError(path, "geometry", f"the land layer must hold polygons; found {sorted(types)}")
    gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].copy()
    geoms = np.asarray(gdf.geometry.values)
    valid = cached("valid", key_of([geoms, shapely.geos_version]), lambda: {"valid": shapely.is_valid(geoms)})
    invalid = ~pd.Series(valid["valid"], index=gdf.index)
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.loc[invalid, "geometry"].make_valid()
    return gdf.explode(ignore_index=True)[["geometry"]]
