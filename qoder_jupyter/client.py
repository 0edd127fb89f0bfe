"""``Client`` and ``AsyncClient``: the Environments API over httpx.

Both are thin drivers of the flows in :mod:`qoder_jupyter._core`: they send its requests with httpx,
sleep when it says so and hand back what came of each request. Everything that decides (retries,
idempotency, reconciliation, errors) lives in the core, written once.

    >>> with Client() as client:                                  # doctest: +SKIP
    ...     env = client.environments.create(name="demo", networking="limited", apt=["curl"])
"""

from __future__ import annotations

import builtins
import functools
import logging
import os
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx

from ._apply import (
    ListApply,
    Progress,
    WritePacer,
    applicable,
    apply_environment,
    index_by_name,
    plan_environment,
    update_to_spec,
)
from ._core import (
    MAX_PAGE_SIZE,
    Flow,
    Outcome,
    PageWalk,
    Request,
    Response,
    RetryPolicy,
    Sleep,
    Step,
    TransportFailure,
    archive_environment,
    create_body,
    create_environment,
    delete_environment,
    find_by_name,
    list_environments,
    list_params,
    new_idempotency_key,
    retrieve_environment,
    update_body,
    update_environment,
    workspace_headers,
)
from ._redact import Redactor, install_log_filter
from ._transport import bound_attempts, deadline
from ._version import __version__
from .credentials import Token, check_transport, resolve_base_url, resolve_token
from .environment import DeletedEnvironment, Environment, EnvironmentPage
from .errors import ConfigurationError, Problem, QoderError, ValidationError
from .plan import Applied, Each, Plan
from .spec import EnvironmentSpec
from .update import EnvironmentUpdate

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "AsyncClient",
    "Client",
]

logger = logging.getLogger("qoder_jupyter.client")

T = TypeVar("T")

#: A control-plane call answers in well under a second; 30 s to read leaves room for a slow day
#: without a frozen notebook, and 5 s to connect catches a wrong host quickly.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

#: The most one attempt may take in all, however the server paces its bytes: a control-plane
#: answer that has not arrived whole in 30 s is as broken as one that never starts.
DEFAULT_ATTEMPT_TIMEOUT = 30.0

