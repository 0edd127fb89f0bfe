"""What every reader of a user's package file shares: the kinds of file (for messages),
reading a file as text, and the error of a file that cannot be read, which names the file and
the line (``requirements.txt:7: ...``), then the fix, under the ``--packages-from`` flag."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from ..errors import Problem, ValidationError

__all__ = ["FIELD", "KINDS", "file_error", "known_names", "read_text", "shown"]

#: The flag that names the files, as every error of this package says.
FIELD: Final = "--packages-from"

#: The kinds of file, and the names each is known by (for messages).
KINDS: Final = {
    "requirements": "*requirements*.txt (or any .txt in a folder named requirements)",
    "pyproject": "pyproject.toml",
    "conda": "environment.yml (or environment.yaml)",
    "npm": "package.json",
    "apt": "apt.txt",
}

#: A package list is a few kilobytes; past this, the file is something else (and reading it
#: whole would only fill the kernel's memory).
MAX_FILE_BYTES: Final = 8 * 1024 * 1024


def shown(path: str | os.PathLike[str]) -> str:
    """A path as messages and reports show it: as the user gave it."""
    return os.fspath(path)


def file_error(where: str, message: str) -> ValidationError:
    """The error of a file that cannot be read: ``where`` is ``file`` or ``file:line``."""
    return ValidationError([Problem(FIELD, f"{where}: {message}")])


def missing_file(path: Path, name: str) -> ValidationError:
    """The error for a path where no file is."""
    folder = path.parent.resolve()
    return file_error(
        name, f"no such file (looked in {folder}): check the name, or give the full path."
    )


def read_text(path: Path, name: str) -> str:
    """The text of a package file (UTF-8, a leading byte-order mark dropped), or the error that
    says why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise file_error(
                name,
                f"the file is {size:,} bytes, far more than a package list: name the package file "
                "itself.",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise missing_file(path, name) from None
    except IsADirectoryError:
        raise file_error(
            name, f"this is a folder: name the package file in it, one of {known_names()}."
        ) from None
    except PermissionError:
        raise file_error(
            name, "the file cannot be read (permission denied): allow reading it."
        ) from None
    except OSError as error:
        raise file_error(name, f"the file cannot be read ({error.strerror or error}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        raise file_error(
            f"{name}:{line}",
            f"not UTF-8 text (byte 0x{byte:02x}): save the file as UTF-8 and import it again.",
        ) from None


def known_names() -> str:
    names = list(KINDS.values())
    return ", ".join(names[:-1]) + " or " + names[-1]
