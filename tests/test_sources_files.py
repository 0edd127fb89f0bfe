"""Packages from the user's own files (``--packages-from``): files of each kind read into the
exact lists taken, the exact entries left out (and why, by a stable word of the reason), and the
notes; the errors of files that cannot be read, each naming the file and the line; and the
report's rendering.

The files of ``tests/data/sources`` are written for this project in the shapes real projects give
them (each described in its ``SOURCES.md``) and read from their folder, as a notebook in it would
name them, so every ``where`` below is the path a user would see. One real-world file is read as
it is installed: the ``package.json`` that JupyterLab ships. The edge cases of each format that
no such file shows (a cycle of includes, bad TOML) are written by the tests into a temporary
folder."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path

import pytest

from qoder_jupyter import display_report, rules
from qoder_jupyter.errors import ValidationError
from qoder_jupyter.sources import Left, Note, PackageImport, detect_kind, read_packages

DATA = Path(__file__).parent / "data" / "sources"


@pytest.fixture
def data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test files, read from their folder."""
    monkeypatch.chdir(DATA)
    return DATA


def left(report: PackageImport) -> list[tuple[str, str]]:
    """(entry, where) of each entry left out."""
    return [(each.entry, each.where) for each in report.left_out]


def error_of(path: str | Path, **options: object) -> str:
    """The one problem reading ``path`` raises, as ``field: message``."""
    with pytest.raises(ValidationError) as caught:
        read_packages(path, **options)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.field == "--packages-from"
    return problem.message


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- telling the kind by the name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("Requirements_Test.txt", "requirements"),
        ("requirements.in", "requirements"),
        ("requirements/torch_linux.txt", "requirements"),
        ("ci/requirements/py3.txt", "requirements"),
        ("pyproject.toml", "pyproject"),
        ("environment.yml", "conda"),
        ("binder/environment.yaml", "conda"),
        ("package.json", "npm"),
        ("binder/apt.txt", "apt"),
    ],
)
def test_the_kind_is_told_by_the_name(name: str, kind: str) -> None:
    assert detect_kind(name) == kind


def kind_error_of(name: str) -> str:
    """The one problem the kind of a file of this name raises (the name alone is read)."""
    with pytest.raises(ValidationError) as caught:
        detect_kind(name)
    (problem,) = caught.value.problems
    assert problem.field == "--packages-from"
    return problem.message


def test_a_constraints_file_is_refused_with_what_to_import_instead() -> None:
    message = kind_error_of("constraints.txt")
    assert message.startswith("constraints.txt: a constraints file limits the versions")
    assert "import the requirements file it constrains" in message


def test_an_unknown_name_lists_the_names_understood() -> None:
    message = kind_error_of("setup.py")
    assert message == (
        "setup.py: not a package file this can read (the kind is told by the file name): name "
        "one of *requirements*.txt (or any .txt in a folder named requirements), pyproject.toml, "
        "environment.yml (or environment.yaml), package.json or apt.txt."
    )
    assert "notes.txt" in kind_error_of("notes.txt")  # a .txt outside a requirements folder


