"""`make demo` runs `python -m qoder_jupyter.demo`: it must keep working from a clean process."""

from __future__ import annotations

import re
import subprocess
import sys


def test_the_demo_creates_retrieves_and_lists_the_seed_example():
    result = subprocess.run(
        [sys.executable, "-m", "qoder_jupyter.demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = result.stdout
    assert '-H "Authorization: Bearer $QODER_PAT"' in out
    assert "%qoder_env create --name doc-test-env --network limited --apt curl" in out
    created = re.search(r'"id": "(env_[0-9a-f]{32})"', out)
    assert created, out
    assert f"GET /environments/{created[1]}" in out
    assert "Identical to the created one: True" in out
    assert re.search(rf"^{created[1]}\s+doc-test-env\s+ready$", out, re.M)
    assert "pt-emu-" not in out + result.stderr  # the emulator's token is never printed
