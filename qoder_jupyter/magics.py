"""``%qoder_env`` and ``%%qoder_env``: thin adapters that parse, call the client, store the result
in a variable and return it for display. Every rule lives below (spec, client); nothing here imports
httpx or ipywidgets until a command needs them.
"""

from __future__ import annotations

import argparse
import getpass
import html
import itertools
import json
import shlex
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from .credentials import Token
from .environment import DeletedEnvironment, Environment, EnvironmentPage
from .errors import Problem, QoderError, ValidationError
from .session import Session
from .settings import QoderEnv
from .spec import (
    EnvironmentSpec,
    RaisingArgumentParser,
    add_spec_arguments,
    curl_command,
    namespace_values,
)

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .client import Environments
    from .forms import EnvironmentForm

__all__ = ["QoderEnvMagics", "RequestPreview", "register", "unregister"]

T = TypeVar("T")

#: Results a default variable may be overwritten with silently (anything else is warned about).
_OURS = (Environment, EnvironmentPage, DeletedEnvironment, EnvironmentSpec)
_CONFIG_TRAITS = (
    "networking",
    "allowed_hosts",
    "allow_package_managers",
    "apt",
    "pip",
    "npm",
    "setup_script",
)

_EXAMPLES = {
    "create": """examples:
  %qoder_env                       (opens the form)
  %qoder_env create --name doc-test-env --network limited --apt curl
  %qoder_env create --form --from env   (the form, prefilled with a copy of env)
  %qoder_env create --name ds --network allowlist --allow-host pypi.org files.pythonhosted.org \\
      --allow-package-managers --pip "pandas>=2" numpy --meta team=data -o ds
  %qoder_env create --from base_spec --name copy-of-base --dry-run
  %qoder_env create --from environment.json""",
    "list": """examples:
  %qoder_env list
  %qoder_env list --all --limit 50 -o everything""",
    "get": """examples:
  %qoder_env get env_019e3bb39b6774d8878cd0b9d237574b -o env
  %qoder_env get env              (refetch the environment stored in the variable env)""",
    "update": """examples:
  %qoder_env update env_019e… --description "for the Q3 study" --meta owner=ana
  %qoder_env update env_019e… --unset-meta owner
  %qoder_env update env_019e… --pip "pandas>=2" scipy   (replaces the pip list)""",
    "archive": "example:\n  %qoder_env archive env_019e3bb39b6774d8878cd0b9d237574b",
    "delete": "example:\n  %qoder_env delete env_019e3bb39b6774d8878cd0b9d237574b",
    "config": "example:\n  %qoder_env config\n  %config QoderEnv.base_url = 'http://127.0.0.1:8765/api/v1/cloud'",
    "login": "example:\n  %qoder_env login",
}

_DESCRIPTIONS = {
    "create": "Create an environment (the default command when the line starts with a flag). "
    "With %%qoder_env the cell holds the request body as JSON (or YAML); flags override it.",
    "list": "List environments, newest first (all of them unless --limit).",
    "get": "Fetch one environment.",
    "update": "Change an environment: name, description, metadata (--meta sets, --unset-meta "
    "removes), or config flags (the other config fields are kept). With %%qoder_env the cell "
    "holds the update body as JSON (or YAML).",
    "archive": "Archive an environment: it can host no new sessions (there is no unarchive).",
    "delete": "Delete an environment.",
    "config": "Show every setting, its value and where it came from, and whether a token is set.",
    "login": "Ask for a token with a hidden prompt and keep it in memory for this session only.",
}


