"""The two agent trees (supplier and referrer) and their closure-table indexes.

Truth is the parent foreign key on ``Agent``. Each tree has a closure table holding one row per
(ancestor, descendant) pair, including every agent with itself at depth 0. That makes every
team question one indexed query at any depth — no recursion, no depth cap:

- team of X:        ``ancestor_id = X``            (size, members, volume by join)
- chain above X:    ``descendant_id = X``          ordered by depth
- is Y under X:     one unique-index probe         (used for cycle checks)

A move of X (with its team) under P deletes the links from X's old ancestors into X's team and
inserts the cross product of P's ancestors and X's team: two set-based statements, whatever
the depth. Writers of a tree serialise on one lock per tree (a PostgreSQL advisory lock; on
SQLite the IMMEDIATE transaction already holds the database write lock), so two concurrent
moves can never build a cycle between them. Why closure and not a path column: see
docs/decisions.md.

Functions here are the mechanism; ``channel.services`` decides when they run and records why.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Model

from weishang.channel.models import Agent, ReferrerLink, SupplierLink


class Relation(enum.StrEnum):
    SUPPLIER = "supplier"
    REFERRER = "referrer"

    @property
    def link_model(self) -> type[Model]:
        return SupplierLink if self is Relation.SUPPLIER else ReferrerLink

    @property
    def parent_field(self) -> str:
        return f"{self.value}_id"

    @property
    def lock_key(self) -> int:
        # Stable 64-bit keys for pg_advisory_xact_lock, one per tree.
        return 0x5753_0001 if self is Relation.SUPPLIER else 0x5753_0002


class CycleError(ValueError):
    """Raised when a move would put an agent under themselves or one of their own team."""


def lock(relation: Relation) -> None:
    """Serialise writers of one tree until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("tree.lock() must be called inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [relation.lock_key])
    # SQLite: transaction_mode IMMEDIATE means this transaction already holds the write lock.


def _table(relation: Relation) -> str:
    return connection.ops.quote_name(relation.link_model._meta.db_table)


def attach(relation: Relation, *, agent_id: int, parent_id: int | None) -> None:
    """Index a new agent (no team yet) under ``parent_id`` (or as a root)."""
    table = _table(relation)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (ancestor_id, descendant_id, depth) VALUES (%s, %s, 0)", [agent_id, agent_id]
        )
        if parent_id is not None:
            cursor.execute(
                f"INSERT INTO {table} (ancestor_id, descendant_id, depth) "
                f"SELECT ancestor_id, %s, depth + 1 FROM {table} WHERE descendant_id = %s",
                [agent_id, parent_id],
            )


def is_in_team(relation: Relation, *, member_id: int, leader_id: int) -> bool:
    """True if ``member_id`` is ``leader_id`` or anywhere below them."""
    return relation.link_model.objects.filter(ancestor_id=leader_id, descendant_id=member_id).exists()


# Called in the move's transaction with (agent_id, sign): sign -1 while the agent's team still
# hangs under the old ancestors (just before the links change), +1 once it hangs under the new
# ones. Installed by apps above channel that keep figures per team (trade's team-volume rollup),
# so that channel imports none of them.
MoveListener = Callable[[int, int], None]
_move_listeners: dict[Relation, list[MoveListener]] = defaultdict(list)


def on_move(relation: Relation, listener: MoveListener) -> None:
    """Call ``listener(agent_id, sign)`` around every move of ``relation`` (once per listener)."""
    if listener not in _move_listeners[relation]:
        _move_listeners[relation].append(listener)


def move(relation: Relation, *, agent_id: int, new_parent_id: int | None) -> None:
    """Re-index ``agent_id`` and its whole team under ``new_parent_id`` (None = root).

    The caller holds :func:`lock` and updates the parent key in the same transaction.
    Raises :class:`CycleError` if the new parent is the agent or inside its team.
    """
    if new_parent_id is not None and is_in_team(relation, member_id=new_parent_id, leader_id=agent_id):
        raise CycleError(f"agent {new_parent_id} is in the {relation} team of agent {agent_id}")
    listeners = _move_listeners.get(relation, [])
    for listener in listeners:
        listener(agent_id, -1)
    _move_links(relation, agent_id=agent_id, new_parent_id=new_parent_id)
    for listener in listeners:
        listener(agent_id, +1)


