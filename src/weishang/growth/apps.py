from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrowthConfig(AppConfig):
    """Growth (M10): launch phases with targets tracked week by week, agents' monthly work plans,
    and the growth report across channels, meetings, phases and campaigns."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.growth"
    label = "growth"
    verbose_name = _("growth (招商增长)")
