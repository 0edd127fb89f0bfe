"""Pages and checks of the cross-frontend browser tests (VS Code-like rendering, Notebook 7, the
exported HTML): the project's displays rendered into a page that defines only a frontend's CSS
variables, and the measurements a person's eye makes of it (contrast, light backgrounds, fonts).
What is cut off is ``ui.clipped``.

Everything shown comes from real objects: environments the emulator stored and the client read
back, their diff, a package import of a real file, a dry-run preview.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

from qoder_jupyter.client import Client
from qoder_jupyter.display import RequestPreview
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.sources import read_packages

from .ui import COLOURS_JS

#: WCAG 2 AA: normal text, and large text (24 px, or 18.66 px bold).
AA_NORMAL = 4.5
AA_LARGE = 3.0

# --- VS Code's notebook webview ------------------------------------------------------------------
#
# VS Code renders a notebook's outputs in a webview whose page has the workbench's theme colours as
# CSS variables, ``--vscode-<colour id with dots as dashes>``, and no ``--jp-*`` at all. The
# values are those of VS Code's default themes ("Dark Modern" and "Light Modern", the defaults
# since VS Code 1.78; extensions/theme-defaults/themes/*.json), with the font variables its webview
# sets on Linux.
_VSCODE_FONTS = {
    "--vscode-font-family": (
        "system-ui, 'Ubuntu', 'Droid Sans', sans-serif"  # the workbench's UI font
    ),
    "--vscode-font-size": "13px",
    "--vscode-font-weight": "normal",
    "--vscode-editor-font-family": "'Droid Sans Mono', 'monospace', monospace",
    "--vscode-editor-font-size": "14px",
    "--vscode-editor-font-weight": "normal",
}
VSCODE_DARK = {
    **_VSCODE_FONTS,
    "--vscode-foreground": "#cccccc",
    "--vscode-editor-background": "#1f1f1f",
    "--vscode-editor-foreground": "#cccccc",
    "--vscode-descriptionForeground": "#9d9d9d",
    "--vscode-disabledForeground": "#cccccc80",
    "--vscode-errorForeground": "#f85149",
    "--vscode-focusBorder": "#0078d4",
    "--vscode-textLink-foreground": "#4daafc",
    "--vscode-textLink-activeForeground": "#4daafc",
    "--vscode-textPreformat-foreground": "#d0d0d0",
    "--vscode-textPreformat-background": "#3c3c3c",
    "--vscode-textBlockQuote-background": "#2b2b2b",
    "--vscode-textBlockQuote-border": "#616161",
    "--vscode-textCodeBlock-background": "#0a0a0a66",
    "--vscode-textSeparator-foreground": "#ffffff2e",
    "--vscode-widget-border": "#313131",
    "--vscode-panel-border": "#2b2b2b",
    "--vscode-editorWidget-background": "#202020",
    "--vscode-editorWidget-foreground": "#cccccc",
    "--vscode-input-background": "#313131",
    "--vscode-input-foreground": "#cccccc",
    "--vscode-input-border": "#3c3c3c",
    "--vscode-button-background": "#0078d4",
    "--vscode-button-foreground": "#ffffff",
    "--vscode-badge-background": "#616161",
    "--vscode-badge-foreground": "#f8f8f8",
    "--vscode-list-hoverBackground": "#2a2d2e",
    "--vscode-editorError-foreground": "#f14c4c",
    "--vscode-editorWarning-foreground": "#cca700",
    "--vscode-editorInfo-foreground": "#3794ff",
    "--vscode-testing-iconPassed": "#73c991",
    "--vscode-charts-foreground": "#cccccc",
    "--vscode-charts-red": "#f14c4c",
    "--vscode-charts-green": "#89d185",
    "--vscode-charts-yellow": "#cca700",
    "--vscode-charts-blue": "#3794ff",
    "--vscode-gitDecoration-addedResourceForeground": "#81b88b",
    "--vscode-gitDecoration-modifiedResourceForeground": "#e2c08d",
    "--vscode-gitDecoration-deletedResourceForeground": "#c74e39",
    "--vscode-diffEditor-insertedTextBackground": "#9ccc2c33",
    "--vscode-diffEditor-removedTextBackground": "#ff000033",
    "--vscode-diffEditor-insertedLineBackground": "#9bb95533",
    "--vscode-diffEditor-removedLineBackground": "#ff000033",
    "--vscode-notebook-cellBorderColor": "#2b2b2b",
    "--vscode-notebook-outputContainerBackgroundColor": "#1f1f1f",
}
VSCODE_LIGHT = {
    **_VSCODE_FONTS,
    "--vscode-foreground": "#3b3b3b",
    "--vscode-editor-background": "#ffffff",
    "--vscode-editor-foreground": "#3b3b3b",
    "--vscode-descriptionForeground": "#3b3b3b",
    "--vscode-disabledForeground": "#61616180",
    "--vscode-errorForeground": "#f85149",
    "--vscode-focusBorder": "#005fb8",
    "--vscode-textLink-foreground": "#005fb8",
    "--vscode-textLink-activeForeground": "#005fb8",
    "--vscode-textPreformat-foreground": "#3b3b3b",
    "--vscode-textPreformat-background": "#0000001f",
    "--vscode-textBlockQuote-background": "#f8f8f8",
    "--vscode-textBlockQuote-border": "#e5e5e5",
    "--vscode-textCodeBlock-background": "#f8f8f8",
    "--vscode-textSeparator-foreground": "#0000002e",
    "--vscode-widget-border": "#e5e5e5",
    "--vscode-panel-border": "#e5e5e5",
    "--vscode-editorWidget-background": "#f8f8f8",
    "--vscode-editorWidget-foreground": "#3b3b3b",
    "--vscode-input-background": "#ffffff",
    "--vscode-input-foreground": "#3b3b3b",
    "--vscode-input-border": "#cecece",
    "--vscode-button-background": "#005fb8",
    "--vscode-button-foreground": "#ffffff",
    "--vscode-badge-background": "#cccccc",
    "--vscode-badge-foreground": "#3b3b3b",
    "--vscode-list-hoverBackground": "#f2f2f2",
    "--vscode-editorError-foreground": "#e51400",
    "--vscode-editorWarning-foreground": "#bf8803",
    "--vscode-editorInfo-foreground": "#1a85ff",
    "--vscode-testing-iconPassed": "#73c991",
    "--vscode-charts-foreground": "#616161",
    "--vscode-charts-red": "#e51400",
    "--vscode-charts-green": "#388a34",
    "--vscode-charts-yellow": "#bf8803",
    "--vscode-charts-blue": "#1a85ff",
    "--vscode-gitDecoration-addedResourceForeground": "#587c0c",
    "--vscode-gitDecoration-modifiedResourceForeground": "#895503",
    "--vscode-gitDecoration-deletedResourceForeground": "#ad0707",
    "--vscode-diffEditor-insertedTextBackground": "#9ccc2c40",
    "--vscode-diffEditor-removedTextBackground": "#ff000033",
    "--vscode-diffEditor-insertedLineBackground": "#9bb95533",
    "--vscode-diffEditor-removedLineBackground": "#ff000033",
    "--vscode-notebook-cellBorderColor": "#e5e5e5",
    "--vscode-notebook-outputContainerBackgroundColor": "#ffffff",
}


@dataclass(frozen=True)
class Display:
    """One output as a frontend receives it: what it shows and its ``text/html``."""

    title: str
    html: str


def vscode_page(variables: Mapping[str, str], displays: list[Display], *, dark: bool) -> str:
    """A page as VS Code's notebook webview lays outputs out: only ``--vscode-*`` variables on
    ``html``, the body in the editor's colours and UI font, one ``div.output`` per display.
    (The webview's own stylesheet gives the body those colours; a ``<body>`` class names the
    theme's kind, as VS Code's does: ``vscode-dark`` / ``vscode-light``.)"""
    declared = "".join(f"{name}: {value};" for name, value in variables.items())
    kind = "vscode-dark" if dark else "vscode-light"
    outputs = "".join(
        f'<section class="output" data-title="{html.escape(item.title)}">{item.html}</section>'
        for item in displays
    )
    return f"""<!DOCTYPE html>
