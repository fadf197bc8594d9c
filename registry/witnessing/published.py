"""What the web serves of witnessing: the newest cosigned checkpoint, and the ``witnessed`` member of answers.

Lookups are the hot path (registry/declarations/stored_answers.py), so each
web process keeps, for at most ``WITNESSED_TTL`` seconds, the newest
:class:`CosignedCheckpoint` (one query per process per second, not per
lookup), and renders the ``witnessed`` member once per (bundle tree size,
cosigned size): the consistency proof from a bundle's size to the cosigned
one never changes, so it is computed once per witness round and reused until
the next. This is per-process memory on purpose: two workers may answer with
two different cosigned checkpoints for up to a second, and both are valid
(docs/architecture.md: nothing that workers must agree on).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from provenance.encoding import b64encode
from provenance.issue import tree
from provenance.issue.tree import node_id
from registry.transparency.models import LogNode
from registry.witnessing import config
from registry.witnessing.models import CosignedCheckpoint

WITNESSED_TTL = 1.0
NOT_YET = b'{"status":"not yet witnessed"}'
_MEMBERS_MAX = 20_000  # rendered members kept per process (~1 KB each)
_NODES_PER_QUERY = 500  # stays under SQLite's bound-parameter limit


@dataclass
class _Current:
    fetched: float = float("-inf")
    row: CosignedCheckpoint | None = None
    members: dict[int, bytes] = field(default_factory=dict)  # bundle tree size -> rendered member


_current = _Current()
_lock = threading.Lock()


def newest() -> CosignedCheckpoint | None:
    """The newest cosigned checkpoint, read at most once per ``WITNESSED_TTL`` seconds per process."""
    global _current
    now = time.monotonic()
    if now - _current.fetched < WITNESSED_TTL:
        return _current.row
    row = CosignedCheckpoint.objects.order_by("-id").only("id", "tree_size", "note").first()
    with _lock:
        if _current.row is None or row is None or row.id != _current.row.id:
            _current = _Current(now, row)  # a new round: every rendered member is for the old size
        else:
            _current.fetched = now
    return row


def forget() -> None:
    """Drop this process's copy (tests, and the worker after it publishes)."""
    global _current
    _current = _Current()


def witnessed_members(sizes: Iterable[int]) -> dict[int, bytes]:
    """Bundle tree size -> the JSON bytes of its ``witnessed`` member; proofs missing are read in one batch."""
    if not config.enabled():
        return {}
    row = newest()
    state = _current
    wanted = set(sizes)
    if row is None:
        return dict.fromkeys(wanted, NOT_YET)
    out: dict[int, bytes] = {}
    missing: list[int] = []
    for size in wanted:
        if size > row.tree_size:
            out[size] = NOT_YET
        elif (member := state.members.get(size)) is not None:
            out[size] = member
        else:
            missing.append(size)
    if missing:
        proofs = _consistency_proofs(missing, row.tree_size)
        note = json.dumps(row.note, ensure_ascii=False)
        for size in missing:
            hashes = ",".join(f'"{b64encode(h)}"' for h in proofs[size])
            member = f'{{"checkpoint":{note},"consistency_proof":[{hashes}]}}'.encode()
            out[size] = member
        with _lock:
            if len(state.members) + len(missing) > _MEMBERS_MAX:
                state.members.clear()
            state.members.update({size: out[size] for size in missing})
    return out


def _consistency_proofs(firsts: list[int], second: int) -> dict[int, list[bytes]]:
    """RFC 9162 consistency proofs from each of ``firsts`` to ``second``, from one read of the stored nodes."""
    ranges = {first: tree.consistency_ranges(first, second) for first in firsts}
    needed = tree.plan_nodes(r for rs in ranges.values() for r in rs)
    nodes: dict[tree.Node, bytes] = {}
    for start in range(0, len(needed), _NODES_PER_QUERY):
        chunk = {node_id(level, index): (level, index) for level, index in needed[start : start + _NODES_PER_QUERY]}
        for nid, h in LogNode.objects.filter(id__in=list(chunk)).values_list("id", "hash"):
            nodes[chunk[nid]] = bytes(h)
    return {first: tree.hashes_for_ranges(rs, lambda _wanted: nodes) for first, rs in ranges.items()}
