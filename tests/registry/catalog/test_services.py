"""Catalog services: identifiers are validated, labels never take each other's ISRCs or UPCs."""

from __future__ import annotations

from datetime import date

import pytest

from registry.catalog.models import Recording, Release
from registry.catalog.services import artist_create, label_create, release_create, release_update
from registry.errors import Conflict, ValidationFailed
from tests import factories


def test_it_normalizes_identifiers_people_type(db, label):
    release = release_create(
        label=label,
        upc="0-36000-29145-2",
        title="Normalised",
        genre="Jazz",
        artists=[{"name": "A", "persona": "human", "isni": "0000 0001 2146 438X"}],
        tracks=[{"isrc": "us-skg-19-12345", "title": "One", "position": 1, "duration": 200}],
    )
    assert release.upc == "036000291452"
    assert release.tracks.get().recording.isrc == "USSKG1912345"
    assert release.artists.get().isni == "000000012146438X"


def test_it_says_which_check_digit_a_upc_should_have(db, label):
    with pytest.raises(ValidationFailed) as err:
        release_create(
            label=label,
            upc="036000291453",
            title="X",
            genre="Jazz",
            artists=[{"name": "A"}],
            tracks=[{"isrc": factories.isrc(), "title": "t", "duration": 60}],
        )
    assert "check digit should be 2" in err.value.message
    assert "upc" in err.value.fields
    assert not Release.objects.exists()


def test_a_draft_never_blocks_or_informs_another_label(db, label, other_label):
    """Identifiers are held from the first signature, not from a saved draft (the security review's finding 2)."""
    code, release_upc = factories.isrc(), factories.upc()
    factories.make_release(label, upc=release_upc, track_list=[{"isrc": code, "title": "Mine", "position": 1}])
    theirs = factories.make_release(
        other_label, upc=release_upc, track_list=[{"isrc": code, "title": "Theirs", "position": 1}]
    )
    assert theirs.label == other_label
    assert Recording.objects.filter(isrc=code).count() == 2  # one working copy per label


def test_the_same_upc_twice_in_one_catalog_is_refused(db, label):
    code = factories.upc()
    factories.make_release(label, upc=code)
    with pytest.raises(Conflict, match="already in your catalog"):
        factories.make_release(label, upc=code)


def test_the_same_isrc_can_sit_on_a_single_and_its_album(db, label):
    code = factories.isrc()
    factories.make_release(label, title="Single", track_list=[{"isrc": code, "title": "Hit", "position": 1}])
    album = factories.make_release(label, title="Album", track_list=[{"isrc": code, "title": "Hit", "position": 3}])
    assert Recording.objects.filter(isrc=code).count() == 1
    assert album.tracks.get().position == 3


def test_it_rejects_duplicate_positions_and_isrcs_in_one_release(db, label):
    code = factories.isrc()
    with pytest.raises(ValidationFailed, match="appears twice"):
        factories.make_release(
            label, track_list=[{"isrc": code, "title": "a", "position": 1}, {"isrc": code, "title": "b", "position": 2}]
        )
    with pytest.raises(ValidationFailed, match="position 1 appears twice"):
        factories.make_release(
            label,
            track_list=[
                {"isrc": factories.isrc(), "title": "a", "position": 1},
                {"isrc": factories.isrc(), "title": "b", "position": 1},
            ],
        )
    assert not Release.objects.exists()


@pytest.mark.parametrize("title", ["", "   ", "bad\x00title", "x" * 501])
def test_it_rejects_bad_titles(db, label, title):
    with pytest.raises(ValidationFailed):
        factories.make_release(label, title=title)


def test_it_rejects_a_label_with_a_malformed_dpid(db):
    with pytest.raises(ValidationFailed, match="check character should be G"):
        label_create(name="Bad", dpid="PADPIDA3897722461H")


def test_artists_are_reused_by_isni_within_a_label(db, label):
    a = artist_create(label=label, name="Maren", isni="000000012146438X")
    b = artist_create(label=label, name="Maren Holt", isni="0000-0001-2146-438X")
    assert a == b


def test_release_update_replaces_tracks_and_keeps_the_upc(db, label):
    release = factories.make_release(label, tracks=2)
    new_isrc = factories.isrc()
    release_update(release=release, title="Renamed", tracks=[{"isrc": new_isrc, "title": "Only", "position": 1}])
    release.refresh_from_db()
    assert release.title == "Renamed"
    assert [t.recording.isrc for t in release.tracks.all()] == [new_isrc]


def test_release_update_clears_the_release_date_only_when_asked(db, label):
    release = factories.make_release(label, release_date=date(2026, 5, 1))
    release_update(release=release, title="Renamed", release_date=None)
    release.refresh_from_db()
    assert release.release_date == date(2026, 5, 1)  # None still means "no change"
    release_update(release=release, clear_release_date=True)
    release.refresh_from_db()
    assert release.release_date is None
    with pytest.raises(ValidationFailed):
        release_update(release=release, release_date=date(2026, 6, 1), clear_release_date=True)
