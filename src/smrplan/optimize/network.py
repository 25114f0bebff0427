"""Where a unit can connect and what its line costs: candidate pairs within reach, network trees
rooted at the sites, and line costs over the land / sea split of straight routes.

Each pair (unit, site) pays a_p, the annualised line (overland line, submarine cable on the part of
the straight route that crosses sea, a substation; line type by the unit's own peak) from the unit to
its *parent*: the nearest of its 8 nearest units that is closer to the site than the unit itself and
nearer to it than the site, else the site. The MILP's constraint x_a <= x_parent(a) makes every
plant's network a tree rooted at the site whose cost the objective counts exactly, so trunks are
shared instead of running a star line from every settlement to the site (which over-estimates).
Still approximate: an edge is sized by its unit's own peak, not the load it passes on; routes are
straight lines. Clustered units add their local network (cluster.py). Built sites also report the
minimum spanning tree length of the plant and its settlements (assemble.py).
"""

from __future__ import annotations

import numpy as np

from smrplan.catalogue.catalogue import Technology
from smrplan.costs.economics import Money, line_cost
from smrplan.geo.distance import PointIndex
from smrplan.geo.grid import route_split_km
from smrplan.geo.layers import Region
from smrplan.optimize.cluster import ZERO_KM

NEIGHBOURS = 8  # nearby units searched for a unit's parent in a site's network tree


class Network:
    """Connection costs of lines from units to a parent unit or a site (economics.line_cost over the
    land/sea split of the straight route). A clustered unit's local network already carries one
    substation per member, so its link to the parent carries none."""

    def __init__(self, region: Region, grid: Technology, cable: Technology, money: Money, clustered: bool):
        self.region, self.grid, self.cable, self.money = region, grid, cable, money
        sub = line_cost(np.array([ZERO_KM]), np.array([0.0]), np.array([0.0]), grid, cable, money)
        self.sub_annual = float(sub["annual_cost_usd"].iloc[0]) if clustered else 0.0
        self.sub_capex = float(sub["capex_usd"].iloc[0]) if clustered else 0.0

    def links(self, lon1, lat1, lon2, lat2, peak_kw) -> dict[str, np.ndarray]:
        """Lines between point pairs.

        Parameters
        ----------
        lon1, lat1, lon2, lat2 : numpy.ndarray
            End points (degrees, WGS84).
        peak_kw : numpy.ndarray
            Peak carried (kW), which sets the line type.

        Returns
        -------
        dict
            land_km, sea_km (km), annual_usd (USD/yr) and capex_usd (USD) per line.
        """
        land, sea = route_split_km(self.region, lon1, lat1, lon2, lat2)
        cost = line_cost(land, sea, peak_kw, self.grid, self.cable, self.money)
        has = (land + sea) > 0
        return {"land_km": land, "sea_km": sea,
                "annual_usd": cost["annual_cost_usd"].to_numpy() - has * self.sub_annual,
                "capex_usd": cost["capex_usd"].to_numpy() - has * self.sub_capex}


def candidate_pairs(ulon, ulat, slon, slat, site_kind, uallowed, opt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's nearest suitable sites within reach, of a kind it may use.

    Parameters
    ----------
    ulon, ulat : numpy.ndarray
        Unit positions (degrees, WGS84).
    slon, slat : numpy.ndarray
        Site positions (degrees, WGS84).
    site_kind : numpy.ndarray
        Kind of each site (index into KINDS).
    uallowed : numpy.ndarray
        May the unit use a reactor of this kind (bool, units x KINDS).
    opt : smrplan.scenario.Optimisation
        Its nearest_sites and max_network_distance_km (km).

    Returns
    -------
    unit, site : numpy.ndarray
        Unit and site of each pair.
    km : numpy.ndarray
        Great-circle distance between them (km).
    """
    k = min(opt.nearest_sites, len(slon))
    dist, near = PointIndex(slon, slat).nearest(ulon, ulat, k=k)
    pu, ps, km = np.repeat(np.arange(len(ulon)), k), near.ravel(), dist.ravel()
    keep = (km <= opt.max_network_distance_km) & uallowed[pu, site_kind[ps]]
    return pu[keep], ps[keep], km[keep]


def tree_parents(ulon, ulat, pu, ps, pkm, slon, slat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parent pair of each pair in its site's network tree and the point the unit's line runs to.

    The parent is the nearest of the unit's NEIGHBOURS nearest units that is paired with the same
    site, strictly closer to it, and nearer to the unit than the site is.

    Parameters
    ----------
    ulon, ulat : numpy.ndarray
        Unit positions (degrees, WGS84).
    pu, ps, pkm : numpy.ndarray
        Unit, site and distance (km) of each pair.
    slon, slat : numpy.ndarray
        Site positions (degrees, WGS84).

    Returns
    -------
    parent : numpy.ndarray
        Parent pair (-1: joined to the site).
    lon, lat : numpy.ndarray
        End of the pair's line: its parent's unit, or the site (degrees).
    """
    n_u, n_p, n_s = len(ulon), len(pu), len(slon)
    parent = np.full(n_p, -1)
    k = min(NEIGHBOURS + 1, n_u)
    if k > 1 and n_p:
        nd, ni = PointIndex(ulon, ulat).nearest(ulon, ulat, k=k)
        key = pu * n_s + ps
        order = np.argsort(key)
        cand_u, cand_d = ni[pu], nd[pu]
        ck = cand_u * n_s + ps[:, None]
        pos = np.minimum(np.searchsorted(key[order], ck), n_p - 1)
        cand_p = order[pos]
        valid = ((key[cand_p] == ck) & (cand_u != pu[:, None]) & (pkm[cand_p] < pkm[:, None])
                 & (cand_d < pkm[:, None]))
        first = np.argmax(valid, axis=1)
        parent = np.where(valid.any(axis=1), cand_p[np.arange(n_p), first], -1)
    root = parent < 0
    tlon = np.where(root, slon[ps], ulon[pu[np.maximum(parent, 0)]])
    tlat = np.where(root, slat[ps], ulat[pu[np.maximum(parent, 0)]])
    return parent, tlon, tlat
