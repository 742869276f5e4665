"""Certificates on the phone and in public: an agent's own certificate (/m/certificate/, its PNG and
PDF, their WeChat id), and the public lookup /verify/ — a certificate by number, phone or WeChat id,
and a product's security code — rate-limited per address."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from weishang.academy import services as academy_services
from weishang.certificates import selectors, services
from weishang.certificates.models import Certificate
from weishang.channel import services as channel_services
from weishang.core import checkchars
from weishang.core.errors import BusinessError
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get
from weishang.web.agents import current_agent
from weishang.web.codes_views import code_section


class WechatForm(forms.Form):
    wechat_id = forms.CharField(label=gettext_lazy("My WeChat id (微信号)"), max_length=40, required=False)


class LookupForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Certificate number, mobile number or WeChat id"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )


def verify_url(request, query: str = "") -> str:
    url = request.build_absolute_uri(reverse("web:verify"))
    return f"{url}?q={query}" if query else url


def _mine(request) -> tuple[object, Certificate | None]:
    agent = current_agent(request)
    return agent, services.certificate_reconcile(agent=agent)


@login_required
def my_certificate(request):
    """The agent's certificate in force (or why there is none) and their past ones."""
    agent, certificate = _mine(request)
    return render(
        request,
        "web/certificate.html",
        {
            "brand": brand_get(),
            "me": agent,
            "certificate": certificate,
            "history": selectors.history_of(agent)[:20],
            "wechat_form": WechatForm(initial={"wechat_id": agent.wechat_id}),
            "verify_link": verify_url(request, certificate.serial) if certificate else "",
        },
    )


def _file(request, kind: str) -> HttpResponse:
    _agent, certificate = _mine(request)
    if certificate is None:
        raise Http404
    url = verify_url(request, certificate.serial)
    if kind == "png":
        response = HttpResponse(selectors.certificate_png(certificate, verify_url=url), content_type="image/png")
    else:
        response = HttpResponse(selectors.certificate_pdf(certificate, verify_url=url), content_type="application/pdf")
    disposition = "inline" if kind == "png" and "download" not in request.GET else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="certificate-{certificate.serial}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def my_certificate_png(request):
    return _file(request, "png")


@login_required
def my_certificate_pdf(request):
    return _file(request, "pdf")


@login_required
@require_POST
def my_wechat_id(request):
    agent = current_agent(request)
    form = WechatForm(request.POST)
    if form.is_valid():
        try:
            channel_services.agent_set_wechat_id(agent=agent, wechat_id=form.cleaned_data["wechat_id"], by=request.user)
        except BusinessError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Saved: customers can now check you by your WeChat id."))
    else:
        messages.error(request, _("A WeChat id is 6 to 20 letters, digits, _ or -, starting with a letter."))
    return redirect("web:my_certificate")


def verify(request):
    """The public lookup (no login): an agent's authorization, and a product's security code. The
    seller form posts, so that a phone number or WeChat id typed in stays out of addresses and
    server logs; a certificate's QR code opens ``?q=<its number>``."""
    if (request.GET or request.method == "POST") and not allow(request, "public"):
        response = render(request, "web/verify.html", {"brand": brand_get(), "limited": True}, status=429)
        response["Retry-After"] = "60"
        return response
    data = request.POST if request.method == "POST" else (request.GET if "q" in request.GET else None)
    course_serial = checkchars.normalise((data or {}).get("q", "") or "")[:40]
    if academy_services.is_serial(course_serial):  # a course certificate's number: its own check
        return redirect(reverse("web:verify_course") + "?" + urlencode({"q": course_serial}))
    lookup_form = LookupForm(data)
    answer, status = None, 200
    if data is not None:
        if lookup_form.is_valid():
            try:
                answer = services.certificate_lookup(lookup_form.cleaned_data["q"])
            except BusinessError as exc:
                lookup_form.add_error("q", str(exc.message))
                status = 400
        else:
            status = 400
    codes, code_status = code_section(request)
    return render(
        request,
        "web/verify.html",
        {"brand": brand_get(), "lookup_form": lookup_form, "answer": answer, **codes},
        status=max(status, code_status),
    )
