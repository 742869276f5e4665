from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.rewards"
    verbose_name = _("Plans and rewards")

    def ready(self) -> None:
        from weishang.catalog.services import set_plan_governance
        from weishang.core.outbox import outbox_subscribe
        from weishang.core.services import set_plan_hold
        from weishang.rewards.plan_versions import plan_brand_hold, plan_governance, plan_upgrade_ceiling
        from weishang.rewards.services import rewards_process_inline
        from weishang.trade.selectors import set_upgrade_policy

        outbox_subscribe(rewards_process_inline)
        set_upgrade_policy(plan_upgrade_ceiling)
        set_plan_governance(plan_governance)
        set_plan_hold(plan_brand_hold)
