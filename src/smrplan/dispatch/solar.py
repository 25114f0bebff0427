"""Hourly PV output per kWp: clear-sky profiles from pvlib, or a user's hourly solar year (TMY).

Hours follow the local clock: hour h of a profile is local hour h of the year (January 1, 00:00-01:00
is hour 0), February 29 is dropped so every year has 8760 hours, and each local hour is converted to UTC
with the ``timezone`` argument (the scenario's ``region.timezone``, an IANA name such as Asia/Kolkata)
before the sun's position is computed. Irradiance is evaluated at the middle of each hour and taken as the hour's mean.

Clear-sky model (`pv_profile_kw_per_kwp`), per system:

- sun position: NREL SPA (the steps of `pvlib.spa.solar_position`), its terms of time alone evaluated
  once and the rest (pvlib's own step functions, compiled into one loop: `sun_kernel`) for every system
  in the hours the sun may be up (geocentric elevation above -2 degrees; every other hour is dark and
  gives 0);
- clear-sky GHI/DNI/DHI: Ineichen-Perez with the Linke turbidity climatology bundled with pvlib
  (monthly values interpolated linearly between mid-months; works offline) and the site altitude
  (given, or looked up in pvlib's bundled altitude map); each of the two bundled maps is read once per
  call, for every system at once, at the cells pvlib's own lookups pick;
- plane of array: Hay-Davies transposition to a fixed plane (tilt defaults to |latitude|, facing
  ``azimuth``) with ground reflection from ``albedo``;
- PV: PVWatts DC at the reference cell temperature (temperature-independent), times
  (1 - ``system_loss_fraction``) for all other losses (soiling, wiring, mismatch, inverter, ...);
- a monthly derate (12 factors per system, e.g. clearness and monsoon cloud relative to clear sky)
  applied last.

The terms that depend on time alone (the sun's, extraterrestrial irradiance, the turbidity's mid-month
weights, local months) are computed once per call. For many systems (``lattice_step_deg``) the model runs at the
nodes of a regular latitude/longitude lattice instead, each node with its own altitude, turbidity and
tilt, and each system's profile is interpolated bilinearly from the four nodes around it
(`lattice_weights`); the error this makes is measured in scenarios/defaults.yaml
(``dispatch.pv_lattice_step_deg``).

A user's solar year (`read_tmy`, `pv_profile_from_tmy`; the scenario's ``dispatch.pv_tmy``): a
typical meteorological year as EnergyPlus weather (EPW) or PVGIS TMY, read with pvlib's readers, or a
plain CSV of hourly irradiance or PV output. Its hours are placed on the simulated year by date and
hour of day, whatever years the file's months come from; a file on another clock (PVGIS: UTC) is moved
onto local hours by overlap weights, which keep each hour's energy. Irradiance goes through the same
transposition and PV model as the clear-sky profiles, without the monthly derate.

Output is kW AC per kWp DC, i.e. kWh per kWp in each hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib
from scipy import sparse

from smrplan.errors import InputError
from smrplan.geo.checks import numeric_values, show
from smrplan.geo.io import read_table, unique_columns
from smrplan.units import HOURS_PER_YEAR

MONTHS = 12
# SPA refraction inputs as in pvlib.solarposition.spa_python: annual mean air temperature (deg C) and
# the atmospheric refraction at sunrise/sunset (degrees).
_SPA_TEMPERATURE_C = 12.0
_SPA_REFRACTION_DEG = 0.5667
# Geocentric sun elevation (degrees) below which an hour is dark at a site (`_above_horizon`).
_NIGHT_ELEVATION_DEG = -2.0
# Systems evaluated together; bounds memory (each (chunk, 8760) float array is about 18 MB).
_CHUNK_SYSTEMS = 256
# Plausibility limits of a user file: surface irradiance above 1.5 kW/m2 (10 % above the solar
# constant) and PV output above 1.5 kW/kWp point to wrong units.
MAX_IRRADIANCE_W_M2 = 1500.0
MAX_KW_PER_KWP = 1.5
TMY_IRRADIANCE_COLUMNS = ("ghi", "dni", "dhi")
TMY_PROFILE_COLUMN = "kw_per_kwp"
TMY_TIME_COLUMN = "time"
# Code of a cell without data in pvlib's altitude map (pvlib.location.lookup_altitude).
_ALTITUDE_NODATA = 255


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
    """(S, 12) monthly Linke turbidity from pvlib's bundled climatology, as
    `pvlib.clearsky.lookup_linke_turbidity` gives it (the file stores 20 x turbidity), in one read."""
    return _pvlib_grid_values("LinkeTurbidities.h5", "LinkeTurbidity", lat, lon).astype(float) / 20.0


def _pvlib_grid_values(name: str, dataset: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Values at each point of one of pvlib's bundled global 5-arc-minute grids (an HDF5 file in
    pvlib's data folder, 2160 rows from 90 N x 4320 columns from 180 W), at the cells pvlib's own
    lookups pick: the file is opened once and the window covering every point read at once."""
    rows, cols = _grid_index(lat, 90.0, -90.0, 2160), _grid_index(lon, -180.0, 180.0, 4320)
    r0, c0 = (int(rows.min()), int(cols.min())) if rows.size else (0, 0)  # the window starts at the points
    with h5py.File(Path(pvlib.__file__).parent / "data" / name, "r") as f:
        window = f[dataset][r0:rows.max(initial=0) + 1, c0:cols.max(initial=0) + 1]
    return window[rows - r0, cols - c0]


