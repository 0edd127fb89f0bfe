"""``EnvironmentSpec``: the one declarative model of a create request (``POST /environments``).

The form links its widgets to the spec's traits, the ``%qoder_env create`` magic parses its flags
into it, and the request body, the curl command and the magic line are all views of it. Traitlets
enforce only types; every *rule* of the contract is reported by :meth:`EnvironmentSpec.problems`, so
a form or a magic can hold a bad value and show what is wrong with it.

One table, ``_FIELDS``, says where each trait lives in the body and which flag sets it: it drives
the body, ``from_body``, ``field_problems``, the magic line and its parser.

Only the standard library and traitlets are imported here (see ``design.md``).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shlex
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from traitlets import Bool, Dict, HasTraits, List, Unicode

from .credentials import DEFAULT_BASE_URL
from .errors import Problem, ValidationError

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_HOST_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SETUP_SCRIPT_BYTES",
    "NETWORKING_TYPES",
    "EnvironmentSpec",
    "RaisingArgumentParser",
    "add_spec_arguments",
    "build_create_parser",
    "curl_command",
    "namespace_values",
    "parse_line",
    "spec_from_namespace",
]

#: The accepted ``config.networking.type`` values; "allowed_hosts" is another doc's spelling of
#: "allowlist" and is sent as written.
NETWORKING_TYPES = ("unrestricted", "limited", "allowlist", "allowed_hosts")
_ALLOWLIST_TYPES = ("allowlist", "allowed_hosts")
_PACKAGE_MANAGERS = ("apt", "pip", "npm")
# Package kinds newer SDKs know but the service does not install; this client refuses them.
_UNSUPPORTED_PACKAGE_MANAGERS = ("cargo", "gem", "go")

MAX_NAME_LENGTH = 255
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512
MAX_SETUP_SCRIPT_BYTES = 64 * 1024
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

_MAGIC_PREFIX = "%qoder_env create"


@dataclass(frozen=True)
class _Field:
    """One trait: where it lives in the body and which ``%qoder_env create`` flag sets it."""

    trait: str
    path: tuple[str, ...]
    kind: Literal["text", "list", "flag", "map"]
    flag: str
    metavar: str | None = None
    always: bool = False  # sent even at its default (the name is required)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


# Flag order is the order of the magic line; body key order comes from `_body`'s skeleton.
_FIELDS: tuple[_Field, ...] = (
    _Field("name", ("name",), "text", "--name", "NAME", always=True),
    _Field("description", ("description",), "text", "--description", "TEXT"),
    _Field(
        "networking",
        ("config", "networking", "type"),
        "text",
        "--network",
        "{" + ",".join(NETWORKING_TYPES) + "}",
    ),
    _Field(
        "allowed_hosts", ("config", "networking", "allowed_hosts"), "list", "--allow-host", "HOST"
    ),
    _Field(
        "allow_package_managers",
        ("config", "networking", "allow_package_managers"),
        "flag",
        "--allow-package-managers",
    ),
    *(_Field(m, ("config", "packages", m), "list", f"--{m}", "PKG") for m in _PACKAGE_MANAGERS),
    _Field("metadata", ("metadata",), "map", "--meta", "KEY=VALUE"),
    _Field("setup_script", ("config", "setup_script"), "text", "--setup-script", "TEXT"),
)
_TRAITS = tuple(field.trait for field in _FIELDS)


def _object_keys() -> dict[str, tuple[str, ...]]:
    """The keys each object of the body may hold, keyed by the object's dotted path."""
    keys: dict[str, list[str]] = {"": [], "config": ["type"]}
    for field in _FIELDS:
        for depth, key in enumerate(field.path):
            known = keys.setdefault(".".join(field.path[:depth]), [])
            if key not in known:
                known.append(key)
    return {path: tuple(known) for path, known in keys.items()}


_OBJECT_KEYS = _object_keys()


