"""A table of texts, JSON metadata and embeddings, searched through an
hnswmm index.

    store = VectorStore(conn, "docs", dim=384, metric="cosine")
    store.create()
    ids = store.add(embeddings, texts, metadata)            # binary COPY
    store.upsert([7, 8], two_embeddings, ["new", "texts"])  # insert or replace by id
    store.get([7, 8]); store.delete([7])
    store.create_index(m=16, ef_construction=64)
    for hit in store.search(query, k=5, filter={"lang": "en", "year": {"$gte": 2020}}):
        print(hit.id, hit.distance, hit.text)

    store = VectorStore.open(conn, "docs")   # dimension and metric from the table

`AsyncVectorStore` is the same over an AsyncConnection.

- A store checks an existing table the first time it touches it: the
  columns, the dimension, and the operator class of its hnswmm index must
  be the store's, else StoreMismatch (and the table is left as it is).
- `search` is one statement, so one round trip on an autocommit
  connection: the beam width is set inside it (an InitPlan that calls
  set_config(..., true) before the index scan starts), not by extra
  statements.
- Writing methods run in a transaction of their own (a savepoint inside
  one the caller opened), so an `add` or `upsert` is all or nothing.
- Identifiers are quoted with psycopg.sql and values are always sent as
  parameters.
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, AsyncContextManager, ContextManager, Iterator, Mapping, Sequence

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .adapters import VectorType, register_vector, register_vector_async
from .binary_copy import client_errors_first
from .f32 import advance_ids_sql, load_f32, load_f32_async
from .filters import CompiledFilter, compile_filter
from .progress import Progress
from .vector import Array, Floats, InvalidVector, MAX_DIM, as_matrix, as_vector

PROGRESS_MIN_ROWS = 50_000  # add() shows progress from this many rows on
_PROGRESS_STEP = 2_000
_MAX_EF_SEARCH = 1000
_DEFAULT_EF_SEARCH = 40  # the server's default of hnswmm.ef_search
QUANTIZATIONS = ("none", "sq8", "binary")  # the index option's values
_EXPLAIN = sql.SQL("EXPLAIN (COSTS OFF) ")
_BIGINT, _TEXT, _JSONB = 20, 25, 3802  # type oids fixed in every PostgreSQL

# An existing table: its columns (name, type oid, typmod: a vector's
# dimensions), then its hnswmm indexes on `embedding` (name, opclass).
_COLUMNS = sql.SQL(
    "SELECT attname, atttypid::int, atttypmod FROM pg_attribute"
    " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
_INDEXES = sql.SQL(
    "SELECT ic.relname::text, opc.opcname::text FROM pg_index i"
    " JOIN pg_class ic ON ic.oid = i.indexrelid"
    " JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'hnswmm'"
    " JOIN pg_opclass opc ON opc.oid = i.indclass[0]"
    " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND a.attname = 'embedding'"
    " WHERE i.indrelid = to_regclass(%s) ORDER BY 1")


class StoreMismatch(ValueError):
    """An existing table that is not a store of this shape (columns,
    dimensions, metric of its index): the store refuses to use it."""


@dataclass(frozen=True)
class Metric:
    """A distance: its SQL operator and its hnswmm operator class."""

    name: str
    operator: str
    opclass: str


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("l2", "<->", "vector_l2_ops"),
    Metric("ip", "<#>", "vector_ip_ops"),
    Metric("cosine", "<=>", "vector_cosine_ops"),
    Metric("l1", "<+>", "vector_l1_ops"),
)}
_BY_OPCLASS = {m.opclass: m for m in METRICS.values()}


@dataclass(frozen=True)
class SearchResult:
    """One row found by `search`, nearest first."""

    id: int
    distance: float
    text: str | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class StoredItem:
    """One row read back by `get`."""

    id: int
    text: str | None
    metadata: dict[str, Any] | None
    embedding: Floats


@dataclass(frozen=True)
class TableShape:
    """What an existing table looks like: {column: (type oid, typmod)}
    and its hnswmm indexes on `embedding` as (name, opclass)."""

    columns: dict[str, tuple[int, int]]
    indexes: list[tuple[str, str]]

    @property
    def dim(self) -> int:
        return self.columns.get("embedding", (0, -1))[1]

    def metric(self) -> Metric | None:
        """The metric of its hnswmm index, if it has one."""
        known = [_BY_OPCLASS[opc] for _, opc in self.indexes if opc in _BY_OPCLASS]
        return known[0] if known else None


def _shape(columns: Sequence[tuple[Any, ...]], indexes: Sequence[tuple[Any, ...]]) -> TableShape | None:
    if not columns:
        return None
    return TableShape({r[0]: (r[1], r[2]) for r in columns}, [(r[0], r[1]) for r in indexes])


@dataclass(frozen=True)
class _Statements:
    """The SQL of one store, for the schema its `vector` type is in."""

    create: sql.Composed
    create_if_missing: sql.Composed
    next_ids: sql.SQL
    copy: sql.Composed
    temp: sql.Composed
    copy_temp: sql.Composed
    upsert: sql.Composed
    drop_temp: sql.Composed
    advance_ids: sql.Composed
    index_target: sql.Composed  # name ON table USING hnswmm (column opclass)
    analyze: sql.Composed
    distance: sql.Composed  # embedding <op> the query, setting the beam width (params q, beam, ef)
    select: sql.Composed  # ... FROM table, then a WHERE and the ORDER BY
    get: sql.Composed
    delete: sql.Composed
    count: sql.Composed

    @classmethod
    def build(cls, table: sql.Identifier, index: sql.Identifier, dim: int, metric: Metric,
              vtype: VectorType) -> _Statements:
        schema = sql.Identifier(vtype.schema)
        columns = sql.SQL(
            "(id bigint GENERATED BY DEFAULT AS IDENTITY (MINVALUE 0 START WITH 0) PRIMARY KEY,"
            " content text, metadata jsonb, embedding {}.vector({}))").format(schema, sql.Literal(dim))
        temp = sql.Identifier("hnswmm_upsert")
        # The beam width of this statement: the one asked for, else the
        # session's, and at least k (a narrower beam finds worse neighbours,
        # and with hnswmm.iterative_scan off a scan stops after ef_search
        # rows).  The InitPlan runs before the index scan reads it.
        query = sql.SQL(
            "(SELECT %(q)s WHERE set_config('hnswmm.ef_search', least({max}, greatest(%(beam)s::int,"
            " coalesce(%(ef)s::int, current_setting('hnswmm.ef_search', true)::int, {default})))::text,"
            " true) IS NOT NULL)").format(max=sql.Literal(_MAX_EF_SEARCH), default=sql.Literal(_DEFAULT_EF_SEARCH))
        distance = sql.SQL("embedding OPERATOR({}.{}) {}").format(schema, sql.SQL(metric.operator), query)
        return cls(
            create=sql.SQL("CREATE TABLE {} {}").format(table, columns),
            create_if_missing=sql.SQL("CREATE TABLE IF NOT EXISTS {} {}").format(table, columns),
            next_ids=sql.SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"),
            copy=sql.SQL("COPY {} (id, content, metadata, embedding) FROM STDIN (FORMAT BINARY)").format(table),
            temp=sql.SQL("CREATE TEMP TABLE {} (id bigint, content text, metadata jsonb, embedding {}.vector({}))"
                         " ON COMMIT DROP").format(temp, schema, sql.Literal(dim)),
            copy_temp=sql.SQL("COPY {} (id, content, metadata, embedding) FROM STDIN (FORMAT BINARY)").format(temp),
            upsert=sql.SQL(
                "INSERT INTO {} (id, content, metadata, embedding) SELECT id, content, metadata, embedding FROM {}"
                " ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, metadata = EXCLUDED.metadata,"
                " embedding = EXCLUDED.embedding").format(table, temp),
            drop_temp=sql.SQL("DROP TABLE {}").format(temp),
            advance_ids=advance_ids_sql(table),
            index_target=sql.SQL("{} ON {} USING hnswmm (embedding {}.{})").format(
                index, table, schema, sql.Identifier(metric.opclass)),
            analyze=sql.SQL("ANALYZE {}").format(table),
            distance=distance,
            select=sql.SQL("SELECT id, {} AS distance, content, metadata FROM {} ").format(distance, table),
            get=sql.SQL("SELECT id, content, metadata, embedding FROM {} WHERE id = ANY(%s)").format(table),
            delete=sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(table),
            count=sql.SQL("SELECT count(*) FROM {}").format(table),
        )

    def search(self, where: CompiledFilter) -> sql.Composed:
        return self.select + where.where() + sql.SQL(" ORDER BY distance LIMIT %(k)s")

    def create_index(self, m: int, ef_construction: int, quantization: str) -> sql.Composed:
        """CREATE INDEX with these options (no parameters in utility statements)."""
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, not {quantization!r}")
        return sql.SQL("CREATE INDEX {} WITH (m = {}, ef_construction = {}, quantization = {})").format(
            self.index_target, sql.Literal(int(m)), sql.Literal(int(ef_construction)),
            sql.Literal(quantization))


@dataclass
class _Rows:
    """Checked input of `add` and `upsert`."""

    embeddings: Floats
    texts: Sequence[str | None] | None
    metadata: Sequence[Mapping[str, Any] | None] | None
    ids: list[int] | None

    def __len__(self) -> int:
        return len(self.embeddings)

    def copy_rows(self, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
        for i, (row_id, vec) in enumerate(zip(ids, self.embeddings)):
            text = self.texts[i] if self.texts is not None else None
            meta = self.metadata[i] if self.metadata is not None else None
            yield row_id, text, Jsonb(meta) if meta is not None else None, vec


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < 1:
        raise ValueError(f"{name} must be an integer of at least 1, not {value!r}")
    return int(value)


def _check_ids(ids: Sequence[int] | Array) -> list[int]:
    """Ids as Python ints; bools, floats with fractions and the like are refused."""
    out = []
    for i in ids:
        if isinstance(i, bool) or not hasattr(i, "__index__"):
            raise TypeError(f"ids are integers, not {type(i).__name__} {i!r}")
        out.append(int(i))
    return out


def _check_rows(embeddings: Any, texts: Sequence[str | None] | None,
                metadata: Sequence[Mapping[str, Any] | None] | None, dim: int,
                ids: Sequence[int] | Array | None) -> _Rows:
    matrix = as_matrix(embeddings, dim)
    checked = _check_ids(ids) if ids is not None else None
    for name, values in (("texts", texts), ("metadata", metadata), ("ids", checked)):
        if values is not None and len(values) != len(matrix):
            raise ValueError(f"{len(matrix)} embeddings but {len(values)} {name}")
    if checked is not None and len(set(checked)) != len(checked):
        raise ValueError("the ids of one call must be distinct")
    return _Rows(matrix, texts, metadata, checked)


class _StoreBase:
    """What the sync and async stores share: arguments, SQL, checks, results."""

    def __init__(self, table: str, dim: int, metric: str, schema: str | None) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
        if not 1 <= dim <= MAX_DIM:
            raise ValueError(f"dim must be 1 to {MAX_DIM}, not {dim}")
        self.table, self.dim, self.metric, self.schema = table, dim, METRICS[metric], schema
        self._ident = sql.Identifier(schema, table) if schema else sql.Identifier(table)
        self._index = sql.Identifier(f"{table}_embedding_idx")
        self._sql: _Statements | None = None
        self._vtype: VectorType | None = None

    def _statements(self, vtype: VectorType) -> _Statements:
        self._vtype = vtype
        self._sql = _Statements.build(self._ident, self._index, self.dim, self.metric, vtype)
        return self._sql

    def _statements_for(self, vtype: VectorType, shape: TableShape | None) -> _Statements:
        """The statements, once an existing table (if any) is checked to be a
        store like this one; not kept when it is not."""
        s = self._statements(vtype)
        try:
            self._check_shape(shape)
        except StoreMismatch:
            self._sql = None
            raise
        return s

    def _check_shape(self, shape: TableShape | None) -> None:
        """Raise StoreMismatch unless an existing table is a store like this one."""
        if shape is None:
            return
        assert self._vtype is not None
        wanted = {"id": _BIGINT, "content": _TEXT, "metadata": _JSONB, "embedding": self._vtype.oid}
        where = f"table {self.table}"
        if any(shape.columns.get(name, (None,))[0] != oid for name, oid in wanted.items()):
            raise StoreMismatch(
                f"{where} exists but is not a vector store (it has columns {', '.join(shape.columns)};"
                " a store has id bigint, content text, metadata jsonb, embedding vector(n)):"
                " it was left untouched")
        if shape.dim != self.dim:
            raise StoreMismatch(f"{where} holds vectors of {shape.dim if shape.dim > 0 else 'any number of'}"
                                f" dimensions, not {self.dim}: it was left untouched")
        for name, opclass in shape.indexes:
            if opclass != self.metric.opclass:
                found = _BY_OPCLASS.get(opclass)
                raise StoreMismatch(
                    f"{where} has the hnswmm index {name} for {opclass}"
                    f" ({'metric ' + found.name if found else 'another metric'}), not the {self.metric.name}"
                    f" metric of this store ({self.metric.opclass}): its searches would not use the index")

    def _query(self, query: Any) -> Floats:
        vec = as_vector(query)
        if vec.size != self.dim:
            raise InvalidVector(f"the query has {vec.size} dimensions, the store {self.dim}")
        return vec

    def _search_args(self, query: Any, k: int, ef_search: int | None,
                     filter: Any) -> tuple[CompiledFilter, dict[str, Any]]:
        k = _positive("k", k)
        ef_search = None if ef_search is None else _positive("ef_search", ef_search)
        where = compile_filter(filter)
        return where, {"q": self._query(query), "k": k, "beam": k, "ef": ef_search, **where.params}

    def _progress(self, n: int, progress: bool | None) -> Progress:
        enabled = n >= PROGRESS_MIN_ROWS if progress is None else progress
        return Progress(n, f"add to {self.table}", enabled=enabled)

    def _drop_sql(self) -> sql.Composed:
        return sql.SQL("DROP TABLE IF EXISTS {}").format(self._ident)

    def _qualified(self, conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> str:
        return self._ident.as_string(conn)

    @staticmethod
    def _results(rows: list[tuple[Any, ...]]) -> list[SearchResult]:
        """Rows as results, nearest first (an iterative index scan returns
        later batches in approximate order)."""
        results = [SearchResult(int(r[0]), float(r[1]), r[2], r[3]) for r in rows]
        return sorted(results, key=lambda r: r.distance)

    @staticmethod
    def _items(rows: list[tuple[Any, ...]], ids: list[int]) -> list[StoredItem]:
        """Rows of `get` in the order their ids were asked for."""
        found = {int(r[0]): StoredItem(int(r[0]), r[1], r[2], r[3]) for r in rows}
        return [found[i] for i in dict.fromkeys(ids) if i in found]


def _shape_from_catalog(conn: psycopg.Connection[Any], name: str) -> TableShape | None:
    with conn.cursor() as cur:
        columns = cur.execute(_COLUMNS, (name,)).fetchall()
        indexes = cur.execute(_INDEXES, (name,)).fetchall() if columns else []
    return _shape(columns, indexes)


async def _shape_from_catalog_async(conn: psycopg.AsyncConnection[Any], name: str) -> TableShape | None:
    async with conn.cursor() as cur:
        columns = await (await cur.execute(_COLUMNS, (name,))).fetchall()
        indexes = await (await cur.execute(_INDEXES, (name,))).fetchall() if columns else []
    return _shape(columns, indexes)


def _open_args(shape: TableShape | None, table: str, metric: str | None) -> tuple[int, str]:
    """The dimension and metric of a store over an existing table."""
    if shape is None:
        raise psycopg.errors.UndefinedTable(f"table {table} does not exist")
    if shape.dim < 1:
        raise StoreMismatch(f"table {table} has no embedding vector(n) column")
    found = shape.metric()
    if metric is None and found is None:
        raise StoreMismatch(f"table {table} has no hnswmm index on embedding to tell its metric: give metric=")
    return shape.dim, metric or (found.name if found else "l2")


class VectorStore(_StoreBase):
    """A table `(id bigint, content text, metadata jsonb, embedding
    vector(dim))` on a psycopg Connection (for example one from a
    psycopg_pool pool), searched by `metric`: l2, ip, cosine or l1."""

    def __init__(self, conn: psycopg.Connection[Any], table: str, dim: int, metric: str = "l2",
                 *, schema: str | None = None) -> None:
        super().__init__(table, dim, metric, schema)
        self.conn = conn

    @classmethod
    def open(cls, conn: psycopg.Connection[Any], table: str, metric: str | None = None,
             *, schema: str | None = None) -> VectorStore:
        """A store over an existing table, with the dimension of its column
        and the metric of its hnswmm index (or `metric`, checked)."""
        name = (sql.Identifier(schema, table) if schema else sql.Identifier(table)).as_string(conn)
        with conn.transaction():
            dim, metric = _open_args(_shape_from_catalog(conn, name), table, metric)
        store = cls(conn, table, dim, metric, schema=schema)
        store._ready()
        return store

    def _ready(self) -> _Statements:
        """The first time: register the adapters, and check the table if it exists."""
        if self._sql is not None:
            return self._sql
        with self.conn.transaction():
            vtype = register_vector(self.conn)
            shape = _shape_from_catalog(self.conn, self._qualified(self.conn))
        return self._statements_for(vtype, shape)

    def _one_statement(self) -> ContextManager[Any]:
        """Nothing around a single statement, unless the connection would
        leave a transaction open after it."""
        idle = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        return self.conn.transaction() if idle and not self.conn.autocommit else nullcontext()

    def create(self, exist_ok: bool = False) -> None:
        """CREATE TABLE; with exist_ok, an existing table is used instead if
        it has the store's columns, dimensions and metric (else StoreMismatch)."""
        s = self._ready()
        with self.conn.transaction():
            self.conn.execute(s.create_if_missing if exist_ok else s.create)

    def drop(self) -> None:
        """DROP TABLE IF EXISTS: the store's table, whatever it holds."""
        with self.conn.transaction():
            self.conn.execute(self._drop_sql())
        self._sql = None  # a table of that name made later is checked again

    def add(self, embeddings: Any, texts: Sequence[str | None] | None = None,
            metadata: Sequence[Mapping[str, Any] | None] | None = None,
            *, ids: Sequence[int] | Array | None = None, progress: bool | None = None) -> list[int]:
        """Add rows by binary COPY; return their ids.

        embeddings: an n x dim array (or a sequence of vectors); texts and
        metadata (dicts stored as jsonb): n items each, or None.  ids: n
        distinct integers of your own (an id already in the table raises
        UniqueViolation and adds nothing), or None for the next ones of the
        table's sequence.  progress: show a progress bar on stderr
        (default: from 50,000 rows on).
        """
        rows = _check_rows(embeddings, texts, metadata, self.dim, ids)
        s = self._ready()
        assert self._vtype is not None
        with self.conn.transaction(), self.conn.cursor() as cur:
            if rows.ids is None:
                cur.execute(s.next_ids, (self._qualified(self.conn), len(rows)))
                new_ids = [r[0] for r in cur.fetchall()]
            else:
                new_ids = rows.ids
            self._copy(cur, s.copy, rows, new_ids, progress)
            if rows.ids is not None:
                cur.execute(s.advance_ids, {"t": self._qualified(self.conn)})
        return new_ids

    def _copy(self, cur: psycopg.Cursor[Any], copy_sql: sql.Composed, rows: _Rows, ids: Sequence[int],
              progress: bool | None) -> None:
        assert self._vtype is not None
        with self._progress(len(rows), progress) as bar, client_errors_first(), cur.copy(copy_sql) as copy:
            copy.set_types(["int8", "text", "jsonb", self._vtype.oid])
            for i, row in enumerate(rows.copy_rows(ids), 1):
                copy.write_row(row)
                if i % _PROGRESS_STEP == 0:
                    bar.update(_PROGRESS_STEP)
            bar.update(len(rows) % _PROGRESS_STEP)

    def upsert(self, ids: Sequence[int] | Array, embeddings: Any, texts: Sequence[str | None] | None = None,
               metadata: Sequence[Mapping[str, Any] | None] | None = None,
               *, progress: bool | None = None) -> int:
        """Insert rows with these ids, or replace the content, metadata and
        embedding of the rows that have them; return the number of rows
        written.  One transaction: binary COPY into a temporary table, then
        INSERT ... ON CONFLICT (id) DO UPDATE."""
        rows = _check_rows(embeddings, texts, metadata, self.dim, ids)
        assert rows.ids is not None
        s = self._ready()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(s.temp)
            self._copy(cur, s.copy_temp, rows, rows.ids, progress)
            written = cur.execute(s.upsert).rowcount
            cur.execute(s.drop_temp)
            cur.execute(s.advance_ids, {"t": self._qualified(self.conn)})
        return written

    def load_f32(self, path: str | os.PathLike[str], *, start: int = 0, count: int | None = None,
                 progress: bool = True) -> int:
        """Load vectors [start, start + count) of a raw float32 file (see
        `hnswmm.load_f32`) into the store, with ids equal to their row
        numbers, as `add` numbers the rows it adds; a later `add` continues
        after the largest id.  Returns the number of rows loaded."""
        self._ready()
        return load_f32(self.conn, self.table, path, self.dim, start=start, count=count, create=False,
                        progress=progress, schema=self.schema)

    def create_index(self, m: int = 16, ef_construction: int = 64,
                     quantization: str = "none") -> None:
        """CREATE INDEX ... USING hnswmm with these options, then ANALYZE.

        quantization 'sq8' or 'binary' keeps a code of each vector in the
        graph, for data sets larger than memory (see the README).
        """
        s = self._ready()
        with self.conn.transaction():
            self.conn.execute(s.create_index(m, ef_construction, quantization))
            self.conn.execute(s.analyze)

    def search(self, query: Any, k: int = 5, ef_search: int | None = None,
               filter: Mapping[str, Any] | None = None) -> list[SearchResult]:
        """The k rows nearest to query, nearest first: one statement.

        ef_search: the beam width of this search, raised to k if smaller
        (default: the session's hnswmm.ef_search).  It is set inside the
        statement with set_config(..., true), so on an autocommit
        connection it ends with the statement; inside a transaction of the
        caller it lasts until that transaction ends, like SET LOCAL.
        filter: conditions on the metadata, ANDed (see hnswmm.filters):
        {"lang": "en", "page": {"$in": [...]}, "year": {"$gte": 2020}}.
        The index scan checks the rows it finds and, with
        hnswmm.iterative_scan on (the default), goes on until k pass.
        """
        where, params = self._search_args(query, k, ef_search, filter)
        s = self._ready()
        with self._one_statement(), self.conn.cursor(binary=True) as cur:
            cur.execute(s.search(where), params)
            return self._results(cur.fetchall())

    def explain(self, query: Any, k: int = 5, filter: Mapping[str, Any] | None = None,
                ef_search: int | None = None) -> list[str]:
        """The plan of `search` (EXPLAIN, without costs): shows whether the
        index is used.  The query vector is a parameter of the plan ($0, or
        (InitPlan 1).col1 from PostgreSQL 17), not its numbers."""
        where, params = self._search_args(query, k, ef_search, filter)
        s = self._ready()
        with self._one_statement(), self.conn.cursor() as cur:
            cur.execute(_EXPLAIN + s.search(where), params)
            return [r[0] for r in cur.fetchall()]

    def distance_sql(self) -> sql.Composed:
        """The distance of `embedding` to the query as SQL, for statements of
        your own (hybrid search): parameters %(q)s (the query vector),
        %(beam)s (the least beam width, e.g. the rows wanted) and %(ef)s
        (the beam width, or None for the session's)."""
        return self._ready().distance

    def get(self, ids: Sequence[int] | Array) -> list[StoredItem]:
        """The rows with these ids, in that order; ids not in the table are left out."""
        wanted = _check_ids(ids)
        s = self._ready()
        with self._one_statement(), self.conn.cursor(binary=True) as cur:
            cur.execute(s.get, (wanted,))
            return self._items(cur.fetchall(), wanted)

    def delete(self, ids: Sequence[int] | Array) -> int:
        """Delete rows by id; return how many there were."""
        wanted = _check_ids(ids)
        s = self._ready()
        with self._one_statement():
            return self.conn.execute(s.delete, (wanted,)).rowcount

    def count(self) -> int:
        s = self._ready()
        with self._one_statement():
            row = self.conn.execute(s.count).fetchone()
        return int(row[0]) if row else 0


