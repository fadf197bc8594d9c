"""Creating a release by hand: identifiers validated precisely, conflicts as form errors, input kept."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.catalog.models import Artist, Release, Track
from registry.catalog.services import RELEASE_MAX_TRACKS
from tests import factories
from tests.registry.labels.conftest import client_draft_data

pytestmark = pytest.mark.django_db
ERN = Path(__file__).resolve().parents[2] / "data" / "ern"


def form_data(n: int = 2, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "upc": factories.upc(),
        "title": "Night Drive",
        "genre": "Synthwave",
        "release_date": "2026-05-01",
        "artwork_ai": "partly",
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "The Drivers",
        "artists-0-persona": "ai_assisted",
        "artists-0-isni": "",
        "tracks-TOTAL_FORMS": str(n),
        "tracks-INITIAL_FORMS": "0",
        "save": "1",
    }
    for i in range(n):
        data.update(
            {
                f"tracks-{i}-isrc": factories.isrc(),
                f"tracks-{i}-title": f"Song {i + 1}",
                f"tracks-{i}-position": str(i + 1),
                f"tracks-{i}-duration": "3:21",
                f"tracks-{i}-audio_sha256": "",
            }
        )
    data.update(overrides)
    return data


def new_url(label: Any) -> str:
    return f"/label/{label.pk}/releases/new/"


def test_the_form_is_labelled_and_starts_with_one_track(owner_client, label):
    html = owner_client.get(new_url(label)).content.decode()
    assert '<label for="id_upc">' in html and '<label for="id_tracks-0-isrc">' in html
    assert "id_tracks-1-isrc" not in html
    assert 'name="tracks-0-position" value="1"' in html
    assert 'enctype="multipart/form-data"' in html


def test_it_creates_the_release_and_goes_on_to_declare(owner_client, label):
    data = form_data(2, **{"tracks-1-duration": "245", "tracks-0-isrc": "qz-tst-26-55501"})
    response = owner_client.post(new_url(label), data)
    release = Release.objects.get(upc=data["upc"])
    assert response["Location"] == f"/label/{label.pk}/releases/{release.upc}/declare/"
    assert release.artwork_ai == "partly"
    assert [a.persona for a in release.artists.all()] == ["ai_assisted"]
    durations = {t.recording.isrc: t.duration for t in release.tracks.select_related("recording")}
    assert durations["QZTST2655501"] == 201 and len(durations) == 2
    assert 245 in durations.values()


def test_the_genre_is_kept_and_signed_with_the_release(owner_client, label, keys):
    data = form_data(1, genre="Gqom")
    owner_client.post(new_url(label), data)
    release = Release.objects.get(upc=data["upc"])
    assert release.genre == "Gqom"
    factories.declare(release)
    release.refresh_from_db()
    assert release.current_declaration.statement["release"]["genre"] == "Gqom"


def test_a_new_release_needs_a_genre_and_every_tracks_duration(owner_client, label):
    data = form_data(2, genre="", **{"tracks-1-duration": ""})
    response = owner_client.post(new_url(label), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_genre_error"><li>This field is required.</li>' in html
    assert '<ul class="errorlist" id="id_tracks-1-duration_error"><li>This field is required.</li>' in html
    assert 'id="id_tracks-0-duration_error"' not in html
    assert not Release.objects.filter(upc=data["upc"]).exists()


def test_identifier_errors_say_exactly_what_is_wrong_and_keep_the_input(owner_client, label):
    data = form_data(2, upc="036000291453", **{"tracks-1-isrc": "QZ-TST-26-1234", "tracks-0-duration": "3:75"})
    response = owner_client.post(new_url(label), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "UPC/EAN check digit should be 2, not 3" in html
    assert "ISRC must have 12 characters (CC-XXX-YY-NNNNN), got 11" in html
    assert "Seconds and minutes after a colon must be below 60." in html
    assert 'value="036000291453"' in html and 'value="QZ-TST-26-1234"' in html and 'value="Night Drive"' in html
    assert 'role="alert"' in html and 'href="#id_upc"' in html
    assert 'aria-describedby="id_upc_error id_upc_helptext"' in html
    assert 'aria-invalid="true"' in html
    assert not Release.objects.exists()


def test_a_bad_isni_is_explained(owner_client, label):
    html = owner_client.post(new_url(label), form_data(1, **{"artists-0-isni": "0000000121464381"})).content.decode()
    assert "ISNI check character should be X, not 1" in html


def test_an_upc_or_isrc_another_label_declared_is_a_form_error(owner_client, label, other_label, keys):
    theirs = factories.make_release(other_label, tracks=1)
    factories.declare(theirs)
    their_isrc = theirs.tracks.get().recording.isrc
    html = owner_client.post(new_url(label), form_data(1, upc=theirs.upc)).content.decode()
    assert "This UPC is declared by another label." in html
    html = owner_client.post(new_url(label), form_data(1, **{"tracks-0-isrc": their_isrc})).content.decode()
    assert "This ISRC is declared by another label." in html
    assert Release.objects.filter(label=label).count() == 0


def test_another_labels_draft_neither_blocks_nor_shows_its_identifiers(owner_client, label, other_label, keys):
    """Finding 2: a 409 used to tell another label that a draft's UPC or ISRC existed."""
    theirs = factories.make_release(other_label, tracks=1, title="Unannounced Secret")
    their_isrc = theirs.tracks.get().recording.isrc
    data = form_data(1, upc=theirs.upc, **{"tracks-0-isrc": their_isrc})
    response = owner_client.post(new_url(label), data)
    assert response.status_code == 302
    mine = Release.objects.get(label=label)
    assert factories.declare(mine).version == 1  # we signed first: the identifiers are ours now


