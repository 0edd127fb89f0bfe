"""Diffs: what sending one spec over another (or over a live environment) would change, and how
a diff and an apply's plan are shown.

The comparison is the one ``%qoder_env apply`` decides by, so its semantics are pinned field kind
by field kind; the Python API is checked on real environments, created and updated through the
real client against the emulator in each of its dialects; the renderings are checked through
IPython's own display formatter and for what they must never let through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qoder_jupyter import _markup, display_diff
from qoder_jupyter.client import Client
from qoder_jupyter.diff import (
    Change,
    SpecDiff,
    diff_values,
    environment_label,
    short_id,
)
from qoder_jupyter.emulator import DIALECTS, Emulator
from qoder_jupyter.environment import Environment
from qoder_jupyter.plan import Applied, Plan
from qoder_jupyter.spec import FIELDS, EnvironmentSpec

ENV_ID = "env_019e3bb39b6774d8878cd0b9d237574b"


def changes(before: EnvironmentSpec, after: EnvironmentSpec) -> list[tuple[Any, ...]]:
    """The diff as (field, action, key, old, new) tuples, in its order."""
    return [(c.field, c.action, c.key, c.old, c.new) for c in before.diff(after)]


def live(**data: Any) -> Environment:
    return Environment({"id": ENV_ID, "name": "ds", "config": {"type": "cloud"}, **data})


# --- the comparison: each kind of field ----------------------------------------------------------


def test_equal_specs_have_no_differences():
    spec = EnvironmentSpec(name="ds", pip=["numpy"], metadata={"team": "data"}, setup_script="x")
    diff = spec.diff(spec.copy())
    assert not diff
    assert len(diff) == 0
    assert list(diff) == []
    assert diff.traits == frozenset()
    assert str(diff) == "No differences."


@pytest.mark.parametrize(
    ("trait", "old", "new", "action"),
    [
        ("name", "ds", "ml", "changed"),
        ("description", "", "notes", "added"),
        ("description", "notes", "", "removed"),
        ("description", "notes", "more notes", "changed"),
        ("setup_script", "make", "make -j4", "changed"),
        ("setup_script", "", "make", "added"),
    ],
)
def test_text_fields_change_as_values(trait, old, new, action):
    before = EnvironmentSpec(**{"name": "ds", trait: old})
    after = EnvironmentSpec(**{"name": "ds", trait: new})
    field = {"setup_script": "config.setup_script"}.get(trait, trait)
    assert changes(before, after) == [(field, action, None, old or None, new or None)]
    assert before.diff(after).traits == {trait}


@pytest.mark.parametrize("flag", ["allow_package_managers", "allow_mcp_servers"])
def test_flags_change_from_off_to_on_and_back(flag):
    off, on = EnvironmentSpec(name="ds"), EnvironmentSpec(name="ds", **{flag: True})
    field = f"config.networking.{flag}"
    assert changes(off, on) == [(field, "changed", None, False, True)]
    assert changes(on, off) == [(field, "changed", None, True, False)]


def test_package_lists_compare_as_sets_keyed_by_package():
    before = EnvironmentSpec(name="ds", pip=["pandas>=2", "numpy", "requests"])
    after = EnvironmentSpec(name="ds", pip=["scipy", "Pandas>=2.1", "numpy"])
    assert changes(before, after) == [
        ("config.packages.pip", "changed", "pandas", "pandas>=2", "Pandas>=2.1"),
        ("config.packages.pip", "removed", "requests", "requests", None),
        ("config.packages.pip", "added", "scipy", None, "scipy"),
    ]


def test_order_and_repeats_of_a_list_are_no_difference():
    before = EnvironmentSpec(name="ds", pip=["numpy", "pandas"], apt=["curl", "git"])
    after = EnvironmentSpec(name="ds", pip=["pandas", "numpy", "pandas"], apt=["git", "curl"])
    assert not before.diff(after)
    one_key = EnvironmentSpec(name="ds", pip=["pandas>=2", "pandas[excel]>=2"])
    swapped = EnvironmentSpec(name="ds", pip=["pandas[excel]>=2", "pandas>=2"])
    assert not one_key.diff(swapped)


def test_the_entries_of_one_package_are_compared_together():
    before = EnvironmentSpec(name="ds", pip=["pandas>=2", "pandas[excel]>=2", "numpy"])
    after = EnvironmentSpec(name="ds", pip=["numpy", "pandas[excel]>=2"])
    assert changes(before, after) == [
        (
            "config.packages.pip",
            "changed",
            "pandas",
            "pandas>=2, pandas[excel]>=2",
            "pandas[excel]>=2",
        )
    ]


def test_an_entry_with_an_environment_marker_is_of_its_package_and_kept_as_written():
    before = EnvironmentSpec(name="ds", pip=['pywin32; sys_platform == "win32"'])
    after = EnvironmentSpec(name="ds", pip=['pywin32>=306; sys_platform == "win32"'])
    assert changes(before, after) == [
        (
            "config.packages.pip",
            "changed",
            "pywin32",
            'pywin32; sys_platform == "win32"',
            'pywin32>=306; sys_platform == "win32"',
        )
    ]


@pytest.mark.parametrize(
    ("manager", "old", "new", "key"),
    [
        ("apt", "curl=7.81.0-1", "curl", "curl"),
        ("npm", "typescript@5", "typescript@5.4", "typescript"),
        ("npm", "@types/node@20", "@types/node@22", "@types/node"),
        ("cargo", "ripgrep@13", "ripgrep@14", "ripgrep"),
        ("pip", "Django_REST.framework==3", "djangorestframework", "django-rest-framework"),
    ],
)
def test_every_package_list_is_keyed_by_what_its_entries_are_of(manager, old, new, key):
    before = EnvironmentSpec(name="ds", **{manager: [old]})
    after = EnvironmentSpec(name="ds", **{manager: [new]})
    found = changes(before, after)
    if key == "django-rest-framework":  # a different project: one goes, the other comes
        assert [(c[1], c[2]) for c in found] == [("removed", key), ("added", "djangorestframework")]
    else:
        assert found == [(f"config.packages.{manager}", "changed", key, old, new)]


def test_allowed_hosts_are_keyed_by_host_whatever_their_case():
    before = EnvironmentSpec(name="ds", networking="allowlist", allowed_hosts=["PyPI.org", "a.io"])
    after = EnvironmentSpec(name="ds", networking="allowlist", allowed_hosts=["pypi.org", "b.io"])
    assert changes(before, after) == [
        ("config.networking.allowed_hosts", "removed", "a.io", "a.io", None),
        ("config.networking.allowed_hosts", "added", "b.io", None, "b.io"),
        ("config.networking.allowed_hosts", "changed", "pypi.org", "PyPI.org", "pypi.org"),
    ]


def test_metadata_is_compared_key_by_key():
    before = EnvironmentSpec(name="ds", metadata={"team": "data", "tier": "1", "z": "same"})
    after = EnvironmentSpec(name="ds", metadata={"z": "same", "owner": "ana", "tier": "2"})
    assert changes(before, after) == [
        ("metadata", "added", "owner", None, "ana"),
        ("metadata", "removed", "team", "data", None),
        ("metadata", "changed", "tier", "1", "2"),
    ]
    emptied = EnvironmentSpec(name="ds")
    assert [c[1:3] for c in changes(before, emptied)] == [
        ("removed", "team"),
        ("removed", "tier"),
        ("removed", "z"),
    ]


def test_unset_networking_is_the_services_default_limited():
    unset, limited = EnvironmentSpec(name="ds"), EnvironmentSpec(name="ds", networking="limited")
    assert not unset.diff(limited)
    assert not limited.diff(unset)
    opened = EnvironmentSpec(name="ds", networking="unrestricted")
    assert changes(unset, opened) == [
        ("config.networking.type", "changed", None, "limited", "unrestricted")
    ]
    assert changes(opened, unset) == [
        ("config.networking.type", "changed", None, "unrestricted", "limited")
    ]


def test_an_unsent_scope_keeps_whatever_the_environment_has():
    org = EnvironmentSpec(name="ds", scope="organization")
    unset = EnvironmentSpec(name="ds")
    assert not org.diff(unset)  # not sent: the service keeps "organization"
    assert changes(unset, org) == [("scope", "added", None, None, "organization")]
    account = EnvironmentSpec(name="ds", scope="account")
    assert changes(org, account) == [("scope", "changed", None, "organization", "account")]


def test_sandbox_fields_do_not_apply_between_self_hosted_configs():
    """A self-hosted spec may hold sandbox values (problems() reports them): they are not
    compared, as they do not apply; the setup script still is."""
    before = EnvironmentSpec(
        name="ds", config_type="self_hosted", setup_script="make", pip=["numpy"]
    )
    after = EnvironmentSpec(
        name="ds",
        config_type="self_hosted",
        setup_script="make",
        networking="unrestricted",
        allow_mcp_servers=True,
        allowed_hosts=["a.io"],
        apt=["curl"],
    )
    assert not before.diff(after)
    rescripted = EnvironmentSpec(name="ds", config_type="self_hosted", setup_script="make all")
    assert before.diff(rescripted).traits == {"setup_script"}


def test_switching_to_self_hosted_shows_the_sandbox_fields_going_away():
    cloud = EnvironmentSpec(
        name="ds",
        networking="unrestricted",
        allow_mcp_servers=True,
        allow_package_managers=False,  # off is nothing that goes away
        pip=["numpy"],
        setup_script="make",
    )
    runner = EnvironmentSpec(name="ds", config_type="self_hosted", setup_script="make")
    assert changes(cloud, runner) == [
        ("config.type", "changed", None, "cloud", "self_hosted"),
        ("config.networking.type", "removed", None, "unrestricted", None),
        ("config.networking.allow_mcp_servers", "removed", None, True, None),
        ("config.packages.pip", "removed", "numpy", "numpy", None),
    ]
    assert changes(runner, cloud) == [
        ("config.type", "changed", None, "self_hosted", "cloud"),
        ("config.networking.type", "added", None, None, "unrestricted"),
        ("config.networking.allow_mcp_servers", "added", None, None, True),
        ("config.packages.pip", "added", "numpy", None, "numpy"),
    ]


def test_the_default_networking_does_not_appear_or_go_away_with_the_config_type():
    limited = EnvironmentSpec(name="ds")
    runner = EnvironmentSpec(name="ds", config_type="self_hosted")
    assert [c[0] for c in changes(limited, runner)] == ["config.type"]
    assert [c[0] for c in changes(runner, limited)] == ["config.type"]


def test_changes_come_in_field_order_and_lists_by_key():
    before = EnvironmentSpec(name="a", pip=["zlib-ng", "attrs"], metadata={"m": "1"})
    after = EnvironmentSpec(
        name="b",
        description="d",
        networking="allowlist",
        allowed_hosts=["pypi.org"],
        apt=["curl"],
        pip=["numpy"],
        npm=["typescript"],
        metadata={"k": "v"},
        setup_script="make",
    )
    fields = [c.field for c in before.diff(after)]
    order = {field.dotted: i for i, field in enumerate(FIELDS)}
    assert fields == sorted(fields, key=order.__getitem__)
    assert [c.key for c in before.diff(after) if c.trait == "pip"] == ["attrs", "numpy", "zlib-ng"]
    assert before.diff(after).traits == {
        "name",
        "description",
        "networking",
        "allowed_hosts",
        "apt",
        "pip",
        "npm",
        "metadata",
        "setup_script",
    }


def test_a_diff_from_nothing_adds_what_a_create_sends():
    spec = EnvironmentSpec(name="ds", pip=["numpy"], metadata={"team": "data"})
    diff = diff_values({}, spec.values(), FIELDS, before_label="(nothing)", after_label="ds")
    assert [(c.field, c.action, c.new) for c in diff] == [
        ("name", "added", "ds"),
        ("config.type", "added", "cloud"),
        ("config.packages.pip", "added", "numpy"),
        ("metadata", "added", "data"),
    ]
    assert all(c.old is None for c in diff)
    assert (diff.before, diff.after) == ("(nothing)", "ds")
    runner = EnvironmentSpec(name="r", config_type="self_hosted", setup_script="make", pip=["x"])
    created = diff_values({}, runner.values(), FIELDS)
    assert [c.field for c in created] == ["name", "config.type", "config.setup_script"]


def test_a_trait_missing_from_both_sides_is_no_difference():
    """The values need not hold every trait: one the caller's table does not know is nothing."""
    values = EnvironmentSpec(name="ds", pip=["numpy"]).values()
    partial = {trait: values[trait] for trait in ("name", "pip")}
    assert not diff_values(partial, partial, FIELDS)
    assert not diff_values(partial, {**partial, "apt": []}, FIELDS)


