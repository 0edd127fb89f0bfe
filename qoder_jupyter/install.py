"""Turn auto-loading of the extension in new IPython kernels on and off (``qoder-jupyter``).

IPython kernels read ``ipython_kernel_config.json`` from the profile folder, then from
``{sys.prefix}/etc/ipython``, ``/usr/local/etc/ipython`` and ``/etc/ipython`` (never from ``*.d/``
folders). ``{"InteractiveShellApp": {"extra_extensions": ["qoder_jupyter"]}}`` in one of them loads
the extension in every new kernel. Those files are shared with the user and other packages, so this
module never overwrites one: :func:`enable` adds one list entry and keeps everything else,
:func:`disable` removes that entry only, and a file that cannot be edited safely (not a JSON object,
or a ``.py`` config beside it that sets the same list) is refused with what to add by hand.

One traitlets rule shapes the warnings: a list set in a file read later *replaces* the list set in
one read earlier. Kernels read ``ipython_config.*`` in every folder, then
``ipython_kernel_config.*``; ``/etc`` first and the profile last; ``.py`` before ``.json``. So
:func:`problems` names the files that hide our entry, or whose entries ours hides.

Standard library only, and no IPython import: ``qoder-jupyter status`` must work anywhere.

Command line::

    qoder-jupyter enable  [--sys-prefix | --user]   # default --sys-prefix
    qoder-jupyter disable [--sys-prefix | --user]
    qoder-jupyter status
"""

from __future__ import annotations

import argparse
import enum
import io
import json
import os
import secrets
import shutil
import sys
import tokenize
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from .errors import QoderError

__all__ = [
    "EXTENSION",
    "ConfigFileError",
    "Scope",
    "config_path",
    "disable",
    "effective",
    "enable",
    "main",
    "problems",
    "status",
]

EXTENSION = "qoder_jupyter"
SECTION = "InteractiveShellApp"
KEY = "extra_extensions"
KERNEL_CONFIG = "ipython_kernel_config"
BASE_CONFIG = "ipython_config"  # also read by kernels, before every ipython_kernel_config.*

Scope = Literal["sys-prefix", "user"]
SCOPES: tuple[Scope, ...] = ("sys-prefix", "user")

# IPython.core.application.SYSTEM_CONFIG_DIRS, copied so that this module need not import IPython.
if os.name == "nt":
    _programdata = os.environ.get("PROGRAMDATA")
    SYSTEM_CONFIG_DIRS: tuple[Path, ...] = (
        (Path(_programdata) / "ipython",)
        if _programdata and os.environ.get("IPYTHON_USE_PROGRAMDATA") == "1"
        else ()
    )
else:
    SYSTEM_CONFIG_DIRS = (Path("/usr/local/etc/ipython"), Path("/etc/ipython"))


class ConfigFileError(QoderError):
    """An IPython config file that cannot be changed safely; it has been left as it was."""


class _Unusable(Exception):
    """A config file we cannot understand; ``str()`` says why, ``hint`` what to add by hand."""

    def __init__(self, problem: str, path: Path) -> None:
        super().__init__(problem)
        self.hint = _by_hand(path)


class _Outcome(enum.Enum):
    ADDED = "added"
    ALREADY = "already"
    REMOVED = "removed"
    DELETED = "deleted"  # removed, and the file became {} so it was deleted
    ABSENT = "absent"


# --- where -------------------------------------------------------------------------------------


def ipython_dir() -> Path:
    """``$IPYTHONDIR`` or ``~/.ipython``, as IPython resolves it."""
    return Path(os.environ.get("IPYTHONDIR") or Path.home() / ".ipython").expanduser()


def config_path(scope: Scope = "sys-prefix", *, prefix: str | Path | None = None) -> Path:
    """The ``ipython_kernel_config.json`` that ``scope`` changes.

    ``sys-prefix``: ``{prefix or sys.prefix}/etc/ipython/`` (kernels of this environment);
    ``user``: ``{$IPYTHONDIR or ~/.ipython}/profile_default/`` (every kernel of this user).
    """
    if scope == "sys-prefix":
        return (
            Path(prefix if prefix is not None else sys.prefix)
            / "etc"
            / "ipython"
            / (KERNEL_CONFIG + ".json")
        )
    if scope == "user":
        return ipython_dir() / "profile_default" / (KERNEL_CONFIG + ".json")
    raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")


