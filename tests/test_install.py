"""``qoder-jupyter enable|disable|status`` and the "Python 3 (Qoder)" kernel.

The config-file tests work in temporary folders (a fake prefix, ``$IPYTHONDIR`` and system folder);
the tests at the end start real kernels and ask them which extensions they loaded.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import sysconfig
import venv
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from qoder_jupyter import install
from qoder_jupyter.cli import main
from qoder_jupyter.install import (
    ConfigFileError,
    FileStatus,
    config_path,
    disable,
    enable,
    status,
)

REPO = Path(__file__).resolve().parent.parent
KERNEL_JSON = REPO / "jupyter-config" / "kernels" / "qoder" / "kernel.json"
ENABLED = {"InteractiveShellApp": {"extra_extensions": ["qoder_jupyter"]}}

# Someone else's config: other sections, other keys in our section, another package's entry.
THEIRS: dict[str, Any] = {
    "version": 1,
    "IPKernelApp": {"matplotlib": "inline"},
    "InteractiveShellApp": {
        "exec_lines": ["import numpy as np"],
        "extra_extensions": ["other_pkg"],
        "extensions": ["autoreload"],
    },
    "InlineBackend": {"figure_formats": ["svg"]},
}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def ordered(data: Any) -> Any:
    """``data`` with every object as a list of pairs, so that == also compares key order."""
    if isinstance(data, dict):
        return [(key, ordered(value)) for key, value in data.items()]
    if isinstance(data, list):
        return [ordered(value) for value in data]
    return data


class Folders:
    """A fake installation: ``prefix`` (sys.prefix), ``ipythondir`` ($IPYTHONDIR), ``system``."""

    def __init__(self, root: Path) -> None:
        self.prefix = root / "prefix"
        self.ipythondir = root / "ipython"
        self.system = root / "etc" / "ipython"

    @property
    def prefix_file(self) -> Path:
        return self.prefix / "etc" / "ipython" / "ipython_kernel_config.json"

    @property
    def user_file(self) -> Path:
        return self.ipythondir / "profile_default" / "ipython_kernel_config.json"

    @property
    def system_file(self) -> Path:
        return self.system / "ipython_kernel_config.json"


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    """Every folder the module reads or writes points into ``tmp_path`` (sys.prefix too, for the
    command line's default scope)."""
    made = Folders(tmp_path)
    monkeypatch.setenv("IPYTHONDIR", str(made.ipythondir))
    monkeypatch.setattr(sys, "prefix", str(made.prefix))
    monkeypatch.setattr(install, "SYSTEM_CONFIG_DIRS", (made.system,))
    return made


# --- where -------------------------------------------------------------------------------------


def test_sys_prefix_scope_is_the_environments_etc_ipython(tmp_path: Path) -> None:
    expected = tmp_path / "etc" / "ipython" / "ipython_kernel_config.json"
    assert config_path("sys-prefix", prefix=tmp_path) == expected
    assert config_path(prefix=tmp_path) == expected  # the default scope


def test_sys_prefix_scope_defaults_to_sys_prefix() -> None:
    assert config_path("sys-prefix").parent == Path(sys.prefix) / "etc" / "ipython"


def test_user_scope_honours_ipythondir(folders: Folders) -> None:
    assert config_path("user") == folders.user_file
    assert enable("user") == folders.user_file
    assert read_json(folders.user_file) == ENABLED
    assert not folders.prefix_file.exists()


def test_user_scope_without_ipythondir_is_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IPYTHONDIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path("user") == tmp_path / ".ipython/profile_default/ipython_kernel_config.json"


def test_an_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="sys-prefix, user"):
        config_path("global")  # type: ignore[arg-type]


# --- enable ------------------------------------------------------------------------------------


def test_enable_creates_the_file_and_its_folders(folders: Folders) -> None:
    assert enable(prefix=folders.prefix) == folders.prefix_file
    assert read_json(folders.prefix_file) == ENABLED


def test_enable_merges_into_an_existing_config(folders: Folders) -> None:
    write_json(folders.prefix_file, THEIRS)

    enable(prefix=folders.prefix)

    expected = json.loads(json.dumps(THEIRS))
    expected["InteractiveShellApp"]["extra_extensions"] = ["other_pkg", "qoder_jupyter"]
    assert ordered(read_json(folders.prefix_file)) == ordered(expected)


