"""Declare, amend and withdraw many releases at once: one log lock, one checkpoint, one commit per batch.

The bulk API, catalog imports and batch signing call this; it builds every statement
with the same code as ``services.version_sign`` (``_next_statement``) and signs them
through ``signing.sign_and_log_many``. The batch is sequenced as Trillian Tessera
sequences (``WithBatching(maxSize, maxAge)``): entries are buffered and integrated
together when the buffer is full or its oldest entry has waited long enough
(``versions_sign_stream``); a caller that already holds its list calls
``versions_sign_many`` for one batch.

Invariants (checked by ``audit_log`` and tests/registry/declarations/test_batch.py):

- **Signed and logged, or it does not exist, and the caller learns which.** Each item is
  built in a savepoint of its own: a refusal (``DomainError``, or an integrity error
  from a concurrent edit of the label's catalog) rolls back that item alone, catalog
  change and new release included, and is reported as its result. The items left are
  signed and appended in the batch's one transaction; if it fails (deadlock, lost
  connection, a bug), it raises, nothing of the batch is kept, and no item was logged.
- **Identifiers.** An item whose identifier another label holds (committed) is refused
  while it is built (``signing.refuse_held``). Claims race only with uncommitted
  transactions of other labels: the batch's claims go in one sorted insert
  (``signing.claim_many``); an item that loses a race is refused, the whole batch is
  rolled back to its start and built again without it (at most once per lost item),
  so no claim of a refused item survives.
- **Lock order** (docs/architecture.md, "Batched appends"): existing release rows in
  primary-key order, then new releases in UPC order, then claims (sorted), then the
  statement key, then the log. The single path takes a subset of these in the same
  order (one release, its claims sorted, the key, the log), so no two writers wait for
  each other in a cycle.
- A release appears at most once per batch (a second item naming it is refused): its
  next version builds on the one the batch would write.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.catalog.bulk import Prepared, release_create_many
from registry.catalog.models import Release
from registry.catalog.services import release_create
from registry.declarations import signing
from registry.declarations.models import Declaration
from registry.declarations.services import (
    EITHER,
    CoSign,
    NextVersion,
    _as_prepared,
    _next_statement,
    _withdrawal_statement,
    new_release_statement,
    refuse_unchanged,
)
from registry.errors import Conflict, DomainError, ValidationFailed
from registry.ownership.selectors import held_prefixes

# Items per batch: one transaction, one log lock, one checkpoint. The lock is held while the
# batch's leaves, nodes, declarations and ISRC rows are inserted (~1,300 rows for 100 releases
# of 12 tracks): larger batches sign faster but make every other writer wait longer.
BATCH_MAX = 100
# How long the first buffered item of a stream may wait for more before its batch is integrated
# (Tessera's default batch age is 250 ms as well).
BATCH_MAX_WAIT = 0.25
WITHDRAW = "withdraw"


@dataclass(frozen=True)
class BatchItem:
    """One version to sign: of an existing ``release``, or of a new one made from ``create``.

    ``create``: ``catalog.services.release_create``'s arguments (``label`` included); the
    release is created in the item's savepoint, so a refused item leaves no release behind.
    ``kind``: ``services.FIRST``, ``AMEND``, ``EITHER``, or ``WITHDRAW`` (``change.reason``
    and ``change.expected_version`` are the withdrawal's).
    ``cosign``: a statement prepared earlier and signed by the label (docs/protocol.md §14.2),
    whose signature the caller checked (``labelkeys.services.declarations_submit_many``): the
    item is built as ``version_sign`` builds it with ``cosign``, and refused (409) unless it
    comes out exactly as prepared. Only for an existing release.
    """

    release: Release | None = None
    create: Mapping[str, Any] | None = None
    change: NextVersion = field(default_factory=NextVersion)
    kind: str = EITHER
    cosign: CoSign | None = None

    def __post_init__(self) -> None:
        if (self.release is None) == (self.create is None):
            raise ValueError("a batch item names an existing release or the release to create, not both")
        if self.cosign is not None and self.release is None:
            raise ValueError("a co-signed item's release was created when it was prepared")


@dataclass
class ItemResult:
    """What became of one item: its signed and logged declaration, or why it was refused (never both)."""

    index: int
    declaration: Declaration | None = None
    error: DomainError | None = None
    release: Release | None = None

    @property
    def ok(self) -> bool:
        return self.declaration is not None


def _upc_key(value: Any) -> str:
    try:
        return identifiers.normalize_gtin(value)
    except (IdentifierError, TypeError, ValueError):
        return str(value)


def _order(items: Sequence[BatchItem]) -> list[int]:
    """Positions in lock order: existing releases by primary key, then new releases by (label, UPC)."""
    existing = sorted((it.release.pk, i) for i, it in enumerate(items) if it.release is not None)
    new = sorted(
        (getattr(it.create["label"], "pk", 0), _upc_key(it.create.get("upc")), i)
        for i, it in enumerate(items)
        if it.create is not None
    )
    return [i for _, i in existing] + [i for _, _, i in new]


def _build_one(item: BatchItem) -> tuple[Release, dict[str, Any]]:
    if item.release is not None:
        release = item.release
    else:
        assert item.create is not None  # __post_init__
        release = release_create(**item.create)
    if item.kind == WITHDRAW:
        release, st = _withdrawal_statement(
            release, reason=item.change.reason, expected_version=item.change.expected_version
        )
        if item.cosign is not None:
            st = _as_prepared(st, item.cosign)  # as declaration_withdraw with cosign
    else:
        release, st = _next_statement(release, item.change, kind=item.kind)
        if item.cosign is not None:
            st = _as_prepared(st, item.cosign)  # as version_sign with cosign: a version in between is a 409
        refuse_unchanged(release, item.change, st)  # this item alone, as version_sign refuses it
    # Another label's committed claim: this item alone fails (a take-over is for the single path only).
    signing.refuse_held(release, st, take_over=False)
    signing.refuse_oversized(st)  # exact before signing (fixed-length signature and timestamp)
    return release, st


def _build(items: Sequence[BatchItem], refused: dict[int, DomainError]) -> list[tuple[int, Release, dict[str, Any]]]:
    """Build every item not refused yet; refusals are added to ``refused``.

    Existing releases first (by primary key), each in a savepoint; then the new releases,
    together (``_build_new``), in (label, UPC) order; then any new release that needs the
    one-at-a-time path (a withdrawal or a catalog change named with its creation, or all of
    them when a concurrent insert raced the batch's).
    """
    _refuse_uncosigned(items, refused)
    order = [i for i in _order(items) if i not in refused]
    existing = [i for i in order if items[i].release is not None]
    together = [i for i in order if _together(items[i])]
    alone = [i for i in order if items[i].create is not None and not _together(items[i])]
    built = _build_each(items, existing, refused)
    try:
        built += _build_new(items, together, refused)
    except IntegrityError:  # a concurrent edit of the same label's catalog: each alone, the race reported per item
        alone = sorted(together + alone, key=order.index)
    return built + _build_each(items, alone, refused)


def _refuse_uncosigned(items: Sequence[BatchItem], refused: dict[int, DomainError]) -> None:
    """Refuse the items of labels whose co-sign-only policy is on (docs/protocol.md §14.5), in one query.

    A batch signs for the registry alone; ``signing.sign_and_log_many`` checks again under the key's lock.
    """
    labels = {i: it.release.label_id if it.release is not None else getattr((it.create or {}).get("label"), "pk", None)
              for i, it in enumerate(items) if i not in refused and it.cosign is None}  # fmt: skip
    required = signing.cosign_only(label_id for label_id in labels.values() if label_id is not None)
    for i, label_id in labels.items():
        if label_id in required:
            refused[i] = signing.cosign_required()


def _together(item: BatchItem) -> bool:
    return item.create is not None and item.kind != WITHDRAW and item.change.catalog is None


def _build_new(
    items: Sequence[BatchItem], positions: list[int], refused: dict[int, DomainError]
) -> list[tuple[int, Release, dict[str, Any]]]:
    """New releases created together (``catalog.bulk.release_create_many``), their statements built from memory.

    The same checks and the same statement as ``_build_one`` (``services.new_release_statement``),
    without a savepoint per item: an item is refused before any row is inserted. Its identifiers
    were checked against committed claims with the batch's one read (``_refuse_declared_elsewhere``,
    for exactly the statement's UPC and ISRCs), so ``signing.refuse_held`` is not asked again.
    IntegrityError: nothing was inserted, and no refusal recorded.
    """
    if not positions:
        return []
    held: dict[int, list[tuple[str, str]]] = {}  # each label's verified prefixes, read once per batch

    def check(k: int, prepared: Prepared) -> dict[str, Any]:
        item = items[positions[k]]
        label_id = prepared.release.label_id
        if label_id not in held:
            held[label_id] = held_prefixes(label_id)
        st = new_release_statement(
            prepared.release,
            artists=prepared.artists,
            tracks=prepared.tracks,
            change=item.change,
            kind=item.kind,
            held=held[label_id],
        )
        signing.refuse_oversized(st)  # exact before signing (fixed-length signature and timestamp)
        return st

    outcomes = release_create_many([items[i].create or {} for i in positions], check)
    built = []
    for i, outcome in zip(positions, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            refused[i] = outcome
        else:
            built.append((i, *outcome))
    return built


def _build_each(
    items: Sequence[BatchItem], positions: list[int], refused: dict[int, DomainError]
) -> list[tuple[int, Release, dict[str, Any]]]:
    """Build the items at ``positions`` one by one, each in a savepoint."""
    built: list[tuple[int, Release, dict[str, Any]]] = []
    seen: set[int] = set()
    for i in positions:
        item = items[i]
        if item.release is not None and item.release.pk in seen:
            refused[i] = ValidationFailed(
                f"release {item.release.upc} is named twice in this batch: sign its next version in another one",
                fields={"upc": ["Named twice in this batch."]},
            )
            continue
        sid = transaction.savepoint()
        try:
            release, st = _build_one(item)
        except DomainError as exc:
            transaction.savepoint_rollback(sid)
            refused[i] = exc
            continue
        except IntegrityError:  # a concurrent edit of the same label's catalog (a UPC or ISRC row)
            transaction.savepoint_rollback(sid)
            refused[i] = Conflict("the release changed while this batch was signed; try this item again")
            continue
        transaction.savepoint_commit(sid)
        seen.add(release.pk)
        built.append((i, release, st))
    return built


def versions_sign_many(*, items: Sequence[BatchItem], actor: Any = None, via: str = "api") -> list[ItemResult]:
    """Sign and log the next version of each item as one batch; a result per item, in the items' order.

    At most ``BATCH_MAX`` items. Items refused by validation get their error and change
    nothing; the others are appended under one log lock with one checkpoint, in one
    transaction (the caller's, when it has one). An exception means nothing was logged.
    """
    if len(items) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} items per batch (versions_sign_stream splits longer inputs)")
    refused: dict[int, DomainError] = {}
    with transaction.atomic():
        while True:
            start = transaction.savepoint()
            built = _build(items, refused)
            lost = signing.claim_many([(release, st) for _, release, st in built])
            if not lost:
                break
            # Another label claimed one of these identifiers a moment ago: that item is refused, and the
            # batch is built again from its start without it, so none of its claims or catalog rows remain.
            transaction.savepoint_rollback(start)
            for position, exc in lost.items():
                refused[built[position][0]] = exc
        declarations = signing.sign_and_log_many(
            entries=[(release, st) for _, release, st in built],
            actor=actor,
            via=via,
            cosigned=[c.signature if (c := items[i].cosign) is not None else None for i, _, _ in built],
        )
    results = [ItemResult(index=i, error=refused.get(i)) for i in range(len(items))]
    for (i, release, _), declaration in zip(built, declarations, strict=True):
        results[i].declaration, results[i].release = declaration, release
    return results


def versions_sign_stream(
    items: Iterable[BatchItem],
    *,
    actor: Any = None,
    via: str = "import",
    batch_size: int = BATCH_MAX,
    max_wait: float = BATCH_MAX_WAIT,
) -> Iterator[ItemResult]:
    """Sign a stream of items in batches of ``batch_size``, or fewer once the oldest waited ``max_wait`` seconds.

    Yields each batch's results (``index`` counts from the stream's start) after the batch
    commits, so a caller can report progress and never holds more than one batch. Run it
    outside any transaction: each batch commits on its own (inside one, they would all
    commit, or fail, together). The age is checked as each item arrives (no timer thread:
    a sync worker has nothing else to do meanwhile), and the last batch is flushed at the end.
    """
    if not 1 <= batch_size <= BATCH_MAX:
        raise ValueError(f"batch_size must be 1–{BATCH_MAX}")
    buffer: list[BatchItem] = []
    first_at = 0.0
    done = 0

    def flush() -> Iterator[ItemResult]:
        nonlocal done
        for result in versions_sign_many(items=buffer, actor=actor, via=via):
            result.index += done
            yield result
        done += len(buffer)
        buffer.clear()

    for item in items:
        if not buffer:
            first_at = time.monotonic()
        buffer.append(item)
        if len(buffer) >= batch_size or time.monotonic() - first_at >= max_wait:
            yield from flush()
    if buffer:
        yield from flush()
