"""What every rendering shares (design principle 6): cleaning text for one line or a block,
escaping it for HTML and Markdown, and the stylesheets in ``static/``, each read once, when the
first rendering that needs it is made. Standard library only, no other module of the package."""

from __future__ import annotations

import functools
import html
import re

from ._text import clip

__all__ = [
    "block",
    "escape",
    "joined_css",
    "line",
    "md",
    "md_code",
    "plural",
    "style",
    "uncommented",
]

_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#&~!])")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


@functools.cache
def style(sheet: str = "card.css") -> str:
    """The ``<style>`` block of ``static/<sheet>``: read the first time one is rendered, then kept.
    A stylesheet that cannot be read (a broken install) gives "" instead: the HTML then shows
    unstyled, which its semantic markup allows, and never fails."""
    import importlib.resources  # only here: it costs %load_ext several milliseconds

    try:
        path = importlib.resources.files(__package__) / "static" / sheet
        css = path.read_text(encoding="utf-8")
    except Exception:
        return ""
    return "<style>" + joined_css(css) + "</style>"


def uncommented(css: str) -> str:
    """A stylesheet without its comments (they say why in the file, not in each saved output)."""
    return _CSS_COMMENT.sub("", css)


def joined_css(css: str) -> str:
    """A stylesheet as one line. Each line of a shipped file ends a selector or a declaration, so
    joining its stripped lines keeps every rule and keeps the readable file from adding to each
    saved output."""
    return "".join(line.strip() for line in uncommented(css).splitlines())


def line(value: str, limit: int) -> str:
    """One line: breaks become spaces, control and bidi characters become U+FFFD, clipped."""
    return clip(_UNSAFE.sub("\ufffd", _BREAKS.sub(" ", value)), limit)


def block(value: str, limit: int) -> str:
    """Like :func:`line` but keeping line breaks (as ``\\n``)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return clip(_UNSAFE.sub("\ufffd", text), limit)


def escape(text: str) -> str:
    """HTML-escaped, quotes included (safe in text and in attribute values)."""
    return html.escape(text, quote=True)


def md(text: str) -> str:
    """Markdown-escaped, on one line (a table cell)."""
    return _MD_SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", text))


def md_code(text: str) -> str:
    """A code span (where nothing needs escaping), or escaped text when it cannot be one."""
    plain = _BREAKS.sub(" ", text)
    usable = plain.strip() and "`" not in plain and "|" not in plain
    return f"`{plain}`" if usable else md(plain)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