def test_the_diff_is_a_value():
    one = EnvironmentSpec(name="a").diff(EnvironmentSpec(name="b"))
    assert one == EnvironmentSpec(name="a").diff(EnvironmentSpec(name="b"))
    assert one.changes == (Change("name", "name", "changed", None, "a", "b"),)
    with pytest.raises(AttributeError):
        one.changes[0].new = "c"  # type: ignore[misc]


# --- the Python API ------------------------------------------------------------------------------


def test_a_spec_diffs_against_a_spec_or_an_environment():
    spec = EnvironmentSpec(name="ds", pip=["numpy"])
    other = EnvironmentSpec(name="ds", pip=["numpy", "scipy"])
    assert (spec.diff(other).before, spec.diff(other).after) == ("spec", "other spec")
    env = live(config={"type": "cloud", "packages": {"pip": ["scipy"]}})
    against_env = spec.diff(env)
    assert against_env.after == "ds (env_019e…574b, live)"
    assert [(c.action, c.key) for c in against_env] == [("removed", "numpy"), ("added", "scipy")]
    labelled = spec.diff(other, before_label="mine", after_label="theirs")
    assert (labelled.before, labelled.after) == ("mine", "theirs")


def test_an_environment_diffs_against_a_spec_or_an_environment():
    env = live(metadata={"team": "data"})
    spec = EnvironmentSpec(name="ds", metadata={"team": "ml"})
    diff = env.diff(spec)
    assert (diff.before, diff.after) == ("ds (env_019e…574b, live)", "spec")
    assert [(c.key, c.old, c.new) for c in diff] == [("team", "data", "ml")]
    other = Environment({"id": "env_other", "name": "ml", "config": {"type": "cloud"}})
    both = env.diff(other)
    assert (both.before, both.after) == ("ds (env_019e…574b, live)", "ml (env_other, live)")
    assert both.traits == {"name", "metadata"}


