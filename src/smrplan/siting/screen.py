"""Reactor site screening for land, microreactor and floating candidates.

Candidates (`generate_candidates`):

* an h3 hexagon grid over the land layer (when given): a land and a micro candidate at every cell
  centre on land within the maximum network distance of a settlement (`siting.h3_resolution`;
  resolution 6 puts centres about 6.5 km apart; farther cells would fail `nearest_load`);
* rings of points around settlements (land and micro kinds, 8 bearings at the scenario's distances),
  only around settlements of at least `siting.ring_min_population` persons and around settlements the
  grid does not reach (no grid point within the outermost ring or within one cell's centre-to-corner
  distance, the h3 average edge length: small islands, coasts whose cell centres fall at sea, or no
  land layer at all), so that a national set of a million places does not make tens of millions of
  candidates;
* offshore points for floating plants from settlements within `siting.floating_coast_search_km` of
  the coast (coast distance from the land layer's STRtree; every settlement without a land layer):
  along 16 bearings the first sea sample (0.25 km steps) is the coast crossing and candidates lie the
  mooring distances beyond it;
* a user `candidates` layer (column `kind`: land, micro or floating).

Candidates of one kind within the same 100 m square of the region's metric CRS (floating ones: the
same `siting.floating_spacing_km` square) are one candidate (the first kept, in the order above with
user candidates first): a vectorised grid snap, which replaced a per-candidate h3 resolution-10
lookup (about 100 m cells too) that h3's scalar API made the slowest step at national scale.

Each criterion is one rule of the scenario's `siting` block (defaults with sources in
scenarios/defaults.yaml) and produces a measured value (`<criterion>_value`) and a verdict
(`<criterion>_pass`) for every candidate; a criterion whose layer is absent is recorded as not
evaluated (value NaN, pass True) and listed in the screen summary. `suitable` is the AND of all
verdicts and `reason` lists the failed criteria with their values and limits.

The settlements' candidates come by partitions of the settlements (`generate_candidates` with a
smrplan.partition.Partitioner), each partition's first of each kind-cell kept and then the first of
the partitions' in partition order, numbered at the end: the whole generation's table.

The criteria run by partitions of candidates (`screen` with a smrplan.partition.Partitioner, in this
process or on a cluster): each partition receives the region's layers and every settlement
(`settlements_around`); what a limit or note says about the region is fixed before (the EPZ of every
kind, `epz_of_kinds`) or summed after (`Criterion.counts`, `joined_criteria`), so that any cut gives
the whole screen.

Distances are great-circle km on a sphere of radius `EARTH_RADIUS_KM`: radius and nearest queries use
the package's spherical index (`smrplan.geo.distance.PointIndex`), in chunks of candidates so that
memory stays bounded; distances to line and polygon layers use STRtree queries in the metric
CRS. Radius rules are inclusive with a 1e-6 km (1 mm) numerical tolerance. There is no Python loop
over candidates or settlements (loops run over criteria, radii, chunks, land pieces and DEM blocks).

Terrain (`slope`, `elevation`) comes from the `dem` raster, read in windows around the candidates
(`dem_elevation_slope`), never whole; a candidate without DEM data fails both. The `tsunami` rule
measures the distance to hazard polygons like the other layer buffers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from smrplan.categories import categorical, concat, repeated
from smrplan.errors import InputError
from smrplan.geo.checks import numeric_values, row_offset, show, yes_no
from smrplan.geo.diskcache import cached, key_of
from smrplan.geo.distance import EARTH_RADIUS_KM, PointIndex, destination, haversine_km
from smrplan.geo.io import cell_of, open_raster, read_raster, sample_raster
from smrplan.geo.layers import SEA_BEARINGS, SEA_STEP_KM, Region, mask_first_sea_km
from smrplan.options import KINDS
from smrplan.partition import Partitioner, side_by_side, stitch
from smrplan.rejected_sites import kept, rejected_table
from smrplan.scenario import RULE_KEYS, Siting, siting_rule_set

_BEARINGS = np.arange(0.0, 360.0, 45.0)
_EXPOSURE_RADIUS_KM = 5.0
_EXPOSURE_SAMPLES = 36
_SNAP_M = 100.0  # candidates of one kind in the same square of this side (m) are merged
_EPS_KM = 1e-6  # numerical tolerance of the inclusive radius and distance rules (1 mm)
_CHUNK = 20_000  # candidates per earthquake or cyclone-track radius query: bounds the pair arrays
_EPS_SLOPE = 1e-6  # numerical tolerance of the slope limit (percent)
_DEM_BLOCK = 512  # DEM cells per side of the blocks whose candidates share one raster window
_TOWNSHIP_MATCH_KM = 100.0  # a listed township name counts within this distance of its plant (see `townships`)
_COOLING_SOURCES = ("sea", "river", "lake", "dam")  # the kinds of nearest cooling water the note counts
_SLOPE_LABEL = "ground slope (percent rise)"
_ELEVATION_LABEL = "ground elevation (m)"


@dataclass
class Criterion:
    """Result of one rule: measured values, verdicts, a label and a human-readable limit. A note that
    reports tallies over the candidates (DEM nodata, nearest cooling water) keeps them in `counts`
    and is made from them by `note_of`, so that the criteria of partitions join into the same note
    (`joined_criteria`)."""

    name: str
    label: str
    value: np.ndarray
    passed: np.ndarray
    limit: str
    evaluated: bool = True
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    note_of: Callable[[dict[str, int]], str] | None = None


def joined_criteria(pieces: list[list[Criterion]], parts: list[np.ndarray] | None = None) -> list[Criterion]:
    """The criteria of every candidate from those of partitions of the candidates.

    Parameters
    ----------
    pieces : list of list of Criterion
        The criteria of each partition, in the same order in every one.
    parts : list of numpy.ndarray, optional
        The partitions' candidate positions (smrplan.partition.Partitioner.parts); None for
        criteria without values and verdicts (`described`).

    Returns
    -------
    list of Criterion
        Values and verdicts in candidate order (smrplan.partition.stitch); tallies summed and their
        notes made from the sums; other notes are the region's, the same in every partition.
    """
    out = []
    for same in zip(*pieces, strict=True):
        first = same[0]
        counts = {k: sum(c.counts[k] for c in same) for k in first.counts}
        arrays = {} if parts is None else {"value": stitch([c.value for c in same], parts),
                                           "passed": stitch([c.passed for c in same], parts)}
        out.append(replace(first, **arrays, counts=counts,
                           note=first.note if first.note_of is None else first.note_of(counts)))
    return out


def _counted(criterion: Criterion, counts: dict[str, int], note_of: Callable[[dict[str, int]], str]) -> Criterion:
    """`criterion` with its tallies and the note made from them."""
    return replace(criterion, counts=counts, note=note_of(counts), note_of=note_of)


@dataclass(frozen=True)
class Around:
    """The region's settlements as the settlement rules read them (`settlements_around`): every
    settlement, whichever candidates are screened.

    Attributes
    ----------
    index : PointIndex
        Every settlement point.
    population : numpy.ndarray
        (M,) persons: ``population_target`` when present, else ``population``.
    township : numpy.ndarray
        (M,) bool, a plant's staff township (`townships`).
    centres : PointIndex
        The population centres: settlements of at least the rules' ``population_centre_min_population``
        persons, not townships.
    """

    index: PointIndex
    population: np.ndarray
    township: np.ndarray
    centres: PointIndex


def settlements_around(st: gpd.GeoDataFrame, rules: Siting) -> Around:
    """The settlements as the settlement rules read them, indexed once for every candidate.

    Parameters
    ----------
    st : geopandas.GeoDataFrame
        Settlement points (WGS84) with ``population_target`` or ``population`` (persons), optionally
        ``name`` and ``township_of``.
    rules : Siting
        The scenario's siting rules (the population of a population centre, persons).

    Returns
    -------
    Around
    """
    slon, slat = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    pop = _population(st)
    township = townships(st)
    big = (pop >= rules.population_centre_min_population) & ~township
    return Around(PointIndex(slon, slat), pop, township, PointIndex(slon[big], slat[big]))


@dataclass
class ScreenResult:
    """Screened candidates and a summary for plan.json.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Every candidate with each criterion's value and verdict, ``suitable`` and ``reason``; with
        `rejected`, only the suitable ones.
    criteria : list of Criterion
        The criteria in the screen's order; with `rejected`, without their per-candidate values and
        verdicts (`described`).
    rule_set : dict
        The rule set's record (`rule_set_record`).
    failing : dict
        Candidates failing each evaluated criterion.
    rejected : pandas.DataFrame or None
        The candidates that fail the screen as compact rows (`smrplan.rejected_sites.rejected_table`,
        point geometry kept) when the screen made them (``screen(..., compact=True)``); None when
        `sites` holds every candidate.
    """

    sites: gpd.GeoDataFrame
    criteria: list[Criterion] = field(default_factory=list)
    rule_set: dict = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)
    rejected: pd.DataFrame | None = None

    def summary(self) -> dict:
        s, r = self.sites, self.rejected
        per_kind = {k: {"candidates": int((s.kind == k).sum()) + (int((r.kind == k).sum()) if r is not None else 0),
                        "suitable": int((s.suitable & (s.kind == k)).sum())} for k in KINDS}
        removed = {c.name: self.failing[c.name] for c in self.criteria if c.evaluated}
        return {"candidates": int(len(s)) + (len(r) if r is not None else 0), "suitable": int(s.suitable.sum()),
                "by_kind": per_kind, "rule_set": self.rule_set,
                "removed_by_criterion": removed,
                "criteria": [{"name": c.name, "label": c.label, "limit": c.limit, "evaluated": c.evaluated,
                              "note": c.note} for c in self.criteria]}


# ----------------------------------------------------------------------------------------- candidates
def _ring(lon, lat, distances_km, bearings=_BEARINGS):
    """Points at each distance (km) along each bearing (degrees) from each point: lon, lat (degrees) and
    the source point's index, point by point, then distance, then bearing. `destination` runs on the
    broadcast (points, distances, bearings) grid, so each point's sine and cosine are taken once."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    d, b = np.asarray(distances_km, float), np.asarray(bearings, float)
    x, y = destination(lon[:, None, None], lat[:, None, None], b[None, None, :], d[None, :, None])
    return x.ravel(), y.ravel(), np.repeat(np.arange(len(lon)), len(d) * len(b))


