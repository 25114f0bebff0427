"""The bad-input corpus (tests/bad_inputs/cases.yaml): every malformed input ends with exit status 2,
one message naming the file and the field, no traceback and no run directory."""

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import run_cli

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c["case"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_bad_input_exits_2_with_named_field(case, tmp_path):
    work = tmp_path / case["case"]
    shutil.copytree(CORPUS / case["case"], work)  # inputs are never modified: run on a copy, compare after
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    out = tmp_path / "run"
    args = [a.replace("{dir}", str(work)).replace("{out}", str(out)) for a in case["args"]]
    r = run_cli(args, timeout=300)
    msg = r.stderr
    assert r.returncode == 2, f"exit {r.returncode}: {msg}{r.stdout}"
    assert "Traceback" not in msg
    for part in case["expect"]:
        assert part in msg, f"{part!r} not in {msg!r}"
    assert not out.exists() and not list(tmp_path.glob(".run.*"))
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before
