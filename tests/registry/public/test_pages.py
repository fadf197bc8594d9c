"""The public pages through HTTP: what listeners, journalists and artists see."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provenance import identifiers
from registry.catalog.models import Artist, Label
from registry.transparency.keys import key_revoke
from tests import factories

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    """The visible text of a page, whitespace collapsed (tags stripped)."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def first_isrc(release: Any) -> str:
    return release.tracks.select_related("recording").first().recording.isrc


# --- home and search ---------------------------------------------------------------


def test_home_explains_what_the_registry_is_and_is_not(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "What this registry is — and is not" in page
    assert "AI detection" in page and "Nobody here listens to or analyses the music" in page
    assert "Recent declarations" in page
    assert "Synthetic Summer" in page  # the newest entries include the withdrawal
    assert response.content.count(b"<h1") == 1


def test_home_lists_recent_declarations_with_withdrawn_marked(client, demo):
    body = client.get("/").content.decode()
    row = re.search(r"Synthetic Summer</a></th>.*?</tr>", body, flags=re.S).group(0)
    assert "Withdrawn" in row


def test_search_by_release_artist_and_label_name(client, demo):
    page = text(client.get("/", {"q": "velvet"}))
    assert "Velvet Static" in page
    page = text(client.get("/", {"q": "cobalt choir"}))
    assert "The Cobalt Choir" in page and "AI persona" in page
    assert "Velvet Static" in page  # releases by the artist's name
    page = text(client.get("/", {"q": "Lowland"}))
    assert "Lowland Tape Co." in page


def test_search_by_track_title(client, demo):
    page = text(client.get("/", {"q": "Radio Ghosts"}))
    assert "Tracks" in page and "Radio Ghosts" in page


def test_search_by_hyphenated_lower_case_isrc_redirects_to_the_recording(client, demo):
    isrc = first_isrc(demo["Velvet Static"])
    typed = identifiers.format_isrc(isrc).lower()
    response = client.get("/", {"q": f"  {typed} "})
    assert response.status_code == 302
    assert response["Location"] == f"/recordings/{isrc}/"


def test_search_by_upc_redirects_to_the_release(client, demo):
    upc = demo["Quiet Hours"].upc
    response = client.get("/", {"q": f"{upc[:6]} {upc[6:]}"})
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{upc}/"


def test_search_for_an_undeclared_isrc_says_not_declared_and_not_a_claim(client, demo):
    page = text(client.get("/", {"q": "US-SKG-19-12345"}))
    assert "US-SKG-19-12345 is not declared" in page
    assert "That is not a claim about the music" in page


def test_search_for_a_upc_with_a_wrong_check_digit_explains_the_format(client, demo):
    upc = demo["Quiet Hours"].upc
    wrong = upc[:-1] + str((int(upc[-1]) + 1) % 10)
    response = client.get("/", {"q": wrong})
    assert response.status_code == 200
    assert "check digit should be" in text(response)


def test_search_with_no_match_says_so(client, demo):
    assert "Nothing declared matches" in text(client.get("/", {"q": "zzzz no such thing"}))


# --- release pages -------------------------------------------------------------------


def test_release_page_shows_levels_per_part_in_words_tools_label_and_history(client, demo):
    release = demo["Glass Meridian"]
    response = client.get(f"/releases/{release.upc}/")
    assert response.status_code == 200
    page = text(response)
    body = response.content.decode()
    assert response.content.count(b"<h1") == 1
    assert "Glass Meridian" in page and "Maren Holt" in page
    # Levels in words and as badges with a level class (the CSS adds a symbol too).
    assert "Partly AI" in page and "No AI" in page
    assert '<span class="badge level-partly">Partly AI</span>' in body
    assert "Composition" in page and "Production" in page
    assert "iZotope Ozone 11 (AI mastering assistant)" in page
    assert "Aurora Fjord Records" in page and "Identity checked" in page
    # The amendment, its reason and what changed.
    assert "Version 2" in page and "Version 1" in page
    assert "The mastering engineer confirmed an AI mastering assistant" in page
    assert "Prism Weather: production none → partly" in page
    assert "First declaration." in page
    assert "Fictional demo content" in page


def test_release_page_has_title_open_graph_and_api_alternate(client, demo):
    release = demo["Glass Meridian"]
    body = client.get(f"/releases/{release.upc}/").content.decode()
    assert "<title>Glass Meridian by Maren Holt: AI disclosure" in body
    for prop in ("og:title", "og:description", "og:type", "og:url"):
        assert f'property="{prop}"' in body
    assert f'<meta property="og:url" content="http://127.0.0.1:8000/releases/{release.upc}/">' in body
    assert f'<link rel="alternate" type="application/json" href="/api/v1/releases/{release.upc}">' in body


def test_release_page_says_ai_persona_in_words_and_badge(client, demo):
    response = client.get(f"/releases/{demo['Velvet Static'].upc}/")
    page = text(response)
    assert '<span class="badge persona-synthetic">AI persona</span>' in response.content.decode()
    assert "An AI persona: not a human performer" in page
    assert "Entirely AI" in page and "Suno v4.5" in page


def test_release_page_shows_voice_likeness_and_consent(client, demo):
    page = text(client.get(f"/releases/{demo['Second Voice'].upc}/"))
    assert "Imitates a real person's voice." in page
    assert "Consent agreement LM-2025-014 with the estate of the original singer" in page
    assert "Human artist using AI" in page


def test_withdrawn_release_is_shown_as_withdrawn_not_hidden(client, demo):
    response = client.get(f"/releases/{demo['Synthetic Summer'].upc}/")
    assert response.status_code == 200
    page = text(response)
    assert "The label withdrew this declaration" in page
    assert "Release taken down from all stores at the label's request." in page
    assert "Status: active → withdrawn" in page
    assert "Sunburn Protocol" in page  # the facts stay visible for the record
    assert "is-withdrawn" in response.content.decode()
    assert "(withdrawn)" in re.search(r"<title>(.*?)</title>", response.content.decode(), flags=re.S).group(1)


def test_unverified_label_is_said_plainly(client, demo):
    page = text(client.get(f"/releases/{demo['Patchwork'].upc}/"))
    assert "Identity not checked" in page and "Lowland Tape Co." in page


def test_label_text_is_escaped_on_pages(client, keys, label):
    release = factories.make_release(label, tracks=1, title='<script>alert("x")</script> & Co')
    factories.declare(release, "none")
    body = client.get(f"/releases/{release.upc}/").content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in body


# --- recordings -------------------------------------------------------------------------


def test_recording_page_shows_the_track_and_its_release(client, demo):
    release = demo["Machine Lullabies"]
    isrc = first_isrc(release)
    response = client.get(f"/recordings/{isrc}/")
    assert response.status_code == 200
    page = text(response)
    assert "Sleep Mode" in page and "Machine Lullabies" in page
    assert identifiers.format_isrc(isrc) in page
    assert "Magenta" in page and "Lyric assistant" in page
    assert f'href="/api/v1/recordings/{isrc}"' in response.content.decode()
    assert response.content.count(b"<h1") == 1


def test_recording_on_two_releases_lists_the_other_release(client, keys, label):
    single = factories.make_release(label, tracks=1, title="The Single")
    isrc = first_isrc(single)
    album = factories.make_release(
        label,
        title="The Album",
        track_list=[
            {"isrc": isrc, "title": "Track 1", "position": 1, "duration": 200},
            {"isrc": factories.isrc(), "title": "Track 2", "position": 2, "duration": 201},
        ],
    )
    factories.declare(single, "none")
    factories.declare(album, "partly", vocals="all")
    page = text(client.get(f"/recordings/{isrc}/"))
    assert "Also on" in page and "The Single" in page
    assert "The Album" in page


def test_hyphenated_identifiers_in_urls_redirect_to_the_canonical_page(client, demo):
    isrc = first_isrc(demo["Quiet Hours"])
    response = client.get(f"/recordings/{identifiers.format_isrc(isrc)}/")
    assert response.status_code == 301
    assert response["Location"] == f"/recordings/{isrc}/"


# --- 404 and 400 --------------------------------------------------------------------------


def test_unknown_upc_is_a_404_that_says_not_declared_and_not_a_claim(client, demo):
    response = client.get("/releases/036000291452/")
    assert response.status_code == 404
    page = text(response)
    assert "No declaration" in page
    assert "That is not a claim about the music" in page


def test_unknown_isrc_is_a_404_that_says_not_declared(client, demo):
    response = client.get("/recordings/USSKG1912345/")
    assert response.status_code == 404
    assert "US-SKG-19-12345" in text(response)
    assert "not a claim about the music" in text(response)


def test_an_undeclared_release_is_a_plain_404_that_says_nothing_of_the_draft(client, keys, label):
    release = factories.make_release(label, tracks=1, title="Unannounced")
    response = client.get(f"/releases/{release.upc}/")
    assert response.status_code == 404
    assert "Northern Lights Records" not in text(response) and "Unannounced" not in text(response)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/releases/123/", "must have 12 (UPC-A), 13 (EAN-13) or 14 (GTIN-14) digits"),
        ("/releases/036000291453/", "check digit should be 2"),
        ("/releases/abcdefghijkl/", "may contain only digits"),
        ("/recordings/1234/", "ISRC must have 12 characters"),
        ("/recordings/US-SKG-1A-12345/", "year must be 2 digits"),
        ("/releases/123/ern.xml", "must have 12"),
        ("/releases/123/bundle.json", "must have 12"),
    ],
)
def test_malformed_identifiers_are_a_400_explaining_the_format(client, db, url, problem):
    response = client.get(url)
    assert response.status_code == 400
    assert problem in text(response)


