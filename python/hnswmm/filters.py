"""Metadata filters of `VectorStore.search`, compiled to SQL.

A filter is a dict whose entries are all required (AND):

    {"lang": "en"}                          equality (`metadata @> '{"lang": "en"}'`)
    {"page": {"$in": ["a.html", "b.html"]}} one of several values
    {"year": {"$gte": 2020, "$lt": 2024}}   a range: $gt, $gte, $lt, $lte
    {"year": {"$eq": 2021}}                 equality, spelled out

Equalities and `$in` are jsonb containment (`@>`), which a GIN index on
metadata serves.  A range compares jsonb values of one type: numbers with
a number bound, strings (in the database's collation) with a string
bound; rows whose value has another type, or no value, do not match.
Values are always parameters.  Anything else (a string, a list, an
unknown operator, a list or dict where a single value belongs) raises
TypeError or ValueError instead of matching nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from psycopg import sql
from psycopg.types.json import Jsonb

RANGE_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
OPERATORS = ("$eq", "$in", *RANGE_OPERATORS)
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class CompiledFilter:
    """A WHERE condition over `metadata` and its parameters (named f0, f1, ...)."""

    condition: sql.Composable | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def where(self) -> sql.Composable:
        return sql.SQL("") if self.condition is None else sql.SQL("WHERE ") + self.condition


def _scalar(key: str, value: Any, use: str) -> Any:
    if not isinstance(value, _SCALARS):
        raise TypeError(f"filter on {key!r}: {use} takes a string, number, bool or None, not"
                        f" {type(value).__name__} {value!r}" + (" (use {'$in': [...]} for one of several)"
                                                                if isinstance(value, (list, tuple, set)) else ""))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"filter on {key!r}: {value} is not a JSON number")
    return value


def _bound_type(key: str, op: str, value: Any) -> str:
    """The jsonb type a range bound compares with."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _scalar(key, value, op)
        return "number"
    raise TypeError(f"filter on {key!r}: {op} takes a number or a string, not {type(value).__name__} {value!r}")


class _Builder:
    def __init__(self) -> None:
        self.equal: dict[str, Any] = {}
        self.parts: list[sql.Composable] = []
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> sql.Placeholder:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def equals(self, key: str, value: Any) -> None:
        value = _scalar(key, value, "equality")
        if key in self.equal and self.equal[key] != value:
            self.parts.append(sql.SQL("false"))  # two different values of one key
        self.equal[key] = value

    def one_of(self, key: str, values: Any) -> None:
        if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
            raise TypeError(f"filter on {key!r}: $in takes a list of values, not {type(values).__name__}")
        items = [Jsonb({key: _scalar(key, v, "$in")}) for v in values]
        self.parts.append(sql.SQL("metadata @> ANY({}::jsonb[])").format(self.param(items)))

    def in_range(self, key: str, op: str, value: Any) -> None:
        kind = _bound_type(key, op, value)
        k = self.param(key)
        self.parts.append(sql.SQL("(jsonb_typeof(metadata -> {k}) = {t} AND metadata -> {k} {op} {v})").format(
            k=k, t=sql.Literal(kind), op=sql.SQL(RANGE_OPERATORS[op]), v=self.param(Jsonb(value))))

    def condition(self, key: Any, cond: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"filter keys are metadata keys (strings), not {type(key).__name__} {key!r}")
        if key.startswith("$"):
            raise ValueError(f"unsupported filter operator {key!r} at the top level: the entries of a filter"
                             " are combined with AND; write {key: {'$in': [...]}} for alternatives")
        if not isinstance(cond, Mapping):
            self.equals(key, cond)
            return
        if not cond:
            raise ValueError(f"filter on {key!r}: an empty condition")
        for op, value in cond.items():
            if op == "$eq":
                self.equals(key, value)
            elif op == "$in":
                self.one_of(key, value)
            elif op in RANGE_OPERATORS:
                self.in_range(key, op, value)
            else:
                raise ValueError(f"filter on {key!r}: unsupported operator {op!r}"
                                 f" (supported: {', '.join(OPERATORS)}; nested objects are not)")


def compile_filter(filter: Any) -> CompiledFilter:
    """A filter (see the module's doc) as a condition on `metadata`."""
    if filter is None:
        return CompiledFilter()
    if not isinstance(filter, Mapping):
        raise TypeError(f"a filter is a dict of metadata keys to values or conditions"
                        f" ({', '.join(OPERATORS)}), not {type(filter).__name__} {filter!r}")
    b = _Builder()
    for key, cond in filter.items():
        b.condition(key, cond)
    if b.equal:
        b.parts.insert(0, sql.SQL("metadata @> {}").format(b.param(Jsonb(b.equal))))
    if not b.parts:
        return CompiledFilter()
    return CompiledFilter(sql.SQL(" AND ").join(b.parts), b.params)
