"""``python -m qoder_jupyter.emulator`` as a real process: eval-able output, signals, --db."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from qoder_jupyter.emulator.__main__ import main

from .test_emulator_helpers import SEED_BODY, loopback_client

STARTUP_SECONDS = 20


@dataclass
class Running:
    process: subprocess.Popen[str]
    variables: dict[str, str]  # the KEY=VALUE lines printed at start
    banner: str  # the comment line after them

    @property
    def base_url(self) -> str:
        return self.variables["QODER_BASE_URL"]

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STARTUP_SECONDS)


def _read_banner(process: subprocess.Popen[str]) -> tuple[dict[str, str], str]:
    """The KEY=VALUE lines up to the first comment line, read with a deadline."""
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
        stderr = process.stderr.read() if process.stderr else ""
        pytest.fail(f"the emulator did not start; stdout {lines!r}, stderr {stderr!r}")
    variables = dict(line.split("=", 1) for line in lines[:-1])
    return variables, lines[-1]


@contextmanager
def run_cli(*args: str) -> Iterator[Running]:
    command = [sys.executable, "-m", "qoder_jupyter.emulator", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield Running(process, *_read_banner(process))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def _client(running: Running, token: str) -> httpx.Client:
    return loopback_client(base_url=running.base_url, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serves_with_a_generated_token_and_stops_cleanly(signum: int) -> None:
    with run_cli() as running:
        token = running.variables["QODER_PAT"]
        assert set(running.variables) == {"QODER_BASE_URL", "QODER_PAT"}
        assert running.base_url.startswith("http://127.0.0.1:")
        assert running.base_url.endswith("/api/v1/cloud")
        assert token.startswith("pt-emu-")
        assert running.base_url in running.banner

        with _client(running, token) as api:
            response = api.post("/environments", json=SEED_BODY)

        assert response.status_code == 201
        assert running.stop(signum) == 0
        assert running.process.stderr is not None
        assert token not in running.process.stderr.read()


def test_db_file_keeps_data_across_two_runs(tmp_path: Path) -> None:
    options = ("--db", str(tmp_path / "emulator.sqlite"), "--token", "pt-db")
    with run_cli(*options) as first, _client(first, "pt-db") as api:
        created = api.post("/environments", json=SEED_BODY).json()
        assert first.stop() == 0

    with (
        run_cli(*options, "--readonly-token", "pt-reader") as second,
        _client(second, "pt-reader") as reader,
    ):
        retrieved = reader.get(f"/environments/{created['id']}")
        refused = reader.post("/environments", json=SEED_BODY)
        assert second.stop() == 0

    assert set(first.variables) == {"QODER_BASE_URL"}  # a token given is never printed
    assert retrieved.json() == created
    assert refused.status_code == 403


def test_fault_options_reach_the_server() -> None:
    options = ("--fault-rate", "1", "--fault-kinds", "429", "--retry-after", "3", "--seed", "1")
    with run_cli(*options) as running, _client(running, running.variables["QODER_PAT"]) as api:
        response = api.get("/environments")
        assert running.stop() == 0

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-kinds", "429,teapot"], "unknown fault kind(s) teapot; choose from 500-before,"),
        (["--fault-rate", "2"], "between 0 and 1"),
        (["--latency", "-1"], ">= 0"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)

    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert message in err
    assert out == ""
