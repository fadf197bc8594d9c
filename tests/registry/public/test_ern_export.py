"""The DDEX ERN 4.3.2 export of a declared release: every answer validates against DDEX's own XSD (tests/ddex.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import vocabulary
from registry.catalog.models import Release, Track
from registry.declarations.services import (
    CatalogChange,
    NextVersion,
    declaration_amend,
    declaration_create,
    version_sign,
)
from registry.errors import ValidationFailed
from registry.public.ern_export import iso_duration
from tests import factories
from tests.ddex import allowed_values, schema_errors

pytestmark = pytest.mark.django_db
NS = "{http://ddex.net/xml/ern/432}"
REGISTRY_DPID = "PADPIDA20261201011"  # tests/settings.py


def export(client: Any, upc: str, query: str = "") -> tuple[Any, ET.Element]:
    """The export over HTTP, checked to be valid ERN 4.3.2 before anything else is asserted."""
    response = client.get(f"/releases/{upc}/ern.xml{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    assert schema_errors(response.content) == []
    return response, ET.fromstring(response.content)


def stated(parts: dict[str, str]) -> dict[str, str]:
    """The GenerativeAI contributions a track's parts are written as: every part unless the track has no AI."""
    if set(parts.values()) == {"none"}:
        return {}
    return {vocabulary.DDEX_ROLE_FOR_PART[p]: vocabulary.DDEX_CONTAINS_AI[level] for p, level in parts.items()}


def contributions(sr: ET.Element) -> dict[str, str]:
    return {c.findtext("Role/Value"): c.findtext("AiContribution") for c in sr.findall("Contributor")}


def declared(label: Any, *, genre: str | None = "Pop", ai: dict[str, Any] | None = None, **release: Any) -> Any:
    """A release of ``label`` signed through the real services; ``genre=None`` and tracks with
    ``duration: None`` make it as releases created before the registry collected them were."""
    track_list = release.pop("track_list", None)
    given = [{**t, "duration": t.get("duration") or 1} for t in track_list] if track_list else None
    made = factories.make_release(label, genre=genre or "Pop", track_list=given, **release)
    older(made, genre=genre is None, durations={t["isrc"] for t in track_list or [] if t.get("duration") is None})
    tracks = made.tracks.select_related("recording")
    declaration_create(
        release=made, ai={t.recording.isrc: (ai or {}).get(t.title, factories.track_ai()) for t in tracks}
    )
    return made


def older(release: Any, *, genre: bool, durations: set[str]) -> None:
    """Blank what the catalog did not hold before 2026-12 (new releases must give it)."""
    if genre:
        Release.objects.filter(pk=release.pk).update(genre="")
    if durations:
        Track.objects.filter(release=release, recording__isrc__in=durations).update(duration=None)
    release.refresh_from_db()


# --- the demo catalog ----------------------------------------------------------------------


def test_every_current_demo_release_exports_as_valid_ern_432(client, demo):
    exported = 0
    for release in demo.values():
        if release.current_declaration.status == "withdrawn":
            continue
        export(client, release.upc)
        exported += 1
    assert exported == len(demo) - 1  # all but Synthetic Summer


def test_the_header_names_the_registry_as_sender_and_as_recipient_by_default(client, demo):
    release = demo["Glass Meridian"]
    _, root = export(client, release.upc)
    assert root.get("AvsVersionId") == "9" and root.get("MessageSchemaVersionId") is None
    assert [c.tag for c in root] == ["MessageHeader", "PartyList", "ResourceList", "ReleaseList"]
    header = root.find("MessageHeader")
    assert header.findtext("MessageThreadId") == release.current_declaration.statement["declaration"]["id"]
    assert header.findtext("MessageId") == f"{release.upc}-v2"
    for who in ("MessageSender", "MessageRecipient"):
        assert header.findtext(f"{who}/PartyId") == REGISTRY_DPID
        assert header.findtext(f"{who}/PartyName/FullName") == "AI Disclosure Registry"
    assert header.findtext("MessageCreatedDateTime").endswith("Z")
    assert header.findtext("MessageControlType") == "TestMessage"  # demo content is never live