class EnvironmentSpec(HasTraits):
    """What to create: every field of a ``POST /environments`` request body, as traits."""

    name = Unicode("", help="The environment's name (required, at most 255 characters).")
    description = Unicode("", help="A free-text description.")
    networking = Unicode(
        None,
        allow_none=True,
        help="Network access: unrestricted, limited or allowlist; not given means limited.",
    )
    allowed_hosts = List(Unicode(), help="Bare host names reachable under allowlist networking.")
    allow_package_managers = Bool(False, help="Let apt, pip and npm reach their registries.")
    apt = List(Unicode(), help="apt packages to preinstall.")
    pip = List(Unicode(), help="pip requirement specs to preinstall.")
    npm = List(Unicode(), help="npm packages to preinstall.")
    # Untyped on purpose: a non-string value is reported by problems(), not refused on assignment.
    metadata = Dict(help="String key/value pairs (at most 16).")
    setup_script = Unicode("", help="A bash script run after package installs (at most 64 KB).")

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(_TRAITS))
        if unknown:  # HasTraits would only warn and drop them
            raise TypeError(
                f"Unknown EnvironmentSpec field(s) {unknown}: use {', '.join(_TRAITS)}."
            )
        super().__init__(**kwargs)

    # --- validation -------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every rule the spec breaks, in body order; empty when it can be sent. Never raises."""
        return [
            *_name_problems(self.name),
            *_networking_problems(self.networking, self.allowed_hosts),
            *_host_problems(self.allowed_hosts),
            *(p for m in _PACKAGE_MANAGERS for p in _package_problems(m, getattr(self, m))),
            *_setup_script_problems(self.setup_script),
            *_metadata_problems(self.metadata),
        ]

    @property
    def is_valid(self) -> bool:
        return not self.problems()

    def validate(self) -> None:
        """Raise :class:`ValidationError` listing every problem, if there is any."""
        problems = self.problems()
        if problems:
            raise ValidationError(problems)

    def field_problems(self) -> dict[str, list[str]]:
        """Problem messages grouped by trait (every trait present), for a form's inline errors."""
        grouped: dict[str, list[str]] = {trait: [] for trait in _TRAITS}
        for problem in self.problems():
            grouped[_trait_of(problem.field)].append(problem.message)
        return grouped

    # --- the request body -------------------------------------------------------------------

    def to_body(self) -> dict[str, Any]:
        """The exact request body: only what differs from the service's defaults."""
        self.validate()
        return self._body()

    def _body(self) -> dict[str, Any]:
        # The skeleton fixes the seed's key order; nested objects appear only when something in
        # them is sent, in `_FIELDS` order.
        body: dict[str, Any] = {
            "name": None,
            "description": None,
            "config": {"type": "cloud"},
            "metadata": None,
        }
        for field in _FIELDS:
            value = getattr(self, field.trait)
            if field.always or value != _default(field):
                node = body
                for key in field.path[:-1]:
                    node = node.setdefault(key, {})
                node[field.path[-1]] = _copied(value)
        return {key: value for key, value in body.items() if value is not None}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> EnvironmentSpec:
        """Read a request body back into a spec.

        Raises :class:`ValidationError` for what a spec cannot hold: a value of the wrong JSON type,
        an unknown key, a missing ``config`` or a ``config.type`` other than "cloud". Values of the
        right type that break a rule (a URL as a host, a 300-character name, a missing name, a
        non-string metadata value) are kept, so the user can see them and fix them; ``problems()``
        reports them.
        """
        if not isinstance(body, Mapping):
            raise ValidationError(
                [Problem("body", f"The body is {_kind(body)}: it must be a JSON object.")]
            )
        problems = _structure_problems(body)
        values: dict[str, Any] = {}
        for field in _FIELDS:
            found, raw = _lookup(body, field.path)
            if found:
                value = _read_value(field, raw, problems)
                if value is not None:
                    values[field.trait] = value
        if problems:
            raise ValidationError(problems)
        return cls(**values)

    def to_curl(self, base_url: str = DEFAULT_BASE_URL) -> str:
        """The seed's curl command for this request; the token stays the literal ``$QODER_PAT``."""
        return curl_command("POST", base_url.rstrip("/") + "/environments", self.to_body())

    # --- the magic line ---------------------------------------------------------------------

    def to_magic(self) -> str:
        """The canonical ``%qoder_env create`` line. Not validated: it is input, like the form."""
        words = [_MAGIC_PREFIX]
        for field in _FIELDS:
            value = getattr(self, field.trait)
            if not (field.always or value != _default(field)):
                continue
            if field.kind == "flag":
                words.append(field.flag)
            elif field.kind == "text":
                words.append(_flag_values(field.flag, [value]))
            elif field.kind == "list":
                words.append(_flag_values(field.flag, value))
            else:
                items = [f"{_text(k)}={_text(v)}" for k, v in value.items()]
                words.append(_flag_values(field.flag, items))
        return " ".join(words)

    @classmethod
    def from_magic(cls, line: str) -> EnvironmentSpec:
        """Parse a ``%qoder_env create`` line (the prefix is optional).

        Raises :class:`ValidationError` when the line cannot be parsed; values that parse but break
        a rule are kept, as in :meth:`from_body`.
        """
        return spec_from_namespace(parse_line(_create_parser(), line))

    # --- value semantics --------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnvironmentSpec):
            return NotImplemented
        return all(getattr(self, trait) == getattr(other, trait) for trait in _TRAITS)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def copy(self) -> EnvironmentSpec:
        """An equal, independent spec (its lists and dict are new ones)."""
        return type(self)(**{trait: _copied(getattr(self, trait)) for trait in _TRAITS})

    def __repr__(self) -> str:
        # Body-like and never validated, so an invalid spec shows what is wrong with it.
        return f"{type(self).__name__}.from_body({_safe_repr(self._body())})"


