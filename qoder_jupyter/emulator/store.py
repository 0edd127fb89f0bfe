"""Persistence in SQLite: environments and recorded idempotent responses.

One connection (``:memory:`` by default, or a file so data survives a restart) guarded by one
re-entrant lock. :meth:`Store.atomic` holds that lock for a whole check-and-act sequence inside one
transaction, which is what makes name uniqueness and idempotency keys race-free.

Tokens are never stored: idempotency records are keyed by a SHA-256 digest of the token (and
workspace). Every environment belongs to one workspace (``""`` is the default one); the look-ups
that the API makes take the workspace, so one workspace never sees another's environments.

Schema versions: 1 had no workspaces and no ``scope``; opening such a file adds both columns, and
every environment in it is in the default workspace, without a scope.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .validation import ListQuery

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS environments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    config TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    archived INTEGER,
    in_use INTEGER NOT NULL DEFAULT 0,
    workspace TEXT NOT NULL DEFAULT '',
    scope TEXT
);
CREATE INDEX IF NOT EXISTS environments_live_names_by_workspace
    ON environments (workspace, name_key) WHERE archived IS NULL;
CREATE INDEX IF NOT EXISTS environments_by_workspace ON environments (workspace, id);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
"""
# The columns of an EnvironmentRecord, in its order (name_key is derived from the name).
_COLUMNS = (
    "id",
    "name",
    "description",
    "config",
    "metadata",
    "created",
    "updated",
    "archived",
    "in_use",
    "workspace",
    "scope",
)
# Built from the constant names above, never from input (hence the noqa).
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM environments "  # noqa: S608
_INSERT = (
    f"INSERT INTO environments ({', '.join(_COLUMNS)}, name_key) "  # noqa: S608
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
)
_ASSIGNMENTS = ", ".join(f"{column} = ?" for column in (*_COLUMNS[1:], "name_key"))
_UPDATE = f"UPDATE environments SET {_ASSIGNMENTS} WHERE id = ?"  # noqa: S608


def name_key(name: str) -> str:
    """Names collide when equal after trimming surrounding whitespace (case matters)."""
    return name.strip()


@dataclass(frozen=True)
class EnvironmentRecord:
    id: str
    name: str
    description: str
    config: dict[str, Any]
    metadata: dict[str, str]
    created: int  # microseconds since the Unix epoch
    updated: int
    archived: int | None = None
    in_use: bool = False
    workspace: str = ""  # "" is the default workspace
    scope: str | None = None  # None: never sent


@dataclass(frozen=True)
class RecordedResponse:
    fingerprint: str
    status: int
    body: bytes


