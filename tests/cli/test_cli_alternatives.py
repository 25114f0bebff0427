"""`smrplan alternatives` on the bundled islands: the run directory's tables and plots, every plan
within the slack, must-have / optional sites consistent with the plans; bad options exit with 2."""

from __future__ import annotations

import base64
import json
import re
import sys

import pandas as pd
import pytest

PNG = b"\x89PNG\r\n\x1a\n"


def _main(monkeypatch, *args: str) -> None:
    from smrplan.cli.main import main

    monkeypatch.setattr(sys, "argv", ["smrplan", *args])
    main()


def test_alternatives_on_the_islands(tmp_path, monkeypatch, capsys):
    out = tmp_path / "alts"
    _main(monkeypatch, "alternatives", "india-islands", "--out", str(out), "--workers", "0", "--random-directions", "1")
    table = pd.read_csv(out / "alternatives.csv")
    assert list(table["objective"][:3]) == ["total_cost", "reactor_capacity_mw", "reactor_capacity_mw"]
    assert len(table) == 1 + 8 + 1 and table["total_annual_cost_usd"].notna().all()
    limit = table["cost_limit_usd"].iloc[0]
    assert limit == pytest.approx(1.05 * table["total_annual_cost_usd"].iloc[0])
    assert (table["total_annual_cost_usd"] <= limit * (1 + 1e-9)).all() and (table["slack_used_fraction"] >= -1e-9).all()
    # the slack buys a choice on the islands: some plan builds a reactor
    assert table["reactor_sites"].max() > table["reactor_sites"].min()
    # each extreme is the extreme of every plan found (up to the solver's gap)
    for objective, col in (("reactor_capacity_mw", "reactor_capacity_mw"), ("reactor_sites", "reactor_sites"),
                           ("diesel_litres", "diesel_litres_per_year"), ("emissions_t_co2", "emissions_t_co2_per_year")):
        pick = table.set_index(["objective", "direction"])[col]
        assert pick[(objective, "minimise")] <= table[col].min() * (1 + 1e-3) + 1e-6, objective
        assert pick[(objective, "maximise")] >= table[col].max() * (1 - 1e-3) - 1e-6, objective
    sites = pd.read_csv(out / "alternative_sites.csv")
    built = [set(str(s).split(";")) - {"nan", ""} for s in table["sites"].fillna("")]
    for _, r in sites.iterrows():
        n = sum(r["site_id"] in b for b in built)
        assert r["plans"] == n and r["class"] == ("must-have" if n == len(built) else "optional")
    j = json.loads((out / "alternatives.json").read_text())
    assert j["plans"] == len(table) and len(j["alternatives"]) == len(table) and j["cost_slack_fraction"] == 0.05
    page = (out / "report.html").read_text()
    for name in ("frontier", "alternatives_map"):
        png = (out / "report" / "plots" / f"{name}.png").read_bytes()
        assert png[:8] == PNG
        assert "data:image/png;base64," + base64.b64encode(png).decode() in page  # one offline file
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", page) and "near-optimal alternatives" in page
    assert "must-have" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["--slack", "1.5"], ["--slack", "alternatives.cost_slack_fraction"]),
    (["--slack", "0"], ["--slack", "greater than 0"]),
])
def test_bad_options_exit_with_status_2(tmp_path, monkeypatch, capsys, args, words):
    with pytest.raises(SystemExit) as exit_:
        _main(monkeypatch, "alternatives", "india-islands", "--out", str(tmp_path / "o"), "--workers", "0", *args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert not (tmp_path / "o").exists()


def test_a_bad_alternatives_block_names_the_field(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ndata: {settlements: 'bundled:islands.csv'}\nalternatives: {random_directions: -1}\n")
    with pytest.raises(SystemExit) as exit_:
        _main(monkeypatch, "alternatives", str(path), "--out", str(tmp_path / "o"), "--workers", "0")
    assert exit_.value.code == 2 and "alternatives.random_directions" in capsys.readouterr().err
