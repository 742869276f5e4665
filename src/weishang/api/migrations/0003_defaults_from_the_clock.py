"""Record defaults come from the one clock (weishang.core.clock.now) instead of the wall clock.

State only: a callable default lives in Python, not in the database, so nothing in the schema
changes. Left to the schema editor, SQLite would rebuild each table for these AlterFields (and a
rebuilt ledger_journalentry would lose its immutability trigger); PostgreSQL would do nothing.
"""

import weishang.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0002_idempotency_headers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='apikey',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, editable=False, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='apitoken',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, editable=False, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='idempotencyrecord',
                name='created_at',
                field=models.DateTimeField(db_index=True, default=weishang.core.clock.now, editable=False, verbose_name='created'),
            ),
        ]),
    ]
