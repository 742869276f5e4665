"""Administrative regions by their GB/T 2260 code: province (省), city (市) and district (区县).

The code is the key, so a region is stored as its six digits and "in 杭州" is a prefix
(``3301``). The rows come from ``data/gb2260.csv`` (scripts/regions-data) through the app's
migrations and are never edited by hand."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionKind(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    DISTRICT = "district", _("district")


class Region(models.Model):
    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=8, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("within")
    )
    # "浙江省 杭州市 西湖区": shown wherever a region is, so it is stored with the row.
    full_name = models.CharField(_("full name"), max_length=80)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.full_name

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_prefix(self) -> str:
        """The code prefix of the city the region lies in (the province's for a province)."""
        return self.code[:2] if self.kind == RegionKind.PROVINCE else self.code[:4]
