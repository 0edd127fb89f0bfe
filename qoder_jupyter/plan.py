"""What an apply does or would do: for each spec, whether its environment is created, updated
(with the diff), left as it is, or could not be reached (with why). A dry run returns the
:class:`Plan` without writing; a run returns the same kind of object with what was done, the
environments included. Rendering: :mod:`qoder_jupyter.display_diff`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .diff import SpecDiff
    from .environment import DeletedEnvironment, Environment
    from .errors import QoderError
    from .spec import EnvironmentSpec

__all__ = ["ACTIONS", "Action", "Applied", "Each", "Plan"]

#: ``create``/``update``/``unchanged`` as planned (or done, in a finished apply); ``failed``: it
#: could not be planned or done, ``reason`` says why.
Action = Literal["create", "update", "unchanged", "failed"]
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "failed")

#: How a finished apply words each action.
DONE = {"create": "created", "update": "updated", "unchanged": "unchanged", "failed": "failed"}


@dataclass
class Applied:
    """One spec of an apply. ``diff`` goes from the live environment to the spec (for a create,
    from nothing); ``environment`` is the live one in a plan, and the result once done."""

    name: str
    action: Action
    spec: EnvironmentSpec
    diff: SpecDiff | None = None
    environment: Environment | None = None
    reason: str = ""
    done: bool = False

    @property
    def result(self) -> str:
        """The action as a finished apply says it (``created``...), or as planned."""
        return DONE[self.action] if self.done else self.action

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from . import display_diff

        return display_diff.applied_bundle(self)


@dataclass
class Plan(Sequence[Applied]):
    """Every spec of an apply, in the order given; ``done`` once it was carried out."""

    items: list[Applied] = field(default_factory=list)
    done: bool = False

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Applied:  # type: ignore[override]
        return self.items[index]

    def __iter__(self) -> Iterator[Applied]:
        return iter(self.items)

    def count(self, action: Action) -> int:
        """How many items have this action."""
        return sum(item.action == action for item in self.items)

    @property
    def environments(self) -> list[Environment]:
        """The environments of the items that have one, in order."""
        return [item.environment for item in self.items if item.environment is not None]

    @property
    def failed(self) -> list[Applied]:
        return [item for item in self.items if item.action == "failed"]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from . import display_diff

        return display_diff.plan_bundle(self)

    def __str__(self) -> str:
        from . import display_diff

        return display_diff.plan_text(self)


@dataclass(frozen=True)
class Each:
    """What an archive or a delete of several environments did to one of them: its answer, or
    the error that stopped it (the others went on)."""

    env_id: str
    answer: Environment | DeletedEnvironment | None = None
    error: QoderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
