"""The car buyer's loan quote (汽车金融, M15): a page opened from a secret link, no login, showing
each quoted loan in Chinese with every fee, the total cost and the APR with the fees, before they
sign; there they consent to a named lender's submission (recorded with its time and the channel
"link"). A wrong token is a 404; consents are rate-limited by address."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from weishang.autofinance import services
from weishang.autofinance.models import FinanceQuote
from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get


def finance_quote(request, token: str):
    quote = (
        FinanceQuote.objects.filter(token=token[:64])
        .select_related("sale__customer", "sale__car")
        .prefetch_related("lines")
        .first()
    )
    if quote is None:
        raise Http404
    status = 200
    if request.method == "POST":
        if not allow(request, "public"):
            status = 429
            messages.error(request, _("Too many tries; wait a minute and try again."))
        else:
            try:
                line, consent = services.quote_consent(token=token, line_id=request.POST.get("line", ""))
            except BusinessError as exc:
                status = 400
                messages.error(request, str(exc.message))
            else:
                messages.success(
                    request,
                    _("Thank you: you consented to your application going to %(lender)s.")
                    % {"lender": line.lender_name},
                )
                return redirect("web:finance_quote", token=token)
    consented = set(quote.sale.consents.values_list("lender_id", flat=True))
    lines = list(quote.lines.select_related("product"))
    for line in lines:
        line.consented = line.product.lender_id in consented
        line.periods = line.schedule.get("periods", [])
    response = render(
        request,
        "web/autofinance/quote.html",
        {"brand": brand_get(), "quote": quote, "sale": quote.sale, "lines": lines},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = (
        "same-origin"  # the token never leaves the site; "no-referrer" would make the consent POST's Origin null
    )
    return response
