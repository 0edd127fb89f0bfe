"""The emulator against the contract (shared/api/environments.md §1, §2, §5), over real HTTP:
operations, names, auth, routing, error shapes, body limits, OpenAPI and persistence.

Every test talks to a real server on 127.0.0.1 with a plain httpx client: no mocks.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qoder_jupyter.emulator import API_PREFIX, Emulator

from .test_emulator_helpers import (
    ID_RE,
    MISSING,
    SEED_BODY,
    SEED_CONFIG,
    TIME_RE,
    assert_error,
    body_with,
    create,
    loopback_client,
)

# --- create, retrieve, update, archive, delete ----------------------------------------------------


def test_create_answers_201_with_the_seed_shape(api: httpx.Client) -> None:
    response = api.post("/environments", json=SEED_BODY)

    assert response.status_code == 201
    env = response.json()
    assert ID_RE.match(env["id"])
    assert env["type"] == "environment"
    assert env["name"] == "doc-test-env"
    assert env["description"] == ""
    assert env["status"] == "ready"
    assert env["config"] == SEED_CONFIG
    assert env["metadata"] == {}
    assert env["archived_at"] is None
    assert TIME_RE.match(env["created_at"])
    assert env["updated_at"] == env["created_at"]
    assert response.headers["content-type"] == "application/json"


def test_ids_are_time_ordered(api: httpx.Client) -> None:
    ids = [create(api, f"env-{index}")["id"] for index in range(30)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 30


def test_retrieve_returns_what_create_returned(api: httpx.Client) -> None:
    created = create(api, description="for tests", metadata={"team": "data"})

    response = api.get(f"/environments/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_update_replaces_name_and_description_and_keeps_the_rest(
    api: httpx.Client, method: str
) -> None:
    created = create(api, description="old", metadata={"team": "data"})

    response = api.request(
        method, f"/environments/{created['id']}", json={"name": "renamed", "description": "new"}
    )

    assert response.status_code == 200
    env = response.json()
    assert (env["name"], env["description"]) == ("renamed", "new")
    assert env["config"] == created["config"]
    assert env["metadata"] == {"team": "data"}
    assert env["created_at"] == created["created_at"]
    assert env["updated_at"] > created["updated_at"]
    assert api.get(f"/environments/{created['id']}").json() == env


def test_update_config_replaces_the_whole_config(api: httpx.Client) -> None:
    created = create(api)
    new_config = {
        "type": "cloud",
        "networking": {"type": "allowed_hosts", "allowed_hosts": ["x.io"]},
    }

    env = api.put(f"/environments/{created['id']}", json={"config": new_config}).json()

    assert env["config"] == new_config  # no packages left over, the spelling kept as written


def test_update_metadata_is_a_patch_and_null_deletes(api: httpx.Client) -> None:
    created = create(api, metadata={"keep": "1", "change": "2", "drop": "3"})

    response = api.post(
        f"/environments/{created['id']}",
        json={"metadata": {"change": "two", "drop": None, "new": "4", "absent": None}},
    )

    assert response.json()["metadata"] == {"keep": "1", "change": "two", "new": "4"}


def test_update_with_an_empty_object_only_bumps_updated_at(api: httpx.Client) -> None:
    created = create(api)

    env = api.post(f"/environments/{created['id']}", json={}).json()

    assert {**env, "updated_at": None} == {**created, "updated_at": None}
    assert env["updated_at"] >= created["updated_at"]


def test_archive_sets_archived_at_and_is_idempotent(api: httpx.Client) -> None:
    created = create(api)

    first = api.post(f"/environments/{created['id']}/archive")
    second = api.post(f"/environments/{created['id']}/archive", json={})

    assert first.status_code == second.status_code == 200
    env = first.json()
    assert env["status"] == "archived"
    assert TIME_RE.match(env["archived_at"])
    assert second.json() == env
    assert api.get(f"/environments/{created['id']}").json() == env


def test_archive_rejects_a_body_with_fields(api: httpx.Client) -> None:
    created = create(api)

    response = api.post(f"/environments/{created['id']}/archive", json={"force": True})

    assert_error(response, 400, "invalid_request_error", "force")


def test_delete_answers_environment_deleted_and_then_404(api: httpx.Client) -> None:
    created = create(api)

    response = api.delete(f"/environments/{created['id']}")

    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "type": "environment_deleted"}
    assert_error(api.get(f"/environments/{created['id']}"), 404, "not_found_error")
    assert_error(api.delete(f"/environments/{created['id']}"), 404, "not_found_error")


def test_delete_while_in_use_is_409_until_released(api: httpx.Client, emulator: Emulator) -> None:
    env_id = create(api)["id"]
    emulator.set_in_use(env_id)

    assert_error(api.delete(f"/environments/{env_id}"), 409, "conflict_error")
    emulator.set_in_use(env_id, False)
    assert api.delete(f"/environments/{env_id}").status_code == 200


def test_set_in_use_of_an_unknown_id_raises(emulator: Emulator) -> None:
    with pytest.raises(KeyError):
        emulator.set_in_use("env_" + "0" * 32)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/environments/{id}"),
        ("POST", "/environments/{id}"),
        ("PUT", "/environments/{id}"),
        ("DELETE", "/environments/{id}"),
        ("POST", "/environments/{id}/archive"),
    ],
)
def test_unknown_ids_are_404(api: httpx.Client, method: str, path: str) -> None:
    url = path.format(id="env_" + "f" * 32)
    response = api.request(method, url, json={} if method in ("POST", "PUT") else None)

    assert_error(response, 404, "not_found_error", MISSING)
    assert "param" not in response.json()["error"]


def test_environments_hook_lists_everything_oldest_first(
    api: httpx.Client, emulator: Emulator
) -> None:
    first, second = create(api, "a"), create(api, "b")
    api.post(f"/environments/{first['id']}/archive")

    stored = emulator.environments()

    assert [env["id"] for env in stored] == [first["id"], second["id"]]
    assert stored[0]["status"] == "archived"
    assert stored[1] == second


# --- names ----------------------------------------------------------------------------------------


def test_duplicate_name_is_409_on_name(api: httpx.Client) -> None:
    existing = create(api)

    response = api.post("/environments", json=SEED_BODY)

    body = assert_error(response, 409, "conflict_error", "name")
    assert existing["id"] in body["error"]["message"]


def test_names_collide_after_trimming(api: httpx.Client) -> None:
    create(api, "data")

    assert_error(api.post("/environments", json=body_with(name=" data ")), 409, "conflict_error")


def test_archiving_or_deleting_frees_the_name(api: httpx.Client) -> None:
    archived = create(api)
    api.post(f"/environments/{archived['id']}/archive")
    deleted = create(api)
    api.delete(f"/environments/{deleted['id']}")

    assert create(api)["id"] not in (archived["id"], deleted["id"])


def test_rename_to_a_taken_name_is_409_but_own_name_is_fine(api: httpx.Client) -> None:
    create(api, "taken")
    env = create(api, "mine")

    response = api.post(f"/environments/{env['id']}", json={"name": "taken"})

    assert_error(response, 409, "conflict_error", "name")
    assert api.post(f"/environments/{env['id']}", json={"name": "mine"}).status_code == 200


def test_concurrent_creates_of_one_name_make_exactly_one(
    api: httpx.Client, emulator: Emulator
) -> None:
    statuses: list[int] = []

    def attempt() -> None:
        headers = {"Authorization": f"Bearer {emulator.token}"}
        with loopback_client(base_url=emulator.base_url, headers=headers) as client:
            statuses.append(client.post("/environments", json=SEED_BODY).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * 7
    assert len(emulator.environments()) == 1


# --- auth (§1, §5) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer pt-not-a-known-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer two words"},
    ],
    ids=["missing", "unknown token", "basic scheme", "no token", "two tokens"],
)
def test_bad_credentials_are_401(
    emulator: Emulator, headers: dict[str, str], http: httpx.Client
) -> None:
    response = http.get(f"{emulator.base_url}/environments", headers=headers)

    assert_error(response, 401, "authentication_error", MISSING)
    assert response.headers["www-authenticate"] == "Bearer"


def test_x_api_key_alone_is_401_even_with_a_valid_token(
    emulator: Emulator, http: httpx.Client
) -> None:
    response = http.get(f"{emulator.base_url}/environments", headers={"x-api-key": emulator.token})

    body = assert_error(response, 401, "authentication_error")
    assert "x-api-key" in body["error"]["message"]


def test_lowercase_bearer_scheme_is_accepted(emulator: Emulator, http: httpx.Client) -> None:
    headers = {"Authorization": f"bearer {emulator.token}"}

    assert http.get(f"{emulator.base_url}/environments", headers=headers).status_code == 200


def test_several_tokens_each_work(http: httpx.Client) -> None:
    with Emulator(tokens=["pt-one", "pt-two"]) as emulator:
        assert emulator.token == "pt-one"
        assert not emulator.token_generated
        for token in ("pt-one", "pt-two"):
            headers = {"Authorization": f"Bearer {token}"}
            response = http.get(f"{emulator.base_url}/environments", headers=headers)
            assert response.status_code == 200


def test_generated_token_looks_like_an_emulator_pat(emulator: Emulator) -> None:
    assert re.match(r"^pt-emu-[0-9a-f]{32}$", emulator.token)
    assert emulator.token_generated


def test_readonly_token_reads_but_cannot_write() -> None:
    with Emulator(tokens=["pt-writer"], readonly_tokens=["pt-reader"]) as emulator:
        url = emulator.base_url
        writer = loopback_client(base_url=url, headers={"Authorization": "Bearer pt-writer"})
        reader = loopback_client(base_url=url, headers={"Authorization": "Bearer pt-reader"})
        env_id = writer.post("/environments", json=SEED_BODY).json()["id"]

        assert reader.get("/environments").json()["data"][0]["id"] == env_id
        assert reader.get(f"/environments/{env_id}").status_code == 200
        writes = [
            reader.post("/environments", json=body_with(name="other")),
            reader.post(f"/environments/{env_id}", json={"name": "x"}),
            reader.put(f"/environments/{env_id}", json={"name": "x"}),
            reader.post(f"/environments/{env_id}/archive"),
            reader.delete(f"/environments/{env_id}"),
        ]
        for response in writes:
            assert_error(response, 403, "permission_error")
        assert len(emulator.environments()) == 1
        writer.close()
        reader.close()


def test_token_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="both"):
        Emulator(tokens=["pt-a"], readonly_tokens=["pt-a"])
    with pytest.raises(ValueError, match="whitespace"):
        Emulator(tokens=["pt a"])
    with pytest.raises(TypeError):
        Emulator(tokens="pt-a")


# --- routing and error shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/environments", "GET, POST"),
        ("DELETE", "/environments", "GET, POST"),
        ("PATCH", "/environments/env_x", "GET, POST, PUT, DELETE"),
        ("GET", "/environments/env_x/archive", "POST"),
        ("OPTIONS", "/environments", "GET, POST"),
    ],
)
def test_wrong_method_is_405_with_allow(
    api: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = api.request(method, path)

    assert_error(response, 405, "invalid_request_error")
    assert response.headers["allow"] == allow


def test_head_gets_headers_without_a_body(api: httpx.Client) -> None:
    response = api.head("/environments")

    assert response.status_code == 405
    assert response.content == b""
    assert "x-request-id" in response.headers


@pytest.mark.parametrize(
    "path",
    [
        f"{API_PREFIX}/nothing",
        f"{API_PREFIX}/environments/",
        f"{API_PREFIX}/environments/env_x/archive/more",
        f"{API_PREFIX}/environments/env_x/unarchive",
        "/",
        "/v1/environments",
    ],
)
def test_unknown_paths_are_404(emulator: Emulator, path: str, http: httpx.Client) -> None:
    url = emulator.base_url.removesuffix(API_PREFIX) + path
    headers = {"Authorization": f"Bearer {emulator.token}"}

    assert_error(http.get(url, headers=headers), 404, "not_found_error")


def test_unknown_path_without_a_token_is_401(emulator: Emulator, http: httpx.Client) -> None:
    assert_error(http.get(f"{emulator.base_url}/nothing"), 401, "authentication_error")


@pytest.mark.parametrize("method", ["QUERY", "BREW"])
def test_methods_unknown_to_http_server_are_405_too(api: httpx.Client, method: str) -> None:
    response = api.request(method, "/environments")

    assert_error(response, 405, "invalid_request_error")
    assert response.headers["allow"] == "GET, POST"


def test_a_malformed_request_line_gets_the_error_shape(emulator: Emulator) -> None:
    host, port = emulator.base_url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(b"GET /x HTTP/9.9\r\n\r\n")
        answer = connection.makefile("rb").read()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 505 ")
    assert json.loads(body)["error"]["type"] == "api_error"


def test_x_request_id_is_echoed_on_success_and_error(api: httpx.Client) -> None:
    ok = api.get("/environments", headers={"x-request-id": "trace-123"})
    bad = api.get("/environments/env_missing", headers={"x-request-id": "trace-456"})

    assert ok.headers["x-request-id"] == "trace-123"
    assert bad.headers["x-request-id"] == "trace-456"
    assert bad.json()["request_id"] == "trace-456"


def test_a_request_id_is_made_when_none_is_sent(api: httpx.Client) -> None:
    first, second = api.get("/environments"), api.get("/environments/env_missing")

    assert re.match(r"^req_[0-9a-f]{24}$", first.headers["x-request-id"])
    assert second.json()["request_id"] == second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_keep_alive_serves_many_requests_on_one_connection(api: httpx.Client) -> None:
    def local_address(response: httpx.Response) -> Any:
        return response.extensions["network_stream"].get_extra_info("client_addr")

    addresses = {
        local_address(api.post("/environments", json=body_with(name=f"e{i}"))) for i in range(20)
    }

    assert len(addresses) == 1


# --- body size (§1) -------------------------------------------------------------------------------


def _small_emulator_client(emulator: Emulator) -> httpx.Client:
    headers = {"Authorization": f"Bearer {emulator.token}", "Content-Type": "application/json"}
    return loopback_client(base_url=emulator.base_url, headers=headers)


def test_body_over_the_limit_is_400_and_never_stored() -> None:
    with Emulator(max_body_bytes=1024) as emulator, _small_emulator_client(emulator) as api:
        response = api.post("/environments", json=body_with(description="x" * 2000))

        body = assert_error(response, 400, "invalid_request_error", None)
        assert "limit is 1024 bytes" in body["error"]["message"]
        fits = body_with(description="x" * 800)
        assert api.post("/environments", json=fits).status_code == 201
        assert len(emulator.environments()) == 1


def test_chunked_bodies_are_read_and_limited() -> None:
    def chunks(text: str) -> Iterator[bytes]:
        for start in range(0, len(text), 100):
            yield text[start : start + 100].encode()

    with Emulator(max_body_bytes=1024) as emulator, _small_emulator_client(emulator) as api:
        small = api.post("/environments", content=chunks(json.dumps(SEED_BODY)))
        big = api.post("/environments", content=chunks(json.dumps(body_with(name="x" * 2000))))
        after = api.get("/environments")

    assert small.request.headers["transfer-encoding"] == "chunked"
    assert small.status_code == 201
    assert_error(big, 400, "invalid_request_error")
    assert after.status_code == 200


# --- OpenAPI --------------------------------------------------------------------------------------


def _resolve_refs(node: Any, document: dict[str, Any]) -> None:
    """Fail on any $ref that points nowhere."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
        for value in node.values():
            _resolve_refs(value, document)
    elif isinstance(node, list):
        for value in node:
            _resolve_refs(value, document)


