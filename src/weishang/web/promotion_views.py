"""Promotions in the shop (/s/<invite code>/): the coupons a customer can claim there (with their
phone number; the codes claimed are kept in this browser's session so the order form offers them),
and the flash sales running or about to start, with the units left and a countdown."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.promotions import selectors, services
from weishang.promotions.models import Coupon

SESSION_KEY = "promotions_coupons"


class ClaimForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def session_coupons(request) -> list[Coupon]:
    """The coupons claimed in this browser that can still be used."""
    codes = [str(c) for c in request.session.get(SESSION_KEY, [])][:20]
    return selectors.coupons_by_code(codes=codes) if codes else []


def shop_context(request, *, seller: Agent, coupons: list[Coupon], skus) -> dict:
    """What the shop page shows of promotions; each SKU gets ``flash_sale`` (running or starting
    within a day, or None) for its price."""
    now = clock.now()
    sales = list(selectors.flash_sales_live(now=now))
    by_sku = {}
    for sale in sales:
        by_sku.setdefault(sale.sku_id, sale)
    for sku in skus:
        sku.flash_sale = by_sku.get(sku.pk)
    return {
        "offers": list(selectors.offers_claimable(seller=seller, now=now)),
        "my_coupons": [c for c in coupons if c.offer.agent_id in (None, seller.pk)],
        "flash_sales": sales,
        "claim_form": ClaimForm(auto_id=False),
        "now": now,
    }


@require_POST
def coupon_claim(request, code: str, offer: int):
    """Claim one coupon with a phone number; its code is kept for this browser's order form."""
    seller = channel_selectors.agent_by_invite_code(code)
    shop_url = reverse("web:shop", args=[code])
    if seller is None or seller.status != AgentStatus.ACTIVE:
        messages.error(request, _("This shop is closed."))
        return redirect(shop_url)
    if not allow(request):
        messages.error(request, _("Too many requests; try again in a minute."))
        return redirect(shop_url + "#coupons")
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid mobile phone number."))
        return redirect(shop_url + "#coupons")
    try:
        coupon = services.coupon_claim(offer=offer, phone=form.cleaned_data["phone"], seller=seller)
    except BusinessError as exc:
        messages.error(request, str(exc.message))
        return redirect(shop_url + "#coupons")
    request.session[SESSION_KEY] = [coupon.code, *request.session.get(SESSION_KEY, [])][:20]
    messages.success(
        request,
        _("Coupon claimed: %(name)s, code %(code)s. It is filled in on the order form below.")
        % {"name": coupon.offer.name, "code": coupon.code},
    )
    return redirect(shop_url + "#order")
