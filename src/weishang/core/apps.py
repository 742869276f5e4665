from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "weishang.core"
    label = "core"
    verbose_name = _("Brand")

    def connect_post_migrate(self) -> None:
        from weishang.core.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="weishang.core.roles_sync")

    def ready(self) -> None:
        self.connect_post_migrate()
