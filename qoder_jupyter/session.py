"""``Session``: the settings, this kernel's login, and the clients made from them.

The magics and the form share one session, so a ``%qoder_env login`` or a ``%config`` change applies
to both. Loading the extension makes its session the current one (:func:`current`), which is how
the form finds it: the two adapters are peers and neither imports the other. Clients are made on
first use (httpx is imported then, not before) and remade when the settings, the token or, for the
async client, the event loop change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .credentials import Token
from .settings import QoderEnv

if TYPE_CHECKING:
    from .client import AsyncClient, AsyncEnvironments, Client, Environments

__all__ = ["Session", "current", "set_current"]

_current: Session | None = None


def current() -> Session | None:
    """The session of the loaded extension (``%load_ext qoder_jupyter``), or None."""
    return _current


def set_current(session: Session | None) -> None:
    """Make ``session`` the current one (None when the extension is unloaded)."""
    global _current
    _current = session


class Session:
    def __init__(self, settings: QoderEnv | None = None) -> None:
        self.settings = settings if settings is not None else QoderEnv()
        #: A token entered with ``%qoder_env login``: in memory only, never a setting.
        self.login: Token | None = None
        self._client: Client | None = None
        self._async_client: AsyncClient | None = None
        self._keys: dict[str, tuple[Any, ...]] = {}

    @property
    def base_url(self) -> str:
        return self.settings.effective_base_url().value

    def token(self) -> Token:
        return self.login or self.settings.find_token()[0]

    def environments(self) -> Environments:
        """``client.environments`` of a synchronous client for the current settings."""
        from .client import Client

        key = self._key()
        if self._client is None or self._keys.get("sync") != key:
            self.close()
            self._client = Client(**self._client_options())
            self._keys["sync"] = key
        return self._client.environments

    def async_environments(self) -> AsyncEnvironments:
        """The same for an :class:`~qoder_jupyter.client.AsyncClient` on the running loop."""
        import asyncio  # not at the top: it would add ~40 ms to %load_ext outside a kernel

        from .client import AsyncClient

        key = (asyncio.get_running_loop(), *self._key())  # connections belong to one loop
        if self._async_client is None or self._keys.get("async") != key:
            self._async_client = AsyncClient(**self._client_options())
            self._keys["async"] = key
        return self._async_client.environments

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def _key(self) -> tuple[Any, ...]:
        settings = self.settings
        return (
            self.base_url,
            self.token(),
            settings.timeout,
            settings.connect_timeout,
            settings.attempt_timeout,
            settings.max_response_bytes,
            settings.max_retries,
            settings.workspace,
        )

    def _client_options(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "base_url": self.base_url,
            "token": self.token(),
            "timeout": settings.timeout,
            "connect_timeout": settings.connect_timeout,
            "attempt_timeout": settings.attempt_timeout,
            "max_response_bytes": settings.max_response_bytes,
            "max_retries": settings.max_retries,
            "workspace": settings.workspace,
        }
