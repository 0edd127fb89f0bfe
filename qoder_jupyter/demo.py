"""``make demo`` and ``make lab``: notebooks against the embedded emulator.

``python -m qoder_jupyter.demo [NOTEBOOK ...]`` starts the emulator on a free loopback port, runs
each notebook top to bottom in a fresh kernel pointed at it (``QODER_BASE_URL`` and ``QODER_PAT``
in the kernel's environment, exactly as for the real service), and writes the executed notebook
and an HTML rendering of it under ``build/``. ``--lab`` opens JupyterLab on ``notebooks/``
instead, with the emulator running and configured.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .emulator import Emulator

NOTEBOOKS = Path("notebooks")
DEFAULT_NOTEBOOK = NOTEBOOKS / "quickstart.ipynb"


def execute_notebook(path: Path, out_dir: Path, environ: Mapping[str, str]) -> tuple[Path, Path]:
    """Run ``path`` in a new kernel with ``environ`` added to its environment; write the executed
    notebook and its HTML rendering into ``out_dir``. A failing cell raises nbclient's
    ``CellExecutionError`` after the partial notebook is written."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = nbformat.read(path, as_version=4)
    runner = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        shutdown_kernel="immediate",  # a graceful shutdown can stall with ipykernel 7
        # The kernel warns at start that loopback TCP is unencrypted; keep real errors only.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    executed, rendered = out_dir / path.name, out_dir / f"{path.stem}.html"
    try:
        runner.execute(env={**os.environ, **environ})
    finally:
        nbformat.write(notebook, executed)
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
        rendered.write_text(body, encoding="utf-8")
    return executed, rendered


def _emulator_environ(emulator: Emulator) -> dict[str, str]:
    return {"QODER_BASE_URL": emulator.base_url, "QODER_PAT": emulator.token}


def run_notebooks(notebooks: Sequence[Path], out_dir: Path) -> None:
    with Emulator() as emulator:
        print(f"Emulator serving the Environments API at {emulator.base_url}")
        for path in notebooks:
            print(f"Running {path} …", flush=True)
            executed, rendered = execute_notebook(path, out_dir, _emulator_environ(emulator))
            print(f"  executed notebook: {executed}\n  HTML rendering:    {rendered}")
        print(f"The emulator now holds {len(emulator.environments())} environment(s).")


def open_lab(root: Path) -> int:
    """JupyterLab on ``root`` with the emulator running; stops both on Ctrl+C."""
    with Emulator(port=8765) as emulator:
        print(f"Emulator serving the Environments API at {emulator.base_url}", flush=True)
        environ = {**os.environ, **_emulator_environ(emulator)}
        command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
            command.append("--allow-root")
        try:
            return subprocess.call(command, env=environ)  # noqa: S603 - our own interpreter
        except KeyboardInterrupt:
            return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qoder_jupyter.demo", description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, default=[DEFAULT_NOTEBOOK])
    parser.add_argument("--out", type=Path, default=Path("build"), help="where results go")
    parser.add_argument("--lab", action="store_true", help="open JupyterLab on notebooks/")
    args = parser.parse_args(argv)
    if args.lab:
        return open_lab(NOTEBOOKS)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)} (run from the repository's root)")
    run_notebooks(args.notebooks, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
