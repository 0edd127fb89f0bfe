"""Rich display of a diff (:class:`~qoder_jupyter.diff.SpecDiff`) and of an apply's plan
(:class:`~qoder_jupyter.plan.Plan`), for every frontend (design principle 6).

A diff reads like a unified diff: ``---``/``+++`` name the two sides, an indented line names each
field that differs, and under it ``-`` lines hold what goes away and ``+`` lines what comes; a
multi-line text (a setup script) is compared line by line. ``text/plain`` is that text, Markdown
puts it in a ```` ```diff ```` block, and the HTML is the same lines in a ``<pre>`` with tinted
backgrounds (the ``-``/``+`` markers stay, so colour is never the only signal, and the lines still
read as a diff where the style is stripped). The style is ``static/diff.css``, with the card's
``card.css`` for the badges and the table of a plan. Every value is cleaned, clipped and escaped;
rendering never raises and does no I/O but reading those stylesheets once.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._markup import block, escape, line, md, md_code, plural, style
from ._text import clip, safe_repr

if TYPE_CHECKING:  # only for typing: these modules render themselves through this one
    from .diff import Change, SpecDiff
    from .plan import Action, Applied, Plan

__all__ = [
    "NO_DIFFERENCES",
    "applied_bundle",
    "diff_bundle",
    "diff_text",
    "plan_bundle",
    "plan_text",
]

NO_DIFFERENCES = "No differences."

_LABEL = 200  # characters shown of a side's label, a name or an id
_LINE = 500  # ... of one line of a diff
_REASON = 500  # ... of why an item of a plan failed
_TEXT = 20_000  # characters of a text value compared line by line
_CONTEXT = 2  # unchanged lines shown around changed ones in a text
_ROWS = 400  # lines of one diff shown
_ITEMS = 200  # items of a plan shown

#: The field whose changes are keyed values (``key: value``), not list entries.
_MAP_TRAITS = frozenset({"metadata"})

RowKind = Literal["field", "del", "add", "ctx", "hunk", "more"]
_PREFIX: dict[RowKind, str] = {
    "field": "  ",
    "del": "-   ",
    "add": "+   ",
    "ctx": "    ",
    "hunk": "    ",
    "more": "    ",
}
_DIFF_KINDS: dict[str, RowKind] = {"-": "del", "+": "add", " ": "ctx"}
_BACKTICKS = re.compile("`+")


@dataclass(frozen=True)
class _Row:
    """One line of a diff under its two labels: cleaned and clipped, not yet escaped."""

    kind: RowKind
    text: str

    @property
    def plain(self) -> str:
        return (_PREFIX[self.kind] + self.text).rstrip()


@dataclass(frozen=True)
class _View:
    """What is shown of one diff."""

    before: str
    after: str
    rows: tuple[_Row, ...]

    @property
    def empty(self) -> bool:
        return not self.rows


# --- a diff --------------------------------------------------------------------------------------


def diff_bundle(diff: SpecDiff) -> dict[str, Any]:
    """The MIME bundle of a diff (never raises)."""
    try:
        view = _view(diff)
        return {
            "text/plain": _diff_text(view),
            "text/html": _styles() + f'<div class="qoder-env">{_diff_html(view)}</div>',
            "text/markdown": _diff_markdown(view),
        }
    except Exception:  # a repr must never fail the cell: show what is safe instead
        return _fallback_bundle(safe_repr(diff))


def diff_text(diff: SpecDiff) -> str:
    """The diff as text, in a unified-diff style (never raises)."""
    return str(diff_bundle(diff)["text/plain"])


def _view(diff: SpecDiff) -> _View:
    changes = list(diff.changes)
    return _View(
        before=line(str(diff.before), _LABEL),
        after=line(str(diff.after), _LABEL),
        rows=_clipped(list(_rows(changes))),
    )


def _clipped(rows: list[_Row]) -> tuple[_Row, ...]:
    if len(rows) <= _ROWS:
        return tuple(rows)
    return (*rows[: _ROWS - 1], _Row("more", f"… {len(rows) - _ROWS + 1} more lines not shown"))


def _rows(changes: Sequence[Change]) -> Iterator[_Row]:
    """Each field that differs, then its lines (the changes of a field come together)."""
    for field, group in itertools.groupby(changes, key=lambda change: change.field):
        yield _Row("field", line(str(field), _LINE))
        for change in group:
            yield from _change_rows(change)


def _change_rows(change: Change) -> Iterator[_Row]:
    old = None if change.action == "added" else _value_text(change.old)
    new = None if change.action == "removed" else _value_text(change.new)
    if change.trait in _MAP_TRAITS:
        key = str(change.key)
        old, new = (None if v is None else f"{key}: {v}" for v in (old, new))
    elif _multiline(old) or _multiline(new):
        yield from _text_rows(old, new)
        return
    if old is not None:
        yield _Row("del", line(old, _LINE))
    if new is not None:
        yield _Row("add", line(new, _LINE))


def _multiline(text: str | None) -> bool:
    return text is not None and ("\n" in text or "\r" in text)


def _text_rows(old: str | None, new: str | None) -> Iterator[_Row]:
    """A text compared line by line: the changed lines with a little context, under hunk
    headers (``@@ -3,2 +3,3 @@``) saying where they are."""
    old_lines, new_lines = _lines(old), _lines(new)
    if old is None or new is None:
        kind: RowKind = "add" if old is None else "del"
        yield from (_Row(kind, line(text, _LINE)) for text in new_lines or old_lines)
        return
    compared = difflib.unified_diff(old_lines, new_lines, n=_CONTEXT, lineterm="")
    found = False
    for text in itertools.islice(compared, 2, None):  # past the "---"/"+++" lines
        found = True
        if text.startswith("@@"):
            yield _Row("hunk", line(text, _LINE))
        else:
            yield _Row(_DIFF_KINDS.get(text[:1], "ctx"), line(text[1:], _LINE))
    if not found:  # the texts differ past the part compared
        yield _Row("more", f"(they differ after the first {_TEXT:,} characters)")


def _lines(text: str | None) -> list[str]:
    return [] if text is None else block(text, _TEXT).split("\n")


def _value_text(value: object) -> str:
    """A value as shown: text as it is, a flag as JSON writes it, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr, separators=(",", ":"))
    except Exception:
        text = safe_repr(value)
    return clip(text, _TEXT)


