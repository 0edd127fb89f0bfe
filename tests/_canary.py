"""The session-wide canary sweep (a pytest plugin; ``tests/conftest.py`` registers it).

Tests that hand a token to the code under test take a unique fake one from the ``canary`` fixture
(``pt-canary-<uuid>``). Over the whole session this plugin then looks for every canary in:

- every log record emitted by any logger, at any level (a root handler at DEBUG, which also turns
  on the DEBUG records nothing else would have emitted), tracebacks included;
- every test report: the failure text and the captured stdout, stderr and log;
- every file left under the session's temporary folders (pytest's ``tmp_path`` tree, where the
  executed notebooks and HTML renderings go, and the Jupyter and IPython folders, which
  ``conftest.py`` points into a sandbox).

A literal ``pt-canary-…`` that a test did not register (``test_form.py`` has one) is looked for in
logs and files too. Any sighting fails the run, with a report of where it was seen.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from pathlib import Path

import pytest

#: Every canary handed out this session.
CANARIES: set[str] = set()
#: Folders swept at the end, besides pytest's base temporary folder.
FOLDERS: list[Path] = []
#: Where a canary was seen: one line each.
SIGHTINGS: list[str] = []

PREFIX = "pt-canary-"
_LITERAL = re.compile(re.escape(PREFIX) + r"[\w-]+")


def new_canary() -> str:
    value = f"{PREFIX}{uuid.uuid4().hex}"
    CANARIES.add(value)
    return value


def watch_folder(folder: str | os.PathLike[str]) -> None:
    FOLDERS.append(Path(folder))


def _found(text: str, *, literals: bool) -> set[str]:
    """The canaries in ``text``: the registered ones, and any ``pt-canary-…`` if ``literals``."""
    if PREFIX not in text:
        return set()
    found = {canary for canary in CANARIES if canary in text}
    return found | set(_LITERAL.findall(text)) if literals else found


def _clip(text: str, canary: str) -> str:
    at = text.find(canary)
    return text[max(0, at - 60) : at + len(canary) + 20].replace("\n", "\\n")


class _Sweeper(logging.Handler):
    """Reads every log record as it is emitted: the message, its arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.test = "(outside any test)"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{self.format(record)} {record.args!r}"
        except Exception:  # a badly formed record: read what can be read
            text = f"{record.msg!r} {record.args!r}"
        for canary in _found(text, literals=True):
            SIGHTINGS.append(
                f"log record of {record.name!r} during {self.test}: {_clip(text, canary)}"
            )


_SWEEPER = _Sweeper()
_previous_level = logging.WARNING


@pytest.fixture
def canary() -> str:
    """A unique fake token (``pt-canary-<uuid>``), swept for through the whole session."""
    return new_canary()


@pytest.fixture(scope="session", autouse=True)
def _sweep_pytest_temp(tmp_path_factory: pytest.TempPathFactory) -> None:
    watch_folder(tmp_path_factory.getbasetemp())


#: The Jupyter and IPython folders of the session (conftest.py points them into a sandbox):
#: kernels, their runtime files and any saved state end up there.
SANDBOX_VARIABLES = ("IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")


def pytest_configure(config: pytest.Config) -> None:
    global _previous_level
    for variable in SANDBOX_VARIABLES:
        if os.environ.get(variable):
            watch_folder(os.environ[variable])
    root = logging.getLogger()
    _previous_level = root.level
    root.addHandler(_SWEEPER)
    root.setLevel(logging.DEBUG)


def pytest_unconfigure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.removeHandler(_SWEEPER)
    root.setLevel(_previous_level)


def pytest_runtest_logstart(nodeid: str) -> None:
    _SWEEPER.test = nodeid


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Only registered canaries here: a failure shows source lines, where a literal may stand.
    texts = [(f"{report.when} report", report.longreprtext)]
    texts += [(title, content) for title, content in report.sections]
    for where, text in texts:
        for canary in _found(text, literals=False):
            SIGHTINGS.append(f"{where} of {report.nodeid}: {_clip(text, canary)}")


def _sweep_files() -> None:
    for folder in dict.fromkeys(FOLDERS):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if not path.is_file() or path.is_symlink():
                continue
            try:
                text = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            for canary in _found(text, literals=True):
                SIGHTINGS.append(f"file {path}: {_clip(text, canary)}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _sweep_files()
    if SIGHTINGS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SIGHTINGS:
        terminalreporter.section("CANARY TOKEN LEAKED", sep="!", red=True, bold=True)
        for line in dict.fromkeys(SIGHTINGS):
            terminalreporter.line(line, red=True)
    elif CANARIES:
        terminalreporter.write_line(
            f"canary sweep: {len(CANARIES)} canary tokens, none in any log record, report or "
            "temporary file"
        )