class Store:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.RLock()
        target = os.fspath(path) if path is not None else ":memory:"
        # Autocommit mode: transactions are explicit, in atomic().
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if target != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        self._last_purge = 0.0

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version not in (0, 1, _SCHEMA_VERSION):
            raise RuntimeError(
                f"the database has schema version {version}; this emulator reads versions 1 to "
                f"{_SCHEMA_VERSION}: use a newer qoder-jupyter, or another --db file"
            )
        if version == 1:  # before workspaces: everything goes to the default workspace
            self._db.execute(
                "ALTER TABLE environments ADD COLUMN workspace TEXT NOT NULL DEFAULT ''"
            )
            self._db.execute("ALTER TABLE environments ADD COLUMN scope TEXT")
            self._db.execute("DROP INDEX IF EXISTS environments_live_names")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the lock and one transaction: committed on success, rolled back on an exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- environments -----------------------------------------------------------------------------

    def get(self, env_id: str, workspace: str) -> EnvironmentRecord | None:
        return self._one(_SELECT + "WHERE id = ? AND workspace = ?", (env_id, workspace))

    def find(self, env_id: str) -> EnvironmentRecord | None:
        """The environment with this id, whatever its workspace (for the in-process hooks)."""
        return self._one(_SELECT + "WHERE id = ?", (env_id,))

    def live_with_name(
        self, name: str, workspace: str, *, other_than: str = ""
    ) -> EnvironmentRecord | None:
        """A non-archived environment of ``workspace`` with this name, other than ``other_than``."""
        return self._one(
            _SELECT + "WHERE workspace = ? AND name_key = ? AND archived IS NULL AND id != ? "
            "LIMIT 1",
            (workspace, name_key(name), other_than),
        )

    def all(self) -> list[EnvironmentRecord]:
        return self._many(_SELECT + "ORDER BY id", ())

    def page(self, query: ListQuery, workspace: str) -> tuple[list[EnvironmentRecord], bool]:
        """One page of ``workspace``, newest first, and whether more lie beyond it in the direction
        of travel."""
        clauses: list[str] = ["workspace = ?"]
        params: list[Any] = [workspace]
        if not query.include_archived:
            clauses.append("archived IS NULL")
        if query.created_gte is not None:
            clauses.append("created >= ?")
            params.append(query.created_gte)
        if query.created_lte is not None:
            clauses.append("created <= ?")
            params.append(query.created_lte)
        backwards = query.cursor is not None and query.cursor.direction == "before"
        if query.cursor is not None:
            clauses.append("id > ?" if backwards else "id < ?")
            params.append(query.cursor.env_id)
        where = f"WHERE {' AND '.join(clauses)}"
        order = "ASC" if backwards else "DESC"
        sql = _SELECT + where + f" ORDER BY id {order} LIMIT ?"
        records = self._many(sql, (*params, query.limit + 1))
        has_more = len(records) > query.limit
        records = records[: query.limit]
        return (records[::-1] if backwards else records), has_more

    def newest(self) -> tuple[str | None, int]:
        """The largest id and latest timestamp stored: ids keep increasing after a restart."""
        with self._lock:
            row = self._db.execute("SELECT MAX(id), MAX(updated) FROM environments").fetchone()
        return row[0], row[1] or 0

    def insert(self, record: EnvironmentRecord) -> None:
        with self._lock:
            self._db.execute(_INSERT, (*self._row(record), name_key(record.name)))

    def replace(self, record: EnvironmentRecord) -> None:
        with self._lock:
            self._db.execute(_UPDATE, (*self._row(record)[1:], name_key(record.name), record.id))

    def delete(self, env_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM environments WHERE id = ?", (env_id,))

    # --- idempotency ------------------------------------------------------------------------------

    def recall(self, scope: str, key: str, now: float) -> RecordedResponse | None:
        """The response recorded under (scope, key) within the last 24 hours."""
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, status, body FROM idempotency "
                "WHERE scope = ? AND key = ? AND created > ?",
                (scope, key, now - IDEMPOTENCY_TTL_SECONDS),
            ).fetchone()
        return None if row is None else RecordedResponse(row[0], row[1], bytes(row[2]))

    def remember(self, scope: str, key: str, response: RecordedResponse, now: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
                (scope, key, response.fingerprint, response.status, response.body, now),
            )
            if now - self._last_purge > 60:  # expired records only cost space: purge now and then
                self._last_purge = now
                self._db.execute(
                    "DELETE FROM idempotency WHERE created <= ?", (now - IDEMPOTENCY_TTL_SECONDS,)
                )

    # --- rows -------------------------------------------------------------------------------------

    def _one(self, sql: str, params: tuple[Any, ...]) -> EnvironmentRecord | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return None if row is None else _record(row)

    def _many(self, sql: str, params: tuple[Any, ...]) -> list[EnvironmentRecord]:
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    @staticmethod
    def _row(record: EnvironmentRecord) -> tuple[Any, ...]:
        return (
            record.id,
            record.name,
            record.description,
            json.dumps(record.config, ensure_ascii=False),
            json.dumps(record.metadata, ensure_ascii=False),
            record.created,
            record.updated,
            record.archived,
            int(record.in_use),
            record.workspace,
            record.scope,
        )


def _record(row: tuple[Any, ...]) -> EnvironmentRecord:
    fields = dict(zip(_COLUMNS, row, strict=True))
    fields.update(
        config=json.loads(fields["config"]),
        metadata=json.loads(fields["metadata"]),
        in_use=bool(fields["in_use"]),
    )
    return EnvironmentRecord(**fields)
