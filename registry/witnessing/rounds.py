"""Witness rounds: send the log's newest checkpoint to every configured witness, publish what they cosign.

Run by the worker ``manage.py witness_rounds`` (never inside a web request):
one round per interval, for the newest checkpoint only, however many appends
made it (appends never wait for witnesses). For each witness, in parallel:

1. ``add-checkpoint`` with the consistency proof from the size the witness
   was last known to be at (``WitnessStatus.size``; ``old 0`` when unknown);
2. a 409 names the witness's size: the proof is recomputed from there and the
   request sent once more; a second 409, a 4xx/5xx or a timeout is recorded
   on the witness's status row and the round goes on without it;
3. on a 200, only lines that verify with that witness's key are kept.

The checkpoint is then stored with every line collected as a new
:class:`CosignedCheckpoint` (when at least one witness cosigned), which is
what ``/tlog/checkpoint`` and lookup answers serve from then on. A witness
that refused the checkpoint has no line in it: nothing is published in its
name that it did not sign.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provenance.checkpoint import ALG_ED25519, VerifierKey, parse_verifier_key, verifier_key
from provenance.policy import Policy, Witness, evaluate
from registry.transparency import log
from registry.transparency.models import Checkpoint, SigningKey
from registry.witnessing import client, config
from registry.witnessing.models import CosignedCheckpoint, WitnessStatus

logger = logging.getLogger(__name__)


@dataclass
class RoundResult:
    tree_size: int | None = None
    cosigned_by: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    published: CosignedCheckpoint | None = None
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        failed = "; ".join(f"{name}: {why}" for name, why in sorted(self.failures.items()))
        quorum = "" if self.published is None else f", quorum {'met' if self.published.quorum_met else 'NOT met'}"
        return f"size {self.tree_size}: cosigned by {', '.join(self.cosigned_by) or 'no witness'}{quorum}" + (
            f"; failed {failed}" if failed else ""
        )


def log_verifier_keys() -> list[VerifierKey]:
    """The log's note keys (checkpoint keys not revoked), as tlog-policy ``log`` vkeys."""
    origin = settings.REGISTRY_LOG_ORIGIN
    rows = SigningKey.objects.filter(purpose=SigningKey.CHECKPOINT).exclude(status=SigningKey.REVOKED)
    return [parse_verifier_key(verifier_key(origin, bytes(k.public_key)), alg=ALG_ED25519) for k in rows]


def latest_cosigned(using: str | None = None) -> CosignedCheckpoint | None:
    qs = CosignedCheckpoint.objects.all() if using is None else CosignedCheckpoint.objects.using(using)
    return qs.order_by("-id").first()


def _plan(
    cp: Checkpoint, newest: CosignedCheckpoint | None, statuses: dict[str, WitnessStatus], policy: Policy, now: datetime
) -> tuple[list[str], CosignedCheckpoint | None, str]:
    """(witnesses to ask, the cosigned row to add their lines to or None, why nothing is due ('' when it is)).

    A new checkpoint, or an unchanged one past ``REGISTRY_WITNESS_REFRESH``: every witness,
    on the log's bare note. Otherwise, witnesses missing from the newest cosigned checkpoint
    (down or slow to start) are asked again every ``REGISTRY_WITNESS_RETRY`` seconds, and what
    they cosign is added to it: a new row only when a line is gained.
    """
    everyone = list(policy.witnesses)
    if newest is None or newest.tree_size < cp.tree_size:
        return everyone, None, ""
    if now - newest.created_at >= timedelta(seconds=settings.REGISTRY_WITNESS_REFRESH):
        return everyone, None, ""
    have = set(newest.witnesses.split())
    retry = timedelta(seconds=settings.REGISTRY_WITNESS_RETRY)
    missing = [
        name
        for name in everyone
        if name not in have
        and (
            name not in statuses
            or statuses[name].last_attempt_at is None
            or now - statuses[name].last_attempt_at >= retry
        )
    ]
    if not missing:
        return [], None, f"size {cp.tree_size} is cosigned already"
    return missing, newest, ""


