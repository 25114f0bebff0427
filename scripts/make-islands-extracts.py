#!/usr/bin/env python3
"""Write the layers bundled with the india-islands scenario (src/smrplan/data/india_islands/).

Small extracts of the public data directory, clipped to Andaman & Nicobar and Lakshadweep, so that
`make run` screens every siting criterion that public data exist for and draws real coastlines
without network. Each file's licence and attribution are written to sources.csv and SOURCE.md.

    python scripts/make-islands-extracts.py ../shared/data
    python scripts/make-islands-extracts.py ../shared/data --airports   # also airports.csv (needs
                                                                        # `pip install airportsdata`)

Inputs (paths inside the data directory): land_coastline_in/osm_land_india_polygons.geojson,
earthquakes_iscgem_in/iscgem_v7_60-100E_0-40N.csv, cyclone_tracks_nio/IBTrACS_TCBT_AS_BOB_1982-2023.csv,
bathymetry_etopo5_in/etopo5_india_66-100E_4-38N.tif, inland_water_in/nrld2019_large_dams_in.csv,
power_plants_in/gppd_database_IND.csv. Needs geopandas, pyogrio, rasterio, shapely (the package's own).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from rasterio.windows import from_bounds

OUT = Path(__file__).resolve().parents[1] / "src" / "smrplan" / "data" / "india_islands"
# (minx, miny, maxx, maxy) degrees of each territory's islands.
TERRITORIES = {"Andaman and Nicobar Islands": (92.0, 6.4, 94.3, 14.0), "Lakshadweep": (71.5, 7.8, 74.2, 12.5)}
# Hazard catalogues keep events this far (degrees, about 165 km) beyond the islands: the siting radii
# (earthquakes 50 km, cyclones 100 km in scenarios/defaults.yaml) may be raised without new extracts.
HAZARD_PAD_DEG = 1.5
# Seismic zone polygons reach this far (degrees, about 55 km) off the islands, beyond every floating berth.
ZONE_PAD_DEG = 0.5
# IS 1893 (Part 1):2016 Fig. 1: all of Andaman & Nicobar in zone V, the Lakshadweep islands in zone III
# (as listed by the Ministry of Earth Sciences, Lok Sabha answer on seismic zoning); the CWC National
# Register of Large Dams 2019 records zone V at both A&N large dams (Dhanikhari, Kalpong).
ZONES = {"Andaman and Nicobar Islands": "V", "Lakshadweep": "III"}
ZONE_SOURCE = "IS 1893 (Part 1):2016 Fig. 1 (BIS); A&N zone V also at both NRLD 2019 dams (CWC)"

SOURCES = [
    # file, layer, what, licence, attribution, made from
    ("land.geojson", "land", "island polygons (OpenStreetMap coastline, simplified to about 50 m)",
     "ODbL 1.0", "© OpenStreetMap contributors (via geo-maps countries-land-10m)",
     "land_coastline_in/osm_land_india_polygons.geojson"),
    ("seismic_zones.geojson", "seismic_zones", "IS 1893 seismic zone of each territory (islands and berths)",
     "Indian standard, zone typed in; polygons derived from the OpenStreetMap land (ODbL 1.0)",
     "Bureau of Indian Standards IS 1893 (Part 1):2016; CWC NRLD 2019; © OpenStreetMap contributors",
     "land.geojson + IS 1893 zone per territory"),
    ("earthquakes.csv", "earthquakes", "instrumental earthquakes 1904-2016, Mw >= about 5",
     "CC BY-SA 3.0", "ISC-GEM Global Instrumental Earthquake Catalogue v7.0, © ISC and GEM Foundation",
     "earthquakes_iscgem_in/iscgem_v7_60-100E_0-40N.csv"),
    ("cyclone_tracks.csv", "cyclone_tracks", "tropical cyclone best-track fixes 1982-2022 (3-hourly)",
     "public domain (NOAA)", "NOAA NCEI IBTrACS v04r01 (Knapp et al. 2010)",
     "cyclone_tracks_nio/IBTrACS_TCBT_AS_BOB_1982-2023.csv"),
    ("bathymetry.tif", "bathymetry", "sea-floor and land relief, 5 arc-minute cells (about 9 km)",
     "public domain (NOAA)", "NOAA NGDC ETOPO5 (1988)", "bathymetry_etopo5_in/etopo5_india_66-100E_4-38N.tif"),
    ("dams.csv", "dams", "large dams with gross storage (million m3)", "public Government of India document",
     "Central Water Commission, National Register of Large Dams 2019", "inland_water_in/nrld2019_large_dams_in.csv"),
    ("power_plants.csv", "power_plants", "power plants of the Global Power Plant Database",
     "CC BY 4.0", "World Resources Institute, Global Power Plant Database v1.3", "power_plants_in/gppd_database_IND.csv"),
    ("airports.csv", "airports", "airports and airstrips", "MIT",
     "airportsdata (PyPI package, mborsetti/airportsdata)", "airportsdata.load('ICAO')"),
]


def in_boxes(lon: np.ndarray, lat: np.ndarray, pad: float) -> np.ndarray:
    """True where a point lies in a territory's box grown by `pad` degrees."""
    keep = np.zeros(len(lon), bool)
    for x0, y0, x1, y1 in TERRITORIES.values():
        keep |= (lon >= x0 - pad) & (lon <= x1 + pad) & (lat >= y0 - pad) & (lat <= y1 + pad)
    return keep


