"""The test suite on the other supported Pythons and at the lowest allowed dependencies.

``make test`` runs everything (lint, types, the whole suite with the browser tests) on the
development Python, 3.11. The sessions here run the suite without the browser tests (they need
one Python only):

- ``tests-3.10`` and ``tests-3.13``: the lowest and the newest supported Python;
- ``lowest-deps``: Python 3.11 with every runtime dependency (``[project.dependencies]``) at the
  lower bound that pyproject.toml allows, so a bound that is too low shows here, not on a user's
  machine;
- ``wheel-demo``: the release check: build the sdist and the wheel, ``twine check --strict``, then
  install the wheel with its ``demo`` extra (no checkout on the path) and run ``qoder-jupyter demo``
  in an empty folder, as a user who installed it with pip would.

``make test-pythons`` runs them all; ``nox -s tests-3.13`` one of them, and arguments after ``--``
go to pytest (``nox -s tests-3.10 -- tests/test_spec.py -x``). Local runs reuse the sessions'
virtualenvs (``.nox/``); CI (``CI`` set) builds them anew. The interpreters are found on PATH or,
where pyenv is installed, among pyenv's versions (no pyenv version needs to be activated).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox itself on Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

LOWEST_PYTHON, DEVELOPMENT_PYTHON, NEWEST_PYTHON = "3.10", "3.11", "3.13"
ROOT = Path(__file__).resolve().parent
# The browser tests (tests/browser) run in `make test` only; tests/conftest.py points every
# Jupyter and IPython directory into a throwaway folder and drops the Qoder token variables, as
# for any pytest run from this folder. No cache: a session leaves .pytest_cache to `make test`.
PYTEST = ("-p", "no:cacheprovider", "--ignore=tests/browser")
# What the lowest-deps session prints: each runtime dependency, as installed.
REPORTED = ("httpx", "anyio", "sniffio", "traitlets", "ipython", "ipywidgets", "ipykernel")
nox.needs_version = ">=2024.4"
nox.options.sessions = ["tests", "lowest-deps", "wheel-demo"]
nox.options.reuse_venv = "no" if os.environ.get("CI") else "yes"
# A missing interpreter fails the run (never a silent skip), and nox downloads none.
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"


def _pyenv_versions() -> Path | None:
    if root := os.environ.get("PYENV_ROOT"):
        return Path(root, "versions")
    if (pyenv := shutil.which("pyenv")) is None:
        default = Path.home() / ".pyenv" / "versions"  # pyenv installed, its bin not on PATH
        return default if default.is_dir() else None
    # The pyenv found on PATH, with a fixed argument.
    found = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)  # noqa: S603
    return Path(found.stdout.strip(), "versions") if found.returncode == 0 else None


def _put_pyenv_interpreters_on_path() -> None:
    """Put pyenv's ``versions/X.Y.Z/bin`` of each Python used here first on PATH (the newest patch
    release of each first): pyenv's shims run only the versions that are activated."""
    versions = _pyenv_versions()
    if versions is None or not versions.is_dir():
        return
    wanted = {LOWEST_PYTHON, DEVELOPMENT_PYTHON, NEWEST_PYTHON}
    found: list[tuple[Version, Path]] = []
    for folder in versions.iterdir():
        if not re.fullmatch(r"\d+\.\d+\.\d+", folder.name):
            continue  # 3.13.0t, pypy3.10-7.3.12, miniconda3-latest, ...
        major_minor = folder.name.rsplit(".", 1)[0]
        if major_minor in wanted and (folder / "bin" / f"python{major_minor}").is_file():
            found.append((Version(folder.name), folder / "bin"))
    path = os.environ.get("PATH", "").split(os.pathsep)
    first = [str(bin_dir) for _, bin_dir in sorted(found, reverse=True) if str(bin_dir) not in path]
    os.environ["PATH"] = os.pathsep.join([*first, *path])


_put_pyenv_interpreters_on_path()


def _run_suite(session: nox.Session, *options: str) -> None:
    session.run("python", "-m", "pytest", *PYTEST, *options, *session.posargs)


@nox.session(python=[LOWEST_PYTHON, NEWEST_PYTHON])
def tests(session: nox.Session) -> None:
    """The suite, without the browser tests, on the lowest and the newest supported Python."""
    session.install("-e", ".[test]")
    _run_suite(session)


def _project() -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(table["project"])


