"""``%qoder_env`` and ``%%qoder_env``: thin adapters that parse, call the client, store the result
in a variable and return it for display. Every rule lives below (spec, rules, client); the command
line is parsed by :mod:`qoder_jupyter.magic_parser`; what is shown is rendered by
:mod:`qoder_jupyter.display`. The form is opened through the ``open_form`` callable the extension
passes in, so this module never imports the forms (nor, until a command needs them, httpx).
"""

from __future__ import annotations

import argparse
import getpass
import itertools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from . import magic_parser
from ._text import type_phrase
from .credentials import Token
from .environment import Environment, EnvironmentPage
from .errors import (
    NoSuchEnvironmentError,
    OutcomeUnknownError,
    Problem,
    QoderError,
    ValidationError,
)
from .session import Session, current, set_current
from .settings import QoderEnv
from .spec import CONFIG_TRAITS, EnvironmentSpec, read_body
from .update import EnvironmentUpdate, edited_list

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .client import Environments
    from .display import SettingsReport
    from .plan import Applied, Plan
    from .sources import PackageImport

__all__ = ["OpenForm", "OpenManager", "QoderEnvMagics", "register", "unregister"]

T = TypeVar("T")

#: Opens the form for a spec, its result going into the named variable (None: the default one).
#: Opens the form on a spec, for a variable; the Environment given (if any) is the one it edits.
OpenForm = Callable[[EnvironmentSpec, "str | None", "Environment | None"], Any]
#: Opens the manager: include archived, the search, rows a page, the variable of Store selection
#: and the workspace.
OpenManager = Callable[[bool, str, int, str, "str | None"], Any]


def _ours(value: object) -> bool:
    """Whether a variable holds something this package made (an environment, a list, a spec, a
    plan...), which a result may replace silently; anything else is warned about."""
    return type(value).__module__.partition(".")[0] == __package__


class ProgressBar(Protocol):
    """How a list apply shows its progress: told of each environment as it ends, then closed."""

    def __call__(self, done: int, total: int, applied: Applied) -> None: ...
    def close(self) -> None: ...


#: Makes the progress display of a list apply (how many, and the verb: "Applying"...).
MakeProgress = Callable[[int, str], ProgressBar]


class TextProgress:
    """Progress as lines of text: where no widget can show (a terminal, nbconvert)."""

    def __init__(self, total: int, verb: str) -> None:
        print(f"{verb} {total} environment{'s' if total != 1 else ''}…")

    def __call__(self, done: int, total: int, applied: Applied) -> None:
        ident = f" ({applied.environment.id})" if applied.environment is not None else ""
        why = f": {applied.reason.splitlines()[0]}" if applied.reason else ""
        print(f"[{done}/{total}] {applied.name}{ident}: {applied.result}{why}")

    def close(self) -> None:
        pass


def _no_form(
    spec: EnvironmentSpec, variable: str | None, editing: Environment | None = None
) -> Any:
    raise ValidationError(
        [Problem("--form", "The form is not available here: load it with %load_ext qoder_jupyter.")]
    )


def _no_manager(*_options: Any) -> Any:
    raise ValidationError(
        [
            Problem(
                "manage", "The manager is not available here: load it with %load_ext qoder_jupyter."
            )
        ]
    )


