"""Where buyers pay: the agent's receiving accounts (/m/payment-methods/), their QR codes, and
transfer screenshots — images served only to who may see them (everyone else: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from weishang.core.errors import BusinessError
from weishang.core.files import image_response
from weishang.core.selectors import brand_get
from weishang.trade import selectors, services
from weishang.trade.models import Payment, ReceivingAccount
from weishang.web.agents import current_agent
from weishang.web.trade_forms import ReceivingAccountForm
from weishang.web.trade_views import show_error


def _mine(me, account_id: int) -> ReceivingAccount:
    account = ReceivingAccount.objects.filter(pk=account_id, agent=me).first()
    if account is None:
        raise Http404
    return account


def _save(request, me, account=None):
    initial = {f: getattr(account, f) for f in services.RECEIVING_FIELDS} if account else None
    form = ReceivingAccountForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method != "POST":
        return form, 200
    if not form.is_valid():
        return form, 400
    try:
        services.receiving_account_save(
            by=request.user,
            agent=me,
            data=form.cleaned_data,
            qr_image=form.cleaned_data.get("qr_image"),
            account=account,
        )
    except BusinessError as exc:
        return form, show_error(form, exc)
    return None, 302


@login_required
def payment_methods(request):
    """My receiving accounts, and a form to add one."""
    me = current_agent(request)
    form, status = _save(request, me)
    if form is None:
        messages.success(request, _("Receiving account added. Buyers see it when they pay you."))
        return redirect("web:payment_methods")
    return render(
        request,
        "web/payment_methods.html",
        {"brand": brand_get(), "me": me, "form": form, "accounts": selectors.receiving_accounts(agent=me)},
        status=status,
    )


@login_required
def payment_method_edit(request, account_id: int):
    me = current_agent(request)
    account = _mine(me, account_id)
    form, status = _save(request, me, account)
    if form is None:
        messages.success(request, _("Receiving account saved."))
        return redirect("web:payment_methods")
    return render(
        request,
        "web/payment_method_edit.html",
        {"brand": brand_get(), "me": me, "form": form, "account": account},
        status=status,
    )


@login_required
@require_POST
def payment_method_delete(request, account_id: int):
    me = current_agent(request)
    services.receiving_account_delete(by=request.user, account=_mine(me, account_id))
    messages.success(request, _("Receiving account removed."))
    return redirect("web:payment_methods")


def receiving_qr(request, account_id: int):
    """A receiving account's QR code: to its owner, brand finance, and buyers with an order to pay to it."""
    account = ReceivingAccount.objects.select_related("agent").filter(pk=account_id).first()
    if account is None or not selectors.may_see_receiving_account(user=request.user, account=account):
        raise Http404
    return image_response(account.qr_image)


def payment_screenshot(request, payment_id: int):
    """A transfer screenshot: to the payer, the receiver and brand finance only (404 to anyone else)."""
    payment = (
        Payment.objects.select_related("receiver", "topup_for", "order__buyer", "order__seller")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None or not selectors.may_see_payment_screenshot(user=request.user, payment=payment):
        raise Http404
    return image_response(payment.screenshot)


@login_required
def notice_open(request, notice_id: int):
    """A notice from the 待我处理 list: marked seen, its text shown, then the order (if the agent
    still sees it: a seller whose order the company took over no longer does)."""
    me = current_agent(request)
    notice = me.order_notices.select_related("order").filter(pk=notice_id).first()
    if notice is None:
        raise Http404
    services.order_notices_seen(agent=me, order=notice.order)
    messages.info(request, notice.text)
    order = notice.order
    if order.buyer_id == me.pk:
        return redirect("web:my_order", order.number)
    if order.seller_id == me.pk:
        return redirect("web:fill_order", order.number)
    return redirect("web:home")
