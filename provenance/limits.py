"""The protocol's size limits (docs/protocol.md §1), named once: the verifier, the registry's services,
its API serializers and its forms all read these.

A registry may accept less than a verifier does (``RELEASE_TRACKS_MAX`` below the
statement's ``TRACKS_MAX``), never more.
"""

from __future__ import annotations

TITLE_MAX = 500  # release and track titles
TEXT_MAX = 1000  # any other text member of a statement (names, the label's name)
REASON_MAX = 2000  # declaration.reason
TOOLS_MAX = 50  # tools per track
TOOL_MAX = 200  # characters per tool name
CONSENT_REFERENCE_MAX = 500  # voice_likeness.consent_reference
GENRE_MAX = 100  # release.genre (DDEX DisplayGenre/GenreText, free text)
ARTISTS_MAX = 200  # artists per release or track in a statement
TRACKS_MAX = 1000  # tracks per statement
# A log entry (the canonical DSSE envelope, docs/protocol.md §5) is at most this many bytes: C2SP
# tlog-tiles entry bundles prefix each entry with its length as a big-endian uint16 (§5.3).
ENTRY_MAX = 0xFFFF

# What the registry accepts from labels (at most the statement's limits).
# 100 tracks keep a declaration well inside one log entry (ENTRY_MAX): a track takes ~0.4 KB of the
# envelope with ordinary titles and a tool or two, so 100 come to ~45 KB. Larger box sets are
# declared per volume (docs/protocol.md §5.3); texts near their maximum are refused by size.
RELEASE_TRACKS_MAX = 100
RELEASE_ARTISTS_MAX = 50
