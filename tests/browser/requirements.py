"""What the browser tests need, and what happens without it.

Without Debian's Chromium or the Playwright package, every browser test module is skipped with a
reason that names the missing piece (pytest's summary shows it). With
``QODER_BROWSER_TESTS=required`` (``.ci/run`` sets it) a missing piece fails the run instead, so
CI can never pass by skipping them. This module imports nothing that may be missing.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

#: Debian's Chromium (``QODER_CHROMIUM`` names another build, or a missing one to see the skip).
CHROMIUM = Path(os.environ.get("QODER_CHROMIUM", "/usr/bin/chromium"))


def missing() -> str | None:
    """What is missing to run the browser tests, or None."""
    if not CHROMIUM.exists():
        return (
            f"no Chromium at {CHROMIUM} (install it: apt-get install chromium; .ci/run does this)"
        )
    if importlib.util.find_spec("playwright") is None:
        return (
            'the playwright package is not installed (pip install -e ".[test]"; never run '
            "`playwright install`, Debian's Chromium is used)"
        )
    return None


def require_browser() -> None:
    """At the top of a test module, before it imports Playwright: skip the module (or, when
    required, fail it) if something is missing."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("QODER_BROWSER_TESTS") == "required":
        pytest.fail(f"BROWSER TESTS REQUIRED BUT CANNOT RUN: {reason}", pytrace=False)
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason}", allow_module_level=True)
