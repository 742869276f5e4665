# The password reset codes become the account's phone codes: a code also binds a WeChat (M11).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_outbox_cursor"),
    ]

    operations = [
        migrations.RenameModel(old_name="PasswordResetCode", new_name="PhoneCode"),
        migrations.AlterModelOptions(
            name="phonecode",
            options={"ordering": ["-pk"], "verbose_name": "phone code", "verbose_name_plural": "phone codes"},
        ),
        migrations.AlterField(
            model_name="phonecode",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="phone_codes",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddField(
            model_name="phonecode",
            name="purpose",
            field=models.CharField(
                choices=[("password_reset", "password reset"), ("wechat_bind", "WeChat binding")],
                default="password_reset",
                max_length=20,
                verbose_name="purpose",
            ),
        ),
    ]