def lower_bounds() -> list[Requirement]:
    """Each runtime dependency of pyproject.toml pinned to its lower bound (``>=X`` and ``~=X``
    become ``==X``; an exact ``==X`` stays), markers kept. A dependency without a lower bound is
    an error: the session would not test the lowest version."""
    pins = []
    for line in _project()["dependencies"]:
        requirement = Requirement(line)
        lows = [
            spec.version
            for spec in requirement.specifier
            if spec.operator in {">=", "~=", "=="} and not spec.version.endswith(".*")
        ]
        if len(lows) != 1:
            raise ValueError(f"{line!r}: not exactly one lower bound (>=, ~= or ==) to pin")
        try:
            Version(lows[0])
        except InvalidVersion as error:
            raise ValueError(f"{line!r}: {error}") from None
        marker = f"; {requirement.marker}" if requirement.marker else ""
        pins.append(Requirement(f"{requirement.name}=={lows[0]}{marker}"))
    return pins


def _check_installed(session: nox.Session, pins: list[Requirement]) -> None:
    """Print the version installed of each REPORTED and pinned distribution; fail if a pinned one
    (whose marker holds for the session's Python) is not at its pin."""
    listed = session.run("python", "-m", "pip", "list", "--format=json", silent=True, log=False)
    assert isinstance(listed, str)
    installed = {canonicalize_name(item["name"]): item["version"] for item in json.loads(listed)}
    by_name = {canonicalize_name(pin.name): pin for pin in pins}
    environment = {"python_version": str(session.python)}  # for the pins' markers
    lines, wrong = [], []
    for name in dict.fromkeys([*map(canonicalize_name, REPORTED), *by_name]):
        version, pin = installed.get(name), by_name.get(name)
        lines.append(f"  {name:<12} {version or 'not installed':<14} {pin or '(not pinned)'}")
        if pin is None or (pin.marker is not None and not pin.marker.evaluate(environment)):
            continue
        if version is None or not pin.specifier.contains(version):
            wrong.append(f"{name} {version or 'not installed'} (pinned: {pin})")
    session.log("lowest dependencies, as installed:\n" + "\n".join(lines))
    if wrong:
        session.error("not at the lower bound: " + "; ".join(wrong))


@nox.session(name="lowest-deps", python=DEVELOPMENT_PYTHON)
def lowest_deps(session: nox.Session) -> None:
    """The suite, without the browser tests, with every runtime dependency at its lower bound."""
    pins = lower_bounds()
    constraints = session.cache_dir / "lowest-deps-constraints.txt"  # (create_tmp sets TMPDIR)
    constraints.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
    session.log("constraints: " + ", ".join(map(str, pins)))
    session.install("-c", str(constraints), "-e", ".[test]")
    _check_installed(session, pins)
    _run_suite(session)


# What the wheel must hold besides the code: the license, the quickstart `qoder-jupyter demo` runs,
# the card's style and the "Python 3 (Qoder)" kernelspec.
WHEEL_MUST_HOLD = (
    "dist-info/licenses/LICENSE",
    "qoder_jupyter/notebooks/quickstart.ipynb",
    "qoder_jupyter/static/card.css",
    "data/share/jupyter/kernels/qoder/kernel.json",
)


@nox.session(name="wheel-demo", python=DEVELOPMENT_PYTHON)
def wheel_demo(session: nox.Session) -> None:
    """Build, check and install the release as a user gets it, and run its demo."""
    import zipfile

    tmp = Path(session.create_tmp()).resolve()
    dist, empty = tmp / "dist", tmp / "demo"
    for left_over in (dist, empty):  # from an earlier run of a reused session
        shutil.rmtree(left_over, ignore_errors=True)
    session.install("build>=1.2", "twine>=6.1")
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    session.run("python", "-m", "twine", "check", "--strict", *map(str, dist.iterdir()))
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    missing = [part for part in WHEEL_MUST_HOLD if not any(n.endswith(part) for n in names)]
    if missing:
        session.error(f"{wheel.name} lacks {', '.join(missing)}")
    session.install(f"{wheel}[demo]")
    empty.mkdir()
    session.chdir(empty)  # away from the checkout: only the installed package can be imported
    session.run("qoder-jupyter", "demo")
    made = sorted(path.name for path in empty.iterdir())
    if made != ["quickstart.html", "quickstart.ipynb"]:
        session.error(f"qoder-jupyter demo wrote {made} into {empty}")
