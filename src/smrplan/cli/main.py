"""Command line: a thin layer over smrplan.api with rich progress and clear errors.

Bad input exits with status 2 and one message naming the file and field (no traceback unless
--debug); any other failure exits with status 1. `--repair` (run, screen, costs) fixes what can be
fixed in the settlement and anchor-load layers instead; the log messages of the ``smrplan`` loggers
(each repair with file, row and field; warnings at least, information too with --verbose) go to stderr.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from smrplan.cli.data import data_app
from smrplan.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan small reactors (land and floating) against diesel, solar + battery and grid.")
scenario_app = typer.Typer(no_args_is_help=True, help="Inspect bundled scenarios.")
app.add_typer(scenario_app, name="scenario")
app.add_typer(data_app, name="data", help="Check a data directory before a run, or import a public download as a layer.")
console = Console(stderr=True)
out_console = Console()
_STATE = {"debug": False}

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Directory the scenario's layer paths are relative to.")]
Repair = Annotated[bool, typer.Option(
    "--repair", help="Fix bad settlement / anchor-load rows instead of stopping: duplicate ids renamed, rows with bad "
                     "population, empty geometry or outside the region dropped, invalid geometry made valid, missing "
                     "CRS taken as EPSG:4326. Each fix is logged and counted in plan.json (data.repairs).")]


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", help="Also show informational log messages.")] = False,
          ) -> None:
    _STATE["debug"] = debug
    _setup_logging(logging.INFO if verbose or debug else logging.WARNING)


class _ConsoleHandler(logging.Handler):
    """Log records of the smrplan loggers printed on the stderr console (above any progress bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from rich.text import Text

            style = "yellow" if record.levelno >= logging.WARNING else "dim"
            console.print(Text.assemble((f"{record.levelname.lower()}: ", style), record.getMessage()),
                          highlight=False, soft_wrap=True)
        except Exception:  # a broken message must not end the run
            self.handleError(record)


def _setup_logging(level: int) -> None:
    logger = logging.getLogger("smrplan")
    handler = next((h for h in logger.handlers if isinstance(h, _ConsoleHandler)), None)
    if handler is None:
        handler = _ConsoleHandler()
        logger.addHandler(handler)
    handler.setLevel(level)
    logger.setLevel(min(level, logger.level or logging.WARNING))


def _progress():
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=True)


@app.command()
def run(scenario: Annotated[str, typer.Argument(help="Bundled scenario name or YAML file.")] = "india-islands",
        data_dir: DataDir = None,
        out: Annotated[Path | None, typer.Option("--out", help="Run directory (default runs/<scenario>-<time>).")] = None,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")] = False,
        repair: Repair = False,
        csv: Annotated[bool, typer.Option("--csv", help="Also write CSV copies of the tables (settlements.csv, "
                                                        "sites.csv, sites_rejected.csv).")] = False,
        all_dispatch: Annotated[bool, typer.Option(
            "--all-dispatch", help="Keep every simulated system's hourly series in dispatch.parquet (default: every "
                                   "reactor plant and a sample of each stand-alone option).")] = False,
        workers: Annotated[int | None, typer.Option(
            "--workers", min=0, help="Run the per-settlement stages partitioned on this many local Dask worker "
                                     "processes (default: in this process, partitioned above the scenario's "
                                     "scale.partition_above_settlements); same results.")] = None,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) to run the "
                                "per-settlement stages on instead.")] = None) -> None:
    """Run a scenario end to end and write its run directory."""
    from smrplan.api import run as api_run

    with _progress() as bar:
        task = bar.add_task("starting", total=None)
        plan = api_run(scenario, out=out, data_dir=data_dir, overwrite=overwrite,
                       progress=lambda s: bar.update(task, description=s), repair=repair, csv=csv,
                       all_dispatch=all_dispatch, workers=workers, scheduler=scheduler)
    s = plan.summary
    if s.get("study") == "roadmap":
        _print_roadmap(cast(Any, plan))
        return
    if s.get("study") == "coal_repowering":
        _print_repowering(s["coal_repowering"], s["scenario"])
        out_console.print(f"run directory: {plan.run_dir}")
        return
    table = Table(title=f"{s['scenario']} {s['target_year']}: {s['settlements']} settlements, "
                        f"{s['demand_mwh_per_year'] / 1000:,.1f} GWh/yr")
    for col in ("option", "settlements", "population", "GWh/yr", "MW", "M USD/yr", "USD/kWh", "INR/kWh"):
        table.add_column(col, justify="right")
    for option, t in s["options"].items():
        table.add_row(option, str(t["settlements"]), f"{t['population']:,}", f"{t['demand_mwh_per_year'] / 1000:,.2f}",
                      f"{t['capacity_mw']:,.1f}", f"{t['annual_cost_usd'] / 1e6:,.2f}",
                      "" if t["lcoe_usd_per_kwh"] is None else f"{t['lcoe_usd_per_kwh']:.3f}",
                      "" if t.get("lcoe_inr_per_kwh") is None else f"{t['lcoe_inr_per_kwh']:.2f}")
    out_console.print(table)
    for site in s["reactor_sites"]:
        out_console.print(f"built {site['technology_name']} at {site['site_id']} ({site['lon']}, {site['lat']}): "
                          f"{site['modules']} module(s), {site['capacity_mw']} MW, serves {len(site['settlements_served'])}")
    out_console.print(f"run directory: {plan.run_dir}")


