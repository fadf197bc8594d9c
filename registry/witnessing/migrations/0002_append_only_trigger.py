"""On PostgreSQL, refuse UPDATE and DELETE on cosigned checkpoints, as on the log's tables (transparency 0002)."""

from django.db import migrations

TABLE = "witnessing_cosignedcheckpoint"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()",
        params=None,
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("witnessing", "0001_initial"),
        ("transparency", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
