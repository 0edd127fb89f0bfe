"""How many examples the property tests and fuzzers run: a few hundred in ``make test``; thousands
when ``QODER_FUZZ_EXAMPLES`` is set (``make soak`` sets it)."""

from __future__ import annotations

import os

#: Set (to a number of examples) for the long run.
LONG = bool(os.environ.get("QODER_FUZZ_EXAMPLES"))


def examples(default: int) -> int:
    """``default``, or ``$QODER_FUZZ_EXAMPLES`` when that is larger."""
    return max(default, int(os.environ.get("QODER_FUZZ_EXAMPLES") or 0))
