from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    """Purchasing (进货管理, M14): suppliers and what they supply, purchase orders, receiving with
    inspection, landed costs, supplier bills matched against receipts, payments, performance."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.purchasing"
    label = "purchasing"
    verbose_name = _("purchasing (进货)")

    def ready(self) -> None:
        from weishang.inventory import selectors
        from weishang.purchasing import services

        selectors.set_incoming_units(services.incoming_units)
