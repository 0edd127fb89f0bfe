"""Rich display of an import's report (:class:`~qoder_jupyter.sources.report.PackageImport`):
what was taken from the user's files or kernel, what was left out and why, what to do about it,
and what is worth knowing, for every frontend (design principle 6).

The report reads top-down in every format: a headline with the counts and the sources read,
then the entries taken (by package list), then the entries left out, grouped under the reason
they share (a conda file can leave out dozens for one reason), each with where it was written
and what to do, then the notes. ``text/plain`` indents those parts; Markdown gives one table per
reason; the HTML is the card's markup (``static/card.css``: badges, tables) and
``static/report.css`` for the report's own parts, every selector scoped under ``.qoder-env``.
Every value is cleaned, clipped and escaped; long lists are cut with "… and N more". Rendering
never raises (anything unexpected falls back to escaped plain text) and does no I/O but reading
those stylesheets once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._markup import escape, line, md, md_code, plural, style
from ._text import safe_repr

if TYPE_CHECKING:  # only for typing: the report renders itself through this module
    from .sources.report import PackageImport

__all__ = ["import_bundle", "import_text"]

_ENTRY = 200  # characters shown of an entry, a source or a where
_TEXT = 600  # ... of a reason, a fix or a note
_TAKEN = 300  # entries shown of one package list
_ROWS = 200  # entries left out shown, in all
_NOTES = 100  # notes shown


@dataclass(frozen=True)
class _Left:
    entry: str
    where: str
    fix: str


@dataclass(frozen=True)
class _Group:
    """The entries left out for one reason, in the order found."""

    reason: str
    items: tuple[_Left, ...]
    total: int


@dataclass(frozen=True)
class _View:
    """Everything shown of one report: cleaned and clipped, not yet escaped."""

    sources: tuple[str, ...]
    taken: tuple[tuple[str, tuple[str, ...], int], ...]  # (list, entries shown, total)
    taken_total: int
    groups: tuple[_Group, ...]
    left_total: int
    notes: tuple[tuple[str, str], ...]  # (where, message)
    notes_total: int


def import_bundle(report: PackageImport) -> dict[str, Any]:
    """The MIME bundle of a report (never raises)."""
    try:
        view = _view(report)
        return {
            "text/plain": _text(view),
            "text/html": style("card.css") + style("report.css") + _html(view),
            "text/markdown": _markdown(view),
        }
    except Exception:  # a repr must never fail the cell
        text = _fallback_text(report)
        return {
            "text/plain": text,
            "text/html": f'<pre class="qoder-env">{escape(text)}</pre>',
            "text/markdown": "  \n".join(md(each) for each in text.splitlines()) + "\n",
        }


def import_text(report: PackageImport) -> str:
    """The report as plain text (``str(report)``; never raises)."""
    try:
        return _text(_view(report))
    except Exception:
        return _fallback_text(report)


def _fallback_text(report: object) -> str:
    return line(f"Package import: {safe_repr(report)}", 2000)


# --- reading -------------------------------------------------------------------------------------


def _view(report: PackageImport) -> _View:
    lists = [(str(manager), list(entries)) for manager, entries in report.packages.items()]
    return _View(
        sources=tuple(line(str(source), _ENTRY) for source in report.sources),
        taken=tuple(
            (
                line(manager, _ENTRY),
                tuple(line(str(e), _ENTRY) for e in entries[:_TAKEN]),
                len(entries),
            )
            for manager, entries in lists
            if entries
        ),
        taken_total=sum(len(entries) for _, entries in lists),
        groups=_groups(report),
        left_total=len(report.left_out),
        notes=tuple(
            (line(note.where, _ENTRY), line(note.message, _TEXT)) for note in report.notes[:_NOTES]
        ),
        notes_total=len(report.notes),
    )


def _groups(report: PackageImport) -> tuple[_Group, ...]:
    """The entries left out, grouped by reason in the order each reason first appears; at most
    :data:`_ROWS` entries shown in all, every group's total kept."""
    order: dict[str, list[_Left]] = {}
    totals: dict[str, int] = {}
    shown = 0
    for left in report.left_out:
        reason = line(left.reason, _TEXT)
        items = order.setdefault(reason, [])
        totals[reason] = totals.get(reason, 0) + 1
        if shown < _ROWS:
            items.append(
                _Left(line(left.entry, _ENTRY), line(left.where, _ENTRY), line(left.fix, _TEXT))
            )
            shown += 1
    return tuple(_Group(reason, tuple(items), totals[reason]) for reason, items in order.items())


