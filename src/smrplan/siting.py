"""Reactor site screening for land, microreactor and floating candidates.

Candidates come from rings of points around settlements (land and micro kinds), points offshore of
the coast near settlements (floating), an h3 hexagon grid over the land layer when one is given, and
a user `candidates` layer. Each criterion is one rule of the scenario's `siting` block (defaults with
sources in scenarios/defaults.yaml) and produces a measured value (`<criterion>_value`) and a
verdict (`<criterion>_pass`) for every candidate; a criterion whose layer is absent is recorded as
not evaluated (value NaN, pass True) and listed in the screen summary. `suitable` is the AND of all
verdicts and `reason` lists the failed criteria with their values and limits.

All distance work uses BallTree radius/nearest queries (haversine, km) or STRtree queries; there is
no Python loop over candidates or settlements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from smrplan.errors import InputError
from smrplan.geo.distance import PointIndex, destination
from smrplan.geo.io import sample_raster
from smrplan.geo.layers import Region
from smrplan.scenario import Siting

KINDS = ("land", "micro", "floating")
_BEARINGS = np.arange(0.0, 360.0, 45.0)
_COAST_BEARINGS = np.arange(0.0, 360.0, 22.5)
_COAST_STEP_KM = 0.25
_COAST_SEARCH_KM = 30.0
_EXPOSURE_RADIUS_KM = 5.0
_EXPOSURE_SAMPLES = 36


@dataclass
class Criterion:
    """Result of one rule: measured values, verdicts, a label and a human-readable limit."""

    name: str
    label: str
    value: np.ndarray
    passed: np.ndarray
    limit: str
    evaluated: bool = True
    note: str = ""


@dataclass
class ScreenResult:
    """Screened candidates (GeoDataFrame) and a summary for plan.json."""

    sites: gpd.GeoDataFrame
    criteria: list[Criterion] = field(default_factory=list)

    def summary(self) -> dict:
        s = self.sites
        per_kind = {k: {"candidates": int((s.kind == k).sum()), "suitable": int((s.suitable & (s.kind == k)).sum())}
                    for k in KINDS}
        removed = {c.name: int((~c.passed).sum()) for c in self.criteria if c.evaluated}
        return {"candidates": int(len(s)), "suitable": int(s.suitable.sum()), "by_kind": per_kind,
                "removed_by_criterion": removed,
                "criteria": [{"name": c.name, "label": c.label, "limit": c.limit, "evaluated": c.evaluated,
                              "note": c.note} for c in self.criteria]}


# ----------------------------------------------------------------------------------------- candidates
def _ring(lon, lat, distances_km, bearings=_BEARINGS):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    d = np.asarray(distances_km, float)
    src = np.repeat(np.arange(len(lon)), len(d) * len(bearings))
    dist = np.tile(np.repeat(d, len(bearings)), len(lon))
    brg = np.tile(np.tile(bearings, len(d)), len(lon))
    x, y = destination(lon[src], lat[src], brg, dist)
    return x, y, src


def _coast_points(region: Region, lon, lat, offshore_km):
    """Offshore points: along 16 bearings from each settlement, the first sea sample (the coast
    crossing, 0.25 km steps up to 30 km), then each mooring distance further out."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    steps = np.arange(_COAST_STEP_KM, _COAST_SEARCH_KM + 1e-9, _COAST_STEP_KM)
    n, b, k = len(lon), len(_COAST_BEARINGS), len(steps)
    src = np.repeat(np.arange(n), b * k)
    brg = np.tile(np.repeat(_COAST_BEARINGS, k), n)
    dist = np.tile(np.tile(steps, b), n)
    x, y = destination(lon[src], lat[src], brg, dist)
    sea = ~region.is_land(x, y).reshape(n * b, k)
    has = sea.any(axis=1)
    first = np.argmax(sea, axis=1)
    coast_km = steps[first]
    ray = np.flatnonzero(has)
    ray_src, ray_brg, ray_coast = ray // b, _COAST_BEARINGS[ray % b], coast_km[ray]
    off = np.asarray(offshore_km, float)
    src2 = np.repeat(ray_src, len(off))
    d2 = np.repeat(ray_coast, len(off)) + np.tile(off, len(ray))
    brg2 = np.repeat(ray_brg, len(off))
    px, py = destination(lon[src2], lat[src2], brg2, d2)
    offshore = np.tile(off, len(ray))
    return px, py, src2, offshore


