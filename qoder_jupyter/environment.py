"""What the service returns, read tolerantly.

Every documented shape of an environment is accepted: with or without ``status``, ``archived`` or
``archived_at``, with the defaults newer servers fill into ``config`` or without them, with fields
this client does not know (kept in :attr:`Environment.data`, never dropped). Only ``id`` is
required.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ._text import optional_text

if TYPE_CHECKING:
    from .diff import SpecDiff
    from .spec import EnvironmentSpec
    from .update import EnvironmentUpdate

__all__ = [
    "DeletedEnvironment",
    "Environment",
    "EnvironmentPage",
    "EnvironmentsAPI",
    "ResponseShapeError",
    "config_without_defaults",
]


#: Where a displayed environment (or list) keeps its JSON in a notebook; see display.for_display.
ENVIRONMENT_JSON_TYPE = "application/vnd.qoder.environment+json"
ENVIRONMENT_LIST_JSON_TYPE = "application/vnd.qoder.environment-list+json"


class ResponseShapeError(ValueError):
    """The service answered with something that is not an environment at all."""


class EnvironmentsAPI(Protocol):
    """What an environment needs of a client for its lifecycle helpers (``client.environments``
    of a synchronous :class:`~qoder_jupyter.client.Client`)."""

    def retrieve(self, env_id: str) -> Environment: ...
    def update(
        self, env_id: str, changes: EnvironmentUpdate | None = None, /, **fields: Any
    ) -> Environment: ...
    def archive(self, env_id: str) -> Environment: ...
    def delete(self, env_id: str) -> DeletedEnvironment: ...


class Environment:
    """A Qoder cloud environment as the service returned it.

    The typed properties never raise: a missing or oddly typed field reads as an empty value, and
    :attr:`data` keeps the response exactly as it came. ``refresh``, ``update``, ``archive`` and
    ``delete`` act through the client that fetched it (or the one passed as ``api=``).
    """

    #: The workspace it was read from (its ``qoder-workspace-id``); None: the default one.
    workspace: str | None = None
    #: True once it was deleted through this object (``env.delete()``, ``%qoder_env delete env``):
    #: its card and status say so, and its lifecycle helpers refuse.
    deleted: bool = False

    def __init__(self, data: Mapping[str, Any], *, api: EnvironmentsAPI | None = None) -> None:
        _check_shape(data)
        self._data: dict[str, Any] = copy.deepcopy(dict(data))
        self._api = api

    @classmethod
    def from_json(cls, data: Any, *, api: EnvironmentsAPI | None = None) -> Environment:
        """From freshly parsed JSON that nothing else holds: no defensive copy needed."""
        _check_shape(data)
        environment = cls.__new__(cls)
        environment._data = data
        environment._api = api
        return environment

    def bind(self, api: EnvironmentsAPI | None, *, workspace: str | None = None) -> Environment:
        """Attach the client resource the lifecycle helpers use, and note the workspace the
        environment was read from; returns self."""
        self._api = api
        self.workspace = workspace
        return self

    # --- lifecycle -------------------------------------------------------------------------------

    def refresh(self, *, api: EnvironmentsAPI | None = None) -> Environment:
        """Fetch the current state from the service, in place; returns self."""
        return self._adopt(self._require_api(api, "refreshed").retrieve(self.id))

    def update(
        self,
        changes: EnvironmentUpdate | None = None,
        /,
        *,
        api: EnvironmentsAPI | None = None,
        **fields: Any,
    ) -> Environment:
        """Change what is given, in place: an :class:`~qoder_jupyter.update.EnvironmentUpdate`
        or its fields as keywords (``metadata`` is a patch: ``None`` deletes a key; ``config``
        replaces the whole config); returns self."""
        return self._adopt(self._require_api(api, "updated").update(self.id, changes, **fields))

    def archive(self, *, api: EnvironmentsAPI | None = None) -> Environment:
        """Archive it (no new sessions; there is no unarchive), in place; returns self."""
        return self._adopt(self._require_api(api, "archived").archive(self.id))

    def delete(self, *, api: EnvironmentsAPI | None = None) -> DeletedEnvironment:
        """Delete it on the service, and mark this object deleted (see :attr:`deleted`)."""
        answer = self._require_api(api, "deleted again").delete(self.id)
        self.mark_deleted()
        return answer

    def mark_deleted(self) -> Environment:
        """Note that the service no longer has it (``delete`` does this); returns self."""
        self.deleted = True
        return self

    def require_live(self, doing: str) -> None:
        """Raise :class:`~qoder_jupyter.errors.EnvironmentDeletedError` if it was deleted:
        ``doing`` says what was refused ("updated", "archived"...)."""
        if self.deleted:
            from .errors import EnvironmentDeletedError

            raise EnvironmentDeletedError(self.id, self.name, doing)

    def to_spec(self) -> EnvironmentSpec:
        """A spec of this environment (name, description, scope, config and metadata), to clone or
        edit. Never raises: the defaults a server fills in are left out; a value that breaks a rule
        is kept, for ``problems()`` to report; what a spec cannot hold (a field this client does
        not know, a value of the wrong JSON type) is left out, and stays in :attr:`data`."""
        from .spec import EnvironmentSpec

        return EnvironmentSpec(**self._spec_values())

    def _spec_values(self) -> dict[str, Any]:
        """The trait values :meth:`to_spec` holds (only those present), without building a spec:
        comparing hundreds of environments in an apply needs only these."""
        from .spec import read_known

        body = {key: self._data[key] for key in _SPEC_KEYS if key in self._data}
        body["config"] = config_without_defaults(self._config())
        return read_known(body)

    def diff(
        self,
        other: EnvironmentSpec | Environment,
        *,
        before_label: str | None = None,
        after_label: str | None = None,
    ) -> SpecDiff:
        """What sending ``other`` (a spec, or another environment's spec) over this environment
        would change, ignoring the defaults a server fills in; an empty diff is False."""
        from .diff import diff_values, environment_label, side_label
        from .spec import FIELDS, EnvironmentSpec, with_defaults

        after = other.values() if isinstance(other, EnvironmentSpec) else _values_of(other)
        return diff_values(
            with_defaults(self._spec_values()),
            after,
            FIELDS,
            before_label=before_label or environment_label(self.name, self.id),
            after_label=after_label or side_label(other, "spec"),
        )

    def _require_api(self, api: EnvironmentsAPI | None, doing: str) -> EnvironmentsAPI:
        self.require_live(doing)
        chosen = api or self._api
        if chosen is None:
            raise RuntimeError(
                "This Environment is not attached to a client: pass one, e.g. "
                "env.refresh(api=Client().environments)."
            )
        return chosen

    def _adopt(self, fresh: Environment) -> Environment:
        self._data = fresh._data
        return self

    def __getstate__(self) -> dict[str, Any]:
        # A client (and its token) is never pickled; where it came from is kept.
        return {
            "_data": self._data,
            "_api": None,
            "workspace": self.workspace,
            "deleted": self.deleted,
        }

    # --- display (rendered by qoder_jupyter.display; never raises, never does I/O) ---------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import environment_bundle, for_display

        return for_display(environment_bundle(self), include, ENVIRONMENT_JSON_TYPE)

    @property
    def data(self) -> dict[str, Any]:
        """The response as the service sent it (a copy: changing it changes nothing here)."""
        return copy.deepcopy(self._data)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    @property
    def id(self) -> str:
        return str(self._data["id"])

    @property
    def name(self) -> str:
        return _text(self._data.get("name"))

    @property
    def description(self) -> str:
        return _text(self._data.get("description"))

    @property
    def scope(self) -> str | None:
        """``organization`` or ``account`` as the service said it; None when it said nothing."""
        return optional_text(self._data.get("scope"))

    @property
    def config(self) -> dict[str, Any]:
        return copy.deepcopy(_mapping(self._data.get("config")))

    def _config(self) -> dict[str, Any]:
        """The config as stored, for reading here (the public property hands out a copy)."""
        return _mapping(self._data.get("config"))

    def _networking(self) -> dict[str, Any]:
        return _mapping(self._config().get("networking"))

    @property
    def metadata(self) -> dict[str, Any]:
        return copy.deepcopy(_mapping(self._data.get("metadata")))

    @property
    def archived(self) -> bool:
        """Archived by any of the documented signs: ``archived_at``, ``archived`` or ``status``."""
        return bool(
            self._data.get("archived_at")
            or self._data.get("archived") is True
            or self._data.get("status") == "archived"
        )

    @property
    def status(self) -> str:
        """``deleted`` once deleted through this object; else the service's status when it sends
        one, else derived: ``archived`` or ``ready``."""
        if self.deleted:
            return "deleted"
        status = self._data.get("status")
        if isinstance(status, str) and status:
            return status
        return "archived" if self.archived else "ready"

    @property
    def config_type(self) -> str:
        """``cloud`` (a Qoder sandbox; also when absent) or ``self_hosted`` (the customer's own
        runner, where networking and packages do not apply), as written."""
        return _text(self._config().get("type")) or "cloud"

    @property
    def self_hosted(self) -> bool:
        return self.config_type == "self_hosted"

    @property
    def networking(self) -> str:
        """The networking type as written, or ``limited`` (the service's default) when absent."""
        return _text(self._networking().get("type")) or "limited"

    @property
    def allowed_hosts(self) -> list[str]:
        hosts = self._networking().get("allowed_hosts")
        return [host for host in hosts if isinstance(host, str)] if isinstance(hosts, list) else []

    @property
    def allow_package_managers(self) -> bool:
        return self._networking().get("allow_package_managers") is True

    @property
    def allow_mcp_servers(self) -> bool:
        return self._networking().get("allow_mcp_servers") is True

    @property
    def packages(self) -> dict[str, list[str]]:
        """Every non-empty package list, by manager (``apt``, ``pip``, ``npm``, and any other)."""
        packages = _mapping(self._config().get("packages"))
        return {
            manager: [spec for spec in specs if isinstance(spec, str)]
            for manager, specs in packages.items()
            if isinstance(specs, list) and specs
        }

    @property
    def created_at(self) -> datetime | None:
        return _timestamp(self._data.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return _timestamp(self._data.get("updated_at"))

    @property
    def archived_at(self) -> datetime | None:
        return _timestamp(self._data.get("archived_at"))

    def matches(self, body: Mapping[str, Any]) -> bool:
        """Whether this environment is what ``body`` (a create request) asked for, ignoring the
        defaults a server may fill in. Used to recognise our own create after a lost answer."""
        sent_config = body.get("config")
        sent_scope = body.get("scope")
        return (
            self.name == body.get("name")
            and self.description == _text(body.get("description"))
            and (sent_scope is None or self.scope == sent_scope)  # unsent: the service's default
            and _comparable(self._config())
            == _comparable(sent_config if isinstance(sent_config, Mapping) else {})
            and self.metadata == dict(body.get("metadata") or {})
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]  # mutable-looking data: not hashable

    def __repr__(self) -> str:
        return f"Environment(id={self.id!r}, name={self.name!r}, status={self.status!r})"


@dataclass(frozen=True)
class EnvironmentPage(Sequence[Environment]):
    """One page of a list call. Iterate it for its environments; ``next_page`` continues it."""

    data: tuple[Environment, ...]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    next_page: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> EnvironmentPage:
        items = body.get("data")
        if not isinstance(items, list):
            raise ResponseShapeError("The list response has no 'data' array.")
        data = tuple(Environment.from_json(item) for item in items)
        known = {"data", "has_more", "first_id", "last_id", "next_page"}
        return cls(
            data=data,
            has_more=body.get("has_more") is True,
            first_id=optional_text(body.get("first_id")),
            last_id=optional_text(body.get("last_id")) or (data[-1].id if data else None),
            next_page=optional_text(body.get("next_page")),
            extra={key: value for key, value in body.items() if key not in known},
        )

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Environment:  # type: ignore[override]
        return self.data[index]

    def __iter__(self) -> Iterator[Environment]:
        return iter(self.data)

    def __repr__(self) -> str:
        more = ", has_more=True" if self.has_more else ""
        return f"EnvironmentPage({len(self.data)} environments{more})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import for_display, page_bundle

        bundle = page_bundle(self.data, has_more=self.has_more)
        return for_display(bundle, include, ENVIRONMENT_LIST_JSON_TYPE)


@dataclass(frozen=True)
class DeletedEnvironment:
    """The answer to a delete, whichever of its documented shapes the service used."""

    id: str

    @classmethod
    def from_response(cls, env_id: str, body: object) -> DeletedEnvironment:
        # 200 {"id", "type": "environment_deleted"}, 200 {"deleted": true, ...} or 204 (no body).
        if isinstance(body, Mapping) and isinstance(body.get("id"), str):
            return cls(id=body["id"])
        return cls(id=env_id)


#: What of an environment a spec holds (besides its config).
_SPEC_KEYS = ("name", "description", "scope", "metadata")


def _values_of(other: object) -> dict[str, Any]:
    """The trait values of what an environment is compared with: another environment (or
    anything with a ``to_spec``)."""
    if isinstance(other, Environment):
        from .spec import with_defaults

        return with_defaults(other._spec_values())
    if callable(getattr(other, "to_spec", None)):
        return other.to_spec().values()  # type: ignore[attr-defined, no-any-return]
    raise TypeError(
        f"diff() compares with an EnvironmentSpec or an Environment, not "
        f"{type(other).__name__}: pass a spec, or an environment from the client."
    )


def config_without_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the values a server fills in by default (empty lists and objects,
    ``false``, ``null``, the ``"type": "packages"`` marker, and on a self-hosted config, which has
    no networking, a ``limited`` networking type), so two configs can be compared."""
    cleaned = _without_defaults(config)
    if cleaned.get("type") == "self_hosted" and cleaned.get("networking") == {"type": "limited"}:
        del cleaned["networking"]
    return cleaned


def _without_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            value = _without_defaults(value)
        if value in (None, False, [], {}, "") or (key, value) == ("type", "packages"):
            continue
        cleaned[key] = value
    return cleaned


def _comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as :meth:`Environment.matches` compares it: without defaults, and without a
    ``limited`` networking type (what the service assumes when none is sent)."""
    cleaned = config_without_defaults(config)
    networking = cleaned.get("networking")
    if isinstance(networking, dict) and networking.get("type") == "limited":
        del networking["type"]
        if not networking:
            del cleaned["networking"]
    return cleaned


def _check_shape(data: object) -> None:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
        raise ResponseShapeError("The response is not an environment: it has no 'id'.")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


# RFC 3339 date-time ("t" or a space may stand for the "T"; the seconds, their fraction and the
# offset may be missing, a date alone is midnight). Matched here, not left to
# datetime.fromisoformat, which before Python 3.11 takes only 3 or 6 digits of fraction (servers
# send 1 to 9) and from 3.11 on takes other ISO 8601 forms too: the same text, the same answer on
# every Python.
_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.(?P<fraction>[0-9]+))?)?)"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)


def _timestamp(value: object) -> datetime | None:
    """RFC 3339 text as a datetime (a fraction past microseconds is cut); None when absent or
    unreadable (never an error)."""
    if not isinstance(value, str) or not (match := _TIMESTAMP.fullmatch(value.strip())):
        return None
    text = match["date"]
    if match["time"]:
        text += "T" + match["time"].partition(".")[0]
        if match["fraction"]:
            text += "." + match["fraction"][:6].ljust(6, "0")
        if match["offset"]:
            text += "+00:00" if match["offset"] in "Zz" else match["offset"]
    try:  # a day, hour or offset out of range
        return datetime.fromisoformat(text)
    except ValueError:
        return None
