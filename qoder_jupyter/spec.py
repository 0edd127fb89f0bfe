"""``EnvironmentSpec``: the one declarative model of a create request (``POST /environments``).

The form links its widgets to the spec's traits, the ``%qoder_env create`` magic parses its flags
into it, and the request body, the curl command and the magic line are all views of it. Traitlets
enforce only types; every *rule* of the contract lives in :mod:`qoder_jupyter.rules` and is
reported by :meth:`EnvironmentSpec.problems`, so a form or a magic can hold a bad value and show
what is wrong with it.

One table, ``FIELDS``, says where each trait lives in the body and which flag sets it: it drives
the body, reading a body back, grouping problems by field, the magic line and the magic's parser.
A dict body is read and checked against the same table and rules without building a spec
(:func:`check_body`), which keeps a create from Python as cheap as posting the dict.

Only the standard library and traitlets are imported here (see ``design.md``).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from traitlets import Bool, Dict, HasTraits, List, Unicode

from . import rules
from ._text import safe_repr
from .credentials import DEFAULT_BASE_URL
from .errors import Problem, ValidationError

__all__ = [
    "CONFIG_TRAITS",
    "FIELDS",
    "MAGIC_PREFIX",
    "TRAITS",
    "EnvironmentSpec",
    "Field",
    "body_from_values",
    "check_body",
    "curl_command",
    "read_body",
    "with_defaults",
]

MAGIC_PREFIX = "%qoder_env create"


@dataclass(frozen=True)
class Field:
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

    @property
    def parent(self) -> str:
        """The dotted path of the object that holds it ("" for the body itself)."""
        return ".".join(self.path[:-1])

    @property
    def key(self) -> str:
        return self.path[-1]


# Flag order is the order of the magic line; body key order comes from `body_from_values`.
FIELDS: tuple[Field, ...] = (
    Field("name", ("name",), "text", "--name", "NAME", always=True),
    Field("description", ("description",), "text", "--description", "TEXT"),
    Field(
        "networking",
        ("config", "networking", "type"),
        "text",
        "--network",
        "{" + ",".join(rules.NETWORKING_TYPES) + "}",
    ),
    Field(
        "allowed_hosts", ("config", "networking", "allowed_hosts"), "list", "--allow-host", "HOST"
    ),
    Field(
        "allow_package_managers",
        ("config", "networking", "allow_package_managers"),
        "flag",
        "--allow-package-managers",
    ),
    *(Field(m, ("config", "packages", m), "list", f"--{m}", "PKG") for m in rules.PACKAGE_MANAGERS),
    Field("metadata", ("metadata",), "map", "--meta", "KEY=VALUE"),
    Field("setup_script", ("config", "setup_script"), "text", "--setup-script", "TEXT"),
)
TRAITS = tuple(field.trait for field in FIELDS)
#: The traits inside ``config``: an update that sends any of them sends the whole config.
CONFIG_TRAITS = tuple(field.trait for field in FIELDS if field.path[0] == "config")


def _object_keys() -> dict[str, tuple[str, ...]]:
    """The keys each object of the body may hold, keyed by the object's dotted path."""
    keys: dict[str, list[str]] = {"": [], "config": ["type"]}
    for field in FIELDS:
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
        unknown = sorted(set(kwargs) - set(TRAITS))
        if unknown:  # HasTraits would only warn and drop them
            raise TypeError(f"Unknown EnvironmentSpec field(s) {unknown}: use {', '.join(TRAITS)}.")
        super().__init__(**kwargs)

    def values(self) -> dict[str, Any]:
        """Every trait's value, by trait name (the lists and dict are the spec's own)."""
        return {trait: getattr(self, trait) for trait in TRAITS}

    # --- validation -------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every rule the spec breaks, in body order; empty when it can be sent. Never raises."""
        return rules.problems(self.values())

    @property
    def is_valid(self) -> bool:
        return not self.problems()

    def validate(self) -> None:
        """Raise :class:`ValidationError` listing every problem, if there is any."""
        problems = self.problems()
        if problems:
            raise ValidationError(problems)

    def field_problems(self, problems: Sequence[Problem] | None = None) -> dict[str, list[str]]:
        """Problem messages grouped by trait (every trait present), for a form's inline errors;
        pass ``problems`` when they are already known, to check the spec only once."""
        grouped: dict[str, list[str]] = {trait: [] for trait in TRAITS}
        for problem in self.problems() if problems is None else problems:
            grouped[_trait_of(problem.field)].append(problem.message)
        return grouped

    # --- the request body -------------------------------------------------------------------

    def to_body(self) -> dict[str, Any]:
        """The exact request body: only what differs from the service's defaults."""
        self.validate()
        return self.body()

    def body(self) -> dict[str, Any]:
        """The body as :meth:`to_body` builds it, but not checked: it may break rules."""
        return body_from_values(self.values())

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> EnvironmentSpec:
        """Read a request body back into a spec.

        Raises :class:`ValidationError` for what a spec cannot hold: a value of the wrong JSON type,
        an unknown key, a missing ``config`` or a ``config.type`` other than "cloud". Values of the
        right type that break a rule (a URL as a host, a 300-character name, a missing name, a
        non-string metadata value) are kept, so the user can see them and fix them; ``problems()``
        reports them.
        """
        return cls(**read_body(body))

    def to_curl(self, base_url: str = DEFAULT_BASE_URL) -> str:
        """The seed's curl command for this request; the token stays the literal ``$QODER_PAT``."""
        return curl_command("POST", base_url.rstrip("/") + "/environments", self.to_body())

    # --- the magic line ---------------------------------------------------------------------

    def to_magic(self) -> str:
        """The canonical ``%qoder_env create`` line. Not validated: it is input, like the form."""
        words = [MAGIC_PREFIX]
        for field in FIELDS:
            value = getattr(self, field.trait)
            if not (field.always or value != _DEFAULTS[field.trait]):
                continue
            if field.kind == "flag":
                words.append(field.flag)
            elif field.kind == "text":
                words.append(_flag_values(field.flag, [value]))
            elif field.kind == "list":
                words.append(_flag_values(field.flag, value))
            else:
                items = [f"{rules.typed_text(k)}={rules.typed_text(v)}" for k, v in value.items()]
                words.append(_flag_values(field.flag, items))
        return " ".join(words)

    # --- value semantics --------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnvironmentSpec):
            return NotImplemented
        return self.values() == other.values()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def copy(self) -> EnvironmentSpec:
        """An equal, independent spec (its lists and dict are new ones)."""
        return type(self)(**{trait: _copied(value) for trait, value in self.values().items()})

    def __repr__(self) -> str:
        # Body-like and never validated, so an invalid spec shows what is wrong with it.
        return f"{type(self).__name__}.from_body({safe_repr(self.body())})"


