"""The canary sweep (tests/_canary.py) itself: a session that leaks a canary into a log record,
captured output or a file fails, and says where. (That a clean session passes, this whole test
session shows.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]

LEAKY_TESTS = """
import logging

def test_leaks_into_a_log_record(canary):
    logging.getLogger("somewhere.deep").debug("connecting with %s", canary)

def test_leaks_into_stdout(canary):
    print("token:", canary)

def test_leaks_into_a_file(canary, tmp_path):
    (tmp_path / "executed.ipynb").write_text(canary)

def test_leaks_nowhere(canary):
    assert canary
"""


def _session(tests: str) -> subprocess.CompletedProcess[str]:
    """A pytest session in a child process, in a folder of its own outside this session's
    temporary folders (its canaries must not trip this session's sweep)."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "conftest.py").write_text('pytest_plugins = ("tests._canary",)\n')
        Path(folder, "test_leaky.py").write_text(tests)
        return subprocess.run(
            [
                *(
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "no:schemathesis",
                ),
                *("--rootdir", folder, "--basetemp", str(Path(folder, "tmp")), folder),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )


def test_a_leaked_canary_fails_the_session_and_says_where():
    result = _session(LEAKY_TESTS)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "4 passed" in result.stdout  # every test passed: the sweep failed the session
    assert "CANARY TOKEN LEAKED" in result.stdout
    assert "log record of 'somewhere.deep' during" in result.stdout
    assert "Captured stdout call of test_leaky.py::test_leaks_into_stdout" in result.stdout
    assert "executed.ipynb" in result.stdout
