"""Importing an ERN message through the label pages: prefill, unanswered parts, where answers came from, re-delivery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from provenance import vocabulary
from registry.catalog.models import Release
from registry.labels.models import Draft
from registry.labels.views.releases import _import_initial
from tests.registry.labels.conftest import client_draft_data
from tests.registry.labels.test_declare_flow import checked

ERN = Path(__file__).resolve().parents[2] / "data" / "ern"


def upload(client: Client, label: Any, name: str) -> Any:
    f = SimpleUploadedFile(name, (ERN / name).read_bytes(), content_type="text/xml")
    return client.post(f"/label/{label.pk}/releases/import/", {"file": f})


def release_form_data(parsed: dict[str, Any], artwork: str | None = None) -> dict[str, Any]:
    """What a label submits on the prefilled release form (the parsed values, as the form shows them)."""
    data = {
        "upc": parsed["upc"],
        "title": parsed["title"],
        "genre": parsed.get("genre") or "",
        "release_date": parsed["release_date"] or "",
        "artwork_ai": artwork or parsed["artwork"],
        "artists-TOTAL_FORMS": str(len(parsed["artists"])),
        "artists-INITIAL_FORMS": "0",
        "tracks-TOTAL_FORMS": str(len(parsed["tracks"])),
        "tracks-INITIAL_FORMS": "0",
        "save": "1",
    }
    for i, a in enumerate(parsed["artists"]):
        data.update(
            {f"artists-{i}-name": a["name"], f"artists-{i}-persona": "human", f"artists-{i}-isni": a["isni"] or ""}
        )
    for i, t in enumerate(parsed["tracks"]):
        data.update(
            {
                f"tracks-{i}-isrc": t["isrc"],
                f"tracks-{i}-title": t["title"],
                f"tracks-{i}-position": str(t["position"]),
                f"tracks-{i}-duration": str(t["duration"] or ""),
            }
        )
    return data


def import_release(client: Client, label: Any, name: str, artwork: str | None = None) -> Release:
    assert upload(client, label, name).status_code == 302
    parsed = client_draft_data(client, label, "labels:import")
    response = client.post(f"/label/{label.pk}/releases/new/?import=1", release_form_data(parsed, artwork))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Release.objects.get(label=label, upc=parsed["upc"])


def declare_url(label: Any, release: Release, step: str = "declare") -> str:
    return f"/label/{label.pk}/releases/{release.upc}/{step}/"


def answers(html: str, n: int) -> dict[str, str]:
    """The declare form's checked radios and texts, as a POST would send them."""
    data = {"review": "1", "artwork": next((v for v in vocabulary.LEVELS if checked(html, "artwork", v)), "")}
    for i in range(n):
        for p in vocabulary.PARTS:
            level = next((v for v in vocabulary.LEVELS if checked(html, f"t{i}_{p}", v)), None)
            if level:
                data[f"t{i}_{p}"] = level
        data[f"t{i}_tools"] = ""
        data[f"t{i}_consent"] = ""
    return data


def test_an_import_without_a_file_says_so(owner_client, label):
    r = owner_client.post(f"/label/{label.pk}/releases/import/", {})
    assert r.status_code == 400 and "This field is required" in r.content.decode()


def test_an_imported_message_is_a_server_side_draft_not_session_data(owner, label):
    from django.contrib.sessions.models import Session

    client = Client()
    client.force_login(owner)
    assert upload(client, label, "mixed-ai-432.xml").status_code == 302
    draft = Draft.objects.get(label=label, user=owner, key="labels:import")
    assert draft.data["genre"] == "Electronic"
    for session in Session.objects.all():
        assert draft.data["title"] not in str(session.get_decoded())
    other = Client()
    other.force_login(owner)
    assert draft.data["title"] in other.get(f"/label/{label.pk}/releases/new/?import=1").content.decode()


def test_the_release_form_gets_the_genre_and_an_unstated_artwork_stays_unanswered(owner_client, label):
    assert upload(owner_client, label, "contributors-432.xml").status_code == 302
    parsed = client_draft_data(owner_client, label, "labels:import")
    release_initial, _new, tracks = _import_initial(parsed, label)
    assert release_initial["genre"] == "Folk" and release_initial["artwork_ai"] is None
    assert [t["duration"] for t in tracks] == ["3:10", "2:58", "4:00"]
    html = owner_client.get(f"/label/{label.pk}/releases/new/?import=1").content.decode()
    assert not any(checked(html, "artwork_ai", v) for v in vocabulary.LEVELS)