def _print_repowering(c: dict, name: str) -> None:
    """The ranked coal sites of a coal-repowering run as a table."""
    u = c["units"]
    table = Table(title=f"{name}: {u['retiring']} of {u['screened']} coal units ({u['retiring_mw'] / 1000:,.1f} GW) retire by "
                        f"{c['retiring_by']}; {c['sites']['suitable']} of {c['sites']['screened']} sites suitable")
    for col in ("rank", "plant", "state", "retiring MW", "design", "units", "reactor USD/kWh", "coal USD/kWh", "P(win)"):
        table.add_column(col, justify="right")
    for r in c["ranked_sites"][:20]:
        table.add_row(str(r["rank"]), r["plant_name"], r["state"], f"{r['retiring_mw']:,.0f}", r["best_design"],
                      str(r["reactor_units"]), f"{r['reactor_usd_per_kwh']:.3f}", f"{r['coal_usd_per_kwh']:.3f}",
                      "" if r["p_beats_coal"] is None else f"{r['p_beats_coal']:.2f}")
    out_console.print(table)


@app.command("roadmap")
def roadmap_cmd(scenario: Annotated[str, typer.Argument(help="Bundled scenario name or YAML file.")] = "india-islands",
                data_dir: DataDir = None,
                out: Annotated[Path | None, typer.Option("--out", help="Run directory (default runs/<scenario>-roadmap-<time>).")]
                = None,
                overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")] = False,
                draws: Annotated[int | None, typer.Option("--draws", min=1, help="Also plan the roadmap for this many "
                                                          "draws of the scenario's uncertain inputs: the probability "
                                                          "that each site is started by each period.")] = None,
                workers: Annotated[int | None, typer.Option("--workers", min=0, help="Local Dask worker processes for "
                                                            "the draws (default: CPU count); 0 runs them here.")]
                = None) -> None:
    """Plan which sites get small reactors in which period (the scenario's roadmap block) and write its run directory."""
    from smrplan.api import roadmap as api_roadmap

    with _progress() as bar:
        task = bar.add_task("starting", total=None)
        road = api_roadmap(scenario, out=out, data_dir=data_dir, overwrite=overwrite,
                           progress=lambda s: bar.update(task, description=s), draws=draws, workers=workers)
    _print_roadmap(road)


