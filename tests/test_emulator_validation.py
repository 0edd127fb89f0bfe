"""The request rules of the contract (§3): one table of bad bodies, each a 400 naming its field,
and one of good bodies at the limits, each stored exactly as sent.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from qoder_jupyter.emulator import Emulator

from .test_emulator_helpers import (
    MISSING,
    SEED_BODY,
    assert_error,
    body_with,
    config_with,
    create,
)

# --- validation (§3) ------------------------------------------------------------------------------

HOSTS = "config.networking.allowed_hosts"
SELF_HOSTED = {"name": "runner-env", "config": {"type": "self_hosted", "setup_script": "make"}}
_GIVEN_TO_SELF_HOSTED: list[tuple[str, dict[str, Any], str]] = [
    ("a networking type", {"networking": {"type": "unrestricted"}}, "config.networking.type"),
    ("hosts", {"networking": {"allowed_hosts": ["pypi.org"]}}, HOSTS),
    (
        "package managers allowed",
        {"networking": {"allow_package_managers": True}},
        "config.networking.allow_package_managers",
    ),
    (
        "MCP servers allowed",
        {"networking": {"allow_mcp_servers": True}},
        "config.networking.allow_mcp_servers",
    ),
    ("pip packages", {"packages": {"pip": ["pandas"]}}, "config.packages.pip"),
    ("go packages", {"packages": {"go": ["x.io/y"]}}, "config.packages.go"),
]
NOT_FOR_SELF_HOSTED = [
    (what, {"type": "self_hosted", **config}, param)
    for what, config, param in _GIVEN_TO_SELF_HOSTED
]
# One per rule of the package specs (see emulator/validation.py).
BAD_SPECS = [
    *(
        (manager, spec)
        for manager in ("apt", "pip", "npm", "cargo", "gem", "go")
        for spec in (" curl", "curl\n", "cu\x00rl", "-y", "curl; rm -rf /", "$(id)", "a`id`", "a|b")
    ),
    ("pip", "pandas>=>2"),
    ("pip", "not a spec!!"),
    ("pip", "pandas; rm -rf /"),
    ("pip", 'pandas; os_name == "$(id)"'),
    ("pip", "pkg @ https://example.com/a(b).whl"),
    ("apt", "Curl"),
    ("apt", "c"),
    ("apt", "python3_pip"),
    ("apt", "curl=abc"),
    ("apt", "two words"),
    ("npm", "pkg@>=1 <2"),
    ("npm", "pkg@"),
    ("npm", ".hidden"),
    ("npm", "@scope"),
    ("npm", "pkg@github:user/repo"),
    ("npm", "x" * 215),
    ("cargo", "rip grep"),
    ("gem", "rails (7)"),
    ("go", "gö.dev/x"),
]
INVALID_CREATES: list[tuple[str, Any, str | None]] = [
    ("body is an array", [SEED_BODY], None),
    ("body is a string", "doc-test-env", None),
    ("unknown top-level field", body_with(status="ready"), "status"),
    ("scope unknown", body_with(scope="team"), "scope"),
    ("scope null", body_with(scope=None), "scope"),
    ("scope in capitals", body_with(scope="Account"), "scope"),
    ("name missing", body_with(name=MISSING), "name"),
    ("name null", body_with(name=None), "name"),
    ("name a number", body_with(name=42), "name"),
    ("name empty", body_with(name=""), "name"),
    ("name only whitespace", body_with(name=" \t\n"), "name"),
    ("name 256 characters", body_with(name="x" * 256), "name"),
    ("description null", body_with(description=None), "description"),
    ("description a number", body_with(description=1), "description"),
    ("config missing", body_with(config=MISSING), "config"),
    ("config null", body_with(config=None), "config"),
    ("config a string", body_with(config="cloud"), "config"),
    ("config.type missing", body_with(config={}), "config.type"),
    ("config.type not cloud", body_with(config={"type": "local"}), "config.type"),
    ("unknown config field", config_with(gpu=True), "config.gpu"),
    *(
        (f"self-hosted with {what}", {**SELF_HOSTED, "config": config}, param)
        for what, config, param in NOT_FOR_SELF_HOSTED
    ),
    ("networking a string", config_with(networking="limited"), "config.networking"),
    ("networking type unknown", config_with(networking={"type": "open"}), "config.networking.type"),
    (
        "networking unknown field",
        config_with(networking={"type": "limited", "proxy": "x"}),
        "config.networking.proxy",
    ),
    ("allowlist without hosts", config_with(networking={"type": "allowlist"}), HOSTS),
    (
        "allowlist with no hosts",
        config_with(networking={"type": "allowlist", "allowed_hosts": []}),
        HOSTS,
    ),
    (
        "allowed_hosts spelling without hosts",
        config_with(networking={"type": "allowed_hosts"}),
        HOSTS,
    ),
    (
        "unrestricted with hosts",
        config_with(networking={"type": "unrestricted", "allowed_hosts": ["pypi.org"]}),
        HOSTS,
    ),
    ("hosts not an array", config_with(networking={"allowed_hosts": "pypi.org"}), HOSTS),
    ("host with a scheme", config_with(networking={"allowed_hosts": ["https://pypi.org"]}), HOSTS),
    ("host with a path", config_with(networking={"allowed_hosts": ["pypi.org/simple"]}), HOSTS),
    ("host with a port", config_with(networking={"allowed_hosts": ["pypi.org:443"]}), HOSTS),
    ("host with a space", config_with(networking={"allowed_hosts": ["pypi org"]}), HOSTS),
    ("host empty", config_with(networking={"allowed_hosts": [""]}), HOSTS),
    ("host a number", config_with(networking={"allowed_hosts": [443]}), HOSTS),
    ("host with inner wildcard", config_with(networking={"allowed_hosts": ["a.*.io"]}), HOSTS),
    ("host label with a hyphen edge", config_with(networking={"allowed_hosts": ["-a.io"]}), HOSTS),
    ("host with a final newline", config_with(networking={"allowed_hosts": ["pypi.org\n"]}), HOSTS),
    (
        "host listed twice, in another case",
        config_with(networking={"allowed_hosts": ["pypi.org", "PyPI.org"]}),
        HOSTS,
    ),
    (
        "allow_package_managers a string",
        config_with(networking={"type": "limited", "allow_package_managers": "yes"}),
        "config.networking.allow_package_managers",
    ),
    (
        "allow_mcp_servers a number",
        config_with(networking={"allow_mcp_servers": 1}),
        "config.networking.allow_mcp_servers",
    ),
    ("packages an array", config_with(packages=["curl"]), "config.packages"),
    ("unknown package manager", config_with(packages={"brew": ["jq"]}), "config.packages.brew"),
    ("package list a string", config_with(packages={"pip": "pandas"}), "config.packages.pip"),
    ("package spec empty", config_with(packages={"apt": [""]}), "config.packages.apt"),
    ("package spec blank", config_with(packages={"npm": ["  "]}), "config.packages.npm"),
    ("package spec a number", config_with(packages={"go": [1]}), "config.packages.go"),
    ("packages.type wrong", config_with(packages={"type": "pkgs"}), "config.packages.type"),
    *(
        (
            f"{manager} spec {spec!r}",
            config_with(packages={manager: [spec]}),
            f"config.packages.{manager}",
        )
        for manager, spec in BAD_SPECS
    ),
    ("setup_script null", config_with(setup_script=None), "config.setup_script"),
    ("setup_script over 64 KB", config_with(setup_script="x" * 65537), "config.setup_script"),
    (
        "setup_script over 64 KB of UTF-8",
        config_with(setup_script="é" * 32769),
        "config.setup_script",
    ),
    ("metadata an array", body_with(metadata=[]), "metadata"),
    ("metadata value a number", body_with(metadata={"n": 1}), "metadata"),
    ("metadata value null on create", body_with(metadata={"n": None}), "metadata"),
    ("metadata 17 keys", body_with(metadata={f"k{i}": "v" for i in range(17)}), "metadata"),
    ("metadata key empty", body_with(metadata={"": "v"}), "metadata"),
    ("metadata key 65 characters", body_with(metadata={"k" * 65: "v"}), "metadata"),
    ("metadata value 513 characters", body_with(metadata={"k": "v" * 513}), "metadata"),
]


@pytest.mark.parametrize(
    ("body", "param"), [case[1:] for case in INVALID_CREATES], ids=[c[0] for c in INVALID_CREATES]
)
def test_invalid_create_is_400_naming_the_field(
    api: httpx.Client, emulator: Emulator, body: Any, param: str | None
) -> None:
    response = api.post("/environments", json=body)

    error = assert_error(response, 400, "invalid_request_error")["error"]
    assert error.get("param") == param
    assert emulator.environments() == []


VALID_CREATES: list[tuple[str, dict[str, Any]]] = [
    ("the seed", SEED_BODY),
    ("name of 255 characters", body_with(name="x" * 255)),
    ("name with surrounding spaces", body_with(name="  padded  ")),
    ("description", body_with(description="A description")),
    ("no networking", config_with()),
    ("networking without type", config_with(networking={"allowed_hosts": ["pypi.org"]})),
    ("unrestricted", config_with(networking={"type": "unrestricted"})),
    (
        "unrestricted with no hosts",
        config_with(networking={"type": "unrestricted", "allowed_hosts": []}),
    ),
    (
        "allowlist",
        config_with(
            networking={"type": "allowlist", "allowed_hosts": ["pypi.org", "*.example.com"]}
        ),
    ),
    (
        "allowed_hosts spelling",
        config_with(
            networking={"type": "allowed_hosts", "allowed_hosts": ["files.pythonhosted.org"]}
        ),
    ),
    (
        "limited with hosts and flags",
        config_with(
            networking={
                "type": "limited",
                "allowed_hosts": ["10.0.0.1", "Registry.NPMJS.org"],
                "allow_package_managers": True,
                "allow_mcp_servers": False,
            }
        ),
    ),
    (
        "every package manager",
        config_with(
            packages={
                "type": "packages",
                "apt": ["curl"],
                "pip": ["pandas>=2", "PyYAML==6.0.1"],
                "npm": ["typescript@5.0.0"],
                "cargo": ["ripgrep"],
                "gem": ["rails"],
                "go": ["golang.org/x/tools/gopls@latest"],
            }
        ),
    ),
    ("empty package lists", config_with(packages={"apt": [], "pip": []})),
    (
        "package specs at the edges of their grammar",
        config_with(
            packages={
                "apt": ["libc6:i386", "curl=7.81.0-1ubuntu1", "g++", "curl/jammy-backports"],
                "pip": ["pandas >= 2", "requests[socks] (>=2,<3)", "pkg @ https://e.io/p-1.whl"],
                "npm": ["@types/node@^20", "JSONStream", "react@latest", "pkg@>=1.2", "x" * 214],
                "cargo": ["ripgrep@14.1.0"],
                "gem": ["rails:7.1.3"],
                "go": ["golang.org/x/tools/gopls@v0.16.0"],
            }
        ),
    ),
    ("a scope", body_with(scope="organization")),
    ("self-hosted", SELF_HOSTED),
    ("self-hosted without a setup script", {"name": "runner", "config": {"type": "self_hosted"}}),
    (
        "self-hosted with only defaults",
        body_with(
            config={
                "type": "self_hosted",
                "networking": {
                    "type": "limited",
                    "allowed_hosts": [],
                    "allow_package_managers": False,
                    "allow_mcp_servers": False,
                },
                "packages": {"type": "packages", "apt": [], "pip": []},
            }
        ),
    ),
    ("a metadata key with '='", body_with(metadata={"a=b": "c"})),
    ("setup_script of exactly 64 KB", config_with(setup_script="x" * 65536)),
    ("metadata at every limit", body_with(metadata={f"{i:064d}": "v" * 512 for i in range(16)})),
    ("non-ASCII text", body_with(name="环境-é", description="描述", metadata={"clé": "värde"})),
]


@pytest.mark.parametrize(
    "body", [case[1] for case in VALID_CREATES], ids=[case[0] for case in VALID_CREATES]
)
def test_valid_create_stores_the_request_exactly(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/environments", json=body)

    assert response.status_code == 201, response.text
    env = response.json()
    assert env["name"] == body["name"]
    assert env["description"] == body.get("description", "")
    assert env["config"] == body["config"]
    assert list(env["config"]) == list(body["config"])  # key order kept too
    assert env["metadata"] == body.get("metadata", {})
    assert env.get("scope") == body.get("scope")


INVALID_UPDATES: list[tuple[str, Any, str | None]] = [
    ("body an array", [], None),
    ("unknown field", {"status": "ready"}, "status"),
    ("scope unknown", {"scope": "everyone"}, "scope"),
    ("self-hosted with packages", {"config": NOT_FOR_SELF_HOSTED[-2][1]}, "config.packages.pip"),
    ("name blank", {"name": "  "}, "name"),
    ("name null", {"name": None}, "name"),
    ("description null", {"description": None}, "description"),
    ("config without type", {"config": {"networking": {"type": "limited"}}}, "config.type"),
    ("config null", {"config": None}, "config"),
    ("metadata value a number", {"metadata": {"k": 1}}, "metadata"),
    ("metadata null", {"metadata": None}, "metadata"),
    (
        "metadata over 16 keys after the patch",
        {"metadata": {f"n{i}": "v" for i in range(16)}},
        "metadata",
    ),
]


@pytest.mark.parametrize(
    ("body", "param"), [case[1:] for case in INVALID_UPDATES], ids=[c[0] for c in INVALID_UPDATES]
)
def test_invalid_update_is_400_and_changes_nothing(
    api: httpx.Client, body: Any, param: str | None
) -> None:
    created = create(api, metadata={"existing": "1"})

    response = api.post(f"/environments/{created['id']}", json=body)

    assert assert_error(response, 400, "invalid_request_error")["error"].get("param") == param
    assert api.get(f"/environments/{created['id']}").json() == created


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b'{"name": NaN}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"name": "\\ud800", "config": {"type": "cloud"}}', "application/json"),
        (json.dumps(SEED_BODY).encode(), "text/plain"),
        (json.dumps(SEED_BODY).encode(), None),
    ],
    ids=[
        "empty",
        "truncated",
        "NaN",
        "not UTF-8",
        "lone surrogate",
        "text/plain",
        "no content type",
    ],
)
def test_unparseable_bodies_are_400(
    api: httpx.Client, content: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    response = api.post("/environments", content=content, headers=headers)

    assert_error(response, 400, "invalid_request_error", None)


def test_content_type_with_charset_is_fine(api: httpx.Client) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}

    response = api.post("/environments", content=json.dumps(SEED_BODY), headers=headers)

    assert response.status_code == 201