@magics_class
class QoderEnvMagics(Magics):
    """The ``%qoder_env`` / ``%%qoder_env`` magics; settings are :class:`QoderEnv` traits."""

    def __init__(
        self,
        shell: InteractiveShell,
        *,
        open_form: OpenForm = _no_form,
        open_manager: OpenManager = _no_manager,
        make_progress: MakeProgress = TextProgress,
    ) -> None:
        super().__init__(shell)
        self.settings = QoderEnv(parent=shell)
        self.session = Session(self.settings)
        self._open_form = open_form
        self._open_manager = open_manager
        self._make_progress = make_progress
        self._parsers = magic_parser.build_parsers()

    @line_cell_magic
    @no_var_expand
    def qoder_env(self, line: str, cell: str | None = None) -> Any:
        """Create and manage Qoder cloud environments. ``%qoder_env --help`` lists the commands;
        ``%qoder_env COMMAND --help`` explains one."""
        try:
            command, namespace = magic_parser.parse(self._parsers, line)
        except magic_parser.HelpRequested as request:
            print(request.text)
            return None
        return self._handlers()[command](namespace, cell)

    def _handlers(self) -> dict[str, Callable[[argparse.Namespace, str | None], Any]]:
        return {
            "create": self._create,
            "apply": self._apply,
            "list": self._list,
            "get": self._get,
            "manage": self._manage,
            "update": self._update,
            "archive": self._archive,
            "delete": self._delete,
            "config": self._config,
            "login": self._login_prompt,
        }

    # --- commands --------------------------------------------------------------------------------

    def _create(self, args: argparse.Namespace, cell: str | None) -> Any:
        spec = self._starting_spec(args.source, cell)
        self._lay_over_line(spec, args)
        if args.form:
            return self._open_form(spec, args.out, None)
        _warn(spec.warnings())
        if args.dry_run:
            url = f"{self.session.base_url}/environments"
            preview = _preview("POST", url, spec.to_body(), spec.to_magic())
            self._keep(args, spec)
            return preview
        try:
            environment = self._environments().create(
                spec, idempotency_key=args.idempotency_key, workspace=self._workspace(args)
            )
        except OutcomeUnknownError as error:  # the retry, as a magic user types it
            error.hint = error.retry_hint(error.name, f"--idempotency-key {error.idempotency_key}")
            raise
        return self._store(self._out(args), environment)

    def _apply(self, args: argparse.Namespace, cell: str | None) -> Any:
        declared = self._declared_specs(args.source, cell)
        if isinstance(declared, list):
            return self._apply_all(args, declared)
        spec = declared
        self._lay_over_line(spec, args)
        _warn(spec.warnings())
        applied = self._environments().apply(
            spec, dry_run=args.dry_run, workspace=self._workspace(args)
        )
        if args.dry_run:
            self._keep(args, applied)
            return applied
        _show(applied)
        assert applied.environment is not None
        return self._store(self._out(args), applied.environment)

    def _apply_all(self, args: argparse.Namespace, specs: list[EnvironmentSpec]) -> Any:
        line_flags = set(magic_parser.spec_values(args)) | _import_flags(args)
        if line_flags:
            raise ValidationError(
                [
                    Problem(
                        "magic",
                        f"{len(specs)} environments are given, so flags that describe one "
                        f"({', '.join(sorted(line_flags))}) cannot say which: write them into "
                        "each environment of the list.",
                    )
                ]
            )
        for spec in specs:
            _warn(spec.warnings())
        progress = self._progress(len(specs), "Planning" if args.dry_run else "Applying")
        try:
            plan = self._environments().apply_all(
                specs, dry_run=args.dry_run, workspace=self._workspace(args), progress=progress
            )
        finally:
            progress.close()
        if args.dry_run:
            self._keep(args, plan)
            return plan
        self._store(args.out or self.settings.list_variable, plan)
        if plan.failed:
            _show(plan)
            raise ApplyFailed(plan, args.out or self.settings.list_variable)
        return plan

    def _list(self, args: argparse.Namespace, cell: str | None) -> EnvironmentPage:
        _no_cell(cell, "list")
        found = self._environments().list_all(
            include_archived=args.all or None,
            limit=min(args.limit or 100, 100),
            workspace=self._workspace(args),
        )
        items = list(itertools.islice(found, args.limit + 1 if args.limit else None))
        more = bool(args.limit) and len(items) > args.limit
        page = EnvironmentPage(data=tuple(items[: args.limit or None]), has_more=more)
        return self._store(args.out or self.settings.list_variable, page)

    def _get(self, args: argparse.Namespace, cell: str | None) -> Environment:
        _no_cell(cell, "get")
        environment = self._environments().retrieve(
            self._id(args, "fetched"), workspace=self._workspace(args)
        )
        return self._store(self._out(args), environment)

    def _manage(self, args: argparse.Namespace, cell: str | None) -> Any:
        _no_cell(cell, "manage")
        variable = args.out or "selected"
        return self._open_manager(args.all, args.search, args.rows, variable, args.workspace)

    def _update(self, args: argparse.Namespace, cell: str | None) -> Any:
        env_id = self._id(args, "updated")
        flags = magic_parser.spec_values(args)
        changes = _update_changes(args, flags, cell)
        config_flags = {k: v for k, v in flags.items() if k in CONFIG_TRAITS}
        imported = self._imported(args)
        edits_config = bool(config_flags or imported or _edits(args))
        live = None
        if edits_config or args.dry_run or args.form:  # the config to edit, or to diff from
            live = self._environments().retrieve(env_id, workspace=self._workspace(args))
        if edits_config:
            assert live is not None
            changes["config"] = _edited_config(live, changes, config_flags, args, imported)
        update = EnvironmentUpdate(**changes)
        if args.form:
            assert live is not None
            return self._open_form(update.applied_to(live.to_spec()), self._out(args), live)
        _warn(update.warnings())
        if args.dry_run:
            assert live is not None
            _show(live.diff(update.applied_to(live.to_spec()), after_label="after the update"))
            url = f"{self.session.base_url}/environments/{env_id}"
            preview = _preview("POST", url, update.to_body())
            self._keep(args, update)
            return preview
        environment = self._environments().update(env_id, update, workspace=self._workspace(args))
        return self._store(self._out(args), environment)

    def _archive(self, args: argparse.Namespace, cell: str | None) -> Environment:
        _no_cell(cell, "archive")
        environment = self._environments().archive(
            self._id(args, "archived"), workspace=self._workspace(args)
        )
        return self._store(self._out(args), environment)

    def _delete(self, args: argparse.Namespace, cell: str | None) -> Any:
        """A variable's environment is marked deleted in place (its card then says so); the
        service's answer goes to -o VAR, else (for an id or a name) to ``deleted``."""
        _no_cell(cell, "delete")
        held = self._held(args.id)
        answer = self._environments().delete(
            self._id(args, "deleted again"), workspace=self._workspace(args)
        )
        if args.out or held is None:
            self._store(args.out or "deleted", answer)
        if held is None:
            return answer
        held.mark_deleted()
        print(f"Deleted {held.id}: {args.id} now shows it as deleted.")
        return held

    def _config(self, args: argparse.Namespace, cell: str | None) -> SettingsReport:
        _no_cell(cell, "config")
        from .display import SettingsReport  # rendering loads on first use, not at %load_ext

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

    def close(self) -> None:
        self.session.close()

    def _lay_over_line(self, spec: EnvironmentSpec, args: argparse.Namespace) -> None:
        """The line's flags over ``spec``, then the packages its import flags bring."""
        _lay_over(spec, magic_parser.spec_values(args))
        imported = self._imported(args)
        if imported is not None:
            lists = imported.onto(
                {manager: getattr(spec, manager) for manager in imported.packages}
            )
            _lay_over(spec, lists)

    def _imported(self, args: argparse.Namespace) -> PackageImport | None:
        """The packages of ``--packages-from`` and ``--from-kernel``, shown as a report; None
        when neither is given."""
        if not (args.packages_from or args.from_kernel):
            _no_import_options(args)
            return None
        from . import sources  # packaging, tomllib and PyYAML load only for an import

        imported = sources.gather(
            args.packages_from or [],
            extras=args.extras,
            groups=args.group,
            dev=args.dev,
            kernel=args.from_kernel,
            imported_only=args.imported_only,
            include_jupyter=args.include_jupyter,
        )
        assert imported is not None  # a file or the kernel was named
        _show(imported)
        return imported

    def _progress(self, total: int, verb: str) -> ProgressBar:
        return self._make_progress(total, verb)

    def _keep(self, args: argparse.Namespace, value: Any) -> None:
        """What a dry run would send (a spec, a plan, an update), kept in ``-o`` when given."""
        if args.out:
            self._store(args.out, value)

    def _declared_specs(
        self, source: str | None, cell: str | None
    ) -> EnvironmentSpec | list[EnvironmentSpec]:
        """What an apply starts from: one spec, or the list a cell, file or variable holds."""
        if source and cell and cell.strip():
            raise ValidationError(
                [Problem("magic", "Give the request in the cell or with --from, not both.")]
            )
        if cell and cell.strip():
            return _specs_of(_read_document(cell, "the cell"), "the cell")
        if source:
            value = self._user_ns().get(source) if source.isidentifier() else None
            if isinstance(value, (list, tuple)):
                return [self._spec_of_value(item, f"{source}[{i}]") for i, item in enumerate(value)]
            if value is None and _is_file(source):
                path = Path(source).expanduser()
                return _specs_of(_read_document(path.read_text("utf-8"), str(path)), str(path))
            return self._spec_from(source)
        return EnvironmentSpec()

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
            return self._spec_of_value(namespace[source], source)
        path = Path(source).expanduser()
        if path.is_file():
            return EnvironmentSpec.from_body(_read_body(path.read_text("utf-8"), str(path)))
        raise ValidationError(
            [Problem("--from", f"There is no variable or file named {source!r}.")]
        )

    @staticmethod
    def _spec_of_value(value: Any, where: str) -> EnvironmentSpec:
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
                    f"{where} is {type_phrase(value)}: give an EnvironmentSpec, an "
                    "Environment, a dict request body, or a .json/.yaml file.",
                )
            ]
        )

    def _id(self, args: argparse.Namespace, doing: str) -> str:
        """The id of the environment ID names: the Environment in the variable named so (refused
        if it was deleted: it cannot be ``doing``), an id (``env_…``) as typed, or the unarchived
        environment of that name."""
        given: str = args.id
        held = self._held(given)
        if held is not None:
            held.require_live(doing)
            return held.id
        if given.startswith("env_"):
            return given
        found = self._environments().named(given, workspace=self._workspace(args))
        if found is None:
            raise NoSuchEnvironmentError(given)
        return found.id

    def _held(self, given: str) -> Environment | None:
        """The Environment in the kernel variable named ``given``, if there is one."""
        value = self._user_ns().get(given) if given.isidentifier() else None
        return value if isinstance(value, Environment) else None

    def _workspace(self, args: argparse.Namespace) -> str | None:
        """``--workspace``, else the workspace of the Environment in the variable given as ID
        (``%qoder_env update ds ...`` goes where ``ds`` came from), else the setting's."""
        held = self._held(getattr(args, "id", ""))
        if args.workspace is None and held is not None:
            return held.workspace
        return args.workspace  # type: ignore[no-any-return]

    def _out(self, args: argparse.Namespace) -> str:
        """Where an environment result goes: -o, else the variable the ID was given as (so
        ``%qoder_env update ds ...`` updates ``ds``), else the default variable."""
        given = getattr(args, "id", "")
        if args.out:
            return str(args.out)
        if self._held(given) is not None:
            return str(given)
        return self.settings.variable

    def _user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    def _store(self, name: str, value: T) -> T:
        namespace = self._user_ns()
        previous = namespace.get(name)
        if name in namespace and not _ours(previous):
            print(
                f"Warning: {name} held {type_phrase(previous)}; it now holds the result "
                "(use -o NAME to choose another variable).",
                file=sys.stderr,
            )
        namespace[name] = value
        print(f"Stored in {name}.")
        return value