def _print_roadmap(road: Any) -> None:
    """The plants of a roadmap (a `smrplan.results.Roadmap` with `run_dir`) as a table."""
    s = road.summary["roadmap"]
    table = Table(title=f"{road.scenario.name} roadmap {s['periods'][0]}-{s['periods'][-1]}: {s['plants']} plant(s), "
                        f"present worth {s['present_worth_usd'] / 1e6:,.1f} M USD")
    for col in ("site", "design", "modules", "decision", "first power", "in service", "capex M USD", "places",
                "saves M USD", "delay costs M USD"):
        table.add_column(col, justify="right")
    for r in road.outcome.plants.to_dict(orient="records"):
        why = [f"{float(v) / 1e6:,.2f}" if v is not None and v == v else ""  # NaN: not explained
               for v in (r.get("saving_usd"), r.get("delay_cost_usd"))]
        table.add_row(str(r["site_id"]), str(r["design"]), str(r["modules"]), str(r["decision_year"]),
                      f"{r['first_power_year']:g}", str(r["service_year"]), f"{float(r['capex_usd']) / 1e6:,.1f}",
                      str(r["places_served"]), *why)
    out_console.print(table)
    if "myopic" in s:
        out_console.print(f"myopic plan (period by period): {s['myopic']['extra_cost_usd'] / 1e6:,.1f} M USD more")
    if s.get("gap") is not None:
        out_console.print(f"method {s['method']}: present worth within {s['gap']:.2%} of the lower bound "
                          f"{s['bound_usd'] / 1e6:,.1f} M USD")
    if "monte_carlo" in s:
        mc = s["monte_carlo"]
        from smrplan.report.geography import ROADMAP_PROBABILITIES

        out_console.print(f"{mc['draws']} draws: {mc['sites_ever_started']} site(s) started in at least one; "
                          f"probabilities by site and period in {ROADMAP_PROBABILITIES}")
    out_console.print(f"run directory: {road.run_dir}")


@app.command("scenarios")
def scenarios() -> None:
    """List the bundled scenarios."""
    from smrplan.scenario import bundled_names, load_scenario

    for name in bundled_names():
        sc = load_scenario(name)
        out_console.print(f"[bold]{name}[/bold]: {sc.description}")


@scenario_app.command("show")
def scenario_show(name: str) -> None:
    """Print a bundled scenario (defaults resolved) as YAML to start from."""
    from smrplan.scenario import load_scenario, scenario_yaml

    sys.stdout.write(scenario_yaml(load_scenario(name)))


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def catalogue(fmt: Annotated[Format, typer.Option("--format")] = Format.table,
              scenario: Annotated[str | None, typer.Option("--scenario", help="Apply this scenario's overrides.")] = None,
              file: Annotated[Path | None,
                              typer.Option("--file", help="Check and print another catalogue file.")] = None) -> None:
    """Print the technology catalogue with every number's unit, range and source."""
    import pandas as pd

    from smrplan.catalogue.catalogue import apply_overrides, read_catalogue, to_records

    cat = read_catalogue(file)
    if scenario:
        from smrplan.scenario import load_scenario

        sc = load_scenario(scenario)
        cat = apply_overrides(cat, sc.technologies.overrides, sc.source)
    rows = to_records(cat)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(pd.DataFrame(rows).to_csv(index=False))
    else:
        table = Table(show_lines=False)
        for col in ("technology", "parameter", "value", "unit", "low", "high", "conf.", "source (year)"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["technology"], r["parameter"], str(r["value"]), r["unit"], str(r["low"] or ""),
                          str(r["high"] or ""), r["confidence"], f"{r['source']} ({r['year']})")
        out_console.print(table)


