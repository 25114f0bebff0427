"""Writing a run directory atomically.

Everything is written into a hidden temporary folder beside the destination, which is renamed into
place only when complete. On any error or interruption (Ctrl-C, SIGTERM) the temporary folder is
removed, so a failed run leaves no directory and an existing one is never half-overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from smrplan.errors import InputError


@contextlib.contextmanager
def atomic_run_dir(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes `out` (replacing it if `overwrite`)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(out, "--out", "the output directory exists; choose another or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    in_main = _is_main_thread()
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    # Signals are held while the temporary folder is created and the handlers installed, so an
    # interruption cannot fall between creating the folder and being able to remove it.
    if in_main:
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except BaseException:
        if in_main:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        raise
    previous = signal.getsignal(signal.SIGTERM)
    try:
        if in_main:
            signal.signal(signal.SIGTERM, _term)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)  # a pending signal raises in here
        yield tmp
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, trash / "old")
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _term(signum, frame):
    """Turn SIGTERM into an exception so that the clean-up of `atomic_run_dir` runs."""
    raise KeyboardInterrupt("terminated")


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def write_json(path: Path, data) -> None:
    """JSON with sorted keys and a trailing newline (stable bytes for the same content)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
