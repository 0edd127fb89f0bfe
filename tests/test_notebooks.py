"""Every notebook in notebooks/ runs top to bottom in a real kernel against the emulator (nbclient),
and nothing it saves contains the token."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from qoder_jupyter.demo import execute_notebook
from qoder_jupyter.emulator import Emulator

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
QUICKSTART = Path(__file__).parents[1] / "notebooks" / "quickstart.ipynb"


def _outputs(notebook: nbformat.NotebookNode, kind: str) -> list[str]:
    return [
        json.dumps(output.get("data", output.get("text", "")))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == kind
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_against_the_emulator_and_leaks_no_token(path, tmp_path, canary):
    with Emulator(tokens=[canary]) as emulator:
        environ = {"QODER_BASE_URL": emulator.base_url, "QODER_PAT": canary}
        executed, rendered = execute_notebook(path, tmp_path, environ)
        assert emulator.requests, "the notebook never reached the emulator"
    saved = executed.read_text("utf-8")
    assert canary not in saved
    assert canary not in rendered.read_text("utf-8")
    notebook = nbformat.reads(saved, as_version=4)
    assert _outputs(notebook, "error") == []
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")


def test_the_quickstart_shows_cards_and_stores_variables(tmp_path):
    with Emulator() as emulator:
        environ = {"QODER_BASE_URL": emulator.base_url, "QODER_PAT": emulator.token}
        executed, _ = execute_notebook(QUICKSTART, tmp_path, environ)
        created = {r.path for r in emulator.requests if r.method == "POST" and r.status == 201}
    notebook = nbformat.read(executed, as_version=4)
    html = " ".join(_outputs(notebook, "execute_result"))
    streams = " ".join(_outputs(notebook, "stream"))
    assert "Stored in env." in streams
    assert "Stored in ds." in streams
    assert "qoder-env" in html  # the rich card
    assert "doc-test-env" in html
    assert created


def test_an_expected_error_stops_run_all(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext qoder_jupyter"),
        nbformat.v4.new_code_cell("%qoder_env get env_does_not_exist"),
        nbformat.v4.new_code_cell("%qoder_env create --name must-not-run"),
    ]
    path = tmp_path / "stops.ipynb"
    nbformat.write(notebook, path)
    with Emulator() as emulator:
        environ = {"QODER_BASE_URL": emulator.base_url, "QODER_PAT": emulator.token}
        with pytest.raises(CellExecutionError, match="NotFoundError"):
            execute_notebook(path, tmp_path / "out", environ)
        assert emulator.environments() == []
    saved = nbformat.read(tmp_path / "out" / "stops.ipynb", as_version=4)
    error = saved.cells[1].outputs[-1]
    assert error.output_type == "error"
    assert error.ename == "NotFoundError"
    assert len(error.traceback) <= 3  # the message and the hint, not a stack
    assert saved.cells[2].outputs == []
