"""EnvironmentSpec: rules, the request body, curl, and the %qoder_env create line."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
import traitlets

from qoder_jupyter import magic_parser, rules
from qoder_jupyter import spec as spec_module
from qoder_jupyter.credentials import DEFAULT_BASE_URL
from qoder_jupyter.errors import Problem, ValidationError
from qoder_jupyter.spec import EnvironmentSpec

from ._magic_line import parse_create

# The seed's example request body (seed/environments-create.txt), key order included.
SEED_BODY = {
    "name": "doc-test-env",
    "config": {"type": "cloud", "networking": {"type": "limited"}, "packages": {"apt": ["curl"]}},
}


def seed_spec() -> EnvironmentSpec:
    return EnvironmentSpec(name="doc-test-env", networking="limited", apt=["curl"])


def full_spec() -> EnvironmentSpec:
    """Every field set."""
    return EnvironmentSpec(
        name="full",
        description="all of it",
        networking="allowlist",
        allowed_hosts=["pypi.org", "*.example.com"],
        allow_package_managers=True,
        apt=["curl"],
        pip=["pandas>=2"],
        npm=["typescript@5.0.0"],
        metadata={"team": "data", "cost-center": "42"},
        setup_script="echo ready",
    )


FULL_BODY_JSON = json.dumps(
    {
        "name": "full",
        "description": "all of it",
        "config": {
            "type": "cloud",
            "networking": {
                "type": "allowlist",
                "allowed_hosts": ["pypi.org", "*.example.com"],
                "allow_package_managers": True,
            },
            "packages": {"apt": ["curl"], "pip": ["pandas>=2"], "npm": ["typescript@5.0.0"]},
            "setup_script": "echo ready",
        },
        "metadata": {"team": "data", "cost-center": "42"},
    }
)


def only_problem(spec: EnvironmentSpec) -> Problem:
    problems = spec.problems()
    assert len(problems) == 1, problems
    return problems[0]


# --- rules ------------------------------------------------------------------------------------

HOSTS = "config.networking.allowed_hosts"

RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"name": ""}, "name", "The name is empty: give the environment a name."),
    ({"name": " \t\n"}, "name", "name is empty"),
    ({"name": "x" * 256}, "name", "256 characters long: shorten it to at most 255"),
    ({"networking": "bogus"}, "config.networking.type", "choose 'unrestricted', 'limited'"),
    ({"networking": ""}, "config.networking.type", "is not a networking type"),
    ({"networking": " Limited"}, "config.networking.type", "write 'limited'"),
    ({"networking": "allowlist"}, HOSTS, "add at least one host, or choose 'limited'"),
    ({"networking": "allowed_hosts"}, HOSTS, "add at least one host, or choose 'limited'"),
    (
        {"networking": "unrestricted", "allowed_hosts": ["pypi.org"]},
        HOSTS,
        "remove them or choose 'allowlist'",
    ),
    ({"allowed_hosts": [""]}, f"{HOSTS}[0]", "The host is empty"),
    (
        {"allowed_hosts": ["https://pypi.org/simple"]},
        f"{HOSTS}[0]",
        "'https://pypi.org/simple' is a URL: write the bare host name 'pypi.org'.",
    ),
    ({"allowed_hosts": ["pypi.org/simple"]}, f"{HOSTS}[0]", "has a path: write the bare host"),
    ({"allowed_hosts": ["pypi.org:443"]}, f"{HOSTS}[0]", "has a port"),
    ({"allowed_hosts": ["me@pypi.org"]}, f"{HOSTS}[0]", "contains a user name"),
    ({"allowed_hosts": ["pypi .org"]}, f"{HOSTS}[0]", "contains whitespace"),
    ({"allowed_hosts": ["[::1]"]}, f"{HOSTS}[0]", "IPv6"),
    ({"allowed_hosts": ["pypi..org"]}, f"{HOSTS}[0]", "empty label"),
    ({"allowed_hosts": [".pypi.org"]}, f"{HOSTS}[0]", "empty label"),
    ({"allowed_hosts": ["pypi.org."]}, f"{HOSTS}[0]", "ends with a dot"),
    ({"allowed_hosts": ["-pypi.org"]}, f"{HOSTS}[0]", "letters, digits and inner hyphens"),
    ({"allowed_hosts": ["pypi-.org"]}, f"{HOSTS}[0]", "letters, digits and inner hyphens"),
    ({"allowed_hosts": ["py_pi.org"]}, f"{HOSTS}[0]", "letters, digits and inner hyphens"),
    ({"allowed_hosts": ["a" * 64 + ".org"]}, f"{HOSTS}[0]", "label of 64 characters"),
    ({"allowed_hosts": [".".join(["a" * 63] * 4)]}, f"{HOSTS}[0]", "at most 253"),
    ({"allowed_hosts": ["*"]}, f"{HOSTS}[0]", "misplaced '*'"),
    ({"allowed_hosts": ["*pypi.org"]}, f"{HOSTS}[0]", "misplaced '*'"),
    ({"allowed_hosts": ["a.*.org"]}, f"{HOSTS}[0]", "misplaced '*'"),
    ({"allowed_hosts": ["bücher.de"]}, f"{HOSTS}[0]", "is not ASCII"),
    ({"allowed_hosts": ["pypi.org", "PyPI.org"]}, f"{HOSTS}[1]", "already listed at [0]"),
    ({"pip": [""]}, "config.packages.pip[0]", "An empty pip package"),
    ({"apt": [" "]}, "config.packages.apt[0]", "An empty apt package"),
    ({"npm": ["-g"]}, "config.packages.npm[0]", "npm would read it as an option: write 'g'"),
    ({"pip": ["--"]}, "config.packages.pip[0]", "run an installer with options from the setup"),
    ({"pip": ["numpy\npandas"]}, "config.packages.pip[0]", "line break"),
    ({"apt": ["curl\r"]}, "config.packages.apt[0]", "line break"),
    ({"apt": ["cu\x00rl"]}, "config.packages.apt[0]", "control character"),
    ({"apt": ["curl "]}, "config.packages.apt[0]", "surrounding spaces: write 'curl'"),
    (
        {"metadata": {f"k{i}": "v" for i in range(17)}},
        "metadata",
        "17 metadata keys: remove 1; at most 16",
    ),
    ({"metadata": {"": "v"}}, "metadata['']", "key is empty"),
    ({"metadata": {"k" * 65: "v"}}, f"metadata[{'k' * 65!r}]", "at most 64"),
    ({"metadata": {1: "v"}}, "metadata[1]", "not a string: write it as '1'"),
    ({"metadata": {"n": 5}}, "metadata['n']", "must be strings: write '5'"),
    ({"metadata": {"b": True}}, "metadata['b']", "write 'true'"),
    ({"metadata": {"x": None}}, "metadata['x']", "is null"),
    ({"metadata": {"x": ["a"]}}, "metadata['x']", "write it as a string"),
    ({"metadata": {"k": "v" * 513}}, "metadata['k']", "at most 512"),
    ({"setup_script": "x" * 65537}, "config.setup_script", "65,537 bytes"),
    ({"setup_script": "é" * 32769}, "config.setup_script", "within 64 KB"),  # bytes, not chars
]


@pytest.mark.parametrize(("values", "field", "fragment"), RULES)
def test_each_rule(values: dict[str, Any], field: str, fragment: str) -> None:
    spec = EnvironmentSpec(**{"name": "env", **values})
    problem = only_problem(spec)
    assert problem.field == field
    assert fragment in problem.message
    assert not spec.is_valid
    with pytest.raises(ValidationError) as caught:
        spec.validate()
    assert caught.value.problems == (problem,)


@pytest.mark.parametrize(
    "values",
    [
        {"name": "x" * 255},
        {"name": " padded "},
        {"networking": "limited", "allowed_hosts": ["pypi.org"]},  # older docs' allowlist form
        {"allowed_hosts": ["pypi.org"]},  # no type: the service reads it as limited
        {"networking": "allowed_hosts", "allowed_hosts": ["pypi.org"]},
        {"networking": "unrestricted", "allow_package_managers": True},
        {"allowed_hosts": ["*.example.com", "10.0.0.1", "PyPI.org", "a-b.c0", "x" * 63 + ".io"]},
        {"allowed_hosts": [".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])]},  # 253
        {"pip": ["pandas>=2", "PyYAML==6.0.1", "requests[socks] >= 2"]},
        {"npm": ["typescript@5.0.0", "@scope/pkg"]},
        {"metadata": {f"k{i}": "v" for i in range(16)}},
        {"metadata": {"k" * 64: "v" * 512, "url": "a=b", "a=b": "c"}},
        {"setup_script": "x" * 65536},
        {"description": "\n\t anything '\"$` goes"},
    ],
)
def test_valid_edges(values: dict[str, Any]) -> None:
    spec = EnvironmentSpec(**{"name": "env", **values})
    assert spec.problems() == []
    assert spec.is_valid
    spec.validate()


@pytest.mark.parametrize(
    ("host", "fix"),
    [
        ("https://pypi.org/simple", "pypi.org"),
        ("http://user:pw@Example.com:8080/x?y#z", "Example.com"),
        ("pypi.org:443", "pypi.org"),
        ("files.pythonhosted.org/packages", "files.pythonhosted.org"),
        ("  pypi.org", "pypi.org"),
        ("pypi .org", "pypi.org"),
        ("pypi.org.", "pypi.org"),
        ("*.example.com/", "*.example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_host_fix_suggested(host: str, fix: str) -> None:
    message = only_problem(EnvironmentSpec(name="env", allowed_hosts=[host])).message
    assert message.endswith(f"write the bare host name {fix!r}.")


@pytest.mark.parametrize("host", ["pypi..org", "py_pi.org", "https://", "a.*.org"])
def test_host_without_derivable_fix_gets_an_example(host: str) -> None:
    message = only_problem(EnvironmentSpec(name="env", allowed_hosts=[host])).message
    assert "such as 'pypi.org' or '*.example.com'" in message


def test_all_problems_reported_at_once() -> None:
    spec = EnvironmentSpec(
        name="",
        allowed_hosts=["https://pypi.org"],
        pip=["-r"],
        metadata={"n": 1},
        setup_script="x" * 70000,
    )
    problems = spec.problems()
    assert [p.field for p in problems] == [
        "name",
        "config.networking.allowed_hosts[0]",
        "config.packages.pip[0]",
        "config.setup_script",
        "metadata['n']",
    ]
    with pytest.raises(ValidationError) as caught:
        spec.to_body()
    assert caught.value.problems == tuple(problems)
    assert "5 problems" in str(caught.value)


def test_field_problems_groups_by_trait() -> None:
    spec = EnvironmentSpec(
        name="",
        networking="allowlist",
        npm=["-g", " x"],
        metadata={"": 1},
        setup_script="x" * 70000,
    )
    grouped = spec.field_problems()
    assert list(grouped) == [
        "name",
        "description",
        "scope",
        "config_type",
        "networking",
        "allowed_hosts",
        "allow_package_managers",
        "allow_mcp_servers",
        "apt",
        "pip",
        "npm",
        "cargo",
        "gem",
        "go",
        "metadata",
        "setup_script",
    ]
    assert grouped["name"] == ["The name is empty: give the environment a name."]
    assert [len(grouped[t]) for t in ("allowed_hosts", "npm", "metadata", "setup_script")] == [
        1,
        2,
        2,
        1,
    ]
    assert grouped["networking"] == grouped["apt"] == grouped["description"] == []
    assert sum(map(len, grouped.values())) == len(spec.problems())
    bad_type = EnvironmentSpec(name="env", networking="nope").field_problems()
    assert len(bad_type["networking"]) == 1
    assert not any(bad_type[t] for t in bad_type if t != "networking")


# --- the request body -------------------------------------------------------------------------


def test_seed_body_exactly() -> None:
    body = seed_spec().to_body()
    assert body == SEED_BODY
    assert json.dumps(body) == json.dumps(SEED_BODY)


def test_full_body_key_order() -> None:
    assert json.dumps(full_spec().to_body()) == FULL_BODY_JSON


def test_minimal_body() -> None:
    assert EnvironmentSpec(name="env").to_body() == {"name": "env", "config": {"type": "cloud"}}


@pytest.mark.parametrize(
    ("values", "config"),
    [
        ({"allow_package_managers": True}, {"networking": {"allow_package_managers": True}}),
        ({"allowed_hosts": ["pypi.org"]}, {"networking": {"allowed_hosts": ["pypi.org"]}}),
        ({"networking": "unrestricted"}, {"networking": {"type": "unrestricted"}}),
        (
            {"npm": ["left-pad"], "apt": ["wget"]},
            {"packages": {"apt": ["wget"], "npm": ["left-pad"]}},
        ),
        ({"setup_script": "true"}, {"setup_script": "true"}),
    ],
)
def test_only_what_is_set_is_sent(values: dict[str, Any], config: dict[str, Any]) -> None:
    body = EnvironmentSpec(name="env", **values).to_body()
    assert json.dumps(body) == json.dumps({"name": "env", "config": {"type": "cloud", **config}})


def test_body_is_a_copy() -> None:
    spec = full_spec()
    body = spec.to_body()
    body["config"]["packages"]["apt"].append("wget")
    body["metadata"]["team"] = "other"
    assert spec.apt == ["curl"]
    assert spec.metadata["team"] == "data"


# --- reading a body back ----------------------------------------------------------------------


def test_from_body_round_trips() -> None:
    for spec in (seed_spec(), full_spec(), EnvironmentSpec(name="env")):
        body = spec.to_body()
        again = EnvironmentSpec.from_body(body)
        assert again == spec
        assert json.dumps(again.to_body()) == json.dumps(body)


def test_from_body_drops_explicit_defaults() -> None:
    body = {
        "name": "env",
        "description": "",
        "config": {
            "type": "cloud",
            "networking": {"allowed_hosts": [], "allow_package_managers": False},
            "packages": {"apt": [], "pip": [], "npm": []},
            "setup_script": "",
        },
        "metadata": {},
    }
    spec = EnvironmentSpec.from_body(body)
    assert spec == EnvironmentSpec(name="env")
    assert spec.to_body() == {"name": "env", "config": {"type": "cloud"}}


def test_from_body_keeps_the_alias_as_written() -> None:
    body = {
        "name": "env",
        "config": {
            "type": "cloud",
            "networking": {"type": "allowed_hosts", "allowed_hosts": ["pypi.org"]},
        },
    }
    assert EnvironmentSpec.from_body(body).to_body() == body


def test_from_body_keeps_rule_breaking_values() -> None:
    spec = EnvironmentSpec.from_body(
        {
            "config": {
                "type": "cloud",
                "networking": {"type": "bogus", "allowed_hosts": ["https://pypi.org"]},
                "packages": {"pip": ["-r"]},
            },
            "metadata": {"n": 5},
        }
    )
    assert spec.name == ""  # a missing name is kept as empty, and reported
    assert spec.networking == "bogus"
    assert spec.allowed_hosts == ["https://pypi.org"]
    assert spec.metadata == {"n": 5}
    assert [p.field for p in spec.problems()] == [
        "name",
        "config.networking.type",
        "config.networking.allowed_hosts[0]",
        "config.packages.pip[0]",
        "metadata['n']",
    ]


def test_from_body_raises_every_type_error_and_unknown_key_at_once() -> None:
    body = {
        "name": 3,
        "description": None,
        "tags": ["x"],
        "config": {
            "type": "cloud",
            "image": "ubuntu",
            "networking": {"allowed_hosts": "pypi.org", "allow_mcp_servers": "yes"},
            "packages": {"pip": ["ok", 1], "cargo": "ripgrep", "apt": None, "type": "pkgs"},
        },
        "metadata": ["team=data"],
    }
    with pytest.raises(ValidationError) as caught:
        EnvironmentSpec.from_body(body)
    fields = {p.field: p.message for p in caught.value.problems}
    assert set(fields) == {
        "name",
        "description",
        "tags",
        "config.image",
        "config.networking.allowed_hosts",
        "config.networking.allow_mcp_servers",
        "config.packages.pip[1]",
        "config.packages.cargo",
        "config.packages.apt",
        "config.packages.type",
        "metadata",
    }
    assert "Expected an array, got the string 'ripgrep'" in fields["config.packages.cargo"]
    assert "write true or false" in fields["config.networking.allow_mcp_servers"]
    assert 'may only be "packages"' in fields["config.packages.type"]
    assert "Unknown field 'tags'" in fields["tags"]
    assert "takes only type, networking, packages, setup_script" in fields["config.image"]
    assert "the number 3" in fields["name"]
    assert "null" in fields["description"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"name": "env"}, "config", "config is missing"),
        ({"name": "env", "config": {}}, "config.type", 'set it to "cloud" or "self_hosted"'),
        ({"name": "env", "config": {"type": None}}, "config.type", "null"),
        ({"name": "env", "config": "cloud"}, "config", "Expected an object"),
        (
            {"name": "env", "config": {"type": "cloud", "networking": "limited"}},
            "config.networking",
            "Expected an object",
        ),
        (
            {"name": "env", "config": {"type": "cloud", "networking": {"type": None}}},
            "config.networking.type",
            "Expected a string",
        ),
        (
            {
                "name": "env",
                "config": {"type": "cloud", "networking": {"allow_package_managers": 1}},
            },
            "config.networking.allow_package_managers",
            "write true or false",
        ),
        (
            {"name": "env", "config": {"type": "cloud", "packages": {"type": "gem"}}},
            "config.packages.type",
            "may only be \"packages\" (a marker newer services add), not the string 'gem'",
        ),
        (
            {"name": "env", "config": {"type": "cloud", "packages": {"brew": ["x"]}}},
            "config.packages.brew",
            "takes only apt, pip, npm, cargo, gem, go",
        ),
        (
            {"name": "env", "scope": None, "config": {"type": "cloud"}},
            "scope",
            "Expected a string, got null",
        ),
    ],
)
def test_from_body_structural_problems(body: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EnvironmentSpec.from_body(body)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert fragment in problem.message


@pytest.mark.parametrize("body", [None, [], "name", 3])
def test_from_body_needs_an_object(body: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        EnvironmentSpec.from_body(body)
    assert caught.value.problems[0].field == "body"


# --- what the official SDK also sends (contract §7) --------------------------------------------


def sdk_spec() -> EnvironmentSpec:
    """Every field the official SDK adds, set."""
    return EnvironmentSpec(
        name="sdk",
        scope="organization",
        networking="limited",
        allow_mcp_servers=True,
        cargo=["ripgrep"],
        gem=["rails"],
        go=["golang.org/x/tools"],
    )


SDK_BODY = {
    "name": "sdk",
    "scope": "organization",
    "config": {
        "type": "cloud",
        "networking": {"type": "limited", "allow_mcp_servers": True},
        "packages": {"cargo": ["ripgrep"], "gem": ["rails"], "go": ["golang.org/x/tools"]},
    },
}
SELF_HOSTED_BODY = {"name": "runner", "config": {"type": "self_hosted", "setup_script": "make"}}


def test_the_sdk_fields_are_sent_in_body_order_and_read_back() -> None:
    spec = sdk_spec()
    assert json.dumps(spec.body()) == json.dumps(SDK_BODY)
    assert EnvironmentSpec.from_body(SDK_BODY) == spec
    self_hosted = EnvironmentSpec(name="runner", config_type="self_hosted", setup_script="make")
    assert json.dumps(self_hosted.body()) == json.dumps(SELF_HOSTED_BODY)
    assert EnvironmentSpec.from_body(SELF_HOSTED_BODY) == self_hosted
    # The service's default scope and config type are not sent.
    assert EnvironmentSpec(name="env", config_type="cloud").body() == {
        "name": "env",
        "config": {"type": "cloud"},
    }


def test_the_sdk_fields_have_flags_in_the_magic_line() -> None:
    line = (
        "%qoder_env create --name sdk --scope organization --network limited "
        "--allow-mcp-servers --cargo ripgrep --gem rails --go golang.org/x/tools"
    )
    assert sdk_spec().to_magic() == line
    assert parse_create(line) == sdk_spec()
    runner = EnvironmentSpec.from_body(SELF_HOSTED_BODY)
    assert runner.to_magic() == (
        "%qoder_env create --name runner --config-type self_hosted --setup-script make"
    )
    assert parse_create(runner.to_magic()) == runner
    help_text = magic_parser.build_parsers()["create"].format_help()
    for flag in ("--scope {organization,account}", "--config-type {cloud,self_hosted}"):
        assert flag in help_text
    assert "not installed by the service" in " ".join(help_text.split())  # --cargo, --gem, --go


def test_the_newest_filled_in_shape_reads_as_nothing_set() -> None:
    body = {
        "name": "env",
        "config": {
            "type": "cloud",
            "networking": {
                "allowed_hosts": [],
                "allow_package_managers": False,
                "allow_mcp_servers": False,
            },
            "packages": {"type": "packages", **{m: [] for m in rules.PACKAGE_MANAGERS}},
        },
    }
    assert EnvironmentSpec.from_body(body) == EnvironmentSpec(name="env")
    assert spec_module.check_body(body) == {"name": "env", "config": {"type": "cloud"}}


def test_reading_what_a_service_returned_never_raises_and_keeps_what_a_spec_holds() -> None:
    returned = {
        "id": "env_x",
        "name": 42,
        "scope": "team",  # breaks a rule: kept, reported by problems()
        "config": {
            "type": "gpu",
            "image": "ubuntu",  # unknown: left out
            "networking": {"allow_mcp_servers": "yes", "allow_package_managers": True},
            "packages": {"type": "packages", "cargo": ["ripgrep"], "pip": ["ok", 1]},
        },
        "metadata": {"a=b": 1},
    }
    assert spec_module.read_known(returned) == {
        "scope": "team",
        "config_type": "gpu",
        "allow_package_managers": True,
        "cargo": ["ripgrep"],
        "metadata": {"a=b": 1},
    }
    odds: list[object] = [None, [], "env", {"config": "cloud"}, {"config": {"networking": []}}]
    for odd in odds:
        assert isinstance(spec_module.read_known(odd), dict)


def test_an_unknown_config_type_is_kept_and_reported_like_any_rule() -> None:
    spec = EnvironmentSpec.from_body({"name": "env", "config": {"type": "Self-Hosted"}})
    assert spec.config_type == "Self-Hosted"
    assert [(p.field, p.message) for p in spec.problems()] == [
        ("config.type", "'Self-Hosted' is not a config type: write 'self_hosted'.")
    ]


def test_warnings_do_not_refuse_the_spec() -> None:
    spec = EnvironmentSpec(name="env", cargo=["ripgrep"], gem=["rails"])
    assert spec.problems() == []
    warned = spec.warnings()
    assert [w.field.split("[")[0] for w in warned] == [
        "config.packages.cargo",
        "config.packages.gem",
    ]
    assert all("not install" in w.message for w in warned)
    assert spec.to_body()["config"]["packages"] == {"cargo": ["ripgrep"], "gem": ["rails"]}
    assert EnvironmentSpec(name="env", pip=["numpy"]).warnings() == []


# --- curl -------------------------------------------------------------------------------------


def test_curl_has_the_seed_form() -> None:
    lines = seed_spec().to_curl().split("\n")
    assert lines[:4] == [
        f'curl -s -X POST "{DEFAULT_BASE_URL}/environments" \\',
        '-H "Authorization: Bearer $QODER_PAT" \\',
        '-H "Content-Type: application/json" \\',
        "-d '{",
    ]
    assert lines[-1] == "}'"
    payload = "\n".join(lines[3:])[len("-d '") : -1]
    assert json.loads(payload) == SEED_BODY


def test_curl_base_url() -> None:
    curl = seed_spec().to_curl("http://127.0.0.1:8000/api/v1/cloud/")
    assert curl.startswith('curl -s -X POST "http://127.0.0.1:8000/api/v1/cloud/environments" \\')
    odd = seed_spec().to_curl("https://host/$path")
    assert odd.startswith("curl -s -X POST 'https://host/$path/environments' \\")


def test_curl_refuses_an_invalid_spec() -> None:
    with pytest.raises(ValidationError):
        EnvironmentSpec(name="").to_curl()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_curl_survives_a_real_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "pt-canary-3f9a1c"
    monkeypatch.setenv("QODER_PAT", canary)
    spec = EnvironmentSpec(
        name='it\'s "quoted"',
        description="'; rm -rf / #  $HOME `id` \\ \n ünïcode ' '' '",
        metadata={"q": "a'b", "d": '"$(id)"'},
        setup_script="echo 'hi' && echo \"$PATH\"",
    )
    curl = spec.to_curl()
    assert canary not in curl
    assert "$QODER_PAT" in curl
    # A stand-in curl prints each argument NUL-terminated; the shell does the parsing.
    script = "curl() { printf '%s\\0' \"$@\"; }\n" + curl
    result = subprocess.run(
        ["bash", "-c", script],  # noqa: S607
        capture_output=True,
        check=True,
        env={**os.environ, "QODER_PAT": canary},
    )
    args = result.stdout.decode().split("\0")[:-1]
    assert args[:5] == ["-s", "-X", "POST", f"{DEFAULT_BASE_URL}/environments", "-H"]
    assert args[5] == f"Authorization: Bearer {canary}"  # expanded by the shell, never embedded
    assert args[args.index("-d") + 1] == json.dumps(spec.to_body(), indent=2, ensure_ascii=False)
    assert json.loads(args[args.index("-d") + 1]) == spec.to_body()


# --- the magic line ---------------------------------------------------------------------------


def test_magic_seed_line() -> None:
    assert seed_spec().to_magic() == (
        "%qoder_env create --name doc-test-env --network limited --apt curl"
    )


def test_magic_full_line_in_flag_order() -> None:
    assert full_spec().to_magic() == (
        "%qoder_env create --name full --description 'all of it' --network allowlist "
        "--allow-host pypi.org '*.example.com' --allow-package-managers --apt curl "
        "--pip 'pandas>=2' --npm typescript@5.0.0 --meta team=data cost-center=42 "
        "--setup-script 'echo ready'"
    )


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        (
            EnvironmentSpec(name="env", pip=["pandas>=2", "numpy"]),
            "%qoder_env create --name env --pip 'pandas>=2' numpy",
        ),
        (
            EnvironmentSpec(name="env", description='it\'s a "test" env'),
            "%qoder_env create --name env --description 'it'\"'\"'s a \"test\" env'",
        ),
        (
            EnvironmentSpec(name="env", metadata={"url": "a=b=c", "empty": ""}),
            "%qoder_env create --name env --meta url=a=b=c empty=",
        ),
        (  # the first unescaped '=' ends the key: '=' and '\' in a key are escaped
            EnvironmentSpec(name="env", metadata={"a=b": "c", "x\\": "\\=", "\\=": ""}),
            "%qoder_env create --name env --meta 'a\\=b=c' 'x\\\\=\\=' '\\\\\\=='",
        ),
        (
            EnvironmentSpec(name="-dash", description="--", setup_script="-x"),
            "%qoder_env create --name=-dash --description=-- --setup-script=-x",
        ),
        (
            EnvironmentSpec(name="env", npm=["a", "-b", "c"]),
            "%qoder_env create --name env --npm a --npm=-b --npm c",
        ),
        (EnvironmentSpec(name=""), "%qoder_env create --name ''"),
        (
            EnvironmentSpec(name="env", networking="", allowed_hosts=["https://x"]),
            "%qoder_env create --name env --network '' --allow-host https://x",
        ),
    ],
)
def test_magic_quoting_and_round_trip(spec: EnvironmentSpec, line: str) -> None:
    assert spec.to_magic() == line
    assert parse_create(line) == spec


@pytest.mark.parametrize(
    "line",
    [
        '%qoder_env create --name env --pip "pandas>=2" numpy --meta "note=a b"',
        'create --name env --pip "pandas>=2" numpy --meta note="a b"',
        "--name env --pip pandas>=2 --pip numpy --meta note='a b'",
        "--pip=pandas>=2 --pip numpy --meta 'note=a b' --name=env",
    ],
)
def test_from_magic_forms(line: str) -> None:
    spec = parse_create(line)
    assert spec == EnvironmentSpec(name="env", pip=["pandas>=2", "numpy"], metadata={"note": "a b"})


def test_from_magic_keeps_rule_breaking_values() -> None:
    spec = parse_create("--name ' ' --network Allowlist --allow-host https://pypi.org")
    assert (spec.name, spec.networking, spec.allowed_hosts) == (
        " ",
        "Allowlist",
        ["https://pypi.org"],
    )
    assert len(spec.problems()) == 3


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("--name env --bogus", "unrecognized arguments: --bogus"),
        ("--name env --pip", "argument --pip: expected at least one argument"),
        ("--name", "argument --name: expected one argument"),
        ("--name env --description -x", "write a value that starts with '-' as --flag=VALUE"),
        ("create --name env list", "unrecognized arguments: list"),
        ("--name env --allow-package-managers=yes", "ignored explicit argument 'yes'"),
        ("--name env --meta team", "--meta 'team' has no '=': write KEY=VALUE"),
        ("--name env --meta =data", "--meta '=data' has an empty key"),
        ("--name env --meta a=1 --meta a=2", "--meta key 'a' is given twice"),
        ("--name 'env", "no closing quotation"),
        ('--name "env', "no closing quotation"),
        ("--name env\\", "no escaped character"),
        ("--name env --ap curl", "unrecognized arguments: --ap curl"),  # no abbreviations
    ],
)
def test_magic_errors_are_validation_errors(
    line: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_create(line)
    (problem,) = caught.value.problems
    assert problem.field == "magic"
    assert fragment in problem.message
    assert capsys.readouterr() == ("", "")


def test_bad_meta_items_reported_together() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_create("--name env --meta a b=1 =c")
    assert len(caught.value.problems) == 2


def test_a_line_without_a_name_gives_a_spec_whose_problem_is_the_name() -> None:
    # The name may come from --from or a cell body, so the parser does not require it.
    spec = parse_create("--network limited")
    assert [p.field for p in spec.problems()] == ["name"]


def test_the_create_parser_takes_the_magics_own_flags(capsys: pytest.CaptureFixture[str]) -> None:
    parsers = magic_parser.build_parsers()
    _, namespace = magic_parser.parse(parsers, "create --name x --apt curl -o my_env --dry-run")
    assert (namespace.out, namespace.dry_run) == ("my_env", True)
    assert magic_parser.spec_values(namespace) == {"name": "x", "apt": ["curl"]}
    help_text = parsers["create"].format_help()
    assert "--allow-package-managers" in help_text
    assert "--dry-run" in help_text
    with pytest.raises(ValidationError, match=r"--dry\. %qoder_env create --help lists"):
        magic_parser.parse(parsers, "--name x --dry")  # no abbreviations: --dry is not --dry-run
    assert capsys.readouterr() == ("", "")


# --- model behaviour --------------------------------------------------------------------------


def test_traits_are_observable_and_linkable() -> None:
    spec = EnvironmentSpec()
    seen: list[tuple[str, Any]] = []
    spec.observe(lambda change: seen.append((change["name"], change["new"])), names=traitlets.All)
    spec.name = "env"
    spec.networking = "limited"
    spec.apt = ["curl"]
    assert seen == [("name", "env"), ("networking", "limited"), ("apt", ["curl"])]

    class Widget(traitlets.HasTraits):
        value = traitlets.Unicode()

    widget = Widget()
    traitlets.link((spec, "name"), (widget, "value"))
    widget.value = "from-form"
    assert spec.name == "from-form"


def test_traits_enforce_types_but_not_rules() -> None:
    spec = EnvironmentSpec()
    spec.networking = "not-a-type"  # kept; reported by problems()
    spec.metadata = {"n": 5}
    with pytest.raises(traitlets.TraitError):
        spec.apt = [1]  # type: ignore[list-item]
    with pytest.raises(traitlets.TraitError):
        spec.allow_package_managers = "yes"  # type: ignore[assignment]
    assert len(spec.problems()) == 3


def test_unknown_constructor_field_is_refused() -> None:
    with pytest.raises(TypeError, match="nmae"):
        EnvironmentSpec(nmae="env")


def test_equality_and_copy() -> None:
    spec = full_spec()
    twin = spec.copy()
    assert twin == spec
    assert twin is not spec
    assert twin.metadata is not spec.metadata
    twin.apt = [*twin.apt, "wget"]
    assert twin != spec
    assert spec != "full"
    assert EnvironmentSpec(metadata={"a": "1", "b": "2"}) == EnvironmentSpec(
        metadata={"b": "2", "a": "1"}
    )
    with pytest.raises(TypeError):
        hash(spec)


def test_repr_is_body_like_and_never_fails() -> None:
    assert repr(seed_spec()) == f"EnvironmentSpec.from_body({SEED_BODY!r})"
    bad = EnvironmentSpec(name="", networking="", pip=["-r"], metadata={1: object()})
    text = repr(bad)
    assert "'-r'" in text
    assert "'type': ''" in text
    ugly = EnvironmentSpec(name="x", networking="bogus", metadata={"n": 5})
    body = ast.literal_eval(repr(ugly).removeprefix("EnvironmentSpec.from_body(")[:-1])
    assert EnvironmentSpec.from_body(body) == ugly


def test_unprintable_values_never_break_messages() -> None:
    huge = 10**5000  # more digits than Python will print
    spec = EnvironmentSpec(name="env", metadata={huge: huge, "n": huge})
    assert len(spec.problems()) == 3
    assert repr(spec)
    assert spec.to_magic()
    body: dict[Any, Any] = {"name": huge, huge: 1, "config": {"type": "cloud"}}
    with pytest.raises(ValidationError) as caught:
        EnvironmentSpec.from_body(body)
    assert len(caught.value.problems) == 2


def test_spec_imports_only_the_stdlib_and_traitlets() -> None:
    assert spec_module.__file__ is not None
    with open(spec_module.__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert imported - {"__future__"} <= set(sys.stdlib_module_names) | {"traitlets"}
