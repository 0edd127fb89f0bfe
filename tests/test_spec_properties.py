"""Property tests: any input gives a spec or a clean ValidationError, and valid specs round-trip."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoder_jupyter.errors import Problem, ValidationError
from qoder_jupyter.magic_parser import HelpRequested
from qoder_jupyter.rules import NETWORKING_TYPES
from qoder_jupyter.spec import EnvironmentSpec

from ._fuzz import examples
from ._magic_line import parse_create

# A local settings object, not a loaded profile: it must not change other test files. Thousands of
# examples with QODER_FUZZ_EXAMPLES (make soak).
SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Any code point at all, surrogates and control characters included.
ANY_CHAR = st.characters(exclude_categories=())
any_text = st.text(ANY_CHAR, max_size=30)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=5,
)

# --- valid specs, built from the rules (so the validator is checked, not trusted) --------------

# A DNS label: letters, digits and inner hyphens (stripping is cheaper than a regex strategy).
label = st.text("abcXYZ0189-", min_size=1, max_size=8).map(lambda s: s.strip("-") or "a")
valid_host = st.builds(
    lambda wildcard, labels: ("*." if wildcard else "") + ".".join(labels),
    st.booleans(),
    st.lists(label, min_size=1, max_size=4),
)


def hosts(min_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(valid_host, min_size=min_size, max_size=3, unique_by=str.lower)


networking_and_hosts: st.SearchStrategy[tuple[str | None, list[str]]] = st.one_of(
    st.tuples(st.none(), hosts(0)),
    st.tuples(st.just("limited"), hosts(0)),
    st.tuples(st.sampled_from(["allowlist", "allowed_hosts"]), hosts(1)),
    st.tuples(st.just("unrestricted"), st.just([])),
)
# No control characters or line/paragraph separators, no surrounding space, no leading '-'.
package_char = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))
valid_package = st.text(package_char, min_size=1, max_size=20).filter(
    lambda s: s == s.strip() and bool(s) and not s.startswith("-")
)
valid_name = st.one_of(
    st.just("--"),  # argparse < 3.12 swallows a bare '--' value; the parser restores it
    st.text(ANY_CHAR, min_size=1, max_size=40).filter(lambda s: bool(s.strip())),
)
valid_metadata = st.dictionaries(
    st.text(st.characters(exclude_characters="="), min_size=1, max_size=64),
    st.text(max_size=40),
    max_size=16,
)


@st.composite
def valid_specs(draw: st.DrawFn) -> EnvironmentSpec:
    networking, allowed_hosts = draw(networking_and_hosts)
    return EnvironmentSpec(
        name=draw(valid_name),
        description=draw(st.one_of(st.just("--"), any_text)),
        networking=networking,
        allowed_hosts=allowed_hosts,
        allow_package_managers=draw(st.booleans()),
        apt=draw(st.lists(valid_package, max_size=3)),
        pip=draw(st.lists(valid_package, max_size=3)),
        npm=draw(st.lists(valid_package, max_size=3)),
        metadata=draw(valid_metadata),
        setup_script=draw(any_text),
    )


# --- anything a form or Python code could put in the traits ------------------------------------

host_like = st.one_of(
    valid_host,
    any_text,
    st.builds(
        lambda s, h, p: f"{s}{h}{p}",
        st.sampled_from(["", "https://", "u@"]),
        valid_host,
        st.sampled_from(["", ":443", "/x", "."]),
    ),
)
any_specs = st.builds(
    EnvironmentSpec,
    name=any_text | st.text(max_size=300),
    description=any_text,
    networking=st.none() | st.sampled_from(NETWORKING_TYPES) | any_text,
    allowed_hosts=st.lists(host_like, max_size=4),
    allow_package_managers=st.booleans(),
    apt=st.lists(any_text, max_size=3),
    pip=st.lists(any_text, max_size=3),
    npm=st.lists(any_text, max_size=3),
    metadata=st.dictionaries(
        any_text | st.integers(), json_scalars | st.lists(json_scalars), max_size=18
    ),
    setup_script=any_text,
)


@SETTINGS
@given(any_specs)
def test_any_values_give_problems_or_a_json_body(spec: EnvironmentSpec) -> None:
    problems = spec.problems()
    grouped = spec.field_problems()
    assert sum(map(len, grouped.values())) == len(problems)
    assert repr(spec)
    assert spec.to_magic().startswith("%qoder_env create --name")
    if problems:
        with pytest.raises(ValidationError) as caught:
            spec.to_body()
        assert list(caught.value.problems) == problems
    else:
        json.dumps(spec.to_body())


@SETTINGS
@given(valid_specs())
def test_valid_specs_round_trip(spec: EnvironmentSpec) -> None:
    assert spec.problems() == []
    body = spec.to_body()
    again = EnvironmentSpec.from_body(json.loads(json.dumps(body)))
    assert again == spec
    assert json.dumps(again.to_body()) == json.dumps(body)  # key order included
    assert parse_create(spec.to_magic()) == spec


def spec_or_problems(
    read: Callable[[Any], EnvironmentSpec], value: Any
) -> EnvironmentSpec | tuple[Problem, ...]:
    """The spec ``read`` returns, or the problems of its ValidationError (anything else fails)."""
    try:
        return read(value)
    except ValidationError as error:
        return error.problems


FLAG_WORDS = [
    "%qoder_env", "create", "--name", "--description", "--network", "--allow-host",
    "--allow-package-managers", "--apt", "--pip", "--npm", "--meta", "--setup-script",
    "--", "-", "--name=", "--meta=", "=", "'", '"', "\\", "-h", "a=b", "limited",
]  # fmt: skip
magic_lines = st.one_of(
    any_text,
    st.lists(st.sampled_from(FLAG_WORDS) | any_text, max_size=8).map(" ".join),
)


@SETTINGS
@given(magic_lines)
def test_any_create_line_gives_a_spec_or_a_validation_error(line: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = spec_or_problems(parse_create, "create " + line)
        except HelpRequested as request:  # the magic shows it
            help_text = request.text
            result = None
    if result is None:
        assert help_text.strip()
        return
    assert (out.getvalue(), err.getvalue()) == ("", "")
    if isinstance(result, EnvironmentSpec):
        result.problems()
    else:
        assert result


def optional_object(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional=fields) | json_like


bodies = st.one_of(
    json_like,
    optional_object(
        name=json_like,
        description=json_like,
        config=optional_object(
            type=st.just("cloud") | json_like,
            networking=optional_object(
                type=json_like, allowed_hosts=json_like, allow_package_managers=json_like
            ),
            packages=optional_object(apt=json_like, pip=json_like, npm=json_like, cargo=json_like),
            setup_script=json_like,
        ),
        metadata=json_like,
        extra=json_like,
    ),
)


@SETTINGS
@given(bodies)
def test_any_body_gives_a_spec_or_a_validation_error(body: Any) -> None:
    result = spec_or_problems(EnvironmentSpec.from_body, body)
    if not isinstance(result, EnvironmentSpec):
        assert result
    elif result.is_valid:
        assert EnvironmentSpec.from_body(result.to_body()) == result
