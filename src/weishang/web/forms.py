from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Level
from weishang.core.lockout import LockoutAwareLoginMixin
from weishang.core.password_validators import password_problems
from weishang.core.validators import normalize_phone, to_ascii, validate_id_number, validate_phone
from weishang.web.regions import RegionField


class PhoneLoginForm(LockoutAwareLoginMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("Phone or username"),
        max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}),
    )


def _too_long():
    return _("At most %(limit_value)d characters.")


class ApplicationForm(forms.Form):
    """The join form. Every field is checked at once, in our own words (no Django stock wording),
    so the page can list every problem together; ``channel.services.application_submit`` checks
    again and stays the authority."""

    real_name = forms.CharField(
        label=_("Real name"),
        max_length=50,
        error_messages={"required": _("Enter your real name."), "max_length": _too_long()},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("Enter your mobile number."), "max_length": _too_long()},
    )
    id_number = forms.CharField(
        label=_("ID number (optional)"), max_length=24, required=False, error_messages={"max_length": _too_long()}
    )
    level = forms.ModelChoiceField(
        label=_("Level"),
        queryset=Level.objects.order_by("-rank"),
        to_field_name="code",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a level."), "invalid_choice": _("Choose a level.")},
    )
    region = RegionField(finest=False, required=False, label=_("Where you will sell (province / city, optional)"))
    password = forms.CharField(
        label=_("Password (8+ characters)"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choose a password."), "max_length": _too_long()},
    )

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_phone(phone)
        taken = channel_selectors.phone_unavailable(phone)
        if taken:
            raise forms.ValidationError(taken, code="phone_taken")
        return phone

    def clean_id_number(self) -> str:
        id_number = to_ascii(self.cleaned_data["id_number"]).strip().upper()
        if id_number:
            validate_id_number(id_number)
        return id_number

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        problems = password_problems(password)
        if problems:
            raise forms.ValidationError(problems)
        return password

    def error_summary(self) -> list[tuple[str, str]]:
        """Every problem on the form, in the order of the fields: (the field's id or "", message)."""
        out = [("", str(e)) for e in self.non_field_errors()]
        for field in self:
            anchor = "level-choice" if field.name == "level" else field.id_for_label or ""
            out += [(anchor, _("%(field)s: %(error)s") % {"field": field.label, "error": e}) for e in field.errors]
        return out


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ForgotPasswordForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "autofocus": True}),
    )


class ResetPasswordForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    new_password1 = forms.CharField(
        label=_("New password (8+ characters)"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(
        label=_("Old password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("New password (8+ characters)"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data


class WechatBindForm(forms.Form):
    """The account a WeChat is bound to, proved by its phone (or username) and password."""

    phone = forms.CharField(
        label=_("Phone or username"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class WechatBindCodeForm(forms.Form):
    """The account a WeChat is bound to, proved by a code texted to its phone: the phone first
    (``send``), then the code."""

    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        min_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
