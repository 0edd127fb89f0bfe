"""The Environments API itself: routing, auth, idempotency and the six operations, free of HTTP I/O.

Order of checks for a request under the API prefix: authentication (401) -> route (404) -> method
(405) -> permission (403) -> body and query rules (400) -> existence (404) -> conflicts (409).

Choices where the contract is silent:

- Unknown paths under the prefix need a valid token too, so a caller without one learns nothing.
- Names must be unique among the non-archived environments of a workspace (compared after trimming
  surrounding whitespace, case-sensitive): archiving or deleting one frees its name. A rename to a
  taken name is a 409 as well.
- Archived environments can still be updated and deleted; archiving also sets ``updated_at``.
- ``PUT /environments/{id}`` is the same partial update as ``POST`` (an older doc's spelling).
- Environments live in workspaces (§7): the ``qoder-workspace-id`` header of a request selects one
  (any id is valid and holds nothing until something is created in it); without the header the
  request is in the default workspace. Every operation sees only its workspace: an id from another
  one is a 404, names are unique per workspace, and an idempotency key is scoped to its token and
  workspace. An empty ``qoder-workspace-id`` is a 400 (leave the header out for the default).
  Ids stay unique across workspaces. ``x-qoder-beta`` (the SDK's beta flags) is accepted and
  ignored, like every other unknown header.
- Idempotency applies to POST only (PUT and DELETE are idempotent by nature; their key is ignored).
  A key is scoped to its token and workspace, 1-255 characters, and remembered for 24 hours.
  "Same request" means same method, same path and the same JSON value as body (key order and
  spacing do not matter). Only 2xx answers are recorded, so a retry after a failure is carried out
  afresh. A replay is the recorded answer even if the environment has changed or gone since (as
  with Stripe's keys).
- A list's ``next_page`` continues in the direction of the request: after a ``before_id`` page it
  leads to still newer items, otherwise to older ones. ``has_more`` speaks of that direction too.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote

from .dialects import Dialect, create_status, deleted_body, render
from .ids import IdClock
from .responses import JSON_TYPE, ApiError, Response, json_response
from .store import EnvironmentRecord, RecordedResponse, Store
from .validation import (
    Cursor,
    apply_metadata_patch,
    parse_json,
    parse_list_query,
    validate_create,
    validate_empty,
    validate_update,
)

API_PREFIX = "/api/v1/cloud"
WORKSPACE_HEADER = "qoder-workspace-id"
DEFAULT_WORKSPACE = ""  # how the store names the workspace of requests without the header
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_KEY_MAX = 255

Role = Literal["read-write", "readonly"]
RouteName = Literal["collection", "item", "archive"]
ROUTE_METHODS: dict[RouteName, tuple[str, ...]] = {
    "collection": ("GET", "POST"),
    "item": ("GET", "POST", "PUT", "DELETE"),
    "archive": ("POST",),
}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # the URL path as sent, starting with API_PREFIX
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    authorization: str | None = None
    sent_api_key: bool = False
    idempotency_key: str | None = None
    request_id: str = ""
    workspace: str | None = None  # the qoder-workspace-id header, as sent


@dataclass(frozen=True)
class Route:
    name: RouteName
    env_id: str = ""


def match_route(path: str) -> Route | None:
    """The route for a path under the API prefix, or None."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    parts = path[len(API_PREFIX) + 1 :].split("/")
    if parts[0] != "environments":
        return None
    if len(parts) == 1:
        return Route("collection")
    env_id = unquote(parts[1])
    if not env_id:
        return None
    if len(parts) == 2:
        return Route("item", env_id)
    if len(parts) == 3 and parts[2] == "archive":
        return Route("archive", env_id)
    return None


