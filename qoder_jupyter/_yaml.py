"""A request body written as YAML for people to read: the body of ``%%qoder_env create``.

PyYAML quotes whatever would read back as something else (``yes``, ``1.0``, ``2024-01-01``, a
leading ``*``), so ``yaml.safe_load`` returns the body exactly; this module only picks the style a
person reads best. Imported on first use: a spec that fits on one line never needs PyYAML.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["yaml_document"]


class _BodyDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types
    """Safe YAML, with text of several lines as a ``|`` block, as a script is written."""


# Line breaks to YAML besides "\n": PyYAML writes them raw in a single-quoted scalar, where they
# read back as spaces; a double-quoted scalar escapes them.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=_style(text))


def _style(text: str) -> str | None:
    """A ``|`` block for text of several lines, as a script is written; double quotes for other
    line breaks. PyYAML quotes whatever a block cannot hold exactly (trailing spaces on a line, a
    control character), so asking for a block never loses a character."""
    if _OTHER_BREAKS & set(text):
        return '"'
    return "|" if "\n" in text else None


def _integer(dumper: yaml.SafeDumper, number: int) -> yaml.ScalarNode:
    try:
        return dumper.represent_int(number)
    except ValueError:  # more digits than Python will print: a spec's problem, shown, not raised
        return dumper.represent_scalar(
            "tag:yaml.org,2002:str", f"<an int of {number.bit_length()} bits>"
        )


_BodyDumper.add_representer(str, _text)
_BodyDumper.add_representer(int, _integer)


def yaml_document(value: Any) -> str:
    """``value`` (JSON-like) as a YAML document, keys in their order, ending in a newline."""
    document: str = yaml.dump(
        value, Dumper=_BodyDumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return document