#: Each trait's default, the value a body leaves out (never mutated: bodies get copies).
_DEFAULTS: dict[str, Any] = {
    trait: EnvironmentSpec.class_traits()[trait].default() for trait in TRAITS
}


def _copied(value: Any) -> Any:
    """A new list or dict (their items are strings when valid), anything else as it is."""
    return value.copy() if isinstance(value, (list, dict)) else value


def _trait_of(path: str) -> str:
    """The trait a problem's field path belongs to."""
    for field in FIELDS:  # no field's path is a prefix of another's
        if path == field.dotted or path.startswith((field.dotted + "[", field.dotted + ".")):
            return field.trait
    raise LookupError(f"No trait owns the problem field {path!r}.")


# --- bodies: values to a body, a body to values ------------------------------------------------


def body_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The request body for trait values (absent traits are at their defaults), not checked."""
    # The skeleton fixes the seed's key order; nested objects appear only when something in them
    # is sent, in `FIELDS` order.
    body: dict[str, Any] = {
        "name": None,
        "description": None,
        "config": {"type": "cloud"},
        "metadata": None,
    }
    for field in FIELDS:
        value = values.get(field.trait, _DEFAULTS[field.trait])
        if field.always or value != _DEFAULTS[field.trait]:
            node = body
            for key in field.path[:-1]:
                node = node.setdefault(key, {})
            node[field.path[-1]] = _copied(value)
    return {key: value for key, value in body.items() if value is not None}


def with_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every absent trait at its default, as the rules expect them."""
    return {**_DEFAULTS, **values}


