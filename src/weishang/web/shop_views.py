"""An agent's public shop (/s/<invite code>/): consumers order at retail price without logging
in, then upload the transfer screenshot on the order's page, found with their phone number."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from weishang.catalog import selectors as catalog_selectors
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus
from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.promotions import services as promotion_services
from weishang.trade import selectors, services
from weishang.trade.providers.base import online_provider_name
from weishang.web import promotion_views, wechat_views
from weishang.web.trade_forms import ShopOrderForm, TransferForm
from weishang.web.trade_views import show_error


def shop_order_url(code: str, number: str, phone: str) -> str:
    return reverse("web:shop_order", args=[code, number]) + "?" + urlencode({"phone": phone})


def _closed(request, code: str, *, inactive: bool):
    return render(
        request,
        "web/shop_closed.html",
        {"brand": brand_get(), "code": code, "inactive": inactive},
        status=410 if inactive else 404,
    )


def shop(request, code: str):
    seller = channel_selectors.agent_by_invite_code(code)
    if seller is None or seller.status != AgentStatus.ACTIVE:
        return _closed(request, code, inactive=seller is not None)
    skus = catalog_selectors.with_thumbnails(selectors.skus_on_sale())
    form = ShopOrderForm(request.POST or None, skus=skus)
    my_coupons = promotion_views.session_coupons(request)
    if not form.is_bound and my_coupons:
        form.initial["coupon"] = my_coupons[0].code
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = promotion_services.shop_order_place(
                    seller=seller,
                    name=data["name"],
                    phone=data["phone"],
                    region=data["region"],
                    address=data["address"],
                    lines=form.lines(),
                    idempotency_key=data["token"],
                    coupon_code=data.get("coupon", ""),
                )
            except BusinessError as exc:
                status = show_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Order %(number)s placed. Transfer ¥%(total)s and upload the screenshot below.")
                    % {"number": order.number, "total": order.total},
                )
                return redirect(shop_order_url(seller.invite_code, order.number, data["phone"]))
    return render(
        request,
        "web/shop.html",
        {
            "brand": brand_get(),
            "seller": seller,
            "form": form,
            "rows": [(sku, form.quantity_field(sku)) for sku in skus],
            "address_fields": ("name", "phone", "region", "address"),
            **promotion_views.shop_context(request, seller=seller, coupons=my_coupons, skus=skus),
            **wechat_views.share_context(
                request,
                title=_("%(name)s's shop · %(brand)s") % {"name": seller.real_name, "brand": brand_get().name},
                desc=_("Genuine products from an authorized seller; order here and pay by WeChat."),
            ),
        },
        status=status,
    )


def _shop_order(seller: Agent | None, number: str, phone: str):
    order = selectors.retail_order_for(seller=seller, number=number, phone=phone) if seller else None
    if order is None:
        raise Http404
    return order


def shop_order(request, code: str, number: str):
    """The consumer's order page: status, and the transfer screenshot upload while it is unpaid.
    Without the phone number the order was placed with, there is no such order."""
    seller = channel_selectors.agent_by_invite_code(code)
    phone = request.GET.get("phone", "")
    order = _shop_order(seller, number, phone)
    unpaid = "pay_transfer" in selectors.buyer_actions(order)
    if request.method == "GET" and unpaid and online_provider_name() and wechat_views.payer_openid_needed(request):
        return redirect(wechat_views.payer_openid_url(request))  # WeChat says who pays, silently, once
    form = TransferForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.retail_payment_submit(
                    order=order,
                    phone=phone,
                    screenshot=form.cleaned_data["screenshot"],
                    reference=form.cleaned_data["reference"],
                )
            except BusinessError as exc:
                status = show_error(form, exc)
                order = _shop_order(seller, number, phone)
            else:
                messages.success(
                    request,
                    _("Screenshot received. %(name)s will confirm the transfer and ship your order.")
                    % {"name": seller.real_name},
                )
                return redirect(shop_order_url(code, number, phone))
    return render(
        request,
        "web/shop_order.html",
        {
            "brand": brand_get(),
            "seller": seller,
            "order": order,
            "form": form,
            "lines": order.lines.all(),
            "payments": order.payments.all(),
            "can_pay": "pay_transfer" in selectors.buyer_actions(order),
            "online_pay": online_provider_name() is not None,
            "pay_by": selectors.retail_pay_by(order=order) if not order.has_pending_payment else None,
        },
        status=status,
    )