def _first_sea_km(region: Region, lon, lat, search_km: float) -> np.ndarray:
    """Distance (km) along each of 16 bearings from each point to the sea, an array (points, 16); inf
    when there is no sea within search_km. With a land layer the exact coast crossing
    (`Region.coast_crossing_km`); without one the first sea sample of the global land mask at
    0.25 km steps."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n, b = len(lon), len(SEA_BEARINGS)
    if region.land is not None:
        return region.coast_crossing_km(np.repeat(lon, b), np.repeat(lat, b), np.tile(SEA_BEARINGS, n),
                                        search_km).reshape(n, b)
    return mask_first_sea_km(region, lon, lat, SEA_BEARINGS, SEA_STEP_KM, search_km)


def _coast_points(region: Region, lon, lat, offshore_km, search_km: float):
    """Offshore points: along 16 bearings from each settlement, the coast crossing within
    `search_km` (`_first_sea_km`), then each mooring distance further out. Returns lon, lat, the
    index of the source point and the mooring distance (km) of every offshore point."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    b = len(SEA_BEARINGS)
    coast_km = _first_sea_km(region, lon, lat, search_km).ravel()
    ray = np.flatnonzero(np.isfinite(coast_km))
    ray_src, ray_brg, ray_coast = ray // b, SEA_BEARINGS[ray % b], coast_km[ray]
    off = np.asarray(offshore_km, float)
    src2 = np.repeat(ray_src, len(off))
    d2 = np.repeat(ray_coast, len(off)) + np.tile(off, len(ray))
    px, py = destination(lon[src2], lat[src2], np.repeat(ray_brg, len(off)), d2)
    return px, py, src2, np.tile(off, len(ray))


