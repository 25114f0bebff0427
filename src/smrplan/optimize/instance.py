"""From settlements and candidate facilities to the plan MILP (problem.Problem): units, their pairs
with candidate sites in network trees (network.py), pruning.

Units u are the settlements, or clusters of nearby settlements (cluster.py: quadtree cells, small
where the load is dense) when there are more than `optimisation.cluster_above` of them, or when the
model would have more than `optimisation.max_assignments` assignment variables (`Grain`). Sites s are
the candidate sites screened *suitable* (siting.screen): an unsuitable site, a floating berth in too
shallow water for example, never enters the model (facilities.py).

Pruning before the model (each step keeps the optimum of the model that follows, except the first,
which is the modelling choice the scenario makes): a unit may use only its `nearest_sites` nearest
suitable sites within `max_network_distance_km`, of a kind its region allows
(`allowed_options_by_region`). A pair whose unit alone exceeds every plant at the site (peak with
reserve or energy beyond N modules) is dropped with the pairs whose network path runs through it.
Then, when `min_reactor_share` is 0 (a share may force a loss): a pair that cannot pay even alone
and free of capital (a_p + min_t v_t E_u >= c_u) and lies on no profitable pair's network path is
dropped (taking a unit out of a plant never raises the plant's cost); a facility whose lower bound on
cost minus stand-alone cost, over any set of units, is not negative is dropped (`_useful_facilities`;
plant options are pruned the same way in problem.plants).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from smrplan.catalogue.catalogue import Technology
from smrplan.costs.economics import Money
from smrplan.geo.distance import PointIndex
from smrplan.geo.fuel import surcharge_column
from smrplan.geo.layers import Region
from smrplan.optimize.cluster import cluster_settlements, top_cell_km
from smrplan.optimize.facilities import Candidates
from smrplan.optimize.network import Network, candidate_pairs, tree_parents
from smrplan.optimize.pairs import expand, reachable, reindex, with_ancestors
from smrplan.optimize.problem import TOL, Problem, assignments, plants
from smrplan.options import KINDS
from smrplan.units import HOURS_PER_YEAR as HOURS


@dataclass(frozen=True)
class Grain:
    """Clustering resolution: quadtree cells from max_km down to min_km (km), split while their peak
    exceeds split_peak_kw (cluster.py); limit_km is the largest cell the scenario allows."""

    min_km: float
    max_km: float
    split_peak_kw: float
    limit_km: float

    @classmethod
    def first(cls, opt) -> Grain:
        """The first grain: uniform cells of cluster_km (at least 1 km). Merging costs plan quality (a
        cluster is served whole, over its own local network), so sparse areas merge only when the
        model is too large.

        Parameters
        ----------
        opt : smrplan.scenario.Optimisation
            cluster_km, cluster_max_km (km) and cluster_split_peak_kw (kW).

        Returns
        -------
        Grain
        """
        km = max(opt.cluster_km, 1.0)
        return cls(km, km, opt.cluster_split_peak_kw, max(opt.cluster_max_km, km))

    def coarser(self, stats: dict) -> Grain:
        """The next coarser grain for a model that is too large: larger cells where the load is
        light (the largest side doubles, up to limit_km); then a higher split peak (x 1.5) while
        some cell is still split; then every cell 1.5 times larger.

        Parameters
        ----------
        stats : dict
            The clustering record at this grain (its `clusters_by_cell_km`: clusters by cell side).

        Returns
        -------
        Grain
        """
        top = top_cell_km(self.min_km, self.max_km)
        if 2.0 * top <= self.limit_km + 1e-9:
            return replace(self, max_km=2.0 * top)
        sides = [float(k) for k in stats.get("clusters_by_cell_km", {})]
        if sides and min(sides) < top - 1e-9:
            return replace(self, split_peak_kw=1.5 * self.split_peak_kw)
        return replace(self, min_km=1.5 * self.min_km, max_km=1.5 * top, limit_km=1.5 * self.limit_km)


@dataclass
class Pairs:
    """Pairs (unit, site) of the model: unit, site, distance (km), connection cost a (USD/yr, line to
    the parent plus the unit's local network), parent pair (-1: joined to the site) and the line to
    the parent (`Network.links`)."""

    unit: np.ndarray
    site: np.ndarray
    km: np.ndarray
    cost: np.ndarray
    parent: np.ndarray
    link: dict

    def subset(self, keep: np.ndarray) -> Pairs:
        """Some of the pairs, parents renumbered.

        Parameters
        ----------
        keep : numpy.ndarray
            Pairs kept (bool); the parents of kept pairs must be kept.

        Returns
        -------
        Pairs
        """
        return Pairs(self.unit[keep], self.site[keep], self.km[keep], self.cost[keep], reindex(self.parent, keep),
                     {k: v[keep] for k, v in self.link.items()})


@dataclass
class Instance:
    """The MILP for one choice of units, with what is needed to map its solution back.

    Attributes
    ----------
    units : pandas.DataFrame
        The units (`_units`): lon, lat, demand_kwh_per_year, peak_kw, standalone_annual_cost_usd,
        is_island, fuel_surcharge, members, local network columns net_* and allow_<kind> flags.
    labels : numpy.ndarray
        Unit of each settlement.
    clustering : dict
        Clustering record (plan.json solver.clustering).
    net : Network
        Line costs of the instance.
    site_island : numpy.ndarray
        Per candidate site: does its nearest unit pay the island fuel surcharge (on an island, not at a
        fuel depot; prices the plant's back-up diesel).
    candidate_pairs : int
        Pairs before pruning.
    pairs : Pairs
        The pairs of the model (after pruning).
    used_fac : numpy.ndarray
        Candidate facilities in the model (the Problem's facilities, in order).
    prob : Problem or None
        The MILP; None when no unit fits a plant option that might pay.
    size : int
        Assignment variables of the model (0 without a model).
    """

    units: pd.DataFrame
    labels: np.ndarray
    clustering: dict
    net: Network
    site_island: np.ndarray
    candidate_pairs: int
    pairs: Pairs
    used_fac: np.ndarray
    prob: Problem | None
    size: int = 0


def fit_instance(region: Region, settlements: pd.DataFrame, allowed: np.ndarray, cand: Candidates, opt,
                 grid: Technology, cable: Technology, money: Money, keep_unprofitable: bool = False) -> Instance:
    """The instance at the finest grain the model size allows.

    Settlements are clustered (`Grain.first`) when there are more than cluster_above; while the model
    has more than `max_assignments` assignment variables, they are clustered anyway and the grain
    coarsens (`Grain.coarser`) until it has fewer.

    Parameters
    ----------
    region : Region
        Land / sea layers (routes) and the metric CRS (clustering).
    settlements : pandas.DataFrame
        lon, lat, demand_kwh_per_year (kWh/yr), peak_kw (kW), standalone_annual_cost_usd (USD/yr),
        is_island.
    allowed : numpy.ndarray
        May the settlement use a reactor of this kind (bool, settlements x KINDS).
    cand : Candidates
        The candidate facilities.
    opt : smrplan.scenario.Optimisation
        Reach, clustering and size settings, reserve margin and limits.
    grid, cable : Technology
        Overland line and submarine cable.
    money : Money
        Discount rate and horizon.
    keep_unprofitable : bool, default False
        Keep the pairs, facilities and plant options that can never save money (as a reactor share
        does): the space of the near-optimal alternatives.

    Returns
    -------
    Instance
    """
    grain = Grain.first(opt) if len(settlements) > opt.cluster_above and opt.cluster_km > 0 else None
    inst = build_instance(grain, region, settlements, allowed, cand, opt, grid, cable, money, keep_unprofitable)
    while inst.size > opt.max_assignments and len(inst.units) > 1:
        grain = Grain.first(opt) if grain is None else grain.coarser(inst.clustering)
        inst = build_instance(grain, region, settlements, allowed, cand, opt, grid, cable, money, keep_unprofitable)
    return inst


def build_instance(grain: Grain | None, region: Region, settlements: pd.DataFrame, allowed: np.ndarray,
                   cand: Candidates, opt, grid: Technology, cable: Technology, money: Money,
                   keep_unprofitable: bool = False) -> Instance:
    """Units (settlements, or clusters at `grain`), their pruned pairs and the Problem.

    Parameters
    ----------
    grain : Grain or None
        Clustering resolution; None: the settlements themselves are the units.
    region, settlements, allowed, cand, opt, grid, cable, money, keep_unprofitable
        As in `fit_instance`.

    Returns
    -------
    Instance
    """
    units, labels, cstats = _units(region, settlements, allowed, grain, opt, grid, cable, money)
    net = Network(region, grid, cable, money, clustered=bool(cstats["clustered"]))
    if not len(cand.fac_site) or not len(units):
        none = np.zeros(0, int)
        empty = Pairs(none, none, none, none, none, {})
        return Instance(units, labels, cstats, net, np.zeros(len(cand.sites), bool), 0, empty, np.zeros(0, int), None)
    slon, slat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)
    ulon, ulat = units["lon"].to_numpy(float), units["lat"].to_numpy(float)
    # a plant's back-up diesel pays the island surcharge where its nearest unit does
    site_island = units["fuel_surcharge"].to_numpy(bool)[PointIndex(ulon, ulat).nearest(slon, slat, k=1)[1][:, 0]]
    pairs = _unit_pairs(units, cand, net, opt)
    candidate_pairs = len(pairs.unit)
    pairs, useful = _prune(units, pairs, cand, opt, keep_unprofitable)
    used_fac, prob, size = _problem(units, pairs, useful, site_island, cand, opt, keep_unprofitable)
    return Instance(units, labels, cstats, net, site_island, candidate_pairs, pairs, used_fac, prob, size)


def _units(region, settlements, allowed, grain: Grain | None, opt, grid, cable, money) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The MILP's units: clusters at `grain` (None: the settlements themselves), with allow_<kind>
    flags and local network columns (zero when unclustered)."""
    n = len(settlements)
    island = settlements["is_island"].to_numpy(bool)
    if grain is not None:
        code = allowed @ (1 << np.arange(len(KINDS)))
        cl = cluster_settlements(region, settlements, grain.min_km, code * 2 + island, grid, cable, money,
                                 grain.split_peak_kw, grain.max_km)
        units = cl.units
        member = np.zeros(len(units), int)
        member[cl.labels] = np.arange(n)  # any member: the members of a cluster share these flags
        for j, k in enumerate(KINDS):
            units[f"allow_{k}"] = allowed[member, j]
        return units, cl.labels, {**cl.stats, "cluster_above": opt.cluster_above,
                                  "grown_for_size": grain != Grain.first(opt)}
    cols = ["lon", "lat", "demand_kwh_per_year", "peak_kw", "standalone_annual_cost_usd"]
    units = settlements[cols].reset_index(drop=True).astype(float)
    units["is_island"] = island
    units["fuel_surcharge"] = surcharge_column(settlements)
    units["members"] = 1
    for col in ("net_land_km", "net_sea_km", "net_capex_usd", "net_annual_usd"):
        units[col] = 0.0
    for j, k in enumerate(KINDS):
        units[f"allow_{k}"] = allowed[:, j]
    return units, np.arange(n), {"clustered": False, "settlements": n, "clusters": n,
                                 "cluster_above": opt.cluster_above}


def _unit_pairs(units: pd.DataFrame, cand: Candidates, net: Network, opt) -> Pairs:
    """Every unit's candidate pairs (`candidate_pairs`) in network trees (`tree_parents`), with
    the line to the parent and the connection cost."""
    slon, slat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)
    ulon, ulat = units["lon"].to_numpy(float), units["lat"].to_numpy(float)
    uallowed = units[[f"allow_{k}" for k in KINDS]].to_numpy(bool)
    pu, ps, pkm = candidate_pairs(ulon, ulat, slon, slat, cand.site_kind, uallowed, opt)
    parent, tlon, tlat = tree_parents(ulon, ulat, pu, ps, pkm, slon, slat)
    link = net.links(ulon[pu], ulat[pu], tlon, tlat, units["peak_kw"].to_numpy(float)[pu])
    a = link["annual_usd"] + units["net_annual_usd"].to_numpy(float)[pu]
    return Pairs(pu, ps, pkm, a, parent, link)


def _prune(units: pd.DataFrame, pairs: Pairs, cand: Candidates, opt, keep_unprofitable: bool = False
           ) -> tuple[Pairs, np.ndarray]:
    """The pairs some plant at their site can carry and, without a reactor share, that might pay;
    and the facilities that might save money (bool per candidate facility; module docstring)."""
    E, P = units["demand_kwh_per_year"].to_numpy(float), units["peak_kw"].to_numpy(float)
    c = units["standalone_annual_cost_usd"].to_numpy(float)
    fac_site, fac_tech, tc = cand.fac_site, cand.fac_tech, cand.coef
    # A pair whose unit alone is too large for every plant at the site (peak with reserve or energy
    # beyond N modules) can never be served, nor can the pairs whose network path runs through it.
    carried = _carried(P, E, pairs.unit, pairs.site, fac_site, tc.iloc[fac_tech], opt.reserve_margin_fraction)
    pairs = pairs.subset(reachable(carried, pairs.parent))
    useful = np.ones(len(fac_site), bool)
    if opt.min_reactor_share <= 0 and not keep_unprofitable:
        pu, ps, a = pairs.unit, pairs.site, pairs.cost
        useful = _useful_facilities(E, P, c, pu, ps, a, fac_site, tc.iloc[fac_tech], opt.reserve_margin_fraction)
        v_min = np.full(len(cand.sites), np.inf)
        np.minimum.at(v_min, fac_site, tc["var_per_kwh"].to_numpy()[fac_tech])
        # A whole site goes when none of its facilities may pay (a pair's ancestors share its site).
        pairs = pairs.subset(with_ancestors(np.isin(ps, fac_site[useful]) & (a + v_min[ps] * E[pu] - c[pu] < 0),
                                            pairs.parent))
    return pairs, useful


def _problem(units: pd.DataFrame, pairs: Pairs, useful: np.ndarray, site_island: np.ndarray, cand: Candidates,
             opt, keep_unprofitable: bool = False) -> tuple[np.ndarray, Problem | None, int]:
    """The Problem over the sites some pair uses and their useful facilities: (facilities in the
    model, the Problem or None when no unit fits a plant option that might pay, assignment variables)."""
    fac_site, fac_tech, tc = cand.fac_site, cand.fac_tech, cand.coef
    used_sites = np.unique(pairs.site)
    used_fac = np.flatnonzero(np.isin(fac_site, used_sites) & useful)  # facilities some unit may use
    if not len(used_fac):
        return used_fac, None, 0
    site_pos = np.full(len(cand.sites), -1)
    site_pos[used_sites] = np.arange(len(used_sites))
    fac_b = np.where(site_island[fac_site], cand.backup_island[fac_tech], tc["backup_per_kw"].to_numpy()[fac_tech])
    ft = fac_tech[used_fac]
    E, P = units["demand_kwh_per_year"].to_numpy(float), units["peak_kw"].to_numpy(float)
    c = units["standalone_annual_cost_usd"].to_numpy(float)
    slon, slat = cand.sites["lon"].to_numpy(float), cand.sites["lat"].to_numpy(float)
    prob = Problem(E, P, c, pairs.unit, site_pos[pairs.site], pairs.cost, pairs.parent, pairs.km,
                   site_pos[fac_site[used_fac]], tc["module_kw"].to_numpy()[ft], tc["max_modules"].to_numpy()[ft],
                   tc["cf"].to_numpy()[ft], tc["fixed"].to_numpy()[ft], tc["module"].to_numpy()[ft], fac_b[used_fac],
                   tc["var_per_kwh"].to_numpy()[ft], len(used_sites), opt.reserve_margin_fraction,
                   opt.max_sites, opt.min_reactor_share, slon[used_sites], slat[used_sites], tc["outage_kw"].to_numpy()[ft])
    size = len(assignments(prob, *plants(prob, keep_unprofitable))[0])
    return used_fac, (prob if size else None), size


def _carried(P, E, pu, ps, fac_site, coef: pd.DataFrame, reserve: float) -> np.ndarray:
    """Pairs whose unit alone fits some plant at the site: peak with reserve within N modules and
    annual energy within N modules at the capacity factor (bool per pair)."""
    rep, f = expand(ps, fac_site)
    K, N = coef["module_kw"].to_numpy()[f], coef["max_modules"].to_numpy()[f]
    u = pu[rep]  # as in plant_cost: at most N modules needed
    fits = (P[u] * (1.0 + reserve) / K - TOL <= N) & (E[u] / (HOURS * coef["cf"].to_numpy()[f] * K) - TOL <= N)
    return np.bincount(rep[fits], minlength=len(pu)) > 0


def _useful_facilities(E, P, c, pu, ps, a, fac_site, coef: pd.DataFrame, reserve: float) -> np.ndarray:
    """Facilities that might save money (bool per facility). A plant of f serving a set S of units has
    n >= 1 modules and n K >= sum w_u with w_u = P_u (1 + r) (capacity) or E_u / (8760 CF)
    (energy), so for any lam in [0, 1] its cost minus the units' stand-alone cost is at least
    F + lam M + sum_(u in S) ((1 - lam) M w_u / K + a_u + v E_u - c_u), and at least
    F + lam M + sum_u min(0, ...) whatever S is. A facility whose bound is not below -1 USD/yr for
    some lam (a grid of 11 values) and either load never pays, with or without the others."""
    rep, f = expand(ps, fac_site)
    u = pu[rep]
    K, CF, M = (coef[k].to_numpy()[f] for k in ("module_kw", "cf", "module"))
    gain = a[rep] + coef["var_per_kwh"].to_numpy()[f] * E[u] - c[u]
    fixed, module = coef["fixed"].to_numpy(), coef["module"].to_numpy()
    bound = np.full(len(fac_site), -np.inf)
    for load in (P[u] * (1.0 + reserve), E[u] / (HOURS * CF)):
        for lam in np.linspace(0.0, 1.0, 11):
            b = fixed + lam * module + np.bincount(f, np.minimum((1.0 - lam) * M / K * load + gain, 0.0), len(fac_site))
            bound = np.maximum(bound, b)
    return bound < -1.0
