"""Tests of the PV profiles: clear-sky yield, night, derate, sun position and user files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from smrplan.dispatch import solar
from smrplan.dispatch.solar import (
    local_year_hours_utc,
    pv_profile_from_tmy,
    pv_profile_kw_per_kwp,
    read_tmy,
    solar_position,
)
from smrplan.errors import InputError
from smrplan.scenario import load_scenario

PORT_BLAIR = (11.67, 92.74)
LEH = (34.16, 77.58)
LOSS = 0.14
YEAR = 2023
TZ = "Asia/Kolkata"  # India Standard Time, the default scenario's region.timezone


@pytest.fixture(scope="module")
def port_blair() -> np.ndarray:
    return pv_profile_kw_per_kwp(*PORT_BLAIR, YEAR, system_loss_fraction=LOSS, timezone=TZ)


def test_local_hours_in_utc():
    hours = local_year_hours_utc(YEAR, TZ)
    assert len(hours) == 8760
    assert hours[0] == pd.Timestamp("2022-12-31 18:30", tz="UTC")
    leap = local_year_hours_utc(2024, TZ).tz_convert(TZ)
    assert len(leap) == 8760
    assert not ((leap.month == 2) & (leap.day == 29)).any()


def test_port_blair_clear_sky_yield_is_plausible(port_blair):
    assert port_blair.shape == (1, 8760)
    annual = port_blair.sum()
    assert 1500 <= annual <= 2300
    assert port_blair.max() <= 1.0


def test_zero_at_night_positive_at_noon(port_blair):
    local_hour = local_year_hours_utc(YEAR, TZ).tz_convert(TZ).hour
    night = (local_hour >= 20) | (local_hour < 4)
    assert np.all(port_blair[0, night] == 0)
    assert np.all(port_blair[0, local_hour == 11] > 0.3)
    assert port_blair.min() >= 0


def test_monthly_derate_applied(port_blair):
    derate = np.linspace(0.5, 0.95, 12)
    derated = pv_profile_kw_per_kwp(*PORT_BLAIR, YEAR, monthly_derate=derate, system_loss_fraction=LOSS, timezone=TZ)
    month = local_year_hours_utc(YEAR, TZ).tz_convert(TZ).month.to_numpy() - 1
    np.testing.assert_allclose(derated[0], port_blair[0] * derate[month])


def test_many_sites_at_once_match_one_by_one(port_blair):
    lat = np.array([PORT_BLAIR[0], LEH[0]])
    lon = np.array([PORT_BLAIR[1], LEH[1]])
    derate = np.array([np.ones(12), np.full(12, 0.8)])
    both = pv_profile_kw_per_kwp(lat, lon, YEAR, monthly_derate=derate, system_loss_fraction=LOSS, timezone=TZ)
    leh = pv_profile_kw_per_kwp(*LEH, YEAR, tilt=LEH[0], system_loss_fraction=LOSS, timezone=TZ)
    np.testing.assert_allclose(both[0], port_blair[0])
    np.testing.assert_allclose(both[1], 0.8 * leh[0])
    # Higher, drier and with a steeper default tilt, Leh yields more under clear skies.
    assert leh.sum() > port_blair.sum()


def test_system_loss_scales_output(port_blair):
    lossless = pv_profile_kw_per_kwp(*PORT_BLAIR, YEAR, system_loss_fraction=0.0, timezone=TZ)
    np.testing.assert_allclose(lossless * (1 - LOSS), port_blair)


def test_solar_position_matches_pvlib():
    times = local_year_hours_utc(YEAR, TZ) + pd.Timedelta(minutes=30)
    lat, lon, alt = (
        np.array([PORT_BLAIR[0], LEH[0]]),
        np.array([PORT_BLAIR[1], LEH[1]]),
        np.array([10.0, 3500.0]),
    )
    apparent_zenith, azimuth = solar_position(times, lat, lon, alt)
    for i in range(2):
        ref = pvlib.solarposition.get_solarposition(times, lat[i], lon[i], altitude=alt[i])
        # pvlib's default delta T is a constant 67 s; ours follows the year: differences of < 0.01 deg.
        np.testing.assert_allclose(apparent_zenith[i], ref["apparent_zenith"], atol=0.01)
        np.testing.assert_allclose(azimuth[i], ref["azimuth"], atol=0.01)


def test_clear_sky_matches_pvlib_location(port_blair):
    """Same chain built from pvlib's single-site API (daily Linke interpolation): within 1 % a year."""
    times = local_year_hours_utc(YEAR, TZ) + pd.Timedelta(minutes=30)
    site = pvlib.location.Location(*PORT_BLAIR, altitude=pvlib.location.lookup_altitude(*PORT_BLAIR))
    sky = site.get_clearsky(times, model="ineichen")
    sun = site.get_solarposition(times)
    poa = pvlib.irradiance.get_total_irradiance(
        PORT_BLAIR[0],
        180,
        sun["apparent_zenith"],
        sun["azimuth"],
        sky["dni"],
        sky["ghi"],
        sky["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        model="haydavies",
    )
    reference = poa["poa_global"].fillna(0).to_numpy() / 1000 * (1 - LOSS)
    assert port_blair.sum() == pytest.approx(reference.sum(), rel=0.01)


def test_bad_arguments():
    with pytest.raises(InputError, match="monthly_derate"):
        pv_profile_kw_per_kwp(*PORT_BLAIR, YEAR, monthly_derate=np.ones(11), system_loss_fraction=LOSS, timezone=TZ)
    with pytest.raises(InputError, match="system_loss_fraction"):
        pv_profile_kw_per_kwp(*PORT_BLAIR, YEAR, system_loss_fraction=1.2, timezone=TZ)
    with pytest.raises(InputError, match="lat"):
        pv_profile_kw_per_kwp(95.0, 0.0, YEAR, system_loss_fraction=LOSS, timezone=TZ)


# ---------------------------------------------------------------------------------------------------
# User files


def local_hour_strings(year: int) -> list[str]:
    return [str(t) for t in pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")]


def test_read_profile_column_with_time(tmp_path, port_blair):
    path = tmp_path / "pv.csv"
    times = local_hour_strings(YEAR)
    pd.DataFrame({"Time": times, " KW_per_kWp ": port_blair[0]}).to_csv(path, index=False)
    tmy = read_tmy(path, timezone=TZ)
    assert tmy.index[0] == pd.Timestamp("2022-12-31 18:30", tz="UTC")
    assert list(tmy.columns) == ["kw_per_kwp"]
    np.testing.assert_allclose(pv_profile_from_tmy(tmy, *PORT_BLAIR, YEAR, system_loss_fraction=LOSS, timezone=TZ), port_blair)


def test_read_leap_year_without_time_drops_february_29(tmp_path):
    path = tmp_path / "pv.csv"
    values = np.zeros(8784)
    values[59 * 24 : 60 * 24] = 0.5  # February 29 only
    pd.DataFrame({"kw_per_kwp": values}).to_csv(path, index=False)
    tmy = read_tmy(path, year=2024, timezone=TZ)
    assert len(tmy) == 8760
    assert tmy["kw_per_kwp"].max() == 0


def test_irradiance_file_gives_the_clear_sky_profile(tmp_path, port_blair):
    times = local_year_hours_utc(YEAR, TZ) + pd.Timedelta(minutes=30)
    site = pvlib.location.Location(*PORT_BLAIR, altitude=pvlib.location.lookup_altitude(*PORT_BLAIR))
    sky = site.get_clearsky(times, model="ineichen").fillna(0)
    path = tmp_path / "tmy.csv"
    frame = pd.DataFrame(
        {
            "time": local_hour_strings(YEAR),
            "GHI": sky["ghi"].to_numpy(),
            "DNI": sky["dni"].to_numpy(),
            "DHI": sky["dhi"].to_numpy(),
        }
    )
    frame.to_csv(path, index=False)
    profile = pv_profile_from_tmy(read_tmy(path, timezone=TZ), *PORT_BLAIR, YEAR, system_loss_fraction=LOSS, timezone=TZ)
    assert profile.shape == (1, 8760)
    assert profile.sum() == pytest.approx(port_blair.sum(), rel=0.01)
    np.testing.assert_allclose(profile, port_blair, atol=0.01)


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "tmy.csv"
    pd.DataFrame({"ghi": np.zeros(8760), "dni": np.zeros(8760)}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"tmy\.csv: dhi: missing"):
        read_tmy(path, year=YEAR, timezone=TZ)


def test_bad_value_names_column_and_line(tmp_path):
    path = tmp_path / "tmy.csv"
    values = np.zeros(8760).astype(object)
    values[10] = "n/a"
    pd.DataFrame({"kw_per_kwp": values}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"tmy\.csv: kw_per_kwp: line 12: 'n/a'"):
        read_tmy(path, year=YEAR, timezone=TZ)
    pd.DataFrame({"kw_per_kwp": np.full(8760, 800.0)}).to_csv(path, index=False)
    with pytest.raises(InputError, match="wrong units|0 to 1.5 kW/kWp"):
        read_tmy(path, year=YEAR, timezone=TZ)


def test_file_checks(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_tmy(tmp_path / "absent.csv", timezone=TZ)
    path = tmp_path / "short.csv"
    pd.DataFrame({"kw_per_kwp": np.zeros(100)}).to_csv(path, index=False)
    with pytest.raises(InputError, match="short.csv: expected 8760 hourly rows"):
        read_tmy(path, year=YEAR, timezone=TZ)
    with pytest.raises(InputError, match="short.csv: time: no time column"):
        read_tmy(path, timezone=TZ)
    gappy = tmp_path / "gappy.csv"
    times = local_hour_strings(YEAR)
    times[5] = times[4]
    pd.DataFrame({"time": times, "kw_per_kwp": np.zeros(8760)}).to_csv(gappy, index=False)
    with pytest.raises(InputError, match="gappy.csv: time: expected each of the 8760 local hours"):
        read_tmy(gappy, timezone=TZ)


# ---------------------------------------------------------------------------------------------------
# Typical-year files read with pvlib (EPW, PVGIS) and their placement on the simulated year


def clear_sky(times_mid_hour: pd.DatetimeIndex) -> pd.DataFrame:
    site = pvlib.location.Location(*PORT_BLAIR, altitude=pvlib.location.lookup_altitude(*PORT_BLAIR))
    return site.get_clearsky(times_mid_hour, model="ineichen").fillna(0)


def write_epw(path, sky: pd.DataFrame, starts: pd.DatetimeIndex, tz_hours: float = 5.5, years=None) -> None:
    """An EnergyPlus weather file: 8 header lines, then year, month, day, hour (1-24, hour ending), minute,
    flags and 30 fields, of which GHI, DNI and DHI are the 14th to 16th."""
    header = [f"LOCATION,Port Blair,AN,IND,test,000000,{PORT_BLAIR[0]},{PORT_BLAIR[1]},{tz_hours},16.0",
              "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
              "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,test file", "COMMENTS 2,",
              "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    years = starts.year if years is None else years
    rows = [f"{y},{t.month},{t.day},{t.hour + 1},60,?,27,23,80,101000,0,0,400,{g:.3f},{b:.3f},{d:.3f}"
            + ",0" * 19
            for y, t, g, b, d in zip(years, starts, sky["ghi"], sky["dni"], sky["dhi"], strict=True)]
    path.write_text("\n".join(header + rows) + "\n", encoding="utf-8")


def write_pvgis_csv(path, sky: pd.DataFrame, starts_utc: pd.DatetimeIndex) -> None:
    """A PVGIS TMY download (CSV): site lines, the year of each month, then 8760 UTC hours."""
    lines = [f"Latitude (decimal degrees): {PORT_BLAIR[0]}", f"Longitude (decimal degrees): {PORT_BLAIR[1]}",
             "Elevation (m): 16", "Irradiance Time Offset (h): 0", "month,year"]
    lines += [f"{m},{2010 + m % 3}" for m in range(1, 13)]
    lines.append("time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP")
    lines += [f"{2010 + t.month % 3}{t:%m%d:%H%M},27.0,80.0,{g:.3f},{b:.3f},{d:.3f},400.0,2.0,90.0,101000.0"
              for t, g, b, d in zip(starts_utc, sky["ghi"], sky["dni"], sky["dhi"], strict=True)]
    lines += ["T2m: 2-m air temperature (degree Celsius)"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_epw_of_mixed_years_gives_the_clear_sky_profile(tmp_path, port_blair):
    starts = local_year_hours_utc(YEAR, TZ).tz_convert(TZ)
    sky = clear_sky(starts + pd.Timedelta(minutes=30))
    path = tmp_path / "port_blair.epw"
    write_epw(path, sky, starts.tz_localize(None), years=2005 + starts.month % 4)  # a TMY: months of 2005-2008
    tmy = read_tmy(path, timezone=TZ)
    assert list(tmy.columns) == ["ghi", "dni", "dhi"] and len(tmy) == 8760
    profile = pv_profile_from_tmy(tmy, *PORT_BLAIR, YEAR, system_loss_fraction=LOSS, timezone=TZ)
    np.testing.assert_allclose(profile, port_blair, atol=0.01)
    # several sites at once, each with its own sun
    both = pv_profile_from_tmy(tmy, [PORT_BLAIR[0], 12.0], [PORT_BLAIR[1], 93.0], YEAR, system_loss_fraction=LOSS, timezone=TZ)
    np.testing.assert_allclose(both[0], profile[0])
    assert both.shape == (2, 8760) and not np.allclose(both[1], both[0])


def test_pvgis_tmy_in_utc_is_moved_onto_india_hours(tmp_path, port_blair):
    starts_utc = pd.date_range(f"{YEAR}-01-01", periods=8760, freq="h", tz="UTC")
    path = tmp_path / "tmy_11.670_92.740.csv"
    write_pvgis_csv(path, clear_sky(starts_utc + pd.Timedelta(minutes=30)), starts_utc)
    tmy = read_tmy(path, timezone=TZ)
    assert str(tmy.index.tz) == "UTC" and len(tmy) == 8760
    profile = pv_profile_from_tmy(tmy, *PORT_BLAIR, YEAR, system_loss_fraction=LOSS, timezone=TZ)
    # each India hour (UTC+5:30) is half of two UTC hours: the same year within 1 %, close hour by hour
    assert profile.sum() == pytest.approx(port_blair.sum(), rel=0.01)
    assert np.abs(profile - port_blair).max() < 0.05


def test_hours_are_placed_by_date_and_hour_with_overlap_weights(tmp_path):
    """A kW/kWp file in UTC (one nonzero hour) lands on the India hours it overlaps, half each."""
    starts_utc = pd.date_range("2019-01-01", periods=8760, freq="h", tz="UTC")
    values = np.zeros(8760)
    values[6] = 1.0  # 06:00-07:00 UTC on January 1 = 11:30-12:30 IST
    path = tmp_path / "pv.csv"
    pd.DataFrame({"time": starts_utc.strftime("%Y-%m-%d %H:%M+00:00"), "kw_per_kwp": values}).to_csv(path, index=False)
    profile = pv_profile_from_tmy(read_tmy(path, timezone="UTC"), *PORT_BLAIR, 2024, system_loss_fraction=LOSS, timezone=TZ)
    local = local_year_hours_utc(2024, TZ).tz_convert(TZ)
    assert profile.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(profile[0, (local.dayofyear == 1) & np.isin(local.hour, [11, 12])], [0.5, 0.5])


def test_epw_bad_value_and_missing_hours_name_the_file(tmp_path):
    starts = local_year_hours_utc(YEAR, TZ).tz_convert(TZ).tz_localize(None)
    sky = clear_sky(starts.tz_localize(TZ) + pd.Timedelta(minutes=30))
    bad = sky.copy()
    bad.iloc[100, bad.columns.get_loc("dni")] = 9999.0  # EPW's "missing"
    path = tmp_path / "bad.epw"
    write_epw(path, bad, starts)
    with pytest.raises(InputError, match=r"bad\.epw: dni, hour starting .*: 9999 is not a number from 0 to 1500"):
        read_tmy(path, timezone=TZ)
    gap = tmp_path / "gap.epw"
    write_epw(gap, sky, starts.delete(5).insert(5, starts[4]))
    with pytest.raises(InputError, match=r"gap\.epw: time: expected each hour of the year once"):
        read_tmy(gap, timezone=TZ)
    short = tmp_path / "short.epw"
    write_epw(short, sky.iloc[:100], starts[:100])
    with pytest.raises(InputError, match=r"short\.epw: expected 8760 hourly rows"):
        read_tmy(short, timezone=TZ)
    broken = tmp_path / "broken.epw"
    broken.write_text("not a weather file\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.epw: cannot read as EnergyPlus weather"):
        read_tmy(broken, timezone=TZ)


@pytest.mark.parametrize("header, cell, text", [
    ("kw_per_kwp,KW_per_kWp", "0.5,0.5", "kw_per_kwp: the header names this column more than once"),
    ("kw_per_kwp", "True", "kw_per_kwp: line 2: True is not a number"),
])
def test_plain_csv_year_header_and_yes_no_cells(tmp_path, header, cell, text):
    path = tmp_path / "year.csv"
    path.write_text(header + "\n" + "\n".join([cell] * 8760) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=text):
        read_tmy(path, year=YEAR, timezone=TZ)


def test_the_bundled_maps_are_read_once_for_every_system_with_pvlibs_values(monkeypatch):
    """Linke turbidity and altitude of many systems: one read of each map, the values of pvlib's own
    one-site lookups (including the last row and column of the grids and a site without altitude data)."""
    rng = np.random.default_rng(5)
    lat = np.concatenate([rng.uniform(-60, 70, 40), [89.99, -89.99, 0.0, 11.67]])
    lon = np.concatenate([rng.uniform(-179, 179, 40), [179.99, -179.99, -30.0, 92.74]])
    opened = []
    real_file = solar.h5py.File
    monkeypatch.setattr(solar.h5py, "File", lambda *a, **k: opened.append(a[0]) or real_file(*a, **k))
    linke = solar._linke_turbidity_monthly(lat, lon)
    altitude = solar._altitudes(lat, lon, None)
    assert len(opened) == 2
    months = pd.date_range("2001-01-01", periods=12, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    want = [pvlib.clearsky.lookup_linke_turbidity(months, la, lo, interp_turbidity=False).to_numpy()
            for la, lo in zip(lat, lon, strict=True)]
    assert np.array_equal(linke, np.array(want))
    assert np.array_equal(altitude, [pvlib.location.lookup_altitude(la, lo) for la, lo in zip(lat, lon, strict=True)])
    assert (altitude == 0).any()  # the open sea at (0, -30) has no altitude data


def test_a_profile_for_many_systems_reads_each_map_once(monkeypatch):
    opened = []
    real_file = solar.h5py.File
    monkeypatch.setattr(solar.h5py, "File", lambda *a, **k: opened.append(a[0]) or real_file(*a, **k))
    pv_profile_kw_per_kwp([11.67, 10.57, 34.16], [92.74, 72.64, 77.58], YEAR, system_loss_fraction=LOSS, timezone=TZ)
    assert sorted(p.name for p in opened) == ["Altitude.h5", "LinkeTurbidities.h5"]


# ---------------------------------------------------------------------------------------------------
# Profiles interpolated from a lattice

# Islands near 7-12 N, the Himalaya at 31-35 N, the north-east and a few mainland places (lat, lon).
SPREAD_SITES = {
    "Port Blair": (11.67, 92.74), "Car Nicobar": (9.15, 92.82), "Campbell Bay": (7.01, 93.93),
    "Kavaratti": (10.57, 72.64), "Minicoy": (8.28, 73.05), "Agatti": (10.86, 72.19), "Leh": (34.16, 77.58),
    "Kargil": (34.55, 76.13), "Kaza": (32.23, 78.07), "Keylong": (32.57, 77.03), "Shimla": (31.10, 77.17),
    "Srinagar": (34.08, 74.80), "Gangtok": (27.33, 88.61), "Shillong": (25.57, 91.88), "Tawang": (27.59, 91.86),
    "Jaipur": (26.91, 75.79), "Chennai": (13.08, 80.27), "Bhuj": (23.25, 69.67),
}
# The error the scenario default's lattice step is stated to keep (scenarios/defaults.yaml,
# dispatch.pv_lattice_step_deg), kW/kWp of profiles at the same annual yield: in any hour, and over the year.
LATTICE_MAX_ERROR = 0.025
LATTICE_MEAN_ERROR = 0.0037


def at_same_yield(profile: np.ndarray) -> np.ndarray:
    """Profiles scaled to 1,500 kWh/kWp a year, as the dispatch scales them to the catalogue yield."""
    return profile * (1500.0 / profile.sum(axis=1))[:, None]


def test_lattice_profiles_agree_with_every_site_computed():
    step = load_scenario("india-islands").dispatch.pv_lattice_step_deg
    lat, lon = np.array(list(SPREAD_SITES.values())).T
    # Five systems around each place (within 0.01 degree): fewer lattice nodes than systems.
    lat = np.repeat(lat, 5) + np.tile(np.linspace(0.0, 0.01, 5), lat.size)
    lon = np.repeat(lon, 5)
    derate = np.linspace(0.6, 0.95, 12)
    exact = pv_profile_kw_per_kwp(lat, lon, YEAR, derate, system_loss_fraction=LOSS, timezone=TZ)
    nodes = solar.lattice_weights(lat, lon, step)[0]
    assert nodes.size < lat.size
    lattice = pv_profile_kw_per_kwp(lat, lon, YEAR, derate, system_loss_fraction=LOSS, timezone=TZ,
                                    lattice_step_deg=step)
    error = np.abs(at_same_yield(lattice) - at_same_yield(exact))
    worst = dict(zip(np.repeat(list(SPREAD_SITES), 5), error.max(axis=1), strict=True))
    assert error.max() <= LATTICE_MAX_ERROR, worst
    assert error.mean(axis=1).max() <= LATTICE_MEAN_ERROR
    local_hour = local_year_hours_utc(YEAR, TZ).tz_convert(TZ).hour
    assert np.all(lattice[:, (local_hour >= 20) | (local_hour < 4)] == 0)


def test_lattice_only_when_fewer_nodes_than_sites():
    lat, lon = np.array([PORT_BLAIR[0], LEH[0]]), np.array([PORT_BLAIR[1], LEH[1]])
    exact = pv_profile_kw_per_kwp(lat, lon, YEAR, system_loss_fraction=LOSS, timezone=TZ)
    assert np.array_equal(
        pv_profile_kw_per_kwp(lat, lon, YEAR, system_loss_fraction=LOSS, timezone=TZ, lattice_step_deg=1.0), exact)


def test_lattice_weights_interpolate_a_plane_exactly():
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(6, 36, 300), rng.uniform(68, 98, 300)
    node_lat, node_lon, weights = solar.lattice_weights(lat, lon, 0.5)
    assert np.all(np.isin(node_lat / 0.5, np.arange(12, 73))) and weights.shape == (300, node_lat.size)
    np.testing.assert_allclose(np.asarray(weights.sum(axis=1)).ravel(), 1.0)
    plane = lambda la, lo: 3.0 * la - 2.0 * lo + 7.0  # noqa: E731
    np.testing.assert_allclose(weights @ plane(node_lat, node_lon), plane(lat, lon))


def test_no_hour_with_the_sun_up_is_skipped():
    # Output is computed only where the geocentric elevation exceeds -2 degrees: every hour in which
    # pvlib's SPA has the sun above the horizon must still give output, at the equator and in the Himalaya.
    lat, lon = np.array([PORT_BLAIR[0], LEH[0], 0.5]), np.array([PORT_BLAIR[1], LEH[1], 80.0])
    profile = pv_profile_kw_per_kwp(lat, lon, YEAR, system_loss_fraction=LOSS, timezone=TZ)
    times = local_year_hours_utc(YEAR, TZ) + pd.Timedelta(minutes=30)
    for i in range(lat.size):
        zenith = pvlib.solarposition.spa_python(times, lat[i], lon[i])["apparent_zenith"].to_numpy()
        assert np.all(profile[i, zenith < 89.0] > 0)
        assert np.all(profile[i, zenith > 91.0] == 0)


def test_compiled_sun_position_is_pvlib_spa_to_rounding():
    """The compiled site steps give pvlib's own NREL SPA (numpy) with the same delta T, to 1e-9 degree."""
    times = local_year_hours_utc(YEAR, TZ)[::7] + pd.Timedelta(minutes=30)
    lat, lon, alt = np.array([11.62, 34.15, -33.9, 64.8]), np.array([92.73, 77.58, 151.2, -147.7]), \
        np.array([10.0, 3500.0, 50.0, 140.0])
    apparent_zenith, azimuth = solar_position(times, lat, lon, alt)
    delta_t = pvlib.spa.calculate_deltat(times.year.to_numpy(), times.month.to_numpy())
    for i in range(len(lat)):
        theta, _, _, _, phi, _ = pvlib.spa.solar_position_numpy(
            times.as_unit("ns").asi8 / 1e9, lat[i], lon[i], alt[i], pvlib.atmosphere.alt2pres(alt[i]) / 100.0,
            12.0, delta_t, 0.5667, 1)
        np.testing.assert_allclose(apparent_zenith[i], theta, rtol=0, atol=1e-9)
        np.testing.assert_allclose(azimuth[i], phi, rtol=0, atol=1e-9)