<html style="{declared}"><head><meta charset="utf-8"><style>
body {{
    margin: 0; padding: 12px;
    background-color: var(--vscode-editor-background);
    color: var(--vscode-editor-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
}}
section.output {{ padding: 4px 0 16px; }}
</style></head><body class="{kind}" data-vscode-theme-kind="{kind}">{outputs}</body></html>"""


# --- the displays, from real objects -------------------------------------------------------------

RICH_BODY: dict[str, Any] = {
    "name": "vscode-rich",
    "description": "Every part of the card filled in: hosts, packages, a script and metadata",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org", "files.pythonhosted.org", "registry.npmjs.org"],
            "allow_package_managers": True,
        },
        "packages": {
            "apt": ["curl", "git"],
            "pip": ["pandas>=2", "numpy", "scikit-learn==1.5.0"],
            "npm": ["typescript@5.0.0"],
        },
        "setup_script": "set -e\necho ready > /tmp/ready",
    },
    "metadata": {"team": "research", "owner": "browser-tests", "ticket": "QA-12"},
}

_REQUIREMENTS = """\
pandas>=2
numpy==1.26.4; sys_platform != 'win32'
-e git+https://example.invalid/repo.git#egg=local
torch==2.5.1+cpu
"""


@contextmanager
def emulator_client() -> Iterator[tuple[Emulator, Client]]:
    with Emulator() as emulator, Client(base_url=emulator.base_url, token=emulator.token) as client:
        yield emulator, client


def project_displays(client: Client, folder: Path) -> list[Display]:
    """Every display of the project that holds colours of its own, as a notebook shows them: a
    rich environment's card, an archived one's, a deleted one's, a list, a diff, a dry-run
    preview and a package import (taken, left out, notes)."""
    environments = client.environments
    rich = environments.create(RICH_BODY)
    plain = environments.create({"name": "vscode-plain", "config": {"type": "cloud"}})
    archived = environments.create({"name": "vscode-archived", "config": {"type": "cloud"}})
    archived = archived.archive()
    gone = environments.create({"name": "vscode-deleted", "config": {"type": "cloud"}})
    gone.delete()  # the object then shows itself as deleted

    edited = rich.to_spec()
    edited.name = "vscode-rich-renamed"
    edited.description = "Changed\nover two lines"
    edited.pip = [*edited.pip, "polars"]
    edited.allowed_hosts = edited.allowed_hosts[:2]

    requirements = folder / "requirements.txt"
    requirements.write_text(_REQUIREMENTS)
    preview = RequestPreview(
        "POST", f"{client.base_url}/environments", edited.to_body(), edited.to_magic()
    )
    shown: list[tuple[str, Any]] = [
        ("card", rich),
        ("archived card", archived),
        ("deleted card", gone),
        ("list", environments.list()),
        ("diff", rich.diff(edited)),
        ("dry-run preview", preview),
        ("package import", read_packages(requirements)),
    ]
    assert plain.id in {env.id for env in environments.list()}
    return [Display(title, _html_of(value)) for title, value in shown]


def _html_of(value: Any) -> str:
    bundle = value._repr_mimebundle_() if hasattr(value, "_repr_mimebundle_") else {}
    if isinstance(bundle, tuple):  # (data, metadata)
        bundle = bundle[0]
    if "text/html" in bundle:
        return str(bundle["text/html"])
    # A display without HTML: what a frontend shows of its text/plain.
    return f"<pre>{html.escape(str(bundle.get('text/plain', repr(value))))}</pre>"


# --- measuring -----------------------------------------------------------------------------------

#: Per text-bearing element under ``root``: contrast and whether it is large text (WCAG);
#: per element painting a background of its own: the composited background's luminance.
_MEASURE = (
    "(root, skip) => {"
    + COLOURS_JS
    + """
    const elements = [root, ...root.querySelectorAll('*')];
    const texts = textContrasts(root, skip);
    const painted = [];
    for (const element of elements) {
        if (element.getClientRects().length === 0) continue;
        const own = parse(getComputedStyle(element).backgroundColor);
        if (own[3] === 0) continue;
        const composited = background(element);
        painted.push({tag: element.tagName.toLowerCase(), className: String(element.className),
                      luminance: luminance(composited), bg: composited.map(Math.round),
                      text: element.textContent.trim().slice(0, 40)});
    }
    return {texts, painted, rootLuminance: luminance(background(root))};
}"""
)


#: The frontend's own chrome inside a form: JupyterLab's tab bar and ipywidgets' accordion
#: headers keep the theme's colours (an inactive tab's label is 4.43:1 in JupyterLab Light); their
#: contrast is the theme's, not the project's.
FRONTEND_CHROME = ".lm-TabBar, .jupyter-widget-Collapse-header"


def measure(target: Locator, *, skip: str | None = None) -> dict[str, Any]:
    """The colours of everything ``target`` shows (see ``_MEASURE``); the texts inside ``skip``
    (a selector) are left out."""
    found: dict[str, Any] = target.evaluate(_MEASURE, skip)
    return found


def unreadable(measured: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The texts under WCAG AA contrast (4.5:1, or 3:1 for large text), worst first."""
    failing = [
        text
        for text in measured["texts"]
        if text["ratio"] < (AA_LARGE if text.get("large") else AA_NORMAL)
    ]
    return sorted(failing, key=lambda text: text["ratio"])


