"""Rich display of environments, for every frontend (design principle 6).

Each bundle has ``text/plain`` (terminals), ``text/html`` (JupyterLab, Notebook, VS Code, GitHub),
``text/markdown`` and ``application/json`` (see :func:`for_display` for how objects offer the JSON
without JupyterLab showing it instead of the card). The HTML is static (no JavaScript, no external
resources) with one ``<style>`` block scoped to ``.qoder-env`` that uses the JupyterLab theme
variables with fallbacks, and semantic markup that still reads well where ``<style>`` is stripped
(GitHub); the style is ``static/card.css``, read once, when the first card is rendered. Every
value is cleaned (control and bidi characters), clipped and escaped. Rendering never raises and
does no other I/O: unexpected data falls back to an escaped plain-text rendering.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._curl import curl_command
from ._markup import block as _block
from ._markup import escape as _e
from ._markup import line, md, md_code
from ._markup import plural as _plural
from ._markup import style as _style
from ._text import clip, safe_repr
from .rules import NOT_INSTALLED_PACKAGE_MANAGERS
from .settings import list_rows

if TYPE_CHECKING:  # only for typing: environment.py may import this module
    from .environment import Environment

__all__ = [
    "RequestPreview",
    "SettingsReport",
    "code_blocks_html",
    "environment_bundle",
    "for_display",
    "manager_cells",
    "page_bundle",
]

_SHORT = 200  # characters shown of a name, host, package spec, key...
_LONG = 2000  # ... of a description or a metadata value
_ITEMS = 50  # hosts, packages per manager or metadata entries shown
_DEPTH = 64  # nesting kept when JSON has to be repaired

_SURROGATES = re.compile("[\ud800-\udfff]")
_TONES = {
    "ready": "ok",
    "active": "ok",
    "archived": "warn",
    "deleted": "error",  # deleted through this object (Environment.deleted)
    "error": "error",
    "failed": "error",
}


@dataclass(frozen=True)
class _Time:
    label: str
    machine: str  # ISO 8601 for <time datetime>, "" when unparseable
    readable: str


@dataclass(frozen=True)
class _View:
    """Everything shown of one environment: cleaned and clipped, not yet escaped."""

    id: str
    name: str
    statuses: tuple[tuple[str, str], ...]  # (text, tone)
    description: str
    scope: str  # "" when the service said nothing
    workspace: str  # "" for the default workspace
    config_type: str  # "cloud", "self_hosted", or what else the service wrote
    networking: str
    hosts: tuple[str, ...]
    hosts_total: int
    package_managers: bool
    mcp_servers: bool
    packages: tuple[tuple[str, tuple[str, ...], int], ...]  # (manager, shown, total)
    setup_script: str  # its first line
    setup_script_lines: int
    metadata: tuple[tuple[str, str], ...]
    metadata_total: int
    times: tuple[_Time, ...]


def environment_bundle(env: Environment) -> dict[str, Any]:
    """The MIME bundle of one environment (never raises)."""
    try:
        data = env.to_dict()
        view = _view(env, data)
        return {
            "text/plain": _card_text(view),
            "text/html": _style() + _card_html(view),
            "text/markdown": _card_markdown(view),
            "application/json": _json_payload(data, env),
        }
    except Exception:  # a repr must never fail the cell: show what is safe instead
        return _fallback_bundle([env], single=True, has_more=False)


def page_bundle(
    environments: Sequence[Environment], *, has_more: bool = False, rows: int | None = None
) -> dict[str, Any]:
    """The MIME bundle of a list of environments, as a table (never raises). A list longer than
    ``rows`` (default: the ``QoderEnv.list_rows`` setting; 0: no limit) shows its first and last
    rows with a line saying how many are left out between them, in every rendering (the JSON
    too, so a saved notebook stays small; it says how many there are in ``total``)."""
    try:
        total = len(environments)
        head, tail = _shown(environments, list_rows() if rows is None else rows)
        items = [(env, env.to_dict()) for env in (*head, *tail)]
        views = [_view(env, data) for env, data in items]
        payload = [_json_payload(data, env) for env, data in items]
        gap = _Gap(len(head), total - len(views), total)
        summary = _summary(total, has_more, gap)
        json_value: dict[str, Any] = {"data": payload, "has_more": bool(has_more)}
        if gap.left_out:
            json_value.update(total=total, left_out=gap.left_out, left_out_after=gap.after)
        return {
            "text/plain": _page_text(views, summary, gap),
            "text/html": _style() + _page_html(views, summary, gap),
            "text/markdown": _page_markdown(views, summary, gap),
            "application/json": json_value,
        }
    except Exception:
        return _fallback_bundle(environments, single=False, has_more=has_more)


@dataclass(frozen=True)
class _Gap:
    """Where a long list leaves rows out: after how many shown rows, and how many."""

    after: int
    left_out: int
    total: int

    def text(self) -> str:
        return (
            f"… {self.left_out:,} more not shown (the list holds all {self.total:,}; "
            "%config QoderEnv.list_rows = N shows more)"
        )


def _shown(
    environments: Sequence[Environment], rows: int
) -> tuple[Sequence[Environment], Sequence[Environment]]:
    """The first and last rows of a list longer than ``rows`` (all of it in the first part when
    it is not, or when ``rows`` is 0), as pandas shows a long frame."""
    if rows <= 0 or len(environments) <= rows:
        return environments, ()
    tail = rows // 2
    return environments[: rows - tail], environments[len(environments) - tail :] if tail else ()


def for_display(bundle: dict[str, Any], include: Any, vendor_type: str) -> dict[str, Any]:
    """The bundle an object's ``_repr_mimebundle_`` returns.

    JupyterLab ranks its JSON viewer above HTML, so a bundle carrying ``application/json`` shows a
    JSON tree instead of the card. The JSON goes under ``vendor_type`` instead (kept in saved
    notebooks for tools; frontends skip types they do not know), and under ``application/json``
    only when the caller asks for it, e.g. ``display(env, include=["application/json"])``.
    """
    selected = dict(bundle)
    payload = selected.pop("application/json", None)
    if payload is not None:
        selected[vendor_type] = payload
        if include and "application/json" in include:
            selected["application/json"] = payload
    return selected


# --- reading -------------------------------------------------------------------------------------


def _view(env: Environment, data: Mapping[str, Any]) -> _View:
    hosts = env.allowed_hosts
    metadata = list(env.metadata.items())
    script = _text_of(env.config.get("setup_script")).strip()
    return _View(
        id=_line(env.id),
        name=_line(env.name),
        statuses=_statuses(env),
        description=_block(env.description, _LONG),
        scope=_line(env.scope or ""),
        workspace=_line(env.workspace or ""),
        config_type=_line(env.config_type),
        networking=_line(env.networking),
        hosts=tuple(_line(host) for host in hosts[:_ITEMS]),
        hosts_total=len(hosts),
        package_managers=env.allow_package_managers,
        mcp_servers=env.allow_mcp_servers,
        packages=tuple(
            (_line(str(manager)), tuple(_line(spec) for spec in specs[:_ITEMS]), len(specs))
            for manager, specs in list(env.packages.items())[:_ITEMS]
        ),
        setup_script=_line(script.splitlines()[0] if script else ""),
        setup_script_lines=len(script.splitlines()),
        metadata=tuple(
            (_line(str(key)), _block(_compact(value), _LONG)) for key, value in metadata[:_ITEMS]
        ),
        metadata_total=len(metadata),
        times=_times(env, data),
    )


def _statuses(env: Environment) -> tuple[tuple[str, str], ...]:
    status = _line(env.status) or "unknown"
    statuses = [(status, _TONES.get(status.lower(), "neutral"))]
    if env.archived and status.lower() != "archived":  # e.g. status "ready" yet archived_at set
        statuses.append(("archived", "warn"))
    return tuple(statuses)


def _times(env: Environment, data: Mapping[str, Any]) -> tuple[_Time, ...]:
    fields = (
        ("Created", "created_at", env.created_at),
        ("Updated", "updated_at", env.updated_at),
        ("Archived", "archived_at", env.archived_at),
    )
    times = []
    for label, key, parsed in fields:
        raw = data.get(key)
        if parsed is not None:
            times.append(_time(label, parsed, raw))
        elif raw not in (None, "", False):
            times.append(_Time(label, "", _line(_compact(raw), 100)))
    return tuple(times)


def _time(label: str, moment: datetime, raw: object) -> _Time:
    try:
        if moment.tzinfo is None:  # no offset given: shown as written, not claimed to be UTC
            return _Time(label, moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S"))
        utc = moment.astimezone(timezone.utc)
        return _Time(label, utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M:%S UTC"))
    except (ValueError, OverflowError):  # e.g. year 1 with a positive offset
        return _Time(label, "", _line(_compact(raw), 100))


def _json_payload(data: dict[str, Any], env: Environment) -> dict[str, Any]:
    """``data`` itself when a frontend can receive it, else a repaired copy (never an error)."""
    if _sendable(data):
        return data
    repaired = _guard(_jsonable, None, data, 0)
    return repaired if isinstance(repaired, dict) and _sendable(repaired) else {"id": _line(env.id)}


def _sendable(value: object) -> bool:
    """Whether the kernel can send it: strict JSON, encodable as UTF-8."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode()
    except Exception:
        return False
    return True


