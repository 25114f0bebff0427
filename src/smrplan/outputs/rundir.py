"""Writing a run directory safely.

Everything is written into a hidden temporary folder beside the destination, which is renamed into
place only when complete. On any error or interruption (Ctrl-C, SIGTERM) the temporary folder is
removed, so a failed run leaves no directory and an existing one is never half-overwritten.

Before any computation `claimed_out` checks the output path and takes a lock on it:

- the path must not be, contain or lie inside a protected path (the run's input files and data
  folders), must not be the file-system root, and no file may stand where a folder is needed; the
  nearest existing folder must be writable;
- an existing directory is replaced only with `overwrite` and only when smrplan wrote it (it holds the
  marker file `MARKER`) or it is empty;
- a lock file beside it (``.<name>.lock``, a `filelock.FileLock` holding the owner's process id) makes a
  second run into the same path stop at once, naming the process that holds it; the lock file is
  removed when the run ends;
- temporary folders of earlier runs killed before they could clean up (``.<name>.tmp-<pid>-*``,
  ``.<name>.old-<pid>-*``) are removed when their process is gone.

A command that writes one file (``smrplan screen --out``, ``smrplan data import``) checks it the same
way first (`check_file_out`, `claimed_file`): a known suffix, not an input nor inside a protected
folder, not a folder, its nearest existing folder writable; `claimed_file` also holds the lock.

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
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from smrplan.errors import InputError
from smrplan.version import __version__

MARKER = ".smrplan-run"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def atomic_run_dir(out: Path, overwrite: bool, protected: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder; on success it gets the marker file and becomes `out`.

    Parameters
    ----------
    out : Path
        The run directory, checked and locked as by `claimed_out`.
    overwrite : bool
        Replace an existing run directory.
    protected : iterable of Path, default none
        Input files and folders `out` must keep clear of (`check_out`).
    """
    out = Path(out)
    claim = contextlib.ExitStack()
    claim.enter_context(claimed_out(out, overwrite, protected))
    stops = _StopSignals()
    stops.hold()
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        stops.release()  # a signal held so far raises here, inside the clean-up
        yield tmp
        write_json(tmp / MARKER, {"smrplan": __version__, "written_utc": _now()})
        stops.hold()
        _commit(tmp, out)
    finally:
        stops.hold()
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        claim.close()  # the lock goes before a held signal is acted on
        stops.restore()


