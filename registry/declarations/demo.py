"""A fictional demo catalog: 3 labels, 12 releases, 42 tracks, every level of every part.

Identifier ownership: Aurora Fjord Records holds verified prefixes (ISRC QZ-AFR, GS1
0990000, which covers its UPCs); its "Field Recordings" carries ISRCs licensed in from
another registrant (QZ-FLD), so that declaration says they are outside its verified
prefixes. The other labels have claimed nothing.

Label keys (docs/protocol.md §14): Aurora Fjord Records has a signing key, attested by
(fictional) registry staff through ``labelkeys.services.key_attest`` as ``manage.py
label_key_attest`` does, and its "Glass Meridian" amendment is co-signed through the
real prepare → sign → submit services. The private key is made at the first load into
the var dir (``demo_key_path``), never into the database, and reused by later loads.

Disputes (docs/protocol.md §15, ``demo_disputes``): an artist's account (``DEMO_ARTIST``)
has an open dispute on the vocals of "Second Voice", and one on "Basement Tapes Vol. 1"
that the label answered by amending (version 2) and staff then upheld.

Everything here is invented and marked ``is_demo`` so pages can say so. It
goes through the real services: every declaration is signed and logged.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from provenance import identifiers, vocabulary
from provenance.issue.keys import generate_private_key, load_private_key, private_key_to_pem, public_bytes
from provenance.labelsign import sign_prepared
from registry.catalog.models import Label, Membership, Release
from registry.catalog.services import label_create, membership_add, release_create
from registry.declarations.services import AMEND, NextVersion, declaration_create, declaration_withdraw, version_sign
from registry.disputes.services import dispute_answer, dispute_open, dispute_resolve
from registry.labelkeys.services import declaration_prepare, declaration_submit, key_attest, prepared_answer
from registry.ownership.services import prefix_claim_approve, prefix_claim_create

DEMO_PASSWORD = "demo-registry-2026"  # noqa: S105 - printed by load_demo, demo data only
P = vocabulary.PARTS


DEMO_KEY_DIR = "demo-label-keys"  # under the registry's var dir (settings.VAR_DIR)
DEMO_STAFF = "demo-staff"  # the fictional staff member who attests the demo label's first key; cannot sign in
DEMO_ARTIST = "demo-artist"  # an artist's account (email proven) who opened the demo's disputes; signs in


def demo_key_path(label_name: str) -> Path:
    """Where the demo label's private key lives: a file in the var dir, mode 0600 (never the database)."""
    return Path(settings.VAR_DIR) / DEMO_KEY_DIR / f"{slugify(label_name)}.key"


def demo_label_key(path: Path) -> Ed25519PrivateKey:
    """The demo label's private key: made at the first load (as ``provenance keygen`` does), reused after.

    Reused rather than refused when it exists: ``make run`` after deleting only the database loads the
    demo again, and a demo key is worth nothing to steal (unencrypted, like the demo password).
    """
    if path.exists():
        return load_private_key(path.read_bytes(), None)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_key_to_pem(key, None))
        os.link(tmp, path)  # appears whole or not at all, and never overwrites a key
    except FileExistsError:  # another load made it meanwhile: use that one
        return load_private_key(path.read_bytes(), None)
    finally:
        os.unlink(tmp)
    return key


def _upc(label: int, n: int) -> str:
    # One block of UPCs per label ("99" + the label's digit), as a GS1 company prefix would give it.
    body = f"99{label}{n:08d}"
    return body + str(identifiers.gtin_check_digit(body))


def _isni(body: str) -> str:
    return body + identifiers.iso7064_mod11_2(body)


def _parts(spec: str) -> dict[str, str]:
    """'napan' → composition none, lyrics all, vocals partly, instrumentation all, production none."""
    letter = {"n": "none", "p": "partly", "a": "all"}
    return {part: letter[c] for part, c in zip(P, spec, strict=True)}


