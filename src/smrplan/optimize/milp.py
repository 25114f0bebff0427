"""The solver adapter: the plan MILP as a linopy model, solved by HiGHS.

The only module of the package that imports linopy or highspy. `solve_milp` takes a Problem with its
plant options and assignments (problem.py) and a warm start, and returns the served pairs and HiGHS's
record in USD; it runs three steps: `create_model` (the linopy model), `solve_model` (HiGHS through
linopy's direct interface, the warm start passed as its first incumbent) and `read_solution`.

Variables: x_a in {0,1} for assignments a = (u, v) of a unit to a plant option at one of its sites,
o_v in {0,1} (plant option built), b_v >= 0 (diesel back-up for refuelling, kW).

    min  sum_u c_u + sum_a (a_p + v_t E_u - c_u) x_a + sum_v ((F_t + M_t n) o_v + B_f b_v)
    s.t. sum_v x_(u,v) <= 1                                    each unit served at most once
         x_a <= o_v                        a joined to the site   (disaggregated linking, one per a)
         x_a <= x_parent(a)                a joined to a unit     (its network path must be served too)
         sum_(a at v) P_u (1 + r) x_a <= n K_t o_v                 capacity with reserve margin r
         sum_(a at v) P_u x_a <= (n - 1) K_t o_v + b_v             one module refuelling
         sum_(a at v) E_u / 8760 x_a <= CF_t n K_t o_v             energy at the capacity factor
         b_v <= K_t o_v;  sum_(v at s) o_v <= 1                    one plant per site
         [sum_v o_v <= max_sites]   [sum_a E_u x_a >= min_reactor_share sum_u E_u]

K_t is the module size (kW), CF_t the capacity factor, v_t variable O&M + fuel (USD/kWh), F_t the
plant's fixed annual cost (floating shore works), M_t the annual cost of a module (capex with interest
during construction, replacement, salvage and decommissioning over the horizon, plus fixed O&M) and
B_f the annual cost of a kW of diesel back-up (capex, fixed O&M, fuel through the refuelling outage at
the scenario load factor, island logistics when the site's nearest unit is an island, and the carbon
price on its CO2). These are the coefficients of economics.reactor_plant_cost, so a plant serving one
unit costs what the cost engine says. One option per module count (rather than an integer module
count per facility) is the tighter formulation: a fractional plant cannot serve whole units with a
fraction of a module, which closed most of the LP gap on the benchmark regions. b_v <= K_t o_v is
valid (with the reserve, the shortfall while a module refuels never exceeds one module); an energy
row is written only where some unit's mean load at the capacity factor exceeds its peak with reserve
(otherwise the capacity row implies it). The solver works in kUSD/yr; the stand-alone constant is the
objective's offset, so HiGHS's relative gap is the gap on the plan's total annual cost.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass
from importlib import metadata

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from smrplan.optimize.problem import Problem, Solution
from smrplan.units import HOURS_PER_YEAR as HOURS

SCALE = 1e-3  # solver objective in kUSD/yr


@dataclass
class MilpRun:
    """What HiGHS returned for a plan MILP, in USD.

    Attributes
    ----------
    served : numpy.ndarray or None
        Served pairs of the Problem (bool per pair); None when HiGHS has no solution.
    status, termination : str
        linopy's status and termination condition.
    objective_usd : float
        HiGHS's objective (USD/yr, stand-alone offset included); NaN without a solution.
    dual_bound_usd : float
        HiGHS's MIP dual bound (USD/yr, offset included); -inf when the status is neither ok nor warning.
    solver_time_s : float
        HiGHS's run time (s).
    nodes : int
        Branch-and-bound nodes.
    warm_start_accepted : bool
        Whether HiGHS took the warm start as its first incumbent.
    variables, binaries, constraints : int
        Size of the model.
    """

    served: np.ndarray | None
    status: str
    termination: str
    objective_usd: float
    dual_bound_usd: float
    solver_time_s: float
    nodes: int
    warm_start_accepted: bool
    variables: int
    binaries: int
    constraints: int


def solve_milp(p: Problem, plant_fac: np.ndarray, plant_n: np.ndarray,
               assigned: tuple[np.ndarray, np.ndarray, np.ndarray], warm: Solution | None, mip_gap: float,
               time_limit_s: float) -> MilpRun:
    """Build the MILP of `p`, solve it with HiGHS from a warm start and read the plan back.

    Parameters
    ----------
    p : Problem
        The MILP in arrays.
    plant_fac, plant_n : numpy.ndarray
        Its plant options (problem.plants): facility and module count.
    assigned : tuple of numpy.ndarray
        Its assignments (problem.assignments): pair, plant option, parent assignment.
    warm : Solution or None
        A plan of `p` passed to HiGHS as its first incumbent; not passed when one of its plants is not
        among the plant options.
    mip_gap : float
        Relative gap on the total annual cost at which HiGHS stops (fraction).
    time_limit_s : float
        HiGHS's time limit (s).

    Returns
    -------
    MilpRun
    """
    pair = assigned[0]
    with warnings.catch_warnings():
        # linopy's legacy-alignment notice: every operand here shares its coordinates exactly.
        warnings.simplefilter("ignore", category=getattr(linopy, "LinopySemanticsWarning", Warning))
        m, var = create_model(p, plant_fac, plant_n, *assigned)
        start = start_vector(var, warm) if warm is not None else None
        run = solve_model(m, start, mip_gap, time_limit_s, SCALE * float(p.c.sum()))
    return read_solution(m, var, run, len(p.pair_unit), pair)


def create_model(p: Problem, pf: np.ndarray, pn: np.ndarray, pair: np.ndarray, plant: np.ndarray,
                 parent: np.ndarray) -> tuple[linopy.Model, dict]:
    """The linopy model of `p` (formulation in the module docstring).

    Parameters
    ----------
    p : Problem
        The MILP in arrays.
    pf, pn : numpy.ndarray
        Plant options (problem.plants): facility and module count.
    pair, plant, parent : numpy.ndarray
        Assignments (problem.assignments): pair, plant option, parent assignment (-1: the site).

    Returns
    -------
    model : linopy.Model
        Objective in kUSD/yr, without the stand-alone constant.
    var : dict
        The variables x, open, backup_kw and the arrays pair, plant, plant_fac, plant_n that index them.
    """
    m = linopy.Model()
    aidx = pd.RangeIndex(len(pair), name="assignment")
    vidx = pd.RangeIndex(len(pf), name="plant")
    K, cap = p.out_kw[pf], p.K[pf] * pn  # K here: kW out while one module refuels
    x = m.add_variables(binary=True, coords=[aidx], name="x")
    o = m.add_variables(binary=True, coords=[vidx], name="open")
    b = m.add_variables(lower=0, upper=xr.DataArray(K, coords=[vidx]), coords=[vidx], name="backup_kw")
    X, Op, B = (v.labels.to_numpy() for v in (x, o, b))
    u = p.pair_unit[pair]
    nv, ones, cat = len(pf), np.ones(len(pair)), np.concatenate
    v_all = np.arange(nv)

    def add(name, row, labels, coeffs, sign, rhs):
        expr, _ = _rows(m, np.asarray(row), np.asarray(labels), np.asarray(coeffs, float), f"{name}_row")
        m.add_constraints(expr, sign, rhs, name=name)

    add("served_once", u, X, ones, "<=", 1)
    root, child = np.flatnonzero(parent < 0), np.flatnonzero(parent >= 0)
    add("link_site", cat([root, root]), cat([X[root], Op[plant[root]]]), cat([ones[root], -ones[root]]), "<=", 0)
    if len(child):
        add("link_tree", cat([child, child]), cat([X[child], X[parent[child]]]), cat([ones[child], -ones[child]]), "<=", 0)
    add("capacity", cat([plant, v_all]), cat([X, Op]), cat([p.P[u] * (1.0 + p.reserve), -cap]), "<=", 0)
    add("refuelling", cat([plant, v_all, v_all]), cat([X, Op, B]), cat([p.P[u], -(cap - K), -np.ones(nv)]), "<=", 0)
    m.add_constraints(b - o * xr.DataArray(K, coords=[vidx]) <= 0, name="backup_limit")
    # A plant's energy row is implied by its capacity row when every unit's mean load at the capacity
    # factor is within its peak with reserve (the usual case); only the others are written.
    cf = p.CF[pf]
    ev = np.unique(plant[p.E[u] / (HOURS * cf[plant]) > p.P[u] * (1.0 + p.reserve)])
    if len(ev):
        sel = np.isin(plant, ev)
        add("energy", cat([plant[sel], ev]), cat([X[sel], Op[ev]]), cat([p.E[u[sel]] / HOURS, -(cf * cap)[ev]]), "<=", 0)
    add("one_plant", p.fac_site[pf], Op, np.ones(nv), "<=", 1)
    if p.max_sites is not None:
        m.add_constraints(o.sum() <= p.max_sites, name="max_sites")
    if p.min_share > 0:
        m.add_constraints((x * xr.DataArray(p.E[u] / HOURS, coords=[aidx])).sum() >= p.min_share * p.E.sum() / HOURS,
                          name="min_share")
    fac = pf[plant]
    obj, _ = _rows(m, np.zeros(len(pair) + 2 * nv, int), cat([X, Op, B]),
                   SCALE * cat([p.pair_cost[pair] + p.v[fac] * p.E[u] - p.c[u], p.F[pf] + p.M[pf] * pn, p.B[pf]]),
                   "objective_row")
    m.add_objective(obj.sum())
    return m, {"x": x, "open": o, "backup_kw": b, "pair": pair, "plant": plant, "plant_fac": pf, "plant_n": pn}


def _rows(m: linopy.Model, row: np.ndarray, labels: np.ndarray, coeffs: np.ndarray, dim: str):
    """Linear expressions sum_j coeffs_j var_j per row from (row, variable label, coefficient)
    triplets, one row per distinct row id, as a (dim, _term) block. Returns (expression, row ids)."""
    ids, row = np.unique(row, return_inverse=True)
    order = np.argsort(row, kind="stable")
    row, labels, coeffs = row[order], labels[order], coeffs[order]
    counts = np.bincount(row, minlength=len(ids))
    pos = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    var = np.full((len(ids), max(int(counts.max()), 1)), -1, dtype=np.int64)
    coef = np.zeros(var.shape)
    var[row, pos], coef[row, pos] = labels, coeffs
    ds = xr.Dataset({"coeffs": ((dim, "_term"), coef), "vars": ((dim, "_term"), var)},
                    coords={dim: np.arange(len(ids))})
    return linopy.LinearExpression(ds, m), ids


def start_vector(var: dict, s: Solution) -> np.ndarray | None:
    """Values of every variable (by linopy label) for a plan, the warm start.

    Parameters
    ----------
    var : dict
        The model's variables and index arrays (`create_model`).
    s : Solution
        A plan of the model's Problem.

    Returns
    -------
    numpy.ndarray or None
        One value per variable label (binaries 0/1, back-up in kW); None when one of the plan's plants
        is not among the model's plant options.
    """
    pf, pn = var["plant_fac"], var["plant_n"]
    chosen = s.opened[pf] & (s.modules[pf] == pn)
    if chosen.sum() != s.opened.sum():
        return None
    start = np.zeros(max(int(var[k].labels.max(initial=-1)) for k in ("x", "open", "backup_kw")) + 1)
    for name, value in (("x", s.x[var["pair"]] & chosen[var["plant"]]), ("open", chosen),
                        ("backup_kw", np.where(chosen, s.backup_kw[pf], 0.0))):
        start[var[name].labels.to_numpy()] = value
    return start


def solve_model(m: linopy.Model, start: np.ndarray | None, mip_gap: float, time_limit_s: float, offset: float) -> dict:
    """Solve with HiGHS through linopy's direct interface (single thread, seed 0, quiet).

    Parameters
    ----------
    m : linopy.Model
        The model (`create_model`); its solution is assigned to it.
    start : numpy.ndarray or None
        First incumbent, by variable label (`start_vector`).
    mip_gap : float
        Relative gap at which HiGHS stops (fraction of the objective with its offset).
    time_limit_s : float
        Time limit (s).
    offset : float
        The objective's constant (everyone stand-alone, in the model's units: kUSD/yr), so that the gap
        is relative to the total annual cost.

    Returns
    -------
    dict
        status, termination, has_solution, objective and dual_bound (with the offset, in the model's
        units; NaN / -inf when absent), solver_time_s (s), nodes and warm_start_accepted.
    """
    options = {"mip_rel_gap": mip_gap, "time_limit": float(time_limit_s), "output_flag": False,
               "random_seed": 0, "threads": 1}
    with _quiet_stdout():
        solver = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct", options=options)
        h = solver.solver_model
        h.changeObjectiveOffset(offset)
        accepted = False
        if start is not None:
            cols = m.matrices.vlabels
            accepted = h.setSolution(len(cols), np.arange(len(cols), dtype=np.int32),
                                     start[cols].astype(float)) == highspy.HighsStatus.kOk
        result = solver.solve()
        m.assign_result(result, solver=solver)
    info = h.getInfo()
    has = m.variables["x"].solution is not None and np.isfinite(m.variables["x"].solution.to_numpy()).all()
    dual = float(info.mip_dual_bound) if m.status in ("ok", "warning") else -np.inf
    objective = np.nan
    if has:
        assert m.objective.value is not None, "a model with a solution has an objective value"
        objective = float(m.objective.value)
    return {"status": str(m.status), "termination": str(m.termination_condition), "has_solution": bool(has),
            "objective": objective, "dual_bound": dual,
            "solver_time_s": round(float(h.getRunTime()), 3), "nodes": int(info.mip_node_count),
            "warm_start_accepted": bool(accepted)}


def read_solution(m: linopy.Model, var: dict, run: dict, n_pairs: int, pair: np.ndarray) -> MilpRun:
    """The served pairs and HiGHS's record of a solved model, in USD.

    Parameters
    ----------
    m : linopy.Model
        The solved model.
    var : dict
        Its variables (`create_model`).
    run : dict
        The record of `solve_model` (model units, kUSD/yr).
    n_pairs : int
        Pairs of the Problem.
    pair : numpy.ndarray
        Pair of each assignment.

    Returns
    -------
    MilpRun
    """
    served = None
    if run["has_solution"]:
        served = np.zeros(n_pairs, bool)
        served[pair[var["x"].solution.to_numpy() > 0.5]] = True
    return MilpRun(served, run["status"], run["termination"], run["objective"] / SCALE, run["dual_bound"] / SCALE,
                   run["solver_time_s"], run["nodes"], run["warm_start_accepted"], int(m.nvars), int(m.binaries.nvars),
                   int(m.ncons))


@contextlib.contextmanager
def _quiet_stdout():
    """Silence the solver's banner, which HiGHS prints from C on file descriptor 1."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured stdout without a descriptor
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def solver_versions() -> dict[str, str]:
    """Versions of the modelling layer and the solver (for plan.json `versions`)."""
    return {"linopy": linopy.__version__, "highspy": metadata.version("highspy")}
