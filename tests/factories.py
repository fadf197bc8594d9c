"""Test data builders: valid identifiers and declared releases through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from provenance import identifiers, vocabulary

_counter = itertools.count(1)


def upc(n: int | None = None) -> str:
    """A valid 12-digit UPC-A (GS1 check digit), unique per call unless ``n`` is given."""
    body = f"{(n if n is not None else next(_counter)) % 10**11:011d}"
    return body + str(identifiers.gtin_check_digit(body))


def isrc(n: int | None = None, registrant: str = "TST") -> str:
    value = n if n is not None else next(_counter)
    return f"QZ{registrant}{26 + value // 100000 % 74:02d}{value % 100000:05d}"


def parts(level: str = "none", **overrides: str) -> dict[str, str]:
    return {p: overrides.get(p, level) for p in vocabulary.PARTS}


def track_ai(level: str = "none", **overrides: Any) -> dict[str, Any]:
    ai: dict[str, Any] = {"parts": parts(level, **{k: v for k, v in overrides.items() if k in vocabulary.PARTS})}
    if "tools" in overrides:
        ai["tools"] = overrides["tools"]
    if "voice_likeness" in overrides:
        ai["voice_likeness"] = overrides["voice_likeness"]
    return ai


def make_release(
    label: Any, *, tracks: int = 2, title: str = "Test Release", persona: str = "human", **kwargs: Any
) -> Any:
    from registry.catalog.services import release_create

    return release_create(
        label=label,
        upc=kwargs.pop("upc", None) or upc(),
        title=title,
        genre=kwargs.pop("genre", "Pop"),
        artists=kwargs.pop("artists", None) or [{"name": f"Artist of {title}", "persona": persona}],
        # A new release needs every track's duration (DDEX requires it); rows that leave it out get one.
        tracks=[{"duration": 180, **t} for t in kwargs.pop("track_list", None) or []]
        or [{"isrc": isrc(), "title": f"Track {i + 1}", "position": i + 1, "duration": 180 + i} for i in range(tracks)],
        **kwargs,
    )


def declare(release: Any, level: str = "none", actor: Any = None, via: str = "web", **overrides: Any) -> Any:
    from registry.declarations.services import declaration_create

    ai = {t.recording.isrc: track_ai(level, **overrides) for t in release.tracks.select_related("recording")}
    return declaration_create(release=release, ai=ai, actor=actor, via=via)


def stored_root(size: int) -> bytes:
    """The log's root at ``size``, from the subtree nodes the database stores (as proofs read them)."""
    from provenance.issue import tree
    from registry.transparency import log

    return tree.tree_root(size, log._nodes_getter(None))


def fill_log(count: int, data: Any = None) -> int:
    """Append ``count`` leaves fast (bulk inserts, one signed checkpoint, no proofs); returns the new size.

    The rows are those ``log.append`` writes (its ``CompactRange``, every complete
    subtree, a checkpoint by the active key), without computing a proof per leaf,
    so tests can grow a log past 65,536 leaves in seconds. ``data(i)`` is leaf i's text.
    """
    from django.conf import settings

    from provenance import merkle
    from provenance.issue import tree
    from provenance.issue.sign import sign_checkpoint
    from registry.transparency import log
    from registry.transparency.keys import active_key
    from registry.transparency.models import Checkpoint, LogLeaf, LogNode, SigningKey

    data = data or (lambda i: f'{{"leaf":{i}}}')
    start = log.tree_size()
    edge = tree.CompactRange.at(start, log._nodes_getter("default"))
    leaves, nodes = [], []
    for i in range(start, start + count):
        text = data(i)
        h = merkle.leaf_hash(text.encode())
        leaves.append(LogLeaf(index=i, leaf_hash=h, data=text))
        nodes.extend(LogNode(id=tree.node_id(*n), hash=nh) for n, nh in edge.append(h))
    LogLeaf.objects.bulk_create(leaves, batch_size=5000)
    LogNode.objects.bulk_create(nodes, batch_size=5000)
    key, private = active_key(SigningKey.CHECKPOINT)
    note = sign_checkpoint(settings.REGISTRY_LOG_ORIGIN, edge.size, edge.root(), private)
    Checkpoint.objects.create(tree_size=edge.size, root_hash=edge.root(), note=note, key=key)
    return edge.size