@pytest.mark.parametrize("other", [None, {"name": "ds"}, "ds", 3])
def test_diffing_with_something_else_names_what_to_pass(other):
    with pytest.raises(TypeError, match=r"EnvironmentSpec or an Environment.*pass a spec"):
        EnvironmentSpec(name="ds").diff(other)


def test_labels_name_an_environment_by_name_and_short_id():
    assert short_id(ENV_ID) == "env_019e…574b"
    assert short_id("env_short") == "env_short"
    assert environment_label("ds", ENV_ID) == "ds (env_019e…574b, live)"
    assert environment_label("", ENV_ID) == "(env_019e…574b, live)"


RICH = EnvironmentSpec(
    name="rich",
    description="every field\nover two lines",
    scope="account",
    networking="allowlist",
    allowed_hosts=["pypi.org", "files.pythonhosted.org"],
    allow_package_managers=True,
    allow_mcp_servers=True,
    apt=["curl", "git"],
    pip=["pandas>=2", "numpy"],
    npm=["typescript@5"],
    cargo=["ripgrep"],
    metadata={"team": "data", "tier": "1"},
    setup_script="make\nmake install",
)
PLAIN = EnvironmentSpec(name="plain")
RUNNER = EnvironmentSpec(name="runner", config_type="self_hosted", setup_script="make")


