"""The agent's trade pages (/m/order/, /m/orders/, /m/fill/, /m/stock/, /m/wallet/).

Thin: a form in, one trade service call, then a redirect; a BusinessError is shown on the same
page with its status (4xx) and, the service having run in one transaction, nothing changed.
An agent sees and acts on their own orders only: anyone else's is "not found".
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from weishang.campaigns import selectors as campaign_selectors
from weishang.campaigns import services as campaign_services
from weishang.channel.models import Agent, AgentStatus
from weishang.codes import selectors as codes_selectors
from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.trade import selectors, services, supply, workflow
from weishang.trade.models import LocationKind, Order, OrderKind, PaymentStatus
from weishang.trade.stock import InsufficientStock
from weishang.trade.workflow import Actor, Step
from weishang.web.agents import current_agent
from weishang.web.products import with_thumbnails
from weishang.web.trade_forms import (
    ActionForm,
    CodesForm,
    ConfirmCancelForm,
    FillForm,
    NoteForm,
    PickupForm,
    ReasonForm,
    RestockForm,
    TopupForm,
    TransferForm,
    UpgradeForm,
)

PAGE_SIZE = 30


def _page(request) -> int:
    text = request.GET.get("page", "1")
    return max(int(text), 1) if text.isascii() and text.isdigit() and 0 < len(text) < 7 else 1


def _paginate(request, queryset) -> dict:
    page = _page(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(queryset[start : start + PAGE_SIZE + 1])
    return {"rows": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE}


def show_error(form, exc: BusinessError) -> int:
    """Put a service's error on the input it is about (or on the whole form); return its status."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
    return exc.status


# --- ordering -------------------------------------------------------------------------------


def _is_entry(agent: Agent) -> bool:
    return agent.status == AgentStatus.APPLICANT and agent.entry_due > 0


def _submitter(form):
    """``order_submit``, or through the campaign the agent chose to take part in."""
    campaign = form.cleaned_data.get("campaign")
    if campaign:
        return partial(campaign_services.campaign_order_submit, campaign=campaign)
    return services.order_submit


@login_required
def order_new(request):
    """A new restock order, or an applicant's entry order, at the agent's level price."""
    me = current_agent(request)
    entry = _is_entry(me)
    catalog = selectors.restock_catalog(agent=me)
    offers = campaign_selectors.offers_for(agent=me, kind=OrderKind.ENTRY if entry else OrderKind.RESTOCK)
    form = RestockForm(request.POST or None, skus=[sku for sku, _price, _held in catalog], offers=offers)
    seller, mode = services.order_route(buyer=me)
    status, availability = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = _submitter(form)(
                    buyer=me,
                    lines=form.lines(),
                    kind=OrderKind.ENTRY if entry else OrderKind.RESTOCK,
                    by=request.user,
                    idempotency_key=form.cleaned_data["token"],
                    accept_shortfall=request.POST.get("short_ok") == "1",
                )
            except services.SupplierShort as exc:
                # Said before the order exists: the supplier cannot fill all of it now.
                status, availability = 200, exc.availability
            except BusinessError as exc:
                status = show_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Order %(number)s submitted. Its total is ¥%(total)s.")
                    % {"number": order.number, "total": order.total},
                )
                return redirect("web:my_order", order.number)
    in_stock = selectors.seller_in_stock(seller=seller, mode=mode)
    return render(
        request,
        "web/order_new.html",
        {
            "brand": brand_get(),
            "me": me,
            "entry": entry,
            "form": form,
            "seller": seller,
            "can_order": entry or me.status == AgentStatus.ACTIVE,
            "availability": availability,
            "offers": [(offer, campaign_selectors.offer_words(offer)) for offer in offers],
            "rows": [
                (sku, price, held, form.quantity_field(sku), sku.pk in in_stock)
                for sku, price, held in with_thumbnails(catalog)
            ],
        },
        status=status,
    )


