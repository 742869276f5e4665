from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    """Meetings (招商会, 沙龙, 私董会, 启动会, 裂变会, online classes; M10): schedule, invitations and
    RSVP, check-in by QR at the door, costs, and the outcomes attributed to each meeting (ROI)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.meetings"
    label = "meetings"
    verbose_name = _("meetings (会议)")
