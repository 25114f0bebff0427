"""The sweep surrogate: its reported error band holds on held-out draws for the stated share, a query
outside the training range is flagged, and `smrplan surrogate` on a small islands sweep."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from smrplan.errors import InputError
from smrplan.uncertainty import surrogate as SG

INPUTS = [f"x{i}" for i in range(6)]


def _draws(n: int, seed: int) -> pd.DataFrame:
    """A cost-like output (smooth, interacting, with noise the inputs do not explain) and a share-like one
    (a threshold in two inputs, clipped to [0, 1])."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (n, len(INPUTS)))
    cost = 100 + 40 * x[:, 0] + 25 * x[:, 1] * x[:, 2] + 10 * np.sin(6 * x[:, 3]) + rng.normal(0, 2.0, n)
    share = np.clip(2.0 * (0.6 - x[:, 0]) + 0.5 * x[:, 4] + rng.normal(0, 0.03, n), 0.0, 1.0)
    return pd.DataFrame({**dict(zip(INPUTS, x.T, strict=True)), "total_annual_cost_usd": cost, "reactor_share": share})


@pytest.fixture(scope="module")
def trained() -> SG.Surrogate:
    return SG.train_surrogate(_draws(1000, 1), INPUTS)


def test_the_reported_band_holds_on_held_out_draws(trained):
    held = _draws(3000, 2)
    for name in SG.SURROGATE_OUTPUTS:
        pred = trained.models[name].predict(held[INPUTS].to_numpy())
        inside = np.mean(np.abs(held[name].to_numpy() - pred) <= trained.errors[name]["band"])
        # the stated 90 %, within sampling error of 1,000 training and 3,000 held-out draws
        assert 0.86 <= inside <= 0.95, (name, inside)
    assert trained.errors["total_annual_cost_usd"]["r2"] > 0.9


def test_a_prediction_carries_its_band_and_flags_the_training_range(trained):
    p = trained.predict({"x0": 0.5})
    cost = p["total_annual_cost_usd"]
    assert cost["low"] < cost["value"] < cost["high"] and cost["band"] == trained.errors["total_annual_cost_usd"]["band"]
    assert p["out_of_range"] == []
    assert trained.predict({"x0": 1.5, "x3": -0.2})["out_of_range"] == ["x0", "x3"]
    with pytest.raises(InputError) as err:
        trained.predict({"nope": 1.0})
    assert err.value.field == "--set"


def test_too_few_draws_is_an_error():
    with pytest.raises(InputError) as err:
        SG.train_surrogate(_draws(30, 0), INPUTS)
    assert "at least 50" in err.value.message


def test_cli_surrogate_on_a_sweep(tmp_path, monkeypatch, capsys):
    import smrplan
    from smrplan.cli.main import main

    out = tmp_path / "sweep"
    smrplan.sweep("india-islands", out, draws=120, batch_draws=60, workers=0)
    monkeypatch.setattr(sys, "argv", ["smrplan", "surrogate", str(out), "--set", "finance.discount_rate=0.05"])
    main()
    text = capsys.readouterr().out
    assert "predicted total_annual_cost_usd" in text and "+-" in text
    j = json.loads((out / "surrogate.json").read_text())
    assert set(j["outputs"]) == set(SG.SURROGATE_OUTPUTS) and j["outputs"]["total_annual_cost_usd"]["draws"] == 120
    monkeypatch.setattr(sys, "argv", ["smrplan", "surrogate", str(out), "--set", "finance.discount_rate"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and "--set" in capsys.readouterr().err
