"""The source's criteria for a micro-business product (the brand changes the weights, or adds its own)."""

from decimal import Decimal

from django.db import migrations

from weishang.selection.defaults import DEFAULTS


def add(apps, schema_editor):
    Criterion = apps.get_model("selection", "Criterion")
    if Criterion.objects.exists():
        return
    Criterion.objects.bulk_create(
        [
            Criterion(code=code, name=name, help_text=help_text, weight=Decimal(weight), rule=rule, position=i)
            for i, (code, name, help_text, weight, rule) in enumerate(DEFAULTS)
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("selection", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