class _HelpRequested(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


@magics_class
class QoderEnvMagics(Magics):
    """The ``%qoder_env`` / ``%%qoder_env`` magics; settings are :class:`QoderEnv` traits."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.settings = QoderEnv(parent=shell)
        self.session = Session(self.settings)
        self._parsers = _build_parsers()

    @line_cell_magic
    @no_var_expand
    def qoder_env(self, line: str, cell: str | None = None) -> Any:
        """Create and manage Qoder cloud environments. ``%qoder_env --help`` lists the commands;
        ``%qoder_env COMMAND --help`` explains one."""
        try:
            command, namespace = self._parse(line)
        except _HelpRequested as request:
            print(request.text)
            return None
        return self._handlers()[command](namespace, cell)

    # --- parsing ---------------------------------------------------------------------------------

    def _parse(self, line: str) -> tuple[str, argparse.Namespace]:
        words = _split(line)
        if not words:
            words = ["--form"]  # %qoder_env alone opens the form
        if words[0] in ("help", "-h", "--help"):
            raise _HelpRequested(self._help(words[1:2]))
        command = "create" if words[0].startswith("-") else words.pop(0)
        if command not in self._parsers:
            known = ", ".join(self._parsers)
            raise ValidationError(
                [Problem("magic", f"Unknown command {command!r}: use one of {known}.")]
            )
        if "-h" in words or "--help" in words:
            raise _HelpRequested(self._parsers[command].format_help())
        return command, self._parsers[command].parse_args(words)

    def _help(self, topic: list[str]) -> str:
        if topic and topic[0] in self._parsers:
            return self._parsers[topic[0]].format_help()
        lines = ["%qoder_env COMMAND [options] — create and manage Qoder cloud environments", ""]
        for name in self._parsers:
            lines += textwrap.wrap(
                _DESCRIPTIONS[name], 88, initial_indent=f"  {name:<9}", subsequent_indent=" " * 11
            )
        lines += ["", "%qoder_env COMMAND --help explains one command, with examples."]
        return "\n".join(lines)

    def _handlers(self) -> dict[str, Callable[[argparse.Namespace, str | None], Any]]:
        return {
            "create": self._create,
            "list": self._list,
            "get": self._get,
            "update": self._update,
            "archive": self._archive,
            "delete": self._delete,
            "config": self._config,
            "login": self._login_prompt,
        }

    # --- commands --------------------------------------------------------------------------------

    def _create(self, args: argparse.Namespace, cell: str | None) -> Any:
        spec = self._starting_spec(args.source, cell)
        _lay_over(spec, namespace_values(args))
        if args.form:
            return self.open_form(spec, variable=args.out)
        spec.validate()
        base_url = self.settings.effective_base_url().value
        if args.dry_run:
            return RequestPreview.for_create(spec, base_url)
        environment = self._environments().create(spec, idempotency_key=args.idempotency_key)
        return self._store(self._out(args), environment)

    def _list(self, args: argparse.Namespace, cell: str | None) -> EnvironmentPage:
        _no_cell(cell, "list")
        found = self._environments().list_all(
            include_archived=args.all or None, limit=min(args.limit or 100, 100)
        )
        items = list(itertools.islice(found, args.limit + 1 if args.limit else None))
        more = bool(args.limit) and len(items) > args.limit
        page = EnvironmentPage(data=tuple(items[: args.limit or None]), has_more=more)
        return self._store(args.out or self.settings.list_variable, page)

    def _get(self, args: argparse.Namespace, cell: str | None) -> Environment:
        _no_cell(cell, "get")
        environment = self._environments().retrieve(self._id(args.id))
        return self._store(self._out(args), environment)

    def _update(self, args: argparse.Namespace, cell: str | None) -> Any:
        changes = _update_changes(args, cell)
        config_flags = {k: v for k, v in namespace_values(args).items() if k in _CONFIG_TRAITS}
        if config_flags:  # a sent config replaces the stored one: start from the full config
            if "config" in changes:
                base = EnvironmentSpec.from_body({"name": "-", "config": changes["config"]})
            else:
                base = self._environments().retrieve(self._id(args.id)).to_spec()
            _lay_over(base, config_flags)
            changes["config"] = base
        if args.dry_run:
            from ._core import update_body  # the core loads on first use, not at %load_ext

            body = update_body(**{k: changes.get(k) for k in _UPDATE_FIELDS})
            return RequestPreview.for_update(
                self._id(args.id), body, self.settings.effective_base_url().value
            )
        environment = self._environments().update(self._id(args.id), **changes)
        return self._store(self._out(args), environment)

    def _archive(self, args: argparse.Namespace, cell: str | None) -> Environment:
        _no_cell(cell, "archive")
        environment = self._environments().archive(self._id(args.id))
        return self._store(self._out(args), environment)

    def _delete(self, args: argparse.Namespace, cell: str | None) -> DeletedEnvironment:
        _no_cell(cell, "delete")
        return self._store(args.out or "deleted", self._environments().delete(self._id(args.id)))

    def _config(self, args: argparse.Namespace, cell: str | None) -> SettingsReport:
        _no_cell(cell, "config")
        rows = [(s.name, s.value, s.source) for s in self.settings.report()]
        return SettingsReport(rows=[*rows, ("token", self._token_status(), "")])

    def _token_status(self) -> str:
        """Whether a token is set and where from; never the token."""
        if self.session.login is not None:
            return "set (from %qoder_env login, in memory only)"
        try:
            return f"set (from ${self.settings.find_token()[1]})"
        except QoderError:
            names = " or ".join(self.settings.token_variables())
            return f"not set: run %qoder_env login, or set {names}"

    def _login_prompt(self, args: argparse.Namespace, cell: str | None) -> None:
        _no_cell(cell, "login")
        secret = getpass.getpass("Qoder personal access token (pt-…, input hidden): ")
        if not secret.strip():
            raise ValidationError([Problem("token", "No token was entered; nothing changed.")])
        self.session.login = Token(secret)
        del secret
        print("Token kept in memory for this kernel session only; it is not saved anywhere.")

    # --- helpers ---------------------------------------------------------------------------------

    def _environments(self) -> Environments:
        return self.session.environments()

    def open_form(self, spec: EnvironmentSpec | None, *, variable: str | None) -> EnvironmentForm:
        """The form, sharing this session (settings, login, clients); the result lands in the
        notebook's namespace."""
        from .forms import EnvironmentForm

        return EnvironmentForm(
            spec,
            variable=variable or self.settings.variable,
            session=self.session,
            namespace=self._user_ns(),
        )

    def close(self) -> None:
        self.session.close()

    def _starting_spec(self, source: str | None, cell: str | None) -> EnvironmentSpec:
        if source and cell and cell.strip():
            raise ValidationError(
                [Problem("magic", "Give the request in the cell or with --from, not both.")]
            )
        if cell and cell.strip():
            return EnvironmentSpec.from_body(_read_body(cell, "the cell"))
        if source:
            return self._spec_from(source)
        return EnvironmentSpec()

    def _spec_from(self, source: str) -> EnvironmentSpec:
        namespace = self._user_ns()
        if source.isidentifier() and source in namespace:
            value = namespace[source]
            if isinstance(value, EnvironmentSpec):
                return value.copy()
            if isinstance(value, Environment):
                return value.to_spec()
            if isinstance(value, Mapping):
                return EnvironmentSpec.from_body(value)
            raise ValidationError(
                [
                    Problem(
                        "--from",
                        f"{source} is a {type(value).__name__}: give an EnvironmentSpec, an "
                        "Environment, a dict request body, or a .json/.yaml file.",
                    )
                ]
            )
        path = Path(source).expanduser()
        if path.is_file():
            return EnvironmentSpec.from_body(_read_body(path.read_text("utf-8"), str(path)))
        raise ValidationError(
            [Problem("--from", f"There is no variable or file named {source!r}.")]
        )

    def _id(self, given: str) -> str:
        """An environment id as typed, or the id of the Environment in the variable named so."""
        value = self._user_ns().get(given) if given.isidentifier() else None
        return value.id if isinstance(value, Environment) else given

    def _out(self, args: argparse.Namespace) -> str:
        """Where an environment result goes: -o, else the variable the ID was given as (so
        ``%qoder_env update ds ...`` updates ``ds``), else the default variable."""
        given = getattr(args, "id", "")
        if args.out:
            return str(args.out)
        if given.isidentifier() and isinstance(self._user_ns().get(given), Environment):
            return str(given)
        return self.settings.variable

    def _user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    def _store(self, name: str, value: T) -> T:
        namespace = self._user_ns()
        previous = namespace.get(name)
        if name in namespace and not isinstance(previous, _OURS):
            print(
                f"Warning: {name} held a {type(previous).__name__}; it now holds the result "
                "(use -o NAME to choose another variable).",
                file=sys.stderr,
            )
        namespace[name] = value
        print(f"Stored in {name}.")
        return value


_UPDATE_FIELDS = ("name", "description", "config", "metadata")


def _update_changes(args: argparse.Namespace, cell: str | None) -> dict[str, Any]:
    """The update's name/description/metadata changes from the cell body and the flags."""
    changes: dict[str, Any] = {}
    if cell and cell.strip():
        body = _read_body(cell, "the cell")
        unknown = sorted(set(body) - set(_UPDATE_FIELDS))
        if unknown:
            raise ValidationError(
                [
                    Problem(
                        key, f"Unknown field {key!r}: an update takes {', '.join(_UPDATE_FIELDS)}."
                    )
                    for key in unknown
                ]
            )
        changes.update(body)
    flags = namespace_values(args)
    changes.update({k: flags[k] for k in ("name", "description") if k in flags})
    metadata = dict(changes.get("metadata") or {})
    metadata.update(flags.get("metadata", {}))
    metadata.update(dict.fromkeys(args.unset_meta or []))
    if metadata:
        changes["metadata"] = metadata
    return changes


def _lay_over(spec: EnvironmentSpec, values: Mapping[str, Any]) -> None:
    """Set the given traits on ``spec``; metadata keys are added to what is there."""
    for trait, value in values.items():
        if trait == "metadata":
            value = {**spec.metadata, **value}
        setattr(spec, trait, value)


def _read_body(text: str, where: str) -> dict[str, Any]:
    """A request body written as JSON, or as YAML when PyYAML is installed."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        body = _read_yaml(text, where, error)
    if not isinstance(body, dict):
        raise ValidationError(
            [
                Problem(
                    "body", f"{where} must hold a JSON object ({{...}}), not {type(body).__name__}."
                )
            ]
        )
    return body


def _read_yaml(text: str, where: str, json_error: json.JSONDecodeError) -> Any:
    json_problem = f"{json_error.msg} at line {json_error.lineno}, column {json_error.colno}"
    try:
        import yaml
    except ImportError:
        raise ValidationError(
            [
                Problem(
                    "body",
                    f"{where} is not valid JSON ({json_problem}). (For YAML, install PyYAML.)",
                )
            ]
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError(
            [Problem("body", f"{where} is neither JSON ({json_problem}) nor YAML ({error}).")]
        ) from None


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:
        raise ValidationError(
            [Problem("magic", f"The line cannot be split into words ({error}): close every quote.")]
        ) from None


def _no_cell(cell: str | None, command: str) -> None:
    if cell and cell.strip():
        raise ValidationError(
            [
                Problem(
                    "magic", f"%%qoder_env {command} takes no cell body; use %qoder_env {command}."
                )
            ]
        )


def _build_parsers() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}
    for command in _DESCRIPTIONS:
        parser = RaisingArgumentParser(
            prog=f"%qoder_env {command}",
            description=_DESCRIPTIONS[command],
            epilog=_EXAMPLES[command],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=False,
            allow_abbrev=False,
        )
        if command in ("get", "update", "archive", "delete"):
            parser.add_argument(
                "id", metavar="ID", help="an environment id (env_…), or a variable holding one"
            )
        if command in ("create", "update"):
            add_spec_arguments(parser, require_name=False)
            parser.add_argument(
                "--dry-run",
                action="store_true",
                help="show the request (JSON body, curl, magic line) and send nothing",
            )
        if command == "create":
            parser.add_argument(
                "--form",
                action="store_true",
                help="open the form, prefilled from the other flags (as %%qoder_env alone does)",
            )
            parser.add_argument(
                "--from",
                dest="source",
                metavar="VAR|FILE",
                help="start from a spec/Environment/dict variable or a .json/.yaml file",
            )
            parser.add_argument(
                "--idempotency-key",
                metavar="KEY",
                help="reuse the key of a create whose outcome was unknown (never creates twice)",
            )
        if command == "update":
            parser.add_argument(
                "--unset-meta",
                nargs="+",
                action="extend",
                metavar="KEY",
                help="remove these metadata keys",
            )
        if command == "list":
            parser.add_argument("--all", action="store_true", help="include archived ones")
            parser.add_argument("--limit", type=_positive_int, help="at most this many")
        if command not in ("config", "login"):
            parser.add_argument(
                "-o",
                "--out",
                metavar="VAR",
                type=_identifier,
                help="the variable that receives the result",
            )
        parsers[command] = parser
    return parsers


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _identifier(text: str) -> str:
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Python variable name")
    return text


# --- what the commands that do not return an environment display ---------------------------------


@dataclass(frozen=True)
class RequestPreview:
    """What ``--dry-run`` shows: the exact request, as JSON, as curl and as a magic line."""

    method: str
    url: str
    body: dict[str, Any]
    magic: str = ""

    @classmethod
    def for_create(cls, spec: EnvironmentSpec, base_url: str) -> RequestPreview:
        return cls("POST", f"{base_url}/environments", spec.to_body(), spec.to_magic())

    @classmethod
    def for_update(cls, env_id: str, body: dict[str, Any], base_url: str) -> RequestPreview:
        return cls("POST", f"{base_url}/environments/{env_id}", body)

    @property
    def curl(self) -> str:
        return curl_command(self.method, self.url, self.body)

    def _sections(self) -> list[tuple[str, str, str]]:
        sections = [
            (
                f"{self.method} {self.url} (nothing was sent)",
                "json",
                json.dumps(self.body, indent=2, ensure_ascii=False),
            ),
            ("As curl", "bash", self.curl),
        ]
        if self.magic:
            sections.append(("As a magic line", "", self.magic))
        return sections

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        sections = self._sections()
        text = "\n\n".join(f"{title}:\n{body}" for title, _, body in sections)
        markdown = "\n\n".join(
            f"**{title}**\n\n```{lang}\n{body}\n```" for title, lang, body in sections
        )
        page = "".join(
            f"<p><strong>{html.escape(title)}</strong></p><pre>{html.escape(body)}</pre>"
            for title, _, body in sections
        )
        from .display import for_display

        bundle = {
            "text/plain": text,
            "text/markdown": markdown,
            "text/html": f'<div class="qoder-preview">{page}</div>',
            "application/json": {"method": self.method, "url": self.url, "body": self.body},
        }
        return for_display(bundle, include, "application/vnd.qoder.request+json")

    def __repr__(self) -> str:
        return str(self._repr_mimebundle_()["text/plain"])


@dataclass(frozen=True)
class SettingsReport:
    """What ``%qoder_env config`` shows: each setting, its value and its source."""

    rows: list[tuple[str, str, str]]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        width = max(len(name) for name, _, _ in self.rows)
        text = "\n".join(
            f"{name:<{width}}  {value}" + (f"  ({source})" if source else "")
            for name, value, source in self.rows
        )
        cells = "".join(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(value)}</td>"
            f"<td>{html.escape(source)}</td></tr>"
            for name, value, source in self.rows
        )
        table = f"<table><tr><th>setting</th><th>value</th><th>source</th></tr>{cells}</table>"
        return {"text/plain": text, "text/html": table}

    def __repr__(self) -> str:
        return str(self._repr_mimebundle_()["text/plain"])


# --- the extension's entry points ----------------------------------------------------------------


def current_magics() -> QoderEnvMagics | None:
    """The magics of the running IPython, when the extension is loaded."""
    from IPython import get_ipython

    shell = get_ipython()
    found = shell.magics_manager.registry.get(QoderEnvMagics.__name__) if shell else None
    return found if isinstance(found, QoderEnvMagics) else None


def register(shell: InteractiveShell) -> QoderEnvMagics:
    magics = QoderEnvMagics(shell)
    shell.register_magics(magics)
    configurables = cast(list[Any], shell.configurables)
    configurables.append(magics.settings)  # so %config QoderEnv.x = ... reaches it
    return magics


def unregister(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.registry.pop(QoderEnvMagics.__name__, None)
    for kind in ("line", "cell"):
        shell.magics_manager.magics[kind].pop("qoder_env", None)
    if isinstance(magics, QoderEnvMagics):
        magics.close()
        configurables = cast(list[Any], shell.configurables)
        if magics.settings in configurables:
            configurables.remove(magics.settings)
