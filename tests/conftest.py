"""Shared test setup.

At import, before any test module loads Jupyter or IPython code: every Jupyter/IPython directory
points into a throwaway folder, and the Qoder token and URL variables are removed, so a developer's
real configuration or token can never reach a test.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qoder_jupyter.emulator import Emulator

# The canary sweep (tests/_canary.py): the `canary` fixture, and a check of every log record,
# report and temporary file of the session.
pytest_plugins = ("tests._canary",)

_SANDBOX = tempfile.mkdtemp(prefix="qoder-jupyter-tests-")
for _variable, _folder in {
    "IPYTHONDIR": "ipython",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
    "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
}.items():
    os.environ[_variable] = os.path.join(_SANDBOX, _folder)
os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
for _variable in ("QODER_PAT", "QODER_ACCESS_TOKEN", "QODER_BASE_URL", "QODER_MANAGED_BASE_URL"):
    os.environ.pop(_variable, None)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started emulator (in-memory, deterministic faults) on a free loopback port."""
    with Emulator(seed=0) as running:
        yield running


@pytest.fixture
def shell(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real IPython shell with the extension loaded, talking to ``emulator``."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("QODER_PAT", emulator.token)
    monkeypatch.setenv("QODER_BASE_URL", emulator.base_url)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "qoder_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "qoder_jupyter")
    InteractiveShell.clear_instance()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """A plain httpx client for ``emulator``, authenticated with its read-write token."""
    headers = {"Authorization": f"Bearer {emulator.token}"}
    with loopback_client(base_url=emulator.base_url, headers=headers) as client:
        yield client


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """An httpx client with no base URL and no credentials, for requests built by hand."""
    with loopback_client() as client:
        yield client


# One TLS context for every test client: httpx would otherwise load the CA bundle for each new
# client (~50 ms), although these clients only ever speak plain http to loopback.
_TLS = ssl.create_default_context()


def loopback_client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_TLS, timeout=10, **options)