def land(data: Path) -> gpd.GeoDataFrame:
    """Island polygons of both territories, with their territory and area (km2)."""
    parts = []
    for name, box in TERRITORIES.items():
        g = pyogrio.read_dataframe(data / "land_coastline_in/osm_land_india_polygons.geojson", bbox=box)
        g = g[g.geometry.intersects(shapely.box(*box))].copy()
        g["territory"] = name
        parts.append(g)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    out["area_km2"] = out["area_km2"].round(4)
    return out[["territory", "area_km2", "geometry"]]


def seismic_zones(islands: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One polygon per territory: the convex hull of its islands grown by `ZONE_PAD_DEG`."""
    rows = []
    for name, g in islands.groupby("territory"):
        hull = shapely.convex_hull(shapely.union_all(g.geometry.values)).buffer(ZONE_PAD_DEG, quad_segs=4)
        rows.append({"territory": name, "zone": ZONES[name], "zone_source": ZONE_SOURCE,
                     "geometry": shapely.set_precision(hull, 1e-3)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def points_table(path: Path, lon: str, lat: str, columns: list[str], pad: float) -> pd.DataFrame:
    """Rows of a lon/lat table inside the padded territory boxes."""
    t = pd.read_csv(path)
    keep = in_boxes(t[lon].to_numpy(float), t[lat].to_numpy(float), pad)
    return t.loc[keep, columns]


def bathymetry(data: Path, out: Path) -> None:
    """ETOPO5 cells over both territories (one window), deflate-compressed int16."""
    xs = [b[0] for b in TERRITORIES.values()] + [b[2] for b in TERRITORIES.values()]
    ys = [b[1] for b in TERRITORIES.values()] + [b[3] for b in TERRITORIES.values()]
    with rasterio.open(data / "bathymetry_etopo5_in/etopo5_india_66-100E_4-38N.tif") as src:
        win = from_bounds(min(xs) - 0.5, min(ys) - 0.5, max(xs) + 0.5, max(ys) + 0.5, src.transform)
        win = win.round_offsets().round_lengths()
        arr = src.read(1, window=win)
        profile = {**src.profile, "height": arr.shape[0], "width": arr.shape[1], "transform": src.window_transform(win),
                   "compress": "deflate", "predictor": 2, "blockysize": arr.shape[0]}
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(arr, 1)


def airports() -> pd.DataFrame:
    """Airports and airstrips of the airportsdata package inside the territory boxes."""
    import airportsdata

    a = pd.DataFrame(airportsdata.load("ICAO").values())
    keep = in_boxes(a["lon"].to_numpy(float), a["lat"].to_numpy(float), 0.0)
    return a.loc[keep, ["icao", "iata", "name", "subd", "lat", "lon"]].rename(columns={"subd": "territory"})


def main() -> None:
    """Write every extract, sources.csv and report the sizes."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="the public data directory (../shared/data)")
    ap.add_argument("--airports", action="store_true", help="also write airports.csv (needs the airportsdata package)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    opts = {"driver": "GeoJSON", "layer_options": {"COORDINATE_PRECISION": 5, "RFC7946": "YES"}}
    islands = land(args.data)
    pyogrio.write_dataframe(islands, OUT / "land.geojson", **opts)
    pyogrio.write_dataframe(seismic_zones(islands), OUT / "seismic_zones.geojson", **opts)
    points_table(args.data / "earthquakes_iscgem_in/iscgem_v7_60-100E_0-40N.csv", "lon", "lat",
                 ["eventid", "origin_time_utc", "lat", "lon", "depth_km", "mw", "mw_type"], HAZARD_PAD_DEG
                 ).to_csv(OUT / "earthquakes.csv", index=False)
    points_table(args.data / "cyclone_tracks_nio/IBTrACS_TCBT_AS_BOB_1982-2023.csv", "LON", "LAT",
                 ["DATETIME", "CAT", "CS_ID", "LAT", "LON", "MSWS"], HAZARD_PAD_DEG
                 ).to_csv(OUT / "cyclone_tracks.csv", index=False)
    bathymetry(args.data, OUT / "bathymetry.tif")
    dams = points_table(args.data / "inland_water_in/nrld2019_large_dams_in.csv", "lon", "lat",
                        ["dam_name", "lat", "lon", "year_completed", "river", "seismic_zone", "height_m",
                         "gross_storage_mcm"], 0.0)
    dams.to_csv(OUT / "dams.csv", index=False)
    plants = points_table(args.data / "power_plants_in/gppd_database_IND.csv", "longitude", "latitude",
                          ["name", "gppd_idnr", "capacity_mw", "primary_fuel", "commissioning_year", "owner", "latitude",
                           "longitude"], 0.0).rename(columns={"latitude": "lat", "longitude": "lon"})
    plants.to_csv(OUT / "power_plants.csv", index=False)
    if args.airports:
        airports().to_csv(OUT / "airports.csv", index=False)
    written = [s for s in SOURCES if (OUT / s[0]).is_file()]
    with open(OUT / "sources.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "layer", "what", "licence", "attribution", "made_from"])
        w.writerows(written)
    total = 0
    for s in written:
        size = (OUT / s[0]).stat().st_size
        total += size
        print(f"{s[0]:24s} {size / 1024:8.1f} KB")
    print(f"{'total':24s} {total / 1024:8.1f} KB")


if __name__ == "__main__":
    main()
