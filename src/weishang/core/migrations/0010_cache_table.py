# The shared cache's table (M13): WEISHANG_CACHE_URL=db, production's default, keeps rate limits,
# texted codes and WeChat's access token in it, shared by every process. Made here, whatever the
# cache setting, so that switching to it needs no extra command.

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "weishang_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_phone_codes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
