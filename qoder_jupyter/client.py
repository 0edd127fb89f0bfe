"""``Client`` and ``AsyncClient``: the Environments API over httpx.

Both are thin drivers of the flows in :mod:`qoder_jupyter._core`: they send its requests with httpx,
sleep when it says so and hand back what came of each request. Everything that decides (retries,
idempotency, reconciliation, errors) lives in the core, written once.

    >>> with Client() as client:                                  # doctest: +SKIP
    ...     env = client.environments.create(name="demo", networking="limited", apt=["curl"])
"""

from __future__ import annotations

import functools
import logging
import os
import random
import ssl
import time
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx

from ._core import (
    MAX_PAGE_SIZE,
    Flow,
    Outcome,
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
    list_environments,
    list_params,
    new_idempotency_key,
    next_page_params,
    retrieve_environment,
    update_body,
    update_environment,
)
from ._version import __version__
from .credentials import Token, check_transport, resolve_base_url, resolve_token
from .environment import DeletedEnvironment, Environment, EnvironmentPage
from .errors import ConfigurationError, QoderError
from .spec import EnvironmentSpec
from .update import EnvironmentUpdate

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "Client"]

logger = logging.getLogger("qoder_jupyter.client")

T = TypeVar("T")

#: A control-plane call answers in well under a second; 30 s to read leaves room for a slow day
#: without a frozen notebook, and 5 s to connect catches a wrong host quickly.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


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
        environ: Mapping[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        """``token`` defaults to ``$QODER_PAT``, then ``$QODER_ACCESS_TOKEN``; ``base_url`` to
        ``$QODER_BASE_URL``, then ``$QODER_MANAGED_BASE_URL``, then the service's URL. ``environ``
        replaces ``os.environ`` for those look-ups; ``seed`` makes the backoff jitter repeatable.
        ``timeout`` is in seconds (or an ``httpx.Timeout``); ``connect_timeout``, when given, is
        the part of it allowed for connecting."""
        environ = os.environ if environ is None else environ
        self.base_url = resolve_base_url(base_url, environ)
        check_transport(self.base_url)
        self._token = resolve_token(token, environ)
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
        """Never let the token through a message, even if a server echoes it back."""
        secret = self._token.reveal()
        if secret in error.message:
            error.message = error.message.replace(secret, "<token>")
            error.args = (error.message,)
        return error


def _httpx_request_kwargs(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.path,
        "params": request.params,
        "json": request.json,
        "headers": request.headers(),
    }


def _response(response: httpx.Response) -> Response:
    # httpx.Headers is already a case-insensitive mapping; copying it into a lower-cased dict
    # decoded every header of every response, for the one or two the core ever reads.
    return Response(status=response.status_code, headers=response.headers, content=response.content)


def _failure(error: httpx.TransportError) -> TransportFailure:
    """Whether a failed request may have reached the server decides whether a create is
    ambiguous: a refused connection did not; a read timeout or a dropped connection may have."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportFailure("connect", maybe_sent=False, detail=detail)
    if isinstance(error, httpx.TimeoutException):
        return TransportFailure("timeout", maybe_sent=True, detail=f"timed out ({detail})")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        raise ConfigurationError(f"The request could not be sent: {detail}") from None
    return TransportFailure("protocol", maybe_sent=True, detail=detail)


class Client(_Base):
    """A synchronous client of the Environments API: ``client.environments.create(...)``."""

    def _open(self, **httpx_options: Any) -> None:
        self._http = httpx.Client(**httpx_options)
        self.environments = Environments(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, flow: Flow[T]) -> T:
        """Drive one flow of the core to its result."""
        try:
            step = next(flow)
            while True:
                step = flow.send(self._perform(step))
        except StopIteration as stop:
            result: T = stop.value
            return result
        except QoderError as error:
            raise self._scrubbed(error) from error.__cause__

    def _perform(self, step: Step) -> Outcome | None:
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        try:
            return _response(self._http.request(**_httpx_request_kwargs(step)))
        except httpx.TransportError as error:
            return _failure(error)


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

    async def run(self, flow: Flow[T]) -> T:
        """Drive one flow of the core to its result."""
        try:
            step = next(flow)
            while True:
                step = flow.send(await self._perform(step))
        except StopIteration as stop:
            result: T = stop.value
            return result
        except QoderError as error:
            raise self._scrubbed(error) from error.__cause__

    async def _perform(self, step: Step) -> Outcome | None:
        if isinstance(step, Sleep):
            await anyio.sleep(step.seconds)
            return None
        try:
            return _response(await self._http.request(**_httpx_request_kwargs(step)))
        except httpx.TransportError as error:
            return _failure(error)


# --- the environments resource, sync and async ---------------------------------------------------


def _bind(result: T, api: Any) -> T:
    """Attach ``api`` to the environments in ``result`` (one, or a page), for their lifecycle
    helpers (``env.refresh()``, ``env.archive()``...)."""
    for environment in result if isinstance(result, EnvironmentPage) else [result]:
        if isinstance(environment, Environment):
            environment.bind(api)
    return result


class Environments:
    """``client.environments``: create, list, retrieve, update, archive and delete."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _run(self, flow: Flow[T]) -> T:
        """Run a flow; the environments it returns can refresh, update, archive or delete
        themselves through this client."""
        return _bind(self._client.run(flow), self)

    def create(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Environment:
        """Create an environment from a spec, a request body, or spec fields as keywords.

        Safe to retry: every attempt carries one ``Idempotency-Key`` (pass the one from an
        :class:`~qoder_jupyter.errors.OutcomeUnknownError` to retry that create).
        """
        body = create_body(spec, fields)
        key = idempotency_key or new_idempotency_key()
        return self._run(create_environment(body, key, self._client.retry_policy))

    def list(self, **query: Any) -> EnvironmentPage:
        """One page, newest first. Takes the arguments of :func:`list_params`."""
        params = list_params(**query)
        return self._run(list_environments(params, self._client.retry_policy))

    def list_all(self, **query: Any) -> Iterator[Environment]:
        """Every environment, page after page (100 a page unless ``limit`` says otherwise)."""
        params: dict[str, str] | None = list_params(**{"limit": MAX_PAGE_SIZE, **query})
        while params is not None:
            page = self._run(list_environments(params, self._client.retry_policy))
            yield from page
            params = next_page_params(page, params)

    def retrieve(self, env_id: str) -> Environment:
        return self._run(retrieve_environment(env_id, self._client.retry_policy))

    def update(
        self, env_id: str, changes: EnvironmentUpdate | None = None, /, **fields: Any
    ) -> Environment:
        """Change what is given: an :class:`~qoder_jupyter.update.EnvironmentUpdate`, or its
        fields as keywords (``name``, ``description``, ``config``, ``metadata``)."""
        body = update_body(changes, fields)
        return self._run(update_environment(env_id, body, self._client.retry_policy))

    def archive(self, env_id: str) -> Environment:
        return self._run(archive_environment(env_id, self._client.retry_policy))

    def delete(self, env_id: str) -> DeletedEnvironment:
        return self._run(delete_environment(env_id, self._client.retry_policy))


class AsyncEnvironments:
    """``async_client.environments``: the same methods as :class:`Environments`, awaitable.

    The environments it returns are bound like those of :class:`Environments`: their lifecycle
    helpers are synchronous (a notebook calls ``env.archive()`` in a later cell), so they go
    through a :class:`Client` with the same settings, opened on first use."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _run(self, flow: Flow[T]) -> T:
        return _bind(await self._client.run(flow), self._client._lifecycle)

    async def create(
        self,
        spec: EnvironmentSpec | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Environment:
        body = create_body(spec, fields)
        key = idempotency_key or new_idempotency_key()
        return await self._run(create_environment(body, key, self._client.retry_policy))

    async def list(self, **query: Any) -> EnvironmentPage:
        params = list_params(**query)
        return await self._run(list_environments(params, self._client.retry_policy))

    async def list_all(self, **query: Any) -> AsyncIterator[Environment]:
        params: dict[str, str] | None = list_params(**{"limit": MAX_PAGE_SIZE, **query})
        while params is not None:
            page = await self._run(list_environments(params, self._client.retry_policy))
            for environment in page:
                yield environment
            params = next_page_params(page, params)

    async def retrieve(self, env_id: str) -> Environment:
        return await self._run(retrieve_environment(env_id, self._client.retry_policy))

    async def update(
        self, env_id: str, changes: EnvironmentUpdate | None = None, /, **fields: Any
    ) -> Environment:
        body = update_body(changes, fields)
        return await self._run(update_environment(env_id, body, self._client.retry_policy))

    async def archive(self, env_id: str) -> Environment:
        return await self._run(archive_environment(env_id, self._client.retry_policy))

    async def delete(self, env_id: str) -> DeletedEnvironment:
        return await self._run(delete_environment(env_id, self._client.retry_policy))


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

    def retrieve(self, env_id: str) -> Environment:
        return self._environments().retrieve(env_id)

    def update(
        self, env_id: str, changes: EnvironmentUpdate | None = None, /, **fields: Any
    ) -> Environment:
        return self._environments().update(env_id, changes, **fields)

    def archive(self, env_id: str) -> Environment:
        return self._environments().archive(env_id)

    def delete(self, env_id: str) -> DeletedEnvironment:
        return self._environments().delete(env_id)
