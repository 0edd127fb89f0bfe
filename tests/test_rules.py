"""The client's request rules (``qoder_jupyter.rules``) at their edges: package specs per manager,
text that cannot be sent, scope and config type, self-hosted configs, and warnings. Each refusal
names the problem and the fix. Whether the emulator decides the same is
``tests/test_rules_agreement.py``'s question."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from qoder_jupyter import rules
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.spec import TRAITS, EnvironmentSpec, check_body, with_defaults

LONE_SURROGATE = "\udcff"  # what os.fsdecode makes of an undecodable byte in a file name


def problems(**values: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in rules.problems(with_defaults({"name": "env", **values}))]


def warnings(**values: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in rules.warnings(with_defaults({"name": "env", **values}))]


# --- package specs -------------------------------------------------------------------------------

VALID_SPECS = {
    "apt": ["curl", "libssl-dev", "g++", "libc6:i386", "curl=7.81.0-1ubuntu1", "python3-pip=1:22.0",
            "curl/jammy-backports", "0ad"],
    "pip": ["pandas", "pandas>=2", "PyYAML==6.0.1", "pandas >= 2", "requests[socks] >= 2, <3",
            "numpy (>=1.26,!=1.26.1)", "scipy~=1.11", "torch==2.*", "zope.interface",
            "pkg @ https://example.com/pkg-1.0-py3-none-any.whl",
            'pywin32; sys_platform == "win32"', "tomli>=1.1 ; python_version < '3.11'",
            'pkg @ https://e.io/p.whl ; extra == "dev"',
            'x; (os_name == "posix" or python_version > "3.8") and platform_machine != "arm64"'],
    "npm": ["typescript", "typescript@5.0.0", "@types/node@^20", "JSONStream", "react@latest",
            "lodash@>=4.17", "vite@5.x", "pkg@~1.2.3", "x" * 214, "@s/" + "x" * 211],
    "cargo": ["ripgrep", "ripgrep@14.1.0"],
    "gem": ["rails", "rails:7.1.3"],
    "go": ["golang.org/x/tools/gopls@latest", "github.com/user/repo@v1.2.3"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("manager", "spec"), [(m, spec) for m, specs in VALID_SPECS.items() for spec in specs]
)
def test_valid_package_specs(manager: str, spec: str) -> None:
    assert rules.package_problem(manager, spec) is None
    assert problems(**{manager: [spec]}) == []


# (manager, spec, what the message says: the problem, then the fix)
INVALID_SPECS = [
    # Every manager: one package per entry, nothing a shell or an installer would act on.
    *(
        (manager, spec, fragment)
        for manager in rules.PACKAGE_MANAGERS
        for spec, fragment in [
            ("", "An empty"),
            ("  ", "An empty"),
            (" curl", "has surrounding spaces: write 'curl'"),
            ("curl\n", "contains a line break: put each package in its own entry"),
            ("cu\u2028rl", "line break"),
            ("cu\x00rl", "control character: remove it"),
            ("cu\trl", "control character"),
            ("-y", "would read it as an option: write 'y'"),
            ("--index-url https://x", "name the packages themselves"),
            ("curl; rm -rf /", "';', which ends a command in a shell"),
            ("$(id)", "'$', which expands a variable or runs a command"),
            ("a`id`", "'`', which runs a command"),
            ("a|b", "'|', which pipes into a command"),
            ("a&b", "'&', which runs a command in the background"),
            ("'a'", "starts a quoted string"),
            ("{a,b}", "expands a list"),
            ("a\\b", "escapes the next character"),
            ("e" + LONE_SURROGATE, "lone surrogate"),
        ]
    ),
    ("pip", "pandas>=>2", "write 'pandas>=2'"),
    ("pip", "pandas=>2", "write 'pandas>=2'"),
    ("pip", "pandas=2", "write 'pandas==2'"),
    ("pip", "pandas 2.0", "write 'pandas==2.0'"),
    ("pip", "pandas numpy", "put each package in its own entry: 'pandas', 'numpy'"),
    ("pip", "not a spec!!", "such as 'pandas', 'pandas>=2'"),
    ("pip", "pandas>=2.*", "not a valid pip requirement (PEP 508"),
    ("pip", "pandas;", "nothing after ';': write an environment marker"),
    ("pip", "; python_version < '3'", "no requirement before ';'"),
    ("pip", "pandas; rm -rf /", "may only begin an environment marker (PEP 508)"),
    ("pip", 'pandas; os_name == "$(id)"', "'$', which expands a variable"),
    ("pip", "pandas; os_name == 'a/b'", "the marker value 'a/b' holds characters"),
    ("pip", "pandas; os_name == 'posix'; id", "';', which ends a command"),
    ("pip", "pandas>=>2; os_name == 'posix'", "write 'pandas>=2'"),
    ("pip", "pkg @ https://e.io/a(b).whl", "'(', which starts a subshell"),
    ("pip", "pändas", "not a valid pip requirement"),
    ("apt", "Curl", "lowercase: write 'curl'"),
    ("apt", "c", "at least 2 characters"),
    ("apt", "python3_pip", "'_' in its name"),
    ("apt", "+x", "starts with a letter or a digit"),
    ("apt", "curl=abc", "the version starts with a digit"),
    ("apt", "two words", "contains a space: put each package in its own entry"),
    ("apt", "a<b", "redirects input"),
    ("npm", "pkg@>=1 <2", "a range is written without spaces"),
    ("npm", "pkg@^1||^2", "pipes into a command"),
    ("npm", "pkg@", "nothing after '@'"),
    ("npm", ".hidden", "starts with a letter or a digit"),
    ("npm", "@scope", "written '@scope/name'"),
    ("npm", "pkg@github:user/repo", "install from git, a URL or a file from the setup script"),
    ("npm", "pkg<2", "redirects input"),
    ("npm", "pk~g", "'~' in its name"),
    ("npm", "x" * 215, "at most 214"),
    ("cargo", "rip grep", "contains a space"),
    ("gem", "rails (7)", "contains a space"),
    ("go", "gö.dev/x", "plain ASCII, such as 'golang.org/x/tools/gopls@latest'"),
    ("cargo", "a>b", "redirects output"),
]


@pytest.mark.parametrize(("manager", "spec", "fragment"), INVALID_SPECS)
def test_invalid_package_specs_say_what_and_how_to_fix(
    manager: str, spec: str, fragment: str
) -> None:
    [(field, message)] = problems(**{manager: ["curl" if manager == "apt" else "ok", spec]})
    assert field == f"config.packages.{manager}[1]"
    assert fragment in message
    assert message.endswith(".")
    message.encode("utf-8")  # printable anywhere, whatever the spec held


def test_packaging_is_imported_only_for_a_pip_spec() -> None:
    """`%load_ext qoder_jupyter` is budgeted at 30 ms: importing packaging costs a part of it."""
    code = (
        "import sys, qoder_jupyter, qoder_jupyter.extension;"
        "from qoder_jupyter.spec import EnvironmentSpec;"
        "assert EnvironmentSpec(name='x', apt=['curl'], npm=['a']).is_valid;"
        "assert 'packaging' not in sys.modules, 'imported early';"
        "assert EnvironmentSpec(name='x', pip=['pandas>=2']).is_valid;"
        "assert 'packaging.requirements' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- text that cannot be sent ------------------------------------------------------------------

# Each string field of a body, with a lone surrogate in it, and the field the problem names.
UNSENDABLE = [
    ({"name": "env-" + LONE_SURROGATE}, "name"),
    ({"description": LONE_SURROGATE}, "description"),
    ({"scope": LONE_SURROGATE}, "scope"),
    ({"config_type": LONE_SURROGATE}, "config.type"),
    ({"networking": LONE_SURROGATE}, "config.networking.type"),
    ({"allowed_hosts": ["pypi.org", LONE_SURROGATE + ".io"]}, "config.networking.allowed_hosts[1]"),
    *(({m: [LONE_SURROGATE]}, f"config.packages.{m}[0]") for m in rules.PACKAGE_MANAGERS),
    ({"metadata": {LONE_SURROGATE: "v"}}, "metadata['\\udcff']"),
    ({"metadata": {"k": LONE_SURROGATE}}, "metadata['k']"),
    ({"setup_script": "echo " + LONE_SURROGATE}, "config.setup_script"),
]


@pytest.mark.parametrize(("values", "field"), UNSENDABLE)
def test_text_that_cannot_be_sent_as_utf8_is_a_problem(values: dict[str, Any], field: str) -> None:
    found = problems(**values)
    assert [f for f, _ in found] == [field]
    spec = EnvironmentSpec(**{"name": "env", **values})
    assert spec.field_problems()[next(t for t in TRAITS if field.startswith(_path(t)))]
    with pytest.raises(ValidationError) as caught:
        spec.to_body()
    str(caught.value).encode("utf-8")  # the message shows the character escaped


def _path(trait: str) -> str:
    from qoder_jupyter.spec import FIELDS

    return next(field.dotted for field in FIELDS if field.trait == trait)


def test_a_dict_body_with_a_lone_surrogate_is_refused_before_anything_is_encoded() -> None:
    body = {"name": "from " + LONE_SURROGATE, "config": {"type": "cloud"}}
    with pytest.raises(ValidationError) as caught:
        check_body(body)
    assert "lone surrogate" in str(caught.value)
    assert "character 6" in str(caught.value)
    json.dumps(check_body({"name": "from \U0001f600", "config": {"type": "cloud"}}))


# --- scope, config type, self-hosted -----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"scope": "Account"}, "scope", "write 'account'"),
        ({"scope": "team"}, "scope", "choose 'organization' or 'account', or leave it out"),
        ({"scope": ""}, "scope", "choose 'organization'"),
        ({"config_type": "Self-Hosted"}, "config.type", "write 'self_hosted'"),
        ({"config_type": "local"}, "config.type", "choose 'cloud' (a Qoder sandbox)"),
    ],
)
def test_scope_and_config_type_take_their_values(
    values: dict[str, Any], field: str, fragment: str
) -> None:
    [(found, message)] = problems(**values)
    assert found == field
    assert fragment in message


@pytest.mark.parametrize("scope", [None, *rules.SCOPES])
def test_every_scope_and_none(scope: str | None) -> None:
    assert problems(scope=scope) == []


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"setup_script": "make runner"},
        # What a server that fills in defaults returns: says nothing, so it passes.
        {"networking": "limited", "allow_package_managers": False, "apt": []},
    ],
)
def test_a_self_hosted_config_is_just_a_setup_script(values: dict[str, Any]) -> None:
    assert problems(config_type="self_hosted", **values) == []
    assert warnings(config_type="self_hosted", **values) == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"networking": "unrestricted"}, "config.networking.type"),
        ({"networking": "bogus"}, "config.networking.type"),
        ({"allowed_hosts": ["pypi.org"]}, "config.networking.allowed_hosts"),
        ({"allow_package_managers": True}, "config.networking.allow_package_managers"),
        ({"allow_mcp_servers": True}, "config.networking.allow_mcp_servers"),
        *(({m: ["x"]}, f"config.packages.{m}") for m in rules.PACKAGE_MANAGERS),
    ],
)
def test_networking_and_packages_do_not_apply_to_self_hosted(
    values: dict[str, Any], field: str
) -> None:
    [(found, message)] = problems(config_type="self_hosted", **values)
    assert found == field
    assert "not apply to a self-hosted environment" in message
    assert "or choose config type 'cloud'" in message


def test_every_problem_belongs_to_a_trait() -> None:
    """The form groups problems by trait: each new rule's field path must map to one."""
    spec = EnvironmentSpec(
        name=LONE_SURROGATE,
        description=LONE_SURROGATE,
        scope="x",
        config_type="self_hosted",
        networking="allowlist",
        allowed_hosts=["a.io"],
        allow_package_managers=True,
        allow_mcp_servers=True,
        **{m: ["x"] for m in rules.PACKAGE_MANAGERS},
        metadata={"k": LONE_SURROGATE},
        setup_script=LONE_SURROGATE,
    )
    grouped = spec.field_problems()
    assert sum(map(len, grouped.values())) == len(spec.problems()) == 15
    assert all(grouped[trait] for trait in TRAITS if trait != "config_type")