@pytest.mark.parametrize(
    "name",
    ["requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "test_requirements.in"],
)
def test_the_usual_names_of_requirements_files_are_known(name: str) -> None:
    assert detect_kind(name) == "requirements"


def test_a_missing_file_is_said_before_its_kind(tmp_path: Path) -> None:
    for name in ("requirments.txt", "setup.py"):  # a typo; a name of no kind
        message = error_of(tmp_path / name)
        assert message == (
            f"{tmp_path / name}: no such file (looked in {tmp_path}): check the name, or give the "
            "full path."
        )


# --- requirements files ----------------------------------------------------------------------

SANDBOX = "the sandbox (Ubuntu 22.04, x86_64, Python 3.12, Node.js 20)"


def skipped_by_pip(entry: str, where: str) -> Note:
    """The note of an entry whose environment marker is false in the sandbox."""
    return Note(
        f"{entry}: its environment marker is false in {SANDBOX}, so pip skips it there.", where
    )


LOCK_PINS = [
    *("annotated-types==0.7.0", "anyio==4.6.2", "certifi==2024.8.30", "h11==0.14.0"),
    *("httpcore==1.0.6", "httpx==0.27.2", "idna==3.10", "markdown-it-py==3.0.0", "mdurl==0.1.2"),
    *("numpy==2.1.2", "pandas==2.2.3", "pydantic==2.9.2", "pydantic-core==2.23.4"),
    *("pygments==2.18.0", "python-dateutil==2.9.0.post0", "pytz==2024.2", "rich==13.9.2"),
    *("six==1.16.0", "sniffio==1.3.1", 'tomli==2.0.2 ; python_version < "3.11"'),
    *("typing-extensions==4.12.2", "tzdata==2024.2"),
]


def test_a_lock_file_keeps_the_pins_and_drops_the_hashes(data: Path) -> None:
    """Each pin is continued by its --hash lines and followed by "# via" comments; the marker
    pip-compile writes after " ; " is kept as written."""
    name = "requirements/lockfile/requirements.txt"
    report = read_packages(name)
    assert report.sources == (name,)
    assert report.packages == {"pip": LOCK_PINS}
    assert report.left_out == []
    assert report.notes == [
        skipped_by_pip('tomli==2.0.2 ; python_version < "3.11"', f"{name}:104"),
        Note(
            "The --hash options of 22 requirements were dropped: the pip list carries names and "
            "versions, not hashes (the versions stay pinned).",
            name,
        ),
    ]


MODEL_SERVER = "requirements/model-server/requirements"
TORCH_SHARED = [
    "numpy==1.26.4; sys_platform != 'win32'",
    "numpy==2.1.2; sys_platform == 'win32'",
    "pillow==11.0.0",
    "safetensors==0.4.5",
]


def test_an_include_an_extra_index_and_local_version_pins(data: Path) -> None:
    """CPU builds of PyTorch: ``-r`` a file beside it, PyTorch's own index, ``+cpu`` pins behind
    a marker; the included file's marker false on Linux is noted."""
    name = f"{MODEL_SERVER}/torch-cpu-linux.txt"
    report = read_packages(name)
    assert report.sources == (name, f"{MODEL_SERVER}/torch-shared.txt")
    assert report.packages == {"pip": TORCH_SHARED}
    assert left(report) == [
        ("--extra-index-url https://download.pytorch.org/whl/cpu", f"{name}:4"),
        ("torch==2.5.1+cpu; sys_platform == 'linux'", f"{name}:6"),
        ("torchvision==0.20.1+cpu; sys_platform == 'linux'", f"{name}:7"),
        ("torchaudio==2.5.1+cpu; sys_platform == 'linux'", f"{name}:8"),
    ]
    index, torch, *others = report.left_out
    assert index.reason.startswith("an index option")
    assert "allow download.pytorch.org" in index.fix
    assert all(each.reason.startswith("'+cpu' is a local version label") for each in others)
    assert torch.reason == (
        "'+cpu' is a local version label: PyPI has no such build (it comes from another package "
        "index)"
    )
    assert torch.fix == (
        "add the public release \"torch==2.5.1; sys_platform == 'linux'\" to the pip list "
        "instead, or install this build in the setup script (pip install --extra-index-url "
        "https://download.pytorch.org/whl/cpu 'torch==2.5.1+cpu') and allow download.pytorch.org"
    )
    assert report.notes == [
        skipped_by_pip(
            "numpy==2.1.2; sys_platform == 'win32'", f"{MODEL_SERVER}/torch-shared.txt:4"
        )
    ]


def test_markers_for_another_platform_are_taken_and_noted(data: Path) -> None:
    name = f"{MODEL_SERVER}/torch-macos.txt"
    report = read_packages(name)
    darwin = [
        "torch==2.5.1; sys_platform == 'darwin'",
        "torchvision==0.20.1; sys_platform == 'darwin'",
        "torchaudio==2.5.1; sys_platform == 'darwin'",
    ]
    assert report.packages == {"pip": [*TORCH_SHARED, *darwin]}
    assert report.left_out == []
    assert report.notes == [
        skipped_by_pip(TORCH_SHARED[1], f"{MODEL_SERVER}/torch-shared.txt:4"),
        *(
            skipped_by_pip(entry, f"{name}:{line}")
            for entry, line in zip(darwin, (4, 5, 6), strict=True)
        ),
    ]


def test_any_txt_in_a_requirements_folder_and_its_include(data: Path) -> None:
    """dev.txt includes service.txt first; its second spelling of a pin is taken once, and its
    markers true in the sandbox (Linux x86_64) get no note."""
    report = read_packages(f"{MODEL_SERVER}/dev.txt")
    assert report.sources == (f"{MODEL_SERVER}/dev.txt", f"{MODEL_SERVER}/service.txt")
    assert report.packages == {
        "pip": [
            *("fastapi==0.115.2", "uvicorn[standard]==0.32.0", "pydantic==2.9.2"),  # service.txt
            *("prometheus-client==0.21.0", "psutil==6.1.0", "pyyaml==6.0.2", "setuptools"),
            *("pytest==8.3.3", "pytest-asyncio==0.24.0", "pytest-timeout==2.3.1", "mypy==1.13.0"),
            *("pre-commit==4.0.1", "grpcio-tools==1.67.0", "onnx==1.17.0", "onnxruntime==1.19.2"),
            "intel-openmp==2024.2.1; platform_machine == 'x86_64' and sys_platform != 'darwin'",
            "nvidia-ml-py>=12.535; sys_platform == 'linux'",
            "datasets",
        ]
    }
    assert report.left_out == []
    assert report.notes == []


def test_the_lines_of_a_projects_development_file(data: Path) -> None:
    """The project installed editable with an extra, a requirement with its own option, local
    paths, a direct URL, a git URL, an install option, and lines repeated in other spellings."""
    name = "requirements/geo-project/requirements-dev.txt"
    report = read_packages(name)
    assert report.packages == {
        "pip": [
            *("pytest>=8.2,<9", "pytest-cov", "pytest-xdist[psutil]==3.6.1", "hypothesis~=6.112"),
            "lxml==5.3.0",
        ]
    }
    assert left(report) == [
        ("-e .[plot]", f"{name}:5"),
        ("./vendor/tile-cache", f"{name}:11"),
        ("../wheels/geo_metrics-0.4.1-py3-none-any.whl", f"{name}:12"),
        ("tinycrs @ https://downloads.example.org/tinycrs/tinycrs-0.3.0.tar.gz", f"{name}:13"),
        ("git+https://github.com/example-org/mapstyle.git@v1.2.0#egg=mapstyle", f"{name}:14"),
        ("--only-binary=:all:", f"{name}:15"),
    ]
    editable, folder, wheel, url, git, binary = report.left_out
    assert "editable install of the local folder '.[plot]'" in editable.reason
    assert "--packages-from pyproject.toml, with --extras plot" in editable.fix
    assert [folder.reason, wheel.reason] == [
        "a local path: the sandbox has no copy of your files"
    ] * 2
    assert url.reason == (
        "a direct URL: pip would download it from downloads.example.org, not from PyPI"
    )
    assert url.fix == (
        "add 'tinycrs @ https://downloads.example.org/tinycrs/tinycrs-0.3.0.tar.gz' to the pip "
        "list yourself and allow downloads.example.org, or add the PyPI release 'tinycrs' instead"
    )
    assert git.reason.startswith("a git repository URL: pip would download it from github.com")
    assert git.fix.endswith("or add the PyPI release 'mapstyle' instead")
    assert binary.reason.startswith("an install option")
    assert report.notes == [
        Note(
            "lxml==5.3.0: its options --config-settings=--build-option=--static-deps were "
            "dropped: the pip list takes requirements only (install it in the setup script if "
            "they matter).",
            f"{name}:10",
        )
    ]


def test_the_lines_of_pips_format(tmp_path: Path) -> None:
    """Continuations, comments, per-requirement options, every kind of line left out, and
    duplicates taken once."""
    path = write(
        tmp_path,
        "requirements.txt",
        "# a comment\n"
        "\n"
        "pandas>=2 \\\n"
        "    --hash=sha256:0123 \\\n"
        "    --hash=sha256:4567  # a trailing comment\n"
        "Pandas >= 2  # the same requirement again\n"
        "-i https://user:s3cret@pypi.example.com/simple\n"
        "--pre\n"
        "-c constraints.txt\n"
        "./local-package\n"
        "../dist/tool-1.0-py3-none-any.whl\n"
        "file:///srv/wheels/thing.whl\n"
        "demo @ https://example.com/demo-1.0.tar.gz\n"
        "https://example.com/bare-2.0-py3-none-any.whl\n"
        "-e git+https://github.com/org/lib.git@main#egg=lib\n"
        "git+https://github.com/org/other.git@v1\n"
        "fast --config-settings=--build-option=--fast\n"
        "--frobnicate\n"
        "price$PRICE\n"
        "torch==2.3.0+cu121\n"
        "numpy #a comment: '#' after a space\n",
    )
    report = read_packages(path)
    assert report.packages == {"pip": ["pandas>=2", "fast", "numpy"]}
    where = {entry: spot.rpartition(":")[2] for entry, spot in left(report)}
    assert where == {
        "-i https://***@pypi.example.com/simple": "7",  # the password is never shown
        "--pre": "8",
        "-c constraints.txt": "9",
        "./local-package": "10",
        "../dist/tool-1.0-py3-none-any.whl": "11",
        "file:///srv/wheels/thing.whl": "12",
        "demo @ https://example.com/demo-1.0.tar.gz": "13",
        "https://example.com/bare-2.0-py3-none-any.whl": "14",
        "-e git+https://github.com/org/lib.git@main#egg=lib": "15",
        "git+https://github.com/org/other.git@v1": "16",
        "--frobnicate": "18",
        "price$PRICE": "19",
        "torch==2.3.0+cu121": "20",
    }
    reasons = [each.reason.split(":")[0] for each in report.left_out]
    assert reasons == [
        "an index option",
        "an install option",
        "a constraints file",
        "a local path",
        "a local path",
        "a local path (file",
        "a direct URL",
        "a direct URL",
        "an editable install from a git repository (github.com)",
        "a git repository URL",
        "--frobnicate is not an option of pip's requirements files",
        "'price$PRICE' contains '$', which expands a variable or runs a command in a shell",
        "'+cu121' is a local version label",
    ]
    assert "s3cret" not in repr(report)
    assert "s3cret" not in str(report)
    assert "allow pypi.example.com" in report.left_out[0].fix
    assert report.left_out[6].fix == (
        "add 'demo @ https://example.com/demo-1.0.tar.gz' to the pip list yourself and allow "
        "example.com, or add the PyPI release 'demo' instead"
    )
    assert "add 'lib' to the pip list" in report.left_out[8].fix
    assert [note.message.split(":")[0] for note in report.notes] == [
        "fast",
        "The --hash options of 1 requirement were dropped",
    ]
    assert [note.where for note in report.notes] == [f"{path}:17", str(path)]


def test_include_forms_and_a_file_included_twice(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", "-rbase.txt\n--requirement=dev/more.txt\nrich\n")
    write(tmp_path, "base.txt", "click\n")
    write(tmp_path, "dev/more.txt", "-r ../base.txt\npytest\n")  # base.txt again: read once
    report = read_packages(tmp_path / "requirements.txt")
    assert report.packages == {"pip": ["click", "pytest", "rich"]}
    assert [Path(source).name for source in report.sources] == [
        "requirements.txt",
        "base.txt",
        "more.txt",
    ]


def test_an_include_cycle_is_an_error_that_names_the_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "requirements.txt", "click\n-r more.txt\n")
    write(tmp_path, "more.txt", "rich\n-r requirements.txt\n")
    assert error_of("requirements.txt") == (
        "more.txt:2: '-r requirements.txt' includes requirements.txt again while it is being "
        "read (requirements.txt → more.txt → requirements.txt): remove one of these -r lines."
    )


def test_a_missing_file_and_a_missing_include(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert error_of("requirements.txt") == (
        f"requirements.txt: no such file (looked in {tmp_path.resolve()}): check the name, or "
        "give the full path."
    )
    write(tmp_path, "requirements-dev.txt", "pytest\n-r requirements.txt\n")
    assert error_of("requirements-dev.txt") == (
        "requirements-dev.txt:2: '-r requirements.txt' includes requirements.txt, which does not "
        f"exist (looked in {tmp_path.resolve()}): an include is relative to the file that names "
        "it."
    )


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"click\n# caf\xe9 in Latin-1\nrich\n")
    assert error_of(path) == (
        f"{path}:2: not UTF-8 text (byte 0xe9): save the file as UTF-8 and import it again."
    )


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").mkdir()
    assert "this is a folder: name the package file in it" in error_of(
        tmp_path / "requirements.txt"
    )


# --- pyproject.toml --------------------------------------------------------------------------

HTTP_CLIENT = "pyproject/http-client/pyproject.toml"
HTTP_DEPENDENCIES = [
    "charset-normalizer>=3,<4",
    "idna>=3.4,<4",
    "urllib3>=2.0,<3",
    "certifi>=2024.2.2",
]


def test_dependencies_and_what_else_the_file_offers(data: Path) -> None:
    report = read_packages(HTTP_CLIENT)
    assert report.sources == (HTTP_CLIENT,)
    assert report.packages == {"pip": HTTP_DEPENDENCIES}
    assert report.left_out == []
    assert report.notes == [
        Note(
            "Not taken, as not asked for: the optional-dependency groups 'legacy', 'socks', "
            "'compression', 'charset_detection' (--extras NAME) and the dependency groups 'test', "
            "'type_check' (--group NAME).",
            HTTP_CLIENT,
        )
    ]


def test_an_extra_and_a_group_that_names_the_project_itself(data: Path) -> None:
    report = read_packages(HTTP_CLIENT, extras=["socks"], groups=["test"])
    assert report.packages == {
        "pip": [
            *HTTP_DEPENDENCIES,
            "PySocks>=1.5.6, !=1.5.7",  # the extra asked for, and the one the group names
            *("pytest>=8", "pytest-httpserver==1.1.0", "pytest-cov", "pytest-mock", "trustme"),
        ]
    }
    assert report.left_out == []
    assert report.notes == [
        Note(
            "swiftfetch[socks] names this project itself, which the sandbox does not have: its "
            "dependencies and its extra 'socks' were taken instead.",
            f"{HTTP_CLIENT}:43",
        ),
        Note(
            "Not taken, as not asked for: the optional-dependency groups 'legacy', "
            "'compression', 'charset_detection' (--extras NAME) and the dependency group "
            "'type_check' (--group NAME).",
            HTTP_CLIENT,
        ),
    ]


def test_extras_with_markers_and_names_compared_normalised(data: Path) -> None:
    """PEP 685 and 735 compare names normalised; each requirement is taken as written, so a
    package named with two different specifiers (chardet) is in the list twice."""
    report = read_packages(
        HTTP_CLIENT, extras=["compression", "CHARSET-DETECTION"], groups=["Type-Check"]
    )
    brotlicffi = "brotlicffi>=1.1; platform_python_implementation != 'CPython'"
    assert report.packages == {
        "pip": [
            *HTTP_DEPENDENCIES,
            *("brotli>=1.1; platform_python_implementation == 'CPython'", brotlicffi),
            *("zstandard>=0.22", "chardet>=5,<6", "mypy>=1.11", "types-certifi", "chardet"),
        ]
    }
    assert report.notes[0] == skipped_by_pip(brotlicffi, f"{HTTP_CLIENT}:36")
    assert report.notes[1].message.startswith(
        "Not taken, as not asked for: the optional-dependency groups 'legacy', 'socks' "
    )


def test_unknown_extras_and_groups_list_the_files_own(data: Path) -> None:
    assert error_of(HTTP_CLIENT, extras=["sock", "legacy"]) == (
        f"{HTTP_CLIENT}: no optional-dependency group 'sock' in [project.optional-dependencies]: "
        "name one the file has ('legacy', 'socks', 'compression', 'charset_detection')."
    )
    assert error_of(HTTP_CLIENT, groups=["tests"]) == (
        f"{HTTP_CLIENT}: no dependency group 'tests' in [dependency-groups] (PEP 735): name one "
        "the file has ('test', 'type_check')."
    )


def test_dependency_groups_with_includes(data: Path) -> None:
    """No dependencies of its own; groups including groups (tests three times over), markers
    kept as written, and an entry two groups share taken once."""
    name = "pyproject/dataclass-toolkit/pyproject.toml"
    assert read_packages(name).packages == {}
    report = read_packages(name, groups=["dev", "bench"])
    assert report.packages == {
        "pip": [
            'cloudpickle; platform_python_implementation == "CPython"',
            *("hypothesis>=6.100", "pytest>=8", "pytest-xdist[psutil]", "ruff>=0.6"),
            *("pre-commit>=3.7", "mypy>=1.11", 'pytest-mypy-plugins; python_version >= "3.10"'),
            "pytest-benchmark",
        ]
    }
    assert report.left_out == []
    (offered,) = report.notes
    assert offered.message.startswith("Not taken, as not asked for: the dependency groups ")
    assert "the dependency groups 'docs', 'docs-live' (--group NAME)." in offered.message
    assert "'tests'" not in offered.message  # taken: included by a group asked for


def test_requirements_as_written_and_a_marker_false_in_the_sandbox(data: Path) -> None:
    """Spaces around the operators, and comments inside the list."""
    name = "pyproject/signing-cli/pyproject.toml"
    report = read_packages(name)
    backport = "importlib_resources ~= 6.4; python_version < '3.11'"
    assert report.packages == {
        "pip": [
            *("cryptography >= 42", backport, "pydantic >= 2, < 3", "pyjwt >= 2.8", "requests"),
            *("sealkit-log-models == 0.3.1", "platformdirs ~= 4.2", "rich >= 13, < 14"),
        ]
    }
    assert report.left_out == []
    assert report.notes == [
        skipped_by_pip(backport, f"{name}:16"),
        Note("Not taken, as not asked for: the dependency group 'dev' (--group NAME).", name),
    ]


def test_dynamic_dependencies_point_to_their_file(data: Path) -> None:
    """The dependencies are dynamic, read by setuptools from requirements.txt: the note names
    the file, and importing it as the note says takes them."""
    name = "pyproject/hub-service/pyproject.toml"
    report = read_packages(name)
    assert report.packages == {}
    assert report.notes == [
        Note(
            "[project] declares its dependencies dynamic: the build backend computes them, so "
            "none were read here; setuptools reads them from requirements.txt: import "
            "--packages-from pyproject/hub-service/requirements.txt.",
            name,
        ),
        Note(
            "Not taken, as not asked for: the optional-dependency group 'test' (--extras NAME).",
            name,
        ),
    ]
    named = read_packages("pyproject/hub-service/requirements.txt")
    windows = "pywin32>=306; sys_platform == 'win32'"
    assert named.packages == {
        "pip": [
            *(
                "alembic>=1.13",
                "jinja2>=3.1",
                "oauthlib>=3.2",
                "pamela>=1.1; sys_platform != 'win32'",
            ),
            *(windows, "prometheus_client>=0.20", "SQLAlchemy>=2.0", "tornado>=6.4"),
            "traitlets>=5.14",
        ]
    }
    assert named.notes == [skipped_by_pip(windows, "pyproject/hub-service/requirements.txt:7")]


def test_poetry_tables_are_not_read_and_the_note_says_how_to_export(data: Path) -> None:
    name = "pyproject/poetry-cli/pyproject.toml"
    report = read_packages(name)
    assert report.packages == {}
    assert report.left_out == []
    assert report.notes == [
        Note(
            "The dependencies are only in [tool.poetry] tables, Poetry's own format, which is not "
            "read: export them (poetry export --without-hashes -o requirements.txt, with Poetry's "
            "export plugin) and import that file, or declare them in [project].dependencies "
            "(PEP 621).",
            name,
        )
    ]


def test_a_requires_python_the_sandbox_does_not_meet(data: Path) -> None:
    name = "pyproject/legacy-pipeline/pyproject.toml"
    report = read_packages(name)
    assert report.packages == {"pip": ["numpy>=1.21,<1.25", "pandas>=1.5,<2", "numba==0.57.1"]}
    assert report.notes == [
        Note(
            "requires-python is '>=3.8,<3.12', which the sandbox's Python 3.12 does not meet: "
            "the project may not install or run there.",
            name,
        )
    ]


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x"\ndependencies = ["a",\n= 1\n')
    message = error_of(path)
    assert re.fullmatch(
        rf"{re.escape(str(path))}:4: not valid TOML \(.+, column \d+\): correct that line and "
        r"import it again\.",
        message,
    ), message


def test_an_include_group_cycle_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pyproject.toml",
        "[dependency-groups]\n"
        'test = ["pytest", {include-group = "lint"}]\n'
        'lint = ["ruff", {include-group = "test"}]\n',
    )
    assert error_of(path, groups=["test"]) == (
        f"{path}: [dependency-groups] includes 'test' within itself (test → lint → test): "
        "remove one of these include-group entries."
    )


