from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutofinanceConfig(AppConfig):
    name = "weishang.autofinance"
    verbose_name = _("Car finance")
