"""Online payment (WeChat Pay) from the agent's order page and the consumer's shop order page,
and the development cashier that stands in for WeChat's when only the fake provider is set up.

Outside WeChat the H5 cashier opens (``h5_url``, with ``redirect_url`` back to the order); inside
WeChat's browser a signed-in agent whose WeChat is bound pays by JSAPI (WeChat's pay sheet on the
page, with their openid), and so does a shop's consumer, whose openid WeChat gave silently when
they opened their order (snsapi_base, bound to no account); anyone else inside WeChat gets the
Native QR code to long-press. The order
is paid when the provider's notify callback arrives, never on return.
"""

from __future__ import annotations

from urllib.parse import urlencode

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from qrcode.image.svg import SvgPathImage

from weishang.channel import selectors as channel_selectors
from weishang.core.errors import BusinessError
from weishang.core.http import client_ip
from weishang.core.selectors import brand_get
from weishang.trade import selectors, services
from weishang.trade.models import Order
from weishang.trade.providers.base import InvalidNotification, get_provider, online_provider_name
from weishang.trade.providers.fake import FakeProvider
from weishang.web import wechat_views
from weishang.web.agents import current_agent
from weishang.web.shop_views import shop_order_url
from weishang.web.trade_views import buyer_order
from weishang.wechat.models import AppKind, WechatIdentity


def _in_wechat(request) -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def _payer_openid(request, *, consumer: bool = False) -> str | None:
    """Inside WeChat, the 公众号 openid JSAPI pays in place with: the signed-in person's bound one,
    or, for a shop's consumer, the one WeChat gave this session (``wechat_views.PAYER_OPENID``)."""
    if not _in_wechat(request):
        return None
    if consumer:
        return request.session.get(wechat_views.PAYER_OPENID) or None
    if not request.user.is_authenticated:
        return None
    return WechatIdentity.objects.filter(user=request.user, kind=AppKind.MP).values_list("openid", flat=True).first()


def _start(request, order: Order, *, back: str, consumer: bool = False):
    """Open the payment: inside WeChat with the payer's openid, JSAPI (WeChat's own pay sheet on the
    page); elsewhere inside WeChat the QR code to long-press; outside WeChat the H5 cashier."""
    openid = _payer_openid(request, consumer=consumer)
    channel = "jsapi" if openid else ("native" if _in_wechat(request) else "h5")
    try:
        intent = services.payment_online_start(
            order=order, channel=channel, client_ip=client_ip(request), payer_openid=openid
        )
    except BusinessError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    if intent.prepay_id:
        provider = get_provider(intent.provider)
        params = provider.jsapi_params(intent.prepay_id)  # type: ignore[attr-defined]
        cashier = None
        if intent.provider == "fake":  # development: the cashier stands in for WeChat's pay sheet
            query = {"t": FakeProvider.cashier_token(order.number), "redirect_url": request.build_absolute_uri(back)}
            cashier = f"/pay/fake/{order.number}/?{urlencode(query)}"
        return render(
            request,
            "web/pay_jsapi.html",
            {"brand": brand_get(), "order": order, "params": params, "back": back, "cashier": cashier},
        )
    if intent.h5_url:
        sep = "&" if "?" in intent.h5_url else "?"
        query = urlencode({"redirect_url": request.build_absolute_uri(back)})
        return HttpResponseRedirect(f"{intent.h5_url}{sep}{query}")
    qr = qrcode.make(intent.code_url, image_factory=SvgPathImage, box_size=8, border=2).to_string(encoding="unicode")
    return render(request, "web/pay_qr.html", {"brand": brand_get(), "order": order, "qr_svg": qr, "back": back})


@login_required
@require_POST
def my_order_pay_online(request, number: str):
    order = buyer_order(current_agent(request), number)
    return _start(request, order, back=reverse("web:my_order", args=[order.number]))


@require_POST
def shop_order_pay_online(request, code: str, number: str):
    seller = channel_selectors.agent_by_invite_code(code)
    phone = request.GET.get("phone", "")
    order = selectors.retail_order_for(seller=seller, number=number, phone=phone) if seller else None
    if order is None:
        raise Http404
    return _start(request, order, back=shop_order_url(code, number, phone), consumer=True)


def _may_use_cashier(request, order: Order) -> bool:
    """The buyer in their own session, or whoever holds the link the pay button gave out (it
    carries the order's secret: the consumer of a shop order, the agent's app)."""
    if FakeProvider.check_cashier_token(order.number, request.GET.get("t")):
        return True
    user = request.user
    return bool(user.is_authenticated and order.buyer_id is not None and order.buyer.user_id == user.pk)


def fake_cashier(request, number: str):
    """Development only: WeChat's cashier, simulated. Paying sends the same signed notify callback
    the real provider would, through the same verification and crediting code. It pays without
    money, so it answers only the buyer or the holder of the order's secret link: anyone else
    gets 404 (as for an order that does not exist) and pays nothing."""
    if online_provider_name() != "fake":
        raise Http404
    order = Order.objects.select_related("buyer").filter(number=number).first()
    if order is None or not _may_use_cashier(request, order):
        raise Http404
    back = request.GET.get("redirect_url", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    if request.method == "POST":
        body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
        try:
            notice = get_provider("fake").parse_notification(headers, body)
            services.payment_credit_from_provider(notice=notice)
        except (BusinessError, InvalidNotification) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("Paid ¥%(total)s with WeChat Pay.") % {"total": order.total})
        return HttpResponseRedirect(back)
    return render(request, "web/pay_fake_cashier.html", {"brand": brand_get(), "order": order, "back": back})