class ApplyFailed(QoderError):
    """Some environments of a list apply could not be applied; the others were. The plan (with
    each failure's reason) is in the variable named, and shown above the error."""

    def __init__(self, plan: Plan, variable: str) -> None:
        failed = plan.failed
        names = ", ".join(item.name for item in failed[:5]) + (" …" if len(failed) > 5 else "")
        super().__init__(
            f"{len(failed)} of {len(plan)} environments could not be applied ({names}): the "
            f"summary above says why, and {variable} holds it. The others were applied; fix "
            "these and run the cell again (what is already applied is not sent again)."
        )


def _show(value: Any) -> None:
    """Show ``value`` in the cell's output now (a report, a diff), before the cell's result."""
    from IPython.display import display

    display(value)  # type: ignore[no-untyped-call]


_IMPORT_OPTIONS = {
    "extras": "--packages-from pyproject.toml",
    "group": "--packages-from pyproject.toml",
    "dev": "--packages-from package.json",
    "imported_only": "--from-kernel",
    "include_jupyter": "--from-kernel",
}


def _no_import_options(args: argparse.Namespace) -> None:
    """The options of an import, given without the import they belong to."""
    given = [name for name in _IMPORT_OPTIONS if getattr(args, name, None)]
    if given:
        name = given[0]
        flag = "--" + name.replace("_", "-")
        raise ValidationError(
            [Problem("magic", f"{flag} says how to import packages: add {_IMPORT_OPTIONS[name]}.")]
        )


