"""Benchmark: 20 near-optimal alternatives of the bundled india-islands scenario on 2 dask workers
against one plan's solve (target: under 10 times the plan's optimisation stage).

In one process: the inputs, siting, cost-basis and cost stages run once; then the plan's optimisation
stage (pipeline.optimise_plan: the MILP, its warm start and polish) is timed, and the alternatives
stage (pipeline.near_optimal_plans: the least-cost solve of the unpruned model, then 8 extremes and
12 random directions, one model per worker) on a LocalCluster of 2 single-threaded workers started
beforehand (its start-up, workers importing smrplan, is not counted). Also reported: the same 20
alternatives in this process (no cluster), and the cluster's start-up time. On a machine whose two
cores are busy with other work the cluster gains nothing over one process; both figures are printed.

Run: python benchmarks/bench_alternatives.py [random_directions]
"""

from __future__ import annotations

import importlib
import sys
import time

from common import figure, timed

TARGET_RATIO = 10.0
RANDOM = 12
WORKERS = 2


def main(random_directions: int = RANDOM) -> int:
    from smrplan import pipeline
    from smrplan.api import load_scenario
    from smrplan.scenario import with_alternatives
    from smrplan.uncertainty.sweep import open_client

    sc = with_alternatives(load_scenario("india-islands"), random_directions=random_directions)
    inputs = pipeline.prepare_inputs(sc)
    screened = pipeline.screen_sites(inputs)
    basis = pipeline.cost_basis_of(inputs, screened)
    costs = pipeline.cost_options(inputs, basis)
    plan_s, plan = timed(lambda: pipeline.optimise_plan(inputs, screened, basis, costs))
    serial_s, serial = timed(lambda: pipeline.near_optimal_plans(inputs, screened, basis, costs))
    t0 = time.perf_counter()
    with open_client(WORKERS) as client:
        client.run(importlib.import_module, "smrplan.optimize.alternatives")  # workers ready: start-up ends here
        start_s = time.perf_counter() - t0
        par_s, par = timed(lambda: pipeline.near_optimal_plans(inputs, screened, basis, costs, client=client))
    n = len(par.table) - 1
    ratio = par_s / plan_s
    figure(f"{n} alternatives on {WORKERS} workers / one plan's optimisation", ratio, TARGET_RATIO, unit="x")
    same = (serial.table["total_annual_cost_usd"].round(2) == par.table["total_annual_cost_usd"].round(2)).all()
    print(f"one plan's optimisation stage: {plan_s:.2f} s (solver record {plan.result.solver.get('time_s')} s)")
    print(f"{n} alternatives + least cost: {par_s:.2f} s on {WORKERS} workers (cluster start {start_s:.1f} s, not "
          f"counted), {serial_s:.2f} s in this process; ratio {ratio:.1f} x one plan (target < {TARGET_RATIO:.0f} x)")
    print(f"same plans on the cluster as in this process: {bool(same)}; "
          f"{par.record['must_have_sites']} must-have, {par.record['optional_sites']} optional sites")
    ok = ratio < TARGET_RATIO and n >= 20 and bool(same)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else RANDOM))
