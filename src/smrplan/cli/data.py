"""`smrplan data ...`: check a data directory, and import public downloads into layer files
(registered in cli/main.py as the "data" group).

`smrplan data import DATASET SOURCE... --out FILE` runs the importer of `smrplan.geo.importers` for
DATASET (a layer of docs/data.md) and writes its result in the project's data contract (WGS84, columns
with units) to FILE: GeoPackage (.gpkg), GeoJSON (.geojson), GeoParquet (.parquet), or for point
layers CSV (.csv, lon/lat columns). The file appears complete or not at all: it is written under a
temporary name in the same folder and then renamed. Bad input raises `InputError` (exit status 2,
naming the file and the field).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from smrplan.errors import InputError
from smrplan.geo.io import DEFAULT_REGION
from smrplan.outputs.rundir import check_file_out, write_file

if TYPE_CHECKING:
    import geopandas as gpd

data_app = typer.Typer(no_args_is_help=True,
                       help="Check the layers of a data directory; import public downloads into layer files.")
import_app = typer.Typer(no_args_is_help=True, help=(
    "Convert a public download into a layer file in smrplan's data contract (WGS84, columns with units). "
    "--out FILE: .gpkg, .geojson or .parquet (GeoParquet); .csv (lon/lat columns) for point layers. "
    "Sources and layers: docs/data.md."))
data_app.add_typer(import_app, name="import")


@data_app.callback()
def _data() -> None:
    """Commands about a data directory and the files in it."""


def _mapping(layers: list[str] | None) -> dict[str, str] | None:
    if not layers:
        return None
    mapping = {}
    for item in layers:
        name, sep, file = item.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise typer.BadParameter(f"{item!r} is not NAME=FILE", param_hint="--layer")
        mapping[name.strip()] = file.strip()
    return mapping


def _with_repairs(report: pd.DataFrame, region: str) -> pd.DataFrame:
    """For each layer with errors: read it as a run with --repair would (settlements and anchor_loads
    with their repairing readers; other layers only when their errors are a missing CRS). When that
    succeeds, the layer's status becomes "warning" and a line lists the repairs made."""
    from smrplan.geo.io import read_anchor_loads, read_settlements, read_vector

    report = report.copy()
    problems_of, status = list(report["problems"]), list(report["status"])
    for i in np.flatnonzero(report["status"].eq("error").to_numpy()):  # layers, not rows
        name, path, problems = report["layer"].iloc[i], Path(report["file"].iloc[i]), list(problems_of[i])
        errors = [p for p in problems if p.startswith("error")]
        try:
            if name == "settlements":
                gdf = read_settlements(path, repair=True, region=region)
            elif name == "anchor_loads":
                gdf = read_anchor_loads(path, repair=True, region=region)
            elif all("coordinate reference system" in e for e in errors):
                gdf = read_vector(path, drop_missing_coords=True, repair=True)
            else:
                continue
        except InputError as exc:
            problems.append(f"error: not repairable with --repair: {exc.message}")
            problems_of[i] = problems
            continue
        fixes = ", ".join(f"{k} {v}" for k, v in gdf.attrs.get("repairs", {}).items()) or "none needed"
        problems = [p.replace("error:", "warning (repaired with --repair):", 1) for p in problems]
        problems.append(f"warning: --repair fixes: {fixes}; {gdf.attrs.get('dropped_rows', 0)} row(s) dropped")
        problems_of[i], status[i] = problems, "warning"
    report["problems"] = pd.Series(problems_of, index=report.index, dtype=object)
    report["status"] = status
    return report