def _jsonable(value: object, depth: int) -> Any:
    if depth > _DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {
            _SURROGATES.sub("\ufffd", str(k)): _jsonable(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() < 4000 else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _SURROGATES.sub("\ufffd", safe_repr(value)[:_LONG])


# --- cleaning ------------------------------------------------------------------------------------


def _line(value: str, limit: int = _SHORT) -> str:
    return line(value, limit)


_md = md
_md_code = md_code


def _text_of(value: object) -> str:
    return value if isinstance(value, str) else ""


def _compact(value: object) -> str:
    """A value as short text: strings as they are, anything else as compact JSON or repr."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=repr, separators=(",", ":"))[:_LONG]
    except Exception:
        return safe_repr(value)[:_LONG]


# --- summaries shared by the renderers -----------------------------------------------------------


def _more(shown: int, total: int) -> str:
    return f"… and {total - shown} more" if total > shown else ""


def _summary(count: int, has_more: bool, gap: _Gap | None = None) -> str:
    more = "; more exist beyond this page" if has_more else ""
    part = ""
    if gap is not None and gap.left_out:
        last = count - gap.after - gap.left_out
        part = f" (showing the first {gap.after:,} and the last {last:,})"
    noun = "environment" if count == 1 else "environments"
    return f"{count:,} {noun}{part}{more}."


def _self_hosted(view: _View) -> bool:
    """Whether it runs on the customer's own runner, where networking and packages do not apply
    (so the card shows neither)."""
    return view.config_type == "self_hosted"


def _runs_on(view: _View) -> str:
    """Where it runs, said only when not in a Qoder cloud sandbox; "" there."""
    if _self_hosted(view):
        return "a self-hosted runner (networking and packages do not apply)"
    return "" if view.config_type == "cloud" else f"config type {view.config_type}"


def _network_summary(view: _View) -> str:
    if _self_hosted(view):
        return "self-hosted runner"
    hosts = f", {_plural(view.hosts_total, 'host')}" if view.hosts_total else ""
    return f"{view.networking}{hosts}"


def _access(view: _View) -> list[str]:
    """What the sandbox may reach besides its networking type (MCP servers only when allowed: a
    line for every card saying they are not would be noise)."""
    access = [f"package managers {'allowed' if view.package_managers else 'blocked'}"]
    return [*access, "MCP servers allowed"] if view.mcp_servers else access


def _manager_label(manager: str) -> str:
    """A package manager's name, marked when the service keeps its list but installs nothing."""
    return f"{manager} (not installed)" if manager in NOT_INSTALLED_PACKAGE_MANAGERS else manager


def _packages_summary(view: _View, limit: int = 80) -> str:
    if _self_hosted(view):
        return "—"  # they do not apply
    groups = [
        f"{_manager_label(manager)}: {', '.join(specs)}" for manager, specs, _ in view.packages
    ]
    return clip("; ".join(groups), limit) or "none"


def _script_summary(view: _View) -> str:
    """The setup script's first line, and how many lines it has when more than one."""
    more = f" ({view.setup_script_lines} lines)" if view.setup_script_lines > 1 else ""
    return f"{view.setup_script}{more}"


def _created(view: _View) -> _Time | None:
    return next((t for t in view.times if t.label == "Created"), None)


def _created_text(view: _View) -> str:
    created = _created(view)
    return created.readable if created else "—"


def _name(view: _View) -> str:
    return view.name or "(unnamed)"


def _status_text(view: _View) -> str:
    return ", ".join(text for text, _ in view.statuses)


# --- text/plain ----------------------------------------------------------------------------------


def _card_text(view: _View) -> str:
    rows = [
        ("id", view.id),
        ("workspace", view.workspace),
        ("scope", view.scope),
        ("runs on", _runs_on(view)),
        *_sandbox_rows(
            view,
            ("networking", ", ".join([_network_summary(view), *_access(view)])),
            ("packages", _packages_summary(view, _SHORT)),
        ),
        ("setup", _script_summary(view)),
        ("metadata", _plural(view.metadata_total, "key")),
        *((t.label.lower(), t.readable) for t in view.times),
    ]
    lines = [f"Environment {_name(view)} ({_status_text(view)})"]
    lines += [f"  {label + ':':<12}{value}" for label, value in rows if value]
    return "\n".join(lines)


def _sandbox_rows(view: _View, *rows: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """The rows of a cloud sandbox (networking, packages): none on a self-hosted runner, where
    they do not apply."""
    return () if _self_hosted(view) else rows


def _page_text(views: Sequence[_View], summary: str, gap: _Gap) -> str:
    rows = [
        (clip(_name(v), 40), v.id, _status_text(v), _network_summary(v), _packages_summary(v, 40))
        for v in views
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(4)]
    lines = [summary]
    for index, row in enumerate(rows):
        if gap.left_out and index == gap.after:
            lines.append(f"  {gap.text()}")
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        lines.append("  " + "  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)


# --- text/html -----------------------------------------------------------------------------------


def _badges(view: _View) -> str:
    return " ".join(
        f'<span class="qoder-env-badge qoder-env-{tone}">{_e(text)}</span>'
        for text, tone in view.statuses
    )


def _codes(items: Iterable[str]) -> str:
    return ", ".join(f"<code>{_e(item)}</code>" for item in items)


def _muted(text: str) -> str:
    return f'<span class="qoder-env-muted">{_e(text)}</span>' if text else ""


def _networking_html(view: _View) -> str:
    lines = [" · ".join(_e(part) for part in (view.networking, *_access(view)))]
    if view.hosts_total:
        more = _muted(_more(len(view.hosts), view.hosts_total))
        lines.append(" ".join(filter(None, (f"allowed hosts: {_codes(view.hosts)}", more))))
    return "".join(f"<div>{line}</div>" for line in lines)


def _packages_html(view: _View) -> str:
    if not view.packages:
        return _muted("none")
    return "".join(
        f"<div><strong>{_e(manager)}</strong> ({total}): "
        f"{' '.join(filter(None, (_codes(specs), _muted(_more(len(specs), total)))))}"
        f"{_not_installed_html(manager)}</div>"
        for manager, specs, total in view.packages
    )


def _not_installed_html(manager: str) -> str:
    """The mark of a list the service keeps but does not install (cargo, gem, go)."""
    if manager not in NOT_INSTALLED_PACKAGE_MANAGERS:
        return ""
    return ' <span class="qoder-env-badge qoder-env-warn">not installed</span>'


def _metadata_html(view: _View) -> str:
    if not view.metadata:
        return _muted("none")
    rows = "".join(
        f'<tr><th scope="row"><code>{_e(key)}</code></th>'
        f'<td class="qoder-env-text">{_e(value)}</td></tr>'
        for key, value in view.metadata
    )
    more = _muted(_more(len(view.metadata), view.metadata_total))
    return f'<table class="qoder-env-table"><tbody>{rows}</tbody></table>{more}'


def _script_html(view: _View) -> str:
    if not view.setup_script:
        return ""
    lines = view.setup_script_lines
    return f"<code>{_e(view.setup_script)}</code>" + (
        f" {_muted(f'({lines} lines)')}" if lines > 1 else ""
    )


def _time_html(moment: _Time) -> str:
    if not moment.machine:
        return _e(moment.readable)
    return f'<time datetime="{_e(moment.machine)}">{_e(moment.readable)}</time>'


def _card_html(view: _View) -> str:
    # The status is in the heading (badge, and a dash kept visible only where CSS is stripped).
    fields = [("ID", f'<code class="qoder-env-id">{_e(view.id)}</code>')]
    if view.description:
        fields.append(
            ("Description", f'<span class="qoder-env-text">{_e(view.description)}</span>')
        )
    fields += [
        ("Workspace", f"<code>{_e(view.workspace)}</code>" if view.workspace else ""),
        ("Scope", _e(view.scope)),
        ("Runs on", _e(_runs_on(view))),
        *_sandbox_rows(
            view, ("Networking", _networking_html(view)), ("Packages", _packages_html(view))
        ),
        ("Setup script", _script_html(view)),
        ("Metadata", _metadata_html(view)),
        *((t.label, _time_html(t)) for t in view.times),
    ]
    rows = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in fields if value)
    name = _e(view.name) if view.name else _muted("(unnamed)")
    title = f'{name}<span class="qoder-env-sep"> — </span>{_badges(view)}'
    return (
        '<div class="qoder-env"><div class="qoder-env-card">'
        f'<h3 class="qoder-env-title">{title}</h3>'
        f'<dl class="qoder-env-fields">{rows}</dl></div></div>'
    )


def _page_html(views: Sequence[_View], summary: str, gap: _Gap) -> str:
    parts = ['<div class="qoder-env">', f'<p class="qoder-env-summary">{_e(summary)}</p>']
    if views:
        head = "".join(
            f'<th scope="col">{label}</th>'
            for label in ("Name", "ID", "Status", "Networking", "Packages", "Created")
        )
        rows = [_row_html(view) for view in views]
        if gap.left_out:
            gap_row = f'<tr class="qoder-env-gap"><td colspan="6">{_e(gap.text())}</td></tr>'
            rows.insert(gap.after, gap_row)
        body = "".join(rows)
        parts.append(
            '<div class="qoder-env-scroll"><table class="qoder-env-table qoder-env-list">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _row_html(view: _View) -> str:
    name = _clipped_html(_name(view), 60) if view.name else _muted("(unnamed)")
    cells = (
        name,
        f'<code class="qoder-env-id">{_e(view.id)}</code>',
        _badges(view),
        _e(_network_summary(view)),
        _clipped_html(_packages_summary(view, _SHORT * 2), 60),
        _created_html(view),
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def manager_cells(env: Environment) -> tuple[str, ...]:
    """One environment's cells in the manager's table, as HTML (never raises): its name with
    its id under it, status, networking, package counts, metadata and the day it was created."""
    try:
        view = _view(env, env.to_dict())
    except Exception:  # a row must still show: its id, and that it could not be read
        return (f'<code class="qoder-env-id">{_e(env.id)}</code>', _muted("unreadable"))
    name = _clipped_html(_name(view), 48) if view.name else _muted("(unnamed)")
    counts = " · ".join(f"{_manager_label(m)} {total}" for m, _, total in view.packages)
    metadata = ", ".join(f"{key}: {value}" for key, value in view.metadata)
    return (
        f"{name}<br>{_short_id(view.id)}",
        _badges(view),
        _e(_network_summary(view)),
        _e(counts) if counts else _muted("none"),
        _clipped_html(metadata, 40) if metadata else _muted("none"),
        _created_html(view),
    )


def _short_id(env_id: str) -> str:
    """An id as ``env_01a2…4d4b`` (the whole of it on hover), to fit a narrow column."""
    if len(env_id) <= 18:
        return f'<code class="qoder-env-id">{_e(env_id)}</code>'
    short = f"{env_id[:12]}…{env_id[-4:]}"
    return f'<code class="qoder-env-id" title="{_e(env_id)}">{_e(short)}</code>'


def _clipped_html(text: str, limit: int) -> str:
    """``text`` clipped to ``limit`` characters, the whole of it on hover when clipped."""
    shown = clip(text, limit)
    if shown == text:
        return _e(text)
    return f'<span title="{_e(text)}">{_e(shown)}</span>'


def _created_html(view: _View) -> str:
    # The day only, to keep the table narrow; the full time on hover and in the datetime attribute.
    created = _created(view)
    if created is None:
        return "—"
    if not created.machine:
        return _e(clip(created.readable, 40))
    attributes = f'datetime="{_e(created.machine)}" title="{_e(created.readable)}"'
    return f"<time {attributes}>{_e(created.machine[:10])}</time>"


# --- text/markdown -------------------------------------------------------------------------------


def _card_markdown(view: _View) -> str:
    hosts = ", ".join(_md_code(host) for host in view.hosts)
    networking = "; ".join(_md(part) for part in (_network_summary(view), *_access(view)))
    packages = "; ".join(
        f"{_md(_manager_label(manager))}: {', '.join(_md_code(spec) for spec in specs)}"
        for manager, specs, _ in view.packages
    )
    metadata = ", ".join(f"{_md(key)} = {_md(value)}" for key, value in view.metadata)
    rows = [
        ("ID", _md_code(view.id)),
        ("Description", _md(view.description)),
        ("Workspace", _md_code(view.workspace) if view.workspace else ""),
        ("Scope", _md(view.scope)),
        ("Runs on", _md(_runs_on(view))),
        *_sandbox_rows(
            view,
            ("Networking", networking + (f"; allowed hosts: {hosts}" if hosts else "")),
            ("Packages", packages or "none"),
        ),
        ("Setup script", _md_code(view.setup_script) if view.setup_script else ""),
        ("Metadata", metadata or "none"),
        *((t.label, _md(t.readable)) for t in view.times),
    ]
    table = "\n".join(f"| {label} | {value} |" for label, value in rows if value)
    return f"**{_md(_name(view))}** ({_md(_status_text(view))})\n\n| | |\n|---|---|\n{table}\n"


def _page_markdown(views: Sequence[_View], summary: str, gap: _Gap) -> str:
    if not views:
        return _md(summary) + "\n"
    head = "| Name | ID | Status | Networking | Packages | Created |\n|---|---|---|---|---|---|"
    lines = [
        "| "
        + " | ".join(
            (
                _md(clip(_name(v), 80)),
                _md_code(v.id),
                _md(_status_text(v)),
                _md(_network_summary(v)),
                _md(_packages_summary(v)),
                _md(_created_text(v)),
            )
        )
        + " |"
        for v in views
    ]
    if gap.left_out:
        lines.insert(gap.after, f"| {_md(gap.text())} | | | | | |")
    rows = "\n".join(lines)
    return f"{_md(summary)}\n\n{head}\n{rows}\n"


# --- the fallback --------------------------------------------------------------------------------


def _fallback_bundle(
    environments: Iterable[Environment], *, single: bool, has_more: bool
) -> dict[str, Any]:
    """Escaped plain text built from the most basic facts, each guarded on its own."""
    items: list[Environment] = _guard(list, [], environments)
    lines = [_guard(_fallback_line, "<environment>", env) for env in items]
    if not single:
        lines.insert(0, _guard(_summary, "Environments.", len(items), bool(has_more)))
    text = "\n".join(lines)
    payload = [_guard(_fallback_json, {}, env) for env in items]
    json_value: dict[str, Any] = (
        (payload[0] if payload else {}) if single else {"data": payload, "has_more": has_more}
    )
    return {
        "text/plain": text,
        "text/html": f'<pre class="qoder-env">{_e(text)}</pre>',
        "text/markdown": "  \n".join(_md(line) for line in lines) + "\n",
        "application/json": json_value,
    }


def _fallback_line(env: Environment) -> str:
    return _line(safe_repr(env)[:_LONG], _LONG)


def _fallback_json(env: Environment) -> dict[str, Any]:
    return _json_payload(env.to_dict(), env)


def _guard(make: Callable[..., Any], default: Any, *args: Any) -> Any:
    try:
        return make(*args)
    except Exception:
        return default


# --- what the commands that do not return an environment show ------------------------------------


def code_blocks_html(sections: Iterable[tuple[str, str, str]], kind: str) -> str:
    """Titled code blocks, (title, language, code) each: ``<pre><code>`` in the code font of the
    theme (``.qoder-env-code`` in card.css), so they read as code in an exported page too."""
    blocks = "".join(
        f'<p class="qoder-env-code-title">{_e(title)}</p>'
        f'<pre class="qoder-env-code"><code{_language(lang)}>{_e(body)}</code></pre>'
        for title, lang, body in sections
    )
    return f'<div class="qoder-env {kind}">{blocks}</div>'


def _language(lang: str) -> str:
    return f' class="language-{_e(lang)}"' if lang else ""


@dataclass(frozen=True)
class RequestPreview:
    """What ``--dry-run`` shows: the exact request, as JSON, as curl and as a magic line."""

    method: str
    url: str
    body: dict[str, Any]
    magic: str = ""

    @property
    def curl(self) -> str:
        return curl_command(self.method, self.url, self.body)

    def _sections(self) -> list[tuple[str, str, str]]:
        """(title, code language, text) of each part shown."""
        sections = [
            (
                f"{self.method} {self.url} (nothing was sent)",
                "json",
                json.dumps(self.body, indent=2, ensure_ascii=False),
            ),
            ("As curl", "bash", self.curl),
        ]
        if self.magic:
            sections.append(("As a magic line", "", self.magic))
        return sections

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        sections = self._sections()
        text = "\n\n".join(f"{title}:\n{body}" for title, _, body in sections)
        markdown = "\n\n".join(
            f"**{_md(title)}**\n\n```{lang}\n{body}\n```" for title, lang, body in sections
        )
        bundle = {
            "text/plain": text,
            "text/markdown": markdown,
            "text/html": _style() + code_blocks_html(sections, "qoder-preview"),
            "application/json": {"method": self.method, "url": self.url, "body": self.body},
        }
        return for_display(bundle, include, "application/vnd.qoder.request+json")

    def __repr__(self) -> str:
        return str(self._repr_mimebundle_()["text/plain"])


@dataclass(frozen=True)
class SettingsReport:
    """What ``%qoder_env config`` shows: each setting, its value and its source."""

    rows: list[tuple[str, str, str]]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        rows = [(_line(name), _line(value), _line(source)) for name, value, source in self.rows]
        width = max((len(name) for name, _, _ in rows), default=0)
        text = "\n".join(
            f"{name:<{width}}  {value}" + (f"  ({source})" if source else "")
            for name, value, source in rows
        )
        cells = "".join(
            f"<tr><td><code>{_e(name)}</code></td><td>{_e(value)}</td><td>{_e(source)}</td></tr>"
            for name, value, source in rows
        )
        table = f"<table><tr><th>setting</th><th>value</th><th>source</th></tr>{cells}</table>"
        return {"text/plain": text, "text/html": table}

    def __repr__(self) -> str:
        return str(self._repr_mimebundle_()["text/plain"])
