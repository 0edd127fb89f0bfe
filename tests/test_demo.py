"""`qoder-jupyter demo` (what `make demo` runs) and `python -m qoder_jupyter.demo`, each in a clean
process: the quickstart against the embedded emulator, from any folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).parents[1]


def test_the_demo_runs_the_quickstart_in_any_folder_and_writes_its_results_there(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qoder_jupyter.cli", "demo"],
        cwd=tmp_path,  # an empty folder, not the checkout
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    executed, rendered = tmp_path / "quickstart.ipynb", tmp_path / "quickstart.html"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [executed.name, rendered.name]
    )
    assert f"executed notebook: {executed}" in result.stdout
    assert f"HTML rendering:    {rendered}" in result.stdout
    notebook = nbformat.read(executed, as_version=4)
    assert all(c.execution_count for c in notebook.cells if c.cell_type == "code")
    page = rendered.read_text("utf-8")
    assert "doc-test-env" in page
    # The --dry-run JSON and curl are code blocks in the exported HTML too (a monospace font).
    assert page.count('<pre class="qoder-env-code"><code class="language-json">') >= 1
    assert page.count('<pre class="qoder-env-code"><code class="language-bash">') >= 1
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


def test_without_the_demo_extra_the_demo_names_it(tmp_path):
    # nbclient is hidden from this process as if it were not installed (None in sys.modules makes
    # `import nbclient` raise ImportError).
    code = (
        "import sys; sys.modules['nbclient'] = None\n"
        "from qoder_jupyter.cli import main\n"
        "sys.exit(main(['demo', '--out', sys.argv[1]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "qoder-jupyter demo: it needs nbclient, which is not installed" in result.stderr
    assert 'pip install "qoder-jupyter[demo]"' in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written
