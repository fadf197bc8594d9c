"""Derive the stored disclosure summaries that rows logged before 0002 lack, so lookups never fall back.

The summaries are derived data (``provenance.disclosure.summary_text`` of the signed
statement; ``audit_log`` checks every one). The append-only triggers refuse any UPDATE
on these tables, so they are switched off for this one backfill, in its transaction.
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


def backfill(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")
    DeclaredRecording = apps.get_model("declarations", "DeclaredRecording")
    todo = Declaration.objects.filter(summary="").exists() or DeclaredRecording.objects.filter(summary="").exists()
    if not todo:
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending trigger events
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    for decl in Declaration.objects.filter(summary="").iterator(chunk_size=500):
        Declaration.objects.filter(pk=decl.pk).update(summary=summary_text(_statement(decl.statement)))
    rows = DeclaredRecording.objects.filter(summary="").select_related("declaration")
    for rec in rows.iterator(chunk_size=500):
        text = summary_text(_statement(rec.declaration.statement), rec.isrc)
        DeclaredRecording.objects.filter(pk=rec.pk).update(summary=text)
    if postgres:
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0004_identifier_claims"),
        ("transparency", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
