"""Forms of the order, fill, stock and wallet pages and of the public shop.

They check the shape of the input only (numbers are numbers, a screenshot is an image); every
business rule is the service's, whose BusinessError the view shows on the same form.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from weishang.core.validators import normalize_phone, validate_phone
from weishang.trade import services
from weishang.web.regions import RegionField

MAX_UNITS = 99999
TOKEN_RE = r"^[A-Za-z0-9_-]{16,64}$"


def new_token() -> str:
    """A per-form idempotency key: a double tap of the same form submits it twice with one key."""
    return secrets.token_urlsafe(24)


class TokenField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(
            max_length=64,
            validators=[RegexValidator(TOKEN_RE)],
            error_messages={
                "required": _("This form has expired. Please fill it in again."),
                "invalid": _("This form has expired. Please fill it in again."),
            },
            **kwargs,
        )


class QuantitiesForm(forms.Form):
    """One ``q<sku id>`` quantity box per SKU (0 or empty = none of it) plus the form's token."""

    token = TokenField()

    def __init__(self, *args, skus, **kwargs):
        super().__init__(*args, **kwargs)
        self.skus = list(skus)
        for sku in self.skus:
            self.fields[f"q{sku.pk}"] = forms.IntegerField(
                label=sku.name,
                min_value=0,
                max_value=MAX_UNITS,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "placeholder": "0"}),
            )
        if not self.is_bound:
            self.initial.setdefault("token", new_token())

    def quantity_field(self, sku):
        return self[f"q{sku.pk}"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.lines():
            raise ValidationError(_("Enter a quantity of at least 1 for one product or more."), code="no_lines")
        return cleaned

    def lines(self) -> list[tuple[str, int]]:
        """(SKU code, units) for every SKU with a quantity above zero."""
        data = getattr(self, "cleaned_data", {})
        return [(sku.code, data[f"q{sku.pk}"]) for sku in self.skus if data.get(f"q{sku.pk}")]


class CampaignChoice(forms.Form):
    """With campaigns running for the order, the one it takes part in (or none). A full campaign
    stays a choice: the service says it is full (a seat may have gone since the page was read)."""

    def __init__(self, *args, offers=(), **kwargs):
        super().__init__(*args, **kwargs)
        if offers:
            self.fields["campaign"] = forms.ChoiceField(
                label=_("Take part in a campaign"),
                required=False,
                widget=forms.RadioSelect,
                choices=[("", _("No campaign")), *[(o.campaign.code, o.campaign.name) for o in offers]],
            )


class RestockForm(CampaignChoice, QuantitiesForm):
    """A restock or entry order."""


class UpgradeForm(CampaignChoice, QuantitiesForm):
    """An upgrade order: the level to reach, then quantities at that level's prices."""

    to = forms.ChoiceField(label=_("Upgrade to"))
    field_order = ["to"]

    def __init__(self, *args, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(level.code, level.name) for level in levels]


def _clean_phone_value(value: str) -> str:
    phone = normalize_phone(value)
    validate_phone(phone)
    return phone


class AddressMixin(forms.Form):
    name = forms.CharField(label=_("Recipient"), max_length=50)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    region = RegionField()
    address = forms.CharField(
        label=_("Street address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "street-address"})
    )

    def clean_phone(self):
        return _clean_phone_value(self.cleaned_data["phone"])


class ShopOrderForm(AddressMixin, QuantitiesForm):
    field_order = ["name", "phone", "region", "address"]
    # promotions: one of the customer's coupons (the shop lists those claimed in this browser)
    coupon = forms.CharField(
        label=_("Coupon code (optional)"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "my-coupons", "autocapitalize": "characters"}),
    )


class ScreenshotField(forms.ImageField):
    """A picture checked by ``core.files.validate_screenshot`` (size, pixels, type) before
    Django's own image check, so the reader gets its clear message (not "not a valid image")."""

    def to_python(self, data):
        if data not in self.empty_values:
            services.validate_screenshot(data)
        return super().to_python(data)


class TransferForm(forms.Form):
    screenshot = ScreenshotField(
        label=_("Transfer screenshot"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    reference = forms.CharField(label=_("Transfer reference (optional)"), max_length=64, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)


class ReasonForm(forms.Form):
    """A refusal: the service says so if the reason is left out."""

    note = forms.CharField(label=_("Reason"), max_length=300, required=False)


class FillForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier (optional)"), max_length=40, required=False)
    tracking_number = forms.CharField(label=_("Tracking number (optional)"), max_length=60, required=False)


class CodeScanner(forms.Textarea):
    """A box for codes, and a button that reads QR codes with the phone's camera where the
    browser can (static/web/scan.js: the BarcodeDetector API); typed or pasted codes work anywhere."""

    template_name = "web/widgets/code_scanner.html"

    def __init__(self, attrs=None):
        super().__init__({"rows": 5, "autocomplete": "off", "autocapitalize": "characters", **(attrs or {})})


class CodesForm(forms.Form):
    """The codes of what goes out (the codes app's scan step)."""

    codes = forms.CharField(
        label=_("Box or item codes (scan, type or paste; one per line)"), max_length=20000, widget=CodeScanner
    )


class ActionForm(forms.Form):
    """A button with nothing to fill in; its errors are the service's."""


class PickupForm(AddressMixin, forms.Form):
    sku = forms.ChoiceField(label=_("Product"))
    quantity = forms.IntegerField(
        label=_("Units"),
        min_value=1,
        max_value=MAX_UNITS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    field_order = ["sku", "quantity", "name", "phone", "region", "address"]

    def __init__(self, *args, holdings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku"].choices = [(level.sku.code, f"{level.sku.name} ({level.quantity})") for level in holdings]


class TopupForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    screenshot = ScreenshotField(
        label=_("Transfer screenshot"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    reference = forms.CharField(label=_("Transfer reference (optional)"), max_length=64, required=False)


class ReceivingAccountForm(forms.Form):
    """A way to be paid: WeChat or Alipay (a QR code), or a bank account. The service checks the
    rules (a QR code for WeChat and Alipay, bank and number for a bank account)."""

    kind = forms.ChoiceField(label=_("Kind"))
    holder = forms.CharField(label=_("Account holder"), max_length=50)
    account_number = forms.CharField(label=_("Account number or ID"), max_length=64, required=False)
    bank = forms.CharField(label=_("Bank and branch (bank accounts)"), max_length=100, required=False)
    qr_image = forms.ImageField(
        label=_("QR code (WeChat, Alipay)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        from weishang.trade.models import ReceivingKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ReceivingKind.choices


class ConfirmCancelForm(forms.Form):
    """The cancel confirmation: the reason is optional; only this form's POST cancels."""

    note = forms.CharField(label=_("Why (optional; the other side reads it)"), max_length=300, required=False)
    confirm = forms.BooleanField(
        widget=forms.HiddenInput,
        required=True,
        error_messages={"required": _("Confirm the cancellation on its confirmation page.")},
    )
