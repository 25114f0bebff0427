"""The solver adapter: the plan MILP as a linopy model, solved by HiGHS.

The only module of the package that imports linopy or highspy. `solve_milp` takes a Problem with its
plant options and assignments (problem.py) and a warm start, and returns the served pairs and HiGHS's
record in USD; it runs three steps: `create_model` (the linopy model), `solve_model` (HiGHS through
linopy's direct interface, the warm start passed as its first incumbent) and `read_solution`.
`solve_alternatives` solves the same model for its least cost or, with the cost kept within a limit,
for near-optimal directions (optimize/alternatives.py). `solve_roadmap_milp` builds and solves the
multi-period roadmap on the same Problem (roadmap.py; docs/methodology.md 4.4) with the same row
builder and HiGHS settings.

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

linopy (with xarray and polars, which it loads) is imported when a model is first built, not with the
package: it adds about 65 MiB and 0.3 s to a start-up that runs without an optimisation do not need.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

import highspy
import numpy as np
import pandas as pd

from smrplan.optimize.problem import Direction, Problem, RoadmapProblem, Solution, learning_factor, solution_cost
from smrplan.units import HOURS_PER_YEAR as HOURS

if TYPE_CHECKING:
    import linopy

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
    with _linopy():
        m, var = create_model(p, plant_fac, plant_n, *assigned)
        start = start_vector(var, warm) if warm is not None else None
        run = solve_model(m, start, mip_gap, time_limit_s, SCALE * float(p.c.sum()))
    return read_solution(m, var, run, len(p.pair_unit), pair)


def solve_alternatives(p: Problem, plant_fac: np.ndarray, plant_n: np.ndarray,
                       assigned: tuple[np.ndarray, np.ndarray, np.ndarray], directions: list[Direction], slack: float,
                       warm: Solution | None, mip_gap: float, time_limit_s: float) -> list[tuple[Solution | None, dict]]:
    """The least-cost plan of the MILP of `create_model`, then for each direction the best value of it
    among the plans costing at most (1 + slack) x the least cost: the cost objective is kept as a
    constraint and the objective swapped for the direction (docs/methodology.md, near-optimal
    alternatives). The model is built once, and HiGHS's copy of it too: each solve changes only the
    objective (and, after the first, the cost row's bound).

    Parameters
    ----------
    p : Problem
        The MILP in arrays.
    plant_fac, plant_n : numpy.ndarray
        Its plant options (problem.plants): facility and module count.
    assigned : tuple of numpy.ndarray
        Its assignments (problem.assignments): pair, plant option, parent assignment.
    directions : list of Direction
        What to minimise or maximise within the slack.
    slack : float
        Cost slack (fraction of the least cost).
    warm : Solution or None
        A plan of `p` given to HiGHS as the least-cost solve's first incumbent.
    mip_gap : float
        Relative gap at which HiGHS stops (fraction of the objective).
    time_limit_s : float
        HiGHS's time limit per solve (s).

    Returns
    -------
    list of (Solution or None, dict)
        The least-cost plan, then one per direction: the plan exactly as solved (served pairs, plant
        options built with their modules and back-up kW; no polish) with its total annual cost (USD/yr)
        as objective_usd, None without a solution; and status, termination, objective (USD/yr for the
        least cost, else the direction's scaled value), dual bound, solver_time_s (s), nodes. The
        directions are not solved when the least-cost plan is not found.
    """
    pair, plant = assigned[0], assigned[1]
    offset = SCALE * float(p.c.sum())
    with _linopy() as linopy:
        m, var = create_model(p, plant_fac, plant_n, *assigned)
        m.add_constraints(m.objective.expression <= 1e15, name="cost_slack")  # bound set once the least cost is known
        with _quiet_stdout():
            h = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct",
                                                options=_highs_options(mip_gap, time_limit_s)).solver_model
    cols = np.asarray(m.matrices.vlabels)
    slack_row = int(np.flatnonzero(np.asarray(m.matrices.clabels) == int(m.constraints["cost_slack"].labels.item()))[0])
    labels = np.concatenate([var["x"].labels.to_numpy(), var["open"].labels.to_numpy()])
    cost = np.asarray(h.getLp().col_cost_, float)
    start = start_vector(var, warm) if warm is not None else None
    least, record = _run(h, p, var, cols, cost, highspy.ObjSense.kMinimize, offset, start, SCALE, plant_fac, plant_n)
    out = [(least, record)]
    if least is None:
        return out
    h.changeRowBounds(slack_row, -highspy.kHighsInf, SCALE * (1.0 + slack) * least.objective_usd - offset)
    start = start_vector(var, least)
    for d in directions:
        by_label = np.zeros(int(cols.max(initial=-1)) + 1)
        by_label[labels] = np.concatenate(d.coefficients(p, pair, plant, plant_fac, plant_n))
        sense = highspy.ObjSense.kMaximize if d.sense == "max" else highspy.ObjSense.kMinimize
        out.append(_run(h, p, var, cols, by_label[cols], sense, 0.0, start, 1.0, plant_fac, plant_n))
    return out


def _run(h, p: Problem, var: dict, cols: np.ndarray, c: np.ndarray, sense, offset: float, start: np.ndarray | None,
         unit: float, plant_fac: np.ndarray, plant_n: np.ndarray) -> tuple[Solution | None, dict]:
    """One solve of HiGHS's model with objective coefficients `c` (by column), sense and offset, from a
    start (by linopy label); its plan (`_built_plan`) and record (objective and bound / `unit`)."""
    idx = np.arange(len(cols), dtype=np.int32)
    h.changeColsCost(len(cols), idx, np.asarray(c, float))
    h.changeObjectiveSense(sense)
    h.changeObjectiveOffset(offset)
    if start is not None:
        h.setSolution(len(cols), idx, start[cols].astype(float))
    t0 = time.perf_counter()
    with _quiet_stdout():
        h.run()
    info, status = h.getInfo(), h.getModelStatus()
    has = info.primal_solution_status == 2  # a feasible solution
    record = {"status": h.modelStatusToString(status),
              "termination": "optimal" if status == highspy.HighsModelStatus.kOptimal else "stopped",
              "objective": float(info.objective_function_value) / unit if has else None,
              "dual_bound": float(info.mip_dual_bound) / unit, "solver_time_s": round(time.perf_counter() - t0, 3),
              "nodes": int(info.mip_node_count)}
    if not has:
        return None, record
    values = np.zeros(int(cols.max(initial=-1)) + 1)
    values[cols] = np.asarray(h.getSolution().col_value, float)
    return _built_plan(p, var, values, plant_fac, plant_n), record


def _highs_options(mip_gap: float, time_limit_s: float) -> dict:
    """HiGHS's settings for every plan MILP: the gap, the time limit (s), quiet, seed 0, one thread."""
    return {"mip_rel_gap": mip_gap, "time_limit": float(time_limit_s), "output_flag": False, "random_seed": 0,
            "threads": 1}


def _built_plan(p: Problem, var: dict, values: np.ndarray, plant_fac: np.ndarray, plant_n: np.ndarray) -> Solution:
    """The plan of a solved model (variable values by linopy label) as a Solution of `p`, sized as
    solved, with its total annual cost."""
    x = values[var["x"].labels.to_numpy()] > 0.5
    o = values[var["open"].labels.to_numpy()] > 0.5
    served = np.zeros(len(p.pair_unit), bool)
    served[var["pair"][x]] = True
    opened, modules, backup = np.zeros(len(p.fac_site), bool), np.zeros(len(p.fac_site)), np.zeros(len(p.fac_site))
    opened[plant_fac[o]], modules[plant_fac[o]] = True, plant_n[o]
    backup[plant_fac[o]] = values[var["backup_kw"].labels.to_numpy()][o]
    sol = Solution(served, opened, modules, backup, 0.0)
    sol.objective_usd = solution_cost(p, sol)
    return sol


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
    import linopy
    import xarray as xr

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
    import linopy
    import xarray as xr

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


def solve_model(m: linopy.Model, start: np.ndarray | None, mip_gap: float, time_limit_s: float, offset: float,
                relaxed: bool = False) -> dict:
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
    relaxed : bool, default False
        Solve the LP relaxation (every binary in [0, 1]); its optimum is then the dual bound.

    Returns
    -------
    dict
        status, termination, has_solution, objective and dual_bound (with the offset, in the model's
        units; NaN / -inf when absent), solver_time_s (s), nodes and warm_start_accepted.
    """
    import linopy

    options = _highs_options(mip_gap, time_limit_s)
    with _quiet_stdout():
        solver = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct", options=options)
        h = solver.solver_model
        h.changeObjectiveOffset(offset)
        accepted = False
        if relaxed:
            n = len(m.matrices.vlabels)
            h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kContinuous))
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
    if relaxed:  # a linear programme solved to optimality bounds itself
        dual = objective if str(m.termination_condition) == "optimal" else -np.inf
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


@dataclass
class RoadmapRun:
    """What HiGHS returned for a roadmap MILP (`solve_roadmap_milp`).

    Attributes
    ----------
    decided : numpy.ndarray
        Plant option decided in period tau (bool, options x periods); all False without a solution.
    served : numpy.ndarray
        Assignment served in period t (bool, assignments x periods).
    backup_kw : numpy.ndarray
        Diesel back-up of each option in each period (kW).
    record : dict
        status, termination, objective_usd and dual_bound_usd (present worth, USD, with the stand-alone
        offset), solver_time_s (s), nodes, variables, binaries, constraints.
    """

    decided: np.ndarray
    served: np.ndarray
    backup_kw: np.ndarray
    record: dict


def solve_roadmap_milp(rp: RoadmapProblem, pf: np.ndarray, pn: np.ndarray,
                       assigned: tuple[np.ndarray, np.ndarray, np.ndarray], mip_gap: float, time_limit_s: float,
                       fixed: np.ndarray | None = None, relaxed: bool = False) -> RoadmapRun:
    """Build the roadmap MILP (docs/methodology.md "Roadmap") with linopy and solve it with HiGHS.

    Variables per period: o (plant option decided then), x (assignment served), b (back-up kW) and
    y_(d, q) (the design's q-th module decided by then). A plant decided in tau serves from the first
    period its first power precedes (`RoadmapProblem.serves`); its module capex falls with the q-th
    module as `learning_factor` says; a unit not served runs its stand-alone option c (the bridging
    supply). The objective is the present worth of every period's annual cost.

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    pf, pn : numpy.ndarray
        Plant options (problem.plants of rp.prob): facility and purchase units.
    assigned : tuple of numpy.ndarray
        Assignments (problem.assignments): pair, plant option, parent assignment.
    mip_gap : float
        Relative gap on the present worth at which HiGHS stops (fraction).
    time_limit_s : float
        HiGHS's time limit (s).
    fixed : numpy.ndarray, optional
        Decisions held (options x periods: 1 decided, 0 not, -1 free); the myopic plan fixes its past.
    relaxed : bool, default False
        Solve the LP relaxation (every binary in [0, 1]): a lower bound on the roadmap's present worth.

    Returns
    -------
    RoadmapRun
    """
    if not rp.serves()[rp.design[pf]].any():  # no plant option can be in service within the periods
        shape_v, shape_a = (len(pf), len(rp.years)), (len(assigned[0]), len(rp.years))
        total = float((rp.weight[:, None] * rp.c).sum())
        return RoadmapRun(np.zeros(shape_v, bool), np.zeros(shape_a, bool), np.zeros(shape_v),
                          {"status": "ok", "termination": "no plant can be in service within the periods",
                           "objective_usd": total, "dual_bound_usd": total, "variables": 0})
    with _linopy():
        m, lab = create_roadmap_model(rp, pf, pn, *assigned, fixed=fixed)
        offset = SCALE * float((rp.weight[:, None] * rp.c).sum())
        run = solve_model(m, None, mip_gap, time_limit_s, offset, relaxed)
    values = {k: np.zeros(v.shape) for k, v in lab.items()}
    if run["has_solution"]:
        sol = np.zeros(int(max(v.max(initial=-1) for v in lab.values())) + 1)
        for k in ("open", "x", "backup_kw", "y"):
            sol[m.variables[k].labels.to_numpy().ravel()] = m.variables[k].solution.to_numpy().ravel()
        for k, v in lab.items():
            values[k] = np.where(v >= 0, sol[np.maximum(v, 0)], 0.0)
    record = {"status": run["status"], "termination": run["termination"], "objective_usd": run["objective"] / SCALE,
              "dual_bound_usd": run["dual_bound"] / SCALE, "solver_time_s": run["solver_time_s"], "nodes": run["nodes"],
              "variables": int(m.nvars), "binaries": int(m.binaries.nvars), "constraints": int(m.ncons)}
    return RoadmapRun(values["open"] > 0.5, values["x"] > 0.5, values["backup_kw"], record)


def _flat_variables(m: linopy.Model, name: str, valid: np.ndarray, **kw) -> np.ndarray:
    """Variables for the True cells of `valid`, their labels in an array of its shape (-1 elsewhere)."""
    var = m.add_variables(coords=[pd.RangeIndex(int(valid.sum()), name=f"{name}_cell")], name=name, **kw)
    labels = np.full(valid.shape, -1, dtype=np.int64)
    labels[valid] = var.labels.to_numpy()
    return labels


def create_roadmap_model(rp: RoadmapProblem, pf: np.ndarray, pn: np.ndarray, pair: np.ndarray, plant: np.ndarray,
                         parent: np.ndarray, fixed: np.ndarray | None = None) -> tuple[linopy.Model, dict]:
    """The linopy model of a roadmap (see `solve_roadmap_milp`).

    Parameters
    ----------
    rp : RoadmapProblem
        The roadmap in arrays.
    pf, pn : numpy.ndarray
        Plant options: facility and purchase units.
    pair, plant, parent : numpy.ndarray
        Assignments: pair, plant option, parent assignment (-1: the site).
    fixed : numpy.ndarray, optional
        Decisions held (options x periods: 1, 0, or -1 free).

    Returns
    -------
    model : linopy.Model
        Objective in kUSD of present worth, without the stand-alone constant.
    labels : dict
        Variable labels by name (open, x, backup_kw: options or assignments x periods; y: modules x
        periods), -1 where a variable does not exist.
    """
    import linopy

    p, m, T = rp.prob, linopy.Model(), len(rp.years)
    d_v = rp.design[pf]
    sv = rp.serves()[d_v]  # (option, tau, t)
    decidable, in_service = sv.any(axis=2), sv.any(axis=1)
    Od = _flat_variables(m, "open", decidable, binary=True)
    X = _flat_variables(m, "x", in_service[plant], binary=True)
    B = _flat_variables(m, "backup_kw", in_service, lower=0)
    yd, yq = _module_rows(rp, pf, pn, decidable)
    Y = _flat_variables(m, "y", np.ones((len(yd), T), bool), binary=True)
    add = _adder(m)
    _operations(rp, pf, pn, pair, plant, parent, Od, X, B, sv, add)
    _programme(rp, pf, pn, yd, yq, Od, Y, add)
    if fixed is not None:
        held = (fixed >= 0) & (Od >= 0)
        add("held", np.flatnonzero(held), Od[held], np.ones(int(held.sum())), "=", fixed[held].astype(float))
    u, fac, w = p.pair_unit[pair], pf[plant], rp.weight
    iv, itau, it = np.nonzero(sv)
    units_cost = (p.F[pf] + rp.module_om[pf] * pn)
    o_coef = np.zeros(Od.shape)
    np.add.at(o_coef, (iv, itau), units_cost[iv] * w[it])
    xa = X >= 0
    x_coef = w[None, :] * (p.pair_cost[pair][:, None] + p.v[fac][:, None] * rp.E[:, u].T - rp.c[:, u].T)
    sw = rp.service_weight()[yd]  # (row, tau)
    y_coef = (rp.module_capex_annual[yd] * learning_factor(yq, rp.learning_rate[yd]))[:, None] \
        * (sw - np.concatenate([sw[:, 1:], np.zeros((len(yd), 1))], axis=1))
    terms = [(Od[Od >= 0], o_coef[Od >= 0]), (X[xa], x_coef[xa]), (B[B >= 0], (w[None, :] * p.B[pf][:, None])[B >= 0]),
             (Y.ravel(), y_coef.ravel())]
    labels, coeffs = np.concatenate([a for a, _ in terms]), np.concatenate([c for _, c in terms])
    obj, _ = _rows(m, np.zeros(len(labels), int), labels, SCALE * coeffs, "objective_row")
    m.add_objective(obj.sum())
    return m, {"open": Od, "x": X, "backup_kw": B, "y": Y}


def _adder(m: linopy.Model):
    """add(name, row, labels, coeffs, sign, rhs): constraints from triplets, terms of absent variables
    (label -1) left out; rhs is a number or one value per distinct row id (in sorted order)."""
    import xarray as xr

    def add(name, row, labels, coeffs, sign, rhs):
        row, labels, coeffs = np.asarray(row), np.asarray(labels), np.asarray(coeffs, float)
        keep = labels >= 0
        if not keep.any():
            return
        expr, ids = _rows(m, row[keep], labels[keep], coeffs[keep], f"{name}_row")
        if not np.isscalar(rhs):
            first = np.unique(row[keep], return_index=True)[1]
            rhs = xr.DataArray(np.asarray(rhs, float)[keep][first], coords={f"{name}_row": np.arange(len(ids))})
        m.add_constraints(expr, sign, rhs, name=name)
    return add


def _module_rows(rp: RoadmapProblem, pf: np.ndarray, pn: np.ndarray, decidable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The learning variables' rows: (design, module number q = 1..Q_d), Q_d the most modules of the
    design the roadmap can start (one plant per site, the cap on starts per period)."""
    d_v = rp.design[pf]
    mods = pn * rp.modules_per_unit[d_v] * decidable.any(axis=1)
    n_d = len(rp.lead_years)
    most = np.zeros((n_d, rp.prob.n_sites))
    np.maximum.at(most, (d_v, rp.prob.fac_site[pf]), mods)
    q_max = most.sum(axis=1).astype(int)
    if rp.max_starts is not None:
        q_max = np.minimum(q_max, rp.max_starts * len(rp.years))
    yd = np.repeat(np.arange(n_d), q_max)
    yq = (np.arange(len(yd)) - np.repeat(np.cumsum(q_max) - q_max, q_max) + 1).astype(float)
    return yd, yq


def _operations(rp, pf, pn, pair, plant, parent, Od, X, B, sv, add) -> None:
    """Service rows per period: one plant per site, each unit once, network links, capacity with
    reserve, refuelling back-up, energy (the single-year rows of `create_model`, with the plant in
    service S_(v,t) = sum of its decisions that serve t)."""
    p, T = rp.prob, len(rp.years)
    V, A, cat = len(pf), len(pair), np.concatenate
    u, t_all = p.pair_unit[pair], np.arange(T)
    K, cap = p.out_kw[pf], p.K[pf] * pn
    add("one_plant", np.repeat(p.fac_site[pf], T), Od.ravel(), np.ones(Od.size), "<=", 1)
    add("served_once", (u[:, None] * T + t_all).ravel(), X.ravel(), np.ones(X.size), "<=", 1)
    iv, itau, it = np.nonzero(sv)
    s_row, s_lab = iv * T + it, Od[iv, itau]  # the terms of S_(v,t), row v * T + t
    a_row = np.arange(A)[:, None] * T + t_all
    at = plant[:, None] * T + t_all  # the (option, period) row of each (assignment, period)
    ra = np.flatnonzero(parent < 0)
    # x_(a,t) <= S_(v,t) for each a joined to the site: S's terms copied into each such row
    order = np.argsort(s_row, kind="stable")
    lo = np.searchsorted(s_row[order], at[ra].ravel(), "left")
    n = np.searchsorted(s_row[order], at[ra].ravel(), "right") - lo
    idx = order[np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)]
    add("link_site", cat([a_row[ra].ravel(), np.repeat(a_row[ra].ravel(), n)]), cat([X[ra].ravel(), s_lab[idx]]),
        cat([np.ones(X[ra].size), -np.ones(len(idx))]), "<=", 0)
    ch = np.flatnonzero(parent >= 0)
    if len(ch):
        add("link_tree", cat([a_row[ch].ravel()] * 2), cat([X[ch].ravel(), X[parent[ch]].ravel()]),
            cat([np.ones(X[ch].size), -np.ones(X[ch].size)]), "<=", 0)
    Pt, Et = rp.P[:, u].T, rp.E[:, u].T  # (assignment, period)
    add("capacity", cat([at.ravel(), s_row]), cat([X.ravel(), s_lab]),
        cat([(Pt * (1.0 + p.reserve)).ravel(), -cap[iv]]), "<=", 0)
    add("refuelling", cat([at.ravel(), s_row, (np.arange(V)[:, None] * T + t_all).ravel()]), cat([X.ravel(), s_lab, B.ravel()]),
        cat([Pt.ravel(), -(cap - K)[iv], -np.ones(B.size)]), "<=", 0)
    add("backup_limit", cat([(np.arange(V)[:, None] * T + t_all).ravel(), s_row]), cat([B.ravel(), s_lab]),
        cat([np.ones(B.size), -K[iv]]), "<=", 0)
    add("energy", cat([at.ravel(), s_row]), cat([X.ravel(), s_lab]),
        cat([(Et / HOURS).ravel(), -(p.CF[pf] * cap)[iv]]), "<=", 0)
    if p.max_sites is not None:
        add("max_sites", np.zeros(Od.size, int), Od.ravel(), np.ones(Od.size), "<=", p.max_sites)


def _programme(rp, pf, pn, yd, yq, Od, Y, add) -> None:
    """Programme rows: the learning variables count each design's modules decided by each period
    (y_(d,q) ordered in q), modules started per period, capex committed per period."""
    T, t_all = len(rp.years), np.arange(len(rp.years))
    d_v = rp.design[pf]
    mods = pn * rp.modules_per_unit[d_v]
    iv, itau = np.nonzero(Od >= 0)
    # sum_q y_(d,q,t) - sum_(tau <= t) modules of d decided in tau = 0, one row per (d, t)
    later = itau[:, None] <= t_all[None, :]
    jv, jt = np.nonzero(later)
    rows = np.concatenate([(yd[:, None] * T + t_all).ravel(), d_v[iv[jv]] * T + jt])
    add("modules_count", rows, np.concatenate([Y.ravel(), Od[iv[jv], itau[jv]]]),
        np.concatenate([np.ones(Y.size), -mods[iv[jv]]]), "=", 0)
    step = np.flatnonzero(np.r_[False, yd[1:] == yd[:-1]])  # y_(d,q) <= y_(d,q-1)
    if len(step):
        rows = (step[:, None] * T + t_all).ravel()
        add("modules_in_order", np.concatenate([rows, rows]), np.concatenate([Y[step].ravel(), Y[step - 1].ravel()]),
            np.concatenate([np.ones(Y[step].size), -np.ones(Y[step].size)]), "<=", 0)
    if rp.max_starts is not None:
        add("starts", itau, Od[iv, itau], mods[iv], "<=", rp.max_starts)
    if rp.budget_usd is not None:
        unit = rp.module_capex_usd[yd] * learning_factor(yq, rp.learning_rate[yd])
        prev = np.concatenate([np.full((len(yd), 1), -1), Y[:, :-1]], axis=1)
        add("budget", np.concatenate([itau, np.tile(t_all, len(yd)), np.tile(t_all, len(yd))]),
            np.concatenate([Od[iv, itau], Y.ravel(), prev.ravel()]),
            np.concatenate([rp.fixed_capex_usd[pf][iv], np.repeat(unit, T), -np.repeat(unit, T)]), "<=", rp.budget_usd)


@contextlib.contextmanager
def _linopy():
    """Context of a model's build and solve: linopy (imported on first use) with its legacy-alignment
    notice silenced, since every operand here shares its coordinates exactly."""
    import linopy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=getattr(linopy, "LinopySemanticsWarning", Warning))
        yield linopy


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
    return {"linopy": metadata.version("linopy"), "highspy": metadata.version("highspy")}
