"""The emulator's HTTP layer under a burst of connections, as a connection pool opens them."""

from __future__ import annotations

import asyncio

from qoder_jupyter.emulator import Emulator


async def _burst(host: str, port: int, request: bytes, count: int) -> list[bytes | str]:
    async def one() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        answer = await reader.read(12)
        writer.close()
        return answer

    async def bounded() -> bytes | str:
        try:
            return await asyncio.wait_for(one(), 20)
        except (OSError, TimeoutError) as error:
            return type(error).__name__

    return await asyncio.gather(*(bounded() for _ in range(count)))


def test_a_burst_of_simultaneous_connections_is_all_served(emulator: Emulator) -> None:
    """socketserver listens with a backlog of 5: when a pool opened 32 connections at once and
    sent on each, some were reset before they were accepted (found by ``make bench``)."""
    host, port = "127.0.0.1", int(emulator.base_url.split(":")[2].split("/")[0])
    request = (
        f"GET /api/v1/cloud/environments HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {emulator.token}\r\nConnection: close\r\n\r\n"
    ).encode()
    for _ in range(3):
        answers = asyncio.run(_burst(host, port, request, 64))
        assert answers == [b"HTTP/1.1 200"] * 64