@pytest.fixture(params=DIALECTS)
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    with (
        Emulator(dialect=request.param) as emulator,
        Client(base_url=emulator.base_url, token=emulator.token) as running,
    ):
        yield running


def test_an_environment_created_from_a_spec_diffs_empty_against_it(client):
    """Whatever defaults the service fills in (the newest dialect fills in all of them)."""
    for spec in (RICH, PLAIN, RUNNER):
        env = client.environments.create(spec)
        assert not env.diff(spec), str(env.diff(spec))
        assert not client.environments.retrieve(env.id).diff(spec)
        assert not spec.diff(env), str(spec.diff(env))


def test_an_update_leaves_exactly_what_was_not_sent_different(client):
    env = client.environments.create(RICH)
    target = RICH.copy()
    target.pip = ["pandas>=2.1", "numpy"]
    target.metadata = {"team": "ml", "owner": "ana"}
    target.networking = None  # the service's default: limited
    target.allowed_hosts = []
    before = env.diff(target)
    assert [(c.field, c.action, c.key) for c in before] == [
        ("config.networking.type", "changed", None),
        ("config.networking.allowed_hosts", "removed", "files.pythonhosted.org"),
        ("config.networking.allowed_hosts", "removed", "pypi.org"),
        ("config.packages.pip", "changed", "pandas"),
        ("metadata", "added", "owner"),
        ("metadata", "changed", "team"),
        ("metadata", "removed", "tier"),
    ]
    updated = client.environments.update(
        env.id, config=target, metadata={"team": "ml", "owner": "ana", "tier": None}
    )
    assert not updated.diff(target), str(updated.diff(target))
    assert updated.diff(RICH).traits == before.traits