def test_enable_adds_the_list_to_an_existing_section(folders: Folders) -> None:
    write_json(folders.prefix_file, {"InteractiveShellApp": {"exec_lines": ["x = 1"]}})
    enable(prefix=folders.prefix)
    assert ordered(read_json(folders.prefix_file)) == ordered(
        {"InteractiveShellApp": {"exec_lines": ["x = 1"], "extra_extensions": ["qoder_jupyter"]}}
    )


def test_enable_accepts_an_empty_file(folders: Folders) -> None:
    folders.prefix_file.parent.mkdir(parents=True)
    folders.prefix_file.write_text("\n")
    enable(prefix=folders.prefix)
    assert read_json(folders.prefix_file) == ENABLED


def test_enable_is_idempotent(folders: Folders) -> None:
    write_json(folders.prefix_file, THEIRS)
    enable(prefix=folders.prefix)
    once = folders.prefix_file.read_bytes()

    enable(prefix=folders.prefix)

    assert folders.prefix_file.read_bytes() == once
    assert read_json(folders.prefix_file)["InteractiveShellApp"]["extra_extensions"] == [
        "other_pkg",
        "qoder_jupyter",
    ]


def test_enable_accepts_an_explicit_path(tmp_path: Path) -> None:
    target = tmp_path / "anywhere" / "config.json"
    assert enable(path=target) == target
    assert read_json(target) == ENABLED
    assert disable(path=target) == target
    assert not target.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"InteractiveShellApp": {"extra_extensions": ["a"],}}', ": not valid JSON"),
        ('["qoder_jupyter"]', ": not a JSON object"),
        ('{"InteractiveShellApp": ["qoder_jupyter"]}', ": InteractiveShellApp is not a JSON"),
        ('{"InteractiveShellApp": null}', ": InteractiveShellApp is not a JSON"),
        ('{"InteractiveShellApp": {"extra_extensions": "other"}}', "is not a list of names"),
        ('{"InteractiveShellApp": {"extra_extensions": [1]}}', "is not a list of names"),
        ('{"InteractiveShellApp": {"extra_extensions": null}}', "is not a list of names"),
    ],
)
def test_a_file_that_is_not_a_config_object_is_refused_and_left_unchanged(
    folders: Folders, content: str, problem: str
) -> None:
    folders.prefix_file.parent.mkdir(parents=True)
    folders.prefix_file.write_text(content)

    for change in (enable, disable):
        with pytest.raises(ConfigFileError, match=problem) as raised:
            change(prefix=folders.prefix)
        assert str(folders.prefix_file) in raised.value.message
        assert "left unchanged" in raised.value.message
        assert raised.value.hint.startswith('Add "qoder_jupyter" by hand')
        assert str(folders.prefix_file) in raised.value.hint
        assert folders.prefix_file.read_text() == content
    assert os.listdir(folders.prefix_file.parent) == [folders.prefix_file.name]


def test_a_python_config_beside_it_that_sets_the_list_is_refused(folders: Folders) -> None:
    python_config = folders.prefix_file.with_suffix(".py")
    python_config.parent.mkdir(parents=True)
    python_config.write_text('c = get_config()\nc.InteractiveShellApp.extra_extensions = ["x"]\n')

    with pytest.raises(ConfigFileError, match=r"ipython_kernel_config\.py sets") as raised:
        enable(prefix=folders.prefix)

    assert raised.value.hint == (
        f'Add by hand to {python_config}: c.InteractiveShellApp.extra_extensions.append("'
        'qoder_jupyter")'
    )
    assert not folders.prefix_file.exists()


def test_a_python_config_that_only_mentions_the_list_in_comments_is_fine(folders: Folders) -> None:
    # What `ipython profile create` writes: every option commented out.
    python_config = folders.user_file.with_suffix(".py")
    python_config.parent.mkdir(parents=True)
    python_config.write_text(
        "c = get_config()  #noqa\n"
        "## Dotted module name(s) of one or more IPython extensions to load.\n"
        "# c.InteractiveShellApp.extra_extensions = []\n"
        "c.InteractiveShellApp.exec_lines = ['print(\"extra_extensions\")']\n"
    )
    enable("user")
    assert read_json(folders.user_file) == ENABLED


