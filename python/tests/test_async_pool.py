"""AsyncConnection and psycopg_pool pools."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import psycopg
import pytest

from hnswmm import AsyncVectorStore, VectorStore, load_f32_async, read_f32, register_vector, register_vector_async
from hnswmm.vector import Array
from hnswmm.f32 import write_mock_f32


async def aconnect() -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(autocommit=True, connect_timeout=10)


def test_async_adapters(server: None) -> None:
    async def main() -> None:
        async with await aconnect() as conn:
            vtype = await register_vector_async(conn)
            assert vtype.extension == "hnswmm"
            for binary in (False, True):
                cur = conn.cursor(binary=binary)
                await cur.execute("SELECT %s, %t, %s", (np.arange(3.0)[::-1], [1.5, 2.5], [np.ones(2)]))
                row = await cur.fetchone()
                assert row is not None
                np.testing.assert_array_equal(row[0], [2, 1, 0])
                np.testing.assert_array_equal(row[1], [1.5, 2.5])
                np.testing.assert_array_equal(row[2][0], [1, 1])
            with pytest.raises(psycopg.errors.DataException) as e:
                await conn.execute("SELECT %s::vector(2)", (np.ones(3),))
            assert e.value.sqlstate == "22000"
    asyncio.run(main())


def test_async_store(server: None, new_table: Callable[[], str], rng: np.random.Generator) -> None:
    vectors = rng.standard_normal((2000, 16))

    async def main() -> None:
        async with await aconnect() as conn:
            store = AsyncVectorStore(conn, new_table(), 16, metric="cosine")
            await store.create()
            ids = await store.add(vectors, [str(i) for i in range(2000)], [{"odd": i % 2} for i in range(2000)])
            await store.create_index(m=8, ef_construction=32)
            assert await store.count() == 2000
            assert any("Index Scan" in line for line in await store.explain(vectors[0]))
            hits = await store.search(vectors[10], k=3, ef_search=64)
            assert hits[0].id == ids[10] and hits[0].text == "10" and hits[0].distance == pytest.approx(0, abs=1e-6)
            odd = await store.search(vectors[10], k=3, filter={"odd": 1})
            assert odd and all(h.metadata == {"odd": 1} for h in odd)
            assert await store.delete(ids[:10]) == 10
            assert await store.count() == 1990
            await store.drop()
    asyncio.run(main())


def test_async_load_f32(server: None, table: str, tmp_path: Path) -> None:
    path = tmp_path / "v.f32"
    write_mock_f32(path, 500, 8)

    async def main() -> None:
        async with await aconnect() as conn:
            assert await load_f32_async(conn, table, path, 8, progress=False) == 500
            cur = conn.cursor(binary=True)
            await cur.execute(f'SELECT embedding FROM "{table}" ORDER BY id')
            got = np.stack([r[0] for r in await cur.fetchall()])
            np.testing.assert_array_equal(got, read_f32(path, 8))
    asyncio.run(main())


def test_connection_pool(server: None, table: str, rng: np.random.Generator) -> None:
    pool_module = pytest.importorskip("psycopg_pool", reason="apt-get install python3-psycopg-pool")
    vectors = rng.standard_normal((1000, 8))
    with pool_module.ConnectionPool("", min_size=2, max_size=4, configure=register_vector, open=True) as pool:
        with pool.connection() as conn:
            store = VectorStore(conn, table, 8)
            store.create()
            ids = store.add(vectors)
            store.create_index()
        errors: list[BaseException] = []

        def client(first: int) -> None:
            try:
                for i in range(first, 40, 4):
                    with pool.connection() as conn:
                        hit = VectorStore(conn, table, 8).search(vectors[i], k=1)[0]
                        assert hit.id == ids[i]
                        assert isinstance(conn.execute("SELECT %s", (vectors[i],)).fetchone()[0], np.ndarray)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors


def test_async_connection_pool(server: None) -> None:
    pool_module = pytest.importorskip("psycopg_pool", reason="apt-get install python3-psycopg-pool")

    async def one(pool: Any, i: int) -> Array:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT %s * %s", (np.full(4, i, np.float32), [2.0] * 4))
            row = await cur.fetchone()
            return row[0]

    async def main() -> None:
        async with pool_module.AsyncConnectionPool("", min_size=2, max_size=3,
                                                   configure=register_vector_async) as pool:
            results = await asyncio.gather(*(one(pool, i) for i in range(10)))
        for i, got in enumerate(results):
            np.testing.assert_array_equal(got, np.full(4, 2.0 * i))
    asyncio.run(main())
