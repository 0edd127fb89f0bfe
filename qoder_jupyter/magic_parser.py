"""The ``%qoder_env`` command line: split like a shell, parsed by one argparse parser per command.

Owned by the magic (:mod:`qoder_jupyter.magics`); it is the only parser of ``%qoder_env`` lines, so
the tests that fuzz it exercise exactly what users run. The flags of ``create`` and ``update`` come
from the spec's table of fields (:data:`~qoder_jupyter.spec.FIELDS`), which also writes them back
(:meth:`~qoder_jupyter.spec.EnvironmentSpec.to_magic`). Parsers never print and never exit: every
mistake is a :class:`~qoder_jupyter.errors.ValidationError` (field ``magic``) naming the fix.
"""

from __future__ import annotations

import argparse
import re
import shlex
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

from ._text import quoted
from .errors import Problem, ValidationError
from .spec import FIELDS, EnvironmentSpec

__all__ = ["COMMANDS", "HelpRequested", "build_parsers", "parse", "spec_values"]

COMMANDS = {
    "create": "Create an environment (the default command when the line starts with a flag). "
    "With %%qoder_env the cell holds the request body as JSON (or YAML); flags override it.",
    "apply": "Make the environment of the spec's name match the spec: create it when there is "
    "none, update what differs (showing the diff), or send nothing when it already matches, so a "
    "re-run changes nothing. Same flags as create; --from or a %%qoder_env cell (JSON or YAML) "
    "may hold one environment or a list of them.",
    "list": "List environments, newest first (all of them unless --limit).",
    "get": "Fetch one environment.",
    "manage": "Open the environment manager: one widget with a table of environments (newest "
    "first, a page at a time) to search, sort and page through, and buttons to show, edit, clone, "
    "archive or delete the ones ticked (archive and delete ask first, and take several at once). "
    "Store selection puts the ticked ones into a variable (-o VAR, default selected).",
    "update": "Change an environment: name, description, scope, metadata (--meta sets, "
    "--unset-meta removes), or config flags (the other config fields are kept; a list flag such "
    "as --pip replaces its list, --add-pip and --remove-pip edit it; --config-type self_hosted "
    "keeps only the setup script). With %%qoder_env the cell holds the update body as JSON (or "
    "YAML).",
    "archive": "Archive an environment: it can host no new sessions (there is no unarchive).",
    "delete": "Delete an environment. Given as a variable (%qoder_env delete env), that "
    "variable's environment is marked deleted: its card says so and its methods refuse. Given "
    "as an id or a name, the answer goes into the variable deleted (or -o VAR).",
    "config": "Show every setting, its value and where it came from, and whether a token is set.",
    "login": "Ask for a token with a hidden prompt and keep it in memory for this session only.",
}

