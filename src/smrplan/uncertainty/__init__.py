"""Uncertainty: Monte Carlo sweep on dask.distributed and the one-at-a-time tornado."""
