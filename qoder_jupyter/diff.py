"""What sending one set of field values over another would change, field by field.

:func:`diff_values` compares two sets of trait values (``EnvironmentSpec.values()``) the way the
service would apply the second over the first, which is the comparison ``%qoder_env apply`` uses
to decide between "update" and "up to date":

- ``networking`` None reads as ``"limited"``, the service's default, on both sides, and that
  default is no difference from a side without networking (self-hosted, or nothing yet);
- a ``scope`` of None on the sending side is not sent (the service keeps its own): no change;
- on a self-hosted config the sandbox fields (networking, packages) do not apply: they are not
  compared when both sides are self-hosted, and go away or appear when the config type changes;
- package lists and allowed hosts are sets keyed by :func:`qoder_jupyter.rules.entry_key`
  (``pandas>=2`` becoming ``pandas>=2.1`` is one change of ``pandas``); metadata is compared key
  by key; text and flags as values (an empty text, or a flag that is off, is no difference from a
  side that does not have the field).

A trait missing from a side holds nothing there, so ``diff_values({}, values, FIELDS)`` is what a
create adds. The field table is an argument (this module sits below ``spec``, which passes its
``FIELDS``). Rendering is :mod:`qoder_jupyter.display_diff`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from . import rules

__all__ = [
    "Change",
    "ChangeAction",
    "DiffField",
    "SpecDiff",
    "diff_values",
    "environment_label",
    "short_id",
    "side_label",
]

#: What the service assumes when no networking type is sent (contract §3). A cloud side shows it
#: for None; it is no difference from a side with no networking (a self-hosted one, or none yet).
_DEFAULT_NETWORKING = "limited"
_SELF_HOSTED = "self_hosted"
#: Traits whose None is "not sent" on the sending side: the service keeps what it has.
_UNSENT_WHEN_NONE = frozenset({"scope"})
#: The objects of a config that only a Qoder cloud sandbox has.
_SANDBOX_PARENTS = (("config", "networking"), ("config", "packages"))


#: What happened to a field, a list's key or a metadata key.
ChangeAction = Literal["added", "removed", "changed"]


class DiffField(Protocol):
    """What the comparison needs of a field of the table (``spec.Field`` is one)."""

    @property
    def trait(self) -> str: ...
    @property
    def path(self) -> tuple[str, ...]: ...
    @property
    def kind(self) -> str: ...  # "text", "flag", "list" or "map"
    @property
    def dotted(self) -> str: ...


@dataclass(frozen=True)
class Change:
    """One difference. ``old`` is None for an addition and ``new`` None for a removal.

    For a list, ``key`` is the package or host the entries are of (:func:`rules.entry_key`) and
    ``old``/``new`` that key's entries joined with ", "; for metadata, ``key`` is the key and
    ``old``/``new`` its values; for text and flags, ``key`` is None and these are the values."""

    field: str
    trait: str
    action: ChangeAction
    key: str | None = None
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class SpecDiff:
    """Every change from ``before`` to ``after`` (the labels of the two sides), in the order of
    the field table, and inside a list or the metadata sorted by key. False when empty."""

    changes: tuple[Change, ...]
    before: str = "before"
    after: str = "after"

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    @property
    def traits(self) -> frozenset[str]:
        """The traits that differ."""
        return frozenset(change.trait for change in self.changes)

    def __str__(self) -> str:
        from .display_diff import diff_text

        return diff_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display_diff import diff_bundle

        return diff_bundle(self)


def diff_values(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    fields: Sequence[DiffField],
    *,
    before_label: str = "before",
    after_label: str = "after",
) -> SpecDiff:
    """What sending the trait values ``after`` over ``before`` would change (see the module's
    docstring for the rules); a trait missing from a side holds nothing there."""
    config_traits = [field.trait for field in fields if field.path == ("config", "type")]
    old_side = _Side(before, _self_hosted(before, config_traits))
    new_side = _Side(after, _self_hosted(after, config_traits))
    changes: list[Change] = []
    for field in fields:
        changes += _field_changes(field, old_side, new_side)
    return SpecDiff(tuple(changes), before=before_label, after=after_label)


# --- the labels of the two sides -----------------------------------------------------------------


def short_id(env_id: str) -> str:
    """An id short enough for a heading: ``env_019e…a1b2`` (the full id when already short)."""
    return env_id if len(env_id) <= 16 else f"{env_id[:8]}…{env_id[-4:]}"


def environment_label(name: str, env_id: str) -> str:
    """How a diff names a live environment: ``ds (env_019e…a1b2, live)``."""
    where = f"({short_id(env_id)}, live)"
    return f"{name} {where}" if name else where


def side_label(side: object, fallback: str) -> str:
    """The label of a side of a diff: an environment's name and short id, else ``fallback``."""
    env_id = getattr(side, "id", None)
    if callable(getattr(side, "to_spec", None)) and isinstance(env_id, str):
        name = getattr(side, "name", "")
        return environment_label(name if isinstance(name, str) else "", env_id)
    return fallback