def test_parts_the_file_does_not_state_are_flagged_unanswered_and_must_be_answered(owner_client, label, keys):
    release = import_release(owner_client, label, "contributors-432.xml", artwork="none")
    html = owner_client.get(declare_url(label, release)).content.decode()
    # Stated by the file: filled in. Not stated: no radio checked, flagged.
    assert checked(html, "t0_vocals", "partly") and checked(html, "t0_instrumentation", "none")
    assert checked(html, "t1_composition", "partly") and checked(html, "t1_production", "all")
    assert not any(checked(html, "t0_composition", v) for v in vocabulary.LEVELS)
    assert 'data-not-stated="t0_composition"' in html and 'data-not-stated="t1_vocals"' in html
    assert "Not stated in the file: Composition, Lyrics, Production." in html
    assert 'data-not-stated="t2_' not in html
    # A submission without them is refused, part by part.
    data = answers(html, 3)
    response = owner_client.post(declare_url(label, release), data)
    assert response.status_code == 400 and "Choose a level for composition." in response.content.decode()
    # Answered here: the draft says which answers came from the file and which from the label.
    data.update({"t0_composition": "none", "t0_lyrics": "none", "t0_production": "partly"})
    data.update({"t1_vocals": "none", "t1_instrumentation": "none", "t1_production": "partly"})
    assert owner_client.post(declare_url(label, release), data).status_code == 302
    draft = client_draft_data(owner_client, label, f"labels:draft:{release.pk}")
    sources = draft["sources"]["tracks"]
    assert sources["QZTST2600401"]["vocals"] == "file" and sources["QZTST2600401"]["composition"] == "label"
    assert sources["QZTST2600402"]["production"] == "label"  # the file said all; changed here
    assert sources["QZTST2600403"] == dict.fromkeys(vocabulary.PARTS, "file")
    assert draft["imported"]["ai"]["QZTST2600401"]["parts"]["composition"] is None
    review = owner_client.get(declare_url(label, release, "review")).content.decode()
    assert "From your DDEX file: 9 answers as the file states them; 6 answered or changed here." in review


def test_the_review_refuses_a_draft_with_unanswered_parts(owner_client, label):
    release = import_release(owner_client, label, "contains-ai-432.xml")
    from registry.labels.draft_store import DraftStore

    DraftStore(label, release.label.memberships.get().user)[f"labels:draft:{release.pk}"] = {
        "mode": "declare",
        "artwork": "all",
        "expected_version": 0,
        "ai": {"QZTST2600502": {"parts": dict.fromkeys(vocabulary.PARTS), "tools": []}},
    }
    response = owner_client.get(declare_url(label, release, "review"))
    assert response.status_code == 302 and response["Location"].endswith("/declare/")
    page = owner_client.get(response["Location"]).content.decode()
    assert "Answer every part before review" in page and "QZTST2600502: composition, lyrics" in page
    assert owner_client.post(declare_url(label, release, "review"), {"confirm": "1"}).status_code == 302
    assert release.declarations.count() == 0


def test_a_message_from_another_sender_is_flagged_on_the_review_page(owner_client, label, keys):
    release = import_release(owner_client, label, "release-none-432.xml")
    html = owner_client.get(declare_url(label, release)).content.decode()
    assert all(checked(html, f"t0_{p}", "none") for p in vocabulary.PARTS) and checked(html, "artwork", "none")
    assert owner_client.post(declare_url(label, release), answers(html, 1)).status_code == 302
    review = owner_client.get(declare_url(label, release, "review")).content.decode()
    assert "Check the sender:" in review
    assert "sent by Elsewhere Distribution (PADPIDA2026555555Q), not by Northern Lights Records" in review


def test_the_labels_own_message_has_no_sender_warning(owner_client, label, keys):
    release = import_release(owner_client, label, "mixed-ai-432.xml")
    html = owner_client.get(declare_url(label, release)).content.decode()
    owner_client.post(declare_url(label, release), answers(html, 3))
    assert "Check the sender:" not in owner_client.get(declare_url(label, release, "review")).content.decode()


