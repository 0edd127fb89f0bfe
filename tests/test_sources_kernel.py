"""``from_kernel`` (``qoder_jupyter.sources.kernel``): a kernel's installed distributions as pins.

Read by the real ``importlib.metadata``: from ``*.dist-info`` directories written to disk here (as
pip writes them: METADATA, RECORD, top_level.txt, WHEEL, INSTALLER, direct_url.json), from the
test environment itself, and from inside a fresh virtual environment."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from qoder_jupyter.errors import ValidationError
from qoder_jupyter.sources import kernel
from qoder_jupyter.sources.kernel import (
    JUPYTER_MACHINERY,
    PACKAGING_TOOLS,
    from_kernel,
    is_jupyter_machinery,
)
from qoder_jupyter.sources.report import PackageImport

COMMIT = "1f3c5e7a9b2d4f6e8a0c1b3d5f7e9a2c4b6d8e0f"
HASH = "5d41402abc4b2a76b9719d911017c592ae0e4e52a5f1b5c6bd12f8e0a1b2c3d4"
COMPILED_311 = ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")


def write_distribution(
    site: Path,
    name: str,
    version: str,
    *,
    modules: Sequence[str] = (),
    top_level: bool = True,
    tags: Sequence[str] = ("py3-none-any",),
    installer: str = "pip",
    direct_url: dict[str, Any] | None = None,
    requires_python: str | None = None,
    extra_files: Sequence[str] = (),
) -> None:
    """A distribution installed in ``site`` as pip installs one from a wheel: its modules
    (``pkg`` is a package, ``mod.py`` or ``mod.abi3.so`` a file) and its dist-info, every file
    listed in RECORD with its hash and size."""
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files: dict[str, str] = {}
    for module in modules:
        files[module if "." in module else f"{module}/__init__.py"] = f"# {module}\n"
    files.update(dict.fromkeys(extra_files, ""))
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    files[f"{info}/METADATA"] = metadata
    wheel = "".join(f"Tag: {tag}\n" for tag in tags)
    files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n{wheel}"
    files[f"{info}/INSTALLER"] = f"{installer}\n"
    if top_level:
        tops = sorted({module.split("/")[0].split(".")[0] for module in modules})
        files[f"{info}/top_level.txt"] = "".join(f"{top}\n" for top in tops)
    if direct_url is not None:
        files[f"{info}/direct_url.json"] = json.dumps(direct_url)
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
    (site / info / "RECORD").write_text(_record(site, files, f"{info}/RECORD"), encoding="utf-8")


def _record(site: Path, files: Iterable[str], record: str) -> str:
    lines = []
    for path in files:
        data = (site / path).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}\n")
    return "".join(lines) + f"{record},,\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site-packages directory with one of each kind of installed distribution."""
    site = tmp_path_factory.mktemp("site-packages")
    write_distribution(site, "requests", "2.31.0", modules=["requests"])
    # Jupyter depends on these too, but a notebook may call them: they stay.
    write_distribution(site, "Pygments", "2.17.2", modules=["pygments"])
    write_distribution(site, "PyYAML", "6.0.1", modules=["yaml", "_yaml"], installer="conda")
    # No top_level.txt: the modules are found from RECORD (a package, a one-file module).
    write_distribution(
        site,
        "psutil",
        "5.9.8",
        modules=["psutil", "psutil/_psutil_linux.abi3.so"],
        top_level=False,
        tags=["cp36-abi3-manylinux_2_17_x86_64"],
    )
    six_tags = ["py2-none-any", "py3-none-any"]
    write_distribution(site, "six", "1.16.0", modules=["six.py"], top_level=False, tags=six_tags)
    write_distribution(site, "numpy", "1.26.4", modules=["numpy"], tags=COMPILED_311)
    # PEP 610: a git checkout, an editable project, a local wheel, a remote wheel.
    git = {
        "url": "https://github.com/example/mylib.git",
        "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"},
    }
    write_distribution(site, "mylib", "0.1.dev3", modules=["mylib"], direct_url=git)
    editable = {"url": "file:///home/user/my-analysis", "dir_info": {"editable": True}}
    write_distribution(
        site,
        "my-analysis",
        "0.3.0",
        top_level=False,
        extra_files=["_editable_impl_my_analysis.pth"],  # hatchling's: the modules stay put
        direct_url=editable,
    )
    local = {"url": "file:///tmp/wheels/localpkg-1.0-py3-none-any.whl", "archive_info": {}}
    write_distribution(site, "localpkg", "1.0", modules=["localpkg"], direct_url=local)
    remote = {
        "url": "https://files.example.org/remotepkg-2.0-py3-none-any.whl",
        "archive_info": {"hashes": {"sha256": HASH}, "hash": f"sha256={HASH}"},
    }
    write_distribution(site, "remotepkg", "2.0", modules=["remotepkg"], direct_url=remote)
    # What pip could not install in the sandbox from PyPI.
    write_distribution(site, "enum34", "1.1.10", modules=["enum"])
    write_distribution(site, "oldlib", "1.0", modules=["oldlib"], requires_python=">=3.7,<3.12")
    write_distribution(site, "torchlike", "2.1.0+cu121", modules=["torchlike"], tags=COMPILED_311)
    # Packaging tools and Jupyter machinery.
    write_distribution(site, "pip", "24.0", modules=["pip"])
    write_distribution(site, "setuptools", "69.0.3", modules=["setuptools", "pkg_resources"])
    write_distribution(site, "wheel", "0.42.0", modules=["wheel"])
    write_distribution(site, "ipykernel", "6.29.0", modules=["ipykernel", "ipykernel_launcher.py"])
    write_distribution(site, "jupyter_client", "8.6.0", modules=["jupyter_client"])
    return site


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A later site directory with another requests."""
    site = tmp_path_factory.mktemp("later-site-packages")
    write_distribution(site, "requests", "2.0.0", modules=["requests"])
    return site


def read(*sites: Path, **options: Any) -> PackageImport:
    """What ``from_kernel`` takes from ``sites``, for a kernel like the sandbox unless told."""
    options = {"python": (3, 12), "platform": ("linux", "x86_64"), **options}
    paths = [str(site) for site in sites]
    return from_kernel(distributions=importlib.metadata.distributions(path=paths), **options)


def left(report: PackageImport) -> list[tuple[str, str]]:
    return [(entry.entry, entry.reason) for entry in report.left_out]


def note_with(report: PackageImport, words: str) -> str:
    """The one note that says ``words``."""
    (message,) = (note.message for note in report.notes if words in note.message)
    return message


PINS = [
    f"mylib @ git+https://github.com/example/mylib.git@{COMMIT}",
    "numpy==1.26.4",
    "psutil==5.9.8",
    "Pygments==2.17.2",
    "PyYAML==6.0.1",
    f"remotepkg @ https://files.example.org/remotepkg-2.0-py3-none-any.whl#sha256={HASH}",
    "requests==2.31.0",
    "six==1.16.0",
]


# --- a site directory on disk --------------------------------------------------------------------


def test_pins_every_third_party_distribution_once_sorted_case_insensitively(
    site: Path, shadowed: Path
) -> None:
    report = read(site, shadowed)
    assert report.packages == {"pip": PINS}
    assert report.sources == ("the kernel",)


@pytest.mark.parametrize(("first", "version"), [("site", "2.31.0"), ("shadowed", "2.0.0")])
def test_the_first_on_the_path_wins_as_for_importlib(
    site: Path, shadowed: Path, first: str, version: str
) -> None:
    order = [site, shadowed] if first == "site" else [shadowed, site]
    paths = [str(path) for path in order]
    importlib_says = next(iter(importlib.metadata.distributions(name="requests", path=paths)))
    assert importlib_says.version == version
    pins = read(*order).packages["pip"]
    assert [pin for pin in pins if pin.startswith("requests")] == [f"requests=={version}"]


def test_what_no_index_has_or_the_sandbox_cannot_install_is_left_out_with_why(
    site: Path,
) -> None:
    assert left(read(site)) == [
        ("enum34==1.1.10", "it provides only standard-library modules (enum), which the "
                           "sandbox's Python has"),
        ("localpkg==1.0", "installed from the local file "
                          "/tmp/wheels/localpkg-1.0-py3-none-any.whl: no package index has it"),
        ("my-analysis==0.3.0", "installed in editable mode from /home/user/my-analysis: no "
                               "package index has it"),
        ("oldlib==1.0", "this version requires Python >=3.7,<3.12, and the sandbox has 3.12"),
        ("torchlike==2.1.0+cu121", "'+cu121' is a local version label: PyPI has no such build "
                                   "(it comes from another package index)"),
    ]  # fmt: skip
    fixes = {entry.entry: entry.fix for entry in read(site).left_out}
    assert "publish it" in fixes["my-analysis==0.3.0"]
    assert "setup script" in fixes["my-analysis==0.3.0"]
    assert "'torchlike==2.1.0'" in fixes["torchlike==2.1.0+cu121"]


def test_packaging_tools_and_jupyter_machinery_are_left_out_and_reported(site: Path) -> None:
    report = read(site)
    taken = {canonicalize_name(re.split(r"==| @ ", pin)[0]) for pin in report.packages["pip"]}
    assert not taken & {"pip", "setuptools", "wheel", "ipykernel", "jupyter-client"}
    assert "packaging tools pip, setuptools and wheel" in note_with(report, "packaging tools")
    machinery = note_with(report, "running Jupyter")
    assert "Left out 2 packages for running Jupyter (ipykernel and jupyter_client)" in machinery
    assert "--include-jupyter" in machinery


def test_include_jupyter_keeps_the_machinery_but_never_the_packaging_tools(site: Path) -> None:
    report = read(site, include_jupyter=True)
    assert report.packages["pip"] == sorted(
        [*PINS, "ipykernel==6.29.0", "jupyter_client==8.6.0"], key=str.casefold
    )
    assert not [note for note in report.notes if "running Jupyter" in note.message]
    assert note_with(report, "packaging tools")


def test_imported_only_keeps_the_distributions_of_imported_modules(site: Path) -> None:
    modules = dict.fromkeys(["os", "json", "enum", "requests", "requests.adapters", "yaml",
                             "six", "ipykernel", "ipykernel.kernelapp", "my_analysis"])  # fmt: skip
    report = read(site, imported_only=True, modules=modules)
    # PyYAML by its top_level.txt, six from RECORD, my-analysis by its own name.
    assert report.packages == {"pip": ["PyYAML==6.0.1", "requests==2.31.0", "six==1.16.0"]}
    assert [entry.entry for entry in report.left_out] == ["enum34==1.1.10", "my-analysis==0.3.0"]
    assert "Left out 8 installed distributions that no imported module comes from" in note_with(
        report, "imported modules only"
    )
    assert report.sources == ("the kernel (imported modules only)",)
    with_jupyter = read(site, imported_only=True, modules=modules, include_jupyter=True)
    assert with_jupyter.packages["pip"] == [
        "ipykernel==6.29.0", "PyYAML==6.0.1", "requests==2.31.0", "six==1.16.0"
    ]  # fmt: skip


def test_imported_only_with_nothing_imported_takes_nothing(site: Path) -> None:
    report = read(site, imported_only=True, modules={"os": None})
    assert report.packages == {}
    assert report.count == 0
    assert "Left out 13 installed distributions" in note_with(report, "imported modules only")


# --- where the kernel differs from the sandbox ---------------------------------------------------


def test_a_kernel_like_the_sandbox_has_no_python_or_platform_note(site: Path) -> None:
    messages = " ".join(note.message for note in read(site).notes)
    assert "This kernel runs" not in messages


def test_another_python_names_the_pins_built_for_it_only(site: Path) -> None:
    message = note_with(read(site, python=(3, 11)), "Python 3.11")
    assert message.startswith("This kernel runs Python 3.11 and the sandbox Python 3.12")
    # numpy's wheel is cp311-cp311; psutil's abi3 and six's py3 install on 3.12 as they are.
    assert message.endswith("Built for Python 3.11 only: numpy.")


def test_another_platform_names_the_pins_with_compiled_parts(site: Path) -> None:
    message = note_with(read(site, platform=("darwin", "arm64")), "darwin/arm64")
    assert message.startswith("This kernel runs on darwin/arm64 and the sandbox on linux/x86_64")
    assert "numpy and psutil have compiled parts" in message


def test_conda_installs_and_remote_hosts_are_noted(site: Path) -> None:
    report = read(site)
    assert note_with(report, "conda").startswith("PyYAML was installed by conda")
    assert "install from files.example.org and github.com" in note_with(report, "allowed hosts")


# --- PEP 610 direct_url.json, one case at a time -------------------------------------------------


@pytest.mark.parametrize(
    ("direct_url", "taken", "reason"),
    [
        ({"url": "https://hg.example.org/tools", "subdirectory": "python",
          "vcs_info": {"vcs": "hg", "commit_id": "a1b2c3d4e5f6"}},
         "pkg @ hg+https://hg.example.org/tools@a1b2c3d4e5f6#subdirectory=python", None),
        ({"url": "svn+https://svn.example.org/repo/trunk", "vcs_info": {"vcs": "svn",
          "commit_id": "1234"}}, "pkg @ svn+https://svn.example.org/repo/trunk@1234", None),
        ({"url": "file:///srv/checkouts/pkg", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
         None, "installed from the local git repository /srv/checkouts/pkg: the sandbox cannot "
               "reach it"),
        ({"url": "https://github.com/example/pkg", "vcs_info": {"vcs": "git"}},
         None, "its direct_url.json names a 'git' checkout without a commit, which pip cannot "
               "install again"),
        ({"url": "file:///home/user/pkg", "dir_info": {}},
         None, "installed from the local directory /home/user/pkg: no package index has it"),
        ({"url": "https://example.org/pkg(1).whl", "archive_info": {}},
         None, "'pkg @ https://example.org/pkg(1).whl' contains '(', which starts a subshell in "
               "a shell: an entry names one package; run commands from the setup script."),
        ({"dir_info": {}}, None, "its direct_url.json (PEP 610) cannot be read, so where it came "
                                 "from is unknown"),
    ],
)  # fmt: skip
def test_direct_url(
    tmp_path: Path, direct_url: dict[str, Any], taken: str | None, reason: str | None
) -> None:
    write_distribution(tmp_path, "pkg", "1.0", modules=["pkg"], direct_url=direct_url)
    report = read(tmp_path)
    assert report.packages == ({"pip": [taken]} if taken else {})
    assert left(report) == ([("pkg==1.0", reason)] if reason else [])


def test_a_direct_url_that_is_not_json_is_left_out(tmp_path: Path) -> None:
    write_distribution(tmp_path, "pkg", "1.0", modules=["pkg"], direct_url={})
    (tmp_path / "pkg-1.0.dist-info" / "direct_url.json").write_text("{not json", encoding="utf-8")
    assert left(read(tmp_path))[0][1].startswith("its direct_url.json (PEP 610) cannot be read")


def test_a_backport_of_a_module_python_3_12_removed_is_kept(tmp_path: Path) -> None:
    # pyasyncore brings back asyncore, which Python 3.12 removed (and 3.11 still has).
    write_distribution(tmp_path, "pyasyncore", "1.0.4", modules=["asyncore.py"])
    assert read(tmp_path).packages == {"pip": ["pyasyncore==1.0.4"]}


def test_a_distribution_without_metadata_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken-1.0.dist-info").mkdir()  # an interrupted install: no METADATA
    write_distribution(tmp_path, "fine", "1.0", modules=["fine"])
    assert read(tmp_path).packages == {"pip": ["fine==1.0"]}


# --- the lists and the arguments -----------------------------------------------------------------


def test_the_machinery_list_is_documented_and_normalised() -> None:
    documented = " ".join((kernel.__doc__ or "").split())
    for name in JUPYTER_MACHINERY | PACKAGING_TOOLS:
        assert name == canonicalize_name(name)
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", documented), name
    for name in ("ipykernel", "Jupyter_Client", "jupyterlab", "jupyterlab-git", "jupyter-server",
                 "notebook", "ipywidgets", "qoder-jupyter", "IPython"):  # fmt: skip
        assert is_jupyter_machinery(name), name
    for name in ("requests", "Jinja2", "PyYAML", "packaging", "Pygments", "psutil", "attrs",
                 "jsonschema", "python-dateutil", "pip", "jupytext", "ipython-sql"):  # fmt: skip
        assert not is_jupyter_machinery(name), name


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"python": (3,)}, "python", "give (major, minor), such as (3, 12)"),
        ({"python": ("3", "12")}, "python", "is not a Python version"),
        ({"platform": "linux"}, "platform", "give (sys.platform, platform.machine())"),
        ({"distributions": "/usr/lib/python3/site-packages"}, "distributions",
         "give importlib.metadata.distributions(path=[site_dir])"),
    ],
)  # fmt: skip
def test_bad_arguments_are_a_clear_error(options: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        from_kernel(**options)
    (problem,) = raised.value.problems
    assert problem.field == field
    assert words in problem.message


# --- the real test environment -------------------------------------------------------------------


def test_the_test_environment_pins_exactly_what_importlib_metadata_says() -> None:
    report = from_kernel()
    pins = report.packages["pip"]
    assert len(pins) > 20
    for pin in pins:
        name, version = pin.split("==")
        assert importlib.metadata.version(name) == version, pin
    taken = {canonicalize_name(pin.split("==")[0]) for pin in pins}
    assert not {name for name in taken if is_jupyter_machinery(name)}
    assert {"ipykernel", "ipython", "jupyter-client", "traitlets"} <= _installed()
    assert not taken & {"pip", "setuptools", "ipykernel", "ipython", "jupyter-client", "traitlets"}
    assert {"packaging", "pyyaml", "jinja2", "pygments", "psutil"} <= taken  # Jupyter's, and ours
    tools = note_with(report, "packaging tools")
    assert all(tool in tools for tool in PACKAGING_TOOLS & _installed())  # pip; setuptools < 3.12
    names = [re.split(r"==| @ ", pin)[0] for pin in pins]
    assert sorted(names, key=str.casefold) == names


def test_the_editable_project_is_left_out_and_reported() -> None:
    project = importlib.metadata.distribution("qoder-jupyter")
    origin = json.loads(project.read_text("direct_url.json") or "{}")
    assert origin["dir_info"] == {"editable": True}  # how the test environment installs it
    checkout = Path(__file__).resolve().parent.parent
    by_default = from_kernel()  # it is machinery: left out, and counted in that note
    assert is_jupyter_machinery("qoder-jupyter")
    assert "qoder" not in " ".join(by_default.packages["pip"])
    assert "for running Jupyter" in note_with(by_default, "running Jupyter")
    report = from_kernel(include_jupyter=True)
    assert "qoder-jupyter" not in " ".join(report.packages["pip"])
    assert left(report) == [
        (f"qoder-jupyter=={project.version}",
         f"installed in editable mode from {checkout}: no package index has it"),
    ]  # fmt: skip


def test_imported_only_in_the_test_environment_agrees_with_packages_distributions() -> None:
    import yaml  # noqa: F401  (so that this process has surely imported it)

    report = from_kernel(imported_only=True, include_jupyter=True)
    taken = {canonicalize_name(pin.split("==")[0]) for pin in report.packages["pip"]}
    left_out = {canonicalize_name(entry.entry.split("==")[0]) for entry in report.left_out}
    # The standard library's own mapping of modules to distributions, for this environment.
    owners = importlib.metadata.packages_distributions()
    imported = {
        canonicalize_name(owner)
        for module in list(sys.modules)
        for owner in owners.get(module.partition(".")[0], ())
    }
    assert {"pyyaml", "pytest"} <= taken
    # The editable project's RECORD lists no .py file (its modules stay in the checkout), where
    # Python 3.11's packages_distributions() looks; from_kernel also reads the folder of its
    # notebook file, and reports it as an editable install.
    expected = (imported - PACKAGING_TOOLS) | {"qoder-jupyter"}
    assert expected <= taken | left_out
    if sys.version_info >= (3, 11):
        # Python 3.10's packages_distributions() reads only top_level.txt files, so it misses
        # the distributions that name their modules in RECORD alone; from_kernel reads both.
        assert expected == taken | left_out
    assert "qoder-jupyter" in left_out
    assert len(taken) < len(from_kernel(include_jupyter=True).packages["pip"])


def _installed() -> set[str]:
    return {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()}


# --- inside a fresh virtual environment ----------------------------------------------------------

_REPORT = """
import json, sys
from qoder_jupyter.sources.kernel import from_kernel
if "--import" in sys.argv:
    import iniconfig
