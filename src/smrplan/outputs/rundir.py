"""Writing a run directory atomically.

Everything is written into a hidden temporary folder beside the destination, which is renamed into
place only when complete. On any error or interruption (Ctrl-C, SIGTERM) the temporary folder is
removed, so a failed run leaves no directory and an existing one is never half-overwritten.

Stop signals are held (noted, and acted on once it is safe) while the temporary folder is created,
while it replaces the destination and while it is removed. Holding is done with Python handlers, not
by blocking the signals: a mask applies to one thread only, and the kernel delivers a signal sent to
the process to any thread that does not block it (numeric libraries and the solver run threads of
their own), where SIGTERM's default action would end the process at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from smrplan.errors import InputError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def atomic_run_dir(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes `out` (replacing it if `overwrite`)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(out, "--out", "the output directory exists; choose another or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    stops = _StopSignals()
    stops.hold()
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        stops.release()  # a signal held so far raises here, inside the clean-up
        yield tmp
        stops.hold()
        _commit(tmp, out)
    finally:
        stops.hold()
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        stops.restore()


def _commit(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` to `out`, replacing an existing `out`."""
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, trash / "old")
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


class _StopSignals:
    """SIGINT / SIGTERM around a run directory. `hold` notes a stop signal instead of acting on it;
    `release` puts back the SIGINT handler found, turns SIGTERM into KeyboardInterrupt (so that the
    clean-up runs) and re-raises a held signal; `restore` puts back both handlers found and re-raises
    a held signal. Only the main thread may set handlers: elsewhere (an API call in a worker thread)
    signals are left alone and the clean-up runs on exceptions only."""

    def __init__(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        found = {s: signal.getsignal(s) for s in STOP_SIGNALS} if main else {}
        self.found = {s: h for s, h in found.items() if h is not None}  # None: set outside Python, kept
        self.held: list[int] = []

    def hold(self) -> None:
        for s in self.found:
            signal.signal(s, self._note)

    def release(self) -> None:
        for s, handler in self.found.items():
            signal.signal(s, _term if s == signal.SIGTERM else handler)
        self._raise_held()

    def restore(self) -> None:
        for s, handler in self.found.items():
            signal.signal(s, handler)
        self._raise_held()

    def _note(self, signum, frame) -> None:
        self.held.append(signum)

    def _raise_held(self) -> None:
        held, self.held = self.held, []
        for s in dict.fromkeys(held):
            signal.raise_signal(s)


def _term(signum, frame):
    """Turn SIGTERM into an exception so that the clean-up of `atomic_run_dir` runs."""
    raise KeyboardInterrupt("terminated")


def write_json(path: Path, data) -> None:
    """JSON with sorted keys and a trailing newline (stable bytes for the same content)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