# --- a diff: the three renderings ----------------------------------------------------------------


def _diff_lines(view: _View) -> list[str]:
    if view.empty:
        return [NO_DIFFERENCES]
    return [f"--- {view.before}", f"+++ {view.after}", *(row.plain for row in view.rows)]


def _diff_text(view: _View) -> str:
    return "\n".join(_diff_lines(view))


def _diff_html(view: _View) -> str:
    if view.empty:
        return f'<p class="qoder-env-summary">{NO_DIFFERENCES}</p>'
    labels = (
        f'<span class="qoder-env-diff-label qoder-env-diff-old">--- {escape(view.before)}\n</span>'
        f'<span class="qoder-env-diff-label qoder-env-diff-new">+++ {escape(view.after)}\n</span>'
    )
    rows = "".join(_row_html(row) for row in view.rows)
    return f'<pre class="qoder-env-diff">{labels}{rows}</pre>'


def _row_html(row: _Row) -> str:
    prefix = _PREFIX[row.kind]
    mark = prefix[:1].strip()
    marked = f'<span class="qoder-env-diff-mark">{mark}</span>{prefix[1:]}' if mark else prefix
    return f'<span class="qoder-env-diff-{row.kind}">{marked}{escape(row.text)}\n</span>'


def _diff_markdown(view: _View) -> str:
    if view.empty:
        return NO_DIFFERENCES + "\n"
    return _fenced("diff", _diff_lines(view))