def test_duplicate_isrcs_and_positions_on_the_form_are_caught(owner_client, label):
    data = form_data(2)
    data["tracks-1-isrc"] = data["tracks-0-isrc"]
    data["tracks-1-position"] = "1"
    html = owner_client.post(new_url(label), data).content.decode()
    assert "Track 1 has this ISRC already." in html and "Track 1 has position 1 already." in html


def test_a_release_needs_an_artist(owner_client, label):
    html = owner_client.post(new_url(label), form_data(1, **{"artists-0-name": ""})).content.decode()
    assert "Add at least one artist" in html


def test_existing_artists_can_be_picked(owner_client, label, keys):
    factories.make_release(label, title="Earlier")
    artist = Artist.objects.get(label=label)
    data = form_data(1, existing_artists=[str(artist.pk)], **{"artists-0-name": ""})
    assert owner_client.post(new_url(label), data).status_code == 302
    assert list(Release.objects.get(upc=data["upc"]).artists.all()) == [artist]


def test_add_track_keeps_everything_typed_and_shows_no_errors(owner_client, label):
    data = form_data(2, **{"add_track": "1", "upc": "12"})
    del data["save"]
    html = owner_client.post(new_url(label), data).content.decode()
    assert "id_tracks-2-isrc" in html and 'value="12"' in html
    assert "check digit" not in html and 'role="alert"' not in html
    assert not Release.objects.exists()


def test_an_uploaded_audio_file_is_hashed_and_not_stored(owner_client, label, tmp_path):
    audio = b"RIFF" + bytes(range(256)) * 4096
    data = form_data(1)
    data["tracks-0-audio_file"] = SimpleUploadedFile("take1.wav", audio, content_type="audio/wav")
    assert owner_client.post(new_url(label), data).status_code == 302
    track = Track.objects.get(recording__isrc=data["tracks-0-isrc"].replace("-", ""))
    assert track.audio_sha256 == hashlib.sha256(audio).hexdigest()


def test_the_hash_of_an_upload_survives_an_unrelated_error(owner_client, label):
    audio = b"some audio bytes"
    data = form_data(1, title="")
    data["tracks-0-audio_file"] = SimpleUploadedFile("a.flac", audio)
    html = owner_client.post(new_url(label), data).content.decode()
    assert hashlib.sha256(audio).hexdigest() in html


def test_a_typed_hash_must_be_hex(owner_client, label):
    html = owner_client.post(new_url(label), form_data(1, **{"tracks-0-audio_sha256": "xyz"})).content.decode()
    assert "A SHA-256 is 64 hex digits" in html


def test_garbage_management_form_is_an_error_not_a_500(owner_client, label):
    response = owner_client.post(new_url(label), {"upc": "1", "tracks-TOTAL_FORMS": "x"})
    assert response.status_code == 400