def _grid_index(degrees: np.ndarray, first: float, last: float, cells: int) -> np.ndarray:
    """Cell of each coordinate (degrees) on a grid of `cells` cells from `first` to `last` degrees:
    `pvlib.tools._degrees_to_index` vectorised, the same arithmetic (nearest cell centre, half a cell
    of tolerance at either end)."""
    scale = cells / (last - first)
    index = (np.asarray(degrees, float) - (first + 1 / scale / 2)) * scale
    top = cells - 1
    if ((index > top) & (index - top > 0.500001)).any() or ((index < 0) & (-index > 0.500001)).any():
        raise ValueError(f"a coordinate is out of range ({first:g}, {last:g})")
    return np.where(index > top, top, np.where(index < 0, 0, np.around(index))).astype(np.intp)


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
    """Site altitudes (m): given, or from pvlib's bundled altitude map as `pvlib.location.lookup_altitude`
    gives them (28 m steps from -450 m; 0 where the map has no data), in one read."""
    if altitude_m is not None:
        return _vector(altitude_m, lat.size, "altitude_m")
    code = _pvlib_grid_values("Altitude.h5", "Altitude", lat, lon)
    return np.where(code == _ALTITUDE_NODATA, 0.0, code.astype(float) * 28 - 450)


@dataclass(frozen=True)
class _SunTerms:
    """The terms of NREL SPA that depend on time alone, (H,) each: apparent sidereal time, geocentric
    right ascension and declination of the sun, and its equatorial horizontal parallax (degrees), as
    `pvlib.spa.solar_position_numpy` computes them."""

    sidereal: np.ndarray
    ascension: np.ndarray
    declination: np.ndarray
    parallax: np.ndarray

    @classmethod
    def of(cls, times_utc: pd.DatetimeIndex) -> _SunTerms:
        spa = pvlib.spa
        delta_t = spa.calculate_deltat(times_utc.year.to_numpy(), times_utc.month.to_numpy())
        jd = spa.julian_day(times_utc.as_unit("ns").asi8 / 1e9)
        jce = spa.julian_ephemeris_century(spa.julian_ephemeris_day(jd, delta_t))
        jme = spa.julian_ephemeris_millennium(jce)
        radius = spa.heliocentric_radius_vector(jme)
        nutation = np.empty((2, jd.size))
        spa.longitude_obliquity_nutation(jce, spa.mean_elongation(jce), spa.mean_anomaly_sun(jce),
                                         spa.mean_anomaly_moon(jce), spa.moon_argument_latitude(jce),
                                         spa.moon_ascending_longitude(jce), nutation)
        epsilon = spa.true_ecliptic_obliquity(spa.mean_ecliptic_obliquity(jme), nutation[1])
        lamd = spa.apparent_sun_longitude(spa.geocentric_longitude(spa.heliocentric_longitude(jme)), nutation[0],
                                          spa.aberration_correction(radius))
        beta = spa.geocentric_latitude(spa.heliocentric_latitude(jme))
        sidereal = spa.apparent_sidereal_time(spa.mean_sidereal_time(jd, spa.julian_century(jd)), nutation[0], epsilon)
        return cls(sidereal, spa.geocentric_sun_right_ascension(lamd, epsilon, beta),
                   spa.geocentric_sun_declination(lamd, epsilon, beta), spa.equatorial_horizontal_parallax(radius))


