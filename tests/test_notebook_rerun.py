"""A notebook of ``apply`` cells survives "Run All" again and again (design principle 8): run in a
real kernel by nbclient against one emulator, the first run creates, an identical run writes
nothing and raises nothing, and a run with one line changed updates that one environment in place.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from qoder_jupyter.demo import execute_notebook
from qoder_jupyter.emulator import Emulator

CELLS = [
    "%load_ext qoder_jupyter",
    '%qoder_env apply --name etl --network limited --apt curl --pip "pandas>=2" -o etl',
    "%qoder_env apply --name web --npm typescript@5.0.0 --meta team=web -o web",
    "%%qoder_env apply -o batch\n"
    '- name: batch-a\n  config: {type: cloud, packages: {pip: ["numpy"]}}\n'
    "- name: batch-b\n  config: {type: cloud}\n  metadata: {owner: ana}\n",
    "assert etl.name == 'etl' and web.name == 'web' and len(batch) == 2",
]


def _run(cells: list[str], folder: Path, emulator: Emulator) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    folder.mkdir()
    path = folder / "rerun.ipynb"
    nbformat.write(notebook, path)
    environ = {"QODER_BASE_URL": emulator.base_url, "QODER_PAT": emulator.token}
    executed, _ = execute_notebook(path, folder / "out", environ)
    return nbformat.reads(executed.read_text("utf-8"), as_version=4)  # type: ignore[no-any-return]


def _writes(emulator: Emulator, since: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests[since:] if r.method != "GET"]


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        output.ename
        for cell in notebook.cells
        for output in cell.outputs
        if output.output_type == "error"
    ]


def test_a_notebook_of_apply_cells_run_three_times(tmp_path):
    with Emulator() as emulator:
        first = _run(CELLS, tmp_path / "first", emulator)
        assert _errors(first) == []
        created = {e["name"]: e for e in emulator.environments()}
        assert sorted(created) == ["batch-a", "batch-b", "etl", "web"]
        assert [m for m, _ in _writes(emulator, 0)] == ["POST"] * 4

        seen = len(emulator.requests)
        second = _run(CELLS, tmp_path / "second", emulator)
        assert _errors(second) == []
        assert _writes(emulator, seen) == []  # the emulator's log: reads only
        assert emulator.environments() == list(created.values())

        changed = [cell.replace('"pandas>=2"', '"pandas>=2.2"') for cell in CELLS]
        seen = len(emulator.requests)
        third = _run(changed, tmp_path / "third", emulator)
        assert _errors(third) == []
        etl = created["etl"]["id"]
        assert _writes(emulator, seen) == [("POST", f"/api/v1/cloud/environments/{etl}")]
        after = {e["name"]: e for e in emulator.environments()}
        assert after["etl"]["config"]["packages"]["pip"] == ["pandas>=2.2"]
        assert after["etl"]["id"] == etl
        assert {n: e for n, e in after.items() if n != "etl"} == {
            n: e for n, e in created.items() if n != "etl"
        }