# (label, title, genre, date, artwork, [artists (name, persona, isni-body|None)], [(title, seconds, parts, tools, likeness)])
LABELS = [
    ("Aurora Fjord Records", "PADPIDA2007040502I", True),
    ("Neon Harbor Music", None, True),
    ("Lowland Tape Co.", None, False),
]
# Each label's ISRC registrant code (the ISRCs are QZ + code + year + number), and the prefixes
# staff verified for it: (kind, prefix as typed, evidence).
REGISTRANTS = ["AFR", "NHM", "LTC"]
VERIFIED_PREFIXES = {
    0: [
        ("isrc", "QZ-AFR", "Demo: ISRC agency letter assigning registrant code AFR."),
        ("gs1", "0990000", "Demo: GS1 membership certificate for company prefix 0990000."),
    ]
}
RELEASES: list[dict[str, Any]] = [
    {
        "label": 0,
        "title": "Quiet Hours",
        "genre": "Folk",
        "date": date(2025, 3, 14),
        "artwork": "none",
        "artists": [("Maren Holt", "human", "000000012146438")],
        "tracks": [
            ("Morning Ferry", 214, "nnnnn", [], None),
            ("Salt and Cedar", 241, "nnnnn", [], None),
            ("Harbour Lights", 198, "nnnnn", [], None),
            ("The Long Way Home", 305, "nnnnn", [], None),
        ],
    },
    {
        "label": 0,
        "title": "Glass Meridian",
        "genre": "Electronic",
        "date": date(2025, 6, 2),
        "artwork": "partly",
        "artists": [("Maren Holt", "human", "000000012146438")],
        "tracks": [
            ("Meridian", 233, "nnnnp", ["iZotope Ozone 11 (AI mastering assistant)"], None),
            ("Prism Weather", 207, "nnnpn", ["Stem generator"], None),
            ("Glasswork", 262, "pnnnn", ["Melody suggestion model"], None),
        ],
    },
    {
        "label": 1,
        "title": "Velvet Static",
        "genre": "Indie Rock",
        "date": date(2025, 6, 20),
        "artwork": "all",
        "artists": [("The Cobalt Choir", "synthetic", None)],
        "tracks": [
            ("Dust on the Dial", 187, "aaaaa", ["Suno v4.5"], None),
            ("Radio Ghosts", 201, "aaaaa", ["Suno v4.5"], None),
            ("Analog Heaven", 176, "aaaaa", ["Suno v4.5"], None),
            ("Static Bloom", 222, "aaaap", ["Suno v4.5", "Human mix engineer"], None),
            ("Last Broadcast", 240, "aaaaa", ["Suno v4.5"], None),
        ],
    },
    {
        "label": 1,
        "title": "Dirt Road Algorithm",
        "genre": "Country",
        "date": date(2025, 10, 3),
        "artwork": "all",
        "artists": [("Copper Ridge", "synthetic", None)],
        "tracks": [
            ("Walk the Line Again", 192, "aaaaa", ["Udio"], None),
            ("Tailgate Sunday", 185, "aaaaa", ["Udio"], None),
            ("Boots in the Rain", 203, "aaaaa", ["Udio"], None),
            ("County Fair", 177, "aaaaa", ["Udio"], None),
        ],
    },
    {
        "label": 1,
        "title": "Second Voice",
        "genre": "Pop",
        "date": date(2025, 11, 7),
        "artwork": "none",
        "artists": [("Lena Marsh", "ai_assisted", None)],
        "tracks": [
            (
                "Echo of You",
                219,
                "nnann",
                ["Voice model (licensed)"],
                {
                    "imitates_real_person": True,
                    "consent_reference": "Consent agreement LM-2025-014 with the estate of the original singer",
                },
            ),
            (
                "Duet for One",
                234,
                "npann",
                ["Voice model (licensed)", "Lyric assistant"],
                {"imitates_real_person": True, "consent_reference": "Consent agreement LM-2025-014"},
            ),
            ("Borrowed Breath", 201, "nnpnn", ["Harmony generator"], None),
        ],
    },
    {
        "label": 0,
        "title": "Northbound (Single)",
        "genre": "Indie Pop",
        "date": date(2025, 9, 1),
        "artwork": "none",
        "artists": [("Maren Holt", "human", "000000012146438")],
        "tracks": [("Northbound", 226, "nnnnn", [], None)],
    },
    {
        "label": 2,
        "title": "Basement Tapes Vol. 1",
        "genre": "Rock",
        "date": date(2024, 11, 29),
        "artwork": "none",
        "artists": [("The Fenwicks", "human", None)],
        "tracks": [
            ("Cellar Door", 188, "nnnnn", [], None),
            ("Rusty Chain", 171, "nnnnn", [], None),
            ("Low Ceiling", 205, "nnnnp", ["Noise-reduction model"], None),
            ("Lamp Oil", 199, "nnnnn", [], None),
        ],
    },
    {
        "label": 2,
        "title": "Machine Lullabies",
        "genre": "Ambient",
        "date": date(2025, 8, 8),
        "artwork": "partly",
        "artists": [("Hollow Pines", "ai_assisted", None)],
        "tracks": [
            ("Sleep Mode", 254, "ppppp", ["Magenta", "Lyric assistant"], None),
            ("Cradle Circuit", 231, "apnpn", ["Magenta"], None),
            ("Night Light", 266, "npnpa", ["Auto-mix service"], None),
            (
                "Soft Reset",
                243,
                "panap",
                ["Magenta", "Voice model (own voice)"],
                {"imitates_real_person": False, "consent_reference": None},
            ),
        ],
    },
    {
        "label": 1,
        "title": "Synthetic Summer",
        "genre": "Dance",
        "date": date(2025, 7, 11),
        "artwork": "all",
        "artists": [("The Cobalt Choir", "synthetic", None)],
        "tracks": [
            ("Sunburn Protocol", 181, "aaaaa", ["Suno v4.5"], None),
            ("Pool Party.exe", 176, "aaaaa", ["Suno v4.5"], None),
            ("Heatwave Dreams", 199, "aaaaa", ["Suno v4.5"], None),
        ],
    },
    {
        "label": 0,
        "title": "Field Recordings",
        "registrant": "FLD",  # licensed-in recordings: outside Aurora's verified ISRC prefix
        "genre": "Ambient",
        "date": date(2025, 4, 22),
        "artwork": "none",
        "artists": [("Ola Strand", "human", None)],
        "tracks": [
            ("Birch Forest at Dawn", 402, "nnnnn", [], None),
            ("Tidal Flats", 388, "nnnnn", [], None),
            ("Snow on Tin Roof", 356, "nnnnn", [], None),
        ],
    },
    {
        "label": 2,
        "title": "Patchwork",
        "genre": "Hip-Hop",
        "date": date(2025, 2, 2),
        "artwork": "partly",
        "artists": [("Dee Okafor", "human", None)],
        "tracks": [
            ("Quilt", 212, "pnnnn", ["Chord suggestion plug-in"], None),
            ("Needle and Thread", 198, "npnnn", ["Lyric assistant"], None),
            ("Frayed Edges", 224, "nnnpn", ["Drum generator"], None),
            ("Seams", 207, "nnnnn", [], None),
        ],
    },
    {
        "label": 1,
        "title": "Holo Hearts",
        "genre": "K-Pop",
        "date": date(2025, 12, 5),
        "artwork": "all",
        "artists": [("Kiko Nova", "synthetic", None)],
        "tracks": [
            ("Pixel Crush", 172, "aaaan", ["Udio"], None),
            ("Render Me", 189, "aapaa", ["Udio"], None),
            ("Hologram Kiss", 195, "aaaaa", ["Udio"], None),
            ("Cache of Love", 183, "aaaaa", ["Udio"], None),
        ],
    },
]


