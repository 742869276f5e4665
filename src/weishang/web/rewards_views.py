"""The agent's rewards pages (/m/rewards/, /m/rewards/withdraw/).

Thin: figures and lines from ``rewards.selectors``, a withdrawal through
``rewards.services.reward_withdraw``; a BusinessError is shown next to the input it is about,
with its status (4xx), and nothing changed. An agent sees their own lines and withdrawals only;
anyone who is not an agent gets "not found", as on the other /m/ pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.ledger.selectors import withdrawals_for_agent
from weishang.rewards import selectors
from weishang.rewards.services import reward_withdraw
from weishang.web.agents import current_agent
from weishang.web.rewards_forms import WithdrawForm

PAGE_SIZE = 30
WITHDRAWALS_SHOWN = 30


def _page(request) -> int:
    text = request.GET.get("page", "1")
    return max(int(text), 1) if text.isascii() and text.isdigit() and 0 < len(text) < 7 else 1


@login_required
def rewards(request):
    """Frozen, available, withdrawn and in-transit figures; the lines with their explanations
    (brand-paid rewards, or with ``?show=margin`` the agent's own margins)."""
    me = current_agent(request)
    margin = request.GET.get("show") == "margin"
    page = _page(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(selectors.reward_lines_of(agent=me, margin=margin)[start : start + PAGE_SIZE + 1])
    lines = rows[:PAGE_SIZE]
    names = selectors.rule_names(line.plan for line in lines)
    for line in lines:
        line.rule_name = _("Margin") if line.kind == "margin" else names.get((line.plan_id, line.rule_id), line.rule_id)
    return render(
        request,
        "web/rewards.html",
        {
            "brand": brand_get(),
            "me": me,
            "summary": selectors.reward_summary(agent=me),
            "terms": selectors.withdraw_terms(),
            "lines": lines,
            "margin": margin,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
        },
    )


@login_required
def withdraw(request):
    """Ask for available rewards to be paid out (under the plan's minimum and fee); my withdrawals."""
    me = current_agent(request)
    form = WithdrawForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                withdrawal = reward_withdraw(
                    agent=me,
                    amount=data["amount"],
                    method=data["method"],
                    account_name=data["account_name"],
                    account_no=data["account_no"],
                    bank_name=data["bank_name"],
                    by=request.user,
                    idempotency_key=data["token"],
                )
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(
                    request,
                    _(
                        "Withdrawal %(number)s of ¥%(amount)s requested: you receive "
                        "¥%(net)s once brand finance pays it."
                    )
                    % {"number": withdrawal.number, "amount": withdrawal.amount, "net": withdrawal.net},
                )
                return redirect("web:withdraw")
    return render(
        request,
        "web/withdraw.html",
        {
            "brand": brand_get(),
            "me": me,
            "form": form,
            "summary": selectors.reward_summary(agent=me),
            "terms": selectors.withdraw_terms(),
            "withdrawals": withdrawals_for_agent(me)[:WITHDRAWALS_SHOWN],
        },
        status=status,
    )