def test_writing_keeps_permissions_and_leaves_no_temporary_file(folders: Folders) -> None:
    write_json(folders.prefix_file, THEIRS).chmod(0o600)
    enable(prefix=folders.prefix)
    assert stat.S_IMODE(folders.prefix_file.stat().st_mode) == 0o600
    assert os.listdir(folders.prefix_file.parent) == [folders.prefix_file.name]


def test_a_symlinked_config_is_updated_through_the_link(folders: Folders, tmp_path: Path) -> None:
    real = write_json(tmp_path / "dotfiles" / "ipython_kernel_config.json", THEIRS)
    folders.user_file.parent.mkdir(parents=True)
    folders.user_file.symlink_to(real)

    enable("user")
    assert folders.user_file.is_symlink()
    assert "qoder_jupyter" in read_json(real)["InteractiveShellApp"]["extra_extensions"]

    disable("user")
    assert folders.user_file.is_symlink()
    assert ordered(read_json(real)) == ordered(THEIRS)


# --- disable -----------------------------------------------------------------------------------


def test_disable_removes_only_our_entry(folders: Folders) -> None:
    write_json(folders.prefix_file, THEIRS)
    enable(prefix=folders.prefix)

    disable(prefix=folders.prefix)

    assert ordered(read_json(folders.prefix_file)) == ordered(THEIRS)


def test_disable_keeps_entries_around_ours_in_order(folders: Folders) -> None:
    config = {"InteractiveShellApp": {"extra_extensions": ["a", "qoder_jupyter", "b"]}}
    write_json(folders.prefix_file, config)
    disable(prefix=folders.prefix)
    assert read_json(folders.prefix_file) == {
        "InteractiveShellApp": {"extra_extensions": ["a", "b"]}
    }


def test_disable_after_enable_on_nothing_deletes_the_file(folders: Folders) -> None:
    enable(prefix=folders.prefix)
    disable(prefix=folders.prefix)
    assert not folders.prefix_file.exists()
    assert folders.prefix_file.parent.is_dir()  # folders stay: they may hold other files


def test_disable_drops_the_emptied_list_but_keeps_the_section(folders: Folders) -> None:
    write_json(folders.prefix_file, {"InteractiveShellApp": {"exec_lines": ["x = 1"]}})
    enable(prefix=folders.prefix)
    disable(prefix=folders.prefix)
    assert read_json(folders.prefix_file) == {"InteractiveShellApp": {"exec_lines": ["x = 1"]}}


def test_disable_drops_the_emptied_section_but_keeps_the_file(folders: Folders) -> None:
    write_json(folders.prefix_file, {"IPKernelApp": {"matplotlib": "inline"}})
    enable(prefix=folders.prefix)
    disable(prefix=folders.prefix)
    assert read_json(folders.prefix_file) == {"IPKernelApp": {"matplotlib": "inline"}}


def test_disable_when_not_enabled_changes_nothing(folders: Folders) -> None:
    assert disable(prefix=folders.prefix) == folders.prefix_file
    assert not folders.prefix_file.parent.exists()  # nothing created

    write_json(folders.prefix_file, THEIRS)
    before = folders.prefix_file.read_bytes()
    disable(prefix=folders.prefix)
    assert folders.prefix_file.read_bytes() == before  # not even re-formatted


# --- status --------------------------------------------------------------------------------------


def test_status_says_what_each_file_lists(folders: Folders) -> None:
    enable("user")
    write_json(folders.prefix_file, THEIRS)  # another package's entry, not ours
    write_json(folders.system_file, {"InteractiveShellApp": {"extensions": ["qoder_jupyter"]}})

    assert status() == [
        FileStatus(folders.user_file, "enabled", "InteractiveShellApp.extra_extensions", "user"),
        FileStatus(folders.prefix_file, "not listed", "", "sys-prefix"),
        FileStatus(folders.system_file, "enabled", "InteractiveShellApp.extensions", None),
    ]


