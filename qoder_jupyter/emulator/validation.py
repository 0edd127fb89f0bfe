"""Request rules (contract §3, and the list query of §2): bodies and queries in, typed values out.

Each check raises a 400 :class:`~.responses.ApiError` for the first problem found, naming the field
(``param``) and saying how to fix it. The limits are module constants so the OpenAPI document
describes exactly what is enforced here.

Choices where the contract is silent (the client's rules, ``qoder_jupyter/rules.py``, make the
same ones: ``tests/test_rules_agreement.py`` checks that both refuse exactly the same bodies):

- A body must be sent as ``Content-Type: application/json``; JSON that is not an object, ``NaN`` or
  ``Infinity`` is a 400, and so is a ``\\u`` escape of a lone UTF-16 surrogate, in any string.
- ``null`` is not "omitted": ``"description": null`` is a 400 (the one exception is a metadata value
  in an update, where ``null`` deletes the key).
- ``scope`` (create and update) is ``"organization"`` or ``"account"``; leaving it out is fine.
- ``config.type`` is ``"cloud"`` or ``"self_hosted"``. A self-hosted config runs on the customer's
  own runner: its ``setup_script`` is optional, and networking and packages do not apply: a
  networking type other than ``limited``, any allowed host, a ``true`` allow flag or any package is
  a 400. Empty objects and values at their defaults (what a server that fills in defaults returns)
  are accepted.
- ``config.networking`` without ``type`` means ``limited`` (the service's default).
- ``allowed_hosts: []`` is fine with ``unrestricted`` (newer servers fill that default in); any host
  there is a 400. ``allow_package_managers`` and ``allow_mcp_servers`` are booleans accepted with
  every networking type (with ``unrestricted`` they change nothing).
- Host names: labels of letters, digits and hyphens (no leading or trailing hyphen, at most 63
  characters each, 253 in all), optionally after a ``*.`` wildcard. Dotted IPv4 addresses pass.
  Host names are case-insensitive (DNS), so a host listed twice, in any case, is a 400.
- The 64 KB limit of ``setup_script`` is 65,536 bytes of UTF-8.
- Package specs, in all six lists: not empty, no surrounding whitespace, no control character or
  line break, no leading ``-`` (an installer would read an option), none of
  ``; & | $ ` \\ ' " { }``, and ``< > ( ) !`` only where the grammar below has them. Then, per list:

  - ``pip``: a PEP 508 requirement as ``packaging`` (the parser pip itself uses) reads it; a direct
    reference's URL without ``< > ( ) !``. It may end in ``; marker``, a PEP 508 environment marker
    (the one place quotes may appear) whose quoted values hold only letters, digits, spaces and
    ``. _ + * -``.
  - ``apt``: a Debian name (lowercase letters, digits, ``+ - .``; at least 2 characters, starting
    with a letter or digit), an optional ``:arch``, then an optional ``=version`` (starting with a
    digit) or ``/release``.
  - ``npm``: ``name`` or ``name@version``. The name, optionally ``@scope/name``, has letters,
    digits and ``- . _``, starts with a letter or digit (capitals pass, as old names such as
    JSONStream have them) and has at most 214 characters; after ``@``, one version, range or tag
    without spaces, with an optional leading ``^ ~ = < > <= >=``.
  - ``cargo``, ``gem``, ``go`` (kept, not installed): one token of printable ASCII.

- Metadata keys may hold any character, ``=`` included.
- List queries: unknown parameters are ignored (as most services do); a known one given twice is a
  400; ``include_archived`` takes exactly ``true``, ``false``, ``1`` or ``0``; ``after_id`` and
  ``before_id`` must look like environment ids but need not exist (ids are time-ordered, so any id
  is a position); ``created_at`` bounds are inclusive.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from .ids import is_environment_id, to_micros
from .responses import invalid

NAME_MAX = 255
SETUP_SCRIPT_MAX_BYTES = 64 * 1024
METADATA_MAX_KEYS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
HOST_MAX = 253
NPM_NAME_MAX = 214
LIMIT_DEFAULT = 20
LIMIT_MAX = 100

TOP_LEVEL_FIELDS = ("name", "description", "scope", "config", "metadata")
SCOPES = ("organization", "account")
CONFIG_TYPES = ("cloud", "self_hosted")
CONFIG_FIELDS = ("type", "networking", "packages", "setup_script")
FLAGS = ("allow_package_managers", "allow_mcp_servers")
NETWORKING_FIELDS = ("type", "allowed_hosts", *FLAGS)
NETWORKING_TYPES = ("unrestricted", "limited", "allowlist", "allowed_hosts")
ALLOWLIST_TYPES = ("allowlist", "allowed_hosts")
PACKAGE_MANAGERS = ("apt", "pip", "npm", "cargo", "gem", "go")
BOOLEAN_QUERY_VALUES = {"true": True, "false": False, "1": True, "0": False}
CURSOR_PARAMS = ("after_id", "before_id", "page")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_PATTERN = rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*$"
_HOST_RE = re.compile(HOST_PATTERN)

# Package specs (see the module docstring). The patterns are also the OpenAPI document's.
#: Never in a package entry: each means something to a shell.
SHELL_CHARACTERS = frozenset(";&|$`\\'\"{}")
#: Shell characters too, but part of pip's and npm's version grammar.
OPERATOR_CHARACTERS = frozenset("<>()!")
APT_PATTERN = (
    r"^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?"
    r"(?:=(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*|/[a-z0-9][a-z0-9.+-]*)?$"
)
_NPM_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
# The lookahead holds the name (scope included) to NPM_NAME_MAX characters.
NPM_PATTERN = (
    rf"^(?=(?:@[^@]{{1,{NPM_NAME_MAX - 1}}}|[^@]{{1,{NPM_NAME_MAX}}})(?:@|$))"
    rf"(?:@{_NPM_PART}/)?{_NPM_PART}(?:@(?:[~^]|[<>]=?|=)?[A-Za-z0-9*][A-Za-z0-9.*+_-]*)?$"
)
#: One token of printable ASCII without a space or a shell character (cargo, gem, go).
ASCII_WORD_PATTERN = r"^[A-Za-z0-9#%*+,./:=?@\[\]^_~][A-Za-z0-9#%*+,./:=?@\[\]^_~-]*$"
_GRAMMAR_RES = {
    "apt": re.compile(APT_PATTERN),
    "npm": re.compile(NPM_PATTERN),
    **{manager: re.compile(ASCII_WORD_PATTERN) for manager in ("cargo", "gem", "go")},
}
# Only a \u escape can smuggle a lone surrogate into a string: raw UTF-8 cannot encode one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_INTEGER_RE = re.compile(r"^-?[0-9]{1,12}$")
# RFC 3339 date-time. A space may stand for "+" in the offset because form decoding of a query
# string turns an unescaped "+" into a space; rejecting that would punish a common client slip.
_DATETIME_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:([Zz])|([+\- ])([0-9]{2}):([0-9]{2}))$"
)


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEnvironment:
    name: str
    description: str
    config: dict[str, Any]
    metadata: dict[str, str]
    scope: str | None = None  # None: not sent


@dataclass(frozen=True)
class Changes:
    """An update: ``None`` means "not sent, keep what is stored"."""

    name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    metadata: dict[str, str | None] | None = None
    scope: str | None = None


@dataclass(frozen=True)
class Cursor:
    direction: Literal["after", "before"]
    env_id: str

    def encode(self) -> str:
        raw = f"{self.direction[0]}:{self.env_id}".encode()
        return "pg_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class ListQuery:
    limit: int = LIMIT_DEFAULT
    include_archived: bool = False
    created_gte: int | None = None
    created_lte: int | None = None
    cursor: Cursor | None = None


# --- bodies ---------------------------------------------------------------------------------------


def parse_json(body: bytes, content_type: str | None) -> Any:
    if not body:
        raise invalid('The request body is empty; send a JSON object such as {"name": ...}.')
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise invalid(
            f"Content-Type is {content_type or 'missing'}; send the body as JSON with "
            "'Content-Type: application/json'."
        )
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise invalid("The request body is not UTF-8; send JSON encoded as UTF-8.") from None
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON ({exc}); fix the syntax.") from None
    if _SURROGATE_ESCAPE.search(body):
        _check_surrogates(value)
    return value


def _check_surrogates(value: Any) -> None:
    """Refuse an unpaired UTF-16 surrogate (legal as a JSON escape, but not a character)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(
            "The request body has a \\u escape of an unpaired UTF-16 surrogate; send valid text."
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Built once: json.loads(..., parse_constant=...) would build a new decoder for every body.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def validate_create(body: Any) -> NewEnvironment:
    fields = _object(body, "The request body", None)
    _known_fields(fields, TOP_LEVEL_FIELDS, "")
    if "name" not in fields:
        raise invalid("name is required: give the environment a name.", "name")
    if "config" not in fields:
        raise invalid('config is required: send at least {"type": "cloud"}.', "config")
    return NewEnvironment(
        name=_name(fields["name"]),
        description=_description(fields) or "",
        config=_config(fields["config"]),
        metadata=_metadata(fields.get("metadata", {})),
        scope=_scope(fields),
    )


def validate_update(body: Any) -> Changes:
    fields = _object(body, "The request body", None)
    _known_fields(fields, TOP_LEVEL_FIELDS, "")
    return Changes(
        name=_name(fields["name"]) if "name" in fields else None,
        description=_description(fields),
        config=_config(fields["config"]) if "config" in fields else None,
        metadata=_metadata_patch(fields["metadata"]) if "metadata" in fields else None,
        scope=_scope(fields),
    )


def _description(fields: Mapping[str, Any]) -> str | None:
    return _string(fields["description"], "description") if "description" in fields else None


def _scope(fields: Mapping[str, Any]) -> str | None:
    if "scope" not in fields:
        return None
    if fields["scope"] not in SCOPES:
        raise invalid(
            f"scope must be {_choices(SCOPES)}, not {_show(fields['scope'])}; or leave it out.",
            "scope",
        )
    scope: str = fields["scope"]
    return scope


def validate_empty(body: bytes, content_type: str | None) -> None:
    """Archive takes no body; an empty one or ``{}`` (what SDKs send) is accepted."""
    if body:
        fields = _object(parse_json(body, content_type), "The request body", None)
        _known_fields(fields, (), "")


def apply_metadata_patch(
    current: Mapping[str, str], patch: Mapping[str, str | None]
) -> dict[str, str]:
    """A string sets a key, ``null`` deletes it; the limits apply to the result."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > METADATA_MAX_KEYS:
        raise invalid(
            f"metadata would have {len(merged)} keys after this update; the limit is "
            f"{METADATA_MAX_KEYS}. Delete keys by setting them to null.",
            "metadata",
        )
    return merged


def _name(value: Any) -> str:
    name = _string(value, "name")
    if not name.strip():
        raise invalid("name must not be empty or only whitespace.", "name")
    if len(name) > NAME_MAX:
        raise invalid(f"name is {len(name)} characters long; the limit is {NAME_MAX}.", "name")
    return name


def _config(value: Any) -> dict[str, Any]:
    config = _object(value, "config", "config")
    _known_fields(config, CONFIG_FIELDS, "config.")
    if "type" not in config:
        raise invalid(f"config.type is required: {_choices(CONFIG_TYPES)}.", "config.type")
    if config["type"] not in CONFIG_TYPES:
        raise invalid(
            f"config.type must be {_choices(CONFIG_TYPES)}, not {_show(config['type'])}.",
            "config.type",
        )
    if "networking" in config:
        _networking(config["networking"])
    if "packages" in config:
        _packages(config["packages"])
    if "setup_script" in config:
        script = _string(config["setup_script"], "config.setup_script")
        size = len(script.encode("utf-8"))
        if size > SETUP_SCRIPT_MAX_BYTES:
            raise invalid(
                f"config.setup_script is {size} bytes; the limit is {SETUP_SCRIPT_MAX_BYTES} "
                "(64 KB). Move the bulk into a file fetched by a shorter script.",
                "config.setup_script",
            )
    if config["type"] == "self_hosted":
        _nothing_but_defaults(config)
    return config


def _nothing_but_defaults(config: Mapping[str, Any]) -> None:
    """A self-hosted environment runs on the customer's own runner: networking and packages do
    not apply, so only their defaults may be there (run after the usual checks of both)."""
    networking = config.get("networking", {})
    said = [
        f"config.networking.{key}"
        for key, default in (("allowed_hosts", []), *((f, False) for f in FLAGS))
        if networking.get(key, default) != default
    ]
    if networking.get("type", "limited") != "limited":
        said.insert(0, "config.networking.type")
    said += [
        f"config.packages.{key}"
        for key, specs in config.get("packages", {}).items()
        if key != "type" and specs
    ]
    if said:
        raise invalid(
            f"{said[0]} does not apply to a self-hosted environment (it runs on your own runner); "
            'remove it, or use config.type "cloud".',
            said[0],
        )


def _networking(value: Any) -> None:
    networking = _object(value, "config.networking", "config.networking")
    _known_fields(networking, NETWORKING_FIELDS, "config.networking.")
    kind = networking.get("type", "limited")
    if kind not in NETWORKING_TYPES:
        known = _choices(NETWORKING_TYPES)
        message = f"config.networking.type must be one of {known}, not {_show(kind)}."
        raise invalid(message, "config.networking.type")
    for flag in FLAGS:
        if flag in networking and not isinstance(networking[flag], bool):
            param = f"config.networking.{flag}"
            raise invalid(f"{param} must be true or false, not {_show(networking[flag])}.", param)
    hosts = _allowed_hosts(networking.get("allowed_hosts", []))
    param = "config.networking.allowed_hosts"
    if kind in ALLOWLIST_TYPES and not hosts:
        raise invalid(
            f'networking type "{kind}" needs a non-empty allowed_hosts list, e.g. ["pypi.org"].',
            param,
        )
    if kind == "unrestricted" and hosts:
        raise invalid(
            'allowed_hosts has no effect with networking type "unrestricted"; remove it, or use '
            'type "allowlist" to restrict traffic to those hosts.',
            param,
        )


def _allowed_hosts(value: Any) -> list[str]:
    param = "config.networking.allowed_hosts"
    if not isinstance(value, list):
        raise invalid(f"{param} must be an array of host names, not {_json_type(value)}.", param)
    seen: dict[str, int] = {}
    for index, host in enumerate(value):
        problem = _host_problem(host)
        if problem:
            raise invalid(f"allowed_hosts[{index}] {problem}.", param)
        first = seen.setdefault(host.lower(), index)  # DNS names are case-insensitive
        if first != index:
            raise invalid(
                f"allowed_hosts[{index}] {_show(host)} repeats allowed_hosts[{first}]; list each "
                "host once.",
                param,
            )
    return value


def _host_problem(host: Any) -> str | None:
    if not isinstance(host, str):
        return f"must be a host name string, not {_json_type(host)}"
    bare = "give a bare host name such as pypi.org or *.example.com"
    if "://" in host:
        return f"{_show(host)} has a scheme; {bare}"
    if "/" in host:
        return f"{_show(host)} has a path; {bare}"
    if ":" in host:
        return f"{_show(host)} has a port; {bare}"
    if len(host) > HOST_MAX or not _HOST_RE.fullmatch(host):  # match() lets a final "\n" by
        return f"{_show(host)} is not a valid host name; {bare}"
    return None


def _packages(value: Any) -> None:
    packages = _object(value, "config.packages", "config.packages")
    for key, specs in packages.items():
        param = f"config.packages.{key}"
        if key == "type":
            if specs != "packages":
                raise invalid(f'{param} may only be "packages", not {_show(specs)}.', param)
        elif key not in PACKAGE_MANAGERS:
            known = _choices(PACKAGE_MANAGERS)
            raise invalid(f"Unknown package manager {_show(key)}; use {known}.", param)
        else:
            _package_list(key, specs)


def _package_list(manager: str, specs: Any) -> None:
    param = f"config.packages.{manager}"
    if not isinstance(specs, list):
        raise invalid(
            f'{param} must be an array of package specs such as ["pandas>=2"], '
            f"not {_json_type(specs)}.",
            param,
        )
    for index, spec in enumerate(specs):
        if not isinstance(spec, str) or not spec.strip():
            message = f"{manager}[{index}] must be a non-empty package spec, not {_show(spec)}."
            raise invalid(message, param)
        problem = _spec_problem(manager, spec)
        if problem:
            raise invalid(f"{manager}[{index}] {_show(spec)} {problem}.", param)


def _spec_problem(manager: str, spec: str) -> str | None:
    """What is wrong with one package spec (see the module docstring), or None."""
    if spec != spec.strip():
        return "has surrounding whitespace; remove it"
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in spec):
        return "holds a control character or a line break; give one package per entry"
    if spec.startswith("-"):
        return "starts with '-', which an installer reads as an option; name a package"
    if manager == "pip" and ";" in spec:
        return _marked_pip_problem(spec)
    if not SHELL_CHARACTERS.isdisjoint(spec):
        return "holds a shell character (one of ; & | $ ` \\ ' \" { }); name one package"
    if manager == "pip":
        return _pip_problem(spec)
    return None if _GRAMMAR_RES[manager].fullmatch(spec) else _GRAMMAR_HINTS[manager]


_GRAMMAR_HINTS = {
    "apt": "is not a Debian package name with an optional :arch and =version or /release "
    "(such as curl, libc6:i386 or curl=7.81.0-1ubuntu1)",
    "npm": f"is not an npm name (at most {NPM_NAME_MAX} characters) with an optional @version, "
    "such as typescript@5.0.0 or @types/node@^20, without spaces",
    **dict.fromkeys(
        ("cargo", "gem", "go"),
        "is not one token of printable ASCII without spaces or shell characters",
    ),
}


def _pip_problem(spec: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return "is not a PEP 508 requirement (such as pandas, pandas>=2 or requests[socks]>=2,<3)"
    if not OPERATOR_CHARACTERS.isdisjoint(requirement.url or ""):
        return "has a URL holding one of < > ( ) !, which a shell acts on; quote-free URLs only"
    return None


#: What the quoted values of a marker may hold ("3.13", "win32", "x86_64"): nothing a shell reads.
_MARKER_VALUE_RE = re.compile(r"[A-Za-z0-9 ._+*-]*")


def _marked_pip_problem(spec: str) -> str | None:
    """A pip requirement followed by ``; marker``: the requirement as any pip spec, the marker a
    PEP 508 marker whose quoted values are plain words and versions."""
    from packaging.markers import InvalidMarker, Marker

    requirement, _, marker = spec.partition(";")
    problem = (
        _spec_problem("pip", requirement.rstrip())
        if requirement.strip()
        else "has no requirement before ';'"
    )
    if problem:
        return problem
    if not SHELL_CHARACTERS.isdisjoint(marker.replace("'", "").replace('"', "")):
        return "holds a shell character (one of ; & | $ ` \\ { }) in its marker; name one package"
    try:
        Marker(marker.strip())
    except InvalidMarker:
        return "has an invalid environment marker after ';' (PEP 508)"
    values = re.findall(r"'([^']*)'|\"([^\"]*)\"", marker)
    if not all(_MARKER_VALUE_RE.fullmatch("".join(value)) for value in values):
        return "has a marker value with characters other than letters, digits, spaces and . _ + * -"
    return None


def _metadata(value: Any) -> dict[str, str]:
    metadata = _object(value, "metadata", "metadata")
    for key, item in metadata.items():
        _metadata_entry(key, item)
    if len(metadata) > METADATA_MAX_KEYS:
        raise invalid(
            f"metadata has {len(metadata)} keys; the limit is {METADATA_MAX_KEYS}.", "metadata"
        )
    return metadata


def _metadata_patch(value: Any) -> dict[str, str | None]:
    patch = _object(value, "metadata", "metadata")
    for key, item in patch.items():
        if item is not None:
            _metadata_entry(key, item)
        else:
            _metadata_key(key)
    return patch


def _metadata_entry(key: str, value: Any) -> None:
    _metadata_key(key)
    if not isinstance(value, str):
        raise invalid(
            f"metadata[{key!r}] must be a string, not {_json_type(value)}; convert it to text.",
            "metadata",
        )
    if len(value) > METADATA_VALUE_MAX:
        raise invalid(
            f"metadata[{key!r}] is {len(value)} characters long; the limit is "
            f"{METADATA_VALUE_MAX}.",
            "metadata",
        )


def _metadata_key(key: str) -> None:
    if not key:
        raise invalid("metadata keys must not be empty.", "metadata")
    if len(key) > METADATA_KEY_MAX:
        raise invalid(
            f"metadata key {key[:20]!r}... is {len(key)} characters long; the limit is "
            f"{METADATA_KEY_MAX}.",
            "metadata",
        )


# --- the list query -------------------------------------------------------------------------------


def parse_list_query(query: Mapping[str, list[str]]) -> ListQuery:
    known = (*CURSOR_PARAMS, "limit", "include_archived", "created_at[gte]", "created_at[lte]")
    values = {name: _single(query, name) for name in known if name in query}
    cursors = [name for name in CURSOR_PARAMS if name in values]
    if len(cursors) > 1:
        raise invalid(f"Use only one of after_id, before_id and page; got {' and '.join(cursors)}.")
    return ListQuery(
        limit=_limit(values.get("limit")),
        include_archived=_boolean(values.get("include_archived"), "include_archived"),
        created_gte=_datetime(values.get("created_at[gte]"), "created_at[gte]"),
        created_lte=_datetime(values.get("created_at[lte]"), "created_at[lte]"),
        cursor=_cursor(values, cursors[0]) if cursors else None,
    )


def _single(query: Mapping[str, list[str]], name: str) -> str:
    if len(query[name]) > 1:
        raise invalid(f"{name} is given {len(query[name])} times; give it once.", name)
    return query[name][0]


def _limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not _INTEGER_RE.match(value) or not 1 <= int(value) <= LIMIT_MAX:
        raise invalid(
            f"limit must be a whole number from 1 to {LIMIT_MAX}, not {value!r}.", "limit"
        )
    return int(value)


def _boolean(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value not in BOOLEAN_QUERY_VALUES:
        raise invalid(f"{name} must be true, false, 1 or 0, not {value!r}.", name)
    return BOOLEAN_QUERY_VALUES[value]


def _datetime(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    match = _DATETIME_RE.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return to_micros(_datetime_from(match))
    except (ValueError, OverflowError):
        raise invalid(
            f"{name} must be an RFC 3339 date-time such as 2026-05-18T15:28:07Z, not {value!r}.",
            name,
        ) from None


def _datetime_from(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second = (int(match[index]) for index in range(1, 7))
    micros = int((match[7] or ".0")[1:7].ljust(6, "0"))
    offset = timedelta(0)
    if not match[8]:
        hours, minutes = int(match[10]), int(match[11])
        if hours > 23 or minutes > 59:
            raise ValueError("offset out of range")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match[9] == "-" else 1)
    # RFC 3339 allows a leap second (:60); count it as the last microsecond of :59.
    if second == 60:
        second, micros = 59, 999_999
    return datetime(year, month, day, hour, minute, second, micros, timezone(offset))


def _cursor(values: Mapping[str, str], name: str) -> Cursor:
    value = values[name]
    if name == "page":
        return _decode_page(value)
    if not is_environment_id(value):
        raise invalid(
            f"{name} must be an environment id (env_ + 32 hex digits), not {value!r}.", name
        )
    return Cursor("after" if name == "after_id" else "before", value)


def _decode_page(token: str) -> Cursor:
    problem = invalid(
        "page is not a token this server handed out; pass the next_page value of a previous "
        "list response unchanged.",
        "page",
    )
    if not token.startswith("pg_"):
        raise problem
    try:
        raw = base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise problem from None
    direction, _, env_id = raw.partition(":")
    if direction not in ("a", "b") or not is_environment_id(env_id):
        raise problem
    return Cursor("after" if direction == "a" else "before", env_id)


# --- helpers --------------------------------------------------------------------------------------


def _object(value: Any, what: str, param: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{what} must be a JSON object, not {_json_type(value)}.", param)
    return value


def _known_fields(fields: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    for key in fields:
        if key not in allowed:
            known = f"the known fields are {_choices(allowed)}" if allowed else "send no fields"
            raise invalid(f"Unknown field {prefix}{key}; {known}.", f"{prefix}{key}")


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid(f"{param} must be a string, not {_json_type(value)}.", param)
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _choices(options: tuple[str, ...]) -> str:
    quoted = [f'"{option}"' for option in options]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


__all__ = [
    "Changes",
    "Cursor",
    "ListQuery",
    "NewEnvironment",
    "apply_metadata_patch",
    "parse_json",
    "parse_list_query",
    "validate_create",
    "validate_empty",
    "validate_update",
]
