"""``python -m qoder_jupyter.emulator`` (``qoder-emulator``): serve until SIGINT or SIGTERM.

The first lines on stdout can be fed to a shell's ``eval``::

    QODER_BASE_URL=http://127.0.0.1:8765/api/v1/cloud
    QODER_PAT=pt-emu-...          (only when the token was generated here)
    # qoder emulator serving ... (a comment, for people)
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .core import Emulator
from .dialects import DIALECTS
from .faults import DRIP_INTERVAL, FAULT_KINDS, FAULT_SUMMARIES, check_drip_interval

DEFAULT_PORT = 8765


def _fault_kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in value.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(FAULT_KINDS)}"
        )
    return kinds


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return rate


def _seconds(value: str) -> float:
    seconds = float(value)
    if not seconds >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {value}")
    return seconds


def _drip_seconds(value: str) -> float:
    try:
        return check_drip_interval(float(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole_seconds(value: str) -> int:
    seconds = int(value)
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds >= 0, not {value}")
    return seconds


def _faults_help() -> str:
    lines = (f"  {kind:<15} {summary}" for kind, summary in FAULT_SUMMARIES.items())
    return (
        'fault kinds (--fault-kinds; "done": the request is carried out,\n'
        "and a retry with the same Idempotency-Key replays it):\n" + "\n".join(lines)
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qoder-emulator",
        description="Serve a local emulator of the Qoder Environments API "
        "(for demos, offline prototyping and tests).",
        epilog=_faults_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0 = any free)"
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="accept this read-write token (repeatable; default: generate and print one)",
    )
    parser.add_argument(
        "--readonly-token", action="append", default=[], help="accept this read-only token"
    )
    parser.add_argument("--db", metavar="PATH", help="SQLite file to keep data across restarts")
    parser.add_argument(
        "--latency", type=_seconds, default=0.0, help="seconds added to each request"
    )
    parser.add_argument(
        "--fault-rate", type=_rate, default=0.0, help="share of requests that fail (0-1)"
    )
    parser.add_argument(
        "--fault-kinds",
        type=_fault_kinds,
        default=FAULT_KINDS,
        help="comma-separated fault kinds (default: all; listed below)",
    )
    parser.add_argument(
        "--drip-interval",
        type=_drip_seconds,
        default=DRIP_INTERVAL,
        help="seconds between two bytes of a drip fault (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, help="seed for random faults (reproducible runs)")
    parser.add_argument(
        "--retry-after", type=_whole_seconds, default=1, help="Retry-After seconds on 429"
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="seed",
        help="response shapes of one documented service version (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    emulator = Emulator(
        host=args.host,
        port=args.port,
        tokens=args.token,
        readonly_tokens=args.readonly_token,
        db=args.db,
        latency=args.latency,
        fault_rate=args.fault_rate,
        fault_kinds=args.fault_kinds,
        seed=args.seed,
        retry_after=args.retry_after,
        dialect=args.dialect,
        drip_interval=args.drip_interval,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        emulator.start()
    except OSError as error:
        emulator.stop()
        print(
            f"qoder-emulator: cannot listen on {args.host}:{args.port}: {error.strerror}; "
            "pick another --port (0 = any free port)",
            file=sys.stderr,
        )
        return 1
    try:
        print(f"QODER_BASE_URL={shlex.quote(emulator.base_url)}")
        if emulator.token_generated:
            print(f"QODER_PAT={shlex.quote(emulator.token)}")
        print(f"# qoder emulator serving {emulator.base_url} - stop with Ctrl+C", flush=True)
        stopping.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
