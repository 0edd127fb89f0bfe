"""A Jupyter server (JupyterLab or Notebook 7) of the test's own, on a free loopback port.

It runs in its own process group, with every Jupyter and IPython directory inside the test's
temporary folder, and with ``QODER_BASE_URL``/``QODER_PAT`` pointing at the test's emulator, so the
kernels it starts see that emulator and nothing of the machine's configuration. :meth:`stop` shuts
its kernels down through its API, then ends its process group: only what the test started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import httpx
from jupyter_client.blocking.client import BlockingKernelClient

App = Literal["lab", "notebook"]

_START_SECONDS = 90
_LAB_SETTINGS = {
    # No toast about news or updates over the page.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Every cell in the DOM (no virtual scrolling), so every output can be selected.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
_CONFIG = {
    # No "is the JupyterLab build up to date?" check on every page load: it costs the server a
    # second or more of CPU per page, and these tests never build.
    "labconfig/page_config.json": {"buildCheck": False, "buildAvailable": False},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class JupyterServer:
    """``jupyter lab`` or ``jupyter notebook`` serving ``home / "root"``."""

    def __init__(self, app: App, home: Path, environment: Mapping[str, str]) -> None:
        self.app = app
        self.token = "jt-" + secrets.token_hex(16)
        self.root = home / "root"
        self.root.mkdir(parents=True)
        folders = {
            "IPYTHONDIR": "ipython",
            "JUPYTER_CONFIG_DIR": "jupyter-config",
            "JUPYTER_DATA_DIR": "jupyter-data",
            "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        }
        dirs = {name: str(home / folder) for name, folder in folders.items()}
        self.runtime_dir = Path(dirs["JUPYTER_RUNTIME_DIR"])
        for folder, files in (
            (dirs["JUPYTERLAB_SETTINGS_DIR"], _LAB_SETTINGS),
            (dirs["JUPYTER_CONFIG_DIR"], _CONFIG),
        ):
            for relative, values in files.items():
                path = Path(folder) / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(values))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("QODER_", "JUPYTER"))},
            **dirs,
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            **environment,
        }
        self.log = home / f"jupyter-{app}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=30, headers={"Authorization": f"token {self.token}"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> JupyterServer:
        # A free port can be taken between the probe and the bind: then the server exits at once
        # (port_retries=0) and another port is tried.
        for _ in range(3):
            self.port = free_port()
            self.process = self._spawn()
            if self._wait_until_serving():
                return self
        raise RuntimeError(f"jupyter {self.app} did not start; its log:\n{self.log_tail()}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "jupyter",
            self.app,
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--allow-root",  # these machines run the tests as root
        ]
        if self.app == "lab":
            command += [
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
        with self.log.open("ab") as log:
            return subprocess.Popen(
                command,
                env=self.env,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends exactly that
            )

    def _wait_until_serving(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.http.get(f"{self.url}/api/status").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            # Polling a condition that has no event to wait on: is the port answering yet?
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"jupyter {self.app} did not answer in {_START_SECONDS} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with suppress(httpx.HTTPError):  # it stops them too, on SIGTERM
                self.shutdown_kernels()
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.http.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- REST API --------------------------------------------------------------------------------

    def api(self, method: str, path: str, **options: Any) -> Any:
        response = self.http.request(method, f"{self.url}{path}", **options)
        response.raise_for_status()
        return response.json() if response.content else None

    def kernel_id(self, notebook: str) -> str:
        """The id of the kernel of the session that has ``notebook`` open."""
        for session in self.api("GET", "/api/sessions"):
            if session["path"] == notebook:
                return str(session["kernel"]["id"])
        raise LookupError(f"no session for {notebook}")

    def wait_kernel_connected(self, notebook: str, *, seconds: float = 60) -> None:
        """Until the kernel of ``notebook``'s session exists, is idle and has a client connected
        (the page's websocket): only then does a Run All in the page reach it. (The toolbar can
        show the kernel's name and "idle" a moment before the page holds a kernel at all; a Run
        All then clears every cell's prompt and runs nothing.)"""
        deadline = time.monotonic() + seconds
        while True:
            state = None
            with suppress(LookupError):
                kernel = self.api("GET", f"/api/kernels/{self.kernel_id(notebook)}")
                state = (kernel["execution_state"], kernel["connections"])
                if state[0] == "idle" and state[1] >= 1:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the kernel of {notebook} never got ready: {state}")
            # Polling the server: it has no event to wait on for a kernel's state.
            time.sleep(0.1)

    def shutdown_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    @contextmanager
    def kernel_client(self, kernel_id: str) -> Iterator[BlockingKernelClient]:
        """A second client of a running kernel, as ``jupyter console --existing`` would be."""
        client = BlockingKernelClient(
            connection_file=str(self.runtime_dir / f"kernel-{kernel_id}.json")
        )
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=30)
            yield client
        finally:
            client.stop_channels()

    def evaluate(self, notebook: str, **expressions: str) -> dict[str, Any]:
        """Evaluate expressions in the kernel of ``notebook`` (no cell, no history); return each
        one's ``text/plain``. A failing expression fails the test with its error."""
        with self.kernel_client(self.kernel_id(notebook)) as client:
            reply = client.execute_interactive(
                "", silent=True, user_expressions=expressions, timeout=30
            )
        content = reply["content"]
        assert content["status"] == "ok", content
        results = {}
        for name, found in content["user_expressions"].items():
            assert found["status"] == "ok", (name, found)
            results[name] = found["data"]["text/plain"]
        return results

    def set_lab_setting(self, plugin: str, values: Mapping[str, Any]) -> None:
        """Overwrite a JupyterLab plugin's user settings, as the Settings Editor does."""
        self.api("PUT", f"/lab/api/settings/{plugin}", json={"raw": json.dumps(dict(values))})