_EXAMPLES = {
    "create": """examples:
  %qoder_env                       (opens the form)
  %qoder_env create --name doc-test-env --network limited --apt curl
  %qoder_env create --form --from env   (the form, prefilled with a copy of env)
  %qoder_env create --name ds --network allowlist --allow-host pypi.org files.pythonhosted.org \\
      --allow-package-managers --pip "pandas>=2" numpy --meta team=data -o ds
  %qoder_env create --name agents --scope organization --allow-mcp-servers
  %qoder_env create --name runner --config-type self_hosted --setup-script "make setup"
  %qoder_env create --name tools --cargo ripgrep --gem rails
      (cargo, gem and go lists are kept but not installed: a warning says so)
  %qoder_env create --from base_spec --name copy-of-base --dry-run
  %qoder_env create --from environment.json""",
    "apply": """examples:
  %qoder_env apply --name ds --network limited --pip "pandas>=2" -o ds
      (creates ds the first time; a re-run sends nothing; an edited line updates ds in place)
  %qoder_env apply --name ds --pip "pandas>=2" scipy --dry-run -o plan   (show the diff only)
  %qoder_env apply --from environments.yaml      (one environment, or a list of them)
  %qoder_env apply --name ds --packages-from requirements.txt package.json apt.txt
  %qoder_env apply --name ds --packages-from pyproject.toml --extras excel --group test
  %qoder_env apply --name ds --from-kernel --imported-only""",
    "list": """examples:
  %qoder_env list
  %qoder_env list --all --limit 50 -o everything""",
    "manage": """examples:
  %qoder_env manage
  %qoder_env manage --all --search research --rows 50 -o picked""",
    "get": """examples:
  %qoder_env get env_019e3bb39b6774d8878cd0b9d237574b -o env
  %qoder_env get env              (refetch the environment stored in the variable env)""",
    "update": """examples:
  %qoder_env update env_019e… --description "for the Q3 study" --meta owner=ana
  %qoder_env update env_019e… --unset-meta owner
  %qoder_env update env_019e… --pip "pandas>=2" scipy   (replaces the pip list)
  %qoder_env update env_019e… --add-pip "pandas>=2.2" --remove-pip numpy   (edits it)
  %qoder_env update env_019e… --add-host files.pythonhosted.org --remove-host example.com
  %qoder_env update env_019e… --packages-from requirements.txt   (adds to the lists)
  %qoder_env update env_019e… --add-apt git --dry-run   (shows the diff, sends nothing)
  %qoder_env update env_019e… --scope account --allow-mcp-servers
  %qoder_env update env --form   (the form on the live environment: a diff, then Update)""",
    "archive": "example:\n  %qoder_env archive env_019e3bb39b6774d8878cd0b9d237574b",
    "delete": """examples:
  %qoder_env delete env           (env now shows the environment as deleted)
  %qoder_env delete env_019e3bb39b6774d8878cd0b9d237574b   (the answer goes into deleted)
  %qoder_env delete my-env-name   (the unarchived environment of that name)""",
    "config": "example:\n  %qoder_env config\n  %config QoderEnv.base_url = 'http://127.0.0.1:8765/api/v1/cloud'",
    "login": "example:\n  %qoder_env login",
}

_TAKES_ID = ("get", "update", "archive", "delete")
_TAKES_SPEC = ("create", "apply", "update")

#: The lists ``update`` can edit in place: ``--add-X`` / ``--remove-X`` (trait, flag suffix).
EDITABLE_LISTS = (("apt", "apt"), ("pip", "pip"), ("npm", "npm"), ("allowed_hosts", "host"))


class HelpRequested(Exception):
    """The line asked for help (``--help``, ``-h``, ``help``): ``text`` is what to show."""

    def __init__(self, text: str) -> None:
        self.text = text


def parse(parsers: dict[str, argparse.ArgumentParser], line: str) -> tuple[str, argparse.Namespace]:
    """The command and its arguments. Raises :class:`HelpRequested` for a help request and
    :class:`ValidationError` for anything that does not parse."""
    words = _split(line)
    if not words:
        words = ["--form"]  # %qoder_env alone opens the form
    if words[0] in ("help", "-h", "--help"):
        raise HelpRequested(_help(parsers, words[1:2]))
    command = "create" if words[0].startswith("-") else words.pop(0)
    if command not in parsers:
        known = ", ".join(parsers)
        raise ValidationError(
            [Problem("magic", f"Unknown command {command!r}: use one of {known}.")]
        )
    if "-h" in words or "--help" in words:
        raise HelpRequested(parsers[command].format_help())
    return command, parsers[command].parse_args(words)


def spec_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The spec's trait values a parsed line gives, by trait name: only the flags that were used,
    so they can be laid over another spec. Raises :class:`ValidationError` for a bad ``--meta``."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for field in FIELDS:
        value = getattr(namespace, field.trait, None)
        if value is None or value is False:
            continue
        values[field.trait] = _parse_meta(value, problems) if field.kind == "map" else value
    if problems:
        raise ValidationError(problems)
    return values


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:
        raise ValidationError(
            [
                Problem(
                    "magic",
                    f"The line cannot be split into words ({str(error).lower()}): close every "
                    "quote, and write a lone quote or a trailing backslash as \\' or \\\\.",
                )
            ]
        ) from None


def _help(parsers: dict[str, argparse.ArgumentParser], topic: list[str]) -> str:
    if topic and topic[0] in parsers:
        return parsers[topic[0]].format_help()
    lines = ["%qoder_env COMMAND [options] — create and manage Qoder cloud environments", ""]
    for name in parsers:
        lines += textwrap.wrap(
            COMMANDS[name], 88, initial_indent=f"  {name:<9}", subsequent_indent=" " * 11
        )
    lines += ["", "%qoder_env COMMAND --help explains one command, with examples."]
    return "\n".join(lines)


