"""Hourly PV output per kWp: clear-sky profiles from pvlib, or a user's hourly file.

Hours follow the local clock: hour h of a profile is local hour h of the year (January 1, 00:00-01:00
is hour 0), February 29 is dropped so every year has 8760 hours, and each local hour is converted to UTC
with the ``timezone`` argument (the scenario's ``region.timezone``, an IANA name such as Asia/Kolkata)
before the sun's position is computed. Irradiance is evaluated at the middle of each hour and taken as the hour's mean.

Clear-sky model (`pv_profile_kw_per_kwp`), per system:

- sun position: NREL SPA (`pvlib.spa.solar_position`), evaluated for all systems at once;
- clear-sky GHI/DNI/DHI: Ineichen-Perez with the Linke turbidity climatology bundled with pvlib
  (monthly values interpolated linearly between mid-months; works offline) and the site altitude
  (given, or looked up in pvlib's bundled altitude map);
- plane of array: Hay-Davies transposition to a fixed plane (tilt defaults to |latitude|, facing
  ``azimuth``) with ground reflection from ``albedo``;
- PV: PVWatts DC at the reference cell temperature (temperature-independent), times
  (1 - ``system_loss_fraction``) for all other losses (soiling, wiring, mismatch, inverter, ...);
- a monthly derate (12 factors per system, e.g. clearness and monsoon cloud relative to clear sky)
  applied last.

Output is kW AC per kWp DC, i.e. kWh per kWp in each hour.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

from smrplan.errors import InputError
from smrplan.units import HOURS_PER_YEAR

MONTHS = 12
# SPA refraction inputs as in pvlib.solarposition.spa_python: annual mean air temperature (deg C) and
# the atmospheric refraction at sunrise/sunset (degrees).
_SPA_TEMPERATURE_C = 12.0
_SPA_REFRACTION_DEG = 0.5667
# Systems evaluated together; bounds memory (each (chunk, 8760) float array is about 18 MB).
_CHUNK_SYSTEMS = 256
# Plausibility limits of a user file: surface irradiance above 1.5 kW/m2 (10 % above the solar
# constant) and PV output above 1.5 kW/kWp point to wrong units.
MAX_IRRADIANCE_W_M2 = 1500.0
MAX_KW_PER_KWP = 1.5
TMY_IRRADIANCE_COLUMNS = ("ghi", "dni", "dhi")
TMY_PROFILE_COLUMN = "kw_per_kwp"
TMY_TIME_COLUMN = "time"


def local_year_hours_utc(year: int, timezone: str) -> pd.DatetimeIndex:
    """Start of each local hour of ``year`` (8760, February 29 dropped) in ``timezone`` (IANA name), in UTC."""
    local = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")
    local = local[~((local.month == 2) & (local.day == 29))]
    return local.tz_localize(timezone).tz_convert("UTC")


def _vector(value: npt.ArrayLike, n: int, name: str) -> np.ndarray:
    array = np.atleast_1d(np.asarray(value, dtype=float))
    if array.ndim != 1 or array.size not in (1, n):
        raise InputError(None, name, f"expected one value or {n} values, got shape {array.shape}")
    return np.broadcast_to(array, (n,))


def _monthly_factors(monthly_derate: npt.ArrayLike | None, n: int) -> np.ndarray:
    """(S, 12) derate factors; None means no derate."""
    if monthly_derate is None:
        return np.ones((n, MONTHS))
    factors = np.asarray(monthly_derate, dtype=float)
    if factors.shape == (MONTHS,):
        factors = np.broadcast_to(factors, (n, MONTHS))
    if factors.shape != (n, MONTHS):
        raise InputError(
            None, "monthly_derate", f"expected 12 factors or ({n}, 12), got shape {factors.shape}"
        )
    if not np.all((factors >= 0) & (factors <= 1)):
        raise InputError(None, "monthly_derate", "factors must be in [0, 1]")
    return factors


def _linke_turbidity_monthly(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(S, 12) monthly Linke turbidity from pvlib's bundled climatology (one lookup per distinct site)."""
    mid_months = pd.date_range("2001-01-01", periods=MONTHS, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    sites, inverse = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    table = np.array(
        [
            pvlib.clearsky.lookup_linke_turbidity(mid_months, la, lo, interp_turbidity=False).to_numpy()
            for la, lo in sites
        ]
    )
    return table[inverse.ravel()]


def _mid_month_weights(times_utc: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation between mid-month values: (month before, month after, weight of after)."""
    day = times_utc.dayofyear.to_numpy() - 1 + times_utc.hour.to_numpy() / 24
    days_in_month = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    mid = np.cumsum(days_in_month) - days_in_month / 2
    after = np.searchsorted(mid, day) % MONTHS
    before = (after - 1) % MONTHS
    span = (mid[after] - mid[before]) % 365
    weight = ((day - mid[before]) % 365) / span
    return before, after, weight


def _altitudes(lat: np.ndarray, lon: np.ndarray, altitude_m: npt.ArrayLike | None) -> np.ndarray:
    if altitude_m is not None:
        return _vector(altitude_m, lat.size, "altitude_m")
    return np.array([pvlib.location.lookup_altitude(la, lo) for la, lo in zip(lat, lon, strict=True)])


def solar_position(
    times_utc: pd.DatetimeIndex, lat: np.ndarray, lon: np.ndarray, altitude_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sun position for S sites (degrees, altitude m) at H times with NREL SPA, all sites at once.

    Returns (apparent_zenith, azimuth), each (S, H), degrees; azimuth clockwise from north.
    """
    pressure = pvlib.atmosphere.alt2pres(altitude_m)[:, None]
    unixtime = times_utc.as_unit("ns").asi8 / 1e9
    delta_t = pvlib.spa.calculate_deltat(times_utc.year.to_numpy(), times_utc.month.to_numpy())
    # Returns apparent (refracted) and true zenith, apparent and true elevation, azimuth, equation of time.
    apparent_zenith, _, _, _, azimuth, _ = pvlib.spa.solar_position(
        unixtime,
        lat[:, None],
        lon[:, None],
        altitude_m[:, None],
        pressure / 100.0,  # hPa
        _SPA_TEMPERATURE_C,
        delta_t,
        _SPA_REFRACTION_DEG,
        numthreads=1,
    )
    return apparent_zenith, azimuth


def _poa_kw_per_kwp(
    times_utc: pd.DatetimeIndex,
    apparent_zenith: np.ndarray,
    azimuth: np.ndarray,
    ghi: np.ndarray,
    dni: np.ndarray,
    dhi: np.ndarray,
    tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    albedo: float,
    system_loss_fraction: float,
) -> np.ndarray:
    """PV output per kWp, (S, H) kW/kWp, from irradiance (W/m2) and sun position (degrees)."""
    dni_extra = pvlib.irradiance.get_extra_radiation(times_utc).to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        tilt[:, None],
        surface_azimuth[:, None],
        apparent_zenith,
        azimuth,
        dni,
        ghi,
        dhi,
        dni_extra=dni_extra,
        albedo=albedo,
        model="haydavies",
    )["poa_global"]
    poa = np.maximum(np.nan_to_num(np.asarray(poa, dtype=float), nan=0.0), 0.0)
    # PVWatts DC for 1 kWp at the reference cell temperature: no temperature effect.
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa, temp_cell=25.0, pdc0=1.0, gamma_pdc=0.0, temp_ref=25.0)
    return dc_kw * (1.0 - system_loss_fraction)