class Service:
    def __init__(
        self, store: Store, roles: Mapping[str, Role], clock: IdClock, dialect: Dialect = "seed"
    ) -> None:
        self._store = store
        self._roles = dict(roles)
        self._clock = clock
        self.dialect = dialect

    def render(self, record: EnvironmentRecord) -> dict[str, object]:
        return render(record, self.dialect)

    def handle(self, request: ApiRequest) -> Response:
        try:
            return self._handle(request)
        except ApiError as error:
            return error.to_response(request.request_id)

    def _handle(self, request: ApiRequest) -> Response:
        token = self._authenticate(request)
        route = match_route(request.path)
        if route is None:
            raise ApiError(
                404,
                f"No such endpoint: {request.method} {request.path[:100]}. The API serves "
                f"{API_PREFIX}/environments, /environments/{{id}} and "
                "/environments/{id}/archive.",
            )
        allowed = ROUTE_METHODS[route.name]
        if request.method not in allowed:
            raise ApiError(
                405,
                f"{request.method} is not allowed here; use {' or '.join(allowed)}.",
                headers=(("Allow", ", ".join(allowed)),),
            )
        if request.method in WRITE_METHODS and self._roles[token] == "readonly":
            raise ApiError(
                403,
                "This token is read-only; use a read-write token to create or change environments.",
            )
        space = _workspace(request.workspace)
        if request.method == "POST" and request.idempotency_key is not None:
            action = functools.partial(self._dispatch, route, request, space)
            return self._idempotent(request, token, space, action)
        with self._store.atomic():
            return self._dispatch(route, request, space)

    def _authenticate(self, request: ApiRequest) -> str:
        how = "send 'Authorization: Bearer <token>' with a personal access token (pt-...)"
        header = request.authorization
        if header is None:
            if request.sent_api_key:
                raise _unauthorized(f"x-api-key is not accepted; {how}.")
            raise _unauthorized(f"The Authorization header is missing; {how}.")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise _unauthorized(f"The Authorization header is malformed; {how}.")
        if token not in self._roles:
            raise _unauthorized(
                "The token is not valid (unknown, expired or revoked); send a valid personal "
                "access token as 'Authorization: Bearer <token>'."
            )
        return token

    # --- idempotency ------------------------------------------------------------------------------

    def _idempotent(
        self, request: ApiRequest, token: str, space: str, action: Callable[[], Response]
    ) -> Response:
        key = request.idempotency_key or ""
        if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
            raise ApiError(
                400,
                f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters; a UUID is ideal.",
                param="Idempotency-Key",
            )
        scope = _idempotency_scope(token, space)
        fingerprint = _fingerprint(request)
        now = time.time()
        with self._store.atomic():  # check and act as one step: one key never acts twice
            prior = self._store.recall(scope, key, now)
            if prior is not None:
                if prior.fingerprint != fingerprint:
                    raise ApiError(409, "Idempotency key reused with a different request body")
                return Response(
                    prior.status, prior.body, JSON_TYPE, (("Idempotent-Replayed", "true"),)
                )
            response = action()
            if 200 <= response.status < 300:
                recorded = RecordedResponse(fingerprint, response.status, response.body)
                self._store.remember(scope, key, recorded, now)
            return response

    # --- operations -------------------------------------------------------------------------------

    def _dispatch(self, route: Route, request: ApiRequest, space: str) -> Response:
        if route.name == "collection":
            if request.method == "POST":
                return self._create(request, space)
            return self._list(request, space)
        if route.name == "archive":
            return self._archive(route.env_id, request, space)
        if request.method == "GET":
            return json_response(200, self.render(self._require(route.env_id, space)))
        if request.method == "DELETE":
            return self._delete(route.env_id, space)
        return self._update(route.env_id, request, space)

    def _create(self, request: ApiRequest, space: str) -> Response:
        new = validate_create(parse_json(request.body, request.content_type))
        self._check_name_free(new.name, space)
        env_id, now = self._clock.new_id()
        record = EnvironmentRecord(
            env_id,
            new.name,
            new.description,
            new.config,
            new.metadata,
            created=now,
            updated=now,
            workspace=space,
            scope=new.scope,
        )
        self._store.insert(record)
        return json_response(create_status(self.dialect), self.render(record))

    def _list(self, request: ApiRequest, space: str) -> Response:
        query = parse_list_query(parse_qs(request.query, keep_blank_values=True))
        records, has_more = self._store.page(query, space)
        data = [self.render(record) for record in records]
        next_page = None
        if has_more:
            if query.cursor is not None and query.cursor.direction == "before":
                next_page = Cursor("before", records[0].id).encode()
            else:
                next_page = Cursor("after", records[-1].id).encode()
        page = {
            "data": data,
            "first_id": records[0].id if records else None,
            "last_id": records[-1].id if records else None,
            "has_more": has_more,
            "next_page": next_page,
        }
        return json_response(200, page)

    def _update(self, env_id: str, request: ApiRequest, space: str) -> Response:
        changes = validate_update(parse_json(request.body, request.content_type))
        record = self._require(env_id, space)
        if changes.name is not None and record.archived is None:
            self._check_name_free(changes.name, space, other_than=env_id)
        metadata = record.metadata
        if changes.metadata is not None:
            metadata = apply_metadata_patch(record.metadata, changes.metadata)
        record = dataclasses.replace(
            record,
            name=record.name if changes.name is None else changes.name,
            description=record.description if changes.description is None else changes.description,
            config=record.config if changes.config is None else changes.config,
            metadata=metadata,
            scope=record.scope if changes.scope is None else changes.scope,
            updated=self._clock.now(),
        )
        self._store.replace(record)
        return json_response(200, self.render(record))

    def _archive(self, env_id: str, request: ApiRequest, space: str) -> Response:
        validate_empty(request.body, request.content_type)
        record = self._require(env_id, space)
        if record.archived is None:
            now = self._clock.now()
            record = dataclasses.replace(record, archived=now, updated=now)
            self._store.replace(record)
        return json_response(200, self.render(record))

    def _delete(self, env_id: str, space: str) -> Response:
        record = self._require(env_id, space)
        if record.in_use:
            raise ApiError(
                409,
                f"Environment {env_id} is still used by sessions; end them, or archive it instead.",
            )
        self._store.delete(env_id)
        body = deleted_body(env_id, self.dialect)
        return Response(204) if body is None else json_response(200, body)

    def _require(self, env_id: str, space: str) -> EnvironmentRecord:
        record = self._store.get(env_id, space)
        if record is None:
            raise ApiError(
                404,
                f"No environment has the id {env_id[:80]!r} in {_describe(space)}; list "
                "environments to see which exist (qoder-workspace-id selects the workspace).",
            )
        return record

    def _check_name_free(self, name: str, space: str, *, other_than: str = "") -> None:
        existing = self._store.live_with_name(name, space, other_than=other_than)
        if existing is not None:
            raise ApiError(
                409,
                f"An environment named {existing.name!r} already exists in {_describe(space)} "
                f"({existing.id}); choose another name, or archive or delete that one first.",
                param="name",
            )


def _workspace(header: str | None) -> str:
    """The workspace a request is in: its qoder-workspace-id, or the default without one."""
    if header is None:
        return DEFAULT_WORKSPACE
    if not header.strip():
        raise ApiError(
            400,
            f"The {WORKSPACE_HEADER} header is empty; send a workspace id, or leave the header "
            "out to use the default workspace.",
            param=WORKSPACE_HEADER,
        )
    return header.strip()


def _describe(space: str) -> str:
    return f"workspace {space[:80]!r}" if space != DEFAULT_WORKSPACE else "the default workspace"


def _idempotency_scope(token: str, space: str) -> str:
    """Keys are per token and workspace; the store keeps a digest, never the token. (The default
    workspace's scope is the token's digest alone, as before workspaces, so old records hold.)"""
    scoped = token if space == DEFAULT_WORKSPACE else f"{token}\0{space}"
    return hashlib.sha256(scoped.encode()).hexdigest()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers=(("WWW-Authenticate", "Bearer"),))


def _fingerprint(request: ApiRequest) -> str:
    """What makes two requests "the same" for an idempotency key."""
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
    except ValueError:  # not JSON (or empty): compare the raw bytes
        body = request.body.hex()
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()