def test_openapi_document_describes_every_endpoint(emulator: Emulator, http: httpx.Client) -> None:
    root = emulator.base_url.removesuffix(API_PREFIX)
    response = http.get(root + "/openapi.json")  # no token needed

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": API_PREFIX}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    methods = {path: sorted(item) for path, item in document["paths"].items()}
    assert methods == {
        "/environments": ["get", "post"],
        "/environments/{environment_id}": ["delete", "get", "post", "put"],
        "/environments/{environment_id}/archive": ["post"],
        "/openapi.json": ["get"],
    }
    _resolve_refs(document, document)
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert http.get(emulator.base_url + "/openapi.json").json() == document


def test_openapi_documents_each_status_the_server_answers(
    emulator: Emulator, http: httpx.Client
) -> None:
    document = http.get(emulator.base_url + "/openapi.json").json()
    create_op = document["paths"]["/environments"]["post"]
    list_op = document["paths"]["/environments"]["get"]

    assert set(create_op["responses"]) == {"201", "400", "401", "403", "409", "429", "500", "503"}
    assert {param["$ref"].rsplit("/", 1)[1] for param in list_op["parameters"]} == {
        "Limit",
        "AfterId",
        "BeforeId",
        "Page",
        "IncludeArchived",
        "CreatedGte",
        "CreatedLte",
    }
    create_schema = document["components"]["schemas"]["EnvironmentCreate"]
    assert create_schema["required"] == ["name", "config"]
    assert create_schema["additionalProperties"] is False


