"""Forgot password: a code by text message, then a new password. Thin: forms in, services out."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.core.http import client_ip
from weishang.core.passwords import password_reset_confirm, password_reset_request
from weishang.core.selectors import brand_get
from weishang.core.validators import normalize_phone
from weishang.web.forms import ForgotPasswordForm, ResetPasswordForm


def _form_error(form, exc: BusinessError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


def password_forgot(request):
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_request(phone=form.cleaned_data["phone"], client_ip=client_ip(request))
        except BusinessError as exc:
            _form_error(form, exc)
        else:
            messages.info(
                request,
                _("If this number has an account, a code is on its way by text message. It is valid for 10 minutes."),
            )
            phone = normalize_phone(form.cleaned_data["phone"])
            return redirect(f"{reverse('web:password_reset')}?{urlencode({'phone': phone})}")
    status = 400 if request.method == "POST" else 200
    return render(request, "web/password_forgot.html", {"brand": brand_get(), "form": form}, status=status)


def password_reset(request):
    if request.method == "POST":
        form = ResetPasswordForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                password_reset_confirm(phone=data["phone"], code=data["code"], new_password=data["new_password1"])
            except BusinessError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Your password has been changed. Log in with the new one."))
                return redirect("web:login")
        status = 400
    else:
        form = ResetPasswordForm(initial={"phone": request.GET.get("phone", "")[:20]})
        status = 200
    return render(request, "web/password_reset.html", {"brand": brand_get(), "form": form}, status=status)
