"""Sobol indices: the project's estimator against the Ishigami function's analytic indices, the
design's rules, and `smrplan sweep --sobol` on the bundled islands."""

from __future__ import annotations

import base64
import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from smrplan.errors import InputError
from smrplan.uncertainty import sobol as SB

# Ishigami (a = 7, b = 0.1, inputs uniform on [-pi, pi]): analytic indices (Saltelli et al. 2008, 4.7;
# Sobol & Levitan 1999), V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2.
_A, _B = 7.0, 0.1
_V1 = 0.5 * (1 + _B * np.pi ** 4 / 5) ** 2
_V2 = _A ** 2 / 8
_V13 = _B ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_S1 = np.array([_V1 / _V, _V2 / _V, 0.0])
ISHIGAMI_ST = np.array([(_V1 + _V13) / _V, _V2 / _V, _V13 / _V])


def _ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + _A * np.sin(x[:, 1]) ** 2 + _B * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_the_analytic_values_are_the_published_ones():
    assert np.allclose(ISHIGAMI_S1, [0.314, 0.442, 0.0], atol=1e-3)
    assert np.allclose(ISHIGAMI_ST, [0.558, 0.442, 0.244], atol=1e-3)


def test_ishigami_indices_match_the_analytic_values():
    table = SB.sobol_indices(_ishigami, ["x1", "x2", "x3"], base_samples=4096, seed=3)
    assert list(table.columns) == list(SB.INDEX_COLUMNS) and set(table["output"]) == {"y"}
    assert np.abs(table["S1"].to_numpy() - ISHIGAMI_S1).max() < 0.02
    assert np.abs(table["ST"].to_numpy() - ISHIGAMI_ST).max() < 0.02
    # the analytic value lies within the reported 95 % interval
    assert (np.abs(table["S1"].to_numpy() - ISHIGAMI_S1) <= table["S1_conf"].to_numpy()).all()
    assert (np.abs(table["ST"].to_numpy() - ISHIGAMI_ST) <= table["ST_conf"].to_numpy()).all()


def test_several_outputs_and_a_constant_one():
    def f(u: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"sum": u[:, 0] + 2 * u[:, 1], "flat": np.ones(len(u))})

    table = SB.sobol_indices(f, ["a", "b"], base_samples=1024, seed=0).set_index(["output", "input"])
    # additive: S1 = ST = the input's share of the variance (1 : 4)
    assert table.loc[("sum", "a"), "S1"] == pytest.approx(0.2, abs=0.02)
    assert table.loc[("sum", "b"), "ST"] == pytest.approx(0.8, abs=0.02)
    assert (table.loc["flat"].to_numpy() == 0).all()


@pytest.mark.parametrize("n", [0, 3, 12, 500])
def test_base_samples_must_be_a_power_of_two(n):
    with pytest.raises(InputError) as err:
        SB.check_base_samples(n)
    assert err.value.field == "--sobol-samples" and "power of two" in err.value.message


def test_sweep_sobol_writes_indices_and_plot(tmp_path, monkeypatch, capsys):
    from smrplan.cli.main import main

    out = tmp_path / "sweep"
    monkeypatch.setattr(sys, "argv", ["smrplan", "sweep", "india-islands", "--out", str(out), "--workers", "0",
                                      "--draws", "20", "--sobol", "--sobol-samples", "16"])
    main()  # returns on success (exit status 0)
    s = json.loads((out / "sweep.json").read_text())
    sobol = s["sobol"]
    n_inputs = len(s["distributions"])
    assert sobol["inputs"] == [d["target"] for d in s["distributions"]] and sobol["evaluations"] == 16 * (n_inputs + 2)
    assert set(sobol["outputs"]) == set(SB.SOBOL_OUTPUTS)
    for rows in sobol["outputs"].values():
        assert len(rows) == n_inputs and {"S1", "S1_conf", "ST", "ST_conf"} <= set(rows[0])
    table = pd.read_parquet(out / "sobol.parquet")
    assert len(table) == n_inputs * len(SB.SOBOL_OUTPUTS) and np.isfinite(table[["S1", "ST"]].to_numpy()).all()
    cost = table[table["output"] == "total_annual_cost_usd"]
    assert cost["ST"].max() > 0.1  # the total cost varies, and some input explains it
    png = (out / "report" / "plots" / "sobol.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()  # the sweep's page embeds the plot: one offline file
    assert "data:image/png;base64," + base64.b64encode(png).decode() in page and 'id="plot-tornado"' in page
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", page) and "Learned surrogate" not in page
    assert "Sobol indices" in capsys.readouterr().out