# --- comparing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    values: Mapping[str, Any]
    self_hosted: bool

    def get(self, field: DiffField) -> Any:
        """The value as compared: None for nothing (missing, empty, or not applying here)."""
        if field.trait not in self.values:
            return None
        if self.self_hosted and field.path[:2] in _SANDBOX_PARENTS:
            return None
        value = self.values[field.trait]
        if field.trait == "networking" and value is None:
            return _DEFAULT_NETWORKING
        if field.kind == "flag":  # off is a value (off to on is a change), yet no more than none
            return value
        return None if value in ("", [], {}) else value


def _self_hosted(values: Mapping[str, Any], config_traits: Sequence[str]) -> bool:
    return any(values.get(trait) == _SELF_HOSTED for trait in config_traits)


def _field_changes(field: DiffField, old_side: _Side, new_side: _Side) -> list[Change]:
    old, new = old_side.get(field), new_side.get(field)
    if field.trait in _UNSENT_WHEN_NONE and new is None:
        return []
    if field.kind == "list":
        return _list_changes(field, old or (), new or ())
    if field.kind == "map":
        return _map_changes(field, old or {}, new or {})
    if _same(field, old, new):
        return []
    return [Change(field.dotted, field.trait, _action(old, new), old=old, new=new)]


def _same(field: DiffField, old: object, new: object) -> bool:
    """Equal, or both no more than nothing: a flag that is off, or the default networking, is no
    difference from a side without them (self-hosted, or nothing yet)."""
    if old == new:
        return True
    if field.kind == "flag":
        nothing: tuple[object, ...] = (None, False)
    else:
        nothing = (None, _DEFAULT_NETWORKING) if field.trait == "networking" else (None,)
    return old in nothing and new in nothing


def _action(old: object, new: object) -> ChangeAction:
    if old is None:
        return "added"
    return "removed" if new is None else "changed"


def _list_changes(field: DiffField, old: Sequence[object], new: Sequence[object]) -> list[Change]:
    """One change per key whose entries differ as sets (order and repeats do not matter)."""
    old_groups, new_groups = _by_key(field.trait, old), _by_key(field.trait, new)
    changes = []
    for key in sorted(old_groups.keys() | new_groups.keys()):
        before, after = old_groups.get(key, ()), new_groups.get(key, ())
        if set(before) != set(after):
            joined_old = ", ".join(before) or None
            joined_new = ", ".join(after) or None
            action = _action(joined_old, joined_new)
            changes.append(Change(field.dotted, field.trait, action, key, joined_old, joined_new))
    return changes


def _by_key(list_name: str, entries: Sequence[object]) -> dict[str, tuple[str, ...]]:
    """The entries of a list grouped by what they are of, each once, in their order."""
    groups: dict[str, dict[str, None]] = {}
    for entry in entries:
        text = entry if isinstance(entry, str) else rules.typed_text(entry)
        groups.setdefault(rules.entry_key(list_name, text), {})[text] = None
    return {key: tuple(group) for key, group in groups.items()}


def _map_changes(field: DiffField, old: Mapping[Any, Any], new: Mapping[Any, Any]) -> list[Change]:
    missing = object()
    changes = []
    for key in sorted(old.keys() | new.keys(), key=rules.typed_text):
        before, after = old.get(key, missing), new.get(key, missing)
        if before == after:
            continue
        old_value = None if before is missing else before
        new_value = None if after is missing else after
        action: ChangeAction = (
            "added" if before is missing else "removed" if after is missing else "changed"
        )
        changes.append(
            Change(field.dotted, field.trait, action, rules.typed_text(key), old_value, new_value)
        )
    return changes
