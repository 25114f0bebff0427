"""The run directory is written atomically, also when a stop signal arrives at a delicate moment."""

import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from smrplan.outputs.rundir import atomic_run_dir

# Runs atomic_run_dir in a fresh interpreter with one more thread alive, and sends the process SIGTERM
# from that thread at the moment named by argv[2]: "create" (the temporary folder has just been made)
# or "commit" (between moving the old directory aside and moving the new one in).
SCRIPT = textwrap.dedent("""
    import os, signal, sys, tempfile, threading, time
    from pathlib import Path
    from smrplan.outputs import rundir

    out, when = Path(sys.argv[1]), sys.argv[2]
    real_mkdtemp, real_replace = tempfile.mkdtemp, os.replace

    def terminate():
        t = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGTERM))
        t.start()
        t.join()
        time.sleep(0.2)

    def mkdtemp(*args, **kwargs):
        path = real_mkdtemp(*args, **kwargs)
        if when == "create" and ".tmp-" in path:
            terminate()
        return path

    calls = []

    def replace(src, dst):
        calls.append(src)
        if when == "commit" and len(calls) == 2:
            terminate()
        return real_replace(src, dst)

    tempfile.mkdtemp, os.replace = mkdtemp, replace
    try:
        with rundir.atomic_run_dir(out, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
    except KeyboardInterrupt:
        sys.exit(130)
""")


def _run(out, when):
    return subprocess.run([sys.executable, "-c", SCRIPT, str(out), when], capture_output=True, text=True, timeout=120)


def test_sigterm_as_the_temporary_folder_is_made_leaves_nothing(tmp_path):
    out = tmp_path / "run"
    proc = _run(out, "create")
    assert proc.returncode == 130, proc.stderr  # the signal became KeyboardInterrupt, after the clean-up
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_the_old_directory_is_replaced_loses_nothing(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    proc = _run(out, "commit")
    assert proc.returncode == -signal.SIGTERM, proc.stderr  # acted on once the new directory was in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]


def test_a_failed_run_keeps_the_old_directory_and_the_signal_handlers(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(ValueError), atomic_run_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        assert signal.getsignal(signal.SIGTERM) is not before[0]  # SIGTERM cleans up while writing
        raise ValueError("a stage failed")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]


def test_a_run_directory_can_be_written_from_a_worker_thread(tmp_path):
    out = tmp_path / "run"
    errors = []

    def work():
        try:
            with atomic_run_dir(out, overwrite=False) as tmp:
                (tmp / "new.txt").write_text("new")
        except Exception as exc:  # reported to the main thread
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "new.txt").read_text() == "new"
