"""Partitioned per-settlement stages: partitions keep groups whole, results come back in row order,
and a run gives the same plan in one process, in partitions here, and on one or two Dask workers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_cli, stable_summary

from smrplan.partition import Partitioner, partitioner_for, stitch
from smrplan.scenario import bundled_text

TABLES = ("settlements.csv", "sites.csv", "sites_rejected.csv", "site_reasons.csv")


def test_consecutive_partitions_cover_every_row_once():
    parts = Partitioner(4).parts(10)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.tolist() for p in Partitioner(4).parts(0)] == [[]]


def test_groups_stay_whole_and_rows_keep_their_order():
    groups = np.array(["b", "a", "b", "c", "a", "c", "c", "b"])
    parts = Partitioner(3).parts(len(groups), groups)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(groups)))
    for p in parts:
        assert (np.diff(p) > 0).all()
        for g in set(groups[p]):
            assert set(np.flatnonzero(groups == g)) <= set(p.tolist())  # every row of the group is here
    assert len(parts) == 2  # b (3 rows), then a and c packed together


def test_stitch_puts_rows_back_in_order():
    frame = pd.DataFrame({"x": np.arange(8) * 1.5}, index=np.arange(8) + 100)
    parts = Partitioner(3).parts(8, np.array([1, 2, 1, 2, 3, 3, 1, 2]))
    pieces = [frame.iloc[p].assign(y=lambda f: f["x"] * 2) for p in parts]
    pd.testing.assert_frame_equal(stitch(pieces, parts), frame.assign(y=frame["x"] * 2))
    assert stitch([frame["x"].to_numpy()[p] for p in parts], parts).tolist() == frame["x"].tolist()


def test_one_partition_at_or_under_the_threshold_without_a_client():
    assert partitioner_for(19, 19, 5).parts(19)[0].tolist() == list(range(19))
    assert len(partitioner_for(20, 19, 5).parts(20)) == 4
    assert partitioner_for(20, 19, 5).record(20) == {"partitions": 4, "rows_per_partition": 5, "workers": 0,
                                                      "scheduler": None}


def _scenario(path, scale: str = "") -> str:
    """The bundled region as a scenario file, without the report, with `scale` settings appended."""
    path.write_text(bundled_text("india-islands") + "\noutputs:\n  report: false\n" + scale, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The bundled region run in one process (19 settlements, one partition)."""
    tmp = tmp_path_factory.mktemp("single")
    done = run_cli(["run", _scenario(tmp / "whole.yaml"), "--out", tmp / "run", "--csv"], timeout=300)
    assert done.returncode == 0, done.stderr
    return tmp / "run"


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_partitioned_run_gives_the_same_plan(single_process, tmp_path, workers):
    scale = "scale:\n  partition_above_settlements: 0\n  partition_settlements: 5\n"
    args = ["run", _scenario(tmp_path / "parts.yaml", scale), "--out", tmp_path / "run", "--csv"]
    done = run_cli(args + ([] if workers is None else ["--workers", workers]), timeout=300)
    assert done.returncode == 0, done.stderr
    ref, got = (json.loads((d / "plan.json").read_text()) for d in (single_process, tmp_path / "run"))
    assert ref["partitioning"]["partitions"] == 1
    assert got["partitioning"]["partitions"] == 4 and got["partitioning"]["workers"] == (workers or 0)
    assert stable_summary(got) == stable_summary(ref)
    for name in TABLES:
        assert (tmp_path / "run" / name).read_bytes() == (single_process / name).read_bytes(), name
