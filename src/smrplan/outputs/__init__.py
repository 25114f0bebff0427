"""Outputs: the run directory, written atomically."""