def _import_flags(args: argparse.Namespace) -> set[str]:
    """The import flags given (they describe one environment)."""
    named = {"packages_from": "--packages-from", "from_kernel": "--from-kernel"}
    return {flag for name, flag in named.items() if getattr(args, name, None)}


def _edits(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, f"{verb}_{trait}", None)
        for trait, _ in magic_parser.EDITABLE_LISTS
        for verb in ("add", "remove")
    )


def _edit_lists(
    spec: EnvironmentSpec, args: argparse.Namespace, imported: PackageImport | None
) -> None:
    """``--add-X``/``--remove-X`` and the imported packages, into the spec's lists (the rest of
    each list kept); a removal that matches nothing is said, not an error."""
    for trait, suffix in magic_parser.EDITABLE_LISTS:
        add = [
            *(imported.packages.get(trait, []) if imported else []),
            *(getattr(args, f"add_{trait}") or []),
        ]
        remove = getattr(args, f"remove_{trait}") or []
        if not (add or remove):
            continue
        entries, unmatched = edited_list(trait, getattr(spec, trait), add, remove)
        setattr(spec, trait, entries)
        for name in unmatched:
            print(
                f"Warning: --remove-{suffix} {name}: not in the list; nothing removed.",
                file=sys.stderr,
            )


def _preview(method: str, url: str, body: dict[str, Any], magic: str = "") -> Any:
    """What ``--dry-run`` shows (the renderers load on first use, not at ``%load_ext``)."""
    from .display import RequestPreview

    return RequestPreview(method, url, body, magic)