def _copied(value: Any) -> Any:
    """A new list or dict (their items are strings when valid), anything else as it is."""
    return value.copy() if isinstance(value, (list, dict)) else value


def _default(field: _Field) -> Any:
    return EnvironmentSpec.class_traits()[field.trait].default()


def _trait_of(path: str) -> str:
    """The trait a problem's field path belongs to."""
    for field in _FIELDS:  # no field's path is a prefix of another's
        if path == field.dotted or path.startswith((field.dotted + "[", field.dotted + ".")):
            return field.trait
    raise LookupError(f"No trait owns the problem field {path!r}.")


# --- rules ------------------------------------------------------------------------------------


def _clip(text: str, limit: int = 60) -> str:
    """``repr`` of a value short enough for a message."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _name_problems(name: str) -> Iterator[Problem]:
    if not name.strip():
        yield Problem("name", "The name is empty: give the environment a name.")
    elif len(name) > MAX_NAME_LENGTH:
        yield Problem(
            "name",
            f"The name is {len(name)} characters long: shorten it to at most {MAX_NAME_LENGTH}.",
        )


def _networking_problems(networking: str | None, hosts: Sequence[str]) -> Iterator[Problem]:
    path = "config.networking"
    if networking is not None and networking not in NETWORKING_TYPES:
        fixed = networking.strip().lower()
        fix = (
            f"write {fixed!r}"
            if fixed in NETWORKING_TYPES
            else "choose 'unrestricted', 'limited' or 'allowlist' (also spelled 'allowed_hosts'), "
            "or leave it out for 'limited'"
        )
        yield Problem(f"{path}.type", f"{_clip(networking)} is not a networking type: {fix}.")
    elif networking in _ALLOWLIST_TYPES and not hosts:
        yield Problem(
            f"{path}.allowed_hosts",
            f"{networking!r} networking needs allowed hosts: add at least one host, or choose "
            "'limited'.",
        )
    elif networking == "unrestricted" and hosts:
        yield Problem(
            f"{path}.allowed_hosts",
            "Allowed hosts mean nothing with 'unrestricted' networking and the service rejects "
            "them: remove them or choose 'allowlist'.",
        )


_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


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
    name = host.removeprefix("*.")
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
            return f"has the label {_clip(label)}: use letters, digits and inner hyphens only"
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


def _host_problems(hosts: Sequence[str]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, host in enumerate(hosts):
        path = f"config.networking.allowed_hosts[{index}]"
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
            yield Problem(path, f"{_clip(host)} {error}: {hint}.")
        elif host.lower() in seen:
            first = seen[host.lower()]
            yield Problem(path, f"{host!r} is already listed at [{first}]: remove this one.")
        else:
            seen[host.lower()] = index


def _package_problems(manager: str, specs: Sequence[str]) -> Iterator[Problem]:
    for index, spec in enumerate(specs):
        message = _package_error(manager, spec)
        if message is not None:
            yield Problem(f"config.packages.{manager}[{index}]", message)


def _package_error(manager: str, spec: str) -> str | None:
    if not spec.strip():
        return f"An empty {manager} package: remove it or name a package."
    if spec.splitlines() != [spec]:  # any line break, even a trailing one
        return f"{_clip(spec)} contains a line break: put each package in its own entry."
    if any(unicodedata.category(char) == "Cc" for char in spec):
        return f"{_clip(spec)} contains a control character: remove it."
    if spec != spec.strip():
        return f"{_clip(spec)} has surrounding spaces: write {spec.strip()!r}."
    if spec.startswith("-"):
        # Passed on the installer's command line, it would be read as an option.
        bare = spec.lstrip("-")
        fix = f"write {bare!r}" if bare else "write a package name"
        return f"{_clip(spec)} starts with '-', so {manager} would read it as an option: {fix}."
    return None


def _setup_script_problems(script: str) -> Iterator[Problem]:
    size = len(script.encode("utf-8", "surrogatepass"))
    if size > MAX_SETUP_SCRIPT_BYTES:
        yield Problem(
            "config.setup_script",
            f"The setup script is {size:,} bytes: keep it within 64 KB ({MAX_SETUP_SCRIPT_BYTES:,} "
            "bytes), e.g. by having it download a longer script.",
        )


def _metadata_problems(metadata: Mapping[Any, Any]) -> Iterator[Problem]:
    if len(metadata) > MAX_METADATA_KEYS:
        extra = len(metadata) - MAX_METADATA_KEYS
        yield Problem(
            "metadata",
            f"There are {len(metadata)} metadata keys: remove {extra}; at most "
            f"{MAX_METADATA_KEYS} are allowed.",
        )
    for key, value in metadata.items():
        path = f"metadata[{_safe_repr(key)}]"
        for message in (_metadata_key_error(key), _metadata_value_error(value)):
            if message is not None:
                yield Problem(path, message)


def _metadata_key_error(key: object) -> str | None:
    if not isinstance(key, str):
        return f"The key {_safe_repr(key)} is not a string: write it as {_text(key)!r}."
    if not key:
        return "A metadata key is empty: give it a name, or remove the entry."
    if len(key) > MAX_METADATA_KEY_LENGTH:
        return (
            f"The key is {len(key)} characters long: shorten it to at most "
            f"{MAX_METADATA_KEY_LENGTH}."
        )
    if "=" in key:
        # Not a service rule: `--meta KEY=VALUE` could not express it, and the magic line must.
        return f"The key {_clip(key)} contains '=': use another character, such as '-' or '_'."
    return None


def _metadata_value_error(value: object) -> str | None:
    if not isinstance(value, str):
        as_text = _scalar_text(value)
        fix = f"write {as_text!r}" if as_text else "write it as a string"
        return f"The value is {_kind(value)}; metadata values must be strings: {fix}."
    if len(value) > MAX_METADATA_VALUE_LENGTH:
        return (
            f"The value is {len(value)} characters long: shorten it to at most "
            f"{MAX_METADATA_VALUE_LENGTH}."
        )
    return None


# --- reading a body ---------------------------------------------------------------------------


def _text(value: object) -> str:
    """A value as the user would type it, for a key or value that should have been a string."""
    if isinstance(value, str):
        return value
    return _scalar_text(value) or _safe_repr(value)


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # a huge int, or a __repr__ that fails: messages must still be built
        return f"<{type(value).__name__}>"


def _scalar_text(value: object) -> str | None:
    """How a boolean or number is written in JSON, or None."""
    if not isinstance(value, (bool, int, float)):
        return None
    try:
        return json.dumps(value)
    except ValueError:  # an int with more digits than Python will print
        return None


def _kind(value: object) -> str:
    """A value's JSON kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {_scalar_text(value)}"
    if isinstance(value, (int, float)):
        return f"the number {(_scalar_text(value) or 'too long to print')[:40]}"
    if isinstance(value, str):
        return f"the string {_clip(value)}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a Python {type(value).__name__}"


