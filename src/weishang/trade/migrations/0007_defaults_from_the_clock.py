"""Record defaults come from the one clock (weishang.core.clock.now) instead of the wall clock.

State only: a callable default lives in Python, not in the database, so nothing in the schema
changes. Left to the schema editor, SQLite would rebuild each table for these AlterFields (and a
rebuilt ledger_journalentry would lose its immutability trigger); PostgreSQL would do nothing.
"""

import weishang.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trade', '0006_receiving_accounts_and_order_notices'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='customer',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='first order'),
            ),
            migrations.AlterField(
                model_name='order',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='ordernotice',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='ordertransition',
                name='at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='when'),
            ),
            migrations.AlterField(
                model_name='payment',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='receivingaccount',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='created'),
            ),
            migrations.AlterField(
                model_name='stockmove',
                name='created_at',
                field=models.DateTimeField(default=weishang.core.clock.now, verbose_name='when'),
            ),
        ]),
    ]