# --- environment.yml -------------------------------------------------------------------------

CONDA_REASON = "a conda package: the sandbox installs with pip and apt, not conda"


def test_the_pip_list_is_taken_and_the_rest_reported(data: Path) -> None:
    """Conda packages left out with their pip form; conda's pip skipped; an older Python and
    extra channels noted; editable installs from git and of the project left out."""
    name = "conda/image-generation/environment.yaml"
    report = read_packages(name)
    assert report.packages == {
        "pip": [
            *("diffusers==0.29.2", "transformers==4.42.4", "accelerate==0.32.1"),
            *("safetensors==0.4.3", "opencv-python-headless==4.10.0.84", "omegaconf==2.3.0"),
            *("einops==0.8.0", "gradio>=4.37", "invisible-watermark>=0.2.0"),
        ]
    }
    assert left(report) == [
        ("git", f"{name}:10"),
        ("pytorch-cuda=12.1", f"{name}:13"),
        ("pytorch=2.3.1", f"{name}:14"),
        ("torchvision=0.18.1", f"{name}:15"),
        ("numpy=1.26.4", f"{name}:16"),
        (
            "-e git+https://github.com/example-lab/latent-tools.git@main#egg=latent-tools",
            f"{name}:27",
        ),
        ("-e .", f"{name}:28"),
    ]
    assert {each.reason for each in report.left_out[:5]} == {CONDA_REASON}
    assert report.left_out[2].fix.startswith("add 'pytorch==2.3.1.*' to the pip list if PyPI")
    assert report.left_out[5].reason.startswith("an editable install from a git repository")
    assert "add 'latent-tools' to the pip list" in report.left_out[5].fix
    assert report.left_out[6].reason.startswith("an editable install of the local folder '.'")
    assert report.notes == [
        Note(
            "python=3.10.14: this environment wants another Python, and the sandbox has Python "
            "3.12: check that its packages support it (pins made for an older one may not "
            "install).",
            f"{name}:11",
        ),
        Note(
            "The channels pytorch, nvidia were not used: the sandbox installs from PyPI, so builds "
            "found only there (such as CUDA builds) must come from the package's own index, in "
            "the setup script.",
            name,
        ),
    ]


