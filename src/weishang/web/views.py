"""The agent's phone pages (/m/) and the public join page. Thin: forms in, services out."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import qrcode
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from qrcode.image.svg import SvgPathImage

from weishang.channel import selectors, services
from weishang.channel.models import Agent, AgentStatus, Application
from weishang.channel.tree import Relation, is_in_team
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.core.lockout import is_locked_out
from weishang.core.selectors import brand_get
from weishang.leads.selectors import reminders_due
from weishang.rewards.selectors import join_terms, reward_summary
from weishang.trade import selectors as trade_selectors
from weishang.trade.selectors import team_purchase_volume
from weishang.web import wechat_views
from weishang.web.forms import ApplicationForm, DecisionForm, PhoneLoginForm
from weishang.web.growth_views import is_htmx

TEAM_PAGE_SIZE = 50


class PhoneLoginView(LoginView):
    """Phone (or username) and password; with WeChat on, a WeChat sign-in button, and inside
    WeChat's browser the page goes to WeChat's sign-in by itself (``?manual=1`` stays here)."""

    template_name = "web/login.html"
    authentication_form = PhoneLoginForm
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        if wechat_views.enabled() and wechat_views.in_wechat(request) and request.GET.get("manual") != "1":
            if not request.user.is_authenticated:
                target = reverse("web:wechat_start")
                next_url = request.GET.get("next")
                return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "brand": brand_get(),
            "locked_out": is_locked_out(self.request),
            "wechat": wechat_views.enabled(),
        }


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")


def _agent_or_none(request) -> Agent | None:
    return selectors.agent_for_user(request.user)


@login_required
def home(request):
    agent = _agent_or_none(request)
    if agent is None:
        if request.user.is_staff:
            return redirect("admin:index")
        return render(request, "web/no_agent.html", {"brand": brand_get()}, status=403)
    month_start = clock.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    now = clock.now()
    applications = selectors.applications_to_decide(agent=agent).count()
    # What waits for the agent (trade.workflow's waits): as seller, then their applications, then
    # as buyer; each line opens the list it is on.
    selling = [(count, text, reverse("web:fill")) for _n, count, text in trade_selectors.seller_todo(agent=agent)]
    buying = [(count, text, reverse("web:my_orders")) for _n, count, text in trade_selectors.buyer_todo(agent=agent)]
    waiting = [
        (count, text, url)
        for count, text, url in (
            *selling,
            (applications, _("Applications to approve"), reverse("web:applications")),
            (reminders_due(agent=agent).count(), _("Leads to follow up"), reverse("web:leads")),
            *buying,
        )
        if count
    ]
    # Orders that changed under the agent (cancelled and refunded, taken over by the company):
    # each stays here until they open it.
    waiting += [
        (None, notice.text, reverse("web:notice", args=[notice.pk]))
        for notice in trade_selectors.unseen_notices(agent=agent)[:20]
    ]
    context = {
        "brand": brand_get(),
        "agent": agent,
        "waiting": waiting,
        "personal_month": trade_selectors.personal_purchase_volume(agent=agent, start=month_start, end=now),
        # The whole month (nothing completes after now): read from the monthly rollup.
        "team_volume_month": team_purchase_volume(
            agent=agent, start=month_start, end=(month_start + timedelta(days=32)).replace(day=1)
        ),
        "team_size": selectors.team_size(agent=agent),
        "direct_count": agent.referred_agents.count(),
        "stock": trade_selectors.stock_holdings(agent=agent),
        "rewards": reward_summary(agent=agent),
        "invite_url": request.build_absolute_uri(reverse("web:join", args=[agent.invite_code])),
        "shop_url": request.build_absolute_uri(reverse("web:shop", args=[agent.invite_code])),
        "wallet_balance": trade_selectors.wallet_balance(agent=agent),
    }
    return render(request, "web/home.html", context)


@login_required
def me(request):
    """我的: who I am (name, level, phone masked), the language, my account's settings, my shop,
    customers, invite poster, stock, wallet and upgrade progress, and signing out."""
    agent = _agent_or_none(request)
    if agent is None:
        raise Http404
    return render(
        request,
        "web/me.html",
        {
            "brand": brand_get(),
            "me": agent,
            "active": agent.status == AgentStatus.ACTIVE,
            "shop_url": request.build_absolute_uri(reverse("web:shop", args=[agent.invite_code])),
            "wechat_on": wechat_views.enabled(),
            "wechat": request.user.wechat_identities.filter(kind="mp").first(),
        },
    )


def _join_card(request, inviter) -> dict:
    brand = brand_get()
    if inviter is not None:
        title = _("%(name)s invites you to join %(brand)s") % {"name": inviter.real_name, "brand": brand.name}
    else:
        title = _("Join %(brand)s") % {"brand": brand.name}
    return wechat_views.share_context(
        request, title=title, desc=_("See the levels, prices and terms, and apply in a minute.")
    )


@login_required
def invite_qr(request):
    """The agent's invite link as a QR code (SVG), to show or save and send in WeChat."""
    agent = _agent_or_none(request)
    if agent is None or agent.status != AgentStatus.ACTIVE:
        raise Http404
    url = request.build_absolute_uri(reverse("web:join", args=[agent.invite_code]))
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, border=2)
    response = HttpResponse(image.to_string(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def team(request, agent_id: int | None = None):
    """My team: direct referrals or the whole team (``?show=all``), by level (``?level=``), searched
    by name or phone digits (``?q=``); an htmx request gets the list alone."""
    me = _agent_or_none(request)
    if me is None:
        raise Http404
    leader = me
    if agent_id is not None and agent_id != me.pk:
        # An agent sees only their own team: anyone else is "not found", not "forbidden".
        if not is_in_team(Relation.REFERRER, member_id=agent_id, leader_id=me.pk):
            raise Http404
        leader = get_object_or_404(Agent.objects.select_related("level"), pk=agent_id)
    whole = request.GET.get("show") == "all"
    level = selectors.search_text(request.GET.get("level"))[:32]
    search = selectors.search_text(request.GET.get("q"))
    page_text = request.GET.get("page", "1")
    page = int(page_text) if page_text.isascii() and page_text.isdigit() and 0 < len(page_text) < 7 else 1
    page = max(page, 1)
    members = selectors.team_list(agent=leader, whole=whole, level=level, search=search)
    start = (page - 1) * TEAM_PAGE_SIZE
    rows = list(members[start : start + TEAM_PAGE_SIZE + 1])
    month_start = clock.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    shown = trade_selectors.with_purchases(
        selectors.with_team_sizes(rows[:TEAM_PAGE_SIZE]), start=month_start, end=clock.now()
    )
    context = {
        "brand": brand_get(),
        "me": me,
        "leader": leader,
        "chain": _chain_between(me, leader),
        "team_size": selectors.team_size(agent=leader),
        "level_counts": selectors.team_level_counts(agent=leader, whole=whole),
        "whole": whole,
        "level": level,
        "q": search,
        "filtered": bool(level or search),
        "members": shown,
        "page": page,
        "has_next": len(rows) > TEAM_PAGE_SIZE,
    }
    template = "web/_team_list.html" if is_htmx(request) else "web/team.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _chain_between(me: Agent, leader: Agent) -> list[Agent]:
    """The agents between me and a member of my team, nearest to the member first."""
    chain = []
    for agent in selectors.chain_above(agent=leader):
        if agent.pk == me.pk:
            break
        chain.append(agent)
    return chain


@login_required
def applications(request):
    me = _agent_or_none(request)
    if me is None:
        raise Http404
    return render(
        request,
        "web/applications.html",
        {
            "brand": brand_get(),
            "me": me,
            "applications": selectors.applications_to_decide(agent=me),
            "form": DecisionForm(),
        },
    )


@login_required
def application_decide(request, application_id: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    application = get_object_or_404(Application, pk=application_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("web:applications")
    try:
        if form.cleaned_data["decision"] == "approve":
            agent = services.application_approve(
                application=application, by=request.user, note=form.cleaned_data["note"]
            )
            messages.success(
                request, _("%(name)s has joined as %(level)s.") % {"name": agent.real_name, "level": agent.level.name}
            )
        else:
            services.application_reject(application=application, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("The application was rejected."))
    except BusinessError as exc:
        messages.error(request, exc.message)
    return redirect("web:applications")


def join(request, code: str | None = None):
    """The join form: each level with what it costs and asks (the plan in force where there is
    one), the level the invite link names (``?level=<code>``) or else the lowest chosen, and every
    problem of a submitted form listed at once above it."""
    inviter = None
    if code is not None:
        inviter = selectors.agent_by_invite_code(code)
        if inviter is None:
            return render(request, "web/join_invalid.html", {"brand": brand_get(), "code": code}, status=404)
        if inviter.status != AgentStatus.ACTIVE:
            return render(
                request, "web/join_invalid.html", {"brand": brand_get(), "code": code, "inactive": True}, status=410
            )
    terms = join_terms()
    named = next((t.level for t in terms if t.level.code == request.GET.get("level")), None)
    default = named or (terms[0].level if terms else None)
    form = ApplicationForm(request.POST or None, initial={"level": default.code if default else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.application_submit(
                invite_code=code,
                phone=data["phone"],
                real_name=data["real_name"],
                level_code=data["level"].code,
                password=data["password"],
                id_number=data["id_number"],
                region=data["region"],
                source=request.GET.get("src", ""),
            )
        except BusinessError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            return render(request, "web/join_done.html", {"brand": brand_get(), "application": application})
    status = 400 if request.method == "POST" else 200
    chosen = form["level"].value()
    return render(
        request,
        "web/join.html",
        {
            "brand": brand_get(),
            **_join_card(request, inviter),
            "inviter": inviter,
            "form": form,
            "terms": terms,
            "named": named,
            "chosen": str(getattr(chosen, "code", chosen) or ""),
        },
        status=status,
    )