def _lookup(body: Mapping[str, Any], path: Sequence[str]) -> tuple[bool, Any]:
    """``(True, value)`` at ``path``, or ``(False, None)`` when something on the way is absent or
    not an object (the latter already reported by ``_structure_problems``)."""
    node: Any = body
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _structure_problems(body: Mapping[str, Any]) -> list[Problem]:
    """Objects that are not objects, unknown keys, and a missing or non-cloud ``config``."""
    problems: list[Problem] = []
    for path, known in _OBJECT_KEYS.items():
        found, node = _lookup(body, path.split(".") if path else ())
        if not found:
            continue
        if not isinstance(node, Mapping):
            problems.append(Problem(path, f"Expected an object, got {_kind(node)}: write {{...}}."))
            continue
        for key in node:
            if key not in known:
                where = f"{path}." if path else ""
                problems.append(Problem(where + _text(key), _unknown_key_message(path, key, known)))
    config_type = _lookup(body, ("config", "type"))
    if "config" not in body:
        problems.append(
            Problem("config", 'The config is missing: add "config": {"type": "cloud"}.')
        )
    elif isinstance(body["config"], Mapping) and not config_type[0]:
        problems.append(Problem("config.type", 'config.type is missing: set it to "cloud".'))
    elif config_type[0] and config_type[1] != "cloud":
        problems.append(
            Problem(
                "config.type",
                f"config.type is {_kind(config_type[1])}: this client creates only cloud "
                'environments; set it to "cloud".',
            )
        )
    return problems


