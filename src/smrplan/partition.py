"""Settlement partitions: the per-settlement stages run part by part, in this process or on Dask.

A `Partitioner` splits the rows of a settlement table into partitions of about `rows` rows each:
consecutive runs of rows, or, for a step that ranks settlements within groups (the grid-status proxy
ranks within census districts or states), whole groups packed together so that every group
operation sees all of its rows in their original order. It maps a function over the partitions,
in this process (the first alone, then side by side on the process's threads, `on_threads`: peak
memory grows with the partition and the threads, not the table) or on a dask.distributed Client, and
puts the results back in the original row order (`stitch`). Row-wise steps give the same numbers
whichever way they are cut and wherever they run.

On a cluster the shared inputs (the region layers, every settlement point...) go to every worker
once per run: a `Cluster` keeps the future of each value it sent, by the value's identity, and every
stage's partitioner of the run uses the same `Cluster` (so the workers also keep what they built on
the value, such as the region's spatial indexes, from one stage to the next).

    part = partitioner_for(len(table), above=200_000, rows=50_000, cluster=None)
    parts = part.parts(len(table))
    pieces = part.map(step, (table.iloc[p] for p in parts), part.share(region))
    out = stitch(pieces, parts)
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smrplan.categories import concat

if TYPE_CHECKING:
    from dask.distributed import Client

IN_FLIGHT = 2  # pieces per worker sent to a cluster and not yet back (one running, one on its way)
_NOTHING = object()  # no item


_worker = threading.local()  # `inside` is True in the threads of `on_threads`


def process_threads() -> int:
    """Threads the numerical steps of one process run on side by side (neighbour searches, route
    splits, dispatch chunks, partitions): 1 inside a thread of `on_threads` (so that steps nested in
    a threaded one do not multiply the threads, nor the memory they hold), else ``OMP_NUM_THREADS``
    where it is set (the usual limit of numerical libraries; Dask's worker processes set it to 1),
    else the cores this process may use."""
    if getattr(_worker, "inside", False):
        return 1
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _mark_worker() -> None:
    """Initialiser of `on_threads`' threads."""
    _worker.inside = True


def on_threads(func: Callable, items: Iterable, *shared: Any, first_alone: bool = False) -> list:
    """``func(item, *shared)`` for every item, side by side on `process_threads` threads (one after the
    other when there is one thread), results in the items' order.

    For steps whose work releases the GIL (numpy, scipy's searches, GEOS, numba's ``nogil`` code).
    Items are taken from `items` as threads become free, so at most `process_threads` items are being
    worked on and one more is waiting: memory grows with the item, not with `items`. Within the
    threads, `process_threads` is 1: what `func` calls runs on its own thread.

    Parameters
    ----------
    func : callable
        Must not change anything that other items read.
    items : iterable
        One input per call; consumed as calls start.
    *shared : object
        Inputs every call receives.
    first_alone : bool, default False
        Run the first item before the others start, in this thread: for a `func` whose first call
        builds what the shared inputs keep once built (a region's spatial indexes, cells).

    Returns
    -------
    list
        One result per item, in the items' order.
    """
    threads = process_threads()
    items = iter(items)
    out: list = []
    if first_alone:
        first = next(items, _NOTHING)
        if first is _NOTHING:
            return out
        out.append(func(first, *shared))
    if threads <= 1:
        return out + [func(item, *shared) for item in items]
    with ThreadPoolExecutor(threads, initializer=_mark_worker) as pool:
        window: deque[Future] = deque()
        for item in items:
            if len(window) >= threads:
                out.append(window.popleft().result())
            window.append(pool.submit(func, item, *shared))
        out.extend(future.result() for future in window)
    release_free_memory()
    return out


def side_by_side(*steps: Callable[[], Any]) -> list:
    """The results of independent steps, run side by side on `on_threads` (one after the other on one
    thread, or within a thread of `on_threads`), in the steps' order.

    For the parts of a stage that read the same inputs and write nothing shared, each of which
    releases the GIL for most of its work (GEOS, numpy, compiled loops).

    Parameters
    ----------
    *steps : callable
        Functions without arguments; they must not change anything another step reads.

    Returns
    -------
    list
        Each step's result, in order.
    """
    return on_threads(_call, steps)


def _call(step: Callable[[], Any]) -> Any:
    """The result of one step of `side_by_side`."""
    return step()


def release_free_memory() -> None:
    """Give back to the system the memory the allocator holds free (glibc's ``malloc_trim``, as
    dask.distributed does for its workers): memory freed in a thread's arena, or between the blocks
    still in use, is otherwise kept, and the process's resident memory stays at its peak. For the
    steps that free large pieces while they build a whole (after threads, joins of partitions).
    Nothing happens with another C library.

    Returns
    -------
    None
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` among the symbols of this process; None under another C library."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


class Cluster:
    """A dask.distributed Client and the values sent to every one of its workers during a run, each
    once.

    Parameters
    ----------
    client : dask.distributed.Client
        The cluster's client.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._sent: dict[int, tuple[Any, Any]] = {}  # id -> (the value, kept so the id stays its own; future)

    def share(self, value: Any) -> Any:
        """The future of `value` scattered to every worker: sent at the first call with this very
        object, the same future afterwards."""
        sent = self._sent.get(id(value))
        if sent is None:
            sent = self._sent[id(value)] = (value, self.client.scatter(value, broadcast=True, hash=False))
        return sent[1]

    def workers(self) -> int:
        """Workers of the cluster now."""
        return len(self.client.scheduler_info()["workers"])


@dataclass(frozen=True)
class Partitioner:
    """How the per-settlement stages are cut and where they run.

    Attributes
    ----------
    rows : int
        Target rows per partition (a group larger than this is one partition of its own).
    cluster : Cluster or None
        The cluster the partitions run on; None runs them in this process (`map`).
    """

    rows: int
    cluster: Cluster | None = None

    def parts(self, n: int, groups: np.ndarray | None = None) -> list[np.ndarray]:
        """Row positions of every partition, ascending within each.

        Parameters
        ----------
        n : int
            Rows of the table.
        groups : numpy.ndarray, optional
            A group key per row: every group is kept whole, groups packed in the order they first
            appear until a partition holds at least `rows` rows. Without it, consecutive runs of `rows` rows.

        Returns
        -------
        list of numpy.ndarray
            Integer positions; one empty partition when `n` is 0.
        """
        if groups is None:
            return [np.arange(a, min(a + self.rows, n)) for a in range(0, n, self.rows)] or [np.arange(0)]
        codes, _ = pd.factorize(pd.Series(groups, copy=False), use_na_sentinel=False)
        order = np.argsort(codes, kind="stable")  # each group's rows together, groups by first appearance
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        out: list[np.ndarray] = []
        start = 0
        for stop in [*bounds.tolist(), n]:
            if stop - start >= self.rows or stop == n:
                out.append(np.sort(order[start:stop]))
                start = stop
        return out or [np.arange(0)]

    def share(self, value: Any) -> Any:
        """`value` as the partitions receive it: on a cluster its future, the value sent to every worker
        once per run (`Cluster.share`); itself in this process."""
        return value if self.cluster is None else self.cluster.share(value)

    def map(self, func: Callable, pieces: Iterable, *shared: Any) -> list:
        """``func(piece, *shared)`` for every piece, results in the pieces' order.

        In this process the first piece runs alone (it builds what the shared inputs keep once
        built, such as the region's spatial indexes), the others side by side on the process's
        threads (`on_threads`). On a cluster at most `IN_FLIGHT` pieces per worker are sent and not
        yet back. Neither this process nor the workers hold every piece at once.

        Parameters
        ----------
        func : callable
            A module-level function (workers import it by name).
        pieces : iterable
            One input per partition; consumed as partitions start.
        *shared : object
            Inputs every partition receives (from `share`).

        Returns
        -------
        list
            One result per piece.
        """
        if self.cluster is None:
            return on_threads(func, pieces, *shared, first_alone=True)
        from dask.distributed import as_completed

        client, window = self.cluster.client, IN_FLIGHT * max(self.cluster.workers(), 1)
        running = as_completed()
        place: dict[Any, int] = {}  # future key -> piece position
        out: dict[int, Any] = {}
        for i, piece in enumerate(pieces):
            if running.count() >= window:  # a piece goes once one is back: a few partitions in flight at a time
                done = next(running)
                out[place.pop(done.key)] = done.result()
            sent = client.scatter([piece], hash=False)[0]  # not hashed: tokenizing a piece costs more than sending it
            future = client.submit(func, sent, *shared, pure=False)
            place[future.key] = i
            running.add(future)
        for done in running:
            out[place.pop(done.key)] = done.result()
        return [out[i] for i in range(len(out))]

    def record(self, n: int) -> dict:
        """How a table of `n` rows is run, for plan.json: partitions, rows per partition, workers (0: in
        this process) and the scheduler's address."""
        return {"partitions": len(self.parts(n)), "rows_per_partition": min(self.rows, n),
                "workers": self.cluster.workers() if self.cluster is not None else 0,
                "scheduler": self.cluster.client.scheduler.address if self.cluster is not None else None}


def partitioner_for(n: int, above: int, rows: int, cluster: Cluster | None = None) -> Partitioner:
    """The partitioner of a table of `n` rows: one partition of every row in this process when `n` is
    at most `above` and no cluster is given, else partitions of `rows` rows (on the cluster when given).

    Parameters
    ----------
    n : int
        Rows (settlements).
    above : int
        Rows over which the table is partitioned without a cluster.
    rows : int
        Target rows per partition.
    cluster : Cluster, optional
        The cluster to run the partitions on.

    Returns
    -------
    Partitioner
    """
    if cluster is None and n <= above:
        return Partitioner(max(n, 1))
    return Partitioner(rows, cluster)


def stitch(pieces: list, parts: list[np.ndarray]) -> Any:
    """Per-partition results (data frames or arrays, rows in partition order) as one, in the original
    row order.

    Parameters
    ----------
    pieces : list of pandas.DataFrame or numpy.ndarray
        One result per partition, its rows those of the partition.
    parts : list of numpy.ndarray
        The partitions' row positions (`Partitioner.parts`).

    Returns
    -------
    pandas.DataFrame or numpy.ndarray
        Row i is the result of the table's row i (a data frame keeps its pieces' index and type, and
        its categorical columns stay categorical: `smrplan.categories.concat`).
    """
    if len(pieces) == 1:
        return pieces[0]
    order = np.concatenate(parts)
    inverse = np.empty(len(order), np.int64)
    inverse[order] = np.arange(len(order))
    if isinstance(pieces[0], pd.DataFrame):
        whole = concat(pieces)
        return whole.iloc[inverse] if not np.array_equal(order, np.arange(len(order))) else whole
    return np.concatenate(pieces)[inverse]