def _move_links(relation: Relation, *, agent_id: int, new_parent_id: int | None) -> None:
    table = _table(relation)
    with connection.cursor() as cursor:
        # Drop links from the old ancestors (strictly above the agent) into the agent's team.
        cursor.execute(
            f"DELETE FROM {table} WHERE descendant_id IN "
            f"(SELECT descendant_id FROM {table} WHERE ancestor_id = %s) "
            f"AND ancestor_id IN (SELECT ancestor_id FROM {table} WHERE descendant_id = %s AND depth > 0)",
            [agent_id, agent_id],
        )
        if new_parent_id is not None:
            cursor.execute(
                f"INSERT INTO {table} (ancestor_id, descendant_id, depth) "
                f"SELECT up.ancestor_id, down.descendant_id, up.depth + down.depth + 1 "
                f"FROM {table} up CROSS JOIN {table} down "
                f"WHERE up.descendant_id = %s AND down.ancestor_id = %s",
                [new_parent_id, agent_id],
            )


# --- whole-tree rebuild and verification ----------------------------------------------------


def expected_links(parents: dict[int, int | None]) -> Iterator[tuple[int, int, int]]:
    """All (ancestor, descendant, depth) rows the closure must hold for ``parents``.

    Walks from each root down, carrying the chain of ancestors, so the work is the number of
    links. Raises CycleError if some agents are not reachable from a root (a cycle).
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    for node, parent in parents.items():
        children[parent].append(node)
    seen = 0
    stack: list[tuple[int, tuple[int, ...]]] = [(root, ()) for root in reversed(children[None])]
    while stack:
        node, chain = stack.pop()
        seen += 1
        yield node, node, 0
        length = len(chain)
        for i, anc in enumerate(chain):
            yield anc, node, length - i
        below = (*chain, node)
        for child in children.get(node, ()):
            stack.append((child, below))
    if seen != len(parents):
        raise CycleError(f"{len(parents) - seen} agents are in a cycle and reach no root")


def _in_cycles(parents: dict[int, int | None]) -> list[int]:
    """Agents whose chain of parents never reaches a root (in or under a cycle), first 20."""
    reaches_root: dict[int, bool] = {}
    stuck = []
    for start in parents:
        path, node, seen = [], start, set()
        while node is not None and node not in reaches_root and node not in seen:
            seen.add(node)
            path.append(node)
            node = parents.get(node)
        ok = node is None or reaches_root.get(node, False)
        for n in path:
            reaches_root[n] = ok
        if not ok:
            stuck.append(start)
    return sorted(stuck)[:20]


def _parents(relation: Relation) -> dict[int, int | None]:
    return dict(Agent.objects.values_list("pk", relation.parent_field).iterator(chunk_size=20_000))


def _bulk_insert(relation: Relation, rows: Iterable[tuple[int, int, int]], batch: int = 20_000) -> int:
    table = relation.link_model._meta.db_table
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg 3: COPY is the fast path for bulk rows
            with raw.copy(f'COPY "{table}" (ancestor_id, descendant_id, depth) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f'INSERT INTO "{table}" (ancestor_id, descendant_id, depth) VALUES (%s, %s, %s)'
        chunk: list[tuple[int, int, int]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


@transaction.atomic
def rebuild(relation: Relation) -> int:
    """Recompute the closure of one tree from the parent keys. Returns the number of links."""
    lock(relation)
    parents = _parents(relation)
    rows = list(expected_links(parents))  # raises before anything is deleted if there is a cycle
    relation.link_model.objects.all().delete()
    count = _bulk_insert(relation, rows)
    with connection.cursor() as cursor:  # the table was rewritten: refresh the planner's statistics
        cursor.execute(f"ANALYZE {_table(relation)}")
    return count


def verify(relation: Relation) -> list[str]:
    """Differences between the closure table and the parent keys; empty when all is right."""
    parents = _parents(relation)
    try:
        expected = set(expected_links(parents))
    except CycleError:
        return [f"{relation}: the parent keys hold a cycle: agents {', '.join(map(str, _in_cycles(parents)))}"]
    actual = set(relation.link_model.objects.values_list("ancestor_id", "descendant_id", "depth").iterator(50_000))
    problems = []
    for anc, desc, depth in sorted(expected - actual)[:20]:
        problems.append(f"{relation}: missing link {anc} → {desc} at depth {depth}")
    for anc, desc, depth in sorted(actual - expected)[:20]:
        problems.append(f"{relation}: stray link {anc} → {desc} at depth {depth}")
    missing, stray = len(expected - actual), len(actual - expected)
    if missing + stray > 40:
        problems.append(f"{relation}: {missing} missing and {stray} stray links in all")
    return problems