@transaction.atomic
def load_demo() -> dict[str, int]:
    User = get_user_model()
    labels: list[Label] = []
    owners: list[Any] = []
    for i, (name, dpid, verified) in enumerate(LABELS):
        label = label_create(
            name=name, dpid=dpid, verified=verified, contact_email=f"label{i}@example.org", is_demo=True
        )
        user = User.objects.create_user(f"demo{i}" if i else "demo", f"demo{i}@example.org", DEMO_PASSWORD)
        membership_add(label=label, user=user, role=Membership.OWNER)
        labels.append(label)
        owners.append(user)
        for kind, prefix, evidence in VERIFIED_PREFIXES.get(i, []):
            claim = prefix_claim_create(label=label, kind=kind, prefix=prefix, evidence=evidence, actor=user)
            prefix_claim_approve(claim=claim, reviewer=None, note="Demo data.")
    isrc_n = 0
    counts = {"labels": len(labels), "releases": 0, "tracks": 0, "declarations": 0}
    releases = []
    for n, spec in enumerate(RELEASES):
        label = labels[spec["label"]]
        tracks = []
        for pos, (title, seconds, _parts_spec, _tools, _likeness) in enumerate(spec["tracks"], start=1):
            isrc_n += 1
            registrant = spec.get("registrant", REGISTRANTS[spec["label"]])
            tracks.append(
                {"isrc": f"QZ{registrant}25{isrc_n:05d}", "title": title, "position": pos, "duration": seconds}
            )
        release = release_create(
            label=label,
            upc=_upc(spec["label"], n + 1),
            title=spec["title"],
            genre=spec["genre"],
            release_date=spec["date"],
            artwork_ai=spec["artwork"],
            artists=[{"name": a, "persona": p, "isni": _isni(i) if i else None} for a, p, i in spec["artists"]],
            tracks=tracks,
        )
        ai = {
            t["isrc"]: {"parts": _parts(s[2]), "tools": s[3], "voice_likeness": s[4] or {}}
            for t, s in zip(tracks, spec["tracks"], strict=True)
        }
        declaration_create(release=release, ai=ai, via="demo")
        counts["releases"] += 1
        counts["tracks"] += len(tracks)
        counts["declarations"] += 1
        releases.append((release, ai))
    # Aurora Fjord Records registers a signing key: its first, so registry staff attest it.
    aurora, aurora_owner = labels[0], owners[0]
    label_key = demo_label_key(demo_key_path(aurora.name))
    staff = User.objects.create_user(DEMO_STAFF, "staff@example.org", None, is_staff=True)  # unusable password
    key_attest(
        label=aurora,
        public_key=public_bytes(label_key),
        actor=staff,
        reason="Demo: the label's first key, checked by registry staff on a video call with the owner.",
        holder=aurora_owner,
    )
    # A co-signed amendment: the label learned that its mastering service used AI after all, and signs the
    # new version with its own key (prepare → sign → submit, as `provenance sign` and the web page do).
    glass, ai = releases[1]
    first = next(iter(ai))
    reason = (
        "The mastering engineer confirmed an AI mastering assistant on every track; production is partly AI throughout."
    )
    amended = {
        isrc: {**facts, "parts": {**facts["parts"], "production": "partly"}}
        for isrc, facts in ai.items()
        if isrc != first
    }
    change = NextVersion(ai=amended, reason=reason, expected_version=1)
    prepared = declaration_prepare(release=glass, change=change, request={"reason": reason, "ai": amended})
    signature = sign_prepared(prepared_answer(prepared), label_key)
    declaration_submit(prepared=prepared, change=change, signature=signature, actor=aurora_owner, via="demo")
    # A withdrawal: the release was taken down and its declaration withdrawn.
    summer, _ = releases[8]
    declaration_withdraw(
        release=summer, reason="Release taken down from all stores at the label's request.", via="demo"
    )
    counts["declarations"] += 2
    counts["declarations"] += demo_disputes(releases=[r for r, _ in releases], staff=staff)
    counts["observations"] = load_demo_observation(releases[0][0], staff)
    return counts


