"""Package lists from what a user already has: their files (requirements, pyproject.toml,
environment.yml, package.json, apt.txt) and the kernel they are running."""

from .files import detect_kind, read_packages
from .kernel import from_kernel
from .report import Left, Note, PackageImport

__all__ = ["Left", "Note", "PackageImport", "detect_kind", "from_kernel", "read_packages"]
