"""Optimisation: the least-cost plan as a facility-location MILP (linopy + HiGHS)."""
