"""Characters XML 1.0 forbids (U+FFFE, U+FFFF, C0 controls, surrogates) and other control characters in names.

Refused at every door (the API, the label forms, the ERN import, the label
application, token names) with the field named and nothing written; and the
ERN export and the SVG badges stay well-formed under a strict XML parser even
when such a character is already in the database.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.api.tokens import label_token_create
from registry.catalog.models import Artist, Label, Release, Track
from registry.declarations.services import declaration_create
from tests import factories
from tests.ddex import schema_errors
from tests.registry.api.conftest import release_payload
from tests.reliability.test_bad_input import assert_error_shape, snapshot

pytestmark = pytest.mark.django_db

# Accepted before this rule: U+FFFE/U+FFFF anywhere, C1 controls and DEL in titles and names.
FORBIDDEN = {
    "U+FFFF": "\uffff",
    "U+FFFE": "\ufffe",
    "C1 control NEL": "\x85",
    "DEL": "\x7f",
}


@pytest.fixture
def api(keys: Any, label: Any, owner: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {label_token_create(label=label, name='xml chars', created_by=owner)[1]}")


@pytest.fixture
def owner_client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def _create_body(field: str, value: str) -> dict[str, Any]:
    body = release_payload(tracks=1)
    if field == "title":
        body["title"] = value
    elif field == "artists[0].name":
        body["artists"][0]["name"] = value
    elif field == "tracks[0].title":
        body["tracks"][0]["title"] = value
    elif field == "tracks[0].ai.tools[0]":
        body["tracks"][0]["ai"] = factories.track_ai("partly", tools=[value])
    elif field == "tracks[0].ai.voice_likeness.consent_reference":
        body["tracks"][0]["ai"] = factories.track_ai(
            "partly", voice_likeness={"imitates_real_person": True, "consent_reference": value}
        )
    return body


CREATE_FIELDS = [
    "title",
    "artists[0].name",
    "tracks[0].title",
    "tracks[0].ai.tools[0]",
    "tracks[0].ai.voice_likeness.consent_reference",
]


@pytest.mark.parametrize("char", FORBIDDEN)
@pytest.mark.parametrize("field", CREATE_FIELDS)
def test_the_api_refuses_a_forbidden_character_in_any_name_with_a_400(api, label, field, char):
    before = snapshot()
    body = _create_body(field, f"Bad {FORBIDDEN[char]} name")
    response = api.post("/api/v1/releases", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = assert_error_shape(response)
    assert field in error["fields"], error
    assert f"U+{ord(FORBIDDEN[char]):04X}" in error["fields"][field][0]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["amend", "withdraw"])
def test_the_api_refuses_a_forbidden_character_in_a_reason(api, declared, path):
    before = snapshot()
    response = api.post(
        f"/api/v1/releases/{declared.release.upc}/{path}",
        json.dumps({"reason": "Line one\nline two \uffff"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "U+FFFF" in assert_error_shape(response)["fields"]["reason"][0]
    assert snapshot() == before


def test_a_reason_may_still_span_lines(api, declared):
    response = api.post(
        f"/api/v1/releases/{declared.release.upc}/amend",
        json.dumps({"reason": "Line one\r\n\tline two", "artwork": "partly"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content[:300]


def _release_form(**overrides: str) -> dict[str, str]:
    return {
        "upc": factories.upc(),
        "title": "Plain",
        "genre": "Pop",
        "artwork_ai": "none",
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "Plain Artist",
        "artists-0-persona": "human",
        "tracks-TOTAL_FORMS": "1",
        "tracks-INITIAL_FORMS": "0",
        "tracks-0-isrc": factories.isrc(),
        "tracks-0-title": "Plain Song",
        "tracks-0-position": "1",
        "tracks-0-duration": "3:00",
        "save": "1",
        **overrides,
    }


@pytest.mark.parametrize("char", FORBIDDEN)
@pytest.mark.parametrize("field", ["title", "artists-0-name", "tracks-0-title"])
def test_the_release_form_refuses_a_forbidden_character_with_a_form_error(owner_client, label, field, char):
    before = snapshot()
    response = owner_client.post(f"/label/{label.pk}/releases/new/", _release_form(**{field: f"A{FORBIDDEN[char]}B"}))
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="error-summary"' in text and f"U+{ord(FORBIDDEN[char]):04X}" in text
    assert snapshot() == before


def test_the_declare_form_refuses_a_forbidden_character_in_a_tool_name(owner_client, label, release):
    data = {"artwork": "none"}
    for i in range(release.tracks.count()):
        data.update({f"t{i}_{part}": "partly" for part in ("composition", "lyrics", "vocals")})
        data.update({f"t{i}_{part}": "none" for part in ("instrumentation", "production")})
    data["t0_tools"] = "Suno v4, Bad\uffffTool"
    response = owner_client.post(f"/label/{label.pk}/releases/{release.upc}/declare/", data)
    assert response.status_code == 400
    assert "U+FFFF" in response.content.decode()
    assert not any(k.startswith("labels:draft") for k in owner_client.session.keys())


def test_the_token_form_and_the_application_refuse_a_forbidden_character(owner_client, label, client):
    before = snapshot()
    response = owner_client.post(f"/label/{label.pk}/tokens/", {"name": "Sync\uffff"})
    assert response.status_code == 200 and "U+FFFF" in response.content.decode()
    application = {
        "label_name": "Bad\ufffeLabel",
        "contact_name": "Ada",
        "contact_email": "ada@example.com",
        "evidence": "Our distributor's page lists us.",
    }
    response = client.post("/label/apply/", application)
    assert response.status_code == 200 and "U+FFFE" in response.content.decode()
    assert snapshot() == before


def test_the_ern_import_refuses_a_c1_control_in_a_title_naming_where(owner_client, label):
    # XML itself cannot carry U+FFFF; it can carry C1 controls, which the catalog refuses.
    xml = b"""<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/432">
      <ResourceList><SoundRecording><ResourceReference>A1</ResourceReference>
        <SoundRecordingEdition><ResourceId><ISRC>QZTST2600301</ISRC></ResourceId></SoundRecordingEdition>
        <DisplayTitleText>Next&#x9B;Line</DisplayTitleText><ContainsAI>None</ContainsAI></SoundRecording></ResourceList>
      <ReleaseList><Release><ReleaseId><ICPN>036000291452</ICPN></ReleaseId><DisplayTitleText>M</DisplayTitleText>
      </Release></ReleaseList></ern:NewReleaseMessage>"""
    response = owner_client.post(
        f"/label/{label.pk}/releases/import/", {"file": SimpleUploadedFile("r.xml", xml, "text/xml")}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "The title of sound recording QZTST2600301: Contains U+009B (a control character)" in text
    assert not any(k.startswith("labels:import") for k in owner_client.session.keys())


# --- output: already stored -------------------------------------------------------------------


@pytest.fixture
def stored_badly(keys: Any, label: Any) -> Release:
    """A release declared after its catalog rows were given forbidden characters behind the services' back."""
    release = factories.make_release(label, tracks=2, title="Clean")
    Label.objects.filter(pk=label.pk).update(name="Label\x01Name")
    Release.objects.filter(pk=release.pk).update(title="Title\uffffEnd")
    Artist.objects.filter(label=label).update(name="Artist\ufffeName")
    Track.objects.filter(release__label=label).update(title="Track\x0bTab\x1f")
    release.refresh_from_db()
    ai = {t.recording.isrc: factories.track_ai("partly") for t in release.tracks.select_related("recording")}
    declaration_create(release=Release.objects.get(pk=release.pk), ai=ai, via="web")
    return release


