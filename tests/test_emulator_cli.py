"""``python -m qoder_jupyter.emulator`` as a real process: eval-able output, signals, --db."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from qoder_jupyter.emulator import EmulatorProcess
from qoder_jupyter.emulator.__main__ import main

from .test_emulator_helpers import SEED_BODY, loopback_client


def run_cli(*args: str) -> EmulatorProcess:
    """``--port 0 *args`` only: the CLI generates (and prints) a token unless told one."""
    return EmulatorProcess(*args, pass_token=False)


def _client(running: EmulatorProcess, token: str) -> httpx.Client:
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
        assert token not in running.stderr


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
