"""The report and the explorer in a real browser (Debian's Chromium driven by Playwright), with the
network blocked: no request may leave the page (the explorer may reach only its own server), no
console error, every plot drawn. Screenshots go to test-artifacts/. Skipped only when Chromium or
Playwright is missing (scripts/install-browser.sh installs Chromium)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smrplan.report.html import CHROMIUM_FLAGS, build_report, find_chromium

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found on PATH after scripts/install-browser.sh "
                                                        "(or set SMRPLAN_CHROMIUM)")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CLI = [sys.executable, "-c", "from smrplan.cli.main import main; main()"]
ALL_DRAWN = """() => { const d = [...document.querySelectorAll('.js-plotly-plot')];
                       return d.length > 0 && d.every(x => x.querySelector('.main-svg')); }"""


class Watch:
    """Blocks every request outside `allowed` prefixes and records blocked and failed requests,
    console errors and page errors."""

    def __init__(self, context, allowed: tuple[str, ...] = ()):
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.allowed = allowed
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")) or (self.allowed and url.startswith(self.allowed)):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def attach(self, page):
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def assert_clean(self):
        assert not self.blocked, f"requests to the network: {self.blocked}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The islands run with a sensitivity list and a sweep added, so the tornado and sweep plots show."""
    from smrplan.api import run

    out = tmp_path_factory.mktemp("browser") / "islands"
    p = run("india-islands", out=out)
    summary = json.loads((out / "plan.json").read_text())
    total = summary["total_annual_cost_usd"]
    summary["sensitivity"] = [{"parameter": "reactors.capex_usd_per_kw", "low_value": 3000, "high_value": 12000,
                               "low_total_usd": 0.9 * total, "high_total_usd": 1.1 * total}]
    (out / "plan.json").write_text(json.dumps(summary))
    ids = p.settlements["id"].astype(str)
    (out / "sweep.json").write_text(json.dumps({i: {"pv_battery": 0.6, "floating_reactor": 0.4} for i in ids}))
    build_report(out)
    return out


def test_report_renders_offline(browser, run_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = Watch(context)
    page = watch.attach(context.new_page())
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_function(ALL_DRAWN, timeout=60_000)
    figures = page.locator("figure[data-plot]").count()
    drawn = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                          ".filter(d => d.querySelector('.main-svg')).length")
    assert figures == drawn >= 6  # map, LCOE, cost, dispatch, tornado, sweep
    assert page.evaluate("() => document.querySelectorAll('#map .scatterlayer .point').length") > 19
    # real geography: filled land polygons in both island panels, settlement names and a scale bar in km
    land = page.evaluate("() => document.getElementById('map')._fullData.filter(t => t.name === 'land and coast')"
                         ".map(t => Array.from(t.x).filter(v => Number.isFinite(v)).length)")
    assert len(land) == 2 and min(land) > 1000
    assert page.evaluate("() => [...document.querySelectorAll('#map .textpoint')].map(t => t.textContent)"
                         ".filter(t => t === 'Kavaratti' || t.endsWith(' km')).length") >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    watch.assert_clean()
    context.close()


def test_report_prints_to_pdf(run_dir):
    r = subprocess.run([*CLI, "report", str(run_dir), "--pdf"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    pdf = run_dir / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def explorer_url():
    import uvicorn

    from smrplan.explore import create_app, load_target, prepare_state

    app = create_app(prepare_state(load_target("india-islands")))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the explorer did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_explorer_slider_updates_map_and_totals(browser, explorer_url):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watch = Watch(context, allowed=(explorer_url + "/",))
    page = watch.attach(context.new_page())
    page.goto(explorer_url + "/")
    page.wait_for_function("() => document.body.dataset.updates === '1'")
    page.wait_for_function(ALL_DRAWN)
    colours = "() => document.getElementById('map').data.find(t => t.meta === 'settlements').marker.color"
    before_colours = page.evaluate(colours)
    before_totals = page.locator("#totals tbody").inner_text()
    page.locator("#reactor_capex_multiplier").fill("0.3")
    page.wait_for_function("() => Number(document.body.dataset.updates) >= 2", timeout=10_000)
    assert page.locator("#reactor_capex_multiplier-value").inner_text() == "0.3"
    after_colours = page.evaluate(colours)
    assert after_colours != before_colours
    assert page.locator("#totals tbody").inner_text() != before_totals
    assert float(page.evaluate("() => document.body.dataset.lastRoundtripMs")) < 1000.0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explore.png"), full_page=True)
    page.locator("#optimise").click()
    page.wait_for_function("() => Number(document.body.dataset.updates) >= 3", timeout=120_000)
    assert "Optimised plan" in page.locator("#status").inner_text()
    watch.assert_clean()
    context.close()


def document_flag(page, name: str) -> str:
    """A data- attribute of the page's body."""
    return page.evaluate(f"() => document.body.dataset.{name}")


def test_explorer_with_a_surrogate_answers_sliders_and_recomputes_on_request(browser, tmp_path, monkeypatch):
    """A scenario above the live threshold (lowered to 5 settlements here): a slider move brings the
    surrogate's answer, not a recomputation; a slider the sweep did not vary is named; the button
    recomputes exactly."""
    import uvicorn

    import smrplan
    from smrplan import explore

    smrplan.sweep("india-islands", tmp_path / "sweep", draws=60, batch_draws=60, workers=0)
    monkeypatch.setattr(explore, "explore_defaults", lambda: {"live_max_settlements": 5})
    state = explore.attach_surrogate(explore.prepare_state(explore.load_target("india-islands")), tmp_path / "sweep")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(explore.create_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = Watch(context, allowed=(url + "/",))
    page = watch.attach(context.new_page())
    try:
        page.goto(url + "/")
        page.wait_for_function("() => document.body.dataset.predictions === '1' && document.body.dataset.updates === '1'")
        assert "±" in page.locator("#sg-cost").inner_text() and page.locator("#regions tbody tr").count() == 2
        page.locator("#diesel_price_multiplier").fill("1.05")
        page.wait_for_function("() => Number(document.body.dataset.predictions) >= 2", timeout=10_000)
        page.locator("#carbon_price_usd_per_t").fill("100")
        page.wait_for_function("() => document.getElementById('surrogate-warning').textContent.includes('carbon price')",
                               timeout=10_000)
        assert document_flag(page, "surrogateWarning") == "yes"
        assert page.evaluate("() => document.body.dataset.updates") == "1"  # no recomputation without asking
        page.locator("#exact").click()
        page.wait_for_function("() => Number(document.body.dataset.updates) >= 2", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explore-surrogate.png"), full_page=True)
        watch.assert_clean()
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=10)
