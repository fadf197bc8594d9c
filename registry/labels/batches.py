"""Declaring a catalog: batch drafts (one per label and UPC, from a spreadsheet or DDEX files), their review, and the
batches the background worker runs (read DDEX files, sign, withdraw).

A batch draft lives in the one draft store (``registry.labels.models.Draft``) under
``labels:batch:<UPC>``. Unlike a member's draft of one release, it is the *label's*:
a submitter prepares it and an owner signs it, so there is one per label and UPC
(a conditional unique constraint) and uploading the same rows or files again
updates it. It holds a whole release, so a release that is not in the catalog yet
is created only when it is signed:

``{"upc", "origin": "spreadsheet"|"ddex", "source", "mode": "first"|"amend",
"expected_version", "catalog": {"title", "genre", "release_date", "artists": [{"name",
"isni", "persona"} or {"id"}], "tracks": [{"isrc", "title", "position", "duration",
"audio_sha256"}], "unnamed_persona"}, "artwork", "ai": {isrc: {"parts", "tools",
"voice_likeness"}}, "imported", "changes", "warnings", "reason"}``

A part or the artwork set to None is *not answered* (a file that does not state it):
the review page asks for it and nothing is signed until it is given.

Signing goes through ``declarations.batch.versions_sign_many`` (the batched form of
``declarations.services.version_sign``): each release is built in its own savepoint,
so one bad release never loses or half-signs the others, and up to 100 share one log
append and checkpoint (``sign_prepared``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from provenance import identifiers, vocabulary
from registry.catalog.models import Label, Release
from registry.catalog.services import release_create
from registry.declarations import batch as signing_batch
from registry.declarations.models import Declaration
from registry.declarations.services import NextVersion, declaration_withdraw
from registry.errors import DomainError, NotFound, ValidationFailed
from registry.labels import drafts, ern, imports
from registry.labels.models import Batch, BatchFile, Draft

logger = logging.getLogger(__name__)

KEY_PREFIX = "labels:batch:"
# One review, one sign batch: at most this many releases (each is its own transaction).
REVIEW_MAX = 200
NO_LIKENESS = imports.NO_LIKENESS


def draft_key(upc: str) -> str:
    return f"{KEY_PREFIX}{upc}"


def normalize_upc(upc: str) -> str:
    """The catalog's form of a UPC/EAN/GTIN-14 (as ``catalog.services.release_create`` stores it)."""
    return identifiers.normalize_gtin(upc)


def catalog_release(label: Label | int, upc: str) -> Release | None:
    """The label's release with this GTIN in any of its 12/13/14-digit forms."""
    digits = upc.lstrip("0")
    forms = {digits.zfill(n) for n in (12, 13, 14) if len(digits) <= n}
    label_id = label if isinstance(label, int) else label.pk
    return Release.objects.filter(label_id=label_id, upc__in=forms).select_related("current_declaration").first()


# --- the label's batch drafts ------------------------------------------------------


def label_drafts(label: Label | int, upcs: Iterable[str] | None = None) -> list[Draft]:
    """The label's batch drafts (every member's), oldest first; only those of ``upcs`` when given."""
    label_id = label if isinstance(label, int) else label.pk
    rows = Draft.objects.filter(label_id=label_id, key__startswith=KEY_PREFIX).select_related("user")
    if upcs is not None:
        rows = rows.filter(key__in=[draft_key(u) for u in upcs])
    return list(rows.order_by("created_at", "id"))


def draft_put(*, label: Label, user: Any, upc: str, data: Mapping[str, Any]) -> tuple[Draft, bool]:
    """Store the label's batch draft of ``upc`` (replacing the one there); True when it is new."""
    key = draft_key(upc)
    for _ in range(2):
        row = Draft.objects.filter(label=label, key=key).first()
        if row is not None:
            merged = _keep_answers(row.data, data)
            if merged == row.data:
                return row, False  # the same rows again: the draft (and its review) stays as it is
            row.data, row.user = merged, user
            row.save(update_fields=["data", "user", "updated_at"])
            return row, False
        try:
            with transaction.atomic():
                return Draft.objects.create(label=label, user=user, key=key, data=dict(data)), True
        except IntegrityError:
            continue  # another upload created it meanwhile: update that one
    raise ValidationFailed(f"the draft of {upc} is being written by someone else; try again")