def _unknown_key_message(path: str, key: object, known: Sequence[str]) -> str:
    if path == "config.packages" and key in _UNSUPPORTED_PACKAGE_MANAGERS:
        return (
            f"This client does not support {key} packages (the service would not install them): "
            f"remove {_safe_repr(key)}, or install them from config.setup_script."
        )
    where = path or "the body"
    return f"Unknown field {_safe_repr(key)}: remove it; {where} takes only {', '.join(known)}."


def _read_value(field: _Field, raw: Any, problems: list[Problem]) -> Any:
    """``raw`` converted for ``field``'s trait, or None after reporting a type problem."""
    path = field.dotted
    if field.kind == "text":
        if isinstance(raw, str):
            return raw
        problems.append(Problem(path, f"Expected a string, got {_kind(raw)}: write a JSON string."))
    elif field.kind == "flag":
        if isinstance(raw, bool):
            return raw
        problems.append(
            Problem(path, f"Expected a boolean, got {_kind(raw)}: write true or false.")
        )
    elif field.kind == "map":
        if isinstance(raw, Mapping):
            return dict(raw)
        problems.append(
            Problem(path, f'Expected an object, got {_kind(raw)}: write e.g. {{"team": "data"}}.')
        )
    elif not isinstance(raw, (list, tuple)):
        problems.append(
            Problem(path, f"Expected an array, got {_kind(raw)}: write an array of strings.")
        )
    else:
        wrong = [(i, item) for i, item in enumerate(raw) if not isinstance(item, str)]
        for index, item in wrong:
            problems.append(
                Problem(f"{path}[{index}]", f"Expected a string, got {_kind(item)}: quote it.")
            )
        return None if wrong else list(raw)
    return None


# --- curl -------------------------------------------------------------------------------------


def _double_quoted(text: str) -> str:
    """The seed writes the URL in double quotes; fall back to single quotes when the shell would
    expand something inside double quotes."""
    return f'"{text}"' if not set(text) & set('"$`\\!') else shlex.quote(text)


def curl_command(method: str, url: str, body: Mapping[str, Any] | None = None) -> str:
    """A request as the seed's curl command; the token stays the literal ``$QODER_PAT``."""
    lines = [
        f"curl -s -X {method} {_double_quoted(url)}",
        '-H "Authorization: Bearer $QODER_PAT"',
    ]
    if body is not None:
        payload = json.dumps(body, indent=2, ensure_ascii=False)
        lines += ['-H "Content-Type: application/json"', f"-d {shlex.quote(payload)}"]
    return " \\\n".join(lines)


# --- the %qoder_env create line ---------------------------------------------------------------


def _flag_values(flag: str, values: Sequence[str]) -> str:
    """``flag`` with its values, shell-quoted. A value starting with '-' is attached as
    ``--flag=-value`` (argparse would take it for a flag), so it gets its own flag."""
    words: list[str] = []
    open_group = False
    for value in values:
        if value.startswith("-"):
            words.append(f"{flag}={shlex.quote(value)}")
            open_group = False
        else:
            if not open_group:
                words.append(flag)
                open_group = True
            words.append(shlex.quote(value))
    return " ".join(words)


class RaisingArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`ValidationError` (field ``magic``) instead of printing
    and exiting; its subparsers do the same."""

    def error(self, message: str) -> NoReturn:
        if "expected" in message and "argument" in message:
            message += " (write a value that starts with '-' as --flag=VALUE)"
        raise ValidationError(
            [Problem("magic", f"{message}. {self.prog} --help lists the options.")]
        )

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        self.error((message or f"the parser asked to exit with status {status}").strip())


class _TextAction(argparse.Action):
    """Store one value. argparse up to Python 3.12 drops a ``--`` value (``--name=--`` gives []),
    and that is the only way to get a non-string here, so it stands for ``--``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values if isinstance(values, str) else "--")


class _ExtendAction(argparse.Action):
    """``nargs="+"`` values that accumulate over repeated flags; ``--flag=--`` as above."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items = list(values) if values else ["--"]
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), *items])


def add_spec_arguments(parser: argparse.ArgumentParser, *, require_name: bool = True) -> None:
    """Add the spec's flags to ``parser`` (dest = trait name; absent flags stay None).
    ``require_name=False`` when the name may come from elsewhere (a file, a cell body)."""
    for field in _FIELDS:
        help_text = EnvironmentSpec.class_traits()[field.trait].help
        if field.kind == "flag":
            parser.add_argument(field.flag, dest=field.trait, action="store_true", help=help_text)
        elif field.kind == "text":
            parser.add_argument(
                field.flag,
                dest=field.trait,
                metavar=field.metavar,
                action=_TextAction,
                required=field.always and require_name,
                help=help_text,
            )
        else:
            parser.add_argument(
                field.flag,
                dest=field.trait,
                metavar=field.metavar,
                nargs="+",
                action=_ExtendAction,
                help=help_text,
            )


def build_create_parser() -> argparse.ArgumentParser:
    """The ``%qoder_env create`` parser; it never prints or exits (no ``-h``: the magic's help
    comes from ``format_help()``). Callers may add their own flags to it."""
    parser = RaisingArgumentParser(prog=_MAGIC_PREFIX, add_help=False, allow_abbrev=False)
    add_spec_arguments(parser)
    return parser


@functools.cache
def _create_parser() -> argparse.ArgumentParser:
    """``from_magic``'s own parser: built once (parsing does not change it), never handed out."""
    return build_create_parser()


def parse_line(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace:
    """Split ``line`` like a shell and parse it; a leading ``%qoder_env`` and ``create`` are
    optional. Raises :class:`ValidationError` (when ``parser`` is one of ours) on any error."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ValidationError(
            [
                Problem(
                    "magic",
                    f"The line cannot be split into words ({str(exc).lower()}): close every "
                    "quote, and write a lone quote or a trailing backslash as \\' or \\\\.",
                )
            ]
        ) from None
    if words[:1] == ["%qoder_env"]:
        words = words[1:]
    if words[:1] == ["create"]:
        words = words[1:]
    return parser.parse_args(words)


def spec_from_namespace(namespace: argparse.Namespace) -> EnvironmentSpec:
    """The spec a parsed line describes. Raises :class:`ValidationError` for a bad ``--meta`` item;
    values that break a rule are kept, for ``problems()`` to report."""
    return EnvironmentSpec(**namespace_values(namespace))


def namespace_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The trait values a parsed line gives, by trait name: only the flags that were used, so
    they can be laid over another spec. Raises :class:`ValidationError` for a bad ``--meta``."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for field in _FIELDS:
        value = getattr(namespace, field.trait, None)
        if value is None or value is False:
            continue
        values[field.trait] = _parse_meta(value, problems) if field.kind == "map" else value
    if problems:
        raise ValidationError(problems)
    return values


def _parse_meta(items: Sequence[str], problems: list[Problem]) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict, split at the first '=' so values may contain '='."""
    metadata: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            message = f"--meta {_clip(item)} has no '=': write KEY=VALUE, e.g. --meta team=data."
        elif not key:
            message = f"--meta {_clip(item)} has an empty key: write KEY=VALUE."
        elif key in metadata:
            message = f"--meta key {_clip(key)} is given twice: keep one."
        else:
            metadata[key] = value
            continue
        problems.append(Problem("magic", message))
    return metadata
