"""Packages from the running kernel (``--from-kernel``): its installed third-party distributions,
pinned to the versions installed, as a pip list for a sandbox that should match the kernel.

What is taken:

- Every distribution ``importlib.metadata`` finds, once (the first on ``sys.path`` wins, as
  importing does), pinned as ``Name==Version`` with the name as its metadata writes it, sorted
  case-insensitively. The standard library has no distributions and is never listed; a backport
  that provides nothing but standard-library modules (``enum34``, ``dataclasses``) is left out.
- A VCS install (PEP 610 ``direct_url.json``) becomes ``name @ git+URL@commit`` (``hg+``,
  ``svn+``, ``bzr+`` likewise), a remote archive ``name @ URL`` when the project's rules accept
  it. Editable installs, local directories and local files are left out and reported: no index
  has them.
- Every entry must pass :func:`qoder_jupyter.rules.package_problem`; a version the sandbox's pip
  cannot install from PyPI (``Requires-Python`` without 3.12, a local label such as ``+cu121``)
  is left out and reported too.
- ``imported_only=True`` keeps the distributions that provide a module the kernel has imported
  ("the packages this notebook actually uses"; pip installs their own dependencies, unpinned).

What is always left out: the packaging tools (:data:`PACKAGING_TOOLS`: pip, setuptools, wheel,
distribute, pkg-resources; the sandbox's installer manages them).

What is left out unless ``include_jupyter=True`` (``--include-jupyter``): the Jupyter machinery,
the distributions that exist only to run a notebook, which the sandbox does not do
(:data:`JUPYTER_MACHINERY`, PEP 503 names, and every name starting with one of
:data:`JUPYTER_MACHINERY_PREFIXES`; :func:`is_jupyter_machinery` checks both):

- the kernel: ipykernel, comm, debugpy, matplotlib-inline, pyzmq, tornado, traitlets,
  nest-asyncio, nest-asyncio2, appnope;
- IPython: ipython, ipython-genutils, ipython-pygments-lexers, prompt-toolkit, jedi, parso,
  pexpect, ptyprocess, stack-data, executing, asttokens, pure-eval, wcwidth, decorator,
  pickleshare, backcall;
- servers and frontends: jupyter, every ``jupyter-*`` (jupyter-client, jupyter-core,
  jupyter-server, jupyter-events, jupyter-lsp, ...), every ``jupyterlab*`` (jupyterlab,
  jupyterlab-server, jupyterlab-widgets, ...), notebook, notebook-shim, nbclassic, qtconsole,
  terminado, pywinpty, send2trash, argon2-cffi, argon2-cffi-bindings;
- notebook files: nbformat, nbconvert, nbclient;
- widgets: ipywidgets, widgetsnbextension;
- this extension: qoder-jupyter.

Libraries a notebook may call itself stay, even when Jupyter depends on them too: requests,
Jinja2, MarkupSafe, PyYAML, packaging, Pygments, psutil, platformdirs, attrs, jsonschema,
fastjsonschema, python-dateutil, httpx, anyio, beautifulsoup4, bleach, mistune, and the like.

The report's notes say where the kernel differs from the sandbox (:mod:`.sandbox`, contract §8:
Python 3.12 on Linux x86_64): another Python (and the pins built for it only), another platform
(and the pins with compiled parts), conda-installed pins, and hosts the sandbox must reach.
"""

from __future__ import annotations

import functools
import json
import os
import platform as platform_module
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .. import rules
from .._markup import plural
from .._text import safe_repr
from ..errors import Problem, ValidationError
from .report import Left, Note, PackageImport
from .sandbox import MARKER_ENVIRONMENT, PYTHON

if TYPE_CHECKING:
    from importlib.metadata import Distribution, PackageMetadata

    from packaging.tags import Tag

__all__ = [
    "JUPYTER_MACHINERY",
    "JUPYTER_MACHINERY_PREFIXES",
    "PACKAGING_TOOLS",
    "from_kernel",
    "is_jupyter_machinery",
]

#: Always left out: the sandbox's installer brings and manages its own.
PACKAGING_TOOLS: Final = frozenset({"pip", "setuptools", "wheel", "distribute", "pkg-resources"})