@login_required
def upgrade_new(request):
    """An upgrade order (升级单): the level to reach, goods at that level's prices, at least the top-up."""
    me = current_agent(request)
    levels = selectors.upgrade_levels(agent=me)
    codes = {level.code: level for level in levels}
    chosen = codes.get(request.POST.get("to") or request.GET.get("to")) or (levels[0] if levels else None)
    catalog = selectors.restock_catalog(agent=me, level=chosen) if chosen else []
    offers = campaign_selectors.offers_for(agent=me, kind=OrderKind.UPGRADE, level=chosen) if chosen else []
    form = UpgradeForm(
        request.POST or None,
        skus=[sku for sku, _price, _held in catalog],
        levels=levels,
        initial={"to": getattr(chosen, "code", None)},
        offers=offers,
    )
    status, availability = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = _submitter(form)(
                    buyer=me,
                    lines=form.lines(),
                    kind=OrderKind.UPGRADE,
                    target_level=codes[form.cleaned_data["to"]],
                    by=request.user,
                    idempotency_key=form.cleaned_data["token"],
                    accept_shortfall=request.POST.get("short_ok") == "1",
                )
            except services.SupplierShort as exc:  # said before the order exists, as on the restock page
                status, availability = 200, exc.availability
            except BusinessError as exc:
                status = show_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Upgrade order %(number)s submitted. Its total is ¥%(total)s.")
                    % {"number": order.number, "total": order.total},
                )
                return redirect("web:my_order", order.number)
    seller, mode = services.order_route(buyer=me, level=chosen) if chosen else (None, None)
    in_stock = selectors.seller_in_stock(seller=seller, mode=mode) if chosen else set()
    return render(
        request,
        "web/upgrade_new.html",
        {
            "me": me,
            "form": form,
            "seller": seller,
            "levels": levels,
            "chosen": chosen,
            "availability": availability,
            "top_up": services.upgrade_top_up(agent=me, level=chosen) if chosen else None,
            "offers": [(offer, campaign_selectors.offer_words(offer)) for offer in offers],
            "can_order": me.status == AgentStatus.ACTIVE and chosen is not None,
            "rows": [
                (sku, price, held, form.quantity_field(sku), sku.pk in in_stock)
                for sku, price, held in with_thumbnails(catalog)
            ],
        },
        status=status,
    )


# --- my orders (as the buyer) ---------------------------------------------------------------


@login_required
def my_orders(request):
    me = current_agent(request)
    page = _paginate(request, selectors.orders_as_buyer(agent=me))
    for order in page["rows"]:
        order.next_step = selectors.buyer_next_step(order)
    return render(request, "web/orders.html", {"brand": brand_get(), "me": me, **page})


def auto_id(key: str) -> str:
    """Several forms share a page: each gets its own element ids."""
    return f"id_{key}_%s"


# Each step of trade.workflow asks for an input; on the phone pages, this form fills it in.
STEP_FORMS = {
    "confirm": ActionForm,
    "note": NoteForm,
    "reason": ReasonForm,
    "cancel": ConfirmCancelForm,
    "transfer": TransferForm,
    "fill": FillForm,
    "codes": CodesForm,
}


def _phone_steps(actor: Actor) -> dict[str, Step]:
    """The steps ``actor`` takes on the phone pages, by their URL slug: trade.workflow's steps
    for them that are taken on the order (paying online and deciding a transfer have pages of
    their own)."""
    return {step.slug: step for step in workflow.current().steps_by(actor) if step.run and step.input in STEP_FORMS}


def _step_forms(actor: Actor, bound: dict | None) -> dict:
    """One form per step (its key: the step's name, its element ids prefixed with it); ``bound``
    replaces the one that was posted."""
    forms = {step.name: STEP_FORMS[step.input](auto_id=auto_id(step.name)) for step in _phone_steps(actor).values()}
    forms.update(bound or {})
    return forms


def other_steps(actor: Actor, order: Order, forms: dict, shown: frozenset[str]) -> list[dict]:
    """The steps open to ``actor`` now that the page's template has no section of its own for
    (``shown``): a step added to trade.workflow appears as a plain form with its label."""
    actions = workflow.current().actions(order, actor)
    return [
        {"step": step, "slug": slug, "form": forms[step.name]}
        for slug, step in _phone_steps(actor).items()
        if step.name in actions and step.name not in shown
    ]


# The steps web/order_detail.html and web/fill_detail.html lay out themselves.
BUYER_SECTIONS = frozenset({"pay_transfer", "pay_wallet", "cancel", "receive", "refund"})
SELLER_SECTIONS = frozenset({"approve", "reject", "fill", "delivered", "refund_approve", "refund_decline"})


