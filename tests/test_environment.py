"""The tolerant reader: every documented shape reads, odd values never raise, nothing is dropped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from qoder_jupyter.environment import (
    DeletedEnvironment,
    Environment,
    EnvironmentPage,
    ResponseShapeError,
    config_without_defaults,
)

from .samples import SEED_RESPONSE

SEED = SEED_RESPONSE


def test_the_seed_response():
    env = Environment(SEED)
    assert (env.id, env.name, env.status, env.archived) == (
        SEED["id"],
        "doc-test-env",
        "ready",
        False,
    )
    assert env.networking == "limited"
    assert env.packages == {"apt": ["curl"]}
    assert env.metadata == {}
    assert env.created_at == datetime(2026, 5, 18, 15, 28, 7, 17808, tzinfo=timezone.utc)
    assert env.archived_at is None


def test_only_the_id_is_required():
    env = Environment({"id": "env_x"})
    assert (env.name, env.description, env.status, env.networking) == ("", "", "ready", "limited")
    assert (env.config, env.metadata, env.packages, env.allowed_hosts) == ({}, {}, {}, [])
    assert env.created_at is None
    bad_values: list[object] = [{}, {"id": ""}, {"id": 7}, [], "env_x", None]
    for bad in bad_values:
        with pytest.raises(ResponseShapeError):
            Environment(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "signs",
    [
        {"archived_at": "2026-05-19T00:00:00Z"},
        {"archived": True},
        {"status": "archived"},
        {"archived_at": "2026-05-19T00:00:00Z", "archived": True, "status": "archived"},
    ],
)
def test_archived_by_any_documented_sign(signs):
    env = Environment({"id": "env_x", **signs})
    assert env.archived
    assert env.status == "archived"


def test_unknown_fields_are_kept_and_odd_types_read_as_empty():
    data = {
        "id": "env_x",
        "name": 42,
        "config": {"networking": "open", "packages": {"apt": "curl", "pip": ["numpy"]}},
        "metadata": ["not", "a", "map"],
        "created_at": "yesterday",
        "updated_at": "2026-05-18T15:28:07.017808123Z",
        "region": "eu-west",
        "session_count": 3,
    }
    env = Environment(data)
    assert (env.name, env.networking, env.metadata) == ("", "limited", {})
    assert env.packages == {"pip": ["numpy"]}
    assert env.created_at is None
    assert env.to_dict() == data
    assert env.to_dict()["region"] == "eu-west"


UTC, PLUS_TWO = timezone.utc, timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-18T15:28:07Z", datetime(2026, 5, 18, 15, 28, 7, tzinfo=UTC)),
        # Any number of fraction digits (Python 3.10's fromisoformat takes only 3 or 6).
        ("2026-05-18T15:28:07.5Z", datetime(2026, 5, 18, 15, 28, 7, 500000, tzinfo=UTC)),
        ("2026-05-18T15:28:07.01234Z", datetime(2026, 5, 18, 15, 28, 7, 12340, tzinfo=UTC)),
        ("2026-05-18T15:28:07.123456789Z", datetime(2026, 5, 18, 15, 28, 7, 123456, tzinfo=UTC)),
        ("2026-05-18t15:28:07+02:00", datetime(2026, 5, 18, 15, 28, 7, tzinfo=PLUS_TWO)),
        ("2026-05-18 15:28:07z", datetime(2026, 5, 18, 15, 28, 7, tzinfo=UTC)),
        ("2026-05-18T15:28Z", datetime(2026, 5, 18, 15, 28, tzinfo=UTC)),
        ("2026-05-18", datetime(2026, 5, 18)),
        # Not RFC 3339 (Python 3.11 and newer's fromisoformat takes them): unreadable everywhere.
        ("20260518T152807Z", None),
        ("2026-W21-1", None),
        ("2026-05-18T15:28:07+0200", None),
        ("2026-05-18T15:28:07,5Z", None),
        ("2026-05-18T15:28.5Z", None),
        ("2026-13-18T15:28:07Z", None),
        ("2026-05-18T15:28:07+25:00", None),
    ],
)
def test_timestamps_read_alike_on_every_python(text, expected):
    env = Environment({"id": "env_x", "created_at": text})
    assert env.created_at == expected
    if expected is not None:
        assert env.created_at.utcoffset() == expected.utcoffset()


def test_the_data_cannot_be_changed_from_outside():
    source: dict[str, Any] = {"id": "env_x", "metadata": {"a": "1"}}
    env = Environment(source)
    source["metadata"]["a"] = "changed"
    env.to_dict()["metadata"]["a"] = "changed too"
    env.metadata["a"] = "and again"
    assert env.metadata == {"a": "1"}


def test_newest_shape_with_filled_defaults():
    config = {
        "type": "cloud",
        "networking": {
            "type": "allowlist",
            "allowed_hosts": ["pypi.org"],
            "allow_package_managers": False,
            "allow_mcp_servers": False,
        },
        "packages": {"type": "packages", "apt": [], "pip": ["numpy"], "npm": [], "cargo": []},
    }
    env = Environment({"id": "env_x", "name": "n", "config": config})
    assert env.packages == {"pip": ["numpy"]}
    assert env.allowed_hosts == ["pypi.org"]
    assert not env.allow_package_managers
    assert config_without_defaults(config) == {
        "type": "cloud",
        "networking": {"type": "allowlist", "allowed_hosts": ["pypi.org"]},
        "packages": {"pip": ["numpy"]},
    }
    assert env.matches({"name": "n", "config": config_without_defaults(config)})
    assert not env.matches({"name": "n", "config": {"type": "cloud"}})
    assert not env.matches({"name": "other", "config": config})


@pytest.mark.parametrize(
    "body",
    [
        {"id": "env_x", "type": "environment_deleted"},
        {"id": "env_x", "deleted": True},
        {"deleted": True},
        None,
        "",
    ],
)
def test_every_delete_shape(body):
    assert DeletedEnvironment.from_response("env_x", body) == DeletedEnvironment("env_x")


def test_a_page_reads_with_or_without_its_cursors():
    page = EnvironmentPage.from_response({"data": [SEED, {"id": "env_y"}], "has_more": True})
    assert [e.id for e in page] == [SEED["id"], "env_y"]
    assert page.last_id == "env_y"
    assert page.has_more
    assert page.first_id is None
    empty = EnvironmentPage.from_response(
        {"data": [], "first_id": None, "last_id": None, "has_more": False, "total": 0}
    )
    assert len(empty) == 0
    assert empty.extra == {"total": 0}
    with pytest.raises(ResponseShapeError):
        EnvironmentPage.from_response({"items": []})


def test_displayed_bundles_keep_json_out_of_jupyterlabs_way():
    """JupyterLab would render application/json as a tree instead of the card: the JSON goes
    under a vendor type, and under application/json only when asked for."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        env = Environment(SEED)
        page = EnvironmentPage.from_response({"data": [SEED], "has_more": False})
        formatter = shell.display_formatter
        assert formatter is not None
        data, _ = formatter.format(env)
        assert {"text/plain", "text/html", "text/markdown"} <= set(data)
        assert "application/json" not in data
        assert data["application/vnd.qoder.environment+json"] == SEED
        asked, _ = formatter.format(env, include=["application/json"])
        assert asked["application/json"] == SEED
        listed, _ = formatter.format(page)
        assert "application/json" not in listed
        assert listed["application/vnd.qoder.environment-list+json"]["data"] == [SEED]
    finally:
        InteractiveShell.clear_instance()


