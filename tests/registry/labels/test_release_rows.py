"""Track rows of the release forms: a single to a box set, added, removed and moved without JavaScript."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.catalog.models import Release
from registry.catalog.services import RELEASE_MAX_TRACKS
from tests import factories
from tests.registry.labels.test_release_edit import edit_data
from tests.registry.labels.test_release_edit import url as edit_url
from tests.registry.labels.test_release_form import form_data, new_url

pytestmark = pytest.mark.django_db


def row_button(data: dict[str, Any], value: str) -> dict[str, Any]:
    """``data`` as posted by a row button instead of "Save"."""
    data = {k: v for k, v in data.items() if k != "save"}
    data["row_action"] = value
    return data


def values(html: str, field: str) -> list[str]:
    """The values of ``tracks-N-<field>`` inputs in row order."""
    found = []
    for tag in re.findall(rf'<input[^>]* name="tracks-\d+-{field}"[^>]*>', html):
        value = re.search(r' value="([^"]*)"', tag)
        found.append((int(re.search(r"tracks-(\d+)-", tag).group(1)), value.group(1) if value else ""))
    return [v for _, v in sorted(found)]


def saved_tracks(upc: str) -> list[tuple[int, str]]:
    release = Release.objects.get(upc=upc)
    return [(t.position, t.title) for t in release.tracks.order_by("position")]


# --- sizes --------------------------------------------------------------------


def test_a_single_saves_with_one_row_and_its_title_defaults_to_the_release_title(owner_client, label):
    data = form_data(1, title="Lone Star", **{"tracks-0-title": "", "tracks-0-position": ""})
    response = owner_client.post(new_url(label), data)
    assert response.status_code == 302
    assert saved_tracks(data["upc"]) == [(1, "Lone Star")]


def test_only_a_single_may_leave_a_track_title_empty(owner_client, label):
    data = form_data(2, **{"tracks-1-title": ""})
    html = owner_client.post(new_url(label), data).content.decode()
    assert "Give every track a title." in html
    assert not Release.objects.filter(upc=data["upc"]).exists()


def test_a_25_track_release_saves_with_positions_in_row_order(owner_client, label):
    data = form_data(25, **{f"tracks-{i}-position": "" for i in range(25)})
    assert owner_client.post(new_url(label), data).status_code == 302
    assert saved_tracks(data["upc"]) == [(i + 1, f"Song {i + 1}") for i in range(25)]


def test_a_box_set_at_the_cap_saves_and_one_more_row_is_refused(owner_client, label):
    data = form_data(RELEASE_MAX_TRACKS)
    assert owner_client.post(new_url(label), data).status_code == 302
    assert len(saved_tracks(data["upc"])) == RELEASE_MAX_TRACKS
    more = row_button(form_data(RELEASE_MAX_TRACKS), "")
    more["add_track"] = "1"
    html = owner_client.post(new_url(label), more).content.decode()
    assert f"A release has at most {RELEASE_MAX_TRACKS} tracks: no row added." in html
    assert f'name="tracks-{RELEASE_MAX_TRACKS}-isrc"' not in html


def test_empty_trailing_rows_are_ignored_even_with_a_prefilled_position(owner_client, label):
    data = form_data(1, **{"tracks-TOTAL_FORMS": "3", "tracks-1-position": "2", "tracks-2-position": "3"})
    assert owner_client.post(new_url(label), data).status_code == 302
    assert len(saved_tracks(data["upc"])) == 1


# --- add, remove, move without JavaScript ---------------------------------------


def test_add_a_track_keeps_everything_typed_prefills_the_position_and_shows_no_errors(owner_client, label):
    data = row_button(form_data(2, upc="12", genre=""), "")
    data["add_track"] = "1"
    html = owner_client.post(new_url(label), data).content.decode()
    assert values(html, "position") == ["1", "2", "3"]
    assert values(html, "title") == ["Song 1", "Song 2", ""]
    assert 'value="12"' in html and 'role="alert"' not in html and "errorlist" not in html
    assert 'aria-invalid="true"' not in html
    assert "Track 3 added." in html  # in the live region
    assert not Release.objects.exists()


def test_remove_takes_out_that_row_and_renumbers_positions(owner_client, label):
    data = form_data(3)
    html = owner_client.post(new_url(label), row_button(data, "tracks-1-remove")).content.decode()
    assert values(html, "title") == ["Song 1", "Song 3"]
    assert values(html, "isrc") == [data["tracks-0-isrc"], data["tracks-2-isrc"]]
    assert values(html, "position") == ["1", "2"]
    assert "Track 2 “Song 2” removed. 2 tracks left." in html and 'role="alert"' not in html
    assert 'name="tracks-TOTAL_FORMS" value="2"' in html


@pytest.mark.parametrize(("button", "order"), [("tracks-2-up", [1, 3, 2]), ("tracks-0-down", [2, 1, 3])])
def test_move_swaps_rows_keeping_their_input_and_positions_follow_the_order(owner_client, label, button, order):
    data = form_data(3, **{"tracks-1-duration": "4:44"})
    html = owner_client.post(new_url(label), row_button(data, button)).content.decode()
    assert values(html, "title") == [f"Song {n}" for n in order]
    assert values(html, "position") == ["1", "2", "3"]
    durations = {"Song 2": "4:44"}
    assert values(html, "duration") == [durations.get(f"Song {n}", "3:21") for n in order]
    assert "moved" in html and 'role="alert"' not in html


def test_positions_typed_out_of_order_are_left_alone_by_a_move(owner_client, label):
    data = form_data(2, **{"tracks-0-position": "7", "tracks-1-position": "9"})
    html = owner_client.post(new_url(label), row_button(data, "tracks-1-up")).content.decode()
    assert values(html, "title") == ["Song 2", "Song 1"] and values(html, "position") == ["9", "7"]
    add = row_button(data, "")
    add["add_track"] = "1"
    assert values(owner_client.post(new_url(label), add).content.decode(), "position") == ["7", "9", "10"]


def test_after_a_move_the_release_saves_in_the_new_order(owner_client, label):
    data = form_data(3)
    html = owner_client.post(new_url(label), row_button(data, "tracks-2-up")).content.decode()
    moved = dict(data)
    for field in ("isrc", "title", "position", "duration"):
        for i, value in enumerate(values(html, field)):
            moved[f"tracks-{i}-{field}"] = value
    assert owner_client.post(new_url(label), moved).status_code == 302
    assert saved_tracks(data["upc"]) == [(1, "Song 1"), (2, "Song 3"), (3, "Song 2")]


def test_an_uploaded_file_moves_with_its_row_and_is_hashed(owner_client, label):
    audio = b"the second song's audio"
    data = row_button(form_data(2), "tracks-1-up")
    data["tracks-1-audio_file"] = SimpleUploadedFile("two.wav", audio)
    html = owner_client.post(new_url(label), data).content.decode()
    assert values(html, "audio_sha256") == [hashlib.sha256(audio).hexdigest(), ""]


def test_removing_the_only_row_leaves_one_empty_row(owner_client, label):
    html = owner_client.post(new_url(label), row_button(form_data(1), "tracks-0-remove")).content.decode()
    assert values(html, "position") == ["1"] and values(html, "isrc") == [""]


def test_nonsense_row_buttons_change_nothing_and_never_500(owner_client, label):
    for value in ("tracks-7-up", "tracks-0-up", "tracks-1-down", "tracks-x-remove", "tracks-99999-remove"):
        response = owner_client.post(new_url(label), row_button(form_data(2), value))
        assert response.status_code == 200
        assert values(response.content.decode(), "title") == ["Song 1", "Song 2"]


def test_artist_rows_can_be_added_and_removed_too(owner_client, label):
    data = row_button(form_data(1, **{"artists-TOTAL_FORMS": "2", "artists-1-name": "Second"}), "artists-0-remove")
    html = owner_client.post(new_url(label), data).content.decode()
    assert 'name="artists-0-name" value="Second"' in html and "artists-1-name" not in html


# --- the edit form ----------------------------------------------------------------


def test_the_edit_form_removes_and_moves_rows_without_javascript(owner_client, label, keys):
    release = factories.make_release(label, tracks=3, title="Trio")
    data = row_button(edit_data(release), "tracks-0-remove")
    html = owner_client.post(edit_url(release), data).content.decode()
    assert values(html, "title") == ["Track 2", "Track 3"] and values(html, "position") == ["1", "2"]
    assert 'role="alert"' not in html
    saved = edit_data(release)
    for field in ("isrc", "title", "position", "duration", "audio_sha256"):
        for i, value in enumerate(values(html, field)):
            saved[f"tracks-{i}-{field}"] = value
    saved["tracks-TOTAL_FORMS"] = "2"
    for key in [k for k in saved if k.startswith("tracks-2-")]:
        del saved[key]
    assert owner_client.post(edit_url(release), saved).status_code == 302
    assert [(t.position, t.title) for t in release.tracks.order_by("position")] == [(1, "Track 2"), (2, "Track 3")]