#: The largest answer read. A page holds at most 100 environments; the fields the contract bounds
#: (name 255 characters, setup script 64 KB, 16 metadata entries of 64 + 512) come to under 80 KB
#: an environment, 8 MB a page. Package lists and descriptions have no documented bound, so the
#: limit leaves 8x that: 64 MiB, which no real page reaches and a runaway body reaches in seconds.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@functools.cache
def _tls_context(https: bool = True) -> ssl.SSLContext:
    """httpx's default TLS settings, built once: loading the CA bundle costs ~50 ms per client.

    A plain-http base URL (loopback only: see ``check_transport``) never uses TLS, since every
    request goes to that base URL and redirects are never followed: it gets a context without
    the bundle, which would refuse any certificate if it were ever used."""
    return httpx.create_ssl_context() if https else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _timeout(timeout: float | httpx.Timeout | None, connect: float | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        if connect is not None:
            raise TypeError("Give the connect timeout inside the httpx.Timeout, not beside it.")
        return timeout
    if connect is None:  # a number alone limits every phase, as in httpx
        return DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
    return httpx.Timeout(DEFAULT_TIMEOUT.read if timeout is None else timeout, connect=connect)


class _BearerAuth(httpx.Auth):
    """Adds the token as the request leaves, so it lives in no header dict we keep."""

    def __init__(self, token: Token) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


class _Base:
    """What the sync and async clients share: settings, the token and the httpx options."""

    def __init__(
        self,
        *,
        token: str | Token | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        connect_timeout: float | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_connections: int = 100,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        workspace: str | None = None,
        environ: Mapping[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        """``token`` defaults to ``$QODER_PAT``, then ``$QODER_ACCESS_TOKEN``; ``base_url`` to
        ``$QODER_BASE_URL``, then ``$QODER_MANAGED_BASE_URL``, then the service's URL. ``environ``
        replaces ``os.environ`` for those look-ups; ``seed`` makes the backoff jitter repeatable.
        ``timeout`` is in seconds (or an ``httpx.Timeout``) for each network operation;
        ``connect_timeout``, when given, is the part of it allowed for connecting;
        ``attempt_timeout`` bounds each attempt as a whole, and ``max_response_bytes`` the size of
        an answer. ``workspace`` is the ``qoder-workspace-id`` sent with every call (None: the
        token's default workspace); each method also takes ``workspace=``."""
        environ = os.environ if environ is None else environ
        self.base_url = resolve_base_url(base_url, environ)
        check_transport(self.base_url)
        self._token = resolve_token(token, environ)
        self._redactor = Redactor(self._token.reveal())
        install_log_filter()
        _check_limits(attempt_timeout, max_response_bytes)
        self.attempt_timeout = float(attempt_timeout)
        self.max_response_bytes = int(max_response_bytes)
        workspace_headers(workspace)  # checked now, not at the first call
        self.workspace = workspace
        rng = random.Random(seed)  # noqa: S311 - backoff jitter, not security
        self.retry_policy = RetryPolicy(max_retries=max_retries, backoff=backoff, rng=rng)
        timeout = _timeout(timeout, connect_timeout)
        #: What a twin of the other kind needs to talk to the same service the same way.
        self._settings: dict[str, Any] = {
            "token": self._token,
            "base_url": self.base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "backoff": backoff,
            "attempt_timeout": attempt_timeout,
            "max_response_bytes": max_response_bytes,
            "workspace": workspace,
        }
        try:
            self._open(
                base_url=self.base_url,
                timeout=timeout,
                limits=httpx.Limits(max_connections=max_connections),
                follow_redirects=False,
                verify=_tls_context(urlsplit(self.base_url).scheme != "http"),
                auth=_BearerAuth(self._token),
                headers={
                    "Accept": "application/json",
                    "User-Agent": f"qoder-jupyter/{__version__} httpx/{httpx.__version__}",
                },
            )
        except httpx.InvalidURL as error:  # what urlsplit accepts and httpx does not (a tab...)
            raise ConfigurationError(f"The base URL is not a valid URL: {error}") from None

    def _open(self, **httpx_options: Any) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token={self._token!r})"

    def _scrubbed(self, error: QoderError) -> QoderError:
        """The error with the token out of every text it holds (answers reach the core already
        redacted; this also catches what a JSON escape hid), and no chained exception: those
        would carry httpx's objects into a traceback."""
        redact = self._redactor.text
        for name, value in vars(error).items():
            if isinstance(value, str):
                setattr(error, name, redact(value))
        error.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in error.args)
        error.__cause__ = error.__context__ = None
        error.__suppress_context__ = True
        return error

    def _headers(self, request: Request, workspace: str | None) -> dict[str, str]:
        return {**request.headers(), **workspace_headers(workspace)}

    def _response(self, response: httpx.Response, content: bytes) -> Response:
        """What the core sees of an answer: status, headers and body, the token taken out."""
        headers: Mapping[str, str] = response.headers
        if any(self._redactor.found_in(value) for value in headers.values()):
            headers = {name: self._redactor.text(value) for name, value in headers.items()}
        return Response(response.status_code, headers, self._redactor.bytes(content))

    def _failure(self, error: Exception, started: float) -> TransportFailure:
        failure = _failure(error)
        detail = self._redactor.text(failure.detail)
        if failure.kind == "timeout" and time.monotonic() - started >= self.attempt_timeout:
            detail = f"no complete answer within attempt_timeout ({self.attempt_timeout:g} s)"
        elif isinstance(error, httpx.ReadTimeout | httpx.WriteTimeout):
            waited = self._settings["timeout"].read
            detail = f"timed out: no data for timeout ({waited:g} s)" if waited else detail
        return TransportFailure(failure.kind, failure.maybe_sent, detail)


def _check_limits(attempt_timeout: float, max_response_bytes: int) -> None:
    problems = []
    if not attempt_timeout > 0:
        problems.append(
            Problem(
                "attempt_timeout",
                f"attempt_timeout must be a positive number of seconds, not {attempt_timeout!r}.",
            )
        )
    if not max_response_bytes > 0:
        problems.append(
            Problem(
                "max_response_bytes",
                f"max_response_bytes must be a positive number of "
                f"bytes, not {max_response_bytes!r}.",
            )
        )
    if problems:
        raise ValidationError(problems)


def _build(
    http: httpx.Client | httpx.AsyncClient, request: Request, headers: dict[str, str]
) -> httpx.Request:
    """The httpx request; a body or query that cannot be encoded is refused before sending."""
    try:
        return http.build_request(
            request.method, request.path, params=request.params, json=request.json, headers=headers
        )
    except (UnicodeEncodeError, ValueError) as error:  # a lone surrogate; NaN in the JSON
        raise ValidationError(
            [
                Problem(
                    "body",
                    f"The request cannot be encoded as JSON in UTF-8 ({error}): remove "
                    "the character or value it names.",
                )
            ]
        ) from None


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer grew past max_response_bytes ({limit:,} bytes)")


class _Body:
    """An answer's body, read chunk by chunk up to a size limit."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise _TooLarge(limit)

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise _TooLarge(self._limit)
        self._chunks.append(chunk)

    def content(self) -> bytes:
        return b"".join(self._chunks)


def _failure(error: Exception) -> TransportFailure:
    """Whether a failed request may have reached the server decides whether a create is
    ambiguous: a refused connection did not; anything after sending may have."""
    detail = str(error) or type(error).__name__
    if isinstance(error, _TooLarge):
        return TransportFailure("too_large", True, detail)
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        where = _url_of(error)
        said = f"could not connect to {where} ({detail})" if where else detail
        return TransportFailure("connect", maybe_sent=False, detail=said)
    if isinstance(error, httpx.TimeoutException | TimeoutError):  # TimeoutError: anyio's deadline
        said = detail if "timed out" in detail.lower() else f"timed out ({detail})"
        return TransportFailure("timeout", maybe_sent=True, detail=said)
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        raise ConfigurationError(f"The request could not be sent: {detail}") from None
    if isinstance(error, httpx.DecodingError):
        return TransportFailure("unreadable", True, f"its body could not be decoded ({detail})")
    return TransportFailure("protocol", maybe_sent=True, detail=detail)


def _url_of(error: httpx.HTTPError) -> str:
    """The address a failed request went to (scheme, host, port and path: the token is in a
    header, never in it), or "" when httpx did not attach the request."""
    try:
        url = error.request.url
    except RuntimeError:
        return ""
    return str(url.copy_with(query=None, fragment=None))


#: What an attempt can fail with once it is under way: httpx's own errors, the size limit, and
#: anyio's deadline. Anything else is a bug and is not hidden.
_ATTEMPT_ERRORS = (httpx.HTTPError, _TooLarge, TimeoutError)


def _is_write(step: Step) -> bool:
    return isinstance(step, Request) and step.method != "GET"


def _tell(pacer: WritePacer | None, step: Step, outcome: Outcome | None) -> None:
    if pacer is not None and _is_write(step) and isinstance(outcome, Response):
        pacer.answered(outcome.status)


class Client(_Base):
    """A synchronous client of the Environments API: ``client.environments.create(...)``."""

    def _open(self, **httpx_options: Any) -> None:
        self._http = httpx.Client(**httpx_options)
        bound_attempts(self._http)
        self.environments = Environments(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(
        self, flow: Flow[T], *, workspace: str | None = None, pacer: WritePacer | None = None
    ) -> T:
        """Drive one flow of the core to its result, every request in ``workspace``; ``pacer``
        spaces its writes."""
        try:
            step = next(flow)
            while True:
                if pacer is not None and _is_write(step):
                    time.sleep(pacer.delay(time.monotonic()))
                outcome = self._perform(step, workspace)
                _tell(pacer, step, outcome)
                step = flow.send(outcome)
        except StopIteration as stop:
            result: T = stop.value
            return result
        except QoderError as error:
            raise self._scrubbed(error) from None

    def _perform(self, step: Step, workspace: str | None) -> Outcome | None:
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        request = _build(self._http, step, self._headers(step, workspace))
        started = time.monotonic()
        try:
            with deadline(self.attempt_timeout):
                response = self._http.send(request, stream=True)
                try:
                    body = _Body(response, self.max_response_bytes)
                    for chunk in response.iter_bytes():
                        body.add(chunk)
                finally:
                    response.close()
        except _ATTEMPT_ERRORS as error:
            return self._failure(error, started)
        return self._response(response, body.content())


class AsyncClient(_Base):
    """The asynchronous twin of :class:`Client` (asyncio or trio), with the same methods."""

    def _open(self, **httpx_options: Any) -> None:
        self._http = httpx.AsyncClient(**httpx_options)
        self.environments = AsyncEnvironments(self)
        self._lifecycle = _SyncLifecycle(self._settings)

    async def aclose(self) -> None:
        await self._http.aclose()
        self._lifecycle.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def run(
        self, flow: Flow[T], *, workspace: str | None = None, pacer: WritePacer | None = None
    ) -> T:
        """Drive one flow of the core to its result, every request in ``workspace``; ``pacer``
        spaces its writes."""
        try:
            step = next(flow)
            while True:
                if pacer is not None and _is_write(step):
                    await anyio.sleep(pacer.delay(time.monotonic()))
                outcome = await self._perform(step, workspace)
                _tell(pacer, step, outcome)
                step = flow.send(outcome)
        except StopIteration as stop:
            result: T = stop.value
            return result
        except QoderError as error:
            raise self._scrubbed(error) from None

    async def _perform(self, step: Step, workspace: str | None) -> Outcome | None:
        if isinstance(step, Sleep):
            await anyio.sleep(step.seconds)
            return None
        request = _build(self._http, step, self._headers(step, workspace))
        started = time.monotonic()
        try:
            with anyio.fail_after(self.attempt_timeout):
                response = await self._http.send(request, stream=True)
                try:
                    body = _Body(response, self.max_response_bytes)
                    async for chunk in response.aiter_bytes():
                        body.add(chunk)
                finally:
                    await response.aclose()
        except _ATTEMPT_ERRORS as error:
            return self._failure(error, started)
        return self._response(response, body.content())


# --- the environments resource, sync and async ---------------------------------------------------


def _bind(result: T, api: Any, workspace: str | None) -> T:
    """Attach ``api`` to the environments in ``result`` (one, a page, or an apply's), for their
    lifecycle helpers (``env.refresh()``, ``env.archive()``...), and note the workspace they came
    from."""
    if isinstance(result, EnvironmentPage):
        found: list[Any] = list(result)
    elif isinstance(result, Applied):
        found = [result.environment]
    else:
        found = [result]
    for environment in found:
        if isinstance(environment, Environment):
            environment.bind(api, workspace=workspace)
    return result


class _InWorkspace:
    """The lifecycle helpers of environments from one workspace: each call goes to that
    workspace, whatever the client's default is."""

    def __init__(self, api: Any, workspace: str) -> None:
        self._api = api
        self._workspace = workspace

    def retrieve(self, env_id: str) -> Environment:
        return self._api.retrieve(env_id, workspace=self._workspace)  # type: ignore[no-any-return]

    def update(
        self, env_id: str, changes: EnvironmentUpdate | None = None, /, **fields: Any
    ) -> Environment:
        workspace = self._workspace
        return self._api.update(env_id, changes, workspace=workspace, **fields)  # type: ignore[no-any-return]

    def archive(self, env_id: str) -> Environment:
        return self._api.archive(env_id, workspace=self._workspace)  # type: ignore[no-any-return]

    def delete(self, env_id: str) -> DeletedEnvironment:
        return self._api.delete(env_id, workspace=self._workspace)  # type: ignore[no-any-return]


def _lifecycle_api(api: Any, workspace: str | None, default: str | None) -> Any:
    return api if workspace in (None, default) else _InWorkspace(api, workspace)


class Environments:
    """``client.environments``: create, list, retrieve, update, archive and delete.

    Every method takes ``workspace=``: the ``qoder-workspace-id`` for that call (by default the
    client's). The environments it returns remember it for their lifecycle helpers."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _run(
        self, flow: Flow[T], workspace: str | None = None, pacer: WritePacer | None = None
    ) -> T:
        """Run a flow; the environments it returns can refresh, update, archive or delete
        themselves through this client, in the same workspace."""
        default = self._client.workspace
        chosen = default if workspace is None else workspace
        result = self._client.run(flow, workspace=chosen, pacer=pacer)
        return _bind(result, _lifecycle_api(self, chosen, default), chosen)

    def create(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        workspace: str | None = None,
        **fields: Any,
    ) -> Environment:
        """Create an environment from a spec, a request body, or spec fields as keywords.

        Safe to retry: every attempt carries one ``Idempotency-Key`` (pass the one from an
        :class:`~qoder_jupyter.errors.OutcomeUnknownError` to retry that create).
        """
        body = create_body(spec, fields)
        key = idempotency_key or new_idempotency_key()
        return self._run(create_environment(body, key, self._client.retry_policy), workspace)

    def apply(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        dry_run: bool = False,
        workspace: str | None = None,
        **fields: Any,
    ) -> Applied:
        """Make the environment called ``spec.name`` equal the spec: create it when no unarchived
        one has the name, update what differs, or send nothing when it matches. Returns what was
        done (``action``: ``create``, ``update`` or ``unchanged``), the ``diff`` and the
        ``environment``. ``dry_run``: only look and compare (no write)."""
        chosen = applicable(spec, fields)
        policy = self._client.retry_policy
        if dry_run:
            return self._run(plan_environment(chosen, policy), workspace)
        return self._run(apply_environment(chosen, new_idempotency_key(), policy), workspace)

    def apply_all(
        self,
        specs: Iterable[EnvironmentSpec | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        workspace: str | None = None,
        progress: Progress | None = None,
    ) -> Plan:
        """Apply each spec (see :meth:`apply`) after one listing of the environments, writes
        paced to the contract's 20 a second and slowed on 429. A spec that cannot be applied is
        a ``failed`` item with its reason; the others go on. ``progress`` is told of each."""
        run = ListApply(specs, dry_run)
        policy = self._client.retry_policy
        known = self._run(index_by_name(policy), workspace)
        pacer = WritePacer()
        for item in run.items():
            if isinstance(item, EnvironmentSpec):
                spec = item
                try:
                    item = self._run(run.flow(item, policy, known), workspace, pacer)
                except QoderError as error:
                    item = run.failed(spec.name, error, spec)
            run.record(item, progress)
        return run.plan

    def list(self, *, workspace: str | None = None, **query: Any) -> EnvironmentPage:
        """One page, newest first. Takes the arguments of :func:`list_params`."""
        params = list_params(**query)
        return self._run(list_environments(params, self._client.retry_policy), workspace)

    def list_all(self, *, workspace: str | None = None, **query: Any) -> Iterator[Environment]:
        """Every environment, page after page (100 a page unless ``limit`` says otherwise);
        a :class:`~qoder_jupyter.errors.PaginationError` if the pages stop advancing."""
        walk = PageWalk(list_params(**{"limit": MAX_PAGE_SIZE, **query}))
        while True:
            page = self._run(list_environments(walk.params, self._client.retry_policy), workspace)
            yield from page
            if not walk.advance(page):
                return

    def retrieve(self, env_id: str, *, workspace: str | None = None) -> Environment:
        return self._run(retrieve_environment(env_id, self._client.retry_policy), workspace)

    def named(self, name: str, *, workspace: str | None = None) -> Environment | None:
        """The unarchived environment called ``name`` (the service keeps those names unique), or
        None; looks through every page, newest first."""
        return self._run(find_by_name(name, self._client.retry_policy, max_pages=None), workspace)

    def update(
        self,
        env_id: str,
        changes: EnvironmentUpdate | None = None,
        /,
        *,
        workspace: str | None = None,
        **fields: Any,
    ) -> Environment:
        """Change what is given: an :class:`~qoder_jupyter.update.EnvironmentUpdate`, or its
        fields as keywords (``name``, ``description``, ``config``, ``metadata``)."""
        body = update_body(changes, fields)
        flow = update_environment(env_id, body, self._client.retry_policy)
        return self._run(flow, workspace)

    def update_to(
        self, live: Environment, spec: EnvironmentSpec, *, workspace: str | None = None
    ) -> Environment:
        """Update ``live`` so that it equals ``spec``, sending only what differs (as an apply
        does, but by id: the name may change too). An update whose answer was lost is settled by
        reading the environment back."""
        flow = update_to_spec(live, spec, live.diff(spec), self._client.retry_policy)
        return self._run(flow, live.workspace if workspace is None else workspace)

    def archive(self, env_id: str, *, workspace: str | None = None) -> Environment:
        return self._run(archive_environment(env_id, self._client.retry_policy), workspace)

    def delete(self, env_id: str, *, workspace: str | None = None) -> DeletedEnvironment:
        return self._run(delete_environment(env_id, self._client.retry_policy), workspace)


class AsyncEnvironments:
    """``async_client.environments``: the same methods as :class:`Environments`, awaitable.

    The environments it returns are bound like those of :class:`Environments`: their lifecycle
    helpers are synchronous (a notebook calls ``env.archive()`` in a later cell), so they go
    through a :class:`Client` with the same settings, opened on first use."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _run(
        self, flow: Flow[T], workspace: str | None = None, pacer: WritePacer | None = None
    ) -> T:
        default = self._client.workspace
        chosen = default if workspace is None else workspace
        result = await self._client.run(flow, workspace=chosen, pacer=pacer)
        return _bind(result, _lifecycle_api(self._client._lifecycle, chosen, default), chosen)

    async def create(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        workspace: str | None = None,
        **fields: Any,
    ) -> Environment:
        body = create_body(spec, fields)
        key = idempotency_key or new_idempotency_key()
        flow = create_environment(body, key, self._client.retry_policy)
        return await self._run(flow, workspace)

    async def apply(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        dry_run: bool = False,
        workspace: str | None = None,
        **fields: Any,
    ) -> Applied:
        chosen = applicable(spec, fields)
        policy = self._client.retry_policy
        if dry_run:
            return await self._run(plan_environment(chosen, policy), workspace)
        flow = apply_environment(chosen, new_idempotency_key(), policy)
        return await self._run(flow, workspace)

    async def apply_all(
        self,
        specs: Iterable[EnvironmentSpec | Mapping[str, Any]],
        *,
        dry_run: bool = False,
        workspace: str | None = None,
        progress: Progress | None = None,
    ) -> Plan:
        run = ListApply(specs, dry_run)
        policy = self._client.retry_policy
        known = await self._run(index_by_name(policy), workspace)
        pacer = WritePacer()
        for item in run.items():
            if isinstance(item, EnvironmentSpec):
                spec = item
                try:
                    item = await self._run(run.flow(item, policy, known), workspace, pacer)
                except QoderError as error:
                    item = run.failed(spec.name, error, spec)
            run.record(item, progress)
        return run.plan

    async def list(self, *, workspace: str | None = None, **query: Any) -> EnvironmentPage:
        params = list_params(**query)
        return await self._run(list_environments(params, self._client.retry_policy), workspace)

    async def list_all(
        self, *, workspace: str | None = None, **query: Any
    ) -> AsyncIterator[Environment]:
        async for page in self.pages(workspace=workspace, **query):
            for environment in page:
                yield environment

    async def pages(
        self, *, first: int | None = None, workspace: str | None = None, **query: Any
    ) -> AsyncIterator[EnvironmentPage]:
        """Every page, newest first: the first of ``first`` environments (so a screenful shows
        after one small request), the others of ``limit`` (100 unless given); a
        :class:`~qoder_jupyter.errors.PaginationError` if the pages stop advancing."""
        limit = query.pop("limit", MAX_PAGE_SIZE)
        list_params(limit=limit)  # checked now, not only when the second page is asked for
        walk = PageWalk(list_params(limit=first or limit, **query))
        while True:
            flow = list_environments(walk.params, self._client.retry_policy)
            page = await self._run(flow, workspace)
            yield page
            if not walk.advance(page):
                return
            walk.params["limit"] = str(limit)

    async def retrieve(self, env_id: str, *, workspace: str | None = None) -> Environment:
        flow = retrieve_environment(env_id, self._client.retry_policy)
        return await self._run(flow, workspace)

    async def named(self, name: str, *, workspace: str | None = None) -> Environment | None:
        """The unarchived environment called ``name``, or None (see :meth:`Environments.named`)."""
        flow = find_by_name(name, self._client.retry_policy, max_pages=None)
        return await self._run(flow, workspace)

    async def update(
        self,
        env_id: str,
        changes: EnvironmentUpdate | None = None,
        /,
        *,
        workspace: str | None = None,
        **fields: Any,
    ) -> Environment:
        body = update_body(changes, fields)
        flow = update_environment(env_id, body, self._client.retry_policy)
        return await self._run(flow, workspace)

    async def update_to(
        self, live: Environment, spec: EnvironmentSpec, *, workspace: str | None = None
    ) -> Environment:
        """Update ``live`` to equal ``spec`` (see :meth:`Environments.update_to`)."""
        flow = update_to_spec(live, spec, live.diff(spec), self._client.retry_policy)
        return await self._run(flow, live.workspace if workspace is None else workspace)

    async def archive(self, env_id: str, *, workspace: str | None = None) -> Environment:
        flow = archive_environment(env_id, self._client.retry_policy)
        return await self._run(flow, workspace)

    async def delete(self, env_id: str, *, workspace: str | None = None) -> DeletedEnvironment:
        flow = delete_environment(env_id, self._client.retry_policy)
        return await self._run(flow, workspace)

    async def archive_each(
        self,
        env_ids: Iterable[str],
        *,
        workspace: str | None = None,
        progress: Callable[[Each], None] | None = None,
    ) -> tuple[Each, ...]:
        """Archive each, paced as a list apply is (20 writes a second, slower on 429); one that
        fails is an :class:`~qoder_jupyter.plan.Each` with its error, and the others go on.
        ``progress`` is told of each as it ends."""
        return await self._each(archive_environment, env_ids, workspace, progress)

    async def delete_each(
        self,
        env_ids: Iterable[str],
        *,
        workspace: str | None = None,
        progress: Callable[[Each], None] | None = None,
    ) -> tuple[Each, ...]:
        """Delete each, paced and reported as :meth:`archive_each` does."""
        return await self._each(delete_environment, env_ids, workspace, progress)

    async def _each(
        self,
        action: Callable[[str, RetryPolicy], Flow[Any]],
        env_ids: Iterable[str],
        workspace: str | None,
        progress: Callable[[Each], None] | None,
    ) -> tuple[Each, ...]:
        pacer = WritePacer()
        done: builtins.list[Each] = []
        policy = self._client.retry_policy
        for env_id in env_ids:
            try:
                answer = await self._run(action(env_id, policy), workspace, pacer)
                item = Each(env_id, answer=answer)
            except QoderError as error:
                item = Each(env_id, error=error)
            done.append(item)
            if progress is not None:
                progress(item)
        return tuple(done)


class _SyncLifecycle:
    """The lifecycle helpers of environments an :class:`AsyncClient` returned: a :class:`Client`
    with the same settings, opened only when a helper is first called."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = settings
        self._client: Client | None = None

    def _environments(self) -> Environments:
        if self._client is None:
            self._client = Client(**self._settings)
        return self._client.environments

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def retrieve(self, env_id: str, *, workspace: str | None = None) -> Environment:
        return self._environments().retrieve(env_id, workspace=workspace)

    def update(
        self,
        env_id: str,
        changes: EnvironmentUpdate | None = None,
        /,
        *,
        workspace: str | None = None,
        **fields: Any,
    ) -> Environment:
        return self._environments().update(env_id, changes, workspace=workspace, **fields)

    def archive(self, env_id: str, *, workspace: str | None = None) -> Environment:
        return self._environments().archive(env_id, workspace=workspace)

    def delete(self, env_id: str, *, workspace: str | None = None) -> DeletedEnvironment:
        return self._environments().delete(env_id, workspace=workspace)
