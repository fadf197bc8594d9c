"""Appending to the log and proving from it, with O(log n) database reads.

Appends are serialized: on PostgreSQL by a transaction-scoped advisory lock
(``pg_advisory_xact_lock``), on SQLite by its IMMEDIATE write transactions.
Inside the lock the head is read from the database, never from memory, so
any number of processes append contiguous indexes with no gap or duplicate;
the primary key on ``LogLeaf.index`` is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone

from provenance import merkle
from provenance.issue import tree
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import node_id
from provenance.tiles import TILE_WIDTH
from registry.bulk_insert import insert_rows
from registry.transparency import tiles
from registry.transparency.keys import active_key
from registry.transparency.models import Checkpoint, LogLeaf, LogNode, SigningKey

# Any constant: the advisory lock id of "the log head".
LOG_LOCK_ID = 0x41494C4F47  # "AILOG"


def _nodes_getter(using: str | None) -> tree.NodeGetter:
    """Fetch stored nodes in one query; ``using=None`` lets the router pick (replicas for reads)."""
    manager = LogNode.objects if using is None else LogNode.objects.using(using)

    def get_nodes(wanted: Sequence[tree.Node]) -> Mapping[tree.Node, bytes]:
        if not wanted:
            return {}
        ids = {node_id(level, index): (level, index) for level, index in wanted}
        rows = manager.filter(id__in=list(ids)).values_list("id", "hash")
        return {ids[i]: bytes(h) for i, h in rows}

    return get_nodes


def lock_log(using: str = "default") -> None:
    """Take the log-head lock for the rest of the current transaction."""
    conn = connections[using]
    if not conn.in_atomic_block:
        raise RuntimeError("lock_log() must run inside transaction.atomic()")
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK_ID])


def tree_size(using: str = "default") -> int:
    top = LogLeaf.objects.using(using).aggregate(m=Max("index"))["m"]
    return 0 if top is None else top + 1


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes
    tree_size: int
    inclusion_proof: list[bytes]
    checkpoint: str


def _stored_nodes_needed(start: int, size: int) -> list[tree.Node]:
    """Nodes complete before ``start`` that appending leaves ``start..size-1`` and proving them against ``size`` read."""
    wanted = tree.right_edge(start)  # what the new leaves are hashed into (tree.CompactRange)
    ranges = [(0, size)] + [r for index in range(start, size) for r in tree.inclusion_ranges(index, size)]
    wanted += tree.plan_nodes(ranges)
    # Only nodes whose leaves all precede ``start`` are stored already; the rest are computed by this append.
    return [(level, i) for level, i in dict.fromkeys(wanted) if (i + 1) << level <= start]


def append(leaf_data: Sequence[str]) -> list[Appended]:
    """Append leaves, sign one checkpoint for the new size, and return each leaf's proof against it.

    Must run inside the caller's transaction so that a declaration and its
    leaf commit together or not at all. The lock is held until that
    transaction commits, so the work inside it is kept to a few statements:
    hashing and the key lookup happen before it, and every stored node the
    append, the root and the proofs need is read in one query.
    """
    if not leaf_data:
        return []
    using = "default"
    hashes = [merkle.leaf_hash(data.encode("utf-8")) for data in leaf_data]
    key, private = active_key(SigningKey.CHECKPOINT)  # loaded (slowly, once) before the lock
    lock_log(using)
    # A checkpoint-key rotation takes this lock and stamps the old key's last_tree_size with the size it
    # sees: re-read which key is active now, so a key retired while we waited never signs a larger tree.
    if not SigningKey.objects.using(using).filter(pk=key.pk, status=SigningKey.ACTIVE).exists():
        key, private = active_key(SigningKey.CHECKPOINT)
    get_stored = _nodes_getter(using)
    start = tree_size(using)
    size = start + len(leaf_data)
    known: dict[tree.Node, bytes] = dict(get_stored(_stored_nodes_needed(start, size)))
    pending: dict[tree.Node, bytes] = {}

    def get_nodes(wanted: Sequence[tree.Node]) -> Mapping[tree.Node, bytes]:
        found = {n: known[n] for n in wanted if n in known}
        missing = [n for n in wanted if n not in known]
        if missing:  # not planned for: read them rather than fail (costs a query, never correctness)
            found.update(get_stored(missing))
        return found

    edge = tree.CompactRange.at(start, get_nodes)  # the stored tree's right edge, read with the rest above
    now = timezone.now()
    leaves = []
    for offset, (data, leaf) in enumerate(zip(leaf_data, hashes, strict=True)):
        leaves.append((start + offset, leaf, data, now))
        new = edge.append(leaf)
        pending.update(new)
        known.update(new)
    # A batch's leaves by COPY on PostgreSQL (registry/bulk_insert.py); one leaf, one INSERT.
    insert_rows(LogLeaf, ("index", "leaf_hash", "data", "created_at"), leaves, using=using)
    insert_rows(LogNode, ("id", "hash"), ((node_id(*n), h) for n, h in pending.items()), using=using)

    root = edge.root()
    note = sign_checkpoint(settings.REGISTRY_LOG_ORIGIN, size, root, private)
    Checkpoint.objects.using(using).create(tree_size=size, root_hash=root, note=note, key=key)
    if size // TILE_WIDTH > start // TILE_WIDTH:
        # This append completed at least one tile: store it once committed, after the lock is released.
        transaction.on_commit(lambda: tiles.write_completed(start, size, using), using=using, robust=True)
    return [
        Appended(
            index=index,
            leaf_hash=bytes(leaf),
            tree_size=size,
            inclusion_proof=tree.inclusion_proof(index, size, get_nodes),
            checkpoint=note,
        )
        for index, leaf, _, _ in leaves
    ]


def append_one(data: str) -> Appended:
    return append([data])[0]


def latest_checkpoint(using: str | None = None) -> Checkpoint | None:
    qs = Checkpoint.objects.all() if using is None else Checkpoint.objects.using(using)
    return qs.order_by("-tree_size").first()


def inclusion_proof(index: int, size: int, using: str | None = None) -> list[bytes]:
    return tree.inclusion_proof(index, size, _nodes_getter(using))


def consistency_proof(first: int, second: int, using: str | None = None) -> list[bytes]:
    return tree.consistency_proof(first, second, _nodes_getter(using))
