"""A list of thousands of environments: the display shows its first and last rows (as pandas
does), says how many there are, and stays small; the variable keeps every one."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from qoder_jupyter.display import page_bundle
from qoder_jupyter.environment import Environment, EnvironmentPage
from qoder_jupyter.settings import QoderEnv

from .test_display import NEWEST

LONG_PACKAGES = [f"package-number-{i}==1.0.{i}" for i in range(40)]


def _many(count: int) -> EnvironmentPage:
    config = {**NEWEST["config"], "packages": {"pip": LONG_PACKAGES}}
    return EnvironmentPage(
        data=tuple(
            Environment({**NEWEST, "id": f"env_{i:032x}", "name": f"name-{i}", "config": config})
            for i in range(count)
        )
    )


def _size(bundle: dict[str, Any]) -> int:
    return len(json.dumps(bundle, ensure_ascii=False).encode())


def test_3000_environments_show_the_first_and_last_rows_in_a_small_bundle():
    page = _many(3000)
    bundle = page._repr_mimebundle_()

    html = bundle["text/html"]
    assert len(html.encode()) <= 100_000
    assert _size(bundle) <= 150_000
    assert "3,000 environments (showing the first 10 and the last 10)." in html
    assert "… 2,980 more not shown (the list holds all 3,000;" in html
    assert html.count('<tr class="qoder-env-gap">') == 1
    assert ">name-0<" in html
    assert ">name-9<" in html
    assert ">name-2999<" in html
    assert ">name-10<" not in html
    assert ">name-2989<" not in html
    for kind in ("text/plain", "text/markdown"):
        assert "3,000 environments" in bundle[kind]
        assert "2,980 more not shown" in bundle[kind]
    saved = bundle["application/vnd.qoder.environment-list+json"]
    assert len(saved["data"]) == 20
    assert (saved["total"], saved["left_out"], saved["left_out_after"]) == (3000, 2980, 10)
    assert len(page) == 3000  # the object keeps every environment


def test_long_package_lists_are_shortened_with_the_whole_list_on_hover():
    html = page_bundle(_many(1).data)["text/html"]
    whole = "pip: " + ", ".join(LONG_PACKAGES[:7])
    assert f'title="{whole}' in html
    assert ".qoder-env-list td:nth-child(1)," in html  # names are in the nowrap columns


def test_the_list_rows_setting_says_how_many_rows_are_shown():
    settings = QoderEnv()
    try:
        settings.list_rows = 4
        text = page_bundle(_many(9).data)["text/plain"]
        assert text.splitlines()[0] == "9 environments (showing the first 2 and the last 2)."
        assert len(text.splitlines()) == 1 + 4 + 1
        settings.list_rows = 0
        assert len(page_bundle(_many(9).data)["text/plain"].splitlines()) == 10
        with pytest.raises(Exception, match="list_rows must be 0"):
            settings.list_rows = -1
    finally:
        settings.list_rows = 20
    assert "(showing" not in page_bundle(_many(20).data)["text/plain"]  # 20 fit


def test_the_magic_keeps_all_3000_in_the_variable(shell: Any, api: httpx.Client) -> None:
    config = {"type": "cloud", "networking": {"type": "limited"}}
    for i in range(3000):
        api.post("/environments", json={"name": f"bulk-{i}", "config": config}).raise_for_status()
    shown = shell.run_line_magic("qoder_env", "list")
    envs = shell.user_ns["envs"]
    assert shown is envs
    assert len(envs) == 3000
    assert len({env.id for env in envs}) == 3000
    html = envs._repr_mimebundle_()["text/html"]
    assert len(html.encode()) <= 100_000
    assert "3,000 environments" in html
