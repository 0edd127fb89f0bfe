"""``make bench``: load cost, per-create cost, bulk throughput and display cost, in one table.

Every figure is a median over repeats, and every comparison is a ratio against a baseline measured
in the same run, with the contenders interleaved (their order rotated) so that drift on this noisy,
shared machine hits them alike. The client benchmarks talk to the emulator running in a process of
its own (``python -m qoder_jupyter.emulator``), so server and client do not share a GIL. Load costs
are measured inside fresh interpreters. Nothing here is asserted: the table says which targets are
met.

    python -m benchmarks.bench [--creates N] [--bulk N] [--concurrency C] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, dataclass
from importlib.metadata import version
from typing import Any

import httpx
import qca

from qoder_jupyter._core import create_environment, new_idempotency_key
from qoder_jupyter.client import AsyncClient, Client
from qoder_jupyter.emulator import EmulatorProcess
from qoder_jupyter.environment import Environment, EnvironmentPage
from qoder_jupyter.spec import EnvironmentSpec

# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    result: str
    ratio: str = ""
    target: str = ""
    met: str = ""


TITLES = Row("", "measure", "result (median)", "vs baseline", "target", "met")


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def render(rows: Sequence[Row], header: str, *, markdown: bool = False) -> str:
    """The rows as a plain-text table (a blank line between sections), or as Markdown."""
    cells = [astuple(row) for row in (TITLES, *rows)]
    if markdown:
        lines = [header, ""]
        for index, row in enumerate(cells):
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
            if index == 0:
                lines.append("|" + "---|" * len(row))
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    rule = "  ".join("-" * width for width in widths)
    lines = [header, rule]
    for index, row in enumerate(cells):
        if index > 1 and row[0] != cells[index - 1][0]:
            lines.append("")
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append(rule)
    lines.append(rule)
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"


def rotated(names: Sequence[str], turn: int) -> list[str]:
    """``names`` starting at a different one each turn: nobody is always first or last."""
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


def progress(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --- load cost: fresh interpreters ---------------------------------------------------------------

_IMPORT = "import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)\n"
_IPYTHON = """{prelude}
import time
t0 = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
t1 = time.perf_counter()
ip.run_line_magic('load_ext', 'qoder_jupyter')
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""
# What a Jupyter kernel has imported before any cell runs (asyncio, zmq, tornado, ipykernel...).
_KERNEL_PRELUDE = "import ipykernel.ipkernel"
IMPORTS = {
    "import qoder_jupyter": "import qoder_jupyter",
    "import httpx": "import httpx",
    "from qoder_jupyter import Client (with httpx)": "from qoder_jupyter import Client",
    "import qca (official SDK)": "import qca",
}


def _child(code: str, environ: dict[str, str]) -> list[float]:
    """Run ``code`` in a fresh interpreter; the numbers it prints."""
    output = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environ
    ).stdout
    return [float(word) for word in output.split()]