@data_app.command("check")
def check(directory: Annotated[Path, typer.Argument(help="Data directory.")],
          layer: Annotated[list[str] | None, typer.Option(
              "--layer", help="NAME=FILE (relative to DIR); repeat. Default: every layer file found.")] = None,
          region: Annotated[str, typer.Option("--region", help="Bounding box for the region check.")] = DEFAULT_REGION,
          repair: Annotated[bool, typer.Option(
              "--repair", help="Also say which errors `smrplan run --repair` would fix (and how, row by row, in the "
                               "log); such layers count as warnings, not errors.")] = False,
          ) -> None:
    """Check every layer: readable, rows, CRS, extent, geometries, ids, population. Exit 2 on errors."""
    from smrplan.geo.datacheck import check_data_dir, has_errors

    if not directory.is_dir():
        raise InputError(directory, None, "not a directory")
    report = check_data_dir(directory, _mapping(layer), region=region)
    if repair:
        report = _with_repairs(report, region)
    table = Table(title=f"{directory}: {len(report)} layer(s)", show_lines=True)
    columns: tuple[tuple[str, JustifyMethod], ...] = (("layer", "left"), ("rows", "right"), ("CRS", "left"),
                                                      ("extent (lon/lat)", "left"), ("problems", "left"))
    for col, justify in columns:
        table.add_column(col, justify=justify, overflow="fold")
    colour = {"ok": "green", "warning": "yellow", "error": "red"}
    for r in report.to_dict("records"):
        extent = "-"
        if r["extent"] is not None:
            x0, y0, x1, y1 = r["extent"]
            extent = f"{x0:.2f}..{x1:.2f} E, {y0:.2f}..{y1:.2f} N"
        table.add_row(f"[{colour[r['status']]}]{r['layer']}[/]", "-" if pd.isna(r["rows"]) else f"{int(r['rows']):,}",
                      r["crs"] or "-", extent, "\n".join(r["problems"]) or "ok")
    Console().print(table)
    if has_errors(report):
        raise typer.Exit(code=2)


# --- data import ------------------------------------------------------------------------------------

# Output formats by suffix of --out: pyogrio driver, or None for GeoParquet / CSV.
_FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".parquet": None, ".csv": None}

Source = Annotated[Path, typer.Argument(help="The downloaded file.", show_default=False)]
Out = Annotated[Path, typer.Option("--out", help="Layer file to write: .gpkg, .geojson, .parquet (GeoParquet) or, for "
                                                 "point layers, .csv (lon/lat columns).", show_default=False)]


def _check_out(out: Path, sources: list[Path], points: bool) -> None:
    """Raise InputError unless `out` has a known suffix (.csv for `points` only), its folder exists and is
    writable, it is no folder and none of the sources, which must exist (`check_file_out`)."""
    if out.suffix.lower() == ".csv" and not points:
        raise InputError(out, "--out", "CSV holds points only; write this layer to .gpkg, .geojson or .parquet")
    for source in sources:
        if not source.exists():
            raise InputError(source, None, "file not found")
        if out.resolve() == source.resolve():
            raise InputError(out, "--out", "is the source file; write the layer to another file")
    check_file_out(out, suffixes=_FORMATS)
    if not out.parent.is_dir():
        raise InputError(out, "--out", "the folder does not exist")


def _write_layer(gdf: gpd.GeoDataFrame, out: Path, layer: str) -> None:
    """Write `gdf` to `out` in the format of its suffix, under a temporary name first, then renamed.

    Object columns are written as text (missing values blank); a CSV (points only) holds lon/lat
    columns (degrees) in place of the geometry. The temporary file is removed if writing fails.
    """
    suffix = out.suffix.lower()
    data = gdf.copy()
    data.attrs = {}
    for col in data.columns:
        if col != data.geometry.name and data[col].dtype == object:
            data[col] = data[col].where(data[col].notna(), "").astype(str)

    def write(tmp: Path) -> None:
        if suffix == ".csv":
            table = pd.DataFrame(data.drop(columns=data.geometry.name))
            table["lon"], table["lat"] = data.geometry.x.to_numpy(), data.geometry.y.to_numpy()  # replace any old ones
            table.to_csv(tmp, index=False)
        elif suffix == ".parquet":
            data.to_parquet(tmp, index=False)
        else:
            data.to_file(tmp, layer=layer, driver=_FORMATS[suffix], engine="pyogrio")

    write_file(out, write)


def _import(read: Callable[[], gpd.GeoDataFrame], sources: list[Path], out: Path, layer: str,
            notes: Callable[[gpd.GeoDataFrame], list[str]], points: bool = True) -> None:
    """Check the paths, run the importer, write its layer and print what was written.

    `read` runs the importer; `notes` says what it left out or repaired (from the layer's attrs);
    `points`: the layer holds points (CSV allowed).
    """
    _check_out(out, sources, points)
    gdf = read()
    lines = notes(gdf)
    _write_layer(gdf, out, layer)
    Console().print(f"wrote {out} (layer {layer}): {len(gdf):,} feature(s)" + "".join(f"; {n}" for n in lines),
                    highlight=False, soft_wrap=True)


