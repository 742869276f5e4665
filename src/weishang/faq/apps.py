from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaqConfig(AppConfig):
    """百问百答: the brand's questions and answers, searched in Chinese (launch toolkit, M9)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.faq"
    label = "faq"
    verbose_name = _("FAQ (百问百答)")