def _check_loss(system_loss_fraction: float) -> None:
    if not 0 <= system_loss_fraction < 1:
        raise InputError(None, "system_loss_fraction", "must be in [0, 1)")


def pv_profile_kw_per_kwp(
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    year: int,
    monthly_derate: npt.ArrayLike | None = None,
    tilt: npt.ArrayLike | None = None,
    azimuth: npt.ArrayLike = 180.0,
    *,
    system_loss_fraction: float,
    timezone: str,
    altitude_m: npt.ArrayLike | None = None,
    albedo: float = 0.25,
) -> np.ndarray:
    """Clear-sky hourly PV output per kWp for S sites, (S, 8760) kW/kWp (model in the module docstring).

    lat, lon: site latitude and longitude, degrees (one value or S values).
    year: calendar year of the local hours.
    monthly_derate: factors in [0, 1] per calendar month, (12,) for all sites or (S, 12); None = none.
    tilt: panel tilt from horizontal, degrees; None = |latitude| per site.
    azimuth: panel azimuth, degrees clockwise from north (180 = facing south).
    system_loss_fraction: all PV losses besides irradiance (PVWatts style), fraction in [0, 1).
    timezone: IANA zone of the local clock (the scenario's region.timezone).
    altitude_m: site altitude, m above sea level; None = pvlib's bundled altitude map.
    albedo: ground reflectance, fraction (pvlib's default 0.25).
    """
    _check_loss(system_loss_fraction)
    n = max(np.size(lat), np.size(lon))
    lat_arr, lon_arr = _vector(lat, n, "lat"), _vector(lon, n, "lon")
    if np.any(np.abs(lat_arr) > 90) or np.any(np.abs(lon_arr) > 180):
        raise InputError(None, "lat/lon", "latitude must be within +-90 and longitude within +-180 degrees")
    tilt_arr = np.abs(lat_arr) if tilt is None else _vector(tilt, n, "tilt")
    azimuth_arr = _vector(azimuth, n, "azimuth")
    derate = _monthly_factors(monthly_derate, n)
    altitude = _altitudes(lat_arr, lon_arr, altitude_m)

    hours_utc = local_year_hours_utc(year, timezone)
    mid_hours = hours_utc + pd.Timedelta(minutes=30)
    local_month = hours_utc.tz_convert(timezone).month.to_numpy() - 1
    before, after, weight = _mid_month_weights(mid_hours)
    linke = _linke_turbidity_monthly(lat_arr, lon_arr)

    profile = np.empty((n, HOURS_PER_YEAR))
    for first in range(0, n, _CHUNK_SYSTEMS):
        s = slice(first, min(first + _CHUNK_SYSTEMS, n))
        apparent_zenith, sun_azimuth = solar_position(mid_hours, lat_arr[s], lon_arr[s], altitude[s])
        turbidity = linke[s][:, before] * (1 - weight) + linke[s][:, after] * weight
        airmass = pvlib.atmosphere.get_absolute_airmass(
            pvlib.atmosphere.get_relative_airmass(apparent_zenith),
            pvlib.atmosphere.alt2pres(altitude[s])[:, None],
        )
        dni_extra = pvlib.irradiance.get_extra_radiation(mid_hours).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):  # night: cos(zenith) = 0, set to 0 below
            sky = pvlib.clearsky.ineichen(
                apparent_zenith, airmass, turbidity, altitude[s][:, None], dni_extra
            )
        ghi, dni, dhi = (np.nan_to_num(np.asarray(sky[k], dtype=float)) for k in ("ghi", "dni", "dhi"))
        kw = _poa_kw_per_kwp(
            mid_hours,
            apparent_zenith,
            sun_azimuth,
            ghi,
            dni,
            dhi,
            tilt_arr[s],
            azimuth_arr[s],
            albedo,
            system_loss_fraction,
        )
        profile[s] = kw * derate[s][:, local_month]
    return profile