def _dropped(gdf: gpd.GeoDataFrame, what: str) -> list[str]:
    n = int(gdf.attrs.get("dropped_rows", 0))
    return [f"{n:,} row(s) {what} left out"] if n else []


@import_app.command("towns")
def import_towns(source: Source, out: Out,
                 country: Annotated[str, typer.Option(help="GeoNames country_code of the places to keep.")] = "IN",
                 ) -> None:
    """GeoNames cities -> town points with population.

    SOURCE: cities500.txt, cities15000.txt, allCountries.txt (download.geonames.org/export/dump) or a
    CSV/Parquet extract with a header. Writes id (GN-<geonameid>), name, population (persons; GeoNames'
    0 = unknown is left blank), feature and admin codes. Sections of places (PPLX) and historical or
    abandoned places are left out."""
    from smrplan.geo.importers import read_geonames_cities

    _import(lambda: read_geonames_cities(source, country=country), [source], out, "towns",
            lambda g: [f"{int(g['population'].isna().sum()):,} without a population"])


@import_app.command("postal_places")
def import_postal_places(source: Source, out: Out) -> None:
    """GeoNames postal codes -> post-office place points.

    SOURCE: IN.txt (download.geonames.org/export/zip) or a CSV/Parquet extract with a header. Writes id
    (PIN-<code>-<n>), name, population (blank: GeoNames has none), postal_code, admin names, accuracy;
    rows without coordinates are left out."""
    from smrplan.geo.importers import read_geonames_postal

    _import(lambda: read_geonames_postal(source), [source], out, "postal_places",
            lambda g: _dropped(g, "without coordinates"))


@import_app.command("districts")
def import_districts(source: Source, out: Out) -> None:
    """District boundaries -> district polygons with Census 2011 codes.

    SOURCE: DataMeet districts (github.com/datameet/maps), or geoBoundaries ADM2 with columns renamed to
    st_nm and district. Writes st_nm, st_code, district, dt_code (Census 2011 codes, blank for newer
    districts), area_km2 (km2), the other columns; invalid polygons are repaired."""
    from smrplan.geo.importers import read_districts

    _import(lambda: read_districts(source), [source], out, "districts", lambda g: [], points=False)


@import_app.command("district_population")
def import_district_population(
        source: Annotated[Path, typer.Argument(help="Census 2011 district table (state_code, district_code, state_name, "
                                                    "district_name, pop_total).", show_default=False)],
        out: Out,
        districts: Annotated[Path, typer.Option("--districts", help="District boundaries to join the totals to (as "
                                                                    "for `import districts`).", show_default=False)],
) -> None:
    """Census 2011 district totals joined to district polygons.

    Joined by code, then by the bundled aliases, then by name within each state. Writes the polygons with
    population, households, population_urban (persons, households), census_district_codes and
    census_match, and lists the polygons without a census total and the census districts without a
    polygon."""
    from smrplan.geo.importers import join_census_districts, read_census_districts, read_districts

    def notes(g: gpd.GeoDataFrame) -> list[str]:
        lines = []
        for key, what in (("unmatched_districts", "polygon(s) without a census total (mostly districts newer than "
                                                  "2011)"), ("unmatched_census", "census district(s) without a polygon")):
            names = list(g.attrs.get(key, []))
            if names:
                lines.append(f"{len(names)} {what}: {', '.join(map(str, names[:5]))}{', ...' if len(names) > 5 else ''}")
        return lines

    _import(lambda: join_census_districts(read_districts(districts), read_census_districts(source)),
            [source, districts], out, "district_population", notes, points=False)


@import_app.command("land")
def import_land(sources: Annotated[list[Path], typer.Argument(help="Land polygon files (OpenStreetMap land polygons, "
                                                                   "Natural Earth land); several are combined.",
                                                              show_default=False)],
                out: Out) -> None:
    """Land polygons -> valid single polygons with their area.

    SOURCES: OpenStreetMap land polygons (osmdata.openstreetmap.de), Natural Earth land. Writes area_km2
    (km2, equal-area EPSG:6933), source (file name), geometry; invalid polygons are repaired, lines and
    points left by clipping dropped."""
    from smrplan.geo.importers import read_land_polygons

    def notes(g: gpd.GeoDataFrame) -> list[str]:
        return [f"{g.attrs.get('repaired', 0):,} invalid polygon(s) repaired",
                f"{g.attrs.get('dropped_features', 0):,} feature(s) without a polygon dropped"]

    _import(lambda: read_land_polygons(sources), list(sources), out, "land", notes, points=False)


