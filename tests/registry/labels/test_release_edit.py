"""Editing a release's catalog details: saved at once before a declaration, signed with an amendment after."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provenance import vocabulary
from registry.catalog.models import Recording, Release
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_amend
from tests import factories
from tests.registry.labels.conftest import client_draft, signed_in
from tests.registry.labels.test_declare_flow import checked, matrix

pytestmark = pytest.mark.django_db


def url(release: Any, step: str = "edit") -> str:
    return f"/label/{release.label_id}/releases/{release.upc}/{step}/".replace("//", "/")


def edit_data(release: Any, **overrides: Any) -> dict[str, Any]:
    """What the edit form posts back unchanged, then ``overrides``."""
    tracks = list(release.tracks.select_related("recording").order_by("position"))
    data: dict[str, Any] = {
        "title": release.title,
        "genre": release.genre or "Pop",
        "release_date": release.release_date.isoformat() if release.release_date else "",
        "artwork_ai": release.artwork_ai,
        "existing_artists": [str(a.pk) for a in release.artists.all()],
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "",
        "artists-0-persona": "human",
        "artists-0-isni": "",
        "tracks-TOTAL_FORMS": str(len(tracks)),
        "tracks-INITIAL_FORMS": str(len(tracks)),
        "save": "1",
    }
    for i, t in enumerate(tracks):
        data.update(
            {
                f"tracks-{i}-isrc": t.recording.isrc,
                f"tracks-{i}-title": t.title,
                f"tracks-{i}-position": str(t.position),
                f"tracks-{i}-duration": str(t.duration or ""),
                f"tracks-{i}-audio_sha256": t.audio_sha256 or "",
            }
        )
    data.update(overrides)
    return data


def add_track(data: dict[str, Any], isrc: str, title: str, position: int) -> None:
    i = int(data["tracks-TOTAL_FORMS"])
    data.update(
        {
            f"tracks-{i}-isrc": isrc,
            f"tracks-{i}-title": title,
            f"tracks-{i}-position": str(position),
            f"tracks-{i}-duration": "2:05",
            "tracks-TOTAL_FORMS": str(i + 1),
        }
    )


def catalog(release: Any) -> tuple[Any, ...]:
    """Everything the edit form can change, to show that something did not change."""
    release = Release.objects.get(pk=release.pk)
    return (
        release.title,
        release.release_date,
        release.artwork_ai,
        [a.pk for a in release.artists.order_by("releaseartist__position")],
        [
            (t.position, t.recording.isrc, t.title, t.duration)
            for t in release.tracks.select_related("recording").order_by("position")
        ],
    )


# --- the page ---------------------------------------------------------------


def test_the_edit_page_is_prefilled_accessible_and_keeps_the_upc_fixed(owner_client, release):
    response = owner_client.get(url(release))
    html = response.content.decode()
    assert response.status_code == 200
    first = release.tracks.select_related("recording").order_by("position").first().recording
    assert 'value="Signals"' in html and 'value="Track 1"' in html and 'value="3:00"' in html
    assert f'value="{first.isrc[:2]}-{first.isrc[2:5]}-{first.isrc[5:7]}-{first.isrc[7:]}"' in html
    assert '<label for="id_title">' in html and '<label for="id_tracks-2-isrc">' in html
    # Each row has its own Remove button (a submit button without JavaScript), named for screen readers.
    assert re.search(r'value="tracks-0-remove"[^>]*>Remove<span class="visually-hidden"> track <span', html)
    assert "<legend>AI in the artwork</legend>" in html
    assert "<legend>Track <span data-row-number>1</span></legend>" in html
    assert 'name="upc"' not in html and f"<code>{release.upc}</code>" in html
    assert "Save changes" in html and "Edit catalog details" in owner_client.get(url(release, "")).content.decode()
    artist = release.artists.get()
    assert re.search(rf'<input type="checkbox" name="existing_artists" value="{artist.pk}"[^>]*checked', html)


def test_a_declared_release_says_that_changes_are_signed_as_a_new_version(owner_client, declared):
    html = owner_client.get(url(declared.release)).content.decode()
    assert "signed as version 2" in html and "Nothing changes until you confirm" in html
    assert "Continue to the AI facts" in html


# --- not declared yet: saved at once ----------------------------------------


def test_editing_an_undeclared_release_updates_the_catalog(owner_client, label, keys):
    release = factories.make_release(label, tracks=3, title="Draft", release_date=date(2026, 5, 1))
    tracks = list(release.tracks.select_related("recording").order_by("position"))
    bonus = factories.isrc()
    data = edit_data(release, title="Draft (Deluxe)", release_date="", artwork_ai="partly")
    data.update({"tracks-1-title": "Fixed Title", "tracks-1-position": "1", "tracks-0-position": "2"})  # reorder
    data["tracks-2-DELETE"] = "on"
    add_track(data, bonus, "Bonus", 3)
    response = owner_client.post(url(release), data)
    assert response.status_code == 302 and response["Location"] == url(release, "")
    release.refresh_from_db()
    assert (release.title, release.release_date, release.artwork_ai) == ("Draft (Deluxe)", None, "partly")
    assert [(t.position, t.recording.isrc, t.title) for t in release.tracks.order_by("position")] == [
        (1, tracks[1].recording.isrc, "Fixed Title"),
        (2, tracks[0].recording.isrc, "Track 1"),
        (3, bonus, "Bonus"),
    ]
    assert not Declaration.objects.exists()
    assert "is saved" in owner_client.get(response["Location"]).content.decode()


def test_new_artists_can_be_added_with_persona_and_isni(owner_client, label, release):
    data = edit_data(
        release,
        **{"artists-0-name": "Aurora Fields", "artists-0-persona": "synthetic", "artists-0-isni": "0000000121464381"},
    )
    html = owner_client.post(url(release), data).content.decode()
    assert "ISNI check character should be X, not 1" in html
    data["artists-0-isni"] = "0000 0001 2146 438X"
    assert owner_client.post(url(release), data).status_code == 302
    new = release.artists.get(name="Aurora Fields")
    assert (new.persona, new.isni) == ("synthetic", "000000012146438X")
    assert release.artists.count() == 2


# --- errors: shown on the field, input kept, nothing changed -----------------


def test_bad_identifiers_are_explained_keep_the_input_and_change_nothing(owner_client, release):
    before = catalog(release)
    data = edit_data(release, title="Renamed", **{"tracks-1-isrc": "QZ-TST-26-1234", "tracks-0-duration": "3:75"})
    response = owner_client.post(url(release), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "ISRC must have 12 characters (CC-XXX-YY-NNNNN), got 11" in html
    assert "Seconds and minutes after a colon must be below 60." in html
    assert 'value="QZ-TST-26-1234"' in html and 'value="Renamed"' in html
    assert 'role="alert"' in html and 'href="#id_tracks-1-isrc"' in html
    assert 'aria-describedby="id_tracks-1-isrc_error id_tracks-1-isrc_helptext"' in html
    assert catalog(release) == before


@pytest.mark.parametrize("declared_first", [False, True])
def test_an_isrc_another_label_declared_is_a_field_error(owner_client, release, other_label, declared_first):
    if declared_first:
        factories.declare(release)
    theirs = factories.make_release(other_label, tracks=1)
    factories.declare(theirs)  # signed, so public: the edit can say so at once
    their_isrc = theirs.tracks.get().recording.isrc
    before = catalog(release)
    data = edit_data(release, title="Renamed")
    data["tracks-0-DELETE"] = "on"  # the service is sent rows 2..4: the error must land on the added row
    add_track(data, their_isrc, "Not ours", 9)
    html = owner_client.post(url(release), data).content.decode()
    assert re.search(r'id="id_tracks-3-isrc_error"><li>This ISRC is declared by another label', html)
    assert 'value="Renamed"' in html and 'value="Not ours"' in html
    assert catalog(release) == before
    assert client_draft(owner_client, release) is None


def test_duplicates_and_removing_every_track_are_caught(owner_client, release):
    data = edit_data(release, **{"tracks-2-position": "1"})
    assert "Track 1 has position 1 already." in owner_client.post(url(release), data).content.decode()
    data = edit_data(release, **{f"tracks-{i}-DELETE": "on" for i in range(3)})
    assert "A release needs at least one track." in owner_client.post(url(release), data).content.decode()


def test_a_removed_row_with_errors_is_not_validated(owner_client, release):
    data = edit_data(release, **{"tracks-2-isrc": "nonsense", "tracks-2-DELETE": "on"})
    assert owner_client.post(url(release), data).status_code == 302
    assert release.tracks.count() == 2


def test_an_added_row_left_empty_is_ignored_not_a_500(owner_client, label, release):
    data = edit_data(release, **{"tracks-TOTAL_FORMS": "4"})
    assert owner_client.post(url(release), data).status_code == 302
    assert release.tracks.count() == 3
    # The same on the create form (it used to raise KeyError).
    from tests.registry.labels.test_release_form import form_data, new_url

    created = form_data(2, **{"tracks-TOTAL_FORMS": "3", "tracks-INITIAL_FORMS": "2"})
    assert owner_client.post(new_url(label), created).status_code == 302
    assert Release.objects.get(upc=created["upc"]).tracks.count() == 2


def test_add_track_keeps_everything_typed_and_saves_nothing(owner_client, release):
    before = catalog(release)
    data = edit_data(release, title="Typed", add_track="1")
    del data["save"]
    html = owner_client.post(url(release), data).content.decode()
    assert "id_tracks-3-isrc" in html and 'value="Typed"' in html and 'role="alert"' not in html
    assert catalog(release) == before


# --- declared: the edit is signed with the amendment -------------------------


def test_editing_a_declared_release_signs_the_catalog_change_as_a_new_version(owner_client, release, declared):
    t1, t2, t3 = (t.recording for t in release.tracks.select_related("recording").order_by("position"))
    bonus = factories.isrc()
    before = catalog(release)
    data = edit_data(release, title="Signals (Deluxe)", release_date="2026-06-01")
    data.update(
        {
            "tracks-1-title": "Track Two",
            "tracks-2-DELETE": "on",
            "artists-0-name": "Aurora Fields",
            "artists-0-persona": "synthetic",
        }
    )
    add_track(data, bonus, "Bonus", 4)
    response = owner_client.post(url(release), data)
    assert response["Location"] == url(release, "declare")
    assert catalog(release) == before  # nothing is saved before the label confirms

    html = owner_client.get(url(release, "declare")).content.decode()
    assert "<legend>Track 2: Track Two" in html and "<legend>Track 4: Bonus" in html and "Track 3" not in html
    assert checked(html, "t0_vocals", "all") and "Suno v4" in html  # carried from version 1
    assert checked(html, "t1_vocals", "none")
    assert not any(checked(html, "t2_vocals", lv) for lv in vocabulary.LEVELS)  # the new track starts unanswered

    answers = matrix(3, reason="Deluxe edition: bonus track, track 3 dropped, title typo fixed.")
    answers.update({f"t0_{p}": "all" for p in vocabulary.PARTS}, t0_tools="Suno v4")
    del answers["t2_vocals"]
    html = owner_client.post(url(release, "declare"), answers).content.decode()
    assert "Choose a level for vocals." in html  # the bonus track must be answered
    answers.update(t2_vocals="partly", t2_tools="Udio")
    assert owner_client.post(url(release, "declare"), answers)["Location"] == url(release, "review")

    review = owner_client.get(url(release, "review")).content.decode()
    assert "What changes from version 1" in review
    for change in (
        "Release title: Signals → Signals (Deluxe)",
        "Release release date: None → 2026-06-01",
        f"Track added: Bonus ({bonus})",
        f"Track removed: Track 3 ({t3.isrc})",
        "Track retitled: Track 2 → Track Two",
        "Artists: ",
    ):
        assert change in review, change
    assert catalog(release) == before  # reviewing saves nothing either
    # The new AI persona next to "No AI" vocals on track 2: signed only once the label confirms it is right.
    assert "Aurora Fields is an AI persona, but the vocals of track 2 “Track Two” are declared “No AI”" in review
    assert owner_client.post(url(release, "review"), {"confirm": "1"}).status_code == 400

    response = owner_client.post(url(release, "review"), {"confirm": "1", "acknowledge": "1"})
    assert response["Location"] == url(release, "signed/2")
    st = Declaration.objects.get(release=release, version=2).statement
    assert st["declaration"]["reason"].startswith("Deluxe edition")
    assert st["release"]["title"] == "Signals (Deluxe)" and st["release"]["release_date"] == "2026-06-01"
    assert [(a["name"], a["persona"]) for a in st["artists"]][-1] == ("Aurora Fields", "synthetic")
    tracks = {t["isrc"]: t for t in st["tracks"]}
    assert set(tracks) == {t1.isrc, t2.isrc, bonus}
    assert tracks[t2.isrc]["title"] == "Track Two"
    assert tracks[bonus]["parts"]["vocals"] == "partly" and tracks[bonus]["tools"] == ["Udio"]
    assert tracks[bonus]["position"] == 4 and tracks[bonus]["duration"] == 125
    assert tracks[t1.isrc]["contains_ai"] == "all" and tracks[t1.isrc]["tools"] == ["Suno v4"]
    # The catalog now says what version 2 says.
    release.refresh_from_db()
    assert release.title == "Signals (Deluxe)" and release.current_declaration.version == 2
    assert sorted(release.tracks.values_list("recording__isrc", flat=True)) == sorted(tracks)
    assert client_draft(owner_client, release) is None


def test_clearing_the_date_of_a_declared_release_is_signed(owner_client, label, keys):
    release = factories.make_release(label, tracks=1, release_date=date(2026, 5, 1))
    factories.declare(release)
    owner_client.post(url(release), edit_data(release, release_date=""))
    owner_client.post(url(release, "declare"), matrix(1, reason="The date was not final."))
    owner_client.post(url(release, "review"), {"confirm": "1"})
    st = Declaration.objects.get(release=release, version=2).statement
    assert st["release"].get("release_date") is None
    release.refresh_from_db()
    assert release.release_date is None


def test_an_abandoned_edit_leaves_the_catalog_and_declaration_untouched(owner_client, release, declared):
    before = catalog(release)
    data = edit_data(release, title="Abandoned")
    data["tracks-2-DELETE"] = "on"
    owner_client.post(url(release), data)
    owner_client.post(url(release, "declare"), matrix(2, reason="Never confirmed."))
    assert owner_client.get(url(release, "review")).status_code == 200
    # The label walks away: the catalog and the public answer still match version 1.
    assert catalog(release) == before
    assert Declaration.objects.filter(release=release).count() == 1
    page = owner_client.get(url(release, "")).content.decode()
    assert "not signed yet" in page and "Discard them" in page
    # Discarding forgets the edit; the edit form starts from the catalog again.
    response = owner_client.post(url(release), {"discard": "1"})
    assert response["Location"] == url(release, "")
    assert client_draft(owner_client, release) is None
    assert 'value="Signals"' in owner_client.get(url(release)).content.decode()
    assert catalog(release) == before


def test_going_back_to_the_edit_form_shows_the_unsigned_changes(owner_client, release, declared):
    owner_client.post(url(release), edit_data(release, title="Pending Title"))
    html = owner_client.get(url(release)).content.decode()
    assert 'value="Pending Title"' in html and "your unsigned changes" in html
    assert "Discard my unsigned changes" in html


def test_saving_without_changes_does_not_start_an_amendment(owner_client, release, declared):
    response = owner_client.post(url(release), edit_data(release))
    assert response["Location"] == url(release, "")
    assert client_draft(owner_client, release) is None
    assert "nothing to change" in owner_client.get(response["Location"]).content.decode()


def test_an_edit_overtaken_by_a_new_version_is_dropped_not_signed(owner_client, release, declared):
    before = catalog(release)
    owner_client.post(url(release), edit_data(release, title="Stale"))
    owner_client.post(url(release, "declare"), matrix(3, reason="mine"))
    declaration_amend(release=release, reason="someone else", expected_version=1)
    response = owner_client.post(url(release, "review"), {"confirm": "1"}, follow=True)
    assert "Nothing was signed" in response.content.decode()
    assert Declaration.objects.filter(release=release).count() == 2
    assert catalog(release) == before
    # Starting from the edit page again also drops it, saying so.
    owner_client.post(url(release), edit_data(release, title="Stale again"))
    declaration_amend(release=release, reason="and again", expected_version=2)
    html = owner_client.get(url(release, "declare"), follow=True).content.decode()
    assert "unsigned catalog changes were dropped" in html
    assert catalog(release) == before


def test_catalog_and_amendment_are_one_transaction(owner_client, release, declared, other_label):
    """If signing fails at confirm time, the catalog edit is not kept either, and the draft survives."""
    before = catalog(release)
    late = factories.isrc()
    data = edit_data(release, title="Will Fail")
    add_track(data, late, "Claimed Later", 4)
    owner_client.post(url(release), data)
    owner_client.post(url(release, "declare"), matrix(4, reason="bonus"))
    # Another label declares the new ISRC between review and confirm.
    factories.declare(
        factories.make_release(other_label, track_list=[{"isrc": late, "title": "Theirs", "position": 1}])
    )
    response = owner_client.post(url(release, "review"), {"confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == url(release)  # back to the edit, which is what needs fixing
    html = response.content.decode()
    assert "Nothing was signed" in html and "belongs to another label" in html
    assert 'value="Will Fail"' in html
    assert catalog(release) == before
    assert Declaration.objects.filter(release=release).count() == 1
    assert client_draft(owner_client, release)["catalog"]["title"] == "Will Fail"


def test_submitters_edit_and_sign_too(submitter_client, submitter, release, declared):
    submitter_client.post(url(release), edit_data(release, title="By Sam"))
    submitter_client.post(url(release, "declare"), matrix(3, t0_vocals="all", reason="retitled"))
    assert submitter_client.post(url(release, "review"), {"confirm": "1"}).status_code == 302
    v2 = Declaration.objects.get(release=release, version=2)
    assert v2.declared_by == submitter and v2.statement["release"]["title"] == "By Sam"


# --- who may edit -----------------------------------------------------------


def test_only_members_of_the_label_reach_the_edit_page(client, rival, staff, release):
    before = catalog(release)
    response = client.post(url(release), edit_data(release, title="Anonymous"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    for outsider in (rival, staff):
        other = signed_in(outsider)
        assert other.get(url(release)).status_code == 404
        assert other.post(url(release), edit_data(release, title="Hijacked")).status_code == 404
    assert catalog(release) == before


def test_the_edit_form_is_csrf_protected(owner, release):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url(release), edit_data(release, title="Forged")).status_code == 403
    assert Release.objects.get(pk=release.pk).title == "Signals"


# --- queries ----------------------------------------------------------------


def _queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


def test_the_edit_page_needs_the_same_queries_for_2_or_20_tracks(owner_client, label, keys):
    small = factories.make_release(label, tracks=2)
    big = factories.make_release(label, tracks=20)
    factories.declare(big)
    _queries(owner_client, url(small))  # warm the session and the user
    assert _queries(owner_client, url(big)) == _queries(owner_client, url(small)) <= 12
    factories.declare(small)
    owner_client.post(url(big), edit_data(big, title="Big Deluxe"))
    owner_client.post(url(small), edit_data(small, title="Small Deluxe"))
    assert _queries(owner_client, url(big, "declare")) == _queries(owner_client, url(small, "declare"))


def test_a_draft_release_can_be_deleted_and_a_declared_one_cannot(owner_client, label, keys, rival):
    draft = factories.make_release(label, tracks=2)
    assert "Delete the draft" in owner_client.get(f"/label/{label.pk}/releases/{draft.upc}/delete/").content.decode()
    assert signed_in(rival).post(f"/label/{label.pk}/releases/{draft.upc}/delete/").status_code == 404
    response = owner_client.post(f"/label/{label.pk}/releases/{draft.upc}/delete/")
    assert response["Location"] == f"/label/{label.pk}/"
    assert not Release.objects.filter(pk=draft.pk).exists()
    assert not Recording.objects.filter(label=label, tracks__isnull=True).exists()
    declared = factories.make_release(label, tracks=1)
    factories.declare(declared)
    page = owner_client.post(f"/label/{label.pk}/releases/{declared.upc}/delete/", follow=True).content.decode()
    assert "Nothing was deleted" in page and Release.objects.filter(pk=declared.pk).exists()
