"""Dispatch: hour-by-hour simulation of planned systems, solar resource, reliability."""
