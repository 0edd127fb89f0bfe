"""Small text helpers that messages and displays share: clipping, a repr that cannot fail, and
reading an optional string out of JSON. Standard library only, no other module of the package."""

from __future__ import annotations

__all__ = ["clip", "optional_text", "quoted", "safe_repr", "type_phrase"]


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = 60) -> str:
    """``repr`` of a value short enough for a message."""
    return repr(clip(text, limit))


def safe_repr(value: object) -> str:
    """``repr(value)``, or ``<type>`` when that fails (a huge int, a broken ``__repr__``): a
    message or a display must still be built."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def optional_text(value: object) -> str | None:
    """A non-empty string from JSON, else None."""
    return value if isinstance(value, str) and value else None


def type_phrase(value: object) -> str:
    """ "a dict", "an int": the type of ``value`` with its article, for a message."""
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"
