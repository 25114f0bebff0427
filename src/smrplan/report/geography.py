"""The geography of a run's maps: context layers, reactor zones to scale, map panels and scale bars.

Pure functions of plan.json sections, scenario.yaml and catalogue.json records and GeoDataFrames; the
files are read in html.py and written in smrplan.outputs. A run directory carries the context layers
it used in `CONTEXT_FILE` (land, seismic zones, hazards, airports...), so that the report and the
QGIS project draw the same geography without the input data.

Distances in km on a sphere of radius `EARTH_RADIUS_KM`; coordinates in WGS84 degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), km
CONTEXT_FILE = "context.gpkg"
# A roadmap's settlements with the first year a plant serves each (beside roadmap.csv).
ROADMAP_SETTLEMENTS = "roadmap_settlements.csv"
# A roadmap's Monte Carlo (smrplan roadmap --draws): per site and period the probability it is started and
# in service, and per draw its inputs, present worth and plants.
ROADMAP_PROBABILITIES = "roadmap_probabilities.parquet"
ROADMAP_DRAWS = "roadmap_draws.parquet"
# Vector layers of the scenario copied into CONTEXT_FILE (when the run read them), drawn in this order.
CONTEXT_LAYERS = ("land", "districts", "seismic_zones", "cyclone_tracks", "earthquakes", "power_plants",
                  "dams", "airports")
ZONES_LAYER = "reactor_zones"
# Settlements further apart than this (degrees, about 330 km) along either axis are drawn in separate
# map panels, when there are at most MAX_PANELS groups and each holds at least MIN_PANEL_SHARE of them.
PANEL_GAP_DEG = 3.0
MAX_PANELS = 3
MIN_PANEL_SHARE = 0.02
# Lengths a scale bar may take (km): the largest one not longer than a fifth of the panel's width.
SCALE_STEPS_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


def circle_lonlat(lon: float, lat: float, radius_km: float, n: int = 72) -> tuple[np.ndarray, np.ndarray]:
    """A circle of `radius_km` around a point: the great-circle destinations of `n` bearings (closed).

    Parameters
    ----------
    lon, lat : float
        Centre, degrees.
    radius_km : float
        Radius along the Earth's surface, km.
    n : int, default 72
        Vertices.

    Returns
    -------
    lon, lat : numpy.ndarray
        n + 1 vertices, degrees; the last repeats the first.
    """
    d = radius_km / EARTH_RADIUS_KM
    b = np.radians(np.linspace(0.0, 360.0, n + 1))
    p1, l1 = np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(l2), np.degrees(p2)


def zone_radii(site: dict, siting: dict, epz_by_technology: dict[str, float]) -> dict[str, float]:
    """Exclusion zone and emergency planning zone (km) of a built reactor site.

    Parameters
    ----------
    site : dict
        A plan.json `reactor_sites` record (kind, technology).
    siting : dict
        scenario.yaml `siting`: exclusion_zone_km, micro_exclusion_zone_km, emergency_planning_zone_km.
    epz_by_technology : dict
        Catalogue EPZ radius (km) by technology key (`epz_by_technology`).

    Returns
    -------
    dict
        ``exclusion`` and ``epz`` radii, km.
    """
    excl = siting.get("micro_exclusion_zone_km") if site.get("kind") == "micro" else siting.get("exclusion_zone_km")
    epz = epz_by_technology.get(str(site.get("technology")), siting.get("emergency_planning_zone_km"))
    return {"exclusion": float(excl or 0.0), "epz": float(epz or 0.0)}


def epz_by_technology(catalogue: list[dict]) -> dict[str, float]:
    """EPZ radius (km) of each technology in catalogue.json records (parameter ``epz_km``)."""
    return {str(r["technology"]): float(r["value"]) for r in catalogue
            if r.get("parameter") == "epz_km" and r.get("value") is not None}


def reactor_zones(sites: list[dict], siting: dict, catalogue: list[dict]) -> gpd.GeoDataFrame:
    """Exclusion zone and EPZ circles of every built reactor site, as polygons.

    Parameters
    ----------
    sites : list of dict
        plan.json `reactor_sites`.
    siting : dict
        scenario.yaml `siting`.
    catalogue : list of dict
        catalogue.json records.

    Returns
    -------
    geopandas.GeoDataFrame
        site_id, technology, zone (``exclusion`` or ``epz``), radius_km and the circle (EPSG:4326);
        no rows without built sites.
    """
    epz = epz_by_technology(catalogue)
    rows = []
    for s in sites:
        for zone, radius in zone_radii(s, siting, epz).items():
            if radius > 0:
                x, y = circle_lonlat(float(s["lon"]), float(s["lat"]), radius)
                rows.append({"site_id": str(s["site_id"]), "technology": str(s.get("technology", "")), "zone": zone,
                             "radius_km": radius, "geometry": shapely.Polygon(np.column_stack([x, y]))})
    cols = ["site_id", "technology", "zone", "radius_km", "geometry"]
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs="EPSG:4326")


def context_layers(layers: dict[str, gpd.GeoDataFrame], bbox: tuple[float, float, float, float],
                   pad_deg: float = 2.0) -> dict[str, gpd.GeoDataFrame]:
    """The run's context layers (`CONTEXT_LAYERS`) cut to its extent, ready for a GeoPackage.

    Parameters
    ----------
    layers : dict
        Layers the run read (GeoDataFrames in EPSG:4326), by scenario name.
    bbox : tuple of float
        (minx, miny, maxx, maxy) of the settlements and candidate sites, degrees.
    pad_deg : float, default 2.0
        Margin kept around `bbox`, degrees (room to pan; hazards just outside the region).

    Returns
    -------
    dict
        Layer name to GeoDataFrame (features meeting the padded box; columns as read, text where
        GeoPackage cannot hold the type); empty layers are left out.
    """
    box = shapely.box(bbox[0] - pad_deg, bbox[1] - pad_deg, bbox[2] + pad_deg, bbox[3] + pad_deg)
    out = {}
    for name in CONTEXT_LAYERS:
        gdf = layers.get(name)
        if gdf is None or not len(gdf):
            continue
        cut = gdf[gdf.geometry.intersects(box)].copy()
        for col in cut.columns:
            if col != cut.geometry.name and cut[col].dtype == object:
                cut[col] = cut[col].astype(str)
        if len(cut):
            out[name] = cut
    return out


def panels(lon: np.ndarray, lat: np.ndarray) -> list[np.ndarray]:
    """Groups of points far apart (island territories), each drawn in its own map panel.

    Points are split where consecutive longitudes, then latitudes, leave a gap of more than
    `PANEL_GAP_DEG`; the split is kept when it gives 2 to `MAX_PANELS` groups, each with at least
    `MIN_PANEL_SHARE` of the points, otherwise every point is in one panel.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Settlement coordinates, degrees.

    Returns
    -------
    list of numpy.ndarray
        Indices of the points of each panel, west to east.
    """
    groups = [np.arange(len(lon))]
    for axis in (np.asarray(lon, float), np.asarray(lat, float)):
        split = []
        for g in groups:
            order = g[np.argsort(axis[g], kind="stable")]
            cuts = np.flatnonzero(np.diff(axis[order]) > PANEL_GAP_DEG) + 1
            split.extend(np.split(order, cuts))
        groups = split
    if not 2 <= len(groups) <= MAX_PANELS or min(len(g) for g in groups) < MIN_PANEL_SHARE * len(lon):
        return [np.arange(len(lon))]
    return sorted((np.sort(g) for g in groups), key=lambda g: float(np.mean(np.asarray(lon, float)[g])))


def scale_bar_km(width_deg: float, mid_lat: float) -> float:
    """Length (km) of a scale bar for a panel `width_deg` wide at latitude `mid_lat`: the largest of
    `SCALE_STEPS_KM` not longer than a fifth of the width (the smallest step for a narrower panel)."""
    width_km = width_deg * np.radians(1.0) * EARTH_RADIUS_KM * np.cos(np.radians(mid_lat))
    fits = [s for s in SCALE_STEPS_KM if s <= width_km / 5.0]
    return float(fits[-1] if fits else SCALE_STEPS_KM[0])


def km_to_lon_deg(km: float, lat: float) -> float:
    """Degrees of longitude spanning `km` along the parallel of `lat`."""
    return km / (np.radians(1.0) * EARTH_RADIUS_KM * max(np.cos(np.radians(lat)), 1e-6))


def label_of(group: pd.DataFrame) -> str:
    """Title of a map panel: its settlements' territory (or state) when they share one, else the
    name of its largest settlement and how many more it holds."""
    for col in ("territory", "state", "state_name"):
        if col in group.columns and group[col].nunique() == 1:
            return str(group[col].iloc[0])
    top = group.sort_values("demand_kwh_per_year", ascending=False)["name"].astype(str)
    return top.iloc[0] if len(top) == 1 else f"{top.iloc[0]} and {len(top) - 1} more"