@import_app.command("power_plants")
def import_power_plants(source: Source, out: Out,
                        country: Annotated[str, typer.Option(help="GPPD country code (ISO 3166 alpha-3) of the plants "
                                                                  "to keep.")] = "IND") -> None:
    """WRI Global Power Plant Database -> power plant points.

    SOURCE: the global CSV or a country table (datasets.wri.org). Writes id (gppd_idnr), name,
    capacity_mw (MW), primary_fuel, commissioning_year, owner, source; rows without coordinates are
    left out."""
    from smrplan.geo.importers import read_gppd

    _import(lambda: read_gppd(source, country=country), [source], out, "power_plants",
            lambda g: _dropped(g, "without coordinates"))


@import_app.command("grid_lines")
def import_grid_lines(source: Source, out: Out,
                      kind: Annotated[list[str] | None, typer.Option(
                          "--kind", help="OSM power=* values to keep; repeat. Default: line and minor_line.")] = None,
                      ) -> None:
    """OpenStreetMap power lines -> grid lines with voltage in kV.

    SOURCE: a GeoJSON / GeoPackage of ways with power and voltage tags, as columns or in other_tags (e.g.
    Geofabrik extract + osmium tags-filter). Writes id, power, voltage_kv (kV, the highest tagged
    voltage), name."""
    from smrplan.geo.importers import read_osm_power_lines

    kinds = tuple(kind) if kind else ("line", "minor_line")
    _import(lambda: read_osm_power_lines(source, kinds=kinds), [source], out, "grid_lines",
            lambda g: [f"{g.attrs.get('dropped_features', 0):,} other feature(s) (towers, substations, ...) left out",
                       f"{int(g['voltage_kv'].isna().sum()):,} line(s) without a voltage"], points=False)


@import_app.command("population_raster")
def import_population_raster(
        source: Annotated[Path, typer.Argument(help="Population GeoTIFF, persons per cell (WorldPop, GHS-POP).",
                                               show_default=False)],
        out: Out,
        h3_resolution: Annotated[int | None, typer.Option(
            "--h3-resolution", help="Make one settlement per populated h3 cell of this resolution (0-15; 7 is about "
                                    "5 km2 a cell).", show_default=False)] = None,
        settlements: Annotated[Path | None, typer.Option(
            "--settlements", help="Or: a settlements layer whose population is replaced by the raster's "
                                  "(each cell to the nearest settlement).", show_default=False)] = None,
        max_distance_km: Annotated[float | None, typer.Option(
            "--max-distance-km", help="With --settlements: cells farther from every settlement (km) are not "
                                      "assigned.", show_default=False)] = None,
) -> None:
    """Population raster -> a settlements layer.

    SOURCE: GeoTIFF of persons per cell (WorldPop, GHS-POP). Writes id, name, population (persons) and
    points: one settlement per populated h3 cell (--h3-resolution), or the given settlements with the
    raster's population (--settlements, --max-distance-km)."""
    from smrplan.geo.importers import raster_population_to_h3, raster_population_to_settlements

    if (h3_resolution is None) == (settlements is None):
        raise InputError(None, "--h3-resolution / --settlements", "give exactly one of them")
    if settlements is None:
        assert h3_resolution is not None, "exactly one of them is given"
        if max_distance_km is not None:
            raise InputError(None, "--max-distance-km", "applies to --settlements only")
        _import(lambda: raster_population_to_h3(source, h3_resolution), [source], out, "settlements",
                lambda g: [f"{g['population'].sum():,.0f} persons"])
        return
    if max_distance_km is None:
        raise InputError(None, "--max-distance-km", "required with --settlements (km)")
    from smrplan.geo.io import read_settlements

    def read() -> gpd.GeoDataFrame:
        return raster_population_to_settlements(source, read_settlements(settlements), max_distance_km)

    def notes(g: gpd.GeoDataFrame) -> list[str]:
        return [f"{g['population'].sum():,.0f} persons assigned",
                f"{g.attrs.get('unassigned_population', 0.0):,.0f} persons in {g.attrs.get('unassigned_cells', 0):,} "
                f"cell(s) farther than {max_distance_km:g} km from every settlement not assigned"]

    _import(read, [source, settlements], out, "settlements", notes)
