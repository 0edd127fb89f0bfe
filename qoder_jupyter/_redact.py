"""Keeping the token out of everything a server can make us show, store or log.

A hostile or broken server may echo the ``Authorization`` header back: in an error message, a
request id, a header, the reason phrase, an HTML page. :class:`Redactor` replaces the token in
what comes back before anything else reads it, and :class:`RedactingFilter`, installed on the
``httpx``, ``httpcore`` and ``qoder_jupyter`` loggers (and their children), does the same for log
records (httpcore logs every response header at DEBUG).

Standard library only.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from typing import Any
from urllib.parse import quote

__all__ = ["PLACEHOLDER", "RedactingFilter", "Redactor", "install_log_filter"]

PLACEHOLDER = "<token>"

#: The loggers whose records may carry what a server sent (their children are covered too).
LOGGERS = ("httpx", "httpcore", "qoder_jupyter")


class Redactor:
    """Replaces one secret, as written and in the forms a server may echo it in (JSON-escaped,
    percent-encoded), in text and bytes. Its repr never shows the secret."""

    __slots__ = ("__weakref__", "_forms", "_forms_bytes")

    def __init__(self, secret: str) -> None:
        forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe="")} - {""}
        # Longest first, so a form that contains another is replaced whole.
        self._forms = tuple(sorted(forms, key=len, reverse=True))
        self._forms_bytes = tuple(form.encode("utf-8", "surrogatepass") for form in self._forms)
        _live.add(self)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, PLACEHOLDER)
        return value

    def bytes(self, value: bytes) -> bytes:
        for form in self._forms_bytes:
            if form in value:
                value = value.replace(form, PLACEHOLDER.encode())
        return value

    def found_in(self, value: str) -> bool:
        return any(form in value for form in self._forms)

    def __repr__(self) -> str:
        return "<Redactor>"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("A Redactor holds a secret and cannot be pickled.")


#: Every live client's redactor: a log record is cleaned of all of them.
_live: weakref.WeakSet[Redactor] = weakref.WeakSet()


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message (or traceback) holds a live client's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactors = list(_live)
        if not redactors:
            return True
        message = record.getMessage()
        if any(redactor.found_in(message) for redactor in redactors):
            for redactor in redactors:
                message = redactor.text(message)
            record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(redactor.found_in(text) for redactor in redactors):
                for redactor in redactors:
                    text = redactor.text(text)
                record.exc_info, record.exc_text = None, text
        return True


_FILTER = RedactingFilter()
_install_lock = threading.Lock()


def install_log_filter() -> None:
    """Put the filter on the loggers that may carry a server's words, and on each of their
    existing children: a logger's filters do not apply to records its children log. Idempotent;
    called whenever a client is made (by then httpx and httpcore have made their loggers)."""
    with _install_lock:
        names = [
            name
            for name in list(logging.Logger.manager.loggerDict)
            if name.split(".", 1)[0] in LOGGERS
        ]
        for name in {*LOGGERS, *names}:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