def test_an_ai_display_artist_gets_an_ai_persona_row_to_name(owner_client, label):
    assert upload(owner_client, label, "ai-persona-432.xml").status_code == 302
    html = owner_client.get(f"/label/{label.pk}/releases/new/?import=1").content.decode()
    assert 'value="Lena Quist"' in html and "SpecialDisplayArtist GenerativeAI" in html
    assert re.search(r'name="artists-1-persona"[^>]*>.*?<option value="synthetic" selected', html, re.S)


def test_delivery_shapes_import(owner_client, label):
    for name in ("multi-disc-gtin14-432.xml", "utf16-432.xml", "single-43.xml"):
        assert upload(owner_client, label, name).status_code == 302, name
    release = import_release(owner_client, label, "multi-disc-gtin14-432.xml")
    assert release.upc == "10036000291459"
    tracks = list(release.tracks.select_related("recording").order_by("position"))
    assert [(t.position, t.recording.isrc, t.duration) for t in tracks][:2] == [
        (1, "QZTST2600801", 360),
        (2, "QZTST2600802", 270),
    ]
    assert [t.recording.isrc for t in tracks] == [f"QZTST260080{i}" for i in range(1, 6)]


def test_refused_files_say_why_on_the_form(owner_client, label):
    cases = {
        "ern-382.xml": "ERN 3.8.2 (namespace http://ddex.net/xml/ern/382) is not supported",
        "proprietary-id-432.xml": "track 2 “Catalogue Only” (resource A2, ProprietaryId CAT-0042-02)",
        "missing-resource-432.xml": "lists resource A9 in its ResourceGroup",
    }
    for name, message in cases.items():
        response = upload(owner_client, label, name)
        html = response.content.decode()
        assert response.status_code == 400 and message in html and 'role="alert"' in html, name


def test_a_redelivery_of_a_declared_release_is_an_amendment_showing_what_changes(owner_client, label, keys):
    release = import_release(owner_client, label, "mixed-ai-432.xml")
    html = owner_client.get(declare_url(label, release)).content.decode()
    data = answers(html, 3)
    data["t2_tools"] = "Suno v4"
    assert owner_client.post(declare_url(label, release), data).status_code == 302
    assert owner_client.post(declare_url(label, release, "review"), {"confirm": "1"}).status_code == 302
    release.refresh_from_db()
    assert release.current_declaration.version == 1

    response = upload(owner_client, label, "redelivery-432.xml")
    assert response.status_code == 302 and response["Location"] == declare_url(label, release)
    assert Release.objects.filter(label=label).count() == 1  # no second release
    page = owner_client.get(response["Location"]).content.decode()
    for change in (
        "Title: “Northern Signals” → “Northern Signals (Deluxe)”",
        "Track added: QZTST2600104 “Night Ferry”",
        "Track removed: QZTST2600103 “Synthetic Dawn”",
        "QZTST2600102 “Paper Moons”, lyrics: No AI → Partly AI",
    ):
        assert change in page
    assert checked(page, "t1_lyrics", "partly") and checked(page, "t2_vocals", "none")
    draft = client_draft_data(owner_client, label, f"labels:draft:{release.pk}")
    assert draft["catalog"]["title"] == "Northern Signals (Deluxe)" and draft["sources"]["artwork"] == "file"
    assert draft["sources"]["tracks"]["QZTST2600102"]["lyrics"] == "file"
    # The catalog is unchanged until the amendment is signed.
    release.refresh_from_db()
    assert release.title == "Northern Signals"
    data = answers(page, 3)
    data["reason"] = "Deluxe edition re-delivered by our distributor."
    assert owner_client.post(declare_url(label, release), data).status_code == 302
    assert owner_client.post(declare_url(label, release, "review"), {"confirm": "1"}).status_code == 302
    release.refresh_from_db()
    assert release.current_declaration.version == 2 and release.title == "Northern Signals (Deluxe)"
    assert sorted(t.recording.isrc for t in release.tracks.select_related("recording")) == [
        "QZTST2600101",
        "QZTST2600102",
        "QZTST2600104",
    ]
