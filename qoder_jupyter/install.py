"""Turn auto-loading of the extension in new IPython kernels on and off (``qoder-jupyter``).

``{"InteractiveShellApp": {"extra_extensions": ["qoder_jupyter"]}}`` in an
``ipython_kernel_config.json`` that kernels read loads the extension in every new kernel. Such files
are shared with the user and other packages, so :func:`enable` adds one list entry and keeps the
rest, :func:`disable` removes that entry only, and a file that cannot be edited safely is refused
with what to add by hand. :func:`status` says which of those files list the extension, and no more:
which file wins is IPython's business, and emulating it would go stale. Standard library only, and
no IPython import, so that ``qoder-jupyter status`` works anywhere::

    qoder-jupyter enable  [--sys-prefix | --user]   # default --sys-prefix
    qoder-jupyter disable [--sys-prefix | --user]
    qoder-jupyter status
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import sys
import tokenize
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .errors import QoderError

__all__ = [
    "ConfigFileError",
    "FileStatus",
    "add_commands",
    "config_path",
    "disable",
    "enable",
    "run",
    "status",
]

EXTENSION = "qoder_jupyter"
SECTION = "InteractiveShellApp"
KEY = "extra_extensions"
FILENAME = "ipython_kernel_config.json"

Scope = Literal["sys-prefix", "user"]
SCOPES: tuple[Scope, ...] = ("sys-prefix", "user")

# IPython.core.application.SYSTEM_CONFIG_DIRS, copied so that this module need not import IPython.
SYSTEM_CONFIG_DIRS: tuple[Path, ...] = (Path("/usr/local/etc/ipython"), Path("/etc/ipython"))
if os.name == "nt":  # Windows: %PROGRAMDATA%\ipython, and only when IPYTHON_USE_PROGRAMDATA=1
    _programdata = (
        os.environ.get("PROGRAMDATA") if os.environ.get("IPYTHON_USE_PROGRAMDATA") else ""
    )
    SYSTEM_CONFIG_DIRS = (Path(_programdata) / "ipython",) if _programdata else ()

OTHER_WAYS = (
    f'Without any config: choose the "Python 3 (Qoder)" kernel, or run %load_ext {EXTENSION}.'
)


class ConfigFileError(QoderError):
    """An IPython config file that cannot be changed safely; it has been left as it was."""


class _Unreadable(Exception):
    """A config file that is not the JSON object we expect; ``str()`` says why."""


class FileStatus(NamedTuple):
    """One kernel config file: whether it lists the extension, and which scope manages it."""

    path: Path
    state: Literal["enabled", "not listed", "no file", "unreadable"]
    detail: str = ""  # the list that names the extension, or why the file cannot be read
    scope: Scope | None = None  # None: a system file that enable and disable never change


def config_path(scope: Scope = "sys-prefix", *, prefix: str | Path | None = None) -> Path:
    """The file ``scope`` changes: ``{prefix or sys.prefix}/etc/ipython/`` or the user profile's."""
    if scope == "sys-prefix":
        return Path(prefix if prefix is not None else sys.prefix) / "etc" / "ipython" / FILENAME
    if scope == "user":  # $IPYTHONDIR or ~/.ipython, as IPython resolves it
        home = Path(os.environ.get("IPYTHONDIR") or Path.home() / ".ipython").expanduser()
        return home / "profile_default" / FILENAME
    raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")


