"""Reads for the witnessing endpoints: the checkpoint /tlog/checkpoint serves, the policy, staleness, tlog-proofs."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from provenance.tlogproof import format_proof
from registry.transparency import log
from registry.transparency.models import LogLeaf, SigningKey
from registry.witnessing import config
from registry.witnessing.models import CosignedCheckpoint, WitnessStatus
from registry.witnessing.rounds import latest_cosigned


def served_checkpoint() -> str | None:
    """The note ``/tlog/checkpoint`` serves (docs/protocol.md §13.4).

    With witnesses configured, the newest cosigned checkpoint with all its
    cosignatures, once there is one: what a tlog-tiles client with a policy
    can accept (a newer, not yet cosigned checkpoint would fail every quorum
    until the next round; the tiles of every size stay served). Until the
    first round, or without witnesses, the log's latest checkpoint.
    """
    if config.enabled():
        row = latest_cosigned()
        if row is not None:
            return row.note
    cp = log.latest_checkpoint()
    return cp.note if cp is not None else None


def policy() -> str:
    keys = SigningKey.objects.filter(purpose=SigningKey.CHECKPOINT).exclude(status=SigningKey.REVOKED)
    return config.policy_text(config.witness_policy(), [bytes(k.public_key) for k in keys])


def status() -> dict[str, Any]:
    """How old the newest cosigned checkpoint is, how far behind the log, and each witness's last answer."""
    now = timezone.now()
    row = latest_cosigned()
    cp = log.latest_checkpoint()
    witnesses = []
    policy = config.witness_policy()
    if policy is not None:
        rows = {s.name: s for s in WitnessStatus.objects.filter(name__in=list(policy.witnesses))}
        cosigned = set(row.witnesses.split()) if row is not None else set()
        for name, witness in policy.witnesses.items():
            s = rows.get(name)
            witnesses.append(
                {
                    "name": name,
                    "vkey": str(witness.key),
                    "in_newest": name in cosigned,
                    "size": s.size if s else None,
                    "last_cosigned_size": s.last_cosigned_size if s else None,
                    "last_cosigned_at": _iso(s.last_cosigned_at) if s else None,
                    "last_attempt_at": _iso(s.last_attempt_at) if s else None,
                    "last_error": (s.last_error or None) if s else None,
                    "consecutive_failures": s.failures if s else 0,
                }
            )
    return {
        "witnessing": config.enabled(),
        "log_tree_size": cp.tree_size if cp else 0,
        "cosigned": None
        if row is None
        else {
            "tree_size": row.tree_size,
            "published_at": _iso(row.created_at),
            "age_seconds": max(0, int((now - row.created_at).total_seconds())),
            "leaves_behind": (cp.tree_size if cp else 0) - row.tree_size,
            "witnesses": row.witnesses.split(),
            "quorum_met": row.quorum_met,
            "checkpoint": row.note,
        },
        "witnesses": witnesses,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def tlog_proof(index: int) -> str | None:
    """A tlog-proof@v1 of leaf ``index`` against the newest cosigned checkpoint that holds it (else the latest)."""
    leaf = LogLeaf.objects.filter(index=index).only("data").first()
    if leaf is None:
        return None
    row: CosignedCheckpoint | None = latest_cosigned() if config.enabled() else None
    if row is not None and row.tree_size > index:
        size, note = row.tree_size, row.note
    else:
        cp = log.latest_checkpoint()
        assert cp is not None  # a leaf exists
        size, note = cp.tree_size, cp.note
    return format_proof(index, log.inclusion_proof(index, size), note, extra=leaf.data.encode("utf-8"))
