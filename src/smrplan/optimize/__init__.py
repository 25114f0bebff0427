"""Optimisation: the least-cost plan as a facility-location MILP (linopy + HiGHS).

solve.py (entry point `solve_plan`) runs the steps: facilities.py (candidate facilities and their
costs), instance.py with network.py, cluster.py and pairs.py (units, pairs in network trees, pruning),
problem.py (the MILP in arrays, plant options, assignments), heuristics.py (greedy warm start, plan
pricing), milp.py (the solver adapter, the only module that uses linopy and HiGHS), regional_search.py
(search after HiGHS), breakeven.py (why not a reactor); assemble.py turns the plan into results.
"""
