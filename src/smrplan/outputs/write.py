"""The run directory: scenario.yaml, catalogue.json, settlements.gpkg, sites.gpkg (the suitable and
built sites, and the reactor_zones layer), sites_rejected.parquet and site_reasons.csv (the sites that
fail the screen, with reason codes; see smrplan.report.sites), context.gpkg, plan.json,
dispatch.parquet (the hourly series asked for), CSV / Parquet copies on request, report.html, plan.qgs
and log.txt (with every file's size), written atomically (see rundir.py); the run directories of a
roadmap, a coal-repowering study and near-optimal alternatives (`write_alternatives_run`)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from smrplan.catalogue.catalogue import to_records
from smrplan.dispatch.simulate import write_dispatch_parquet
from smrplan.optimize.alternatives import Alternatives
from smrplan.optimize.roadmap import first_reactor_year
from smrplan.outputs.rundir import atomic_run_dir, write_json
from smrplan.partition import release_free_memory
from smrplan.rejected_sites import kept, rejected_table
from smrplan.report.geography import (
    CONTEXT_FILE,
    ROADMAP_DRAWS,
    ROADMAP_PROBABILITIES,
    ROADMAP_SETTLEMENTS,
    ZONES_LAYER,
    context_layers,
    reactor_zones,
)
from smrplan.report.html import build_report
from smrplan.report.pages import build_alternatives_report
from smrplan.report.qgis import write_project
from smrplan.report.sites import (
    REASONS_FILE,
    REJECTED_FILE,
    REJECTED_LAYER,
    REJECTED_LAYER_COLUMNS,
    SITES_FILE,
    reasons_table,
)
from smrplan.report.static import write_alternatives_map, write_frontier_figure
from smrplan.report.tables import gap_text
from smrplan.results import Plan, Repowering, Roadmap
from smrplan.scenario import Scenario, scenario_yaml
from smrplan.version import __version__

_SETTLEMENT_FIRST = ["id", "name", "population", "population_target", "households_target", "demand_kwh_per_year", "peak_kw",
                     "grid_status", "grid_status_source", "is_island", "fuel_at_depot", "chosen_option", "site_id", "technology"]


def gpkg_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with columns GeoPackage can hold: lists joined, object and categorical columns as text
    (a categorical column is written as the plain text it holds, as before it was one), bools kept."""
    out = gdf.copy(deep=False)  # columns are replaced, never written in place
    for col in out.columns:
        if col == "geometry":
            continue
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
        if out[col].dtype == object:
            if pd.api.types.infer_dtype(out[col], skipna=False) == "string":  # text in every row: kept, not copied
                continue
            if pd.api.types.infer_dtype(out[col], skipna=True) not in ("string", "empty"):  # a C scan, not per row
                out[col] = out[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
            out[col] = out[col].where(out[col].notna(), "").astype(str)
    return out


@contextlib.contextmanager
def system_arrow_pool() -> Iterator[None]:
    """Arrow allocates from the C library's heap within the block, and from its default pool again after.

    Arrow's default pool (mimalloc or jemalloc) keeps the memory it frees for its own later use, so the
    Arrow tables of the GeoPackage writes and of the report's reads stay resident beside numpy's: about
    90 MiB more at the peak of a 100,000-settlement run. Memory freed to the C library's heap is reused by
    numpy. Buffers keep the pool they came from, so the switch is safe at any time.
    """
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


GPKG_BATCH_ROWS = 50_000
"""Rows of a large point layer converted to Arrow at a time on its way to GDAL (`write_gpkg`)."""


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str, spatial_index: bool = True) -> None:
    """Write one layer of a GeoPackage (added to the file when it exists) through GDAL's Arrow
    interface, about three times faster than feature by feature.

    A layer of more than `GPKG_BATCH_ROWS` 2-D points (settlements, sites) goes to GDAL as a stream of
    Arrow batches of that many rows, so only one batch is held in Arrow's form: in one piece the
    1,000,000-settlement table would need about 0.8 GB more. Other layers go in one piece, as geopandas
    writes them; both give the same layer (tested).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A GeoPackage-ready table (`gpkg_ready`).
    path : Path
        The GeoPackage.
    layer : str
        The layer's name.
    spatial_index : bool, default True
        Build the layer's R-tree index (left out for large layers read whole, to stay small).
    """
    options = None if spatial_index else {"SPATIAL_INDEX": "NO"}
    geometry = gdf.geometry.array
    points = len(gdf) > GPKG_BATCH_ROWS and bool((shapely.get_type_id(geometry) == 0).all()) \
        and not shapely.has_z(geometry).any()
    if not points:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", use_arrow=True, layer_options=options)
        return
    epsg = gdf.crs.to_epsg() if gdf.crs is not None else None
    crs = f"EPSG:{epsg}" if epsg else (gdf.crs.to_wkt("WKT1_GDAL") if gdf.crs is not None else None)  # as geopandas
    pyogrio.write_arrow(_arrow_batches(gdf), path, layer=layer, driver="GPKG", geometry_name=gdf.geometry.name,
                        geometry_type="Point", crs=crs, layer_options=options)