def _commit(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` to `out`, replacing an existing `out`."""
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
        os.replace(out, trash / "old")
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


_HELD: dict[Path, int] = {}  # output paths this process holds the lock of, with the nesting depth
_HELD_LOCK = threading.Lock()


def check_out(out: Path, overwrite: bool, protected: Iterable[Path] = (), resume: bool = False) -> Path:
    """Check an output directory path before any computation; return it made absolute.

    Parameters
    ----------
    out : Path
        The directory to write.
    overwrite : bool
        Whether an existing run directory may be replaced.
    protected : iterable of Path
        Input files and folders: `out` must not be or contain any of them, nor lie inside a folder
        among them.
    resume : bool, default False
        An existing directory is kept to be added to (a sweep directory, which checks its own manifest).

    Returns
    -------
    Path
        `out` as an absolute path (symbolic links resolved).

    Raises
    ------
    InputError
        Naming --out and what is wrong: a protected path, the root, a file in the way, an unwritable
        folder, an existing directory without `overwrite` or one smrplan did not write.
    """
    real = Path(out).resolve()
    if real.parent == real:
        raise InputError(out, "--out", "the root of the file system cannot be a run directory")
    for path in protected:
        p = Path(path).resolve()
        if p == real or p.is_relative_to(real):
            raise InputError(out, "--out", f"would replace an input: it is or contains {path}; choose another folder")
        if p.is_dir() and real.is_relative_to(p):
            raise InputError(out, "--out", f"lies inside the input or data folder {path}; write runs elsewhere")
    existing = next(a for a in (real, *real.parents) if a.exists())
    if not existing.is_dir():
        raise InputError(out, "--out", f"{existing} is a file, not a folder; choose another path")
    if existing == real:
        if not resume:
            _check_existing(real, out, overwrite)
        existing = real if resume else real.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(out, "--out", f"the folder {existing} is not writable")
    return real


def _check_existing(real: Path, out: Path, overwrite: bool) -> None:
    """An existing `out` may be replaced only with `overwrite`, and only a run directory or an empty one."""
    if not overwrite:
        raise InputError(out, "--out", "the output directory exists; choose another or pass --overwrite")
    if not (real / MARKER).is_file() and any(real.iterdir()):
        raise InputError(out, "--out", f"--overwrite replaces only a run directory smrplan wrote (with its {MARKER} "
                                       "file); this folder is not one: remove it yourself or choose another --out")


def check_file_out(out: Path, protected: Iterable[Path] = (), suffixes: Iterable[str] = ()) -> Path:
    """Check an output file path before any computation; return it made absolute.

    Parameters
    ----------
    out : Path
        The file to write (an existing file is replaced).
    protected : iterable of Path
        Input files and folders: `out` must not be one of them nor lie inside a folder among them.
    suffixes : iterable of str, default any
        The suffixes the file may have (lower case, with the dot, e.g. ``.gpkg``).

    Returns
    -------
    Path
        `out` as an absolute path (symbolic links resolved).

    Raises
    ------
    InputError
        Naming --out and what is wrong: another suffix, a protected path, a folder where the file
        should be, a file where a folder is needed, or an unwritable folder.
    """
    real = Path(out).resolve()
    if real.is_dir():
        raise InputError(out, "--out", "is a folder; give the path of a file")
    inputs = [(path, Path(path).resolve()) for path in protected]
    for path, p in inputs:
        if p == real:
            raise InputError(out, "--out", f"would replace the input {path}; choose another file")
    for path, p in inputs:
        if p.is_dir() and real.is_relative_to(p):
            raise InputError(out, "--out", f"lies inside the input or data folder {path}; write outputs elsewhere")
    allowed = tuple(suffixes)
    if allowed and Path(out).suffix.lower() not in allowed:
        raise InputError(out, "--out", f"unknown suffix {Path(out).suffix!r}; expected a file name ending in "
                                       f"{' or '.join(allowed)}")
    folder = next(a for a in real.parents if a.exists())
    if not folder.is_dir():
        raise InputError(out, "--out", f"{folder} is a file, not a folder; choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(out, "--out", f"the folder {folder} is not writable")
    return real


@contextlib.contextmanager
def claimed_file(out: Path, protected: Iterable[Path] = (), suffixes: Iterable[str] = ()) -> Iterator[Path]:
    """Check the output file `out` (`check_file_out`) and hold its lock for the body; yield the absolute
    path. Missing parent folders are made (and removed again if the body leaves nothing in them).

    Parameters
    ----------
    out, protected, suffixes
        As in `check_file_out`.

    Raises
    ------
    InputError
        As `check_file_out`, or when another process holds the lock (naming its process id).
    """
    real = check_file_out(out, protected, suffixes)
    made = [a for a in reversed(real.parents) if not a.exists()]
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        with _locked(real, out):
            yield real
    finally:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty


def write_file(out: Path, write: Callable[[Path], object]) -> None:
    """Write a file through `write` (given a temporary path beside `out`), then rename it into place;
    the temporary file is removed when writing fails, so `out` is either the old file or the new one."""
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    try:
        write(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def claimed_out(out: Path, overwrite: bool, protected: Iterable[Path] = (), resume: bool = False) -> Iterator[Path]:
    """Check `out` and hold its lock for the body; yield the absolute path.

    Parameters
    ----------
    out, overwrite, protected, resume
        As in `check_out`.

    The missing parent folders are made (and removed again if the body leaves nothing in them); stale
    temporary folders of killed runs into the same path are removed. Nested claims of the same path in
    one process share the lock.

    Raises
    ------
    InputError
        As `check_out`, or when another process holds the lock (naming its process id).
    """
    real = check_out(out, overwrite, protected, resume)
    with _HELD_LOCK:
        depth = _HELD.get(real, 0)
        _HELD[real] = depth + 1
    if depth:
        try:
            yield real
        finally:
            with _HELD_LOCK:
                _HELD[real] -= 1
        return
    made = [a for a in reversed(real.parents) if not a.exists()]
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        with _locked(real, out):
            _remove_stale(real)
            yield real
    finally:
        with _HELD_LOCK:
            del _HELD[real]
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty


@contextlib.contextmanager
def _locked(real: Path, out: Path) -> Iterator[None]:
    """Hold the lock file beside `real` with this process's id in it; remove it at the end."""
    path = real.parent / f".{real.name}.lock"
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(out, "--out", f"another smrplan run ({_owner(path)}) is writing this directory; wait for it "
                                       "or choose another --out") from None
    try:
        path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since_utc": _now()}),
                        encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        lock.release()


def _owner(lock_path: Path) -> str:
    """Who holds a lock file, as text."""
    try:
        owner = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"process {owner['pid']} on {owner['host']}, since {owner['since_utc']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "process unknown"


def _remove_stale(real: Path) -> None:
    """Remove the temporary folders of earlier runs into `real` whose process is gone."""
    for kind in ("tmp", "old"):
        for folder in real.parent.glob(f".{real.name}.{kind}-*"):
            pid = folder.name.removeprefix(f".{real.name}.{kind}-").split("-")[0]
            if folder.is_dir() and (not pid.isdigit() or not _alive(int(pid))):
                shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
