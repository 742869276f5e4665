"""Sales reads the orders trade keeps; its only model is a view of their lines for the console."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from weishang.trade.models import OrderLine


class SalesLine(OrderLine):
    """An order line as sales sees it (销售明细): paid, with its buyer, level and region."""

    class Meta:
        proxy = True
        verbose_name = _("sales line")
        verbose_name_plural = _("sales lines")
        permissions = [("view_sales_report", _("Can see the sales analysis"))]
