from axes.apps import AppConfig as BaseAxesConfig
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default = True  # this module also defines AxesConfig
    name = "weishang.core"
    label = "core"
    verbose_name = _("Brand")

    def connect_post_migrate(self) -> None:
        from weishang.core.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="weishang.core.roles_sync")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from weishang.core import (
            checks,  # noqa: F401 - registers the system checks
            converters,  # noqa: F401 - registers <id:…> for every app's routes
        )
        from weishang.core.lockout import clear_on_login

        self.connect_post_migrate()
        user_logged_in.connect(clear_on_login, dispatch_uid="weishang.core.lockout_clear_on_login")


class AxesConfig(BaseAxesConfig):
    """django-axes, titled in the console by what it shows (its pages are the owner's, core.admin)."""

    verbose_name = _("Login lockouts")

    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt

        # axes names an attempt in English, untranslated ("Attempted Access: <time>"); the console
        # titles its pages with it, so it is named here in the reader's language.
        AccessAttempt.__str__ = _attempt_name


def _attempt_name(attempt) -> str:
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext

    return gettext("Failed logins of %(name)s since %(time)s") % {
        "name": attempt.username or "-",
        "time": date_format(localtime(attempt.attempt_time), "Y-m-d H:i"),
    }
