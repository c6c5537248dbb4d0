"""A table of texts, JSON metadata and embeddings, searched through an
hnswmm index.

    store = VectorStore(conn, "docs", dim=384, metric="cosine")
    store.create()
    ids = store.add(embeddings, texts, metadata)   # binary COPY
    store.create_index(m=16, ef_construction=64)
    for hit in store.search(query, k=5, filter={"lang": "en"}):
        print(hit.id, hit.distance, hit.text)

`AsyncVectorStore` is the same over an AsyncConnection.  Every method runs
in a transaction of its own (a savepoint inside one the caller opened), so
an `add` is all or nothing.  Identifiers are quoted with psycopg.sql and
values are always sent as parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .adapters import VectorType, register_vector, register_vector_async
from .binary_copy import client_errors_first
from .progress import Progress
from .vector import Array, Floats, InvalidVector, MAX_DIM, as_matrix, as_vector

PROGRESS_MIN_ROWS = 50_000  # add() shows progress from this many rows on
_PROGRESS_STEP = 2_000
_MAX_EF_SEARCH = 1000
_DEFAULT_EF_SEARCH = 40  # the server's default of hnswmm.ef_search
QUANTIZATIONS = ("none", "sq8", "binary")  # the index option's values
# The beam width of this transaction: the one asked for, else the session's,
# and at least k (a narrower beam finds worse neighbours, and with
# hnswmm.iterative_scan off a scan stops after ef_search rows).
_SET_EF_SEARCH = sql.SQL(
    "SELECT set_config('hnswmm.ef_search', least({max}, greatest(%(k)s::int,"
    " coalesce(%(ef)s::int, current_setting('hnswmm.ef_search', true)::int, {default})))::text, true)"
).format(max=sql.Literal(_MAX_EF_SEARCH), default=sql.Literal(_DEFAULT_EF_SEARCH))

_EXPLAIN = sql.SQL("EXPLAIN (COSTS OFF) ")


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


@dataclass(frozen=True)
class SearchResult:
    """One row found by `search`, nearest first."""

    id: int
    distance: float
    text: str | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class _Statements:
    """The SQL of one store, for the schema its `vector` type is in."""

    create: sql.Composed
    create_if_missing: sql.Composed
    drop: sql.Composed
    next_ids: sql.SQL
    copy: sql.Composed
    index_target: sql.Composed  # name ON table USING hnswmm (column opclass)
    analyze: sql.Composed
    search: sql.Composed
    search_filtered: sql.Composed
    delete: sql.Composed
    count: sql.Composed

    @classmethod
    def build(cls, table: sql.Identifier, index: sql.Identifier, dim: int, metric: Metric,
              vtype: VectorType) -> _Statements:
        schema = sql.Identifier(vtype.schema)
        columns = sql.SQL("(id bigserial PRIMARY KEY, content text, metadata jsonb, embedding {}.vector({}))").format(
            schema, sql.Literal(dim))
        distance = sql.SQL("embedding OPERATOR({}.{}) %(q)s").format(schema, sql.SQL(metric.operator))
        select = sql.SQL("SELECT id, {d}, content, metadata FROM {t} {where} ORDER BY {d} LIMIT %(k)s")
        return cls(
            create=sql.SQL("CREATE TABLE {} {}").format(table, columns),
            create_if_missing=sql.SQL("CREATE TABLE IF NOT EXISTS {} {}").format(table, columns),
            drop=sql.SQL("DROP TABLE IF EXISTS {}").format(table),
            next_ids=sql.SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"),
            copy=sql.SQL("COPY {} (id, content, metadata, embedding) FROM STDIN (FORMAT BINARY)").format(table),
            index_target=sql.SQL("{} ON {} USING hnswmm (embedding {}.{})").format(
                index, table, schema, sql.Identifier(metric.opclass)),
            analyze=sql.SQL("ANALYZE {}").format(table),
            search=select.format(d=distance, t=table, where=sql.SQL("")),
            search_filtered=select.format(d=distance, t=table, where=sql.SQL("WHERE metadata @> %(filter)s")),
            delete=sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(table),
            count=sql.SQL("SELECT count(*) FROM {}").format(table),
        )

    def create_index(self, m: int, ef_construction: int, quantization: str) -> sql.Composed:
        """CREATE INDEX with these options (no parameters in utility statements)."""
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, not {quantization!r}")
        return sql.SQL("CREATE INDEX {} WITH (m = {}, ef_construction = {}, quantization = {})").format(
            self.index_target, sql.Literal(int(m)), sql.Literal(int(ef_construction)),
            sql.Literal(quantization))


@dataclass
class _Rows:
    """Checked input of `add`."""

    embeddings: Floats
    texts: Sequence[str | None] | None
    metadata: Sequence[Mapping[str, Any] | None] | None

    def __len__(self) -> int:
        return len(self.embeddings)

    def copy_rows(self, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
        for i, (row_id, vec) in enumerate(zip(ids, self.embeddings)):
            text = self.texts[i] if self.texts is not None else None
            meta = self.metadata[i] if self.metadata is not None else None
            yield row_id, text, Jsonb(meta) if meta is not None else None, vec


def _check_rows(embeddings: Any, texts: Sequence[str | None] | None,
                metadata: Sequence[Mapping[str, Any] | None] | None, dim: int) -> _Rows:
    matrix = as_matrix(embeddings, dim)
    for name, values in (("texts", texts), ("metadata", metadata)):
        if values is not None and len(values) != len(matrix):
            raise ValueError(f"{len(matrix)} embeddings but {len(values)} {name}")
    return _Rows(matrix, texts, metadata)


class _StoreBase:
    """What the sync and async stores share: arguments, SQL, results."""

    def __init__(self, table: str, dim: int, metric: str, schema: str | None) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
        if not 1 <= dim <= MAX_DIM:
            raise ValueError(f"dim must be 1 to {MAX_DIM}, not {dim}")
        self.table, self.dim, self.metric, self.schema = table, dim, METRICS[metric], schema
        self._ident = sql.Identifier(schema, table) if schema else sql.Identifier(table)
        self._index = sql.Identifier(f"{table}_embedding_idx")
        self._sql: _Statements | None = None

    def _statements(self, vtype: VectorType) -> _Statements:
        self._sql = _Statements.build(self._ident, self._index, self.dim, self.metric, vtype)
        return self._sql

    def _query(self, query: Any) -> Floats:
        vec = as_vector(query)
        if vec.size != self.dim:
            raise InvalidVector(f"the query has {vec.size} dimensions, the store {self.dim}")
        return vec

    def _search_args(self, query: Any, k: int, ef_search: int | None,
                     filter: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        params = {"q": self._query(query), "k": k, "filter": Jsonb(filter) if filter else None}
        return {"k": k, "ef": ef_search}, params

    def _search_sql(self, s: _Statements, filter: Mapping[str, Any] | None) -> sql.Composed:
        return s.search_filtered if filter else s.search

    def _progress(self, n: int, progress: bool | None) -> Progress:
        enabled = n >= PROGRESS_MIN_ROWS if progress is None else progress
        return Progress(n, f"add to {self.table}", enabled=enabled)

    @staticmethod
    def _results(rows: list[tuple[Any, ...]]) -> list[SearchResult]:
        """Rows as results, nearest first (an iterative index scan returns
        later batches in approximate order)."""
        results = [SearchResult(int(r[0]), float(r[1]), r[2], r[3]) for r in rows]
        return sorted(results, key=lambda r: r.distance)

    @staticmethod
    def _ids(ids: Sequence[int] | Array) -> list[int]:
        return [int(i) for i in ids]


class VectorStore(_StoreBase):
    """A table `(id bigserial, content text, metadata jsonb, embedding
    vector(dim))` on a psycopg Connection (for example one from a
    psycopg_pool pool), searched by `metric`: l2, ip, cosine or l1."""

    def __init__(self, conn: psycopg.Connection[Any], table: str, dim: int, metric: str = "l2",
                 *, schema: str | None = None) -> None:
        super().__init__(table, dim, metric, schema)
        self.conn = conn
        self._vtype: VectorType | None = None

    def _sql_for_conn(self) -> _Statements:
        """Register the adapters on the connection the first time."""
        if self._sql is None or self._vtype is None:
            self._vtype = register_vector(self.conn)
            return self._statements(self._vtype)
        return self._sql

    def create(self, exist_ok: bool = False) -> None:
        s = self._sql_for_conn()
        with self.conn.transaction():
            self.conn.execute(s.create_if_missing if exist_ok else s.create)

    def drop(self) -> None:
        s = self._sql_for_conn()
        with self.conn.transaction():
            self.conn.execute(s.drop)

    def add(self, embeddings: Any, texts: Sequence[str | None] | None = None,
            metadata: Sequence[Mapping[str, Any] | None] | None = None,
            *, progress: bool | None = None) -> list[int]:
        """Add rows by binary COPY; return their new ids.

        embeddings: an n x dim array (or a sequence of vectors); texts and
        metadata (dicts stored as jsonb): n items each, or None.  progress:
        show a progress bar on stderr (default: from 50,000 rows on).
        """
        rows = _check_rows(embeddings, texts, metadata, self.dim)
        s = self._sql_for_conn()
        assert self._vtype is not None
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(s.next_ids, (self._ident.as_string(self.conn), len(rows)))
            ids = [r[0] for r in cur.fetchall()]
            with self._progress(len(rows), progress) as bar, client_errors_first(), cur.copy(s.copy) as copy:
                copy.set_types(["int8", "text", "jsonb", self._vtype.oid])
                for i, row in enumerate(rows.copy_rows(ids), 1):
                    copy.write_row(row)
                    if i % _PROGRESS_STEP == 0:
                        bar.update(_PROGRESS_STEP)
                bar.update(len(rows) % _PROGRESS_STEP)
        return ids

    def create_index(self, m: int = 16, ef_construction: int = 64,
                     quantization: str = "none") -> None:
        """CREATE INDEX ... USING hnswmm with these options, then ANALYZE.

        quantization 'sq8' or 'binary' keeps a code of each vector in the
        graph, for data sets larger than memory (see the README).
        """
        s = self._sql_for_conn()
        with self.conn.transaction():
            self.conn.execute(s.create_index(m, ef_construction, quantization))
            self.conn.execute(s.analyze)

    def search(self, query: Any, k: int = 5, ef_search: int | None = None,
               filter: Mapping[str, Any] | None = None) -> list[SearchResult]:
        """The k rows nearest to query, nearest first.

        ef_search: the beam width of this search (set_config(..., true),
        like SET LOCAL); it is raised to k if smaller.
        filter: only rows whose metadata contains this dict (`metadata @>
        filter`).  The index scan checks the rows it finds and, with
        hnswmm.iterative_scan on (the default), goes on until k pass.
        """
        s = self._sql_for_conn()
        ef_params, params = self._search_args(query, k, ef_search, filter)
        with self.conn.transaction(), self.conn.cursor(binary=True) as cur:
            cur.execute(_SET_EF_SEARCH, ef_params)
            cur.execute(self._search_sql(s, filter), params)
            return self._results(cur.fetchall())

    def explain(self, query: Any, k: int = 5, filter: Mapping[str, Any] | None = None) -> list[str]:
        """The plan of `search` (EXPLAIN, without costs): shows whether the
        index is used."""
        s = self._sql_for_conn()
        _, params = self._search_args(query, k, None, filter)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(_EXPLAIN + self._search_sql(s, filter), params)
            return [r[0] for r in cur.fetchall()]

    def delete(self, ids: Sequence[int] | Array) -> int:
        """Delete rows by id; return how many there were."""
        s = self._sql_for_conn()
        with self.conn.transaction():
            return self.conn.execute(s.delete, (self._ids(ids),)).rowcount

    def count(self) -> int:
        s = self._sql_for_conn()
        with self.conn.transaction():
            row = self.conn.execute(s.count).fetchone()
        return int(row[0]) if row else 0


class AsyncVectorStore(_StoreBase):
    """`VectorStore` on a psycopg AsyncConnection: the same methods, awaited."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], table: str, dim: int, metric: str = "l2",
                 *, schema: str | None = None) -> None:
        super().__init__(table, dim, metric, schema)
        self.conn = conn
        self._vtype: VectorType | None = None

    async def _sql_for_conn(self) -> _Statements:
        if self._sql is None or self._vtype is None:
            self._vtype = await register_vector_async(self.conn)
            return self._statements(self._vtype)
        return self._sql

    async def create(self, exist_ok: bool = False) -> None:
        s = await self._sql_for_conn()
        async with self.conn.transaction():
            await self.conn.execute(s.create_if_missing if exist_ok else s.create)

    async def drop(self) -> None:
        s = await self._sql_for_conn()
        async with self.conn.transaction():
            await self.conn.execute(s.drop)

    async def add(self, embeddings: Any, texts: Sequence[str | None] | None = None,
                  metadata: Sequence[Mapping[str, Any] | None] | None = None,
                  *, progress: bool | None = None) -> list[int]:
        rows = _check_rows(embeddings, texts, metadata, self.dim)
        s = await self._sql_for_conn()
        assert self._vtype is not None
        async with self.conn.transaction(), self.conn.cursor() as cur:
            await cur.execute(s.next_ids, (self._ident.as_string(self.conn), len(rows)))
            ids = [r[0] for r in await cur.fetchall()]
            with self._progress(len(rows), progress) as bar, client_errors_first():
                async with cur.copy(s.copy) as copy:
                    copy.set_types(["int8", "text", "jsonb", self._vtype.oid])
                    for i, row in enumerate(rows.copy_rows(ids), 1):
                        await copy.write_row(row)
                        if i % _PROGRESS_STEP == 0:
                            bar.update(_PROGRESS_STEP)
                    bar.update(len(rows) % _PROGRESS_STEP)
        return ids

    async def create_index(self, m: int = 16, ef_construction: int = 64,
                           quantization: str = "none") -> None:
        s = await self._sql_for_conn()
        async with self.conn.transaction():
            await self.conn.execute(s.create_index(m, ef_construction, quantization))
            await self.conn.execute(s.analyze)

    async def search(self, query: Any, k: int = 5, ef_search: int | None = None,
                     filter: Mapping[str, Any] | None = None) -> list[SearchResult]:
        s = await self._sql_for_conn()
        ef_params, params = self._search_args(query, k, ef_search, filter)
        async with self.conn.transaction(), self.conn.cursor(binary=True) as cur:
            await cur.execute(_SET_EF_SEARCH, ef_params)
            await cur.execute(self._search_sql(s, filter), params)
            return self._results(await cur.fetchall())

    async def explain(self, query: Any, k: int = 5, filter: Mapping[str, Any] | None = None) -> list[str]:
        s = await self._sql_for_conn()
        _, params = self._search_args(query, k, None, filter)
        async with self.conn.transaction(), self.conn.cursor() as cur:
            await cur.execute(_EXPLAIN + self._search_sql(s, filter), params)
            return [r[0] for r in await cur.fetchall()]

    async def delete(self, ids: Sequence[int] | Array) -> int:
        s = await self._sql_for_conn()
        async with self.conn.transaction():
            cur = await self.conn.execute(s.delete, (self._ids(ids),))
            return cur.rowcount

    async def count(self) -> int:
        s = await self._sql_for_conn()
        async with self.conn.transaction():
            cur = await self.conn.execute(s.count)
            row = await cur.fetchone()
        return int(row[0]) if row else 0