def _warn(warnings: Sequence[Problem]) -> None:
    """Say what is sent as given but worth knowing: visible in the cell, not an error."""
    for warning in warnings:
        print(f"Warning: {warning.message}", file=sys.stderr)


def _update_changes(
    args: argparse.Namespace, flags: Mapping[str, Any], cell: str | None
) -> dict[str, Any]:
    """The update's fields from the cell body and the flags (config flags are laid over later)."""
    changes: dict[str, Any] = {}
    if cell and cell.strip():
        written = EnvironmentUpdate.from_body(_read_body(cell, "the cell"))
        changes = {k: v for k, v in vars(written).items() if v is not None}
    changes.update({k: flags[k] for k in ("name", "description", "scope") if k in flags})
    metadata = dict(changes.get("metadata") or {})
    metadata.update(flags.get("metadata", {}))
    metadata.update(dict.fromkeys(args.unset_meta or []))
    if metadata:
        changes["metadata"] = metadata
    return changes


def _edited_config(
    live: Environment,
    changes: Mapping[str, Any],
    config_flags: Mapping[str, Any],
    args: argparse.Namespace,
    imported: PackageImport | None,
) -> EnvironmentSpec:
    """The whole config an update sends (a sent config replaces the stored one): the cell's
    config or the live one, with the config flags, list edits and imported packages over it."""
    if "config" in changes:
        base = EnvironmentSpec(**read_body({"config": changes["config"]}))
    else:
        base = live.to_spec()
    if config_flags.get("config_type") == "self_hosted":
        # A runner's config is just its setup script: networking and packages do not apply.
        base = EnvironmentSpec(setup_script=base.setup_script)
    _lay_over(base, config_flags)
    _edit_lists(base, args, imported)
    return base


def _lay_over(spec: EnvironmentSpec, values: Mapping[str, Any]) -> None:
    """Set the given traits on ``spec``; metadata keys are added to what is there."""
    for trait, value in values.items():
        if trait == "metadata":
            value = {**spec.metadata, **value}
        setattr(spec, trait, value)


def _read_document(text: str, where: str) -> Any:
    """What a cell or file holds, written as JSON or YAML."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        return _read_yaml(text, where, error)


def _specs_of(document: Any, where: str) -> EnvironmentSpec | list[EnvironmentSpec]:
    """One spec for an object, a list of them for a list (each an object)."""
    if not isinstance(document, list):
        return EnvironmentSpec.from_body(_object(document, where))
    return [
        EnvironmentSpec.from_body(_object(item, f"{where}, item {index + 1}"))
        for index, item in enumerate(document)
    ]


def _object(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(
            [
                Problem(
                    "body", f"{where} must hold a JSON object ({{...}}), not {type(body).__name__}."
                )
            ]
        )
    return body


def _is_file(source: str) -> bool:
    return Path(source).expanduser().is_file()


def _read_body(text: str, where: str) -> dict[str, Any]:
    """A request body written as JSON or YAML."""
    return _object(_read_document(text, where), where)


def _read_yaml(text: str, where: str, json_error: json.JSONDecodeError) -> Any:
    import yaml  # on first use: only a body that is not JSON needs it

    json_problem = f"{json_error.msg} at line {json_error.lineno}, column {json_error.colno}"
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError(
            [Problem("body", f"{where} is neither JSON ({json_problem}) nor YAML ({error}).")]
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


# --- the extension's entry points ----------------------------------------------------------------


def register(
    shell: InteractiveShell,
    *,
    open_form: OpenForm = _no_form,
    open_manager: OpenManager = _no_manager,
    make_progress: MakeProgress = TextProgress,
) -> QoderEnvMagics:
    """Add the magics to ``shell`` and make their session the current one."""
    magics = QoderEnvMagics(
        shell, open_form=open_form, open_manager=open_manager, make_progress=make_progress
    )
    shell.register_magics(magics)
    configurables = cast(list[Any], shell.configurables)
    configurables.append(magics.settings)  # so %config QoderEnv.x = ... reaches it
    set_current(magics.session)
    return magics


def unregister(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.registry.pop(QoderEnvMagics.__name__, None)
    for kind in ("line", "cell"):
        shell.magics_manager.magics[kind].pop("qoder_env", None)
    if isinstance(magics, QoderEnvMagics):
        if current() is magics.session:
            set_current(None)
        magics.close()
        configurables = cast(list[Any], shell.configurables)
        if magics.settings in configurables:
            configurables.remove(magics.settings)
