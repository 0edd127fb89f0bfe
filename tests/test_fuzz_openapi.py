"""The emulator fuzzed from its own OpenAPI document with schemathesis, over real HTTP: no 5xx,
every response (status, headers, body) as the document says, schema-valid requests accepted and
schema-invalid ones refused; then stateful runs that chain create, read, update, archive and delete
through the links schemathesis infers.

Bounded for ``make test`` (a few seconds); ``QODER_FUZZ_EXAMPLES`` (``make soak``) turns on the
coverage phase (systematic edge and negative cases) and runs far more examples.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

# schemathesis needs Python 3.11, and the test extra installs it from 3.11 on: below, this module is
# skipped; from 3.11 on, a missing schemathesis fails the import instead of skipping it.
if sys.version_info < (3, 11):
    pytest.importorskip(
        "schemathesis",
        reason="schemathesis needs Python 3.11 or newer: the test extra installs it from 3.11 on",
    )

import requests  # installed with schemathesis
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    positive_data_acceptance,
)

from qoder_jupyter.emulator import Emulator
from qoder_jupyter.emulator.openapi import PYTHON_SPACES, document_bytes

from ._fuzz import LONG

DOCUMENT = json.loads(document_bytes())
# The emulator ignores query parameters it does not know (as most services do; its validation
# module says so), and OpenAPI has no way to say that: without this, the coverage phase sends
# GET /environments?unknown=... and expects a 400.
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {"include-name": "GET /environments", "generation": {"allow-extra-parameters": False}}
        ]
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
HEALTH = list(HealthCheck)

# Without the explicit phase there is no coverage phase: it sends ~1,100 systematic cases (15 s).
STATELESS = settings(
    max_examples=200 if LONG else 25,
    phases=[Phase.explicit, Phase.generate, Phase.shrink] if LONG else [Phase.generate],
    deadline=None,
    suppress_health_check=HEALTH,
)
STATEFUL = settings(
    max_examples=100 if LONG else 15,
    stateful_step_count=10 if LONG else 6,
    phases=[Phase.generate, Phase.shrink],
    deadline=None,
    suppress_health_check=HEALTH,
)


def excluded_checks(label: str) -> list[CheckFunction]:
    """The checks a rule that OpenAPI cannot express would fail, and only where it applies."""
    if label == "GET /environments":
        # At most one of after_id, before_id and page (more is a 400): OpenAPI has no way to say
        # that parameters exclude each other, so a schema-valid query can be refused.
        return [positive_data_acceptance]
    return []


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=0) as running:
        yield running


def call_options(emulator: Emulator, session: requests.Session) -> dict[str, Any]:
    return {
        "base_url": emulator.base_url,
        "session": session,
        "headers": {"Authorization": f"Bearer {emulator.token}"},
    }


def test_the_fuzzed_document_is_the_one_served(emulator, session):
    root = emulator.base_url.rsplit("/api/", 1)[0]
    for url in (f"{root}/openapi.json", f"{emulator.base_url}/openapi.json"):
        assert session.get(url, timeout=10).json() == DOCUMENT


def test_not_blank_means_what_str_strip_means():
    """The document's "not blank" pattern lists exactly the characters the server strips."""
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PYTHON_SPACES


@schema.parametrize()
@STATELESS
def test_every_operation_keeps_to_the_document(case, emulator, session):
    case.call_and_validate(
        **call_options(emulator, session), excluded_checks=excluded_checks(case.operation.label)
    )


def test_stateful_sequences_keep_to_the_document(session):
    machine = schema.as_state_machine()
    with Emulator(seed=0) as emulator:

        class Workflow(machine):  # type: ignore[valid-type, misc]
            def teardown(self) -> None:
                # A fresh, empty emulator for each sequence: state left by one (a name taken, a
                # key used) would make the next behave differently on replay, which hypothesis
                # rejects as a flaky strategy.
                emulator.stop()
                emulator.start()

            def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
                return call_options(emulator, session)

            def validate_response(
                self,
                response: Any,
                case: schemathesis.Case[Any],
                additional_checks: list[CheckFunction] | None = None,
                **kwargs: Any,
            ) -> None:
                # A retried create may replay its idempotency key after the environment was
                # deleted: the replay is the recorded 201 for an id that now answers 404 (keys
                # replay their first answer, as Stripe's do). ensure_resource_availability reads
                # that as "created but missing", so it is left out of these sequences.
                excluded = [*excluded_checks(case.operation.label), ensure_resource_availability]
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=excluded,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )

        Workflow.run(settings=STATEFUL)
