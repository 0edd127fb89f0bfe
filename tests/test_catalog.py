"""What a manager shows of the loaded environments: search, sort, pages and the selection."""

from __future__ import annotations

import pytest

from qoder_jupyter.catalog import Catalog
from qoder_jupyter.environment import Environment


def _env(index: int, **fields: object) -> Environment:
    data = {
        "id": f"env_{index:04}",
        "name": f"env-{index:02}",
        "config": {"type": "cloud", "networking": {"type": "limited"}},
        "created_at": f"2026-01-{index % 28 + 1:02}T00:00:00Z",
        **fields,
    }
    return Environment(data)


def _catalog(count: int, page_size: int = 5) -> Catalog:
    catalog = Catalog(page_size=page_size)
    catalog.add(_env(i) for i in range(count))
    catalog.complete = True
    return catalog


def _names(catalog: Catalog) -> list[str]:
    return [env.name for env in catalog.view().rows]


def test_pages_keep_the_listing_order_and_say_where_they_are():
    catalog = _catalog(12)
    assert _names(catalog) == ["env-00", "env-01", "env-02", "env-03", "env-04"]
    catalog.page = 2
    view = catalog.view()
    assert [env.name for env in view.rows] == ["env-10", "env-11"]
    assert (view.page, view.pages, view.first) == (2, 3, 11)
    assert view.summary() == "11 to 12 of 12 environments"
    catalog.page = 9  # past the end: the last page
    assert catalog.view().page == 2


def test_search_matches_every_word_in_name_id_metadata_or_packages():
    catalog = _catalog(3)
    catalog.add(
        [
            _env(7, metadata={"team": "Research"}),
            _env(8, config={"type": "cloud", "packages": {"pip": ["pandas>=2"]}}),
        ]
    )
    for search, found in [
        ("research", ["env-07"]),
        ("PANDAS", ["env-08"]),
        ("env_0001", ["env-01"]),
        ("env team", ["env-07"]),  # every word must match
        ("nothing-like-it", []),
    ]:
        catalog.search = search
        assert _names(catalog) == found, search
    assert catalog.view().summary() == "No environment matches (of 5 loaded)"


def test_a_column_sorts_and_the_same_column_again_reverses():
    catalog = _catalog(4, page_size=10)
    catalog.add([_env(9, name="aardvark", config={"packages": {"apt": ["a", "b", "c"]}})])
    catalog.sort_by("name")
    assert _names(catalog)[0] == "aardvark"
    catalog.sort_by("name")
    assert _names(catalog)[-1] == "aardvark"
    catalog.sort_by("packages")
    catalog.sort_by("packages")
    assert _names(catalog)[0] == "aardvark"  # the most packages first
    with pytest.raises(ValueError, match="unknown column 'size'"):
        catalog.sort_by("size")


def test_the_selection_survives_a_search_and_a_reload():
    catalog = _catalog(6)
    catalog.selected = {"env_0001", "env_0004"}
    catalog.search = "env-04"
    assert [env.id for env in catalog.chosen()] == ["env_0004", "env_0001"]  # shown ones first
    catalog.clear()
    assert catalog.selected == {"env_0001", "env_0004"}
    assert catalog.view().summary() == "No environments; loading more…"
    catalog.add([_env(1)])
    catalog.remove(["env_0001"])
    assert catalog.selected == {"env_0004"}


def test_a_new_environment_goes_on_top_and_an_edit_stays_in_place():
    catalog = _catalog(3)
    catalog.add([_env(50)], at_top=True)
    assert _names(catalog)[0] == "env-50"
    catalog.replace(_env(1, name="renamed"))
    assert _names(catalog) == ["env-50", "env-00", "renamed", "env-02"]