def _arrow_batches(gdf: gpd.GeoDataFrame) -> pa.RecordBatchReader:
    """The rows of `gdf` as Arrow record batches of `GPKG_BATCH_ROWS`, made as GDAL reads them: the
    columns as pyarrow converts them, the geometry as WKB (what geopandas hands to GDAL)."""
    name = gdf.geometry.name

    def batch(rows: slice) -> pa.RecordBatch:
        part = pd.DataFrame({c: gdf[c].iloc[rows] for c in gdf.columns if c != name}, copy=False)
        part[name] = shapely.to_wkb(gdf.geometry.array[rows])
        return pa.RecordBatch.from_pandas(part, preserve_index=False)

    first = batch(slice(0, GPKG_BATCH_ROWS))
    rest = (batch(slice(a, a + GPKG_BATCH_ROWS)).cast(first.schema) for a in range(GPKG_BATCH_ROWS, len(gdf), GPKG_BATCH_ROWS))
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], rest))


def settlements_table(plan: Plan) -> gpd.GeoDataFrame:
    """The plan's settlements as written to settlements.gpkg: the main columns first, GeoPackage-ready."""
    st = plan.settlements
    first = [c for c in _SETTLEMENT_FIRST if c in st.columns]
    rest = [c for c in st.columns if c not in first and c != "geometry"]
    # the plan's own arrays, neither copied nor merged into blocks (a block of a million rows and 90
    # float columns would be a 0.7 GB copy)
    columns = pd.DataFrame({**{c: st[c] for c in first + rest}, "geometry": st.geometry.array}, index=st.index, copy=False)
    return gpkg_ready(gpd.GeoDataFrame(columns, geometry="geometry", copy=False))


def write_run(plan: Plan, out: Path, overwrite: bool = False, progress=lambda s: None,
              protected: Iterable[Path] = ()) -> Path:
    """Write the whole run directory for a plan.

    Parameters
    ----------
    plan : Plan
        The plan (`smrplan.pipeline.make_plan`).
    out : Path
        The run directory.
    overwrite : bool, default False
        Replace an existing `out`.
    progress : callable, default no report
        Called with the name of each step.
    protected : iterable of Path, default none
        Input files and folders `out` must keep clear of (see `smrplan.outputs.rundir.check_out`).

    Returns
    -------
    Path
        `out`, written atomically (all files or none).

    Raises
    ------
    InputError
        When `out` cannot be written (`smrplan.outputs.rundir.check_out`): it exists and `overwrite` is
        not given, it is not a run directory, it is or holds an input, another run holds its lock.
    """
    out = Path(out)
    with atomic_run_dir(out, overwrite, protected) as tmp, system_arrow_pool():
        progress("writing outputs")
        (tmp / "scenario.yaml").write_text(scenario_yaml(plan.scenario), encoding="utf-8")
        write_json(tmp / "catalogue.json", to_records(plan.catalogue))
        st = settlements_table(plan)
        write_gpkg(st, tmp / "settlements.gpkg", "settlements")
        sites, rejected = write_sites(plan, tmp)
        zones = reactor_zones(plan.summary.get("reactor_sites", []), plan.scenario.siting.model_dump(mode="json"),
                              to_records(plan.catalogue))
        write_gpkg(zones, tmp / SITES_FILE, ZONES_LAYER)
        write_context(plan.inputs.region.layers, [plan.settlements.geometry, plan.sites.geometry], tmp / CONTEXT_FILE)
        write_copies(tmp, plan.scenario.outputs.formats, {"settlements": st, "sites": sites, "sites_rejected": rejected})
        del st, sites, rejected  # the report reads the files: the tables written are not held while it runs
        release_free_memory()  # and what writing them freed goes back to the system before the report reads
        hourly = write_hourly(plan, tmp)
        write_json(tmp / "plan.json", _jsonable(plan.summary))
        if plan.scenario.outputs.report:
            progress("report")
            build_report(tmp)
        write_project(tmp)
        log = _log_text(plan) + hourly
        (tmp / "log.txt").write_text(log + size_lines(tmp, exclude=("log.txt",)), encoding="utf-8")
    return out