def _config_dirs(prefix: str | Path | None) -> list[Path]:
    """Folders a kernel reads config from, highest precedence first (IPython's order)."""
    dirs = [config_path("user").parent, config_path("sys-prefix", prefix=prefix).parent]
    dirs += [folder for folder in SYSTEM_CONFIG_DIRS if folder not in dirs]
    return dirs


def _load_order(prefix: str | Path | None) -> list[Path]:
    """Every config file a new kernel reads, in the order it reads them (later ones win)."""
    return [
        folder / (base + suffix)
        for base in (BASE_CONFIG, KERNEL_CONFIG)
        for folder in reversed(_config_dirs(prefix))
        for suffix in (".py", ".json")
    ]


# --- reading -----------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path`` (None when there is no file); refuses anything else."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise _Unusable(f"cannot read {path}: {error}", path) from error
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Unusable(f"{path} is not valid JSON ({error})", path) from error
    if not isinstance(data, dict):
        raise _Unusable(f"{path} does not hold a JSON object", path)
    return data


def _entries(data: dict[str, Any], path: Path) -> list[str] | None:
    """``InteractiveShellApp.extra_extensions`` in ``data`` (None when it is not set)."""
    section = data.get(SECTION)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _Unusable(f"{SECTION} in {path} is not a JSON object", path)
    if KEY not in section:
        return None
    entries = section[KEY]
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise _Unusable(f"{SECTION}.{KEY} in {path} is not a list of names", path)
    return entries


def _py_sets_key(path: Path) -> bool:
    """Whether the Python config ``path`` may set ``extra_extensions`` (False when absent).

    Comments and strings do not count, so a config generated by ``ipython profile create`` (every
    option commented out) is safe; a file that does not tokenize counts, to be careful.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return True
    try:
        return any(
            token.type == tokenize.NAME and token.string == KEY
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
        )
    except (tokenize.TokenError, SyntaxError):
        return True


def _by_hand(path: Path) -> str:
    if path.suffix == ".py":
        return f'Add by hand to {path}: c.{SECTION}.{KEY}.append("{EXTENSION}")'
    return (
        f'Add "{EXTENSION}" by hand to the "{KEY}" list in the "{SECTION}" section of {path}, '
        f'e.g. {{"{SECTION}": {{"{KEY}": ["{EXTENSION}"]}}}}.'
    )


# --- writing -----------------------------------------------------------------------------------


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON in one step (a temporary file in the same folder, then
    ``os.replace``): a crash leaves the old file or the new one, never half of one.

    A symbolic link is followed, so the file it points to is updated and the link kept. An existing
    file keeps its permissions; a new one gets the usual ones (0o666 less the umask).
    """
    path = path.resolve()
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
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _current(path: Path) -> tuple[dict[str, Any] | None, list[str] | None]:
    """The JSON object in ``path`` and its list (None, None when there is no file)."""
    try:
        data = _read(path)
        return data, (_entries(data, path) if data is not None else None)
    except _Unusable as error:
        raise ConfigFileError(f"{error}; it was left unchanged.", hint=error.hint) from error


def _add(path: Path) -> _Outcome:
    data, entries = _current(path)
    if entries is not None and EXTENSION in entries:
        return _Outcome.ALREADY
    beside = path.with_suffix(".py")
    if entries is None and _py_sets_key(beside):
        # The .json is read after the .py beside it, so a new list here would replace that one.
        raise ConfigFileError(
            f"{beside} sets {SECTION}.{KEY}, and a new list in {path} would replace that one; "
            "nothing was changed.",
            hint=_by_hand(beside),
        )
    data = data if data is not None else {}
    section = data.setdefault(SECTION, {})
    section[KEY] = [*(entries or []), EXTENSION]
    _write_atomically(path, data)
    return _Outcome.ADDED


def _remove(path: Path) -> _Outcome:
    data, entries = _current(path)
    if data is None or entries is None or EXTENSION not in entries:
        return _Outcome.ABSENT
    section = data[SECTION]
    kept = [entry for entry in entries if entry != EXTENSION]
    if kept:
        section[KEY] = kept
    else:
        del section[KEY]
        if not section:
            del data[SECTION]
    if not data and not path.is_symlink():  # a link (a dotfiles manager's) stays, holding {}
        path.unlink()
        return _Outcome.DELETED
    _write_atomically(path, data)
    return _Outcome.REMOVED