def _hex_land(region: Region, bbox, resolution: int):
    land = region.land
    if land is None:
        return np.array([]), np.array([])
    clip = land.clip(shapely.box(*bbox))
    cells: set[str] = set()
    for geom in clip.geometry.values:  # a handful of polygons (not settlements); h3 fills each
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type == "Polygon" and not poly.is_empty:
                cells.update(h3.geo_to_cells(poly.__geo_interface__, resolution))
    if not cells:
        return np.array([]), np.array([])
    latlng = np.array([h3.cell_to_latlng(c) for c in sorted(cells)])
    return latlng[:, 1], latlng[:, 0]


def generate_candidates(region: Region, rules: Siting, max_network_km: float,
                        user: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """All candidate sites with kind, origin and the settlement they were generated from."""
    st = region.settlements
    slon, slat = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    parts = []
    for kind, rings in (("land", rules.land_ring_km), ("micro", rules.micro_ring_km)):
        x, y, src = _ring(slon, slat, rings)
        parts.append(pd.DataFrame({"lon": x, "lat": y, "kind": kind, "origin": "ring",
                                   "from_settlement": st["id"].to_numpy()[src]}))
    x, y, src, off = _coast_points(region, slon, slat, rules.floating_offshore_km)
    parts.append(pd.DataFrame({"lon": x, "lat": y, "kind": "floating", "origin": "offshore",
                               "from_settlement": st["id"].to_numpy()[src], "offshore_km": off}))
    if region.land is not None and len(st):
        pad = max_network_km / 111.0
        bbox = (slon.min() - pad, slat.min() - pad, slon.max() + pad, slat.max() + pad)
        hx, hy = _hex_land(region, bbox, rules.h3_resolution)
        parts.append(pd.DataFrame({"lon": hx, "lat": hy, "kind": "land", "origin": f"h3 r{rules.h3_resolution}",
                                   "from_settlement": ""}))
    if user is not None and len(user):
        if "kind" not in user.columns:
            raise InputError("candidates layer", "kind", "required column is missing; expected land, micro or floating")
        bad = ~user["kind"].isin(KINDS)
        if bad.any():
            r = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("candidates layer", f"row {r + 2}, column kind",
                             f"{user['kind'].iloc[r]!r}; expected one of {KINDS}")
        pts = user.geometry.representative_point()
        parts.append(pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy(), "kind": user["kind"].to_numpy(),
                                   "origin": "user", "from_settlement": ""}))
    cand = pd.concat(parts, ignore_index=True)
    # One candidate per kind and ~100 m cell (h3 resolution 10), so rings of neighbours do not duplicate.
    cell = [h3.latlng_to_cell(la, lo, 10) for la, lo in zip(cand.lat.to_numpy(), cand.lon.to_numpy(), strict=True)]
    cand = cand.assign(_cell=cell).drop_duplicates(["kind", "_cell"]).drop(columns="_cell").reset_index(drop=True)
    cand.insert(0, "site_id", [f"{k[0].upper()}{i:06d}" for i, k in enumerate(cand.kind)])
    return gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand.lon, cand.lat), crs="EPSG:4326")


# ------------------------------------------------------------------------------------------ criteria
def _applies(kinds, *which):
    return np.isin(kinds, which)


def _criterion(name, label, value, ok, applies, limit, evaluated=True, note=""):
    passed = np.where(applies, ok, True)
    value = np.where(applies, value, np.nan)
    return Criterion(name, label, value.astype(float), passed.astype(bool), limit, evaluated, note)