#: Distributions that exist only to run Jupyter (PEP 503 names), beside the prefixes below.
JUPYTER_MACHINERY: Final = frozenset(
    {
        # The kernel and its protocol.
        "ipykernel",
        "comm",
        "debugpy",
        "matplotlib-inline",
        "pyzmq",
        "appnope",  # ipykernel's, on macOS
        # tornado and traitlets: libraries in their own right, but a notebook rarely calls them
        # and every kernel imports them (so --imported-only would always list them); a library
        # that needs them brings them in the sandbox as its dependency.
        "tornado",
        "traitlets",
        # Patches for the kernel's running event loop: code outside Jupyter needs no patch.
        "nest-asyncio",
        "nest-asyncio2",
        # IPython and what it uses for completion, tracebacks and its terminal.
        "ipython",
        "ipython-genutils",
        "ipython-pygments-lexers",
        "prompt-toolkit",
        "jedi",
        "parso",
        "pexpect",
        "ptyprocess",
        "stack-data",
        "executing",
        "asttokens",
        "pure-eval",
        "wcwidth",
        "decorator",
        "pickleshare",
        "backcall",
        # Servers and frontends (with the jupyter-* and jupyterlab* prefixes).
        "jupyter",
        "notebook",
        "notebook-shim",
        "nbclassic",
        "qtconsole",
        "terminado",
        "pywinpty",  # terminado's, on Windows
        # jupyter_server's: moving deleted files to the trash, hashing its password.
        "send2trash",
        "argon2-cffi",
        "argon2-cffi-bindings",
        # Notebook files.
        "nbformat",
        "nbconvert",
        "nbclient",
        # Widgets: they render in a frontend, and the sandbox has none.
        "ipywidgets",
        "widgetsnbextension",
        # This extension.
        "qoder-jupyter",
    }
)

#: Every distribution whose PEP 503 name starts with one of these is Jupyter machinery too.
JUPYTER_MACHINERY_PREFIXES: Final = ("jupyter-", "jupyterlab")

_VCS: Final = ("git", "hg", "svn", "bzr")
_NAMES_SHOWN: Final = 8  # names listed in a note before "and N more"
_LOCAL_FIX: Final = (
    "publish it and add its requirement with --pip (or 'name @ git+https://…' if it is in a "
    "repository the sandbox can reach), or install it from the setup script"
)


def is_jupyter_machinery(name: str) -> bool:
    """Whether the distribution ``name`` (any spelling) exists only to run Jupyter."""
    key = _normalised(name)
    return key in JUPYTER_MACHINERY or key.startswith(JUPYTER_MACHINERY_PREFIXES)


def from_kernel(
    *,
    imported_only: bool = False,
    include_jupyter: bool = False,
    distributions: Iterable[Distribution] | None = None,
    modules: Iterable[str] | None = None,
    python: Sequence[int] | None = None,
    platform: Sequence[str] | None = None,
) -> PackageImport:
    """The kernel's third-party distributions as pins, with what was left out and why.

    The keywords point it at another installation than the running one, for tests and tools:
    ``distributions`` (default ``importlib.metadata.distributions()``, e.g.
    ``distributions(path=[site_dir])``), ``modules`` (the imported module names, default
    ``sys.modules``), ``python`` (``(major, minor)``, default ``sys.version_info[:2]``) and
    ``platform`` (``(sys.platform, platform.machine())``)."""
    python = _checked_python(sys.version_info[:2] if python is None else python)
    here = _checked_platform(
        (sys.platform, platform_module.machine()) if platform is None else platform
    )
    found = _first_of_each(_checked_distributions(distributions))
    source = "the kernel (imported modules only)" if imported_only else "the kernel"
    report = PackageImport(sources=(source,))
    kept = _without_tools(found, include_jupyter, report)
    if imported_only:
        kept = _imported(kept, list(sys.modules) if modules is None else modules, report)
    taken = {each: entry for each in kept if (entry := _taken(each, report))}
    if taken:
        report.packages["pip"] = list(taken.values())
    report.notes += _differences(list(taken), python, here)
    return report