# --- public API ----------------------------------------------------------------------------------


def enable(
    scope: Scope = "sys-prefix", *, prefix: str | Path | None = None, path: str | Path | None = None
) -> Path:
    """Add ``qoder_jupyter`` to ``InteractiveShellApp.extra_extensions`` in the config file of
    ``scope`` (or ``path``), keeping every other key and entry; returns the file.

    Idempotent. Raises :class:`ConfigFileError`, changing nothing, when the file is not a JSON
    object or a ``.py`` config beside it sets the same list.
    """
    target = Path(path) if path is not None else config_path(scope, prefix=prefix)
    _add(target)
    return target


def disable(
    scope: Scope = "sys-prefix", *, prefix: str | Path | None = None, path: str | Path | None = None
) -> Path:
    """Remove ``qoder_jupyter`` (only it) from that list; returns the file.

    The list and section go only when they become empty, and the file only when it becomes ``{}``.
    Idempotent.
    """
    target = Path(path) if path is not None else config_path(scope, prefix=prefix)
    _remove(target)
    return target


def status(*, prefix: str | Path | None = None) -> list[tuple[Path, bool]]:
    """Every ``ipython_kernel_config.json`` a new kernel reads, highest precedence first, each
    with whether it lists ``qoder_jupyter``. (See :func:`problems` for whether it wins.)"""
    report = []
    for folder in _config_dirs(prefix):
        path = folder / (KERNEL_CONFIG + ".json")
        try:
            data = _read(path)
            listed = data is not None and EXTENSION in (_entries(data, path) or [])
        except _Unusable:
            listed = False
        report.append((path, listed))
    return report


def _setters(prefix: str | Path | None) -> tuple[list[tuple[Path, list[str] | None]], list[str]]:
    """The files that set ``extra_extensions``, in load order, each with its list (None: a Python
    config, whose list we cannot know); and a sentence per JSON file kernels cannot read."""
    setters: list[tuple[Path, list[str] | None]] = []
    unreadable = []
    for path in _load_order(prefix):
        if path.suffix == ".py":
            if _py_sets_key(path):
                setters.append((path, None))
            continue
        try:
            data = _read(path)
            entries = _entries(data, path) if data is not None else None
        except _Unusable as error:
            unreadable.append(f"{error}, so kernels skip it or fail to apply it.")
            continue
        if entries is not None:
            setters.append((path, entries))
    return setters, unreadable


def effective(*, prefix: str | Path | None = None) -> tuple[bool | None, Path | None]:
    """Whether new kernels load ``qoder_jupyter`` from config files (None: a Python config decides,
    which cannot be read without running it), and the file whose list wins (None: no file sets
    one). The ``Python 3 (Qoder)`` kernel loads it regardless."""
    setters, _ = _setters(prefix)
    if not setters:
        return False, None
    winner, entries = setters[-1]
    return (None if entries is None else EXTENSION in entries), winner


def problems(*, prefix: str | Path | None = None) -> list[str]:
    """One sentence per config file that gets in the way: a list that replaces the one enabling
    ``qoder_jupyter``, a list that ours replaces, a Python config that may do either, a file
    kernels cannot read. Empty when nothing is in the way."""
    setters, found = _setters(prefix)
    if not setters:
        return found
    winner, winning = setters[-1]
    enabled_before = any(entries is None or EXTENSION in entries for _, entries in setters[:-1])
    if winning is None:
        if enabled_before:
            found.append(
                f"{winner} (a Python config, read after the other files) may set {SECTION}.{KEY}"
                f", replacing the list that enables {EXTENSION}; check that it keeps it."
            )
    elif EXTENSION not in winning:
        if enabled_before:
            found.append(
                f"{winner} sets {SECTION}.{KEY} to {winning} and is read last, so its list "
                f"replaces the one that enables {EXTENSION}. {_by_hand(winner)}"
            )
    else:
        for path, entries in setters[:-1]:
            if entries is None:
                found.append(
                    f"{path} (a Python config) may set {SECTION}.{KEY}, but {winner} is read "
                    "later and its list replaces that one: add any extension it sets there."
                )
                continue
            lost = [entry for entry in entries if entry not in winning]
            if lost:
                found.append(
                    f"{path} lists {lost} in {SECTION}.{KEY}, but {winner} is read later and its "
                    f"list replaces that one, so kernels no longer load them: add them to {winner} "
                    "if you need them."
                )
    return found


