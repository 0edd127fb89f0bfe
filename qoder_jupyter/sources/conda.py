"""conda's ``environment.yml`` (or ``.yaml``): its ``pip:`` list, as a pip list.

Taken: the entries of the ``pip:`` sub-list of ``dependencies``, read as the lines of a
requirements file (:mod:`.requirements`: options, ``-r`` includes relative to the yml's folder,
``-e`` and URLs left out and reported alike).

The other ``dependencies`` are conda packages, and the sandbox installs with pip and apt: each is
left out and reported, with the pip entry to try when PyPI has it under the same name (the names
differ for some, so it is not guessed). ``python`` and ``nodejs`` are compared with the sandbox's
Python 3.12 and Node.js 20 in a note; conda's own ``pip`` is skipped. Channels other than
``defaults``, ``conda-forge`` and ``nodefaults`` get a note. The file is read with PyYAML's safe
loader, node by node, so every entry keeps its line and its text as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .. import rules
from ._file import file_error, read_text
from .report import Left, Note, PackageImport
from .requirements import RequirementsReader
from .sandbox import NODE, PYTHON

#: A PyYAML node (PyYAML is optional and untyped).
Node = Any

__all__ = ["read"]

#: The runtimes the sandbox brings (contract §8), as (what to call it, its version).
_RUNTIMES: Final = {
    "python": ("Python", ".".join(map(str, PYTHON))),
    "nodejs": ("Node.js", str(NODE)),
}
_PLAIN_CHANNELS: Final = ("defaults", "conda-forge", "nodefaults")
_SPEC = re.compile(r"(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.+-]+)\s*(?P<version>.*)")
_RELEASE = re.compile(r"[0-9]+(\.[0-9]+)*")
_BUILD = re.compile(r"(?<=[0-9A-Za-z*])=.*")


def read(path: Path, name: str) -> PackageImport:
    """The pip entries of an environment file, and a report of its conda packages."""
    text = read_text(path, name)
    root = _compose(text, name)
    report = PackageImport(sources=(name,))
    if root is None:
        report.notes.append(Note("The file is empty: it lists no packages.", name))
        return report
    sections = _sections(root, name)
    reader = RequirementsReader(report)
    dependencies = sections.get("dependencies")
    if dependencies is not None:
        _read_dependencies(dependencies, name, path.parent, reader)
    channels = sections.get("channels")
    if channels is not None:
        report.notes.extend(_channel_notes(channels, name))
    return report


def _compose(text: str, name: str) -> Node | None:
    """The YAML node tree of ``text`` (the safe loader; nothing is constructed)."""
    try:
        import yaml
    except ModuleNotFoundError:
        raise file_error(
            name, "reading an environment.yml needs PyYAML: pip install pyyaml, then try again."
        ) from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = _line_to_correct(error)
        problem = getattr(error, "problem", None) or str(error)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise file_error(
            where, f"not valid YAML ({problem}): correct that line and import it again."
        ) from None


def _line_to_correct(error: Any) -> Any:
    """Where a YAML error is: the parser's problem mark (where it gave up), except for a key it
    was scanning (a list item without its dash...), which starts on the line to correct."""
    context = getattr(error, "context", None) or ""
    if "scanning a simple key" in context and getattr(error, "context_mark", None) is not None:
        return error.context_mark
    return getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)


def _sections(root: Node, name: str) -> dict[str, Node]:
    from yaml import MappingNode, ScalarNode

    if not isinstance(root, MappingNode):
        raise file_error(
            name, "not an environment file: it must be a mapping with a 'dependencies:' list."
        )
    return {key.value: value for key, value in root.value if isinstance(key, ScalarNode)}


def _where(name: str, node: Node) -> str:
    return f"{name}:{node.start_mark.line + 1}"


def _read_dependencies(node: Node, name: str, folder: Path, reader: RequirementsReader) -> None:
    from yaml import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
        return  # "dependencies:" with nothing under it
    if not isinstance(node, SequenceNode):
        raise file_error(_where(name, node), "'dependencies:' must be a list of packages.")
    for item in node.value:
        if isinstance(item, ScalarNode):
            _conda_entry(item.value.strip(), _where(name, item), reader.report)
        elif isinstance(item, MappingNode) and (pip := _pip_list(item)) is not None:
            lines = [(each.start_mark.line + 1, each.value.strip()) for each in pip]
            reader.read_lines(lines, name, folder)
        else:
            reader.report.left_out.append(
                Left(
                    "(a mapping)" if isinstance(item, MappingNode) else "(a list)",
                    "neither a conda package nor a 'pip:' list",
                    "write each package as one line of the list, and pip packages under 'pip:'",
                    where=_where(name, item),
                )
            )


def _pip_list(item: Node) -> list[Node] | None:
    """The entries of a ``- pip: [...]`` item, or None when ``item`` is not one."""
    from yaml import ScalarNode, SequenceNode

    if len(item.value) != 1:
        return None
    key, value = item.value[0]
    if not (isinstance(key, ScalarNode) and key.value == "pip" and isinstance(value, SequenceNode)):
        return None
    if not all(isinstance(each, ScalarNode) for each in value.value):
        return None
    return list(value.value)


def _conda_entry(spec: str, where: str, report: PackageImport) -> None:
    match = _SPEC.fullmatch(spec)
    package = match["name"].lower() if match else ""
    if package == "pip":
        return  # conda's own pip: the sandbox has pip
    if match and package in _RUNTIMES:
        report.notes.append(_runtime_note(spec, package, match["version"], where))
        return
    suggestion = _pip_form(match["name"], match["version"]) if match else None
    if suggestion is not None:
        fix = (
            f"add '{suggestion}' to the pip list if PyPI has it under this name (names can "
            "differ: pytorch is torch there), or its Ubuntu package to the apt list"
        )
    else:
        fix = "add its PyPI name to the pip list, or its Ubuntu package to the apt list"
    report.left_out.append(
        Left(spec, "a conda package: the sandbox installs with pip and apt, not conda", fix, where)
    )


def _runtime_note(spec: str, package: str, version: str, where: str) -> Note:
    what, sandbox = _RUNTIMES[package]
    specifier = _specifier(version)
    if specifier is None:
        return Note(f"{spec}: the sandbox has {what} {sandbox}.", where)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(specifier).contains(f"{sandbox}.0", prereleases=True)
    except InvalidSpecifier:
        return Note(f"{spec}: the sandbox has {what} {sandbox}.", where)
    if allowed:
        return Note(f"{spec}: the sandbox has {what} {sandbox}, which this allows.", where)
    return Note(
        f"{spec}: this environment wants another {what}, and the sandbox has {what} {sandbox}: "
        "check that its packages support it (pins made for an older one may not install).",
        where,
    )


def _specifier(version: str) -> str | None:
    """A conda version constraint as a PEP 440 specifier set, or None when there is none or it
    cannot be written as one (``|`` alternatives). conda's ``=1.2`` and a bare ``1.2`` mean
    ``1.2.*``; its ``==1.2`` means exactly 1.2; a build string after a second ``=`` is dropped."""
    text = version.strip().replace(" ", "")
    if not text or "|" in text:
        return None
    if text[0].isdigit():
        text = "=" + text
    if text.startswith("=") and not text.startswith("=="):
        release = text[1:].split("=", 1)[0]
        if _RELEASE.fullmatch(release):
            return f"=={release}.*"
        return f"=={release}"
    return _BUILD.sub("", text)  # ">=1.0,<2", "==1.2=py36_0" without its build string


def _pip_form(name: str, version: str) -> str | None:
    """The pip entry for a conda spec of the same name, when it can be written (the rules
    accept it), else None."""
    specifier = _specifier(version) if version.strip() else ""
    if specifier is None:
        return None
    entry = f"{name}{specifier}"
    return entry if rules.package_problem("pip", entry) is None else None


def _channel_notes(node: Node, name: str) -> Iterator[Note]:
    from yaml import ScalarNode, SequenceNode

    if not isinstance(node, SequenceNode):
        return
    others = [
        each.value
        for each in node.value
        if isinstance(each, ScalarNode) and each.value not in _PLAIN_CHANNELS
    ]
    if others:
        which = (
            f"channel {others[0]} was" if len(others) == 1 else f"channels {', '.join(others)} were"
        )
        yield Note(
            f"The {which} not used: the sandbox installs from PyPI, so builds found only there "
            "(such as CUDA builds) must come from the package's own index, in the setup script.",
            name,
        )