def test_runtimes_are_compared_and_a_pip_include_is_relative_to_the_yml(data: Path) -> None:
    name = "conda/binder-demo/binder/environment.yml"
    report = read_packages(name)
    assert report.sources == (name, "conda/binder-demo/binder/requirements.txt")
    assert report.packages == {
        "pip": ["pandas>=2.2", "scikit-learn>=1.5", "seaborn==0.13.2", "plotly>=5.24"]
    }
    assert left(report) == [("jupyterlab==4.*", f"{name}:11"), ("ipywidgets==8.*", f"{name}:12")]
    assert report.left_out[0].fix.startswith("add 'jupyterlab==4.*' to the pip list")
    assert report.notes == [  # nodefaults and conda-forge are not worth a note
        Note("python=3.12: the sandbox has Python 3.12, which this allows.", f"{name}:8"),
        Note(
            "nodejs=18: this environment wants another Node.js, and the sandbox has Node.js 20: "
            "check that its packages support it (pins made for an older one may not install).",
            f"{name}:9",
        ),
    ]


ANALYSIS_CONDA = [
    *("numpy>=1.22.4", "python-dateutil>=2.8.2", "pytz>=2020.1", "tzdata>=2022.7"),
    *("cython=3.0.10", "meson-python=0.13.1", "conda-forge::ninja", "black=24.1a1"),
    *("flake8==7.0.0", "mypy=1.8", "conda-forge::pre-commit>=3.6", "pytest-asyncio>=0.21,<=0.23.5"),
    *("isort", "openblas=0.3.27=pthreads*", "libblas=*=*openblas", "hypothesis>=6.84"),
    *("pytest>=7.3.2", "pytest-xdist>=3.4", "moto", "matplotlib>=3.6.3", "scipy>=1.10"),
    *("pytables>=3.8", "pyarrow>=10.0.1", "sqlalchemy", "sphinx", "nbsphinx", "pandoc"),
]


