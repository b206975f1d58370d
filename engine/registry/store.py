"""The registry file: one DuckDB database, its tables, the hash chain every row carries, and
opening it safely (not a registry, a newer schema, another process writing).

Every table is append-only. Each row's ``row_hash`` chains it to the row before it in its
chain: a SHA-256 over that row's hash and the row's content, by the registry's hash scheme
(``engine.registry.hashing``; fixed when the registry is created, in ``meta``). A chain runs
per table and round, ordered by ``seq``; ``rounds`` and ``seals`` each form one chain over the
whole registry, so a round removed whole is caught too. ``blobs`` (the rulebook files, by
content) carry no chain: their key is the SHA-256 of their content.

Schema version 2 added hash scheme 2 (one SHA-256 a row); a registry of version 1 keeps
scheme 1, for reading and for recording, so that its chains stay whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import RegistryError

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "giamngheo.registry"
SCHEMA_VERSION = 2
WHOLE = ("rounds", "seals")  # tables chained over the whole registry, not per round

_SQL_TYPE = {"bool": "BOOLEAN", "int": "DOUBLE", "number": "DOUBLE", "code": "VARCHAR",
             "codes": "VARCHAR", "text": "VARCHAR", "date": "DATE"}  # fmt: skip


def _input_columns(table: str) -> str:
    from household_models.schema import FIELD_SPECS  # only when a registry is created

    specs = FIELD_SPECS["household" if table == "households" else "member"]
    skip = {"household_id"} | ({"member_no"} if table == "members" else set())
    return ", ".join(f'"{n}" {_SQL_TYPE[s.kind]}' for n, s in specs.items()
                     if not s.personal and n not in skip)  # fmt: skip


# Each table's columns before ``row_hash`` (which every table but meta and blobs ends with);
# ``{inputs}``: the survey's non-personal columns (``_input_columns``).
TABLES: dict[str, str] = {
    "rounds": "seq BIGINT, round VARCHAR, as_of DATE, created_at TIMESTAMP, os_user VARCHAR",
    "recordings": "round VARCHAR, seq BIGINT, recorded_at TIMESTAMP, os_user VARCHAR, "
                  "package_version VARCHAR, rulebook_version VARCHAR, standard VARCHAR, "
                  "rules VARCHAR, inputs VARCHAR, options VARCHAR, households BIGINT, "
                  "tails VARCHAR",
    "assessments": "round VARCHAR, seq BIGINT, recording BIGINT, household_id VARCHAR, "
                   "supersedes BIGINT, district VARCHAR, commune VARCHAR, village VARCHAR, "
                   "class VARCHAR, deprivation_count BIGINT, deprived VARCHAR, unknown VARCHAR, "
                   "statuses VARCHAR, recommendations VARCHAR, missing VARCHAR, error VARCHAR, "
                   "recognised_class VARCHAR, decision_no VARCHAR, decision_date DATE, "
                   "previous_status VARCHAR, left_list_on DATE, flow VARCHAR, persons BIGINT, "
                   "review_kind VARCHAR",
    "households": "round VARCHAR, seq BIGINT, household_id VARCHAR, {inputs}",
    "members": "round VARCHAR, seq BIGINT, assessment BIGINT, household_id VARCHAR, "
               "member_no DOUBLE, {inputs}",
    "personal": "round VARCHAR, seq BIGINT, assessment BIGINT, household_id VARCHAR, "
                "member_no DOUBLE, name VARCHAR, id_number VARCHAR",
    "recommendations": "round VARCHAR, seq BIGINT, assessment BIGINT, household_id VARCHAR, "
                       "action_id VARCHAR, member_no DOUBLE, department_code VARCHAR, "
                       "amount_vnd DOUBLE, first_year_vnd DOUBLE",
    "input_errors": "round VARCHAR, seq BIGINT, recording BIGINT, household_id VARCHAR, "
                    "file VARCHAR, sheet VARCHAR, \"row\" BIGINT, \"column\" VARCHAR, "
                    "value VARCHAR, member_no VARCHAR, code VARCHAR, message_vi VARCHAR, "
                    "message_en VARCHAR",
    "events": "round VARCHAR, seq BIGINT, recording BIGINT, household_id VARCHAR, kind VARCHAR, "
              "on_date DATE, related_household_id VARCHAR, note VARCHAR",
    "support": "round VARCHAR, seq BIGINT, household_id VARCHAR, member_no DOUBLE, "
               "action_id VARCHAR, delivered_on DATE, amount_vnd DOUBLE, programme VARCHAR, "
               "decision_no VARCHAR, recorded_at TIMESTAMP, source VARCHAR",
    "traces": "round VARCHAR, seq BIGINT, assessment BIGINT, household_id VARCHAR, "
              "trace_sha256 VARCHAR, recorded_at TIMESTAMP",
    "seals": "seq BIGINT, round VARCHAR, closed_at TIMESTAMP, os_user VARCHAR, root_hash VARCHAR",
}  # fmt: skip
ROUND_TABLES = [t for t in TABLES if t not in WHOLE]


def now() -> dt.datetime:
    """The time a row is written: UTC, to the second (stored without a zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Registry:
    """An open registry file (``open_registry``); ``write`` is one transaction.

    ``append`` hands its rows to one background thread that inserts them in the order given,
    so that the next table's hashes are computed while DuckDB writes (DuckDB releases the
    interpreter while it works); every other use of the connection first waits for every
    insert handed over. ``append_when`` appends rows staged by another process, in that
    thread, once they are ready."""

    def __init__(self, con: Any, path: Path, writable: bool, schema_version: int,
                 hash_scheme: int) -> None:  # fmt: skip
        self._con = con
        self.path = path
        self.writable = writable
        self.schema_version = schema_version
        self.hash_scheme = hash_scheme  # the scheme of every chain in the file
        self._pending: list[Future[Any]] = []  # handed to the inserting thread, in order
        self._open = False  # a transaction is under way (``begin``)
        self._pool: ThreadPoolExecutor | None = None
        self._schemas: dict[str, pa.Schema] = {}
        self._tails: dict[tuple[str, str | None], tuple[int, str]] = {}

    @property
    def con(self) -> Any:
        """The DuckDB connection, once the insert under way (if any) is done."""
        self._settle()
        return self._con

    def _settle(self) -> None:
        """Wait for every insert handed over; the first that failed raises here."""
        pending, self._pending = self._pending, []
        failed: BaseException | None = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # the others still end before it is raised
                failed = failed or exc
        if failed is not None:
            raise failed

    def close(self) -> None:
        try:
            self.rollback()
            self._settle()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            self._con.close()

    def query(self, sql: str, *params: Any) -> pa.Table:
        """The rows of a query as an Arrow table."""
        relation = self.con.sql(sql, params=list(params) or None)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # 2.x / 1.x
        return fetch()

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()  # type: ignore[no-any-return]

    def records(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """The rows of a query as dicts (no Arrow: for the small answers of the queries)."""
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def schema(self, table: str) -> pa.Schema:
        if table not in self._schemas:
            self._schemas[table] = self.query(f"SELECT * FROM {table} LIMIT 0").schema
        return self._schemas[table]

    def prepare(self, round_name: str) -> None:
        """Read every table's schema and every chain's tail for a round's recording up front,
        so that no append waits for the insert before it to find them."""
        for table in TABLES:
            self.schema(table)
        parts = [f"(SELECT '{t}' AS t, seq, row_hash FROM {t} WHERE round = $1 ORDER BY seq DESC "
                 "LIMIT 1)" for t in TABLES if t not in WHOLE]  # fmt: skip
        found = {t: (int(s), str(h)) for t, s, h in self.rows(" UNION ALL ".join(parts),
                                                                round_name)}  # fmt: skip
        for table in TABLES:
            if table not in WHOLE:
                self._tails.setdefault((table, round_name), found.get(table, (0, "")))

    def tail(self, table: str, round_name: str | None) -> tuple[int, str]:
        """The last ``seq`` and ``row_hash`` of a chain (0 and "" for an empty one)."""
        key = (table, None if table in WHOLE else round_name)
        if key in self._tails:
            return self._tails[key]
        if table in WHOLE or round_name is None:
            found = self.rows(f"SELECT seq, row_hash FROM {table} ORDER BY seq DESC LIMIT 1")
        else:
            found = self.rows(f"SELECT seq, row_hash FROM {table} WHERE round = ? "
                              "ORDER BY seq DESC LIMIT 1", round_name)  # fmt: skip
        return (int(found[0][0]), str(found[0][1])) if found else (0, "")

    def append(self, table: str, columns: dict[str, Any], round_name: str | None) -> int:
        """Append rows (``columns``: name -> values or array, ``seq`` left out) to a chain;
        returns the first ``seq`` given. Call inside ``write``."""
        from engine.registry.hashing import stage

        assert self.writable
        n = len(next(iter(columns.values()))) if columns else 0
        if n == 0:
            return 0
        last, previous = self.tail(table, round_name)
        staged = stage(self.schema(table), columns, None if table in WHOLE else round_name, last,
                       previous, self.hash_scheme)  # fmt: skip
        return self.append_staged(table, staged, round_name)

    def append_staged(self, table: str, staged: pa.Table, round_name: str | None) -> int:
        """Append rows already staged (``hashing.stage``) after this chain's tail; returns the
        first ``seq``. The insert runs in the background (see the class's docstring)."""
        assert self.writable
        if staged.num_rows == 0:
            return 0
        key = (table, None if table in WHOLE else round_name)
        last = self.tail(table, round_name)[0]
        moved = _tail_after(table, staged, last)
        self._later(self._insert, table, staged)
        self._tails[key] = moved
        return last + 1

    def append_when(self, load: Callable[[], dict[str, pa.Table] | None],
                    round_name: str) -> Future[bool]:  # fmt: skip
        """Append the tables ``load`` gives (name -> rows staged after that chain's tail as
        ``tail`` gives it now), in the inserting thread once ``load`` returns (it may wait for
        another process), inside a transaction (begun here if none is). The future's result:
        whether they were appended (False: ``load`` gave None and nothing was appended). The
        caller waits for it before it uses those chains again."""
        assert self.writable
        self.begin()
        tails = {t: self.tail(t, round_name)[0] for t in TABLES if t not in WHOLE}

        def task() -> bool:
            staged = load()
            if staged is None:
                return False
            for table, rows in staged.items():
                if rows.num_rows:
                    moved = _tail_after(table, rows, tails[table])
                    self._insert(table, rows)
                    self._tails[(table, round_name)] = moved
            return True

        return self._later(task)

    def _later(self, task: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``task`` in the inserting thread, after every task handed over before it."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="registry-insert")
        future = self._pool.submit(task, *args)
        self._pending.append(future)
        return future

    def _insert(self, table: str, staged: pa.Table) -> None:
        self._con.register("_staged", staged)
        try:
            self._con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _staged")
        finally:
            self._con.unregister("_staged")

    def begin(self) -> None:
        """Begin the transaction ``write`` ends, unless one is under way."""
        if not self._open:
            self.con.execute("BEGIN TRANSACTION")
            self._open = True

    def rollback(self) -> None:
        """End the transaction under way (if any) with nothing written."""
        if not self._open:
            return
        with suppress(BaseException):  # the insert under way ends before the rollback
            self._settle()
        self._tails.clear()
        self._open = False
        self._con.execute("ROLLBACK")

    def commit(self) -> None:
        """End the transaction under way with everything in it written."""
        self._settle()
        self._open = False
        self._con.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Registry]:
        """One transaction, begun here or before (``begin``): everything or nothing (a crash
        inside leaves the file as before)."""
        self.begin()
        try:
            yield self
            self._settle()
        except BaseException:
            self.rollback()
            raise
        self.commit()


def _tail_after(table: str, staged: pa.Table, last: int) -> tuple[int, str]:
    """A chain's tail once ``staged`` (rows staged after ``last``) is appended."""
    begins = staged.column("seq")[0].as_py()
    if begins != last + 1:  # pragma: no cover - a bug, never the user's input
        raise AssertionError(f"{table}: staged from seq {begins}, the chain is at {last}")
    return last + staged.num_rows, staged.column("row_hash")[-1].as_py()


def _create(con: Any) -> None:
    from engine.registry.hashing import NEWEST

    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("CREATE TABLE blobs (sha256 VARCHAR PRIMARY KEY, size BIGINT, content BLOB)")
    for name, columns in TABLES.items():
        if "{inputs}" in columns:
            columns = columns.replace("{inputs}", _input_columns(name))
        con.execute(f"CREATE TABLE {name} ({columns}, row_hash VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('format', ?), ('schema_version', ?), ('hash_scheme', ?)",
                [FORMAT, str(SCHEMA_VERSION), str(NEWEST)])  # fmt: skip


def open_registry(path: Path, *, write: bool = False, create: bool = False) -> Registry:
    """Open a registry file; with ``create``, a missing file becomes an empty registry.
    Refused with a ``RegistryError``: a missing file (unless ``create``), a file that is not a
    giamngheo registry, one of a newer schema, one another process is writing."""
    import duckdb

    exists = path.exists()
    if not exists and not create:
        raise RegistryError("registry_missing", path=path)
    if exists and not path.is_file():
        raise RegistryError("registry_not_registry", path=path, detail="not a file")
    if not exists:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from engine.files import failed_output

            raise failed_output(path, exc) from None
    try:
        con = duckdb.connect(str(path), read_only=exists and not write)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise RegistryError("registry_locked", path=path) from None
        raise RegistryError("registry_not_registry", path=path, detail=text[:200]) from None
    except duckdb.Error as exc:
        raise RegistryError("registry_not_registry", path=path, detail=str(exc)[:200]) from None
    try:
        if not exists:
            _create(con)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.Error:
        con.close()
        raise RegistryError("registry_not_registry", path=path,
                            detail="no giamngheo meta table") from None  # fmt: skip
    if meta.get("format") != FORMAT:
        con.close()
        raise RegistryError("registry_not_registry", path=path, detail=f"format {meta.get('format')!r}")
    version = int(meta.get("schema_version", "0") or 0)
    if version > SCHEMA_VERSION:
        con.close()
        raise RegistryError("registry_newer", path=path, found=version, known=SCHEMA_VERSION)
    scheme = meta.get("hash_scheme", "1")
    if scheme not in ("1", "2"):
        con.close()
        raise RegistryError("registry_not_registry", path=path, detail=f"hash scheme {scheme!r}")
    return Registry(con, path, write or not exists, version, int(scheme))
