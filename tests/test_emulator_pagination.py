"""Listing environments (contract §2): newest first, limits, cursors, filters and empty pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from qoder_jupyter.emulator import Emulator

from .test_emulator_helpers import assert_error, create, loopback_client

ITEMS = 45


@dataclass(frozen=True)
class Listing:
    api: httpx.Client
    ids: list[str]  # newest first: the order a list returns


def fill(api: httpx.Client, count: int) -> list[str]:
    """Create ``count`` environments; their ids, newest first."""
    return [create(api, f"env-{index:02d}")["id"] for index in range(count)][::-1]


@pytest.fixture(scope="module")
def listing() -> Iterator[Listing]:
    """One emulator holding ITEMS environments, shared by the tests that only read."""
    with Emulator() as emulator:
        headers = {"Authorization": f"Bearer {emulator.token}"}
        with loopback_client(base_url=emulator.base_url, headers=headers) as api:
            yield Listing(api, fill(api, ITEMS))


@pytest.fixture
def ids(listing: Listing) -> list[str]:
    return listing.ids


@pytest.fixture
def reader(listing: Listing) -> httpx.Client:
    return listing.api


def page(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get("/environments", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_default_page_is_the_20_newest(reader: httpx.Client, ids: list[str]) -> None:
    result = page(reader)

    assert [env["id"] for env in result["data"]] == ids[:20]
    assert (result["first_id"], result["last_id"]) == (ids[0], ids[19])
    assert result["has_more"] is True
    assert result["next_page"]


@pytest.mark.parametrize("limit", [1, 7, 45, 100])
def test_limit_bounds_the_page(reader: httpx.Client, ids: list[str], limit: int) -> None:
    result = page(reader, limit=limit)

    assert [env["id"] for env in result["data"]] == ids[:limit]
    assert result["has_more"] is (limit < ITEMS)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "1e2"])
def test_limit_out_of_bounds_is_400(reader: httpx.Client, limit: str) -> None:
    response = reader.get("/environments", params={"limit": limit})

    assert_error(response, 400, "invalid_request_error", "limit")


def test_walk_with_after_id_sees_every_item_once(reader: httpx.Client, ids: list[str]) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    while True:
        result = page(reader, **params)
        seen += [env["id"] for env in result["data"]]
        if not result["has_more"]:
            break
        params["after_id"] = result["last_id"]

    assert seen == ids


def test_walk_with_next_page_sees_every_item_once(reader: httpx.Client, ids: list[str]) -> None:
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 10}
    while True:
        result = page(reader, **params)
        pages += 1
        seen += [env["id"] for env in result["data"]]
        if result["next_page"] is None:
            assert result["has_more"] is False
            break
        params["page"] = result["next_page"]

    assert seen == ids
    assert pages == 5


def test_walk_with_before_id_goes_towards_newer_items(reader: httpx.Client, ids: list[str]) -> None:
    oldest = ids[-1]
    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": 10, "before_id": oldest}
    while True:
        result = page(reader, **params)
        pages.append([env["id"] for env in result["data"]])
        if not result["has_more"]:
            break
        params["before_id"] = result["first_id"]

    assert pages[0] == ids[-11:-1]  # the ten just newer than the oldest, newest first
    assert [env_id for chunk in reversed(pages) for env_id in chunk] == ids[:-1]


def test_next_page_after_before_id_keeps_going_newer(reader: httpx.Client, ids: list[str]) -> None:
    first = page(reader, limit=10, before_id=ids[-1])

    second = page(reader, limit=10, page=first["next_page"])

    assert [env["id"] for env in second["data"]] == ids[-21:-11]


@pytest.mark.parametrize(
    "cursors",
    [("after_id", "before_id"), ("after_id", "page"), ("before_id", "page")],
)
def test_more_than_one_cursor_is_400(
    reader: httpx.Client, ids: list[str], cursors: tuple[str, str]
) -> None:
    token = page(reader, limit=1)["next_page"]
    values = {"after_id": ids[10], "before_id": ids[20], "page": token}

    response = reader.get("/environments", params={name: values[name] for name in cursors})

    assert_error(response, 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("after_id", "nope"),
        ("before_id", "env_123"),
        ("page", "garbage"),
        ("page", "pg_!!!"),
        ("page", "pg_eDplbnZfMTIz"),  # well encoded, but not a position
    ],
)
def test_malformed_cursors_are_400(reader: httpx.Client, param: str, value: str) -> None:
    response = reader.get("/environments", params={param: value})

    assert_error(response, 400, "invalid_request_error", param)


def test_a_cursor_that_no_longer_exists_still_works(api: httpx.Client) -> None:
    ids = fill(api, 12)
    api.delete(f"/environments/{ids[5]}")

    result = page(api, limit=3, after_id=ids[5])

    assert [env["id"] for env in result["data"]] == ids[6:9]


def test_a_parameter_given_twice_is_400(reader: httpx.Client) -> None:
    response = reader.get("/environments", params=[("limit", "1"), ("limit", "2")])

    assert_error(response, 400, "invalid_request_error", "limit")


def test_unknown_parameters_are_ignored(reader: httpx.Client, ids: list[str]) -> None:
    assert page(reader, order="asc", limit=2)["first_id"] == ids[0]


# --- archived ones --------------------------------------------------------------------------------


@pytest.fixture
def own_ids(api: httpx.Client) -> list[str]:
    return fill(api, 12)


@pytest.fixture
def archived(api: httpx.Client, own_ids: list[str]) -> list[str]:
    chosen = [own_ids[0], own_ids[5], own_ids[11]]
    for env_id in chosen:
        assert api.post(f"/environments/{env_id}/archive").status_code == 200
    return chosen


@pytest.mark.parametrize(
    ("value", "included"),
    [(None, False), ("false", False), ("0", False), ("true", True), ("1", True)],
)
def test_include_archived(
    api: httpx.Client,
    own_ids: list[str],
    archived: list[str],
    value: str | None,
    included: bool,
) -> None:
    params = {"limit": 100} | ({"include_archived": value} if value is not None else {})

    listed = [env["id"] for env in page(api, **params)["data"]]

    expected = own_ids if included else [env_id for env_id in own_ids if env_id not in archived]
    assert listed == expected


@pytest.mark.parametrize("value", ["yes", "True", "2", ""])
def test_include_archived_takes_only_true_false_1_0(reader: httpx.Client, value: str) -> None:
    response = reader.get("/environments", params={"include_archived": value})

    assert_error(response, 400, "invalid_request_error", "include_archived")


def test_pages_skip_archived_ones_without_losing_others(
    api: httpx.Client, own_ids: list[str], archived: list[str]
) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        result = page(api, **params)
        seen += [env["id"] for env in result["data"]]
        if result["next_page"] is None:
            break
        params["page"] = result["next_page"]

    assert seen == [env_id for env_id in own_ids if env_id not in archived]


# --- created_at filters ---------------------------------------------------------------------------


def test_created_at_bounds_are_inclusive(reader: httpx.Client, ids: list[str]) -> None:
    everything = page(reader, limit=100)["data"]
    newer_bound, older_bound = everything[10]["created_at"], everything[30]["created_at"]

    since = page(reader, limit=100, **{"created_at[gte]": older_bound})["data"]
    until = page(reader, limit=100, **{"created_at[lte]": newer_bound})["data"]
    between = page(
        reader, limit=100, **{"created_at[gte]": older_bound, "created_at[lte]": newer_bound}
    )["data"]

    assert [env["id"] for env in since] == ids[:31]
    assert [env["id"] for env in until] == ids[10:]
    assert [env["id"] for env in between] == ids[10:31]


@pytest.mark.parametrize(
    "bound",
    ["2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00", "2000-01-01t00:00:00.5z"],
)
def test_created_at_accepts_rfc3339_forms(reader: httpx.Client, ids: list[str], bound: str) -> None:
    assert page(reader, limit=100, **{"created_at[gte]": bound})["first_id"] == ids[0]


def test_a_plus_offset_that_became_a_space_is_understood(
    reader: httpx.Client, ids: list[str]
) -> None:
    # A client that forgets to escape "+" sends it raw; form decoding turns it into a space.
    response = reader.get("/environments?created_at[lte]=2000-01-01T00:00:00+00:00")

    assert response.status_code == 200
    assert response.json()["data"] == []


@pytest.mark.parametrize(
    "bound",
    [
        "yesterday",
        "2026-05-18",
        "2026-05-18T15:28:07",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-05-18T25:00:00Z",
        "2026-05-18T15:28:07+24:00",
        "1778112487",
    ],
)
@pytest.mark.parametrize("param", ["created_at[gte]", "created_at[lte]"])
def test_bad_created_at_is_400(reader: httpx.Client, param: str, bound: str) -> None:
    response = reader.get("/environments", params={param: bound})

    assert_error(response, 400, "invalid_request_error", param)


def test_an_empty_page_has_null_ids(reader: httpx.Client, ids: list[str]) -> None:
    result = page(reader, **{"created_at[gte]": "2999-01-01T00:00:00Z"})

    assert result == {
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
        "next_page": None,
    }


def test_an_empty_emulator_lists_nothing(api: httpx.Client) -> None:
    assert page(api)["data"] == []