def check_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request body to send for a dict body: read, checked by every rule, canonical (defaults
    left out, keys in the seed's order). Raises :class:`ValidationError` listing every problem."""
    values = with_defaults(read_body(body))
    problems = rules.problems(values)
    if problems:
        raise ValidationError(problems)
    return body_from_values(values)


def read_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The trait values a request body holds (only the fields present), as
    :meth:`EnvironmentSpec.from_body` describes; raises :class:`ValidationError` for what a spec
    cannot hold."""
    if not _is_object(body):
        raise ValidationError(
            [Problem("body", f"The body is {rules.json_kind(body)}: it must be a JSON object.")]
        )
    objects, problems = _objects(body)
    values: dict[str, Any] = {}
    for field in FIELDS:
        parent = objects.get(field.parent)
        if parent is not None and field.key in parent:
            value = _read_value(field, parent[field.key], problems)
            if value is not None:
                values[field.trait] = value
    problems += _config_type_problems(body)
    if problems:
        raise ValidationError(problems)
    return values


def _is_object(value: object) -> bool:
    """A JSON object: a dict (checked first, as it is cheap and nearly always so) or a Mapping."""
    return isinstance(value, (dict, Mapping))


def _objects(body: Mapping[str, Any]) -> tuple[dict[str, Mapping[str, Any]], list[Problem]]:
    """The objects of the body by dotted path (``""``, ``config``, ``config.networking``...),
    and the problems of their shape: a value that should be an object, a key none of them takes."""
    objects: dict[str, Mapping[str, Any]] = {"": body}
    problems: list[Problem] = []
    for path, known in _OBJECT_KEYS.items():  # a parent comes before its children
        parent_path, _, key = path.rpartition(".")
        parent = objects.get(parent_path)
        if path and (parent is None or key not in parent):
            continue
        node = parent[key] if path and parent is not None else body
        if not _is_object(node):
            kind = rules.json_kind(node)
            problems.append(Problem(path, f"Expected an object, got {kind}: write {{...}}."))
            continue
        objects[path] = node
        for unknown in (key for key in node if key not in known):
            where = f"{path}." if path else ""
            message = _unknown_key_message(path, unknown, known)
            problems.append(Problem(where + rules.typed_text(unknown), message))
    return objects, problems


def _config_type_problems(body: Mapping[str, Any]) -> list[Problem]:
    if "config" not in body:
        return [Problem("config", 'The config is missing: add "config": {"type": "cloud"}.')]
    config = body["config"]
    found = _is_object(config) and "type" in config
    config_type = config["type"] if found else None
    if _is_object(config) and not found:
        return [Problem("config.type", 'config.type is missing: set it to "cloud".')]
    if found and config_type != "cloud":
        message = (
            f"config.type is {rules.json_kind(config_type)}: this client creates only cloud "
            'environments; set it to "cloud".'
        )
        return [Problem("config.type", message)]
    return []


def _unknown_key_message(path: str, key: object, known: Sequence[str]) -> str:
    if path == "config.packages" and key in rules.UNSUPPORTED_PACKAGE_MANAGERS:
        return (
            f"This client does not support {key} packages (the service would not install them): "
            f"remove {safe_repr(key)}, or install them from config.setup_script."
        )
    where = path or "the body"
    return f"Unknown field {safe_repr(key)}: remove it; {where} takes only {', '.join(known)}."


def _read_value(field: Field, raw: Any, problems: list[Problem]) -> Any:
    """``raw`` converted for ``field``'s trait, or None after reporting a type problem."""
    if field.kind == "text" and isinstance(raw, str):
        return raw
    if field.kind == "flag" and isinstance(raw, bool):
        return raw
    if field.kind == "map" and _is_object(raw):
        return dict(raw)
    if field.kind == "list" and isinstance(raw, (list, tuple)):
        if all(isinstance(item, str) for item in raw):
            return list(raw)
        problems += (
            Problem(
                f"{field.dotted}[{i}]", f"Expected a string, got {rules.json_kind(item)}: quote it."
            )
            for i, item in enumerate(raw)
            if not isinstance(item, str)
        )
        return None
    expected, fix = _EXPECTED[field.kind]
    problems.append(
        Problem(field.dotted, f"Expected {expected}, got {rules.json_kind(raw)}: {fix}.")
    )
    return None


# What each kind of field holds, and how to write it, for a value of the wrong JSON type.
_EXPECTED = {
    "text": ("a string", "write a JSON string"),
    "flag": ("a boolean", "write true or false"),
    "map": ("an object", 'write e.g. {"team": "data"}'),
    "list": ("an array", "write an array of strings"),
}


# --- curl and the magic line -------------------------------------------------------------------


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