def test_every_form_of_conda_spec_gets_its_pip_form(data: Path) -> None:
    name = "conda/analysis-dev/environment.yml"
    report = read_packages(name)
    assert report.packages == {}
    conda = report.left_out[: len(ANALYSIS_CONDA)]
    assert [each.entry for each in conda] == ANALYSIS_CONDA  # all but python, nodejs and pip
    assert {each.reason for each in conda} == {CONDA_REASON}
    fix = {each.entry: each.fix for each in conda}
    fixes = {entry: text.split("'")[1] for entry, text in fix.items() if text.startswith("add '")}
    assert fixes["numpy>=1.22.4"] == "numpy>=1.22.4"  # a range: the same in pip
    assert fixes["cython=3.0.10"] == "cython==3.0.10.*"  # conda's "=" is a prefix match
    assert fixes["mypy=1.8"] == "mypy==1.8.*"
    assert fixes["black=24.1a1"] == "black==24.1a1"  # a pre-release: that release exactly
    assert fixes["flake8==7.0.0"] == "flake8==7.0.0"
    assert fixes["conda-forge::pre-commit>=3.6"] == "pre-commit>=3.6"  # the channel dropped
    assert fixes["pytest-asyncio>=0.21,<=0.23.5"] == "pytest-asyncio>=0.21,<=0.23.5"
    assert fixes["openblas=0.3.27=pthreads*"] == "openblas==0.3.27.*"  # the build dropped
    assert fixes["isort"] == "isort"
    assert fix["libblas=*=*openblas"] == (  # no pip form: the fix says to find one
        "add its PyPI name to the pip list, or its Ubuntu package to the apt list"
    )
    assert left(report)[len(ANALYSIS_CONDA) :] == [
        ("git+https://github.com/example-org/tabular-sphinx-theme.git@main", f"{name}:54"),
        ("git+https://github.com/example-org/docstring-checker", f"{name}:55"),
    ]
    assert report.left_out[-1].reason.startswith("a git repository URL")
    assert report.left_out[-1].fix.startswith(
        "add it as 'NAME @ git+https://github.com/example-org/docstring-checker' to the pip list"
    )
    assert [(note.where, note.message.split(":")[0]) for note in report.notes] == [
        (f"{name}:10", "python=3.9"),
        (f"{name}:50", "nodejs>=18"),
    ]
    assert report.notes[1].message == "nodejs>=18: the sandbox has Node.js 20, which this allows."


