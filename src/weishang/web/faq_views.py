"""百问百答 on the phone: search in Chinese, or browse by category; only the questions the agent's
level may see. Each search is recorded (the brand's "most searched")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from weishang.core.selectors import brand_get
from weishang.faq import selectors, services
from weishang.web.agents import current_agent


@login_required
def faq(request):
    me = current_agent(request)
    query = (request.GET.get("q") or "").replace("\x00", " ").strip()[:100]
    results = services.faq_search_logged(query, agent=me) if query else None
    return render(
        request,
        "web/faq.html",
        {
            "brand": brand_get(),
            "me": me,
            "query": query,
            "results": results,
            "categories": selectors.categories_with_entries(agent=me) if results is None else [],
        },
    )
