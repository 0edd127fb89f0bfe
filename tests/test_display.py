"""The rich display: four MIME types, everything escaped, theme-aware, and it never raises."""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoder_jupyter import _markup, display
from qoder_jupyter.display import environment_bundle, page_bundle
from qoder_jupyter.environment import Environment

MIME_TYPES = {"text/plain", "text/html", "text/markdown", "application/json"}
TEXT_TYPES = ("text/plain", "text/html", "text/markdown")

SEED: dict[str, Any] = {
    "id": "env_019e3bb39b6774d8878cd0b9d237574b",
    "type": "environment",
    "name": "doc-test-env",
    "description": "",
    "status": "ready",
    "config": {"type": "cloud", "networking": {"type": "limited"}, "packages": {"apt": ["curl"]}},
    "metadata": {},
    "archived_at": None,
    "created_at": "2026-05-18T15:28:07.017808Z",
    "updated_at": "2026-05-18T15:28:07.017808Z",
}
NEWEST: dict[str, Any] = {  # no status, defaults filled in, an unknown field
    "id": "env_019e3bb39b6774d8878cd0b9d2375750",
    "type": "environment",
    "name": "ml-box",
    "description": "GPU box\nsecond line",
    "config": {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org", "*.example.com"],
            "allow_package_managers": True,
            "allow_mcp_servers": False,
        },
        "packages": {
            "type": "packages",
            "apt": [],
            "pip": ["pandas>=2", "PyYAML==6.0.1"],
            "npm": ["typescript@5.0.0"],
        },
        "setup_script": "echo hi",
    },
    "metadata": {"team": "ml", "cost-center": "42"},
    "archived_at": None,
    "created_at": "2026-05-18T17:28:07+02:00",
    "updated_at": "2026-05-19T08:00:00Z",
}
ARCHIVED: dict[str, Any] = {
    "id": "env_019e3bb39b6774d8878cd0b9d2375751",
    "name": "old",
    "archived": True,
    "archived_at": "2026-05-20T09:10:11Z",
    "created_at": "last tuesday",
}
MINIMAL: dict[str, Any] = {"id": "env_x"}
HOSTILE: dict[str, Any] = {
    "id": "env_<b>&\"'",
    "name": "<script>alert(1)</script> & \"quotes\" 'single' | `tick` *star* _under_",
    "description": "line1\nline2\r\n<img src=x onerror=alert(1)>" + "x" * 100_000,
    "status": 7,
    "config": {
        "networking": {"type": ["nested"], "allowed_hosts": [1, None, "javascript:alert(1)"]},
        "packages": {"pip": ["<iframe src=//evil>", {"a": 1}], "apt": "curl", 3: [4]},
    },
    "metadata": {"k|ey": "v`al", "nested": {"a": [1, 2, {"b": None}]}, "n": 3.5},
    "created_at": 12345,
    "updated_at": "not a date",
    "archived_at": {"when": "never"},
    "\u202eevil": "\x1b[31mred\x00",
}
SHAPES = [SEED, NEWEST, ARCHIVED, MINIMAL, HOSTILE]

TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
ALLOWED_TAGS = {
    "style", "div", "h3", "span", "dl", "dt", "dd", "code", "strong",
    "table", "thead", "tbody", "tr", "th", "td", "time", "p", "pre",
}  # fmt: skip
FORBIDDEN = re.compile(r"<script|<iframe|javascript:|\son\w+\s*=|<link|@import|url\(", re.I)
MARKUP = re.compile(r"<style>.*?</style>|<[^>]*>", re.S)  # escaped text cannot contain "<"


def check_bundle(bundle: dict[str, Any]) -> None:
    assert set(bundle) == MIME_TYPES
    for mime in TEXT_TYPES:
        assert isinstance(bundle[mime], str)
    assert isinstance(bundle["application/json"], dict)
    json.dumps(bundle["application/json"], allow_nan=False, ensure_ascii=False).encode()
    page = bundle["text/html"]
    assert not re.search(r"<script|<iframe|<object|<embed|<link", page, re.I)
    for markup in MARKUP.findall(page):  # no handler or javascript: in any tag or the style
        assert not FORBIDDEN.search(markup), markup
    assert set(TAG.findall(page)) <= ALLOWED_TAGS
    assert page.count("<style>") <= 1