def _read(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path`` (None: no file; {}: a blank one), or :class:`_Unreadable`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise _Unreadable(f"cannot be read ({error})") from error
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise _Unreadable(f"not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise _Unreadable("not a JSON object")
    if not isinstance(data.get(SECTION, {}), dict):
        raise _Unreadable(f"{SECTION} is not a JSON object")
    return data


def _names(data: dict[str, Any], key: str = KEY) -> list[str] | None:
    """The list ``InteractiveShellApp.<key>`` in ``data`` (None when it is not set)."""
    section = data.get(SECTION, {})
    if key not in section:
        return None
    names = section[key]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise _Unreadable(f"{SECTION}.{key} is not a list of names")
    return names


def _py_sets_key(path: Path) -> bool:
    """Whether the Python config ``path`` may set ``extra_extensions`` (False when absent)."""
    # Tokens, not text: the commented-out options `ipython profile create` writes do not count.
    try:
        source = path.read_text(encoding="utf-8")
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except FileNotFoundError:
        return False
    except (OSError, ValueError, tokenize.TokenError, SyntaxError):
        return True  # cannot tell: assume it does, to be careful
    return any(token.type == tokenize.NAME and token.string == KEY for token in tokens)


def _by_hand(path: Path) -> str:
    """What to add to the JSON file ``path`` by hand when we refuse to edit it."""
    return (
        f'Add "{EXTENSION}" by hand to the "{KEY}" list in the "{SECTION}" section of {path}, '
        f'e.g. {{"{SECTION}": {{"{KEY}": ["{EXTENSION}"]}}}}.'
    )


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON in one step, so a crash never leaves half a file."""
    path = path.resolve()  # through a symbolic link (a dotfiles manager's), which is kept
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            shutil.copymode(path, temporary)  # an existing file keeps its permissions
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _current(path: Path) -> tuple[dict[str, Any] | None, list[str] | None]:
    """The JSON object in ``path`` and its list, or a :class:`ConfigFileError` saying what to do."""
    try:
        data = _read(path)
        return data, None if data is None else _names(data)
    except _Unreadable as error:
        message = f"{path}: {error}; it was left unchanged."
        raise ConfigFileError(message, hint=_by_hand(path)) from error


def _add(path: Path) -> str:
    """Add our entry to ``path``: "added", or "already" when it was there."""
    data, names = _current(path)
    if names is not None and EXTENSION in names:
        return "already"
    beside = path.with_suffix(".py")
    if names is None and _py_sets_key(beside):
        # IPython reads the .json after the .py beside it: a new list here would replace that one.
        message = f"{beside} sets {SECTION}.{KEY}, and a new list in {path} would replace it"
        hint = f'Add by hand to {beside}: c.{SECTION}.{KEY}.append("{EXTENSION}")'
        raise ConfigFileError(f"{message}; nothing was changed.", hint=hint)
    data = data if data is not None else {}
    data.setdefault(SECTION, {})[KEY] = [*(names or []), EXTENSION]
    _write_atomically(path, data)
    return "added"


def _remove(path: Path) -> str:
    """Remove our entry from ``path``: "removed", "deleted" (the file became {}) or "absent"."""
    data, names = _current(path)
    if data is None or names is None or EXTENSION not in names:
        return "absent"
    section = data[SECTION]
    section[KEY] = [name for name in names if name != EXTENSION]
    if not section[KEY]:  # drop what we emptied, so that enable then disable leaves no trace
        del section[KEY]
        if not section:
            del data[SECTION]
    if not data and not path.is_symlink():  # a link (a dotfiles manager's) stays, holding {}
        path.unlink()
        return "deleted"
    _write_atomically(path, data)
    return "removed"


def enable(
    scope: Scope = "sys-prefix", *, prefix: str | Path | None = None, path: str | Path | None = None
) -> Path:
    """Add ``qoder_jupyter`` to the list in the file of ``scope`` (or ``path``); return the file."""
    target = Path(path) if path is not None else config_path(scope, prefix=prefix)
    _add(target)
    return target


def disable(
    scope: Scope = "sys-prefix", *, prefix: str | Path | None = None, path: str | Path | None = None
) -> Path:
    """Remove ``qoder_jupyter`` (only it) from that list; return the file."""
    target = Path(path) if path is not None else config_path(scope, prefix=prefix)
    _remove(target)
    return target


def _file_status(path: Path, scope: Scope | None) -> FileStatus:
    """Whether ``path`` lists the extension in ``extra_extensions`` or ``extensions``."""
    try:
        data = _read(path)
        if data is None:
            return FileStatus(path, "no file", scope=scope)
        for key in (KEY, "extensions"):  # kernels load the names in both lists
            if EXTENSION in (_names(data, key) or []):
                return FileStatus(path, "enabled", f"{SECTION}.{key}", scope)
    except _Unreadable as error:
        return FileStatus(path, "unreadable", str(error), scope)
    return FileStatus(path, "not listed", scope=scope)


def status(*, prefix: str | Path | None = None) -> list[FileStatus]:
    """The user's file, this environment's, then the system ones: what each says about us."""
    places: dict[Path, Scope | None] = {config_path("user"): "user"}
    places[config_path("sys-prefix", prefix=prefix)] = "sys-prefix"
    for folder in SYSTEM_CONFIG_DIRS:
        places.setdefault(folder / FILENAME, None)  # sys.prefix may be /usr/local: listed once
    return [_file_status(path, scope) for path, scope in places.items()]


def _status_line(found: FileStatus) -> str:
    """One line of ``qoder-jupyter status``: the state, the file, which list or what is wrong."""
    line = f"  {found.state:<11} {found.path}" + (f" [--{found.scope}]" if found.scope else "")
    if not found.detail:
        return line
    return f"{line} in {found.detail}" if found.state == "enabled" else f"{line}: {found.detail}"


def _message(outcome: str, path: Path, scope: Scope) -> str:
    """What ``enable`` or ``disable`` did, naming the file and how to undo it."""
    flag = " --user" if scope == "user" else ""
    name, key = f'"{EXTENSION}"', f"{SECTION}.{KEY}"
    return {
        "added": f"Enabled: added {name} to {key} in {path} (other settings kept). "
        f"New kernels load the extension. Undo with: qoder-jupyter disable{flag}",
        "already": f"Already enabled: {key} in {path} lists {name}; nothing changed. "
        f"Undo with: qoder-jupyter disable{flag}",
        "removed": f"Disabled: removed {name} from {key} in {path} (other settings kept). "
        f"Redo with: qoder-jupyter enable{flag}",
        "deleted": f"Disabled: removed {name} from {key}; {path} held nothing else and "
        f"was deleted. Redo with: qoder-jupyter enable{flag}",
        "absent": f"Not enabled in {path}; nothing changed.",
    }[outcome]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``enable`` and ``disable`` (``--sys-prefix``, the default, or ``--user``) and ``status``,
    as subcommands of ``qoder-jupyter`` (see :mod:`qoder_jupyter.cli`)."""
    whose: dict[Scope, str] = {"sys-prefix": "this environment's kernels (the default)"}
    whose["user"] = "every kernel you start, in any environment"
    for command, does in (("enable", "add the extension (merging)"), ("disable", "remove it")):
        subparser = commands.add_parser(command, help=does, epilog=OTHER_WAYS)
        subparser.set_defaults(scope="sys-prefix", run=run)
        where = subparser.add_mutually_exclusive_group()
        for scope, about in whose.items():
            text = f"{about}: {config_path(scope)}"
            where.add_argument(
                f"--{scope}", dest="scope", action="store_const", const=scope, help=text
            )
    status_parser = commands.add_parser("status", help="show which kernel config files list it")
    status_parser.set_defaults(scope="sys-prefix", run=run)


def _run(command: str, scope: Scope) -> None:
    """Carry out ``command`` and print what it did."""
    if command == "status":
        print(f"{EXTENSION} in the {FILENAME} files that IPython kernels read:")
        print(*map(_status_line, status()), sep="\n")
        print("[--user] and [--sys-prefix] mark the files that enable and disable change.")
        print("A .py config, or a config file read later, can set its own list instead of these.")
        print(OTHER_WAYS)
        return
    path = config_path(scope)
    if command == "enable":
        print(_message(_add(path), path, scope))
        return
    print(_message(_remove(path), path, scope))
    # Name the files that still list it (this one too, in "extensions", which we never edit), so
    # that "disabled" is not taken for "off everywhere".
    for found in status():
        if found.state == "enabled":
            print(f"Still enabled in {found.path} ({found.detail}); see: qoder-jupyter status")


def run(arguments: argparse.Namespace) -> int:
    """Carry out ``enable``, ``disable`` or ``status``; return the exit status."""
    try:
        _run(arguments.command, arguments.scope)
    except ConfigFileError as error:
        print(f"qoder-jupyter: error: {error.message}", file=sys.stderr)
        print(f"qoder-jupyter: {error.hint}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"qoder-jupyter: error: {error}", file=sys.stderr)
        if isinstance(error, PermissionError) and arguments.scope == "sys-prefix":
            again = f"qoder-jupyter {arguments.command} --user"
            print(f"qoder-jupyter: for your own kernels only: {again}", file=sys.stderr)
        return 1
    return 0
