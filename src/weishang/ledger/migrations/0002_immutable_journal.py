"""The database refuses any UPDATE of a journal entry or line (SQLite and PostgreSQL).

Deletes are left to the ORM guards and the protecting foreign keys, so that test databases can
still be flushed; ``weishang ledger verify`` catches rows removed or added behind the ORM's back.
"""

from django.db import migrations

TABLES = ("ledger_journalentry", "ledger_journalline")


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable; post a reversal'); END"
            )
    elif connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION ledger_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are immutable; post a reversal', TG_TABLE_NAME; END $$",
            params=None,  # the % is PL/pgSQL's, not a query placeholder
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_update()"
            )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    for table in TABLES:
        on = f" ON {table}" if connection.vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable{on}")
    if connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_refuse_update()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
