"""smrplan explore: recomputation from the prepared state, the MILP on request, input validation and
the page served (its agreement with the plan: tests/test_one_engine.py)."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from fastapi.testclient import TestClient

from conftest import run_cli
from smrplan.explore import (
    MAX_BODY_BYTES,
    Params,
    create_app,
    load_target,
    optimise_state,
    prepare_state,
    recompute,
)
from smrplan.pipeline import make_roadmap


@pytest.fixture(scope="module")
def state():
    return prepare_state(load_target("india-islands"))


@pytest.fixture(scope="module")
def client(state):
    return TestClient(create_app(state), base_url="http://127.0.0.1:8765")


def _counts(result: dict) -> dict[str, int]:
    return {t["option"]: t["settlements"] for t in result["totals"]}


def test_cheaper_reactors_win_more_settlements(state):
    base = recompute(state, state.base)
    cheap = recompute(state, state.base.model_copy(update={"reactor_capex_multiplier": 0.3}))
    reactors = lambda r: sum(v for k, v in _counts(r).items() if k.endswith("_reactor"))  # noqa: E731
    assert reactors(cheap) > reactors(base)
    assert cheap["changed_from_base"] > 0 and base["changed_from_base"] == 0
    assert cheap["total_annual_cost_musd"] < base["total_annual_cost_musd"]
    assert cheap["point_option"] != base["point_option"]
    assert sum(_counts(cheap).values()) == len(state.settlements)


def test_diesel_price_carbon_and_tier_move_the_totals(state):
    base = recompute(state, state.base)
    dear = recompute(state, state.base.model_copy(update={"diesel_price_multiplier": 3.0, "carbon_price_usd_per_t": 200.0}))
    assert dear["total_annual_cost_musd"] > base["total_annual_cost_musd"]
    slow = recompute(state, state.base.model_copy(update={"consumption_growth_per_year": 0.0}))
    assert slow["total_gwh_per_year"] < base["total_gwh_per_year"]
    low = recompute(state, state.base.model_copy(update={"demand_tier": 2}))  # moves the uncalibrated places only
    assert low["total_gwh_per_year"] <= base["total_gwh_per_year"]


def test_recompute_is_fast(state):
    times = []
    for m in (0.3, 0.6, 1.0, 1.5, 2.5):
        t0 = time.perf_counter()
        recompute(state, state.base.model_copy(update={"reactor_capex_multiplier": m}))
        times.append(time.perf_counter() - t0)
    assert statistics.median(times) < 1.0, times


def test_optimise_builds_shared_plants_when_reactors_are_cheap(state):
    r = optimise_state(state, state.base.model_copy(update={"reactor_capex_multiplier": 0.3}))
    assert r["method"] == "milp" and r["solver"]["status"] == "ok"
    assert r["built"], "cheap reactors should be built"
    assert all(b["served"] for b in r["built"])


def test_roadmap_follows_the_sliders_and_is_the_pipelines(client, state):
    """The explorer's roadmap is the pipeline's roadmap stages at the slider values: at the scenario's
    values it starts the plants `make_roadmap` starts; cheap reactors start plants."""
    base = {**state.base.model_dump()}
    body = client.post("/api/roadmap", json=base).json()
    road = make_roadmap(state.scenario.model_copy(update={
        "roadmap": state.scenario.roadmap.model_copy(update={"myopic_comparison": False, "explain_order_max_plants": 0})}))
    assert body["periods"] == [int(y) for y in road.outcome.plan.rp.years]
    assert sorted(p["site_id"] for p in body["plants"]) == sorted(road.outcome.plants["site_id"])
    gap = 2 * state.scenario.optimisation.mip_gap + 1e-6
    assert body["present_worth_musd"] == pytest.approx(road.outcome.plan.objective_usd / 1e6, rel=gap)
    cheap = client.post("/api/roadmap", json={**base, "reactor_capex_multiplier": 0.3}).json()
    assert cheap["plants"] and cheap["present_worth_musd"] < body["present_worth_musd"]
    assert all(p["first_power_year"] >= p["decision_year"] for p in cheap["plants"])


def test_api_recompute_and_page(client, state):
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", page.text)
    assert 'id="reactor_capex_multiplier"' in page.text and 'id="totals"' in page.text and 'id="roadmap-button"' in page.text
    r = client.post("/api/recompute", json={"reactor_capex_multiplier": 0.3, "diesel_price_multiplier": 1.0,
                                            "discount_rate": 0.08, "carbon_price_usd_per_t": 0.0, "demand_tier": 4,
                                            "consumption_growth_per_year": 0.02})
    assert r.status_code == 200
    body = r.json()
    assert len(body["point_option"]) == len(state.points) and body["method"] == "per-settlement"
    assert client.get("/api/health").json()["status"] == "ok"


@pytest.mark.parametrize("body", [
    {"reactor_capex_multiplier": "0.3"},          # wrong type (strings are not coerced)
    {"reactor_capex_multiplier": 10.0},           # out of range
    {"discount_rate": -0.01},
    {"demand_tier": 6},
    {"demand_tier": 2.5},
    {"carbon_price_usd_per_t": 1e9},
    {"scenario": "/etc/passwd"},                  # unknown field: no path is ever taken from a client
    [1, 2, 3],
])
def test_api_rejects_bad_input(client, body):
    assert client.post("/api/recompute", json=body).status_code == 422


def test_api_rejects_large_and_unsized_bodies(client):
    big = b'{"reactor_capex_multiplier": 1.0' + b" " * MAX_BODY_BYTES + b"}"
    assert client.post("/api/recompute", content=big, headers={"content-type": "application/json"}).status_code == 413

    def chunks():
        yield b'{"demand_tier": 3}'

    assert client.post("/api/recompute", content=chunks(), headers={"content-type": "application/json"}).status_code == 411


def test_params_defaults_and_strictness():
    assert Params().reactor_capex_multiplier == 1.0
    with pytest.raises(ValueError):
        Params(demand_tier="3")


def test_explore_command_bad_input(tmp_path):
    r = run_cli(["explore", str(tmp_path / "missing.yaml")], timeout=120)
    assert r.returncode == 2 and "missing.yaml" in r.stderr
    r = run_cli(["explore", "--port", "0"], timeout=120)
    assert r.returncode == 2


def test_only_known_hosts_are_answered(state, client):
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/api/health", headers={"host": "evil.example:8765"}).status_code == 421  # DNS rebinding
    r = client.get("/")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("text", ['{"discount_rate": NaN}', '{"carbon_price_usd_per_t": Infinity}',
                                  '{"reactor_capex_multiplier": -Infinity}'])
def test_non_finite_numbers_are_422(client, text):
    r = client.post("/api/recompute", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_chunked_body_with_a_small_length_is_refused(client):
    r = client.post("/api/recompute", content=b'{"demand_tier": 3}',
                    headers={"content-type": "application/json", "transfer-encoding": "chunked"})
    assert r.status_code in (400, 411)


def test_a_server_on_another_address_needs_the_token(state):
    from smrplan.explore import access_token

    assert access_token("127.0.0.1") is None
    token = access_token("0.0.0.0")
    assert token and len(token) >= 24
    c = TestClient(create_app(state, "0.0.0.0", token), base_url="http://0.0.0.0:8765")
    assert c.get("/api/health").status_code == 403
    assert c.get("/api/health?token=wrong").status_code == 403
    assert c.get(f"/?token={token}").status_code == 200  # sets the cookie the page's requests carry
    assert c.post("/api/recompute", json={"demand_tier": 3}).status_code == 200


# ------------------------------------------------------------------------------------- surrogate
@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    import smrplan

    out = tmp_path_factory.mktemp("explore-sweep") / "sweep"
    smrplan.sweep("india-islands", out, draws=80, batch_draws=80, workers=0)
    return out


@pytest.fixture(scope="module")
def learned(state, sweep_dir):
    import copy

    from smrplan.explore import attach_surrogate

    return attach_surrogate(copy.copy(state), sweep_dir)


def test_the_surrogate_answers_with_its_band_and_names_what_it_cannot_answer(learned):
    c = TestClient(create_app(learned), base_url="http://127.0.0.1:8765")
    assert c.get("/api/health").json()["surrogate"] is True and learned.live  # 19 settlements: still recomputed live
    base = c.post("/api/predict", json={}).json()
    cost = base["total_annual_cost_musd"]
    assert base["method"] == "surrogate" and cost["low"] < cost["value"] < cost["high"] and cost["band"] > 0
    assert {g["region"] for g in base["regions"]} == {"Andaman and Nicobar Islands", "Lakshadweep"}
    assert base["region_column"] == "territory" and all(0 <= g["p_reactor"] <= 1 and g["brier"] >= 0 for g in base["regions"])
    assert base["out_of_range"] == [] and base["not_learned"] == []
    # the exact answer at the scenario's values lies near the surrogate's (others at the draws' median)
    exact = c.post("/api/recompute", json={}).json()["total_annual_cost_musd"]
    assert abs(exact - cost["value"]) < 3 * cost["band"] + 0.05 * exact, (exact, cost)
    dear = c.post("/api/predict", json={"diesel_price_multiplier": 1.05}).json()["total_annual_cost_musd"]["value"]
    assert dear > cost["value"]
    far = c.post("/api/predict", json={"reactor_capex_multiplier": 3.0, "carbon_price_usd_per_t": 100.0}).json()
    assert any(col.endswith(".capex_usd_per_kw") for col in far["out_of_range"])
    assert far["not_learned"] == ["carbon price"]
    page = c.get("/").text
    assert 'id="exact"' in page and "Surrogate prediction" in page and "const LIVE = true" in page


def test_a_large_scenario_answers_sliders_with_the_surrogate(learned, monkeypatch):
    from smrplan import explore

    monkeypatch.setattr(explore, "explore_defaults", lambda: {"live_max_settlements": 5})
    assert not learned.live
    c = TestClient(create_app(learned), base_url="http://127.0.0.1:8765")
    page = c.get("/").text
    assert "const LIVE = false" in page and "more than 5 settlements" in page
    assert c.post("/api/recompute", json={"demand_tier": 3}).json()["method"] == "per-settlement"  # exact on request


def test_without_a_surrogate_there_is_no_prediction(client, state, sweep_dir):
    from smrplan.errors import InputError
    from smrplan.explore import attach_surrogate

    assert client.post("/api/predict", json={}).status_code == 422
    assert 'id="exact"' not in client.get("/").text
    with pytest.raises(InputError) as err:
        attach_surrogate(state, sweep_dir / "parts")
    assert err.value.field == "--surrogate" and state.surrogate is None
    r = run_cli(["explore", "india-islands", "--surrogate", str(sweep_dir.parent / "nothing")], timeout=300)
    assert r.returncode == 2 and "--surrogate" in r.stderr
