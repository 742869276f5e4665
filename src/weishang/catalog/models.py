"""Products, SKUs and the level price table (拿货价)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from weishang.channel.models import Level
from weishang.core.money import MONEY_DIGITS, MONEY_PLACES

ZERO = Decimal("0")


class Product(models.Model):
    """A product and what agents sell it with: its selling points, specification, ingredients,
    usage and description (plain text, shown with its line breaks; no HTML is stored) and its
    pictures (``ProductImage``)."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    selling_points = models.TextField(_("selling points"), blank=True, help_text=_("One per line."))
    specification = models.TextField(_("specification"), blank=True, help_text=_("Size, shelf life, origin…"))
    ingredients = models.TextField(_("ingredients"), blank=True)
    usage = models.TextField(_("how to use"), blank=True)
    active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class ProductImage(models.Model):
    """One of a product's pictures, in order; its thumbnail is made once, when it is added
    (``catalog.services.product_image_add``)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product"))
    image = models.FileField(_("picture"), upload_to="products/")
    thumbnail = models.FileField(_("thumbnail"), upload_to="products/thumbs/", editable=False)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("product picture")
        verbose_name_plural = _("product pictures")

    def __str__(self) -> str:
        return self.caption or self.image.name


class SKU(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus", verbose_name=_("product"))
    code = models.CharField(_("SKU code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    barcode = models.CharField(_("barcode"), max_length=32, blank=True)
    retail_price = models.DecimalField(
        _("retail price"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, validators=[MinValueValidator(ZERO)]
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # Purchase rules for agents' orders (per agent; empty = no limit).
    min_order_qty = models.PositiveIntegerField(_("minimum units per order line"), default=1)
    max_per_order = models.PositiveIntegerField(_("at most per order"), null=True, blank=True)
    max_per_day = models.PositiveIntegerField(_("at most per day"), null=True, blank=True)
    max_per_week = models.PositiveIntegerField(_("at most per week"), null=True, blank=True)
    max_per_month = models.PositiveIntegerField(_("at most per month"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["product_id", "code"]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [models.CheckConstraint(condition=Q(retail_price__gte=0), name="sku_retail_price_not_negative")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LevelPrice(models.Model):
    """The price an agent of ``level`` pays for ``sku``. Without a row: retail × level discount."""

    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="level_prices", verbose_name=_("SKU"))
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="prices", verbose_name=_("level"))
    price = models.DecimalField(
        _("level price"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, validators=[MinValueValidator(ZERO)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("level price")
        verbose_name_plural = _("level prices")
        # Who owns pricing: retail prices, level discounts, entry amounts and the price grid (M7).
        permissions = [("change_pricing", _("Can change prices, discounts and entry conditions"))]
        constraints = [
            models.UniqueConstraint(fields=["sku", "level"], name="levelprice_one_per_sku_level"),
            models.CheckConstraint(condition=Q(price__gte=0), name="levelprice_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.code} @ {self.level.name}: {self.price}"