class AsyncVectorStore(_StoreBase):
    """`VectorStore` on a psycopg AsyncConnection: the same methods, awaited."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], table: str, dim: int, metric: str = "l2",
                 *, schema: str | None = None) -> None:
        super().__init__(table, dim, metric, schema)
        self.conn = conn

    @classmethod
    async def open(cls, conn: psycopg.AsyncConnection[Any], table: str, metric: str | None = None,
                   *, schema: str | None = None) -> AsyncVectorStore:
        """`VectorStore.open` for an AsyncConnection."""
        name = (sql.Identifier(schema, table) if schema else sql.Identifier(table)).as_string(conn)
        async with conn.transaction():
            dim, metric = _open_args(await _shape_from_catalog_async(conn, name), table, metric)
        store = cls(conn, table, dim, metric, schema=schema)
        await store._ready()
        return store

    async def _ready(self) -> _Statements:
        if self._sql is not None:
            return self._sql
        async with self.conn.transaction():
            vtype = await register_vector_async(self.conn)
            shape = await _shape_from_catalog_async(self.conn, self._qualified(self.conn))
        return self._statements_for(vtype, shape)

    def _one_statement(self) -> AsyncContextManager[Any]:
        idle = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        return self.conn.transaction() if idle and not self.conn.autocommit else nullcontext()

    async def create(self, exist_ok: bool = False) -> None:
        s = await self._ready()
        async with self.conn.transaction():
            await self.conn.execute(s.create_if_missing if exist_ok else s.create)

    async def drop(self) -> None:
        async with self.conn.transaction():
            await self.conn.execute(self._drop_sql())
        self._sql = None

    async def add(self, embeddings: Any, texts: Sequence[str | None] | None = None,
                  metadata: Sequence[Mapping[str, Any] | None] | None = None,
                  *, ids: Sequence[int] | Array | None = None, progress: bool | None = None) -> list[int]:
        rows = _check_rows(embeddings, texts, metadata, self.dim, ids)
        s = await self._ready()
        async with self.conn.transaction(), self.conn.cursor() as cur:
            if rows.ids is None:
                await cur.execute(s.next_ids, (self._qualified(self.conn), len(rows)))
                new_ids = [r[0] for r in await cur.fetchall()]
            else:
                new_ids = rows.ids
            await self._copy(cur, s.copy, rows, new_ids, progress)
            if rows.ids is not None:
                await cur.execute(s.advance_ids, {"t": self._qualified(self.conn)})
        return new_ids

    async def _copy(self, cur: psycopg.AsyncCursor[Any], copy_sql: sql.Composed, rows: _Rows,
                    ids: Sequence[int], progress: bool | None) -> None:
        assert self._vtype is not None
        with self._progress(len(rows), progress) as bar, client_errors_first():
            async with cur.copy(copy_sql) as copy:
                copy.set_types(["int8", "text", "jsonb", self._vtype.oid])
                for i, row in enumerate(rows.copy_rows(ids), 1):
                    await copy.write_row(row)
                    if i % _PROGRESS_STEP == 0:
                        bar.update(_PROGRESS_STEP)
                bar.update(len(rows) % _PROGRESS_STEP)

    async def upsert(self, ids: Sequence[int] | Array, embeddings: Any,
                     texts: Sequence[str | None] | None = None,
                     metadata: Sequence[Mapping[str, Any] | None] | None = None,
                     *, progress: bool | None = None) -> int:
        rows = _check_rows(embeddings, texts, metadata, self.dim, ids)
        assert rows.ids is not None
        s = await self._ready()
        async with self.conn.transaction(), self.conn.cursor() as cur:
            await cur.execute(s.temp)
            await self._copy(cur, s.copy_temp, rows, rows.ids, progress)
            written = (await cur.execute(s.upsert)).rowcount
            await cur.execute(s.drop_temp)
            await cur.execute(s.advance_ids, {"t": self._qualified(self.conn)})
        return written

    async def load_f32(self, path: str | os.PathLike[str], *, start: int = 0, count: int | None = None,
                       progress: bool = True) -> int:
        await self._ready()
        return await load_f32_async(self.conn, self.table, path, self.dim, start=start, count=count,
                                    create=False, progress=progress, schema=self.schema)

    async def create_index(self, m: int = 16, ef_construction: int = 64,
                           quantization: str = "none") -> None:
        s = await self._ready()
        async with self.conn.transaction():
            await self.conn.execute(s.create_index(m, ef_construction, quantization))
            await self.conn.execute(s.analyze)

    async def search(self, query: Any, k: int = 5, ef_search: int | None = None,
                     filter: Mapping[str, Any] | None = None) -> list[SearchResult]:
        where, params = self._search_args(query, k, ef_search, filter)
        s = await self._ready()
        async with self._one_statement(), self.conn.cursor(binary=True) as cur:
            await cur.execute(s.search(where), params)
            return self._results(await cur.fetchall())

    async def explain(self, query: Any, k: int = 5, filter: Mapping[str, Any] | None = None,
                      ef_search: int | None = None) -> list[str]:
        where, params = self._search_args(query, k, ef_search, filter)
        s = await self._ready()
        async with self._one_statement(), self.conn.cursor() as cur:
            await cur.execute(_EXPLAIN + s.search(where), params)
            return [r[0] for r in await cur.fetchall()]

    async def get(self, ids: Sequence[int] | Array) -> list[StoredItem]:
        wanted = _check_ids(ids)
        s = await self._ready()
        async with self._one_statement(), self.conn.cursor(binary=True) as cur:
            await cur.execute(s.get, (wanted,))
            return self._items(await cur.fetchall(), wanted)

    async def delete(self, ids: Sequence[int] | Array) -> int:
        wanted = _check_ids(ids)
        s = await self._ready()
        async with self._one_statement():
            cur = await self.conn.execute(s.delete, (wanted,))
            return cur.rowcount

    async def count(self) -> int:
        s = await self._ready()
        async with self._one_statement():
            cur = await self.conn.execute(s.count)
            row = await cur.fetchone()
        return int(row[0]) if row else 0