def test_bad_yaml_names_the_line(data: Path) -> None:
    """A package written under the list without its dash. PyYAML marks where it gave up: the
    line after it."""
    name = "conda/broken/environment.yml"
    assert error_of(name) == (
        f"{name}:7: not valid YAML (could not find expected ':'): correct that line and import it "
        "again."
    )


# --- package.json ----------------------------------------------------------------------------

DASHBOARD = [
    *("bootstrap@^5.3.3", "date-fns@^4.1.0", "lodash@^4.17.21", "prop-types@^15.8.1"),
    *("react@^18.3.1", "react-bootstrap@^2.10.5", "react-dom@^18.3.1"),
    *("react-router-dom@^6.27.0", "@reduxjs/toolkit@^2.3.0", "react-redux@^9.1.2"),
]
DASHBOARD_DEV = [
    *("@babel/core@^7.25.8", "@babel/preset-env@^7.25.8", "@babel/preset-react@^7.25.7"),
    *("@testing-library/jest-dom@^6.6.2", "@testing-library/react@^16.0.1", "babel-jest@^29.7.0"),
    *("babel-loader@^9.2.1", "css-loader@^7.1.2", "eslint@^9.13.0", "eslint-plugin-react@^7.37.1"),
    *("identity-obj-proxy@^3.0.0", "jest@^29.7.0", "jest-environment-jsdom@^29.7.0"),
    *("style-loader@^4.0.0", "webpack@^5.95.0", "webpack-cli@^5.1.4", "webpack-dev-server@^5.1.0"),
]


def test_dependencies_as_name_at_range_and_dev_when_asked(data: Path) -> None:
    """A package in both lists is taken once: silently when the ranges agree (prop-types), with
    a note when they differ (lodash). optionalDependencies are noted, never taken."""
    name = "npm/dashboard/package.json"
    optional = Note(
        "optionalDependencies (fsevents) were not read; npm installs them when it can: add those "
        "the code needs to the npm list.",
        name,
    )
    report = read_packages(name)
    assert report.packages == {"npm": DASHBOARD}
    assert report.left_out == []
    assert report.notes == [optional]
    with_dev = read_packages(name, dev=True)
    assert with_dev.packages == {"npm": [*DASHBOARD, *DASHBOARD_DEV]}
    assert with_dev.left_out == []
    assert with_dev.notes == [
        Note("lodash@^4.17.0 was not taken: lodash@^4.17.21 is taken already.", f"{name}:48"),
        optional,
    ]


def test_local_linked_workspace_and_aliased_packages_are_left_out(data: Path) -> None:
    name = "npm/bundler-playground/package.json"
    report = read_packages(name)
    assert report.packages == {
        "npm": ["clipboard@^2.0.11", "lodash-es@^4.17.21", "vue@^3.5.12", "vue-router@^4.4.5"]
    }
    assert left(report) == [
        ('@example/dep-cjs: "file:./dep-cjs"', f"{name}:11"),
        ('@example/dep-esm: "file:./dep-esm"', f"{name}:12"),
        ('@example/dep-with-assets: "file:./dep-with-assets"', f"{name}:13"),
        ('@example/dep-linked: "link:./dep-linked"', f"{name}:14"),
        ('@example/shared-config: "workspace:*"', f"{name}:15"),
        ('@example/ui-kit: "workspace:^"', f"{name}:16"),
        ('@example/test-utils: "workspace:0.0.0"', f"{name}:17"),
        ('string-width-cjs: "npm:string-width@^4.2.3"', f"{name}:20"),
        ('node-types: "npm:@types/node@^20.16.0"', f"{name}:21"),
    ]
    reasons = [each.reason.split(":")[0] for each in report.left_out]
    assert reasons == [
        *["a local path"] * 4,  # file: and link:
        *["a workspace package"] * 3,
        *["an alias"] * 2,
    ]
    assert report.left_out[0].fix == (
        "add '@example/dep-cjs@VERSION' to the npm list if it is published on npm; otherwise "
        "install it in the setup script"
    )
    alias = report.left_out[8]
    assert alias.reason == "an alias: it installs @types/node@^20.16.0 under the name node-types"
    assert alias.fix == (
        "add '@types/node@^20.16.0' to the npm list if the code can import it as @types/node; to "
        "keep the name node-types, install it in the setup script (npm install "
        "'node-types@npm:@types/node@^20.16.0')"
    )
    with_dev = read_packages(name, dev=True)
    assert with_dev.packages["npm"][-1] == "vite@^5.4.10"
    assert left(with_dev)[-1] == ('@example/dep-dev-only: "file:../dep-dev-only"', f"{name}:26")


