"""The agent's growth pages (/m/): upgrade progress, the invite poster, my customers and my shop
link. Thin: selectors read, templates show."""

from __future__ import annotations

import qrcode
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag, urlencode
from django.utils.translation import gettext as _
from qrcode.image.svg import SvgPathImage

from weishang.catalog import selectors as catalog_selectors
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus
from weishang.core.files import image_response
from weishang.core.selectors import brand_get
from weishang.rewards.selectors import upgrade_progress_of
from weishang.toolkit import selectors as toolkit
from weishang.toolkit.models import PosterTarget
from weishang.trade import selectors as trade_selectors
from weishang.web import poster
from weishang.web.agents import current_agent

CUSTOMERS_PAGE_SIZE = 30
POSTER_SECONDS = 3600  # browsers keep the poster an hour, then revalidate with its ETag


def _active_me(request) -> Agent:
    """Only an active agent invites and sells: anyone else has no poster, QR or shop link."""
    agent = current_agent(request)
    if agent.status != AgentStatus.ACTIVE:
        raise Http404
    return agent


def _page(request) -> int:
    text = request.GET.get("page", "1")
    return max(int(text), 1) if text.isascii() and text.isdigit() and 0 < len(text) < 7 else 1


def is_htmx(request) -> bool:
    """An htmx request for a fragment (not a history restore, which needs the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


# --- upgrade progress -------------------------------------------------------------------------


@login_required
def upgrade_progress(request):
    me = current_agent(request)
    page = upgrade_progress_of(agent=me)
    progress = page.progress
    return render(
        request,
        "web/progress.html",
        {
            "brand": brand_get(),
            "me": me,
            "page": page,
            "progress": progress,
            "next_name": page.name(progress.next_level) if progress and progress.next_level else "",
            "next_rules": [(rule, page.name(rule.to_level)) for rule in progress.next_rules] if progress else [],
            "later_rules": [(rule, page.name(rule.to_level)) for rule in progress.later_rules] if progress else [],
        },
    )


# --- invite poster ----------------------------------------------------------------------------


def _poster_text(request, agent: Agent) -> poster.PosterText:
    url = request.build_absolute_uri(reverse("web:join", args=[agent.invite_code]))
    return poster.PosterText(
        brand=brand_get().name,
        name=agent.real_name,
        level=agent.level.name,
        invitation=_("Join my team and grow with %(brand)s") % {"brand": brand_get().name},
        scan_hint=_("Long-press or scan the code to join"),
        code_label=_("Invite code"),
        invite_code=agent.invite_code,
        url=url,
    )


@login_required
def poster_png(request):
    """The invite poster as a PNG. Drawn once per content (ETag); browsers keep it an hour."""
    agent = _active_me(request)
    text = _poster_text(request, agent)
    tag = quote_etag(poster.etag(text))
    if tag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        key = f"weishang:poster:{tag}"
        body = cache.get(key)
        if body is None:
            with translation.override("en"):
                fallback = _poster_text(request, agent)
            body = poster.render(text, fallback_text=fallback)
            cache.set(key, body, POSTER_SECONDS)
        response = HttpResponse(body, content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="invite-{agent.invite_code}.png"'
    response["ETag"] = tag
    response["Cache-Control"] = f"private, max-age={POSTER_SECONDS}"
    patch_vary_headers(response, ["Cookie"])
    return response


@login_required
def invite(request):
    agent = _active_me(request)
    invite_url = request.build_absolute_uri(reverse("web:join", args=[agent.invite_code]))
    return render(
        request,
        "web/invite.html",
        {
            "brand": brand_get(),
            "me": agent,
            "invite_url": invite_url,
            # one link per level: the join form opens with that level chosen
            "level_links": [
                (level, f"{invite_url}?{urlencode({'level': level.code})}")
                for level in channel_selectors.levels_up_to(agent.level)
            ],
        },
    )


# --- my customers and my shop link ------------------------------------------------------------


@login_required
def shop_qr(request):
    """The agent's shop link as a QR code (SVG), for customers to scan."""
    agent = _active_me(request)
    url = request.build_absolute_uri(reverse("web:shop", args=[agent.invite_code]))
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, border=2)
    response = HttpResponse(image.to_string(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def customers(request):
    me = current_agent(request)
    search = channel_selectors.search_text(request.GET.get("q"))
    page = _page(request)
    found = trade_selectors.shop_customers(agent=me, search=search)
    start = (page - 1) * CUSTOMERS_PAGE_SIZE
    rows = list(found[start : start + CUSTOMERS_PAGE_SIZE + 1])
    context = {
        "brand": brand_get(),
        "me": me,
        "q": search,
        "page": page,
        "customers": rows[:CUSTOMERS_PAGE_SIZE],
        "has_next": len(rows) > CUSTOMERS_PAGE_SIZE,
        "count": found.count() if len(rows) > CUSTOMERS_PAGE_SIZE or page > 1 else len(rows),
        "shop_url": request.build_absolute_uri(reverse("web:shop", args=[me.invite_code])),
        "can_sell": me.status == AgentStatus.ACTIVE,
    }
    if is_htmx(request):
        response = render(request, "web/_customer_list.html", context)
    else:
        response = render(request, "web/customers.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- posters from the brand's templates (launch toolkit, M9) ---------------------------------


@login_required
def posters(request):
    """The posters an agent can make: the invite poster, and each template the brand offers."""
    agent = _active_me(request)
    return render(
        request, "web/posters.html", {"brand": brand_get(), "me": agent, "templates": toolkit.poster_templates()}
    )


@login_required
def template_poster_png(request, template_id: int):
    """The agent's poster from one of the brand's templates, as a PNG to save and post."""
    agent = _active_me(request)
    template = toolkit.poster_templates().filter(pk=template_id).first()
    if template is None:
        raise Http404
    view = "web:join" if template.target == PosterTarget.INVITE else "web:shop"
    url = request.build_absolute_uri(reverse(view, args=[agent.invite_code]))
    picture = catalog_selectors.first_picture(template.product_id) if template.product_id else None
    body = poster.render_template(
        template, name=agent.real_name, level=agent.level.name, url=url, product_picture=picture
    )
    response = HttpResponse(body, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="poster-{template.pk}-{agent.invite_code}.png"'
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
def poster_background(request, template_id: int):
    """A template's background, to preview it in the list."""
    _active_me(request)
    template = toolkit.poster_templates().filter(pk=template_id).first()
    if template is None:
        raise Http404
    return image_response(template.background, cache="private, max-age=3600")