@app.command()
def costs(scenario: Annotated[str, typer.Argument(help="Bundled scenario name or YAML file.")] = "india-islands",
          vary: Annotated[list[str] | None, typer.Option("--vary", help="TARGET=LOW:HIGH, e.g. "
                          "reactors.capex_usd_per_kw=5500:18000; repeat for several. Default: the scenario's "
                          "uncertainty parameters at their ranges.")] = None,
          data_dir: DataDir = None, repair: Repair = False) -> None:
    """How the least-cost option changes when one input moves (a tornado table)."""
    from smrplan.api import load_scenario, tornado
    from smrplan.options import ALL_OPTIONS
    from smrplan.units import CRORE

    with _progress() as bar:
        task = bar.add_task("starting", total=None)
        entries, table = tornado(scenario, data_dir, vary, progress=lambda s: bar.update(task, description=s),
                                 repair=repair)
    base = table[table.setting == "base"].iloc[0]
    inr = load_scenario(scenario, data_dir).finance.inr_per_usd
    out_console.print(f"base: total {base.total_annual_cost_usd / 1e6:,.2f} M USD/yr "
                      f"(INR {base.total_annual_cost_usd * inr / CRORE:,.0f} crore/yr), reactor share "
                      f"{base.reactor_share:.1%}; settlements per least-cost option: "
                      + ", ".join(f"{o} {base[o]}" for o in ALL_OPTIONS if base[o]))
    t = Table(title="tornado (largest swing of total annual cost first)")
    for col in ("parameter", "low", "high", "total at low (M USD/yr)", "total at high", "reactor share low/high",
                "least-cost options at low -> high"):
        t.add_column(col)
    for e in entries:
        rows = table[table.parameter == e["parameter"]].set_index("setting")
        change = "; ".join(f"{o} {rows.loc['low', o]}->{rows.loc['high', o]}" for o in ALL_OPTIONS
                           if rows.loc["low", o] or rows.loc["high", o])
        fmt = (lambda v: f"{len(v)} designs' catalogue range") if isinstance(e["low_value"], dict) else "{:g}".format
        t.add_row(e["parameter"], fmt(e["low_value"]), fmt(e["high_value"]), f"{e['low_total_usd'] / 1e6:,.2f}",
                  f"{e['high_total_usd'] / 1e6:,.2f}", f"{e['low_reactor_share']:.1%} / {e['high_reactor_share']:.1%}",
                  change)
    out_console.print(t)


@app.command("screen")
def screen_cmd(scenario: Annotated[str, typer.Argument()] = "india-islands", data_dir: DataDir = None,
               candidates: Annotated[Path | None, typer.Option(
                   "--candidates", help="Extra candidate sites file (column kind).")] = None,
               out: Annotated[Path | None, typer.Option(
                   "--out", help="Write the screened sites to this GeoPackage (.gpkg); checked before the screen runs.")] = None,
               repair: Repair = False) -> None:
    """Run the reactor site screen alone and print its funnel."""
    import contextlib

    from smrplan.api import input_paths, load_scenario, screen
    from smrplan.outputs.rundir import claimed_file, write_file
    from smrplan.outputs.write import gpkg_ready, write_gpkg

    if candidates is not None and not candidates.exists():
        raise InputError(candidates, "--candidates", "file not found")
    sc = load_scenario(scenario, data_dir)
    protected = [*input_paths(sc), *([candidates] if candidates is not None else [])]
    with (claimed_file(out, protected, (".gpkg",)) if out is not None else contextlib.nullcontext()):  # before computing
        res = screen(sc, data_dir, candidates=candidates, repair=repair)
        if out is not None:
            write_file(out, lambda tmp: write_gpkg(gpkg_ready(res.sites), tmp, "sites"))
    summ = res.summary()
    table = Table(title=f"{summ['candidates']} candidates, {summ['suitable']} suitable")
    table.add_column("criterion")
    table.add_column("fails", justify="right")
    table.add_column("limit / note")
    for c in summ["criteria"]:
        table.add_row(c["name"], str(summ["removed_by_criterion"].get(c["name"], "-")),
                      c["limit"] if c["evaluated"] else f"not evaluated: {c['note']}")
    out_console.print(table)
    if out is not None:
        out_console.print(f"wrote {out}")


@app.command()
def report(run_dir: Path,
           pdf: Annotated[bool, typer.Option("--pdf", help="Also print report.pdf with headless Chromium.")] = False) -> None:
    """Regenerate report.html and, for a plan, plan.qgs of a run directory (and report.pdf with --pdf)."""
    from smrplan.report.html import build_report, find_chromium, print_pdf
    from smrplan.report.qgis import write_project

    if not (run_dir / "plan.json").exists():
        raise InputError(run_dir, None, "not a run directory (no plan.json)")
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise InputError(run_dir, None, "the run directory is not writable; report.html cannot be written")
    for name in ("plan.json", "catalogue.json"):
        try:
            if not isinstance(json.loads((run_dir / name).read_text(encoding="utf-8")), dict | list):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise InputError(run_dir / name, None, f"unreadable ({exc}); run the scenario again") from None
    chromium = find_chromium() if pdf else None
    if pdf and chromium is None:
        raise InputError(None, "--pdf", "Chromium was not found (install it, e.g. scripts/install-browser.sh, "
                                        "or set SMRPLAN_CHROMIUM to its path)")
    html_path = build_report(run_dir)
    out_console.print(f"wrote {html_path}")
    if (run_dir / "settlements.gpkg").exists():  # a plan's run directory (a roadmap or coal study has no project)
        out_console.print(f"wrote {write_project(run_dir)}")
    if chromium is not None:
        out_console.print(f"wrote {print_pdf(html_path, run_dir / 'report.pdf', chromium)}")


