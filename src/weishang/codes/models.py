"""Security and trace codes (防伪码 / 溯源码 / 箱码).

A batch of codes is printed for one SKU: box codes, each holding ``per_box`` item codes. When
goods go out (an agent fills an order, the warehouse ships one or a pick-up), the codes scanned
are bound to the order and its receiver: one immutable ``CodeMove`` per code and shipment. A
consumer checks a code on the public page: one immutable ``CodeCheck`` each. ``ItemCode``'s
holder and check figures are the latest of those rows, written with them by ``codes.services``.
A code checked or sold outside the area of the agent it was shipped to, or sold on by another
agent, is a ``ChannelConflict`` (窜货) the brand handles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock

MAX_BOXES = 1000
MAX_PER_BOX = 200
MAX_ITEMS = 20000


class CodeBatch(models.Model):
    number = models.CharField(_("batch number"), max_length=24, unique=True)
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    boxes = models.PositiveIntegerField(_("boxes"))
    per_box = models.PositiveIntegerField(_("items per box"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("code batch")
        verbose_name_plural = _("code batches")

    def __str__(self) -> str:
        return self.number

    @property
    def items(self) -> int:
        return self.boxes * self.per_box


class BoxCode(models.Model):
    code = models.CharField(_("box code"), max_length=16, unique=True)
    batch = models.ForeignKey(CodeBatch, on_delete=models.PROTECT, related_name="box_codes", verbose_name=_("batch"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("box code")
        verbose_name_plural = _("box codes")

    def __str__(self) -> str:
        return self.code


class ItemCode(models.Model):
    code = models.CharField(_("item code"), max_length=16, unique=True)
    batch = models.ForeignKey(CodeBatch, on_delete=models.PROTECT, related_name="item_codes", verbose_name=_("batch"))
    box = models.ForeignKey(BoxCode, on_delete=models.PROTECT, related_name="items", verbose_name=_("box"))
    # The latest CodeMove: who holds it and where it went (empty: still in the brand's stock).
    holder = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplied to"),
        help_text=_("The agent it was last shipped to, or who sold it to a consumer."),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("went to"),
        help_text=_("The region of its last receiver: the agent's, or a consumer's address."),
    )
    sold = models.BooleanField(_("sold to a consumer"), default=False)
    shipped_at = models.DateTimeField(_("last shipped"), null=True, blank=True)
    # The CodeChecks, summed.
    first_checked_at = models.DateTimeField(_("first checked"), null=True, blank=True)
    checks = models.PositiveIntegerField(_("times checked"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("item code")
        verbose_name_plural = _("item codes")

    def __str__(self) -> str:
        return self.code


class CodeMove(models.Model):
    """One code going out with one order: from whom (empty: the brand) to whom (empty: a consumer).
    ``back``: the same code coming back because the order was cancelled or its goods returned —
    a reversal, written as a row of its own; the row it reverses is never changed."""

    item = models.ForeignKey(ItemCode, on_delete=models.PROTECT, related_name="moves", verbose_name=_("item code"))
    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    from_agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("from")
    )
    to_agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("to")
    )
    to_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("to region")
    )
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("scanned by")
    )
    at = models.DateTimeField(_("when"), default=clock.now)
    back = models.BooleanField(_("returned"), default=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("code shipment")
        verbose_name_plural = _("code shipments")
        constraints = [models.UniqueConstraint(fields=["item", "order", "back"], name="code_once_each_way_per_order")]


class CodeCheck(models.Model):
    """Someone checked a code on the public page or the API (an unknown code too: ``item`` empty)."""

    item = models.ForeignKey(
        ItemCode, on_delete=models.PROTECT, null=True, related_name="check_rows", verbose_name=_("item code")
    )
    code = models.CharField(_("code as checked"), max_length=16)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("checked in")
    )
    client = models.CharField(
        _("client"), max_length=16, blank=True, help_text=_("a hash of the address, not the address")
    )
    at = models.DateTimeField(_("when"), default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("code check")
        verbose_name_plural = _("code checks")


class ConflictKind(models.TextChoices):
    CHECKED_ELSEWHERE = "checked_elsewhere", _("Checked outside the agent's region")
    SOLD_ELSEWHERE = "sold_elsewhere", _("Sold to an address outside the agent's region")
    OTHER_SELLER = "other_seller", _("Sold on by another agent")


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HANDLED = "handled", _("Handled")
    DISMISSED = "dismissed", _("Dismissed")


class ChannelConflict(models.Model):
    """窜货: goods found outside the channel they were shipped into."""

    item = models.ForeignKey(ItemCode, on_delete=models.PROTECT, related_name="conflicts", verbose_name=_("item code"))
    kind = models.CharField(_("what"), max_length=20, choices=ConflictKind.choices)
    agent = models.ForeignKey(
        "channel.Agent",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("shipped to"),
        help_text=_("The agent the goods were shipped to (whose region they left)."),
    )
    agent_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("their region")
    )
    where = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("found in")
    )
    other_agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("sold by")
    )
    order = models.ForeignKey(
        "trade.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("order")
    )
    check_row = models.ForeignKey(
        CodeCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("check")
    )
    found_at = models.DateTimeField(_("found"), default=clock.now, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    note = models.CharField(_("what was done"), max_length=300, blank=True)

    class Meta:
        ordering = ["-found_at", "-pk"]
        verbose_name = _("channel conflict (窜货)")
        verbose_name_plural = _("channel conflicts (窜货)")
        permissions = [("handle_channelconflict", _("Can handle channel conflicts"))]
        constraints = [
            # One open case per code, kind and place: a code checked twenty times in 成都 is one case.
            models.UniqueConstraint(
                fields=["item", "kind", "where"],
                condition=Q(status="open"),
                name="conflict_open_once_per_place",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.get_kind_display()}"