def _hex_land(region: Region, bbox, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lon, lat) of the h3 cells at `resolution` whose centre lies on land inside bbox.

    h3.geo_to_cells runs once per land piece (polygons cut to at most 256 vertices, see
    `Region.land_pieces`; about 1,800 for India, 0.8 s at resolution 6), which is 40 times faster
    than on the whole mainland polygon; h3 has no array API, so centres come from one
    cell_to_latlng call per cell. Kept on disk per land layer, box and resolution (`geo.diskcache`)."""
    if region.land is None:
        return np.array([]), np.array([])
    key = key_of([region.land_key(), tuple(float(b) for b in bbox), resolution, h3.__version__],
                 code=[sys.modules[__name__]])
    cells = cached("h3land", key, lambda: _hex_centres(region, bbox, resolution))
    return cells["lon"], cells["lat"]


def _hex_centres(region: Region, bbox, resolution: int) -> dict[str, np.ndarray]:
    """`_hex_land` computed: centres ``lon``, ``lat`` (degrees) of the h3 cells of the land pieces in bbox."""
    pieces = region.land_pieces()
    assert pieces is not None, "called with a land layer"
    geoms, tree = pieces
    clipped = shapely.clip_by_rect(geoms[tree.query(shapely.box(*bbox), predicate="intersects")], *bbox)
    parts = shapely.get_parts(clipped)
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    cells: set[str] = set()
    for poly in parts:  # land pieces, not points
        cells.update(h3.geo_to_cells(poly.__geo_interface__, resolution))
    latlng = np.array([h3.cell_to_latlng(c) for c in sorted(cells)]).reshape(-1, 2)
    return {"lon": latlng[:, 1], "lat": latlng[:, 0]}


def _population(st: pd.DataFrame) -> np.ndarray:
    col = "population_target" if "population_target" in st.columns else "population"
    return st[col].to_numpy(float)


def origins(h3_resolution: int) -> tuple[str, ...]:
    """Every value of a candidate site's ``origin`` (the categories of the column): a user's layer,
    a ring around a settlement, offshore of one, an h3 cell centre of the scenario's resolution, a
    coal plant's site (smrplan.siting.repowering).

    Parameters
    ----------
    h3_resolution : int
        The scenario's h3 resolution (``siting.h3_resolution``).

    Returns
    -------
    tuple of str
    """
    return ("user", "ring", "offshore", f"h3 r{h3_resolution}", "coal site")


def labels(kind: str, origin: str, n: int, h3_resolution: int) -> dict[str, pd.Categorical[str]]:
    """The ``kind`` and ``origin`` columns of `n` candidates of one kind and origin, as Categoricals of
    `KINDS` and `origins`.

    Parameters
    ----------
    kind : str
        One of `KINDS`.
    origin : str
        One of `origins` (h3_resolution).
    n : int
        Candidates.
    h3_resolution : int
        The scenario's h3 resolution.

    Returns
    -------
    dict
        kind and origin.
    """
    return {"kind": repeated(kind, n, KINDS), "origin": repeated(origin, n, origins(h3_resolution))}


def _user_candidates(user: gpd.GeoDataFrame, h3_resolution: int) -> pd.DataFrame:
    if "kind" not in user.columns:
        raise InputError("candidates layer", "kind", "required column is missing; expected land, micro or floating")
    bad = ~user["kind"].isin(KINDS)
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("candidates layer", f"row {r + 2}, column kind",
                         f"{user['kind'].iloc[r]!r}; expected one of {KINDS}")
    pts = user.geometry.representative_point()
    return pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy(), "kind": categorical(user["kind"], KINDS),
                         "origin": repeated("user", len(user), origins(h3_resolution)), "from_settlement": ""})


def generate_candidates(region: Region, rules: Siting, max_network_km: float,
                        user: gpd.GeoDataFrame | None = None, part: Partitioner | None = None) -> gpd.GeoDataFrame:
    """All candidate sites with kind, origin, the settlement they were generated from and, for
    floating ones, `offshore_km` (mooring distance beyond the coast crossing, km).

    Candidates: rings around settlements (``land_ring_km``, ``micro_ring_km``; settlements of at least
    ``ring_min_population`` persons and those no h3 cell reaches), points offshore of settlements near
    the coast (``floating_offshore_km``), h3 cell centres on land within `max_network_km` of a
    settlement, and the user's layer; of the candidates of one kind in one snapping cell (floating:
    ``floating_spacing_km``) the first is kept, in the order user, land rings, micro rings, offshore,
    h3 land, h3 micro (settlements in table order within each).

    The settlements' candidates come by partitions of the settlements (`part`): the h3 cells within
    reach of each partition (`cells_reached`), then each partition's rings and offshore points with
    the first of each kind-cell kept (`settlement_candidates`); of the partitions' candidates
    concatenated in partition order the first of each kind-cell is kept again, which is the first in
    the whole order (the snapping cell's key holds the kind, and every kind keeps its settlements'
    order). Site numbers are given at the end: any cut gives the same table.

    Parameters
    ----------
    region : Region
        Settlements (WGS84 points, with ``id`` and population), land layer and metric CRS.
    rules : Siting
        The scenario's siting rules: ring and offshore distances (km), h3 resolution, minimum population of
        a ring's settlement (persons), coast search distance and floating spacing (km).
    max_network_km : float
        Largest distance from a site to a load it serves (km); h3 cells farther from every settlement are
        not generated.
    user : geopandas.GeoDataFrame or None, default None
        User candidates with a ``kind`` column (land, micro or floating); a shape stands for a point on it.
    part : Partitioner, optional
        How the settlements are cut and where the partitions run (default: one partition here).

    Returns
    -------
    geopandas.GeoDataFrame
        site_id (kind initial and a number), lon, lat (degrees), kind and origin (Categoricals of
        `KINDS` and `origins`), from_settlement, offshore_km (km; NaN for other kinds), point geometry
        in WGS84.

    Raises
    ------
    InputError
        When the user layer has no ``kind`` column or an unknown kind.
    """
    st = region.settlements
    points = pd.DataFrame({"lon": st.geometry.x.to_numpy(), "lat": st.geometry.y.to_numpy(),
                           "id": st["id"].astype(str).to_numpy(), "population": _population(st)})
    part = part or Partitioner(max(len(points), 1))
    parts = part.parts(len(points))
    context = part.share(region.bare())
    hx, hy = np.array([]), np.array([])
    if region.land is not None and len(points):
        pad = max_network_km / 111.0
        bbox = (points.lon.min() - pad, points.lat.min() - pad, points.lon.max() + pad, points.lat.max() + pad)
        hx, hy = _hex_land(region, bbox, rules.h3_resolution)
        near = np.logical_or.reduce(part.map(cells_reached, (points.iloc[p] for p in parts),
                                             part.share((hx, hy)), max_network_km))  # farther cells fail nearest_load
        hx, hy = hx[near], hy[near]
    cells = part.share((hx, hy))
    blocks = [_user_candidates(user, rules.h3_resolution)] if user is not None and len(user) else []
    blocks += part.map(settlement_candidates, (points.iloc[p] for p in parts), context, rules, max_network_km, cells)
    blocks += [pd.DataFrame({"lon": hx, "lat": hy, **labels(kind, f"h3 r{rules.h3_resolution}", len(hx), rules.h3_resolution),
                             "from_settlement": ""}) for kind in ("land", "micro")]
    cand = _first_in_cell(pd.concat([b for b in blocks if len(b)], ignore_index=True), region, rules)
    cand = cand.iloc[np.argsort(_block_of(cand), kind="stable")].reset_index(drop=True)  # the whole order
    if "offshore_km" not in cand.columns:
        cand["offshore_km"] = np.nan
    cand.insert(0, "site_id", [f"{kind[0].upper()}{i:06d}" for i, kind in enumerate(cand.kind)])  # e.g. L000042
    return gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand.lon, cand.lat), crs="EPSG:4326")


def cells_reached(points: pd.DataFrame, cells: tuple[np.ndarray, np.ndarray], max_network_km: float) -> np.ndarray:
    """Which h3 cell centres have one of some settlements within `max_network_km`.

    Parameters
    ----------
    points : pandas.DataFrame
        lon, lat of the settlements (degrees).
    cells : tuple of numpy.ndarray
        lon, lat of the cell centres (degrees).
    max_network_km : float
        Reach (km, inclusive).

    Returns
    -------
    numpy.ndarray
        (cells,) bool.
    """
    hx, hy = cells
    return PointIndex(points["lon"].to_numpy(), points["lat"].to_numpy()).nearest(hx, hy)[0][:, 0] <= max_network_km


def settlement_candidates(points: pd.DataFrame, region: Region, rules: Siting, max_network_km: float,
                          cells: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The ring and offshore candidates of some settlements, the first of each kind-cell kept
    (`_first_in_cell`), in the order land rings, micro rings, offshore (see `generate_candidates`).

    Parameters
    ----------
    points : pandas.DataFrame
        lon, lat (degrees), id and population (persons) of the settlements.
    region : Region
        The land layer, coast and metric CRS (its settlements are not read).
    rules : Siting
        Ring and offshore distances (km), h3 resolution, ring minimum population (persons), coast search
        distance and floating spacing (km).
    max_network_km : float
        Largest distance from a site to a load it serves (km).
    cells : tuple of numpy.ndarray
        lon, lat (degrees) of the h3 cell centres kept (a settlement no cell reaches gets rings).

    Returns
    -------
    pandas.DataFrame
        lon, lat (degrees), kind, origin (Categoricals, `labels`), from_settlement and offshore_km
        (km; NaN but offshore).
    """
    slon, slat = points["lon"].to_numpy(), points["lat"].to_numpy()
    ids, pop = points["id"].to_numpy(), points["population"].to_numpy()
    to_grid = PointIndex(*cells).nearest(slon, slat)[0][:, 0]
    cell_radius = h3.average_hexagon_edge_length(rules.h3_resolution, "km")  # centre to corner
    out = []
    for kind, rings in (("land", rules.land_ring_km), ("micro", rules.micro_ring_km)):
        reached = to_grid <= max(max(rings), cell_radius)
        sel = np.flatnonzero((pop >= rules.ring_min_population) | ~reached)
        x, y, src = _ring(slon[sel], slat[sel], rings)
        out.append(pd.DataFrame({"lon": x, "lat": y, **labels(kind, "ring", len(x), rules.h3_resolution),
                                 "from_settlement": ids[sel][src], "offshore_km": np.nan}))
    coast = region.coast_distance_km(slon, slat, max_km=rules.floating_coast_search_km)
    sel = np.flatnonzero(~(coast > rules.floating_coast_search_km))  # NaN (no land layer): every settlement
    x, y, src, off = _coast_points(region, slon[sel], slat[sel], rules.floating_offshore_km,
                                   rules.floating_coast_search_km)
    out.append(pd.DataFrame({"lon": x, "lat": y, **labels("floating", "offshore", len(x), rules.h3_resolution),
                             "from_settlement": ids[sel][src], "offshore_km": off}))
    return _first_in_cell(pd.concat(out, ignore_index=True), region, rules)


def _first_in_cell(cand: pd.DataFrame, region: Region, rules: Siting) -> pd.DataFrame:
    """The first candidate of each kind in each snapping cell: a square of ``_SNAP_M`` m of the region's
    metric CRS (floating: ``floating_spacing_km``)."""
    x, y = Transformer.from_crs("EPSG:4326", region.metric_crs, always_xy=True).transform(
        cand.lon.to_numpy(), cand.lat.to_numpy())
    size = np.where((cand["kind"] == "floating").to_numpy(), rules.floating_spacing_km * 1000.0, _SNAP_M)
    cell = pd.DataFrame({"kind": cand["kind"].array, "x": np.floor(np.asarray(x) / size).astype(np.int64),
                         "y": np.floor(np.asarray(y) / size).astype(np.int64)})
    return cand.loc[~cell.duplicated().to_numpy()]


