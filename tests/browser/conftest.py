"""Browser tests: Debian's Chromium, driven by Playwright, against a Jupyter server and an emulator
that each test module starts for itself (free loopback ports) and stops.

Nothing here imports Playwright at import time: without it (or without Chromium) each test module
skips itself with the reason (see ``requirements.py``), and this file must still load.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from qoder_jupyter.emulator import Emulator

from .jupyter import App, JupyterServer
from .requirements import CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from .ui import NotebookUI

try:  # the session's canary sweep (tests/_canary.py) then looks for it in every log and file
    from tests._canary import new_canary
except ImportError:  # without the sweep: a canary-style token all the same

    def new_canary() -> str:
        return f"pt-canary-{uuid.uuid4().hex}"


# The helpers' asserts explain themselves as a test's do.
pytest.register_assert_rewrite("tests.browser.form_steps", "tests.browser.ui")

_CHROMIUM_ARGS = [
    "--no-sandbox",  # these machines run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_PAGE_KEY = pytest.StashKey["Page"]()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import expect, sync_playwright

    # A kernel answers a widget in well under a second; on a loaded two-core machine it may take
    # a few. Every `expect` polls and returns as soon as its condition holds: this bounds failures.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=_CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """The module's emulator. Its token is a canary: no saved file or output may contain it."""
    with Emulator(tokens=[new_canary()]) as running:
        yield running


@pytest.fixture(scope="module")
def jupyter(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    shared_emulator: Emulator,
) -> Iterator[JupyterServer]:
    """The module's Jupyter server (``JUPYTER_APP`` of the module: "lab", the default, or
    "notebook"); its kernels see the module's emulator through QODER_BASE_URL and QODER_PAT."""
    app: App = getattr(request.module, "JUPYTER_APP", "lab")
    server = JupyterServer(
        app,
        tmp_path_factory.mktemp(f"jupyter-{app}"),
        {"QODER_BASE_URL": shared_emulator.base_url, "QODER_PAT": shared_emulator.token},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, emptied for this test; its latency is put back afterwards."""
    import httpx

    headers = {"Authorization": f"Bearer {shared_emulator.token}"}
    with httpx.Client(base_url=shared_emulator.base_url, headers=headers, timeout=10) as api:
        for environment in shared_emulator.environments():
            api.delete(f"/environments/{environment['id']}").raise_for_status()
    assert shared_emulator.environments() == []
    shared_emulator.requests.clear()
    try:
        yield shared_emulator
    finally:
        shared_emulator.latency = 0


@pytest.fixture
def light_theme_after(jupyter: JupyterServer) -> Iterator[None]:
    """Put the theme back to the default (light) after the test, for the module's next page."""
    yield
    jupyter.set_lab_setting("@jupyterlab/apputils-extension:themes", {})


@pytest.fixture(scope="module")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    """One context per module: its HTTP and code caches make every page after the first load
    JupyterLab in about half the time. Each test still gets a page and a workspace of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = browser_context.new_page()
    opened.set_default_timeout(30_000)
    request.node.stash[_PAGE_KEY] = opened
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def open_notebook(
    page: Page, jupyter: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[Callable[[list[dict[str, Any]]], NotebookUI]]:
    """``open_notebook(cells)``: write a notebook of those cells under the server's root, open it
    and wait for its kernel. Its kernel is shut down after the test."""

    from .ui import NotebookUI, notebook_json

    def opener(cells: list[dict[str, Any]]) -> NotebookUI:
        name = re.sub(r"\W+", "_", request.node.name) + ".ipynb"
        (jupyter.root / name).write_text(notebook_json(cells))
        return NotebookUI(page, jupyter, name).open()

    yield opener
    jupyter.shutdown_kernels()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, a screenshot of the page as it was: build/browser-failures/TEST.png."""
    report = yield
    page = item.stash.get(_PAGE_KEY, None)
    if report.failed and page is not None and not page.is_closed():
        from .ui import REPO

        folder = REPO / "build" / "browser-failures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (re.sub(r"\W+", "_", item.name) + f"-{call.when}.png")
        try:
            page.screenshot(path=path, full_page=True)
            report.sections.append(("browser", f"screenshot of the page: {path}"))
        except Exception as error:  # a failed screenshot must not hide the test's own failure
            report.sections.append(("browser", f"no screenshot: {error}"))
    return report
