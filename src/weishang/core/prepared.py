"""Hot reads compiled once: the ORM's SQL kept and run again with new values (M13 load).

Django compiles a queryset to SQL every time it runs it, and for a read with a few joins that
costs more CPU than the database's answer: the device token with its user, agent, level, supplier
and referrer (asked by every API request), an order with its parties, its lines with their SKUs.
cProfile over the completed order path put about 30 % of a request's CPU in ``SQLCompiler.as_sql``
(bench/load_profile.py). :func:`prepared` compiles such a read once per database and process
and afterwards only puts the call's values into the kept statement; the rows become model
instances exactly as Django's own ``ModelIterable`` makes them (its compiler does it, with the
``select_related`` objects, the field converters and the fetch mode).

Why not a library: the one that did this (django-prepared-queries) stopped at Django 1.x. Why
not raw SQL: the statement would be a second copy of the models' shape, and of their joins, to
keep in step by hand; here the ORM stays the one source of the SQL.

What a prepared read may be, checked when it is first compiled (``PreparedQueryError`` if not):
a queryset of model instances (no ``values()``), whose SQL does not change with the values
given (two compilations with different samples must give the same statement), each value
reaching the statement unchanged (a pk, a number, a hash: ``int`` or ``str``, no ``__contains``
or ``__in``), with no objects known from a related manager. ``select_for_update`` is allowed and
refused outside a transaction, as Django refuses it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.db.transaction import TransactionManagementError

_SAMPLES: dict[type, tuple[Callable[[int], Any], Callable[[int], Any]]] = {
    int: (lambda i: 30_001 + i, lambda i: 30_101 + i),  # within a small integer: a rank, a quantity
    str: (lambda i: f"\x01prepared-a{i}", lambda i: f"\x01prepared-b{i}"),
}


class PreparedQueryError(TypeError):
    """A read that cannot be prepared, or a value of the wrong type for it: a programming error."""


class _Statement:
    """One compiled read: the compiler that made it (its ``select`` and ``klass_info`` turn rows
    into instances), its SQL, its parameters with the call's values' places, and the queryset."""

    def __init__(self, build: Callable[..., QuerySet], types: tuple[type, ...], alias: str):
        samples_a = tuple(_SAMPLES[t][0](i) for i, t in enumerate(types))
        samples_b = tuple(_SAMPLES[t][1](i) for i, t in enumerate(types))
        queryset: Any = build(*samples_a).using(alias)  # its private fields are Django's, untyped
        if queryset._iterable_class is not ModelIterable or queryset._known_related_objects:
            raise PreparedQueryError(f"{build.__qualname__}: only plain model querysets can be prepared")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
            sql_b, params_b = build(*samples_b).using(alias).query.get_compiler(using=alias).as_sql()
        except EmptyResultSet as exc:
            raise PreparedQueryError(f"{build.__qualname__}: compiles to no statement for its samples") from exc
        if sql != sql_b or len(params) != len(params_b):
            raise PreparedQueryError(f"{build.__qualname__}: its SQL changes with the values given")
        places: list[tuple[int, int]] = []
        for position, (a, b) in enumerate(zip(params, params_b, strict=True)):
            if a == b:
                continue
            if a not in samples_a or samples_b.index(b) != samples_a.index(a):
                raise PreparedQueryError(f"{build.__qualname__}: a value does not reach its SQL unchanged")
            places.append((position, samples_a.index(a)))
        if {index for _position, index in places} != set(range(len(types))):
            raise PreparedQueryError(f"{build.__qualname__}: a value given does not reach its SQL")
        self.compiler, self.sql, self.params, self.places = compiler, sql, tuple(params), places
        self.queryset, self.locks = queryset, bool(queryset.query.select_for_update)

    def run(self, values: tuple, alias: str) -> list:
        params = list(self.params)
        for position, index in self.places:
            params[position] = values[index]
        connection = connections[alias]
        if self.locks and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiler = copy.copy(self.compiler)
        compiler.connection = connection  # this thread's connection, not the one that compiled
        sql, frozen = self.sql, tuple(params)
        compiler.as_sql = lambda *args, **kwargs: (sql, frozen)
        template = self.queryset
        queryset: Any = template.__class__(model=template.model, query=_Compiled(compiler), using=alias)
        queryset._prefetch_related_lookups = template._prefetch_related_lookups
        queryset._fetch_mode = template._fetch_mode
        return list(queryset)


class _Compiled:
    """Stands in for the queryset's ``Query``: hands Django's ``ModelIterable`` the compiler that
    holds this call's statement (the only thing it asks the query for)."""

    def __init__(self, compiler):
        self.compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self.compiler


class Prepared[M: Model]:
    """``build``'s queryset, compiled once per database alias and vendor, run with new values."""

    def __init__(self, build: Callable[..., QuerySet[M]], types: tuple[type, ...]):
        self.build, self.types = build, types
        self._statements: dict[tuple[str, str], _Statement] = {}
        self._lock = threading.Lock()
        self.__doc__, self.__qualname__ = build.__doc__, build.__qualname__

    def __call__(self, *values, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        if len(values) != len(self.types) or any(
            not isinstance(v, t) or isinstance(v, bool) for v, t in zip(values, self.types, strict=False)
        ):
            raise PreparedQueryError(f"{self.__qualname__} takes {[t.__name__ for t in self.types]}, not {values!r}")
        values = tuple(t(v) for v, t in zip(values, self.types, strict=True))  # a str subclass as the str
        key = (using, connections[using].vendor)
        statement = self._statements.get(key)
        if statement is None:
            with self._lock:
                statement = self._statements.get(key) or _Statement(self.build, self.types, using)
                self._statements[key] = statement
        return statement.run(values, using)


def prepared[M: Model](*types: type) -> Callable[[Callable[..., QuerySet[M]]], Prepared[M]]:
    """Decorate a function that builds a queryset from its arguments (of these types, ``int`` or
    ``str``): calling it returns the rows as a list, the SQL compiled on the first call only::

        @prepared(str)
        def token_by_hash(key_hash):
            return ApiToken.objects.select_related("user").filter(key_hash=key_hash)[:1]
    """
    for t in types:
        if t not in _SAMPLES:
            raise PreparedQueryError(f"prepared reads take int or str values, not {t.__name__}")

    def wrap(build: Callable[..., QuerySet[M]]) -> Prepared[M]:
        return Prepared(build, types)

    return wrap
