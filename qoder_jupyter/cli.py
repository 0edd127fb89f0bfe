"""``qoder-jupyter``: the command line. ``enable``, ``disable`` and ``status`` turn loading the
extension in new kernels on and off (:mod:`qoder_jupyter.install`); ``demo`` runs the quickstart
against the embedded emulator (:mod:`qoder_jupyter.demo`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import demo, install
from ._version import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``qoder-jupyter`` command; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="qoder-jupyter",
        description="Set up the qoder_jupyter IPython extension, or try it on the emulator.",
        epilog=install.OTHER_WAYS,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    install.add_commands(commands)
    demo.add_command(commands)
    arguments = parser.parse_args(argv)
    status: int = arguments.run(arguments)
    return status


if __name__ == "__main__":
    sys.exit(main())
