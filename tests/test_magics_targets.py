"""What the magics' ID names (a variable, an id, or a name), what delete leaves in the variable,
and the messages a magic user reads: in a real IPython shell, against the emulator over HTTP."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from qoder_jupyter.emulator import Emulator
from qoder_jupyter.environment import DeletedEnvironment, Environment
from qoder_jupyter.errors import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    EnvironmentDeletedError,
    NoSuchEnvironmentError,
    OutcomeUnknownError,
)
from qoder_jupyter.forms import EnvironmentForm
from tests.test_form import text
from tests.test_magics import assert_failed_cleanly, run

# --- delete --------------------------------------------------------------------------------------


def test_deleting_a_variable_marks_its_environment_deleted_in_its_own_card(shell, emulator):
    run(shell, "%qoder_env create --name doomed --pip numpy")
    env = shell.user_ns["env"]

    ran = run(shell, "%qoder_env delete env")
    assert ran.error is None, ran
    assert ran.result is env
    assert env.deleted
    assert env.status == "deleted"
    assert emulator.environments() == []
    assert "deleted" not in shell.user_ns  # the variable given is where the answer shows
    assert f"Deleted {env.id}: env now shows it as deleted." in ran.stdout
    bundle = env._repr_mimebundle_()
    assert "(deleted)" in bundle["text/plain"]
    assert '<span class="qoder-env-badge qoder-env-error">deleted<' in bundle["text/html"]


def test_a_deleted_environment_refuses_to_act_and_its_spec_still_clones(shell, emulator):
    run(shell, "%qoder_env create --name gone --apt git")
    env = shell.user_ns["env"]
    env.delete()
    assert env.deleted
    before = len(emulator.requests)

    with pytest.raises(EnvironmentDeletedError, match=r"'gone' \(env_\w+\) was deleted"):
        env.update(description="x")
    for line in ("update env --name renamed", "archive env", "delete env", "get env"):
        ran = run(shell, f"%qoder_env {line}")
        assert_failed_cleanly(ran, EnvironmentDeletedError, "was deleted", "--from VAR")
    assert len(emulator.requests) == before  # refused here: nothing was sent

    ran = run(shell, "%qoder_env create --from env -o again")
    assert ran.error is None, ran
    assert shell.user_ns["again"].config["packages"] == {"apt": ["git"]}


def test_deleting_by_id_or_by_name_stores_the_answer_in_deleted(shell, emulator):
    run(shell, "%qoder_env create --name by-id -o first")
    run(shell, "%qoder_env create --name by-name -o second")
    first_id, second_id = shell.user_ns["first"].id, shell.user_ns["second"].id

    assert run(shell, f"%qoder_env delete {first_id}").result == DeletedEnvironment(first_id)
    assert shell.user_ns["deleted"] == DeletedEnvironment(first_id)
    assert run(shell, "%qoder_env delete by-name -o gone").result == DeletedEnvironment(second_id)
    assert shell.user_ns["gone"] == DeletedEnvironment(second_id)
    assert emulator.environments() == []
    assert not shell.user_ns["first"].deleted  # deleted by id: the variable was not named


# --- names ---------------------------------------------------------------------------------------


def test_get_update_and_archive_take_a_name(shell, emulator):
    run(shell, "%qoder_env create --name data-prep -o kept")
    env_id = shell.user_ns["kept"].id

    got = run(shell, "%qoder_env get data-prep -o got").result
    assert isinstance(got, Environment)
    assert got.id == env_id
    run(shell, '%qoder_env update data-prep --description "by name"')
    assert shell.user_ns["env"].description == "by name"
    assert run(shell, "%qoder_env archive data-prep").result.archived

    # An archived environment's name is free again: it no longer names it.
    ran = run(shell, "%qoder_env get data-prep")
    assert_failed_cleanly(ran, NoSuchEnvironmentError, "'data-prep'", "%qoder_env list")
    assert "no variable" not in ran.stdout  # a name with a dash cannot be a variable


def test_an_unknown_identifier_says_no_variable_and_no_environment(shell, emulator):
    ran = run(shell, "%qoder_env get nosuchvar")
    assert_failed_cleanly(
        ran,
        NoSuchEnvironmentError,
        "Nothing is called 'nosuchvar': no variable of that name in the kernel, and no "
        "environment has that id, nor does an unarchived one have that name.",
        "%qoder_env list shows the environments",
    )


def test_a_variable_wins_over_a_name(shell, emulator):
    run(shell, "%qoder_env create --name env -o other")  # an environment *named* env
    run(shell, "%qoder_env create --name held")
    assert run(shell, "%qoder_env get env -o got").result.name == "held"


# --- edit mode from the magic --------------------------------------------------------------------


def test_update_form_opens_the_form_on_the_live_environment_with_the_line_laid_over(
    shell, emulator
):
    run(shell, '%qoder_env create --name to-edit --description "before" --pip numpy')
    env = shell.user_ns["env"]
    before = len(emulator.requests)

    form = run(shell, '%qoder_env update env --description "after" --add-pip pandas --form').result
    assert isinstance(form, EnvironmentForm)
    assert form.editing == env
    assert (form.description.value, list(form.pip.value)) == ("after", ["numpy", "pandas"])
    diff = text(form.diff_view)
    assert "before" in diff
    assert "after" in diff
    assert "pandas" in diff
    assert [r.method for r in emulator.requests[before:]] == ["GET"]  # read, not written


# --- messages ------------------------------------------------------------------------------------


def test_an_unknown_create_outcome_hints_the_magic_option_not_python(shell, emulator):
    emulator.inject("reset-after", times=4, method="POST")
    emulator.inject("500-before", times=4, method="GET")
    ran = run(shell, "%qoder_env create --name limbo")
    assert isinstance(ran.error, OutcomeUnknownError), ran
    key = ran.error.idempotency_key
    assert f"retry with --idempotency-key {key}, which never creates twice" in ran.stdout
    assert "idempotency_key=" not in ran.stdout

    again = run(shell, f"%qoder_env create --name limbo --idempotency-key {key}")
    assert again.error is None, again
    assert [e["name"] for e in emulator.environments()] == ["limbo"]  # made once


def test_a_taken_name_says_so_in_the_message_and_the_hint(shell, emulator):
    run(shell, "%qoder_env create --name taken")
    ran = run(shell, "%qoder_env create --name taken")
    assert_failed_cleanly(ran, ConflictError, "already exists", "That name is taken")
    assert "may already exist" not in ran.stdout


def test_a_variable_of_another_type_is_named_with_the_right_article(shell):
    shell.user_ns["env"] = 42
    assert "env held an int;" in run(shell, "%qoder_env create --name a").stderr
    shell.user_ns["env"] = {"a": 1}
    assert "env held a dict;" in run(shell, "%qoder_env create --name b").stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_connection_failure_names_the_url_it_tried(shell):
    url = f"http://127.0.0.1:{_closed_port()}/api/v1/cloud"
    shell.run_line_magic("config", f"QoderEnv.base_url = {url!r}")
    shell.run_line_magic("config", "QoderEnv.max_retries = 0")
    ran = run(shell, "%qoder_env list")
    assert_failed_cleanly(ran, APIConnectionError, f"could not connect to {url}/environments")


@pytest.mark.parametrize("setting", ["timeout", "attempt_timeout"])
def test_a_timeout_says_timed_out_at_most_once(shell, emulator: Emulator, setting: str) -> Any:
    emulator.drip_interval = 0.5  # a byte each half second: each read, and the attempt, time out
    emulator.inject("drip", times=1, method="GET")
    shell.run_line_magic("config", f"QoderEnv.{setting} = 0.3")
    shell.run_line_magic("config", "QoderEnv.max_retries = 0")
    ran = run(shell, "%qoder_env list")
    assert_failed_cleanly(ran, APITimeoutError)
    first_line = ran.stdout.splitlines()[0]
    assert first_line.lower().count("timed out") <= 1, first_line
    assert "0.3 s" in first_line, first_line