def test_every_form_of_a_dependencys_version(data: Path) -> None:
    """The forms npm's package.json documentation lists: versions, ranges, tags, any version,
    and the sources that are not the registry."""
    name = "npm/version-forms/package.json"
    report = read_packages(name)
    assert report.packages == {
        "npm": [
            *("lodash@4.17.21", "chalk@^5.3.0", "debug@~4.3", "semver@~7.6.0", "yargs@17.x"),
            *("commander@12.1.x", "typescript@latest", "eslint@next"),
            *("uuid", "ms"),  # "*" and "": any version, which npm installs at its latest tag
        ]
    }
    why = {each.entry.split(":")[0]: each.reason.split(":")[0] for each in report.left_out}
    assert why == {
        "glob": "a range with spaces",  # a hyphen range
        "minimatch": "a range with spaces",
        "rimraf": "a choice of ranges ('||')",
        "left-pad": "a tarball URL (registry.example.org)",
        "shared-utils": "a local path",
        "local-theme": "a local path",
        "strip-ansi-cjs": "an alias",
        "express": "a git repository",  # the user/repo shorthand of GitHub
        "mocha": "a git repository",
        "internal-lib": "a git repository",
        "ui-kit": "a git repository",
        "@example/core": "a workspace package",
    }
    assert [each.where.rpartition(":")[2] for each in report.left_out] == [
        str(line) for line in range(16, 28)
    ]
    fixes = {each.entry.split(":")[0]: each.fix for each in report.left_out}
    picked = {package: fixes[package].split("'")[1] for package in ("glob", "minimatch", "rimraf")}
    assert picked == {
        "glob": "glob@>=8.0.0",
        "minimatch": "minimatch@>=9.0.0",
        "rimraf": "rimraf@^5.0.0",
    }
    hosts = {
        package: fixes[package].rpartition("with ")[2]
        for package in ("express", "mocha", "internal-lib", "ui-kit")
    }
    assert hosts == {
        "express": "github.com allowed)",
        "mocha": "github.com allowed)",
        "internal-lib": "github.com allowed)",
        "ui-kit": "gitlab.com allowed)",
    }


def test_any_version_is_the_bare_name_and_bad_json_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "package.json",
        '{"dependencies": {\n  "a": "*",\n  "b": "",\n  "c": "x",\n  "d": 5,\n'
        '  "e": "git+ssh://git@gitlab.com:org/e.git"\n}}\n',
    )
    report = read_packages(path)
    assert report.packages == {"npm": ["a", "b", "c"]}
    assert [each.reason.split(":")[0] for each in report.left_out] == [
        "its version is the number 5, not a string",
        "a git repository",
    ]
    broken = write(tmp_path, "broken/package.json", '{\n  "dependencies": {\n    "a": "1"\n  \n')
    assert error_of(broken).startswith(f"{broken}:5: not valid JSON (Expecting ")


def npm_name(entry: str) -> str:
    """The package of an npm entry: ``@scope/name`` of ``@scope/name@^1.0``."""
    scope = "@" if entry.startswith("@") else ""
    return scope + entry[len(scope) :].partition("@")[0]


def jupyterlab_package_json() -> Path:
    """The package.json that the installed JupyterLab ships (its build's dependencies)."""
    try:  # located through its metadata: importing JupyterLab would cost a second and a half
        installed = importlib.metadata.distribution("jupyterlab")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("jupyterlab is not installed: this test reads the package.json it ships")
    return Path(str(installed.locate_file("jupyterlab/staging/package.json")))


def test_the_package_json_that_jupyterlab_ships() -> None:
    """A real-world file, as installed: its contents change with JupyterLab's version, so the
    test checks what holds for any version, against the file's JSON read directly."""
    path = jupyterlab_package_json()
    data = json.loads(path.read_text(encoding="utf-8"))
    runtime: dict[str, str] = data.get("dependencies", {})
    development: dict[str, str] = data.get("devDependencies", {})
    # Were either empty, the invariants below would hold for nothing.
    assert runtime
    assert development
    for dev, listed in ((False, runtime), (True, {**development, **runtime})):
        report = read_packages(path, dev=dev)
        taken = report.packages.get("npm", [])
        names = [npm_name(entry) for entry in taken]
        left_names = [each.entry.partition(": ")[0] for each in report.left_out]
        assert sorted(names + left_names) == sorted(listed)  # each exactly once
        for entry, package in zip(taken, names, strict=True):
            version = listed[package].strip()
            assert entry == (package if version in ("", "*", "x", "X") else f"{package}@{version}")
            assert rules.package_problem("npm", entry) is None, entry
        if not dev:  # a devDependency is taken only when asked for
            assert not set(names) & (set(development) - set(runtime))


# --- apt.txt ---------------------------------------------------------------------------------


