"""The environment manager, driven as a person would (type, tick, click), against the emulator
over real HTTP. Clicks run inside a real event loop (asyncio.run), as in a kernel, so its loads and
actions run for real; what it shows is read from its widgets, what it did from the emulator."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import ipywidgets

from qoder_jupyter.credentials import Token
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.forms import EnvironmentForm
from qoder_jupyter.manager import EnvironmentManager, widget_state_size
from qoder_jupyter.session import Session
from qoder_jupyter.settings import QoderEnv


def seed(api: httpx.Client, count: int) -> list[str]:
    """``count`` environments, env-00 (the oldest) to env-NN, odd ones of team research, each
    with one pip package; their ids, oldest first."""
    ids = []
    for i in range(count):
        body = {
            "name": f"env-{i:02}",
            "config": {"type": "cloud", "packages": {"pip": [f"pkg{i}"]}},
            "metadata": {"team": "research" if i % 2 else "ops"},
        }
        response = api.post("/environments", json=body)
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


def _session(emulator: Emulator) -> Session:
    session = Session(QoderEnv(base_url=emulator.base_url))
    session.login = Token(emulator.token)
    return session


def in_loop(emulator: Emulator, steps: Callable[[EnvironmentManager], Any], **options: Any) -> Any:
    """Open a manager in a running loop, wait for its load, then run ``steps`` (a coroutine
    function of the manager); what it returns, and the namespace, come back."""
    namespace: dict[str, Any] = {}

    async def scenario() -> Any:
        manager = EnvironmentManager(session=_session(emulator), namespace=namespace, **options)
        await settled(manager)
        return await steps(manager)

    return asyncio.run(scenario()), namespace


async def settled(manager: EnvironmentManager) -> None:
    """Wait for the manager's last load or action to end."""
    assert manager.pending is not None
    await manager.pending


def shown_names(manager: EnvironmentManager) -> list[str]:
    return [env.name for env in manager.catalog.view().rows]


def text(widget: ipywidgets.HTML) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", str(widget.value)))


def test_it_opens_newest_first_a_page_at_a_time_and_pages_on(emulator, api):
    seed(api, 25)

    async def steps(manager: EnvironmentManager) -> None:
        assert shown_names(manager) == [f"env-{i:02}" for i in range(24, 14, -1)]
        assert text(manager.summary).strip() == "1 to 10 of 25 environments"
        assert manager.previous_button.disabled
        manager.next_button.click()
        manager.next_button.click()
        assert shown_names(manager) == [f"env-{i:02}" for i in range(4, -1, -1)]
        assert manager.next_button.disabled
        visible = [row for row, _, _ in manager._rows if row.layout.display != "none"]
        assert len(visible) == 5

    in_loop(emulator, steps, page_size=10)
    listings = [r for r in emulator.requests if r.method == "GET"]
    limits = [parse_qs(r.query)["limit"] for r in listings]
    assert limits == [["10"], ["100"]]  # the first page: one small request; then the rest


def test_search_and_sort_by_a_header_click(emulator, api):
    seed(api, 6)

    async def steps(manager: EnvironmentManager) -> None:
        manager.search.value = "research"
        assert shown_names(manager) == ["env-05", "env-03", "env-01"]
        manager.sort_buttons["Name"].click()
        assert shown_names(manager) == ["env-01", "env-03", "env-05"]
        assert manager.sort_buttons["Name"].description == "Name ▲"
        manager.sort_buttons["Name"].click()
        assert manager.sort_buttons["Name"].description == "Name ▼"
        manager.search.value = "pkg4"
        assert shown_names(manager) == ["env-04"]

    in_loop(emulator, steps)


def test_bulk_archive_asks_first_then_archives_each_and_says_so(emulator, api):
    ids = seed(api, 4)

    async def steps(manager: EnvironmentManager) -> None:
        manager.search.value = "research"  # env-01 and env-03
        for _, check, _ in manager._rows[:2]:
            check.value = True
        manager.action_buttons["archive"].click()
        assert manager.confirm_box.layout.display is None
        asked = text(manager.confirm_text)
        assert "Archive 2 environments?" in asked
        assert "there is no unarchive" in asked
        assert all(not env.get("archived_at") for env in emulator.environments())  # asked only
        manager.confirm_button.click()
        await settled(manager)
        said = text(manager.status)
        assert "Archived 2 environments." in said
        assert f"'env-01' ({ids[1]}): archived" in said
        assert shown_names(manager) == []  # archived ones leave a table that hides them
        assert manager.catalog.selected == set()

    in_loop(emulator, steps)
    archived = {env["name"] for env in emulator.environments() if env.get("archived_at")}
    assert archived == {"env-01", "env-03"}


def test_delete_says_it_cannot_be_undone_and_a_cancel_sends_nothing(emulator, api):
    ids = seed(api, 3)

    async def steps(manager: EnvironmentManager) -> None:
        manager.select(ids[0])
        manager.action_buttons["delete"].click()
        assert "cannot be undone" in text(manager.confirm_text)
        manager.cancel_button.click()
        assert manager.confirm_box.layout.display == "none"
        before = len(emulator.requests)
        manager.action_buttons["delete"].click()
        manager.confirm_button.click()
        await settled(manager)
        assert [r.method for r in emulator.requests[before:]] == ["DELETE"]
        assert "Deleted 1 environment." in text(manager.status)

    in_loop(emulator, steps)
    assert sorted(env["name"] for env in emulator.environments()) == ["env-01", "env-02"]


