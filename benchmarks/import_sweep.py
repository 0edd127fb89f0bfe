"""Read every package file found under some folders with ``--packages-from``'s readers: a sweep of
real-world files (whatever a machine has: a site-packages, a source tree, /usr), which must all be
read or refused with a clean error, never crash, and take only entries the request rules accept.

    python -m benchmarks.import_sweep /usr ~/src
"""

from __future__ import annotations

import argparse
import collections
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from qoder_jupyter import rules
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.sources import detect_kind, read_packages

_NAMES = ("pyproject.toml", "package.json", "environment.yml", "environment.yaml", "apt.txt")


def package_files(roots: Sequence[str]) -> Iterator[Path]:
    for root in roots:
        for folder, _, names in os.walk(Path(root).expanduser()):
            for name in names:
                lower = name.lower()
                requirements = "requirements" in lower and lower.endswith((".txt", ".in"))
                if requirements or lower in _NAMES:
                    yield Path(folder, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_sweep", description=__doc__)
    parser.add_argument("roots", nargs="+", metavar="FOLDER")
    args = parser.parse_args(argv)
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    for path in package_files(args.roots):
        kind = detect_kind(path)
        counts[f"{kind} files"] += 1
        try:
            report = read_packages(path)
        except ValidationError:
            counts[f"{kind} refused with a clean error"] += 1
            continue
        except Exception as error:  # what the sweep is for: none may escape
            failures.append(f"{path}: crashed: {error!r}")
            continue
        counts[f"{kind} entries left out and reported"] += len(report.left_out)
        for manager, entries in report.packages.items():
            counts[f"{kind} entries taken"] += len(entries)
            failures += [
                f"{path}: took {entry!r}, which the rules refuse"
                for entry in entries
                if rules.package_problem(manager, entry) is not None
            ]
    for name in sorted(counts):
        print(f"{name}: {counts[name]}")
    print(f"failures: {len(failures)}")
    print("\n".join(failures[:50]))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
