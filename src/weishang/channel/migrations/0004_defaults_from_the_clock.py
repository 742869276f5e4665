"""Record defaults come from the one clock (weishang.core.clock.now) instead of the wall clock.

State only: a callable default lives in Python, not in the database, so nothing in the schema
changes. Left to the schema editor, SQLite would rebuild each table for these AlterFields (and a
rebuilt ledger_journalentry would lose its immutability trigger); PostgreSQL would do nothing.
"""

import weishang.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channel', '0003_m7_chinese_labels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='agent',
                name='joined_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='joined'),
            ),
            migrations.AlterField(
                model_name='agenttrail',
                name='changed_at',
                field=models.DateTimeField(db_index=True, default=weishang.core.clock.now, verbose_name='when'),
            ),
            migrations.AlterField(
                model_name='application',
                name='submitted_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='submitted'),
            ),
        ]),
    ]