# --- what is installed ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # each one is itself: compared and hashed by identity
class _Installed:
    """One distribution: its name as the metadata writes it, that name PEP 503 normalised, and
    its version ("" when the metadata has none: an interrupted install)."""

    name: str
    key: str
    version: str
    dist: Distribution

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    def field(self, name: str) -> str | None:
        return _field(self.dist.metadata, name)

    @functools.cached_property
    def modules(self) -> frozenset[str]:
        """The top-level modules it provides, as ``packages_distributions()`` finds them but
        from this distribution alone: its ``top_level.txt``, else the top-level names of its
        files (RECORD), else its own name as a module name."""
        declared = frozenset((self.dist.read_text("top_level.txt") or "").split())
        if declared:
            return declared
        files = self.dist.files or ()
        inferred = frozenset(name for file in files if (name := _module_of(file.parts)))
        return inferred or frozenset({self.key.replace("-", "_")})


def _first_of_each(distributions: Iterable[Distribution]) -> list[_Installed]:
    """Each distribution once, the first found winning (as ``importlib.metadata.version`` and an
    import do), sorted case-insensitively by name."""
    found: dict[str, _Installed] = {}
    for dist in distributions:
        name = _field(dist.metadata, "Name")
        if not name:
            continue  # a dist-info without METADATA (a broken install) names nothing to pin
        version = _field(dist.metadata, "Version") or ""
        found.setdefault(_normalised(name), _Installed(name, _normalised(name), version, dist))
    return sorted(found.values(), key=lambda each: (each.name.casefold(), each.name))


def _field(metadata: PackageMetadata, name: str) -> str | None:
    """A field of the metadata, None when absent (``metadata[name]`` is None or raises
    KeyError, depending on the Python; ``get`` exists only from 3.12)."""
    values = metadata.get_all(name)
    return str(values[0]) if values else None


def _normalised(name: str) -> str:
    from packaging.utils import canonicalize_name  # lazily: packaging costs an import ~25 ms

    return str(canonicalize_name(name))


def _without_tools(
    found: list[_Installed], include_jupyter: bool, report: PackageImport
) -> list[_Installed]:
    """``found`` without the packaging tools and (unless kept) the Jupyter machinery, each group
    reported in one note."""
    tools = [each for each in found if each.key in PACKAGING_TOOLS]
    machinery = [] if include_jupyter else [e for e in found if is_jupyter_machinery(e.key)]
    if tools:
        report.notes.append(
            Note(
                f"Left out the packaging tools {_names(tools)}: the sandbox's installer "
                "manages its own (add setuptools with --pip if your code imports it or "
                "pkg_resources)."
            )
        )
    if machinery:
        report.notes.append(
            Note(
                f"Left out {plural(len(machinery), 'package')} for running Jupyter "
                f"({_names(machinery, limit=30)}): the sandbox runs no notebook. Keep them with "
                "--include-jupyter (include_jupyter=True)."
            )
        )
    return [each for each in found if each not in (*tools, *machinery)]


def _names(distributions: Sequence[_Installed], limit: int | None = _NAMES_SHOWN) -> str:
    """``a, b and c``: the names of ``distributions``, at most ``limit``."""
    return _listed([each.name for each in distributions], limit)


def _listed(names: Sequence[str], limit: int | None = _NAMES_SHOWN) -> str:
    """``a, b and c``, at most ``limit`` names then how many more."""
    if limit is not None and len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- imported modules only -----------------------------------------------------------------------


def _imported(
    found: list[_Installed], modules: Iterable[str], report: PackageImport
) -> list[_Installed]:
    """The distributions that provide one of the top-level modules of ``modules``."""
    names = {module.partition(".")[0] for module in modules}
    kept = [each for each in found if each.modules & names]
    if len(kept) < len(found):
        count = plural(len(found) - len(kept), "installed distribution")
        report.notes.append(
            Note(
                f"Left out {count} that no imported module comes from (imported modules only): "
                "import what the notebook needs first, or leave out --imported-only to take "
                "them all."
            )
        )
    return kept


