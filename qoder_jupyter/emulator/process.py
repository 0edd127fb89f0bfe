"""The emulator in a process of its own (``python -m qoder_jupyter.emulator``): for benchmarks (no
GIL shared with the client under test), for tests of the command line, and to kill and restart it.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO
from urllib.parse import urlsplit

from .core import generate_token

STARTUP_SECONDS = 30


class EmulatorProcess:
    """``qoder-emulator`` as a child process on loopback, run as ``--port PORT [--token T] *args``.

    By default the token is chosen here and passed with ``--token``, so a restart accepts the same
    one; with ``pass_token=False`` nothing is added to ``args`` and :attr:`token` is the one the
    emulator generated and printed (if any). The first start may use port 0; a restart reuses the
    port it got, so clients keep their base URL. :attr:`variables` (the ``KEY=VALUE`` lines of the
    banner), :attr:`banner` (its comment line), :attr:`stderr` and :attr:`returncode` outlive it.
    """

    def __init__(self, *args: str, token: str | None = None, pass_token: bool = True) -> None:
        if token is not None and not pass_token:
            raise ValueError("token is passed with --token: give it in args with pass_token=False")
        self.args: tuple[str, ...] = args
        self.pass_token = pass_token
        self.token = token or (generate_token() if pass_token else "")
        self.port = 0
        self.base_url = ""
        self.variables: dict[str, str] = {}
        self.banner = ""
        self.returncode: int | None = None
        self.restarts = 0
        self._process: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._readers: list[threading.Thread] = []

    def command(self) -> list[str]:
        """The command line :meth:`start` runs."""
        token = ("--token", self.token) if self.pass_token else ()
        module = (sys.executable, "-m", "qoder_jupyter.emulator")
        return [*module, "--port", str(self.port), *token, *self.args]

    def start(self) -> EmulatorProcess:
        """Start it and wait for its banner; RuntimeError, with its output, if it does not come."""
        if self._process is not None:
            raise RuntimeError("already running")
        # stderr is drained all along: a full pipe would block the emulator's logging.
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert process.stdout is not None  # both are PIPE
        assert process.stderr is not None
        self._process, self._stderr, self.returncode = process, [], None
        lines: list[str] = []
        banner = _reader(process.stdout, lines, until="#")
        self._readers = [banner, _reader(process.stderr, self._stderr)]
        banner.join(STARTUP_SECONDS)
        if not lines or not lines[-1].startswith("#"):
            exited = process.poll()
            self.kill()
            why = f"exited with code {exited}" if exited is not None else "gave no banner"
            raise RuntimeError(
                f"the emulator did not start: it {why} within {STARTUP_SECONDS} s; "
                f"stdout {''.join(lines)!r}, stderr {self.stderr!r}"
            )
        self._read_banner(lines)
        return self

    def _read_banner(self, lines: list[str]) -> None:
        pairs = (line.rstrip("\n").split("=", 1) for line in lines[:-1] if "=" in line)
        # The lines are meant for a shell's eval, so values may be shell-quoted.
        self.variables = {key: "".join(shlex.split(value)) for key, value in pairs}
        self.banner = lines[-1].rstrip("\n")
        self.base_url = self.variables["QODER_BASE_URL"]
        self.port = urlsplit(self.base_url).port or self.port
        if not self.pass_token:
            self.token = self.variables.get("QODER_PAT", "")

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("not running")
        return self._process.pid

    @property
    def stderr(self) -> str:
        """What it wrote on stderr (its log) so far, in this run or the last one."""
        return "".join(self._stderr)

    def kill(self, signum: int = signal.SIGKILL) -> int | None:
        """Send ``signum`` (SIGKILL: no cleanup at all), wait until it is gone; its exit code."""
        process, self._process = self._process, None
        if process is None:
            return self.returncode
        if process.poll() is None:
            process.send_signal(signum)
        try:
            self.returncode = process.wait(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:  # deaf to signum: do not leave it behind
            process.kill()
            self.returncode = process.wait()
        # The readers end at end of file; joining them first means no read of a closed stream.
        for reader in self._readers:
            reader.join(STARTUP_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        return self.returncode

    def stop(self, signum: int = signal.SIGTERM) -> int | None:
        """Stop it cleanly (SIGTERM, or SIGINT as Ctrl+C does); its exit code, 0 when clean."""
        return self.kill(signum)

    def restart(self, signum: int = signal.SIGKILL) -> None:
        """Kill it, then start it again with the same arguments and port (and token, if passed)."""
        self.kill(signum)
        self.start()
        self.restarts += 1

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _reader(stream: IO[str], lines: list[str], *, until: str | None = None) -> threading.Thread:
    """A thread that appends the lines of ``stream`` to ``lines``, up to one starting with
    ``until`` (or to end of file): a thread, so that the caller can wait with a deadline."""

    def read() -> None:
        for line in stream:
            lines.append(line)
            if until is not None and line.startswith(until):
                return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def emulator_args(
    *,
    db: str | None = None,
    fault_rate: float = 0.0,
    fault_kinds: Sequence[str] = (),
    seed: int | None = None,
    retry_after: int | None = None,
    drip_interval: float | None = None,
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
    if drip_interval is not None:
        args += ["--drip-interval", str(drip_interval)]
    return tuple(args)