# --- rendering a diff ----------------------------------------------------------------------------

BEFORE = EnvironmentSpec(
    name="ds",
    pip=["pandas>=2", "numpy"],
    metadata={"team": "data"},
    setup_script="apt-get update\nmake\nmake install\necho done",
)
AFTER = EnvironmentSpec(
    name="ds",
    pip=["numpy", "pandas>=2.1", "scipy"],
    allow_package_managers=True,
    metadata={"owner": "ana"},
    setup_script="apt-get update\nmake -j4\nmake install\necho done",
)
EXPECTED_TEXT = """\
--- ds (env_019e…574b, live)
+++ spec
  config.networking.allow_package_managers
-   false
+   true
  config.packages.pip
-   pandas>=2
+   pandas>=2.1
+   scipy
  metadata
+   owner: ana
-   team: data
  config.setup_script
    @@ -1,4 +1,4 @@
    apt-get update
-   make
+   make -j4
    make install
    echo done"""


def live_diff() -> SpecDiff:
    return Environment({"id": ENV_ID, **BEFORE.body()}).diff(AFTER)


def formatted(obj: object) -> dict[str, Any]:
    """What IPython's display formatter makes of ``obj``."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        formatter = shell.display_formatter
        assert formatter is not None
        data: dict[str, Any] = formatter.format(obj)[0]
        return data
    finally:
        InteractiveShell.clear_instance()


def test_the_text_reads_as_a_unified_diff():
    diff = live_diff()
    assert str(diff) == EXPECTED_TEXT
    assert display_diff.diff_text(diff) == EXPECTED_TEXT


def test_ipython_shows_a_diff_in_every_format():
    data = formatted(live_diff())
    assert data["text/plain"] == EXPECTED_TEXT
    assert data["text/markdown"] == f"```diff\n{EXPECTED_TEXT}\n```\n"
    page = data["text/html"]
    assert page.startswith(_markup.style("card.css") + _markup.style("diff.css"))
    assert '<div class="qoder-env"><pre class="qoder-env-diff">' in page
    # Every line keeps its marker, so colour is never the only signal.
    assert page.count('<span class="qoder-env-diff-mark">-</span>') == 4
    assert page.count('<span class="qoder-env-diff-mark">+</span>') == 5
    assert "pandas&gt;=2.1" in page
    text = re.sub(r"<[^>]+>", "", page.split("</style>")[-1])
    assert text.replace("&gt;", ">").rstrip("\n") == EXPECTED_TEXT  # the lines where CSS is lost


def test_an_empty_diff_says_so_in_every_format():
    bundle = EnvironmentSpec(name="ds").diff(EnvironmentSpec(name="ds"))._repr_mimebundle_()
    assert bundle["text/plain"] == "No differences."
    assert bundle["text/markdown"] == "No differences.\n"
    assert bundle["text/html"].endswith(
        '<div class="qoder-env"><p class="qoder-env-summary">No differences.</p></div>'
    )


def test_values_are_escaped_and_cleaned_in_every_format():
    hostile = EnvironmentSpec(
        name="ds",
        description='<script>alert("x")</script>\u202e`` ``` |',
        metadata={"<b>": "<img src=x onerror=alert(1)>"},
    )
    bundle = EnvironmentSpec(name="ds").diff(hostile)._repr_mimebundle_()
    page = bundle["text/html"]
    for raw in ("<script>", "<img", "<b>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "\u202e" not in page + bundle["text/plain"] + bundle["text/markdown"]
    markdown = bundle["text/markdown"]
    assert markdown.startswith("````diff\n")  # a longer fence: the value cannot close it
    assert markdown.endswith("\n````\n")


def test_huge_values_are_clipped():
    huge = EnvironmentSpec(
        name="ds", description="x" * 1_000_000, pip=[f"p{i}" for i in range(900)]
    )
    bundle = EnvironmentSpec(name="ds").diff(huge)._repr_mimebundle_()
    for rendered in bundle.values():
        assert len(rendered) < 100_000
    plain = bundle["text/plain"].splitlines()
    assert plain[-1] == "    … 504 more lines not shown"
    assert plain[3] == "+   " + "x" * 499 + "…"  # one line, clipped


def test_a_long_script_shows_only_the_changed_lines_with_some_context():
    lines = [f"step {i}" for i in range(100)]
    edited = [*lines[:50], "step 50 (edited)", *lines[51:]]
    before = EnvironmentSpec(name="ds", setup_script="\n".join(lines))
    after = EnvironmentSpec(name="ds", setup_script="\n".join(edited))
    assert str(before.diff(after)).splitlines()[2:] == [
        "  config.setup_script",
        "    @@ -49,5 +49,5 @@",
        "    step 48",
        "    step 49",
        "-   step 50",
        "+   step 50 (edited)",
        "    step 51",
        "    step 52",
    ]
    added = str(EnvironmentSpec(name="ds").diff(after)).splitlines()
    assert added[3:5] == ["+   step 0", "+   step 1"]  # a new script: every line added


def test_a_text_that_differs_only_past_what_is_compared_says_so():
    base = "line\n" * 5_000
    diff = EnvironmentSpec(name="ds", setup_script=base + "a").diff(
        EnvironmentSpec(name="ds", setup_script=base + "b")
    )
    assert str(diff).splitlines()[-1] == "    (they differ after the first 20,000 characters)"


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_rendering_never_raises():
    odd = SpecDiff((Change("metadata", "metadata", "changed", "k", _Unprintable(), 10**5000),))
    assert str(odd).splitlines()[3:] == ["-   k: <_Unprintable>", "+   k: <int>"]
    broken = SpecDiff(changes=None)  # type: ignore[arg-type]
    bundle = broken._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    assert bundle["text/plain"].startswith("SpecDiff(changes=None")


STYLESHEET = Path(display_diff.__file__).parent / "static" / "diff.css"


def test_the_stylesheet_is_scoped_themed_and_joinable():
    css = _markup.uncommented(STYLESHEET.read_text(encoding="utf-8"))
    assert all(line.rstrip()[-1:] in ",;{}" for line in css.splitlines() if line.strip())
    selectors = re.findall(r"(?:^|})\s*([^{}@]+)\{", css)
    assert all(part.strip().startswith(".qoder-env ") for s in selectors for part in s.split(","))
    assert "var(--jp-error-color1,var(--vscode-errorForeground,#cf222e))" in css
    assert "var(--jp-success-color1,var(--vscode-charts-green,#1a7f37))" in css
    # Tints, not painted backgrounds, so the lines read in dark themes too.
    assert "color-mix(in srgb,var(--qoder-env-tone) 14%,transparent)" in css
    assert not re.search(r"background:\s*#", css)


# --- rendering a plan ----------------------------------------------------------------------------


def plan(*, done: bool) -> Plan:
    new = EnvironmentSpec(name="web", npm=["typescript@5"])
    env = Environment({"id": ENV_ID, **BEFORE.body()})
    same = Environment({"id": "env_same", "name": "ok", "config": {"type": "cloud"}})
    created = Environment({"id": "env_new", **new.body()})
    return Plan(
        [
            Applied(
                "web",
                "create",
                new,
                diff_values({}, new.values(), FIELDS, before_label="(nothing)", after_label="web"),
                created if done else None,
                done=done,
            ),
            Applied("ds", "update", AFTER, env.diff(AFTER), env, done=done),
            Applied("ok", "unchanged", EnvironmentSpec(name="ok"), None, same, done=done),
            Applied("<bad>", "failed", EnvironmentSpec(name="<bad>"), reason="HTTP 409: taken."),
        ],
        done=done,
    )


def test_a_plan_counts_and_lists_each_item_with_its_diff():
    text = str(plan(done=False))
    head, create, update, unchanged, failed = text.split("\n\n")
    assert head == "Plan: 1 to create, 1 to update, 1 unchanged, 1 failed"
    assert create.splitlines() == [
        "web: create",
        "--- (nothing)",
        "+++ web",
        "  name",
        "+   web",
        "  config.type",
        "+   cloud",
        "  config.packages.npm",
        "+   typescript@5",
    ]
    assert update == f"ds ({ENV_ID}): update\n{EXPECTED_TEXT}"
    assert unchanged == "ok (env_same): unchanged"
    assert failed == "<bad>: failed — HTTP 409: taken."


def test_a_done_plan_ends_with_a_summary_table():
    text = str(plan(done=True))
    assert text.startswith(
        "Applied: 1 created, 1 updated, 1 unchanged, 1 failed\n\nweb (env_new): created\n"
    )
    table = text.split("\n\n")[-1].splitlines()
    assert table == [
        "Name   Result     ID                                    Changes or reason",
        "web    created    env_new                               new environment",
        f"ds     updated    {ENV_ID}  6 changes: "
        "allow_package_managers, pip, metadata, setup_script",
        "ok     unchanged  env_same                              up to date",
        "<bad>  failed     —                                     HTTP 409: taken.",
    ]


def test_a_plan_without_failures_does_not_count_them():
    assert str(Plan([])) == "Plan: 0 to create, 0 to update, 0 unchanged"
    assert str(Plan([], done=True)) == "Applied: 0 created, 0 updated, 0 unchanged"


def test_a_create_without_a_diff_shows_the_body_it_sends():
    spec = EnvironmentSpec(name="web", pip=["numpy"])
    lines = str(Plan([Applied("web", "create", spec)])).splitlines()
    assert lines[2:6] == ["web: create", "--- (nothing)", "+++ spec", "  request body"]
    assert '+     "name": "web",' in lines


def test_ipython_shows_a_plan_in_every_format():
    data = formatted(plan(done=True))
    assert data["text/plain"] == str(plan(done=True))
    page = data["text/html"]
    assert "&lt;bad&gt;" in page
    assert "<bad>" not in page
    assert '<span class="qoder-env-badge qoder-env-ok">created</span>' in page
    assert '<span class="qoder-env-badge qoder-env-error">failed</span>' in page
    assert page.count('<pre class="qoder-env-diff">') == 2  # the create and the update
    assert '<table class="qoder-env-table qoder-env-plan-table">' in page
    markdown = data["text/markdown"]
    assert markdown.startswith("**Applied: 1 created, 1 updated, 1 unchanged, 1 failed**\n\n")
    assert markdown.count("```diff\n") == 2
    assert "| \\<bad\\> | failed | — | HTTP 409: taken. |" in markdown
    assert f"| ds | updated | `{ENV_ID}` |" in markdown
    single = formatted(plan(done=False)[1])  # one item alone: a sentence, then its diff
    assert single["text/plain"].startswith(f"Would update ds ({ENV_ID}): 6 changes: ")
    assert "-   make\n+   make -j4" in single["text/plain"]
    assert single["text/markdown"].startswith("Would update ds")
    assert '<span class="qoder-env-badge qoder-env-warn">update</span>' in single["text/html"]


def test_a_plan_that_cannot_be_rendered_still_shows_something():
    broken = Plan([Applied("x", "update", EnvironmentSpec(name="x"), diff="oops")])  # type: ignore[arg-type]
    bundle = broken._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    assert "Plan(items=[Applied(name='x'" in bundle["text/plain"]