@app.command()
def explore(target: Annotated[str, typer.Argument(help="Run directory, bundled scenario name or YAML file.")] = "india-islands",
            data_dir: DataDir = None,
            host: Annotated[str, typer.Option("--host", help="Address to bind (local only by default).")] = "127.0.0.1",
            port: Annotated[int, typer.Option("--port", help="Port to listen on (1-65535).")] = 8765,
            surrogate: Annotated[Path | None, typer.Option(
                "--surrogate", help="A sweep directory of the same scenario: its learned surrogate answers slider moves "
                                    "with an error band (exact recomputation on request for large scenarios).")] = None,
            ) -> None:
    """Serve a local web page with sliders for costs and demand; the map and totals follow."""
    from smrplan.explore import access_token, attach_surrogate, load_target, prepare_state, serve

    if not 1 <= port <= 65535:
        raise InputError(None, "--port", f"{port} is not a port number (1-65535)")
    sc = load_target(target, data_dir)
    with _progress() as bar:
        task = bar.add_task("loading", total=None)
        state = prepare_state(sc, progress=lambda s: bar.update(task, description=s))
        if surrogate is not None:
            bar.update(task, description="training the surrogate")
            attach_surrogate(state, surrogate)
    token = access_token(host)
    if token is not None:
        console.print(f"[yellow]warning:[/yellow] serving on {host}, not only this machine: anyone who can reach it "
                      "and has the URL below (with its access token) can use the explorer")
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    out_console.print(f"smrplan explore: {sc.name}, {len(state.settlements):,} settlements at {url} (Ctrl-C to stop)")
    serve(state, host=host, port=port, token=token)


def _click_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """The usage-error and abort exception classes of every click the installed typer may use: the
    click package and the copy of it that newer typer releases bundle (`typer._click`)."""
    import importlib

    usage: list[type] = []
    abort: list[type] = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage += [c for c in (getattr(module, "ClickException", None),) if isinstance(c, type)]
        abort += [c for c in (getattr(module, "Abort", None),) if isinstance(c, type)]
    return tuple(usage), tuple(abort)


def main() -> None:
    """Console entry point: map InputError to exit status 2 without a traceback.

    When the process ends, the objects it holds are freed with their modules but not traversed once
    more by Python's cycle collector (`gc.freeze` at exit): after a run of 100,000 settlements that
    traversal took 0.6 s of the command's time. Files are closed where they are written, never left
    to the collector.
    """
    atexit.register(gc.freeze)  # runs again harmlessly when main is called more than once in a process
    try:
        code = app(standalone_mode=False)  # returns an exit code instead of exiting (e.g. 130 on Ctrl-C)
        if isinstance(code, int) and code:
            if code == 130:
                console.print("[red]interrupted[/red]; no partial output was kept")
            sys.exit(code)
    except InputError as exc:
        if _STATE["debug"]:
            raise
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]; no partial output was kept")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors of the command line parser and the rest
        usage, abort = _click_errors()
        if isinstance(exc, usage):
            cast(Any, exc).show()  # usage line, then the option and what is expected (any click's ClickException)
            sys.exit(2)
        if isinstance(exc, abort):
            sys.exit(1)
        if _STATE["debug"]:
            raise
        console.print(f"[red]failed:[/red] {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        sys.exit(1)

from smrplan.cli.sweep import sweep  # noqa: E402, I001
app.command("sweep")(sweep)
from smrplan.cli.alternatives import alternatives  # noqa: E402, I001
app.command("alternatives")(alternatives)
from smrplan.cli.surrogate import surrogate  # noqa: E402, I001
app.command("surrogate")(surrogate)
