"""Whatever a server answers (any status, any JSON or bytes, any headers), every operation of the
client's core ends in its result or in a typed :class:`~qoder_jupyter.errors.QoderError`: never
an exception from json, httpx or Python itself. The core is I/O-free, so this drives its flows
directly with generated answers; tests/test_hostile.py sends the same kinds of answers over
real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoder_jupyter import _core
from qoder_jupyter._core import Request, Response, RetryPolicy, Sleep, TransportFailure
from qoder_jupyter.environment import DeletedEnvironment, Environment, EnvironmentPage
from qoder_jupyter.errors import QoderError

EXAMPLES = int(os.environ.get("QODER_FUZZ_EXAMPLES", "300"))
POLICY = RetryPolicy(max_retries=2, backoff=0.0)
ENV_ID = "env_" + "0" * 32

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Environment-like objects, so the deeper readers are reached and not only the first check.
environment_like = st.fixed_dictionaries(
    {"id": st.one_of(st.just(ENV_ID), json_values)},
    optional={
        "name": json_values,
        "config": json_values,
        "metadata": json_values,
        "created_at": json_values,
        "archived_at": json_values,
        "status": json_values,
    },
)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    environment_like.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"data": st.lists(environment_like, max_size=3)},
        optional={"has_more": json_values, "next_page": json_values, "last_id": json_values},
    ).map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.just(b"[" * 50_000),
)
headers = st.dictionaries(
    st.sampled_from(["retry-after", "content-type", "location", "x-request-id"]),
    st.text(max_size=40),
    max_size=3,
)
answers = st.one_of(
    st.builds(
        Response,
        st.sampled_from([200, 201, 204, 301, 400, 401, 404, 409, 429, 500, 503, 599]),
        headers,
        bodies,
    ),
    st.builds(
        TransportFailure,
        st.sampled_from(["connect", "timeout", "protocol", "unreadable", "too_large"]),
        st.booleans(),
        st.text(max_size=20),
    ),
)

OPERATIONS: dict[str, Callable[[], _core.Flow[Any]]] = {
    "create": lambda: _core.create_environment(
        {"name": "n", "config": {"type": "cloud"}}, "k", POLICY
    ),
    "list": lambda: _core.list_environments({"limit": "100"}, POLICY),
    "find": lambda: _core.find_by_name("n", POLICY),
    "retrieve": lambda: _core.retrieve_environment(ENV_ID, POLICY),
    "update": lambda: _core.update_environment(ENV_ID, {"name": "n"}, POLICY),
    "archive": lambda: _core.archive_environment(ENV_ID, POLICY),
    "delete": lambda: _core.delete_environment(ENV_ID, POLICY),
}
RESULTS = (Environment, EnvironmentPage, DeletedEnvironment, type(None))


def _drive(flow: _core.Flow[Any], outcomes: list[Any]) -> Any:
    """Run ``flow``, answering its requests with ``outcomes`` in turn (the last one repeated)."""
    step = next(flow)
    answered = 0
    while True:
        if isinstance(step, Sleep):
            reply: Any = None
        else:
            assert isinstance(step, Request)
            reply = outcomes[min(answered, len(outcomes) - 1)]
            answered += 1
            if answered > 200:
                raise AssertionError("the flow never stops asking")
        try:
            step = flow.send(reply)
        except StopIteration as stop:
            return stop.value


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    operation=st.sampled_from(sorted(OPERATIONS)),
    outcomes=st.lists(answers, min_size=1, max_size=6),
)
def test_any_answer_ends_in_a_result_or_a_typed_error(operation, outcomes):
    try:
        result = _drive(OPERATIONS[operation](), outcomes)
    except QoderError:
        return
    assert isinstance(result, RESULTS)


def test_a_create_answered_201_unreadably_and_not_listed_yet_is_outcome_unknown():
    from qoder_jupyter.errors import OutcomeUnknownError

    empty_page = Response(200, {}, b'{"data": [], "has_more": false}')
    flow = _core.create_environment({"name": "n", "config": {"type": "cloud"}}, "key-1", POLICY)
    with pytest.raises(OutcomeUnknownError) as caught:
        _drive(flow, [Response(201, {}, b"\xff\xfe"), empty_page])
    assert caught.value.idempotency_key == "key-1"  # a retry with it replays the 201
