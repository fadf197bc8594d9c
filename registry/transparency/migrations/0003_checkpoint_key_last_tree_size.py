"""Checkpoint keys get ``last_tree_size``: a retired key vouches for no tree larger than the log was when it retired.

Keys retired before this migration are stamped with the largest tree size
they actually signed (their checkpoints are in the database), so the bundles
they vouched for keep verifying and nothing larger ever will.
"""

from django.db import migrations, models
from django.db.models import Max


def stamp_retired_checkpoint_keys(apps, schema_editor):
    SigningKey = apps.get_model("transparency", "SigningKey")
    Checkpoint = apps.get_model("transparency", "Checkpoint")
    for key in SigningKey.objects.filter(purpose="checkpoint", status="retired"):
        key.last_tree_size = Checkpoint.objects.filter(key=key).aggregate(m=Max("tree_size"))["m"] or 0
        key.save(update_fields=["last_tree_size"])


class Migration(migrations.Migration):
    dependencies = [
        ("transparency", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="signingkey",
            name="last_tree_size",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(stamp_retired_checkpoint_keys, migrations.RunPython.noop),
    ]