def demo_disputes(*, releases: list[Any], staff: Any) -> int:
    """An open dispute and one resolved by an amendment, through the real services; returns versions signed."""
    User = get_user_model()
    releases = [Release.objects.select_related("current_declaration__leaf").get(pk=r.pk) for r in releases]
    artist = User.objects.create_user(DEMO_ARTIST, "artist@example.org", DEMO_PASSWORD)  # email proven: demo only
    # Open: an artist says the licensed voice model on "Echo of You" was trained on her voice, without consent.
    second_voice = releases[4]
    echo = second_voice.current_declaration.statement["tracks"][0]["isrc"]
    dispute_open(
        declaration=second_voice.current_declaration,
        actor=artist,
        role="artist",
        isrc=echo,
        part="vocals",
        text="The voice model on this track was trained on my recordings; I never agreed to it.",
        evidence="Demo: session contracts and the model vendor's training-data list.",
        identity="Demo: Ines Varga, ISNI 0000 0001 2146 438X (fictional); official site ines-varga.example",
    )
    # Resolved: the drums on "Lamp Oil" were generated, the session drummer says; the label amends, staff uphold.
    basement = releases[6]
    declared = basement.current_declaration
    lamp_oil = declared.statement["tracks"][3]
    dispute = dispute_open(
        declaration=declared,
        actor=artist,
        role="artist",
        isrc=lamp_oil["isrc"],
        part="instrumentation",
        text="I played on this session: the drums on Lamp Oil were generated by a drum model, not played.",
        evidence="Demo: the session's project file lists a drum generator track.",
        identity="Demo: the session drummer (fictional).",
    )
    owner = Membership.objects.select_related("user").get(label_id=basement.label_id, role=Membership.OWNER).user
    dispute_answer(dispute=dispute, actor=owner, outcome="amend", text="Right: we checked the project file.")
    facts = {**lamp_oil, "parts": {**lamp_oil["parts"], "instrumentation": "partly"}}
    facts["tools"] = [*lamp_oil["tools"], "Drum generator"]
    ai = {lamp_oil["isrc"]: {"parts": facts["parts"], "tools": facts["tools"], "voice_likeness": {}}}
    reason = "A dispute showed the drums on Lamp Oil were generated: instrumentation is partly AI."
    version_sign(
        release=basement, change=NextVersion(ai=ai, reason=reason, expected_version=1), actor=owner, via="demo",
        kind=AMEND,
    )  # fmt: skip
    dispute_resolve(dispute=dispute, actor=staff, outcome="upheld", text="The label amended the declaration.")
    return 1


