"""The rules of a request body (contracts §3 and §7), each written once, over plain values.

A rule takes the values of the fields it checks (trait names: ``name``, ``networking``,
``allowed_hosts``, ``apt``...) and yields a :class:`~qoder_jupyter.errors.Problem` for each thing
wrong, with the field path and the fix. :class:`~qoder_jupyter.spec.EnvironmentSpec` reports them
for its traits, a dict body is checked by them without building a spec, and an update checks only
the parts it sends. :func:`warnings` names what is sent as given but worth telling the user.

The emulator implements the same rules on its own (``emulator/validation.py``, the oracle), and
``tests/test_rules_agreement.py`` holds the two to refusing exactly the same bodies; the README's
"What a valid request is" lists the decisions where the contract is silent. Standard library only,
and ``packaging`` for pip specs (imported when the first pip spec is checked, not at import).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ._text import quoted, safe_repr
from .errors import Problem

__all__ = [
    "ALLOWLIST_TYPES",
    "CONFIG_TYPES",
    "INSTALLED_PACKAGE_MANAGERS",
    "MAX_HOST_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NPM_NAME_LENGTH",
    "MAX_SETUP_SCRIPT_BYTES",
    "NETWORKING_TYPES",
    "NOT_INSTALLED_PACKAGE_MANAGERS",
    "PACKAGE_MANAGERS",
    "SCOPES",
    "SHELL_CHARACTERS",
    "config_problems",
    "description_problems",
    "entry_key",
    "json_kind",
    "metadata_problems",
    "name_problems",
    "package_problem",
    "problems",
    "scope_problems",
    "typed_text",
    "warnings",
]

#: The accepted ``config.networking.type`` values; "allowed_hosts" is another doc's spelling of
#: "allowlist" and is sent as written.
NETWORKING_TYPES = ("unrestricted", "limited", "allowlist", "allowed_hosts")
ALLOWLIST_TYPES = ("allowlist", "allowed_hosts")
#: The package lists the service installs when a session's sandbox is prepared.
INSTALLED_PACKAGE_MANAGERS = ("apt", "pip", "npm")
#: Package lists newer SDKs know and the service accepts but does not install (contract §3): sent
#: as given, with a warning.
NOT_INSTALLED_PACKAGE_MANAGERS = ("cargo", "gem", "go")
PACKAGE_MANAGERS = INSTALLED_PACKAGE_MANAGERS + NOT_INSTALLED_PACKAGE_MANAGERS
#: ``config.type``: a cloud sandbox, or the customer's own runner (contract §7).
CONFIG_TYPES = ("cloud", "self_hosted")
#: The optional ``scope`` of an environment (contract §7).
SCOPES = ("organization", "account")

MAX_NAME_LENGTH = 255
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512
MAX_SETUP_SCRIPT_BYTES = 64 * 1024
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
MAX_NPM_NAME_LENGTH = 214  # npm's limit, its scope included

#: What a shell makes of each character that is never part of a package entry. Package entries
#: are handed to installers, so a command hidden in one (``curl; rm -rf /``) must not get through;
#: a command belongs in the setup script. ``< > ( ) !`` are allowed only where a manager's grammar
#: uses them: pip's version specifiers (``pandas>=2``, ``pandas (!=2.1)``) and npm's range
#: operators (``typescript@>=5``).
SHELL_CHARACTERS = {
    ";": "ends a command",
    "&": "runs a command in the background",
    "|": "pipes into a command",
    "$": "expands a variable or runs a command",
    "`": "runs a command",
    "\\": "escapes the next character",
    "'": "starts a quoted string",
    '"': "starts a quoted string",
    "{": "expands a list",
    "}": "expands a list",
    "<": "redirects input",
    ">": "redirects output",
    "(": "starts a subshell",
    ")": "ends a subshell",
    "!": "expands history",
}
_OPERATOR_CHARACTERS = "<>()!"
_ALWAYS_SHELL = "".join(char for char in SHELL_CHARACTERS if char not in _OPERATOR_CHARACTERS)

_NETWORKING = "config.networking"
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def problems(values: Mapping[str, Any]) -> list[Problem]:
    """Every rule a whole create request breaks, in body order. ``values`` holds every trait; a
    trait added later may be absent and counts as its default."""
    return [
        *name_problems(values["name"]),
        *description_problems(values.get("description", "")),
        *scope_problems(values.get("scope")),
        *config_problems(values),
        *metadata_problems(values["metadata"]),
    ]


def warnings(values: Mapping[str, Any]) -> list[Problem]:
    """What a request sends as given but is worth telling the user: packages the service keeps
    but does not install, and allow flags that change nothing with ``unrestricted`` networking."""
    if values.get("config_type", "cloud") == "self_hosted":
        return []  # there these are problems, not warnings
    found = [
        Problem(
            f"config.packages.{manager}",
            f"The {manager} packages are accepted and kept, but the service does not install "
            f"{manager} packages: install them from the setup script.",
        )
        for manager in NOT_INSTALLED_PACKAGE_MANAGERS
        if values.get(manager)
    ]
    if values.get("networking") == "unrestricted":
        found += (
            Problem(
                f"{_NETWORKING}.{flag}",
                f"{flag} changes nothing with 'unrestricted' networking, which reaches {what} "
                "anyway: leave it off, or choose 'limited' to restrict everything else.",
            )
            for flag, what in _ALLOW_FLAGS.items()
            if values.get(flag)
        )
    return found


_ALLOW_FLAGS = {"allow_package_managers": "package registries", "allow_mcp_servers": "MCP servers"}


def config_problems(values: Mapping[str, Any]) -> Iterator[Problem]:
    """The rules of ``config``: its type, networking and its hosts, the package lists, the setup
    script. With ``self_hosted``, networking and packages do not apply."""
    config_type = values.get("config_type", "cloud")
    yield from _config_type_problems(config_type)
    if config_type == "self_hosted":
        yield from _self_hosted_problems(values)
    else:
        yield from _networking_problems(values["networking"], values["allowed_hosts"])
        yield from _host_problems(values["allowed_hosts"])
        for manager in PACKAGE_MANAGERS:
            yield from _package_problems(manager, values.get(manager, ()))
    yield from _setup_script_problems(values["setup_script"])


# --- text that cannot be sent --------------------------------------------------------------------


def _utf8_error(text: str) -> str | None:
    """Why ``text`` cannot be sent as UTF-8 (a lone surrogate), or None. JSON and HTTP carry UTF-8,
    so without this the request would fail later with a UnicodeEncodeError."""
    if text.isascii():  # nearly always, and far cheaper than encoding
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        char = text[error.start]
        return (
            f"holds {char!r} (character {error.start + 1}), a lone surrogate: not a character, and "
            "it cannot be sent as UTF-8 (it comes from bytes read with errors='surrogateescape', "
            "such as a file name): decode the bytes with their real encoding, or remove it"
        )
    return None


def _text_problems(path: str, what: str, text: str) -> Iterator[Problem]:
    error = _utf8_error(text)
    if error is not None:
        yield Problem(path, f"{what} {error}.")


# --- name, description, scope, config type -------------------------------------------------------


def name_problems(name: str) -> Iterator[Problem]:
    yield from _text_problems("name", "The name", name)
    if not name.strip():
        yield Problem("name", "The name is empty: give the environment a name.")
    elif len(name) > MAX_NAME_LENGTH:
        yield Problem(
            "name",
            f"The name is {len(name)} characters long: shorten it to at most {MAX_NAME_LENGTH}.",
        )


def description_problems(description: str) -> Iterator[Problem]:
    """Any text is a description, as long as it can be sent."""
    yield from _text_problems("description", "The description", description)


def scope_problems(scope: str | None) -> Iterator[Problem]:
    """``scope`` is optional (None: not sent, the service's default); else one of :data:`SCOPES`."""
    if scope is not None and scope not in SCOPES:
        otherwise = "choose 'organization' or 'account', or leave it out for the service's default"
        yield _choice_problem("scope", scope, SCOPES, "a scope", otherwise)


def _config_type_problems(config_type: str) -> Iterator[Problem]:
    if config_type not in CONFIG_TYPES:
        otherwise = "choose 'cloud' (a Qoder sandbox) or 'self_hosted' (your own runner)"
        yield _choice_problem("config.type", config_type, CONFIG_TYPES, "a config type", otherwise)


def _choice_problem(
    path: str, value: str, choices: Sequence[str], what: str, otherwise: str
) -> Problem:
    """``value`` is not one of ``choices``: the fix is the choice it was meant to be, when only
    case, spaces or a hyphen stand between them, else ``otherwise``."""
    fixed = value.strip().lower()
    fixed = next(
        (form for form in (fixed, fixed.replace("-", "_").replace(" ", "_")) if form in choices),
        fixed,
    )
    fix = f"write {fixed!r}" if fixed in choices else otherwise
    return Problem(path, f"{quoted(value)} is not {what}: {fix}.")


def _self_hosted_problems(values: Mapping[str, Any]) -> Iterator[Problem]:
    """A self-hosted environment runs on the customer's own runner: only the setup script applies.
    Values at their defaults (networking 'limited', no hosts, flags off, empty lists) say nothing
    and pass, as a server that fills in defaults shows them."""
    given: list[tuple[str, str]] = []  # (field, what is given, with its verb and pronoun)
    if values["networking"] not in (None, "limited"):
        given.append((f"{_NETWORKING}.type", "Networking does|it"))
    if values["allowed_hosts"]:
        given.append((f"{_NETWORKING}.allowed_hosts", "Allowed hosts do|them"))
    given += (
        (f"{_NETWORKING}.{flag}", f"{flag} does|it") for flag in _ALLOW_FLAGS if values.get(flag)
    )
    given += (
        (f"config.packages.{manager}", f"The {manager} packages do|them")
        for manager in PACKAGE_MANAGERS
        if values.get(manager)
    )
    for path, what in given:
        subject, _, pronoun = what.partition("|")
        yield Problem(
            path,
            f"{subject} not apply to a self-hosted environment (it runs on your own runner): "
            f"leave {pronoun} out, or choose config type 'cloud'.",
        )


# --- networking ----------------------------------------------------------------------------------


def _networking_problems(networking: str | None, hosts: Sequence[str]) -> Iterator[Problem]:
    if networking is not None and networking not in NETWORKING_TYPES:
        otherwise = (
            "choose 'unrestricted', 'limited' or 'allowlist' (also spelled 'allowed_hosts'), or "
            "leave it out for 'limited'"
        )
        path = f"{_NETWORKING}.type"
        yield _choice_problem(path, networking, NETWORKING_TYPES, "a networking type", otherwise)
    elif networking in ALLOWLIST_TYPES and not hosts:
        yield Problem(
            f"{_NETWORKING}.allowed_hosts",
            f"{networking!r} networking needs allowed hosts: add at least one host, or choose "
            "'limited'.",
        )
    elif networking == "unrestricted" and hosts:
        yield Problem(
            f"{_NETWORKING}.allowed_hosts",
            "Allowed hosts mean nothing with 'unrestricted' networking and the service rejects "
            "them: remove them or choose 'allowlist'.",
        )


def _host_problems(hosts: Sequence[str]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, host in enumerate(hosts):
        path = f"{_NETWORKING}.allowed_hosts[{index}]"
        if not host.strip():
            yield Problem(path, "The host is empty: remove it or write a host such as 'pypi.org'.")
            continue
        error = _utf8_error(host)
        if error is not None:
            yield Problem(path, f"The host {error}.")
            continue
        error = _host_error(host)
        if error is not None:
            fix = _suggest_host(host)
            hint = (
                f"write the bare host name {fix!r}"
                if fix
                else "write a bare host name such as 'pypi.org' or '*.example.com'"
            )
            yield Problem(path, f"{quoted(host)} {error}: {hint}.")
        elif host.lower() in seen:
            first = seen[host.lower()]
            yield Problem(path, f"{host!r} is already listed at [{first}]: remove this one.")
        else:
            seen[host.lower()] = index


def _host_error(host: str) -> str | None:
    """Why ``host`` is not a bare host name (``pypi.org``, ``*.example.com``); None if it is one.

    RFC 1123 names: ASCII letters, digits and inner hyphens; labels of 1-63 characters; at most 253
    in all; an optional leading ``*.`` wildcard. IPv4 addresses pass; IPv6 literals do not.
    """
    if "://" in host:
        return "is a URL"
    if any(char.isspace() for char in host):
        return "contains whitespace"
    if "@" in host:
        return "contains a user name"
    if any(char in host for char in "/?#"):
        return "has a path"
    if re.fullmatch(r"[^:]*:[0-9]*", host):
        return "has a port (the allowlist is by host, not port)"
    if ":" in host:
        return "contains ':' (IPv6 addresses are not host names)"
    if len(host) > MAX_HOST_LENGTH:
        return f"is {len(host)} characters long (a host name has at most {MAX_HOST_LENGTH})"
    if not host.isascii():
        return "is not ASCII (a host is written in its IDNA 'xn--' form)"
    return _labels_error(host.removeprefix("*."))


def _labels_error(name: str) -> str | None:
    """Why the dot-separated labels of a host name (its wildcard removed) are not valid."""
    if "*" in name:
        return "has a misplaced '*' (only a leading '*.' wildcard is allowed)"
    if name.endswith("."):
        return "ends with a dot"
    for label in name.split("."):
        if not label:
            return "has an empty label (two dots in a row, or a leading dot)"
        if len(label) > MAX_LABEL_LENGTH:
            return f"has a label of {len(label)} characters (at most {MAX_LABEL_LENGTH})"
        if not _LABEL.fullmatch(label):
            return f"has the label {quoted(label)}: use letters, digits and inner hyphens only"
    return None


def _suggest_host(host: str) -> str | None:
    """The bare host name the user most likely meant, when one can be derived."""
    text = "".join(host.split())
    text = text.split("://", 1)[-1]
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rpartition("@")[2]
    text = re.sub(r":[0-9]*\Z", "", text).rstrip(".")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return text if text != host and _host_error(text) is None else None


# --- packages ------------------------------------------------------------------------------------


def _package_problems(manager: str, specs: Sequence[str]) -> Iterator[Problem]:
    for index, spec in enumerate(specs):
        message = package_problem(manager, spec)
        if message is not None:
            yield Problem(f"config.packages.{manager}[{index}]", message)


@functools.lru_cache(maxsize=4096)  # a notebook sends the same few specs again and again
def package_problem(manager: str, spec: str) -> str | None:
    """Why ``spec`` is not an entry of the ``manager`` package list, with the fix; None if it is.

    Every entry names one package: not empty, no surrounding space, no line break or control
    character, no leading ``-`` (an installer would read an option), no shell character (see
    :data:`SHELL_CHARACTERS`), and then the manager's own grammar (see ``_GRAMMARS``).
    """
    if manager == "pip" and ";" in spec:
        return _marked_pip_error(spec)
    return _entry_error(manager, spec) or _GRAMMARS[manager](spec)


def _entry_error(manager: str, spec: str, refused: str | None = None) -> str | None:
    """The rules every manager's entries share; ``refused``: the shell characters refused (by
    default all but the version operators)."""
    if not spec.strip():
        return f"An empty {manager} package: remove it or name a package."
    error = _utf8_error(spec)
    if error is not None:
        return f"The {manager} package {error}."
    if not (spec.isascii() and spec.isprintable()):  # the usual case skips both scans
        if spec.splitlines() != [spec]:  # any line break, even a trailing one
            return f"{quoted(spec)} contains a line break: put each package in its own entry."
        if any(unicodedata.category(char) == "Cc" for char in spec):
            return f"{quoted(spec)} contains a control character: remove it."
    if spec != spec.strip():
        return f"{quoted(spec)} has surrounding spaces: write {spec.strip()!r}."
    if spec.startswith("-"):
        # Passed on the installer's command line, it would be read as an option.
        bare = spec.lstrip("-")
        fix = (
            f"write {bare!r}"
            if bare and not any(char.isspace() for char in bare)
            else "name the packages themselves; run an installer with options from the setup script"
        )
        return f"{quoted(spec)} starts with '-', so {manager} would read it as an option: {fix}."
    refused = _ALWAYS_SHELL if refused is None else refused
    char = next((char for char in spec if char in refused), None)
    return None if char is None else _shell_error(manager, spec, char)


def _shell_error(manager: str, spec: str, char: str) -> str:
    return (
        f"{quoted(spec)} contains {char!r}, which {SHELL_CHARACTERS[char]} in a shell: an entry "
        "names one package; run commands from the setup script."
    )


# A pip entry may end in a PEP 508 environment marker (``pywin32; sys_platform == "win32"``), as
# requirements files have them: pip installs the entry only where the marker holds. The marker is
# the one place quotes may appear; its values hold only the characters marker values are made of,
# so no shell reads a command in one.
_MARKER_NEVER = "".join(char for char in _ALWAYS_SHELL if char not in "'\"")
_MARKER_VALUE = re.compile(r"[A-Za-z0-9 ._+*-]*")
_MARKER_EXAMPLE = 'python_version < "3.13"'


def _marked_pip_error(spec: str) -> str | None:
    """Why a pip entry with an environment marker is not one, or None: the requirement before the
    ';' obeys every pip rule, and the marker after it is valid and shell-safe."""
    requirement, _, marker = spec.partition(";")
    if not requirement.strip():
        return f"{quoted(spec)} has no requirement before ';': write one, such as 'pandas'."
    return (
        _entry_error("pip", spec, refused=_MARKER_NEVER.replace(";", ""))
        or _entry_error("pip", requirement.rstrip())
        or _pip_error(requirement.rstrip())
        or _marker_error(spec, marker.strip())
    )


def _marker_error(spec: str, marker: str) -> str | None:
    from packaging.markers import InvalidMarker, Marker

    if not marker:
        return (
            f"{quoted(spec)} has nothing after ';': write an environment marker such as "
            f"{_MARKER_EXAMPLE}, or remove the ';'."
        )
    bad = next((char for char in marker if char in _MARKER_NEVER), None)
    if bad is not None:
        return _shell_error("pip", spec, bad)
    try:
        Marker(marker)
    except InvalidMarker:
        return (
            f"{quoted(spec)} contains ';', which {SHELL_CHARACTERS[';']} in a shell: an entry "
            "names one package, and in pip's a ';' may only begin an environment marker "
            f"(PEP 508), such as {_MARKER_EXAMPLE}; run commands from the setup script."
        )
    for value in re.findall(r"'([^']*)'|\"([^\"]*)\"", marker):
        text = "".join(value)
        if not _MARKER_VALUE.fullmatch(text):
            return (
                f"{quoted(spec)}: the marker value {quoted(text)} holds characters no marker "
                "value has (only letters, digits, spaces and . _ + * -): fix it."
            )
    return None


def _space_error(manager: str, spec: str) -> str | None:
    """Only pip's grammar has spaces (``pandas >= 2``); elsewhere a space separates packages."""
    if not any(char.isspace() for char in spec):
        return None
    hint = " (a range is written without spaces, such as 'pkg@>=1.2')" if manager == "npm" else ""
    return f"{quoted(spec)} contains a space: put each package in its own entry{hint}."


# pip: a PEP 508 requirement, as `packaging` (the parser pip itself uses) reads it.

_PIP_OPERATORS = ("===", "==", "!=", "<=", ">=", "~=", "<", ">")
_OPERATOR_RUN = re.compile(r"[<>=!~]+")
_NAME_AND_VERSION = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s+v?([0-9][0-9A-Za-z.*+!-]*)")
_PIP_EXAMPLES = "such as 'pandas', 'pandas>=2' or 'pandas[excel]>=2,<3'"


@functools.lru_cache(maxsize=1024)
def _parse_pip(spec: str) -> tuple[Any, str]:
    """The ``packaging`` Requirement of ``spec`` and "", or None and why not."""
    from packaging.requirements import InvalidRequirement, Requirement  # ~5 ms: only when needed

    try:
        return Requirement(spec), ""
    except InvalidRequirement as error:
        lines = str(error).strip().splitlines()
        return None, (lines[0].strip().rstrip(".") if lines else "not a requirement")


def _pip_requirement(spec: str) -> Any:
    return _parse_pip(spec)[0]


def _pip_error(spec: str) -> str | None:
    requirement, reason = _parse_pip(spec)
    if requirement is None:
        fixed = _pip_fix(spec)
        fix = fixed or f"write a package name with optional version bounds, {_PIP_EXAMPLES}"
        # packaging's reason helps ("Expected extra name after comma") unless it is only that
        # a marker could follow ("Expected semicolon ... or end").
        why = " (PEP 508)" if fixed or "semicolon" in reason else f" (PEP 508: {reason})"
        return f"{quoted(spec)} is not a valid pip requirement{why}: {fix}."
    # A direct reference (`name @ url`) is PEP 508 too; its URL is free text to the parser.
    char = next((char for char in requirement.url or "" if char in _OPERATOR_CHARACTERS), None)
    return None if char is None else _shell_error("pip", spec, char)


def _pip_fix(spec: str) -> str | None:
    """The likely intended requirement(s), as a fix to suggest, or None."""
    candidates = [_OPERATOR_RUN.sub(_repaired_operator, spec)]
    if match := _NAME_AND_VERSION.fullmatch(spec):
        candidates.insert(0, f"{match[1]}=={match[2]}")
    fixed = next((text for text in candidates if text != spec and _is_pip_entry(text)), None)
    if fixed is not None:
        return f"write {fixed!r}"
    words = spec.split()
    if len(words) > 1 and all(map(_is_pip_entry, words)):
        return f"put each package in its own entry: {', '.join(map(repr, words))}"
    return None


def _repaired_operator(match: re.Match[str]) -> str:
    """A run of operator characters as the operator meant: ``>=>`` -> ``>=``, ``=>`` -> ``>=``,
    ``=`` -> ``==``."""
    run = match[0]
    if run in _PIP_OPERATORS:
        return run
    if run[::-1] in _PIP_OPERATORS:
        return run[::-1]
    if run == "=":
        return "=="
    return next((op for op in _PIP_OPERATORS if run.startswith(op)), run)


def _is_pip_entry(text: str) -> bool:
    """Whether ``text`` passes every pip rule (without building a fix, unlike package_problem)."""
    return (
        _entry_error("pip", text) is None
        and _pip_requirement(text) is not None
        and not any(char in _OPERATOR_CHARACTERS for char in _pip_requirement(text).url or "")
    )


# apt: Debian policy names (lowercase letters, digits, '+', '-', '.'; at least 2 characters,
# starting with a letter or digit), then an optional ':arch' and an optional '=version' (starting
# with a digit, an optional 'epoch:' before it) or '/release' (apt-get's target release).

_APT_NAME = r"[a-z0-9][a-z0-9+.-]+"
_APT = re.compile(
    rf"{_APT_NAME}(?::[a-z0-9][a-z0-9-]*)?"
    r"(?:=(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*|/[a-z0-9][a-z0-9.+-]*)?"
)
_APT_FORMS = (
    "write it as 'name', 'name=version' (the version starts with a digit, such as "
    "'curl=7.81.0-1ubuntu1'), 'name:arch' (such as 'libc6:i386') or 'name/release'"
)


def _apt_error(spec: str) -> str | None:
    if _APT.fullmatch(spec):
        return None
    space = _space_error("apt", spec)
    if space is not None:
        return space
    name, rest = re.match(r"([^:=/]*)(.*)", spec, re.DOTALL).groups()  # type: ignore[union-attr]
    lowered = name.lower() + rest
    if name != name.lower() and _APT.fullmatch(lowered):
        return f"{quoted(spec)}: Debian package names are lowercase: write {lowered!r}."
    bad = next((char for char in name if not re.fullmatch(r"[a-z0-9+.-]", char)), None)
    if bad is not None:
        return _apt_name_error(spec, bad)
    if len(name) < 2:
        return f"{quoted(spec)}: a Debian package name has at least 2 characters: {_APT_FORMS}."
    if not name[0].isalnum():
        return f"{quoted(spec)}: a Debian package name starts with a letter or a digit."
    return f"{quoted(spec)} is not an apt package: {_APT_FORMS}."


def _apt_name_error(spec: str, bad: str) -> str:
    if bad in SHELL_CHARACTERS:
        return _shell_error("apt", spec, bad)
    return (
        f"{quoted(spec)} has {bad!r} in its name: a Debian package name has only lowercase "
        "letters, digits, '+', '-' and '.' (such as 'libssl-dev')."
    )


# npm: `name` or `name@version`, the name optionally `@scope/name`. Names follow npm's rules for
# packages: at most 214 characters, URL-safe (letters, digits, '-', '.', '_'), starting with a
# letter or digit (npm refuses '.' and '_' there). Capital letters pass: npm no longer allows them
# in new names, but older packages such as JSONStream have them. After '@': one version, range or
# dist-tag without spaces (`5.0.0`, `^5`, `>=5.1`, `5.x`, `latest`); a range with spaces or '||',
# and git, URL or file sources, are refused.

_NPM_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NPM_RANGE = r"(?:[~^]|[<>]=?|=)?[A-Za-z0-9*][A-Za-z0-9.*+_-]*"
_NPM = re.compile(rf"(?P<name>(?:@{_NPM_NAME}/)?{_NPM_NAME})(?:@{_NPM_RANGE})?")


def _npm_error(spec: str) -> str | None:
    match = _NPM.fullmatch(spec)
    if match and len(match["name"]) <= MAX_NPM_NAME_LENGTH:
        return None
    space = _space_error("npm", spec)
    if space is not None:
        return space
    scoped = spec.startswith("@")
    name, at, version = spec[1:].partition("@") if scoped else spec.partition("@")
    name = "@" + name if scoped else name
    return _npm_name_error(spec, name) or _npm_version_error(spec, name, at, version)


def _npm_name_error(spec: str, name: str) -> str | None:
    scope, slash, bare = name[1:].partition("/") if name.startswith("@") else ("", "/", name)
    if not (slash and bare and (scope or not name.startswith("@"))):
        return f"{quoted(spec)}: a scoped npm package is written '@scope/name'."
    for part in (scope, bare) if name.startswith("@") else (bare,):
        bad = next((char for char in part if not re.fullmatch(r"[A-Za-z0-9._-]", char)), None)
        if bad is not None and bad in SHELL_CHARACTERS:
            return _shell_error("npm", spec, bad)
        if bad is not None:
            return (
                f"{quoted(spec)} has {bad!r} in its name: npm names have only letters, digits, "
                "'-', '.' and '_'."
            )
        if not part[0].isalnum():
            return f"{quoted(spec)}: an npm name starts with a letter or a digit."
    if len(name) > MAX_NPM_NAME_LENGTH:
        return (
            f"{quoted(spec)}: the name is {len(name)} characters long; npm names have at most "
            f"{MAX_NPM_NAME_LENGTH}."
        )
    return None


def _npm_version_error(spec: str, name: str, at: str, version: str) -> str | None:
    if at and not version:
        return f"{quoted(spec)} has nothing after '@': add a version, such as '{name}@^1.2'."
    bad = next((char for char in version if char in "()!"), None)
    if bad is not None:
        return _shell_error("npm", spec, bad)
    return (
        f"{quoted(spec)}: after '@' comes one version, range or tag, such as '{name}@5.0.0', "
        f"'{name}@^5', '{name}@>=5.1' or '{name}@latest'; install from git, a URL or a file "
        "from the setup script."
    )


# cargo, gem, go: not installed by the service, so only "one token": printable ASCII, no space,
# no shell character (`ripgrep@14.1.0`, `rails:7.1.3`, `golang.org/x/tools/gopls@latest`).

_TOKEN_EXAMPLES = {
    "cargo": "'ripgrep' or 'ripgrep@14.1.0'",
    "gem": "'rails' or 'rails:7.1.3'",
    "go": "'golang.org/x/tools/gopls@latest'",
}


def _token_error(manager: str, spec: str) -> str | None:
    if (
        spec.isascii()
        and spec.isprintable()
        and not any(char in SHELL_CHARACTERS or char == " " for char in spec)
    ):
        return None
    space = _space_error(manager, spec)
    if space is not None:
        return space
    shell = next((char for char in spec if char in SHELL_CHARACTERS), None)
    if shell is not None:
        return _shell_error(manager, spec, shell)
    bad = next(char for char in spec if not (char.isascii() and char.isprintable()))
    return (
        f"{quoted(spec)} has {bad!r}: write {manager} entries in plain ASCII, such as "
        f"{_TOKEN_EXAMPLES[manager]}."
    )


_GRAMMARS: dict[str, Callable[[str], str | None]] = {
    "apt": _apt_error,
    "pip": _pip_error,
    "npm": _npm_error,
    **{
        manager: functools.partial(_token_error, manager)
        for manager in NOT_INSTALLED_PACKAGE_MANAGERS
    },
}


# --- what an entry is of: the package it names, the host it allows ------------------------------

_NAME_END = {"apt": re.compile(r"[:=/]"), "npm": re.compile(r"(?<!^)@")}


def entry_key(list_name: str, entry: str) -> str:
    """What an entry of a package list (``apt``, ``pip``...) or of ``allowed_hosts`` is *of*: the
    package it names, or the host, compared as its tool compares them. ``pandas>=2`` and
    ``Pandas[excel]<3`` are both of ``pandas`` (PEP 503 normalised), ``typescript@5`` of
    ``typescript``, ``curl=7.81.0`` of ``curl``, ``PyPI.org`` of ``pypi.org``. So two lists can be
    told apart entry by entry (a version changed, a package added); an entry that is not valid is
    its own key."""
    if list_name == "pip":
        requirement = _pip_requirement(entry)
        if requirement is not None:
            return re.sub(r"[-_.]+", "-", requirement.name).lower()
    elif list_name in _NAME_END:
        return _NAME_END[list_name].split(entry, maxsplit=1)[0].lower()
    elif list_name in ("cargo", "gem", "go"):
        return re.split(r"[@:]", entry, maxsplit=1)[0].lower()
    return entry.strip().lower()


# --- the setup script ----------------------------------------------------------------------------


def _setup_script_problems(script: str) -> Iterator[Problem]:
    yield from _text_problems("config.setup_script", "The setup script", script)
    size = len(script.encode("utf-8", "surrogatepass"))
    if size > MAX_SETUP_SCRIPT_BYTES:
        yield Problem(
            "config.setup_script",
            f"The setup script is {size:,} bytes: keep it within 64 KB ({MAX_SETUP_SCRIPT_BYTES:,} "
            "bytes), e.g. by having it download a longer script.",
        )


# --- metadata ------------------------------------------------------------------------------------


def metadata_problems(metadata: Mapping[Any, Any]) -> Iterator[Problem]:
    if len(metadata) > MAX_METADATA_KEYS:
        extra = len(metadata) - MAX_METADATA_KEYS
        yield Problem(
            "metadata",
            f"There are {len(metadata)} metadata keys: remove {extra}; at most "
            f"{MAX_METADATA_KEYS} are allowed.",
        )
    for key, value in metadata.items():
        path = f"metadata[{safe_repr(key)}]"
        for message in (_metadata_key_error(key), _metadata_value_error(value)):
            if message is not None:
                yield Problem(path, message)


def _metadata_key_error(key: object) -> str | None:
    if not isinstance(key, str):
        return f"The key {safe_repr(key)} is not a string: write it as {typed_text(key)!r}."
    if not key:
        return "A metadata key is empty: give it a name, or remove the entry."
    if len(key) > MAX_METADATA_KEY_LENGTH:
        return (
            f"The key is {len(key)} characters long: shorten it to at most "
            f"{MAX_METADATA_KEY_LENGTH}."
        )
    # A key may hold any other character, "=" included (the service takes any string).
    error = _utf8_error(key)
    return None if error is None else f"The key {error}."


def _metadata_value_error(value: object) -> str | None:
    if not isinstance(value, str):
        as_text = _scalar_text(value)
        fix = f"write {as_text!r}" if as_text else "write it as a string"
        return f"The value is {json_kind(value)}; metadata values must be strings: {fix}."
    if len(value) > MAX_METADATA_VALUE_LENGTH:
        return (
            f"The value is {len(value)} characters long: shorten it to at most "
            f"{MAX_METADATA_VALUE_LENGTH}."
        )
    error = _utf8_error(value)
    return None if error is None else f"The value {error}."


# --- describing values in messages ---------------------------------------------------------------


def typed_text(value: object) -> str:
    """A value as the user would type it, for a key or value that should have been a string."""
    if isinstance(value, str):
        return value
    return _scalar_text(value) or safe_repr(value)


def _scalar_text(value: object) -> str | None:
    """How a boolean or number is written in JSON, or None."""
    if not isinstance(value, (bool, int, float)):
        return None
    try:
        return json.dumps(value)
    except ValueError:  # an int with more digits than Python will print
        return None


def json_kind(value: object) -> str:
    """A value's JSON kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {_scalar_text(value)}"
    if isinstance(value, (int, float)):
        return f"the number {(_scalar_text(value) or 'too long to print')[:40]}"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a Python {type(value).__name__}"
