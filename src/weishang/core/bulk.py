"""Large writes and set-wise SQL without model instances, for the batch jobs (settlement, release,
journal postings of thousands of lines), where building and preparing a model instance per row
costs many times the SQL.

Each function is written once per database backend — PostgreSQL and SQLite, the two the project
runs on — and chooses by the connection's vendor. Nothing here knows a domain: the caller names
the model, its fields and the rows (the ledger's journal lines and balances, the rewards' lines
and reports).

- :func:`insert_rows`: rows into a table (``COPY`` on PostgreSQL; ``INSERT … SELECT … FROM
  json_each`` or ``executemany`` on SQLite).
- :func:`insert_missing`: one row per key, with the same other values, skipping keys already
  there (``ON CONFLICT DO NOTHING``).
- :func:`add_to_column`: ``column = column + d`` for many rows in one statement, optionally only
  where the result stays at or above a floor.
- :func:`column_in` and :func:`chunks`: ``column IN (…)`` as one parameter, however many values.

Call them inside a transaction; the default connection is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models.fields.reverse_related import ForeignObjectRel

IN_CHUNK = 20_000  # values per ``column_in`` worth reading at once (and rows per json_each insert)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` into ``model``'s table without model instances.

    Each row is a tuple in the order of ``fields`` (model field names; a foreign key as its id),
    each value already of the field's Python type (int, str, Decimal exact to the field's
    places, aware datetime, dict for JSON). No ``save()``, signals or Python defaults: give every
    column that has no database default. Call it inside a transaction.

    PostgreSQL: ``COPY … FROM STDIN``. SQLite: rows of numbers and short strings as one
    ``INSERT … SELECT … FROM json_each(?)`` (one JSON array parsed by SQLite, instead of binding
    every value of every row from Python: half the time for 100,000 reports); rows with long text
    or JSON (reward lines) by ``executemany``, where encoding the text into JSON would cost more.
    Either way the stored values are those the ORM stores (decimals as text for SQLite to convert,
    datetimes as Django writes them)."""
    opts = model._meta
    found = [opts.get_field(name) for name in fields]
    write = _WRITERS.get(connection.vendor)
    if write is None:
        raise NotImplementedError(f"no bulk writer for {connection.vendor}")
    write(connection.ops.quote_name(opts.db_table), found, rows)


