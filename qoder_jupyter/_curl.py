"""A request written as the seed's curl command (``../seed``), for previews and "copy as curl":
the token stays the literal ``$QODER_PAT``. Standard library only."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

__all__ = ["curl_command"]


def _double_quoted(text: str) -> str:
    """The seed writes the URL in double quotes; fall back to single quotes when the shell would
    expand something inside double quotes."""
    return f'"{text}"' if not set(text) & set('"$`\\!') else shlex.quote(text)


def curl_command(method: str, url: str, body: Mapping[str, Any] | None = None) -> str:
    """A request as the seed's curl command; the token stays the literal ``$QODER_PAT``."""
    lines = [
        f"curl -s -X {method} {_double_quoted(url)}",
        '-H "Authorization: Bearer $QODER_PAT"',
    ]
    if body is not None:
        payload = json.dumps(body, indent=2, ensure_ascii=False)
        lines += ['-H "Content-Type: application/json"', f"-d {shlex.quote(payload)}"]
    return " \\\n".join(lines)
