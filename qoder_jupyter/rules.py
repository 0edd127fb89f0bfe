"""The rules of a request body (contract §3), each written once, over plain values.

A rule takes the values of the fields it checks (trait names: ``name``, ``networking``,
``allowed_hosts``, ``apt``...) and yields a :class:`~qoder_jupyter.errors.Problem` for each thing
wrong, with the field path and the fix. :class:`~qoder_jupyter.spec.EnvironmentSpec` reports them
for its traits, a dict body is checked by them without building a spec, and an update checks only
the parts it sends. Standard library only.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._text import quoted, safe_repr
from .errors import Problem

__all__ = [
    "ALLOWLIST_TYPES",
    "MAX_HOST_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SETUP_SCRIPT_BYTES",
    "NETWORKING_TYPES",
    "PACKAGE_MANAGERS",
    "UNSUPPORTED_PACKAGE_MANAGERS",
    "config_problems",
    "json_kind",
    "metadata_problems",
    "name_problems",
    "problems",
    "typed_text",
]

#: The accepted ``config.networking.type`` values; "allowed_hosts" is another doc's spelling of
#: "allowlist" and is sent as written.
NETWORKING_TYPES = ("unrestricted", "limited", "allowlist", "allowed_hosts")
ALLOWLIST_TYPES = ("allowlist", "allowed_hosts")
PACKAGE_MANAGERS = ("apt", "pip", "npm")
#: Package kinds newer SDKs know but the service does not install; this client refuses them.
UNSUPPORTED_PACKAGE_MANAGERS = ("cargo", "gem", "go")

MAX_NAME_LENGTH = 255
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512
MAX_SETUP_SCRIPT_BYTES = 64 * 1024
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

_NETWORKING = "config.networking"
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def problems(values: Mapping[str, Any]) -> list[Problem]:
    """Every rule a whole create request breaks, in body order; ``values`` has every field."""
    return [
        *name_problems(values["name"]),
        *config_problems(values),
        *metadata_problems(values["metadata"]),
    ]


def config_problems(values: Mapping[str, Any]) -> Iterator[Problem]:
    """The rules of ``config``: networking and its hosts, the package lists, the setup script."""
    yield from _networking_problems(values["networking"], values["allowed_hosts"])
    yield from _host_problems(values["allowed_hosts"])
    for manager in PACKAGE_MANAGERS:
        yield from _package_problems(manager, values[manager])
    yield from _setup_script_problems(values["setup_script"])


# --- name ----------------------------------------------------------------------------------------


def name_problems(name: str) -> Iterator[Problem]:
    if not name.strip():
        yield Problem("name", "The name is empty: give the environment a name.")
    elif len(name) > MAX_NAME_LENGTH:
        yield Problem(
            "name",
            f"The name is {len(name)} characters long: shorten it to at most {MAX_NAME_LENGTH}.",
        )


# --- networking ----------------------------------------------------------------------------------


def _networking_problems(networking: str | None, hosts: Sequence[str]) -> Iterator[Problem]:
    if networking is not None and networking not in NETWORKING_TYPES:
        fixed = networking.strip().lower()
        fix = (
            f"write {fixed!r}"
            if fixed in NETWORKING_TYPES
            else "choose 'unrestricted', 'limited' or 'allowlist' (also spelled 'allowed_hosts'), "
            "or leave it out for 'limited'"
        )
        yield Problem(
            f"{_NETWORKING}.type", f"{quoted(networking)} is not a networking type: {fix}."
        )
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


# --- packages and the setup script ---------------------------------------------------------------


def _package_problems(manager: str, specs: Sequence[str]) -> Iterator[Problem]:
    for index, spec in enumerate(specs):
        message = _package_error(manager, spec)
        if message is not None:
            yield Problem(f"config.packages.{manager}[{index}]", message)


def _package_error(manager: str, spec: str) -> str | None:
    if not spec.strip():
        return f"An empty {manager} package: remove it or name a package."
    if spec.splitlines() != [spec]:  # any line break, even a trailing one
        return f"{quoted(spec)} contains a line break: put each package in its own entry."
    if any(unicodedata.category(char) == "Cc" for char in spec):
        return f"{quoted(spec)} contains a control character: remove it."
    if spec != spec.strip():
        return f"{quoted(spec)} has surrounding spaces: write {spec.strip()!r}."
    if spec.startswith("-"):
        # Passed on the installer's command line, it would be read as an option.
        bare = spec.lstrip("-")
        fix = f"write {bare!r}" if bare else "write a package name"
        return f"{quoted(spec)} starts with '-', so {manager} would read it as an option: {fix}."
    return None


def _setup_script_problems(script: str) -> Iterator[Problem]:
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
    if "=" in key:
        # Not a service rule: `--meta KEY=VALUE` could not express it, and the magic line must.
        return f"The key {quoted(key)} contains '=': use another character, such as '-' or '_'."
    return None


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
    return None


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
