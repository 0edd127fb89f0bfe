"""``make demo``: the seed's example environment, end to end, against the embedded emulator.

Starts the emulator on a free loopback port, shows the request as a curl command, creates the
environment through :class:`~qoder_jupyter.client.Client`, retrieves it, lists the environments and
prints each result. Run it with ``python -m qoder_jupyter.demo``.
"""

from __future__ import annotations

import json

from .client import Client
from .emulator import Emulator
from .environment import Environment
from .spec import EnvironmentSpec


def _section(title: str) -> None:
    print(f"\n== {title} ==")


def _show(environment: Environment) -> None:
    print(json.dumps(environment.to_dict(), indent=2, ensure_ascii=False))


def main() -> None:
    spec = EnvironmentSpec(name="doc-test-env", networking="limited", apt=["curl"])
    with Emulator() as emulator:
        _section(f"Emulator serving the Environments API at {emulator.base_url}")
        print("The request, as the documentation's curl command:\n")
        print(spec.to_curl(emulator.base_url))
        print("\nThe same request as a notebook magic:\n")
        print(spec.to_magic())

        with Client(base_url=emulator.base_url, token=emulator.token) as client:
            _section("Created (POST /environments)")
            created = client.environments.create(spec)
            _show(created)

            _section(f"Retrieved (GET /environments/{created.id})")
            retrieved = client.environments.retrieve(created.id)
            print(repr(retrieved))
            print(f"Identical to the created one: {retrieved == created}")

            _section("Listed (GET /environments)")
            for environment in client.environments.list():
                print(f"{environment.id}  {environment.name:<20} {environment.status}")


if __name__ == "__main__":
    main()
