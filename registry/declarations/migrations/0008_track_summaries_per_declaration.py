"""Each track's disclosure summary moves from its ISRC index row to one text per declaration.

``DeclaredRecording.summary`` carried ~930 characters on every ~1 KB row of the index a
lookup probes (10 GB at 10M tracks, more than a server's cache holds, docs/performance.md
"The 10M rows"). The texts now sit one after another in ``Declaration.track_summaries``
(compressed with the rest of that row) and each index row names its text by
``summary_at``/``summary_length``. The texts are derived from the signed statement
(``provenance.disclosure.summary_texts``, as the signing transaction writes them, and
``audit_log`` checks every one), so this pass derives them afresh rather than copying the old
column. It is reversible: going back derives the old column again. The append-only
triggers refuse any UPDATE, so they are switched off for the pass, in its transaction (as in
0005 and 0006).
"""

import json

from django.db import migrations, models

import registry.declarations.models
from provenance.disclosure import summary_text, summary_texts

TRIGGERS = [
    ("declarations_declaration", "declarations_declaration_append_only"),
    ("declarations_declaredrecording", "declarations_declaredrecording_append_only"),
]
CHUNK = 500


def _statement(value):
    return json.loads(value) if isinstance(value, str) else value


def _unguarded(schema_editor, work):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending trigger events
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    work()
    if postgres:
        for table, trigger in TRIGGERS:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def derive(apps, schema_editor):
    """Every declaration's ``track_summaries`` and its index rows' places in it, from the signed statement.

    In chunks of CHUNK declarations, each written by two bulk updates (its declarations, then their
    index rows), so that a catalog of millions of tracks takes minutes, not a statement per row.
    """
    Declaration = apps.get_model("declarations", "Declaration")
    DeclaredRecording = apps.get_model("declarations", "DeclaredRecording")
    if not Declaration.objects.exists():
        return

    def chunk(decls):
        places = {}
        for decl in decls:
            _, texts = summary_texts(_statement(decl.statement))
            # The layout of Declaration.track_summaries (models.pack_track_summaries, written out here so
            # that this migration stays as it ran): the texts one after another, placed by UTF-8 bytes.
            at = 0
            for isrc, text in texts.items():
                size = len(text.encode())
                places[decl.pk, isrc] = (at, size)
                at += size
            decl.track_summaries = "".join(texts.values())
        Declaration.objects.bulk_update(decls, ["track_summaries"])
        rows = list(
            DeclaredRecording.objects.filter(declaration_id__in=[d.pk for d in decls]).only(
                "pk", "declaration_id", "isrc"
            )
        )
        for rec in rows:
            # An index row that its statement does not name keeps (0, 0), and audit_log reports it.
            rec.summary_at, rec.summary_length = places.get((rec.declaration_id, rec.isrc), (0, 0))
        DeclaredRecording.objects.bulk_update(rows, ["summary_at", "summary_length"], batch_size=CHUNK)

    def work():
        batch = []
        for decl in Declaration.objects.only("pk", "statement").order_by("pk").iterator(chunk_size=CHUNK):
            batch.append(decl)
            if len(batch) == CHUNK:
                chunk(batch)
                batch = []
        if batch:
            chunk(batch)

    _unguarded(schema_editor, work)


def derive_back(apps, schema_editor):
    """Going back: every index row's own ``summary`` again, from the signed statement."""
    DeclaredRecording = apps.get_model("declarations", "DeclaredRecording")
    if not DeclaredRecording.objects.exists():
        return

    def work():
        rows = DeclaredRecording.objects.select_related("declaration").only("pk", "isrc", "declaration__statement")
        for rec in rows.iterator(chunk_size=CHUNK):
            text = summary_text(_statement(rec.declaration.statement), rec.isrc)
            DeclaredRecording.objects.filter(pk=rec.pk).update(summary=text)

    _unguarded(schema_editor, work)


class Migration(migrations.Migration):
    dependencies = [("declarations", "0007_bundle_insert_as_values")]

    operations = [
        migrations.AddField(
            model_name="declaration",
            name="track_summaries",
            field=registry.declarations.models.InsertAsValuesTextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="declaredrecording",
            name="summary_at",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="declaredrecording",
            name="summary_length",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(derive, derive_back),
        migrations.RemoveField(model_name="declaredrecording", name="summary"),
    ]