# KEY=VALUE: the key runs to the first '=' not escaped by a backslash ('\=' is an '=' of the key,
# '\\' a backslash); the value is the rest, as it is.
_META_ITEM = re.compile(r"((?:\\[\\=]|[^=])*)(=?)(.*)", re.DOTALL)
_META_ESCAPE = re.compile(r"\\([\\=])")


def _parse_meta(items: Sequence[str], problems: list[Problem]) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict, split at the first unescaped '=' so values may contain '='
    (and keys too, written '\\=')."""
    metadata: dict[str, str] = {}
    for item in items:
        raw_key, sep, value = _META_ITEM.fullmatch(item).groups()  # type: ignore[union-attr]
        key = _META_ESCAPE.sub(r"\1", raw_key)
        shown = quoted(item)
        if not sep:
            message = f"--meta {shown} has no '=': write KEY=VALUE, e.g. --meta team=data."
        elif not key:
            message = f"--meta {shown} has an empty key: write KEY=VALUE."
        elif key in metadata:
            message = f"--meta key {quoted(key)} is given twice: keep one."
        else:
            metadata[key] = value
            continue
        problems.append(Problem("magic", message))
    return metadata


# --- the parsers ---------------------------------------------------------------------------------


class _RaisingArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`ValidationError` (field ``magic``) instead of printing
    and exiting."""

    def error(self, message: str) -> NoReturn:
        if "expected" in message and "argument" in message:
            message += " (write a value that starts with '-' as --flag=VALUE)"
        raise ValidationError(
            [Problem("magic", f"{message}. {self.prog} --help lists the options.")]
        )

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        self.error((message or f"the parser asked to exit with status {status}").strip())


class _TextAction(argparse.Action):
    """Store one value. argparse up to Python 3.12 drops a ``--`` value (``--name=--`` gives []),
    and that is the only way to get a non-string here, so it stands for ``--``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values if isinstance(values, str) else "--")


class _ExtendAction(argparse.Action):
    """``nargs="+"`` values that accumulate over repeated flags; ``--flag=--`` as above."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items = list(values) if values else ["--"]
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), *items])


def build_parsers() -> dict[str, argparse.ArgumentParser]:
    """One parser per command, in the order of :data:`COMMANDS`."""
    return {command: _parser(command) for command in COMMANDS}


def _parser(command: str) -> argparse.ArgumentParser:
    parser = _RaisingArgumentParser(
        prog=f"%qoder_env {command}",
        description=COMMANDS[command],
        epilog=_EXAMPLES[command],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
        allow_abbrev=False,
    )
    if command in _TAKES_ID:
        parser.add_argument(
            "id",
            metavar="ID",
            help="an environment id (env_…), a variable holding an environment, or the name of "
            "an unarchived environment",
        )
    if command in _TAKES_SPEC:
        _add_spec_arguments(parser, replaces=command == "update")
        parser.add_argument("--dry-run", action="store_true", help=_DRY_RUN[command])
        _add_import_arguments(parser)
    _ADD_OWN_ARGUMENTS.get(command, lambda _: None)(parser)
    if command not in ("config", "login"):
        parser.add_argument(
            "--workspace",
            metavar="WS",
            help="the workspace id for this call (default: the QoderEnv.workspace setting)",
        )
        parser.add_argument(
            "-o",
            "--out",
            metavar="VAR",
            type=_identifier,
            help="the variable that receives the result",
        )
    return parser


def _add_spec_arguments(parser: argparse.ArgumentParser, *, replaces: bool = False) -> None:
    """The spec's flags (dest = trait name; absent flags stay None). The name is not required
    here: it may come from a file or a cell body, and a missing one is a spec problem.
    ``replaces``: the flags change an environment, so a list flag's help says it replaces."""
    editable = dict(EDITABLE_LISTS)
    for field in FIELDS:
        help_text = EnvironmentSpec.class_traits()[field.trait].help
        if replaces and field.kind == "list":
            help_text += " Replaces the whole list"
            if field.trait in editable:
                suffix = editable[field.trait]
                help_text += f" (to edit it, use --add-{suffix} / --remove-{suffix})"
            help_text += "."
        if field.kind == "flag":
            parser.add_argument(field.flag, dest=field.trait, action="store_true", help=help_text)
            continue
        many = field.kind != "text"
        parser.add_argument(
            field.flag,
            dest=field.trait,
            metavar=field.metavar,
            nargs="+" if many else None,
            action=_ExtendAction if many else _TextAction,
            help=help_text,
        )


