from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Live campaigns (起盘打法 / 活动策划, M10): time-boxed offers for agents with limits of time,
    seats and quantity, as dated overlays on the plan in force, linted before they start."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.campaigns"
    label = "campaigns"
    verbose_name = _("campaigns (活动)")

    def ready(self) -> None:
        # The reward engine reads the plan with the running campaigns laid over it (rewards does
        # not import campaigns); a seat follows its order from the outbox.
        from weishang.campaigns.selectors import overlays_between
        from weishang.campaigns.services import campaigns_follow_events
        from weishang.core.outbox import outbox_subscribe
        from weishang.rewards.plan_versions import set_plan_overlays

        set_plan_overlays(overlays_between)
        outbox_subscribe(campaigns_follow_events)
