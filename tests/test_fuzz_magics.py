"""Fuzzing the ``%qoder_env`` line parser (``magic_parser.parse`` over the magic's own parsers)
with hypothesis: any line
gives a command with its arguments, a clean ``ValidationError`` or a help request; never a crash
and never a print. Lines that parse as ``create`` or ``update`` then give a valid spec or a clean
error."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell

from qoder_jupyter import magic_parser
from qoder_jupyter.errors import Problem, ValidationError
from qoder_jupyter.magic_parser import HelpRequested
from qoder_jupyter.magics import QoderEnvMagics
from qoder_jupyter.spec import EnvironmentSpec

from ._fuzz import examples

SETTINGS = settings(
    max_examples=examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Any code point at all, surrogates and control characters included.
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
TRICKY = ["--", "-", "=", "'", '"', "\\", "-h", "--help", "help", "a=b", "=b", "env_x", "0", "-1"]


@pytest.fixture(scope="module")
def magics() -> Iterator[QoderEnvMagics]:
    shell = InteractiveShell.instance()
    try:
        yield QoderEnvMagics(shell)
    finally:
        InteractiveShell.clear_instance()


def vocabulary(magics: QoderEnvMagics) -> list[str]:
    """Every command and flag the parsers know, and their ``--flag=`` forms."""
    words = set(magics._parsers)
    for parser in magics._parsers.values():
        for flag in parser._option_string_actions:
            words.update((flag, f"{flag}="))
    return sorted(words)


def lines(magics: QoderEnvMagics) -> st.SearchStrategy[str]:
    word = st.sampled_from(vocabulary(magics) + TRICKY) | any_text
    quoted = word.map(lambda w: json.dumps(w, ensure_ascii=False))  # a quoted word, escapes and all
    return any_text | st.lists(word | quoted, max_size=10).map(" ".join)


@SETTINGS
@given(data=st.data())
def test_any_line_parses_or_fails_cleanly(magics: QoderEnvMagics, data: st.DataObject) -> None:
    line = data.draw(lines(magics), label="line")
    out, err = io.StringIO(), io.StringIO()
    parsed: tuple[str, argparse.Namespace] | None = None
    refused: ValidationError | None = None
    helped: HelpRequested | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parsed = magic_parser.parse(magics._parsers, line)
        except ValidationError as error:
            refused = error
        except HelpRequested as request:
            helped = request
    assert (out.getvalue(), err.getvalue()) == ("", ""), "the parser printed"
    if refused is not None:
        assert refused.problems
        assert all(isinstance(p, Problem) and p.field and p.message for p in refused.problems)
    elif helped is not None:
        assert helped.text.strip()
    else:
        assert parsed is not None
        check_namespace(*parsed)


def check_namespace(command: str, namespace: argparse.Namespace) -> None:
    """What a parsed line promises the command that runs it."""
    out = getattr(namespace, "out", None)
    assert out is None or out.isidentifier()
    if command == "list":
        assert namespace.limit is None or namespace.limit >= 1
    if command in ("get", "update", "archive", "delete"):
        assert isinstance(namespace.id, str)
    if command not in ("create", "update"):
        return
    try:
        values = magic_parser.spec_values(namespace)
    except ValidationError as error:  # a bad --meta
        problems = error.problems
        assert problems
        return
    spec = EnvironmentSpec(**{key: value for key, value in values.items() if key != "metadata"})
    spec.metadata = values.get("metadata", {})
    if spec.problems():
        with pytest.raises(ValidationError):
            spec.to_body()
    else:
        json.dumps(spec.to_body())