def _population_within(idx: PointIndex, pop, lon, lat, radius_km):
    q, p, _ = idx.within(lon, lat, radius_km)
    return np.bincount(q, weights=pop[p], minlength=len(lon))


def screen(region: Region, rules: Siting, candidates: gpd.GeoDataFrame,
           tech_epz_km: dict[str, float] | None = None, max_network_km: float = 150.0) -> ScreenResult:
    """Apply every siting rule to every candidate. `tech_epz_km` gives the smallest emergency planning
    zone per kind among the enabled technologies (the scenario's EPZ applies where that is larger)."""
    c = candidates
    kinds = c["kind"].to_numpy()
    lon, lat = c.lon.to_numpy(), c.lat.to_numpy()
    st = region.settlements
    slon, slat = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    pop = st["population_target"].to_numpy(float) if "population_target" in st else st["population"].to_numpy(float)
    sidx = PointIndex(slon, slat)
    crit: list[Criterion] = []
    reactor = _applies(kinds, "land", "micro", "floating")
    is_land = region.is_land(lon, lat)

    crit.append(_criterion("on_land", "stands on land", is_land.astype(float), is_land,
                           _applies(kinds, "land", "micro"), "on land"))
    crit.append(_criterion("on_water", "floats on water", (~is_land).astype(float), ~is_land,
                           _applies(kinds, "floating"), "at sea"))

    near_d, _ = sidx.nearest(lon, lat, k=1)
    near = near_d[:, 0]
    ez = np.where(kinds == "micro", rules.micro_exclusion_zone_km, rules.exclusion_zone_km)
    crit.append(_criterion("exclusion_zone", "no settlement in the exclusion zone", near, near >= ez, reactor,
                           f">= {rules.exclusion_zone_km} km (micro {rules.micro_exclusion_zone_km} km) to nearest settlement"))

    sz_pop = _population_within(sidx, pop, lon, lat, rules.sterilised_zone_km)
    crit.append(_criterion("sterilised_zone", "population in the sterilised zone", sz_pop,
                           sz_pop <= rules.sterilised_zone_max_population, _applies(kinds, "land", "floating"),
                           f"<= {rules.sterilised_zone_max_population:g} persons within {rules.sterilised_zone_km} km"))

    epz = np.full(len(c), rules.emergency_planning_zone_km)
    for kind, km in (tech_epz_km or {}).items():
        epz = np.where(kinds == kind, np.minimum(epz, km), epz)
    density = np.zeros(len(c))
    radii_text = []
    for e in np.unique(epz):
        sel = epz == e
        radii = _density_radii(rules, float(e))
        radii_text.append(f"{radii}")
        for r in radii:
            density[sel] = np.maximum(density[sel], _population_within(sidx, pop, lon[sel], lat[sel], r) / (np.pi * r * r))
    crit.append(_criterion("population_density", "population density out to the EPZ", density,
                           density <= rules.density_max_per_km2, reactor,
                           f"<= {rules.density_max_per_km2:g} persons/km2 averaged over every radius out to the "
                           f"EPZ or {rules.density_radius_km} km (radii {' / '.join(radii_text)} km)"))
    epz_pop = np.zeros(len(c))
    for e in np.unique(epz):
        sel = epz == e
        epz_pop[sel] = _population_within(sidx, pop, lon[sel], lat[sel], e)
    crit.append(_criterion("epz_population", "population in the emergency planning zone", epz_pop,
                           epz_pop <= rules.density_max_per_km2 * np.pi * epz ** 2, reactor,
                           f"<= density limit x EPZ area (EPZ {rules.emergency_planning_zone_km} km or the design's own)"))

    big = pop >= rules.population_centre_min_population
    d_big = PointIndex(slon[big], slat[big]).nearest(lon, lat, k=1)[0][:, 0]
    crit.append(_criterion("population_centre", "distance to a population centre", d_big,
                           d_big >= rules.population_centre_min_distance_km, _applies(kinds, "land", "floating"),
                           f">= {rules.population_centre_min_distance_km} km from towns of "
                           f">= {rules.population_centre_min_population:g}"))

    crit.append(_criterion("nearest_load", "distance to the nearest load", near, near <= max_network_km, reactor,
                           f"<= {max_network_km} km (optimisation.max_network_distance_km)"))

    crit += _hazard_criteria(region, rules, kinds, lon, lat, reactor)
    crit += _water_criteria(region, rules, kinds, lon, lat, c)

    out = c.copy()
    ok = np.ones(len(c), bool)
    reasons = [[] for _ in range(len(c))]
    for cr in crit:
        out[f"{cr.name}_value"] = cr.value
        out[f"{cr.name}_pass"] = cr.passed
        ok &= cr.passed
        for i in np.flatnonzero(~cr.passed):  # loop over failures only, to build readable text
            reasons[i].append(f"{cr.name} ({_fmt(cr.value[i])}; needs {cr.limit})")
    out["suitable"] = ok
    out["reason"] = ["suitable" if not r else "; ".join(r) for r in reasons]
    return ScreenResult(out, crit)


