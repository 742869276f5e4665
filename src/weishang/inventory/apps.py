from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    """The brand's inventory (库存, M14): its warehouse stock valued at moving average cost and
    posted to the ledger, reorder rules, stock counts, batches and expiry dates."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.inventory"
    label = "inventory"
    verbose_name = _("inventory (库存)")

    def ready(self) -> None:
        from weishang.inventory import batches, valuation
        from weishang.trade import stock

        stock.on_stock_moved(valuation.value_moves)
        stock.on_stock_moved(batches.follow_batches)