def _topocentric(sun: _SunTerms, hour: np.ndarray, site: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                 altitude_m: np.ndarray, pressure_pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apparent zenith and azimuth (degrees) at P pairs of an hour of the time terms and a site
    (degrees, m, air pressure Pa): the site-dependent steps of `pvlib.spa.solar_position_numpy`, with
    its refraction inputs, compiled into one loop (`smrplan.dispatch.sun_kernel`)."""
    from smrplan.dispatch import sun_kernel  # numba's import only where a profile is made

    def floats(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=float)

    return sun_kernel.topocentric_pairs(floats(sun.sidereal), floats(sun.ascension), floats(sun.declination),
                                        floats(sun.parallax), np.asarray(hour, np.int64), np.asarray(site, np.int64),
                                        floats(lat), floats(lon), floats(altitude_m), floats(pressure_pa) / 100.0,
                                        _SPA_TEMPERATURE_C, _SPA_REFRACTION_DEG)


def solar_position(
    times_utc: pd.DatetimeIndex, lat: np.ndarray, lon: np.ndarray, altitude_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sun position for S sites (degrees, altitude m) at H times with NREL SPA, all sites at once.

    The terms of time alone are computed once for the H times, the rest for every site and time.

    Parameters
    ----------
    times_utc : pandas.DatetimeIndex
        The H times (UTC).
    lat, lon : numpy.ndarray
        (S,) site latitude and longitude (degrees).
    altitude_m : numpy.ndarray
        (S,) site altitude (m above sea level); gives the air pressure of the refraction correction.

    Returns
    -------
    apparent_zenith, azimuth : numpy.ndarray
        Each (S, H), degrees; zenith refracted, azimuth clockwise from north.
    """
    altitude = np.broadcast_to(np.asarray(altitude_m, dtype=float), np.shape(lat))
    shape = (np.size(lat), len(times_utc))
    site, hour = (index.ravel() for index in np.indices(shape))
    zenith, azimuth = _topocentric(_SunTerms.of(times_utc), hour, site, lat, lon, altitude,
                                   pvlib.atmosphere.alt2pres(altitude))
    return zenith.reshape(shape), azimuth.reshape(shape)


def _above_horizon(sun: _SunTerms, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(S, H) bool: hours in which the sun may be up at the sites (degrees). The geocentric elevation
    is above -2 degrees: refraction lifts the sun by at most 0.6 degree and parallax by 0.003, so
    every other hour has the sun below the horizon and no clear-sky output."""
    hour_angle = np.radians(sun.sidereal + lon[:, None] - sun.ascension)
    lat_r, dec = np.radians(lat)[:, None], np.radians(sun.declination)
    sin_elevation = np.sin(lat_r) * np.sin(dec) + np.cos(lat_r) * np.cos(dec) * np.cos(hour_angle)
    return sin_elevation > np.sin(np.radians(_NIGHT_ELEVATION_DEG))


def _poa_kw_per_kwp(
    dni_extra: np.ndarray,
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
    """PV output per kWp (kW/kWp) from irradiance and the extraterrestrial irradiance at normal incidence
    (W/m2), sun position and the plane's tilt and azimuth (degrees), all broadcast against each other."""
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        surface_azimuth,
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


def _sites(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of S sites (degrees), each (S,), checked to lie on the globe."""
    n = max(np.size(lat), np.size(lon))
    lat_arr, lon_arr = _vector(lat, n, "lat"), _vector(lon, n, "lon")
    if np.any(np.abs(lat_arr) > 90) or np.any(np.abs(lon_arr) > 180):
        raise InputError(None, "lat/lon", "latitude must be within +-90 and longitude within +-180 degrees")
    return lat_arr, lon_arr


def _check_loss(system_loss_fraction: float) -> None:
    if not 0 <= system_loss_fraction < 1:
        raise InputError(None, "system_loss_fraction", "must be in [0, 1)")


@dataclass(frozen=True)
class _Hours:
    """Time-only inputs of the clear-sky model, computed once for every site: the middle of each local
    hour in UTC, its local month (0-11), the mid-month interpolation of the turbidity (month before,
    month after, weight of after), the extraterrestrial irradiance at normal incidence (W/m2), (H,) each,
    and the sun's position terms of time alone."""

    mid_utc: pd.DatetimeIndex
    local_month: np.ndarray
    before: np.ndarray
    after: np.ndarray
    weight: np.ndarray
    dni_extra: np.ndarray
    sun: _SunTerms

    @classmethod
    @lru_cache(maxsize=4)  # read only: the same year for every chunk of systems of a run
    def of(cls, year: int, timezone: str) -> _Hours:
        hours_utc = local_year_hours_utc(year, timezone)
        mid = hours_utc + pd.Timedelta(minutes=30)
        before, after, weight = _mid_month_weights(mid)
        return cls(mid, hours_utc.tz_convert(timezone).month.to_numpy() - 1, before, after, weight,
                   pvlib.irradiance.get_extra_radiation(mid).to_numpy(), _SunTerms.of(mid))


def _clear_sky_kw_per_kwp(lat: np.ndarray, lon: np.ndarray, tilt: np.ndarray, azimuth: np.ndarray,
                          altitude: np.ndarray, hours: _Hours, system_loss_fraction: float,
                          albedo: float) -> np.ndarray:
    """Clear-sky PV output per kWp of S sites before the monthly derate, (S, H) kW/kWp (the model of the
    module docstring); site arrays (S,) in degrees and m, evaluated `_CHUNK_SYSTEMS` sites at a time and
    only in the hours the sun may be up (`_above_horizon`), every other hour 0."""
    n = lat.size
    linke = _linke_turbidity_monthly(lat, lon)
    pressure = pvlib.atmosphere.alt2pres(altitude)  # Pa
    profile = np.zeros((n, hours.mid_utc.size))
    for first in range(0, n, _CHUNK_SYSTEMS):
        site, hour = np.nonzero(_above_horizon(hours.sun, lat[first:first + _CHUNK_SYSTEMS],
                                               lon[first:first + _CHUNK_SYSTEMS]))
        site += first
        apparent_zenith, sun_azimuth = _topocentric(hours.sun, hour, site, lat, lon, altitude, pressure)
        weight = hours.weight[hour]
        turbidity = linke[site, hours.before[hour]] * (1 - weight) + linke[site, hours.after[hour]] * weight
        airmass = pvlib.atmosphere.get_absolute_airmass(
            pvlib.atmosphere.get_relative_airmass(apparent_zenith), pressure[site]
        )
        dni_extra = hours.dni_extra[hour]
        with np.errstate(divide="ignore", invalid="ignore"):  # sun below the horizon: set to 0 below
            sky = pvlib.clearsky.ineichen(apparent_zenith, airmass, turbidity, altitude[site], dni_extra)
        ghi, dni, dhi = (np.nan_to_num(np.asarray(sky[k], dtype=float)) for k in ("ghi", "dni", "dhi"))
        profile[site, hour] = _poa_kw_per_kwp(dni_extra, apparent_zenith, sun_azimuth, ghi, dni, dhi, tilt[site],
                                              azimuth[site], albedo, system_loss_fraction)
    return profile


def lattice_weights(lat: np.ndarray, lon: np.ndarray, step_deg: float
                    ) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """The nodes of a regular latitude/longitude lattice around S sites and each site's bilinear weights.

    The lattice lies on whole multiples of `step_deg` (so a site's nodes do not depend on the other
    sites); only the corners of the cells holding a site are kept, each once.

    Parameters
    ----------
    lat, lon : numpy.ndarray
        (S,) site latitude and longitude, degrees.
    step_deg : float
        Lattice spacing, degrees (> 0).

    Returns
    -------
    node_lat, node_lon : numpy.ndarray
        (N,) node latitude and longitude, degrees.
    weights : scipy.sparse.csr_matrix
        (S, N) bilinear weights (fractions, four per site, summing to 1): ``weights @ f(nodes)``
        interpolates f at the sites.
    """
    row, col = lat / step_deg, lon / step_deg
    i0, j0 = np.floor(row), np.floor(col)
    u, v = (row - i0)[:, None], (col - j0)[:, None]
    corner_i = i0[:, None] + np.array([0, 0, 1, 1])
    corner_j = j0[:, None] + np.array([0, 1, 0, 1])
    weight = np.hstack([(1 - u) * (1 - v), (1 - u) * v, u * (1 - v), u * v])
    keys, node = np.unique(np.stack([corner_i.ravel(), corner_j.ravel()], axis=1), axis=0, return_inverse=True)
    weights = sparse.csr_matrix((weight.ravel(), (np.repeat(np.arange(lat.size), 4), node.ravel())),
                                shape=(lat.size, len(keys)))
    return keys[:, 0] * step_deg, keys[:, 1] * step_deg, weights


def uses_lattice(lat: np.ndarray, lon: np.ndarray, step_deg: float | None) -> bool:
    """Whether `pv_profile_kw_per_kwp` with its own rule interpolates these sites' profiles from the
    lattice of `step_deg` (fewer nodes than sites).

    Parameters
    ----------
    lat, lon : numpy.ndarray
        (S,) site latitude and longitude, degrees.
    step_deg : float or None
        Lattice spacing, degrees; None: no lattice.

    Returns
    -------
    bool
        True when the lattice has fewer nodes than there are sites.
    """
    return step_deg is not None and lattice_weights(np.asarray(lat, float), np.asarray(lon, float),
                                                    step_deg)[0].size < np.size(lat)


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
    lattice_step_deg: float | None = None,
    lattice: bool | None = None,
) -> np.ndarray:
    """Clear-sky hourly PV output per kWp for S sites, (S, 8760) kW/kWp (model in the module docstring).

    With `lattice_step_deg`, one tilt and azimuth for all sites and altitudes from pvlib's map, the
    clear-sky output is computed at the nodes of a lattice of that spacing (`lattice_weights`; each
    node with its own altitude, turbidity and tilt) and interpolated bilinearly to the sites, when the
    lattice has fewer nodes than there are sites (or as `lattice` says); otherwise it is computed at
    every site. A site's profile depends on the other sites only through that choice.

    Parameters
    ----------
    lat, lon : array_like
        Site latitude and longitude, degrees (one value or S values).
    year : int
        Calendar year of the local hours.
    monthly_derate : array_like or None
        Factors in [0, 1] per calendar month, (12,) for all sites or (S, 12); None = none.
    tilt : array_like or None
        Panel tilt from horizontal, degrees; None = |latitude| per site.
    azimuth : array_like
        Panel azimuth, degrees clockwise from north (180 = facing south).
    system_loss_fraction : float
        All PV losses besides irradiance (PVWatts style), fraction in [0, 1).
    timezone : str
        IANA zone of the local clock (the scenario's region.timezone).
    altitude_m : array_like or None
        Site altitude, m above sea level; None = pvlib's bundled altitude map.
    albedo : float
        Ground reflectance, fraction (pvlib's default 0.25).
    lattice_step_deg : float or None
        Spacing of the interpolation lattice, degrees (the scenario's dispatch.pv_lattice_step_deg);
        None = every site computed.
    lattice : bool or None
        Interpolate from the lattice (True) or compute every site (False) whatever the count of nodes,
        e.g. as decided once for sites profiled a few at a time (`uses_lattice`); None = the rule above.

    Returns
    -------
    numpy.ndarray
        (S, 8760) kW AC per kWp DC, i.e. kWh per kWp in each local hour.

    Raises
    ------
    InputError
        When a site is off the globe, `system_loss_fraction` is outside [0, 1), a derate factor is
        outside [0, 1], or an array has neither one nor S values (12 or (S, 12) for `monthly_derate`).
    """
    _check_loss(system_loss_fraction)
    lat_arr, lon_arr = _sites(lat, lon)
    n = lat_arr.size
    tilt_arr = np.abs(lat_arr) if tilt is None else _vector(tilt, n, "tilt")
    azimuth_arr = _vector(azimuth, n, "azimuth")
    derate = _monthly_factors(monthly_derate, n)
    hours = _Hours.of(year, timezone)
    uniform = altitude_m is None and np.size(azimuth) == 1 and (tilt is None or np.size(tilt) == 1)
    node_lat, node_lon, weights = lattice_weights(lat_arr, lon_arr, lattice_step_deg) \
        if lattice_step_deg is not None and uniform else (lat_arr, lon_arr, None)
    if weights is not None and (uses_lattice(lat_arr, lon_arr, lattice_step_deg) if lattice is None else lattice) and \
            np.all(np.abs(node_lat) <= 90) and np.all(np.abs(node_lon) <= 180):
        m = node_lat.size
        node_tilt = np.abs(node_lat) if tilt is None else np.broadcast_to(tilt_arr[:1], (m,))
        nodes = _clear_sky_kw_per_kwp(node_lat, node_lon, node_tilt, np.broadcast_to(azimuth_arr[:1], (m,)),
                                      _altitudes(node_lat, node_lon, None), hours, system_loss_fraction, albedo)
        profile = np.asarray(weights @ nodes)
    else:
        profile = _clear_sky_kw_per_kwp(lat_arr, lon_arr, tilt_arr, azimuth_arr,
                                        _altitudes(lat_arr, lon_arr, altitude_m), hours, system_loss_fraction,
                                        albedo)
    if np.all(derate == derate[:1]):  # one pattern for every site: one factor per hour
        profile *= derate[0, hours.local_month] if n else 1.0
    else:
        profile *= derate[:, hours.local_month]
    return profile


# ---------------------------------------------------------------------------------------------------
# User files: a typical meteorological year (TMY) or any other hourly year of irradiance or PV output


def read_tmy(path: str | Path, *, year: int | None = None, timezone: str) -> pd.DataFrame:
    """Read one hourly solar year from a user's file.

    Formats, told apart by the suffix and the first line:

    - EnergyPlus weather, ``.epw`` (e.g. the ISHRAE files for Indian cities on climate.onebuilding.org,
      or the EPW output of PVGIS), read with `pvlib.iotools.read_epw`: local standard time of the file's
      ``TZ`` header;
    - PVGIS TMY, ``.json`` or a ``.csv`` whose first line starts with "Latitude" (the PVGIS download),
      read with `pvlib.iotools.read_pvgis_tmy`: UTC hours;
    - a plain CSV of the columns ``ghi``, ``dni``, ``dhi`` (W/m2, hour means) or ``kw_per_kwp`` (PV output,
      kW per kWp, used as is), with an optional ``time`` column (`_read_tmy_csv`).

    Each value is taken as the mean of the hour starting at its time stamp (pvlib labels EPW's hours
    1-24 by their start). February 29 is dropped. A TMY's months come from different years; only the
    date and hour of each row count (`pv_profile_from_tmy` places them on the simulated year).

    Parameters
    ----------
    path : str or Path
        The file.
    year : int or None
        Year of the rows of a plain CSV without a ``time`` column (required then); unused otherwise.
    timezone : str
        IANA zone of the plain CSV's local times.

    Returns
    -------
    pandas.DataFrame
        8760 rows indexed by the start of each hour (tz-aware, the file's own clock) with the columns
        ghi, dni, dhi (W/m2) or kw_per_kwp (kW/kWp).

    Raises
    ------
    InputError
        Naming the file and the column or hour for anything missing, unreadable or implausible.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        pvgis_csv = suffix == ".csv" and f.readline().lstrip(b"\xef\xbb\xbf").startswith(b"Latitude")
    if suffix == ".epw":
        frame = _read_with_pvlib(path, "EnergyPlus weather (EPW)", pvlib.iotools.read_epw)
    elif suffix == ".json" or pvgis_csv:
        frame = _read_with_pvlib(path, "PVGIS TMY", pvlib.iotools.read_pvgis_tmy)
    else:
        return _read_tmy_csv(path, year=year, timezone=timezone)
    assert isinstance(frame.index, pd.DatetimeIndex), "checked by _read_with_pvlib"
    frame = frame[~_is_february_29(frame.index)]
    for column in TMY_IRRADIANCE_COLUMNS:
        values = frame[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0) | (values > MAX_IRRADIANCE_W_M2)
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(path, f"{column}, hour starting {frame.index[row]}",
                             f"{values[row]:g} is not a number from 0 to {MAX_IRRADIANCE_W_M2:g} W/m2 "
                             f"({int(bad.sum())} hour(s); missing values are not filled)")
    assert isinstance(frame.index, pd.DatetimeIndex), "rows of a DatetimeIndex selected"
    _check_one_year(frame.index, path)
    return frame


def _read_with_pvlib(path: Path, kind: str, reader) -> pd.DataFrame:
    """ghi, dni, dhi (W/m2) of a file read by a pvlib.iotools reader, as floats."""
    try:
        data = reader(path)[0]
    except Exception as exc:  # the readers raise many kinds of errors on malformed files; all mean unreadable
        raise InputError(path, None, f"cannot read as {kind} ({type(exc).__name__}: {exc})") from None
    missing = [c for c in TMY_IRRADIANCE_COLUMNS if c not in data.columns]
    if missing:
        raise InputError(path, ", ".join(missing), f"missing in the {kind} file; found columns {list(data.columns)}")
    if not isinstance(data.index, pd.DatetimeIndex) or data.index.tz is None:
        raise InputError(path, "time", f"the {kind} file has no time zone for its hours")
    return data[list(TMY_IRRADIANCE_COLUMNS)].astype(float)


def _year_positions(times: pd.DatetimeIndex) -> np.ndarray:
    """Start of each hour as hours since January 1, 00:00 UTC, wrapped into [0, 8760).

    The day of the year is counted in each time's own clock with February 29 left out (so any year,
    or a TMY's mix of years, maps onto one 8760-hour year); the clock's UTC offset is then subtracted.
    """
    local = times.tz_localize(None)
    offset_h = (local - times.tz_convert("UTC").tz_localize(None)) / pd.Timedelta(hours=1)
    day = times.dayofyear.to_numpy() - 1 - (times.is_leap_year & (times.month > 2))
    hours = day * 24 + times.hour.to_numpy() + times.minute.to_numpy() / 60 - np.asarray(offset_h, dtype=float)
    return np.mod(hours, HOURS_PER_YEAR)


def _check_one_year(times: pd.DatetimeIndex, path: Path) -> None:
    """Raise unless the times are the starts of the 8760 hours of one year, each once (in any order)."""
    if len(times) != HOURS_PER_YEAR:
        raise InputError(path, None, f"expected {HOURS_PER_YEAR} hourly rows (February 29 dropped), got {len(times)}")
    steps = np.diff(np.sort(_year_positions(times)))
    if not np.allclose(steps, 1.0, atol=1e-6):
        at = int(np.argmax(~np.isclose(steps, 1.0, atol=1e-6)))
        raise InputError(path, TMY_TIME_COLUMN, f"expected each hour of the year once; hours are missing or repeated "
                                                f"near {times[np.argsort(_year_positions(times))[at]]}")


def _on_local_hours(tmy: pd.DataFrame, local_hours: pd.DatetimeIndex) -> np.ndarray:
    """The rows of a solar year moved onto other hours of the year, (H, columns).

    Each target hour [t, t + 1 h) takes the file's hours it overlaps, weighted by the overlap (hour
    means, so the energy is kept): a file in UTC gives each hour of India's clock (UTC+5:30) half of
    two of its hours; a file in the target's own clock is copied hour for hour.
    """
    assert isinstance(tmy.index, pd.DatetimeIndex), "a solar year of read_tmy is indexed by its hours"
    source = _year_positions(tmy.index)
    order = np.argsort(source)
    values = tmy.to_numpy(dtype=float)[order]
    shift = np.round(np.mod(_year_positions(local_hours) - source[order][0], HOURS_PER_YEAR), 9)
    first = np.floor(shift).astype(int) % HOURS_PER_YEAR
    weight = (shift - np.floor(shift))[:, None]
    return values[first] * (1 - weight) + values[(first + 1) % HOURS_PER_YEAR] * weight


def pv_profile_from_tmy(
    tmy: pd.DataFrame,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    year: int,
    *,
    system_loss_fraction: float,
    tilt: npt.ArrayLike | None = None,
    azimuth: npt.ArrayLike = 180.0,
    timezone: str,
    altitude_m: npt.ArrayLike | None = None,
    albedo: float = 0.25,
) -> np.ndarray:
    """Hourly PV output per kWp for S sites from a solar year of `read_tmy`, (S, 8760) kW/kWp.

    The file's hours are placed on the local hours of `year` by date and hour (`_on_local_hours`).
    A ``kw_per_kwp`` column is then used as is for every site. Otherwise GHI/DNI/DHI are transposed to
    each site's fixed plane with the sun at the site and converted with the same PV model as
    `pv_profile_kw_per_kwp` (no monthly derate: measured or typical-year data already hold the clouds).

    Parameters
    ----------
    tmy : pandas.DataFrame
        Output of `read_tmy`.
    lat, lon : array_like
        Site latitude and longitude, degrees (one value or S values).
    year : int
        Calendar year of the local hours of the profile.
    system_loss_fraction, tilt, azimuth, timezone, altitude_m, albedo
        As in `pv_profile_kw_per_kwp` (fraction, degrees, degrees, IANA zone, m, fraction).

    Returns
    -------
    numpy.ndarray
        (S, 8760) kW AC per kWp DC, i.e. kWh per kWp in each local hour.

    Raises
    ------
    InputError
        When a site is off the globe, `system_loss_fraction` is outside [0, 1), or an array has neither
        one nor S values.
    """
    _check_loss(system_loss_fraction)
    lat_arr, lon_arr = _sites(lat, lon)
    n = lat_arr.size
    hours_utc = local_year_hours_utc(year, timezone)
    year_values = _on_local_hours(tmy, hours_utc.tz_convert(timezone))
    if TMY_PROFILE_COLUMN in tmy.columns:
        return np.repeat(year_values[:, list(tmy.columns).index(TMY_PROFILE_COLUMN)][None, :], n, axis=0)
    tilt_arr = np.abs(lat_arr) if tilt is None else _vector(tilt, n, "tilt")
    azimuth_arr = _vector(azimuth, n, "azimuth")
    altitude = _altitudes(lat_arr, lon_arr, altitude_m)
    ghi, dni, dhi = (year_values[:, list(tmy.columns).index(c)][None, :] for c in TMY_IRRADIANCE_COLUMNS)
    mid_hours = hours_utc + pd.Timedelta(minutes=30)
    dni_extra = pvlib.irradiance.get_extra_radiation(mid_hours).to_numpy()
    profile = np.empty((n, HOURS_PER_YEAR))
    for first in range(0, n, _CHUNK_SYSTEMS):
        s = slice(first, min(first + _CHUNK_SYSTEMS, n))
        apparent_zenith, sun_azimuth = solar_position(mid_hours, lat_arr[s], lon_arr[s], altitude[s])
        profile[s] = _poa_kw_per_kwp(dni_extra, apparent_zenith, sun_azimuth, ghi, dni, dhi, tilt_arr[s][:, None],
                                     azimuth_arr[s][:, None], albedo, system_loss_fraction)
    return profile


def _numeric_column(frame: pd.DataFrame, column: str, path: Path, upper: float, unit: str) -> np.ndarray:
    """Values of ``column`` as floats in [0, upper]; the error names the file line of the first bad one."""
    values = numeric_values(frame[column])
    bad = ~np.isfinite(values) | (values < 0) | (values > upper)
    if np.any(bad):
        row = int(np.argmax(bad))
        line = frame.index[row] + 2  # header is line 1
        raise InputError(
            path,
            column,
            f"line {line}: {show(frame[column].iloc[row])} is not a number from 0 to {upper:g} {unit}",
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


def _read_tmy_csv(path: Path, *, year: int | None, timezone: str) -> pd.DataFrame:
    """A plain CSV solar year (see `read_tmy`).

    One row per local hour of one year (8760 rows, or 8784 with February 29, which is dropped) and
    either the columns ``ghi``, ``dni``, ``dhi`` (W/m2, hour means) or ``kw_per_kwp`` (kW per kWp).
    Column names are matched ignoring case and surrounding spaces. An optional ``time`` column gives the
    start of each hour: local time in ``timezone`` when it has no UTC offset; without it the rows are
    the hours of ``year`` in order, and ``year`` is required. Returns the frame of `read_tmy`, indexed
    by local time in `timezone`.
    """
    frame = read_table(path, any_suffix=True, keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    unique_columns(path, frame.columns)  # names equal but for case or spaces
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
    frame, times = _csv_hours(frame, path, year, timezone)
    data = {c: _numeric_column(frame, c, path, upper, unit) for c in columns}
    return pd.DataFrame(data, index=pd.DatetimeIndex(times, name=TMY_TIME_COLUMN)).sort_index()


def _csv_hours(frame: pd.DataFrame, path: Path, year: int | None, timezone: str
               ) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """The rows of a plain CSV without February 29 and the local start of each of their hours."""
    if TMY_TIME_COLUMN in frame.columns:
        local = _local_times(frame, path, timezone)
        keep = ~_is_february_29(local)
        frame, local = frame[keep], local[keep]
        if len(frame) == 0:
            raise InputError(path, TMY_TIME_COLUMN, "no rows")
        expected = local_year_hours_utc(local[0].year, timezone)
        if not local.tz_convert("UTC").sort_values().equals(expected):
            raise InputError(
                path,
                TMY_TIME_COLUMN,
                f"expected each of the {HOURS_PER_YEAR} local hours of {local[0].year} once "
                "(February 29 may be present and is dropped)",
            )
        return frame, local
    if year is None:
        raise InputError(path, TMY_TIME_COLUMN, "no time column: add one or pass year=")
    if len(frame) == HOURS_PER_YEAR + 24:
        frame = frame.drop(index=frame.index[(31 + 28) * 24 : (31 + 29) * 24])
    if len(frame) != HOURS_PER_YEAR:
        raise InputError(path, None, f"expected {HOURS_PER_YEAR} hourly rows (8784 with February 29), got {len(frame)}")
    return frame, local_year_hours_utc(year, timezone).tz_convert(timezone)