def test_apt_txt_with_comments_blank_lines_and_lines_the_rules_refuse(data: Path) -> None:
    name = "apt/geo-notebook/apt.txt"
    report = read_packages(name)
    assert report.packages == {
        "apt": ["gdal-bin", "libgdal-dev", "libspatialindex-dev", "graphviz"]
    }
    assert left(report) == [("ffmpeg libsm6", f"{name}:11"), ("Fonts-DejaVu-Core", f"{name}:13")]
    assert "contains a space: put each package in its own entry" in report.left_out[0].reason
    assert "write 'fonts-dejavu-core'" in report.left_out[1].reason
    assert report.notes == []
    assert read_packages("apt/r-packages/apt.txt").packages == {"apt": ["libsodium-dev"]}


def test_apt_lines_the_rules_refuse(tmp_path: Path) -> None:
    path = write(tmp_path, "apt.txt", "curl  # a tool\nLibSSL-dev\nvim git\ncurl\nx;reboot\n")
    report = read_packages(path)
    assert report.packages == {"apt": ["curl"]}
    assert left(report) == [
        ("LibSSL-dev", f"{path}:2"),
        ("vim git", f"{path}:3"),
        ("x;reboot", f"{path}:5"),
    ]
    assert "write 'libssl-dev'" in report.left_out[0].reason
    assert "contains a space" in report.left_out[1].reason
    assert "ends a command" in report.left_out[2].reason


# --- options for another kind of file --------------------------------------------------------


def test_options_for_another_kind_of_file_are_noted(data: Path) -> None:
    name = "apt/r-packages/apt.txt"
    report = read_packages(name, extras=["socks"], groups=["dev"], dev=True)
    assert report.notes == [
        Note(
            "--extras socks and --group dev and --dev changed nothing here: they apply to a "
            "pyproject.toml (--extras, --group) or a package.json (--dev).",
            name,
        )
    ]


# --- the report's rendering ------------------------------------------------------------------

HOSTILE = '<img src=x onerror="alert(1)">'


def hostile_report() -> PackageImport:
    return PackageImport(
        sources=(f"req{HOSTILE}.txt",),
        packages={"pip": [f"pkg{HOSTILE}", "a|b"]},
        left_out=[
            Left(f"-e {HOSTILE}", f"why {HOSTILE}", f"fix {HOSTILE}", f"req.txt:{HOSTILE}"),
            Left("x || y", "a choice of ranges ('||')", "pick `one`", "package.json:3"),
        ],
        notes=[Note(f"note {HOSTILE}\nsecond line", "")],
    )


def test_text_plain_of_a_real_import(data: Path) -> None:
    text = str(read_packages(f"{MODEL_SERVER}/torch-cpu-linux.txt"))
    lines = text.splitlines()
    assert lines[0] == "Package import: 4 packages taken, 4 left out, 1 note"
    assert lines[1] == (
        f"  from {MODEL_SERVER}/torch-cpu-linux.txt, {MODEL_SERVER}/torch-shared.txt"
    )
    assert lines[2:5] == ["Taken", "  pip (4):", "    numpy==1.26.4; sys_platform != 'win32'"]
    assert "Left out" in lines
    assert "Notes" in lines
    group = lines.index(
        "  '+cpu' is a local version label: PyPI has no such build (it comes from another "
        "package index) (3)"
    )
    assert lines[group + 1] == (
        f"    torch==2.5.1+cpu; sys_platform == 'linux'  ({MODEL_SERVER}/torch-cpu-linux.txt:6)"
    )
    assert lines[group + 2].startswith("      fix: add the public release")


def test_html_is_escaped_scoped_and_styled() -> None:
    bundle = hostile_report()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    html = bundle["text/html"]
    assert "<img" not in html
    assert "<script" not in html.lower()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    styles = re.findall(r"<style>(.*?)</style>", html)
    assert len(styles) == 2  # the card's and the report's
    body = re.sub(r"<style>.*?</style>", "", html)
    assert body.startswith('<div class="qoder-env"><div class="qoder-env-card qoder-env-report">')
    for css in styles:
        for selectors in re.findall(r"([^{}]+)\{", css):
            for selector in selectors.split(","):
                assert selector.strip().startswith(".qoder-env"), selector
    report_css = styles[1]
    # JupyterLab's variable, then VS Code's, then a colour: every frontend gets a theme.
    assert re.search(
        r"var\(--jp-[a-z0-9-]+,var\(--vscode-[a-zA-Z0-9-]+,#[0-9a-f]{3,6}\)\)", report_css
    )


def test_markdown_keeps_its_tables_whole() -> None:
    markdown = hostile_report()._repr_mimebundle_()["text/markdown"]
    outside_code = re.sub(r"`[^`]*`", "", markdown)  # a code span shows its text as it is
    assert re.search(r"(?<!\\)<img", outside_code) is None  # escaped where it is not code
    assert "\\<img" in outside_code
    rows = [row for row in markdown.splitlines() if row.startswith("| ") and "---" not in row]
    for row in rows:  # three cells: no pipe from a value splits a row
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row
    assert "pick \\`one\\`" in markdown


def test_a_long_report_is_clipped_and_counts_what_it_hides() -> None:
    report = PackageImport(
        sources=("environment.yml",),
        left_out=[
            Left(f"pkg{i}", "a conda package", "fix", f"environment.yml:{i}") for i in range(250)
        ],
    )
    bundle = report._repr_mimebundle_()
    assert "a conda package (250)" in bundle["text/plain"]
    assert "… and 50 more" in bundle["text/plain"]
    assert "… and 50 more" in bundle["text/html"]
    assert "… and 50 more" in bundle["text/markdown"]
    assert bundle["text/plain"].count("\n      fix: fix") == 200


def test_rendering_never_raises() -> None:
    broken = PackageImport(sources=(), packages={"pip": None})  # type: ignore[dict-item]
    bundle = display_report.import_bundle(broken)
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    assert bundle["text/plain"].startswith("Package import: PackageImport(")
    assert bundle["text/html"].startswith('<pre class="qoder-env">')
    empty = PackageImport(sources=("apt.txt",))
    assert (
        str(empty) == "Package import: 0 packages taken, 0 left out\n  from apt.txt\nNothing taken."
    )