def test_a_failure_is_said_per_item_and_the_others_go_on(emulator, api):
    ids = seed(api, 3)
    emulator.set_in_use(ids[1])  # the service refuses to delete an environment in use

    async def steps(manager: EnvironmentManager) -> None:
        manager.select(*ids)
        manager.action_buttons["delete"].click()
        manager.confirm_button.click()
        await settled(manager)
        said = text(manager.status)
        assert "Deleted 2 environments; 1 failed." in said
        assert f"'env-01' ({ids[1]}): not deleted. 409" in said
        assert shown_names(manager) == ["env-01"]
        assert manager.catalog.selected == {ids[1]}  # still ticked, to try again

    in_loop(emulator, steps)
    assert [env["id"] for env in emulator.environments()] == [ids[1]]


def test_edit_opens_the_form_with_the_diff_and_the_table_follows(emulator, api):
    ids = seed(api, 2)

    async def steps(manager: EnvironmentManager) -> None:
        manager.select(ids[0])
        manager.action_buttons["edit"].click()
        form = _form_in(manager)
        assert form.editing is not None
        assert form.editing.id == ids[0]
        form.description.value = "edited from the manager"
        assert "edited from the manager" in text(form.diff_view)
        form.submit_button.click()
        assert form.pending is not None
        await form.pending
        row = manager.catalog.get(ids[0])
        assert row is not None
        assert row.description == "edited from the manager"

    in_loop(emulator, steps)
    stored = {env["id"]: env for env in emulator.environments()}
    assert stored[ids[0]]["description"] == "edited from the manager"
    assert len(stored) == 2  # edited in place


def test_clone_opens_a_create_form_prefilled_with_a_copy(emulator, api):
    ids = seed(api, 1)

    async def steps(manager: EnvironmentManager) -> None:
        manager.select(ids[0])
        manager.action_buttons["clone"].click()
        form = _form_in(manager)
        assert form.editing is None
        assert form.name.value == "env-00-copy"
        assert list(form.pip.value) == ["pkg0"]
        form.submit_button.click()
        assert form.pending is not None
        await form.pending
        assert shown_names(manager)[0] == "env-00-copy"

    in_loop(emulator, steps)
    copy = next(env for env in emulator.environments() if env["name"] == "env-00-copy")
    assert copy["config"]["packages"] == {"pip": ["pkg0"]}
    assert copy["metadata"] == {"team": "ops"}


def test_store_selection_fills_the_variable_and_the_card_shows(emulator, api):
    ids = seed(api, 3)

    async def steps(manager: EnvironmentManager) -> list[Environment]:
        manager.select(ids[0], ids[2])
        assert manager.action_buttons["card"].disabled  # one at a time
        manager.store_button.click()
        manager.catalog.selected = {ids[2]}
        manager._draw()
        manager.action_buttons["card"].click()
        (card,) = manager.detail.children
        assert "env-02" in card.value
        manager.variable.value = "not a name"
        manager.store_button.click()
        assert "'not a name' is not a Python variable name" in text(manager.status)
        return manager.catalog.chosen()

    _, namespace = in_loop(emulator, steps)
    assert [env.id for env in namespace["selected"]] == [ids[2], ids[0]]


def test_a_refused_listing_is_said_in_the_widget(emulator):
    session = _session(emulator)
    session.login = Token("pt-not-a-valid-token")

    async def scenario() -> str:
        manager = EnvironmentManager(session=session)
        await settled(manager)
        return text(manager.status)

    said = asyncio.run(scenario())
    assert "Could not list the environments. 401" in said
    assert "pt-not-a-valid-token" not in said


def _form_in(manager: EnvironmentManager) -> EnvironmentForm:
    (shown,) = manager.detail.children
    form = manager.form
    assert form is not None
    assert form.widget is shown
    return form


def _opened(emulator: Emulator) -> tuple[int, tuple[int, int]]:
    """How many environments a new manager loaded, and the size of its widget state."""

    async def loaded(manager: EnvironmentManager) -> tuple[int, tuple[int, int]]:
        return len(manager.catalog), widget_state_size(manager.widget)

    result, _ = in_loop(emulator, loaded)
    return result  # type: ignore[no-any-return]


def test_a_thousand_environments_make_no_more_widget_state_than_twenty(emulator, api):
    seed(api, 20)
    twenty, (twenty_widgets, twenty_bytes) = _opened(emulator)
    for i in range(980):
        body = {"name": f"bulk-{i}", "config": {"type": "cloud"}}
        api.post("/environments", json=body).raise_for_status()
    thousand, (thousand_widgets, thousand_bytes) = _opened(emulator)
    assert (twenty, thousand) == (20, 1000)
    assert thousand_widgets == twenty_widgets  # the rows are widgets for one page only
    assert thousand_bytes < twenty_bytes * 1.2  # the same page, other names


def test_the_magic_opens_it_with_its_options_in_a_running_loop(shell, emulator, api):
    seed(api, 4)
    api.post(f"/environments/{emulator.environments()[0]['id']}/archive").raise_for_status()

    async def scenario() -> EnvironmentManager:
        cell = "m = %qoder_env manage --all --search research --rows 7 -o picked"
        ran = await shell.run_cell_async(
            cell, transformed_cell=shell.transform_cell(cell), preprocessing_exc_tuple=None
        )
        assert ran.success, ran.error_in_exec
        manager: EnvironmentManager = shell.user_ns["m"]
        await settled(manager)
        manager.select(*(env.id for env in manager.catalog.view().rows))
        manager.store_button.click()
        return manager

    manager = asyncio.run(scenario())
    assert (manager.include_archived.value, manager.catalog.page_size) == (True, 7)
    assert manager.search.value == "research"
    assert len(manager.catalog) == 4  # the archived one too
    assert sorted(env.name for env in shell.user_ns["picked"]) == ["env-01", "env-03"]


def test_outside_a_running_loop_it_says_it_needs_a_kernel(shell):
    manager = shell.run_line_magic("qoder_env", "manage")
    assert "The manager needs a running kernel" in text(manager.status)