def _counts(view: _View) -> list[str]:
    counts = [f"{plural(view.taken_total, 'package')} taken", f"{view.left_total} left out"]
    if view.notes_total:
        counts.append(plural(view.notes_total, "note"))
    return counts


def _more(shown: int, total: int) -> str:
    return f"… and {total - shown} more" if total > shown else ""


def _shown_left(view: _View) -> int:
    return sum(len(group.items) for group in view.groups)


# --- text/plain ----------------------------------------------------------------------------------


def _text(view: _View) -> str:
    lines = [f"Package import: {', '.join(_counts(view))}"]
    if view.sources:
        lines.append(f"  from {', '.join(view.sources)}")
    lines += _taken_text(view)
    if view.groups:
        lines.append("Left out")
        for group in view.groups:
            lines.append(f"  {group.reason}" + (f" ({group.total})" if group.total > 1 else ""))
            for item in group.items:
                where = f"  ({item.where})" if item.where else ""
                lines += [f"    {item.entry}{where}", f"      fix: {item.fix}"]
        if more := _more(_shown_left(view), view.left_total):
            lines.append(f"  {more}")
    if view.notes:
        lines.append("Notes")
        lines += [f"  - {_with_where(message, where)}" for where, message in view.notes]
        if more := _more(len(view.notes), view.notes_total):
            lines.append(f"  {more}")
    return "\n".join(lines)


def _taken_text(view: _View) -> list[str]:
    if not view.taken:
        return ["Nothing taken."]
    lines = ["Taken"]
    for manager, entries, total in view.taken:
        lines.append(f"  {manager} ({total}):")
        lines += [f"    {entry}" for entry in entries]
        if more := _more(len(entries), total):
            lines.append(f"    {more}")
    return lines


def _with_where(message: str, where: str) -> str:
    return f"{message} ({where})" if where else message


# --- text/html -----------------------------------------------------------------------------------


def _html(view: _View) -> str:
    parts = [
        f'<h3 class="qoder-env-title">Package import {_badges(view)}</h3>',
        _sources_html(view.sources),
        '<h4 class="qoder-env-report-heading">Taken</h4>',
        _taken_html(view),
    ]
    if view.groups:
        parts += ['<h4 class="qoder-env-report-heading">Left out</h4>', _left_html(view)]
    if view.notes:
        parts += ['<h4 class="qoder-env-report-heading">Notes</h4>', _notes_html(view)]
    body = "".join(part for part in parts if part)
    return f'<div class="qoder-env"><div class="qoder-env-card qoder-env-report">{body}</div></div>'


def _badges(view: _View) -> str:
    tones = [
        ("ok" if view.taken_total else "neutral", f"{view.taken_total} taken"),
        ("warn" if view.left_total else "neutral", f"{view.left_total} left out"),
    ]
    if view.notes_total:
        tones.append(("neutral", plural(view.notes_total, "note")))
    return " ".join(
        f'<span class="qoder-env-badge qoder-env-{tone}">{escape(text)}</span>'
        for tone, text in tones
    )


def _sources_html(sources: Sequence[str]) -> str:
    if not sources:
        return ""
    return f'<p class="qoder-env-summary">From {_codes(sources)}</p>'


def _codes(items: Iterable[str]) -> str:
    return ", ".join(f"<code>{escape(item)}</code>" for item in items)


