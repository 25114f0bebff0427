"""Shared test fixtures: the real public data folder (skipped when absent) and small helpers."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from smrplan.catalogue.catalogue import Parameter, Technology
from smrplan.summary import VOLATILE_FIELDS

# Region geometry prepared from a land layer is kept on disk between runs (smrplan.geo.diskcache): the
# tests keep theirs in a folder of their own, shared by the whole session and its forked CLI runs, and
# removed when the session ends. The folder is named in the environment, so that the second copy of this
# module that `from tests.conftest import ...` makes (and any worker process that imports it) takes the
# same folder instead of making one that nothing removes.
if "SMRPLAN_TEST_CACHE_DIR" not in os.environ:
    os.environ["SMRPLAN_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="smrplan-test-cache-")
_CACHE_DIR = os.environ["SMRPLAN_CACHE_DIR"] = os.environ["SMRPLAN_TEST_CACHE_DIR"]


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE_DIR, ignore_errors=True)

SHARED_DATA = Path(os.environ.get("SMRPLAN_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def tech(key: str, option: str, **values) -> Technology:
    """A catalogue entry built in a test, every number sourced to the test itself."""
    params = {k: Parameter(value=v, unit="USD" if "usd" in k else "-", source="test", year=2024,
                           low=v if not isinstance(v, str) else None, high=v if not isinstance(v, str) else None)
              for k, v in values.items()}
    return Technology(key=key, name=key, option=option, description="", confidence="high", parameters=params)


def run_cli(args, cwd: Path | None = None, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``smrplan ARGS`` in a forked child of the test process and return its exit status and output.

    The child is a fresh process (own exit status, own stdout and stderr, nothing shared back), as a
    subprocess would be, but it starts from this process's already imported modules, so a case costs
    milliseconds of start-up instead of the seconds of importing the scientific stack again.
    """
    import smrplan.cli.main  # noqa: F401  (imported once here, inherited by every fork)

    args = [str(a) for a in args]
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        child = multiprocessing.get_context("fork").Process(target=_cli_child, args=(args, cwd, env, out, err))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(["smrplan", *args], timeout)
        return subprocess.CompletedProcess(["smrplan", *args], child.exitcode,
                                           out.read_text(encoding="utf-8", errors="replace"),
                                           err.read_text(encoding="utf-8", errors="replace"))


def _cli_child(args: list[str], cwd: Path | None, env: dict | None, out: Path, err: Path) -> None:
    """Body of the forked child: point file descriptors 1 and 2 at files, run the CLI, exit with its status."""
    code = 1
    with open(out, "w", encoding="utf-8") as fo, open(err, "w", encoding="utf-8") as fe:
        os.dup2(fo.fileno(), 1)
        os.dup2(fe.fileno(), 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        if cwd is not None:
            os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        sys.argv = ["smrplan", *args]
        try:
            from smrplan.cli.main import main
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001  (an uncaught error is the CLI's own traceback, as a process shows it)
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


def stable_summary(summary: dict) -> bytes:
    """plan.json content without the fields listed as volatile (times, creation stamp)."""
    s = json.loads(json.dumps(summary, sort_keys=True, default=str))
    for dotted in VOLATILE_FIELDS:
        node = s
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.get(p, {})
        node.pop(last, None)
    s.pop("volatile_fields", None)
    return json.dumps(s, sort_keys=True).encode()
