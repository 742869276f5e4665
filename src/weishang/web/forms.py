from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from weishang.channel.models import Level
from weishang.core.lockout import LockoutAwareLoginMixin


class PhoneLoginForm(LockoutAwareLoginMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("Phone or username"), max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}),
    )


class ApplicationForm(forms.Form):
    real_name = forms.CharField(label=_("Real name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    id_number = forms.CharField(label=_("ID number (optional)"), max_length=18, required=False)
    level = forms.ModelChoiceField(label=_("Level"), queryset=Level.objects.order_by("rank"), to_field_name="code",
                                   empty_label=None)
    password = forms.CharField(label=_("Password (8+ characters)"), widget=forms.PasswordInput, min_length=8,
                               max_length=128)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ForgotPasswordForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "autofocus": True}))


class ResetPasswordForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    code = forms.CharField(label=_("Code from the text message"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    new_password1 = forms.CharField(label=_("New password (8+ characters)"), max_length=128,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("New password again"), max_length=128,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Old password"), max_length=128, strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                                     "autofocus": True}))
    new_password1 = forms.CharField(label=_("New password (8+ characters)"), max_length=128, strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("New password again"), max_length=128, strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data
