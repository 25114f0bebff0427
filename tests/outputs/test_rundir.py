"""The run directory is written atomically, also when a stop signal arrives at a delicate moment; its path is
checked and locked before any computation."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from smrplan.errors import InputError
from smrplan.outputs.rundir import MARKER, atomic_run_dir, check_file_out, check_out, claimed_file, claimed_out, write_file

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
    (out / MARKER).write_text("{}")
    proc = _run(out, "commit")
    assert proc.returncode == -signal.SIGTERM, proc.stderr  # acted on once the new directory was in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.txt"]


def test_a_failed_run_keeps_the_old_directory_and_the_signal_handlers(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / MARKER).write_text("{}")
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(ValueError), atomic_run_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        assert signal.getsignal(signal.SIGTERM) is not before[0]  # SIGTERM cleans up while writing
        raise ValueError("a stage failed")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "old.txt"]


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


def test_overwrite_replaces_only_a_run_directory(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "settlements.csv").write_text("id\n1\n")
    with pytest.raises(InputError, match="only a run directory"):
        check_out(data, overwrite=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_out(empty, overwrite=True) == empty.resolve()
    with pytest.raises(InputError, match="--overwrite"):
        check_out(empty, overwrite=False)


@pytest.mark.parametrize("where", ["same", "parent", "inside"])
def test_out_keeps_clear_of_inputs(tmp_path, where):
    data = tmp_path / "data"
    data.mkdir()
    out = {"same": data, "parent": tmp_path, "inside": data / "runs" / "a"}[where]
    with pytest.raises(InputError, match="input"):
        check_out(out, overwrite=True, protected=[data / "scenario.yaml", data])


def test_a_file_in_the_way_or_an_unwritable_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_out(tmp_path / "f" / "run", overwrite=False)
    with pytest.raises(InputError, match="is a file"):
        check_out(tmp_path / "f", overwrite=True)
    with pytest.raises(InputError, match="root"):
        check_out(Path("/"), overwrite=True)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # root may write anyway
            with pytest.raises(InputError, match="not writable"):
                check_out(ro / "run", overwrite=False)
    finally:
        ro.chmod(0o700)


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from smrplan.outputs.rundir import claimed_out
    with claimed_out(Path(sys.argv[1]), False):
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_second_run_into_the_same_out_stops_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match=f"process {holder.pid} on"), claimed_out(out, False):
            pass
    finally:
        holder.kill()
        holder.wait()
    with claimed_out(out, False):  # a killed holder's lock is free again (the kernel drops it)
        assert (tmp_path / ".run.lock").is_file()
    assert list(tmp_path.iterdir()) == []


def test_stale_temporary_folders_of_killed_runs_are_removed(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".run.tmp-{gone.stdout.strip()}-abc"
    live = tmp_path / f".run.tmp-{os.getppid()}-abc"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "plan.json").write_text("{")
    with atomic_run_dir(tmp_path / "run", overwrite=False) as tmp:
        (tmp / "new.txt").write_text("new")
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [MARKER, "new.txt"]


def test_missing_parent_folders_made_for_a_failed_run_are_removed(tmp_path):
    with pytest.raises(ValueError), atomic_run_dir(tmp_path / "a" / "b" / "run", overwrite=False):
        raise ValueError("a stage failed")
    assert list(tmp_path.iterdir()) == []


def test_output_file_checked_before_any_computation(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "s.csv").write_text("id\n1\n", encoding="utf-8")
    (tmp_path / "dir.gpkg").mkdir()
    assert check_file_out(tmp_path / "new" / "sites.gpkg", [data], (".gpkg",)) == (tmp_path / "new" / "sites.gpkg").resolve()
    for out, text in [(tmp_path / "sites.txt", "unknown suffix '.txt'"),
                      (data / "s.csv", "would replace the input"),
                      (data / "sites.gpkg", "lies inside the input or data folder"),
                      (tmp_path / "dir.gpkg", "is a folder")]:
        with pytest.raises(InputError, match=f"--out: {text}"):
            check_file_out(out, [data, data / "s.csv"], (".gpkg",) if out.suffix != ".csv" else ())
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_file_out(data / "s.csv" / "x.gpkg")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_output_file_in_an_unwritable_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_file_out(ro / "x.gpkg")
    finally:
        ro.chmod(0o700)


def test_claimed_file_locks_makes_and_removes_folders(tmp_path):
    out = tmp_path / "a" / "b" / "sites.gpkg"
    with claimed_file(out) as real:
        assert real.parent.is_dir() and (real.parent / ".sites.gpkg.lock").exists()
        with pytest.raises(InputError, match="another smrplan run"):
            with claimed_file(out):
                pass
    assert not (tmp_path / "a").exists()  # nothing written: the made folders are gone again
    with claimed_file(out) as real:
        write_file(real, lambda p: p.write_text("x", encoding="utf-8"))
    assert out.read_text(encoding="utf-8") == "x" and os.listdir(out.parent) == ["sites.gpkg"]


def test_write_file_leaves_the_old_file_when_writing_fails(tmp_path):
    out = tmp_path / "f.csv"
    out.write_text("old", encoding="utf-8")

    def fail(p: Path) -> None:
        p.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_file(out, fail)
    assert out.read_text(encoding="utf-8") == "old" and os.listdir(tmp_path) == ["f.csv"]
