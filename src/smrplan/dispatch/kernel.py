"""The dispatch rule of `smrplan.dispatch.simulate`, one system after another, compiled with numba.

Each system's year is a recursion over hours (the battery's state of charge and the reactor's output
carry from one hour to the next), so it is written as a plain loop over hours with scalar state and
compiled to machine code (`smrplan.compiled.compiled`: numba, cached on disk after the first call where
it can be). Systems are independent; nothing is held per hour but the optional hourly series, so memory does not grow with
the systems simulated. The rule and the order of every floating-point operation are those of the module docstring
of `smrplan.dispatch.simulate`; tests compare the result with the rule written out in numpy, hour
after hour.

This module is imported when a dispatch first runs (numba's import costs about 0.3 s).
"""

from __future__ import annotations

import numpy as np

from smrplan.compiled import compiled

PARAMETERS = ("reactor_min", "reactor_ramp", "unit_kw", "inv_unit_kw", "diesel_min", "fuel_intercept", "fuel_slope",
              "battery_kw", "battery_kwh", "soc_min_kwh", "eta", "inv_eta", "soc_initial_kwh")
"""Columns of the per-system constants `dispatch` reads (kW, kWh, fractions, L/kWh; `simulate._Inputs`)."""

TOTALS = ("load_kwh", "reactor_kwh", "pv_kwh", "pv_used_kwh", "diesel_kwh", "diesel_litres", "battery_charge_kwh",
          "battery_discharge_kwh", "curtailment_kwh", "unserved_kwh", "hours_short")
"""Columns of the per-system totals `dispatch` writes (kWh, litres, hours)."""

SERIES = ("reactor", "battery_charge", "battery_discharge", "soc", "diesel", "diesel_fuel_l", "curtailment",
          "unserved")
"""Hourly series `dispatch` writes when asked (kWh per hour; soc kWh; litres per hour)."""


@compiled
def dispatch(load: np.ndarray, profile: np.ndarray, pv_kw: np.ndarray, capacity: np.ndarray, rows: np.ndarray,
             n_units: np.ndarray, par: np.ndarray, tolerance_kw: float, totals: np.ndarray,
             hourly: np.ndarray) -> None:
    """Dispatch the systems at `rows` over all hours; write their totals and, if asked, hourly series.

    Parameters
    ----------
    load, profile : numpy.ndarray
        (S, H) load, kW, and PV output per kWp, kW/kWp, of every system.
    pv_kw : numpy.ndarray
        (S,) PV installed, kWp.
    capacity : numpy.ndarray
        (K, H) reactor capacity online, kW, of the first K systems; systems from K on have no reactor.
    rows : numpy.ndarray
        (R,) int64 positions of the systems to dispatch.
    n_units : numpy.ndarray
        (R,) diesel units installed in each of them (whole numbers).
    par : numpy.ndarray
        (S, len(PARAMETERS)) per-system constants.
    tolerance_kw : float
        Deficits below it commit no diesel; hours with less unserved energy do not count as short, kW.
    totals : numpy.ndarray
        (R, len(TOTALS)) output, overwritten.
    hourly : numpy.ndarray
        (len(SERIES), R, H) output, overwritten; (len(SERIES), 0, H) when no series is kept.
    """
    n_hours = load.shape[1]
    keep = hourly.shape[1] > 0
    for q in range(rows.shape[0]):
        j = rows[q]
        rmin, ramp, unit_kw, inv_unit, dmin, f_int, f_slope = par[j, 0], par[j, 1], par[j, 2], par[j, 3], \
            par[j, 4], par[j, 5], par[j, 6]
        b_kw, b_kwh, soc_min, eta, inv_eta, soc = par[j, 7], par[j, 8], par[j, 9], par[j, 10], par[j, 11], par[j, 12]
        units = n_units[q]
        has_reactor = j < capacity.shape[0]
        reactor = 0.0
        if has_reactor:
            net0 = load[j, 0] - profile[j, 0] * pv_kw[j]
            reactor = min(max(net0, rmin * capacity[j, 0]), capacity[j, 0])
        sums = np.zeros(len(TOTALS))
        for h in range(n_hours):
            pv = profile[j, h] * pv_kw[j]
            balance = load[j, h] - pv
            if has_reactor:  # rule step 2: follow the net load within the minimum and the ramp
                cap = capacity[j, h]
                step = ramp * cap
                low = min(max(rmin * cap, reactor - step), cap)
                high = max(min(cap, reactor + step), low)
                reactor = min(max(balance, low), high)
                balance = balance - reactor
            deficit, surplus = max(balance, 0.0), max(-balance, 0.0)
            # Step 4: the battery discharges down to its minimum state of charge.
            discharge = min(deficit, max(min(b_kw, (soc - soc_min) * eta), 0.0))
            need = deficit - discharge
            # Step 5: the fewest whole units covering the rest, each at least at its minimum load.
            online = min(max(np.ceil((need - tolerance_kw) * inv_unit), 0.0), units) * unit_kw
            served = min(need, online)
            diesel = min(max(need, dmin * online), online)
            forced = diesel - served
            back = min(forced, discharge)  # forced output first reduces the discharge
            discharge = discharge - back
            spare = surplus + forced - back
            # Step 3: what is spare charges the battery; the rest is curtailed.
            charge = min(spare, max(min(b_kw, (b_kwh - soc) * inv_eta), 0.0))
            soc = soc + charge * eta
            soc = soc - discharge * inv_eta
            unserved = need - served
            fuel = f_int * online + f_slope * diesel
            curtailed = spare - charge
            sums[0] += load[j, h]
            sums[1] += reactor
            sums[2] += pv
            sums[3] += pv - min(curtailed, pv)
            sums[4] += diesel
            sums[5] += fuel
            sums[6] += charge
            sums[7] += discharge
            sums[8] += curtailed
            sums[9] += unserved
            sums[10] += unserved > tolerance_kw
            if keep:
                hourly[0, q, h] = reactor
                hourly[1, q, h] = charge
                hourly[2, q, h] = discharge
                hourly[3, q, h] = soc
                hourly[4, q, h] = diesel
                hourly[5, q, h] = fuel
                hourly[6, q, h] = curtailed
                hourly[7, q, h] = unserved
        totals[q, :] = sums
