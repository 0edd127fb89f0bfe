"""The environment manager: one widget to browse, search, sort, edit, clone, archive and delete.

``%qoder_env manage`` and ``qoder_jupyter.manager()`` open it. The first page is shown after one
small list request; the rest load in the background. What is loaded, searched and sorted is a
:class:`~qoder_jupyter.catalog.Catalog` (no widgets); this module draws it and runs the actions.
Every request runs on the kernel's main loop (as the form's Create does, see ``_main_loop``), so a
click never blocks the kernel, and its outcome is said in the widget, never printed.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import ipywidgets as widgets

from ._main_loop import Pending, running_loop, start
from ._markup import style
from .catalog import COLUMNS, Catalog
from .display import environment_bundle, manager_cells
from .environment import Environment
from .errors import QoderError
from .forms import EnvironmentForm
from .plan import Each
from .session import Session, current

__all__ = ["EnvironmentManager", "manager", "widget_state_size"]

# The table's columns (the checkbox, then manager_cells' six) are laid out by manager.css: one
# grid template for the header and every row (.qoder-manager-columns) keeps them aligned.
_HEADINGS = ("Name", "Status", "Networking", "Packages", "Metadata", "Created")
#: The headings that sort their column when clicked (all but Metadata), and by which key.
_SORTS = {heading: key for key, (heading, _) in COLUMNS.items()}


class EnvironmentManager:
    """The manager. Display it (it is a widget); ``manager.catalog`` holds what is loaded,
    ``manager.pending`` the request in flight (``await manager.pending`` in a cell)."""

    def __init__(
        self,
        *,
        session: Session | None = None,
        namespace: dict[str, Any] | None = None,
        include_archived: bool = False,
        search: str = "",
        page_size: int = 20,
        variable: str = "selected",
        workspace: str | None = None,
    ) -> None:
        self.session = session if session is not None else Session()
        self._namespace = namespace if namespace is not None else {}
        self.catalog = Catalog(page_size=page_size)
        self.catalog.search = search
        self.workspace = workspace
        #: The last request started (a load or an action); ``pending.done()`` when it is over.
        self.pending: Pending[None] | None = None
        self._loading: Pending[None] | None = None
        #: The form shown below the table (an edit or a clone), or None.
        self.form: EnvironmentForm | None = None
        self._acting = threading.Lock()  # one action at a time, whichever thread clicks
        self._busy = False
        self._confirming: Callable[[], Coroutine[Any, Any, None]] | None = None
        self._home = running_loop()
        self._build(include_archived, search, variable)
        self.reload()

    # --- the widget ----------------------------------------------------------------------------

    def _build(self, include_archived: bool, search: str, variable: str) -> None:
        w = widgets
        self.search = w.Text(value=search, placeholder="Search names, ids, metadata, packages")
        self.search.continuous_update = True
        self.search.observe(self._on_search, "value")
        self.search.add_class("qoder-manager-search")
        self.include_archived = w.Checkbox(value=include_archived, description="include archived")
        self.include_archived.indent = False
        self.include_archived.observe(lambda _change: self.reload(), "value")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _button: self.reload())
        self.summary = w.HTML()
        self.summary.add_class("qoder-manager-summary")

        self.select_page = w.Checkbox(value=False, indent=False, layout=w.Layout(width="auto"))
        self.select_page.tooltip = "Tick every environment on this page"
        self.select_page.observe(self._on_select_page, "value")
        self.sort_buttons = {
            heading: w.Button(description=heading, tooltip=f"Sort by {heading.lower()}")
            for heading in _SORTS
        }
        for heading, button in self.sort_buttons.items():
            button.add_class("qoder-manager-sort")
            button.on_click(lambda _button, key=_SORTS[heading]: self.sort_by(key))
        headings = w.GridBox([self.sort_buttons.get(h) or _heading_label(h) for h in _HEADINGS])
        headings.add_class("qoder-manager-columns")
        header = w.GridBox([self.select_page, headings])
        header.add_class("qoder-manager-head")
        self._rows = [self._row(index) for index in range(self.catalog.page_size)]
        self._row_ids: list[str | None] = [None] * self.catalog.page_size  # what each row shows
        self.table = w.VBox([header, *(row for row, _, _ in self._rows)])
        self.table.add_class("qoder-manager-table")

        self.previous_button = w.Button(description="Previous", icon="chevron-left")
        self.previous_button.on_click(lambda _button: self.go_to(self.catalog.page - 1))
        self.next_button = w.Button(description="Next", icon="chevron-right")
        self.next_button.on_click(lambda _button: self.go_to(self.catalog.page + 1))
        self.page_label = w.HTML()
        self.page_label.add_class("qoder-manager-page")

        self.action_buttons = {
            "card": w.Button(description="Show card", icon="id-card"),
            "edit": w.Button(description="Edit", icon="pencil"),
            "clone": w.Button(description="Clone", icon="copy"),
            "archive": w.Button(description="Archive", icon="archive"),
            "delete": w.Button(description="Delete", icon="trash", button_style="danger"),
        }
        for name, button in self.action_buttons.items():
            button.add_class(f"qoder-manager-{name}")
            button.on_click(lambda _button, name=name: self.act(name))
        self.variable = w.Text(value=variable, layout=w.Layout(width="10em"))
        self.store_button = w.Button(description="Store selection in", icon="download")
        self.store_button.on_click(lambda _button: self.store_selection())

        self.confirm_text = w.HTML()
        self.confirm_button = w.Button(button_style="danger")
        self.confirm_button.add_class("qoder-manager-confirm-button")
        self.confirm_button.on_click(lambda _button: self._confirmed())
        self.cancel_button = w.Button(description="Cancel")
        self.cancel_button.on_click(lambda _button: self._hide_confirm())
        self.confirm_box = w.VBox(
            [self.confirm_text, w.HBox([self.confirm_button, self.cancel_button])],
            layout=w.Layout(display="none"),
        )
        self.confirm_box.add_class("qoder-manager-confirm")
        self.progress = w.IntProgress(min=0, max=1, layout=w.Layout(display="none"))
        self.status = w.HTML()
        self.status.add_class("qoder-manager-status")
        self.detail = w.Box()
        self.detail.add_class("qoder-manager-detail")

        # The cells are the card's markup (badges, ids): its stylesheet, then the manager's.
        sheets = style("card.css") + style("manager.css")
        stylesheet = w.HTML(sheets, layout=w.Layout(display="none"))
        self.widget = w.VBox(
            [
                stylesheet,
                _bar([self.search, self.include_archived, self.refresh_button]),
                self.summary,
                self.table,
                _bar([self.previous_button, self.page_label, self.next_button]),
                _bar([*self.action_buttons.values(), self.store_button, self.variable]),
                self.confirm_box,
                self.progress,
                self.status,
                self.detail,
            ]
        )
        self.widget.add_class("qoder-manager")

    def _row(self, index: int) -> tuple[widgets.GridBox, widgets.Checkbox, widgets.HTML]:
        """One row's widgets, reused from page to page: a checkbox and the cells."""
        check = widgets.Checkbox(value=False, indent=False, layout=widgets.Layout(width="auto"))
        cells = widgets.HTML()
        row = widgets.GridBox([check, cells], layout=widgets.Layout(display="none"))
        row.add_class("qoder-manager-row")
        check.observe(lambda change: self._on_check(index, change["new"]), "value")
        return row, check, cells

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = (
            "Qoder environment manager (it needs a frontend that runs ipywidgets, such as "
            "JupyterLab, Notebook 7 or VS Code). The same in code: %qoder_env list"
        )
        return bundle

    # --- drawing -------------------------------------------------------------------------------

    def _draw(self) -> None:
        view = self.catalog.view()
        self.summary.value = html.escape(view.summary())
        for index, (row, check, cells) in enumerate(self._rows):
            env = view.rows[index] if index < len(view.rows) else None
            row.layout.display = None if env is not None else "none"
            self._row_ids[index] = env.id if env is not None else None
            if env is None:
                continue
            check.value = env.id in self.catalog.selected
            cells.value = _cells_html(manager_cells(env))
        shown = [env.id for env in view.rows]
        self.select_page.value = bool(shown) and set(shown) <= self.catalog.selected
        self.page_label.value = f"Page {view.page + 1:,} of {view.pages:,}"
        self.previous_button.disabled = view.page == 0
        self.next_button.disabled = view.page >= view.pages - 1
        for heading, button in self.sort_buttons.items():
            key = _SORTS[heading]
            arrow = ""
            if self.catalog.sort_key == key:
                arrow = " ▼" if self.catalog.descending else " ▲"
            button.description = heading + arrow
        self._enable_actions()

    def _enable_actions(self) -> None:
        chosen = len(self.catalog.selected)
        for name, button in self.action_buttons.items():
            one_only = name in ("card", "edit", "clone")
            button.disabled = self._busy or (chosen != 1 if one_only else chosen == 0)
        self.store_button.disabled = chosen == 0
        self.refresh_button.disabled = self._busy

    def _say(self, kind: str, message: str) -> None:
        """The outcome of an action, in the widget: "ok", "error", "warn" or "busy"."""
        self.status.value = f'<div class="qoder-manager-status-{kind}">{message}</div>'

    # --- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the environments again from the first page (the selection is kept)."""
        if self._loading is not None:
            self._loading.cancel()
        self.catalog.clear()
        self.summary.value = "Loading…"
        self._loading = self.pending = self._start(self._load)

    async def _load(self) -> None:
        environments = self.session.async_environments()
        archived = True if self.include_archived.value else None
        # A reload cancels this task: the CancelledError goes up, and the new load owns the
        # catalog from then on (this one marks nothing complete).
        try:
            pages = environments.pages(
                first=self.catalog.page_size, include_archived=archived, workspace=self.workspace
            )
            async for page in pages:
                self.catalog.add(page)
                self._draw()
        except QoderError as error:
            self._say("error", f"Could not list the environments. {html.escape(str(error))}")
        self.catalog.complete = True
        self._draw()

    def _start(self, make: Callable[[], Coroutine[Any, Any, None]]) -> Pending[None] | None:
        try:
            return start(make, self._home)
        except RuntimeError as error:  # no event loop: a plain script
            self._say("error", html.escape(f"The manager needs a running kernel: {error}."))
            return None

    # --- browsing ------------------------------------------------------------------------------

    def _on_search(self, change: dict[str, Any]) -> None:
        self.catalog.search = change["new"]
        self.catalog.page = 0
        self._draw()

    def sort_by(self, key: str) -> None:
        """Sort by a column (``name``, ``status``, ``networking``, ``packages``, ``created``);
        the same column again reverses it."""
        self.catalog.sort_by(key)
        self._draw()

    def go_to(self, page: int) -> None:
        self.catalog.page = page
        self._draw()

    def _on_check(self, index: int, checked: bool) -> None:
        env_id = self._row_ids[index]
        if env_id is None:
            return
        if checked:
            self.catalog.selected.add(env_id)
        else:
            self.catalog.selected.discard(env_id)
        self._enable_actions()

    def _on_select_page(self, change: dict[str, Any]) -> None:
        shown = {env.id for env in self.catalog.view().rows}
        if change["new"]:
            self.catalog.selected |= shown
        elif shown <= self.catalog.selected:  # unticked by a person, not by a redraw
            self.catalog.selected -= shown
        self._draw()

    def select(self, *env_ids: str) -> None:
        """Select these environments (as ticking their boxes does)."""
        self.catalog.selected.update(env_ids)
        self._draw()

    def store_selection(self) -> list[Environment]:
        """Put the selected environments into the variable named beside the button."""
        name = self.variable.value.strip()
        if not name.isidentifier():
            self._say("error", html.escape(f"{name!r} is not a Python variable name."))
            return []
        chosen = self.catalog.chosen()
        self._namespace[name] = chosen
        count = _count(len(chosen))
        self._say("ok", f"Stored {count} in <code>{html.escape(name)}</code>.")
        return chosen

    # --- actions -------------------------------------------------------------------------------

    def act(self, action: str) -> None:
        """What an action button does: ``card``, ``edit``, ``clone``, ``archive``, ``delete``."""
        chosen = self.catalog.chosen()
        if not chosen or self._busy:
            return
        if action in ("card", "edit", "clone"):
            {"card": self._show_card, "edit": self._edit, "clone": self._clone}[action](chosen[0])
            return
        self._ask(action, chosen)

    def _show_card(self, env: Environment) -> None:
        self.form = None
        self.detail.children = [widgets.HTML(str(environment_bundle(env)["text/html"]))]

    def _edit(self, env: Environment) -> None:
        form = self._form(env.to_spec(), editing=env)
        form.on_success(self._edited)
        self._say("ok", f"Editing {_named(env)} below: the Changes tab shows the diff.")

    def _clone(self, env: Environment) -> None:
        spec = env.to_spec()
        spec.name = f"{env.name}-copy" if env.name else ""
        form = self._form(spec)
        form.on_success(self._cloned)
        self._say("ok", f"A copy of {_named(env)} below: change what differs, then Create.")

    def _form(self, spec: Any, editing: Environment | None = None) -> EnvironmentForm:
        form = EnvironmentForm(
            spec, session=self.session, namespace=self._namespace, editing=editing
        )
        self.form = form
        self.detail.children = [form.widget]
        return form

    def _edited(self, env: Environment) -> None:
        self.catalog.replace(env)
        self._draw()

    def _cloned(self, env: Environment) -> None:
        self.catalog.add([env], at_top=True)
        self._draw()

    def _ask(self, action: str, chosen: list[Environment]) -> None:
        """Archive and delete ask first, in the widget, saying what cannot be undone."""
        count = _count(len(chosen))
        names = ", ".join(_named(env) for env in chosen[:5]) + (" …" if len(chosen) > 5 else "")
        if action == "archive":
            consequence = "Archived environments host no new sessions, and there is no unarchive."
        else:
            consequence = (
                "Deleting cannot be undone: the environments and their ids are gone for good "
                "(the service refuses while sessions still use one)."
            )
        self.confirm_text.value = (
            f"<b>{action.capitalize()} {count}?</b> {names}.<br>{html.escape(consequence)}"
        )
        self.confirm_button.description = f"{action.capitalize()} {count}"
        ids = [env.id for env in chosen]
        self._confirming = lambda: self._bulk(action, ids)
        self.confirm_box.layout.display = None

    def _hide_confirm(self) -> None:
        self.confirm_box.layout.display = "none"
        self._confirming = None

    def _confirmed(self) -> None:
        with self._acting:
            make, self._confirming = self._confirming, None
            if make is None or self._busy:
                return
            self._busy = True
        self.confirm_box.layout.display = "none"
        self._enable_actions()
        self.pending = self._start(make)
        if self.pending is None:
            self._busy = False

    async def _bulk(self, action: str, env_ids: list[str]) -> None:
        environments = self.session.async_environments()
        self.progress.max, self.progress.value = len(env_ids), 0
        self.progress.layout.display = None
        verb = "Archiving" if action == "archive" else "Deleting"

        def tell(item: Each) -> None:
            self.progress.value += 1
            self._say("busy", f"{verb}… {self.progress.value:,} of {len(env_ids):,} done.")

        try:
            each = environments.archive_each if action == "archive" else environments.delete_each
            results = await each(env_ids, workspace=self.workspace, progress=tell)
            self._settle(action, results)
        finally:
            self._busy = False
            self.progress.layout.display = "none"
            self._draw()

    def _settle(self, action: str, results: tuple[Each, ...]) -> None:
        """Keep the table in step and say, per environment, what happened."""
        named = {item.env_id: self._named_id(item.env_id) for item in results}
        done = [item for item in results if item.ok]
        if action == "delete" or not self.include_archived.value:
            self.catalog.remove(item.env_id for item in done)
        else:
            for item in done:
                if isinstance(item.answer, Environment):
                    self.catalog.replace(item.answer)
        self.catalog.selected -= {item.env_id for item in done}
        past = "archived" if action == "archive" else "deleted"
        lines = [
            f"<li>{named[item.env_id]}: "
            + (past if item.ok else f"not {past}. {html.escape(str(item.error))}")
            + "</li>"
            for item in results
        ]
        failed = len(results) - len(done)
        head = f"{past.capitalize()} {_count(len(done))}"
        if failed:
            head += f"; {failed:,} failed"
        self._say("error" if failed else "ok", f"{head}.<ul>{''.join(lines)}</ul>")

    def _named_id(self, env_id: str) -> str:
        env = self.catalog.get(env_id)
        return _named(env) if env is not None else html.escape(env_id)


