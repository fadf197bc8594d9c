"""Identifier claims: the label that first signed a declaration covering a UPC or ISRC holds it."""

import django.db.models.deletion
from django.db import migrations, models


def claim_signed_identifiers(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")
    IdentifierClaim = apps.get_model("declarations", "IdentifierClaim")
    held: set[tuple[str, str]] = set()
    claims = []
    for decl in Declaration.objects.select_related("release").order_by("leaf_id").iterator(chunk_size=2000):
        wanted = [("upc", decl.release.upc)] + [("isrc", t["isrc"]) for t in decl.statement["tracks"]]
        for kind, value in wanted:
            if (kind, value) not in held:
                held.add((kind, value))
                claims.append(IdentifierClaim(kind=kind, value=value, label_id=decl.release.label_id))
    IdentifierClaim.objects.bulk_create(claims, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_per_label_catalog"),
        ("declarations", "0003_summary_insert_as_values"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentifierClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("upc", "UPC/EAN"), ("isrc", "ISRC")], max_length=4)),
                ("value", models.CharField(max_length=14)),
                ("claimed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "label",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="identifier_claims",
                        to="catalog.label",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("kind", "value"), name="unique_identifier_claim")]
            },
        ),
        migrations.RunPython(claim_signed_identifiers, migrations.RunPython.noop),
    ]
