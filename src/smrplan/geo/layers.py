"""The region of a scenario: settlements plus optional context layers, all in WGS84.

Land and sea: with a `land` polygon layer, a point is on land when a polygon covers it (STRtree
query); without one, the `global-land-mask` package (1 km grid, offline) decides, and every
settlement's own point counts as land (the mask misses small atolls such as Kavaratti and Bitra, as
design.md records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from smrplan.errors import InputError
from smrplan.geo.io import read_settlements, read_vector, resolve
from smrplan.scenario import Scenario

_RASTER_LAYERS = {"bathymetry", "dem"}


@dataclass
class Region:
    """Settlements and context layers of a scenario (GeoDataFrames in EPSG:4326)."""

    settlements: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    rasters: dict[str, Path] = field(default_factory=dict)
    grid_nodes: gpd.GeoDataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    _land_tree: shapely.STRtree | None = None

    @property
    def land(self) -> gpd.GeoDataFrame | None:
        return self.layers.get("land")

    def _tree(self) -> shapely.STRtree | None:
        if self.land is None:
            return None
        if self._land_tree is None:
            self._land_tree = shapely.STRtree(self.land.geometry.values)
        return self._land_tree

    def is_land(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean array: is each WGS84 point on land?"""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        tree = self._tree()
        if tree is None:
            from global_land_mask import globe

            return np.asarray(globe.is_land(np.clip(lat, -89.99, 89.99), ((lon + 180) % 360) - 180), bool)
        pts = shapely.points(lon, lat)
        hit = tree.query(pts, predicate="intersects")
        out = np.zeros(len(lon), bool)
        out[hit[0]] = True
        return out

    def coast_distance_km(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Distance (km) from each point to the nearest coastline of the land layer; NaN without one.

        Computed in the region's metric CRS from polygon boundaries with an STRtree nearest query.
        """
        if self.land is None:
            return np.full(len(np.asarray(lon)), np.nan)
        crs = self.metric_crs
        coast = self.land.boundary.to_crs(crs).values
        pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(crs).values
        tree = shapely.STRtree(coast)
        idx, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        out = np.full(len(pts), np.nan)
        out[idx[0]] = dist / 1000.0
        return out

    metric_crs: str = "EPSG:7755"


def load_region(scenario: Scenario) -> Region:
    """Read every layer the scenario names (settlements required, the rest optional)."""
    base = Path(scenario.source).parent if Path(scenario.source).exists() else Path(".")
    data_dir = scenario.data_dir
    sources: dict[str, str] = {}
    layers: dict[str, gpd.GeoDataFrame] = {}
    rasters: dict[str, Path] = {}
    dropped: dict[str, int] = {}
    where = f"data.{{}} of scenario {scenario.source}"
    settlements_path = resolve(scenario.data["settlements"], data_dir, base, where.format("settlements"))
    settlements = read_settlements(settlements_path)
    sources["settlements"] = str(settlements_path)
    for name, ref in scenario.data.items():
        if name == "settlements":
            continue
        path = resolve(ref, data_dir, base, where.format(name))
        sources[name] = str(path)
        if name in _RASTER_LAYERS:
            rasters[name] = path
            continue
        gdf = read_vector(path, drop_missing_coords=True)
        dropped[name] = int(gdf.attrs.get("dropped_rows", 0))
        if name == "land":
            gdf = _clean_polygons(gdf, path)
        layers[name] = gdf
    grid_nodes = None
    if scenario.region.grid_nodes:
        path = resolve(scenario.region.grid_nodes, data_dir, base, f"region.grid_nodes of scenario {scenario.source}")
        grid_nodes = read_vector(path)
        sources["grid_nodes"] = str(path)
    region = Region(settlements=settlements, layers=layers, rasters=rasters, grid_nodes=grid_nodes,
                    sources=sources, dropped_rows=dropped)
    region.metric_crs = scenario.region.metric_crs
    return region


def _clean_polygons(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    types = set(gdf.geom_type.dropna().unique())
    if not types <= {"Polygon", "MultiPolygon"}:
        raise InputError(path, "geometry", f"the land layer must hold polygons; found {sorted(types)}")
    gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].copy()
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.loc[invalid, "geometry"].make_valid()
    return gdf.explode(ignore_index=True)[["geometry"]]
