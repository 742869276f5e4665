from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ToolkitConfig(AppConfig):
    """The launch toolkit (招商工具包): what a brand recruits and sells with — its qualifications
    first (M9)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.toolkit"
    label = "toolkit"
    verbose_name = _("Launch toolkit")