def _render_my_order(request, me: Agent, order: Order, *, forms=None, error=None, status=200):
    actions = selectors.buyer_actions(order)
    step_forms = _step_forms(Actor.BUYER, forms)
    payee = selectors.order_payee(order)
    return render(
        request,
        "web/order_detail.html",
        {
            "payee": payee,
            "receiving_accounts": selectors.receiving_accounts(agent=payee) if "pay_transfer" in actions else [],
            "brand": brand_get(),
            "me": me,
            "order": order,
            "error": error,
            "lines": order.lines.select_related("sku"),
            "show_prices": order.kind != OrderKind.PICKUP,
            "transitions": order.transitions.select_related("by"),
            "payments": order.payments.all(),
            "actions": actions,
            "next_step": selectors.buyer_next_step(order),
            "wallet_balance": selectors.wallet_balance(agent=me),
            "forms": step_forms,
            "other_steps": other_steps(Actor.BUYER, order, step_forms, BUYER_SECTIONS),
        },
        status=status,
    )


def buyer_order(me: Agent, number: str) -> Order:
    order = selectors.order_of_buyer(agent=me, number=number)
    if order is None:
        raise Http404
    return order


@login_required
def my_order(request, number: str):
    me = current_agent(request)
    order = buyer_order(me, number)
    services.order_notices_seen(agent=me, order=order)
    return _render_my_order(request, me, order)


@login_required
def my_order_cancel_confirm(request, number: str):
    """The cancel confirmation: what is paid back, from whose wallet to whose; its form posts the
    cancel (``my_order_action`` refuses a cancel without this page's confirmation)."""
    me = current_agent(request)
    order = buyer_order(me, number)
    if "cancel" not in selectors.buyer_actions(order):
        messages.error(request, _("Order %(number)s can no longer be cancelled.") % {"number": order.number})
        return redirect("web:my_order", order.number)
    return render(
        request,
        "web/order_cancel.html",
        {
            "brand": brand_get(),
            "me": me,
            "order": order,
            "refund": services.cancel_refund(order),
            "form": ConfirmCancelForm(auto_id=auto_id("cancel"), initial={"confirm": True}),
        },
    )


@login_required
@require_POST
def my_order_action(request, number: str, action: str):
    me = current_agent(request)
    order = buyer_order(me, number)
    step = _phone_steps(Actor.BUYER).get(action)
    if step is None:
        raise Http404
    form = STEP_FORMS[step.input](request.POST, request.FILES, auto_id=auto_id(step.name))
    if not form.is_valid():
        return _render_my_order(request, me, order, forms={step.name: form}, status=400)
    try:
        done = step.run(order, request.user, form.cleaned_data)
    except BusinessError as exc:
        order = buyer_order(me, number)
        return _render_my_order(request, me, order, forms={step.name: form}, error=exc.message, status=exc.status)
    messages.success(request, step.done(done if isinstance(done, Order) else order))
    return redirect("web:my_order", order.number)


# --- orders to fill (as the seller) ---------------------------------------------------------


@login_required
def fill_list(request):
    me = current_agent(request)
    show_all = request.GET.get("all") == "1"
    page = _paginate(request, selectors.orders_to_fill(agent=me, todo_only=not show_all))
    for order in page["rows"]:
        order.next_step = selectors.seller_next_step(order)
    return render(request, "web/fill.html", {"brand": brand_get(), "me": me, "show_all": show_all, **page})


def _seller_order(me: Agent, number: str) -> Order:
    order = selectors.order_of_seller(agent=me, number=number)
    if order is None:
        raise Http404
    return order


def _seller_forms(bound: dict | None = None) -> dict:
    return {
        **_step_forms(Actor.SELLER, None),
        "payment_confirm": NoteForm(auto_id=auto_id("payment_confirm")),
        "payment_reject": ReasonForm(auto_id=auto_id("payment_reject")),
        **(bound or {}),
    }


def _render_fill_order(request, me: Agent, order: Order, *, forms=None, error=None, short_of_stock=False, status=200):
    actions = selectors.seller_actions(order)
    step_forms = _seller_forms(forms)
    payments = list(order.payments.all())
    return render(
        request,
        "web/fill_detail.html",
        {
            "brand": brand_get(),
            "me": me,
            "order": order,
            "error": error,
            "short_of_stock": short_of_stock,
            "lines": order.lines.select_related("sku"),
            "transitions": order.transitions.select_related("by"),
            "payments": payments,
            "pending_payment": next((p for p in payments if p.status == PaymentStatus.PENDING), None),
            "shortfalls": selectors.fill_shortfalls(order=order) if order.status in workflow.FILLABLE_STATUSES else [],
            "ships": supply.route_for(order.supply_mode).fill_ships(order),
            "actions": actions,
            "next_step": selectors.seller_next_step(order),
            "forms": step_forms,
            "other_steps": other_steps(Actor.SELLER, order, step_forms, SELLER_SECTIONS),
            "codes_scanned": sum(codes_selectors.order_code_counts(order).values()),
        },
        status=status,
    )


