"""parse_ern: ERN 4.3.2 AI elements, 4.3 differences, and hostile files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from registry.errors import ValidationFailed
from registry.labels.ern import parse_ern

ERN = Path(__file__).resolve().parents[2] / "data" / "ern"


def test_it_reads_an_ern_432_release_with_mixed_ai():
    data = parse_ern((ERN / "mixed-ai-432.xml").read_bytes())
    assert data["ern_version"] == "4.3.2"
    assert (data["upc"], data["title"], data["release_date"]) == ("036000291452", "Northern Signals", date(2026, 4, 17))
    assert data["contains_ai"] == "partly" and data["artwork"] == "partly"
    assert data["artists"] == [{"name": "Aurora Fields", "isni": "000000012146438X", "persona": "human"}]
    first, second, third = data["tracks"]
    assert (first["isrc"], first["position"], first["duration"]) == ("QZTST2600101", 1, 201)
    assert set(first["parts"].values()) == {"none"} and first["tools"] == []
    assert second["parts"] == {
        "composition": "none",
        "lyrics": "none",
        "vocals": "all",
        "instrumentation": "none",
        "production": "partly",
    }
    assert second["tools"] == ["Suno v4"]
    assert set(third["parts"].values()) == {"all"}


def test_it_reads_ern_43_with_text_roles_and_a_default_namespace():
    data = parse_ern((ERN / "single-43.xml").read_bytes())
    assert data["ern_version"] == "4.3"
    assert data["release_date"] == date(2025, 11, 2)  # OriginalReleaseDate
    (track,) = data["tracks"]
    assert track["isrc"] == "QZTST2600201" and track["title"] == "Handmade" and track["duration"] == 180
    assert track["parts"]["lyrics"] == "partly" and track["parts"]["vocals"] == "none"
    assert track["tools"] == ["Lyric Helper 2"]


def test_unstated_parts_stay_unknown():
    xml = b"""<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/431">
      <ResourceList><SoundRecording><ResourceReference>A1</ResourceReference>
        <SoundRecordingEdition><ResourceId><ISRC>QZTST2600301</ISRC></ResourceId></SoundRecordingEdition>
        <DisplayTitleText>Maybe</DisplayTitleText><ContainsAI>Partly</ContainsAI></SoundRecording></ResourceList>
      <ReleaseList><Release><ReleaseId><ICPN>036000291452</ICPN></ReleaseId><DisplayTitleText>M</DisplayTitleText></Release></ReleaseList>
    </ern:NewReleaseMessage>"""
    (track,) = parse_ern(xml)["tracks"]
    assert track["contains_ai"] == "partly" and set(track["parts"].values()) == {None}


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe.xml"])
def test_hostile_files_are_refused_before_expansion(name):
    with pytest.raises(ValidationFailed, match="DTD, entities or external references"):
        parse_ern((ERN / name).read_bytes())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x00\x01 nope", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="ATF-8"?><NewReleaseMessage/>', "names an encoding that cannot be read"),
        (b"<Other/>", "Expected a DDEX NewReleaseMessage"),
        (b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/41"/>', "Unsupported ERN namespace"),
        (b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"/>', "no <ReleaseList><Release>"),
        (
            b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"><ReleaseList><Release/></ReleaseList></NewReleaseMessage>',
            "nothing to declare",
        ),
        (
            b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"><ResourceList><SoundRecording>'
            b"<ContainsAI>Maybe</ContainsAI></SoundRecording></ResourceList><ReleaseList><Release/></ReleaseList>"
            b"</NewReleaseMessage>",
            "ContainsAI must be None, Partly or All",
        ),
    ],
)
def test_broken_files_say_what_is_wrong(body, message):
    with pytest.raises(ValidationFailed, match=message) as exc:
        parse_ern(body)
    assert exc.value.fields["file"]


def test_an_import_without_a_file_says_so(client, owner, label):
    client.force_login(owner)
    r = client.post(f"/label/{label.pk}/releases/import/", {})
    assert r.status_code == 200
    assert "This field is required" in r.content.decode()


def test_an_imported_message_is_a_server_side_draft_not_session_data(owner, label):
    """Finding 10: the whole parse used to live in the session (5,000 recordings made an 11.8 MB session)."""
    from django.contrib.sessions.models import Session
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from registry.labels.models import Draft

    client = Client()
    client.force_login(owner)
    upload = SimpleUploadedFile("release.xml", (ERN / "mixed-ai-432.xml").read_bytes(), "text/xml")
    response = client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
    assert response.status_code == 302
    draft = Draft.objects.get(label=label, user=owner, key="labels:import")
    title = draft.data["title"]
    for session in Session.objects.all():
        assert title not in str(session.get_decoded())
    # The draft outlives the session: signed in again elsewhere, the import is still there.
    other = Client()
    other.force_login(owner)
    assert title in other.get(f"/label/{label.pk}/releases/new/?import=1").content.decode()


def test_a_message_over_the_track_cap_is_refused_with_the_count():
    from registry.catalog.services import RELEASE_MAX_TRACKS
    from tests.registry.labels.test_release_form import ern_with_recordings

    with pytest.raises(ValidationFailed, match=f"has {RELEASE_MAX_TRACKS + 1} sound recordings; a release has at most"):
        parse_ern(ern_with_recordings(RELEASE_MAX_TRACKS + 1))
    assert len(parse_ern(ern_with_recordings(RELEASE_MAX_TRACKS))["tracks"]) == RELEASE_MAX_TRACKS