def _block_of(cand: pd.DataFrame) -> np.ndarray:
    """Each candidate's place in the whole order: user 0, land rings 1, micro rings 2, offshore 3, h3
    land 4, h3 micro 5."""
    kind, origin = cand["kind"], cand["origin"]
    land, ring = (kind == "land").to_numpy(), (origin == "ring").to_numpy()  # the first that holds gives the block
    return np.select([(origin == "user").to_numpy(), ring & land, ring, (origin == "offshore").to_numpy(), land],
                     [0, 1, 2, 3, 4], 5)


# ------------------------------------------------------------------------------------------ criteria
def _applies(kinds, *which):
    return np.isin(kinds, which)


def _criterion(name, label, value, ok, applies, limit, evaluated=True, note=""):
    passed = np.where(applies, ok, True)
    value = np.where(applies, value, np.nan)
    return Criterion(name, label, value.astype(float), passed.astype(bool), limit, evaluated, note)


def screen(region: Region, rules: Siting, candidates: gpd.GeoDataFrame,
           tech_epz_km: dict[str, float] | None = None, max_network_km: float = 150.0,
           extra: Sequence[Criterion] = (), part: Partitioner | None = None, compact: bool = False) -> ScreenResult:
    """Apply every siting rule to every candidate.

    The rules (`criteria_of`) run by partitions of the candidates (`part`), each partition with the
    region's layers and every settlement (`settlements_around`), and are joined in candidate order
    (`joined_criteria`): the same values, verdicts and notes as one partition. Then the verdicts
    (`_verdicts`).

    Parameters
    ----------
    region : Region
        Settlements and context layers. Population is the settlements' ``population_target``
        (persons in the target year) when present, else ``population``, lumped at the settlement points.
    rules : Siting
        The scenario's siting rules.
    candidates : geopandas.GeoDataFrame
        Candidate sites (`generate_candidates`): kind, lon, lat (degrees).
    tech_epz_km : dict or None
        Smallest emergency planning zone (km) per kind among the enabled technologies (the
        scenario's EPZ applies where that is larger).
    max_network_km : float
        Largest distance from a site to a load it serves, km (`nearest_load`).
    extra : sequence of Criterion
        Criteria of a special screen (e.g. the repowering rules of coal sites), one value per
        candidate, applied after the rules above.
    part : Partitioner, optional
        How the rules run: partitions of candidates, in this process or on a cluster (default: one
        partition here).
    compact : bool, default False
        Each partition keeps the full rows of its suitable candidates only and makes compact rows of
        the others (`screened_rows`): the whole table of full rows is never made. Takes no `extra`.

    Returns
    -------
    ScreenResult
        The candidates with ``<criterion>_value``, ``<criterion>_pass``, ``suitable`` and ``reason``
        (compact: the suitable ones, the others in ``rejected``), and the criteria in order.

    Raises
    ------
    InputError
        When the earthquakes or cyclone-tracks layer lacks its columns, or a raster layer (DEM,
        bathymetry...) is unreadable or has no CRS.
    """
    part = part or Partitioner(max(len(candidates), 1))
    parts = part.parts(len(candidates))
    shared = (part.share(region.bare()), part.share(settlements_around(region.settlements, rules)), rules,
              epz_of_kinds(rules, tech_epz_km, candidates["kind"].unique()), max_network_km)
    if compact:
        if extra:
            raise ValueError("a compact screen takes no extra criteria")
        kept_rows, rejected, described_, failing = zip(*part.map(screened_rows, (candidates.iloc[p] for p in parts),
                                                                 *shared), strict=True)  # consecutive partitions: rows in order
        crit = joined_criteria(list(described_))
        return ScreenResult(concat(list(kept_rows)), crit, rule_set_record(rules),
                            {c.name: sum(f[c.name] for f in failing) for c in crit}, concat(list(rejected)))
    crit = joined_criteria(part.map(criteria_of, (candidates.iloc[p] for p in parts), *shared), parts) + list(extra)
    return ScreenResult(_verdicts(candidates, crit), crit, rule_set_record(rules),
                        _failing(crit))


def screened_rows(candidates: gpd.GeoDataFrame, region: Region, around: Around, rules: Siting,
                  epz_km: dict[str, float], max_network_km: float
                  ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[Criterion], dict[str, int]]:
    """The screen of some candidates as a compact screen keeps it: the full rows of the suitable ones,
    the compact rows of the others, the criteria without per-candidate arrays and how many fail each.

    Parameters
    ----------
    candidates, region, around, rules, epz_km, max_network_km
        As `criteria_of`.

    Returns
    -------
    suitable : geopandas.GeoDataFrame
        Their rows with every criterion's value and verdict, ``suitable`` and ``reason`` (`_verdicts`).
    rejected : pandas.DataFrame
        The rows of the others (`smrplan.rejected_sites.rejected_table`, geometry kept).
    criteria : list of Criterion
        `described`.
    failing : dict
        Candidates failing each criterion.
    """
    crit = criteria_of(candidates, region, around, rules, epz_km, max_network_km)
    rows = _verdicts(candidates, crit)
    return (rows[kept(rows)], rejected_table(rows, [c.name for c in crit]), [described(c) for c in crit],
            _failing(crit))


def _failing(crit: list[Criterion]) -> dict[str, int]:
    """Candidates failing each criterion, by its name."""
    return {c.name: int((~c.passed).sum()) for c in crit}


def described(criterion: Criterion) -> Criterion:
    """The criterion without its per-candidate values and verdicts (its name, label, limit, note and
    tallies).

    Parameters
    ----------
    criterion : Criterion
        Values and verdicts of some candidates.

    Returns
    -------
    Criterion
        Empty `value` and `passed`.
    """
    return replace(criterion, value=criterion.value[:0], passed=criterion.passed[:0])


def epz_of_kinds(rules: Siting, tech_epz_km: dict[str, float] | None, kinds) -> dict[str, float]:
    """The emergency planning zone of each kind (km): the scenario's, or the smallest of the kind's
    enabled technologies' where that is smaller.

    Parameters
    ----------
    rules : Siting
        The scenario's siting rules (its emergency planning zone, km).
    tech_epz_km : dict or None
        Smallest emergency planning zone (km) per kind among the enabled technologies.
    kinds : iterable of str
        The kinds screened (every candidate's: the density rule's limit names their zones).

    Returns
    -------
    dict
        Kind to km.
    """
    own = tech_epz_km or {}
    return {k: float(min(rules.emergency_planning_zone_km, own.get(k, np.inf))) for k in kinds}


def criteria_of(candidates: gpd.GeoDataFrame, region: Region, around: Around, rules: Siting,
                epz_km: dict[str, float], max_network_km: float) -> list[Criterion]:
    """Every siting rule's criterion for some candidates: placement (on land / at sea,
    `_placement_criteria`), settlements around the site (`_settlement_criteria`), hazards, terrain,
    tsunami, cooling water and the berth of floating plants.

    The groups of rules read the same inputs and write nothing shared, so they run side by side
    (`smrplan.partition.side_by_side`: their work is GEOS, numpy and compiled loops, which release the
    GIL); within a partition that already runs on a thread, one after the other.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate sites: kind, lon, lat (degrees), offshore_km (km) for floating ones.
    region : Region
        The region's context layers (its settlements are not read).
    around : Around
        Every settlement of the region (`settlements_around`).
    rules : Siting
        The scenario's siting rules.
    epz_km : dict
        Emergency planning zone (km) of every kind screened in the region (`epz_of_kinds`).
    max_network_km : float
        Largest distance from a site to a load it serves, km.

    Returns
    -------
    list of Criterion
        One value and verdict per candidate each, in the order of `screen`.
    """
    c = candidates
    kinds = c["kind"].to_numpy()
    lon, lat = c.lon.to_numpy(float), c.lat.to_numpy(float)
    groups = side_by_side(
        lambda: _placement_criteria(region, kinds, lon, lat),
        lambda: _settlement_criteria(around, rules, kinds, lon, lat, epz_km, max_network_km),
        lambda: _hazard_criteria(region, rules, kinds, lon, lat, _applies(kinds, "land", "micro", "floating")),
        lambda: _terrain_criteria(region, rules, kinds, lon, lat) + [_tsunami(region, rules, kinds, lon, lat)],
        lambda: [_cooling_water(region, rules, kinds, lon, lat)],
        lambda: _berth_criteria(region, rules, kinds, lon, lat, c),
    )
    return [criterion for group in groups for criterion in group]


