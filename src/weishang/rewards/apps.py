from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.rewards"
    verbose_name = _("Plans and rewards")

    def ready(self) -> None:
        from weishang.core.outbox import outbox_subscribe
        from weishang.rewards.services import rewards_process_inline

        outbox_subscribe(rewards_process_inline)