def _fmt(v: float) -> str:
    return "n/a" if not np.isfinite(v) else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}")


def _density_radii(rules: Siting, epz_km: float) -> list[float]:
    """Radii from the exclusion zone doubling out to the smaller of the density radius and the
    design's EPZ (OR-SAGE: density averaged over any radius out to the screening distance)."""
    outer = min(rules.density_radius_km, epz_km)
    r = max(rules.exclusion_zone_km, 1.0)
    out = []
    while r < outer:
        out.append(round(r, 3))
        r *= 2
    return out + [outer]


def _hazard_criteria(region: Region, rules: Siting, kinds, lon, lat, reactor) -> list[Criterion]:
    out = []
    zones = region.layers.get("seismic_zones")
    if zones is not None and "zone" in zones.columns:
        pts = shapely.points(lon, lat)
        tree = shapely.STRtree(zones.geometry.values)
        qi, zi = tree.query(pts, predicate="intersects")
        zone = np.full(len(lon), "", dtype=object)
        # On a border both zones match; the higher zone wins (IS 1893:2025, boundary towns).
        order = np.argsort(zones["zone"].astype(str).to_numpy()[zi], kind="stable")
        zone[qi[order]] = zones["zone"].astype(str).to_numpy()[zi[order]]
        bad = np.isin(zone, rules.excluded_seismic_zones)
        out.append(_criterion("seismic_zone", "IS 1893 seismic zone", np.where(bad, 1.0, 0.0), ~bad, reactor,
                              f"zone not in {rules.excluded_seismic_zones}"))
    else:
        out.append(_not_evaluated("seismic_zone", "IS 1893 seismic zone", len(lon), "no seismic_zones layer"))
    faults = region.layers.get("faults")
    if faults is not None:
        d = _distance_to_layer_km(region, faults, lon, lat)
        out.append(_criterion("capable_fault", "distance to a capable fault", d, d >= rules.capable_fault_min_km,
                              reactor, f">= {rules.capable_fault_min_km} km (AERB)"))
    else:
        out.append(_not_evaluated("capable_fault", "distance to a capable fault", len(lon), "no faults layer"))
    eq = region.layers.get("earthquakes")
    if eq is not None:
        mcol = next((c for c in ("mw", "mag", "magnitude", "Mw") if c in eq.columns), None)
        if mcol is None:
            raise InputError("earthquakes layer", "mw", "magnitude column missing; expected mw, mag or magnitude")
        mag = pd.to_numeric(eq[mcol], errors="coerce").to_numpy(float)
        q, p, _ = PointIndex(eq.geometry.x.to_numpy(), eq.geometry.y.to_numpy()).within(lon, lat, rules.earthquake_radius_km)
        mmax = np.full(len(lon), 0.0)
        np.maximum.at(mmax, q, np.nan_to_num(mag[p]))
        count = np.bincount(q, weights=(mag[p] >= rules.earthquake_count_magnitude).astype(float), minlength=len(lon))
        out.append(_criterion("earthquake_max_magnitude", "largest earthquake nearby", mmax,
                              mmax <= rules.earthquake_max_magnitude, reactor,
                              f"Mw <= {rules.earthquake_max_magnitude} within {rules.earthquake_radius_km} km"))
        out.append(_criterion("earthquake_count", "strong earthquakes nearby", count,
                              count <= rules.earthquake_max_count, reactor,
                              f"<= {rules.earthquake_max_count} events Mw >= {rules.earthquake_count_magnitude} "
                              f"within {rules.earthquake_radius_km} km"))
    else:
        for n, lab in (("earthquake_max_magnitude", "largest earthquake nearby"),
                       ("earthquake_count", "strong earthquakes nearby")):
            out.append(_not_evaluated(n, lab, len(lon), "no earthquakes layer"))
    out.append(_cyclones(region, rules, lon, lat, reactor))
    for name, label, buffer in (("protected_areas", "distance to protected areas", rules.protected_area_buffer_km),
                                ("airports", "distance to airports", rules.airport_buffer_km),
                                ("hazardous_facilities", "distance to hazardous facilities", rules.hazardous_buffer_km)):
        layer = region.layers.get(name)
        if layer is None:
            out.append(_not_evaluated(name, label, len(lon), f"no {name} layer"))
            continue
        d = _distance_to_layer_km(region, layer, lon, lat)
        out.append(_criterion(name, label, d, d > buffer if buffer > 0 else d > 0, reactor, f"> {buffer} km"))
    return out