def test_status_with_no_files(folders: Folders) -> None:
    assert status() == [
        FileStatus(folders.user_file, "no file", "", "user"),
        FileStatus(folders.prefix_file, "no file", "", "sys-prefix"),
        FileStatus(folders.system_file, "no file", "", None),
    ]
    assert not folders.ipythondir.exists()  # status creates nothing
    assert not folders.prefix.exists()


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("{oops", "not valid JSON (Expecting property name enclosed in double quotes: line 1"),
        ("[]", "not a JSON object"),
        ('{"InteractiveShellApp": 1}', "InteractiveShellApp is not a JSON object"),
        (
            '{"InteractiveShellApp": {"extensions": "qoder_jupyter"}}',
            "InteractiveShellApp.extensions is not a list of names",
        ),
    ],
)
def test_status_says_why_a_file_cannot_be_read_and_leaves_it(
    folders: Folders, content: str, detail: str
) -> None:
    folders.system.mkdir(parents=True)
    folders.system_file.write_text(content)

    [_, _, found] = status()

    assert (found.path, found.state, found.scope) == (folders.system_file, "unreadable", None)
    assert found.detail.startswith(detail)
    assert folders.system_file.read_text() == content


def test_status_reads_the_given_prefix(folders: Folders, tmp_path: Path) -> None:
    other = tmp_path / "other-env"
    enable(prefix=other)
    [_, found, _] = status(prefix=other)
    assert found == FileStatus(
        other / "etc/ipython/ipython_kernel_config.json",
        "enabled",
        "InteractiveShellApp.extra_extensions",
        "sys-prefix",
    )
    assert status()[1].state == "no file"  # the default is sys.prefix


