"""The FAQ's search index: an FTS5 table of each entry's words on SQLite; a GIN index over
to_tsvector('simple', terms) on PostgreSQL (faq/search.py explains why not trigrams)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS faq_index USING fts5(terms, tokenize = 'unicode61')")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS faq_entry_terms_fts ON faq_faqentry USING gin (to_tsvector('simple', terms))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS faq_index")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS faq_entry_terms_fts")


class Migration(migrations.Migration):
    dependencies = [("faq", "0001_faq")]
    operations = [migrations.RunPython(create, drop)]