@login_required
def fill_order(request, number: str):
    me = current_agent(request)
    order = _seller_order(me, number)
    services.order_notices_seen(agent=me, order=order)
    return _render_fill_order(request, me, order)


def _seller_act(request, me, number, key, form, act, done):
    order = _seller_order(me, number)
    if not form.is_valid():
        return _render_fill_order(request, me, order, forms={key: form}, status=400)
    try:
        result = act(order, request.user, form.cleaned_data)
    except BusinessError as exc:
        return _render_fill_order(
            request,
            me,
            _seller_order(me, number),
            forms={key: form},
            error=exc.message,
            short_of_stock=isinstance(exc, InsufficientStock),
            status=exc.status,
        )
    messages.success(request, done(result if isinstance(result, Order) else order))
    return redirect("web:fill_order", order.number)


@login_required
@require_POST
def fill_order_action(request, number: str, action: str):
    me = current_agent(request)
    step = _phone_steps(Actor.SELLER).get(action)
    if step is None:
        _seller_order(me, number)  # someone else's order stays "not found" whatever the action
        raise Http404
    form = STEP_FORMS[step.input](request.POST, auto_id=auto_id(step.name))
    return _seller_act(request, me, number, step.name, form, step.run, step.done)


@login_required
@require_POST
def fill_payment_action(request, number: str, payment_id: int, action: str):
    me = current_agent(request)
    order = _seller_order(me, number)
    payment = order.payments.filter(pk=payment_id).first()
    if payment is None or action not in ("confirm", "reject"):
        raise Http404

    def act(order, user, data):
        if action == "confirm":
            return services.payment_confirm(payment=payment, by=user, note=data["note"])
        return services.payment_reject(payment=payment, by=user, note=data["note"])

    def done(order):
        if action == "confirm":
            return _("Transfer confirmed: order %(number)s is paid.") % {"number": order.number}
        return _("Transfer rejected. The buyer can send a new screenshot.")

    key = f"payment_{action}"
    form_class = NoteForm if action == "confirm" else ReasonForm
    return _seller_act(request, me, number, key, form_class(request.POST, auto_id=auto_id(key)), act, done)


# --- stock and pick-ups ---------------------------------------------------------------------


@login_required
def stock(request):
    me = current_agent(request)
    holdings = list(selectors.stock_holdings(agent=me))
    form = PickupForm(request.POST or None, holdings=holdings)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.pickup_request(
                    agent=me,
                    lines=[(data["sku"], data["quantity"])],
                    by=request.user,
                    name=data["name"],
                    phone=data["phone"],
                    region=data["region"],
                    address=data["address"],
                )
            except BusinessError as exc:
                status = show_error(form, exc)
            else:
                messages.success(
                    request, _("Pick-up %(number)s requested. The warehouse will ship it.") % {"number": order.number}
                )
                return redirect("web:stock")
    return render(
        request,
        "web/stock.html",
        {
            "brand": brand_get(),
            "me": me,
            "holdings": holdings,
            "form": form,
            "own_holdings": selectors.stock_holdings(agent=me, kind=LocationKind.AGENT),
            "pickups": selectors.pickups_of(agent=me)[:PAGE_SIZE],
        },
        status=status,
    )


# --- wallet ---------------------------------------------------------------------------------


@login_required
def wallet(request):
    me = current_agent(request)
    form = TopupForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.wallet_topup_submit(
                    agent=me,
                    by=request.user,
                    amount=data["amount"],
                    screenshot=data["screenshot"],
                    reference=data["reference"],
                )
            except BusinessError as exc:
                status = show_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Top-up of ¥%(amount)s sent. It is added once brand finance confirms it.")
                    % {"amount": data["amount"]},
                )
                return redirect("web:wallet")
    return render(
        request,
        "web/wallet.html",
        {
            "brand": brand_get(),
            "me": me,
            "form": form,
            "balance": selectors.wallet_balance(agent=me),
            "entries": selectors.wallet_entries(agent=me, limit=PAGE_SIZE),
            "topups": selectors.wallet_topups(agent=me)[:10],
            "brand_accounts": selectors.receiving_accounts(agent=None),
        },
        status=status,
    )
