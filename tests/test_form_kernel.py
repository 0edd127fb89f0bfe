"""The form in a real kernel, driven through comm messages exactly as a browser drives it: while a
submit waits on a slow service, the kernel still runs other cells."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel
from packaging.version import Version

from qoder_jupyter.emulator import Emulator

LATENCY = 2.0


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    with Emulator(latency=LATENCY) as emulator:
        yield emulator


@pytest.fixture
def kernel(slow_emulator: Emulator) -> Iterator[BlockingKernelClient]:
    env = {**os.environ, "QODER_BASE_URL": slow_emulator.base_url, "QODER_PAT": slow_emulator.token}
    manager: KernelManager
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str, **expressions: str) -> dict[str, Any]:
    """Execute ``code``; return the ``text/plain`` of each user expression."""
    reply = client.execute_interactive(
        code, user_expressions=expressions, timeout=30, output_hook=lambda msg: None
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    found = reply["content"]["user_expressions"]
    return {name: found[name]["data"]["text/plain"] for name in expressions}


def send_comm(client: BlockingKernelClient, model_id: str, data: dict[str, Any]) -> str:
    """What a frontend sends when a person types in or clicks a widget."""
    message = client.session.msg("comm_msg", {"comm_id": model_id, "data": data})
    client.shell_channel.send(message)
    return str(message["header"]["msg_id"])


def test_the_kernel_runs_other_cells_while_a_submit_is_in_flight(kernel, slow_emulator):
    ids = run(
        kernel,
        "%load_ext qoder_jupyter\nform = %qoder_env\ndisplay(form)",
        name="form.name.model_id",
        submit="form.submit_button.model_id",
    )
    name_id, submit_id = (value.strip("'") for value in (ids["name"], ids["submit"]))
    update = {"method": "update", "state": {"value": "typed-in-a-browser"}, "buffer_paths": []}
    send_comm(kernel, name_id, update)
    assert run(kernel, "", name="form.spec.name")["name"] == "'typed-in-a-browser'"

    clicked = time.monotonic()
    click = send_comm(kernel, submit_id, {"method": "custom", "content": {"event": "click"}})
    busy_for = kernel_busy_seconds(kernel, click)
    other = run(kernel, "after_click = 6 * 7", busy="form.submit_button.disabled")
    other_cell = time.monotonic() - clicked
    assert other["busy"] == "True"  # the submit is in flight...
    assert slow_emulator.environments() == []  # ...the service has not answered yet...
    assert other_cell < LATENCY  # ...and the other cell has already run

    deadline = time.monotonic() + 20
    while run(kernel, "", done="'env' in globals()")["done"] != "True":
        assert time.monotonic() < deadline, "the submit never finished"
        time.sleep(0.05)
    click_to_card = time.monotonic() - clicked
    result = run(
        kernel,
        "",
        name="env.name",
        cards="len(form.result.outputs)",
        status="'Created' in form.status.value",
    )
    assert result == {"name": "'typed-in-a-browser'", "cards": "1", "status": "True"}
    assert [env["name"] for env in slow_emulator.environments()] == ["typed-in-a-browser"]
    print(
        f"\nkernel busy handling the click: {busy_for * 1000:.1f} ms; another cell replied "
        f"{other_cell:.3f} s after the click; click to card {click_to_card:.2f} s "
        f"(service latency {LATENCY} s)"
    )


def kernel_busy_seconds(client: BlockingKernelClient, parent_id: str) -> float:
    """How long the kernel said it was busy handling one message (its status busy -> idle)."""
    stamps: dict[str, Any] = {}
    while "idle" not in stamps:
        message = client.get_iopub_msg(timeout=10)
        if message["parent_header"].get("msg_id") == parent_id and message["msg_type"] == "status":
            stamps[message["content"]["execution_state"]] = message["header"]["date"]
    return float((stamps["idle"] - stamps["busy"]).total_seconds())


# --- a click delivered on a kernel subshell (JupyterLab 4.6 with ipykernel 7) ---------------------


#: Subshells (JEP 91) came with ipykernel 7; the lowest allowed ipykernel (6.29) has none, and
#: there a click always runs on the main thread.
needs_subshells = pytest.mark.skipif(
    Version(version("ipykernel")) < Version("7"), reason="kernel subshells came with ipykernel 7"
)


def create_subshell(client: BlockingKernelClient) -> str:
    """A subshell, as JupyterLab asks for one on the control channel (JEP 91)."""
    request = client.session.msg("create_subshell_request", {})
    client.control_channel.send(request)
    reply = client.control_channel.get_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == request["header"]["msg_id"]
    assert reply["content"]["status"] == "ok", reply["content"]
    return str(reply["content"]["subshell_id"])


def click_on_subshell(client: BlockingKernelClient, subshell_id: str) -> None:
    """Click Create from a cell run on ``subshell_id``: its callback runs on that subshell's
    thread and loop, as a click JupyterLab routes to a subshell does."""
    content = {"code": CLICK, "silent": False, "store_history": False, "user_expressions": {}}
    request = client.session.msg("execute_request", {**content, "allow_stdin": False})
    request["header"]["subshell_id"] = subshell_id
    client.shell_channel.send(request)
    while True:
        reply = client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            break
    assert reply["content"]["status"] == "ok", reply["content"]


CLICK = (
    "import threading\n"
    "clicked_on_main_thread = threading.current_thread() is threading.main_thread()\n"
    "form.submit_button.click()"
)


def open_form_with_name(client: BlockingKernelClient, name: str) -> None:
    run(client, f"%load_ext qoder_jupyter\nform = %qoder_env --form --name {name}\ndisplay(form)")


def wait_for_pending(client: BlockingKernelClient) -> None:
    deadline = time.monotonic() + 20
    while run(client, "", started="form.pending is not None")["started"] != "True":
        assert time.monotonic() < deadline, "the click never started a request"
        time.sleep(0.05)


@needs_subshells
def test_a_click_on_a_subshell_runs_on_the_main_loop_and_a_cell_can_await_it(kernel, slow_emulator):
    open_form_with_name(kernel, "from-a-subshell")
    click_on_subshell(kernel, create_subshell(kernel))
    wait_for_pending(kernel)
    # Awaited from a cell, on the cell's loop: a task of the subshell's loop would fail here
    # with "attached to a different loop".
    result = run(
        kernel,
        "import asyncio\n"
        "on_the_cells_loop = form.pending.loop is asyncio.get_running_loop()\n"
        "await form.pending",
        name="env.name",
        status="'Created' in form.status.value",
        on_the_cells_loop="on_the_cells_loop",
        clicked_on_main_thread="clicked_on_main_thread",
    )
    assert result == {
        "name": "'from-a-subshell'",
        "status": "True",
        "on_the_cells_loop": "True",
        "clicked_on_main_thread": "False",
    }
    assert [env["name"] for env in slow_emulator.environments()] == ["from-a-subshell"]


@needs_subshells
def test_a_cell_cancels_a_create_a_subshell_started(kernel, slow_emulator):
    open_form_with_name(kernel, "cancelled-from-a-cell")
    click_on_subshell(kernel, create_subshell(kernel))
    wait_for_pending(kernel)
    result = run(
        kernel,
        "form.cancel()\nawait form.pending",
        status="form.status.value",
        stored="'env' in globals()",
        enabled="not form.submit_button.disabled",
    )
    assert "ancel" in result["status"], result["status"]
    assert result["stored"] == "False"
    assert result["enabled"] == "True"  # the form is usable again, every input kept
    assert run(kernel, "", name="form.spec.name")["name"] == "'cancelled-from-a-cell'"
