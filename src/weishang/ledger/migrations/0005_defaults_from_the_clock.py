"""Record defaults come from the one clock (weishang.core.clock.now) instead of the wall clock.

State only: a callable default lives in Python, not in the database, so nothing in the schema
changes. Left to the schema editor, SQLite would rebuild each table for these AlterFields (and a
rebuilt ledger_journalentry would lose its immutability trigger); PostgreSQL would do nothing.
"""

import weishang.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0004_historicalwithdrawal'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='account',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='opened'),
            ),
            migrations.AlterField(
                model_name='historicalwithdrawal',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='requested'),
            ),
            migrations.AlterField(
                model_name='journalentry',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='posted'),
            ),
            migrations.AlterField(
                model_name='withdrawal',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='requested'),
            ),
            migrations.AlterField(
                model_name='withdrawaltransition',
                name='at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='when'),
            ),
        ]),
    ]
