"""Record defaults come from the one clock (weishang.core.clock.now) instead of the wall clock.

State only: a callable default lives in Python, not in the database, so nothing in the schema
changes. Left to the schema editor, SQLite would rebuild each table for these AlterFields (and a
rebuilt ledger_journalentry would lose its immutability trigger); PostgreSQL would do nothing.
"""

import weishang.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rewards', '0007_m7_chinese_labels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='eventreceipt',
                name='handled_at',
                field=models.DateTimeField(default=weishang.core.clock.now),
            ),
            migrations.AlterField(
                model_name='historicalplanversion',
                name='uploaded_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='uploaded'),
            ),
            migrations.AlterField(
                model_name='planacknowledgement',
                name='at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='when'),
            ),
            migrations.AlterField(
                model_name='planversion',
                name='uploaded_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='uploaded'),
            ),
            migrations.AlterField(
                model_name='rewardline',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='settlementrun',
                name='started_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='started'),
            ),
        ]),
    ]
