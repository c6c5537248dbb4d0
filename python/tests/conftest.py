"""Fixtures: connections to the server named by the PG* environment (which
`make test` exports), unique table names that are dropped afterwards, and
a database of our own where a test needs one."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import psycopg
import pytest
from psycopg import sql

from hnswmm import register_vector

PG_ENV = ("PGHOST", "PGPORT", "PGDATABASE", "PGSERVICE")


def connect(**kwargs: Any) -> psycopg.Connection[Any]:
    kwargs.setdefault("autocommit", True)
    return psycopg.connect(connect_timeout=10, **kwargs)


@pytest.fixture(scope="session")
def server() -> None:
    """The test server, with the extension created in its database."""
    if not any(os.environ.get(v) for v in PG_ENV):
        pytest.skip("no test server: set PGHOST, PGPORT, PGDATABASE (make test does)")
    with connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hnswmm")


@pytest.fixture
def conn(server: None) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection with the vector adapters registered."""
    with connect() as c:
        register_vector(c)
        yield c


@pytest.fixture
def plain_conn(server: None) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection without adapters."""
    with connect() as c:
        yield c


def unique_name(prefix: str) -> str:
    return f"{re.sub(r'[^a-z0-9_]', '_', prefix.lower())[:30]}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def new_table(server: None, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """A factory of unique table names; the tables are dropped afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(unique_name(f"t_{request.node.name}"))
        return names[-1]
    yield make
    with connect() as c:
        for name in names:
            c.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def table(new_table: Callable[[], str]) -> str:
    """One unique table name, dropped afterwards."""
    return new_table()


@pytest.fixture
def new_database(server: None) -> Iterator[Callable[[], str]]:
    """A factory of empty databases, dropped afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(unique_name("hnswmm_py"))
        with connect() as c:
            c.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(names[-1])))
        return names[-1]
    yield make
    with connect() as c:
        for name in names:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


SMALL_PAGE = """<?xml version="1.0"?><html><head><title>{title}</title></head><body>
<div class="navheader"><a href="x.html">Prev</a> Next</div>
<div class="toc"><dl><dt>contents that must not be indexed</dt></dl></div>
<h2 class="title">{title}</h2><p>{intro}</p>
<h3>{section}</h3><p>{body}</p><ul><li>{item}</li></ul>
<div class="navfooter">Home &amp; up</div></body></html>"""

SMALL_TOPICS = {
    "cats.html": ("Cats", "Cats are small domesticated felines that purr and chase mice around the house all day long.",
                  "Feeding", "Cats eat fish and meat, drink water and sleep for many hours after their meal every day.",
                  "A cat grooms its fur with its tongue and sharpens its claws on furniture and trees."),
    "ships.html": ("Ships", "Ships are large vessels that sail across oceans carrying cargo containers between harbours.",
                   "Engines", "Modern ships burn heavy fuel in diesel engines that turn propellers beneath the hull.",
                   "A captain steers the ship through storms and waves using charts, radar and the compass."),
    "bread.html": ("Bread", "Bread is baked from flour, water, salt and yeast in a hot oven until the crust is brown.",
                   "Dough", "Knead the dough for ten minutes, let the yeast make it rise, then shape loaves for baking.",
                   "Sourdough bread uses a starter of wild yeast and lactic bacteria instead of dried yeast."),
    "trains.html": ("Trains", "Trains run on steel rails and carry passengers between stations in cities and towns.",
                    "Signals", "Railway signals tell the driver of a train when the track ahead is clear to enter safely.",
                    "A locomotive pulls the carriages, and the conductor checks the tickets of the passengers."),
}


def write_small_manual(directory: Path) -> Path:
    """Four HTML pages shaped like the manual's, on four topics."""
    for name, (title, intro, section, body, item) in SMALL_TOPICS.items():
        (directory / name).write_text(SMALL_PAGE.format(title=title, intro=intro, section=section, body=body,
                                                        item=item))
    return directory
