"""The emulator in a process of its own (``python -m qoder_jupyter.emulator``), so that the client
under test and the server do not share a GIL, and so that it can be killed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import TracebackType

from qoder_jupyter.emulator import generate_token

STARTUP_SECONDS = 30


class EmulatorProcess:
    """``qoder-emulator`` as a child process on loopback.

    The token is chosen here and passed with ``--token``, so a restart accepts the same one. The
    first start may use port 0; a restart reuses the port it got, so clients keep their base URL.
    """

    def __init__(self, *args: str, token: str | None = None) -> None:
        self.args: tuple[str, ...] = args
        self.token = token or generate_token()
        self.port = 0
        self.base_url = ""
        self.restarts = 0
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> EmulatorProcess:
        if self._process is not None:
            raise RuntimeError("already running")
        command = [
            *(sys.executable, "-m", "qoder_jupyter.emulator"),
            *("--port", str(self.port), "--token", self.token, *self.args),
        ]
        # stderr is the emulator's log (one INFO line at start and stop): not needed here.
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._process = process
        variables = _read_banner(process)
        self.base_url = variables["QODER_BASE_URL"]
        self.port = int(self.base_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        return self

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("not running")
        return self._process.pid

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Stop it abruptly (SIGKILL: no cleanup at all) and wait until it is gone."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signum)
        process.wait(timeout=STARTUP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()

    def restart(self, signum: int = signal.SIGKILL) -> None:
        """Kill it, then start it again with the same arguments, port and token."""
        self.kill(signum)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The ``KEY=VALUE`` lines printed before the first comment line, read with a deadline."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("#"):
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(STARTUP_SECONDS)
    if not lines or not lines[-1].startswith("#"):
        process.kill()
        process.wait()
        raise RuntimeError(f"the emulator did not start (it printed {lines!r})")
    return dict(line.split("=", 1) for line in lines[:-1] if "=" in line)


def emulator_args(
    *,
    db: str | None = None,
    fault_rate: float = 0.0,
    fault_kinds: Sequence[str] = (),
    seed: int | None = None,
    retry_after: int | None = None,
) -> tuple[str, ...]:
    """Command-line options for :class:`EmulatorProcess`."""
    args: list[str] = []
    if db is not None:
        args += ["--db", db]
    if fault_rate:
        args += ["--fault-rate", str(fault_rate)]
    if fault_kinds:
        args += ["--fault-kinds", ",".join(fault_kinds)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if retry_after is not None:
        args += ["--retry-after", str(retry_after)]
    return tuple(args)
