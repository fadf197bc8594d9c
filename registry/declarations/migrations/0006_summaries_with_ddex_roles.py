"""Derive the stored disclosure summaries again: their DDEX roles are now ERN 4.3.2 ContributorRole values.

``summary.ddex.ai_contributions`` named instrumentation ``Instrumentalist`` and production
``Producer``, which are not in DDEX's allowed-value set; ``provenance.vocabulary`` now says
``Musician`` and ``StudioProducer`` (docs/protocol.md §8). The summaries are derived data
(``provenance.disclosure.summary_text`` of the signed statement, checked by ``audit_log``),
so every row whose stored text differs from a fresh derivation is rewritten; the signed
statements and the log are untouched. The append-only triggers refuse any UPDATE, so they
are switched off for this one pass, in its transaction (as in 0005).
"""

import json

from django.db import migrations

from provenance.disclosure import summary_text

TRIGGERS = [
    ("declarations_declaration", "declarations_declaration_append_only"),
    ("declarations_declaredrecording", "declarations_declaredrecording_append_only"),
]


def _statement(value):
    return json.loads(value) if isinstance(value, str) else value


def rederive(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")
    DeclaredRecording = apps.get_model("declarations", "DeclaredRecording")
    if not Declaration.objects.exists():
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending trigger events
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    for decl in Declaration.objects.only("pk", "statement", "summary").iterator(chunk_size=500):
        signed = _statement(decl.statement)
        text = summary_text(signed)
        if decl.summary != text:
            Declaration.objects.filter(pk=decl.pk).update(summary=text)
    rows = DeclaredRecording.objects.select_related("declaration").only(
        "pk", "isrc", "summary", "declaration__statement"
    )
    for rec in rows.iterator(chunk_size=500):
        signed = _statement(rec.declaration.statement)
        text = summary_text(signed, rec.isrc)
        if rec.summary != text:
            DeclaredRecording.objects.filter(pk=rec.pk).update(summary=text)
    if postgres:
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


class Migration(migrations.Migration):
    dependencies = [("declarations", "0005_backfill_summaries")]

    operations = [migrations.RunPython(rederive, migrations.RunPython.noop)]
