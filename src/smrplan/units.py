"""Unit constants, each defined once here: import them rather than writing the number."""

HOURS_PER_YEAR = 8760
"""Hours in a modelled year, h: 365 days of 24 h. Every year is taken as 365 days (the solar profiles
drop February 29), so annual energy / HOURS_PER_YEAR is mean power and an hourly series has this many
values."""

HOURS_PER_DAY = 24
"""Hours in a day, h."""

KW_PER_MW = 1000.0
"""kW in one MW, and kWh in one MWh."""

KG_PER_TONNE = 1000.0
"""kg in one tonne (t CO2 = kg CO2 / KG_PER_TONNE)."""

CRORE = 1e7
"""One crore, the Indian count of ten million: an amount in INR crore is INR / CRORE (a lakh is 1e5)."""
