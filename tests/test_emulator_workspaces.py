"""Environments per workspace (contract §7), over real HTTP: the ``qoder-workspace-id`` header
selects a workspace, no header is the default one, and nothing crosses from one to another."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from qoder_jupyter.emulator import Emulator

from .test_emulator_helpers import SEED_BODY, assert_error, body_with, loopback_client

HEADER = "qoder-workspace-id"


def _in(space: str | None) -> dict[str, str]:
    return {} if space is None else {HEADER: space}


def _create(api: httpx.Client, space: str | None, name: str = "doc-test-env") -> dict[str, Any]:
    response = api.post("/environments", json=body_with(name=name), headers=_in(space))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _ids(api: httpx.Client, space: str | None, **params: Any) -> list[str]:
    response = api.get("/environments", params=params, headers=_in(space))
    assert response.status_code == 200, response.text
    return [env["id"] for env in response.json()["data"]]


def test_each_workspace_lists_only_its_own(api: httpx.Client, emulator: Emulator) -> None:
    default = _create(api, None, "a")
    first = _create(api, "ws_1", "b")
    second = _create(api, "ws_2", "c")

    assert _ids(api, None) == [default["id"]]
    assert _ids(api, "ws_1") == [first["id"]]
    assert _ids(api, "ws_2") == [second["id"]]
    assert _ids(api, "ws_empty") == []
    assert emulator.environments_by_workspace() == {
        None: [default],
        "ws_1": [first],
        "ws_2": [second],
    }
    assert [record.workspace for record in emulator.requests[:3]] == [None, "ws_1", "ws_2"]


def test_another_workspace_s_id_is_404_for_every_operation(
    api: httpx.Client, emulator: Emulator
) -> None:
    env_id = _create(api, "ws_1")["id"]
    for space in (None, "ws_2"):
        headers = _in(space)
        answers = [
            api.get(f"/environments/{env_id}", headers=headers),
            api.post(f"/environments/{env_id}", json={"description": "x"}, headers=headers),
            api.put(f"/environments/{env_id}", json={"description": "x"}, headers=headers),
            api.post(f"/environments/{env_id}/archive", json={}, headers=headers),
            api.delete(f"/environments/{env_id}", headers=headers),
        ]
        for answer in answers:
            body = assert_error(answer, 404, "not_found_error")
            assert "workspace" in body["error"]["message"]

    [stored] = emulator.environments()
    assert (stored["description"], stored["archived_at"]) == ("", None)  # untouched
    assert api.get(f"/environments/{env_id}", headers=_in("ws_1")).json() == stored


def test_operations_in_the_right_workspace_work(api: httpx.Client, emulator: Emulator) -> None:
    headers = _in("ws_1")
    env_id = _create(api, "ws_1")["id"]

    updated = api.post(f"/environments/{env_id}", json={"description": "d"}, headers=headers)
    archived = api.post(f"/environments/{env_id}/archive", json={}, headers=headers)
    deleted = api.delete(f"/environments/{env_id}", headers=headers)

    assert updated.json()["description"] == "d"
    assert archived.json()["archived_at"] is not None
    assert deleted.status_code == 200
    assert emulator.environments() == []


def test_names_are_unique_per_workspace(api: httpx.Client, emulator: Emulator) -> None:
    _create(api, None)
    _create(api, "ws_1")
    other = _create(api, "ws_1", "other")

    again = api.post("/environments", json=SEED_BODY, headers=_in("ws_1"))
    rename = api.post(
        f"/environments/{other['id']}", json={"name": "doc-test-env"}, headers=_in("ws_1")
    )

    assert (
        "workspace 'ws_1'" in assert_error(again, 409, "conflict_error", "name")["error"]["message"]
    )
    assert_error(rename, 409, "conflict_error", "name")
    assert len(emulator.environments()) == 3


def test_an_idempotency_key_is_per_token_and_workspace(
    api: httpx.Client, emulator: Emulator
) -> None:
    key = {"Idempotency-Key": "shared-key"}
    answers = {
        space: api.post("/environments", json=SEED_BODY, headers={**key, **_in(space)})
        for space in (None, "ws_1", "ws_2")
    }
    replay = api.post("/environments", json=SEED_BODY, headers={**key, **_in("ws_1")})

    assert {answer.status_code for answer in answers.values()} == {201}
    assert len({answer.json()["id"] for answer in answers.values()}) == 3
    assert not any("idempotent-replayed" in answer.headers for answer in answers.values())
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == answers["ws_1"].json()
    assert len(emulator.environments()) == 3


def test_pages_stay_within_their_workspace(api: httpx.Client) -> None:
    ours = []
    for index in range(5):
        ours.append(_create(api, "ws_1", f"ours-{index}")["id"])
        _create(api, None, f"theirs-{index}")

    first = api.get("/environments", params={"limit": 2}, headers=_in("ws_1")).json()
    rest = api.get(
        "/environments", params={"limit": 10, "page": first["next_page"]}, headers=_in("ws_1")
    ).json()

    assert [env["id"] for env in first["data"] + rest["data"]] == ours[::-1]
    assert (first["has_more"], rest["has_more"]) == (True, False)


def test_an_empty_workspace_header_is_400_and_changes_nothing(
    api: httpx.Client, emulator: Emulator
) -> None:
    response = api.post("/environments", json=SEED_BODY, headers={HEADER: ""})

    body = assert_error(response, 400, "invalid_request_error", HEADER)
    assert "leave the header out" in body["error"]["message"]

    assert emulator.environments() == []


def test_the_workspace_check_comes_after_authentication(http: httpx.Client) -> None:
    with Emulator() as emulator:
        response = http.get(f"{emulator.base_url}/environments", headers={HEADER: ""})

    assert_error(response, 401, "authentication_error")


def test_beta_flags_are_accepted_and_ignored(api: httpx.Client, emulator: Emulator) -> None:
    beta = {"x-qoder-beta": "environments-2026-01-01,self-hosted"}

    created = api.post("/environments", json=SEED_BODY, headers={**beta, **_in("ws_1")})
    listed = api.get("/environments", headers={**beta, **_in("ws_1")})

    assert created.status_code == 201
    assert listed.json()["data"] == [created.json()]


def test_in_use_is_checked_in_any_workspace(api: httpx.Client, emulator: Emulator) -> None:
    env_id = _create(api, "ws_1")["id"]
    emulator.set_in_use(env_id)

    assert_error(api.delete(f"/environments/{env_id}", headers=_in("ws_1")), 409, "conflict_error")


def test_workspaces_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite3"
    with Emulator(db=db, tokens=["pt-emu-ws"]) as emulator, _client(emulator) as api:
        created = _create(api, "ws_1")
    with Emulator(db=db, tokens=["pt-emu-ws"]) as emulator, _client(emulator) as api:
        assert _ids(api, "ws_1") == [created["id"]]
        assert _ids(api, None) == []


def test_a_database_from_before_workspaces_opens_in_the_default_workspace(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite3"
    env_id = "env_019e3bb39b6774d8878cd0b9d237574b"
    with sqlite3.connect(db) as connection:
        connection.executescript(_SCHEMA_V1)
        connection.execute(
            "INSERT INTO environments VALUES (?, 'old', 'old', '', ?, '{}', 1, 1, NULL, 0)",
            (env_id, '{"type": "cloud"}'),
        )
        connection.execute("PRAGMA user_version=1")
    connection.close()

    with Emulator(db=db, tokens=["pt-emu-ws"]) as emulator, _client(emulator) as api:
        assert _ids(api, None) == [env_id]
        assert _ids(api, "ws_1") == []
        assert api.post("/environments", json=body_with(name="old")).status_code == 409
        assert _create(api, "ws_1", "old")["name"] == "old"  # another workspace: free


def test_a_database_of_an_unknown_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA user_version=99")
    connection.close()

    with pytest.raises(RuntimeError, match="schema version 99"):
        Emulator(db=db)


def _client(emulator: Emulator) -> httpx.Client:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    return loopback_client(base_url=emulator.base_url, headers=headers)


# The schema of version 1 (before workspaces), as an older emulator wrote it.
_SCHEMA_V1 = """
CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    config TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    archived INTEGER,
    in_use INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX environments_live_names ON environments (name_key) WHERE archived IS NULL;
CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
"""
