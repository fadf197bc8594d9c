"""On PostgreSQL, refuse UPDATE and DELETE on signed declarations and log rows.

Django never updates these rows; a trigger makes the database itself refuse
any edit, so tampering needs a superuser disabling triggers, which
``audit_log`` would then catch by recomputing hashes and signatures.
TRUNCATE is left alone: test databases are flushed with it.
"""

from django.db import migrations

TABLES = [
    "transparency_logleaf",
    "transparency_lognode",
    "transparency_checkpoint",
    "declarations_declaration",
    "declarations_declaredrecording",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the transparency log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # the SQL has literal % signs
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("transparency", "0001_initial"),
        ("declarations", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
