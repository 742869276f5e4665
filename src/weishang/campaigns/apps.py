from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Live campaigns (起盘打法 / 活动策划, M10): time-boxed offers for agents with limits of time,
    seats and quantity, as dated overlays on the plan in force, linted before they start."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.campaigns"
    label = "campaigns"
    verbose_name = _("campaigns (活动)")
