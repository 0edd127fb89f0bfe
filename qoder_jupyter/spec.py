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

import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from traitlets import Bool, Dict, HasTraits, List, Unicode

from . import rules
from ._curl import curl_command
from ._text import safe_repr
from .credentials import DEFAULT_BASE_URL
from .errors import Problem, ValidationError

if TYPE_CHECKING:  # only for typing: environment.py imports this module
    from .diff import SpecDiff
    from .environment import Environment

__all__ = [
    "CONFIG_TRAITS",
    "FIELDS",
    "MAGIC_PREFIX",
    "SANDBOX_TRAITS",
    "TRAITS",
    "EnvironmentSpec",
    "Field",
    "body_from_values",
    "check_body",
    "curl_command",
    "read_body",
    "read_known",
    "value_warnings",
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
    Field("scope", ("scope",), "text", "--scope", "{" + ",".join(rules.SCOPES) + "}"),
    Field(
        "config_type",
        ("config", "type"),
        "text",
        "--config-type",
        "{" + ",".join(rules.CONFIG_TYPES) + "}",
    ),
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
    Field(
        "allow_mcp_servers",
        ("config", "networking", "allow_mcp_servers"),
        "flag",
        "--allow-mcp-servers",
    ),
    *(Field(m, ("config", "packages", m), "list", f"--{m}", "PKG") for m in rules.PACKAGE_MANAGERS),
    Field("metadata", ("metadata",), "map", "--meta", "KEY=VALUE"),
    Field("setup_script", ("config", "setup_script"), "text", "--setup-script", "TEXT"),
)
TRAITS = tuple(field.trait for field in FIELDS)
#: The traits inside ``config``: an update that sends any of them sends the whole config.
CONFIG_TRAITS = tuple(field.trait for field in FIELDS if field.path[0] == "config")
#: The config traits of a Qoder cloud sandbox (networking and packages): they do not apply to a
#: self-hosted runner, whose config is just its setup script.
SANDBOX_TRAITS = tuple(t for t in CONFIG_TRAITS if t not in ("config_type", "setup_script"))


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
    scope = Unicode(
        None,
        allow_none=True,
        help="Who may use it: organization or account; not given: the service's default.",
    )
    config_type = Unicode(
        "cloud",
        help="cloud (a Qoder sandbox) or self_hosted (your own runner: only the setup script "
        "applies; networking and packages do not).",
    )
    networking = Unicode(
        None,
        allow_none=True,
        help="Network access: unrestricted, limited or allowlist; not given means limited.",
    )
    allowed_hosts = List(Unicode(), help="Bare host names reachable under allowlist networking.")
    allow_package_managers = Bool(False, help="Let apt, pip and npm reach their registries.")
    allow_mcp_servers = Bool(False, help="Let the sandbox reach MCP servers.")
    apt = List(Unicode(), help="apt packages to preinstall.")
    pip = List(Unicode(), help="pip requirement specs to preinstall.")
    npm = List(Unicode(), help="npm packages to preinstall.")
    cargo = List(
        Unicode(), help="cargo crates: accepted and kept, but not installed by the service."
    )
    gem = List(Unicode(), help="Ruby gems: accepted and kept, but not installed by the service.")
    go = List(Unicode(), help="Go modules: accepted and kept, but not installed by the service.")
    # Untyped on purpose: a non-string value is reported by problems(), not refused on assignment.
    metadata = Dict(
        help="String key/value pairs, at most 16 (in --meta KEY=VALUE, write an '=' in a key as "
        "\\= and a backslash as \\\\)."
    )
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

    def warnings(self) -> list[Problem]:
        """What is sent as given but worth knowing (e.g. cargo packages are kept, not installed);
        never a reason to refuse the spec."""
        return value_warnings(self.values())

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
        an unknown key, a missing ``config`` or a ``config.type`` other than "cloud" and
        "self_hosted". Values of the right type that break a rule (a URL as a host, a 300-character
        name, a missing name, a non-string metadata value, networking on a self-hosted config) are
        kept, so the user can see them and fix them; ``problems()`` reports them.
        """
        return cls(**read_body(body))

    def to_curl(self, base_url: str = DEFAULT_BASE_URL) -> str:
        """The seed's curl command for this request; the token stays the literal ``$QODER_PAT``."""
        return curl_command("POST", base_url.rstrip("/") + "/environments", self.to_body())

    # --- the magic line ---------------------------------------------------------------------

    def to_magic(self) -> str:
        """The code for this spec: run in a cell, it recreates the spec exactly. Not validated: it
        is input, like the form.

        The one-line ``%qoder_env create`` command when one line can hold every value; otherwise
        (a line break in a setup script or a description) the ``%%qoder_env create`` cell with
        the request body as YAML, which any value survives."""
        line = self.to_magic_line()
        if line.splitlines() == [line]:
            return line
        from ._yaml import yaml_document  # on first use: a one-line spec needs no PyYAML

        # IPython ends every cell with one line break: the document's own is left to it.
        document = yaml_document(self.body()).removesuffix("\n")
        return f"%{MAGIC_PREFIX}\n{document}"

    def to_magic_line(self) -> str:
        """The one-line ``%qoder_env create`` command. A value with a line break makes a line
        IPython splits: use :meth:`to_magic` for code that always runs."""
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
                items = [f"{_meta_key(k)}={rules.typed_text(v)}" for k, v in value.items()]
                words.append(_flag_values(field.flag, items))
        return " ".join(words)

    # --- differences ------------------------------------------------------------------------

    def diff(
        self,
        other: EnvironmentSpec | Environment,
        *,
        before_label: str | None = None,
        after_label: str | None = None,
    ) -> SpecDiff:
        """What sending ``other`` (a spec, or an environment's :meth:`to_spec`) over this spec
        would change: self is the "before" side. See :mod:`qoder_jupyter.diff` for the rules."""
        if isinstance(other, EnvironmentSpec):
            after = other
        elif callable(getattr(other, "to_spec", None)):
            after = other.to_spec()
        else:
            raise TypeError(
                f"diff() compares with an EnvironmentSpec or an Environment, not "
                f"{type(other).__name__}: pass a spec, or an environment from the client."
            )
        from .diff import diff_values, side_label  # on first use: %load_ext needs no diff

        return diff_values(
            self.values(),
            after.values(),
            FIELDS,
            before_label=before_label or "spec",
            after_label=after_label or side_label(other, "other spec"),
        )

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
        "scope": None,
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


