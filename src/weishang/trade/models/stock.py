"""Stock: locations, immutable moves, and the cached on-hand figure derived from them.

Every change of stock is one ``StockMove`` (from, to, SKU, quantity, reason, order line). The
quantity on hand at an internal location is the sum of moves in minus moves out; ``StockLevel``
caches it, is changed only together with the move, never goes below zero (a database CHECK
backs the service's guarded update), and ``weishang stock verify`` recomputes it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.catalog.models import SKU
from weishang.channel.models import Agent
from weishang.core import clock


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Company warehouse")
    AGENT = "agent", _("Agent's own stock")
    CLOUD = "cloud", _("Agent's cloud stock")
    CUSTOMER = "customer", _("Customers")
    SUPPLIER = "supplier", _("Suppliers")
    SCRAP = "scrap", _("Scrap")
    # Where a stock count's differences go and come from (counted less: out of the warehouse to
    # here; counted more: from here into it); external, like suppliers and customers.
    COUNT = "count", _("Stock count differences")


# Stock is counted (and may not go negative) only where the brand or an agent holds it.
INTERNAL_KINDS = (LocationKind.WAREHOUSE, LocationKind.AGENT, LocationKind.CLOUD)


class Location(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=LocationKind.choices)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="locations", verbose_name=_("agent")
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "agent"], condition=Q(agent__isnull=False), name="location_one_per_agent_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["agent", "cloud"], agent__isnull=False)
                | (~Q(kind__in=["agent", "cloud"]) & Q(agent__isnull=True)),
                name="location_agent_iff_agent_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_internal(self) -> bool:
        return self.kind in INTERNAL_KINDS


class StockReason(models.TextChoices):
    RECEIPT = "receipt", _("Received from a supplier")
    ORDER_FILL = "order_fill", _("Order filled")
    PICKUP = "pickup", _("Pick-up shipped")
    RETAIL = "retail", _("Retail sale")
    RETURN = "return", _("Returned")
    CANCEL = "cancel", _("Order cancelled")
    ADJUSTMENT = "adjustment", _("Stock count adjustment")
    SCRAP = "scrap", _("Scrapped")
    B2B = "b2b", _("B2B order shipped")


class StockMove(models.Model):
    """One immutable movement of units. Corrections are new moves the other way."""

    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="moves_out", verbose_name=_("from")
    )
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="moves_in", verbose_name=_("to"))
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    quantity = models.PositiveIntegerField(_("units"))
    reason = models.CharField(_("reason"), max_length=12, choices=StockReason.choices)
    order_line = models.ForeignKey(
        "trade.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_moves",
        verbose_name=_("order line"),
    )
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("when"), default=clock.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="stockmove_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(from_location=models.F("to_location")), name="stockmove_between_two_locations"
            ),
        ]
        indexes = [models.Index(fields=["sku", "from_location"]), models.Index(fields=["sku", "to_location"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku.code}: {self.from_location} → {self.to_location}"


class StockLevel(models.Model):
    """Units on hand at an internal location: a cache of the moves, checked by `stock verify`."""

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="levels", verbose_name=_("stock location")
    )
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    quantity = models.IntegerField(_("on hand"), default=0)

    class Meta:
        verbose_name = _("stock on hand")
        verbose_name_plural = _("stock on hand")
        constraints = [
            models.UniqueConstraint(fields=["location", "sku"], name="stocklevel_one_per_location_sku"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stocklevel_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.location} · {self.sku.code}: {self.quantity}"
