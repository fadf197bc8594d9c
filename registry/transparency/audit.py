"""Recompute the whole log from its rows and report the first discrepancy.

Checks, in one streaming pass over the leaves (O(log n) memory):
contiguous indexes; every leaf hash from its data; every stored subtree node;
every checkpoint's root, origin and signature; every declaration's envelope
signature, statement, version chain and stored bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from provenance import checkpoint as pcheckpoint
from provenance import merkle
from provenance.errors import ProvenanceError
from provenance.issue.tree import CompactRange, node_id, node_index, node_level
from provenance.keys import KeySet, parse_jwk
from provenance.limits import ENTRY_MAX
from registry.transparency.keys import jwk
from registry.transparency.models import Checkpoint, LogLeaf, LogNode, SigningKey

CHUNK = 2000

# Checks of what the leaves hold, registered by the apps that write them (the declarations
# app registers its own in its AppConfig.ready), so this module never imports them.
EntryCheck = Callable[["AuditReport", KeySet, str], None]
_ENTRY_CHECKS: list[EntryCheck] = []


def register_entry_check(check: EntryCheck) -> None:
    if check not in _ENTRY_CHECKS:
        _ENTRY_CHECKS.append(check)


class AuditFailure(Exception):
    pass


@dataclass
class AuditReport:
    leaves: int = 0
    nodes: int = 0
    checkpoints: int = 0
    declarations: int = 0
    # Leaves some entry check accounted for (a declaration, a key event, a dispute step …);
    # every leaf must be one of them.
    entries: int = 0
    root: bytes = merkle.EMPTY_ROOT
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"OK: {self.leaves} leaves, {self.nodes} nodes, {self.checkpoints} checkpoints and "
            f"{self.declarations} declarations verified; root {self.root.hex()}"
        )


def audit_log(using: str = "default") -> AuditReport:
    """Verify everything; raise :class:`AuditFailure` at the first discrepancy."""
    report = AuditReport()
    origin = settings.REGISTRY_LOG_ORIGIN
    keys = list(SigningKey.objects.using(using).all())
    key_by_pk = {k.pk: k for k in keys}
    # Integrity is checked with every key's public half whatever its status;
    # revoked keys are reported as warnings, not as corruption.
    all_keys = KeySet(parse_jwk({**jwk(k), "status": "active"}) for k in keys)
    checkpoints = list(
        Checkpoint.objects.using(using).order_by("tree_size").values_list("tree_size", "root_hash", "note", "key_id")
    )
    cp_pos = 0
    edge = CompactRange()  # the tree recomputed from the leaves, its right edge only

    def check_checkpoints_at(size: int) -> None:
        nonlocal cp_pos
        while cp_pos < len(checkpoints) and checkpoints[cp_pos][0] <= size:
            cp_size, root_hash, note, key_pk = checkpoints[cp_pos]
            if cp_size < size:
                raise AuditFailure(f"checkpoint at size {cp_size} could not be checked")
            root = edge.root()
            if bytes(root_hash) != root:
                raise AuditFailure(
                    f"checkpoint at size {cp_size}: stored root {bytes(root_hash).hex()} != recomputed {root.hex()}"
                )
            key = key_by_pk[key_pk]
            try:
                cp = pcheckpoint.parse_checkpoint(note)
                public = all_keys.get(key.kid)
                if public is None:
                    raise AuditFailure(f"checkpoint at size {cp_size}: key {key.kid} is not in the key set")
                cp.verify(public)
            except ProvenanceError as exc:
                raise AuditFailure(f"checkpoint at size {cp_size}: {exc}") from exc
            if cp.origin != origin or cp.size != cp_size or cp.root != root:
                raise AuditFailure(f"checkpoint at size {cp_size}: the signed note does not match the log")
            if key.last_tree_size is not None and cp_size > key.last_tree_size:
                raise AuditFailure(
                    f"checkpoint at size {cp_size} is signed by key {key.kid}, retired at size {key.last_tree_size}"
                )
            if key.status == SigningKey.REVOKED:
                report.warnings.append(f"checkpoint at size {cp_size} is signed by revoked key {key.kid}")
            report.checkpoints += 1
            cp_pos += 1

    check_checkpoints_at(0)
    expected, last = 0, -1
    while True:
        chunk = list(
            LogLeaf.objects.using(using)
            .filter(index__gt=last)
            .order_by("index")[:CHUNK]
            .values_list("index", "leaf_hash", "data")
        )
        if not chunk:
            break
        completed: dict[int, bytes] = {}
        for index, stored_hash, data in chunk:
            if index != expected:
                raise AuditFailure(f"leaf {expected} is missing (the next stored leaf is {index})")
            encoded = data.encode("utf-8")
            leaf = merkle.leaf_hash(encoded)
            if len(encoded) > ENTRY_MAX:  # logged before the limit: its tlog-tiles entry bundle cannot be served
                report.warnings.append(f"leaf {index} is {len(encoded)} bytes, over the {ENTRY_MAX}-byte entry limit")
            if bytes(stored_hash) != leaf:
                raise AuditFailure(
                    f"leaf {index}: stored hash {bytes(stored_hash).hex()} is not SHA-256(0x00 || data) {leaf.hex()}"
                )
            for (level, i), h in edge.append(leaf):
                completed[node_id(level, i)] = h
            expected += 1
            check_checkpoints_at(expected)
        stored = dict(LogNode.objects.using(using).filter(id__in=list(completed)).values_list("id", "hash"))
        for nid in sorted(completed, key=lambda n: node_index(n) << node_level(n)):
            where = f"node (level {node_level(nid)}, index {node_index(nid)})"
            if nid not in stored:
                raise AuditFailure(f"{where} is missing")
            if bytes(stored[nid]) != completed[nid]:
                raise AuditFailure(f"{where} does not match the leaves below it")
        report.nodes += len(completed)
        last = chunk[-1][0]
    report.leaves = expected
    report.root = edge.root()
    if cp_pos < len(checkpoints):
        raise AuditFailure(f"checkpoint at size {checkpoints[cp_pos][0]} is beyond the log's {expected} leaves")
    extra_nodes = LogNode.objects.using(using).count() - report.nodes
    if extra_nodes:
        raise AuditFailure(f"{extra_nodes} stored node(s) do not belong to the tree")
    for check in _ENTRY_CHECKS:  # what each kind of log entry must also satisfy (registered by its app)
        check(report, all_keys, using)
    if report.entries != report.leaves:
        raise AuditFailure(
            f"{report.leaves - report.entries} leaf/leaves carry no declaration or other known statement"
        )
    return report
