"""A ``%qoder_env create`` line read the way the magic reads it: its own parsers, the same laying of
the flags over an empty spec. The tests of ``to_magic()`` and the fuzzers use this, so they check
the parser users run, not a second one."""

from __future__ import annotations

import functools
from argparse import ArgumentParser

from qoder_jupyter import magic_parser
from qoder_jupyter.spec import EnvironmentSpec


@functools.cache
def _parsers() -> dict[str, ArgumentParser]:
    return magic_parser.build_parsers()


def parse_create(line: str) -> EnvironmentSpec:
    """The spec a ``%qoder_env create`` line describes (``%qoder_env`` and ``create`` optional).
    Raises ValidationError as the magic does; fails on any other command."""
    command, namespace = magic_parser.parse(_parsers(), line.removeprefix("%qoder_env"))
    assert command == "create", f"{line!r} is a {command!r} line"
    return EnvironmentSpec(**magic_parser.spec_values(namespace))