# ---------------------------------------------------------------------------------------------------
# User files


def _numeric_column(frame: pd.DataFrame, column: str, path: Path, upper: float, unit: str) -> np.ndarray:
    """Values of ``column`` as floats in [0, upper]; the error names the file line of the first bad one."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > upper)
    if np.any(bad):
        row = int(np.argmax(bad))
        line = frame.index[row] + 2  # header is line 1
        raise InputError(
            path,
            column,
            f"line {line}: {frame[column].iloc[row]!r} is not a number from 0 to {upper:g} {unit}",
        )
    return values


def _local_times(frame: pd.DataFrame, path: Path, timezone: str) -> pd.DatetimeIndex:
    """The time column as local date-times in ``timezone`` (naive values are local already)."""
    try:
        times = pd.DatetimeIndex(pd.to_datetime(frame[TMY_TIME_COLUMN]))
    except (ValueError, TypeError) as exc:
        raise InputError(path, TMY_TIME_COLUMN, f"cannot read as date-times ({exc})") from exc
    return times.tz_localize(timezone) if times.tz is None else times.tz_convert(timezone)


def _is_february_29(times: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray((times.month == 2) & (times.day == 29))


def read_tmy_csv(
    path: str | Path, *, timezone: str, year: int | None = None
) -> pd.DataFrame:
    """Read a user's hourly solar file.

    The CSV has one row per local hour of one year (8760 rows, or 8784 with February 29, which is
    dropped) and either the columns ``ghi``, ``dni``, ``dhi`` (W/m2, hour means) or ``kw_per_kwp``
    (PV output, kW per kWp, used as is). Column names are matched ignoring case and surrounding spaces.
    An optional ``time`` column gives the start of each hour: local time in ``timezone`` when it has no
    UTC offset; without it the rows are the hours of ``year`` in order, and ``year`` is required.
    Returns a DataFrame indexed by the UTC start of each hour (``time_utc``), sorted, with those columns.
    Raises InputError naming the file and the column for anything missing or implausible.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    try:
        frame = pd.read_csv(path, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(path, None, f"cannot read as CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if TMY_PROFILE_COLUMN in frame.columns:
        columns: tuple[str, ...] = (TMY_PROFILE_COLUMN,)
        upper, unit = MAX_KW_PER_KWP, "kW/kWp"
    else:
        missing = [c for c in TMY_IRRADIANCE_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(
                path,
                ", ".join(missing),
                f"missing; the file needs either {TMY_PROFILE_COLUMN} (kW/kWp) or all of "
                f"{', '.join(TMY_IRRADIANCE_COLUMNS)} (W/m2); found columns {list(frame.columns)}",
            )
        columns = TMY_IRRADIANCE_COLUMNS
        upper, unit = MAX_IRRADIANCE_W_M2, "W/m2"

    if TMY_TIME_COLUMN in frame.columns:
        local = _local_times(frame, path, timezone)
        keep = ~_is_february_29(local)
        frame, local = frame[keep], local[keep]
        if len(frame) == 0:
            raise InputError(path, TMY_TIME_COLUMN, "no rows")
        times = local_year_hours_utc(local[0].year, timezone)
        if not local.tz_convert("UTC").sort_values().equals(times):
            raise InputError(
                path,
                TMY_TIME_COLUMN,
                f"expected each of the {HOURS_PER_YEAR} local hours of {local[0].year} once "
                "(February 29 may be present and is dropped)",
            )
        times = local.tz_convert("UTC")
    else:
        if year is None:
            raise InputError(path, TMY_TIME_COLUMN, "no time column: add one or pass year=")
        if len(frame) == HOURS_PER_YEAR + 24:
            frame = frame.drop(index=frame.index[(31 + 28) * 24 : (31 + 29) * 24])
        if len(frame) != HOURS_PER_YEAR:
            raise InputError(
                path, None, f"expected {HOURS_PER_YEAR} hourly rows (8784 with February 29), got {len(frame)}"
            )
        times = local_year_hours_utc(year, timezone)
    data = {c: _numeric_column(frame, c, path, upper, unit) for c in columns}
    return pd.DataFrame(data, index=pd.DatetimeIndex(times, name="time_utc")).sort_index()


def pv_profile_from_tmy(
    tmy: pd.DataFrame,
    lat: float,
    lon: float,
    *,
    system_loss_fraction: float,
    tilt: float | None = None,
    azimuth: float = 180.0,
    timezone: str,
    altitude_m: float | None = None,
    albedo: float = 0.25,
) -> np.ndarray:
    """Hourly PV output per kWp, (8760,) kW/kWp, from a frame of `read_tmy_csv`, in local-hour order.

    A ``kw_per_kwp`` column is returned as is. Otherwise GHI/DNI/DHI are transposed to the fixed plane and
    converted with the same PV model as `pv_profile_kw_per_kwp` (no monthly derate: measured data already
    holds the clouds). Arguments as in `pv_profile_kw_per_kwp`; ``timezone`` fixes the local-hour order.
    """
    if TMY_PROFILE_COLUMN in tmy.columns:
        return tmy[TMY_PROFILE_COLUMN].to_numpy(dtype=float)
    _check_loss(system_loss_fraction)
    lat_arr, lon_arr = np.array([lat], dtype=float), np.array([lon], dtype=float)
    altitude = _altitudes(lat_arr, lon_arr, altitude_m)
    hours_utc = local_year_hours_utc(tmy.index[0].tz_convert(timezone).year, timezone)
    tmy = tmy.reindex(hours_utc)
    mid_hours = hours_utc + pd.Timedelta(minutes=30)
    apparent_zenith, sun_azimuth = solar_position(mid_hours, lat_arr, lon_arr, altitude)
    ghi, dni, dhi = (tmy[c].to_numpy(dtype=float)[None, :] for c in TMY_IRRADIANCE_COLUMNS)
    kw = _poa_kw_per_kwp(
        mid_hours,
        apparent_zenith,
        sun_azimuth,
        ghi,
        dni,
        dhi,
        np.array([abs(lat) if tilt is None else tilt]),
        np.array([azimuth], dtype=float),
        albedo,
        system_loss_fraction,
    )
    return kw[0]
