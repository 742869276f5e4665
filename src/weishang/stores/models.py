"""Local stores (实体店): an agent's (or the brand's own) shop with an address, a point on the map,
opening hours by weekday and photos, listed for consumers' nearby lookup (附近门店)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock

WEEKDAYS = 7


class StoreStatus(models.TextChoices):
    LISTED = "listed", _("Listed")
    HIDDEN = "hidden", _("Hidden")


class Store(models.Model):
    agent = models.OneToOneField(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="store",
        verbose_name=_("agent"),
        help_text=_("Whose store it is; empty = the brand's own."),
    )
    name = models.CharField(_("store name"), max_length=60)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    address = models.CharField(_("street address"), max_length=120)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    days = models.CharField(
        _("open on"),
        max_length=WEEKDAYS,
        default="1111111",
        help_text=_("Seven digits, Monday to Sunday: 1 open, 0 closed."),
    )
    opens_at = models.TimeField(_("opens"))
    closes_at = models.TimeField(_("closes"), help_text=_("Earlier than the opening time: open past midnight."))
    status = models.CharField(_("status"), max_length=10, choices=StoreStatus.choices, default=StoreStatus.LISTED)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("local store")
        verbose_name_plural = _("local stores")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="store_point_on_earth",
            ),
            models.CheckConstraint(condition=Q(days__regex=r"^[01]{7}$"), name="store_days_seven_digits"),
        ]
        indexes = [models.Index(fields=["status", "latitude", "longitude"], name="stores_listed_point")]

    def __str__(self) -> str:
        return self.name


class StorePhoto(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="photos", verbose_name=_("store"))
    image = models.FileField(_("photo"), upload_to="stores/")
    thumbnail = models.FileField(_("thumbnail"), upload_to="stores/thumbs/", editable=False)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("store photo")
        verbose_name_plural = _("store photos")

    def __str__(self) -> str:
        return self.image.name
