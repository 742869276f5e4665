from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Sales (销售, M14): what sold, by SKU, level, region and period, with charts; the brand's own
    sales with their cost and gross margin from the inventory's valuation."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.sales"
    label = "sales"
    verbose_name = _("sales (销售)")
