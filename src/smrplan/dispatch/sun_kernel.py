"""The site-dependent steps of NREL SPA, compiled: pvlib's own functions, one (site, hour) pair at a time.

`pvlib.spa` writes each step of the solar position algorithm as a small function of scalars (pvlib
compiles them with numba when asked to, see `pvlib.spa.solar_position`). Evaluated on arrays, each
step makes a temporary array of every pair; compiled into one loop, the pairs are evaluated one after
the other with no temporaries and without the GIL. The arithmetic is pvlib's: the same functions, in
the same order. Imported when clear-sky profiles are first made (numba's import costs about 0.3 s).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pvlib

from smrplan.compiled import compiled


def _scalar(name: str) -> Callable:
    """The pvlib.spa step `name`, compiled (its Python function when pvlib has compiled it already)."""
    step = getattr(pvlib.spa, name)
    return compiled(getattr(step, "py_func", step))


_local_hour_angle = _scalar("local_hour_angle")
_uterm = _scalar("uterm")
_xterm = _scalar("xterm")
_yterm = _scalar("yterm")
_parallax_sun_right_ascension = _scalar("parallax_sun_right_ascension")
_topocentric_sun_declination = _scalar("topocentric_sun_declination")
_topocentric_local_hour_angle = _scalar("topocentric_local_hour_angle")
_elevation_without_atmosphere = _scalar("topocentric_elevation_angle_without_atmosphere")
_atmospheric_refraction_correction = _scalar("atmospheric_refraction_correction")
_topocentric_elevation_angle = _scalar("topocentric_elevation_angle")
_topocentric_zenith_angle = _scalar("topocentric_zenith_angle")
_topocentric_astronomers_azimuth = _scalar("topocentric_astronomers_azimuth")
_topocentric_azimuth_angle = _scalar("topocentric_azimuth_angle")


@compiled
def topocentric_pairs(sidereal: np.ndarray, ascension: np.ndarray, declination: np.ndarray, parallax: np.ndarray,
                      hour: np.ndarray, site: np.ndarray, lat: np.ndarray, lon: np.ndarray, altitude_m: np.ndarray,
                      pressure_hpa: np.ndarray, temperature_c: float, refraction_deg: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Apparent zenith and azimuth (degrees) of the sun for P pairs of an hour and a site.

    Parameters
    ----------
    sidereal, ascension, declination, parallax : numpy.ndarray
        (H,) the terms of time alone: apparent sidereal time, geocentric right ascension and
        declination of the sun, equatorial horizontal parallax (degrees).
    hour, site : numpy.ndarray
        (P,) integer positions of each pair's hour (in the terms) and site (in the site arrays).
    lat, lon : numpy.ndarray
        (S,) site latitude and longitude (degrees).
    altitude_m : numpy.ndarray
        (S,) site altitude (m above sea level).
    pressure_hpa : numpy.ndarray
        (S,) air pressure at the site (hPa).
    temperature_c : float
        Air temperature of the refraction correction (degrees C).
    refraction_deg : float
        Atmospheric refraction at sunrise and sunset (degrees).

    Returns
    -------
    zenith, azimuth : numpy.ndarray
        (P,) refracted zenith and azimuth clockwise from north (degrees).
    """
    x, y = np.empty(lat.size), np.empty(lat.size)
    for s in range(lat.size):  # the terms of the site alone, once per site
        u = _uterm(lat[s])
        x[s], y[s] = _xterm(u, lat[s], altitude_m[s]), _yterm(u, lat[s], altitude_m[s])
    n = hour.size
    zenith, azimuth = np.empty(n), np.empty(n)
    for k in range(n):
        h, s = hour[k], site[k]
        phi = lat[s]
        hour_angle = _local_hour_angle(sidereal[h], lon[s], ascension[h])
        delta_alpha = _parallax_sun_right_ascension(x[s], parallax[h], hour_angle, declination[h])
        delta_prime = _topocentric_sun_declination(declination[h], x[s], y[s], parallax[h], delta_alpha, hour_angle)
        h_prime = _topocentric_local_hour_angle(hour_angle, delta_alpha)
        e0 = _elevation_without_atmosphere(phi, delta_prime, h_prime)
        refraction = _atmospheric_refraction_correction(pressure_hpa[s], temperature_c, e0, refraction_deg)
        zenith[k] = _topocentric_zenith_angle(_topocentric_elevation_angle(e0, refraction))
        azimuth[k] = _topocentric_azimuth_angle(_topocentric_astronomers_azimuth(h_prime, delta_prime, phi))
    return zenith, azimuth
