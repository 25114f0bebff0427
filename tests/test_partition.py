"""Partitioned per-settlement stages and site screen: partitions keep groups whole, results come back
in row order, shared values reach a cluster once, the screen by partitions of candidates is the whole
screen, and a run gives the same plan in one process, in partitions here, and on one or two Dask workers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_cli, stable_summary

from smrplan.partition import (
    Cluster,
    Partitioner,
    on_threads,
    partitioner_for,
    process_threads,
    side_by_side,
    stitch,
)
from smrplan.pipeline import prepare_inputs
from smrplan.rejected_sites import rejected_table
from smrplan.scenario import bundled_text, resolve_scenario
from smrplan.siting.screen import generate_candidates, screen

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


class _Client:
    """A stand-in for a dask.distributed Client that counts what it scatters."""

    def __init__(self):
        self.scattered = []

    def scatter(self, value, broadcast, hash):
        self.scattered.append(value)
        return f"future {len(self.scattered)}"


def test_a_cluster_receives_each_shared_value_once():
    client = _Client()
    cluster = Cluster(client)
    region, sites = {"layers": 1}, {"sites": 2}
    futures = [Partitioner(5, cluster).share(v) for v in (region, sites, region, sites)]
    assert futures == ["future 1", "future 2", "future 1", "future 2"]
    assert client.scattered == [region, sites]
    assert Partitioner(5).share(region) is region


def _dem(path, bbox):
    """A geographic DEM over `bbox` (lon / lat, degrees): rising ground with a nodata band."""
    import rasterio
    from rasterio.transform import from_bounds

    z = np.add.outer(np.arange(40.0), np.arange(40.0)) * 3.0
    z[10:14, :] = -9999.0
    with rasterio.open(path, "w", driver="GTiff", height=40, width=40, count=1, dtype="float64", crs="EPSG:4326",
                       transform=from_bounds(*bbox, 40, 40), nodata=-9999.0) as dst:
        dst.write(z, 1)
    return path


def test_screen_by_partitions_gives_the_whole_screen(tmp_path):
    """The bundled region with a DEM over part of it: candidate partitions of any size give the same
    table, reasons, criteria and region-wide notes (cooling-water sources, candidates without DEM data);
    compact, the suitable rows of that table and the compact rows of the others."""
    scenario = resolve_scenario("india-islands")
    inputs = prepare_inputs(scenario)
    region = inputs.region
    cands = generate_candidates(region, scenario.siting, 150.0, None)
    lon, lat = cands.lon.to_numpy(), cands.lat.to_numpy()
    region.rasters["dem"] = _dem(tmp_path / "dem.tif", (lon.min(), lat.min(), np.median(lon), lat.max()))
    epz = {"land": 5.0, "micro": 1.0}
    whole = screen(region, scenario.siting, cands, epz)
    assert 0 < whole.criteria[[c.name for c in whole.criteria].index("slope")].counts["no_dem"] < len(cands)
    for rows in (7, 100, len(cands) - 1):
        parts = screen(region, scenario.siting, cands, epz, part=Partitioner(rows))
        pd.testing.assert_frame_equal(parts.sites, whole.sites)
        assert parts.summary() == whole.summary()
        assert [(c.name, c.note, c.counts, c.limit) for c in parts.criteria] == \
               [(c.name, c.note, c.counts, c.limit) for c in whole.criteria]
        compact = screen(region, scenario.siting, cands, epz, part=Partitioner(rows), compact=True)
        pd.testing.assert_frame_equal(compact.sites, whole.sites[whole.sites["suitable"]])
        pd.testing.assert_frame_equal(compact.rejected, rejected_table(whole.sites, [c.name for c in whole.criteria]))
        assert compact.summary() == whole.summary()
        assert [(c.name, c.note, c.limit, len(c.value)) for c in compact.criteria] == \
               [(c.name, c.note, c.limit, 0) for c in whole.criteria]


def test_candidates_by_partitions_are_the_whole_generation():
    """The bundled region's candidates (rings around every settlement, offshore points, h3 cells, user
    candidates) generated by partitions of 1, 3 and 7 settlements, here and on a stand-in cluster path,
    are the table generated whole: the same rows, order, kinds, origins and site numbers."""
    scenario = resolve_scenario("india-islands")
    region = prepare_inputs(scenario).region
    rules = scenario.siting.model_copy(update={"ring_min_population": 0})  # rings around every settlement
    whole = generate_candidates(region, rules, 150.0, None)
    user = whole.iloc[[0, len(whole) // 2, len(whole) - 1]][["kind", "geometry"]]
    assert set(whole.origin) >= {"ring", "offshore"} and whole.origin.str.startswith("h3").any()
    with_user = generate_candidates(region, rules, 150.0, user)
    assert (with_user.origin.iloc[:3] == "user").all()
    for rows in (1, 3, 7):
        for layer, expected in ((None, whole), (user, with_user)):
            got = generate_candidates(region, rules, 150.0, layer, part=Partitioner(rows))
            pd.testing.assert_frame_equal(got, expected)


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
    scale = ("scale:\n  partition_above_settlements: 0\n  partition_settlements: 5\n"
             "  partition_above_candidates: 0\n  partition_candidates: 200\n")
    args = ["run", _scenario(tmp_path / "parts.yaml", scale), "--out", tmp_path / "run", "--csv"]
    if workers is None:
        done = run_cli(args, timeout=300)
    else:  # a new interpreter: a Dask cluster does not start from a fork of the test process (threads, event loops)
        done = subprocess.run([sys.executable, "-c", "from smrplan.cli.main import main; main()",
                               *map(str, args), "--workers", str(workers)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ref, got = (json.loads((d / "plan.json").read_text()) for d in (single_process, tmp_path / "run"))
    assert ref["partitioning"]["partitions"] == ref["partitioning"]["candidate_partitions"] == 1
    assert got["partitioning"]["partitions"] == 4 and got["partitioning"]["workers"] == (workers or 0)
    assert got["partitioning"]["candidate_partitions"] > 1
    assert stable_summary(got) == stable_summary(ref)
    for name in TABLES:
        assert (tmp_path / "run" / name).read_bytes() == (single_process / name).read_bytes(), name


def test_process_threads_follow_omp_num_threads_else_the_cores(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert process_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    cores = process_threads()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert process_threads() == cores >= 1


def test_on_threads_returns_every_result_in_the_items_order(monkeypatch):
    items = list(range(50))
    for threads in ("1", "2"):
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        assert on_threads(lambda i: np.full(1000, i).sum(), items) == [1000 * i for i in items]
        assert on_threads(lambda i: i, []) == []


def test_in_process_map_runs_the_first_piece_alone_then_takes_pieces_as_threads_free_up(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    taken, started = [], []

    def pieces():
        for i in range(8):
            taken.append(i)
            yield i

    def work(i, k):
        started.append((i, len(taken)))
        return i * k

    assert Partitioner(1).map(work, pieces(), 3) == [3 * i for i in range(8)]
    assert started[0] == (0, 1)  # before any other piece is taken
    assert all(n - i <= 3 for i, n in started)  # two running, one waiting: never every piece at once
    assert Partitioner(1).map(work, iter([]), 3) == []


def test_steps_nested_in_a_threaded_step_run_on_their_own_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    seen = on_threads(lambda i: (i, process_threads()), range(4), first_alone=True)
    assert seen == [(0, 2), (1, 1), (2, 1), (3, 1)]  # the first in this thread, the others in the pool's
    assert process_threads() == 2
    assert on_threads(lambda i: i, [], first_alone=True) == []


def test_side_by_side_runs_the_steps_together_and_returns_their_results_in_order(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    both = threading.Barrier(2, timeout=10)  # broken (an error) unless the two steps run at once
    assert side_by_side(lambda: both.wait() * 0 + 1, lambda: both.wait() * 0 + 2, lambda: 3) == [1, 2, 3]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert side_by_side(lambda: threading.get_ident(), lambda: threading.get_ident()) == [threading.get_ident()] * 2
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    def outer(i):
        return threading.get_ident(), side_by_side(threading.get_ident, lambda: i)

    nested = on_threads(outer, range(3), first_alone=True)
    assert [steps[1] for _, steps in nested] == [0, 1, 2]
    assert all(steps[0] == own for own, steps in nested[1:])  # within a pool thread: that same thread
