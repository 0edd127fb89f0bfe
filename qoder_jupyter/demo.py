"""``qoder-jupyter demo``, ``make demo`` and ``make lab``: notebooks against the embedded emulator.

``qoder-jupyter demo [--out DIR]`` starts the emulator on a free loopback port, runs the quickstart
notebook top to bottom in a fresh kernel pointed at it (``QODER_BASE_URL`` and ``QODER_PAT`` in the
kernel's environment, exactly as for the real service), and writes the executed notebook and an
HTML rendering of it into ``DIR`` (default: the current folder). The notebook ships inside the
package, so this works from an installed wheel, in any folder; it needs the ``demo`` extra
(``pip install "qoder-jupyter[demo]"``). ``make demo`` runs it with ``--out build``.

In a checkout, ``python -m qoder_jupyter.demo [NOTEBOOK ...]`` runs any notebooks (results in
``build/``), and ``--lab`` opens JupyterLab on ``notebooks/`` with the emulator running and
configured.
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
DEMO_EXTRA = 'pip install "qoder-jupyter[demo]"'


class DemoUnavailable(Exception):
    """What the demo needs is missing; the message says what and how to install it."""


def quickstart_notebook() -> Path:
    """The quickstart: the copy a wheel ships inside the package, else a checkout's
    ``notebooks/quickstart.ipynb`` (an editable install has no packaged copy)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "notebooks", package.parent / "notebooks"):
        if (candidate / "quickstart.ipynb").is_file():
            return candidate / "quickstart.ipynb"
    raise DemoUnavailable(
        f"The quickstart notebook is missing from {package}: reinstall qoder-jupyter."
    )


def require_demo_extra() -> None:
    """Raise :class:`DemoUnavailable`, naming the extra, when a package the demo runs is missing."""
    for module in ("nbformat", "nbclient", "nbconvert", "ipykernel"):
        try:
            __import__(module)
        except ImportError:
            raise DemoUnavailable(
                f"it needs {module}, which is not installed here; it comes with the demo "
                f"extra: {DEMO_EXTRA}"
            ) from None


def execute_notebook(
    path: Path, out_dir: Path, environ: Mapping[str, str], *, cwd: Path | None = None
) -> tuple[Path, Path]:
    """Run ``path`` in a new kernel (working in ``cwd``, by default the notebook's folder) with
    ``environ`` added to its environment; write the executed notebook and its HTML rendering into
    ``out_dir``. A failing cell raises nbclient's ``CellExecutionError`` after the partial notebook
    is written."""
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
        resources={"metadata": {"path": str(cwd or path.parent)}},
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


def run_notebooks(notebooks: Sequence[Path], out_dir: Path, *, cwd: Path | None = None) -> None:
    with Emulator() as emulator:
        print(f"Emulator serving the Environments API at {emulator.base_url}")
        for path in notebooks:
            print(f"Running {path} …", flush=True)
            environ = _emulator_environ(emulator)
            executed, rendered = execute_notebook(path, out_dir, environ, cwd=cwd)
            print(f"  executed notebook: {executed}\n  HTML rendering:    {rendered}")
        print(f"The emulator now holds {len(emulator.environments())} environment(s).")


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``qoder-jupyter demo [--out DIR]`` (see :mod:`qoder_jupyter.cli`)."""
    demo = commands.add_parser(
        "demo",
        help="run the quickstart notebook against the embedded emulator",
        description="Run the quickstart notebook headless against the embedded emulator and "
        "write the executed notebook and its HTML rendering into a folder. Needs the demo "
        f"extra: {DEMO_EXTRA}",
    )
    demo.add_argument(
        "--out", type=Path, default=Path(), help="where results go (default: this folder)"
    )
    demo.set_defaults(run=run_demo)


def run_demo(arguments: argparse.Namespace) -> int:
    """Run the quickstart into ``arguments.out``; 0, or 1 with a message when it cannot run."""
    try:
        require_demo_extra()
        notebook = quickstart_notebook()
    except DemoUnavailable as error:
        print(f"qoder-jupyter demo: {error}", file=sys.stderr)
        return 1
    out_dir = arguments.out.resolve()
    run_notebooks([notebook], out_dir, cwd=out_dir)
    return 0


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