def _module_of(parts: Sequence[str]) -> str | None:
    """The importable top-level name a file of a RECORD belongs to, or None (scripts, data,
    metadata, ``.pth`` files, editable-install finders)."""
    if not parts or parts[0] in ("..", "__pycache__"):
        return None
    top = parts[0]
    if top.endswith((".dist-info", ".egg-info", ".data")) or top.startswith("__editable__"):
        return None
    if len(parts) == 1:  # a module of one file: six.py, _cffi_backend.cpython-311-x86_64.so
        stem, _, suffix = top.rpartition(".")
        top = stem.partition(".")[0] if suffix in ("py", "so", "pyd") else ""
    return top if top.isidentifier() else None


# --- one distribution: its entry, or why it is left out ------------------------------------------


def _taken(each: _Installed, report: PackageImport) -> str | None:
    """The entry of ``each``, or None with why it is left out added to the report."""
    entry = _entry(each)
    if isinstance(entry, str):
        problem = rules.package_problem("pip", entry)
        if problem is None:
            return entry
        entry = Left(
            each.pin,
            problem,
            "add a requirement the rules accept with --pip, or install it from the setup script",
        )
    report.left_out.append(entry)
    return None


def _entry(each: _Installed) -> str | Left:
    if not each.version:
        return Left(
            each.name, "its metadata has no version (an interrupted install?)", "reinstall it"
        )
    backport = _standard_library_only(each)
    if backport:
        return Left(
            each.pin,
            f"it provides only standard-library modules ({', '.join(backport)}), which the "
            "sandbox's Python has",
            "leave it out: it is a backport for older Pythons",
        )
    python = _python_left(each)
    if python is not None:
        return python
    direct_url = each.dist.read_text("direct_url.json")
    return _index_pin(each) if direct_url is None else _direct_reference(each, direct_url)


def _standard_library_only(each: _Installed) -> list[str]:
    """The modules ``each`` provides when all are in the sandbox's standard library."""
    return sorted(each.modules) if each.modules <= _sandbox_standard_library() else []


@functools.cache
def _sandbox_standard_library() -> frozenset[str]:
    """The top-level modules of Python 3.12's standard library: this Python's, corrected for
    the modules 3.12 removed (PEP 594's first batch, PEP 632, imp) and those 3.13 removed (the
    rest of PEP 594, lib2to3), so a backport of a removed module is kept."""
    removed_by_3_12 = {"asynchat", "asyncore", "distutils", "imp", "smtpd"}
    removed_by_3_13 = {
        *("aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap"),
        *("msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau"),
        *("telnetlib", "uu", "xdrlib"),
    }
    return frozenset((sys.stdlib_module_names - removed_by_3_12) | removed_by_3_13)