def rule_set_record(rules: Siting) -> dict:
    """The rule set a screen used, for plan.json: its name (or file), title and, per rule, the value
    applied with its source and year; a value the scenario set itself has source "scenario"."""
    rule_set = siting_rule_set(rules.rules)
    out = {}
    for key in RULE_KEYS:
        r, used = rule_set.rules[key], float(getattr(rules, key))
        own = used != r.value
        out[key] = {"value": used, "source": "scenario" if own else r.source, "year": None if own else r.year}
    return {"name": rules.rules, "title": rule_set.title, "rules": out}


def _placement_criteria(region: Region, kinds: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> list[Criterion]:
    """Land and micro sites stand on land; floating ones at sea (not on inland water).

    Parameters
    ----------
    region : Region
        Gives the land and sea tests.
    kinds : numpy.ndarray
        (N,) kind of each candidate.
    lon, lat : numpy.ndarray
        (N,) candidate coordinates, degrees.

    Returns
    -------
    list of Criterion
        on_land, on_water (values 1 or 0).
    """
    floating = kinds == "floating"
    is_land = np.zeros(len(kinds), bool)
    is_land[~floating] = region.is_land(lon[~floating], lat[~floating])
    at_sea = np.zeros(len(kinds), bool)
    at_sea[floating] = region.is_sea_many(lon[floating], lat[floating])
    return [_criterion("on_land", "stands on land", is_land.astype(float), is_land,
                       _applies(kinds, "land", "micro"), "on land"),
            _criterion("on_water", "floats at sea", at_sea.astype(float), at_sea,
                       _applies(kinds, "floating"), "at sea (not inland water)")]


def _settlement_criteria(around: Around, rules: Siting, kinds: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                         epz_km: dict[str, float], max_network_km: float) -> list[Criterion]:
    """Rules on the settlements around each site: distances and population in zones.

    Parameters
    ----------
    around : Around
        Every settlement (`settlements_around`).
    rules : Siting
        The scenario's siting rules.
    kinds : numpy.ndarray
        (N,) kind of each candidate.
    lon, lat : numpy.ndarray
        (N,) candidate coordinates, degrees.
    epz_km : dict
        Emergency planning zone of every kind screened in the region, km (`epz_of_kinds`).
    max_network_km : float
        Largest distance to the nearest load, km.

    Returns
    -------
    list of Criterion
        exclusion_zone (km), sterilised_zone (persons), population_density (persons/km2),
        epz_population (persons), population_centre (km), nearest_load (km).
    """
    reactor = _applies(kinds, "land", "micro", "floating")
    near = around.index.nearest(lon, lat)[0][:, 0]
    ez = np.where(kinds == "micro", rules.micro_exclusion_zone_km, rules.exclusion_zone_km)
    crit = [_criterion("exclusion_zone", "no settlement in the exclusion zone", near, near >= ez - _EPS_KM,
                       reactor, f">= {rules.exclusion_zone_km} km (micro {rules.micro_exclusion_zone_km} km) "
                                "to nearest settlement")]
    epz = np.zeros(len(kinds))
    for kind, km in epz_km.items():  # kinds, not candidates
        epz[kinds == kind] = km
    crit += _zone_population_criteria(rules, kinds, lon, lat, around.index, around.population, epz,
                                      sorted(set(epz_km.values())), around.township)
    d_big = around.centres.nearest(lon, lat)[0][:, 0]
    crit.append(_criterion("population_centre", "distance to a population centre", d_big,
                           d_big >= rules.population_centre_min_distance_km - _EPS_KM,
                           _applies(kinds, "land", "floating"),
                           f">= {rules.population_centre_min_distance_km} km from towns of "
                           f">= {rules.population_centre_min_population:g}"))
    crit.append(_criterion("nearest_load", "distance to the nearest load", near, near <= max_network_km + _EPS_KM,
                           reactor, f"<= {max_network_km} km (optimisation.max_network_distance_km)"))
    return crit


def townships(st: pd.DataFrame) -> np.ndarray:
    """True for each settlement that is a nuclear plant's staff township: planned population under the
    plant's control, outside its exclusion zone (AERB Monograph on Siting of NPPs), so neither a
    population centre nor sterilised-zone population of a site it serves.

    A township is a settlement whose ``township_of`` column (the plant it serves; optional) is not
    empty, or whose ``name`` is a township of data/dae_townships.csv and which lies within
    `_TOWNSHIP_MATCH_KM` of that plant's site (GeoNames post-office coordinates of accuracy 1 are
    estimates up to about 75 km off: 'Tarapur App').

    Parameters
    ----------
    st : pandas.DataFrame
        Settlements with a point geometry (WGS84) and optionally ``name`` and ``township_of``.

    Returns
    -------
    numpy.ndarray
        (M,) bool.
    """
    flag = np.zeros(len(st), bool)
    if "township_of" in st.columns:
        flag |= st["township_of"].fillna("").astype(str).str.strip().ne("").to_numpy()
    if "name" in st.columns and len(st):
        known = _dae_townships()
        pos = pd.Index(known["name"]).get_indexer(st["name"].astype(str))
        hit = np.flatnonzero(pos >= 0)
        k = known.iloc[pos[hit]]
        d = haversine_km(st.geometry.x.to_numpy()[hit], st.geometry.y.to_numpy()[hit], k["site_lon"].to_numpy(float),
                         k["site_lat"].to_numpy(float))
        flag[hit[d <= _TOWNSHIP_MATCH_KM]] = True
    return flag


def _dae_townships() -> pd.DataFrame:
    """Known staff townships of DAE plants (data/dae_townships.csv): name, site, site_lon, site_lat, source."""
    with resources.files("smrplan.data").joinpath("dae_townships.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f).drop_duplicates("name")


def _zone_population_criteria(rules: Siting, kinds: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                              sidx: PointIndex, pop: np.ndarray, epz: np.ndarray, epz_values: list[float],
                              township: np.ndarray) -> list[Criterion]:
    """Population in the sterilised zone, density out to the EPZ and population in the EPZ.

    Parameters
    ----------
    rules : Siting
        The scenario's siting rules.
    kinds : numpy.ndarray
        (N,) kind of each candidate.
    lon, lat : numpy.ndarray
        (N,) candidate coordinates, degrees.
    sidx : PointIndex
        Index of the settlement points.
    pop : numpy.ndarray
        (M,) settlement population, persons.
    epz : numpy.ndarray
        (N,) emergency planning zone radius of each candidate, km.
    epz_values : list of float
        The zones of every kind screened in the region, ascending (km): the density limit names their radii.
    township : numpy.ndarray
        (M,) True for a plant's staff township (`townships`): not counted in the sterilised zone
        nor the density (rules on the general public), counted in the EPZ population.

    Returns
    -------
    list of Criterion
        sterilised_zone (persons), population_density (persons/km2, the highest mean over the radii of
        `_density_radii`), epz_population (persons).

    Notes
    -----
    The candidates of one EPZ are summed at the radii their rules read only (the EPZ, its density
    radii, and the sterilised zone when land or floating candidates are among them): a microreactor's
    smaller EPZ needs no pair beyond it. A candidate's sums do not depend on the other candidates
    queried with it (`PointIndex.sums_within`), so the values are those of one query at every radius.
    """
    n = len(kinds)
    reactor = _applies(kinds, "land", "micro", "floating")
    density_radii = {e: _density_radii(rules, e) for e in epz_values}
    radii = sorted({rules.sterilised_zone_km, *epz_values, *(r for rs in density_radii.values() for r in rs)})
    col = {r: k for k, r in enumerate(radii)}
    both = np.full((n, len(radii), 2), np.nan)  # NaN at the radii a candidate's rules do not read
    weight = np.column_stack([pop, np.where(township, 0.0, pop)])
    for e in epz_values:  # one to three EPZ sizes (per kind), not candidates
        sel = np.flatnonzero(epz == e)
        zone = {rules.sterilised_zone_km} if _applies(kinds[sel], "land", "floating").any() else set()
        read = sorted({e, *density_radii[e], *zone})
        both[np.ix_(sel, np.array([col[r] for r in read]))] = sidx.sums_within(lon[sel], lat[sel], weight, read)
    # Everyone (the EPZ) and the population outside staff townships (the sterilised zone and the density).
    sums, public = both[:, :, 0], both[:, :, 1]
    sz_pop = public[:, col[rules.sterilised_zone_km]]
    crit = [_criterion("sterilised_zone", "population in the sterilised zone", sz_pop,
                       sz_pop <= rules.sterilised_zone_max_population, _applies(kinds, "land", "floating"),
                       f"<= {rules.sterilised_zone_max_population:g} persons within {rules.sterilised_zone_km} km")]
    density = np.zeros(n)
    epz_pop = np.zeros(n)
    for e in epz_values:  # one to three EPZ sizes (per kind), not candidates
        sel = epz == e
        for r in density_radii[e]:
            density[sel] = np.maximum(density[sel], public[sel, col[r]] / (np.pi * r * r))
        epz_pop[sel] = sums[sel, col[e]]
    radii_text = " / ".join(str(density_radii[e]) for e in epz_values)
    crit.append(_criterion("population_density", "population density out to the EPZ", density,
                           density <= rules.density_max_per_km2, reactor,
                           f"<= {rules.density_max_per_km2:g} persons/km2 averaged over every radius out to the "
                           f"EPZ or {rules.density_radius_km} km (radii {radii_text} km)"))
    crit.append(_criterion("epz_population", "population in the emergency planning zone", epz_pop,
                           epz_pop <= rules.density_max_per_km2 * np.pi * epz ** 2, reactor,
                           f"<= density limit x EPZ area (EPZ {rules.emergency_planning_zone_km} km or the design's own)"))
    return crit


def _verdicts(candidates: gpd.GeoDataFrame, crit: list[Criterion]) -> gpd.GeoDataFrame:
    """The candidates with every criterion's value and verdict, ``suitable`` and ``reason``.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        The candidates screened (not modified).
    crit : list of Criterion
        The criteria, in the order their columns and reasons are written.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``<name>_value`` (the criterion's unit), ``<name>_pass``, ``suitable`` (every
        verdict passed) and ``reason`` ("suitable", or the failed criteria with values and limits).
    """
    out = candidates.copy()
    ok = np.ones(len(out), bool)
    reason = np.full(len(out), "", dtype=object)
    for cr in crit:  # criteria, each vectorised over its failing candidates
        out[f"{cr.name}_value"] = cr.value
        out[f"{cr.name}_pass"] = cr.passed
        ok &= cr.passed
        fail = np.flatnonzero(~cr.passed)
        if len(fail):
            text = f"{cr.name} (" + _fmt(cr.value[fail]) + f"; needs {cr.limit})"
            before = reason[fail]
            reason[fail] = np.where(before == "", text, before + "; " + text)
    out["suitable"] = ok
    out["reason"] = np.where(ok, "suitable", reason)
    return out


def _fmt(values: np.ndarray) -> np.ndarray:
    """Values as text (object array): 'n/a' when not finite, no decimals from 100, else two. Each
    distinct value (by its bits, so that -0.0 stays '-0.00') is formatted once."""
    bits, back = np.unique(np.asarray(values, float).view(np.int64), return_inverse=True)
    v = bits.view(float)
    out = np.full(len(v), "n/a", dtype=object)
    finite = np.isfinite(v)
    big = finite & (np.abs(v) >= 100)
    small = finite & ~big
    out[big] = np.char.mod("%.0f", v[big]).astype(object)
    out[small] = np.char.mod("%.2f", v[small]).astype(object)
    return out[back.ravel()]


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
        out.append(_not_evaluated("seismic_zone", "IS 1893 seismic zone", len(lon), _no_data(region, "seismic_zones")))
    faults = region.layers.get("faults")
    if faults is not None:
        d = _distance_to_layer_km(region, faults, lon, lat)
        out.append(_criterion("capable_fault", "distance to a capable fault", d, d >= rules.capable_fault_min_km,
                              reactor, f">= {rules.capable_fault_min_km} km (AERB)"))
    else:
        out.append(_not_evaluated("capable_fault", "distance to a capable fault", len(lon), _no_data(region, "faults")))
    eq = region.layers.get("earthquakes")
    if eq is not None:
        mcol = next((c for c in ("mw", "mag", "magnitude", "Mw") if c in eq.columns), None)
        if mcol is None:
            raise InputError("earthquakes layer", "mw", "magnitude column missing; expected mw, mag or magnitude")
        mag = np.nan_to_num(_layer_numbers(region, "earthquakes", mcol, "a magnitude (Mw)"))
        strong = (mag >= rules.earthquake_count_magnitude).astype(float)
        eidx = PointIndex(eq.geometry.x.to_numpy(), eq.geometry.y.to_numpy())
        mmax = np.zeros(len(lon))
        count = np.zeros(len(lon))
        for s in range(0, len(lon), _CHUNK):
            e = min(s + _CHUNK, len(lon))
            q, p, _ = eidx.within(lon[s:e], lat[s:e], rules.earthquake_radius_km)
            np.maximum.at(mmax, q + s, mag[p])
            count[s:e] = np.bincount(q, weights=strong[p], minlength=e - s)
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
            out.append(_not_evaluated(n, lab, len(lon), _no_data(region, "earthquakes")))
    out.append(_cyclones(region, rules, lon, lat, reactor))
    for name, label, buffer in (("protected_areas", "distance to protected areas", rules.protected_area_buffer_km),
                                ("airports", "distance to airports", rules.airport_buffer_km),
                                ("hazardous_facilities", "distance to hazardous facilities", rules.hazardous_buffer_km)):
        layer = region.layers.get(name)
        if layer is None:
            out.append(_not_evaluated(name, label, len(lon), _no_data(region, name)))
            continue
        d = _distance_to_layer_km(region, layer, lon, lat)
        out.append(_criterion(name, label, d, d > buffer if buffer > 0 else d > 0, reactor, f"> {buffer} km"))
    return out


def _cyclones(region: Region, rules: Siting, lon, lat, reactor) -> Criterion:
    """Distinct storms with a track point of at least `cyclone_min_wind_kt` within `cyclone_radius_km`
    (inclusive) of each candidate, divided by the decades the track file spans (first to last year)."""
    tracks = region.layers.get("cyclone_tracks")
    label = "cyclone passages per decade"
    if tracks is None:
        return _not_evaluated("cyclones", label, len(lon), _no_data(region, "cyclone_tracks"))
    cols = {c.lower(): c for c in tracks.columns}
    wind = cols.get("msws") or cols.get("wind_kt") or cols.get("usa_wind") or cols.get("wmo_wind")
    sid = cols.get("cs_id") or cols.get("sid") or cols.get("storm_id")
    when = cols.get("datetime") or cols.get("iso_time") or cols.get("time")
    if wind is None or sid is None or when is None:
        raise InputError("cyclone_tracks layer", "MSWS/CS_ID/DATETIME",
                         f"expected wind (kt), storm id and time columns; found {list(tracks.columns)}")
    strong = tracks[_layer_numbers(region, "cyclone_tracks", wind, "a wind speed (kt)") >= rules.cyclone_min_wind_kt]
    years = pd.to_datetime(tracks[when], errors="coerce").dt.year
    span_decades = max((years.max() - years.min() + 1) / 10.0, 0.1)
    storm = pd.factorize(strong[sid].astype(str))[0].astype(np.int64)
    tidx = PointIndex(strong.geometry.x.to_numpy(), strong.geometry.y.to_numpy())
    per_decade = np.zeros(len(lon))
    for s in range(0, len(lon), _CHUNK):
        e = min(s + _CHUNK, len(lon))
        q, p, _ = tidx.within(lon[s:e], lat[s:e], rules.cyclone_radius_km)
        pairs = np.unique(q * (storm.max(initial=0) + 1) + storm[p])  # distinct (candidate, storm)
        per_decade[s:e] = np.bincount(pairs // (storm.max(initial=0) + 1), minlength=e - s) / span_decades
    return _criterion("cyclones", label, per_decade, per_decade <= rules.cyclone_max_per_decade, reactor,
                      f"<= {rules.cyclone_max_per_decade} storms >= {rules.cyclone_min_wind_kt} kt within "
                      f"{rules.cyclone_radius_km} km per decade")


def _terrain_criteria(region: Region, rules: Siting, kinds, lon, lat) -> list[Criterion]:
    """slope (percent rise) and elevation (m) from the `dem` raster for land and micro candidates;
    floating ones are exempt (value NaN, pass). A candidate on a nodata cell or outside the raster
    has no measurable elevation or slope and fails both (value NaN, reason 'n/a'), so that an
    uncovered candidate is never reported as suitable; the note counts them."""
    dem = region.rasters.get("dem")
    n = len(lon)
    if dem is None:
        return [_not_evaluated("slope", _SLOPE_LABEL, n, _no_data(region, "dem")),
                _not_evaluated("elevation", _ELEVATION_LABEL, n, _no_data(region, "dem"))]
    on_ground = _applies(kinds, "land", "micro")
    elev, slope = np.full(n, np.nan), np.full(n, np.nan)
    elev[on_ground], slope[on_ground] = dem_elevation_slope(dem, lon[on_ground], lat[on_ground])
    counts = {"no_dem": int((on_ground & ~np.isfinite(elev)).sum())}
    lo, hi = rules.min_elevation_m, rules.max_elevation_m
    bounds = ([f">= {lo:g} m"] if lo is not None else []) + ([f"<= {hi:g} m"] if hi is not None else [])
    # Comparisons with NaN are False: no DEM data fails both rules (also when no elevation bound is set).
    ok_elev = np.isfinite(elev) & (elev >= (-np.inf if lo is None else lo)) & (elev <= (np.inf if hi is None else hi))
    return [_counted(_criterion("slope", _SLOPE_LABEL, slope, slope <= rules.max_slope_percent + _EPS_SLOPE, on_ground,
                                f"<= {rules.max_slope_percent:g} % from the DEM cell and its 4 neighbours (OR-SAGE)"),
                     counts, _dem_note),
            _counted(_criterion("elevation", _ELEVATION_LABEL, elev, ok_elev, on_ground,
                                f"{' and '.join(bounds)} above mean sea level (DEM data required)" if bounds
                                else "DEM data at the site"), counts, _dem_note)]


def _dem_note(counts: dict[str, int]) -> str:
    """The terrain rules' note: the candidates without DEM data (``no_dem``), which fail."""
    missing = counts["no_dem"]
    return f"{missing} candidate(s) on DEM nodata or outside the raster fail (no DEM data)" if missing else ""


def dem_elevation_slope(path, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (m) of the DEM cell holding each WGS84 point and the slope (percent rise,
    100 |grad z|) of that cell: second-order central differences of its four edge neighbours
    (Zevenbergen & Thorne 1987, gdaldem slope -alg ZevenbergenThorne), dz/dx = (z_E - z_W) / 2dx,
    dz/dy = (z_N - z_S) / 2dy; where one neighbour is nodata or off the raster the one-sided
    difference with the other is used. Cell sizes are metres: in a geographic CRS the degree sizes
    times (pi/180) R, the east-west size also times the cosine of the cell centre's latitude; in a
    projected CRS the CRS units times their metre factor. Elevations are taken as metres. NaN (both
    values) for a point on a nodata cell or outside the raster; slope NaN where an axis has no valid
    neighbour. A slope over a DEM cell (about 30-90 m) smooths the ground and so understates local
    steepness.

    The raster is not read whole (a national 90 m DEM has about a billion cells): points are grouped
    by square blocks of `_DEM_BLOCK` cells and one window per block covers its points and their
    neighbours, a loop over blocks, not points.

    Parameters
    ----------
    path : Path
        The DEM raster (GeoTIFF with a CRS; elevations in m).
    lon, lat : array_like
        Points (degrees, WGS84).

    Returns
    -------
    elevation, slope : numpy.ndarray
        Elevation (m above the DEM's datum) and slope (percent) of each point's cell.

    Raises
    ------
    InputError
        When the raster is unreadable or has no CRS.
    """
    from rasterio.windows import Window

    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = len(lon)
    elev, slope = np.full(n, np.nan), np.full(n, np.nan)
    if n == 0:
        return elev, slope
    with open_raster(path) as src:
        x, y = lon, lat
        if src.crs.to_epsg() != 4326:
            x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
            x, y = np.asarray(x, float), np.asarray(y, float)
        t = src.transform
        col, row = cell_of(t, x, y)
        inside = np.isfinite(col) & np.isfinite(row) & (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        idx = np.flatnonzero(inside)
        r, c = row[idx].astype(np.int64), col[idx].astype(np.int64)
        z = np.full((len(idx), 5), np.nan)  # centre, east, west, north, south
        block = (r // _DEM_BLOCK) * (src.width // _DEM_BLOCK + 1) + c // _DEM_BLOCK
        order = np.argsort(block, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(block[order]) != 0, True]) if len(idx) else np.zeros(1, int)
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):  # blocks of the raster, not points
            sel = order[s:e]
            rs, cs = r[sel], c[sel]
            r0, c0 = max(int(rs.min()) - 1, 0), max(int(cs.min()) - 1, 0)
            r1, c1 = min(int(rs.max()) + 2, src.height), min(int(cs.max()) + 2, src.width)
            a = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True).astype(float).filled(np.nan)
            a = np.pad(a, 1, constant_values=np.nan)  # cells off the raster are missing
            rr, cc = rs - r0 + 1, cs - c0 + 1
            z[sel] = np.column_stack([a[rr, cc], a[rr, cc + 1], a[rr, cc - 1], a[rr - 1, cc], a[rr + 1, cc]])
        # Cell sizes (m) along the column (x) and row (y) axes; rotation-free rasters in practice.
        dx, dy = np.hypot(t.a, t.d), np.hypot(t.b, t.e)
        if src.crs.is_geographic:
            m_per_deg = np.pi / 180.0 * EARTH_RADIUS_KM * 1000.0
            centre_lat = t.d * (c + 0.5) + t.e * (r + 0.5) + t.f
            dx = dx * m_per_deg * np.cos(np.radians(centre_lat))
            dy = dy * m_per_deg
        else:
            factor = src.crs.linear_units_factor[1] if src.crs.linear_units_factor else 1.0
            dx, dy = dx * factor, dy * factor
    gx = _difference(z[:, 1], z[:, 2], z[:, 0], dx)
    gy = _difference(z[:, 3], z[:, 4], z[:, 0], dy)
    elev[idx] = z[:, 0]
    slope[idx] = np.where(np.isfinite(z[:, 0]), 100.0 * np.hypot(gx, gy), np.nan)
    return elev, slope


def _difference(plus, minus, centre, step):
    """Derivative from the neighbours on either side (central difference), or from one neighbour and
    the centre where the other is missing; NaN where both are."""
    both = np.isfinite(plus) & np.isfinite(minus)
    one_sided = np.where(np.isfinite(plus), (plus - centre) / step, (centre - minus) / step)
    return np.where(both, (plus - minus) / (2.0 * step), one_sided)


def _tsunami(region: Region, rules: Siting, kinds, lon, lat) -> Criterion:
    """Distance (km, region's metric CRS, 0 inside) to the nearest polygon of the `tsunami` hazard
    layer. Land and micro candidates fail inside, on the border or within `tsunami_buffer_km`
    (inclusive, 1 mm tolerance). Floating candidates keep the measured distance but always pass: a
    moored barge is not flooded the way ground is; the berth's own exposure is screened by `exposure`
    and `cyclones`, and its mooring is designed for the surge."""
    layer = region.layers.get("tsunami")
    label = "distance to a tsunami hazard zone"
    if layer is None:
        return _not_evaluated("tsunami", label, len(lon), _no_data(region, "tsunami"))
    d = _distance_to_layer_km(region, layer, lon, lat)
    on_ground = _applies(kinds, "land", "micro")
    buf = rules.tsunami_buffer_km
    passed = ~on_ground | (d > buf + _EPS_KM)
    return Criterion("tsunami", label, d.astype(float), passed, f"> {buf:g} km from a hazard zone (AERB tsunami hazard)",
                     note="floating candidates: distance recorded, rule not applied")


def _cooling_water(region: Region, rules: Siting, kinds, lon, lat) -> Criterion:
    """cooling_water (land kind: distance to the nearest cooling water, `Region.water_distance_km`),
    computed only for the land candidates."""
    n = len(lon)
    water_cooled = _applies(kinds, "land")
    cooling = np.full(n, np.nan)
    cooling[water_cooled], nearest = region.water_distance_km(
        lon[water_cooled], lat[water_cooled], min_storage_mcm=rules.cooling_water_min_storage_mcm,
        max_river_level=rules.cooling_water_max_river_level, max_km=rules.cooling_water_max_km)
    found = {k: int((nearest == k).sum()) for k in _COOLING_SOURCES}
    return _counted(_criterion("cooling_water", "distance to cooling water (sea, river, lake, reservoir)", cooling,
                               cooling <= rules.cooling_water_max_km, water_cooled,
                               f"<= {rules.cooling_water_max_km} km to the sea, a river of WDB-II level <= "
                               f"{rules.cooling_water_max_river_level}, a lake or a dam of >= "
                               f"{rules.cooling_water_min_storage_mcm:g} MCM; air-cooled microreactors exempt"),
                    found, _cooling_note)


def _berth_criteria(region: Region, rules: Siting, kinds, lon, lat, c) -> list[Criterion]:
    """shore_distance, water_depth and exposure (floating kind), computed only for the floating
    candidates."""
    out = []
    n = len(lon)
    floating = _applies(kinds, "floating")
    coast = np.full(n, np.nan)
    if region.land is not None:
        coast[floating] = region.coast_distance_km(lon[floating], lat[floating])
    else:
        # Without coastline polygons the offshore distance used to generate the point is the shore distance.
        coast[floating] = _offshore_of(c)[floating]
    out.append(_criterion("shore_distance", "distance from shore (floating)", coast,
                          coast <= rules.floating_max_shore_km, floating, f"<= {rules.floating_max_shore_km} km"))
    bathy = region.rasters.get("bathymetry")
    if bathy is not None:
        depth = np.full(n, np.nan)
        depth[floating] = -sample_raster(bathy, lon[floating], lat[floating])
        ok = (depth >= rules.floating_min_depth_m) & (depth <= rules.floating_max_depth_m)
        out.append(_criterion("water_depth", "water depth at berth (floating)", depth, ok, floating,
                              f"{rules.floating_min_depth_m}-{rules.floating_max_depth_m} m", note=_raster_note(bathy)))
    else:
        out.append(_not_evaluated("water_depth", "water depth at berth (floating)", n, _no_data(region, "bathymetry")))
    exposure = np.full(n, np.nan)
    exposure[floating] = _open_sea_share(region, lon[floating], lat[floating])
    out.append(_criterion("exposure", "open-sea share around the berth (floating)", exposure,
                          exposure <= rules.floating_max_open_sea_share, floating,
                          f"<= {rules.floating_max_open_sea_share} of a {_EXPOSURE_RADIUS_KM} km ring at sea"))
    return out


def _cooling_note(counts: dict[str, int]) -> str:
    """The cooling-water rule's note: land candidates by their nearest cooling water (sea, river, lake, dam)."""
    return "nearest cooling water of land candidates: " + ", ".join(f"{k} {counts[k]}" for k in _COOLING_SOURCES)


def _raster_note(path) -> str:

    _, transform, crs = read_raster(path)
    cell_km = abs(transform.a) * (111.0 if crs.to_epsg() == 4326 else 0.001)
    if cell_km > 1.0:
        return (f"bathymetry cell is about {cell_km:.1f} km: depths near shore are unreliable (screening only; "
                "a berth needs a chart or GEBCO 15-arc-second survey)")
    return ""


def _offshore_of(c: gpd.GeoDataFrame) -> np.ndarray:
    return c["offshore_km"].to_numpy(float) if "offshore_km" in c.columns else np.full(len(c), np.nan)


def _open_sea_share(region: Region, lon, lat) -> np.ndarray:
    """Share of points on a 5 km ring around each point that lie at sea (1 = open water all round;
    inland water does not count)."""
    if len(lon) == 0:
        return np.array([])
    bearings = np.linspace(0, 360, _EXPOSURE_SAMPLES, endpoint=False)
    x, y, _ = _ring(lon, lat, [_EXPOSURE_RADIUS_KM], bearings)
    return region.is_sea_many(x, y).reshape(len(lon), -1).mean(axis=1)


def _distance_to_layer_km(region: Region, layer: gpd.GeoDataFrame, lon, lat) -> np.ndarray:
    """Planar distance (km, region's metric CRS) from each point to the nearest feature of a layer."""
    crs = region.metric_crs
    geoms = layer.to_crs(crs).geometry.values
    pts = region.metric_points(lon, lat)
    (qi, _), d = shapely.STRtree(geoms).query_nearest(pts, return_distance=True, all_matches=False)
    out = np.full(len(lon), np.inf)
    out[qi] = d / 1000.0
    return out


def _layer_numbers(region: Region, name: str, column: str, expected: str) -> np.ndarray:
    """A numeric column of a context layer as float (NaN where blank or text, as before), in its unit.

    Raises
    ------
    InputError
        Naming the layer's file, the row (or the record, when rows without coordinates were left out)
        and the column of the first yes/no value: a boolean is never a number.
    """
    values = region.layers[name][column]
    flags = yes_no(values)
    if flags.any():
        r = int(np.flatnonzero(flags)[0])
        file = region.sources.get(name, f"{name} layer")
        where = (f"row {row_offset(Path(file)) + r}" if not region.dropped_rows.get(name)
                 else f"record {r + 1} of those with coordinates")
        raise InputError(file, f"{where}, column {column}",
                         f"{show(values.iloc[r])} is a yes/no value ({int(flags.sum())} row(s)); expected {expected}")
    return numeric_values(values)


def _no_data(region: Region, layer: str) -> str:
    """Why a criterion is not evaluated: the missing layer, and the scenario's reason when it gives one
    (`data_gaps`)."""
    kind = "raster" if layer in ("dem", "bathymetry") else "layer"
    gap = region.data_gaps.get(layer)
    return f"no {layer} {kind}" + (f": {gap}" if gap else "")


def _not_evaluated(name: str, label: str, n: int, why: str) -> Criterion:
    return Criterion(name, label, np.full(n, np.nan), np.ones(n, bool), "-", evaluated=False, note=why)
