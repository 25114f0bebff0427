"""Costs: one discounted-cash-flow method (economics) and the option-cost engine."""
