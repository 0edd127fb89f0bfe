"""The :class:`Emulator`: a real HTTP server of the Environments API on loopback, in one object.

Lifecycle: the store opens when the object is made, the server starts with :meth:`Emulator.start`,
and :meth:`Emulator.stop` stops the server, cuts open connections and closes the store. Starting
again reopens the store: with ``db`` the data is still there, without it the emulator starts empty,
like a real restart. The in-process hooks (:meth:`~Emulator.environments`,
:meth:`~Emulator.set_in_use`) read and change the same store the server uses: they are not mocks.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from .bodies import DEFAULT_MAX_BODY_BYTES
from .dialects import DIALECTS, Dialect
from .faults import DRIP_INTERVAL, FAULT_KINDS, FaultPlan, check_drip_interval
from .ids import IdClock
from .server import Backend, HTTPServer, RequestRecord
from .service import API_PREFIX, Role, Service
from .store import Store

logger = logging.getLogger("qoder_jupyter.emulator")


def generate_token() -> str:
    """A throwaway token in the personal-access-token format (``pt-`` prefix)."""
    return "pt-emu-" + secrets.token_hex(16)


class Emulator:
    """The Environments API on ``host:port`` (``port=0``: any free port).

    ``tokens`` may read and write, ``readonly_tokens`` may only read; with no ``tokens`` one is
    generated. ``latency`` (seconds) delays every API request; ``fault_rate`` makes that share of
    API requests fail with a kind drawn from ``fault_kinds`` (seeded by ``seed``; see
    :mod:`.faults`), and ``drip_interval`` is the seconds between two bytes of a ``drip`` fault.
    ``dialect`` picks the response shapes of one documented service version (see
    :mod:`.dialects`). Environments are kept per workspace (the ``qoder-workspace-id`` header; see
    :mod:`.service`).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Sequence[str] = (),
        readonly_tokens: Sequence[str] = (),
        db: str | os.PathLike[str] | None = None,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = FAULT_KINDS,
        seed: int | None = None,
        retry_after: int = 1,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        dialect: Dialect = "seed",
        drip_interval: float = DRIP_INTERVAL,
    ) -> None:
        if isinstance(tokens, str) or isinstance(readonly_tokens, str):
            raise TypeError("tokens and readonly_tokens are sequences of strings, not one string")
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
        self._dialect: Dialect = dialect
        if latency < 0 or retry_after < 0 or max_body_bytes < 0:
            raise ValueError("latency, retry_after and max_body_bytes must not be negative")
        check_drip_interval(drip_interval)
        #: True when no token was given and ``token`` was made up here (the CLI prints it then).
        self.token_generated = not tokens
        writers = list(tokens) or [generate_token()]
        self._roles = _roles(writers, readonly_tokens)
        #: The first read-write token.
        self.token: str = writers[0]
        self._host, self._port, self._db = host, port, db
        self._faults = FaultPlan(rate=fault_rate, kinds=fault_kinds, seed=seed)
        self._store: Store | None = None  # everything that can fail is checked: now open it
        self._backend = Backend(
            service=self._open_store(),
            faults=self._faults,
            latency=float(latency),
            retry_after=retry_after,
            max_body_bytes=max_body_bytes,
            drip_interval=float(drip_interval),
        )
        #: One record per API request received, in order. Never holds a token.
        self.requests: list[RequestRecord] = self._backend.records
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:  # no token, ever
        state = self._base_url if self._server else "stopped"
        return f"<Emulator {state}>"

    # --- settings that may change while serving ---------------------------------------------------

    @property
    def latency(self) -> float:
        return self._backend.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must not be negative, not {seconds}")
        self._backend.latency = float(seconds)

    @property
    def fault_rate(self) -> float:
        return self._faults.rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        self._faults.rate = rate

    @property
    def retry_after(self) -> int:
        """Seconds sent in the ``Retry-After`` header of a 429 fault."""
        return self._backend.retry_after

    @retry_after.setter
    def retry_after(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError(f"retry_after must not be negative, not {seconds}")
        self._backend.retry_after = int(seconds)

    @property
    def max_body_bytes(self) -> int:
        return self._backend.max_body_bytes

    @max_body_bytes.setter
    def max_body_bytes(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"max_body_bytes must not be negative, not {size}")
        self._backend.max_body_bytes = int(size)

    @property
    def drip_interval(self) -> float:
        """Seconds between two bytes of a ``drip`` fault's body."""
        return self._backend.drip_interval

    @drip_interval.setter
    def drip_interval(self, seconds: float) -> None:
        self._backend.drip_interval = check_drip_interval(seconds)

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/api/v1/cloud``, once started."""
        if self._base_url is None:
            raise RuntimeError("the emulator has no address yet; call start() first")
        return self._base_url

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        if self._store is None:
            self._backend.service = self._open_store()
        server = HTTPServer(self._host, self._port, self._backend)
        self._thread = threading.Thread(target=server.run, name="qoder-emulator", daemon=True)
        self._thread.start()
        self._server = server
        host = f"[{server.server_name}]" if ":" in server.server_name else server.server_name
        self._base_url = f"http://{host}:{server.server_port}{API_PREFIX}"
        logger.info("emulator serving the Environments API at %s", self._base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the store. Safe to call more than once."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None and thread is not None:
            server.stop()
            thread.join()
            server.server_close()
            server.close_connections()
            logger.info("emulator at %s stopped", self._base_url)
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- in-process hooks for tests ---------------------------------------------------------------

    def environments(self) -> list[dict[str, Any]]:
        """Every stored environment (archived too, of every workspace) as the API returns it,
        oldest first."""
        service = self._backend.service
        return [service.render(record) for record in self._require_store().all()]

    def environments_by_workspace(self) -> dict[str | None, list[dict[str, Any]]]:
        """Every stored environment, as :meth:`environments`, by the workspace id it belongs to
        (``None``: the default workspace, of requests without ``qoder-workspace-id``)."""
        service = self._backend.service
        spaces: dict[str | None, list[dict[str, Any]]] = {}
        for record in self._require_store().all():
            spaces.setdefault(record.workspace or None, []).append(service.render(record))
        return spaces

    def inject(self, kind: str, times: int = 1, *, method: str | None = None) -> None:
        """Fail the next ``times`` API requests (of ``method``, if given) with fault ``kind``."""
        self._faults.inject(kind, times, method=method)

    def set_in_use(self, env_id: str, in_use: bool = True) -> None:
        """Mark an environment as used by sessions, so that deleting it answers 409."""
        store = self._require_store()
        with store.atomic():
            record = store.find(env_id)
            if record is None:
                raise KeyError(f"no environment {env_id!r}")
            store.replace(dataclasses.replace(record, in_use=in_use))

    # --- helpers ----------------------------------------------------------------------------------

    def _open_store(self) -> Service:
        """Open the store (kept in ``self._store``) and a service over it."""
        store = Store(self._db)
        newest_id, newest_time = store.newest()
        self._store = store
        clock = IdClock(floor_micros=newest_time, floor_id=newest_id)
        return Service(store, self._roles, clock, self._dialect)

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the emulator is stopped; start() it to use its data again")
        return self._store


def _roles(writers: Sequence[str], readers: Sequence[str]) -> dict[str, Role]:
    for token in (*writers, *readers):
        if not isinstance(token, str) or not token or token.split() != [token]:
            raise ValueError("every token must be a non-empty string without whitespace")
    if set(writers) & set(readers):
        raise ValueError("a token cannot be both read-write and read-only")
    roles: dict[str, Role] = dict.fromkeys(readers, "readonly")
    roles.update(dict.fromkeys(writers, "read-write"))
    return roles