def _python_left(each: _Installed) -> Left | None:
    """A Left when the version's ``Requires-Python`` excludes the sandbox's Python."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    requires = each.field("Requires-Python")
    try:
        supported = SpecifierSet(requires or "")
    except InvalidSpecifier:
        return None  # pip ignores a Requires-Python it cannot read, so may the sandbox's
    target = MARKER_ENVIRONMENT["python_full_version"]
    if supported.contains(target, prereleases=True):
        return None
    return Left(
        each.pin,
        f"this version requires Python {requires}, and the sandbox has {_version(PYTHON)}",
        f"add a version of {each.name} that supports Python {_version(PYTHON)} with --pip",
    )


def _index_pin(each: _Installed) -> str | Left:
    """``Name==Version``, unless the version is a local build no public index has."""
    from packaging.version import InvalidVersion, Version

    try:
        local = Version(each.version).local
    except InvalidVersion:
        return each.pin  # the rules say why it cannot be pinned
    if local is None:
        return each.pin
    public = each.version.partition("+")[0]
    return Left(
        each.pin,
        f"'+{local}' is a local version label: PyPI has no such build (it comes from another "
        "package index)",
        f"pin the public release '{each.name}=={public}', or install this build from its index "
        "in the setup script",
    )


# --- PEP 610: where a distribution was installed from --------------------------------------------


def _direct_reference(each: _Installed, text: str) -> str | Left:
    """The entry of a distribution installed from a URL or a path (its ``direct_url.json``)."""
    origin = _origin(text)
    if origin is None:
        return Left(
            each.pin,
            "its direct_url.json (PEP 610) cannot be read, so where it came from is unknown",
            "reinstall it, or add its requirement with --pip",
        )
    url = origin["url"]
    if isinstance(origin.get("vcs_info"), dict):
        return _vcs_reference(each, url, origin["vcs_info"], origin.get("subdirectory"))
    local = _local_path(url)
    if local is None:
        return f"{each.name} @ {url}{_archive_fragment(origin)}"
    if isinstance(origin.get("dir_info"), dict):
        editable = origin["dir_info"].get("editable") is True
        how = "in editable mode from" if editable else "from the local directory"
    else:
        how = "from the local file"
    return Left(each.pin, f"installed {how} {local}: no package index has it", _LOCAL_FIX)


def _origin(text: str) -> dict[str, Any] | None:
    """The parsed ``direct_url.json``, or None when it is not one (no ``url``)."""
    try:
        origin = json.loads(text)
    except ValueError:
        return None
    if not isinstance(origin, dict) or not isinstance(origin.get("url"), str):
        return None
    return origin


def _vcs_reference(
    each: _Installed, url: str, vcs_info: dict[str, Any], subdirectory: object
) -> str | Left:
    """``name @ git+URL@commit`` (``#subdirectory=...`` when there is one), as pip freezes it."""
    vcs, commit = vcs_info.get("vcs"), vcs_info.get("commit_id")
    if vcs not in _VCS or not isinstance(commit, str) or not commit:
        return Left(
            each.pin,
            f"its direct_url.json names a {safe_repr(vcs)} checkout without a commit, which pip "
            "cannot install again",
            "add its requirement with --pip, such as 'name @ git+https://host/repo@commit'",
        )
    local = _local_path(url)
    if local is not None:
        return Left(
            each.pin,
            f"installed from the local {vcs} repository {local}: the sandbox cannot reach it",
            f"push it to a host the sandbox can reach and add '{each.name} @ {vcs}+https://…"
            f"@{commit}' with --pip",
        )
    prefix = "" if url.startswith(f"{vcs}+") else f"{vcs}+"
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) else ""
    return f"{each.name} @ {prefix}{url}@{commit}{fragment}"


def _archive_fragment(origin: dict[str, Any]) -> str:
    """``#sha256=...`` for an archive whose hash was recorded: pip then checks the download."""
    info = origin.get("archive_info")
    if not isinstance(info, dict):
        return ""
    hashes = info.get("hashes")
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return f"#sha256={hashes['sha256']}"
    legacy = info.get("hash")  # PEP 610's older "<algorithm>=<hex>"
    return f"#{legacy}" if isinstance(legacy, str) and "=" in legacy else ""


def _local_path(url: str) -> str | None:
    """The path of a ``file:`` URL, else None."""
    parts = urlsplit(url)
    return url2pathname(parts.path) if parts.scheme == "file" else None


# --- where the kernel differs from the sandbox ---------------------------------------------------


def _differences(
    taken: list[_Installed], python: tuple[int, int], here: tuple[str, str]
) -> list[Note]:
    """Notes on what may not carry over to the sandbox (contract §8)."""
    notes = []
    if python != PYTHON:
        notes.append(_python_note(taken, python))
    sandbox = (MARKER_ENVIRONMENT["sys_platform"], MARKER_ENVIRONMENT["platform_machine"])
    if (here[0], here[1].lower()) != sandbox:
        notes.append(_platform_note(taken, here, sandbox))
    conda = [each for each in taken if _installer(each) == "conda"]
    if conda:
        notes.append(
            Note(
                f"{_names(conda)} {'was' if len(conda) == 1 else 'were'} installed by conda: "
                "a conda build's version may not exist on PyPI, and some conda packages have "
                "another name there; check them if pip fails in the sandbox."
            )
        )
    hosts = sorted({host for each in taken if (host := _remote_host(each))})
    if hosts:
        notes.append(
            Note(
                f"Some entries install from {_listed(hosts)}: with 'limited' or 'allowlist' "
                "networking, add those hosts to the allowed hosts so the sandbox can reach them."
            )
        )
    return notes


