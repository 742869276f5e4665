"""The agent's trade pages (/m/order/, /m/orders/, /m/fill/, /m/stock/, /m/wallet/).

Thin: a form in, one trade service call, then a redirect; a BusinessError is shown on the same
page with its status (4xx) and, the service having run in one transaction, nothing changed.
An agent sees and acts on their own orders only: anyone else's is "not found".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from weishang.channel.models import Agent, AgentStatus
from weishang.core.errors import BusinessError
from weishang.core.selectors import brand_get
from weishang.trade import selectors, services, supply
from weishang.trade.models import LocationKind, Order, OrderKind, OrderStatus, PaymentStatus
from weishang.trade.selectors import buyer_actions, seller_actions
from weishang.trade.stock import InsufficientStock
from weishang.web.agents import current_agent
from weishang.web.trade_forms import (
    ActionForm,
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


@login_required
def order_new(request):
    """A new restock order, or an applicant's entry order, at the agent's level price."""
    me = current_agent(request)
    entry = _is_entry(me)
    catalog = selectors.restock_catalog(agent=me)
    form = RestockForm(request.POST or None, skus=[sku for sku, _price, _held in catalog])
    seller, mode = services.order_route(buyer=me)
    status, availability = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = services.order_submit(
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
            "rows": [(sku, price, held, form.quantity_field(sku), sku.pk in in_stock) for sku, price, held in catalog],
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
    form = UpgradeForm(
        request.POST or None,
        skus=[sku for sku, _price, _held in catalog],
        levels=levels,
        initial={"to": getattr(chosen, "code", None)},
    )
    status, availability = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = services.order_submit(
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
            "can_order": me.status == AgentStatus.ACTIVE and chosen is not None,
            "rows": [(sku, price, held, form.quantity_field(sku), sku.pk in in_stock) for sku, price, held in catalog],
        },
        status=status,
    )


# --- my orders (as the buyer) ---------------------------------------------------------------


def buyer_next_step(order: Order) -> str:
    s = order.status
    if s == OrderStatus.SUBMITTED:
        return _("Waiting for approval") if order.kind != OrderKind.PICKUP else _("Waiting to be shipped")
    if s == OrderStatus.AWAITING_PAYMENT:
        return _("Transfer sent, waiting for confirmation") if order.has_pending_payment else _("Pay now")
    if s == OrderStatus.PAID:
        return _("Waiting to be filled")
    if s == OrderStatus.FULFILLED:
        return _("Confirm receipt")
    if s == OrderStatus.REFUND_REQUESTED:
        return _("Return waiting for a decision")
    return ""


@login_required
def my_orders(request):
    me = current_agent(request)
    page = _paginate(request, selectors.orders_as_buyer(agent=me))
    for order in page["rows"]:
        order.next_step = buyer_next_step(order)
    return render(request, "web/orders.html", {"brand": brand_get(), "me": me, **page})


def auto_id(key: str) -> str:
    """Several forms share a page: each gets its own element ids."""
    return f"id_{key}_%s"


def _forms(classes: dict, bound: dict | None) -> dict:
    forms = {key: form_class(auto_id=auto_id(key)) for key, form_class in classes.items()}
    forms.update(bound or {})
    return forms


def _buyer_forms(bound: dict | None = None) -> dict:
    return _forms(
        {
            "pay_transfer": TransferForm,
            "pay_wallet": ActionForm,
            "cancel": ConfirmCancelForm,
            "receive": ActionForm,
            "refund": ReasonForm,
        },
        bound,
    )


def _render_my_order(request, me: Agent, order: Order, *, forms=None, error=None, status=200):
    actions = buyer_actions(order)
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
            "next_step": buyer_next_step(order),
            "wallet_balance": selectors.wallet_balance(agent=me),
            "forms": _buyer_forms(forms),
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
    if "cancel" not in buyer_actions(order):
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


def _pay_transfer(order, user, data):
    services.payment_submit_transfer(order=order, by=user, screenshot=data["screenshot"], reference=data["reference"])
    return _("Screenshot sent. The order is paid once the seller confirms the transfer.")


def _pay_wallet(order, user, data):
    services.order_pay_from_wallet(order=order, by=user)
    return _("Paid ¥%(total)s from your wallet.") % {"total": order.total}


def _cancel(order, user, data):
    services.order_cancel(order=order, by=user, note=data["note"])
    return _("Order %(number)s is cancelled.") % {"number": order.number}


def _receive(order, user, data):
    if order.kind == OrderKind.PICKUP:
        services.pickup_delivered(order=order, by=user)
    else:
        services.order_confirm_receipt(order=order, by=user)
    return _("Receipt confirmed. The order is completed.")


def _refund(order, user, data):
    services.refund_request(order=order, by=user, note=data["note"])
    return _("Return requested. The seller will decide.")


BUYER_ACTIONS = {
    "pay-transfer": (TransferForm, _pay_transfer),
    "pay-wallet": (ActionForm, _pay_wallet),
    "cancel": (ConfirmCancelForm, _cancel),
    "receive": (ActionForm, _receive),
    "refund": (ReasonForm, _refund),
}


@login_required
@require_POST
def my_order_action(request, number: str, action: str):
    me = current_agent(request)
    order = buyer_order(me, number)
    if action not in BUYER_ACTIONS:
        raise Http404
    form_class, act = BUYER_ACTIONS[action]
    key = action.replace("-", "_")
    form = form_class(request.POST, request.FILES, auto_id=auto_id(key))
    if not form.is_valid():
        return _render_my_order(request, me, order, forms={key: form}, status=400)
    try:
        message = act(order, request.user, form.cleaned_data)
    except BusinessError as exc:
        order = buyer_order(me, number)
        return _render_my_order(request, me, order, forms={key: form}, error=exc.message, status=exc.status)
    messages.success(request, message)
    return redirect("web:my_order", order.number)


# --- orders to fill (as the seller) ---------------------------------------------------------


def seller_next_step(order: Order) -> str:
    s = order.status
    if s == OrderStatus.SUBMITTED:
        return _("Approve or reject")
    if s == OrderStatus.AWAITING_PAYMENT:
        return _("Check the transfer") if order.has_pending_payment else _("Waiting for the buyer to pay")
    if s == OrderStatus.PAID:
        return _("Fill the order")
    if s == OrderStatus.FULFILLED:
        return _("Record the delivery") if order.kind == OrderKind.RETAIL else _("Waiting for the buyer's receipt")
    if s == OrderStatus.REFUND_REQUESTED:
        return _("Decide on the return")
    return ""


@login_required
def fill_list(request):
    me = current_agent(request)
    show_all = request.GET.get("all") == "1"
    page = _paginate(request, selectors.orders_to_fill(agent=me, todo_only=not show_all))
    for order in page["rows"]:
        order.next_step = seller_next_step(order)
    return render(request, "web/fill.html", {"brand": brand_get(), "me": me, "show_all": show_all, **page})


def _seller_order(me: Agent, number: str) -> Order:
    order = selectors.order_of_seller(agent=me, number=number)
    if order is None:
        raise Http404
    return order


def _seller_forms(bound: dict | None = None) -> dict:
    return _forms(
        {
            "approve": ActionForm,
            "reject": ReasonForm,
            "fill": FillForm,
            "delivered": ActionForm,
            "refund_approve": NoteForm,
            "refund_decline": ReasonForm,
            "payment_confirm": NoteForm,
            "payment_reject": ReasonForm,
        },
        bound,
    )


def _render_fill_order(request, me: Agent, order: Order, *, forms=None, error=None, short_of_stock=False, status=200):
    actions = seller_actions(order)
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
            "shortfalls": selectors.fill_shortfalls(order=order)
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID)
            else [],
            "ships": supply.route_for(order.supply_mode).fill_ships(order),
            "actions": actions,
            "next_step": seller_next_step(order),
            "forms": _seller_forms(forms),
        },
        status=status,
    )


@login_required
def fill_order(request, number: str):
    me = current_agent(request)
    order = _seller_order(me, number)
    services.order_notices_seen(agent=me, order=order)
    return _render_fill_order(request, me, order)


def _approve(order, user, data):
    services.order_approve(order=order, by=user)
    return _("Order %(number)s approved. The buyer can pay now.") % {"number": order.number}


def _reject(order, user, data):
    services.order_reject(order=order, by=user, note=data["note"])
    return _("Order %(number)s rejected.") % {"number": order.number}


def _fill(order, user, data):
    filled = services.order_fill(order=order, by=user, carrier=data["carrier"], tracking_number=data["tracking_number"])
    if filled.status == OrderStatus.COMPLETED:
        return _("Order %(number)s filled: the units are in the buyer's cloud stock.") % {"number": order.number}
    return _("Order %(number)s filled and shipped.") % {"number": order.number}


def _delivered(order, user, data):
    services.order_mark_delivered(order=order, by=user)
    return _("Delivery recorded. The order is completed.")


def _refund_approve(order, user, data):
    services.refund_approve(order=order, by=user, note=data["note"])
    return _("Return approved: the units came back and the money went to the buyer's wallet.")


def _refund_decline(order, user, data):
    services.refund_decline(order=order, by=user, note=data["note"])
    return _("Return declined.")


SELLER_ACTIONS = {
    "approve": (ActionForm, _approve),
    "reject": (ReasonForm, _reject),
    "fill": (FillForm, _fill),
    "delivered": (ActionForm, _delivered),
    "refund-approve": (NoteForm, _refund_approve),
    "refund-decline": (ReasonForm, _refund_decline),
}


def _seller_act(request, me, number, key, form, act):
    order = _seller_order(me, number)
    if not form.is_valid():
        return _render_fill_order(request, me, order, forms={key: form}, status=400)
    try:
        message = act(order, request.user, form.cleaned_data)
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
    messages.success(request, message)
    return redirect("web:fill_order", order.number)


@login_required
@require_POST
def fill_order_action(request, number: str, action: str):
    me = current_agent(request)
    if action not in SELLER_ACTIONS:
        _seller_order(me, number)  # someone else's order stays "not found" whatever the action
        raise Http404
    form_class, act = SELLER_ACTIONS[action]
    key = action.replace("-", "_")
    return _seller_act(request, me, number, key, form_class(request.POST, auto_id=auto_id(key)), act)


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
            services.payment_confirm(payment=payment, by=user, note=data["note"])
            return _("Transfer confirmed: order %(number)s is paid.") % {"number": order.number}
        services.payment_reject(payment=payment, by=user, note=data["note"])
        return _("Transfer rejected. The buyer can send a new screenshot.")

    key = f"payment_{action}"
    form_class = NoteForm if action == "confirm" else ReasonForm
    return _seller_act(request, me, number, key, form_class(request.POST, auto_id=auto_id(key)), act)


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