@pytest.mark.parametrize("shape", SHAPES, ids=["seed", "newest", "archived", "minimal", "hostile"])
def test_every_shape_gives_a_safe_bundle_of_four(shape):
    env = Environment(shape)
    bundle = environment_bundle(env)
    check_bundle(bundle)
    assert bundle["application/json"] == env.to_dict()
    assert env.id in bundle["text/plain"]


def test_the_hostile_shape_is_escaped_not_raw():
    bundle = environment_bundle(Environment(HOSTILE))
    page, markdown, text = bundle["text/html"], bundle["text/markdown"], bundle["text/plain"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "&#x27;single&#x27;" in page
    assert "env_&lt;b&gt;&amp;&quot;&#x27;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # text, not an attribute
    assert "<script>" not in markdown
    assert r"\<script\>alert(1)\</script\> \& " in markdown
    assert r"\| \`tick\` \*star\* \_under\_" in markdown
    assert "\x1b" not in text
    assert "\x00" not in text
    assert "\u202e" not in page
    assert len(page) < 20_000  # the 100 kB description is clipped
    assert bundle["application/json"] == Environment(HOSTILE).to_dict()  # JSON-able: kept whole


def test_the_card_shows_every_part():
    page = environment_bundle(Environment(NEWEST))["text/html"]
    assert '<h3 class="qoder-env-title">ml-box' in page
    assert '<code class="qoder-env-id">env_019e3bb39b6774d8878cd0b9d2375750</code>' in page
    assert ">ready</span>" in page  # newest shape has no status: derived, shown as text
    assert "GPU box\nsecond line" in page
    assert "allowlist · package managers allowed" in page
    assert "<code>pypi.org</code>, <code>*.example.com</code>" in page
    assert "<strong>pip</strong> (2): <code>pandas&gt;=2</code>, <code>PyYAML==6.0.1</code>" in page
    assert "<strong>npm</strong>" in page
    assert "<strong>apt</strong>" not in page  # an empty list is not shown
    assert '<th scope="row"><code>cost-center</code></th><td class="qoder-env-text">42</td>' in page
    assert '<time datetime="2026-05-18T15:28:07+00:00">2026-05-18 15:28:07 UTC</time>' in page
    assert "2026-05-19 08:00:00 UTC" in page


def test_the_status_is_text_and_archived_is_said():
    archived = environment_bundle(Environment(ARCHIVED))
    assert 'qoder-env-warn">archived</span>' in archived["text/html"]
    assert "(archived)" in archived["text/plain"]
    assert "(archived)" in archived["text/markdown"]
    assert "2026-05-20 09:10:11 UTC" in archived["text/html"]
    assert "last tuesday" in archived["text/html"]  # unparseable: raw text
    contradictory = environment_bundle(Environment({**SEED, "archived_at": "2026-05-20T00:00:00Z"}))
    assert "(ready, archived)" in contradictory["text/plain"]
    seed = environment_bundle(Environment(SEED))["text/html"]
    assert 'qoder-env-ok">ready</span>' in seed
    assert '<span class="qoder-env-sep"> — </span>' in seed  # read where CSS is stripped


def test_theme_variables_always_have_fallbacks():
    page = environment_bundle(Environment(SEED))["text/html"]
    uses = re.findall(r"var\(--[\w-]+\s*([,)])", page)
    assert len(uses) > 10
    assert all(end == "," for end in uses)
    for variable in ("--jp-content-font-color1", "--jp-layout-color1", "--jp-border-color2"):
        assert f"var({variable}," in page
    assert "var(--vscode-editor-foreground," in page
    style = re.search(r"<style>(.*)</style>", page, re.S)
    assert style is not None
    selectors = re.findall(r"(?:^|})\s*([^{}@]+)\{", style.group(1))
    parts = [part for sel in selectors for part in sel.split(",")]
    assert all(part.strip().startswith(".qoder-env") for part in parts)  # scoped to the root


STYLESHEET = Path(display.__file__).parent / "static" / "card.css"


def test_the_style_is_the_shipped_stylesheet_read_once():
    css = _markup.uncommented(STYLESHEET.read_text(encoding="utf-8")).strip()
    assert ".qoder-env .qoder-env-card {" in css
    # Joining the lines is safe only while each ends a selector or a declaration.
    assert all(line.rstrip()[-1:] in ",;{}" for line in css.splitlines() if line.strip())
    card = environment_bundle(Environment(SEED))["text/html"]
    page = page_bundle([Environment(SEED), Environment(NEWEST)])["text/html"]
    for rendered in (card, page):
        style = "".join(line.strip() for line in css.splitlines())
        assert rendered.startswith(f'<style>{style}</style><div class="qoder-env">')
    read = _markup.style.cache_info().misses
    environment_bundle(Environment(NEWEST))
    page_bundle([Environment(SEED)])
    assert _markup.style.cache_info().misses == read  # kept, not read again


def test_importing_the_module_does_not_read_the_stylesheet():
    code = (
        "from qoder_jupyter import _markup, display\n"
        "from qoder_jupyter.environment import Environment\n"
        "assert _markup.style.cache_info().misses == 0\n"
        "display.environment_bundle(Environment({'id': 'env_x'}))\n"
        "display.page_bundle([Environment({'id': 'env_x'})])\n"
        "assert _markup.style.cache_info().misses == 1\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr


@pytest.fixture
def fresh_style():
    _markup.style.cache_clear()
    yield
    _markup.style.cache_clear()  # the next test reads the real stylesheet again


@pytest.mark.usefixtures("fresh_style")
def test_an_unreadable_stylesheet_leaves_the_card_unstyled(monkeypatch):
    def broken_install(anchor: str) -> Any:
        raise ModuleNotFoundError(anchor)

    monkeypatch.setattr(importlib.resources, "files", broken_install)
    card = environment_bundle(Environment(SEED))
    page = page_bundle([Environment(SEED)])
    for bundle in (card, page):
        check_bundle(bundle)
        assert bundle["text/html"].startswith('<div class="qoder-env">')  # no style, not a fallback
    assert '<div class="qoder-env-card">' in card["text/html"]
    assert '<table class="qoder-env-table qoder-env-list">' in page["text/html"]


def test_plain_text_is_a_compact_summary():
    text = environment_bundle(Environment(NEWEST))["text/plain"]
    assert text.splitlines()[0] == "Environment ml-box (ready)"
    assert "id:         env_019e3bb39b6774d8878cd0b9d2375750" in text
    assert "allowlist, 2 hosts, package managers allowed" in text
    assert "pip: pandas>=2, PyYAML==6.0.1; npm: typescript@5.0.0" in text
    assert "metadata:   2 keys" in text
    minimal = environment_bundle(Environment(MINIMAL))["text/plain"]
    assert minimal.splitlines()[0] == "Environment (unnamed) (ready)"
    assert "packages:   none" in minimal


def test_markdown_is_a_table_with_code_spans_only_where_safe():
    markdown = environment_bundle(Environment(NEWEST))["text/markdown"]
    assert markdown.startswith("**ml\\-box**") or markdown.startswith("**ml-box**")
    assert "| ID | `env_019e3bb39b6774d8878cd0b9d2375750` |" in markdown
    assert "`pypi.org`, `*.example.com`" in markdown
    assert "| Description | GPU box second line |" in markdown
    row = environment_bundle(Environment({"id": "env_x", "name": "a|b"}))["text/markdown"]
    assert "**a\\|b**" in row
    tricky = Environment({"id": "env_`x|", "config": {"packages": {"pip": ["a|b"]}}})
    markdown = environment_bundle(tricky)["text/markdown"]
    assert "env\\_\\`x\\|" in markdown
    assert "a\\|b" in markdown
    for line in markdown.splitlines():
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 3  # no cell was split


def test_json_is_to_dict_and_repaired_only_when_it_must_be():
    env = Environment(NEWEST)
    assert environment_bundle(env)["application/json"] == env.to_dict()
    odd = Environment({"id": "env_x", "n": float("nan"), "s": {1, 2}, "t": ("a",), "u": "\ud800"})
    payload = environment_bundle(odd)["application/json"]
    assert payload == {"id": "env_x", "n": "nan", "s": "{1, 2}", "t": ["a"], "u": "\ufffd"}
    json.dumps(payload, allow_nan=False, ensure_ascii=False).encode()


def test_a_failure_inside_rendering_falls_back_to_escaped_text(monkeypatch):
    def broken(*_: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(display, "_card_html", broken)
    monkeypatch.setattr(display, "_page_html", broken)
    env = Environment({"id": "env_x", "name": "<script>x</script>"})
    bundle = environment_bundle(env)
    check_bundle(bundle)
    assert bundle["text/html"].startswith('<pre class="qoder-env">Environment(id=')
    assert "&lt;script&gt;" in bundle["text/html"]
    assert bundle["application/json"] == env.to_dict()
    page = page_bundle([env, env], has_more=True)
    check_bundle(page)
    assert page["text/plain"].startswith("2 environments; more exist")
    assert page["application/json"] == {"data": [env.to_dict()] * 2, "has_more": True}


def test_even_a_broken_object_does_not_raise():
    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError(name)

        def __repr__(self) -> str:
            raise RuntimeError("repr")

    check_bundle(environment_bundle(Broken()))  # type: ignore[arg-type]
    check_bundle(page_bundle([Broken()]))  # type: ignore[list-item]
    check_bundle(page_bundle(None))  # type: ignore[arg-type]


def test_the_page_bundle_for_none_one_and_many():
    empty = page_bundle([])
    check_bundle(empty)
    assert empty["text/plain"] == "0 environments."
    assert "<table" not in empty["text/html"]
    assert empty["application/json"] == {"data": [], "has_more": False}

    envs = [Environment(shape) for shape in SHAPES]
    page = page_bundle(envs, has_more=True)
    check_bundle(page)
    assert page["application/json"]["data"][:4] == [env.to_dict() for env in envs[:4]]
    assert page["application/json"]["has_more"] is True
    assert "5 environments; more exist beyond this page." in page["text/html"]
    assert page["text/html"].count("<tr>") == len(envs) + 1
    assert '<th scope="col">Networking</th>' in page["text/html"]
    assert "allowlist, 2 hosts" in page["text/html"]
    assert ">archived</span>" in page["text/html"]
    assert "| Name | ID | Status | Networking | Packages | Created |" in page["text/markdown"]
    assert "1 environment." in page_bundle(envs[:1])["text/plain"]

    many = [Environment({**NEWEST, "id": f"env_{i:032x}"}) for i in range(1000)]
    big = page_bundle(many, rows=0)  # 0: every row
    check_bundle(big)
    assert big["text/html"].count("<style>") == 1
    assert big["text/html"].count("<tr>") == 1001
    assert len(big["text/plain"].splitlines()) == 1001


JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["name", "description", "status", "archived", "config", "metadata", "created_at",
     "updated_at", "archived_at", "networking", "packages", "type"]
) | st.text()  # fmt: skip
CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "networking": st.dictionaries(
            st.sampled_from(["type", "allowed_hosts", "allow_package_managers"]), JSON_VALUE
        ),
        "packages": st.dictionaries(st.sampled_from(["apt", "pip", "npm", "x"]), JSON_VALUE),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ident=st.text(min_size=1),
    fields=st.dictionaries(KEYS, JSON_VALUE, max_size=8),
    config=CONFIG,
)
def test_any_json_like_environment_displays(ident, fields, config):
    env = Environment({**fields, "config": config, "id": ident})
    bundle = environment_bundle(env)
    check_bundle(bundle)
    assert bundle["application/json"] == env.to_dict()
    page = page_bundle([env, env])
    check_bundle(page)
    assert page["application/json"]["data"] == [env.to_dict()] * 2


SDK: dict[str, Any] = {  # every field the official SDK adds
    "id": "env_019e3bb39b6774d8878cd0b9d2375752",
    "name": "agents",
    "scope": "organization",
    "config": {
        "type": "cloud",
        "networking": {"type": "limited", "allow_mcp_servers": True},
        "packages": {"type": "packages", "pip": ["numpy"], "cargo": ["ripgrep"], "gem": []},
        "setup_script": "make setup\nmake test",
    },
}
RUNNER: dict[str, Any] = {  # self-hosted, as the newest docs return it: defaults filled in
    "id": "env_019e3bb39b6774d8878cd0b9d2375753",
    "name": "runner",
    "config": {
        "type": "self_hosted",
        "setup_script": "./bootstrap.sh",
        "networking": {"type": "limited", "allowed_hosts": [], "allow_mcp_servers": False},
        "packages": {"type": "packages", "apt": [], "cargo": []},
    },
}


@pytest.mark.parametrize("shape", [SDK, RUNNER], ids=["sdk", "self-hosted"])
def test_the_sdk_shapes_give_a_safe_bundle(shape):
    check_bundle(environment_bundle(Environment(shape)))
    check_bundle(page_bundle([Environment(shape)]))


def test_the_card_shows_scope_mcp_servers_and_what_is_not_installed():
    bundle = environment_bundle(Environment(SDK))
    page, text, markdown = bundle["text/html"], bundle["text/plain"], bundle["text/markdown"]
    assert "<dt>Scope</dt><dd>organization</dd>" in page
    assert "limited · package managers blocked · MCP servers allowed" in page
    assert (
        "<strong>cargo</strong> (1): <code>ripgrep</code> "
        '<span class="qoder-env-badge qoder-env-warn">not installed</span>' in page
    )
    assert "<strong>pip</strong> (1): <code>numpy</code></div>" in page  # pip is installed
    assert "<strong>gem</strong>" not in page  # an empty list is not shown
    assert '<dt>Setup script</dt><dd><code>make setup</code> <span class="qoder-env-muted">' in page
    assert "Runs on" not in page  # a cloud sandbox: the usual case, not said
    assert "  scope:      organization" in text
    assert "limited, package managers blocked, MCP servers allowed" in text
    assert "pip: numpy; cargo (not installed): ripgrep" in text
    assert "  setup:      make setup (2 lines)" in text
    assert "| Scope | organization |" in markdown
    assert "MCP servers allowed" in markdown
    assert "cargo (not installed): `ripgrep`" in markdown
    plain = environment_bundle(Environment(SEED))
    assert "MCP" not in plain["text/html"]  # not allowed: nothing said
    assert "Scope" not in plain["text/html"]


def test_a_self_hosted_card_says_so_instead_of_networking_and_packages():
    bundle = environment_bundle(Environment(RUNNER))
    page, text, markdown = bundle["text/html"], bundle["text/plain"], bundle["text/markdown"]
    says = "a self-hosted runner (networking and packages do not apply)"
    assert f"<dt>Runs on</dt><dd>{says}</dd>" in page
    assert "<dt>Networking</dt>" not in page
    assert "<dt>Packages</dt>" not in page
    assert "<code>./bootstrap.sh</code>" in page
    assert f"  runs on:    {says}" in text
    assert "networking:" not in text
    assert "packages:" not in text
    assert f"| Runs on | {says} |" in markdown
    assert "| Networking |" not in markdown
    listed = page_bundle([Environment(RUNNER), Environment(SEED)])
    assert "<td>self-hosted runner</td>" in listed["text/html"]
    assert "self-hosted runner" in listed["text/plain"]


def test_the_dry_run_preview_is_code_blocks_in_the_code_font():
    from qoder_jupyter.display import RequestPreview

    preview = RequestPreview("POST", "http://127.0.0.1:1/environments", {"name": "a<b"}, "%x")
    bundle = preview._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.count('<pre class="qoder-env-code"><code') == 3
    assert '<code class="language-json">{\n  &quot;name&quot;: &quot;a&lt;b&quot;\n}</code>' in html
    mono = "var(--jp-code-font-family,var(--vscode-editor-font-family,"
    style = html[: html.index("</style>")]
    rule = style[style.index("pre.qoder-env-code,") :]  # the rule it shares with the diff
    assert f"font-family: {mono}" in rule[: rule.index("}")]
    assert "monospace" in rule[: rule.index("}")]
    assert bundle["text/markdown"].count("```") == 6
    assert "```json\n" in bundle["text/markdown"]
    assert "```bash\n" in bundle["text/markdown"]