def write_sites(plan: Plan, folder: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The screened sites into `folder`: full rows of the suitable and built ones in layer ``sites`` of
    sites.gpkg, the rest as compact rows with reason codes in sites_rejected.parquet (and, for GIS,
    with their first failed code in layer ``sites_rejected`` of sites.gpkg), and the code table in
    site_reasons.csv (see `smrplan.report.sites`).

    Parameters
    ----------
    plan : Plan
        The plan: its screened sites and plan.json ``siting`` section (criteria in the screen's order).
    folder : Path
        The (temporary) run directory.

    Returns
    -------
    sites, rejected : geopandas.GeoDataFrame
        The tables written (GeoPackage-ready full rows; compact rows, WGS84 points).
    """
    siting = plan.summary["siting"]
    sites = gpkg_ready(plan.sites[kept(plan.sites)])
    write_gpkg(sites, folder / SITES_FILE, "sites")
    codes = [c["name"] for c in siting.get("criteria", [])]
    made = plan.screen.rejected  # the compact rows a partitioned screen made, else made here
    rejected = gpd.GeoDataFrame((rejected_table(plan.sites, codes) if made is None else made).reset_index(drop=True),
                                geometry="geometry", crs="EPSG:4326")
    rejected.to_parquet(folder / REJECTED_FILE, index=False, compression="zstd")
    write_gpkg(rejected[[*REJECTED_LAYER_COLUMNS, "geometry"]], folder / SITES_FILE, REJECTED_LAYER, spatial_index=False)
    reasons_table(siting).to_csv(folder / REASONS_FILE, index=False)
    return sites, rejected


def write_copies(folder: Path, formats: Iterable[str], tables: dict[str, gpd.GeoDataFrame]) -> None:
    """Copies of the run's tables in the scenario's extra formats (``outputs.formats``): ``csv``
    (<name>.csv, lon and lat columns instead of the geometry) and ``parquet`` (<name>.parquet,
    GeoParquet) of every table but the rejected sites, already GeoParquet.

    Parameters
    ----------
    folder : Path
        The (temporary) run directory.
    formats : iterable of str
        The formats asked for; gpkg is written anyway and ignored here.
    tables : dict of str to geopandas.GeoDataFrame
        The tables by file stem (settlements, sites, sites_rejected).
    """
    formats = set(formats)
    for name, table in tables.items():
        if "csv" in formats:
            plain = pd.DataFrame(table.drop(columns="geometry"))
            if "lon" not in plain.columns:
                plain["lon"], plain["lat"] = table.geometry.x.to_numpy(), table.geometry.y.to_numpy()
            plain.to_csv(folder / f"{name}.csv", index=False)
        if "parquet" in formats and f"{name}.parquet" != REJECTED_FILE:
            table.to_parquet(folder / f"{name}.parquet")


def write_hourly(plan: Plan, folder: Path) -> str:
    """dispatch.parquet with the hourly series the dispatch stage kept, those the scenario asks for
    (``outputs.dispatch_hourly``: every reactor plant and a sample of each other option, or all
    systems; chosen once, by `smrplan.dispatch.reliability.hourly_of`); plan.json's dispatch figures
    sum every simulated system either way.

    Parameters
    ----------
    plan : Plan
        The plan with its dispatch stage.
    folder : Path
        The (temporary) run directory.

    Returns
    -------
    str
        The log line saying what was kept ("" without a dispatch stage, when no file is written).
    """
    if plan.dispatch is None or plan.dispatch.result is None:
        return ""
    o = plan.scenario.outputs
    result = plan.dispatch.result
    records = plan.dispatch.section.get("systems", [])
    write_dispatch_parquet(result, folder / "dispatch.parquet")
    kept = len(result.system_id if result.hourly_ids is None else result.hourly_ids)
    how = "all" if o.dispatch_hourly == "all" else (
        f"every reactor plant and up to {o.dispatch_sample_systems_per_option} systems of each other option; "
        "--all-dispatch keeps all")
    return f"dispatch.parquet: hourly series of {kept} of {len(records)} simulated system(s) ({how})\n"


def size_lines(folder: Path, exclude: Iterable[str] = ()) -> str:
    """The size of every file of a run directory (bytes and MB, 10^6 bytes) and their total, as log lines.

    Parameters
    ----------
    folder : Path
        The run directory.
    exclude : iterable of str
        File names left out (the log itself, written after the sizes).

    Returns
    -------
    str
        One line per file (``file <name>: <bytes> bytes (<MB> MB)``), then the count and total.
    """
    skip = set(exclude)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name not in skip)
    sizes = [(p.name, p.stat().st_size) for p in files]
    lines = [f"file {name}: {n:,} bytes ({n / 1e6:.2f} MB)" for name, n in sizes]
    total = sum(n for _, n in sizes)
    lines.append(f"files: {len(sizes)}, total {total:,} bytes ({total / 1e6:.2f} MB) without {', '.join(sorted(skip))}"
                 if skip else f"files: {len(sizes)}, total {total:,} bytes ({total / 1e6:.2f} MB)")
    return "\n".join(lines) + "\n"


def write_context(layers: dict, points: Iterable[gpd.GeoSeries], path: Path) -> None:
    """The context layers a run read (land, seismic zones, hazards, airports...; see
    `smrplan.report.geography.CONTEXT_LAYERS`), cut to the extent of its points (settlements, sites),
    one GeoPackage layer each; no file when the run read none.

    Parameters
    ----------
    layers : dict
        The region's layers by name (`Region.layers`).
    points : iterable of geopandas.GeoSeries
        Point geometries (EPSG:4326) whose extent the layers are cut to.
    path : Path
        The GeoPackage written.
    """
    pts = [p for p in points if len(p)]
    lon = np.concatenate([p.x.to_numpy() for p in pts])
    lat = np.concatenate([p.y.to_numpy() for p in pts])
    bbox = (float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)), float(np.nanmax(lat)))
    for name, gdf in context_layers(layers, bbox).items():
        write_gpkg(gpkg_ready(gdf), path, name)


def _log_text(plan: Plan) -> str:
    s = plan.summary
    lines = [f"smrplan {s['versions']['smrplan']} run of scenario {s['scenario']} ({plan.scenario.source})",
             f"created {s['created_utc']}",
             f"settlements: {s['settlements']}, population {s['population']:,}, demand {s['demand_mwh_per_year']:,.0f} MWh/yr"]
    data = s["data"]
    for layer, n in data["dropped_rows"].items():
        lines.append(f"layer {layer}: {n} row(s) dropped")
    for layer, kinds in data.get("repairs", {}).items():
        lines.append(f"layer {layer}: repaired " + ", ".join(f"{kind} x{n}" for kind, n in kinds.items()))
    if data.get("anchor_loads"):
        lines.append(f"anchor loads: {data['anchor_loads']}")
    for layer, src in data["sources"].items():
        lines.append(f"layer {layer}: {src}")
    sit = s["siting"]
    lines.append(f"siting: {sit['candidates']} candidates, {sit['suitable']} suitable")
    for crit, n in sit["removed_by_criterion"].items():
        lines.append(f"  {crit}: {n} candidate(s) fail")
    sol = s["solver"]
    gap = gap_text(sol)
    lines.append(f"solver: {sol.get('status')} / {sol.get('termination')}{', gap ' + gap if gap else ''}, {sol.get('time_s')} s")
    for opt, t in s["options"].items():
        lines.append(f"option {opt}: {t['settlements']} settlements, {t['demand_mwh_per_year']:,.0f} MWh/yr, "
                     f"LCOE {t['lcoe_usd_per_kwh']} USD/kWh ({t.get('lcoe_inr_per_kwh')} INR/kWh), "
                     f"net present cost {t.get('npv_usd')} USD")
    if "total_npv_usd" in s:
        lines.append(f"total: {s['total_annual_cost_usd']:,.0f} USD/yr, net present cost {s['total_npv_usd']:,.0f} USD "
                     f"({s.get('total_npv_inr_crore')} INR crore)")
    return "\n".join(lines) + "\n"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_repowering_run(study: Repowering, out: Path, overwrite: bool = False, progress=lambda s: None,
                         protected: Iterable[Path] = ()) -> Path:
    """Write the run directory of a coal-repowering study: scenario.yaml, coal.gpkg (layers
    ``coal_units`` and ``coal_sites``, every unit and site with verdicts, reasons and costs),
    coal_sites.csv (the sites, ranked ones first), plan.json (its ``coal_repowering`` section),
    report.html and log.txt (with every file's size).

    Parameters
    ----------
    study : Repowering
        The study (`smrplan.pipeline.repower_coal`).
    out : Path
        The run directory.
    overwrite : bool, default False
        Replace an existing `out`.
    progress : callable, default no report
        Called with the name of each step.
    protected : iterable of Path, default none
        Input files and folders `out` must keep clear of.

    Returns
    -------
    Path
        `out`, written atomically.

    Raises
    ------
    InputError
        When `out` cannot be written (see `write_run`).
    """
    out = Path(out)
    with atomic_run_dir(out, overwrite, protected) as tmp:
        progress("writing outputs")
        (tmp / "scenario.yaml").write_text(scenario_yaml(study.scenario), encoding="utf-8")
        units = gpkg_ready(study.units.drop(columns=["lon", "lat"], errors="ignore"))
        write_gpkg(units, tmp / "coal.gpkg", "coal_units")
        order = np.lexsort((study.sites["site_id"].to_numpy(), study.sites["rank"].where(study.sites["rank"] > 0, 10**9)))
        sites = gpkg_ready(study.sites.iloc[order].reset_index(drop=True))
        write_gpkg(sites, tmp / "coal.gpkg", "coal_sites")
        pd.DataFrame(sites.drop(columns="geometry")).to_csv(tmp / "coal_sites.csv", index=False)
        write_json(tmp / "plan.json", _jsonable(study.summary))
        if study.scenario.outputs.report:
            progress("report")
            build_report(tmp)
        s = study.summary["coal_repowering"]
        (tmp / "log.txt").write_text(
            f"scenario {study.scenario.name} (coal_repowering), created {study.created_utc}\n"
            f"units screened {s['units']['screened']} ({s['units']['mw']:.0f} MW), retiring by {s['retiring_by']}: "
            f"{s['units']['retiring']} ({s['units']['retiring_mw']:.0f} MW)\n"
            f"sites {s['sites']['screened']}, suitable {s['sites']['suitable']}, "
            f"reactor beats coal at {s['sites']['beat_coal']}\n"
            f"timings (s): {study.timings_s}\n" + size_lines(tmp, exclude=("log.txt",)), encoding="utf-8")
    return out


def write_roadmap_run(roadmap: Roadmap, out: Path, overwrite: bool = False, progress=lambda s: None,
                      protected: Iterable[Path] = ()) -> Path:
    """Write the run directory of a roadmap: scenario.yaml, catalogue.json (the catalogue used, with each
    design's lead time, earliest order year and learning rate), roadmap.csv (one row per plant started:
    site, design, modules, decision year, first power, places served), trajectory.csv (year by year:
    capex USD, annual cost USD/yr, CO2 t/yr, diesel l/yr), roadmap_settlements.csv (each settlement's
    territory or state, last-period demand in kWh/yr, and first year served by a plant), context.gpkg
    (the map's land and hazards), plan.json (its ``roadmap`` section), report.html and log.txt (with every
    file's size); with a Monte Carlo, roadmap_probabilities.parquet (site x period: p_started,
    p_in_service) and roadmap_draws.parquet (per draw: inputs, present worth USD, plants).

    Parameters
    ----------
    roadmap : Roadmap
        The roadmap (`smrplan.pipeline.make_roadmap`).
    out : Path
        The run directory.
    overwrite : bool, default False
        Replace an existing `out`.
    progress : callable, default no report
        Called with the name of each step.
    protected : iterable of Path, default none
        Input files and folders `out` must keep clear of.

    Returns
    -------
    Path
        `out`, written atomically.

    Raises
    ------
    InputError
        When `out` cannot be written (see `write_run`).
    """
    out = Path(out)
    with atomic_run_dir(out, overwrite, protected) as tmp:
        progress("writing outputs")
        (tmp / "scenario.yaml").write_text(scenario_yaml(roadmap.scenario), encoding="utf-8")
        write_json(tmp / "catalogue.json", to_records(roadmap.inputs.catalogue))
        roadmap.outcome.plants.to_csv(tmp / "roadmap.csv", index=False)
        st = roadmap.inputs.settlements
        where = [c for c in ("territory", "state") if c in st.columns]
        pd.DataFrame({"id": st["id"].astype(str), "name": st["name"], **{c: st[c] for c in where},
                      "demand_kwh_per_year": st["demand_kwh_per_year"], "lon": st.geometry.x, "lat": st.geometry.y,
                      "first_reactor_year": first_reactor_year(roadmap.outcome)}).to_csv(tmp / ROADMAP_SETTLEMENTS,
                                                                                         index=False)
        write_context(roadmap.inputs.region.layers, [st.geometry], tmp / CONTEXT_FILE)
        roadmap.trajectory.to_csv(tmp / "trajectory.csv", index=False)
        if roadmap.monte_carlo is not None:
            probabilities, draws, _ = roadmap.monte_carlo
            probabilities.to_parquet(tmp / ROADMAP_PROBABILITIES, index=False)
            draws.to_parquet(tmp / ROADMAP_DRAWS, index=False)
        write_json(tmp / "plan.json", _jsonable(roadmap.summary))
        if roadmap.scenario.outputs.report:
            progress("report")
            build_report(tmp)
        s = roadmap.summary["roadmap"]
        (tmp / "log.txt").write_text(
            f"scenario {roadmap.scenario.name} (roadmap {s['periods'][0]}-{s['periods'][-1]}), created {roadmap.created_utc}\n"
            f"plants started {s['plants']} ({s['modules']} modules), present worth {s['present_worth_usd']:.0f} USD\n"
            f"solver {s['solver']['status']} / {s['solver']['termination']}\n"
            f"timings (s): {roadmap.timings_s}\n" + size_lines(tmp, exclude=("log.txt",)), encoding="utf-8")
    return out


def write_alternatives_run(alternatives: Alternatives, scenario: Scenario, settlements: pd.DataFrame, out: Path,
                           overwrite: bool = False, progress=lambda s: None, protected: Iterable[Path] = (),
                           timings_s: dict | None = None) -> Path:
    """Write the run directory of near-optimal alternatives: scenario.yaml; alternatives.csv and
    alternatives.json (one row per plan: objective, direction, total annual cost USD/yr, cost limit and
    slack used, reactor MW, reactor sites, reactor share, diesel l/yr, t CO2/yr, sites built);
    alternative_sites.csv (every site built in some plan, "must-have" or "optional"); settlements.csv
    (id, name, lon, lat, demand kWh/yr); report/plots/frontier.png and alternatives_map.png; report.html
    (both plots embedded, smrplan.report.pages); log.txt.

    Parameters
    ----------
    alternatives : Alternatives
        The plans (`smrplan.pipeline.near_optimal_plans`).
    scenario : Scenario
        The scenario as run.
    settlements : pandas.DataFrame
        The inputs stage's settlements (id, name, lon, lat, demand_kwh_per_year).
    out : Path
        The run directory.
    overwrite : bool, default False
        Replace an existing `out`.
    progress : callable, default no report
        Called with the name of each step.
    protected : iterable of Path, default none
        Input files and folders `out` must keep clear of.
    timings_s : dict, optional
        Run times (s) for alternatives.json.

    Returns
    -------
    Path
        `out`, written atomically.

    Raises
    ------
    InputError
        When `out` cannot be written (see `write_run`).
    """
    out = Path(out)
    table = alternatives.table
    with atomic_run_dir(out, overwrite, protected) as tmp:
        progress("writing outputs")
        (tmp / "scenario.yaml").write_text(scenario_yaml(scenario), encoding="utf-8")
        table.to_csv(tmp / "alternatives.csv", index=False)
        alternatives.sites.to_csv(tmp / "alternative_sites.csv", index=False)
        cols = [c for c in ("id", "name", "lon", "lat", "demand_kwh_per_year") if c in settlements.columns]
        pd.DataFrame(settlements[cols]).to_csv(tmp / "settlements.csv", index=False)
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        write_json(tmp / "alternatives.json", _jsonable({
            "scenario": scenario.name, "target_year": scenario.target_year,
            "currency": f"USD {scenario.finance.base_year}", **alternatives.record, "alternatives": records,
            "sites": alternatives.sites.to_dict(orient="records"), "timings_s": timings_s or {},
            "volatile_fields": ["timings_s", "least_cost_solve.solver_time_s"], "smrplan": __version__}))
        progress("plots")
        write_frontier_figure(tmp)
        write_alternatives_map(tmp)
        build_alternatives_report(tmp)
        r = alternatives.record
        (tmp / "log.txt").write_text(
            f"scenario {scenario.name}: {r['solved']} of {r['plans']} plans solved within "
            f"{100 * r['cost_slack_fraction']:.1f} % of the least cost {r['least_cost_usd']:.0f} USD/yr; "
            f"{r['must_have_sites']} must-have and {r['optional_sites']} optional sites\n"
            f"timings (s): {timings_s or {}}\n", encoding="utf-8")
    return out
