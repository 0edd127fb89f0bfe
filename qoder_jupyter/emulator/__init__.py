"""A local emulator of the Qoder Environments API: a real HTTP server on loopback.

For demos, offline prototyping and tests::

    with Emulator() as emulator:
        httpx.post(f"{emulator.base_url}/environments", json={...},
                   headers={"Authorization": f"Bearer {emulator.token}"})

or from a shell: ``python -m qoder_jupyter.emulator`` (``qoder-emulator``). It is an independent
implementation of the server side of the contract (shared/api/environments.md, §1, §2, §3, §5),
with persistence (SQLite), idempotency keys, pagination, environments per workspace (§7), an
OpenAPI document and injectable faults (:mod:`.faults`: server errors, resets, and proxies that
repeat cursors, drip, lie about the encoding, never end a body or echo the token).
"""

from __future__ import annotations

from .core import Emulator, generate_token
from .dialects import DIALECTS
from .faults import FAULT_KINDS
from .process import EmulatorProcess, emulator_args
from .server import RequestRecord
from .service import API_PREFIX

__all__ = [
    "API_PREFIX",
    "DIALECTS",
    "FAULT_KINDS",
    "Emulator",
    "EmulatorProcess",
    "RequestRecord",
    "emulator_args",
    "generate_token",
]