def test_the_label_is_the_release_label_party_with_its_dpid(client, demo):
    _, root = export(client, demo["Glass Meridian"].upc)
    ref = root.findtext("ReleaseList/Release/ReleaseLabelReference")
    (party,) = [p for p in root.iter("Party") if p.findtext("PartyReference") == ref]
    assert party.findtext("PartyName/FullName") == "Aurora Fjord Records"
    assert party.findtext("PartyId/DPID") == "PADPIDA2007040502I"


def test_a_requester_that_names_itself_is_the_recipient(client, demo):
    release = demo["Quiet Hours"]
    _, root = export(client, release.upc, "?recipient=pa-dpida-3897722461-g")
    header = root.find("MessageHeader")
    assert header.findtext("MessageRecipient/PartyId") == "PADPIDA3897722461G"
    assert header.findtext("MessageSender/PartyId") == REGISTRY_DPID
    # A message id is never reused for a different message.
    assert header.findtext("MessageId") == f"{release.upc}-v1-PADPIDA3897722461G"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        ("PADPIDA123", "18 characters"),
        ("PADPIDA3897722461X", "check character should be G"),
        ("XXDPIDA3897722461G", "PADPIDA"),
    ],
)
def test_a_malformed_recipient_is_a_400_that_says_why(client, demo, value, reason):
    response = client.get(f"/releases/{demo['Quiet Hours'].upc}/ern.xml", {"recipient": value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Not a DDEX Party ID" in response.content.decode() and reason in response.content.decode()


def test_without_a_registry_dpid_the_export_is_a_503_pointing_to_the_bundle(client, demo, settings):
    settings.REGISTRY_DPID = None
    upc = demo["Quiet Hours"].upc
    response = client.get(f"/releases/{upc}/ern.xml")
    assert response.status_code == 503
    assert "REGISTRY_DPID" in response.content.decode() and f"/releases/{upc}/bundle.json" in response.content.decode()


# --- the AI markup -------------------------------------------------------------------------


def test_each_ai_part_is_a_generative_ai_contributor_with_its_role_and_level(client, demo):
    release = demo["Machine Lullabies"]
    st_ = release.current_declaration.statement
    _, root = export(client, release.upc)
    recordings = root.findall("ResourceList/SoundRecording")
    assert len(recordings) == len(st_["tracks"])
    for sr, track in zip(recordings, st_["tracks"], strict=True):
        assert sr.findtext("SoundRecordingEdition/ResourceId/ISRC") == track["isrc"]
        assert sr.findtext("DisplayTitleText") == track["title"]
        assert sr.findtext("Duration") == iso_duration(track["duration"])
        assert sr.findtext("ContainsAI") == vocabulary.ddex_contains_ai(track["contains_ai"])
        assert {c.findtext("SpecialContributor") for c in sr.findall("Contributor")} == {"GenerativeAI"}
        assert contributions(sr) == stated(track["parts"])
        assert set(contributions(sr)) <= allowed_values("ContributorRole")
    assert root.findtext("ReleaseList/Release/ContainsAI") == "Partly"


def test_a_recording_without_ai_has_no_contributors(client, demo):
    _, root = export(client, demo["Quiet Hours"].upc)
    for sr in root.findall("ResourceList/SoundRecording"):
        assert sr.findtext("ContainsAI") == "None" and sr.find("Contributor") is None
    assert root.findtext("ReleaseList/Release/ContainsAI") == "None"


def test_an_ai_persona_is_a_generative_ai_display_artist_and_keeps_its_display_name(client, demo):
    _, root = export(client, demo["Velvet Static"].upc)
    rel = root.find("ReleaseList/Release")
    assert rel.findtext("DisplayArtistName") == "The Cobalt Choir"
    (artist,) = rel.findall("DisplayArtist")
    assert artist.findtext("SpecialDisplayArtist") == "GenerativeAI" and artist.find("ArtistPartyReference") is None
    assert "The Cobalt Choir" not in {p.findtext("PartyName/FullName") for p in root.iter("Party")}

    _, human = export(client, demo["Quiet Hours"].upc)
    artist = human.find("ReleaseList/Release/DisplayArtist")
    assert artist.find("SpecialDisplayArtist") is None and artist.findtext("DisplayArtistRole") == "MainArtist"
    (party,) = [
        p for p in human.iter("Party") if p.findtext("PartyReference") == artist.findtext("ArtistPartyReference")
    ]
    assert party.findtext("PartyName/FullName") == "Maren Holt" and party.findtext("PartyId/ISNI") == "000000012146438X"


def test_tools_and_voice_likeness_stay_only_in_the_signed_statement(client, demo):
    response, _ = export(client, demo["Second Voice"].upc)
    text = response.content.decode()
    assert "Voice model (licensed)" not in text and "LM-2025-014" not in text


def test_the_artwork_level_is_the_front_cover_images_contains_ai(client, demo, settings):
    release = demo["Holo Hearts"]
    _, root = export(client, release.upc)
    (image,) = root.findall("ResourceList/Image")
    assert image.findtext("Type") == "FrontCoverImage" and image.findtext("ContainsAI") == "All"
    pid = image.find("ResourceId/ProprietaryId")
    assert (pid.text, pid.get("Namespace")) == (f"{release.upc}-front-cover", f"DPID:{settings.REGISTRY_DPID}")
    items = [i.findtext("ReleaseResourceReference") for i in root.iterfind("ReleaseList/Release/ResourceGroup/*")]
    assert items[-1] == image.findtext("ResourceReference")


def test_the_release_has_icpn_title_genre_date_and_its_tracks_in_order(client, demo):
    release = demo["Glass Meridian"]  # amended: the genre carries into version 2
    _, root = export(client, release.upc)
    rel = root.find("ReleaseList/Release")
    assert rel.findtext("ReleaseType") == "Album"
    assert rel.findtext("ReleaseId/ICPN") == release.upc
    assert rel.findtext("DisplayTitleText") == "Glass Meridian"
    assert rel.findtext("DisplayGenre/GenreText") == "Electronic"
    assert rel.findtext("ReleaseDate") == "2025-06-02"
    assert rel.findtext("ContainsAI") == "Partly"
    items = [i.findtext("ReleaseResourceReference") for i in rel.findall("ResourceGroup/ResourceGroupContentItem")]
    tracks = [sr.findtext("ResourceReference") for sr in root.findall("ResourceList/SoundRecording")]
    assert items == [*tracks, root.findtext("ResourceList/Image/ResourceReference")]


# --- edge cases ----------------------------------------------------------------------------


def test_a_label_without_a_dpid_exports_a_valid_message(client, keys, other_label):
    release = declared(other_label, tracks=2)
    _, root = export(client, release.upc)
    label_party = [p for p in root.iter("Party") if p.findtext("PartyReference") == "PLabel"]
    assert label_party[0].findtext("PartyName/FullName") == "Rival Sounds"
    assert label_party[0].find("PartyId") is None
    assert root.findtext("MessageHeader/MessageSender/PartyId") == REGISTRY_DPID
    assert root.findtext("MessageHeader/MessageControlType") == "LiveMessage"


def test_a_one_track_release_is_a_single(client, keys, label):
    release = declared(
        label, tracks=1, persona="synthetic", artwork_ai="all", ai={"Track 1": factories.track_ai("all")}
    )
    _, root = export(client, release.upc)
    assert root.findtext("ReleaseList/Release/ReleaseType") == "Single"
    assert root.findtext("ReleaseList/Release/ContainsAI") == "All"
    assert len(root.findall("ResourceList/SoundRecording/Contributor")) == len(vocabulary.PARTS)


def test_a_hundred_track_release_exports_every_track(client, keys, label):
    release = declared(label, tracks=100, ai={"Track 50": factories.track_ai("partly")})
    _, root = export(client, release.upc)
    recordings = root.findall("ResourceList/SoundRecording")
    assert len(recordings) == 100 and len(root.findall("ReleaseList/Release/ResourceGroup/*")) == 101  # + the cover
    assert [sr.findtext("ContainsAI") for sr in recordings].count("Partly") == 1


def test_right_to_left_names_and_track_level_artists_export_as_written(client, keys, label):
    tracks = [
        {"isrc": factories.isrc(), "title": "أغنية الليل", "position": 1, "duration": 200},
        {
            "isrc": factories.isrc(),
            "title": "שיר השחר",
            "position": 2,
            "duration": 3725,
            "artists": [{"name": "נועה", "persona": "human"}, {"name": "صوت", "persona": "synthetic"}],
        },
    ]
    release = declared(
        label,
        genre="موسيقى عربية",
        title="ليالي القاهرة",
        artists=[{"name": "فيروز الجديدة", "persona": "human", "isni": "000000012146438X"}],
        track_list=tracks,
    )
    _, root = export(client, release.upc)
    assert root.findtext("ReleaseList/Release/DisplayTitleText") == "ليالي القاهرة"
    assert root.findtext("ReleaseList/Release/DisplayGenre/GenreText") == "موسيقى عربية"
    first, second = root.findall("ResourceList/SoundRecording")
    assert first.findtext("DisplayArtistName") == "فيروز الجديدة"
    assert second.findtext("DisplayTitleText") == "שיר השחר" and second.findtext("Duration") == "PT1H2M5S"
    assert second.findtext("DisplayArtistName") == "נועה, صوت"
    human, persona = second.findall("DisplayArtist")
    assert human.find("ArtistPartyReference") is not None and persona.findtext("SpecialDisplayArtist") == "GenerativeAI"


def test_label_text_is_escaped(client, keys, label):
    release = declared(label, tracks=1, title='Tom & Jerry <live> "unplugged"')
    response, root = export(client, release.upc)
    assert b"Tom &amp; Jerry &lt;live&gt;" in response.content
    assert root.findtext("ReleaseList/Release/DisplayTitleText") == 'Tom & Jerry <live> "unplugged"'


LEVELS = st.sampled_from(vocabulary.LEVELS)
TRACK_PARTS = st.fixed_dictionaries({p: LEVELS for p in vocabulary.PARTS})


@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(TRACK_PARTS, min_size=1, max_size=3),
    artwork=LEVELS,
    persona=st.sampled_from(vocabulary.PERSONAS),
    with_dpid=st.booleans(),
)
def test_every_level_combination_exports_valid_ern_that_keeps_ddex_ai_rules_and_imports_back(
    client, keys, label, other_label, parts, artwork, persona, with_dpid
):
    release = declared(
        label if with_dpid else other_label,
        tracks=len(parts),
        persona=persona,
        artwork_ai=artwork,
        ai={f"Track {i + 1}": {"parts": p} for i, p in enumerate(parts)},
    )
    _, root = export(client, release.upc)
    for sr, track_parts in zip(root.findall("ResourceList/SoundRecording"), parts, strict=True):
        level = sr.findtext("ContainsAI")
        assert level == vocabulary.ddex_contains_ai(vocabulary.track_contains_ai(track_parts))
        contributors = sr.findall("Contributor")
        # DDEX: with All, only GenerativeAI contributors; with None, none with AiContribution Partly or All.
        if level == "All":
            assert {c.findtext("SpecialContributor") for c in contributors} == {"GenerativeAI"}
        if level == "None":
            assert not [c for c in contributors if c.findtext("AiContribution") in ("Partly", "All")]
        assert contributions(sr) == stated(track_parts)
    (image,) = root.findall("ResourceList/Image")
    assert image.findtext("Type") == "FrontCoverImage"
    assert image.findtext("ContainsAI") == vocabulary.ddex_contains_ai(artwork)
    track_levels = [vocabulary.track_contains_ai(p) for p in parts]
    expected = vocabulary.ddex_contains_ai(vocabulary.release_contains_ai(track_levels, artwork))
    assert root.findtext("ReleaseList/Release/ContainsAI") == expected
    is_persona = root.find("ReleaseList/Release/DisplayArtist/SpecialDisplayArtist") is not None
    assert is_persona == (persona == "synthetic")
    # And the label importer reads back what was signed: parts, artwork, persona, tracks and order.
    from registry.labels.ern import parse_ern

    back = parse_ern(client.get(f"/releases/{release.upc}/ern.xml").content)
    release.refresh_from_db()
    st_ = release.current_declaration.statement
    assert back["artwork"] == artwork
    assert [(a["name"], a["persona"] == "synthetic") for a in back["artists"]] == [
        (a["name"], a["persona"] == "synthetic") for a in st_["artists"]
    ]
    assert [(t["isrc"], t["position"], t["parts"]) for t in back["tracks"]] == [
        (t["isrc"], t["position"], t["parts"]) for t in st_["tracks"]
    ]
    assert all(not t["unstated"] for t in back["tracks"])


# --- facts ERN requires that a declaration may lack ----------------------------------------


def test_a_release_declared_without_a_genre_is_a_409_that_names_it(client, keys, label):
    release = declared(label, genre=None, tracks=2)
    response = client.get(f"/releases/{release.upc}/ern.xml")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert f"Release {release.upc} (declaration version 1)" in text
    assert "the release's genre" in text and "duration" not in text


def test_tracks_without_a_duration_are_a_409_that_names_each(client, keys, label):
    tracks = [
        {"isrc": factories.isrc(), "title": "Known", "position": 1, "duration": 100},
        {"isrc": (unknown := factories.isrc()), "title": "Unknown length", "position": 2, "duration": None},
    ]
    release = declared(label, track_list=tracks)
    response = client.get(f"/releases/{release.upc}/ern.xml")
    assert response.status_code == 409
    text = response.content.decode()
    assert f"the duration of track 2 \u201cUnknown length\u201d (ISRC {unknown})" in text
    assert "Known" not in text and "genre" not in text


def test_an_amendment_that_adds_the_genre_makes_the_release_exportable(client, keys, label):
    release = declared(label, genre=None, tracks=1)
    assert client.get(f"/releases/{release.upc}/ern.xml").status_code == 409
    declaration_amend(release=release, reason="Genre added for DDEX delivery.")
    assert client.get(f"/releases/{release.upc}/ern.xml").status_code == 409  # not given: not made up
    version_sign(release=release, change=NextVersion(reason="Genre added.", catalog=CatalogChange(genre="Jazz")))
    _, root = export(client, release.upc)
    assert root.findtext("ReleaseList/Release/DisplayGenre/GenreText") == "Jazz"


def test_a_genre_with_a_forbidden_character_is_refused_before_signing(keys, label):
    with pytest.raises(ValidationFailed, match="genre: Contains U\\+0007"):
        factories.make_release(label, tracks=1, genre="Jazz\x07")


def test_a_withdrawn_declaration_has_nothing_to_export(client, demo):
    response = client.get(f"/releases/{demo['Synthetic Summer'].upc}/ern.xml")
    assert response.status_code == 410
    assert b"No current facts to export" in response.content


def test_an_undeclared_release_is_a_404(client, db):
    assert client.get("/releases/036000291452/ern.xml").status_code == 404


def test_the_export_round_trips_through_the_label_importer(client, demo):
    # Tools and the artwork level are not in the message (see registry/public/ern_export.py), so not compared.
    ern = pytest.importorskip("registry.labels.ern", reason="the label-forms importer is not there yet")
    for title in ("Glass Meridian", "Machine Lullabies", "Velvet Static", "Second Voice"):
        release = demo[title]
        st_ = release.current_declaration.statement
        response, _ = export(client, release.upc)
        parsed = ern.parse_ern(response.content)
        assert parsed["ern_version"] == "4.3.2"
        assert parsed["upc"] == release.upc
        assert parsed["title"] == st_["release"]["title"]
        assert parsed["release_date"].isoformat() == st_["release"]["release_date"]
        assert parsed["contains_ai"] == st_["release"]["contains_ai"]
        # An AI persona survives the round trip (ERN has no flag for "human using AI tools").
        assert [a["persona"] == "synthetic" for a in parsed["artists"]] == [
            a["persona"] == "synthetic" for a in st_["artists"]
        ]
        assert [t["isrc"] for t in parsed["tracks"]] == [t["isrc"] for t in st_["tracks"]]
        for got, want in zip(parsed["tracks"], st_["tracks"], strict=True):
            assert got["title"] == want["title"]
            assert got["position"] == want["position"]
            assert got["duration"] == want["duration"]
            assert got["contains_ai"] == want["contains_ai"]
            assert got["parts"] == want["parts"]


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "PT0S"), (59, "PT59S"), (214, "PT3M34S"), (3600, "PT1H0M0S"), (3723, "PT1H2M3S")]
)
def test_iso_duration(seconds, expected):
    assert iso_duration(seconds) == expected
