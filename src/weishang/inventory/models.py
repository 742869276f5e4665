"""The brand's inventory: its warehouse stock valued at moving average cost, and reorder rules.

Valuation (库存估值)
-------------------
Every stock move into or out of the brand's warehouses (``trade.models.StockMove``; moves between
two warehouses change nothing) leaves one immutable ``ValuationLayer``: the units (signed) and their
value (signed, in fen), in the same transaction as the move (``valuation.value_moves``, installed
into ``trade.stock``). Value-only layers (quantity 0) add landed costs or set the cost of opening
stock. ``SkuValuation`` caches, per SKU, the units and value of all its layers; the moving average
cost is ``value / quantity``:

- units in at a known cost (a receipt) add ``round(cost × units, 2)``;
- units in without one (a return, a count's gain) and every unit out are valued at the average:
  ``round(value × units / quantity, 2)``, and the last units out take exactly what is left, so no
  fen is stranded;
- each layer's value is posted to the ledger, inventory against the account its reason names
  (cost of goods sold for a sale, goods received not billed for a receipt, gains and losses for a
  count), so the inventory account's balance is the sum of the layers' values.

``weishang inventory verify`` recomputes the cache from the layers, compares it with the warehouses'
units on hand, and the layers' total with the ledger's inventory account.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.catalog.models import SKU
from weishang.core import clock
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES
from weishang.ledger.models import Immutable, ImmutableQuerySet, JournalEntry
from weishang.trade.models import Location, StockMove

ZERO = Decimal("0.00")


def _money(verbose_name, **kw) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kw)


class SkuValuation(models.Model):
    """One SKU's units in the brand's warehouses and their value: a cache of its layers."""

    sku = models.OneToOneField(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    quantity = models.IntegerField(_("units in the warehouses"), default=0)
    value = _money(_("value"), default=ZERO)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("stock valuation")
        verbose_name_plural = _("stock valuation")
        permissions = [("set_cost", _("Can set the cost of stock found without one"))]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="skuvaluation_units_not_negative"),
            models.CheckConstraint(condition=~Q(quantity=0) | Q(value=0), name="skuvaluation_no_value_without_units"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.code}: {self.quantity} · ¥{self.value}"

    @property
    def average_cost(self) -> Decimal | None:
        """The moving average cost of one unit, to the fen (None with no units)."""
        if self.quantity <= 0:
            return None
        return (self.value / self.quantity).quantize(Decimal("0.01"))


class LayerKind(models.TextChoices):
    RECEIPT = "receipt", _("Received at cost")
    OUT = "out", _("Out at average cost")
    IN_AT_AVERAGE = "in", _("In at average cost")
    LANDED_COST = "landed", _("Landed cost")
    OPENING = "opening", _("Opening stock")
    REVALUATION = "revalue", _("Cost set")


class ValuationLayer(Immutable):
    """One change of a SKU's valued stock: units (signed) and value (signed). Never changed."""

    objects = ImmutableQuerySet.as_manager()

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    kind = models.CharField(_("kind"), max_length=10, choices=LayerKind.choices)
    quantity = models.IntegerField(_("units"))
    value = _money(_("value"))
    average_after = models.DecimalField(
        _("average cost after"), max_digits=MONEY_DIGITS + 2, decimal_places=4, null=True, blank=True
    )
    stock_move = models.OneToOneField(
        StockMove,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="valuation_layer",
        verbose_name=_("stock move"),
    )
    entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("journal entry"),
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("when"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("valuation layer")
        verbose_name_plural = _("valuation layers")
        indexes = [models.Index(fields=["sku", "id"], name="valuationlayer_sku")]

    def __str__(self) -> str:
        return f"{self.sku.code} {self.quantity:+} ¥{self.value:+}"


class ReorderRule(models.Model):
    """Keep a SKU at a warehouse between a minimum and a maximum: when units on hand plus those on
    open purchase orders fall below the minimum, order up to the maximum (in multiples of
    ``multiple``)."""

    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="+", verbose_name=_("SKU"))
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("warehouse"),
        limit_choices_to={"kind": "warehouse"},
    )
    minimum = models.PositiveIntegerField(_("minimum units"))
    maximum = models.PositiveIntegerField(_("maximum units"))
    multiple = models.PositiveIntegerField(_("order in multiples of"), default=1)
    active = models.BooleanField(_("active"), default=True)
    alerted_at = models.DateTimeField(_("low-stock alert sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["sku", "location"]
        verbose_name = _("reorder rule")
        verbose_name_plural = _("reorder rules")
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="reorderrule_one_per_sku_location"),
            models.CheckConstraint(condition=Q(maximum__gte=models.F("minimum")), name="reorderrule_max_not_below_min"),
            models.CheckConstraint(condition=Q(multiple__gte=1), name="reorderrule_multiple_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.code} @ {self.location}: {self.minimum}–{self.maximum}"


class CountStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class StockCount(models.Model):
    """A stock count (盘点) of a warehouse: a line per SKU with the units on hand when the count
    began and the units counted. Posting it moves each difference, counted against on hand at that
    moment, between the warehouse and the count-differences location (reason: stock count
    adjustment), valued at the average cost into gains and losses."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
        limit_choices_to={"kind": "warehouse"},
    )
    status = models.CharField(_("status"), max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("started"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        permissions = [("post_stockcount", _("Can post a stock count"))]

    def __str__(self) -> str:
        return self.number


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stock count"))
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    expected = models.IntegerField(_("on hand when counting began"))
    counted = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    reason = models.CharField(_("reason for a difference"), max_length=100, blank=True)
    difference = models.IntegerField(_("difference posted"), null=True, blank=True)

    class Meta:
        ordering = ["sku__code"]
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        constraints = [models.UniqueConstraint(fields=["count", "sku"], name="stockcountline_one_per_sku")]

    def __str__(self) -> str:
        return f"{self.count} · {self.sku.code}"


# --- batches and expiry dates (FEFO) -----------------------------------------------------------------


class BatchTracking(models.Model):
    """A SKU whose warehouse stock is kept by batch (批次) with its expiry date, and picked first
    expiry, first out. Units on hand when tracking starts go into the SKU's unbatched batch."""

    sku = models.OneToOneField(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    shelf_life_days = models.PositiveSmallIntegerField(
        _("shelf life (days)"),
        null=True,
        blank=True,
        help_text=_("Expiry = received + shelf life, when none is given."),
    )
    warn_days = models.PositiveSmallIntegerField(_("warn before expiry (days)"), default=60)
    started_at = models.DateTimeField(_("tracked since"), default=clock.now)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("batch-tracked SKU")
        verbose_name_plural = _("batch-tracked SKUs")

    def __str__(self) -> str:
        return self.sku.code


UNBATCHED = "-"  # the code of the batch holding units that came in without one


class Batch(models.Model):
    """A production batch of a SKU (批号) and its expiry date; the unbatched one has neither."""

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    code = models.CharField(_("batch number"), max_length=40)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(_("first received"), default=clock.now)

    class Meta:
        ordering = ["sku", "expires_on", "pk"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [models.UniqueConstraint(fields=["sku", "code"], name="batch_code_once_per_sku")]

    def __str__(self) -> str:
        return f"{self.sku.code} {self.code}" if self.code != UNBATCHED else f"{self.sku.code} ({_('unbatched')})"


class BatchLevel(models.Model):
    """Units of a batch in one warehouse: a cache of its ``BatchMove`` rows."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="levels", verbose_name=_("batch"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location"))
    quantity = models.IntegerField(_("units"), default=0)

    class Meta:
        verbose_name = _("batch stock")
        verbose_name_plural = _("batch stock")
        constraints = [
            models.UniqueConstraint(fields=["batch", "location"], name="batchlevel_once"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="batchlevel_never_negative"),
        ]


class BatchMove(Immutable):
    """Units of one batch in a stock move into (+) or out of (−) a warehouse. Never changed."""

    objects = ImmutableQuerySet.as_manager()

    stock_move = models.ForeignKey(
        StockMove, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("stock move")
    )
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="moves", verbose_name=_("batch"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location"))
    quantity = models.IntegerField(_("units"))
    created_at = models.DateTimeField(_("at"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("batch move")
        verbose_name_plural = _("batch moves")