def _keep_answers(before: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new``, keeping the answers given on review for what ``new`` leaves unanswered (a blank part, a file's silence)."""
    merged = dict(new)
    if merged.get("artwork") is None and before.get("artwork") in vocabulary.LEVELS:
        merged["artwork"] = before["artwork"]
    old_ai = before.get("ai") or {}
    ai = {}
    for isrc, facts in (new.get("ai") or {}).items():
        old_parts = (old_ai.get(isrc) or {}).get("parts") or {}
        parts = {
            p: level if level is not None or old_parts.get(p) not in vocabulary.LEVELS else old_parts[p]
            for p, level in (facts.get("parts") or {}).items()
        }
        ai[isrc] = {**facts, "parts": parts}
    merged["ai"] = ai
    if before.get("reason") and not merged.get("reason"):
        merged["reason"] = before["reason"]
    return merged


def drafts_discard(*, label: Label, upcs: Sequence[str]) -> int:
    return Draft.objects.filter(label=label, key__in=[draft_key(u) for u in upcs]).delete()[0]


def unanswered(data: Mapping[str, Any]) -> list[str]:
    """What a batch draft lacks before it can be signed, in words (empty: ready)."""
    missing = imports.unanswered(data)
    catalog = data.get("catalog") or {}
    if catalog.get("unnamed_persona"):
        missing.append("the AI persona's name (the file credits one without a name)")
    if data.get("mode") == "amend" and not (data.get("reason") or "").strip():
        missing.append("why this version replaces the signed one (the reason)")
    return missing


def blocked(data: Mapping[str, Any]) -> list[str]:
    """Catalog facts a new release needs that the file lacked: fix the file and upload it again."""
    catalog = data.get("catalog") or {}
    problems = []
    if data.get("mode") == "first":
        if not catalog.get("genre"):
            problems.append("the file gives no genre")
        problems += [
            f"track {t['position']} ({t['isrc']}) has no duration"
            for t in catalog.get("tracks") or []
            if t.get("duration") is None
        ]
        if not catalog.get("artists") and not catalog.get("unnamed_persona"):
            problems.append("the file names no artist")
    return problems


def current_versions(label: Label | int, upcs: Iterable[str]) -> dict[str, int]:
    """The signed version each release of ``upcs`` is at now (0: not declared, or not in the catalog); one query."""
    label_id = label if isinstance(label, int) else label.pk
    rows = Release.objects.filter(label_id=label_id, upc__in=list(upcs)).values_list(
        "upc", "current_declaration__version"
    )
    return {upc: version or 0 for upc, version in rows}


def stale(data: Mapping[str, Any], current: int) -> str | None:
    """Why a draft can no longer be signed as reviewed: another version landed since it was prepared (None: it can).

    Its answers build on the version it was prepared from (``expected_version``); signing it now
    would overwrite what that later version says, so it is refused alone, with this reason.
    """
    expected = int(data.get("expected_version") or 0)
    if current == expected:
        return None
    since = f"version {current} was signed" if current else "the declaration changed"
    start = f"version {expected}" if expected else "an undeclared release"
    return (
        f"{since} after this draft was prepared (from {start}): upload the file or rows again, "
        "or review it from the current version, before signing"
    )


def summary(row: Draft, current: int | None = None) -> dict[str, Any]:
    """What a batch draft declares, for the review page: tracks with their levels, and what is unanswered."""
    data = row.data
    catalog = data.get("catalog") or {}
    tracks = []
    for t in sorted(catalog.get("tracks") or [], key=lambda t: t["position"]):
        facts = (data.get("ai") or {}).get(t["isrc"]) or {}
        parts = facts.get("parts") or {}
        tracks.append(
            {
                **t,
                "parts": [
                    {"part": p, "label": vocabulary.PART_LABELS[p], "level": parts.get(p)} for p in vocabulary.PARTS
                ],
                "tools": facts.get("tools") or [],
                "likeness": facts.get("voice_likeness") or NO_LIKENESS,
                "contains_ai": vocabulary.combine(parts[p] for p in vocabulary.PARTS)
                if all(parts.get(p) in vocabulary.LEVELS for p in vocabulary.PARTS)
                else None,
            }
        )
    return {
        "row": row,
        "upc": data["upc"],
        "data": data,
        "catalog": catalog,
        "tracks": tracks,
        "artists": [a for a in catalog.get("artists") or [] if "name" in a],
        "unanswered": unanswered(data),
        "blocked": blocked(data),
        "stale": stale(data, current) if current is not None else None,
        "version": row.updated_at.isoformat(),
    }


def answers_save(*, label: Label, user: Any, answers: Mapping[str, Mapping[str, Any]]) -> int:
    """Answers given on the review page, by UPC: ``{"parts": {isrc: {part: level}}, "artwork", "persona", "reason"}``.

    Only unanswered facts and the reason are taken here (the rest changes through a new
    upload or the single-release pages). Returns how many drafts changed.
    """
    changed = 0
    with transaction.atomic():
        for row in Draft.objects.select_for_update().filter(
            label=label, key__in=[draft_key(u) for u in answers], key__startswith=KEY_PREFIX
        ):
            data = dict(row.data)
            given = answers[data["upc"]]
            before = repr(data)
            for isrc, parts in (given.get("parts") or {}).items():
                facts = (data.get("ai") or {}).get(isrc)
                if facts is None:
                    continue
                for part, level in parts.items():
                    if part in vocabulary.PARTS and level in vocabulary.LEVELS and facts["parts"].get(part) is None:
                        facts["parts"][part] = level
            if given.get("artwork") in vocabulary.LEVELS and data.get("artwork") is None:
                data["artwork"] = given["artwork"]
            persona = " ".join(str(given.get("persona") or "").split())
            if persona and data.get("catalog", {}).get("unnamed_persona"):
                data["catalog"]["artists"] = [
                    *data["catalog"]["artists"],
                    {"name": persona[:255], "isni": None, "persona": vocabulary.SYNTHETIC},
                ]
                data["catalog"]["unnamed_persona"] = False
            reason = str(given.get("reason") or "").strip()
            if reason and data.get("mode") == "amend":
                data["reason"] = reason[:2000]
            if repr(data) != before:
                row.data, row.user = data, user
                row.save(update_fields=["data", "user", "updated_at"])
                changed += 1
    return changed


# --- DDEX files → drafts ------------------------------------------------------------


def draft_from_ern(label: Label, parsed: Mapping[str, Any], *, source: str) -> tuple[str, dict[str, Any]]:
    """A parsed ERN message as the label's batch draft of its release (an amendment if it is declared already)."""
    parsed = dict(parsed)
    when = parsed.get("release_date")
    parsed["release_date"] = when.isoformat() if isinstance(when, date) else when
    parsed["sender_warning"] = ern.sender_warning(parsed["sender"], dpid=label.dpid, name=label.name)
    if not parsed.get("upc"):
        raise ValidationFailed("the file gives no UPC/EAN for the release")
    upc = normalize_upc(parsed["upc"])
    release = catalog_release(label, upc)
    warnings = [w for w in [*(parsed.get("warnings") or []), parsed["sender_warning"]] if w]
    if release is not None and release.current_declaration_id is not None:
        data = imports.redelivery_draft(release=release, parsed=parsed)
        data.setdefault("catalog", drafts.catalog_snapshot(release))
        data["changes"] = data.pop("import_changes", [])
        upc = release.upc
    else:
        if release is not None:
            upc = release.upc
        ai = {
            t["isrc"]: {"parts": dict(t["parts"]), "tools": [], "voice_likeness": dict(NO_LIKENESS)}
            for t in parsed["tracks"]
        }
        data = {
            "mode": "first",
            "artwork": parsed["artwork"],
            "reason": None,
            "expected_version": 0,
            "ai": ai,
            "imported": imports.file_answers(parsed),
            "changes": [],
            "catalog": {
                "title": parsed["title"],
                "genre": parsed.get("genre") or "",
                "release_date": parsed["release_date"],
                "artwork_ai": parsed["artwork"],
                "artists": [dict(a) for a in parsed.get("artists") or []],
                "tracks": [
                    {
                        "isrc": t["isrc"],
                        "title": t["title"],
                        "position": t["position"],
                        "duration": t["duration"],
                        "audio_sha256": None,
                    }
                    for t in parsed["tracks"]
                ],
            },
        }
        if parsed.get("ai_display_artist"):
            data["catalog"]["unnamed_persona"] = True
    data.update(upc=upc, origin="ddex", source=source, warnings=warnings)
    return upc, data


def ern_batch_create(*, label: Label, user: Any, files: Sequence[tuple[str, bytes]]) -> Batch:
    """Keep the uploaded files and queue their reading (the worker parses; the request only stores)."""
    from registry.labels import tasks  # tasks import this module

    with transaction.atomic():
        batch = Batch.objects.create(label=label, user=user, kind=Batch.ERN, total=len(files))
        BatchFile.objects.bulk_create(
            [BatchFile(batch=batch, name=name[:255], content=data, position=i) for i, (name, data) in enumerate(files)]
        )
        # The database backend writes the task row in this transaction: both commit or neither.
        tasks.run_batch.enqueue(batch.pk)
    return batch


def _ern_file(batch: Batch, f: BatchFile) -> dict[str, Any]:
    try:
        parsed = ern.parse_ern(bytes(f.content))
        upc, data = draft_from_ern(batch.label, parsed, source=f.name)
        with transaction.atomic():
            row, created = draft_put(label=batch.label, user=batch.user, upc=upc, data=data)
    except DomainError as exc:
        return {"name": f.name, "ok": False, "message": _error_text(exc)}
    except Exception:  # the parser's tests fuzz it; should one input still escape, it fails alone
        logger.exception("reading %s of batch %s failed", f.name, batch.pk)
        return {"name": f.name, "ok": False, "message": "The file could not be read (an unexpected error)."}
    missing = unanswered(data) + blocked(data)
    return {
        "name": f.name,
        "ok": True,
        "upc": upc,
        "title": data["catalog"]["title"],
        "message": ("New draft" if created else "Draft updated")
        + (f"; to answer: {len(missing)} item{'s' if len(missing) != 1 else ''}" if missing else "; ready to sign"),
    }


# --- signing and withdrawing --------------------------------------------------------


def sign_batch_create(*, label: Label, user: Any, rows: Sequence[Draft], reason: str = "") -> Batch:
    """Queue the signing of reviewed drafts; each keeps the version reviewed (a draft changed since is refused)."""
    from registry.labels import tasks

    if not rows:
        raise ValidationFailed("choose the releases to sign", fields={"upc": ["Choose at least one release."]})
    items = [
        {"upc": r.data["upc"], "title": r.data["catalog"]["title"], "version": r.updated_at.isoformat()} for r in rows
    ]
    with transaction.atomic():
        batch = Batch.objects.create(
            label=label, user=user, kind=Batch.SIGN, items=items, total=len(items), reason=reason
        )
        tasks.run_batch.enqueue(batch.pk)
    return batch


def withdraw_batch_create(*, label: Label, user: Any, upcs: Sequence[str], reason: str) -> Batch:
    from registry.labels import tasks

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("a reason is required", fields={"reason": ["Say why these declarations are withdrawn."]})
    releases = Release.objects.filter(label=label, upc__in=list(upcs)).select_related("current_declaration")
    items = [
        {"upc": r.upc, "title": r.title, "version": r.current_declaration.version}
        for r in releases
        if r.current_declaration is not None and r.current_declaration.status == Declaration.ACTIVE
    ]
    if not items:
        raise ValidationFailed("choose declared releases", fields={"upc": ["Choose at least one declared release."]})
    with transaction.atomic():
        batch = Batch.objects.create(
            label=label, user=user, kind=Batch.WITHDRAW, items=items, total=len(items), reason=reason
        )
        tasks.run_batch.enqueue(batch.pk)
    return batch


def prepare(label: Label, row: Draft, *, reason: str = "") -> tuple[Release, NextVersion]:
    """A draft as (release, next version): a release new to the catalog is created here, in its own transaction.

    If signing then fails, the new release stays in the label's private catalog, undeclared,
    and the draft is kept, so nothing the label prepared is lost.
    """
    data = row.data
    missing = unanswered({**data, "reason": data.get("reason") or reason}) + blocked(data)
    if missing:
        raise ValidationFailed("still to answer: " + "; ".join(missing))
    release = catalog_release(label, data["upc"])
    if release is None:
        if data.get("mode") != "first":
            raise ValidationFailed(f"release {data['upc']} is no longer in the catalog")
        catalog = data["catalog"]
        when = catalog.get("release_date")
        release = release_create(
            label=label,
            upc=data["upc"],
            title=catalog["title"],
            genre=catalog["genre"],
            release_date=date.fromisoformat(when) if when else None,
            artwork_ai=data["artwork"],
            artists=catalog["artists"],
            tracks=catalog["tracks"],
        )
        return release, NextVersion(ai=data["ai"], expected_version=0)
    return release, drafts.next_version(release, {**data, "reason": data.get("reason") or reason or None})


def sign_prepared(prepared: Sequence[tuple[Release, NextVersion]], *, actor: Any) -> list[Declaration | DomainError]:
    """Sign the releases as batched log appends (``versions_sign_many``): one log lock and checkpoint per
    ``batch.BATCH_MAX`` releases, each release built in its own savepoint. A failure is returned in its
    place, never raised: a refused release is reported alone; an append that fails reports every release
    of that batch as not signed (nothing of it was logged).
    """
    results: list[Declaration | DomainError] = []
    for start in range(0, len(prepared), signing_batch.BATCH_MAX):
        chunk = prepared[start : start + signing_batch.BATCH_MAX]
        items = [signing_batch.BatchItem(release=release, change=change) for release, change in chunk]
        try:
            outcomes = signing_batch.versions_sign_many(items=items, actor=actor, via="web")
        except DomainError as exc:
            results += [exc] * len(chunk)
            continue
        except Exception:  # an outage for one batch must not stop the others
            logger.exception("signing a batch of %d releases failed", len(chunk))
            results += [DomainError("an unexpected error stopped this batch; it was not signed")] * len(chunk)
            continue
        for outcome in outcomes:
            done = outcome.declaration or outcome.error
            assert done is not None  # an item is either signed or refused
            results.append(done)
    return results


def _error_text(exc: DomainError) -> str:
    detail = [e for errors in exc.fields.values() for e in errors if e != exc.message]
    return exc.message + (f" ({'; '.join(detail[:3])})" if detail else "")


def _sign_run(batch: Batch) -> None:
    rows = {r.data["upc"]: r for r in label_drafts(batch.label_id, [i["upc"] for i in batch.items])}
    versions = current_versions(batch.label_id, rows)
    prepared: list[tuple[Release, NextVersion]] = []
    order: list[tuple[dict[str, Any], Draft]] = []
    for item in batch.items:
        row = rows.get(item["upc"])
        if row is None:
            _record(batch, {**item, "ok": False, "message": "The draft is gone (signed or discarded meanwhile)."})
        elif row.updated_at.isoformat() != item["version"]:
            _record(batch, {**item, "ok": False, "message": "The draft changed after your review; review it again."})
        elif (why := stale(row.data, versions.get(item["upc"], 0))) is not None:
            # Refused alone, before any work: its draft is kept for the label to prepare again.
            _record(batch, {**item, "ok": False, "message": why[0].upper() + why[1:] + "."})
        else:
            try:
                prepared.append(prepare(batch.label, row, reason=batch.reason))
                order.append((item, row))
            except DomainError as exc:
                _record(batch, {**item, "ok": False, "message": _error_text(exc)})
            except Exception:
                logger.exception("preparing %s of batch %s failed", item["upc"], batch.pk)
                _record(batch, {**item, "ok": False, "message": "An unexpected error stopped this release."})
    for (item, row), outcome in zip(order, sign_prepared(prepared, actor=batch.user), strict=True):
        if isinstance(outcome, DomainError):
            _record(batch, {**item, "ok": False, "message": _error_text(outcome)})
        else:
            row.delete()
            _record(
                batch, {**item, "ok": True, "version": outcome.version, "message": f"Signed version {outcome.version}"}
            )


def _withdraw_run(batch: Batch) -> None:
    for item in batch.items:
        release = Release.objects.filter(label_id=batch.label_id, upc=item["upc"]).first()
        try:
            if release is None:
                raise NotFound("the release is no longer in the catalog")
            decl = declaration_withdraw(
                release=release, reason=batch.reason, actor=batch.user, via="web", expected_version=item["version"]
            )
        except DomainError as exc:
            _record(batch, {**item, "ok": False, "message": _error_text(exc)})
        except Exception:
            logger.exception("withdrawing %s of batch %s failed", item["upc"], batch.pk)
            _record(batch, {**item, "ok": False, "message": "An unexpected error stopped this release."})
        else:
            _record(
                batch, {**item, "ok": True, "version": decl.version, "message": f"Withdrawn (version {decl.version})"}
            )


def _ern_run(batch: Batch) -> None:
    for f in BatchFile.objects.filter(batch=batch).only("name", "position"):
        content = BatchFile.objects.filter(pk=f.pk).values_list("content", flat=True).first()
        f.content = content
        _record(batch, _ern_file(batch, f))
        f.delete()  # read: the draft holds what it said


def _record(batch: Batch, result: Mapping[str, Any]) -> None:
    batch.results = [*batch.results, dict(result)]
    batch.save(update_fields=["results"])
    progress = getattr(batch, "progress", None)
    if progress is not None:
        progress(batch)


def batch_run(batch_id: int, progress: Any = None) -> Batch:
    """Run a queued batch (the worker's task, or ``manage.py import_batch``); each item's outcome is kept."""
    batch = Batch.objects.select_related("label", "user").get(pk=batch_id)
    if batch.status != Batch.QUEUED:
        return batch  # run already (a task delivered twice)
    batch.status = Batch.RUNNING
    batch.save(update_fields=["status"])
    batch.progress = progress  # called after each item (the command's bar)
    try:
        {Batch.ERN: _ern_run, Batch.SIGN: _sign_run, Batch.WITHDRAW: _withdraw_run}[batch.kind](batch)
    except Exception:
        logger.exception("batch %s stopped", batch.pk)
        batch.status = Batch.FAILED
    else:
        batch.status = Batch.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    return batch