DEMO_PLATFORM = "Demo Streaming"


def load_demo_observation(release: Any, staff: Any) -> int:
    """A platform with a staff-attested signing key observes AI where the label declared none (docs/protocol.md §16).

    "Quiet Hours" declares no AI anywhere; the platform's detector rates one track's vocals as
    entirely AI. The public pages show both, apart, and say that they disagree.
    """
    from datetime import timedelta

    from django.utils import timezone

    from provenance.observations import sign_prepared_observation
    from registry.api.tokens import platform_key_create
    from registry.observations import services as observations

    platform, _ = platform_key_create(name=DEMO_PLATFORM, contact_email="trust@streaming.example")
    key = demo_label_key(demo_key_path(f"{DEMO_PLATFORM} platform"))
    observations.key_attest(
        platform=platform, public_key=public_bytes(key), actor=staff,
        reason="Demo: the platform's first key, checked by registry staff with its trust and safety team.",
    )  # fmt: skip
    track = release.tracks.select_related("recording").order_by("position")[1]
    prepared = observations.observation_prepare(
        platform=platform,
        isrc=track.recording.isrc,
        upc=release.upc,
        observed={"vocals": "all", "instrumentation": "none"},
        method="Demo Streaming voice detector v2",
        observed_at=(timezone.now() - timedelta(days=7)).date().isoformat(),
        declaration_version=1,
    )
    observations.observation_submit(
        platform=platform, payload=prepared["payload"], signature=sign_prepared_observation(prepared, key)
    )
    return 1