report = from_kernel(imported_only="--imported-only" in sys.argv)
print(json.dumps({"pip": report.packages.get("pip", []),
                  "left": [entry.entry for entry in report.left_out],
                  "notes": [note.message for note in report.notes]}))
"""


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A virtual environment without pip, with packaging and iniconfig (pytest's, so surely in
    the test environment) installed in it, copied file by file as their RECORD lists them, and
    PYTHONPATH naming a folder that holds only the project's package (no dist-info), so that
    venv's own distributions are all ``from_kernel`` can find."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "env")], check=True)
    python = root / "env" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    for name in ("packaging", "iniconfig"):
        copy_installed(importlib.metadata.distribution(name), Path(purelib))
    shim = root / "shim"
    shim.mkdir()
    (shim / "qoder_jupyter").symlink_to(
        Path(kernel.__file__).parent.parent, target_is_directory=True
    )
    env = {**os.environ, "PYTHONPATH": str(shim)}
    env.pop("PYTHONHOME", None)
    return python, env


def copy_installed(dist: importlib.metadata.Distribution, site: Path) -> None:
    """Install ``dist`` into ``site`` by copying the files its RECORD lists (not its scripts or
    byte code)."""
    for file in dist.files or ():
        source = Path(str(dist.locate_file(file)))
        if file.parts[0] != ".." and "__pycache__" not in file.parts and source.is_file():
            (site / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, site / file)


def run_in(venv: tuple[Path, dict[str, str]], *args: str) -> dict[str, Any]:
    python, env = venv
    done = subprocess.run(
        [str(python), "-c", _REPORT, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_inside_a_fresh_venv_it_pins_that_venv_s_distributions(
    fresh_venv: tuple[Path, dict[str, str]],
) -> None:
    packaging = f"packaging=={importlib.metadata.version('packaging')}"
    iniconfig = f"iniconfig=={importlib.metadata.version('iniconfig')}"
    report = run_in(fresh_venv)
    assert report["pip"] == [iniconfig, packaging]
    assert report["left"] == []
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert any(f"Python {python} and" in note for note in report["notes"]) == (python != "3.12")
    # The kernel imported packaging (from_kernel uses it), not iniconfig, until it does.
    assert run_in(fresh_venv, "--imported-only", "--import")["pip"] == [iniconfig, packaging]
    not_imported = run_in(fresh_venv, "--imported-only")
    assert not_imported["pip"] == [packaging]
    assert any("Left out 1 installed distribution that" in note for note in not_imported["notes"])