def light_backgrounds(measured: Mapping[str, Any], *, limit: float = 0.5) -> list[dict[str, Any]]:
    """Elements painting a background lighter than ``limit`` (relative luminance)."""
    return [item for item in measured["painted"] if item["luminance"] > limit]


def problems_report(problems: Mapping[str, Sequence[dict[str, Any] | str]]) -> str:
    """One line per display with problems: how many, and the worst three in short."""
    lines = []
    for title, found in problems.items():
        if found:
            kinds = list(dict.fromkeys(_short(item) for item in found))  # same style: once
            worst = "; ".join(kinds[:3])
            lines.append(f"  {title} ({len(found)}): {worst}")
    return "\n".join(lines)


def _short(item: dict[str, Any] | str) -> str:
    """One problem in a few words: the element, and what was measured of it."""
    if isinstance(item, str):  # already a sentence (ui.clipped)
        return item
    where = f"{item['text']!r} <{item['tag']} class={item['className']!r}>"
    if "ratio" in item:
        measured = f"ratio {item['ratio']:.2f}, fg rgb{tuple(item['fg'][:3])}"
    else:
        measured = f"luminance {item['luminance']:.2f}"
    return f"{where} {measured}, bg rgb{tuple(item['bg'][:3])}"


def font_families(page: Page, selector: str) -> list[dict[str, str]]:
    """Every element matching ``selector``: its computed font-family and its first characters."""
    found: list[dict[str, str]] = page.eval_on_selector_all(
        selector,
        """(elements) => elements.map((element) => ({
            family: getComputedStyle(element).fontFamily,
            text: element.textContent.trim().slice(0, 60),
        }))""",
    )
    return found