def witness_round(*, force: bool = False, now: datetime | None = None) -> RoundResult:
    """One round for the log's newest checkpoint (see the module docstring)."""
    policy = config.witness_policy()
    if policy is None:
        return RoundResult(skipped="witnessing is off (no REGISTRY_WITNESS_POLICY)")
    now = now or timezone.now()
    cp = log.latest_checkpoint(using="default")
    if cp is None:
        return RoundResult(skipped="the log is empty")
    statuses = {s.name: s for s in WitnessStatus.objects.filter(name__in=list(policy.witnesses))}
    newest = latest_cosigned(using="default")
    if force:
        asked, base, why = list(policy.witnesses), None, ""
    else:
        asked, base, why = _plan(cp, newest, statuses, policy, now)
    if why:
        return RoundResult(tree_size=cp.tree_size, skipped=why)
    result = RoundResult(tree_size=cp.tree_size)
    known: dict[str, int | None] = {n: s.size for n, s in statuses.items()}
    answers = _collect(policy, asked, cp, known, result)
    lines = [line for name in sorted(answers) for line in answers[name]]
    with transaction.atomic():
        if lines:
            # Lines gained for the newest cosigned checkpoint are added to its note (same body, same log
            # signature): the witnesses that cosigned it already keep their lines.
            note = (base.note if base is not None else cp.note) + "".join(lines)
            names = sorted({*answers, *(base.witnesses.split() if base is not None else ())})
            evaluation = evaluate(note, policy, now=int(now.timestamp()), logs=log_verifier_keys())
            result.published = CosignedCheckpoint.objects.create(
                tree_size=cp.tree_size,
                root_hash=bytes(cp.root_hash),
                note=note,
                witnesses=" ".join(names),
                quorum_met=evaluation.quorum_met,
            )
        _record(asked, statuses, known, result, now)
    for name, why in sorted(result.failures.items()):
        logger.warning("witness %s did not cosign size %s: %s", name, cp.tree_size, why)
    return result


def _collect(
    policy: Policy, asked: list[str], cp: Checkpoint, known: dict[str, int | None], result: RoundResult
) -> dict[str, list[str]]:
    """Ask every witness (in parallel), retrying once after a 409; returns name -> verified lines.

    ``known`` (witness -> size) is updated with what the witnesses said.
    """
    size, note, timeout = cp.tree_size, cp.note, settings.REGISTRY_WITNESS_TIMEOUT
    proofs: dict[int, list[bytes]] = {}

    def proof_from(old: int) -> list[bytes]:
        if old in (0, size):
            return []
        if old not in proofs:
            proofs[old] = log.consistency_proof(old, size, using="default")
        return proofs[old]

    pending: dict[str, int] = {}
    for name in asked:
        old = known.get(name) or 0
        if old > size:
            result.failures[name] = f"the witness is at size {old}, beyond the log's {size}"
        else:
            pending[name] = old
    collected: dict[str, list[str]] = {}
    for attempt in (1, 2):
        if not pending:
            break
        # Proofs come from the database here, in this thread; the threads only talk HTTP.
        jobs = {name: (policy.witnesses[name], old, proof_from(old)) for name, old in pending.items()}
        answers = _in_parallel(jobs, note, timeout)
        pending = {}
        for name, answer in answers.items():
            if answer.lines:
                collected[name] = list(answer.lines)
                result.cosigned_by.append(name)
                known[name] = size
            elif answer.conflict is not None:
                known[name] = answer.conflict
                if answer.conflict > size:
                    result.failures[name] = f"409: the witness is at size {answer.conflict}, beyond the log's {size}"
                elif attempt == 1 and answer.conflict != jobs[name][1]:
                    pending[name] = answer.conflict  # retry once, with the proof from the witness's size
                else:
                    result.failures[name] = f"409: refused size {size} from its size {answer.conflict}"
            else:
                result.failures[name] = answer.error or "no cosignature"
    result.cosigned_by.sort()
    result.failures = {n: why for n, why in result.failures.items() if n not in collected}
    return collected


def _in_parallel(
    jobs: Mapping[str, tuple[Witness, int, Sequence[bytes]]], note: str, timeout: float
) -> dict[str, client.Answer]:
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="witness") as pool:
        futures = {
            name: pool.submit(client.add_checkpoint, witness, note, old, proof, timeout)
            for name, (witness, old, proof) in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _record(
    asked: list[str],
    statuses: dict[str, WitnessStatus],
    known: dict[str, int | None],
    result: RoundResult,
    now: datetime,
) -> None:
    for name in asked:
        status = statuses.get(name) or WitnessStatus(name=name)
        status.last_attempt_at = now
        learned = known.get(name)
        if learned is not None:
            status.size = learned
        if name in result.cosigned_by:
            status.last_cosigned_size, status.last_cosigned_at = result.tree_size, now
            status.last_error, status.failures = "", 0
        else:
            status.last_error = result.failures.get(name, "no cosignature")[:2000]
            status.failures += 1
        status.save()
