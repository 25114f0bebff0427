"""The plan MILP in arrays: units, pairs and facilities (`Problem`), a plan of it (`Solution`), the
cheapest plant for a load (`plant_cost`), and the model's plant options and assignments; the roadmap
over decision periods on the same Problem (`RoadmapProblem`, `learning_factor`).

A unit u has annual demand E_u (kWh/yr), peak P_u (kW) and c_u (USD/yr), the annual cost of its
members' best stand-alone options. A pair p = (u, s) offers a unit a site within reach at the
connection cost a_p (USD/yr) of its line to its network parent (instance.py). A facility f = (s, t) is
a plant of reactor technology t at site s; a plant option v = (f, n) is that plant with n = 1..N_t
modules; an assignment a = (p, v) serves the pair's unit from a plant option at the pair's site.

Plant options and assignments are pruned so that the optimum of the model is kept (`plants`,
`assignments`): an option whose lower bound on cost minus stand-alone cost over any set of units is
not negative goes (unless a reactor share may force a loss), as does an option another technology at
the site always beats, and an assignment whose unit alone does not fit the option.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smrplan.optimize.pairs import expand, reachable, reindex
from smrplan.units import HOURS_PER_YEAR as HOURS

TOL = 1e-6  # integrality / feasibility tolerance when sizing plants from a solution


@dataclass
class Problem:
    """The MILP in arrays. Units: E (kWh/yr), P (kW), c (USD/yr). Pairs: unit, site, connection cost
    a (USD/yr), parent pair (-1 = joined to the site), distance to the site (km, orders the greedy
    heuristic). Facilities: site, purchase-unit kW K (a module, or a whole barge of modules), max units
    N, capacity factor CF, fixed F (USD/yr), per unit M (USD/yr), back-up B (USD/yr per kW), variable v
    (USD/kWh) and R, the kW out while one module refuels (K when absent: one-module units)."""

    E: np.ndarray
    P: np.ndarray
    c: np.ndarray
    pair_unit: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    pair_parent: np.ndarray
    pair_km: np.ndarray
    fac_site: np.ndarray
    K: np.ndarray
    N: np.ndarray
    CF: np.ndarray
    F: np.ndarray
    M: np.ndarray
    B: np.ndarray
    v: np.ndarray
    n_sites: int
    reserve: float
    max_sites: int | None = None
    min_share: float = 0.0
    site_lon: np.ndarray | None = None  # site positions (degrees) for the regional decomposition
    site_lat: np.ndarray | None = None
    R: np.ndarray | None = None

    @property
    def out_kw(self) -> np.ndarray:
        """kW out of service while one module refuels (R, or the unit size K where R is not given)."""
        return self.K if self.R is None else self.R


@dataclass
class Solution:
    """A plan for a Problem: served pairs (bool), built facilities (bool) with their modules and
    back-up (kW), total annual cost (USD/yr, stand-alone units included) and the solver's report."""

    x: np.ndarray
    opened: np.ndarray
    modules: np.ndarray
    backup_kw: np.ndarray
    objective_usd: float
    report: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Direction:
    """A quantity to minimise or maximise over the near-optimal plans of a Problem, linear in the
    model's variables: sum over served pairs of unit_w[unit] + sum over built plant options of
    (cap_w x kW of the option + site_w[site]).

    Attributes
    ----------
    objective : str
        Its name (reactor_capacity_mw, reactor_sites, diesel_litres, emissions_t_co2, random_<i>).
    sense : str
        "min" or "max".
    unit_w : numpy.ndarray or None
        Weight of serving each unit from a reactor (e.g. minus its stand-alone litres per year).
    cap_w : float
        Weight of a kW of reactor capacity built.
    site_w : numpy.ndarray or None
        Weight of building a plant at each site.
    """

    objective: str
    sense: str
    unit_w: np.ndarray | None = None
    cap_w: float = 0.0
    site_w: np.ndarray | None = None

    def coefficients(self, p: Problem, pair: np.ndarray, plant: np.ndarray, plant_fac: np.ndarray,
                     plant_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The direction's coefficients on the model's assignments and plant options, scaled so that
        the largest is 1 (the optimum's plan does not change).

        Parameters
        ----------
        p : Problem
            The MILP.
        pair, plant : numpy.ndarray
            Pair and plant option of each assignment.
        plant_fac, plant_n : numpy.ndarray
            Facility and module count of each plant option.

        Returns
        -------
        x_coef, o_coef : numpy.ndarray
            Per assignment and per plant option.
        """
        x = self.unit_w[p.pair_unit[pair]] if self.unit_w is not None else np.zeros(len(pair))
        o = self.cap_w * p.K[plant_fac] * plant_n
        if self.site_w is not None:
            o = o + self.site_w[p.fac_site[plant_fac]]
        scale = max(float(np.abs(x).max(initial=0.0)), float(np.abs(o).max(initial=0.0)), 1e-12)
        return x / scale, o / scale


def solution_cost(p: Problem, s: Solution) -> float:
    """Total annual cost of a plan exactly as it is sized (USD/yr): every unit's stand-alone cost,
    plus for each served pair its connection and variable cost less its unit's stand-alone cost,
    plus each built plant's fixed, module and back-up cost.

    Parameters
    ----------
    p : Problem
        The MILP: costs c (USD/yr), a (USD/yr), F, M (USD/yr), B (USD/yr per kW), v (USD/kWh).
    s : Solution
        Served pairs, built facilities with modules and back-up (kW).

    Returns
    -------
    float
        USD/yr.
    """
    served = np.flatnonzero(s.x)
    u = p.pair_unit[served]
    site_fac = np.full(p.n_sites, -1)
    site_fac[p.fac_site[s.opened]] = np.flatnonzero(s.opened)
    f = site_fac[p.pair_site[served]]
    plants = (p.F + p.M * s.modules + p.B * s.backup_kw)[s.opened].sum()
    return float(p.c.sum() + (p.pair_cost[served] + p.v[f] * p.E[u] - p.c[u]).sum() + plants)


@dataclass
class RoadmapProblem:
    """The roadmap MILP in arrays (optimize/roadmap.py): the single-year Problem's units, pairs and
    facilities, demand per period and the programme data of each design.

    Periods t start in `years` and last `step_years`; `weight` is the present worth of one USD/yr
    through each period (discounted to the first year). Per period and unit: E (kWh/yr), P (kW) and c
    (USD/yr, the best stand-alone option, the bridging supply). Per facility of `prob`: its design
    (index into the per-design arrays), the yearly O&M of a purchase unit `module_om` (USD/yr) and the
    plant's shore works (USD). Per design: lead time (yr, decision to first power), earliest order
    year, learning rate per doubling of modules, modules per purchase unit, the annual capex of its
    first module `module_capex_annual` (USD/yr) and its investment `module_capex_usd` (USD, with
    interest during construction). `max_starts` caps the modules started per period (None: no cap) and
    `budget_usd` the capex committed per period (USD; None: no budget)."""

    prob: Problem
    years: np.ndarray
    step_years: int
    weight: np.ndarray
    E: np.ndarray
    P: np.ndarray
    c: np.ndarray
    design: np.ndarray
    module_om: np.ndarray
    fixed_capex_usd: np.ndarray
    lead_years: np.ndarray
    earliest_year: np.ndarray
    learning_rate: np.ndarray
    modules_per_unit: np.ndarray
    module_capex_annual: np.ndarray
    module_capex_usd: np.ndarray
    max_starts: int | None = None
    budget_usd: float | None = None

    def serves(self) -> np.ndarray:
        """serves[d, tau, t]: a plant of design d decided in period tau is in service in period t (its
        first power, decision year + lead time, is no later than the start of t) and may be decided
        then (tau not before the design's earliest order year); bool, designs x periods x periods."""
        y = self.years.astype(float)
        first = y[None, :, None] + self.lead_years[:, None, None]
        return (first <= y[None, None, :] + TOL) & (y[None, :, None] >= self.earliest_year[:, None, None] - TOL)

    def service_weight(self) -> np.ndarray:
        """Present worth of one USD/yr paid while a plant decided in period tau runs, to the end of the
        last period (designs x periods; USD per USD/yr)."""
        return (self.serves() * self.weight[None, None, :]).sum(axis=2)


def learning_factor(q, rate) -> np.ndarray:
    """Cost of the q-th module of a design relative to its first: (1 - rate) ** log2(q).

    Parameters
    ----------
    q : array_like
        Module number in the design's fleet (1, 2, ...).
    rate : array_like
        Learning rate per doubling (fraction; 0: none, negative: later modules cost more).

    Returns
    -------
    numpy.ndarray
        The multiplier of the first module's capex.
    """
    return (1.0 - np.asarray(rate, float)) ** np.log2(np.asarray(q, float))


def plant_cost(P, E, K, N, CF, F, M, B, v, reserve: float, R=None):
    """Cheapest plant of a facility for a load, vectorised over loads and facilities.

    Units n = the most of ceil(P (1 + reserve) / K), ceil(E / (8760 CF K)) and 1, then one spare
    unit or diesel back-up for the peak not covered while one module (R kW) refuels, whichever costs
    less. Mirrors `smrplan.costs.economics.reactor_plant_cost` in the solver's coefficients.

    Parameters
    ----------
    P, E : array_like
        Peak load (kW) and annual energy (kWh/yr) carried by the plant.
    K, N, CF : array_like
        Purchase-unit size (kW), most units per plant and capacity factor (fraction).
    F, M, B : array_like
        Fixed cost per plant (USD/yr), cost per module (USD/yr) and per kW of diesel back-up (USD/yr).
    v : array_like
        Variable cost (USD/kWh).
    reserve : float
        Reserve margin on the peak (fraction).
    R : array_like, optional
        kW out while one module refuels (default K: units of one module).

    Returns
    -------
    cost : numpy.ndarray
        Annual cost (USD/yr, variable cost included); inf where more than N modules are needed.
    n : numpy.ndarray
        Modules built.
    b : numpy.ndarray
        Diesel back-up (kW).
    """
    P, E = np.asarray(P, float), np.asarray(E, float)
    need = np.maximum(np.maximum(np.ceil(P * (1.0 + reserve) / K - TOL), np.ceil(E / (HOURS * CF * K) - TOL)), 1.0)
    short = np.maximum(P - (need * K - (K if R is None else R)), 0.0)
    spare = need + (short > TOL)
    diesel = (B * short < M * (spare - need)) | (spare > N)
    n = np.where(diesel, need, spare)
    b = np.where(diesel, short, 0.0)
    cost = np.where(need <= N, F + M * n + B * b + v * E, np.inf)
    return cost, n, b


def plants(p: Problem, keep_unprofitable: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The plant options of the MILP: (facility, module count n) for n = 1..N of each facility, less
    those that can never save money.

    For a plant of n modules serving units S, cost minus the units' stand-alone cost
    >= F + M n + sum_S g_a with g_a = a_p + v E_u - c_u and sum_S P_u (1 + r) <= K n; the least such
    sum over fractional S is a fractional knapsack (units by g_a / (P_u (1 + r)), most negative
    first). An option whose bound is not below -1 USD/yr is dropped (unless a reactor share is
    required), and so is n when n - 1 modules carry every candidate unit (reserve, energy) and
    through refuelling without back-up; so is an option another technology always beats (`_dominated`).

    Parameters
    ----------
    p : Problem
        The MILP.
    keep_unprofitable : bool, default False
        Keep the options that can never save money (near-optimal alternatives may build them).

    Returns
    -------
    plant_fac : numpy.ndarray
        Facility of each plant option (index into p's facilities), in facility then module order.
    plant_n : numpy.ndarray
        Its module count (float).
    """
    fac = np.repeat(np.arange(len(p.fac_site)), p.N.astype(int))
    n = (np.arange(len(fac)) - np.repeat(np.cumsum(p.N.astype(int)) - p.N.astype(int), p.N.astype(int)) + 1).astype(float)
    pair, f = expand(p.pair_site, p.fac_site)
    u = p.pair_unit[pair]
    g = p.pair_cost[pair] + p.v[f] * p.E[u] - p.c[u]
    w = p.P[u] * (1.0 + p.reserve)
    total_p = np.bincount(f, p.P[u], len(p.fac_site))
    total_e = np.bincount(f, p.E[u], len(p.fac_site)) / (HOURS * p.CF)
    sel = g < 0
    f, g, w = f[sel], g[sel], w[sel]
    order = np.lexsort((g / np.maximum(w, 1e-12), f))
    f, g, w = f[order], np.r_[g[order], 0.0], np.r_[w[order], 1.0]  # a sentinel item at the end
    cw, cg = np.r_[0.0, np.cumsum(w)], np.r_[0.0, np.cumsum(g)]  # sums of the items before index i
    first = np.searchsorted(f, np.arange(len(p.fac_site)))[fac]
    last = np.searchsorted(f, np.arange(len(p.fac_site)), side="right")[fac]
    cap = cw[first] + p.K[fac] * n  # capacity on the running sum of weights
    k = np.clip(np.searchsorted(cw, cap, side="right") - 1, first, last)  # items first..k-1 fit whole
    part = np.where(k < last, (cap - cw[k]) / w[k] * g[k], 0.0)  # a share of the next item
    bound = p.F[fac] + p.M[fac] * n + cg[k] - cg[first] + part
    spare = ((np.maximum(total_p[fac] * (1.0 + p.reserve), total_e[fac]) <= p.K[fac] * (n - 1))
             & (total_p[fac] <= p.K[fac] * (n - 1) - p.out_kw[fac]))
    keep = ((bound < -1.0) | (p.min_share > 0) | keep_unprofitable) & ~spare  # a reactor share may force a loss-making plant
    keep &= ~_dominated(p, fac)
    return fac[keep], n[keep]


def _dominated(p: Problem, fac: np.ndarray) -> np.ndarray:
    """Plant options (f, n), all n = 1..N_f of every f in order (`fac`), that another technology g at
    the same site always beats (bool per option): same module size and n <= N_g, so g's capacity and
    refuelling rows are f's; F_g + M_g n + max(B_g - B_f, 0) K <= F_f + M_f n and v_g <= v_f, so with
    the same units and back-up g costs no more; and g's energy row binds no sooner (CF_g >= CF_f, or
    no unit paired with the site has a mean load at CF_g above its peak with reserve). Of two options
    that beat each other the one of the lower facility index stays."""
    pair, f = expand(p.pair_site, p.fac_site)
    u = p.pair_unit[pair]
    ratio = np.zeros(p.n_sites)
    np.maximum.at(ratio, p.pair_site[pair], p.E[u] / (HOURS * np.maximum(p.P[u] * (1.0 + p.reserve), 1e-12)))
    fi, gi = expand(p.fac_site, p.fac_site)  # every (f, g) at one site
    fi, gi = fi[fi != gi], gi[fi != gi]
    start = np.cumsum(p.N.astype(int)) - p.N.astype(int)
    out = np.zeros(len(fac), bool)

    def beats(a, b, k):  # does a's option of k modules beat b's?
        energy = (p.CF[a] >= p.CF[b]) | (ratio[p.fac_site[a]] <= p.CF[a])
        return ((p.K[a] == p.K[b]) & (p.out_kw[a] == p.out_kw[b]) & (k <= p.N[a]) & (k <= p.N[b]) & (p.v[a] <= p.v[b]) & energy
                & (p.F[a] + p.M[a] * k + np.maximum(p.B[a] - p.B[b], 0.0) * p.out_kw[a] <= p.F[b] + p.M[b] * k))

    for k in range(1, int(p.N.max(initial=0)) + 1):  # a few module counts
        hit = beats(gi, fi, k) & (~beats(fi, gi, k) | (gi < fi))
        out[start[fi[hit]] + k - 1] = True
    return out


def assignments(p: Problem, plant_fac: np.ndarray, plant_n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MILP's assignments: every (pair, plant option at the pair's site) whose unit alone fits the
    option, and whose network parent's assignment to the same option exists.

    A unit fits when its peak with reserve and its energy at the capacity factor are within n
    modules: x_a = 1 is otherwise infeasible, and leaving it in lets the relaxation fill plants with
    fractions of large units.

    Parameters
    ----------
    p : Problem
        The MILP.
    plant_fac, plant_n : numpy.ndarray
        The plant options (`plants`): facility and module count.

    Returns
    -------
    pair : numpy.ndarray
        Pair of each assignment (index into p's pairs).
    plant : numpy.ndarray
        Its plant option (index into plant_fac).
    parent : numpy.ndarray
        The assignment of its network parent to the same option (-1: joined to the site).
    """
    pair, plant = expand(p.pair_site, p.fac_site[plant_fac])
    u, f = p.pair_unit[pair], plant_fac[plant]
    fits = ((p.P[u] * (1.0 + p.reserve) / p.K[f] - TOL <= plant_n[plant])
            & (p.E[u] / (HOURS * p.CF[f] * p.K[f]) - TOL <= plant_n[plant]))
    key = pair * len(plant_fac) + plant
    order = np.argsort(key)
    up = p.pair_parent[pair]
    pos = np.searchsorted(key[order], np.maximum(up, 0) * len(plant_fac) + plant)
    parent = np.where(up >= 0, order[np.minimum(pos, max(len(order) - 1, 0))], -1)
    keep = reachable(fits, parent)
    return pair[keep], plant[keep], reindex(parent, keep)