def _fenced(language: str, lines: Sequence[str]) -> str:
    """A fenced code block that no run of backticks inside it can close."""
    longest = max((len(run) for text in lines for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n" + "\n".join(lines) + f"\n{fence}\n"


def _styles() -> str:
    return style("card.css") + style("diff.css")


# --- a plan --------------------------------------------------------------------------------------

#: How a plan says each action: as planned (the head's count, an item's badge), and once done.
_WORDS: dict[Action, tuple[str, str]] = {
    "create": ("to create", "created"),
    "update": ("to update", "updated"),
    "unchanged": ("unchanged", "unchanged"),
    "failed": ("failed", "failed"),
}
_TONES: dict[Action, str] = {
    "create": "ok",
    "update": "warn",
    "unchanged": "neutral",
    "failed": "error",
}
_COLUMNS = ("Name", "Result", "ID", "Changes or reason")


@dataclass(frozen=True)
class _Item:
    """What is shown of one item of a plan: cleaned and clipped, not yet escaped."""

    name: str
    action: Action
    said: str  # the action as planned ("create"), or what was done ("created")
    env_id: str  # "" when there is none (yet)
    details: str  # what changes, or why it failed
    diff: _View | None

    @property
    def row(self) -> tuple[str, str, str, str]:
        """Its row of the summary table of a done plan."""
        return (self.name, self.said, self.env_id or "—", self.details or "—")


@dataclass(frozen=True)
class _PlanView:
    head: str
    items: tuple[_Item, ...]
    more: str  # how many items are not shown, if any
    done: bool


def plan_bundle(plan: Plan) -> dict[str, Any]:
    """The MIME bundle of an apply's plan, or of its outcome once done (never raises)."""
    try:
        view = _plan_view(plan)
        return {
            "text/plain": _plan_text(view),
            "text/html": _styles() + _plan_html(view),
            "text/markdown": _plan_markdown(view),
        }
    except Exception:
        return _fallback_bundle(safe_repr(plan))


def plan_text(plan: Plan) -> str:
    """The plan as text (never raises)."""
    return str(plan_bundle(plan)["text/plain"])


def _plan_view(plan: Plan) -> _PlanView:
    done = bool(plan.done)
    items = list(plan)
    more = f"… and {len(items) - _ITEMS} more not shown" if len(items) > _ITEMS else ""
    return _PlanView(
        head=_plan_head(plan, done),
        items=tuple(_item(applied, done) for applied in items[:_ITEMS]),
        more=more,
        done=done,
    )


def _plan_head(plan: Plan, done: bool) -> str:
    """``Plan: 1 to create, 2 to update, 3 unchanged`` (``Applied: 1 created, ...`` once done),
    and how many failed when any did."""
    parts = []
    for action, words in _WORDS.items():
        count = plan.count(action)
        if count or action != "failed":
            parts.append(f"{count} {words[done]}")
    return ("Applied: " if done else "Plan: ") + ", ".join(parts)


def _item(applied: Applied, done: bool) -> _Item:
    environment = applied.environment
    return _Item(
        name=line(applied.name, _LABEL) or "(unnamed)",
        action=applied.action,
        said=_WORDS[applied.action][1] if done else applied.action,
        env_id=line(environment.id, _LABEL) if environment is not None else "",
        details=_details(applied),
        diff=_item_diff(applied),
    )


def _item_diff(applied: Applied) -> _View | None:
    """The diff shown under an item: none for one that is up to date; for a create without one,
    the request body it sends, as additions."""
    if applied.action == "unchanged":
        return None
    if applied.diff is not None:
        view = _view(applied.diff)
        return None if view.empty else view
    if applied.action != "create":
        return None
    body = json.dumps(applied.spec.body(), indent=2, ensure_ascii=False, default=repr)
    rows = [_Row("field", "request body"), *(_Row("add", line(t, _LINE)) for t in body.split("\n"))]
    return _View("(nothing)", "spec", _clipped(rows))


def _details(applied: Applied) -> str:
    """The last column of the summary table: what changes, or why it failed."""
    if applied.action == "failed":
        return line(applied.reason, _REASON) or "no reason given"
    if applied.action == "create":
        return "new environment"
    if applied.action == "unchanged":
        return "up to date"
    changes = list(applied.diff.changes) if applied.diff is not None else []
    traits = ", ".join(dict.fromkeys(change.trait for change in changes))
    return line(f"{plural(len(changes), 'change')}: {traits}" if changes else "", _LABEL)


def applied_bundle(applied: Applied) -> dict[str, Any]:
    """One spec's apply on its own, as ``%qoder_env apply`` shows it above the environment's
    card: one sentence, then the diff of an update (or of a create that is only planned; a done
    create needs none, its card follows). Never raises."""
    try:
        item = _item(applied, applied.done)
        diff = None if applied.done and applied.action == "create" else item.diff
        sentence = _sentence(item, applied.done)
        lines = [sentence, *(_diff_lines(diff) if diff is not None else ())]
        tone = _TONES[item.action]
        badge = f'<span class="qoder-env-badge qoder-env-{tone}">{escape(item.said)}</span>'
        html = (
            f'<div class="qoder-env"><div class="qoder-env-plan-head">{badge} {escape(sentence)}'
            f"</div>{_diff_html(diff) if diff is not None else ''}</div>"
        )
        markdown = md(sentence) + ("\n\n" + _diff_markdown(diff) if diff is not None else "\n")
        return {
            "text/plain": "\n".join(lines),
            "text/html": _styles() + html,
            "text/markdown": markdown,
        }
    except Exception:
        return _fallback_bundle(safe_repr(applied))


def _sentence(item: _Item, done: bool) -> str:
    """What one apply did or would do, as a sentence."""
    named = f"{item.name} ({item.env_id})" if item.env_id else item.name
    if item.action == "failed":
        return f"{named} could not be applied: {item.details}"
    if item.action == "unchanged":
        then = "nothing was sent" if done else "applying it sends nothing"
        return f"{named} is up to date: {then}."
    if item.action == "create":
        return (
            f"Created {named}."
            if done
            else f"Would create {named}: no unarchived environment has the name."
        )
    return f"Updated {named}: {item.details}." if done else f"Would update {named}: {item.details}."


# --- a plan: the three renderings ----------------------------------------------------------------


def _plan_text(view: _PlanView) -> str:
    parts = [view.head, *("\n".join(_item_lines(item)) for item in view.items)]
    if view.more:
        parts.append(view.more)
    if view.done and view.items:
        parts.append(_text_table([_COLUMNS, *(item.row for item in view.items)]))
    return "\n\n".join(parts)


def _item_lines(item: _Item) -> list[str]:
    """``ds (env_…): update``, or ``bad: failed — why``, then the item's diff."""
    where = f" ({item.env_id})" if item.env_id else ""
    why = f" — {item.details}" if item.action == "failed" else ""
    heading = f"{item.name}{where}: {item.said}{why}"
    return [heading, *(_diff_lines(item.diff) if item.diff is not None else ())]


def _text_table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell, the last one left free."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    )


def _plan_html(view: _PlanView) -> str:
    parts = [f'<div class="qoder-env"><p class="qoder-env-summary">{escape(view.head)}</p>']
    parts += (_item_html(item) for item in view.items)
    if view.more:
        parts.append(f'<p class="qoder-env-summary">{escape(view.more)}</p>')
    if view.done and view.items:
        parts.append(_html_table([item.row for item in view.items]))
    return "".join(parts) + "</div>"


def _item_html(item: _Item) -> str:
    badge = (
        f'<span class="qoder-env-badge qoder-env-{_TONES[item.action]}">{escape(item.said)}</span>'
    )
    where = f' <code class="qoder-env-id">{escape(item.env_id)}</code>' if item.env_id else ""
    why = _muted(item.details) if item.action == "failed" else ""
    head = f"{badge} <strong>{escape(item.name)}</strong>{where} {why}".rstrip()
    diff = _diff_html(item.diff) if item.diff is not None else ""
    return (
        f'<section class="qoder-env-plan-item"><div class="qoder-env-plan-head">{head}</div>'
        f"{diff}</section>"
    )


def _muted(text: str) -> str:
    return f'<span class="qoder-env-muted">{escape(text)}</span>'


def _html_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    head = "".join(f'<th scope="col">{label}</th>' for label in _COLUMNS)
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(said)}</td><td>{_id_html(env_id)}</td>"
        f'<td class="qoder-env-text">{escape(details)}</td></tr>'
        for name, said, env_id, details in rows
    )
    return (
        '<div class="qoder-env-scroll"><table class="qoder-env-table qoder-env-plan-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _id_html(env_id: str) -> str:
    return f'<code class="qoder-env-id">{escape(env_id)}</code>' if env_id != "—" else "—"


def _plan_markdown(view: _PlanView) -> str:
    parts = [f"**{md(view.head)}**", *(_item_markdown(item) for item in view.items)]
    if view.more:
        parts.append(md(view.more))
    if view.done and view.items:
        lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        lines += (
            f"| {md(name)} | {md(said)} | {md_code(env_id) if env_id != '—' else '—'} | "
            f"{md(details)} |"
            for name, said, env_id, details in (item.row for item in view.items)
        )
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _item_markdown(item: _Item) -> str:
    where = f" ({md_code(item.env_id)})" if item.env_id else ""
    why = f": {md(item.details)}" if item.action == "failed" else ""
    text = f"**{md(item.said)}** {md(item.name)}{where}{why}"
    if item.diff is not None:
        text += "\n\n" + _diff_markdown(item.diff).rstrip("\n")
    return text


# --- the fallback --------------------------------------------------------------------------------


def _fallback_bundle(text: str) -> dict[str, Any]:
    """Escaped plain text, when building the real rendering failed."""
    shown = line(text, _TEXT)
    return {
        "text/plain": shown,
        "text/html": f'<pre class="qoder-env">{escape(shown)}</pre>',
        "text/markdown": md(shown) + "\n",
    }