def _copy_postgresql(table: str, found: list[Any], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL's writer: ``COPY`` (psycopg adapts each value; JSON goes in as its text)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(field)) for field in found)
    as_json = [(i, _json_text(field.encoder)) for i, field in enumerate(found) if isinstance(field, models.JSONField)]
    if as_json:
        rows = map(_prepare(as_json), rows)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_sqlite(table: str, found: list[Any], rows: Iterable[Sequence[Any]]) -> None:
    """SQLite's writer: ``INSERT … SELECT … FROM json_each`` for short rows, ``executemany`` for
    rows with long text or JSON."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(field)) for field in found)
    # (position, function of the value) for the values SQLite cannot take as they are
    adapt: list[tuple[int, Callable[..., Any]]] = []
    for i, field in enumerate(found):
        if isinstance(field, models.JSONField):
            adapt.append((i, _json_text(field.encoder)))
        elif isinstance(field, models.DateTimeField):
            adapt.append((i, _same_as_last(connection.ops.adapt_datetimefield_value)))
        # Decimals go in as text, which the column converts as it converts the ORM's: by the
        # adapter Django registers for sqlite3 (executemany), or as JSON strings (json_each below).
    if adapt:
        rows = map(_prepare(adapt), rows)
    long_text = any(
        isinstance(field, models.JSONField | models.TextField)
        or (isinstance(field, models.CharField) and (field.max_length or 0) > 100)
        for field in found
    )
    with connection.cursor() as cursor:
        if long_text:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(found))})", rows)  # type: ignore[arg-type]  # any iterable of rows works; the stubs ask for a Sequence
            return
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(found)))
        for chunk in _batched(rows, IN_CHUNK):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {values} FROM json_each(%s)",
                [json.dumps(chunk, default=_decimal_text)],
            )


_WRITERS: dict[str, Callable[[str, list[Any], Iterable[Sequence[Any]]], None]] = {
    "postgresql": _copy_postgresql,
    "sqlite": _insert_sqlite,
}


def insert_missing(
    model: type[models.Model], key: str, keys: Sequence[int], fields: Sequence[str], values: Sequence[Any]
) -> None:
    """Insert one row per integer in ``keys`` (into field ``key``), each with the same ``values``
    for ``fields``; a row that would break a unique constraint (a concurrent writer's, or one
    already there) is skipped quietly (``ON CONFLICT DO NOTHING``). One statement: the keys go in
    as one array (PostgreSQL) or one JSON array (SQLite). ``values`` as the database takes them
    (e.g. a datetime through ``connection.ops.adapt_datetimefield_value``)."""
    opts = model._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(_column(opts.get_field(name))) for name in (key, *fields))
    insert = f"INSERT INTO {qn(opts.db_table)} ({columns})"
    constants = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"{insert} SELECT o, {constants} FROM unnest(%s::bigint[]) AS o ON CONFLICT DO NOTHING",
                [*values, list(keys)],
            )
        else:  # "WHERE true": SQLite's parser needs it before ON CONFLICT in INSERT … SELECT
            cursor.execute(
                f"{insert} SELECT value, {constants} FROM json_each(%s) WHERE true ON CONFLICT DO NOTHING",
                [*values, json.dumps(list(keys))],
            )


def add_to_column(
    model: type[models.Model], column: str, changes: Sequence[tuple[int, Decimal]], *, floor: Decimal | None = None
) -> int:
    """``column = column + d`` for each (primary key, d) of a decimal column, in one statement
    (PostgreSQL: ``UPDATE … FROM unnest``) or one ``executemany`` (SQLite, the SQL the ORM writes
    for ``F(column) + d``). With ``floor``, only the rows where the result stays at or above it
    (``column >= floor - d``). Returns how many rows changed."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    col = qn(column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            guard = f" AND a.{col} >= %s - v.d" if floor is not None else ""
            cursor.execute(
                f"UPDATE {table} AS a SET {col} = a.{col} + v.d "
                f"FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, d) WHERE a.id = v.id{guard}",
                [[pk for pk, _d in changes], [d for _pk, d in changes], *([floor] if floor is not None else [])],
            )
        else:
            guard = f" AND {col} >= %s" if floor is not None else ""
            cursor.executemany(
                f"UPDATE {table} SET {col} = (CAST(({col} + (CAST(%s AS REAL))) AS NUMERIC))"
                f" WHERE {qn('id')} = %s{guard}",
                [(d, pk, floor - d) if floor is not None else (d, pk) for pk, d in changes],
            )
        return cursor.rowcount


def column_in(column: str, values: list[int]) -> tuple[str, list[Any]]:
    """``column IN values`` as SQL and its one parameter, however many values: an array on
    PostgreSQL, a JSON array read by ``json_each`` on SQLite (which limits the number of
    parameters)."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        return f"{qn(column)} = ANY(%s)", [list(values)]
    return f"{qn(column)} IN (SELECT value FROM json_each(%s))", [json.dumps(list(values))]


def chunks[T](items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _column(field: models.Field[Any, Any] | ForeignObjectRel) -> str:
    """The column of a field that has one (what a bulk write fills), not a relation's reverse side."""
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{field} has no column")
    return field.column


def _json_text(encoder: Any) -> Callable[[Any], str | None]:
    return lambda v: None if v is None else json.dumps(v, cls=encoder)


def _decimal_text(value: Any) -> str:
    """``json.dumps`` default: a Decimal as its exact text (a JSON string); nothing else."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _prepare(adapt: list[tuple[int, Callable[..., Any]]]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function that returns a row with the values at the given positions converted."""

    def prepared(row: Sequence[Any]) -> list[Any]:
        row = list(row)
        for i, function in adapt:
            row[i] = function(row[i])
        return row

    return prepared


def _batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _same_as_last(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` that reuses its last result when given the same object again (a batch's rows
    share their timestamps)."""
    last: list[Any] = [object(), None]

    def adapt(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, function(value)
        return last[1]

    return adapt
