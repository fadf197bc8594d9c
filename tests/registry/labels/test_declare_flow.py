"""Declaring through the forms: matrix, shortcuts, review, sign, amend, withdraw, history."""

from __future__ import annotations

import re
from typing import Any

import pytest

from provenance import vocabulary
from registry.declarations.models import Declaration

pytestmark = pytest.mark.django_db


def url(label: Any, release: Any, step: str) -> str:
    return f"/label/{label.pk}/releases/{release.upc}/{step}/"


def checked(html: str, name: str, value: str) -> bool:
    return re.search(rf'<input type="radio" name="{name}" value="{value}"[^>]*\bchecked\b', html) is not None


def matrix(n: int, level: str = "none", artwork: str = "none", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"artwork": artwork}
    for i in range(n):
        for part in vocabulary.PARTS:
            data[f"t{i}_{part}"] = level
        data[f"t{i}_tools"] = ""
        data[f"t{i}_consent"] = ""
    data.update(extra)
    return data


def test_the_declare_page_is_an_accessible_matrix(owner_client, label, release):
    response = owner_client.get(url(label, release, "declare"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<fieldset") >= 4  # artwork + one per track
    assert "<legend>Track 1: Track 1" in html
    # Every radio has its own label naming the part.
    assert '<label for="id_t0_composition_0">' in html
    assert '<span class="visually-hidden">Composition: </span>No AI' in html
    # Version 1 does not choose for the label: nothing is preselected in the tracks.
    assert not checked(html, "t0_composition", "none")


def test_missing_levels_are_form_errors_that_keep_the_answers(owner_client, label, release):
    data = matrix(3)
    del data["t1_vocals"]
    data["t2_tools"] = "Suno v4"
    response = owner_client.post(url(label, release, "declare"), data)
    html = response.content.decode()
    assert response.status_code == 400  # refused, with the reasons on the page
    assert 'role="alert"' in html
    assert "Choose a level for vocals." in html
    assert "Suno v4" in html
    assert not Declaration.objects.exists()


def test_consent_is_required_when_the_voice_imitates_a_real_person(owner_client, label, release):
    response = owner_client.post(url(label, release, "declare"), matrix(3, t0_imitates="on"))
    assert response.status_code == 400 and "Give the consent reference" in response.content.decode()


def test_no_ai_shortcut_fills_every_level_without_javascript(owner_client, label, release):
    response = owner_client.post(url(label, release, "declare"), {"shortcut": "no_ai", "t0_tools": "x"})
    html = response.content.decode()
    assert response.status_code == 200
    assert all(checked(html, f"t{i}_{p}", "none") for i in range(3) for p in vocabulary.PARTS)
    assert checked(html, "artwork", "none")
    assert "Choose a level" not in html  # a shortcut is not a submission


def test_same_for_all_copies_track_one(owner_client, label, release):
    data = {"t0_composition": "partly", "t0_vocals": "all", "t0_tools": "Suno v4", "artwork": "none"}
    html = owner_client.post(url(label, release, "declare"), {**data, "shortcut": "same_for_all"}).content.decode()
    for i in range(3):
        assert checked(html, f"t{i}_vocals", "all")
        assert checked(html, f"t{i}_composition", "partly")
    assert all(re.search(rf"<textarea[^>]*name=\"t{i}_tools\"[^>]*>\s*Suno v4</textarea>", html) for i in range(3))


def test_review_shows_what_will_be_signed_then_confirm_signs_it(owner_client, label, release, keys):
    tracks = list(release.tracks.select_related("recording"))
    data = matrix(3, t1_vocals="all", t1_tools="Suno v4, Udio\nSuno v4", artwork="partly")
    response = owner_client.post(url(label, release, "declare"), data)
    assert response.status_code == 302 and response["Location"] == url(label, release, "review")
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert "Confirm and sign" in review
    assert "Entirely AI" in review and "Partly AI" in review
    assert "tools: Suno v4, Udio" in review  # describe_statement text, duplicates dropped
    assert not Declaration.objects.exists()  # reviewing signs nothing

    response = owner_client.post(url(label, release, "review"), {"confirm": "1"})
    decl = Declaration.objects.get()
    assert response["Location"] == url(label, release, "signed").replace("signed/", "signed/1/")
    assert decl.statement["release"]["artwork"] == "partly"
    assert decl.statement["tracks"][1]["parts"]["vocals"] == "all"
    assert decl.statement["tracks"][1]["contains_ai"] == "partly"
    assert decl.statement["tracks"][1]["tools"] == ["Suno v4", "Udio"]
    assert decl.declared_by.username == "olivia"
    assert tracks[1].recording.isrc == decl.statement["tracks"][1]["isrc"]
    done = owner_client.get(response["Location"]).content.decode()
    assert f'href="/releases/{release.upc}/"' in done
    assert f"index {decl.leaf_id}" in done
    # The draft is gone: a second confirm cannot sign twice.
    again = owner_client.post(url(label, release, "review"), {"confirm": "1"})
    assert again.status_code == 302 and Declaration.objects.count() == 1


def test_a_stale_draft_is_refused(owner_client, label, release, keys):
    owner_client.post(url(label, release, "declare"), matrix(3))
    from tests import factories

    factories.declare(release)  # someone else signs meanwhile
    response = owner_client.post(url(label, release, "review"), {"confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == url(label, release, "declare")
    html = response.content.decode()
    assert "Nothing was signed" in html and "while you were reviewing" in html
    assert Declaration.objects.count() == 1
    assert checked(html, "t0_composition", "none")  # now prefilled from the version that won


def test_amend_is_prefilled_and_needs_a_reason(owner_client, label, release, declared):
    html = owner_client.get(url(label, release, "declare")).content.decode()
    assert checked(html, "t0_vocals", "all")
    assert "Suno v4" in html
    assert 'name="reason"' in html
    data = matrix(3, t2_lyrics="partly")
    data.update({f"t0_{p}": "all" for p in vocabulary.PARTS}, t0_tools="Suno v4")
    response = owner_client.post(url(label, release, "declare"), data)
    assert "This field is required" in response.content.decode()
    data["reason"] = "Lyrics of track 3 were drafted with AI."
    assert owner_client.post(url(label, release, "declare"), data).status_code == 302
    assert owner_client.post(url(label, release, "review"), {"confirm": "1"}).status_code == 302
    v2 = Declaration.objects.get(version=2)
    assert v2.reason == "Lyrics of track 3 were drafted with AI."
    assert v2.supersedes == declared.leaf_hash_hex
    detail = owner_client.get(url(label, release, "").rstrip("/") + "/").content.decode()
    assert "Track 3: lyrics none → partly" in detail
    assert "Version 2" in detail and "Version 1" in detail


def test_withdraw_needs_a_reason_and_signs_a_new_version(owner_client, label, release, declared):
    page = owner_client.get(url(label, release, "withdraw"))
    assert "Withdraw and sign" in page.content.decode()
    response = owner_client.post(url(label, release, "withdraw"), {"reason": "  ", "expected_version": "1"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = owner_client.post(
        url(label, release, "withdraw"), {"reason": "Released by mistake.", "expected_version": "1"}
    )
    assert response.status_code == 302
    v2 = Declaration.objects.get(version=2)
    assert v2.status == "withdrawn" and v2.reason == "Released by mistake."
    assert "Withdrawal signed" in owner_client.get(response["Location"]).content.decode()
    # Nothing left to withdraw.
    assert owner_client.get(url(label, release, "withdraw")).status_code == 302


def test_submitters_can_declare(submitter_client, label, release):
    assert submitter_client.post(url(label, release, "declare"), matrix(3)).status_code == 302
    assert submitter_client.post(url(label, release, "review"), {"confirm": "1"}).status_code == 302
    assert Declaration.objects.get().declared_by.username == "sam"
