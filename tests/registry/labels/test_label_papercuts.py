"""Papercuts a new label met on the declare, review and release pages, each fixed and pinned here."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import registry
from provenance import vocabulary
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from tests import factories
from tests.registry.labels.test_declare_flow import matrix
from tests.registry.labels.test_release_form import ern_with_recordings, form_data, new_url

pytestmark = pytest.mark.django_db


def url(release: Any, step: str) -> str:
    return f"/label/{release.label_id}/releases/{release.upc}/{step}/"


def summary(html: str) -> list[str]:
    """The lines of the page's error summary."""
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", box.group(0), re.S)]


def test_the_declare_error_summary_has_one_line_per_track_naming_it(owner_client, release):
    data = matrix(3)
    for part in vocabulary.PARTS:
        del data[f"t0_{part}"]
    del data["t2_vocals"], data["t2_production"], data["artwork"]
    html = owner_client.post(url(release, "declare"), data).content.decode()
    lines = summary(html)
    assert lines == [
        "Artwork: This field is required.",
        "Track 1 “Track 1”: choose a level for composition, lyrics, vocals, instrumentation and production.",
        "Track 3 “Track 3”: choose a level for vocals and production.",
    ]
    assert 'href="#id_t0_composition_0"' in html and 'href="#id_t2_vocals_0"' in html


def test_an_ai_persona_with_no_ai_vocals_must_be_confirmed_before_signing(owner_client, label, keys):
    release = factories.make_release(label, tracks=2, title="Halo", persona=vocabulary.SYNTHETIC)
    assert owner_client.post(url(release, "declare"), matrix(2))["Location"] == url(release, "review")
    review = owner_client.get(url(release, "review")).content.decode()
    assert "Artist of Halo is an AI persona, but the vocals of every track are declared “No AI”" in review
    assert 'name="acknowledge"' in review
    response = owner_client.post(url(release, "review"), {"confirm": "1"})
    assert response.status_code == 400 and "Nothing was signed" in response.content.decode()
    assert not Declaration.objects.exists()
    response = owner_client.post(url(release, "review"), {"confirm": "1", "acknowledge": "1"})
    assert response["Location"] == url(release, "signed/1")


def test_ai_vocals_by_an_ai_persona_need_no_confirmation(owner_client, label, keys):
    release = factories.make_release(label, tracks=1, title="Halo", persona=vocabulary.SYNTHETIC)
    owner_client.post(url(release, "declare"), matrix(1, t0_vocals="all"))
    assert "Check before signing" not in owner_client.get(url(release, "review")).content.decode()
    assert owner_client.post(url(release, "review"), {"confirm": "1"})["Location"] == url(release, "signed/1")


def test_the_review_shows_each_artists_persona(owner_client, label, keys):
    release = factories.make_release(label, tracks=1, title="Halo", persona=vocabulary.AI_ASSISTED)
    owner_client.post(url(release, "declare"), matrix(1))
    review = owner_client.get(url(release, "review")).content.decode()
    assert 'Artist of Halo <span class="badge persona-ai_assisted">Human artist using AI</span>' in review
    assert "1 track</p>" in review


def test_an_amendment_that_changes_nothing_is_refused_with_the_reason(owner_client, release, declared):
    answers = matrix(3, reason="Just checking")
    answers.update({f"t0_{p}": "all" for p in vocabulary.PARTS}, t0_tools="Suno v4")
    assert owner_client.post(url(release, "declare"), answers)["Location"] == url(release, "review")
    review = owner_client.get(url(release, "review")).content.decode()
    assert "Nothing changes from version 1." in review and 'name="confirm"' not in review
    response = owner_client.post(url(release, "review"), {"confirm": "1"})
    assert response.status_code == 400
    assert "nothing changes from version 1: an amendment must change a declared fact" in response.content.decode()
    assert Declaration.objects.filter(release=release).count() == 1


def test_an_amendment_that_changes_an_answer_is_signed(owner_client, release, declared):
    answers = matrix(3, reason="Track 2 vocals were AI")
    answers.update({f"t0_{p}": "all" for p in vocabulary.PARTS}, t0_tools="Suno v4", t1_vocals="all")
    owner_client.post(url(release, "declare"), answers)
    assert "Nothing changes" not in owner_client.get(url(release, "review")).content.decode()
    assert owner_client.post(url(release, "review"), {"confirm": "1"})["Location"] == url(release, "signed/2")


def test_one_track_is_one_track_in_words(owner_client, label):
    upload = SimpleUploadedFile("one.xml", ern_with_recordings(1), content_type="text/xml")
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"file": upload}, follow=True)
    html = response.content.decode()
    assert "with 1 track." in html and "1 tracks" not in html


def test_the_public_page_says_no_ai_in_plain_words(client, label, keys):
    release = factories.make_release(label, tracks=1, title="Plain")
    factories.declare(release)
    html = client.get(f"/releases/{release.upc}/").content.decode()
    assert "The label declares <strong>no AI</strong> in this release." in html
    assert "is <strong>no AI declared" not in html


def test_the_upc_help_matches_what_is_accepted_14_digits_included(owner_client, label):
    html = owner_client.get(new_url(label)).content.decode()
    assert "12, 13 or 14 digits" in html
    data = form_data(1, upc="00036000291452")  # GTIN-14 of UPC 036000291452
    assert owner_client.post(new_url(label), data).status_code == 302
    assert Release.objects.filter(label=label).count() == 1


def test_an_isrc_another_label_declared_is_said_once(owner_client, label, other_label, keys):
    theirs = factories.make_release(other_label, tracks=1)
    factories.declare(theirs)
    data = form_data(1, **{"tracks-0-isrc": theirs.tracks.get().recording.isrc})
    html = owner_client.post(new_url(label), data).content.decode()
    assert "This ISRC is declared by another label." in html
    assert "belongs to another label" not in html


def test_save_with_no_ai_goes_straight_to_review_and_signs_there(owner_client, label, keys):
    data = form_data(2, artwork_ai="none")
    del data["save"]
    data["save_no_ai"] = "1"
    response = owner_client.post(new_url(label), data)
    release = Release.objects.get(upc=data["upc"])
    assert response["Location"] == url(release, "review")
    review = owner_client.get(url(release, "review")).content.decode()
    assert "answered “No AI” for every part of 2 tracks" in review
    assert not Declaration.objects.exists()  # nothing is signed before the label confirms
    assert owner_client.post(url(release, "review"), {"confirm": "1"})["Location"] == url(release, "signed/1")
    st = Declaration.objects.get(release=release).statement
    assert {level for t in st["tracks"] for level in t["parts"].values()} == {"none"}


def test_gunicorn_listens_on_the_port_given_in_the_environment(monkeypatch):
    """`make run PORT=8080` (README): the Makefile passes PORT to registry/gunicorn.conf.py; BIND still wins."""
    conf = Path(registry.__file__).parent / "gunicorn.conf.py"
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert runpy.run_path(str(conf))["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("PORT", "8080")
    assert runpy.run_path(str(conf))["bind"] == "127.0.0.1:8080"
    monkeypatch.setenv("BIND", "0.0.0.0:9000")
    assert runpy.run_path(str(conf))["bind"] == "0.0.0.0:9000"
    makefile = (Path(registry.__file__).parents[1] / "Makefile").read_text()
    assert "PORT=$(PORT)" in makefile
