from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """Customer service (客服, M14): consumers' messages from the shop page into a shared inbox,
    suggested answers from the FAQ, quick replies, keyword auto-replies, assignment and
    response-time figures."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.service"
    label = "service"
    verbose_name = _("customer service (客服)")