def test_the_ern_export_is_well_formed_even_with_forbidden_characters_stored(client, stored_badly):
    response = client.get(f"/releases/{stored_badly.upc}/ern.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # expat: refuses any character XML 1.0 forbids
    ns = "{http://ddex.net/xml/ern/432}"
    assert root.tag == f"{ns}NewReleaseMessage"
    assert root.findtext("ReleaseList/Release/DisplayTitleText") == "Title\ufffdEnd"
    assert {p.findtext("PartyName/FullName") for p in root.findall("PartyList/Party")} >= {
        "Label\ufffdName",
        "Artist\ufffdName",
    }
    assert root.findtext("ResourceList/SoundRecording/DisplayTitleText") == "Track\ufffdTab\ufffd"
    assert schema_errors(response.content) == []  # and still valid DDEX ERN 4.3.2


def test_the_badges_are_well_formed_even_with_forbidden_characters_stored(client, stored_badly):
    isrc = stored_badly.tracks.first().recording.isrc
    for path in (f"/releases/{stored_badly.upc}/badge.svg", f"/recordings/{isrc}/badge.svg"):
        response = client.get(path)
        assert response.status_code == 200
        svg = ET.fromstring(response.content)
        title = svg.findtext("{http://www.w3.org/2000/svg}title")
        assert "\ufffd" in title and "\uffff" not in title and "\x0b" not in title, title