def _cyclones(region: Region, rules: Siting, lon, lat, reactor) -> Criterion:
    tracks = region.layers.get("cyclone_tracks")
    label = "cyclone passages per decade"
    if tracks is None:
        return _not_evaluated("cyclones", label, len(lon), "no cyclone_tracks layer")
    cols = {c.lower(): c for c in tracks.columns}
    wind = cols.get("msws") or cols.get("wind_kt") or cols.get("usa_wind") or cols.get("wmo_wind")
    sid = cols.get("cs_id") or cols.get("sid") or cols.get("storm_id")
    when = cols.get("datetime") or cols.get("iso_time") or cols.get("time")
    if wind is None or sid is None or when is None:
        raise InputError("cyclone_tracks layer", "MSWS/CS_ID/DATETIME",
                         f"expected wind (kt), storm id and time columns; found {list(tracks.columns)}")
    strong = tracks[pd.to_numeric(tracks[wind], errors="coerce") >= rules.cyclone_min_wind_kt]
    years = pd.to_datetime(tracks[when], errors="coerce").dt.year
    span_decades = max((years.max() - years.min() + 1) / 10.0, 0.1)
    q, p, _ = PointIndex(strong.geometry.x.to_numpy(), strong.geometry.y.to_numpy()).within(
        lon, lat, rules.cyclone_radius_km)
    pairs = pd.DataFrame({"q": q, "storm": strong[sid].astype(str).to_numpy()[p]}).drop_duplicates()
    per_decade = np.bincount(pairs["q"].to_numpy(), minlength=len(lon)) / span_decades
    return _criterion("cyclones", label, per_decade, per_decade <= rules.cyclone_max_per_decade, reactor,
                      f"<= {rules.cyclone_max_per_decade} storms >= {rules.cyclone_min_wind_kt} kt within "
                      f"{rules.cyclone_radius_km} km per decade")


