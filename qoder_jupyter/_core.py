"""The I/O-free core that :class:`~qoder_jupyter.client.Client` and
:class:`~qoder_jupyter.client.AsyncClient` share.

Each operation is written once, as a generator ("flow") that yields what it needs done, a
:class:`Request` to send or a :class:`Sleep` to wait, and receives the :data:`Outcome` of each
request. The sync and async clients only drive flows with their own I/O, so retries, idempotency,
reconciliation of ambiguous creates and error mapping cannot drift apart between the two, and all of
it can be exercised without a network.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
import unicodedata
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from ._text import optional_text
from .credentials import workspace_problem
from .environment import DeletedEnvironment, Environment, EnvironmentPage, ResponseShapeError
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    OutcomeUnknownError,
    PaginationError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    ResponseError,
    ResponseTooLargeError,
    ServerError,
    ValidationError,
)
from .spec import EnvironmentSpec, check_body
from .update import EnvironmentUpdate

logger = logging.getLogger("qoder_jupyter.client")

T = TypeVar("T")

#: The service's largest page.
MAX_PAGE_SIZE = 100

#: Pages a reconciliation looks through for an ambiguous create. The environment it looks for
#: was created moments ago and listings are newest first, so it is on the first page unless
#: hundreds were created since; past this many pages the outcome is reported as unknown.
MAX_RECONCILE_PAGES = 5

#: Statuses worth another attempt (contract §6). 4xx other than 408/429 never are.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


# --- the protocol between a flow and its driver --------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request, relative to the base URL. It never holds the token: the driver adds the
    Authorization header as the request leaves."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    idempotency_key: str | None = None
    request_id: str = ""

    @property
    def retry_safe(self) -> bool:
        """Whether sending it twice can do no harm: reads, deletes, and keyed POSTs."""
        return self.method in ("GET", "DELETE", "PUT") or self.idempotency_key is not None

    def attempt(self) -> Request:
        """This request with a fresh ``x-request-id``: each attempt has its own. (Built directly:
        ``dataclasses.replace`` is several times slower, on every attempt.)"""
        request_id = "req_" + os.urandom(16).hex()
        return Request(
            self.method, self.path, self.params, self.json, self.idempotency_key, request_id
        )

    def headers(self) -> dict[str, str]:
        headers = {"x-request-id": self.request_id}
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers


@dataclass(frozen=True)
class Response:
    """An HTTP response as the driver received it, the token already taken out of it. Headers are
    looked up by lower-case name (a dict with lower-case keys, or a case-insensitive mapping such
    as ``httpx.Headers``). Its repr shows only the status: what a server sent never reaches a
    traceback's locals (``%xmode Verbose``)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    content: bytes = field(default=b"", repr=False)

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or cannot be read."""
        try:
            return self.body()
        except UnreadableBody:
            return None

    def body(self) -> Any:
        """The body as JSON (None when empty); :class:`UnreadableBody` when it cannot be read."""
        return decode_json(self.content) if self.content.strip() else None


class UnreadableBody(ValueError):
    """A response body that is not UTF-8 JSON a client can decode."""


def decode_json(content: bytes) -> Any:
    """``content`` as JSON; every way it can fail is an :class:`UnreadableBody`."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableBody(f"it is not UTF-8 (an invalid byte at offset {error.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableBody("its JSON is nested too deeply to read") from None
    except ValueError as error:
        raise UnreadableBody(f"it is not JSON ({error})") from None


@dataclass(frozen=True)
class TransportFailure:
    """No usable HTTP response. ``maybe_sent`` tells whether the request may have reached the
    server (a read timeout, a dropped connection, an answer that could not be read) or certainly
    did not (a refused connection)."""

    kind: Literal["connect", "timeout", "protocol", "unreadable", "too_large"]
    maybe_sent: bool
    detail: str


@dataclass(frozen=True)
class Sleep:
    seconds: float


Outcome = Response | TransportFailure
Step = Request | Sleep
Flow = Generator[Step, Outcome | None, T]


# --- retries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins when it is short."""

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None to stop (a long Retry-After)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return asked if asked <= self.max_retry_after else None
        return self.rng.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


_DELTA_SECONDS = re.compile(r"[0-9]{1,10}", re.ASCII)  # RFC 9110: 1*DIGIT, ASCII digits only


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None when absent or not
    one of those (then the client's own backoff applies). Never raises: a server chooses it."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    import email.utils  # rarely needed, and 5 ms of %load_ext when imported at the top

    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(frozen=True)
class Exchange:
    """How a request ended after its attempts: the last outcome, whether an earlier attempt that
    failed may have acted on the server, and whether any attempt that may have been sent got no
    answer at all (the server may still be carrying it out)."""

    outcome: Outcome
    maybe_acted: bool
    unanswered: bool = False


def _may_have_acted(outcome: Outcome) -> bool:
    if isinstance(outcome, TransportFailure):
        return outcome.maybe_sent
    return outcome.status >= 500  # a gateway 429/408 answers before the service acts


def _readable(outcome: Outcome) -> Outcome:
    """A successful read whose body cannot be decoded, as the failure it is: a mangled answer
    from a proxy, worth another attempt like a dropped connection."""
    if isinstance(outcome, Response) and 200 <= outcome.status < 300:
        try:
            outcome.body()
        except UnreadableBody as why:
            return TransportFailure("unreadable", True, f"its answer cannot be used: {why}")
    return outcome


def _unanswered(outcome: Outcome) -> bool:
    return isinstance(outcome, TransportFailure) and outcome.kind in ("timeout", "protocol")


def _is_final(outcome: Outcome, request: Request) -> bool:
    """Whether this outcome ends the attempts regardless of the retry budget."""
    if isinstance(outcome, Response):
        return outcome.status not in RETRY_STATUSES
    return outcome.maybe_sent and not request.retry_safe


def exchange(request: Request, policy: RetryPolicy) -> Flow[Exchange]:
    """Send ``request`` with retries. Every attempt has its own ``x-request-id`` and the same
    ``Idempotency-Key``."""
    maybe_acted = unanswered = False
    for attempt in range(policy.max_retries + 1):
        outcome = yield request.attempt()
        assert outcome is not None
        if request.method == "GET":
            outcome = _readable(outcome)
        unanswered = unanswered or _unanswered(outcome)
        if _is_final(outcome, request):
            return Exchange(outcome, maybe_acted, unanswered)
        maybe_acted = maybe_acted or _may_have_acted(outcome)
        retry_after = outcome.headers.get("retry-after") if isinstance(outcome, Response) else None
        delay = policy.delay(attempt, retry_after)
        if attempt == policy.max_retries or delay is None:
            return Exchange(outcome, maybe_acted, unanswered)
        logger.info(
            "%s %s: %s (attempt %d of %d); retrying in %.2f s",
            request.method,
            request.path,
            _describe(outcome),
            attempt + 1,
            policy.max_retries + 1,
            delay,
        )
        yield Sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# --- errors --------------------------------------------------------------------------------------


def error_for(outcome: Outcome, request: Request, *, earlier_maybe_acted: bool = False) -> APIError:
    """The typed error for an outcome that is not a success. ``may_have_acted`` is decided here,
    once: this outcome, or an earlier attempt, may have changed something on the service."""
    if isinstance(outcome, TransportFailure):
        error_class = _FAILURE_ERRORS[outcome.kind]
        error: APIError = error_class(
            f"{request.method} {request.path} failed: {outcome.detail}",
            method=request.method,
            url=request.path,
        )
    else:
        error = status_error(outcome, request)
    error.may_have_acted = earlier_maybe_acted or _may_have_acted(outcome)
    return error


_FAILURE_ERRORS: dict[str, type[APIError]] = {
    "connect": APIConnectionError,
    "protocol": APIConnectionError,
    "timeout": APITimeoutError,
    "unreadable": ResponseError,
    "too_large": ResponseTooLargeError,
}


def status_error(response: Response, request: Request) -> APIStatusError:
    body = response.json()
    details = body.get("error") if isinstance(body, dict) else None
    details = details if isinstance(details, dict) else {}
    message = details.get("message")
    error_class = _STATUS_ERRORS.get(response.status, APIStatusError)
    if response.status >= 500:
        error_class = ServerError
    hint = None
    if 300 <= response.status < 400:
        location = response.headers.get("location", "another address")
        message = f"The service redirected to {location}; redirects are not followed."
        hint = "Set the base URL to the final address (redirects could carry the token elsewhere)."
    request_id = (body.get("request_id") if isinstance(body, dict) else None) or (
        response.headers.get("x-request-id") or request.request_id
    )
    return error_class(
        message if isinstance(message, str) and message else _describe_body(response),
        status_code=response.status,
        error_type=optional_text(details.get("type")),
        param=optional_text(details.get("param")),
        request_id=optional_text(request_id),
        method=request.method,
        url=request.path,
        hint=hint,
    )


def _describe_body(response: Response) -> str:
    """A message for an error without the documented JSON body (a proxy or a gateway spoke)."""
    if not response.content.strip():
        return "The service answered with an empty body."
    kind = response.headers.get("content-type", "").split(";")[0] or "unknown type"
    if "html" in kind:
        return "The service answered with an HTML page (probably from a proxy or gateway)."
    text = response.content[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    if response.json() is not None:
        return f"The service answered with an error in an unexpected shape: {text}"
    return f"The service answered with a non-JSON body ({kind}): {text}"


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, TransportFailure):
        return outcome.detail
    return f"HTTP {outcome.status}"


def _expect(exchange: Exchange, request: Request) -> Any:
    """The JSON body of a successful exchange; the typed error otherwise."""
    outcome = exchange.outcome
    if isinstance(outcome, TransportFailure) or not 200 <= outcome.status < 300:
        raise error_for(outcome, request, earlier_maybe_acted=exchange.maybe_acted)
    try:
        return outcome.body()
    except UnreadableBody as why:
        raise _unreadable_success(request, outcome.status, str(why)) from None


def _unreadable_success(request: Request, status: int, why: str) -> ResponseError:
    """A success status whose answer cannot be used: whatever was asked was done."""
    error = ResponseError(
        f"{request.method} {request.path} answered {status}, but the answer cannot be used: {why}.",
        method=request.method,
        url=request.path,
    )
    error.may_have_acted = request.method != "GET"
    return error


def _environment(body: Any, request: Request, status: int = 200) -> Environment:
    try:
        return Environment.from_json(body)
    except ResponseShapeError as error:
        raise _unreadable_success(request, status, str(error)) from None


# --- operations ----------------------------------------------------------------------------------


def environment_path(env_id: str) -> str:
    """The path of one environment; an id that could address anything else is refused before
    anything is sent (``..`` would be the API root, ``.`` the collection)."""
    problem = _id_problem(env_id)
    if problem is not None:
        raise ValidationError([Problem("id", problem)])
    return f"/environments/{quote(env_id, safe='')}"


def _id_problem(env_id: object) -> str | None:
    example = "such as 'env_019e3bb39b6774d8878cd0b9d237574b'"
    if not isinstance(env_id, str) or not env_id:
        return f"An environment id is required, {example}."
    if env_id in (".", ".."):
        return f"{env_id!r} is not an environment id: give one {example}."
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in env_id):
        fixed = "".join(env_id.split())
        fix = f"write {fixed!r}" if fixed else f"give one {example}"
        return f"The id {env_id!r} contains whitespace or a control character: {fix}."
    separators = sorted(set(env_id) & set("/?#"))
    if separators:
        return (
            f"The id {env_id!r} contains {', '.join(map(repr, separators))}: an id is a single "
            f"path segment, {example}."
        )
    if not _encodable(env_id):
        return f"The id {env_id!r} holds text that is not valid Unicode: copy the id again."
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def new_idempotency_key() -> str:
    import uuid  # on first use: importing it costs %load_ext 5 ms (it imports platform)

    return str(uuid.uuid4())


def create_environment(body: Mapping[str, Any], key: str, policy: RetryPolicy) -> Flow[Environment]:
    """Create once, whatever the network does: all attempts share ``key``; when an attempt may
    have acted and the end is unclear, look the environment up by name before reporting, and
    report an :class:`OutcomeUnknownError` (with the key) when that cannot settle it."""
    request = Request("POST", "/environments", json=dict(body), idempotency_key=key)
    result = yield from exchange(request, policy)
    outcome = result.outcome
    if isinstance(outcome, Response) and outcome.status in (200, 201):
        created = _created(outcome)
        if created is not None:
            return created
        # Created, but the answer cannot be read (a proxy mangled it): find what was created, and
        # if it is not listed yet, say so with the key (a retry with it replays the answer).
        failure: APIError = _unreadable_success(request, outcome.status, "it is not an environment")
        return (yield from _reconcile(body, key, request, failure, policy, absence_proves=False))
    # Ambiguous: this attempt may have acted, or an earlier one may have and this one's answer
    # (a 409 for our own name, a 401 from a gateway, a last failure) does not say whether it did.
    failure = error_for(outcome, request, earlier_maybe_acted=result.maybe_acted)
    if not (_may_have_acted(outcome) or result.maybe_acted):
        raise failure
    absence_proves = not result.unanswered
    return (yield from _reconcile(body, key, request, failure, policy, absence_proves))


def _created(response: Response) -> Environment | None:
    """The environment a successful create answered with; None when the answer is not one."""
    try:
        return Environment.from_json(response.body())
    except (UnreadableBody, ResponseShapeError):
        return None


def _reconcile(
    body: Mapping[str, Any],
    key: str,
    request: Request,
    failure: APIError,
    policy: RetryPolicy,
    absence_proves: bool,
) -> Flow[Environment]:
    """Settle an ambiguous create by looking for it by name: return it when it is there as
    asked; re-raise ``failure`` when another environment holds the name, or when it is absent and
    ``absence_proves`` that nothing was made (every attempt was answered: the service finished).
    Otherwise (the look-up cannot finish, an unanswered attempt may still be under way, or the
    service said it created it) the outcome is unknown: never "nothing happened"."""
    name = str(body.get("name", ""))
    try:
        found = yield from find_by_name(name, policy)
    except APIError as error:
        why = f"checking failed: {error.message}"
        raise _outcome_unknown(name, key, request, failure, why) from None
    if found is not None and found.matches(body):
        logger.info("Create of %r was ambiguous; found it on the service as %s", name, found.id)
        return found
    if found is not None or absence_proves:
        raise failure
    raise _outcome_unknown(name, key, request, failure, "it is not listed there (yet)")


def _outcome_unknown(
    name: str, key: str, request: Request, failure: APIError, why: str
) -> OutcomeUnknownError:
    last = str(failure).splitlines()[0]
    return OutcomeUnknownError(
        f"The create of {name!r} may have reached the service ({last}), and {why}.",
        name=name,
        idempotency_key=key,
        method="POST",
        url=request.path,
    )


def find_by_name(
    name: str, policy: RetryPolicy, *, max_pages: int | None = MAX_RECONCILE_PAGES
) -> Flow[Environment | None]:
    """The newest unarchived environment called ``name``, scanning at most ``max_pages`` pages
    (None: every page) newest first; an :class:`APIError` when it could not look through them
    all."""
    walk = PageWalk({"limit": str(MAX_PAGE_SIZE)})
    while True:
        page = yield from list_environments(walk.params, policy)
        found = next((environment for environment in page if environment.name == name), None)
        if found is not None:
            return found
        if not walk.advance(page):
            return None
        if max_pages is not None and walk.pages >= max_pages:
            raise APIError(
                f"no environment called {name!r} in the newest {walk.pages * MAX_PAGE_SIZE}, "
                "and more remain",
                method="GET",
                url="/environments",
            )


def list_environments(params: Mapping[str, str], policy: RetryPolicy) -> Flow[EnvironmentPage]:
    request = Request("GET", "/environments", params=dict(params))
    body = _expect((yield from exchange(request, policy)), request)
    if not isinstance(body, dict):
        raise _unreadable_success(request, 200, "the response is not a JSON object")
    try:
        return EnvironmentPage.from_response(body)
    except ResponseShapeError as error:
        raise _unreadable_success(request, 200, str(error)) from None


_CURSORS = ("after_id", "before_id", "page")


class PageWalk:
    """A listing page after page: the query of the next page, and the guard against a service
    (or a proxy replaying a cached page) whose pages do not advance, which would otherwise be
    followed forever."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params: dict[str, str] = dict(params)
        self.pages = 0
        self._cursors: set[tuple[str, str]] = set()
        self._ids: set[str] = set()

    def advance(self, page: EnvironmentPage) -> bool:
        """Move past ``page``: False when it was the last one; :class:`PaginationError` when the
        next cursor, or every environment on it, was seen before."""
        self.pages += 1
        self._cursors.update(_cursor_of(self.params))
        ids = {environment.id for environment in page}
        if ids and ids <= self._ids:
            raise self._stuck("returned the same environments again")
        self._ids |= ids
        following = next_page_params(page, self.params)
        if following is None:
            return False
        if _cursor_of(following) & self._cursors:
            raise self._stuck("gave a next-page cursor it had already given")
        self.params = following
        return True

    def _stuck(self, what: str) -> PaginationError:
        return PaginationError(
            f"GET /environments: stopped after page {self.pages}: the service {what}, so the "
            "listing would never end.",
            method="GET",
            url="/environments",
        )


def _cursor_of(params: Mapping[str, str]) -> set[tuple[str, str]]:
    return {(name, params[name]) for name in _CURSORS if params.get(name)}


def next_page_params(page: EnvironmentPage, params: Mapping[str, str]) -> dict[str, str] | None:
    """The query for the page after ``page`` (same filters), or None when it was the last."""
    if not page.has_more or not page.data:
        return None
    kept = {k: v for k, v in params.items() if k not in _CURSORS}
    if page.next_page:
        return {**kept, "page": page.next_page}
    return {**kept, "after_id": page.last_id or page.data[-1].id}


def retrieve_environment(env_id: str, policy: RetryPolicy) -> Flow[Environment]:
    request = Request("GET", environment_path(env_id))
    return _environment(_expect((yield from exchange(request, policy)), request), request)


def update_environment(
    env_id: str, body: Mapping[str, Any], policy: RetryPolicy
) -> Flow[Environment]:
    request = Request(
        "POST", environment_path(env_id), json=dict(body), idempotency_key=new_idempotency_key()
    )
    return _environment(_expect((yield from exchange(request, policy)), request), request)


def archive_environment(env_id: str, policy: RetryPolicy) -> Flow[Environment]:
    path = environment_path(env_id) + "/archive"
    request = Request("POST", path, idempotency_key=new_idempotency_key())
    return _environment(_expect((yield from exchange(request, policy)), request), request)


def delete_environment(env_id: str, policy: RetryPolicy) -> Flow[DeletedEnvironment]:
    request = Request("DELETE", environment_path(env_id))
    result = yield from exchange(request, policy)
    outcome = result.outcome
    if isinstance(outcome, Response) and outcome.status == 404 and result.maybe_acted:
        # An earlier attempt deleted it and its answer was lost: that is the success we wanted.
        return DeletedEnvironment(id=env_id)
    if isinstance(outcome, Response) and 200 <= outcome.status < 300:
        return DeletedEnvironment.from_response(env_id, outcome.json())  # deleted, whatever it said
    raise error_for(outcome, request, earlier_maybe_acted=result.maybe_acted)


WORKSPACE_HEADER = "qoder-workspace-id"


def workspace_headers(workspace: str | None) -> dict[str, str]:
    """The header that selects a workspace (contract §7); none for the default workspace."""
    if workspace is None:
        return {}
    problem = workspace_problem(workspace)
    if problem is not None:
        raise ValidationError([Problem("workspace", problem)])
    return {WORKSPACE_HEADER: workspace}


# --- request bodies and queries (validated before anything is sent) ------------------------------


def create_body(
    spec: EnvironmentSpec | Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The create body from a spec, a request-body mapping (checked by the rules directly, without
    building a spec), or spec fields as keywords."""
    if spec is not None and fields:
        raise TypeError("Pass either a spec or keyword fields, not both.")
    if spec is None:
        return EnvironmentSpec(**fields).to_body()
    if isinstance(spec, EnvironmentSpec):
        return spec.to_body()
    return check_body(spec)


def update_body(changes: EnvironmentUpdate | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The update body from an :class:`EnvironmentUpdate` or its fields as keywords."""
    if changes is not None and fields:
        raise TypeError("Pass either an EnvironmentUpdate or keyword fields, not both.")
    return (changes if changes is not None else EnvironmentUpdate(**fields)).to_body()


def list_params(
    *,
    limit: int | None = None,
    after_id: str | None = None,
    before_id: str | None = None,
    page: str | None = None,
    include_archived: bool | None = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
) -> dict[str, str]:
    """The list query, checked before it is sent."""
    problems = []
    if limit is not None and not 1 <= limit <= MAX_PAGE_SIZE:
        problems.append(Problem("limit", f"limit must be 1 to {MAX_PAGE_SIZE}, not {limit}."))
    cursors = {"after_id": after_id, "before_id": before_id, "page": page}
    given = [name for name, value in cursors.items() if value]
    if len(given) > 1:
        problems.append(Problem("cursor", f"Give at most one of {', '.join(given)}."))
    if problems:
        raise ValidationError(problems)
    params: dict[str, str] = {name: str(value) for name, value in cursors.items() if value}
    if limit is not None:
        params["limit"] = str(limit)
    if include_archived is not None:
        params["include_archived"] = "true" if include_archived else "false"
    for key, value in (("created_at[gte]", created_after), ("created_at[lte]", created_before)):
        if value is not None:
            params[key] = value.isoformat() if isinstance(value, datetime) else value
    return params
