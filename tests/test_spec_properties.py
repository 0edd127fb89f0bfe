"""Property tests: any input gives a spec or a clean ValidationError, and valid specs round-trip."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoder_jupyter.emulator import DIALECTS, Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.errors import Problem, ValidationError
from qoder_jupyter.magic_parser import HelpRequested
from qoder_jupyter.rules import CONFIG_TYPES, NETWORKING_TYPES, PACKAGE_MANAGERS, SCOPES
from qoder_jupyter.spec import EnvironmentSpec

from ._fuzz import examples
from ._magic_line import parse_create
from .conftest import loopback_client

# A local settings object, not a loaded profile: it must not change other test files. Thousands of
# examples with QODER_FUZZ_EXAMPLES (make soak).
SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Any code point at all, surrogates and control characters included.
ANY_CHAR = st.characters(exclude_categories=())
any_text = st.text(ANY_CHAR, max_size=30)
# Any text that can be sent: every code point but the lone surrogates UTF-8 cannot encode.
SENDABLE_CHAR = st.characters(codec="utf-8")
sendable_text = st.text(SENDABLE_CHAR, max_size=30)
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
# Package specs as each manager writes them (names, versions, extras, scopes): valid under any
# reading of its grammar, and still full of characters a shell line must quote.
token = st.text("abcdefxyz0189", min_size=1, max_size=8).map(lambda s: "p" + s)
VALID_PACKAGES: dict[str, st.SearchStrategy[str]] = {
    "apt": st.builds(str.__add__, token, st.sampled_from(["", "=1.2-1", "=2:1.0"])),
    "pip": st.builds(
        str.__add__, token, st.sampled_from(["", "==6.0.1", ">=2", "[socks]>=2,<3", "~=1.4"])
    ),
    "npm": st.builds(
        lambda scope, name, version: scope + name + version,
        st.sampled_from(["", "@scope/"]),
        token,
        st.sampled_from(["", "@5.0.0", "@^5"]),
    ),
    "cargo": token,
    "gem": token,
    "go": st.builds(lambda name, version: f"example.com/{name}{version}", token,
                    st.sampled_from(["", "@v1.2.3", "@latest"])),
}  # fmt: skip
valid_name = st.one_of(
    st.just("--"),  # argparse < 3.12 swallows a bare '--' value; the parser restores it
    st.text(SENDABLE_CHAR, min_size=1, max_size=40).filter(lambda s: bool(s.strip())),
)
valid_metadata = st.dictionaries(
    # '=' and '\\' are escaped in a key of the magic line: drawn often.
    st.text(SENDABLE_CHAR | st.sampled_from("=\\"), min_size=1, max_size=64),
    st.text(SENDABLE_CHAR, max_size=40),
    max_size=16,
)


@st.composite
def valid_specs(draw: st.DrawFn) -> EnvironmentSpec:
    """Any valid spec: a cloud sandbox with every field, or (one in four) a self-hosted runner's,
    which has just a setup script."""
    common = {
        "name": draw(valid_name),
        "description": draw(st.one_of(st.just("--"), sendable_text)),
        "scope": draw(st.none() | st.sampled_from(SCOPES)),
        "metadata": draw(valid_metadata),
        "setup_script": draw(sendable_text),
    }
    if draw(st.integers(0, 3)) == 0:
        return EnvironmentSpec(config_type="self_hosted", **common)
    networking, allowed_hosts = draw(networking_and_hosts)
    packages = {
        m: draw(st.lists(VALID_PACKAGES[m], max_size=3, unique=True)) for m in VALID_PACKAGES
    }
    return EnvironmentSpec(
        networking=networking,
        allowed_hosts=allowed_hosts,
        allow_package_managers=draw(st.booleans()),
        # The SDK has it on limited networking (LimitedNetworkParams).
        allow_mcp_servers=networking in (None, "limited") and draw(st.booleans()),
        **packages,
        **common,
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
    scope=st.none() | st.sampled_from(SCOPES) | any_text,
    config_type=st.sampled_from(CONFIG_TYPES) | any_text,
    networking=st.none() | st.sampled_from(NETWORKING_TYPES) | any_text,
    allowed_hosts=st.lists(host_like, max_size=4),
    allow_package_managers=st.booleans(),
    allow_mcp_servers=st.booleans(),
    **{manager: st.lists(any_text, max_size=3) for manager in PACKAGE_MANAGERS},
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
    assert spec.to_magic().startswith(("%qoder_env create --name", "%%qoder_env create\n"))
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
    assert parse_create(spec.to_magic_line()) == spec  # the parser; the shell: test_magic_code
    twin = spec.copy()
    assert twin == spec
    assert all(twin.values()[t] is not v for t, v in spec.values().items() if isinstance(v, list))


def spec_or_problems(
    read: Callable[[Any], EnvironmentSpec], value: Any
) -> EnvironmentSpec | tuple[Problem, ...]:
    """The spec ``read`` returns, or the problems of its ValidationError (anything else fails)."""
    try:
        return read(value)
    except ValidationError as error:
        return error.problems


FLAG_WORDS = [
    "%qoder_env", "create", "--name", "--description", "--scope", "--config-type", "--network",
    "--allow-host", "--allow-package-managers", "--allow-mcp-servers", "--apt", "--pip", "--npm",
    "--cargo", "--gem", "--go", "--meta", "--setup-script",
    "--", "-", "--name=", "--meta=", "=", "'", '"', "\\", "-h", "a=b", "limited", "self_hosted",
    "organization",
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


configs = optional_object(
    type=st.sampled_from(CONFIG_TYPES) | json_like,
    networking=optional_object(
        type=json_like,
        allowed_hosts=json_like,
        allow_package_managers=json_like,
        allow_mcp_servers=st.booleans() | json_like,
    ),
    packages=optional_object(
        type=st.just("packages") | json_like, **dict.fromkeys(PACKAGE_MANAGERS, json_like)
    ),
    setup_script=json_like,
)
bodies = st.one_of(
    json_like,
    optional_object(
        name=json_like,
        description=json_like,
        scope=st.sampled_from(SCOPES) | json_like,
        config=configs,
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


# --- what a service returns: every environment gives a spec, and a valid one clones whole -------

environments = st.fixed_dictionaries(
    {"id": st.just("env_019e3bb39b6774d8878cd0b9d237574b")},
    optional={
        "name": json_like,
        "description": json_like,
        "scope": st.sampled_from(SCOPES) | json_like,
        "config": configs,
        "metadata": json_like,
        "status": json_like,
    },
)


@SETTINGS
@given(environments)
def test_any_environment_gives_a_spec(data: dict[str, Any]) -> None:
    spec = Environment(data).to_spec()  # never raises
    assert spec.to_magic().startswith(("%qoder_env create --name", "%%qoder_env create\n"))
    assert repr(spec)
    if spec.is_valid:
        assert EnvironmentSpec.from_body(spec.to_body()) == spec


_SERIAL = itertools.count()


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, Emulator]]:
    """One emulator per dialect (the shapes of the documented service versions)."""
    with contextlib.ExitStack() as stack:
        yield {dialect: stack.enter_context(Emulator(dialect=dialect)) for dialect in DIALECTS}


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=valid_specs())
def test_what_every_dialect_returns_clones_whole(
    services: dict[str, Emulator], spec: EnvironmentSpec
) -> None:
    """A valid spec sent to a real service of each dialect: what comes back gives a valid spec
    that asks for the same environment (every field kept) and is accepted when sent back."""
    spec.name = f"{spec.name}-{next(_SERIAL)}"  # unique: a name taken is a 409
    for dialect, service in services.items():
        headers = {"Authorization": f"Bearer {service.token}"}
        with loopback_client(base_url=service.base_url, headers=headers) as http:
            created = http.post("/environments", json=spec.to_body())
            assert created.status_code in (200, 201), (dialect, created.text)
            env = Environment.from_json(created.json())
            clone = env.to_spec()
            assert clone.problems() == [], dialect
            assert env.matches(spec.to_body()), dialect
            assert env.matches(clone.to_body()), dialect
            clone.name += "-clone"
            again = http.post("/environments", json=clone.to_body())
            assert again.status_code in (200, 201), (dialect, again.text)
