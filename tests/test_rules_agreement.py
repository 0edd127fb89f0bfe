"""The client's rules and the emulator's agree: over generated request bodies, valid and
invalid along every rule of the contract (§3, §7), ``check_body`` refuses exactly what the emulator
answers with a 400, in every dialect; and every environment a dialect returns becomes a spec
(``to_spec()``) that keeps every field and is accepted again when sent back.

The two sides are independent implementations (``qoder_jupyter/rules.py`` and
``qoder_jupyter/emulator/validation.py``), so this is the test that keeps them from drifting. The
bodies are posted as they are, over real HTTP to emulators on 127.0.0.1: the server sees even what
the client would refuse. A few hundred examples in ``make test``; thousands with
``QODER_FUZZ_EXAMPLES`` (``make soak``).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from qoder_jupyter.emulator import DIALECTS, Emulator
from qoder_jupyter.emulator.openapi import PIP_PATTERN
from qoder_jupyter.emulator.validation import APT_PATTERN, ASCII_WORD_PATTERN, NPM_PATTERN
from qoder_jupyter.environment import Environment
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.rules import CONFIG_TYPES, NETWORKING_TYPES, PACKAGE_MANAGERS, SCOPES
from qoder_jupyter.spec import EnvironmentSpec, check_body, read_body, with_defaults

from ._fuzz import examples
from .conftest import loopback_client

SETTINGS = settings(
    max_examples=examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
QUICK = settings(max_examples=200, deadline=None, database=None, phases=[Phase.generate])
Body = Any
Draw = Callable[[st.SearchStrategy[Any]], Any]

# --- text ----------------------------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and control characters too
SENDABLE_CHAR = st.characters(codec="utf-8")  # every code point UTF-8 can encode
any_text = st.text(ANY_CHAR, max_size=20)
sendable_text = st.text(SENDABLE_CHAR, max_size=20)
LONE_SURROGATE = "\udcff"  # as from a file name read with errors="surrogateescape"

# --- valid parts, SDK-shaped ---------------------------------------------------------------------

label = st.text("abcXYZ0189-", min_size=1, max_size=8).map(lambda s: s.strip("-") or "a")
valid_host = st.builds(
    lambda wildcard, labels: ("*." if wildcard else "") + ".".join(labels),
    st.booleans(),
    st.lists(label, min_size=1, max_size=3),
)
GOOD_SPECS = {
    "apt": ["curl", "libssl-dev", "g++", "libc6:i386", "curl=7.81.0-1ubuntu1", "python3-pip=1:22.0",
            "curl/jammy-backports"],
    "pip": ["pandas", "pandas>=2", "PyYAML==6.0.1", "requests[socks] >= 2, <3", "numpy (>=1.26)",
            "scipy~=1.11", "torch==2.*", "pkg @ https://example.com/pkg-1.0-py3-none-any.whl",
            'pywin32; sys_platform == "win32"', "tomli ; python_version < '3.11'"],
    "npm": ["typescript@5.0.0", "@types/node@^20", "JSONStream", "react@latest", "lodash@>=4.17",
            "vite@5.x", "x" * 214],
    **{m: ["ripgrep@14.1.0", "rails:7.1.3", "x.io/y@latest"] for m in ("cargo", "gem", "go")},
}  # fmt: skip
# The emulator's own patterns (they are its OpenAPI document's too) generate more.
_PATTERNS = {"apt": APT_PATTERN, "pip": PIP_PATTERN, "npm": NPM_PATTERN}
VALID_SPECS = {
    manager: st.sampled_from(GOOD_SPECS[manager])
    | st.from_regex(_PATTERNS.get(manager, ASCII_WORD_PATTERN), fullmatch=True)
    for manager in PACKAGE_MANAGERS
}


@st.composite
def valid_networking(draw: Draw) -> dict[str, Any]:
    kind = draw(st.sampled_from([None, *NETWORKING_TYPES]))
    hosts_needed = 1 if kind in ("allowlist", "allowed_hosts") else 0
    hosts = draw(st.lists(valid_host, min_size=hosts_needed, max_size=3, unique_by=str.lower))
    networking: dict[str, Any] = {} if kind is None else {"type": kind}
    if kind != "unrestricted" and (hosts or draw(st.booleans())):
        networking["allowed_hosts"] = hosts
    for flag in ("allow_package_managers", "allow_mcp_servers"):
        if draw(st.booleans()):
            networking[flag] = draw(st.booleans())
    return networking


@st.composite
def valid_packages(draw: Draw) -> dict[str, Any]:
    managers = draw(st.lists(st.sampled_from(PACKAGE_MANAGERS), unique=True, max_size=6))
    packages: dict[str, Any] = {"type": "packages"} if draw(st.booleans()) else {}
    for manager in managers:
        packages[manager] = draw(st.lists(VALID_SPECS[manager], max_size=3))
    return packages


@st.composite
def valid_config(draw: Draw) -> dict[str, Any]:
    if draw(st.integers(0, 4)) == 0:
        config: dict[str, Any] = {"type": "self_hosted"}
        if draw(st.booleans()):  # only defaults, as a server that fills them in shows them
            config["networking"] = {"type": "limited", "allowed_hosts": []}
            config["packages"] = {"type": "packages", "pip": [], "cargo": []}
    else:
        config = {"type": "cloud"}
        if draw(st.booleans()):
            config["networking"] = draw(valid_networking())
        if draw(st.booleans()):
            config["packages"] = draw(valid_packages())
    if draw(st.booleans()):
        config["setup_script"] = draw(sendable_text | st.just("set -e\napt-get update\n"))
    return config


metadata_key = st.text(SENDABLE_CHAR | st.sampled_from("=\\"), min_size=1, max_size=64)
valid_metadata = st.dictionaries(metadata_key, st.text(SENDABLE_CHAR, max_size=40), max_size=16)


@st.composite
def valid_bodies(draw: Draw) -> dict[str, Any]:
    body: dict[str, Any] = {"name": draw(st.text(SENDABLE_CHAR, min_size=1, max_size=30))}
    if not body["name"].strip():
        body["name"] = "env"
    if draw(st.booleans()):
        body["description"] = draw(sendable_text)
    if draw(st.booleans()):
        body["scope"] = draw(st.sampled_from(SCOPES))
    body["config"] = draw(valid_config())
    if draw(st.booleans()):
        body["metadata"] = draw(valid_metadata)
    return body


# --- one rule broken -----------------------------------------------------------------------------

BAD_HOSTS = [
    "https://pypi.org", "pypi.org/simple", "pypi.org:443", "pypi org", "", " ", "a.*.io", "-a.io",
    "pypi.org\n", "pypi.org.", "a..b", "*", "münchen.de", "x" * 254, "a" * 64 + ".io", "[::1]",
    "user@pypi.org", LONE_SURROGATE + ".io", 443, None,
]  # fmt: skip
BAD_SPECS = [
    "", " ", " curl", "curl ", "cu\nrl", "curl\n", "cu\x00rl", "cu\trl", "-y", "--pre",
    "curl; rm -rf /", "$(id)", "a`id`", "a|b", "a&b", "a>b", "a<b", "'a'", '"a"', "{a,b}", "a\\b",
    "a(b)", "a!", "é", "two words", LONE_SURROGATE, 1, None,
    "pandas>=>2", "not a spec!!", "pandas;", 'pandas; os_name == "$(id)"', "pandas=2",
    "pandas; rm -rf /", "pandas; os_name == 'a/b'", "pandas; os_name == 'x'; id",
    "; os_name == 'x'", "pandas>=2.*",
    "pkg @ https://e.io/a(b).whl", "Curl", "c", "python3_pip", "curl=abc", "pkg@>=1 <2", "pkg@",
    ".hidden", "@scope", "pkg@github:user/repo", "pkg@^1||^2", "x" * 215, "gö.dev/x",
    "a\u2028b", "a\u2029b", "a\x85b", "a\u00a0b", "a\u200bb", "a\x1fb", "a}",
    "pkg @ https://e.io/a}b.whl", "pkg @ https://e.io/$x.whl", "pkg @ https://e.io/a!.whl",
]  # fmt: skip
NOT_STRINGS: list[Any] = [None, 1, 1.5, True, [], {}, ["x"]]


def _networking(body: dict[str, Any]) -> dict[str, Any]:
    config = body["config"] = {**body["config"], "type": "cloud"}
    return config.setdefault("networking", {})  # type: ignore[no-any-return]


def _packages(body: dict[str, Any]) -> dict[str, Any]:
    config = body["config"] = {**body["config"], "type": "cloud"}
    return config.setdefault("packages", {})  # type: ignore[no-any-return]


def _break_name(draw: Draw, body: dict[str, Any]) -> None:
    choice = draw(st.sampled_from(["missing", "empty", "blank", "long", "surrogate", "type"]))
    if choice == "missing":
        del body["name"]
    else:
        body["name"] = {
            "empty": "",
            "blank": draw(st.sampled_from([" ", "\t\n", "\u3000"])),
            "long": "x" * draw(st.integers(256, 300)),
            "surrogate": "env-" + LONE_SURROGATE,
            "type": draw(st.sampled_from(NOT_STRINGS)),
        }[choice]


def _break_text_field(draw: Draw, body: dict[str, Any]) -> None:
    field = draw(st.sampled_from(["description", "scope"]))
    body[field] = draw(
        st.sampled_from([*NOT_STRINGS, LONE_SURROGATE, "Account", "team", "", "organisation"])
    )


def _break_config(draw: Draw, body: dict[str, Any]) -> None:
    choice = draw(st.sampled_from(["missing", "type", "no type", "unknown key", "not object"]))
    if choice == "missing":
        del body["config"]
    elif choice == "not object":
        body["config"] = draw(st.sampled_from(["cloud", [], None, 1]))
    elif choice == "no type":
        body["config"].pop("type")
    elif choice == "unknown key":
        body["config"]["gpu"] = True
    else:
        body["config"]["type"] = draw(
            st.sampled_from(["local", "Cloud", "self-hosted", "", None, 1, ["cloud"]])
        )


def _break_self_hosted(draw: Draw, body: dict[str, Any]) -> None:
    """Networking or packages given to a self-hosted config, where they do not apply."""
    config = body["config"] = {"type": "self_hosted"}
    choice = draw(st.sampled_from(["type", "hosts", "flag", "package"]))
    if choice == "type":
        kind = draw(st.sampled_from(["unrestricted", "allowlist", "allowed_hosts"]))
        config["networking"] = {"type": kind, "allowed_hosts": ["pypi.org"]}
    elif choice == "hosts":
        config["networking"] = {"allowed_hosts": ["pypi.org"]}
    elif choice == "flag":
        flag = draw(st.sampled_from(["allow_package_managers", "allow_mcp_servers"]))
        config["networking"] = {flag: True}
    else:
        manager = draw(st.sampled_from(PACKAGE_MANAGERS))
        config["packages"] = {manager: [draw(VALID_SPECS[manager])]}


def _break_networking(draw: Draw, body: dict[str, Any]) -> None:
    choice = draw(st.sampled_from(["type", "allowlist", "unrestricted", "flag", "key", "object"]))
    networking = _networking(body)
    if choice == "type":
        networking["type"] = draw(st.sampled_from(["open", "Limited", "", None, 1]))
    elif choice == "allowlist":
        networking.update(type=draw(st.sampled_from(["allowlist", "allowed_hosts"])))
        networking["allowed_hosts"] = []
    elif choice == "unrestricted":
        networking.update(type="unrestricted", allowed_hosts=[draw(valid_host)])
    elif choice == "flag":
        flag = draw(st.sampled_from(["allow_package_managers", "allow_mcp_servers"]))
        networking[flag] = draw(st.sampled_from(["yes", 1, 0, None, "true"]))
    elif choice == "key":
        networking["proxy"] = "x"
    else:
        body["config"]["networking"] = draw(st.sampled_from(["limited", [], None]))


def _break_hosts(draw: Draw, body: dict[str, Any]) -> None:
    networking = _networking(body)
    networking.pop("type", None)  # limited: hosts allowed, not needed
    hosts = list(draw(st.lists(valid_host, min_size=1, max_size=2, unique_by=str.lower)))
    choice = draw(st.sampled_from(["twice", "bad", "not a list"]))
    if choice == "twice":  # the same host again, in another case (DNS ignores case)
        host = draw(st.sampled_from(["pypi.org", "Files.PythonHosted.org", "*.example.COM"]))
        twin = draw(st.sampled_from([str.upper, str.lower, str.swapcase]))(host)
        hosts[draw(st.integers(0, len(hosts))) :] = [host, twin]
    elif choice == "bad":
        hosts.insert(draw(st.integers(0, len(hosts))), draw(st.sampled_from(BAD_HOSTS)))
    networking["allowed_hosts"] = (
        draw(st.sampled_from(["pypi.org", None, {}])) if (choice == "not a list") else hosts
    )


def _break_packages(draw: Draw, body: dict[str, Any]) -> None:
    choice = draw(st.sampled_from(["spec", "spec", "spec", "list", "manager", "marker", "object"]))
    if choice == "object":
        body["config"] = {**body["config"], "type": "cloud", "packages": ["curl"]}
        return
    packages = _packages(body)
    manager = draw(st.sampled_from(PACKAGE_MANAGERS))
    if choice == "list":
        packages[manager] = draw(st.sampled_from(["pandas", None, {}]))
    elif choice == "manager":
        packages[draw(st.sampled_from(["brew", "conda", "Pip"]))] = ["x"]
    elif choice == "marker":
        packages["type"] = draw(st.sampled_from(["pkgs", None, "", 1]))
    else:
        specs = list(draw(st.lists(VALID_SPECS[manager], max_size=2)))
        specs.insert(draw(st.integers(0, len(specs))), draw(st.sampled_from(BAD_SPECS)))
        packages[manager] = specs


def _break_setup_script(draw: Draw, body: dict[str, Any]) -> None:
    body["config"]["setup_script"] = draw(
        st.sampled_from(
            [None, 1, [], "echo " + LONE_SURROGATE, "x" * 65537, "é" * 32769, "x" * 65536]
        )
    )


def _break_metadata(draw: Draw, body: dict[str, Any]) -> None:
    choice = draw(st.sampled_from(["count", "key", "value", "object"]))
    metadata = body.setdefault("metadata", {})
    if choice == "count":
        metadata.update({f"k{i}": "v" for i in range(draw(st.integers(17, 20)))})
    elif choice == "key":
        metadata[draw(st.sampled_from(["", "k" * 65, "k" * 64, "a=b", LONE_SURROGATE]))] = "v"
    elif choice == "value":
        value = draw(st.sampled_from([*NOT_STRINGS, "v" * 513, "v" * 512, LONE_SURROGATE]))
        metadata[draw(metadata_key)] = value
    else:
        body["metadata"] = draw(st.sampled_from([[], None, "team=data"]))


def _break_top_level(draw: Draw, body: dict[str, Any]) -> None:
    body[draw(st.sampled_from(["status", "workspace_id", "Name", "type"]))] = "x"


def _scramble_text(draw: Draw, body: dict[str, Any]) -> None:
    """Any text at all in one string field: valid or not, both sides must say the same."""
    field = draw(st.sampled_from(["name", "description", "host", "spec", "key", "value", "script"]))
    text = draw(
        any_text | st.text(st.sampled_from(";|&$`\\'\"<>()!{} -=@:/.*^~[]\n\tAaZz09"), max_size=12)
    )
    if field in ("name", "description"):
        body[field] = text
    elif field == "host":
        _networking(body)["allowed_hosts"] = [text]
    elif field == "spec":
        _packages(body)[draw(st.sampled_from(PACKAGE_MANAGERS))] = [text]
    elif field == "key":
        body["metadata"] = {text: "v"}
    elif field == "value":
        body["metadata"] = {"k": text}
    else:
        body["config"]["setup_script"] = text


BREAKS = [
    _break_name, _break_text_field, _break_config, _break_self_hosted, _break_networking,
    _break_hosts, _break_packages, _break_setup_script, _break_metadata, _break_top_level,
    _scramble_text,
]  # fmt: skip


@st.composite
def broken_bodies(draw: Draw) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(draw(valid_bodies()))
    draw(st.sampled_from(BREAKS))(draw, body)
    return body


# --- anything at all, in roughly the right shape --------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=4,
)


def maybe(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional=fields) | json_like


random_bodies = maybe(
    name=json_like,
    description=json_like,
    scope=st.sampled_from(SCOPES) | json_like,
    config=maybe(
        type=st.sampled_from(["cloud", "self_hosted"]) | json_like,
        networking=maybe(
            type=st.sampled_from(NETWORKING_TYPES) | json_like,
            allowed_hosts=st.lists(valid_host | json_like, max_size=2) | json_like,
            allow_package_managers=st.booleans() | json_like,
            allow_mcp_servers=st.booleans() | json_like,
        ),
        packages=maybe(
            type=st.just("packages") | json_like,
            **{m: st.lists(VALID_SPECS[m] | json_like, max_size=2) for m in PACKAGE_MANAGERS},
        ),
        setup_script=json_like,
    ),
    metadata=json_like,
)

bodies = st.one_of(valid_bodies(), broken_bodies(), broken_bodies(), random_bodies)

# --- the emulators and what they answer -----------------------------------------------------------

_numbers = itertools.count()


def unique_name(name: Any) -> Any:
    """A name no earlier example used (so no 409), when the name is a valid one; the same length
    rules still apply, so a name of 255 characters stays at 255."""
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        return name
    return f"{next(_numbers)}~{name}"[:255]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, httpx.Client]]:
    """One emulator per dialect, and an authenticated client for each."""
    clients: dict[str, httpx.Client] = {}
    emulators = [Emulator(dialect=dialect) for dialect in DIALECTS]
    try:
        for dialect, emulator in zip(DIALECTS, emulators, strict=True):
            emulator.start()
            headers = {"Authorization": f"Bearer {emulator.token}"}
            clients[dialect] = loopback_client(base_url=emulator.base_url, headers=headers)
        yield clients
    finally:
        for client in clients.values():
            client.close()
        for emulator in emulators:
            emulator.stop()


def post(client: httpx.Client, body: Body) -> httpx.Response:
    # Serialized here, with \\u escapes, so even a lone surrogate reaches the server as sent.
    content = json.dumps(body).encode()
    return client.post(
        "/environments", content=content, headers={"Content-Type": "application/json"}
    )


def client_problems(body: Body) -> list[str] | None:
    """The client's verdict: None when check_body accepts the body, else its problems."""
    try:
        check_body(body)
    except ValidationError as error:
        return [f"{problem.field}: {problem.message}" for problem in error.problems]
    return None


def comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Trait values as a server may give them back: no networking type means "limited"."""
    return {**values, "networking": values["networking"] or "limited"}


def show(body: Body) -> str:
    text = repr(body)
    return text if len(text) < 600 else text[:600] + "..."


def disagreement(dialect: str, client: httpx.Client, body: Body) -> str | None:
    """How the client's verdict on ``body`` and this emulator's differ, or None; an accepted body
    must also come back as a spec that keeps every field and is accepted again."""
    if isinstance(body, dict) and "name" in body:
        body = {**body, "name": unique_name(body["name"])}
    problems = client_problems(body)
    response = post(client, body)
    if response.status_code not in (200, 201, 400):
        return f"{dialect}: {response.status_code} for {show(body)}: {response.text[:300]}"
    refused = response.status_code == 400
    if refused != (problems is not None):
        return (
            f"{dialect}: the emulator {'refused' if refused else 'accepted'} {show(body)}, the "
            f"client {'refused it: ' + str(problems) if problems else 'accepted it'}; the "
            f"emulator said {response.text[:300]}"
        )
    return None if refused else clone_problem(dialect, client, body, response.json())


def clone_problem(dialect: str, client: httpx.Client, body: Body, returned: Any) -> str | None:
    """What the dialect returned reads back as the spec that was sent, and is accepted again."""
    spec = Environment.from_json(returned).to_spec()
    sent = comparable(with_defaults(read_body(body)))
    kept = comparable(spec.values())
    if kept != sent:
        lost = {key: (sent[key], kept.get(key)) for key in sent if kept.get(key) != sent[key]}
        return f"{dialect}: to_spec() of {show(returned)} changed (sent, read back): {lost}"
    spec.name = unique_name("again")
    try:
        again = post(client, spec.to_body())
    except ValidationError as error:
        return f"{dialect}: to_spec() of {show(returned)} cannot be sent again: {error}"
    if again.status_code not in (200, 201):
        return f"{dialect}: the clone of {show(returned)} was refused: {again.text[:300]}"
    return None


@SETTINGS
@given(body=bodies)
def test_the_client_refuses_exactly_what_the_emulator_refuses(
    servers: dict[str, httpx.Client], body: Body
) -> None:
    for dialect, client in servers.items():
        found = disagreement(dialect, client, body)
        assert found is None, found


def test_every_edge_gets_the_same_verdict(servers: dict[str, httpx.Client]) -> None:
    """Each edge value of each rule, alone in a body, in every dialect: every one is tried, where
    the generated bodies above reach each only now and then."""
    found = [
        problem
        for body in edge_bodies()
        for dialect, client in servers.items()
        if (problem := disagreement(dialect, client, body)) is not None
    ]
    assert found == [], "\n".join(found[:20])


def edge_bodies() -> Iterator[Body]:
    base: dict[str, Any] = {"name": "edge", "config": {"type": "cloud"}}

    def cloud(**config: Any) -> dict[str, Any]:
        return {**base, "config": {"type": "cloud", **config}}

    yield from ([], "edge", None, {"config": {"type": "cloud"}})
    for value in ["", " ", "\u3000", "x" * 255, "x" * 256, "e" + LONE_SURROGATE, *NOT_STRINGS]:
        yield {**base, "name": value}
    for field in ("description", "scope"):
        for value in [*NOT_STRINGS, LONE_SURROGATE, "", "Account", "team", *SCOPES, "a '\"$`"]:
            yield {**base, field: value}
    yield from ({**base, "status": "ready"}, {**base, "Name": "x"}, {"name": "edge"})
    configs: list[Any] = ["cloud", [], None, {}, {"gpu": True}]
    for config in configs:
        yield {**base, "config": config}
    for kind in ["local", "Cloud", "self-hosted", "", None, 1, ["cloud"], *CONFIG_TYPES]:
        yield {**base, "config": {"type": kind}}
    yield from self_hosted_edges(base)
    yield from networking_edges(cloud)
    for host in [*BAD_HOSTS, "pypi.org", "*.example.com", "10.0.0.1", "x" * 63 + ".io"]:
        yield cloud(networking={"allowed_hosts": [host]})
    for twin in ["pypi.org", "PyPI.org", "PYPI.ORG"]:
        yield cloud(networking={"allowed_hosts": ["pypi.org", twin]})
    for manager in PACKAGE_MANAGERS:
        for spec in [*BAD_SPECS, *GOOD_SPECS[manager]]:
            yield cloud(packages={manager: [spec]})
        not_lists: list[Any] = ["curl", None, {}, []]
        for specs in not_lists:
            yield cloud(packages={manager: specs})
    for packages in [["curl"], None, {"type": "packages"}, {"type": "pkgs"}, {"brew": ["jq"]}]:
        yield cloud(packages=packages)
    for script in [None, 1, "echo " + LONE_SURROGATE, "x" * 65536, "x" * 65537, "é" * 32769]:
        yield cloud(setup_script=script)
    for metadata in metadata_edges():
        yield {**base, "metadata": metadata}


def self_hosted_edges(base: dict[str, Any]) -> Iterator[Body]:
    configs: list[dict[str, Any]] = [
        {"setup_script": "make runner"},
        {"networking": {}, "packages": {}},
        {"networking": {"type": "limited", "allowed_hosts": [], "allow_mcp_servers": False}},
        {"packages": {"type": "packages", "apt": [], "go": []}},
        *({"networking": {"type": kind}} for kind in ("unrestricted", "allowlist", "bogus")),
        {"networking": {"allowed_hosts": ["pypi.org"]}},
        {"networking": {"allow_package_managers": True}},
        {"networking": {"allow_mcp_servers": True}},
        *({"packages": {manager: [GOOD_SPECS[manager][0]]}} for manager in PACKAGE_MANAGERS),
    ]
    for config in configs:
        yield {**base, "config": {"type": "self_hosted", **config}}


def networking_edges(cloud: Callable[..., dict[str, Any]]) -> Iterator[Body]:
    for kind in [None, *NETWORKING_TYPES, "open", "Limited", "", 1]:
        kind_field = {} if kind is None else {"type": kind}
        for hosts in [None, [], ["pypi.org"]]:
            hosts_field = {} if hosts is None else {"allowed_hosts": hosts}
            yield cloud(networking={**kind_field, **hosts_field})
        for flag in ("allow_package_managers", "allow_mcp_servers"):
            for value in [True, False, "yes", 1, None]:
                yield cloud(networking={**kind_field, flag: value})
    shapes: list[Any] = ["limited", [], None, {"proxy": "x"}, {"allowed_hosts": "pypi.org"}]
    for networking in shapes:
        yield cloud(networking=networking)


def metadata_edges() -> Iterator[Any]:
    yield from ([], None, "team=data", {})
    yield {f"k{i}": "v" for i in range(16)}
    yield {f"k{i}": "v" for i in range(17)}
    for key in ["", "k" * 64, "k" * 65, "a=b", "=", "\\", LONE_SURROGATE, "clé"]:
        yield {key: "v"}
    for value in [*NOT_STRINGS, "", "v" * 512, "v" * 513, LONE_SURROGATE, "a=b"]:
        yield {"k": value}


@settings(max_examples=examples(100), deadline=None, database=None)
@given(body=valid_bodies())
def test_the_valid_bodies_are_valid(body: Body) -> None:
    """A guard on the strategies: what they build as valid, the client accepts."""
    assert client_problems(body) is None


@pytest.mark.parametrize("breaking", BREAKS, ids=lambda function: function.__name__)
def test_each_way_of_breaking_a_body_is_generated(breaking: Callable[[Draw, Any], None]) -> None:
    """A guard on the strategies: each break does produce bodies the client refuses."""

    @st.composite
    def broken(draw: Draw) -> Body:
        body = copy.deepcopy(draw(valid_bodies()))
        breaking(draw, body)
        return body

    find(broken(), lambda body: client_problems(body) is not None, settings=QUICK)


def test_the_spec_model_holds_every_field_the_bodies_use() -> None:
    assert {"scope", "config_type", "allow_mcp_servers", *PACKAGE_MANAGERS} <= set(
        EnvironmentSpec.class_trait_names()
    )
