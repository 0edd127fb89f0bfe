"""The user's own example (shared/seed/environments-create.txt), run for real with curl.

The command below is the seed's, byte for byte, except for the host. When the seed file is present
(beside the repository, as on the developers' machines and in CI) a test checks it still says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qoder_jupyter.emulator import Emulator

from .samples import SEED_RESPONSE

SEED_URL = "https://openapi.qoder.sh/api/v1/cloud"
SEED_COMMAND = """curl -s -X POST "https://openapi.qoder.sh/api/v1/cloud/environments" \\
-H "Authorization: Bearer $QODER_PAT" \\
-H "Content-Type: application/json" \\
-d '{
"name": "doc-test-env",
"config": {
"type": "cloud",
"networking": {
"type": "limited"
},
"packages": {
"apt": ["curl"]
}
}
}'"""
SEED_FILES = [
    Path(__file__).resolve().parents[2] / "shared" / "seed" / "environments-create.txt",
    Path("/work/shared/seed/environments-create.txt"),
]


def test_the_command_here_is_the_seeds() -> None:
    seed = next((path for path in SEED_FILES if path.is_file()), None)
    if seed is None:
        pytest.skip(
            "the seed document (shared/seed/environments-create.txt) is not on this machine"
        )

    assert SEED_COMMAND in seed.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary to run the seed")
def test_the_seeds_curl_command_creates_the_seeds_environment(emulator: Emulator) -> None:
    command = SEED_COMMAND.replace(SEED_URL, emulator.base_url)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "QODER_PAT": emulator.token}

    bash = shutil.which("bash") or "/bin/sh"
    finished = subprocess.run(
        [bash, "-c", command], capture_output=True, text=True, env=env, timeout=30, check=True
    )

    body = json.loads(finished.stdout)
    assert emulator.requests[-1].status == 201
    assert set(SEED_RESPONSE) <= set(body)  # plus metadata and archived_at (contract §4)
    assert re.match(r"^env_[0-9a-f]{32}$", body["id"])
    for key in ("type", "name", "description", "status", "config"):
        assert body[key] == SEED_RESPONSE[key]
    assert body["created_at"] == body["updated_at"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", body["created_at"])
