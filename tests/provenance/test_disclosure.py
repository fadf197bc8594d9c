"""The disclosure derived from a signed statement: the texts the registry stores and audits, byte for byte."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.disclosure import summary_of, summary_text, summary_texts, track_in
from tests.provenance import factory

# summary_text of factory.statement(n_tracks=2), as the registry stored it before the derivation moved
# here from registry/declarations/selectors.py: stored summaries are audited against this function.
TRACK_1 = '{"ai_persona":false,"apple_music_tags":["Track","Artwork"],"artists":[{"isni":"000000012146438X","name":"The Lanterns","persona":"ai_assisted"}],"declared_at":"2025-03-14T09:26:53Z","label":{"dpid":"PADPIDA3897722461G","name":"Northern Lights Records","verified":true},"reason":null,"release":{"artwork":"partly","contains_ai":"partly","ddex_contains_ai":"Partly","release_date":"2025-04-01","title":"Aurora","upc":"000000000017"},"status":"active","track":{"apple_music_tags":["Track"],"contains_ai":"partly","ddex":{"ai_contributions":[{"contains_ai":"All","role":"Vocalist"},{"contains_ai":"Partly","role":"StudioProducer"}],"contains_ai":"Partly"},"iptc_digital_source_type":"http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia","isrc":"GBXYZ2500001","parts":{"composition":"none","instrumentation":"none","lyrics":"none","production":"partly","vocals":"all"},"position":1,"title":"Song number 1","tools":["Suno v4"],"voice_likeness":{"consent_reference":null,"imitates_real_person":false}},"version":1}'
RELEASE = '{"ai_persona":false,"apple_music_tags":["Track","Artwork"],"artists":[{"isni":"000000012146438X","name":"The Lanterns","persona":"ai_assisted"}],"declared_at":"2025-03-14T09:26:53Z","label":{"dpid":"PADPIDA3897722461G","name":"Northern Lights Records","verified":true},"reason":null,"release":{"artwork":"partly","contains_ai":"partly","ddex_contains_ai":"Partly","release_date":"2025-04-01","title":"Aurora","upc":"000000000017"},"status":"active","tracks":[{"apple_music_tags":["Track"],"contains_ai":"partly","ddex":{"ai_contributions":[{"contains_ai":"All","role":"Vocalist"},{"contains_ai":"Partly","role":"StudioProducer"}],"contains_ai":"Partly"},"iptc_digital_source_type":"http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia","isrc":"GBXYZ2500001","parts":{"composition":"none","instrumentation":"none","lyrics":"none","production":"partly","vocals":"all"},"position":1,"title":"Song number 1","tools":["Suno v4"],"voice_likeness":{"consent_reference":null,"imitates_real_person":false}},{"apple_music_tags":[],"contains_ai":"none","ddex":{"ai_contributions":[],"contains_ai":"None"},"iptc_digital_source_type":"http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation","isrc":"GBXYZ2500002","parts":{"composition":"none","instrumentation":"none","lyrics":"none","production":"none","vocals":"none"},"position":2,"title":"Song number 2","tools":[],"voice_likeness":{"consent_reference":null,"imitates_real_person":false}}],"version":1}'


def test_the_summary_texts_are_byte_identical_to_the_stored_form() -> None:
    st = factory.statement(n_tracks=2)
    assert summary_text(st, factory.isrc(1)) == TRACK_1
    assert summary_text(st) == RELEASE


def test_the_text_depends_only_on_the_facts_not_on_key_order() -> None:
    st = factory.statement(n_tracks=2)
    shuffled = json.loads(json.dumps({k: st[k] for k in reversed(list(st))}))
    assert summary_text(shuffled, factory.isrc(1)) == TRACK_1


def test_a_track_summary_is_about_that_track_and_a_release_summary_lists_every_track() -> None:
    st = factory.statement(n_tracks=2)
    about_track = summary_of(st, factory.isrc(2))
    assert about_track["track"]["isrc"] == factory.isrc(2) and "tracks" not in about_track
    assert [t["isrc"] for t in summary_of(st)["tracks"]] == [factory.isrc(1), factory.isrc(2)]
    assert track_in(st, factory.isrc(9)) is None


LEVELS = st.sampled_from(["none", "partly", "all"])
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z")), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.fixed_dictionaries({"vocals": LEVELS, "production": LEVELS, "lyrics": LEVELS}), min_size=1,
                   max_size=6),
    titles=st.lists(TEXT, min_size=6, max_size=6),
    release_title=TEXT,
    artwork=LEVELS,
    persona=st.sampled_from(["human", "ai_assisted", "synthetic"]),
    unverified=st.booleans(),
)  # fmt: skip
def test_summary_texts_of_a_statement_are_summary_text_byte_for_byte(
    parts, titles, release_title, artwork, persona, unverified
) -> None:
    # A batch stores each declaration's summaries from summary_texts; audit_log recomputes them with summary_text.
    tracks = [{**factory.track(i + 1, **p), "title": titles[i]} for i, p in enumerate(parts)]
    extra = {"identifiers_verified": {"upc": True, "isrcs_unverified": [factory.isrc(1)]}} if unverified else {}
    stmt = factory.statement(
        tracks=tracks,
        release={"upc": factory.upc(1), "title": release_title, "release_date": None, "artwork": artwork, **extra},
        artists=[{"name": "Ünïcødé ✓ \U0001f3b5", "isni": None, "persona": persona}],
    )
    release_text, track_texts = summary_texts(stmt)
    assert release_text == summary_text(stmt)
    assert track_texts == {t["isrc"]: summary_text(stmt, t["isrc"]) for t in stmt["tracks"]}
