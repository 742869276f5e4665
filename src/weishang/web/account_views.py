"""My account on the phone: change my password, see my logged-in devices and sign them out.
Thin: forms in, services out. Any logged-in user manages only their own account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from weishang.core import devices as account_devices
from weishang.core.errors import BusinessError
from weishang.core.passwords import password_change
from weishang.core.selectors import brand_get
from weishang.web.forms import ChangePasswordForm


@login_required
def change_password(request):
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            password_change(user=request.user, old_password=data["old_password"], new_password=data["new_password1"])
        except BusinessError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            update_session_auth_hash(request, request.user)  # this phone stays logged in; the others do not
            messages.success(request, _("Your password has been changed. Your other devices are logged out."))
            return redirect("web:devices")
    status = 400 if request.method == "POST" else 200
    return render(request, "web/password_change.html", {"brand": brand_get(), "form": form}, status=status)


@login_required
def devices(request):
    tokens = list(account_devices.live(user=request.user)[:100])
    return render(
        request,
        "web/devices.html",
        {"brand": brand_get(), "tokens": tokens, "idle_days": account_devices.idle_limit().days},
    )


@login_required
@require_POST
def device_sign_out(request, token_id: int):
    token = get_object_or_404(account_devices.live(user=request.user), pk=token_id)
    account_devices.sign_out(token=token, by=request.user)
    messages.success(request, _("%(device)s is logged out.") % {"device": token.device or token.prefix})
    return redirect("web:devices")


@login_required
@require_POST
def devices_sign_out_all(request):
    n = account_devices.sign_out_all(user=request.user)
    messages.success(request, ngettext("%(n)d device logged out.", "%(n)d devices logged out.", n) % {"n": n})
    return redirect("web:devices")