def value_warnings(values: Mapping[str, Any]) -> list[Problem]:
    """What the rules warn of in trait values (absent traits at their defaults): sent as given,
    but worth telling the user, such as packages the service keeps but does not install."""
    return rules.warnings(with_defaults(values))


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
    values, problems = _read(body)
    problems += _config_type_problems(body)
    if problems:
        raise ValidationError(problems)
    return values


def read_known(body: object) -> dict[str, Any]:
    """The trait values of a body that may hold more than a spec can, such as an environment a
    service returned: read as :func:`read_body` reads them, except that what a spec cannot hold (a
    field this client does not know, a value of the wrong JSON type) is left out instead of
    refused. A value of the right type is kept even when it breaks a rule. Never raises."""
    return _read(body)[0] if isinstance(body, Mapping) else {}


def _read(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The trait values present in ``body``, and the problems of what a spec cannot hold."""
    objects, problems = _objects(body)
    values: dict[str, Any] = {}
    for field in FIELDS:
        parent = objects.get(field.parent)
        if parent is not None and field.key in parent:
            value = _read_value(field, parent[field.key], problems)
            if value is not None:
                values[field.trait] = value
    return values, problems


def _is_object(value: object) -> bool:
    """A JSON object: a dict (checked first, as it is cheap and nearly always so) or a Mapping."""
    return isinstance(value, (dict, Mapping))


#: Keys a service fills in that carry nothing (the newest docs' ``"type": "packages"``): accepted
#: with exactly this value, and not read.
_MARKERS: dict[str, dict[str, str]] = {"config.packages": {"type": "packages"}}


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
        problems += _unknown_key_problems(path, node, known)
    return objects, problems


def _unknown_key_problems(
    path: str, node: Mapping[str, Any], known: Sequence[str]
) -> Iterator[Problem]:
    markers = _MARKERS.get(path, {})
    where = f"{path}." if path else ""
    for key in node:
        if key in known or (key in markers and node[key] == markers[key]):
            continue
        if key in markers:
            message = (
                f'{where}{key} may only be "{markers[key]}" (a marker newer services add), not '
                f"{rules.json_kind(node[key])}: remove it."
            )
        else:
            message = _unknown_key_message(path, key, known)
        yield Problem(where + rules.typed_text(key), message)


def _config_type_problems(body: Mapping[str, Any]) -> list[Problem]:
    """A missing config or config.type. (A type that is not one of the two is a rule, reported
    by ``problems()`` with the value kept, like any other; a non-string one is reported as a
    wrong JSON type when it is read.)"""
    choices = " or ".join(f'"{kind}"' for kind in rules.CONFIG_TYPES)
    if "config" not in body:
        return [Problem("config", 'The config is missing: add "config": {"type": "cloud"}.')]
    config = body["config"]
    if not _is_object(config):
        return []  # reported with the shape of the body
    if "type" not in config:
        message = (
            f'config.type is missing: set it to {choices} ("self_hosted" runs on your own '
            "runner, with just a setup script)."
        )
        return [Problem("config.type", message)]
    return []


def _unknown_key_message(path: str, key: object, known: Sequence[str]) -> str:
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


# --- the magic line -------------------------------------------------------------------


def _meta_key(key: object) -> str:
    """A metadata key as ``--meta KEY=VALUE`` writes it: the first unescaped '=' ends the key, so
    an '=' in the key is written '\\=' and a backslash '\\\\'."""
    return rules.typed_text(key).replace("\\", "\\\\").replace("=", "\\=")


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
