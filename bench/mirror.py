"""Row 8's clients: mirror a whole log over HTTP through its tiles (/tlog/) or through the JSON feed.

Both read every entry over one keep-alive connection, in log order, and keep
its bytes. The tile mirror also checks what it read: the leaf hashes of the
entries rebuild the checkpoint's root (provenance.tiles), so it does more than
the feed mirror, which trusts the pages.
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

from provenance import tiles
from provenance.checkpoint import parse_checkpoint
from provenance.issue.tree import CompactRange
from provenance.merkle import node_hash


class _Connection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def get(self, path: str) -> bytes:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return body


def _perfect_root(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH of a full tile's 256 leaf hashes (a perfect subtree): 255 node hashes."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def through_tiles(url: str) -> tuple[float, int]:
    """Seconds to read every entry through /tlog/ and check the checkpoint's root from them; and the count.

    Every entry is hashed; a full tile's leaves fold into their subtree's hash (the level-8 node
    of RFC 9162), and those subtrees and the partial tile's leaves make up the tree's right edge,
    whose fold is the root.
    """
    t = time.perf_counter()
    conn = _Connection(url)
    cp = parse_checkpoint(conn.get("/tlog/checkpoint").decode())
    full, partial, count = CompactRange(), CompactRange(), 0
    for bundle in tiles.tiles_of(cp.size, tiles.ENTRIES):
        hashes = tiles.entry_hashes(conn.get(f"/tlog/{bundle.path()}"), bundle.width)
        count += len(hashes)
        if bundle.width == tiles.TILE_WIDTH:
            full.append(_perfect_root(hashes))  # the edge over subtrees of 256 leaves: node hashes throughout
        else:
            for h in hashes:
                partial.append(h)
    edge = [*full.hashes, *partial.hashes]  # the larger subtrees on the left, as in the tree
    root = edge[-1]
    for h in reversed(edge[:-1]):
        root = node_hash(h, root)
    if root != cp.root:
        raise RuntimeError("the entries do not rebuild the checkpoint's root: " + _first_bad_tile(conn, cp.size))
    return time.perf_counter() - t, count


def _first_bad_tile(conn: _Connection, size: int) -> str:
    """Where the entries and the log's stored nodes part: the first full entry tile whose subtree hash is not
    the level-8 node the hash tiles of level 1 carry (for a failure's message)."""
    for bundle in tiles.tiles_of(size, tiles.ENTRIES):
        if bundle.width != tiles.TILE_WIDTH:
            break
        upper = tiles.Tile(1, bundle.index // tiles.TILE_WIDTH, tiles.TILE_WIDTH)
        if upper.leaf_range()[1] > size:
            break
        node = conn.get(f"/tlog/{upper.path()}")[32 * (bundle.index % tiles.TILE_WIDTH) :][:32]
        mine = _perfect_root(tiles.entry_hashes(conn.get(f"/tlog/{bundle.path()}"), bundle.width))
        if mine != node:
            return f"entry tile {bundle.path()} hashes to {mine.hex()[:16]}, the log's node is {node.hex()[:16]}"
    return "every full entry tile agrees with the level-1 hash tiles"


def through_feed(url: str, limit: int = 1000) -> tuple[float, int]:
    """Seconds to read every entry through /api/v1/feed, 1000 a page; and the count."""
    t = time.perf_counter()
    conn = _Connection(url)
    after, count = None, 0
    while True:
        query = f"?limit={limit}" + (f"&after={after}" if after is not None else "")
        page = json.loads(conn.get(f"/api/v1/feed{query}"))
        count += len(page["entries"])
        after = page["next"]
        if after is None:
            return time.perf_counter() - t, count
