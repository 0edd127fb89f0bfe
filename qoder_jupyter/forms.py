"""The ipywidgets form: every field of an :class:`~qoder_jupyter.spec.EnvironmentSpec`, checked as
you type, with a live preview of the request and a Submit that never freezes the kernel.

The widgets are *linked* to the spec's traits (not copied): the form, ``form.spec`` and the previews
are one object. Submit runs the create as a task on the kernel's own event loop and returns at once;
all feedback goes through widgets (``Output.append_display_data``), never ``print`` or ``display``,
which JupyterLab drops once a callback has returned.

Its "Import packages" section fills the package lists from the user's files or from the kernel
(:mod:`qoder_jupyter.sources`) and shows the import's report: reading files and metadata takes
milliseconds, so it runs in the click itself.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import shlex
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import link

from ._core import new_idempotency_key
from ._frontend import prepare_widgets
from ._main_loop import Pending, running_loop, start
from ._markup import escape, plural
from ._markup import style as _style
from .display_diff import diff_bundle
from .environment import Environment
from .errors import APIConnectionError, APIError, QoderError, ValidationError
from .session import Session, current
from .spec import SANDBOX_TRAITS, EnvironmentSpec, curl_command
from .update import EnvironmentUpdate

if TYPE_CHECKING:  # the sources load (packaging, tomllib, PyYAML) only when an import runs
    from .sources import PackageImport

__all__ = ["EnvironmentForm", "form", "open_form"]

#: Dropdown choices by trait; "" stands for "not given" (the service then uses its default).
_CHOICES: dict[str, list[tuple[str, str]]] = {
    "scope": [("not set (the service's default)", ""), ("organization", "organization"),
              ("account", "account")],
    "config_type": [("Cloud (a Qoder sandbox)", "cloud"),
                    ("Self-hosted (your own runner)", "self_hosted")],
    "networking": [("default (limited)", ""), ("unrestricted", "unrestricted"),
                   ("limited", "limited"), ("allowlist", "allowlist")],
}  # fmt: skip
#: Dropdowns whose "" choice is the trait's None.
_OPTIONAL = ("scope", "networking")
_HOSTS_APPLY = ("limited", "allowlist", "allowed_hosts")
#: Package lists the service keeps but does not install: in a section of their own, closed.
_MORE_PACKAGES = ("cargo", "gem", "go")
#: Traits whose widget value is the trait value itself.
_LINKED = (
    "name", "description", "config_type", "allow_package_managers", "allow_mcp_servers",
    "apt", "pip", "npm", *_MORE_PACKAGES, "setup_script",
)  # fmt: skip
_DEFAULTS = {trait: EnvironmentSpec.class_traits()[trait].default() for trait in SANDBOX_TRAITS}
_TICK_SECONDS = 0.1
#: The one line of help under a field (the service's rules as environments.md states them).
_FIELD_HELP = {
    "allowed_hosts": "Bare host names such as <code>pypi.org</code> or "
    "<code>*.example.com</code>: no scheme, no path.",
    "allow_package_managers": "Lets apt, pip and npm download from their own registries "
    "without listing those hosts.",
}
#: What each networking choice lets through, shown under the dropdown as it changes.
_NETWORKING_HELP = {
    "": "Not set: the service applies <b>limited</b>, its restricted default; it also lets "
    "through the allowed hosts below.",
    "unrestricted": "Any host on the internet. Allowed hosts do not apply (the service refuses "
    "them).",
    "limited": "The service's restricted default; it also lets through the allowed hosts below.",
    "allowlist": "Only the allowed hosts below (give at least one), plus the registries or MCP "
    "servers if ticked.",
}
_NETWORKING_HELP["allowed_hosts"] = _NETWORKING_HELP["allowlist"]  # another spelling of it
#: Under each tag box: its frontend adds an entry on Tab or leaving the box, not on Enter (the
#: TagsInput of ipywidgets 8 listens to the input's change and blur events only).
_TAGS_HELP = "Press Tab or click outside the box to add each entry."
_TAG_BOXES = ("allowed_hosts", "apt", "pip", "npm", *_MORE_PACKAGES)
_CAPTION = "9em"  # the width of every row's label
#: Help text: muted like the card's, and at the line height of prose (a widget's is a row's).
_HELP = (
    "color:var(--jp-content-font-color2,var(--vscode-descriptionForeground,#57606a));"
    "line-height:1.4;margin:.2em 0"
)
#: An import that failed: red, but mixed with the text colour so it stays readable on the tint
#: (the theme's red alone is too light on white, and too dark on a dark theme's background).
_ERROR = (
    "color:var(--jp-error-color1,#cf222e);"
    "color:color-mix(in srgb,var(--jp-error-color1,#cf222e) 70%,"
    "var(--jp-content-font-color1,var(--vscode-editor-foreground,currentColor)));"
    "border-left:3px solid var(--jp-error-color1,#cf222e);"
    "background:rgba(207,34,46,.08);padding:.3em .6em;margin:.3em 0;line-height:1.4"
)


class EnvironmentForm:
    """A form bound to ``spec``. Display it (it is a widget); read ``form.spec`` any time."""

    def __init__(
        self,
        spec: EnvironmentSpec | None = None,
        *,
        variable: str = "env",
        session: Session | None = None,
        namespace: dict[str, Any] | None = None,
        editing: Environment | None = None,
    ) -> None:
        self.spec = spec if spec is not None else EnvironmentSpec()
        self.session = session if session is not None else Session()
        self._namespace = namespace if namespace is not None else {}
        #: The live environment Submit updates; None: Submit creates a new one.
        self.editing = editing
        self._changes = True  # whether Submit has something to send (an edit may have nothing)
        self._key: str | None = None  # kept for a resubmit of the same spec after an unclear end
        self._key_spec: EnvironmentSpec | None = None
        #: The request in flight (or the last one): ``await form.pending`` in a cell, or
        #: ``done()``, ``result(timeout)``, ``cancel()`` from any thread.
        self.pending: Pending[None] | None = None
        # The loop cells run on, where Submit's request runs: a click may be handled on a kernel
        # subshell's thread, whose loop no cell can await (see _main_loop). None outside a loop.
        self._home = running_loop()
        self._submitting = threading.Lock()  # clicks on two threads: one check-and-set at a time
        self._succeeded: list[Callable[[Environment], None]] = []
        self._build(variable)
        self._show_mode()
        self.spec.observe(self._refresh)
        self._refresh()

    # --- building --------------------------------------------------------------------------------

    def _build(self, variable: str) -> None:
        w = widgets
        self.name = w.Text(placeholder="my-environment", continuous_update=True)
        self.description = w.Textarea(placeholder="What it is for (optional)", rows=2)
        self.scope = w.Dropdown(options=self._options("scope"))
        self.config_type = w.Dropdown(options=self._options("config_type"))
        self.config_note = w.HTML(
            "<em>Runs on your own runner: only the setup script applies; networking and "
            "packages are not sent.</em>"
        )
        self.networking = w.Dropdown(options=self._options("networking"))
        self.allowed_hosts = w.TagsInput(allow_duplicates=False, placeholder="pypi.org")
        self.allow_package_managers = w.Checkbox(
            description="let apt, pip and npm reach their registries", indent=False
        )
        self.allow_mcp_servers = w.Checkbox(
            description="let the sandbox reach MCP servers", indent=False
        )
        self.apt = w.TagsInput(allow_duplicates=False, placeholder="curl")
        self.pip = w.TagsInput(allow_duplicates=False, placeholder="pandas>=2")
        self.npm = w.TagsInput(allow_duplicates=False, placeholder="typescript@5.0.0")
        self.cargo = w.TagsInput(allow_duplicates=False, placeholder="ripgrep")
        self.gem = w.TagsInput(allow_duplicates=False, placeholder="rails")
        self.go = w.TagsInput(allow_duplicates=False, placeholder="golang.org/x/tools/gopls")
        self.more_packages = w.Accordion()
        self._build_imports()
        self.setup_script = w.Textarea(
            placeholder="bash run after the packages install (optional)", rows=2
        )
        self.metadata_rows = w.VBox()
        self.add_metadata = w.Button(description="Add metadata", icon="plus")
        self.variable = w.Text(value=variable, continuous_update=True)
        self.summary = w.HTML()
        self.warnings = w.HTML()
        self.submit_button = w.Button(
            description="Create environment",
            button_style="primary",
            icon="cloud-upload",
            layout=w.Layout(width="auto"),
        )
        self.cancel_button = w.Button(
            description="Cancel", icon="times", layout=w.Layout(display="none")
        )
        self.code_button = w.Button(
            description="Show as code", icon="code", layout=w.Layout(width="auto")
        )
        self.status = w.HTML()
        self.preview = w.Tab(children=[w.HTML(), w.HTML(), w.HTML()])
        for index, title in enumerate(("JSON body", "%qoder_env", "curl")):
            self.preview.set_title(index, title)
        # Collapsible, so a created environment's card shows where the eye is (_show_result).
        self.preview_box = w.Accordion(children=[self.preview], selected_index=0)
        self.preview_box.set_title(0, "Request preview")
        self.code = w.Textarea(layout=w.Layout(display="none", width="100%"), rows=3)
        self.result = w.Output()
        self.networking_help = w.HTML()
        # <style> inside an HTML widget applies in JupyterLab, Notebook 7 and VS Code (their HTML
        # widget sets innerHTML unsanitized); a hidden widget keeps it out of the layout.
        self.stylesheet = w.HTML(_style("form.css"), layout=w.Layout(display="none"))
        self.frontend_note = w.HTML()
        note = prepare_widgets()
        if note:
            self.frontend_note.value = f'<div style="{_HELP}">⚠ {escape(note)}</div>'
        self._said: tuple[str, str, EnvironmentSpec] | None = None  # the last status, and for what
        self.problems: dict[str, widgets.HTML] = {}
        self._rows: dict[str, widgets.HBox] = {}
        self._typing_metadata = False
        self._busy = False
        self._ready = False  # whether the last refresh found no problem
        self._stashed: dict[str, Any] = {}  # the sandbox's values while self-hosted is chosen
        self._link()
        self._wire()
        self.widget = self._layout()
        self._show_what_applies()

    def _build_imports(self) -> None:
        """The widgets of the "Import packages" section (laid out by :meth:`_imports_section`)."""
        w = widgets
        self.imports = w.Accordion()
        self.import_files = w.Text(
            placeholder="requirements.txt, pyproject.toml",
            continuous_update=True,
            layout=_narrowing(),
        )
        self.import_files_hint = w.HTML()
        self.import_extras = w.Text(
            placeholder="optional-dependency groups: test, docs", layout=_narrowing()
        )
        self.import_groups = w.Text(
            placeholder="dependency groups (PEP 735): dev", layout=_narrowing()
        )
        self.import_dev = w.Checkbox(
            description="also devDependencies (package.json)", indent=False, layout=_narrowing()
        )
        self.import_button = w.Button(
            description="Import", icon="download", layout=w.Layout(width="auto")
        )
        self.from_kernel_button = w.Button(
            description="From kernel", icon="cubes", layout=w.Layout(width="auto")
        )
        # As wide as their labels (not 300 px each), so they sit beside the button.
        self.imported_only = w.Checkbox(
            description="imported modules only", indent=False, layout=w.Layout(width="auto")
        )
        self.include_jupyter = w.Checkbox(
            description="include Jupyter's own packages",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.import_result = w.Output()
        self._importing = False

    def _offer(self, change: Mapping[str, Any]) -> None:
        widget, options = getattr(self, change["name"]), self._options(change["name"])
        if options != list(widget.options):
            widget.options = options

    def _options(self, trait: str) -> list[tuple[str, str]]:
        """A dropdown's choices, and the spec's own value as written when it is none of them."""
        current = getattr(self.spec, trait) or ""
        known = [value for _, value in _CHOICES[trait]]
        extra = [] if current in known else [(f"{current} (as written)", current)]
        return [*_CHOICES[trait], *extra]

    def _link(self) -> None:
        # Observed before the link so an unusual value (from a file, say) has an option first.
        self.spec.observe(self._offer, list(_CHOICES))
        # The spec comes first in each link: linking copies the source's value to the target.
        for trait in _LINKED:
            link((self.spec, trait), (getattr(self, trait), "value"))
        for trait in _OPTIONAL:
            link(
                (self.spec, trait),
                (getattr(self, trait), "value"),
                transform=(_empty_if_none, _none_if_empty),
            )
        self.allowed_hosts.value = list(self.spec.allowed_hosts)
        self._show_metadata(self.spec.metadata)

    def _wire(self) -> None:
        self.allowed_hosts.observe(self._hosts_typed, "value")
        self.spec.observe(self._hosts_changed, ("networking", "allowed_hosts"))
        self.spec.observe(self._config_type_changed, "config_type")
        self.spec.observe(self._open_more_packages, list(_MORE_PACKAGES))
        self.spec.observe(self._metadata_changed, "metadata")
        self.add_metadata.on_click(lambda _: self._add_metadata_row("", ""))
        self.variable.observe(self._refresh, "value")
        self.submit_button.on_click(self._on_submit)
        self.cancel_button.on_click(lambda _: self.cancel())
        self.code_button.on_click(self._toggle_code)
        self.import_button.on_click(self._on_import)
        self.from_kernel_button.on_click(self._on_from_kernel)
        for name, child in vars(self).items():
            if isinstance(child, widgets.DOMWidget):
                child.add_class(f"qoder-form-{name.replace('_', '-')}")

    def _layout(self) -> widgets.VBox:
        w = widgets
        row = self._row
        basics = [
            row("Name", self.name, "name"),
            row("Description", self.description, "description"),
            row("Scope", self.scope, "scope"),
            row("Config type", w.VBox([self.config_type, self.config_note]), "config_type"),
        ]
        network = [
            row("Networking", w.VBox([self.networking, self.networking_help]), "networking"),
            row("Allowed hosts", self.allowed_hosts, "allowed_hosts"),
            row("", self.allow_package_managers, "allow_package_managers"),
            row("", self.allow_mcp_servers, "allow_mcp_servers"),
        ]
        packages = [
            row("apt packages", self.apt, "apt"),
            row("pip packages", self.pip, "pip"),
            row("npm packages", self.npm, "npm"),
            self._imports_section(),
            self._more_packages_section(),
        ]
        setup = row("Setup script", self.setup_script, "setup_script")
        metadata = w.VBox([self.metadata_rows, self.add_metadata])
        buttons = w.HBox([self.submit_button, self.cancel_button, self.code_button])
        buttons.add_class("qoder-form-buttons")
        result = [
            row("Store result in", self.variable, "variable"),
            self.summary,
            self.warnings,
            buttons,
            self.status,
            self.result,  # first under the status: where the eye is after a click
            self.code,
            self.preview_box,
        ]
        box = w.VBox(
            [
                self.stylesheet,
                self.frontend_note,
                _section("basics", "Basics", basics),
                _section("network", "Network", network),
                _section("packages", "Packages", packages),
                _section("setup", "Setup", [setup]),
                _section("metadata", "Metadata", [row("Metadata", metadata, "metadata")]),
                _section("result", "Result", result),
            ]
        )
        box.add_class("qoder-form")
        return box

    def _more_packages_section(self) -> widgets.Accordion:
        """cargo, gem and go, which the service keeps but does not install: rarely used, so
        closed unless the spec already has some."""
        labels = {"cargo": "cargo crates", "gem": "Ruby gems", "go": "Go modules"}
        rows = [self._row(labels[trait], getattr(self, trait), trait) for trait in _MORE_PACKAGES]
        self.more_packages.children = [widgets.VBox(rows)]
        self.more_packages.set_title(0, "More package managers (cargo, gem, go: not installed)")
        self._open_more_packages()
        return self.more_packages

    def _imports_section(self) -> widgets.Accordion:
        """Files to read (and how) with an Import button, then From kernel with its two choices,
        then the last import's report: closed until wanted."""
        w = widgets
        intro = w.HTML(
            f'<div style="{_HELP}">Add the packages of your own files, or of this kernel, '
            "after those in the lists above. A report says what was taken, what was left out "
            "and why.</div>"
        )
        files = w.VBox([self.import_files, self.import_files_hint], layout=_narrowing("auto"))
        kernel = w.HBox(
            [self.from_kernel_button, self.imported_only, self.include_jupyter],
            layout=w.Layout(
                flex_flow="row wrap", align_items="center", grid_gap="0 1em", min_width="0"
            ),
        )
        rows = [
            intro,
            _labelled("Files", files),
            _labelled("Extras", self.import_extras),
            _labelled("Groups", self.import_groups),
            _labelled("", self.import_dev),
            _labelled("", self.import_button),
            _labelled("This kernel", kernel),
            self.import_result,
        ]
        self._show_files_hint()
        self.imports.children = [w.VBox(rows)]
        self.imports.set_title(0, "Import packages (from your files or this kernel)")
        return self.imports

    def _open_more_packages(self, change: object = None) -> None:
        if any(getattr(self.spec, trait) for trait in _MORE_PACKAGES):
            self.more_packages.selected_index = 0  # never hide a value the spec holds

    def _row(self, label: str, field: widgets.Widget, trait: str) -> widgets.HBox:
        dashed = trait.replace("_", "-")
        problem = widgets.HTML()
        problem.add_class(f"qoder-form-problem-{dashed}")
        self.problems[trait] = problem
        column = [field, problem]
        tips = [_FIELD_HELP[trait]] if trait in _FIELD_HELP else []
        if trait in _TAG_BOXES:
            tips.append(_TAGS_HELP)
        if tips:
            tip = widgets.HTML(f'<div style="{_HELP}">{" ".join(tips)}</div>')
            tip.add_class(f"qoder-form-help-{dashed}")
            tip.add_class("qoder-form-help")
            if trait in _TAG_BOXES:
                tip.add_class("qoder-form-help-tags")
            column.insert(1, tip)
        row = _labelled(label, widgets.VBox(column, layout=widgets.Layout(min_width="0")))
        row.add_class(f"qoder-form-row-{dashed}")
        self._rows[trait] = row
        return row

    # --- the allowed hosts: shown only where they apply, kept while hidden -----------------------

    def _hosts_apply(self) -> bool:
        return self.spec.networking in _HOSTS_APPLY

    def _hosts_typed(self, change: Mapping[str, Any]) -> None:
        if self._hosts_apply():
            self.spec.allowed_hosts = list(change["new"])

    def _hosts_changed(self, change: Mapping[str, Any]) -> None:
        if change["name"] == "networking":
            self.spec.allowed_hosts = list(self.allowed_hosts.value) if self._hosts_apply() else []
        elif change["new"] and list(change["new"]) != list(self.allowed_hosts.value):
            self.allowed_hosts.value = list(change["new"])  # set on the spec from elsewhere

    # --- self-hosted: the sandbox's fields hidden and not sent, kept for a return to cloud -------

    def _config_type_changed(self, change: Mapping[str, Any]) -> None:
        if change["new"] == "self_hosted" and not self._stashed:
            self._stashed = {
                trait: getattr(self.spec, trait)
                for trait in SANDBOX_TRAITS
                if getattr(self.spec, trait) != _DEFAULTS[trait]
            }
            for trait in self._stashed:
                setattr(self.spec, trait, _DEFAULTS[trait])
        elif change["old"] == "self_hosted" and change["new"] != "self_hosted":
            for trait, value in self._stashed.items():
                if getattr(self.spec, trait) == _DEFAULTS[trait]:  # not set again meanwhile
                    setattr(self.spec, trait, value)
            self._stashed = {}

    def _applies(self, trait: str) -> bool:
        """Whether a field is shown: where it applies, or while it holds a value where it does
        not, so the problem shown with it can be fixed."""
        held = getattr(self.spec, trait) != _DEFAULTS[trait]
        if self.spec.config_type == "self_hosted" and not held:
            return False
        return trait != "allowed_hosts" or self._hosts_apply() or held

    def _show_what_applies(self) -> None:
        for trait in SANDBOX_TRAITS:
            self._rows[trait].layout.display = None if self._applies(trait) else "none"
        more = any(self._applies(trait) for trait in _MORE_PACKAGES)
        self.more_packages.layout.display = None if more else "none"
        self_hosted = self.spec.config_type == "self_hosted"
        self.config_note.layout.display = None if self_hosted else "none"
        # A self-hosted runner installs no package: nothing to import into.
        self.imports.layout.display = "none" if self_hosted else None

    # --- metadata rows ---------------------------------------------------------------------------

    def _add_metadata_row(self, key: str, value: str) -> None:
        key_box = widgets.Text(value=key, placeholder="key", continuous_update=True)
        value_box = widgets.Text(value=value, placeholder="value", continuous_update=True)
        remove = widgets.Button(icon="trash", tooltip="Remove", layout=widgets.Layout(width="3em"))
        row = widgets.HBox([key_box, value_box, remove])
        row.add_class("qoder-form-metadata-row")
        key_box.observe(self._metadata_typed, "value")
        value_box.observe(self._metadata_typed, "value")
        remove.on_click(lambda _: self._remove_metadata_row(row))
        self.metadata_rows.children = (*self.metadata_rows.children, row)

    def _remove_metadata_row(self, row: widgets.HBox) -> None:
        self.metadata_rows.children = tuple(r for r in self.metadata_rows.children if r is not row)
        self._metadata_typed()

    def _metadata_typed(self, change: object = None) -> None:
        pairs = [
            (row.children[0].value, row.children[1].value) for row in self.metadata_rows.children
        ]
        metadata = {key: value for key, value in pairs if key or value}
        if metadata == self.spec.metadata:  # no change the spec would announce: a duplicate key
            self._refresh()
            return
        self._typing_metadata = True
        try:
            self.spec.metadata = metadata
        finally:
            self._typing_metadata = False

    def _duplicate_keys(self) -> list[str]:
        """One message per key typed in more than one row (the spec keeps only the last, so
        Submit waits until the user picks); the rows are marked, and both are kept."""
        rows: dict[str, list[int]] = {}
        for number, row in enumerate(self.metadata_rows.children, start=1):
            key = row.children[0].value
            if key:
                rows.setdefault(key, []).append(number)
        messages = []
        for row in self.metadata_rows.children:
            repeated = len(rows.get(row.children[0].value, ())) > 1
            (row.add_class if repeated else row.remove_class)("qoder-form-metadata-duplicate")
        for key, numbers in rows.items():
            if len(numbers) > 1:
                where = ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
                messages.append(
                    f"The key {key!r} is in rows {where}: a key can be given once. Rename or "
                    "remove all but one of them."
                )
        return messages

    def _metadata_changed(self, change: Mapping[str, Any]) -> None:
        if not self._typing_metadata:  # set on the spec from elsewhere: show it
            self._show_metadata(change["new"])

    def _show_metadata(self, metadata: Mapping[str, Any]) -> None:
        self.metadata_rows.children = ()
        for key, value in metadata.items():
            self._add_metadata_row(str(key), str(value))

    # --- validation and preview ------------------------------------------------------------------

    def _refresh(self, change: object = None) -> None:
        problems = self.spec.field_problems(self.spec.problems())  # checked once per refresh
        variable_ok = self.variable.value.isidentifier()
        problems["variable"] = [] if variable_ok else ["Give a valid Python variable name."]
        problems["metadata"] = [*problems.get("metadata", []), *self._duplicate_keys()]
        for trait, label in self.problems.items():
            label.value = "".join(f"<div>⚠ {html.escape(m)}</div>" for m in problems.get(trait, []))
        count = sum(len(messages) for messages in problems.values())
        self._ready = not count
        self._enable_submit()
        self.summary.value = _summary(count, self.spec.name)
        self.warnings.value = "".join(
            f'<div class="qoder-form-warning"><b>Note:</b> {html.escape(warning.message)}</div>'
            for warning in self.spec.warnings()
        )
        self._show_what_applies()
        self._show_preview(valid=not count)
        self.networking_help.value = (
            f'<div style="{_HELP}">{_NETWORKING_HELP.get(self.networking.value, "")}</div>'
        )
        self._show_status()

    def _show_preview(self, *, valid: bool) -> None:
        if self.editing is not None:
            self._show_update_preview(self.editing, valid=valid)
            return
        body_view, magic_view, curl_view = self.preview.children
        magic = self.spec.to_magic()
        magic_view.value = _pre(magic)
        self.code.value = magic
        if valid:  # already checked by _refresh: build the body without checking it again
            body = self.spec.body()
            body_view.value = _pre(json.dumps(body, indent=2, ensure_ascii=False))
            url = f"{self.session.base_url}/environments"
            curl_view.value = _pre(curl_command("POST", url, body))
        else:
            note = "<em>Fix the problems above to see the exact request.</em>"
            body_view.value = curl_view.value = note

    def _show_update_preview(self, live: Environment, *, valid: bool) -> None:
        """Edit mode: what Submit would change on ``live`` (its diff), and the update it sends:
        its body, the ``%%qoder_env update`` cell that sends it, and the curl command."""
        diff_view, body_view, magic_view, curl_view = self.preview.children
        diff = live.diff(self.spec, after_label="this form")
        self._changes = bool(diff)
        what = f"<b>{html.escape(live.name)}</b> (<code>{html.escape(live.id)}</code>)"
        if not diff:
            diff_view.value = (
                f"<em>No changes: the form matches {what}. Edit a field to see here what "
                "Update would change.</em>"
            )
            note = "<em>No changes, so nothing to send.</em>"
            body_view.value = magic_view.value = curl_view.value = note
            self.code.value = ""
        else:
            diff_view.value = str(diff_bundle(diff)["text/html"])
            if valid:
                self._show_update_body(live, diff.traits, (body_view, magic_view, curl_view))
            else:
                note = "<em>Fix the problems above to see the exact request.</em>"
                body_view.value = magic_view.value = curl_view.value = note
        if valid:  # the summary of _refresh speaks of a create: say what an update does
            changes = plural(len(diff.traits), "field")
            self.summary.value = (
                f"Ready to update {what}: {changes} to change (see Changes below)."
                if diff
                else f"No changes to send: the form matches {what}."
            )
        self._enable_submit()

    def _show_update_body(
        self, live: Environment, traits: frozenset[str], views: tuple[widgets.HTML, ...]
    ) -> None:
        body_view, magic_view, curl_view = views
        body = EnvironmentUpdate.to_reach(live.to_spec(), self.spec, traits).to_body()
        text = json.dumps(body, indent=2, ensure_ascii=False)
        body_view.value = _pre(text)
        out = shlex.quote(self.variable.value)
        magic = f"%%qoder_env update {shlex.quote(live.id)} --out {out}\n{text}"
        magic_view.value = _pre(magic)
        self.code.value = magic
        self.code.rows = min(12, magic.count("\n") + 1)
        url = f"{self.session.base_url}/environments/{live.id}"
        curl_view.value = _pre(curl_command("POST", url, body))

    def _toggle_code(self, _button: widgets.Button) -> None:
        hidden = self.code.layout.display == "none"
        self.code.layout.display = None if hidden else "none"
        self.code_button.description = "Hide code" if hidden else "Show as code"

    def insert_as_code(self) -> None:
        """Put the code "Show as code" shows (the create; in edit mode, the update) into a new
        cell below the running one. Call it from a cell: a frontend only creates cells in answer
        to a running cell."""
        from IPython import get_ipython

        shell = get_ipython()
        if not self.code.value:  # edit mode with nothing changed
            print("No changes: there is no update to insert.")
        elif shell is not None:
            shell.set_next_input(self.code.value, replace=False)

    # --- importing packages from the user's files and kernel -------------------------------------

    def _on_import(self, _button: widgets.Button | None = None) -> None:
        paths = _names(self.import_files.value)
        if not paths:
            self._import_failed(
                "Name a package file first: requirements*.txt, pyproject.toml, environment.yml, "
                "package.json or apt.txt (several separated by commas)."
            )
            return
        extras, groups = _names(self.import_extras.value), _names(self.import_groups.value)
        dev = self.import_dev.value

        def read() -> PackageImport | None:
            from . import sources

            return sources.gather(paths, extras=extras, groups=groups, dev=dev)

        self._import(read)

    def _on_from_kernel(self, _button: widgets.Button | None = None) -> None:
        imported_only, include_jupyter = self.imported_only.value, self.include_jupyter.value

        def read() -> PackageImport:
            from . import sources

            return sources.from_kernel(imported_only=imported_only, include_jupyter=include_jupyter)

        self._import(read)

    def _import(self, read: Callable[[], PackageImport | None]) -> None:
        """Run ``read`` with the buttons disabled; lay what it took over the spec's lists (the
        linked widgets follow) and show its report, or show why nothing was imported. Nothing
        raises out of the click: the kernel would only log it."""
        if self._importing:
            return
        self._set_importing(True)
        try:
            report = read()
            assert report is not None  # a file or the kernel was named
            self._take(report)
        except ValidationError as error:
            self._import_failed(*(problem.message for problem in error.problems))
        except Exception as error:  # a bug must still show in the form, not vanish in a log
            self._import_failed(f"Unexpected error: {type(error).__name__}: {error}")
        else:
            _show_bundle(self.import_result, report._repr_mimebundle_())
        finally:
            self._show_files_hint()
            self._set_importing(False)

    def _take(self, report: PackageImport) -> None:
        lists = report.onto({manager: getattr(self.spec, manager) for manager in report.packages})
        for manager, entries in lists.items():
            setattr(self.spec, manager, entries)

    def _import_failed(self, *messages: str) -> None:
        """Why nothing was imported, in red; the inputs and the lists stay as they were."""
        lines = "".join(f"<div>{html.escape(message)}</div>" for message in messages)
        text = "\n".join(("Nothing imported.", *messages))
        _show_bundle(
            self.import_result,
            {
                "text/plain": text,
                "text/html": f'<div class="qoder-form-import-error" style="{_ERROR}">'
                f"<b>Nothing imported.</b>{lines}</div>",
            },
        )

    def _set_importing(self, busy: bool) -> None:
        self._importing = busy
        self.import_button.disabled = self.from_kernel_button.disabled = busy

    def _show_files_hint(self) -> None:
        """Where relative paths are read from: the kernel's working directory, as it is now."""
        self.import_files_hint.value = (
            f'<div style="{_HELP}">Comma-separated, relative to the kernel\'s working '
            f"directory (<code>{html.escape(os.getcwd())}</code>).</div>"
        )

    # --- submitting ------------------------------------------------------------------------------

    def _show_mode(self) -> None:
        """Edit mode: Submit updates, and the preview's first tab is what it would change."""
        if self.editing is None:
            return
        self.submit_button.description = "Update environment"
        self.submit_button.icon = "save"
        self.diff_view = widgets.HTML()
        self.diff_view.add_class("qoder-form-diff-view")
        self.preview.children = [self.diff_view, *self.preview.children]
        for index, title in enumerate(("Changes", "JSON body", "%qoder_env", "curl")):
            self.preview.set_title(index, title)
        self.preview.selected_index = 0

    def _on_submit(self, _button: widgets.Button | None = None) -> None:
        # A click may be handled on a kernel subshell's thread while a cell runs on the main one:
        # the check and the setting of _busy happen under a lock, the request on the home loop.
        with self._submitting:
            if self._busy:
                return  # a second click while the first is in flight does nothing
            if not self._changes:
                self._say("warn", "Nothing to update: the form matches the live environment.")
                return
            # A copy: the user may go on typing while the request is in flight. The client
            # checks it (once) and builds the body from it.
            spec = self.spec.copy()
            make = self._request(spec, self.variable.value)
            self._set_busy(True)
            try:
                self.pending = start(make, self._home)
            except RuntimeError as error:
                self._set_busy(False)
                self._say("error", f"Cannot submit: {error}.")

    def _request(
        self, spec: EnvironmentSpec, variable: str
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """What Submit runs: the update of the environment being edited, or a create."""
        live = self.editing
        if live is not None:
            return lambda: self._submit(
                spec, variable, f"Updating {live.name!r}", self._send_update(live, spec)
            )
        retry = self._key is not None and spec == self._key_spec  # the same request, again
        key = self._key if retry and self._key else new_idempotency_key()
        self._key, self._key_spec = key, spec

        async def create() -> Environment:
            return await self.session.async_environments().create(spec, idempotency_key=key)

        return lambda: self._submit(spec, variable, f"Creating {spec.name!r}", create())

    async def _send_update(self, live: Environment, spec: EnvironmentSpec) -> Environment:
        """Update ``live`` to ``spec``, sending only what differs, as an apply does (one rule):
        an update sets state, so one whose answer was lost is settled by reading it back."""
        return await self.session.async_environments().update_to(live, spec)

    async def _submit(
        self,
        spec: EnvironmentSpec,
        variable: str,
        doing: str,
        request: Coroutine[Any, Any, Environment],
    ) -> None:
        started = time.monotonic()
        ticker = asyncio.get_running_loop().create_task(self._tick(started, doing, spec))
        try:
            environment = await request
        except asyncio.CancelledError:
            seconds = time.monotonic() - started
            self._say("warn", self._cancelled_message(spec.name, seconds), spec=spec)
        except QoderError as error:
            self._say("error", f"Not {self._done}. {error}", spec=spec)
            if not _resubmit_is_a_retry(error):
                self._key = None
        except Exception as error:  # never let a task die silently: say it in the form
            self._say("error", f"Unexpected error: {type(error).__name__}: {error}", spec=spec)
        else:
            self._succeed(environment, variable, time.monotonic() - started, spec)
        finally:
            ticker.cancel()
            self._set_busy(False)

    def _succeed(
        self, environment: Environment, variable: str, seconds: float, spec: EnvironmentSpec
    ) -> None:
        self._key = self._key_spec = None  # the next submit is a new request
        self._namespace[variable] = environment
        if self.editing is not None:
            self.editing = environment  # what the form now edits: the diff starts again from it
            self._refresh()
        self._say(
            "ok",
            f"{self._done.capitalize()} {environment.name!r} ({environment.id}) in "
            f"{seconds:.1f} s; stored in <code>{html.escape(variable)}</code>.",
            escape=False,
            spec=spec,
        )
        self._show_result(environment)
        for callback in self._succeeded:
            callback(environment)

    def on_success(self, callback: Callable[[Environment], None]) -> None:
        """Call ``callback(environment)`` after each successful create or update (a manager
        keeps its table in step so)."""
        self._succeeded.append(callback)

    @property
    def _done(self) -> str:
        """What Submit does, done: "created", or "updated" in edit mode."""
        return "created" if self.editing is None else "updated"

    def _cancelled_message(self, name: str, seconds: float) -> str:
        if self.editing is None:
            return _cancelled_message(name, seconds)
        return (
            f"Cancelled after {seconds:.1f} s. If the request had reached the service, "
            f"{self.editing.name!r} may have been updated: submitting again is safe (an update "
            "sets values, so sending it twice gives the same result)."
        )

    async def _tick(self, started: float, doing: str, spec: EnvironmentSpec) -> None:
        while True:
            elapsed = time.monotonic() - started
            self._say("busy", f"{doing}… {elapsed:.1f} s", spec=spec)
            await asyncio.sleep(_TICK_SECONDS)

    def cancel(self) -> None:
        """Stop the request in flight (from a cell or any thread); the status says what became
        of it once the request has stopped (``await form.pending`` to wait for that)."""
        if self.pending is not None:
            self.pending.cancel()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.cancel_button.layout.display = None if busy else "none"
        self._enable_submit()

    def _enable_submit(self) -> None:
        """Submit works when the last refresh found no problem, there is something to send (an
        edit that changes nothing has not), and nothing is in flight."""
        self.submit_button.disabled = self._busy or not self._ready or not self._changes

    def _say(
        self,
        kind: str,
        message: str,
        *,
        escape: bool = True,
        spec: EnvironmentSpec | None = None,
    ) -> None:
        """Show a status ("ok", "error", "warn", "busy") about ``spec`` (default: the form's
        spec as it is now); once the spec no longer equals it, the status shows as stale."""
        text = html.escape(message) if escape else message
        self._said = (kind, text, (spec if spec is not None else self.spec).copy())
        self._show_status()

    def _show_status(self) -> None:
        """The last status, muted under "Earlier, for …:" when the spec has changed since: it
        describes a request the form would no longer send (a 409 for a name since changed)."""
        if self._said is None:
            self.status.value = ""
            return
        kind, text, about = self._said
        if kind == "busy" or about == self.spec:
            self.status.value = f'<div class="qoder-form-status-{kind}">{text}</div>'
            return
        earlier = (
            f"Earlier, for {escape(repr(about.name))}:"
            if about.name != self.spec.name
            else "Earlier, before your latest changes:"
        )
        self.status.value = (
            f'<div class="qoder-form-status-{kind} qoder-form-status-stale">'
            f"<b>{earlier}</b> {text}</div>"
        )

    def _show_result(self, obj: object) -> None:
        """Show ``obj`` (a created environment's card) right under the status, where the eye
        is after a click, and fold the preview away (one click on its title opens it again)."""
        self.result.outputs = ()
        self.result.append_display_data(obj)
        self.preview_box.selected_index = None

    # --- display: the form is its widget ---------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus what a frontend without its model shows. JupyterLab, Notebook 7 and
        VS Code always pick the widget view (rank 0), and without the model say "Error
        displaying widget: model not found", so the extra types cost them nothing. nbconvert
        skips the widget view when the notebook saved no widget state
        (``WidgetsDataTypeFilter``) and takes text/html; GitHub's viewer shows text/html
        without its styles; a terminal shows text/plain. Each says what this was and gives
        the magic that recreates it."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        name = self.spec.name or "a new environment"
        title = f"qoder_jupyter form for {name!r}: it needs a running kernel to show."
        magic = self.spec.to_magic()
        bundle["text/plain"] = f"{title}\nThe same environment as code:\n{magic}"
        bundle["text/html"] = (
            f'<div class="qoder-form-saved"><p>{escape(title)} The same environment as code:'
            f"</p><pre>{escape(magic)}</pre>{self.frontend_note.value}</div>"
        )
        return bundle

    def __repr__(self) -> str:
        return f"EnvironmentForm(spec={self.spec!r})"


# --- helpers -------------------------------------------------------------------------------------


def _labelled(label: str, field: widgets.Widget) -> widgets.HBox:
    """A row of the form: its label in the column every label has, then the field (which
    drops under the label when the notebook is too narrow for both, see form.css)."""
    caption = widgets.Label(label, layout=widgets.Layout(width=_CAPTION, flex="0 0 auto"))
    caption.add_class("qoder-form-label")
    field.add_class("qoder-form-field")
    row = widgets.HBox([caption, field])
    row.add_class("qoder-form-row")
    return row


def _section(key: str, title: str, rows: list[widgets.Widget]) -> widgets.VBox:
    """A titled group of rows: ``.qoder-form-section-<key>``, its heading first."""
    heading = widgets.HTML(f'<div class="qoder-form-heading">{escape(title)}</div>')
    heading.add_class("qoder-form-section-heading")
    section = widgets.VBox([heading, *rows])
    section.add_class("qoder-form-section")
    section.add_class(f"qoder-form-section-{key}")
    return section


def _narrowing(width: str = "var(--jp-widgets-inline-width,300px)") -> widgets.Layout:
    """A field as wide as the other rows' but narrower when the notebook is (its label keeps
    its width), rather than pushed past the notebook's edge."""
    return widgets.Layout(width=width, min_width="0", max_width="100%", flex="0 1 auto")


def _names(text: str) -> list[str]:
    """The comma-separated names of a text box, stripped, blanks dropped."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _show_bundle(output: widgets.Output, bundle: Mapping[str, Any]) -> None:
    """Replace what ``output`` shows with one MIME bundle (from a callback: no ``display``)."""
    output.outputs = ({"output_type": "display_data", "data": dict(bundle), "metadata": {}},)


def _none_if_empty(value: str) -> str | None:
    return value or None


def _empty_if_none(value: str | None) -> str:
    return value or ""


def _pre(text: str) -> str:
    style = "max-height:16em;overflow:auto;margin:.3em 0"
    return f'<pre class="qoder-form-pre" style="{style}">{html.escape(text)}</pre>'


def _summary(count: int, name: str) -> str:
    if count:
        noun = "problem" if count == 1 else "problems"
        return f"<b>{count} {noun} to fix before submitting</b> (shown next to each field)."
    return f"Ready to create <b>{html.escape(name)}</b>."


def _resubmit_is_a_retry(error: QoderError) -> bool:
    """Whether submitting the same spec again is a retry of this request, so keeps its key: when
    it may have acted (as the client decided) or never got an answer at all."""
    return isinstance(error, APIConnectionError) or (
        isinstance(error, APIError) and error.may_have_acted
    )


def _cancelled_message(name: str, seconds: float) -> str:
    return (
        f"Cancelled after {seconds:.1f} s. If the request had reached the service, {name!r} may "
        "exist: submitting again is safe (it reuses the same idempotency key and never creates "
        "twice)."
    )


_MODES = ("create", "update")


def form(
    spec: EnvironmentSpec | Environment | Mapping[str, Any] | None = None,
    *,
    variable: str | None = None,
    mode: str = "create",
) -> EnvironmentForm:
    """Open the form, prefilled from a spec, an environment or a request body.

    ``mode="create"`` (the default) creates a new environment: an environment given is cloned.
    ``mode="update"`` edits the live environment given: the preview shows what Submit would change
    on it, and Submit updates it.

    Uses the ``%qoder_env`` session (settings, login, clients) when the extension is loaded, else
    the environment variables; the result goes into ``variable`` (default: the ``variable``
    setting) in the notebook's namespace.
    """
    if mode not in _MODES:
        raise ValueError(
            f"Unknown mode {mode!r}: use mode='create' (a new environment; one given is cloned) "
            "or mode='update' (edit the live environment given)."
        )
    editing = None
    if mode == "update":
        if not isinstance(spec, Environment):
            raise TypeError(
                "mode='update' edits a live environment, so pass an Environment (e.g. "
                f"`env = %qoder_env get ID`), not {type(spec).__name__}. To create a new one "
                "from this, use mode='create'."
            )
        editing = spec
    if isinstance(spec, Environment):
        spec = spec.to_spec()
    elif isinstance(spec, Mapping):
        spec = EnvironmentSpec.from_body(spec)
    return open_form(spec, variable, editing)


def open_form(
    spec: EnvironmentSpec | None, variable: str | None, editing: Environment | None = None
) -> EnvironmentForm:
    """The form on ``spec`` with the notebook's session and namespace: what ``form()`` and
    ``%qoder_env ... --form`` open. ``editing``: the live environment Submit updates (None: it
    creates)."""
    from IPython import get_ipython

    session = current() or Session()
    shell = get_ipython()
    return EnvironmentForm(
        spec,
        variable=variable or session.settings.variable,
        session=session,
        namespace=shell.user_ns if shell is not None else {},
        editing=editing,
    )
