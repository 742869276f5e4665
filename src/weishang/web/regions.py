"""The region picker: province, city and district chosen from the national list (GB/T 2260).

Three selects, ``<name>_1`` to ``<name>_3``; the value is the finest consistent choice. With
JavaScript (static/web/region.js) choosing one loads the next from ``GET /api/v1/public/regions``;
without it, each submit shows the next select filled in, so the form still works."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from weishang.core.errors import BusinessError
from weishang.regions import selectors as regions
from weishang.regions.models import Region

LEVELS = 3


def _consistent(codes: list[str]) -> str:
    """The finest code of a chain of choices, dropping a choice that is not within the one before
    it (a city left over after the province changed)."""
    chosen = ""
    for code in codes:
        code = (code or "").strip()
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            break
        if chosen:
            prefix = chosen[:2] if chosen.endswith("0000") else chosen[:4]
            if not code.startswith(prefix) or code == chosen:
                break
        chosen = code
    return chosen


class RegionPicker(forms.Widget):
    template_name = "web/widgets/region_picker.html"

    def value_from_datadict(self, data, files, name):
        if data.get(name):  # one code sent as is (a script, a test client)
            return data.get(name)
        return _consistent([data.get(f"{name}_{i}", "") for i in range(1, LEVELS + 1)])

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_1" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        code = value.pk if isinstance(value, Region) else (value or "")
        chain = regions.region_chain(regions.region_get(str(code)))
        selects = []
        parent: str | None = None
        labels = [_("Province"), _("City"), _("District")]
        for i in range(LEVELS):
            options = regions.children_of(parent) if (i == 0 or parent) else []
            chosen = chain[i].code if i < len(chain) else ""
            selects.append(
                {"name": f"{name}_{i + 1}", "label": labels[i], "options": options, "chosen": chosen, "level": i + 1}
            )
            parent = chosen or None
            if parent and i + 1 < LEVELS and not regions.children_of(parent):
                break
        context["widget"]["selects"] = selects
        context["widget"]["api"] = "/api/v1/public/regions"
        return context


class RegionField(forms.Field):
    """A region from the picker. ``finest``: an address needs the district (or a city that has
    none); an agent's region may be a whole province or city."""

    widget = RegionPicker

    def __init__(self, *, finest: bool = True, **kwargs):
        self.finest = finest
        kwargs.setdefault("label", _("Province / city / district"))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return regions.region_from_input(value, finest=self.finest)
        except BusinessError as exc:
            raise ValidationError(exc.message, code="region") from None

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(_("Choose the province, city and district."), code="required")

    def prepare_value(self, value):
        return value.pk if isinstance(value, Region) else value