def test_openapi_with_another_method_is_405(emulator: Emulator, http: httpx.Client) -> None:
    response = http.post(emulator.base_url + "/openapi.json")

    assert_error(response, 405, "invalid_request_error")


# --- lifecycle and persistence --------------------------------------------------------------------


def test_db_file_keeps_data_across_a_restart(tmp_path: Path, http: httpx.Client) -> None:
    db = tmp_path / "emulator.sqlite"
    with Emulator(db=db, tokens=["pt-persist"]) as first:
        auth = {"Authorization": "Bearer pt-persist"}
        keyed = {**auth, "Idempotency-Key": "survives"}
        created = http.post(f"{first.base_url}/environments", json=SEED_BODY, headers=keyed).json()
        http.post(f"{first.base_url}/environments/{created['id']}/archive", headers=auth)

    with Emulator(db=db, tokens=["pt-persist"]) as second:
        url = f"{second.base_url}/environments"
        stored = http.get(f"{url}/{created['id']}", headers=auth).json()
        replay = http.post(url, json=SEED_BODY, headers=keyed)
        newer = http.post(url, json=body_with(name="newer"), headers=auth).json()

    assert stored["status"] == "archived"
    assert {**stored, "status": "ready", "archived_at": None, "updated_at": None} == {
        **created,
        "updated_at": None,
    }
    assert replay.json() == created
    assert newer["id"] > created["id"]


def test_in_memory_emulator_restarts_empty(emulator: Emulator, api: httpx.Client) -> None:
    create(api)
    emulator.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        emulator.environments()

    emulator.start()

    assert emulator.environments() == []


def test_stop_closes_open_connections(emulator: Emulator, api: httpx.Client) -> None:
    assert api.get("/environments").status_code == 200

    emulator.stop()

    with pytest.raises(httpx.TransportError):
        api.get("/environments")


def test_base_url_needs_a_started_emulator() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="start"):
        _ = emulator.base_url
    emulator.stop()  # harmless when never started
