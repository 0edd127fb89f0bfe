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

from . import __version__
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
from .credentials import Token, check_transport, resolve_base_url, resolve_token
from .environment import DeletedEnvironment, Environment, EnvironmentPage
from .errors import ConfigurationError, QoderError
from .spec import EnvironmentSpec

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
        max_retries: int = 3,
        backoff: float = 0.5,
        max_connections: int = 100,
        environ: Mapping[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        """``token`` defaults to ``$QODER_PAT``, then ``$QODER_ACCESS_TOKEN``; ``base_url`` to
        ``$QODER_BASE_URL``, then ``$QODER_MANAGED_BASE_URL``, then the service's URL. ``environ``
        replaces ``os.environ`` for those look-ups; ``seed`` makes the backoff jitter repeatable."""
        environ = os.environ if environ is None else environ
        self.base_url = resolve_base_url(base_url, environ)
        check_transport(self.base_url)
        self._token = resolve_token(token, environ)
        rng = random.Random(seed)  # noqa: S311 - backoff jitter, not security
        self.retry_policy = RetryPolicy(max_retries=max_retries, backoff=backoff, rng=rng)
        try:
            self._open(
                base_url=self.base_url,
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
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

    async def aclose(self) -> None:
        await self._http.aclose()

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


class Environments:
    """``client.environments``: create, list, retrieve, update, archive and delete."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _run(self, flow: Flow[T]) -> T:
        """Run a flow; the environments it returns can refresh, update, archive or delete
        themselves through this client."""
        result = self._client.run(flow)
        for environment in result if isinstance(result, EnvironmentPage) else [result]:
            if isinstance(environment, Environment):
                environment.bind(self)
        return result

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
        self,
        env_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        config: EnvironmentSpec | Mapping[str, Any] | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> Environment:
        """Change what is given; see :func:`update_body`."""
        body = update_body(name=name, description=description, config=config, metadata=metadata)
        return self._run(update_environment(env_id, body, self._client.retry_policy))

    def archive(self, env_id: str) -> Environment:
        return self._run(archive_environment(env_id, self._client.retry_policy))

    def delete(self, env_id: str) -> DeletedEnvironment:
        return self._run(delete_environment(env_id, self._client.retry_policy))


class AsyncEnvironments:
    """``async_client.environments``: the same methods as :class:`Environments`, awaitable."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

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
        return await self._client.run(create_environment(body, key, self._client.retry_policy))

    async def list(self, **query: Any) -> EnvironmentPage:
        params = list_params(**query)
        return await self._client.run(list_environments(params, self._client.retry_policy))

    async def list_all(self, **query: Any) -> AsyncIterator[Environment]:
        params: dict[str, str] | None = list_params(**{"limit": MAX_PAGE_SIZE, **query})
        while params is not None:
            page = await self._client.run(list_environments(params, self._client.retry_policy))
            for environment in page:
                yield environment
            params = next_page_params(page, params)

    async def retrieve(self, env_id: str) -> Environment:
        return await self._client.run(retrieve_environment(env_id, self._client.retry_policy))

    async def update(
        self,
        env_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        config: EnvironmentSpec | Mapping[str, Any] | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> Environment:
        body = update_body(name=name, description=description, config=config, metadata=metadata)
        return await self._client.run(update_environment(env_id, body, self._client.retry_policy))

    async def archive(self, env_id: str) -> Environment:
        return await self._client.run(archive_environment(env_id, self._client.retry_policy))

    async def delete(self, env_id: str) -> DeletedEnvironment:
        return await self._client.run(delete_environment(env_id, self._client.retry_policy))
