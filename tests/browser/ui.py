"""Driving a notebook in JupyterLab or Notebook 7 as a person does, through the page.

Every wait is on something the page shows (a selector, a text, a kernel status) or on a condition
computed in the page; none is a fixed sleep.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .jupyter import JupyterServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"

#: Seconds for the page to load, a kernel to start, or Run All to finish on a slow machine.
SLOW = 60_000

#: The window widths the issue's layout is checked at: a desktop, a laptop's half screen, a narrow
#: window. Below ``NARROW`` a person hides the file browser so the notebook gets the width.
WIDTHS = (1400, 800, 600)
NARROW = 1000
#: A code cell's prompt once it has run: "[12]:".
_RAN = re.compile(r"^\[\d+\]:$")

_KERNEL_READY = """() => {
    // The toolbar once the kernel is connected (see JupyterServer.wait_kernel_connected): the
    // indicator says idle for a moment before any kernel exists, so the kernel's name too.
    const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const name = document.querySelector('.jp-KernelName');
    return !!status && status.getAttribute('data-status') === 'idle'
        && !!name && name.textContent.includes('Python 3');
}"""

_ALL_CELLS_RAN = """() => {
    const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const prompts = [
        ...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'),
    ];
    return !!status && status.getAttribute('data-status') === 'idle' && prompts.length > 0
        && prompts.every((prompt) => /^\\[\\d+\\]:$/.test(prompt.textContent.trim()));
}"""

#: Colours as the page renders them: ``colour(element)`` is the text colour and the background
#: behind it (every translucent layer composited down to an opaque one, over white), as sRGB.
COLOURS_JS = """
const parse = (text) => {
    let m = text.match(/^rgba?\\(([^)]*)\\)$/);
    if (m) {
        const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = text.match(/^color\\(srgb ([^)]*)\\)$/);
    if (m) {
        const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number);
        return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    throw new Error('unparsed colour ' + text);
};
const over = (top, bottom) =>
    [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
        const colour = parse(getComputedStyle(node).backgroundColor);
        if (colour[3] > 0) layers.push(colour);
        if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
};
const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
};
// Whether an element's text is large text in WCAG's sense (3:1 is then enough).
const large = (element) => {
    const style = getComputedStyle(element);
    const size = parseFloat(style.fontSize);
    const bold = parseInt(style.fontWeight, 10) >= 700;
    return size >= 24 || (bold && size >= 18.66);
};
// Every element under root (root too) that shows text of its own, with its contrast ratio and
// whether it is large; elements inside `skip` (a selector), if given, are left out.
const textContrasts = (root, skip) => {
    const found = [];
    for (const element of [root, ...root.querySelectorAll('*')]) {
        if (skip && element.closest(skip)) continue;
        const own = [...element.childNodes]
            .filter((n) => n.nodeType === Node.TEXT_NODE)
            .map((n) => n.textContent.trim())
            .join(' ').trim();
        if (!own || element.getClientRects().length === 0) continue;
        const bg = background(element);
        const fg = over(parse(getComputedStyle(element).color), bg);
        found.push({text: own.slice(0, 40), tag: element.tagName.toLowerCase(),
                    className: String(element.className), ratio: contrast(fg, bg),
                    large: large(element), fg: fg.map(Math.round), bg: bg.map(Math.round)});
    }
    return found;
};
"""

#: For every element of the card that shows text of its own: its WCAG contrast ratio.
_CARD_CONTRAST = (
    "(card) => {"
    + COLOURS_JS
    + "return {texts: textContrasts(card, null), cardLuminance: luminance(background(card))};}"
)

_DARK_THEME_APPLIED = (
    "() => {"
    + COLOURS_JS
    + """
    // The theme's CSS is in force once its layout colour is what the page computes.
    if (document.body.dataset.jpThemeLight !== 'false') return false;
    const probe = document.createElement('div');
    probe.style.background = 'var(--jp-layout-color1)';
    document.body.appendChild(probe);
    const colour = parse(getComputedStyle(probe).backgroundColor);
    probe.remove();
    return colour[3] === 1 && luminance(colour) < 0.05;
}"""
)


#: What a person would see cut off inside ``root``: for every element shown, its content wider
#: than its box (a label ending "Metadat", a checkbox label cut), its box past the right or left
#: edge of ``root`` (a field pushed out of the notebook), and text whose line height is more than
#: 1.6 times its font size once it wraps (an error spread over huge lines). Text boxes (inputs,
#: textareas) and the preview's ``pre`` scroll their own content by design: only their box is
#: checked.
_CLIPPED = """(root) => {
    const edge = root.getBoundingClientRect();
    // What scrolls its own content, and what is inside such a scroller (cut by design).
    const scrolls = (e) => e.matches('input, textarea, select, pre, .qoder-env-scroll');
    const scrolled = (e) => !!e.parentElement.closest('pre, .qoder-env-scroll');
    const name = (e) => {
        const own = [...e.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
            .map((n) => n.textContent.trim()).join(' ').trim();
        const value = e.value !== undefined && typeof e.value === 'string' ? e.value : '';
        return `${e.tagName.toLowerCase()}.${String(e.className).trim().split(/\\s+/).join('.')}`
            + ` "${(own || value || e.textContent.trim()).slice(0, 50)}"`;
    };
    const found = [];
    const cell = root.closest('.jp-OutputArea-output') || root.parentElement;
    const room = cell.getBoundingClientRect();
    if (edge.right > room.right + 1) {
        found.push(`the form is wider than its output area: it ends at ${Math.round(edge.right)}`
            + ` px, the output area at ${Math.round(room.right)} px`);
    }
    for (const e of root.querySelectorAll('*')) {
        if (e.getClientRects().length === 0 || scrolled(e)) continue;
        const style = getComputedStyle(e);
        if (style.visibility === 'hidden' || style.display === 'contents') continue;
        const box = e.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        if (box.right > edge.right + 1 || box.left < edge.left - 1) {
            found.push(`${name(e)} is outside the form: ${Math.round(box.left)}..`
                + `${Math.round(box.right)} px, the form ${Math.round(edge.left)}..`
                + `${Math.round(edge.right)} px`);
        }
        if (style.display !== 'inline' && !scrolls(e) && e.scrollWidth > e.clientWidth + 1
                && e.clientWidth > 0) {
            found.push(`${name(e)} is cut: its content is ${e.scrollWidth} px wide, its box `
                + `${e.clientWidth} px`);
        }
        const ownText = [...e.childNodes].some(
            (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        const size = parseFloat(style.fontSize);
        const line = parseFloat(style.lineHeight);  // NaN for "normal": about 1.2
        // ipywidgets centres a one-line label or button in its 28 px row with a line height
        // of 28 px: spacing shows only once the text wraps onto a second line.
        if (ownText && line > 1.6 * size + 0.5 && box.height > 1.5 * line) {
            found.push(`${name(e)} has a line height of ${line} px for ${size} px text`);
        }
    }
    return found;
}"""


class NotebookUI:
    """One notebook file under the server's root, opened in ``page``."""

    def __init__(self, page: Page, server: JupyterServer, path: str) -> None:
        self.page = page
        self.server = server
        self.path = path

    @property
    def file(self) -> Path:
        return self.server.root / self.path

    @property
    def url(self) -> str:
        token = f"token={self.server.token}"
        if self.server.app == "notebook":
            return f"{self.server.url}/notebooks/{self.path}?{token}"
        # A workspace of its own: nothing another test left open is restored next to it.
        workspace = re.sub(r"\W+", "-", self.path.removesuffix(".ipynb"))
        return f"{self.server.url}/lab/workspaces/{workspace}/tree/{self.path}?{token}"

    # --- opening and running ---------------------------------------------------------------------

    def open(self) -> NotebookUI:
        self.page.goto(self.url)
        self.wait_loaded()
        self.server.wait_kernel_connected(self.path)
        self.page.wait_for_function(_KERNEL_READY, timeout=SLOW)
        return self

    def wait_loaded(self) -> None:
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell .cm-content", timeout=SLOW)

    def menu(self, title: str, command: str) -> None:
        """Click menu ``title`` of the menu bar, then its item that runs ``command``."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{title}$")).click()
        self.page.locator(f"li.lm-Menu-item[data-command='{command}']").click()

    def run_all(self) -> None:
        self.menu("Run", "runmenu:run-all")
        self.wait_all_cells_ran()

    def wait_all_cells_ran(self) -> None:
        try:
            self.page.wait_for_function(_ALL_CELLS_RAN, timeout=SLOW)
        except PlaywrightTimeoutError:
            errors = self.page.locator(".jp-OutputArea-output[data-mime-type*='error']")
            raise AssertionError(
                f"not every cell ran; errors shown: {errors.all_inner_texts()}"
            ) from None

    def cell(self, index: int) -> Locator:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run_cell(self, index: int) -> None:
        """Click into a cell's editor and press Ctrl+Enter, as a person runs one cell."""
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Control+Enter")

    def run_cell_and_wait(self, index: int) -> Locator:
        """Run one cell and wait until it has finished (a number in its prompt, not ``*``);
        its output area."""
        prompt = self.cell(index).locator(".jp-InputArea-prompt")
        before = prompt.inner_text().strip()  # "[ ]:", or the number of its last run
        self.run_cell(index)
        expect(prompt).not_to_have_text(before, timeout=SLOW)
        expect(prompt).to_have_text(_RAN, timeout=SLOW)
        return self.cell(index).locator(".jp-OutputArea")

    def run_above(self, index: int) -> None:
        """Run every cell above cell ``index`` (Run > Run All Above Selected Cell), and wait
        until they have all run: the cells from ``index`` on run only when a test runs them."""
        self.cell(index).locator(".jp-InputArea-prompt").click()
        self.menu("Run", "notebook:run-all-above")
        for above in range(index):
            prompt = self.cell(above).locator(".jp-InputArea-prompt")
            if "jp-CodeCell" in (self.cell(above).get_attribute("class") or ""):
                expect(prompt).to_have_text(_RAN, timeout=SLOW)

    def form(self, index: int = 0) -> Locator:
        return self.page.locator(".qoder-form").nth(index)

    def evaluate(self, **expressions: str) -> dict[str, Any]:
        """Expressions evaluated in this notebook's kernel, through a second kernel client."""
        return self.server.evaluate(self.path, **expressions)

    # --- saving ----------------------------------------------------------------------------------

    def tab(self) -> Locator:
        return self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=self.path)

    def save(self) -> None:
        """File > Save Notebook; returns once the tab no longer shows unsaved changes."""
        expect(self.tab()).to_have_class(re.compile(r"\bjp-mod-dirty\b"))
        self.menu("File", "docmanager:save")
        expect(self.tab()).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"), timeout=SLOW)

    # --- theme and colours -----------------------------------------------------------------------

    def switch_theme(self, name: str) -> None:
        """Settings > Theme > ``name``, as a person picks it."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile("^Settings$")).click()
        self.page.locator("li.lm-Menu-item", has_text=re.compile("^Theme$")).click()
        themes = self.page.locator("li.lm-Menu-item[data-command='apputils:change-theme']")
        themes.and_(self.page.get_by_role("menuitem", name=name, exact=True)).click()

    def wait_dark_theme(self) -> None:
        self.page.wait_for_function(_DARK_THEME_APPLIED, timeout=SLOW)

    def use_dark_theme(self) -> None:
        """The dark theme, applied and its splash screen gone (a screenshot would show it).
        (The ``light_theme_after`` fixture puts the default back for the module's next page.)"""
        self.switch_theme("JupyterLab Dark")
        self.wait_dark_theme()
        expect(self.page.locator("#jupyterlab-splash")).to_have_count(0)

    def set_width(self, width: int, *, height: int = 1600) -> None:
        """A window ``width`` pixels wide; below ``NARROW`` the file browser is hidden, as a
        person does on a narrow screen, so the notebook gets the width (JupyterLab only: the
        sidebar of Notebook 7 is closed already)."""
        self.page.set_viewport_size({"width": width, "height": height})
        stack = self.page.locator("#jp-left-stack")
        if self.server.app == "lab" and (width < NARROW) == stack.is_visible():
            self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab").first.click()
            if width < NARROW:
                expect(stack).to_be_hidden()
            else:
                expect(stack).to_be_visible()

    def card_contrast(self, card: Locator) -> dict[str, Any]:
        result: dict[str, Any] = card.evaluate(_CARD_CONTRAST)
        return result


def clipped(root: Locator) -> list[str]:
    """What is cut off or spills out inside ``root`` (see ``_CLIPPED``); [] when nothing is."""
    found: list[str] = root.evaluate(_CLIPPED)
    return found


def in_viewport(target: Locator) -> bool:
    """Whether ``target`` is wholly inside the window as it is scrolled now."""
    box = target.bounding_box()
    size = target.page.viewport_size
    assert box is not None, f"{target} is not shown"
    assert size is not None  # the context gives every page a viewport
    return (
        box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def screenshot(target: Page | Locator, name: str, *, margin: int = 0) -> Path:
    """A PNG of ``target`` in build/screenshots/; a locator with ``margin`` pixels of the page
    around it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    if isinstance(target, Locator) and margin:
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box is not None, f"{target} is not shown"
        clip = {
            "x": max(box["x"] - margin, 0),
            "y": max(box["y"] - margin, 0),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        target.page.screenshot(path=path, clip=clip)  # type: ignore[arg-type]
    else:
        target.screenshot(path=path)
    return path


def notebook_json(cells: list[dict[str, Any]]) -> str:
    """A notebook with ``cells`` (outputs and counts cleared) and the python3 kernel, so that no
    kernel dialog appears."""
    clean = []
    for cell in cells:
        cell = {**cell, "metadata": {}}
        if cell["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
        clean.append(cell)
    return json.dumps(
        {
            "cells": clean,
            "metadata": {
                "kernelspec": {
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                    "name": "python3",
                },
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def code_cell(source: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "id": uuid.uuid4().hex[:8],
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