def test_status_lists_a_folder_once_when_the_prefix_is_a_system_folder(
    folders: Folders, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sys.prefix is /usr/local for a system-wide Python: its etc/ipython is a system folder too.
    monkeypatch.setattr(install, "SYSTEM_CONFIG_DIRS", (folders.prefix_file.parent, folders.system))
    assert [(found.path, found.scope) for found in status()] == [
        (folders.user_file, "user"),
        (folders.prefix_file, "sys-prefix"),
        (folders.system_file, None),
    ]


@pytest.mark.skipif(os.name == "nt", reason="IPython's Windows folder depends on the environment")
def test_system_folders_are_ipythons() -> None:
    # The copy this module keeps (so as not to import IPython) must not drift from the original.
    from IPython.core import application

    ipythons = tuple(Path(folder) for folder in application.SYSTEM_CONFIG_DIRS)
    assert ipythons == install.SYSTEM_CONFIG_DIRS


# --- command line --------------------------------------------------------------------------------


def test_cli_enable_and_disable_say_which_file_changed_and_how_to_undo(
    folders: Folders, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(folders.prefix_file, THEIRS)

    assert main(["enable"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f'Enabled: added "qoder_jupyter" to InteractiveShellApp.extra_extensions in '
        f"{folders.prefix_file} (other settings kept). New kernels load the extension. "
        "Undo with: qoder-jupyter disable\n"
    )
    assert err == ""

    assert main(["enable", "--sys-prefix"]) == 0
    assert capsys.readouterr().out.startswith("Already enabled:")

    assert main(["disable"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f'Disabled: removed "qoder_jupyter" from InteractiveShellApp.extra_extensions in '
        f"{folders.prefix_file} (other settings kept). Redo with: qoder-jupyter enable\n"
    )
    assert err == ""
    assert ordered(read_json(folders.prefix_file)) == ordered(THEIRS)

    assert main(["disable"]) == 0
    assert capsys.readouterr().out == f"Not enabled in {folders.prefix_file}; nothing changed.\n"


def test_cli_user_scope(folders: Folders, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enable", "--user"]) == 0
    out = capsys.readouterr().out
    assert str(folders.user_file) in out
    assert out.endswith("Undo with: qoder-jupyter disable --user\n")

    assert main(["disable", "--user"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('Disabled: removed "qoder_jupyter" from')
    assert "held nothing else and was deleted" in out
    assert out.endswith("Redo with: qoder-jupyter enable --user\n")
    assert not folders.user_file.exists()


def test_cli_disable_says_when_another_file_still_enables_it(
    folders: Folders, capsys: pytest.CaptureFixture[str]
) -> None:
    enable("user")
    write_json(folders.system_file, {"InteractiveShellApp": {"extensions": ["qoder_jupyter"]}})
    enable()
    assert main(["disable"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"Still enabled in {folders.user_file} (InteractiveShellApp.extra_extensions); "
        "see: qoder-jupyter status",
        f"Still enabled in {folders.system_file} (InteractiveShellApp.extensions); "
        "see: qoder-jupyter status",
    ]
    assert main(["disable", "--user"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"Still enabled in {folders.system_file} (InteractiveShellApp.extensions); "
        "see: qoder-jupyter status",
    ]


def test_cli_disable_says_when_the_file_still_lists_it_in_extensions(
    folders: Folders, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {"InteractiveShellApp": {"extensions": ["qoder_jupyter"]}}
    write_json(folders.user_file, config)
    assert main(["disable", "--user"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Not enabled in {folders.user_file}; nothing changed.",
        f"Still enabled in {folders.user_file} (InteractiveShellApp.extensions); "
        "see: qoder-jupyter status",
    ]
    assert read_json(folders.user_file) == config  # a list the user wrote by hand is theirs


def test_cli_status(folders: Folders, capsys: pytest.CaptureFixture[str]) -> None:
    enable("user")
    folders.system.mkdir(parents=True)
    folders.system_file.write_text("{oops")

    assert main(["status"]) == 0

    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "qoder_jupyter in the ipython_kernel_config.json files that IPython kernels read:",
        f"  enabled     {folders.user_file} [--user] in InteractiveShellApp.extra_extensions",
        f"  no file     {folders.prefix_file} [--sys-prefix]",
        f"  unreadable  {folders.system_file}: not valid JSON (Expecting property name enclosed "
        "in double quotes: line 1 column 2 (char 1))",
        "[--user] and [--sys-prefix] mark the files that enable and disable change.",
        "A .py config, or a config file read later, can set its own list instead of these.",
        'Without any config: choose the "Python 3 (Qoder)" kernel, or run %load_ext qoder_jupyter.',
    ]
    assert err == ""


def test_cli_status_of_a_file_without_our_entry(
    folders: Folders, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(folders.prefix_file, THEIRS)
    assert main(["status"]) == 0
    assert f"  not listed  {folders.prefix_file} [--sys-prefix]\n" in capsys.readouterr().out


def test_cli_refuses_an_invalid_file_and_says_what_to_add(
    folders: Folders, capsys: pytest.CaptureFixture[str]
) -> None:
    folders.prefix_file.parent.mkdir(parents=True)
    folders.prefix_file.write_text("{broken")

    assert main(["enable"]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    first, second = err.splitlines()
    assert first.startswith(f"qoder-jupyter: error: {folders.prefix_file}: not valid JSON")
    assert first.endswith("it was left unchanged.")
    assert second.startswith('qoder-jupyter: Add "qoder_jupyter" by hand')
    assert folders.prefix_file.read_text() == "{broken"


def test_cli_suggests_user_scope_when_the_environment_is_read_only(
    folders: Folders, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: object) -> None:
        raise PermissionError(13, "Permission denied", str(path.parent))

    monkeypatch.setattr(install, "_write_atomically", refuse)  # tests may run as root
    assert main(["enable"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"qoder-jupyter: error: [Errno 13] Permission denied: '{folders.prefix_file.parent}'",
        "qoder-jupyter: for your own kernels only: qoder-jupyter enable --user",
    ]


def test_cli_scope_options_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["enable", "--user", "--sys-prefix"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([])
    assert "{enable,disable,status,demo}" in capsys.readouterr().err


def test_console_script_is_declared() -> None:
    [script] = entry_points(group="console_scripts", name="qoder-jupyter")
    assert script.value == "qoder_jupyter.cli:main"


def test_runs_as_a_module_without_importing_ipython(folders: Folders) -> None:
    code = (
        "import sys, runpy; sys.argv = ['qoder-jupyter', 'status']\n"
        "try:\n    runpy.run_module('qoder_jupyter.cli', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "assert 'IPython' not in sys.modules and 'traitlets' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "qoder_jupyter in the ipython_kernel_config.json files" in done.stdout


# --- the "Python 3 (Qoder)" kernelspec ---------------------------------------------------------


def test_kernelspec_file() -> None:
    spec = read_json(KERNEL_JSON)
    # A leading "python" is replaced with the Jupyter server's own sys.executable by
    # jupyter_client.manager.KernelManager.format_kernel_cmd (jupyter_client 8), as in ipykernel's
    # own python3 kernelspec; test_qoder_kernel_loads_the_extension checks it in a real kernel.
    assert spec == {
        "argv": [
            "python",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--ext=qoder_jupyter",
        ],
        "display_name": "Python 3 (Qoder)",
        "language": "python",
        "metadata": {"debugger": True},
    }


def test_kernelspec_is_installed_with_the_package() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    found = KernelSpecManager().find_kernel_specs()
    assert "qoder" in found, "reinstall the package: pip install -e ."
    installed = Path(found["qoder"]) / "kernel.json"
    assert installed.resolve() != KERNEL_JSON.resolve()
    assert read_json(installed) == read_json(KERNEL_JSON), "stale copy: pip install -e . again"


# --- real kernels ------------------------------------------------------------------------------


def loaded_extensions(kernel_name: str, env: dict[str, str]) -> tuple[list[str], str]:
    """Start a kernel, return its loaded extensions and its sys.executable, shut it down."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=30, env=env)
    try:
        reply = client.execute_interactive(
            "",
            user_expressions={
                "loaded": "sorted(get_ipython().extension_manager.loaded)",
                "executable": "__import__('sys').executable",
            },
            timeout=30,
        )
        values = reply["content"]["user_expressions"]
        assert all(value["status"] == "ok" for value in values.values()), values
        return (
            ast.literal_eval(values["loaded"]["data"]["text/plain"]),
            ast.literal_eval(values["executable"]["data"]["text/plain"]),
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh $IPYTHONDIR, for this process and the kernels it starts."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return dict(os.environ)


def test_user_config_loads_the_extension_in_a_real_kernel(kernel_env: dict[str, str]) -> None:
    enable("user")
    assert status()[0].state == "enabled"
    loaded, _ = loaded_extensions("python3", kernel_env)
    assert "qoder_jupyter" in loaded

    disable("user")
    # The premise of "not loaded": no file but the user's (now disabled) enables it here.
    assert not any(found.state == "enabled" for found in status()), "run qoder-jupyter disable"
    loaded, _ = loaded_extensions("python3", kernel_env)
    assert "qoder_jupyter" not in loaded
    assert "IPython.extensions.storemagic" in loaded  # it did read its config and load extensions


def test_sys_prefix_config_loads_the_extension_in_a_real_kernel(
    tmp_path: Path, kernel_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A throwaway environment (no pip, ~0.1 s) that sees this one's packages through a .pth file,
    # so that the kernel's sys.prefix, and so its etc/ipython folder, is ours to write.
    prefix = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(prefix)
    site_packages = Path(sysconfig.get_path("purelib", vars={"base": str(prefix)}))
    here = sysconfig.get_path("purelib")
    (site_packages / "chain.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    python = prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    kernels = tmp_path / "jupyter"
    write_json(
        kernels / "kernels" / "throwaway" / "kernel.json",
        {
            "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "throwaway",
            "language": "python",
        },
    )
    monkeypatch.setenv("JUPYTER_PATH", str(kernels))

    enable(prefix=prefix)
    loaded, executable = loaded_extensions("throwaway", kernel_env)

    assert Path(executable).parent.parent == prefix
    assert "qoder_jupyter" in loaded


def test_the_extensions_list_that_status_reports_loads_it_too(kernel_env: dict[str, str]) -> None:
    user_file = config_path("user")
    write_json(user_file, {"InteractiveShellApp": {"extensions": ["qoder_jupyter"]}})
    assert status()[0] == FileStatus(user_file, "enabled", "InteractiveShellApp.extensions", "user")
    loaded, _ = loaded_extensions("python3", kernel_env)
    assert "qoder_jupyter" in loaded


def test_qoder_kernel_loads_the_extension_without_any_config(kernel_env: dict[str, str]) -> None:
    assert not any(found.state == "enabled" for found in status())
    loaded, executable = loaded_extensions("qoder", kernel_env)
    assert "qoder_jupyter" in loaded
    assert executable == sys.executable  # "python" in argv became the server's interpreter