def _bar(children: list[widgets.Widget]) -> widgets.HBox:
    """A row of controls that wraps when the notebook is narrow."""
    bar = widgets.HBox(children)
    bar.add_class("qoder-manager-bar")
    return bar


def widget_state_size(root: widgets.Widget) -> tuple[int, int]:
    """The widgets a frontend receives for ``root`` (it and every widget its traits hold:
    children, layouts, styles) and the bytes of their state as JSON: what opening it costs."""
    seen: dict[str, widgets.Widget] = {}
    todo = [root]
    while todo:
        widget = todo.pop()
        if widget.model_id in seen:
            continue
        seen[widget.model_id] = widget
        for name in widget.keys:
            value = getattr(widget, name)
            held = value if isinstance(value, list | tuple) else [value]
            todo.extend(item for item in held if isinstance(item, widgets.Widget))
    size = sum(len(json.dumps(w.get_state(), default=str)) for w in seen.values())
    return len(seen), size


def _heading_label(heading: str) -> widgets.HTML:
    label = widgets.HTML(f"<b>{html.escape(heading)}</b>")
    label.add_class("qoder-manager-heading")
    return label


def _cells_html(cells: tuple[str, ...]) -> str:
    inner = "".join(f'<div class="qoder-manager-cell">{cell}</div>' for cell in cells)
    return f'<div class="qoder-env qoder-manager-columns">{inner}</div>'


def _count(count: int) -> str:
    return f"{count:,} environment" + ("" if count == 1 else "s")


def _named(env: Environment) -> str:
    return html.escape(f"{env.name!r} ({env.id})" if env.name else env.id)


def manager(
    *,
    include_archived: bool = False,
    search: str = "",
    page_size: int = 20,
    variable: str = "selected",
    workspace: str | None = None,
) -> EnvironmentManager:
    """Open the environment manager with the notebook's session and namespace: its table starts
    with ``search`` and ``page_size`` rows a page; Store selection fills ``variable``;
    ``workspace``: the ``qoder-workspace-id`` of every call (default: the session's)."""
    from IPython import get_ipython

    shell = get_ipython()
    return EnvironmentManager(
        session=current() or Session(),
        namespace=shell.user_ns if shell is not None else {},
        include_archived=include_archived,
        search=search,
        page_size=page_size,
        variable=variable,
        workspace=workspace,
    )
