"""``EnvironmentUpdate``: what an update changes (``POST /environments/{id}``), written once.

The client's ``update`` methods, ``Environment.update`` and the ``%qoder_env update`` command all
take these fields and build this value; its body is checked by the same rules as a create, but only
for the parts it sends (contract §2: omitted fields stay, a sent ``config`` replaces the stored one,
``metadata`` is a patch in which ``None`` deletes a key).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import rules
from .errors import Problem, ValidationError
from .spec import (
    CONFIG_TRAITS,
    EnvironmentSpec,
    body_from_values,
    read_body,
    value_warnings,
    with_defaults,
)

__all__ = ["UPDATE_FIELDS", "EnvironmentUpdate", "edited_list"]


@dataclass(frozen=True)
class EnvironmentUpdate:
    """The changes of one update; a field left as None is not sent (and stays as it is)."""

    name: str | None = None
    description: str | None = None
    #: The whole new config: a spec (its config part) or a ``config`` object.
    config: EnvironmentSpec | Mapping[str, Any] | None = None
    #: A patch: a string sets the key, None deletes it; keys not named are kept.
    metadata: Mapping[str, str | None] | None = None
    #: Who may use it: ``organization`` or ``account``. Last, so that positional calls written
    #: before it existed keep their meaning.
    scope: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> EnvironmentUpdate:
        """An update written as a request body (a cell of ``%%qoder_env update``)."""
        unknown = sorted(set(body) - set(UPDATE_FIELDS), key=str)
        if unknown:
            takes = ", ".join(UPDATE_FIELDS)
            raise ValidationError(
                [
                    Problem(str(key), f"Unknown field {key!r}: an update takes {takes}.")
                    for key in unknown
                ]
            )
        return cls(**body)

    @classmethod
    def to_reach(
        cls, before: EnvironmentSpec, after: EnvironmentSpec, traits: Iterable[str]
    ) -> EnvironmentUpdate:
        """The update that turns an environment holding ``before`` into ``after``, sending only
        what ``traits`` (the traits that differ) needs: a config trait sends the whole config (a
        sent config replaces the stored one), metadata sends a patch that sets what changed and
        deletes the keys ``after`` lacks."""
        traits = set(traits)
        changes: dict[str, Any] = {
            name: getattr(after, name)
            for name in ("name", "description", "scope")
            if name in traits
        }
        if traits & set(CONFIG_TRAITS):
            changes["config"] = after
        if "metadata" in traits:
            patch: dict[str, str | None] = {
                key: value
                for key, value in after.metadata.items()
                if before.metadata.get(key) != value
            }
            patch.update({key: None for key in before.metadata if key not in after.metadata})
            changes["metadata"] = patch
        return cls(**changes)

    def applied_to(self, spec: EnvironmentSpec) -> EnvironmentSpec:
        """The spec an environment holding ``spec`` would hold after this update (contract §2):
        what is not sent stays, a sent config replaces the whole config, metadata is patched."""
        result = spec.copy()
        for name in ("name", "description", "scope"):
            if getattr(self, name) is not None:
                setattr(result, name, getattr(self, name))
        if self.config is not None:
            config = _config_values(self.config)
            for trait in CONFIG_TRAITS:
                setattr(result, trait, config[trait])
        if self.metadata is not None:
            metadata = {**result.metadata, **self.metadata}
            result.metadata = {key: value for key, value in metadata.items() if value is not None}
        return result

    def to_body(self) -> dict[str, Any]:
        """The request body; raises :class:`ValidationError` listing every problem of what is
        sent, or when nothing is."""
        if all(getattr(self, name) is None for name in UPDATE_FIELDS):
            raise ValidationError(
                [
                    Problem(
                        "update",
                        "Nothing to update: give a name, description, scope, config or metadata.",
                    )
                ]
            )
        config = None if self.config is None else _config_values(self.config)
        problems = self._problems(config)
        if problems:
            raise ValidationError(problems)
        body: dict[str, Any] = {}
        if self.name is not None:
            body["name"] = self.name
        if self.description is not None:
            body["description"] = self.description
        if self.scope is not None:
            body["scope"] = self.scope
        if config is not None:
            body["config"] = body_from_values(config)["config"]
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        return body

    def warnings(self) -> list[Problem]:
        """What the config sent is worth warning of (see :meth:`EnvironmentSpec.warnings`); empty
        when no config is sent, or when it cannot be read (``to_body`` reports that)."""
        if self.config is None:
            return []
        try:
            return value_warnings(_config_values(self.config))
        except ValidationError:
            return []

    def _problems(self, config: Mapping[str, Any] | None) -> list[Problem]:
        problems = [
            Problem(name, f"Expected {expected}, got {rules.json_kind(value)}.")
            for name, (kind, expected) in _TYPES.items()
            if (value := getattr(self, name)) is not None and not isinstance(value, kind)
        ]
        if problems:  # the rules below assume the right types
            return problems
        if self.name is not None:
            problems += rules.name_problems(self.name)
        if self.description is not None:
            problems += rules.description_problems(self.description)
        if self.scope is not None:
            problems += rules.scope_problems(self.scope)
        if config is not None:
            problems += rules.config_problems(config)
        if self.metadata is not None:
            kept = {key: value for key, value in self.metadata.items() if value is not None}
            problems += rules.metadata_problems(kept)
        return problems


# What a body read from a cell could hold instead (a config is read and reported by the spec).
_TYPES: dict[str, tuple[type, str]] = {
    "name": (str, "a string"),
    "description": (str, "a string"),
    "scope": (str, "a string"),
    "metadata": (Mapping, "an object"),
}

#: The fields an update takes, in body order.
UPDATE_FIELDS = tuple(field.name for field in dataclasses.fields(EnvironmentUpdate))


def _config_values(config: EnvironmentSpec | Mapping[str, Any]) -> dict[str, Any]:
    """Every trait value of a config (the config traits as given, the rest at their defaults)."""
    if isinstance(config, EnvironmentSpec):
        return config.values()
    return with_defaults(read_body({"config": config}))


def edited_list(
    list_name: str, entries: Sequence[str], add: Sequence[str] = (), remove: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """``entries`` with ``remove`` taken out and ``add`` put in, the rest kept in order, and the
    removals that matched nothing. Entries are matched by what they are of
    (:func:`~qoder_jupyter.rules.entry_key`): removing ``pandas`` removes ``pandas>=2``, and adding
    ``pandas>=2.2`` replaces ``pandas>=2`` where it stands."""
    pairs = [(rules.entry_key(list_name, entry), entry) for entry in entries]
    unmatched = []
    for name in remove:
        key = rules.entry_key(list_name, name)
        if all(k != key for k, _ in pairs):
            unmatched.append(name)
        pairs = [(k, entry) for k, entry in pairs if k != key]
    for entry in add:
        key = rules.entry_key(list_name, entry)
        where = next((i for i, (k, _) in enumerate(pairs) if k == key), len(pairs))
        pairs = [(k, e) for k, e in pairs if k != key]
        pairs.insert(where, (key, entry))
    return [entry for _, entry in pairs], unmatched