def _python_note(taken: list[_Installed], python: tuple[int, int]) -> Note:
    only_here = [each for each in taken if _built_for_python_only(_wheel_tags(each), python)]
    message = (
        f"This kernel runs Python {_version(python)} and the sandbox Python {_version(PYTHON)}: "
        f"a pinned version may not support {_version(PYTHON)} or have no wheel for it (pip then "
        "builds it from source, or fails)."
    )
    if only_here:
        message += f" Built for Python {_version(python)} only: {_names(only_here)}."
    return Note(message)


def _platform_note(
    taken: list[_Installed], here: tuple[str, str], sandbox: tuple[str, str]
) -> Note:
    compiled = [each for each in taken if any(t.platform != "any" for t in _wheel_tags(each))]
    message = f"This kernel runs on {'/'.join(here)} and the sandbox on {'/'.join(sandbox)}"
    if not compiled:
        return Note(f"{message}; no pinned wheel is built for a platform, so none depends on it.")
    return Note(
        f"{message}: {_names(compiled)} {'has' if len(compiled) == 1 else 'have'} compiled "
        "parts built for this platform; pip in the sandbox needs a Linux x86_64 wheel of the "
        "same version, or builds it from source (or fails)."
    )


def _wheel_tags(each: _Installed) -> frozenset[Tag]:
    """The tags of the wheel a distribution was installed from (its ``WHEEL`` file); none when
    it was not installed from a wheel or the file cannot be read."""
    from email.parser import HeaderParser

    from packaging.tags import parse_tag

    text = each.dist.read_text("WHEEL")
    tags: set[Tag] = set()
    for value in HeaderParser().parsestr(text or "").get_all("Tag") or ():
        try:
            tags |= parse_tag(value.strip())
        except ValueError:
            continue  # not a tag: say nothing rather than guess
    return frozenset(tags)


def _built_for_python_only(tags: frozenset[Tag], python: tuple[int, int]) -> bool:
    """Whether every tag is for this Python's minor version only (``cp311-cp311-...``), not for
    any Python 3 (``py3-none-any``) or every later one (``cp38-abi3-...``)."""
    version = f"{python[0]}{python[1]}"
    return bool(tags) and all(t.interpreter[2:] == version and t.abi != "abi3" for t in tags)


def _installer(each: _Installed) -> str:
    return (each.dist.read_text("INSTALLER") or "").strip().lower()


def _remote_host(each: _Installed) -> str | None:
    """The host a distribution installed from a remote URL is fetched from, else None."""
    origin = _origin(each.dist.read_text("direct_url.json") or "")
    return None if origin is None else urlsplit(origin["url"]).hostname


def _version(python: Sequence[int]) -> str:
    return ".".join(map(str, python))


# --- the arguments -------------------------------------------------------------------------------


def _checked_python(python: Sequence[int]) -> tuple[int, int]:
    if len(python) != 2 or not all(isinstance(part, int) for part in python):
        message = (
            f"{safe_repr(python)} is not a Python version: give (major, minor), such as (3, 12)."
        )
        raise ValidationError([Problem("python", message)])
    return (python[0], python[1])


def _checked_platform(platform: Sequence[str]) -> tuple[str, str]:
    if (
        isinstance(platform, str)
        or len(platform) != 2
        or not all(isinstance(p, str) for p in platform)
    ):
        message = (
            f"{safe_repr(platform)} is not a platform: give (sys.platform, platform.machine()), "
            "such as ('linux', 'x86_64')."
        )
        raise ValidationError([Problem("platform", message)])
    return (platform[0], platform[1])


def _checked_distributions(distributions: Iterable[Distribution] | None) -> Iterable[Distribution]:
    if distributions is None:
        import importlib.metadata  # lazily: ~35 ms, and only a kernel import needs it

        return importlib.metadata.distributions()
    if isinstance(distributions, (str, bytes, os.PathLike)):
        message = (
            f"{safe_repr(distributions)} is a path, not distributions: give "
            "importlib.metadata.distributions(path=[site_dir])."
        )
        raise ValidationError([Problem("distributions", message)])
    return distributions
