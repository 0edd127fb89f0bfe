"""Where the packages land (contract §8): the sandbox a session runs in, as an importer compares a
user's files and kernel with it. The service documents Ubuntu 22.04 on x86_64 with Python 3.12 and
Node.js 20, and installs the lists when a session's sandbox is prepared."""

from __future__ import annotations

from typing import Final

__all__ = ["MARKER_ENVIRONMENT", "NODE", "PYTHON", "SANDBOX"]

#: How reports name the target.
SANDBOX: Final = "the sandbox (Ubuntu 22.04, x86_64, Python 3.12, Node.js 20)"

#: The sandbox's Python as (major, minor).
PYTHON: Final = (3, 12)

#: The sandbox's Node.js major version.
NODE: Final = 20

#: PEP 508 marker variables as they hold in the sandbox: ``Marker.evaluate(MARKER_ENVIRONMENT)``
#: says whether pip installs a requirement there. (The patch release is not documented: 3.12.0
#: stands for "some 3.12".)
MARKER_ENVIRONMENT: Final[dict[str, str]] = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}