def test_importing_an_ern_file_prefills_the_forms_and_the_declaration(owner_client, label, keys):
    upload = SimpleUploadedFile("msg.xml", (ERN / "mixed-ai-432.xml").read_bytes(), content_type="text/xml")
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
    assert response["Location"] == f"/label/{label.pk}/releases/new/?import=1"
    html = owner_client.get(response["Location"]).content.decode()
    assert 'value="036000291452"' in html and 'value="Northern Signals"' in html
    assert 'value="QZTST2600102"' in html and 'value="4:02"' in html and 'value="Aurora Fields"' in html
    assert 'value="000000012146438X"' in html
    data = {
        "upc": "036000291452",
        "title": "Northern Signals",
        "genre": "Indie Pop",
        "release_date": "2026-04-17",
        "artwork_ai": "partly",
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "Aurora Fields",
        "artists-0-persona": "human",
        "artists-0-isni": "000000012146438X",
        "tracks-TOTAL_FORMS": "3",
        "tracks-INITIAL_FORMS": "0",
        "save": "1",
    }
    for i, (isrc, title) in enumerate(
        [("QZTST2600101", "Glass Sky"), ("QZTST2600102", "Paper Moons"), ("QZTST2600103", "Synthetic Dawn")]
    ):
        data.update(
            {
                f"tracks-{i}-isrc": isrc,
                f"tracks-{i}-title": title,
                f"tracks-{i}-position": str(i + 1),
                f"tracks-{i}-duration": "3:00",
            }
        )
    response = owner_client.post(f"/label/{label.pk}/releases/new/?import=1", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    declare = owner_client.get(response["Location"]).content.decode()
    from tests.registry.labels.test_declare_flow import checked

    assert checked(declare, "t1_vocals", "all") and checked(declare, "t1_production", "partly")
    assert checked(declare, "t1_lyrics", "none") and checked(declare, "t2_composition", "all")
    assert checked(declare, "artwork", "partly")
    assert "Suno v4" in declare


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-laughs.xml", "DTD, entities or external references"),
        ("xxe.xml", "DTD, entities or external references"),
    ],
)
def test_hostile_ern_files_are_refused_with_a_clear_error(owner_client, label, name, message):
    upload = SimpleUploadedFile(name, (ERN / name).read_bytes(), content_type="text/xml")
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400 and message in html and 'role="alert"' in html
    assert "root:" not in html


def test_a_non_ern_file_is_a_form_error(owner_client, label):
    for body in (b"not xml at all", b"<html/>", b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/382"/>'):
        upload = SimpleUploadedFile("x.xml", body)
        response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
        assert response.status_code == 400 and "error-summary" in response.content.decode()


def test_pressing_enter_in_the_release_form_saves_rather_than_adding_a_row(client, owner, label):
    import re

    client.force_login(owner)
    page = client.get(f"/label/{label.pk}/releases/new/").content.decode()
    form = page[page.index('<form method="post" enctype="multipart/form-data"') :]
    first_submit = re.search(r'<button type="submit"[^>]*>', form).group(0)
    # The first submit button is the one Enter uses: it must not add rows (any POST without add_* saves).
    assert "add_artist" not in first_submit and "add_track" not in first_submit and "implicit-submit" in first_submit


def ern_with_recordings(n: int) -> bytes:
    """An ERN 4.3.2 message with ``n`` sound recordings (the security review's over-cap file had 5,000)."""
    recordings = "".join(
        f"<SoundRecording><ResourceReference>A{i}</ResourceReference><SoundRecordingEdition><ResourceId>"
        f"<ISRC>{factories.isrc(i)}</ISRC></ResourceId></SoundRecordingEdition>"
        f"<DisplayTitleText>Song {i}</DisplayTitleText><ContainsAI>None</ContainsAI></SoundRecording>"
        for i in range(1, n + 1)
    )
    return (
        '<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/432"><ResourceList>'
        f"{recordings}</ResourceList><ReleaseList><Release><ReleaseId><ICPN>036000291452</ICPN></ReleaseId>"
        "<DisplayTitleText>Too Many</DisplayTitleText></Release></ReleaseList></ern:NewReleaseMessage>"
    ).encode()


@pytest.mark.parametrize("n", [RELEASE_MAX_TRACKS + 1, 5000])
def test_an_ern_file_over_the_track_cap_is_refused_before_the_page_is_built(owner_client, label, n):
    upload = SimpleUploadedFile("big.xml", ern_with_recordings(n), content_type="text/xml")
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400 and "error-summary" in html
    assert f"The message has {n} sound recordings; a release has at most {RELEASE_MAX_TRACKS} tracks." in html
    assert len(response.content) < 100_000  # the import form with its error, not thousands of track rows
    assert not any(k.startswith("labels:import") for k in owner_client.session.keys())


def test_an_ern_file_at_the_track_cap_is_read(owner_client, label):
    upload = SimpleUploadedFile("full.xml", ern_with_recordings(RELEASE_MAX_TRACKS), content_type="text/xml")
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload})
    assert response.status_code == 302
    assert len(client_draft_data(owner_client, label, "labels:import")["tracks"]) == RELEASE_MAX_TRACKS


def test_a_huge_total_forms_builds_at_most_the_track_cap_of_rows(owner_client, label):
    data = form_data(1)
    data["tracks-TOTAL_FORMS"] = "99999999999999999999"
    response = owner_client.post(new_url(label), data)
    html = response.content.decode()
    assert response.status_code == 400 and f"At most {RELEASE_MAX_TRACKS} tracks." in html
    assert f'name="tracks-{RELEASE_MAX_TRACKS}-isrc"' not in html
    assert Release.objects.count() == 0
