"""The option-cost engine: what every supply option costs every settlement.

One function, `option_costs`, prices all options for all settlements at once (vectorised over
settlements; a loop only over the handful of enabled reactor technologies). The plan, the Monte Carlo
sweep, the tornado and the what-if explorer all call it, so the same inputs give the same costs and
choices everywhere.

Per settlement:

* stand-alone options (`diesel`, `pv_battery`, `grid`): sized and costed by costs.economics; the
  carbon price (USD/t CO2) is added to their annual cost on their emissions;
* a settlement already on the existing grid (`grid_status` connected or weak, geo.grid_status) has the
  grid as its only option, at the grid's average cost of supply plus diesel back-up for its outage hours;
* reactor options (`land_reactor`, `floating_reactor`, `micro_reactor`): the settlement's own cheapest
  plant of an enabled technology of that kind at its nearest suitable site of that kind, plus the
  straight line (land) or cable (sea) connection to it; infeasible (NaN) beyond
  `optimisation.max_network_distance_km`, without a suitable site, or where a region rule
  (`optimisation.allowed_options_by_region`) does not allow the kind.

What does not change between draws or slider moves (island flags, the route to the grid, the
allowed kinds, the reach to suitable sites, the night share of the load shape) is computed once as a
`CostBasis` (`cost_basis`); a call then needs only the catalogue, the money settings, the carbon price
and the demand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Catalogue
from smrplan.costs.economics import (
    Money,
    by_option,
    diesel_cost,
    first_of,
    grid_cost,
    line_cost,
    pv_battery_cost,
    reactor_plant_cost,
)
from smrplan.errors import InputError
from smrplan.geo.distance import PointIndex
from smrplan.geo.fuel import fuel_surcharge
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.options import ALL_OPTIONS, CATALOGUE_OPTION_SUPPLIES, KIND_OPTION, KINDS, REACTOR_OPTIONS, STANDALONE_OPTIONS
from smrplan.partition import release_free_memory
from smrplan.scenario import Scenario

STANDALONE_COLUMNS = np.array([ALL_OPTIONS.index(o) for o in STANDALONE_OPTIONS])
REACTOR_COLUMNS = np.array([ALL_OPTIONS.index(o) for o in REACTOR_OPTIONS])
REACH_COLUMNS = ("kind", "lon", "lat", "suitable")  # what `site_index` reads of the screened sites
SITE_COLUMNS = ("site_id", "kind", "lon", "lat", "suitable")  # what the cost and plan stages read of a site
NIGHT_HOURS = tuple(range(0, 7)) + tuple(range(18, 24))  # hours whose PV energy passes the battery


def night_share(shape: np.ndarray) -> float:
    """Share of annual load in the night hours (00:00-06:59 and 18:00-23:59).

    Parameters
    ----------
    shape : numpy.ndarray
        Hourly load shape of one year (8,760 values summing to 1), from demand.load.hourly_shape.

    Returns
    -------
    float
        Fraction of the year's energy used at night: the part of PV energy that must pass the battery.
    """
    return float(np.asarray(shape, float).reshape(365, 24)[:, list(NIGHT_HOURS)].sum())


def allowed_kinds(settlements: pd.DataFrame, opt) -> np.ndarray:
    """Which reactor kinds each settlement may use (`optimisation.allowed_options_by_region`).

    Parameters
    ----------
    settlements : pandas.DataFrame
        The settlements with the columns the rules name (e.g. `territory`).
    opt : smrplan.scenario.Optimisation
        Its `allowed_options_by_region`: {column: {value: [allowed options]}}.

    Returns
    -------
    numpy.ndarray
        Boolean, settlements x KINDS; a settlement matched by no rule may use every kind.

    Raises
    ------
    InputError
        When a rule names a column the settlements do not have.
    """
    ok = np.ones((len(settlements), len(KINDS)), bool)
    for column, by_value in (getattr(opt, "allowed_options_by_region", None) or {}).items():
        if column not in settlements.columns:
            raise InputError(None, f"optimisation.allowed_options_by_region.{column}",
                             f"the settlements have no column {column!r}")
        values = settlements[column].astype(str).to_numpy()
        for value, options in by_value.items():  # a few regions
            ok[values == str(value)] &= np.isin([KIND_OPTION[k] for k in KINDS], list(options))
    return ok


@dataclass(frozen=True)
class KindReach:
    """Per settlement, its nearest suitable site of one reactor kind.

    Attributes
    ----------
    site_pos : numpy.ndarray
        Position of that site in `Reach.sites` (int); -1 beyond the network distance limit or when
        the kind has no suitable site.
    distance_km, land_km, sea_km : numpy.ndarray
        Great-circle distance to it and the land / sea km of the straight route (km).
    """

    site_pos: np.ndarray
    distance_km: np.ndarray
    land_km: np.ndarray
    sea_km: np.ndarray


@dataclass(frozen=True)
class Reach:
    """The suitable sites and, per reactor kind, each settlement's nearest one within reach.

    Attributes
    ----------
    sites : pandas.DataFrame
        Suitable candidate sites (site_id, kind, lon, lat, ...), index 0..n-1.
    by_kind : Mapping[str, KindReach]
        One entry per reactor kind (KINDS).
    max_network_distance_km : float
        The limit used (km).
    """

    sites: pd.DataFrame
    by_kind: Mapping[str, KindReach]
    max_network_distance_km: float

    def take(self, rows: np.ndarray) -> Reach:
        """The reach of the settlements at positions `rows` (same sites)."""
        return replace(self, by_kind={kind: KindReach(*(getattr(r, f.name)[rows] for f in fields(KindReach)))
                                      for kind, r in self.by_kind.items()})

    @staticmethod
    def joined(parts: Sequence[Reach]) -> Reach:
        """The reach of consecutive parts of the settlements (each to the same sites) as one, in their order."""
        by_kind = {kind: KindReach(*(np.concatenate([getattr(p.by_kind[kind], f.name) for p in parts])
                                     for f in fields(KindReach)))
                   for kind in parts[0].by_kind}
        return replace(parts[0], by_kind=by_kind)


def suitable_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """The suitable sites of a screen in their order, index 0..n-1: the sites a `Reach` numbers, with
    those of `SITE_COLUMNS` it has, the columns the cost and plan stages read (the screen's values and
    verdicts stay in the screen's own table, not copied for every suitable site).

    Parameters
    ----------
    sites : pandas.DataFrame
        Screened candidate sites with `suitable`.

    Returns
    -------
    pandas.DataFrame
    """
    columns = [c for c in SITE_COLUMNS if c in sites.columns]
    return sites.loc[sites["suitable"].to_numpy(bool), columns].reset_index(drop=True)


@dataclass(frozen=True)
class SiteIndex:
    """The suitable sites of a screen indexed by kind, built once for every partition of the settlements.

    Attributes
    ----------
    sites : pandas.DataFrame
        The suitable sites (`suitable_sites`).
    by_kind : Mapping[str, tuple]
        Per reactor kind with suitable sites: their positions in `sites` and a PointIndex of them.
    """

    sites: pd.DataFrame
    by_kind: Mapping[str, tuple[np.ndarray, PointIndex]]


def site_index(sites: pd.DataFrame) -> SiteIndex:
    """The suitable sites of a screen indexed by kind.

    Parameters
    ----------
    sites : pandas.DataFrame
        Screened candidate sites with `REACH_COLUMNS` (lon, lat in degrees).

    Returns
    -------
    SiteIndex
    """
    suitable = suitable_sites(sites)
    kinds = suitable["kind"].to_numpy()
    slon, slat = suitable["lon"].to_numpy(float), suitable["lat"].to_numpy(float)
    positions = {kind: np.flatnonzero(kinds == kind) for kind in KINDS}
    return SiteIndex(suitable, {kind: (pos, PointIndex(slon[pos], slat[pos])) for kind, pos in positions.items() if len(pos)})


def reach(region: Region, lon: np.ndarray, lat: np.ndarray, index: SiteIndex,
          max_network_distance_km: float) -> Reach:
    """Each settlement's nearest suitable site of every reactor kind and the route to it.

    Parameters
    ----------
    region : Region
        Land / sea layers for the route split.
    lon, lat : numpy.ndarray
        Settlement coordinates (degrees, WGS84).
    index : SiteIndex
        The screen's suitable sites by kind (`site_index`).
    max_network_distance_km : float
        Farthest a settlement may be from a plant it is served by (km).

    Returns
    -------
    Reach
        Nearest sites by haversine distance (a spatial index per kind), land / sea split of each route.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = len(lon)
    slon, slat = index.sites["lon"].to_numpy(float), index.sites["lat"].to_numpy(float)
    by_kind = {}
    for kind in KINDS:
        if kind not in index.by_kind or n == 0:
            by_kind[kind] = KindReach(np.full(n, -1), np.full(n, np.inf), np.zeros(n), np.zeros(n))
            continue
        pos, tree = index.by_kind[kind]
        dist, idx = tree.nearest(lon, lat, k=1)
        nearest = pos[idx[:, 0]]
        land, sea = route_split_km(region, slon[nearest], slat[nearest], lon, lat)
        within = dist[:, 0] <= max_network_distance_km
        by_kind[kind] = KindReach(np.where(within, nearest, -1), dist[:, 0], land, sea)
    return Reach(index.sites, by_kind, float(max_network_distance_km))


@dataclass(frozen=True)
class CostBasis:
    """What option costs depend on that no uncertain input changes, computed once per scenario.

    Attributes
    ----------
    is_island : numpy.ndarray
        Per settlement: on an island, pays the island capex multiplier on PV + battery (bool).
    grid_land_km, grid_sea_km : numpy.ndarray
        Land and sea km of the route to the nearest grid point (inf without a grid).
    allowed : numpy.ndarray
        Reactor kinds each settlement may use (settlements x KINDS, bool).
    reach : Reach
        Nearest suitable sites of every kind.
    night_share : float
        Share of the annual load in night hours (see `night_share`).
    enabled : tuple[str, ...]
        Enabled catalogue technologies.
    reserve_margin_fraction : float
        Reactor plant reserve margin over peak.
    reactor_backup : str
        Refuelling back-up rule of reactor plants (`cheapest`, `n_plus_1`, `diesel`).
    on_grid : numpy.ndarray or None
        Per settlement: already on the existing grid (grid_status connected or weak; bool). Its only
        option is the existing grid. None: no settlement is.
    outage_fraction : numpy.ndarray or None
        Per settlement: share of the day without grid supply (1 - grid_supply_hours / 24), served by
        diesel back-up.
    fuel_at_depot : numpy.ndarray or None
        Per settlement: diesel bought at a fuel depot's price, no island logistics surcharge (bool;
        `smrplan.geo.fuel.at_fuel_depot`). None: no settlement is.
    """

    is_island: np.ndarray
    grid_land_km: np.ndarray
    grid_sea_km: np.ndarray
    allowed: np.ndarray
    reach: Reach
    night_share: float
    enabled: tuple[str, ...]
    reserve_margin_fraction: float
    reactor_backup: str
    on_grid: np.ndarray | None = None
    outage_fraction: np.ndarray | None = None
    fuel_at_depot: np.ndarray | None = None

    @property
    def fuel_surcharge(self) -> np.ndarray:
        """Per settlement: pays the island logistics surcharge on diesel (on an island, not at a depot)."""
        return fuel_surcharge(self.is_island, self.fuel_at_depot)

    def take(self, rows: np.ndarray) -> CostBasis:
        """The basis of the settlements at positions `rows`."""
        per_row = ("is_island", "grid_land_km", "grid_sea_km", "allowed", "on_grid", "outage_fraction", "fuel_at_depot")
        taken: dict[str, Any] = {name: None if getattr(self, name) is None else getattr(self, name)[rows]
                                 for name in per_row}
        return replace(self, reach=self.reach.take(rows), **taken)


def cost_basis(scenario: Scenario, settlements: pd.DataFrame, reach_: Reach, night_share_: float) -> CostBasis:
    """The `CostBasis` of a scenario's settlements (with `is_island`, `grid_land_km`, `grid_sea_km`
    and the columns of the region rules; `fuel_at_depot` where known) and their reach to suitable sites.

    Parameters
    ----------
    scenario : Scenario
        Its enabled technologies, reactor back-up rule, reserve margin (fraction of peak) and region
        rules (`optimisation.allowed_options_by_region`).
    settlements : pandas.DataFrame
        `is_island` (bool), `grid_land_km` and `grid_sea_km` (km, inf without a grid) and the columns
        the region rules name, one row per settlement.
    reach_ : Reach
        Nearest suitable sites of every reactor kind (see `reach`).
    night_share_ : float
        Share of the annual load in night hours (fraction, see `night_share`).

    Returns
    -------
    CostBasis

    Raises
    ------
    InputError
        When a region rule names a column the settlements do not have.
    """
    grid_status = _grid_status_basis(settlements)
    allowed = allowed_kinds(settlements, scenario.optimisation)
    if grid_status:  # a settlement on the existing grid is never served by a reactor (not even a network's)
        allowed &= ~grid_status["on_grid"][:, None]
    return CostBasis(
        is_island=settlements["is_island"].to_numpy(bool), grid_land_km=settlements["grid_land_km"].to_numpy(float),
        grid_sea_km=settlements["grid_sea_km"].to_numpy(float), allowed=allowed,
        reach=reach_, night_share=float(night_share_), enabled=tuple(scenario.technologies.enabled),
        reserve_margin_fraction=scenario.optimisation.reserve_margin_fraction,
        reactor_backup=scenario.technologies.reactor_backup,
        fuel_at_depot=settlements["fuel_at_depot"].to_numpy(bool) if "fuel_at_depot" in settlements.columns else None,
        **grid_status)


def _grid_status_basis(settlements: pd.DataFrame) -> dict:
    """on_grid and outage_fraction from grid_status and grid_supply_hours (h/day), when present."""
    if "grid_status" not in settlements.columns:
        return {}
    hours = settlements["grid_supply_hours"].to_numpy(float) if "grid_supply_hours" in settlements else 24.0
    return {"on_grid": settlements["grid_status"].isin(["connected", "weak"]).to_numpy(),
            "outage_fraction": np.clip(1.0 - np.asarray(hours, float) / 24.0, 0.0, 1.0) * np.ones(len(settlements))}


def _existing_grid(annual, capex, capacity, co2, basis: CostBasis, e, peak, grid, diesel, money, carbon_price) -> None:
    """Cost the settlements on the existing grid in place: the grid option only, at the average cost of
    supply (USD/kWh) on the hours with supply, plus a diesel back-up (sized to the peak) for the outage
    share of the energy; every other option infeasible (NaN)."""
    assert basis.on_grid is not None, "settlements on the existing grid need the on_grid mask"
    at = np.flatnonzero(basis.on_grid)
    out = basis.outage_fraction[at] if basis.outage_fraction is not None else np.zeros(len(at))
    backup = diesel_cost(e[at] * out, np.where(out > 0, peak[at], 0.0), diesel, money, basis.fuel_surcharge[at])
    supplied = e[at] * (1.0 - out)
    j = ALL_OPTIONS.index("grid")
    annual[at], capex[at], capacity[at], co2[at] = np.nan, np.nan, np.nan, 0.0
    co2[at, j] = supplied / 1000.0 * grid["grid_emission_t_co2_per_mwh"] + backup["co2_t"].to_numpy()
    annual[at, j] = supplied * grid["average_cost_of_supply_usd_per_kwh"] + backup["annual_cost_usd"].to_numpy() \
        + carbon_price * co2[at, j]
    capex[at, j], capacity[at, j] = backup["capex_usd"].to_numpy(), peak[at]


@dataclass(frozen=True)
class OptionCosts:
    """Every option's cost for every settlement (columns in ALL_OPTIONS order).

    Attributes
    ----------
    annual_usd : numpy.ndarray
        Annual cost (USD/yr, settlements x options); NaN where infeasible or not allowed. Stand-alone
        options include the carbon price on their CO2.
    capex_usd : numpy.ndarray
        Investment (USD; reactor options: plant and connection).
    capacity_kw : numpy.ndarray
        Installed capacity (kW).
    co2_t : numpy.ndarray
        Emissions (t CO2/yr; 0 for reactor options).
    technology : numpy.ndarray
        Reactor options only (settlements x REACTOR_OPTIONS): catalogue key of the cheapest plant, "".
    site_pos : numpy.ndarray
        Reactor options only: position in `Reach.sites` of the plant's site, -1 where none.
    standalone : Mapping[str, pandas.DataFrame]
        Sizing frames of the stand-alone options (PV kW, fuel litres...) that dispatch reads.
    """

    annual_usd: np.ndarray
    capex_usd: np.ndarray
    capacity_kw: np.ndarray
    co2_t: np.ndarray
    technology: np.ndarray
    site_pos: np.ndarray
    standalone: Mapping[str, pd.DataFrame]

    @staticmethod
    def joined(parts: list[OptionCosts]) -> OptionCosts:
        """The costs of consecutive parts of the settlements as one, in their order.

        The list is emptied and each part's arrays are let go once their field is joined, so that
        the parts and the whole are not all held at once (the parts themselves are not changed).

        Parameters
        ----------
        parts : list of OptionCosts
            The parts, in order; emptied.

        Returns
        -------
        OptionCosts
        """
        held = [{f.name: getattr(p, f.name) for f in fields(OptionCosts)} for p in parts]
        first_options = list(parts[0].standalone)
        parts.clear()
        joined: dict[str, Any] = {}
        for f in fields(OptionCosts):
            if f.name != "standalone":
                joined[f.name] = np.concatenate([h.pop(f.name) for h in held])
                release_free_memory()  # the parts' arrays of this field, freed
        frames = [dict(h.pop("standalone")) for h in held]
        joined["standalone"] = {}
        for option in first_options:
            joined["standalone"][option] = pd.concat([f.pop(option) for f in frames], ignore_index=True)
            release_free_memory()
        return OptionCosts(**joined)

    def annual(self, option: str) -> np.ndarray:
        """Annual cost of one option per settlement (USD/yr, NaN where infeasible)."""
        return self.annual_usd[:, ALL_OPTIONS.index(option)]

    @property
    def by_option(self) -> dict[str, np.ndarray]:
        """{option: annual cost per settlement (USD/yr)}."""
        return {o: self.annual_usd[:, j] for j, o in enumerate(ALL_OPTIONS)}

    @property
    def standalone_annual_usd(self) -> np.ndarray:
        """Cheapest stand-alone option per settlement (USD/yr)."""
        return np.nanmin(self.annual_usd[:, STANDALONE_COLUMNS], axis=1)

    def least_cost(self) -> tuple[np.ndarray, np.ndarray]:
        """Each settlement's least-cost option on its own: index into ALL_OPTIONS and annual cost (USD/yr)."""
        chosen = np.nanargmin(self.annual_usd, axis=1)
        return chosen, self.annual_usd[np.arange(len(chosen)), chosen]


def _offered(catalogue: Catalogue, enabled: tuple[str, ...], option: str) -> bool:
    """Is a planning option supplied by an enabled technology (data/options.csv catalogue_options)?"""
    return any(CATALOGUE_OPTION_SUPPLIES.get(catalogue[t].option) == option for t in enabled)


def option_costs(basis: CostBasis, catalogue: Catalogue, money: Money, carbon_price_usd_per_t: float,
                 energy_kwh: np.ndarray, peak_kw: np.ndarray) -> OptionCosts:
    """Annual cost, investment, capacity and CO2 of every option for every settlement.

    Parameters
    ----------
    basis : CostBasis
        Draw-independent per-settlement data (see `cost_basis`).
    catalogue : Catalogue
        Technology data (base-year USD), overrides and drawn values applied.
    money : Money
        Discount rate and horizon.
    carbon_price_usd_per_t : float
        Carbon price on stand-alone options' emissions (USD/t CO2).
    energy_kwh, peak_kw : numpy.ndarray
        Demand per settlement (kWh/yr) and its peak (kW).

    Returns
    -------
    OptionCosts

    Raises
    ------
    InputError
        When a settlement has no feasible stand-alone option (diesel not enabled and no other).
    """
    e, peak = np.asarray(energy_kwh, float), np.asarray(peak_kw, float)
    n, enabled = len(e), basis.enabled
    diesel, grid = first_of(catalogue, "diesel"), first_of(catalogue, "grid_extension")
    cable = first_of(catalogue, "submarine_cable")
    island, surcharge = basis.is_island, basis.fuel_surcharge
    standalone = {
        "diesel": diesel_cost(e, peak, diesel, money, surcharge),
        "pv_battery": pv_battery_cost(e, peak, basis.night_share, first_of(catalogue, "pv_battery"), diesel, money, island,
                                      surcharge),
        "grid": grid_cost(e, peak, basis.grid_land_km, basis.grid_sea_km, grid, cable, money),
    }
    offered = {option: _offered(catalogue, enabled, option) for option in STANDALONE_OPTIONS}
    shape = (n, len(ALL_OPTIONS))
    annual, capex, capacity, co2 = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
    for option, frame in standalone.items():
        j = ALL_OPTIONS.index(option)
        ok = offered[option] & (frame["feasible"].to_numpy(bool) if "feasible" in frame else np.ones(n, bool))
        annual[:, j] = np.where(ok, frame["annual_cost_usd"].to_numpy() + carbon_price_usd_per_t * frame["co2_t"].to_numpy(),
                                np.nan)
        capex[:, j], capacity[:, j], co2[:, j] = (frame[c].to_numpy(float) for c in ("capex_usd", "capacity_kw", "co2_t"))
    technology = np.full((n, len(REACTOR_OPTIONS)), "", dtype=object)
    site_pos = np.full((n, len(REACTOR_OPTIONS)), -1)
    groups = by_option(catalogue, list(enabled))
    for k, kind in enumerate(KINDS):
        option = KIND_OPTION[kind]
        r, techs, j, q = basis.reach.by_kind[kind], groups[option], ALL_OPTIONS.index(option), REACTOR_OPTIONS.index(option)
        usable = (r.site_pos >= 0) & basis.allowed[:, k]
        if not techs or not usable.any():
            continue
        at = np.flatnonzero(usable)  # settlements that may have a plant of this kind
        link = line_cost(r.land_km[at], r.sea_km[at], peak[at], grid, cable, money)
        link_annual, link_capex = link["annual_cost_usd"].to_numpy(), link["capex_usd"].to_numpy()
        plant_annual, plant_capex, plant_kw = (np.empty((len(techs), len(at))) for _ in range(3))
        for i, tech in enumerate(techs):  # a handful of technologies, each vectorised over settlements
            plant = reactor_plant_cost(e[at], peak[at], tech, diesel, money, basis.reserve_margin_fraction,
                                       basis.reactor_backup, surcharge[at])
            plant_annual[i] = np.where(plant["feasible"].to_numpy(bool), plant["annual_cost_usd"].to_numpy() + link_annual,
                                       np.inf)
            plant_capex[i], plant_kw[i] = plant["capex_usd"].to_numpy() + link_capex, plant["capacity_kw"].to_numpy()
        best = plant_annual.argmin(axis=0)  # the first of equally cheap technologies
        cols = np.arange(len(at))
        cheapest = plant_annual[best, cols]
        found = np.isfinite(cheapest)
        at, best, cols = at[found], best[found], cols[found]
        annual[at, j] = cheapest[found]
        capex[at, j], capacity[at, j] = plant_capex[best, cols], plant_kw[best, cols]
        technology[at, q] = np.array([t.key for t in techs], dtype=object)[best]
        site_pos[at, q] = r.site_pos[at]
    if basis.on_grid is not None and basis.on_grid.any():
        _existing_grid(annual, capex, capacity, co2, basis, e, peak, grid, diesel, money, carbon_price_usd_per_t)
        technology[basis.on_grid], site_pos[basis.on_grid] = "", -1
    if np.isnan(annual[:, STANDALONE_COLUMNS]).all(axis=1).any():
        raise InputError(None, "technologies.enabled", "a settlement has no feasible stand-alone option; enable diesel_minigrid")
    return OptionCosts(annual, capex, capacity, co2, technology, site_pos, standalone)
