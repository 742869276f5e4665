from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class B2bConfig(AppConfig):
    """B2B trade (M14): business accounts and their people, listings with tiered prices, inquiries
    negotiated in rounds of offers, orders with payment terms, shipments, invoices, claims and
    credit notes; the brand's own sales posted to its ledger."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.b2b"
    label = "b2b"
    verbose_name = _("B2B trade")