_DRY_RUN = {
    "create": "show the request (JSON body, curl, magic line) and send nothing; -o VAR stores the "
    "spec",
    "apply": "show the plan (create, update with the diff, or unchanged) and write nothing; "
    "-o VAR stores the plan",
    "update": "show the diff and the request and send nothing; -o VAR stores the update",
}


def _add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """Package lists from the user's own files and kernel (added after the list flags' entries;
    on update, added to the environment's lists)."""
    parser.add_argument(
        "--packages-from",
        nargs="+",
        action="extend",
        metavar="FILE",
        help="take packages from requirements*.txt, pyproject.toml, environment.yml, package.json "
        "or apt.txt (kind told by the file name); a report says what was left out and why",
    )
    parser.add_argument(
        "--extras",
        type=_names,
        default=[],
        metavar="A,B",
        help="with a pyproject.toml: also these optional-dependency groups",
    )
    parser.add_argument(
        "--group",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="with a pyproject.toml: also these dependency groups (PEP 735)",
    )
    parser.add_argument(
        "--dev", action="store_true", help="with a package.json: also its devDependencies"
    )
    parser.add_argument(
        "--from-kernel",
        action="store_true",
        help="pin this kernel's installed third-party packages (name==version), leaving out "
        "pip/setuptools/wheel and what only runs Jupyter",
    )
    parser.add_argument(
        "--imported-only",
        action="store_true",
        help="with --from-kernel: only the packages this kernel has imported",
    )
    parser.add_argument(
        "--include-jupyter",
        action="store_true",
        help="with --from-kernel: keep the packages that run Jupyter (ipykernel, jupyter_*...)",
    )


def _add_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--form",
        action="store_true",
        help="open the form, prefilled from the other flags (as %%qoder_env alone does)",
    )
    _add_from_argument(parser, "start from a spec/Environment/dict variable or a .json/.yaml file")
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="reuse the key of a create whose outcome was unknown (never creates twice)",
    )


def _add_from_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--from", dest="source", metavar="VAR|FILE", help=help_text)


def _add_apply_arguments(parser: argparse.ArgumentParser) -> None:
    _add_from_argument(
        parser,
        "start from a spec/Environment/dict variable (or a list of them) or a .json/.yaml file "
        "holding one environment or a list",
    )


def _add_update_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--form",
        action="store_true",
        help="open the form on the live environment (the line's flags laid over it): it shows "
        "the diff and Update sends it",
    )
    parser.add_argument(
        "--unset-meta", nargs="+", action="extend", metavar="KEY", help="remove these metadata keys"
    )
    for trait, suffix in EDITABLE_LISTS:
        hosts = trait == "allowed_hosts"
        what = "allowed hosts" if hosts else f"{trait} packages"
        edits = (
            ("add", "HOST" if hosts else "PKG", f"add to the {what}, keeping the rest", _SAME),
            ("remove", "HOST" if hosts else "NAME", f"remove from the {what}", _BY_NAME),
        )
        for verb, metavar, help_text, package_note in edits:
            parser.add_argument(
                f"--{verb}-{suffix}",
                dest=f"{verb}_{trait}",
                nargs="+",
                action="extend",
                metavar=metavar,
                help=help_text + ("" if hosts else package_note),
            )


_SAME = " (an entry of the same package replaces the one there)"
_BY_NAME = " (by name: 'pandas' removes 'pandas>=2')"


def _add_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="include archived ones")
    parser.add_argument("--limit", type=_positive_int, help="at most this many")


def _add_manage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="include archived ones")
    parser.add_argument("--search", metavar="TEXT", default="", help="start with this search")
    parser.add_argument(
        "--rows", type=_positive_int, default=20, help="environments a page shows (default 20)"
    )


_ADD_OWN_ARGUMENTS = {
    "create": _add_create_arguments,
    "apply": _add_apply_arguments,
    "update": _add_update_arguments,
    "list": _add_list_arguments,
    "manage": _add_manage_arguments,
}


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names nothing: write names separated by ','")
    return names


def _identifier(text: str) -> str:
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Python variable name")
    return text