# --- command line --------------------------------------------------------------------------------


def _message(outcome: _Outcome, path: Path, scope: Scope) -> str:
    flag = " --user" if scope == "user" else ""
    name, key = f'"{EXTENSION}"', f"{SECTION}.{KEY}"
    return {
        _Outcome.ADDED: f"Enabled: added {name} to {key} in {path} (other settings kept). "
        f"New kernels load the extension. Undo with: qoder-jupyter disable{flag}",
        _Outcome.ALREADY: f"Already enabled: {key} in {path} lists {name}; nothing changed. "
        f"Undo with: qoder-jupyter disable{flag}",
        _Outcome.REMOVED: f"Disabled: removed {name} from {key} in {path} (other settings kept). "
        f"Redo with: qoder-jupyter enable{flag}",
        _Outcome.DELETED: f"Disabled: removed {name} from {key}; {path} held nothing else and "
        f"was deleted. Redo with: qoder-jupyter enable{flag}",
        _Outcome.ABSENT: f"Not enabled in {path}; nothing changed.",
    }[outcome]


def _parser() -> argparse.ArgumentParser:
    scope = argparse.ArgumentParser(add_help=False)
    scope.set_defaults(scope="sys-prefix")
    where = scope.add_mutually_exclusive_group()
    where.add_argument(
        "--sys-prefix",
        dest="scope",
        action="store_const",
        const="sys-prefix",
        help=f"this environment's kernels: {config_path('sys-prefix')} (the default)",
    )
    where.add_argument(
        "--user",
        dest="scope",
        action="store_const",
        const="user",
        help="every kernel this user starts, in any environment: "
        f"{config_path('user')} (follows $IPYTHONDIR)",
    )
    parser = argparse.ArgumentParser(
        prog="qoder-jupyter",
        description=f"Load the {EXTENSION} IPython extension in every new kernel, or stop.",
        epilog='Without auto-loading: run "%load_ext qoder_jupyter" in a notebook, or choose the '
        '"Python 3 (Qoder)" kernel.',
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "enable", parents=[scope], help="add the extension to the config file (merging)"
    )
    commands.add_parser("disable", parents=[scope], help="remove it (and nothing else)")
    commands.add_parser("status", help="show which config files enable it")
    parser.set_defaults(scope="sys-prefix")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``qoder-jupyter enable|disable|status [--user|--sys-prefix]``; returns the exit status."""
    arguments = _parser().parse_args(argv)
    scope: Scope = arguments.scope
    try:
        if arguments.command == "status":
            for path, listed in status():
                print(f"{'enabled' if listed else '-':8} {path}")
        else:
            path = config_path(scope)
            outcome = _add(path) if arguments.command == "enable" else _remove(path)
            print(_message(outcome, path, scope))
        loads, winner = effective()
    except ConfigFileError as error:
        print(f"qoder-jupyter: error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"qoder-jupyter: {error.hint}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"qoder-jupyter: error: {error}", file=sys.stderr)
        if isinstance(error, PermissionError) and scope == "sys-prefix":
            print(
                f"qoder-jupyter: for your own kernels only: qoder-jupyter {arguments.command} "
                "--user",
                file=sys.stderr,
            )
        return 1
    if arguments.command == "status" or (arguments.command == "disable" and loads is not False):
        print(_summary(loads, winner))
    for problem in problems():
        print(f"Warning: {problem}", file=sys.stderr)
    return 0


def _summary(loads: bool | None, winner: Path | None) -> str:
    if loads is None:
        return f"New kernels load {EXTENSION}: unknown ({winner} is a Python config that decides)."
    if loads:
        return f"New kernels load {EXTENSION}: yes (the list in {winner})."
    return f"New kernels load {EXTENSION}: no (enable with: qoder-jupyter enable [--user])."


if __name__ == "__main__":
    sys.exit(main())