def _water_criteria(region: Region, rules: Siting, kinds, lon, lat, c) -> list[Criterion]:
    out = []
    coast = region.coast_distance_km(lon, lat)
    has_land = region.land is not None
    floating = _applies(kinds, "floating")
    if not has_land:
        # Without coastline polygons the offshore distance used to generate the point is the shore distance,
        # and a land site's distance to the sea is estimated from the offshore search of its settlement.
        coast = np.where(kinds == "floating", _offshore_of(c), _sea_distance(region, lon, lat))
    water_cooled = _applies(kinds, "land")
    out.append(_criterion("cooling_water", "distance to sea (water-cooled designs)", coast,
                          coast <= rules.cooling_water_max_km, water_cooled,
                          f"<= {rules.cooling_water_max_km} km to the sea; air-cooled microreactors exempt"))
    out.append(_criterion("shore_distance", "distance from shore (floating)", coast,
                          coast <= rules.floating_max_shore_km, floating, f"<= {rules.floating_max_shore_km} km"))
    bathy = region.rasters.get("bathymetry")
    if bathy is not None:
        depth = -sample_raster(bathy, lon, lat)
        ok = (depth >= rules.floating_min_depth_m) & (depth <= rules.floating_max_depth_m)
        note = _raster_note(bathy)
        out.append(_criterion("water_depth", "water depth at berth (floating)", depth, ok, floating,
                              f"{rules.floating_min_depth_m}-{rules.floating_max_depth_m} m", note=note))
    else:
        out.append(_not_evaluated("water_depth", "water depth at berth (floating)", len(lon), "no bathymetry raster"))
    exposure = _open_sea_share(region, lon, lat)
    out.append(_criterion("exposure", "open-sea share around the berth (floating)", exposure,
                          exposure <= rules.floating_max_open_sea_share, floating,
                          f"<= {rules.floating_max_open_sea_share} of a {_EXPOSURE_RADIUS_KM} km ring at sea"))
    return out


def _raster_note(path) -> str:
    from smrplan.geo.io import read_raster

    _, transform, crs = read_raster(path)
    cell_km = abs(transform.a) * (111.0 if crs.to_epsg() == 4326 else 0.001)
    if cell_km > 1.0:
        return (f"bathymetry cell is about {cell_km:.1f} km: depths near shore are unreliable (screening only; "
                "a berth needs a chart or GEBCO 15-arc-second survey)")
    return ""


def _offshore_of(c: gpd.GeoDataFrame) -> np.ndarray:
    return c["offshore_km"].to_numpy(float) if "offshore_km" in c.columns else np.full(len(c), np.nan)


def _sea_distance(region: Region, lon, lat) -> np.ndarray:
    """Distance (km) to the first sea sample along 16 bearings (0.25 km steps, up to 30 km)."""
    steps = np.arange(_COAST_STEP_KM, _COAST_SEARCH_KM + 1e-9, _COAST_STEP_KM)
    n, b, k = len(lon), len(_COAST_BEARINGS), len(steps)
    if n == 0:
        return np.array([])
    src = np.repeat(np.arange(n), b * k)
    x, y = destination(np.asarray(lon)[src], np.asarray(lat)[src], np.tile(np.repeat(_COAST_BEARINGS, k), n),
                       np.tile(np.tile(steps, b), n))
    sea = ~region.is_land(x, y).reshape(n, b * k)
    dist = np.tile(np.tile(steps, b), 1)[None, :].repeat(n, 0)
    return np.where(sea, dist, np.inf).min(axis=1)


def _open_sea_share(region: Region, lon, lat) -> np.ndarray:
    """Share of points on a 5 km ring around each point that lie at sea (1 = open water all round)."""
    bearings = np.linspace(0, 360, _EXPOSURE_SAMPLES, endpoint=False)
    x, y, _ = _ring(lon, lat, [_EXPOSURE_RADIUS_KM], bearings)
    return (~region.is_land(x, y)).reshape(len(lon), -1).mean(axis=1)


def _distance_to_layer_km(region: Region, layer: gpd.GeoDataFrame, lon, lat) -> np.ndarray:
    crs = region.metric_crs
    geoms = layer.to_crs(crs).geometry.values
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(crs).values
    (qi, _), d = shapely.STRtree(geoms).query_nearest(pts, return_distance=True, all_matches=False)
    out = np.full(len(lon), np.inf)
    out[qi] = d / 1000.0
    return out


def _not_evaluated(name: str, label: str, n: int, why: str) -> Criterion:
    return Criterion(name, label, np.full(n, np.nan), np.ones(n, bool), "-", evaluated=False, note=why)
