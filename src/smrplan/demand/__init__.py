"""Demand: electricity per settlement and year, peak and hourly shape; census population."""
