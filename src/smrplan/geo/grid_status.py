"""Existing-grid status of every settlement: `connected`, `weak` or `unconnected`.

* With a user grid layer (`grid_lines` and / or `substations`): a settlement within
  `layer_connect_km` (data/grid_status.yaml) of a line or substation is connected, islands included.
* Otherwise a calibrated proxy, as OnSSET calibrates with night lights: within each census district
  pool (or state, or the whole region) settlements are ranked (a settlement given without a state
  takes that of the district polygon it lies in, `district_states`), cities (`city_population` and more)
  first, then by distance to the nearest grid anchor (power plant, substation, grid node, town of
  `anchor_town_population` and more); they are marked connected, in that order, until the group's
  electrified population share is reached. The group's unconnected share is its state's share of
  villages without electricity (Mission Antyodaya 2020; All India where the state is missing) scaled
  by how far the group's Census 2011 share of households with electric lighting lies below its state's
  (recently and weakly electrified places are the last connected), capped at `max_unconnected_share`.
* `weak`: the connected places ranked last in each group, holding the state's share of villages with
  1-8 h of supply a day (Mission Antyodaya 2020), scaled the same way; their supply hours are the
  village-weighted mid-point of those bands.
* Islands (`is_island`) are never on the national grid unless a user grid layer puts them there; a
  region of islands only needs neither layer nor statistics: every settlement is an isolated system.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from smrplan.categories import categorical, repeated
from smrplan.errors import InputError
from smrplan.geo.checks import numeric_values, show
from smrplan.geo.distance import PointIndex
from smrplan.geo.grid import nearest_grid, route_split_km
from smrplan.geo.io import read_table, resolve
from smrplan.geo.layers import Region
from smrplan.scenario import Scenario
from smrplan.yamltext import parse_yaml

STATUSES = ("connected", "weak", "unconnected")
CENSUS_COLUMNS = ("district_code", "state_name", "households_a1", "share_electric_lighting")
STATE_COLUMNS = ("state", "villages_surveyed", "pct_no_electricity", "pct_1_4h", "pct_4_8h")
ROUTE = ("grid_distance_km", "grid_land_km", "grid_sea_km", "grid_lon", "grid_lat")  # the grid route columns
STATUS_READS = ("lon", "lat", "population", "is_island", "census_pool", "st_nm")  # of settlements, by `grid_status`
ROUTE_READS = ("lon", "lat", "grid_status", *ROUTE)  # of settlements, by `route_to_grid`
SHARE_TOLERANCE = 1.05  # Census A-1 households include institutional ones: 3 districts exceed 1.0 slightly (SOURCE.md)


def rules() -> dict:
    """The grid-status rules (data/grid_status.yaml): thresholds in persons, km, shares and h/day."""
    return parse_yaml(resources.files("smrplan.data").joinpath("grid_status.yaml").read_text())


@dataclass(frozen=True)
class Statistics:
    """Electrification statistics the proxy is calibrated to.

    Attributes
    ----------
    districts : pandas.DataFrame
        Census 2011: district_code (int), state (normalised name), households_a1, share (0-1, clipped at 1),
        rural (fraction of households rural; 1 when the file has no households_rural_a1).
    states : pandas.DataFrame
        Mission Antyodaya 2020: state (normalised name), no_electricity and under_8h (fractions of
        villages), hours_weak (h/day of the < 8 h villages).
    """

    districts: pd.DataFrame
    states: pd.DataFrame


def _norm(names: pd.Series) -> pd.Series:
    """State names compared in lower case with '&' as 'and' and single spaces (each distinct name
    spelt once: a national table repeats a few dozen names millions of times)."""
    codes, distinct = pd.factorize(names, use_na_sentinel=False)
    spelt = pd.Index(distinct).astype(str).str.lower().str.replace("&", "and").str.split().str.join(" ")
    return pd.Series(np.asarray(spelt, dtype=object)[codes], index=names.index)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    """Raise InputError naming the first missing column."""
    for c in columns:
        if c not in frame.columns:
            raise InputError(path, c, f"missing column {c!r}; expected {list(columns)}")


def _share(values: pd.Series, path: Path, field: str, upper: float = 1.0, per: float = 1.0) -> np.ndarray:
    """A share column as a fraction (the column divided by `per`: 100 for percent), InputError naming
    the first row outside 0-`upper` (a yes/no value is not a share)."""
    v = numeric_values(values) / per
    bad = np.flatnonzero(~(np.isfinite(v) & (v >= 0) & (v <= upper)))
    if len(bad):
        raise InputError(path, f"row {bad[0] + 2}, {field}",
                         f"a share between 0 and 1 is expected, got {show(values.iloc[bad[0]])}")
    return v


def read_statistics(census_path: Path, states_path: Path | None, weak_band_hours: dict[str, float]) -> Statistics:
    """Read the Census 2011 district table and the Mission Antyodaya 2020 state table.

    Parameters
    ----------
    census_path : Path
        CSV with CENSUS_COLUMNS (share_electric_lighting: fraction of households, 0-1).
    states_path : Path or None
        CSV with STATE_COLUMNS (percent of surveyed villages); its ``All India`` row, when present,
        replaces the All-India defaults.
    weak_band_hours : dict
        Mid-point hours per day of the bands pct_1_4h and pct_4_8h.

    Returns
    -------
    Statistics

    Raises
    ------
    InputError
        Naming the file and column or row: a missing column or a share outside 0-1.
    """
    census = read_table(census_path)
    _require(census, CENSUS_COLUMNS, census_path)
    share = _share(census["share_electric_lighting"], census_path, "share_electric_lighting", SHARE_TOLERANCE)
    households = pd.Series(numeric_values(census["households_a1"]), index=census.index).fillna(0.0)
    rural = (pd.Series(numeric_values(census.get("households_rural_a1", households)), index=census.index)
             / households.where(households > 0)
             ).clip(0.0, 1.0).fillna(1.0).to_numpy(float)
    districts = pd.DataFrame({"district_code": pd.to_numeric(census["district_code"], errors="coerce"),
                              "state": _norm(census["state_name"]),
                              "households_a1": households,
                              "share": np.minimum(share, 1.0), "rural": rural})
    states = pd.DataFrame(columns=["state", "no_electricity", "under_8h", "hours_weak"])
    if states_path is not None:
        ma = read_table(states_path)
        _require(ma, STATE_COLUMNS, states_path)
        p14, p48 = (_share(ma[c], states_path, c, per=100.0) for c in ("pct_1_4h", "pct_4_8h"))
        weak = p14 + p48
        banded = p14 * weak_band_hours["pct_1_4h"] + p48 * weak_band_hours["pct_4_8h"]
        hours = np.where(weak > 0, banded / np.maximum(weak, 1e-12), weak_band_hours["pct_4_8h"])
        states = pd.DataFrame({"state": _norm(ma["state"]),
                               "no_electricity": _share(ma["pct_no_electricity"], states_path, "pct_no_electricity",
                                                        per=100.0),
                               "under_8h": weak, "hours_weak": hours})
    return Statistics(districts, states)


def _state_figures(states: pd.Series, stats: Statistics, r: dict) -> pd.DataFrame:
    """Per state name: no_electricity, under_8h (fractions of villages), hours_weak (h/day) and `figure`,
    the Mission Antyodaya row used (the state's own, else All India)."""
    table = stats.states.set_index("state")
    base: dict = {"no_electricity": r["all_india_no_electricity_share"], "under_8h": r["all_india_under_8h_share"],
            "hours_weak": float(np.mean(list(r["weak_band_hours"].values())))}
    if "all india" in table.index:
        base = table.loc["all india", list(base)].astype(float).to_dict()
    names = _norm(states)
    own = names.isin(table.index).to_numpy()
    out = pd.DataFrame({k: np.full(len(names), v) for k, v in base.items()}, index=states.index)
    if own.any():
        out.loc[own, list(base)] = table.loc[names[own], list(base)].to_numpy(float)
    out["figure"] = np.where(own, "Mission Antyodaya 2020 state", "Mission Antyodaya 2020 All India")
    return out


def _weighted(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Household-weighted mean `share` and `rural` of `frame` per value of `by`."""
    w = frame["households_a1"].to_numpy(float) + 1e-9
    sums = pd.DataFrame({by: frame[by].to_numpy(), "w": w, "share": frame["share"].to_numpy(float) * w,
                         "rural": frame["rural"].to_numpy(float) * w}).groupby(by).sum()
    return sums[["share", "rural"]].div(sums["w"], axis=0)


def _by_district(st: pd.DataFrame, districts: pd.DataFrame | None) -> bool:
    """Whether the proxy calibrates by census district pools (else by state)."""
    return districts is not None and "census_pool" in st and "census_district_codes" in districts


def district_states(region: Region, lon: np.ndarray, lat: np.ndarray) -> pd.Categorical | None:
    """The state (``st_nm``) of the district polygon each point lies in, for settlements given without
    a state: the proxy then ranks them within their state, with their state's figures.

    Parameters
    ----------
    region : Region
        Its ``districts`` layer (DataMeet schema: ``st_nm``).
    lon, lat : numpy.ndarray
        The points (degrees).

    Returns
    -------
    pandas.Categorical or None
        The state names, of every state of the layer and "" (outside every district; on a border,
        the district listed first); None
        without a districts layer with ``st_nm``.
    """
    districts = region.layers.get("districts")
    if districts is None or "st_nm" not in districts.columns or not len(districts):
        return None
    at, district = shapely.STRtree(districts.geometry.values).query(shapely.points(lon, lat), predicate="intersects")
    first = np.full(len(lon), len(districts))  # past the last district: none
    np.minimum.at(first, at, district)
    states, code = np.unique(np.append(districts["st_nm"].fillna("").astype(str).to_numpy(str), ""), return_inverse=True)
    return pd.Categorical.from_codes(code.ravel()[first], categories=pd.Index(states))  # every state, every partition


def calibration_group(st: pd.DataFrame, districts: pd.DataFrame | None) -> pd.Series:
    """The group each settlement is ranked in by the proxy: its census district pool (`census_pool`,
    with district polygons that carry `census_district_codes`), else its state (`st_nm`, normalised;
    "" without one).

    Parameters
    ----------
    st : pandas.DataFrame
        Settlements; census_pool and st_nm when present.
    districts : pandas.DataFrame or None
        District polygons' census_pool and census_district_codes.

    Returns
    -------
    pandas.Series
        Group names (str), indexed as `st`.
    """
    if _by_district(st, districts):
        return st["census_pool"].astype(str)
    return _norm(st["st_nm"]) if "st_nm" in st else pd.Series("", index=st.index)


def _group_shares(st: pd.DataFrame, districts: pd.DataFrame | None, stats: Statistics
                  ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Each settlement's calibration group, the ratio (1 - group share) / (1 - state share) of Census 2011
    households without electric lighting (1 where the group has no census figure) and the group's rural
    share of households (Census 2011; 1 where unknown)."""
    d = stats.districts
    by_state = _weighted(d, "state")
    st_state = _norm(st["st_nm"]) if "st_nm" in st else pd.Series("", index=st.index)
    if districts is not None and _by_district(st, districts):
        codes = districts[["census_pool", "census_district_codes"]].assign(
            district_code=districts["census_district_codes"].astype(str).str.findall(r"\d+")).explode("district_code")
        codes["district_code"] = pd.to_numeric(codes["district_code"], errors="coerce")
        unknown = codes["district_code"].notna() & ~codes["district_code"].isin(d["district_code"])
        if unknown.any():
            code = int(codes.loc[unknown, "district_code"].iloc[0])
            raise InputError("districts", "census_district_codes", f"district code {code} is not in the electrification table")
        pool = _weighted(codes.merge(d, on="district_code"), "census_pool")
        share, rural = (st["census_pool"].map(pool[c]).to_numpy(float) for c in ("share", "rural"))
    else:
        share, rural = (st_state.map(by_state[c]).to_numpy(float) for c in ("share", "rural"))
    s_state = st_state.map(by_state["share"]).to_numpy(float)
    ratio = np.where(np.isfinite(share) & np.isfinite(s_state) & (s_state < 1.0),
                     (1.0 - np.nan_to_num(share)) / np.maximum(1.0 - np.nan_to_num(s_state), 1e-9), 1.0)
    return calibration_group(st, districts), ratio, np.where(np.isfinite(rural), rural, 1.0)


def _ranked_fill(group: pd.Series, key: np.ndarray, pop: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Within each group, in ascending `key` order, the settlements whose population before them is below
    `target` (a fraction of the group's population): True for those marked."""
    frame = pd.DataFrame({"g": group.to_numpy(), "k": key, "p": pop, "t": target})
    order = np.lexsort((frame["k"].to_numpy(), frame["g"].to_numpy()))
    f = frame.iloc[order]
    before = f.groupby("g", sort=False)["p"].cumsum() - f["p"]
    total = f.groupby("g", sort=False)["p"].transform("sum")
    marked = np.empty(len(f), bool)
    marked[order] = (before < f["t"] * total).to_numpy()
    return marked


def anchor_towns(st: pd.DataFrame, r: dict) -> tuple[np.ndarray, np.ndarray]:
    """The towns that anchor the proxy's ranking: settlements of `anchor_town_population` persons and
    more, not on islands.

    Parameters
    ----------
    st : pandas.DataFrame
        lon, lat (degrees), population (persons), is_island (bool).
    r : dict
        The rules (`rules()`).

    Returns
    -------
    lon, lat : numpy.ndarray
        Their positions (degrees).
    """
    pop = st["population"].fillna(0.0).to_numpy(float)
    towns = (pop >= r["anchor_town_population"]) & ~st["is_island"].to_numpy(bool)
    return st["lon"].to_numpy(float)[towns], st["lat"].to_numpy(float)[towns]


def proxy_status(st: pd.DataFrame, anchor_lon: np.ndarray, anchor_lat: np.ndarray, stats: Statistics,
                 districts: pd.DataFrame | None, r: dict,
                 towns: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The calibrated proxy (module docstring) for settlements without a user grid layer.

    Parameters
    ----------
    st : pandas.DataFrame
        lon, lat (degrees), population (persons), is_island (bool); census_pool and st_nm when present.
        Every settlement of a calibration group (`calibration_group`) must be in it.
    anchor_lon, anchor_lat : numpy.ndarray
        Grid anchors: power plants, substations, grid nodes (degrees); towns are added here.
    stats : Statistics
        The statistics calibrated to.
    districts : pandas.DataFrame or None
        District polygons' census_pool and census_district_codes (None: calibrate by state).
    r : dict
        The rules (`rules()`).
    towns : tuple of numpy.ndarray, optional
        Positions (degrees) of the anchor towns of the whole region (`anchor_towns`) when `st` is a
        part of it; default those of `st`.

    Returns
    -------
    pandas.DataFrame
        grid_status, grid_status_source, grid_supply_hours (h/day; 0 when unconnected), indexed as `st`
        (`status_table`).
    """
    pop = st["population"].fillna(0.0).to_numpy(float)
    lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    island = st["is_island"].to_numpy(bool)
    city = (pop >= r["city_population"]) & ~island
    town_lon, town_lat = anchor_towns(st, r) if towns is None else towns
    alon = np.concatenate([np.asarray(anchor_lon, float), town_lon])
    alat = np.concatenate([np.asarray(anchor_lat, float), town_lat])
    dist = PointIndex(alon, alat).nearest(lon, lat, k=1)[0][:, 0] if len(alon) else np.zeros(len(st))
    key = np.where(city, -1.0, dist)
    group, ratio, rural = _group_shares(st, districts, stats)
    fig = _state_figures(st["st_nm"] if "st_nm" in st else pd.Series("", index=st.index), stats, r)
    unconnected = np.clip(fig["no_electricity"].to_numpy(float) * ratio * rural, 0.0, r["max_unconnected_share"])
    weak_share = np.clip(fig["under_8h"].to_numpy(float) * ratio * rural, 0.0, 1.0)
    mainland = pd.Series(group.to_numpy(), index=st.index).where(~island, "__island__")
    connected = (_ranked_fill(mainland, key, pop, 1.0 - unconnected) | city) & ~island
    strong = _ranked_fill(mainland, key, np.where(connected, pop, 0.0), 1.0 - weak_share)
    weak = connected & ~strong & ~city
    status = np.where(weak, "weak", np.where(connected, "connected", "unconnected"))
    # short, as it is repeated on every settlement row: docs/methodology.md section 2a tells the method
    figure = pd.Categorical(fig["figure"])  # two texts: each row points at one of a few, none is copied
    why = "proxy (" + ("census district" if "census_pool" in st else "state") + "): " + figure.categories + ", Census 2011"
    texts = np.array(["island: isolated system (no grid layer)", f"city of {r['city_population']:,} persons or more",
                      *why], dtype=object)
    source = texts[np.where(island, 0, np.where(city, 1, figure.codes.astype(np.int64) + 2))]
    hours = np.where(weak, fig["hours_weak"].to_numpy(float), np.where(connected, r["connected_hours"], 0.0))
    return status_table(status, source, hours, st.index)


def status_table(status, source, hours, index: pd.Index) -> pd.DataFrame:
    """The grid-status columns as every status function returns them: grid_status a Categorical of
    `STATUSES`, grid_status_source a Categorical of its distinct texts (they hold the figures of
    the rules and statistics), grid_supply_hours float.

    Parameters
    ----------
    status : array-like of str or str
        Each settlement's status (one of `STATUSES`), or one for all.
    source : array-like of str or str
        Each settlement's status source, or one for all.
    hours : array-like of float or float
        Supply hours (h/day), or one figure for all.
    index : pandas.Index
        The settlements' index.

    Returns
    -------
    pandas.DataFrame
        grid_status, grid_status_source, grid_supply_hours (h/day), indexed by `index`.
    """
    n = len(index)
    status = repeated(status, n, STATUSES) if isinstance(status, str) else categorical(status, STATUSES)
    source = categorical(np.full(n, source, dtype=object) if isinstance(source, str) else source)
    return pd.DataFrame({"grid_status": status, "grid_status_source": source,
                         "grid_supply_hours": np.broadcast_to(np.asarray(hours, float), (n,)).copy()}, index=index)


def layer_status(layer_distance_km: np.ndarray, r: dict, index: pd.Index) -> pd.DataFrame:
    """Status from a user grid layer: connected within `layer_connect_km` of a grid line or substation.

    Parameters
    ----------
    layer_distance_km : numpy.ndarray
        Distance of each settlement to the nearest grid line or substation (km; inf without one).
    r : dict
        The rules (`rules()`).
    index : pandas.Index
        The settlements' index.

    Returns
    -------
    pandas.DataFrame
        grid_status, grid_status_source, grid_supply_hours (h/day).
    """
    near = np.asarray(layer_distance_km, float) <= r["layer_connect_km"]
    return status_table(np.where(near, "connected", "unconnected"),
                        np.where(near, f"grid layer within {r['layer_connect_km']} km",
                                 f"grid layer farther than {r['layer_connect_km']} km"),
                        np.where(near, r["connected_hours"], 0.0), index)


def island_status(index: pd.Index) -> pd.DataFrame:
    """Status of settlements that all lie on islands, without a grid layer or statistics: each is an
    isolated system (`unconnected`), since islands are never on the national grid.

    Parameters
    ----------
    index : pandas.Index
        The settlements' index.

    Returns
    -------
    pandas.DataFrame
        grid_status, grid_status_source, grid_supply_hours (h/day; 0: no national grid supply).
    """
    return status_table("unconnected", "island, off the national grid", 0.0, index)


def _points(layer) -> tuple[np.ndarray, np.ndarray]:
    """Representative points (degrees) of a layer's features; empty without the layer."""
    if layer is None or not len(layer):
        return np.empty(0), np.empty(0)
    pts = layer.geometry.representative_point()
    return pts.x.to_numpy(float), pts.y.to_numpy(float)


def _statistics(scenario: Scenario, r: dict) -> Statistics:
    """The statistics the scenario names (`data.electrification_districts`, optional `data.electrification_states`)."""
    base = Path(scenario.source).parent if Path(scenario.source).exists() else Path(".")

    def path_of(name: str) -> Path:
        return resolve(scenario.data[name], scenario.data_dir, base, f"data.{name} of scenario {scenario.source}")

    states = path_of("electrification_states") if "electrification_states" in scenario.data else None
    return read_statistics(path_of("electrification_districts"), states, r["weak_band_hours"])


def _user_layer(region: Region) -> bool:
    """Whether the region has a user grid layer: grid lines, or at least one substation."""
    substations = region.layers.get("substations")
    return "grid_lines" in region.layers or (substations is not None and len(substations) > 0)


def status_groups(scenario: Scenario, region: Region, st: pd.DataFrame) -> pd.Series | None:
    """The groups `grid_status` must see whole: the proxy's calibration groups when the proxy ranks the
    settlements, None when the status of each settlement is its own (grid layer, islands, none).

    Parameters
    ----------
    scenario : Scenario
        Its `data` keys (as `grid_status`).
    region : Region
        Layers: grid_lines, substations, districts.
    st : pandas.DataFrame
        Settlements; census_pool and st_nm when present.

    Returns
    -------
    pandas.Series or None
        Group names, indexed as `st`.
    """
    if _user_layer(region) or "electrification_districts" not in scenario.data:
        return None
    return calibration_group(st, region.layers.get("districts"))


def grid_status(st: pd.DataFrame, scenario: Scenario, region: Region,
                towns: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame | None:
    """Grid status of the settlements: from a user grid layer, the calibrated proxy or, for islands, none.

    Parameters
    ----------
    st : pandas.DataFrame
        Settlements with lon, lat (degrees), population, is_island; whole groups of `status_groups`.
    scenario : Scenario
        Its `data` keys: `grid_lines` / `substations` (user grid layer), else `electrification_districts`
        (and `electrification_states`) for the proxy.
    region : Region
        Layers: grid_lines, substations, power_plants, districts; grid nodes.
    towns : tuple of numpy.ndarray, optional
        The region's anchor towns (`anchor_towns`, degrees) when `st` is a part of it.

    Returns
    -------
    pandas.DataFrame or None
        grid_status, grid_status_source, grid_supply_hours (h/day), indexed as `st`; None when the
        scenario has neither a grid layer nor the statistics and some settlement is not on an island.
    """
    r = rules()
    if _user_layer(region):
        sub_lon, sub_lat = _points(region.layers.get("substations"))
        lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
        d = nearest_grid(replace(region, grid_nodes=None), lon, lat)["grid_distance_km"]
        if len(sub_lon):
            d = np.minimum(d, PointIndex(sub_lon, sub_lat).nearest(lon, lat, k=1)[0][:, 0])
        return layer_status(d, r, st.index)
    if "electrification_districts" in scenario.data:
        plant_lon, plant_lat = _points(region.layers.get("power_plants"))
        node_lon, node_lat = _points(region.grid_nodes)
        return proxy_status(st, np.concatenate([plant_lon, node_lon]), np.concatenate([plant_lat, node_lat]),
                            _statistics(scenario, r), region.layers.get("districts"), r, towns)
    if st["is_island"].to_numpy(bool).all():
        return island_status(st.index)
    return None


def grid_points(region: Region, st: pd.DataFrame) -> PointIndex:
    """The points an unconnected settlement may be connected to besides the existing route: the
    settlements on the grid (grid_status connected or weak) and the substations, indexed once for
    every partition of the settlements.

    Parameters
    ----------
    region : Region
        Its substations layer.
    st : pandas.DataFrame
        Every settlement: lon, lat (degrees) and grid_status.

    Returns
    -------
    PointIndex
        Their positions (degrees) and spherical index.
    """
    on_grid = (st["grid_status"] != "unconnected").to_numpy()
    sub_lon, sub_lat = _points(region.layers.get("substations"))
    return PointIndex(np.concatenate([st["lon"].to_numpy(float)[on_grid], sub_lon]),
                      np.concatenate([st["lat"].to_numpy(float)[on_grid], sub_lat]))


def route_to_grid(st: pd.DataFrame, region: Region, points: PointIndex) -> pd.DataFrame:
    """The grid route columns: the existing route (grid nodes / lines) or, when closer, the straight
    route to the nearest of `points`, split into land and sea km; 0 km for a settlement on the grid.

    Parameters
    ----------
    st : pandas.DataFrame
        Settlements with lon, lat (degrees), grid_status and the grid route columns (grid_distance_km,
        grid_land_km, grid_sea_km in km; grid_lon, grid_lat in degrees).
    region : Region
        Land and sea for the route split.
    points : PointIndex
        The region's on-grid settlements and substations (`grid_points`, degrees).

    Returns
    -------
    pandas.DataFrame
        The grid route columns measured to the existing grid, indexed as `st`.
    """
    out = pd.DataFrame({c: st[c].to_numpy(float) for c in ROUTE}, index=st.index)
    lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    on_grid = (st["grid_status"] != "unconnected").to_numpy()
    off = np.flatnonzero(~on_grid)
    if points.n and len(off):
        dist, idx = points.nearest(lon[off], lat[off], k=1)
        nearer = dist[:, 0] < out["grid_distance_km"].to_numpy()[off]
        closer, target = off[nearer], idx[nearer, 0]
        if len(closer):
            tlon, tlat = points.lon[target], points.lat[target]
            land, sea = route_split_km(region, lon[closer], lat[closer], tlon, tlat)
            out.iloc[closer, :] = np.column_stack([dist[nearer, 0], land, sea, tlon, tlat])
    at = np.flatnonzero(on_grid)
    out.iloc[at, :3] = 0.0
    out.iloc[at, 3], out.iloc[at, 4] = lon[at], lat[at]
    return out