def _muted(text: str) -> str:
    return f'<span class="qoder-env-muted">{escape(text)}</span>' if text else ""


def _taken_html(view: _View) -> str:
    if not view.taken:
        return '<p class="qoder-env-muted">Nothing taken.</p>'
    rows = "".join(
        f'<dt>{escape(manager)} ({total})</dt><dd><ul class="qoder-env-report-entries">'
        + "".join(f"<li><code>{escape(entry)}</code></li>" for entry in entries)
        + (f"<li>{_muted(more)}</li>" if (more := _more(len(entries), total)) else "")
        + "</ul></dd>"
        for manager, entries, total in view.taken
    )
    return f'<dl class="qoder-env-fields">{rows}</dl>'


def _left_html(view: _View) -> str:
    head = "<thead><tr><th>Entry</th><th>What to do</th></tr></thead>"
    bodies = "".join(_group_html(group) for group in view.groups)
    more = _more(_shown_left(view), view.left_total)
    tail = f'<p class="qoder-env-muted">{escape(more)}</p>' if more else ""
    return (
        '<div class="qoder-env-scroll"><table class="qoder-env-table qoder-env-report-left">'
        f"{head}{bodies}</table></div>{tail}"
    )


def _group_html(group: _Group) -> str:
    count = f" {_muted(f'({group.total})')}" if group.total > 1 else ""
    rows = "".join(
        f"<tr><td><code>{escape(item.entry)}</code>{_where_html(item.where)}</td>"
        f"<td>{escape(item.fix)}</td></tr>"
        for item in group.items
    )
    reason = (
        f'<tr><th colspan="2" class="qoder-env-report-reason">{escape(group.reason)}{count}'
        "</th></tr>"
    )
    return f"<tbody>{reason}{rows}</tbody>"


def _where_html(where: str) -> str:
    return f'<div class="qoder-env-report-where">{escape(where)}</div>' if where else ""


def _notes_html(view: _View) -> str:
    items = "".join(
        f"<li>{escape(message)}{' ' + _muted(f'({where})') if where else ''}</li>"
        for where, message in view.notes
    )
    more = _more(len(view.notes), view.notes_total)
    if more:
        items += f"<li>{_muted(more)}</li>"
    return f'<ul class="qoder-env-report-notes">{items}</ul>'


# --- text/markdown -------------------------------------------------------------------------------


def _markdown(view: _View) -> str:
    sources = (
        f" — from {', '.join(md_code(source) for source in view.sources)}" if view.sources else ""
    )
    parts = [f"**Package import**: {', '.join(_counts(view))}{sources}"]
    if view.taken:
        parts += [
            f"**Taken** — {md(manager)} ({total}): "
            + ", ".join([*(md_code(entry) for entry in entries), *_md_more(len(entries), total)])
            for manager, entries, total in view.taken
        ]
    else:
        parts.append("Nothing taken.")
    if view.groups:
        parts.append("**Left out**")
        parts += [_group_markdown(group) for group in view.groups]
        parts += _md_more(_shown_left(view), view.left_total)
    if view.notes:
        notes = [f"- {md(_with_where(message, where))}" for where, message in view.notes]
        notes += [f"- {more}" for more in _md_more(len(view.notes), view.notes_total)]
        parts.append("**Notes**\n\n" + "\n".join(notes))
    return "\n\n".join(parts) + "\n"


def _group_markdown(group: _Group) -> str:
    count = f" ({group.total})" if group.total > 1 else ""
    rows = [
        f"| {md_code(item.entry)} | {md_code(item.where) if item.where else ''} | {md(item.fix)} |"
        for item in group.items
    ]
    table = "\n".join(["| Entry | Where | What to do |", "|---|---|---|", *rows])
    return f"*{md(group.reason)}*{count}\n\n{table}"


def _md_more(shown: int, total: int) -> list[str]:
    more = _more(shown, total)
    return [md(more)] if more else []