# --- hosts, metadata ------------------------------------------------------------------------------


def test_a_host_listed_twice_in_any_case_is_a_problem() -> None:
    [(field, message)] = problems(allowed_hosts=["pypi.org", "files.io", "PyPI.org"])
    assert field == "config.networking.allowed_hosts[2]"
    assert "already listed at [0]: remove this one" in message


@pytest.mark.parametrize("key", ["a=b", "=", "==x", "a\\=b"])
def test_a_metadata_key_may_hold_an_equals_sign(key: str) -> None:
    assert problems(metadata={key: "v"}) == []


# --- warnings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("manager", rules.NOT_INSTALLED_PACKAGE_MANAGERS)
def test_packages_the_service_does_not_install_are_sent_with_a_warning(manager: str) -> None:
    assert problems(**{manager: ["ripgrep"]}) == []
    [(field, message)] = warnings(**{manager: ["ripgrep"]})
    assert field == f"config.packages.{manager}"
    assert f"accepted and kept, but the service does not install {manager} packages" in message
    assert "install them from the setup script" in message


@pytest.mark.parametrize("flag", ["allow_package_managers", "allow_mcp_servers"])
def test_allow_flags_with_unrestricted_networking_change_nothing(flag: str) -> None:
    assert problems(networking="unrestricted", **{flag: True}) == []
    [(field, message)] = warnings(networking="unrestricted", **{flag: True})
    assert field == f"config.networking.{flag}"
    assert "changes nothing with 'unrestricted' networking" in message
    assert warnings(networking="limited", **{flag: True}) == []
    assert warnings(**{flag: True}) == []


def test_no_warnings_for_an_ordinary_spec() -> None:
    assert warnings(apt=["curl"], pip=["pandas>=2"], npm=["typescript@5"]) == []
