from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The notification centre (消息通知, M11): every item that reaches an agent's 待我处理, with read
    state and a badge, made from the outbox's events."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.notifications"
    label = "notifications"
    verbose_name = _("notifications (消息通知)")

    def ready(self) -> None:
        from weishang.core.outbox import outbox_subscribe
        from weishang.notifications.services import notifications_follow_events

        outbox_subscribe(notifications_follow_events)
