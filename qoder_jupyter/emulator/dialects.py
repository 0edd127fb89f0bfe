"""The response shapes of the service's documented versions, so clients can be tried against each.

- ``seed`` (default): the user's document. Create answers 201; an environment has ``status``
  (``ready`` or ``archived``) and ``archived_at``; delete answers 200 ``{"id", "type"}``.
  ``scope`` (§7) is in the environment once it was sent, in every dialect.
- ``newest``: the newest docs. No ``status``; ``config`` comes back with every default filled in
  (networking type, ``allowed_hosts: []``, ``allow_package_managers: false``,
  ``allow_mcp_servers: false``, every package list, ``"type": "packages"``).
- ``legacy``: an older doc. Create answers 200; an environment also has ``archived: bool``; delete
  answers 204 with no body.

Validation, errors and everything else are the same in all three.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, get_args

from .ids import format_timestamp
from .store import EnvironmentRecord

Dialect = Literal["seed", "newest", "legacy"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)

_PACKAGE_LISTS = ("apt", "pip", "npm", "cargo", "gem", "go")


def render(record: EnvironmentRecord, dialect: Dialect) -> dict[str, Any]:
    """The environment object as a server of ``dialect`` returns it."""
    archived_at = None if record.archived is None else format_timestamp(record.archived)
    body: dict[str, Any] = {
        "id": record.id,
        "type": "environment",
        "name": record.name,
        "description": record.description,
        **({} if record.scope is None else {"scope": record.scope}),
        "status": "ready" if archived_at is None else "archived",
        "config": record.config,
        "metadata": record.metadata,
        "archived_at": archived_at,
        "created_at": format_timestamp(record.created),
        "updated_at": format_timestamp(record.updated),
    }
    if dialect == "newest":
        del body["status"]
        body["config"] = _with_defaults(record.config)
    elif dialect == "legacy":
        body["archived"] = archived_at is not None
    return body


def create_status(dialect: Dialect) -> int:
    return 200 if dialect == "legacy" else 201


def deleted_body(env_id: str, dialect: Dialect) -> dict[str, Any] | None:
    """The delete answer's body; None means 204 No Content."""
    return None if dialect == "legacy" else {"id": env_id, "type": "environment_deleted"}


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    filled = copy.deepcopy(config)
    networking = filled.setdefault("networking", {})
    networking.setdefault("type", "limited")
    networking.setdefault("allowed_hosts", [])
    networking.setdefault("allow_package_managers", False)
    networking.setdefault("allow_mcp_servers", False)
    packages = filled.setdefault("packages", {})
    packages.setdefault("type", "packages")
    for manager in _PACKAGE_LISTS:
        packages.setdefault(manager, [])
    return filled