def test_the_sdk_fields_read_tolerantly():
    env = Environment(
        {
            "id": "env_x",
            "scope": "organization",
            "config": {
                "type": "self_hosted",
                "networking": {"allow_mcp_servers": True},
                "packages": {"cargo": ["ripgrep"]},
            },
        }
    )
    assert (env.scope, env.config_type, env.self_hosted) == ("organization", "self_hosted", True)
    assert env.allow_mcp_servers
    assert env.packages == {"cargo": ["ripgrep"]}
    odd = Environment(
        {"id": "env_x", "scope": 7, "config": {"networking": {"allow_mcp_servers": 1}}}
    )
    assert (odd.scope, odd.config_type, odd.self_hosted, odd.allow_mcp_servers) == (
        None,
        "cloud",
        False,
        False,
    )


def newest(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as the newest docs return it: every default filled in, even on a runner's."""
    packages = {"type": "packages", **{m: [] for m in ("apt", "pip", "npm", "cargo", "gem", "go")}}
    networking = {
        "type": "limited",
        "allowed_hosts": [],
        "allow_package_managers": False,
        "allow_mcp_servers": False,
    }
    return {
        **config,
        "networking": {**networking, **config.get("networking", {})},
        "packages": {**packages, **config.get("packages", {})},
    }


SDK_CONFIG = {
    "type": "cloud",
    "networking": {"type": "allowlist", "allowed_hosts": ["pypi.org"], "allow_mcp_servers": True},
    "packages": {"pip": ["numpy"], "cargo": ["ripgrep"], "gem": ["rails"], "go": ["x.org/y"]},
    "setup_script": "make",
}
RUNNER_CONFIG = {"type": "self_hosted", "setup_script": "make"}


@pytest.mark.parametrize("config", [SDK_CONFIG, RUNNER_CONFIG], ids=["sdk", "self-hosted"])
@pytest.mark.parametrize("shape", ["as-sent", "newest"])
def test_to_spec_keeps_every_field_in_every_shape(config, shape):
    sent = {"name": "n", "description": "d", "scope": "account", "config": config}
    returned = {"id": "env_x", **sent, "config": newest(config) if shape == "newest" else config}
    env = Environment(returned)
    spec = env.to_spec()
    assert spec.body() == sent
    assert spec.problems() == []
    assert env.matches(sent)
    assert not env.matches({**sent, "scope": "organization"})


def test_matches_reads_limited_networking_as_the_default_it_is():
    env = Environment({"id": "env_x", "name": "n", "config": newest({"type": "cloud"})})
    assert env.matches({"name": "n", "config": {"type": "cloud"}})
    assert env.matches(
        {"name": "n", "config": {"type": "cloud", "networking": {"type": "limited"}}}
    )
    assert not env.matches({"name": "n", "config": {"type": "self_hosted"}})
    assert not env.matches(
        {"name": "n", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}
    )


@pytest.mark.parametrize(
    "data",
    [
        {"id": "env_x"},
        {"id": "env_x", "config": "cloud", "metadata": [], "name": None, "scope": None},
        {"id": "env_x", "config": {"type": 3, "networking": [], "packages": {"pip": "numpy"}}},
        {"id": "env_x", "config": {"type": "vm", "image": "ubuntu", "networking": {"x": 1}}},
        {"id": "env_x", "config": {"packages": {"type": "other", "brew": ["x"], "apt": [1, "a"]}}},
        {"id": "env_x", "scope": "team", "metadata": {"n": 5, "a=b": "c"}},
    ],
)
def test_to_spec_never_raises(data):
    spec = Environment(data).to_spec()
    spec.problems()  # what breaks a rule is kept, to be reported, never raised
    assert Environment(data).data == data  # nothing dropped from the environment itself
