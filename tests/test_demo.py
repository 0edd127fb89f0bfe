"""`make demo` runs `python -m qoder_jupyter.demo`: it must keep working from a clean process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).parents[1]


def test_the_demo_executes_the_quickstart_and_writes_notebook_and_html(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qoder_jupyter.demo", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    executed, rendered = tmp_path / "quickstart.ipynb", tmp_path / "quickstart.html"
    assert f"executed notebook: {executed}" in result.stdout
    assert f"HTML rendering:    {rendered}" in result.stdout
    notebook = nbformat.read(executed, as_version=4)
    assert all(c.execution_count for c in notebook.cells if c.cell_type == "code")
    assert "doc-test-env" in rendered.read_text("utf-8")
    assert "pt-emu-" not in result.stdout + result.stderr  # the emulator's token is never printed
    assert "pt-emu-" not in executed.read_text("utf-8")


def test_the_demo_names_a_missing_notebook(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qoder_jupyter.demo", str(tmp_path / "nope.ipynb")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no such notebook" in result.stderr
