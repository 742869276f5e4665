from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutofinanceConfig(AppConfig):
    """The car dealer's finance desk (汽车金融, M15): lenders and their products, quotes side by side,
    loan applications from consent to closed, the dealer's finance income in the ledger, reports."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.autofinance"
    label = "autofinance"
    verbose_name = _("Car finance")
