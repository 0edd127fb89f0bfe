"""Sequential creates per second against one emulator: our Client beside a raw httpx.Client.

Both post the same bodies over one keep-alive connection, so the ratio is the client's own cost.
Run with ``python benchmarks/creates.py [N] [REPEATS]``; figures are medians over the repeats,
measured in the same run (this machine is noisy: read the ratio, not the absolute numbers).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable

import httpx

from qoder_jupyter.client import Client
from qoder_jupyter.emulator import Emulator
from qoder_jupyter.spec import EnvironmentSpec


def _raw(emulator: Emulator, count: int, run: int) -> float:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
        started = time.perf_counter()
        for i in range(count):
            body = EnvironmentSpec(name=f"raw-{run}-{i}", apt=["curl"]).to_body()
            key = {"Idempotency-Key": str(uuid.uuid4())}
            response = http.post("/environments", json=body, headers=key)
            response.raise_for_status()
            response.json()  # any real caller reads what it created
        return time.perf_counter() - started


def _ours(emulator: Emulator, count: int, run: int) -> float:
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        started = time.perf_counter()
        for i in range(count):
            client.environments.create(EnvironmentSpec(name=f"ours-{run}-{i}", apt=["curl"]))
        return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    contenders: dict[str, Callable[[Emulator, int, int], float]] = {
        "raw httpx.Client": _raw,
        "qoder_jupyter Client": _ours,
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with Emulator() as emulator:
        for run in range(repeats):  # interleaved, so drift hits both alike
            for name, measure in contenders.items():
                times[name].append(measure(emulator, count, run))
    baseline = statistics.median(times["raw httpx.Client"])
    print(f"{count} sequential creates, median of {repeats}")
    print(f"{'client':<22} {'creates/s':>10} {'ms/create':>10} {'vs raw':>8}")
    for name, samples in times.items():
        median = statistics.median(samples)
        rate, per_create = count / median, median / count * 1000
        print(f"{name:<22} {rate:>10.0f} {per_create:>10.3f} {median / baseline:>7.2f}x")


if __name__ == "__main__":
    main()
