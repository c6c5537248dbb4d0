"""Tables a command creates, and only those.

A command that stores something makes room for it with `claim_table`: a
table of that name that already exists is the user's, so the command
refuses to touch it unless the user asked for `--replace`.  The command
then drops, at the end, only the table it created itself in that run.
"""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


class TableExists(ValueError):
    """A table the command would create is already there and is not ours."""


def relation_exists(conn: psycopg.Connection[Any], ident: sql.Identifier) -> bool:
    """Whether a table, view, index or sequence of that name is visible."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (ident.as_string(conn),)).fetchone()
    return bool(row and row[0])


def claim_table(conn: psycopg.Connection[Any], name: str, replace: bool, command: str) -> None:
    """Make sure `name` is free for a new table.

    When it exists: with replace, drop it (the user asked for that);
    without, raise TableExists and leave it as it is.
    """
    ident = sql.Identifier(name)
    if not relation_exists(conn, ident):
        return
    if not replace:
        raise TableExists(
            f"table {ident.as_string(conn)} already exists and {command} did not create it;"
            " it was left untouched: choose another --table, or pass --replace to drop it and its rows")
    with conn.transaction():
        conn.execute(sql.SQL("DROP TABLE {}").format(ident))
