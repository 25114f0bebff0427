import os
import subprocess
import sys

import pytest

from smrplan.api import tornado
from smrplan.errors import InputError
from smrplan.uncertainty.tornado import parse_vary

CLI = [sys.executable, "-c", "from smrplan.cli.main import main; main()"]


@pytest.mark.parametrize("item", ["bad", "x.y=1", "x.y=a:b", "x.y=3:1", "x.y=1:inf", "nodot=1:2"])
def test_parse_vary_rejects(item):
    with pytest.raises(InputError, match="--vary"):
        parse_vary([item])


def test_tornado_moves_costs_the_right_way():
    entries, table = tornado("india-islands", vary=["diesel_minigrid.diesel_price_usd_per_l=0.5:3.0",
                                                    "finance.discount_rate=0.03:0.10"])
    by = {e["parameter"]: e for e in entries}
    diesel = by["diesel_minigrid.diesel_price_usd_per_l"]
    assert diesel["high_total_usd"] > diesel["low_total_usd"]
    assert by["finance.discount_rate"]["high_total_usd"] > by["finance.discount_rate"]["low_total_usd"]
    swings = [e["swing_usd"] for e in entries]
    assert swings == sorted(swings, reverse=True)
    # every setting accounts for every settlement
    options = [c for c in table.columns if c not in ("parameter", "setting", "total_annual_cost_usd", "reactor_share")]
    assert (table[options].sum(axis=1) == 19).all()


def test_costs_command_and_bad_vary():
    env = {**os.environ, "COLUMNS": "250"}
    r = subprocess.run([*CLI, "costs", "india-islands", "--vary", "finance.discount_rate=0.03:0.1"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "finance.discount_rate" in r.stdout
    r = subprocess.run([*CLI, "costs", "india-islands", "--vary", "finance.discount_rate=0.1:0.03"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "--vary" in r.stderr and "Traceback" not in r.stderr
