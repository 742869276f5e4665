from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelectionConfig(AppConfig):
    """Product selection (选品, M14): candidate products scored against the brand's weighted
    criteria, with notes and photos; a candidate becomes a catalog product in one step."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.selection"
    label = "selection"
    verbose_name = _("product selection (选品)")
