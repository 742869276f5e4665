from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from weishang.core.outbox import outbox_subscribe
        from weishang.webhooks.services import webhooks_dispatch_inline

        # After the reward engine (INSTALLED_APPS order): a completed order's rewards are written
        # by the time the webhooks look for them.
        outbox_subscribe(webhooks_dispatch_inline)
