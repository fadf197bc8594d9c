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


def through_tiles(url: str) -> tuple[float, int]:
    """Seconds to read every entry through /tlog/ and check the checkpoint's root from them; and the count."""
    t = time.perf_counter()
    conn = _Connection(url)
    cp = parse_checkpoint(conn.get("/tlog/checkpoint").decode())
    edge, count = CompactRange(), 0
    for bundle in tiles.tiles_of(cp.size, tiles.ENTRIES):
        for h in tiles.entry_hashes(conn.get(f"/tlog/{bundle.path()}"), bundle.width):
            edge.append(h)
            count += 1
    if edge.root() != cp.root:
        raise RuntimeError("the entries do not rebuild the checkpoint's root")
    return time.perf_counter() - t, count


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
