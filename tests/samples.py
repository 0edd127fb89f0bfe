"""Documents the tests share."""

from __future__ import annotations

from typing import Any

#: The seed document's example response to its example request (HTTP 201 Created).
SEED_RESPONSE: dict[str, Any] = {
    "id": "env_019e3bb39b6774d8878cd0b9d237574b",
    "type": "environment",
    "name": "doc-test-env",
    "description": "",
    "status": "ready",
    "config": {"type": "cloud", "networking": {"type": "limited"}, "packages": {"apt": ["curl"]}},
    "created_at": "2026-05-18T15:28:07.017808Z",
    "updated_at": "2026-05-18T15:28:07.017808Z",
}