def load_costs(repeats: int) -> list[Row]:
    """Import times and what ``%load_ext qoder_jupyter`` adds to an IPython start, each timed
    inside a fresh interpreter (so the interpreter's own start is not in them)."""
    codes = {name: _IMPORT.format(statement=statement) for name, statement in IMPORTS.items()}
    codes["bare"] = _IPYTHON.format(prelude="")
    codes["kernel"] = _IPYTHON.format(prelude=_KERNEL_PRELUDE)
    samples: dict[str, list[list[float]]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory() as folder:
        # A throwaway IPython profile: no user configuration or startup file in the measurement.
        # Bytecode is cached, as after any install (this machine sets PYTHONDONTWRITEBYTECODE,
        # which would add compiling every module to every import); the cache lives in `folder`.
        environ = {**os.environ, "IPYTHONDIR": folder, "PYTHONPYCACHEPREFIX": f"{folder}/pyc"}
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        for code in codes.values():  # once first: bytecode caches, the disk cache
            _child(code, environ)
        for repeat in range(repeats):
            for name in rotated(list(codes), repeat):
                samples[name].append(_child(codes[name], environ))

    def median(name: str, index: int = 0) -> float:
        return statistics.median(sample[index] for sample in samples[name])

    start, added, in_kernel = median("bare"), median("bare", 1), median("kernel", 1)
    rows = [
        Row(
            "load",
            "bare IPython start (import, InteractiveShell.instance())",
            ms(start),
            "baseline",
        ),
        Row(
            "load",
            "%load_ext qoder_jupyter: added to that start",
            ms(added),
            f"+{added / start:.0%}",
            "< 30 ms",
            met(added < 0.030),
        ),
        Row(
            "load",
            "%load_ext qoder_jupyter: added in a kernel (ipykernel imported)",
            ms(in_kernel),
            "",
            "< 30 ms",
            met(in_kernel < 0.030),
        ),
    ]
    sdk = median("import qca (official SDK)")
    for name in IMPORTS:
        value = median(name)
        if name == "import qoder_jupyter":
            less = sdk / value
            rows.append(
                Row(
                    "import",
                    name,
                    ms(value),
                    f"{less:.0f}x less than qca",
                    ">= 20x less",
                    met(less >= 20),
                )
            )
        else:
            rows.append(
                Row(
                    "import",
                    name,
                    ms(value),
                    f"{sdk / value:.1f}x less than qca" if value < sdk else "baseline",
                )
            )
    return rows


# --- per-create cost: sequential creates, one keep-alive connection each -------------------------


def body(label: str, i: int) -> dict[str, Any]:
    """A typical create body (the seed's example, plus metadata); names are unique per label."""
    return {
        "name": f"{label}-{i}",
        "config": {
            "type": "cloud",
            "networking": {"type": "limited"},
            "packages": {"apt": ["curl"]},
        },
        "metadata": {"team": "bench"},
    }


Create = Callable[[dict[str, Any]], object]
UNCHECKED = "  diagnostic: the same, body not checked against the spec"


def per_create(emulator: EmulatorProcess, count: int, rounds: int) -> list[Row]:
    """``count`` creates per client, in ``rounds`` interleaved batches; per batch the time per
    create, the client's own CPU time per create, and the ratio to raw httpx in that round."""
    auth = {"Authorization": f"Bearer {emulator.token}"}
    raw_http = httpx.Client(base_url=emulator.base_url, headers=auth)
    ours = Client(base_url=emulator.base_url, token=emulator.token)
    sdk = qca.Managed(access_token=emulator.token, base_url=emulator.base_url)

    def raw(data: dict[str, Any]) -> object:
        headers = {"Idempotency-Key": str(uuid.uuid4())}  # what ours sends too
        response = raw_http.post("/environments", json=data, headers=headers)
        response.raise_for_status()
        return response.json()  # any real caller reads what it created

    def unchecked(data: dict[str, Any]) -> object:
        """Diagnostic: our create exactly, minus checking the body against the spec first."""
        flow = create_environment(dict(data), new_idempotency_key(), ours.retry_policy)
        return ours.environments._run(flow)

    contenders: dict[str, Create] = {
        "raw httpx.Client": raw,
        "qoder_jupyter Client": lambda data: ours.environments.create(data),
        UNCHECKED: unchecked,
        "qca.Managed (official SDK)": lambda data: sdk.environments.create(**data),
    }
    names = list(contenders)
    batch = max(1, count // rounds)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    try:
        for index, create in enumerate(contenders.values()):  # warm up: connection, caches
            for i in range(20):
                create(body(f"warm{index}", i))
        for round_ in range(rounds):
            for name in rotated(names, round_):
                create = contenders[name]
                bodies = [body(f"c{names.index(name)}-{round_}", i) for i in range(batch)]
                started, started_cpu = time.perf_counter(), time.process_time()
                for data in bodies:
                    create(data)
                wall[name].append((time.perf_counter() - started) / batch)
                cpu[name].append((time.process_time() - started_cpu) / batch)
    finally:
        raw_http.close()
        ours.close()
        sdk.close()
    rows = []
    ratios = {
        name: statistics.median(w / b for w, b in zip(wall[name], wall[names[0]], strict=True))
        for name in names
    }
    for name in names:
        per = statistics.median(wall[name])
        result = (
            f"{per * 1000:.2f} ms/create ({1 / per:.0f}/s), "
            f"client CPU {statistics.median(cpu[name]) * 1000:.2f} ms"
        )
        ratio = f"{ratios[name]:.2f}x time"
        if name == names[0]:
            rows.append(Row("create", name, result, "baseline"))
        elif name == names[1]:
            rows.append(Row("create", name, result, ratio, "<= 1.10x", met(ratios[name] <= 1.10)))
        elif name == UNCHECKED:
            rows.append(Row("create", name, result, ratio))
        else:
            rows.append(
                Row(
                    "create",
                    name,
                    result,
                    ratio,
                    "slower than ours",
                    met(ratios[name] > ratios[names[1]]),
                )
            )
    return rows


# --- bulk: concurrent creates --------------------------------------------------------------------

AsyncCreate = Callable[[dict[str, Any]], Awaitable[object]]


async def _drive(create: AsyncCreate, label: str, total: int, concurrency: int) -> float:
    """``total`` creates by ``concurrency`` workers sharing one queue; seconds taken."""
    numbers = iter(range(total))

    async def worker() -> None:
        for i in numbers:
            await create(body(label, i))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def _bulk_run(
    emulator: EmulatorProcess, ours: bool, label: str, total: int, concurrency: int
) -> float:
    if ours:
        async with AsyncClient(base_url=emulator.base_url, token=emulator.token) as client:
            return await _drive(client.environments.create, label, total, concurrency)
    # The same pool as ours: up to 100 connections, every idle one kept (httpx keeps 20).
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=None)
    auth = {"Authorization": f"Bearer {emulator.token}"}
    async with httpx.AsyncClient(base_url=emulator.base_url, headers=auth, limits=limits) as http:

        async def raw(data: dict[str, Any]) -> object:
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            response = await http.post("/environments", json=data, headers=headers)
            response.raise_for_status()
            return response.json()

        return await _drive(raw, label, total, concurrency)


def bulk(emulator: EmulatorProcess, total: int, concurrency: int, repeats: int) -> list[Row]:
    names = [
        f"raw httpx.AsyncClient, {concurrency} at a time",
        f"qoder_jupyter AsyncClient, {concurrency} at a time",
    ]
    seconds: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for index in range(len(names)):  # warm-up
        asyncio.run(_bulk_run(emulator, index == 1, f"bw{index}", 2 * concurrency, concurrency))
    for repeat in range(repeats):
        for name in rotated(names, repeat):
            index = names.index(name)
            started_cpu = time.process_time()
            run = _bulk_run(emulator, index == 1, f"b{index}-{repeat}", total, concurrency)
            seconds[name].append(asyncio.run(run))
            cpu[name].append((time.process_time() - started_cpu) / total)
    ratio = statistics.median(
        raw / ours for raw, ours in zip(seconds[names[0]], seconds[names[1]], strict=True)
    )

    def result(name: str) -> str:
        rate = total / statistics.median(seconds[name])
        per = statistics.median(cpu[name]) * 1000
        return f"{rate:.0f} creates/s ({total} creates), client CPU {per:.2f} ms/create"

    return [
        Row("bulk", names[0], result(names[0]), "baseline"),
        Row(
            "bulk",
            names[1],
            result(names[1]),
            f"{ratio:.2f}x throughput",
            ">= 0.90x",
            met(ratio >= 0.9),
        ),
    ]


# --- apply: a re-run of an unchanged list ------------------------------------------------------


def apply_rerun(emulator: EmulatorProcess, count: int, repeats: int) -> list[Row]:
    """A notebook's second "Run All" of ``count`` declared environments: ``apply_all`` (one
    listing, then a comparison each) against the same specs applied one by one (a look-up each),
    and against a bare listing of them (what the comparisons cost on top). No write is sent."""
    workspace = f"bench-apply-{uuid.uuid4().hex[:8]}"
    specs = [
        EnvironmentSpec(name=f"apply-{i}", apt=["curl"], pip=["pandas>=2"]) for i in range(count)
    ]
    with Client(base_url=emulator.base_url, token=emulator.token, workspace=workspace) as client:
        for spec in specs:
            client.environments.create(spec)

        def listing() -> None:
            assert sum(1 for _ in client.environments.list_all()) == count

        def one_by_one() -> None:
            for spec in specs:
                client.environments.apply(spec)

        def apply_all() -> None:
            if any(item.action != "unchanged" for item in client.environments.apply_all(specs)):
                raise RuntimeError("a re-run of unchanged specs planned a write")

        runs = {
            "listing them (list_all)": listing,
            "apply each, one by one": one_by_one,
            "apply_all, one listing": apply_all,
        }
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for repeat in range(repeats):
            for name in rotated(list(runs), repeat):
                started = time.perf_counter()
                runs[name]()
                seconds[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    slower = median["apply each, one by one"] / median["apply_all, one listing"]
    over_listing = median["apply_all, one listing"] / median["listing them (list_all)"]

    def result(name: str) -> str:
        return f"{median[name] * 1000:.0f} ms for {count} environments"

    return [
        Row("apply", "listing them (list_all)", result("listing them (list_all)"), "baseline"),
        Row(
            "apply",
            "apply_all, one listing",
            result("apply_all, one listing"),
            f"{over_listing:.2f}x time",
            # The listing is the floor; comparing each environment with its spec may cost up to
            # twice as much again (about 0.1 ms an environment here).
            "<= 3.00x",
            met(over_listing <= 3.0),
        ),
        Row(
            "apply",
            "apply each, one by one",
            result("apply each, one by one"),
            f"{slower:.1f}x the time of apply_all",
            ">= 5x",
            met(slower >= 5),
        ),
    ]


# --- the emulator alone: a minimal client on raw sockets -----------------------------------------


async def _socket_load(
    emulator: EmulatorProcess, label: str, total: int, connections: int
) -> tuple[float, list[float]]:
    """POST ``total`` creates over ``connections`` keep-alive sockets with hand-written HTTP/1.1:
    as little client work as possible, so that the figures are the server's."""
    host, port = "127.0.0.1", emulator.port
    path = emulator.base_url.split(f":{port}", 1)[1] + "/environments"
    numbers = iter(range(total))
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in numbers:
                data = (
                    f'{{"name":"{label}-{i}","config":{{"type":"cloud","networking":{{"type":'
                    f'"limited"}},"packages":{{"apt":["curl"]}}}},"metadata":{{"team":"bench"}}}}'
                ).encode()
                request = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: Bearer {emulator.token}\r\nContent-Type: application/json\r\n"
                    f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(data)}\r\n\r\n"
                ).encode() + data
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if not head.startswith(b"HTTP/1.1 201"):
                    raise RuntimeError(f"the emulator answered {head[:40]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies


def emulator_alone(
    emulator: EmulatorProcess, total: int, concurrency: int, repeats: int
) -> list[Row]:
    rows = []
    for connections in (1, concurrency):
        rates, p50s, p99s = [], [], []
        for repeat in range(repeats):
            elapsed, latencies = asyncio.run(
                _socket_load(emulator, f"e{connections}-{repeat}", total, connections)
            )
            latencies.sort()
            rates.append(total / elapsed)
            p50s.append(latencies[len(latencies) // 2])
            p99s.append(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)])
        what = "1 connection" if connections == 1 else f"{connections} connections"
        rows.append(
            Row(
                "emulator",
                f"alone: creates over {what} (raw sockets)",
                f"{statistics.median(rates):.0f}/s; latency p50 {ms(statistics.median(p50s))}, "
                f"p99 {ms(statistics.median(p99s))}",
            )
        )
    return rows


# --- display -------------------------------------------------------------------------------------


def environment_json(i: int) -> dict[str, Any]:
    """An environment as the service returns it, with every section of the card filled."""
    return {
        "id": f"env_019e3bb39b6774d8878cd0b9{i:07x}",
        "type": "environment",
        "name": f"data-science-{i}",
        "description": "Pandas and friends, for the Q3 study.",
        "config": {
            "type": "cloud",
            "networking": {
                "type": "allowlist",
                "allowed_hosts": ["pypi.org", "files.pythonhosted.org"],
                "allow_package_managers": True,
            },
            "packages": {"apt": ["curl", "git"], "pip": ["pandas>=2", "numpy"]},
        },
        "metadata": {"team": "research", "owner": "ana"},
        "status": "active",
        "created_at": "2026-05-04T10:11:12.123456Z",
        "updated_at": "2026-05-04T10:11:12.123456Z",
        "archived_at": None,
    }


def display(repeats: int) -> list[Row]:
    """What a frontend asks for (``_repr_mimebundle_``: HTML, text, Markdown and JSON at once)."""
    one = Environment(environment_json(0))
    page = EnvironmentPage.from_response({"data": [environment_json(i) for i in range(1000)]})
    rows = []
    for what, shown in (("one environment", one), ("a list of 1,000", page)):
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            bundle = shown._repr_mimebundle_()
            samples.append(time.perf_counter() - started)
        size = len(bundle["text/html"].encode())
        rows.append(
            Row(
                "display",
                f"{what}: whole MIME bundle",
                f"{ms(statistics.median(samples))}; HTML {size / 1024:,.1f} KB",
            )
        )
    return rows


# --- the manager ---------------------------------------------------------------------------------


def manager_open(count: int, repeats: int) -> list[Row]:
    """Opening the manager on ``count`` environments: from the call to the first page drawn,
    against its baseline, one list request of a page plus building and drawing the widget; and
    the widget state a frontend receives, against the same manager on 20 environments."""
    with EmulatorProcess() as emulator:
        seed_for_manager(emulator, 20)
        small = asyncio.run(open_manager(emulator))
        seed_for_manager(emulator, count - 20)
        opened = [asyncio.run(open_manager(emulator)) for _ in range(repeats)]
    first = statistics.median(run["first_page"] for run in opened)
    baseline = statistics.median(run["list"] + run["render"] for run in opened)
    widgets, state = opened[0]["state"]
    small_widgets, small_state = small["state"]
    return [
        Row(
            "manager",
            f"open on {count:,}: first page shown (baseline: one list request + rendering)",
            f"{ms(first)} (list {ms(statistics.median(run['list'] for run in opened))}, "
            f"rendering {ms(statistics.median(run['render'] for run in opened))})",
            f"{first / baseline:.2f}x",
            "<= 1.25x",
            met(first / baseline <= 1.25),
        ),
        Row(
            "manager",
            f"widget state on {count:,} (baseline: on 20)",
            f"{widgets} widgets, {state / 1024:,.1f} KB",
            f"{state / small_state:.2f}x",
            "<= 1.2x",
            met(widgets == small_widgets and state / small_state <= 1.2),
        ),
    ]


def seed_for_manager(emulator: EmulatorProcess, count: int) -> None:
    with Client(base_url=emulator.base_url, token=emulator.token) as client:
        for i in range(count):
            client.environments.create(
                name=f"managed-{uuid.uuid4().hex[:8]}-{i}",
                pip=["pandas>=2"],
                metadata={"i": str(i)},
            )


async def open_manager(emulator: EmulatorProcess) -> dict[str, Any]:
    """One opening, timed: the baseline's list request and rendering, and the first page."""
    from qoder_jupyter.credentials import Token
    from qoder_jupyter.manager import EnvironmentManager, widget_state_size
    from qoder_jupyter.session import Session
    from qoder_jupyter.settings import QoderEnv

    async with AsyncClient(base_url=emulator.base_url, token=emulator.token) as client:
        started = time.perf_counter()
        await client.environments.list(limit=20)
        listed = time.perf_counter() - started
    session = Session(QoderEnv(base_url=emulator.base_url))
    session.login = Token(emulator.token)
    first_page = asyncio.get_running_loop().create_future()

    class Timed(EnvironmentManager):
        def _draw(self) -> None:
            super()._draw()
            if self.catalog.view().rows and not first_page.done():
                first_page.set_result(time.perf_counter())

    started = time.perf_counter()
    manager = Timed(session=session)
    built = time.perf_counter() - started
    shown = await first_page - started
    assert manager.pending is not None
    await manager.pending  # the rest, loaded in the background
    drawing = time.perf_counter()
    manager._draw()
    drawn = time.perf_counter() - drawing
    return {
        "list": listed,
        "render": built + drawn,
        "first_page": shown,
        "state": widget_state_size(manager.widget),
    }


# --- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--creates",
        type=int,
        default=1200,
        help="sequential creates per client (default %(default)s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=24, help="interleaved batches of them (default %(default)s)"
    )
    parser.add_argument(
        "--bulk", type=int, default=2000, help="concurrent creates per run (default %(default)s)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="default %(default)s")
    parser.add_argument(
        "--applies",
        type=int,
        default=300,
        help="declared environments of the apply re-run (default %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each bulk measurement (default %(default)s)"
    )
    parser.add_argument(
        "--load-repeats",
        type=int,
        default=11,
        help="fresh interpreters per load figure (default %(default)s)",
    )
    parser.add_argument(
        "--managed",
        type=int,
        default=1000,
        help="environments the manager opens on (default %(default)s)",
    )
    parser.add_argument(
        "--only", choices=["manager"], help="run only this section (the others take minutes)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    if args.only == "manager":
        rows = manager_open(args.managed, max(args.repeats, 5))
        print(render(rows, "qoder_jupyter benchmarks: the manager", markdown=args.markdown))
        return

    progress("load cost: fresh interpreters")
    rows = load_costs(args.load_repeats)
    with EmulatorProcess() as emulator:
        progress(f"per-create cost: {args.creates} sequential creates per client")
        rows += per_create(emulator, args.creates, args.rounds)
        progress(
            f"bulk: {args.bulk} creates, {args.concurrency} at a time, {args.repeats} runs each"
        )
        rows += bulk(emulator, args.bulk, args.concurrency, args.repeats)
        progress(f"apply: a re-run of {args.applies} unchanged environments")
        rows += apply_rerun(emulator, args.applies, max(args.repeats, 3))
        progress("the emulator alone")
        rows += emulator_alone(emulator, args.bulk, args.concurrency, args.repeats)
    progress("display")
    rows += display(max(args.repeats, 5))
    progress(f"the manager on {args.managed} environments")
    rows += manager_open(args.managed, max(args.repeats, 5))
    header = (
        f"qoder_jupyter benchmarks: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"httpx {version('httpx')}, qca-sdk {version('qca-sdk')}. Medians; ratios against the "
        "baseline of the same run. The emulator runs in its own process (no shared GIL)."
    )
    print(render(rows, header, markdown=args.markdown))


if __name__ == "__main__":
    main()