def test_unknown_artist_and_label_are_404s(client, db):
    assert client.get("/artists/999999/").status_code == 404
    assert client.get("/labels/999999/").status_code == 404


def test_unknown_page_uses_the_site_404_template(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_500_template_renders_without_a_request(db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert "<h1>" in html


# --- artists, labels, transparency -------------------------------------------------------------


def test_artist_page_lists_releases_and_says_ai_persona(client, demo):
    artist = Artist.objects.get(name="The Cobalt Choir")
    response = client.get(f"/artists/{artist.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert "AI persona" in page and "not a human performer" in page
    assert "Velvet Static" in page and "Synthetic Summer" in page
    assert "Withdrawn" in page
    assert "Fictional demo content" in page


def test_label_page_lists_releases_artists_and_verification(client, demo):
    label = Label.objects.get(name="Neon Harbor Music")
    page = text(client.get(f"/labels/{label.pk}/"))
    assert "Identity checked" in page
    assert "Holo Hearts" in page and "Kiko Nova" in page
    lowland = Label.objects.get(name="Lowland Tape Co.")
    assert "have not yet confirmed who this label is" in text(client.get(f"/labels/{lowland.pk}/"))


def test_transparency_page_shows_checkpoint_keys_entries_and_how_to_verify(client, demo):
    from registry.transparency.log import latest_checkpoint

    cp = latest_checkpoint()
    response = client.get("/transparency/")
    assert response.status_code == 200
    page = text(response)
    assert f"{cp.tree_size} entries" in page
    assert cp.note.splitlines()[2] in page  # the base64 root line of the signed note
    assert "— registry.example.org/log" in page
    assert "Statement signing" in page and "Checkpoint signing" in page and "Active" in page
    assert "Synthetic Summer" in page
    assert "python -m provenance verify bundle.json --jwks jwks.json" in page
    assert "/api/v1/log/consistency?first=OLD_SIZE&amp;second=NEW_SIZE" in response.content.decode()


# --- proof panel ------------------------------------------------------------------------------


def test_proof_panel_verifies_the_bundle_and_lists_each_check(client, demo):
    release = demo["Quiet Hours"]
    decl = release.current_declaration
    response = client.get(f"/releases/{release.upc}/")
    page = text(response)
    assert "Signature and log proof valid The signature and the log proof check out: all 8 checks passed." in page
    for name in ("statement_signature", "payload_type", "checkpoint_signature", "inclusion_proof"):
        assert name in page
    assert page.count("Passed:") == 8
    assert decl.key.kid in page and "(active)" in page
    assert f"index {decl.leaf_id}" in page
    assert f'href="/releases/{release.upc}/bundle.json"' in response.content.decode()
    assert f'href="/api/v1/releases/{release.upc}"' in response.content.decode()


def test_proof_panel_fails_after_the_statement_key_is_revoked(client, demo):
    release = demo["Quiet Hours"]
    kid = release.current_declaration.key.kid
    key_revoke(kid=kid, reason="test: key compromised")
    page = text(client.get(f"/releases/{release.upc}/"))
    assert "Does not verify" in page
    assert "Failed: The statement signature verifies" in page
    assert "(revoked)" in page


def test_bundle_json_serves_the_stored_bytes(client, demo):
    release = demo["Quiet Hours"]
    response = client.get(f"/releases/{release.upc}/bundle.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == release.current_declaration.bundle.encode()


# --- caching and query counts -------------------------------------------------------------------


def test_pages_are_publicly_cacheable_with_an_etag(client, demo):
    url = f"/releases/{demo['Quiet Hours'].upc}/"
    response = client.get(url)
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    etag = response["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_pages_are_private_for_signed_in_users(client, owner, demo):
    client.force_login(owner)
    response = client.get("/")
    assert "private" in response["Cache-Control"]


def _release_with(label: Any, n: int) -> Any:
    release = factories.make_release(label, tracks=n, title=f"{n} tracks")
    factories.declare(release, "partly", vocals="all")
    return release


def test_release_and_recording_pages_take_the_same_queries_for_2_and_20_tracks(
    client, keys, label, django_assert_max_num_queries
):
    small, big = _release_with(label, 2), _release_with(label, 20)
    for url_of in (lambda r: f"/releases/{r.upc}/", lambda r: f"/recordings/{first_isrc(r)}/"):
        url = url_of(small)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        assert len(ctx) <= 8
        big_url = url_of(big)
        with django_assert_max_num_queries(len(ctx)):
            assert client.get(big_url).status_code == 200


def test_home_search_artist_label_and_transparency_take_a_handful_of_queries(
    client, demo, django_assert_max_num_queries
):
    artist = Artist.objects.get(name="Maren Holt")
    label = Label.objects.get(name="Aurora Fjord Records")
    for url in ("/", "/?q=a", f"/artists/{artist.pk}/", f"/labels/{label.pk}/", "/transparency/"):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200


def test_public_pages_and_search_show_only_what_was_signed(client, keys, label, other_label):
    """Finding 2: a never-declared release's title, UPC, date and artist used to appear on public pages."""
    declared = factories.make_release(label, tracks=1, title="Signed Album")
    factories.declare(declared)
    draft = factories.make_release(
        label, tracks=1, title="Secret Draft", artists=[{"name": "Hidden Artist", "persona": "human"}]
    )
    hidden = Artist.objects.get(name="Hidden Artist")
    for page in [f"/labels/{label.pk}/", "/?q=Secret", "/?q=Hidden", "/?q=Northern"]:
        body = text(client.get(page, follow=True))
        assert "Secret Draft" not in body and "Hidden Artist" not in body and draft.upc not in body, page
    for identifier in [draft.upc, draft.tracks.get().recording.isrc]:  # echoed back, never resolved
        body = text(client.get(f"/?q={identifier}", follow=True))
        assert "is not declared" in body and "Secret Draft" not in body and "Hidden Artist" not in body
    assert client.get(f"/artists/{hidden.pk}/").status_code == 404
    assert "Signed Album" in text(client.get(f"/labels/{label.pk}/"))
    # A label that has signed nothing has no public page.
    factories.make_release(other_label, tracks=1, title="Their Draft")
    assert client.get(f"/labels/{other_label.pk}/").status_code == 404


# --- pages a new reader reads right ----------------------------------------------------


def test_recent_declarations_list_each_release_once_with_its_latest_version_and_history_link(client, keys, label):
    from registry.declarations.services import declaration_amend

    release = factories.make_release(label, tracks=1, title="Amended Thrice")
    factories.declare(release)
    for n in range(2):
        declaration_amend(
            release=release, reason=f"correction {n}", ai={first_isrc(release): factories.track_ai("partly")}
        )
    body = client.get("/").content.decode()
    assert body.count(">Amended Thrice</a>") == 1
    row = re.search(r"Amended Thrice</a></th>.*?</tr>", body, flags=re.S).group(0)
    assert f'href="/releases/{release.upc}/#history-heading"' in row and ">v3</a>" in row


def test_no_ai_and_no_declaration_read_differently_on_pages(client, demo):
    page = text(client.get(f"/releases/{demo['Quiet Hours'].upc}/"))
    assert "No AI (declared)" in page and "No declaration" not in page
    page = text(client.get("/releases/036000291452/"))
    assert "No declaration" in page and "No AI" not in page


def test_label_identity_and_proof_validity_have_different_names(client, demo):
    page = text(client.get(f"/releases/{demo['Quiet Hours'].upc}/"))
    assert "Identity checked" in page and "Signature and log proof valid" in page
    assert "Verified" not in page.replace("Verify it yourself", "")


def test_the_verify_command_names_the_file_the_download_saves(client, demo):
    release = demo["Quiet Hours"]
    version = release.current_declaration.version
    body = client.get(f"/releases/{release.upc}/").content.decode()
    download = client.get(f"/releases/{release.upc}/bundle.json")
    filename = re.search(r'filename="([^"]+)"', download["Content-Disposition"]).group(1)
    assert filename == f"{release.upc}-v{version}.bundle.json"
    assert f'download="{filename}"' in body
    assert f"python -m provenance verify {filename} --jwks jwks.json --upc {release.upc}" in body
    assert 'download="jwks.json"' in body


def test_recording_page_verify_command_checks_the_isrc(client, demo):
    release = demo["Quiet Hours"]
    isrc = first_isrc(release)
    body = client.get(f"/recordings/{isrc}/").content.decode()
    filename = f"{release.upc}-v{release.current_declaration.version}.bundle.json"
    assert f"python -m provenance verify {filename} --jwks jwks.json --isrc {isrc}" in body


def test_verify_it_yourself_says_how_to_install_the_verifier(client, demo, settings):
    settings.VERIFIER_PIP_SPEC = "git+https://example.org/registry.git"
    page = text(client.get(f"/releases/{demo['Quiet Hours'].upc}/"))
    assert "Verify it yourself" in page
    assert "pip install git+https://example.org/registry.git" in page
    assert "offline" in page
