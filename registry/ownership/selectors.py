"""Reads about prefixes: what a label holds (verified, own or delegated), and declarations inside it by others."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q

from registry.catalog.models import Release
from registry.declarations.models import DeclaredRecording
from registry.ownership import prefixes
from registry.ownership.models import PrefixClaim, PrefixDelegation

CONTEST_LIST_MAX = 200


def verified_claims(label_id: int) -> list[PrefixClaim]:
    """The verified claims whose prefixes count as ``label_id``'s: its own and those delegated to it (1 query)."""
    return list(
        PrefixClaim.objects.filter(status=PrefixClaim.VERIFIED)
        .filter(Q(label_id=label_id) | Q(delegations__label_id=label_id, delegations__revoked_at__isnull=True))
        .distinct()
        .order_by("kind", "prefix")
    )


def held_prefixes(label_id: int) -> list[tuple[str, str]]:
    """(kind, prefix) of every verified prefix that counts as ``label_id``'s (1 query)."""
    return [(c.kind, c.prefix) for c in verified_claims(label_id)]


def identifiers_verified(
    label_id: int, upc: str, isrcs: Iterable[str], held: Sequence[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The statement's ``release.identifiers_verified`` (docs/protocol.md §1): 1 query, none when the caller
    passes the label's ``held_prefixes`` (a batch reads them once for all its releases).

    ``upc``: whether a GS1 company prefix the label holds (verified) covers the UPC;
    ``isrcs_unverified``: the ISRCs no verified registrant prefix of the label covers, sorted.
    """
    held = held_prefixes(label_id) if held is None else held
    return {
        "upc": any(prefixes.covers(kind, p, upc) for kind, p in held if kind == prefixes.GS1),
        "isrcs_unverified": sorted(
            {i for i in isrcs if not any(prefixes.covers(kind, p, i) for kind, p in held if kind == prefixes.ISRC)}
        ),
    }


def takeovers(label_id: int, held_by: Mapping[tuple[str, str], int]) -> set[tuple[str, str]]:
    """Of identifiers other labels hold (``held_by``: (kind, value) → holder), those ``label_id`` may take over.

    Verified registrant prefixes take precedence over first-signed (docs/architecture.md, decision 1;
    docs/protocol.md §12): an ISRC inside an ISRC registrant prefix verified as ``label_id``'s (its own or
    delegated to it) and outside every verified prefix of the label holding it. UPCs are not taken over.
    No query when nothing qualifies by kind; then one for the label's prefixes and one per holder.
    """
    isrcs = [v for (k, v), holder in held_by.items() if k == prefixes.ISRC and holder != label_id]
    if not isrcs:
        return set()
    mine = [p for kind, p in held_prefixes(label_id) if kind == prefixes.ISRC]
    found: set[tuple[str, str]] = set()
    theirs: dict[int, list[str]] = {}
    for isrc in isrcs:
        if not any(prefixes.covers(prefixes.ISRC, p, isrc) for p in mine):
            continue
        holder = held_by[(prefixes.ISRC, isrc)]
        if holder not in theirs:
            theirs[holder] = [p for kind, p in held_prefixes(holder) if kind == prefixes.ISRC]
        if not any(prefixes.covers(prefixes.ISRC, p, isrc) for p in theirs[holder]):
            found.add((prefixes.ISRC, isrc))
    return found


def would_take_over(label_id: int, st: Mapping[str, Any]) -> list[str]:
    """The ISRCs of statement ``st`` that signing it would take over from their first signers (review pages)."""
    from registry.declarations.models import IdentifierClaim

    holders = IdentifierClaim.holders((IdentifierClaim.ISRC, t["isrc"]) for t in st["tracks"])
    others = {w: h for w, h in holders.items() if h != label_id}
    return sorted(v for _, v in takeovers(label_id, others)) if others else []


def covering_claim(label_id: int, kind: str, identifier: str) -> PrefixClaim | None:
    """The verified claim (own or delegated) that covers ``identifier`` for ``label_id``, if any."""
    return next(
        (c for c in verified_claims(label_id) if c.kind == kind and prefixes.covers(kind, c.prefix, identifier)), None
    )


@dataclass(frozen=True)
class Intrusion:
    """Another label's current declaration of an identifier inside one of ``label``'s verified prefixes."""

    claim: PrefixClaim
    kind: str
    identifier: str
    release: Release
    title: str
    version: int

    @property
    def identifier_display(self) -> str:
        from provenance.identifiers import format_isrc

        return format_isrc(self.identifier) if self.kind == prefixes.ISRC else self.identifier


def _gtin_in(prefix: str) -> Q:
    """Releases whose UPC's GTIN-13 form starts with ``prefix`` (12-, 13- and 14-digit UPCs)."""
    q = Q(upc__regex=rf"^[0-9]{prefix}[0-9]*$") & Q(upc__regex=r"^[0-9]{14}$")
    q |= Q(upc__startswith=prefix) & Q(upc__regex=r"^[0-9]{13}$")
    if prefix.startswith("0"):
        q |= Q(upc__startswith=prefix[1:]) & Q(upc__regex=r"^[0-9]{12}$")
    return q


def intrusions(label_id: int) -> list[Intrusion]:
    """Identifiers other labels declared (current version) inside ``label_id``'s own verified prefixes.

    Only a prefix the label holds itself counts (not one delegated to it): the holder contests.
    At most ``CONTEST_LIST_MAX`` per kind (GS1: per prefix); a few queries, none per row.
    """
    claims = [c for c in verified_claims(label_id) if c.label_id == label_id]
    found: list[Intrusion] = []
    delegates: dict[int, set[int]] = {}
    for claim_id, delegate_id in PrefixDelegation.objects.filter(claim__in=claims, revoked_at__isnull=True).values_list(
        "claim_id", "label_id"
    ):
        delegates.setdefault(claim_id, set()).add(delegate_id)
    isrc_claims = {c.prefix: c for c in claims if c.kind == prefixes.ISRC}
    if isrc_claims:
        q = Q()
        for p in isrc_claims:
            q |= Q(isrc__startswith=p)
        rows = (
            DeclaredRecording.objects.filter(q)
            .filter(declaration__release__current_declaration=F("declaration_id"))
            .exclude(declaration__release__label_id=label_id)
            .select_related("declaration__release")
            .order_by("isrc")[:CONTEST_LIST_MAX]
        )
        for row in rows:
            if row.declaration.release.label_id in delegates.get(isrc_claims[prefixes.isrc_prefix_of(row.isrc)].pk, ()):
                continue  # the holder delegated this prefix to that label
            release = row.declaration.release
            track = next((t for t in row.declaration.statement["tracks"] if t["isrc"] == row.isrc), None)
            found.append(
                Intrusion(
                    isrc_claims[prefixes.isrc_prefix_of(row.isrc)],
                    prefixes.ISRC,
                    row.isrc,
                    release,
                    track["title"] if track else release.title,
                    row.declaration.version,
                )
            )
    for claim in (c for c in claims if c.kind == prefixes.GS1):
        releases = (
            Release.objects.filter(_gtin_in(claim.prefix), current_declaration__isnull=False)
            .exclude(label_id=label_id)
            .exclude(label_id__in=delegates.get(claim.pk, set()))
            .select_related("current_declaration")
            .order_by("upc")[:CONTEST_LIST_MAX]
        )
        for release in releases:
            found.append(
                Intrusion(
                    claim,
                    prefixes.GS1,
                    release.upc,
                    release,
                    release.current_declaration.statement["release"]["title"],
                    release.current_declaration.version,
                )
            )
    return found
