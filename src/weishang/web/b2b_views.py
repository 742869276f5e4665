"""The B2B pages (企业采购 / 批发, M14) for people acting for a business account, under /b2b/:
the market of other companies' listings, one's own listings, inquiries with their rounds of
offers, orders with money, shipments and claims, and the deal's PDFs.

Who: a signed-in person with an active ``BusinessMember`` of an active company; anyone else is
sent to sign in (anonymous) or finds nothing (404: agents, staff, a suspended member). A company
sees only the deals it is a party to: another's inquiry, order, shipment, claim or document is a
404. What a role may do is ``b2b.services.ROLE_CAN``; the pages show only the forms it allows.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from weishang.b2b import documents, selectors, services
from weishang.b2b.models import (
    BusinessAccount,
    ClaimKind,
    ClaimPhoto,
    ClaimStatus,
    CreditNote,
    InquiryStatus,
    ListingImage,
    Offer,
    OfferStatus,
    OrderStatus,
    Payment,
    Resolution,
    Side,
    Terms,
)
from weishang.catalog.models import SKU
from weishang.core.errors import BusinessError
from weishang.core.files import image_response
from weishang.core.selectors import brand_get


def business_page(view):
    """Sign-in for anonymous visitors; 404 for anyone not acting for an active company."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        member = selectors.member_of(request.user)
        if member is None:
            raise Http404
        request.member = member
        return view(request, member, *args, **kwargs)

    return wrapper


def _page(request, template: str, context: dict, *, status: int = 200):
    member = request.member
    nav = {"listing": "listings", "ask": "market", "inquiry": "inquiries", "order": "orders"}.get(
        template.removesuffix(".html"), template.removesuffix(".html")
    )
    can = {action: services.member_can(member, action) for action in services.ROLE_CAN}
    return render(
        request,
        f"web/b2b/{template}",
        {"brand": brand_get(), "nav": nav, "member": member, "company": member.account, "can": can, **context},
        status=status,
    )


def _failed(exc: BusinessError) -> dict:
    return {"error": str(exc.message), "error_field": exc.field or ""}


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- home and market -------------------------------------------------------------------------------


@business_page
def home(request, member):
    inquiries = selectors.inquiries(member).filter(status__in=(InquiryStatus.OPEN, InquiryStatus.NEGOTIATING))
    orders = selectors.orders(member).exclude(status__in=(OrderStatus.COMPLETED, OrderStatus.CANCELLED))
    claims = selectors.claims(member).filter(status=ClaimStatus.OPEN)
    return _page(
        request,
        "home.html",
        {"inquiries": inquiries[:20], "orders": orders[:20], "claims": claims[:20]},
    )


@business_page
def market(request, member):
    query = request.GET.get("q", "").strip()[:50].replace("\x00", "")
    listings = list(selectors.market(member, query=query)[:200])
    return _page(request, "market.html", {"listings": listings, "q": query})


@business_page
def listing_image(request, member, image_id: int):
    """A listing's picture: to its seller, and to any company while the listing is listed."""
    image = get_object_or_404(ListingImage.objects.select_related("listing__seller"), pk=image_id)
    listing = image.listing
    if listing.seller_id != member.account_id and not (listing.active and listing.seller.active):
        raise Http404
    return image_response(image.file)


# --- listings --------------------------------------------------------------------------------------


TIER_ROWS = 4  # empty price-tier rows on a new listing's form (an edit shows every saved tier)
MAX_TIER_ROWS = 10  # as many as b2b.services.listing_save reads


def _tier_rows(post) -> list[tuple[str, str]]:
    """The price-tier rows the form sent: (quantity, price) for ``tier-0-…`` up to ``tier-9-…``."""
    return [(post.get(f"tier-{i}-quantity", ""), post.get(f"tier-{i}-price", "")) for i in range(MAX_TIER_ROWS)]


def _listing_input(request) -> dict:
    post = request.POST
    tiers = _tier_rows(post)
    return {
        "title": post.get("title", ""),
        "description": post.get("description", ""),
        "unit": post.get("unit", "") or "件",
        "min_quantity": post.get("min_quantity", ""),
        "lead_days": post.get("lead_days", ""),
        "warranty_days": post.get("warranty_days", ""),
        "tiers": tiers,
    }


def _sku_choice(request, member) -> SKU | None:
    sku_id = request.POST.get("sku", "")
    if not sku_id or not member.account.is_brand:
        return None
    from weishang.core.converters import id_or_none

    sku = SKU.objects.filter(pk=id_or_none(sku_id) or 0).first()
    if sku is None:
        raise BusinessError(_("Choose one of the brand's SKUs."), field="sku")
    return sku


def _listing_values(listing, post) -> dict:
    """What the listing form shows: what was typed (after a refusal), the listing (with its price
    tiers, so that an edit starts from them), or defaults; ``tiers`` is the form's rows, four at least."""
    fields = ("title", "description", "unit", "min_quantity", "lead_days", "warranty_days")
    if post:
        typed = [row for i, row in enumerate(_tier_rows(post)) if i < TIER_ROWS or any(row)]
        values = {name: post.get(name, "") for name in fields} | {"sku_id": post.get("sku", ""), "tiers": typed}
    elif listing is not None:
        saved = [(t.min_quantity, t.unit_price) for t in listing.tiers.all()]
        values = {name: getattr(listing, name) for name in fields} | {"sku_id": listing.sku_id or "", "tiers": saved}
    else:
        values = {"title": "", "description": "", "unit": "件", "min_quantity": 1, "lead_days": 7, "warranty_days": 90}
        values |= {"sku_id": "", "tiers": []}
    rows = list(values["tiers"])[:MAX_TIER_ROWS]
    rows += [("", "")] * (TIER_ROWS - len(rows))
    values["tiers"] = [{"index": i, "quantity": q, "price": p} for i, (q, p) in enumerate(rows)]
    return values


@business_page
def listings(request, member):
    if not member.account.sells:
        raise Http404
    context: dict = {"skus": SKU.objects.order_by("code") if member.account.is_brand else []}
    status = 200
    if request.method == "POST":
        data = _listing_input(request)
        try:
            listing = services.listing_save(
                member=member, sku=_sku_choice(request, member), images=request.FILES.getlist("images"), **data
            )
        except BusinessError as exc:
            context.update(_failed(exc))
            status = exc.status
        else:
            return redirect("web:b2b_listing", listing_id=listing.pk)
    context["values"] = _listing_values(None, request.POST if status != 200 else None)
    context["listings"] = selectors.own_listings(member)
    return _page(request, "listings.html", context, status=status)


@business_page
def listing(request, member, listing_id: int):
    item = get_object_or_404(selectors.own_listings(member), pk=listing_id)
    context: dict = {"listing": item, "skus": SKU.objects.order_by("code") if member.account.is_brand else []}
    status = 200
    if request.method == "POST":
        try:
            if "active" in request.POST:
                services.listing_set_active(member=member, listing=item, active=request.POST["active"] == "1")
            else:
                services.listing_save(
                    member=member,
                    listing=item,
                    version=request.POST.get("version", ""),
                    sku=_sku_choice(request, member),
                    images=request.FILES.getlist("images"),
                    **_listing_input(request),
                )
        except BusinessError as exc:
            context.update(_failed(exc))
            status = exc.status
            if exc.code == "stale_listing":  # show what the other edit saved, to change again
                item = context["listing"] = get_object_or_404(selectors.own_listings(member), pk=listing_id)
        else:
            return redirect("web:b2b_listing", listing_id=item.pk)
    typed = status not in (200, 409) and "active" not in request.POST  # refused: what was typed, to correct
    context["values"] = _listing_values(item, request.POST if typed else None)
    return _page(request, "listing.html", context, status=status)


# --- inquiries -------------------------------------------------------------------------------------


@business_page
def ask(request, member, seller_id: int):
    """询价: the seller's listings with a quantity each, a wanted date and a note."""
    seller = get_object_or_404(BusinessAccount, pk=seller_id, active=True)
    if seller.pk == member.account_id or not seller.sells:
        raise Http404
    items = list(selectors.seller_listings(seller))
    context: dict = {"seller": seller, "listings": items, "form": {}}
    status = 200
    if request.method == "POST":
        lines = [(item, request.POST.get(f"quantity-{item.pk}", "")) for item in items]
        try:
            inquiry = services.inquiry_create(
                member=member,
                seller=seller,
                lines=lines,
                wanted_date=request.POST.get("wanted_date", ""),
                note=request.POST.get("note", ""),
            )
        except BusinessError as exc:
            context.update(_failed(exc), form=request.POST)
            status = exc.status
        else:
            return redirect("web:b2b_inquiry", inquiry_id=inquiry.pk)
    return _page(request, "ask.html", context, status=status)


@business_page
def inquiries(request, member):
    return _page(request, "inquiries.html", {"inquiries": selectors.inquiries(member)[:200]})


def _offer_defaults(inquiry, lines, last: Offer | None) -> dict:
    """The offer form starts from the last round, or (first quote) from the tier prices."""
    if last is not None:
        by_line = {ol.inquiry_line_id: ol for ol in last.lines.all()}
        return {
            "terms": last.terms,
            "deposit_percent": last.deposit_percent or 30,
            "delivery_date": f"{last.delivery_date:%Y-%m-%d}",
            "valid_until": f"{last.valid_until:%Y-%m-%d}",
            "lines": {
                line.pk: (by_line[line.pk].quantity, by_line[line.pk].unit_price)
                for line in lines
                if line.pk in by_line
            },
        }
    return {
        "terms": Terms.DEPOSIT,
        "deposit_percent": 30,
        "delivery_date": f"{inquiry.wanted_date:%Y-%m-%d}" if inquiry.wanted_date else "",
        "valid_until": "",
        "lines": {line.pk: (line.quantity, services.tier_price(line.listing, line.quantity)) for line in lines},
    }


@business_page
def inquiry(request, member, inquiry_id: int):
    item = get_object_or_404(selectors.inquiries(member), pk=inquiry_id)
    side = services.side_of(member, item)
    lines = list(item.lines.select_related("listing").prefetch_related("listing__tiers"))
    context: dict = {"inquiry": item, "side": side, "lines": lines, "form": {}}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "offer":
                services.offer_make(
                    member=member,
                    inquiry=item,
                    lines={
                        line.pk: (request.POST.get(f"quantity-{line.pk}", ""), request.POST.get(f"price-{line.pk}", ""))
                        for line in lines
                    },
                    terms=request.POST.get("terms", ""),
                    deposit_percent=request.POST.get("deposit_percent", "0") or "0",
                    delivery_date=request.POST.get("delivery_date", ""),
                    valid_until=request.POST.get("valid_until", ""),
                    note=request.POST.get("note", ""),
                )
            elif action == "accept":
                offer = get_object_or_404(item.offers, status=OfferStatus.OPEN)
                order = services.offer_accept(member=member, offer=offer)
                return redirect("web:b2b_order", order_id=order.pk)
            elif action == "close":
                services.inquiry_close(member=member, inquiry=item)
            else:
                raise BusinessError(_("Choose what to do."))
        except BusinessError as exc:
            context.update(_failed(exc), form=request.POST)
            status = exc.status
        else:
            return redirect("web:b2b_inquiry", inquiry_id=item.pk)
    offers = list(item.offers.select_related("created_by").prefetch_related("lines__inquiry_line__listing"))
    last = offers[-1] if offers else None
    open_offer = last if last is not None and last.status == OfferStatus.OPEN else None
    item.refresh_from_db()
    may = services.member_can(member, "quote" if side == Side.SELLER else "ask")
    active = item.status in (InquiryStatus.OPEN, InquiryStatus.NEGOTIATING)
    context.update(
        offers=offers,
        open_offer=open_offer,
        can_offer=may and active and (side == Side.SELLER or last is not None),
        can_accept=may and open_offer is not None and open_offer.side != side,
        can_close=may and active,
        defaults=_offer_defaults(item, lines, last),
        terms=Terms.choices,
    )
    return _page(request, "inquiry.html", context, status=status)


@business_page
def offer_pdf(request, member, offer_id: int):
    offer = get_object_or_404(
        Offer.objects.filter(inquiry__in=selectors.inquiries(member)).select_related(
            "inquiry__buyer", "inquiry__seller"
        ),
        pk=offer_id,
    )
    return _pdf(documents.document_pdf(documents.offer_document(offer)), f"{offer.inquiry.number}-{offer.round}.pdf")


# --- orders ----------------------------------------------------------------------------------------


@business_page
def orders(request, member):
    return _page(request, "orders.html", {"orders": selectors.orders(member)[:200]})


@business_page
def order(request, member, order_id: int):
    item = get_object_or_404(selectors.orders(member), pk=order_id)
    side = Side.SELLER if item.seller_id == member.account_id else Side.BUYER
    context: dict = {"order": item, "side": side, "form": {}}
    status = 200
    if request.method == "POST":
        try:
            done = _order_action(request, member, item)
        except BusinessError as exc:
            context.update(_failed(exc), form=request.POST)
            status = exc.status
        else:
            if isinstance(done, Payment) and done.replayed:  # the same form posted again (a double click)
                messages.info(
                    request,
                    _("This form was already sent: payment %(number)s of ¥%(amount)s is recorded, once.")
                    % {"number": done.number, "amount": done.amount},
                )
            return redirect("web:b2b_order", order_id=item.pk)
    # the payment form's one-time token; kept when the form comes back refused (nothing was recorded)
    context["pay_token"] = (
        request.POST.get("token", "") if status != 200 and request.POST.get("action") == "pay" else ""
    ) or services.new_form_token()
    item.refresh_from_db()
    lines = list(item.lines.all())
    for line in lines:
        line.claimable, line.warranty_until = services.claimable(line)
    context.update(
        lines=lines,
        money=services.statement(item),
        payments=item.payments.all(),
        shipments=item.shipments.prefetch_related("lines__line").select_related("invoice"),
        claims=item.claims.select_related("line").prefetch_related("photos").select_related("credit_note"),
        kinds=ClaimKind.choices,
        resolutions=Resolution.choices,
        can_pay=side == Side.SELLER and services.member_can(member, "pay") and item.status != OrderStatus.CANCELLED,
        can_ship=side == Side.SELLER
        and services.member_can(member, "ship")
        and item.status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED)
        and any(line.to_ship for line in lines),
        can_receive=side == Side.BUYER and services.member_can(member, "receive"),
        can_claim=side == Side.BUYER and services.member_can(member, "claim") and any(line.claimable for line in lines),
        can_resolve=side == Side.SELLER and services.member_can(member, "resolve"),
    )
    return _page(request, "order.html", context, status=status)


def _order_action(request, member, item) -> object:
    from weishang.core.converters import id_or_none

    post = request.POST
    action = post.get("action", "")
    if action == "pay":
        return services.payment_record(
            member=member,
            order=item,
            amount=post.get("amount", ""),
            reference=post.get("reference", ""),
            token=post.get("token", ""),
        )
    elif action == "ship":
        services.shipment_create(
            member=member,
            order=item,
            quantities={line.pk: post.get(f"ship-{line.pk}", "") for line in item.lines.all()},
            carrier=post.get("carrier", ""),
            tracking_number=post.get("tracking_number", ""),
        )
    elif action == "receive":
        shipment = get_object_or_404(item.shipments, pk=id_or_none(post.get("shipment")) or 0)
        services.shipment_receive(member=member, shipment=shipment)
    elif action == "claim":
        line = get_object_or_404(item.lines, pk=id_or_none(post.get("line")) or 0)
        services.claim_open(
            member=member,
            line=line,
            kind=post.get("kind", ""),
            quantity=post.get("quantity", ""),
            reason=post.get("reason", ""),
            photos=request.FILES.getlist("photos"),
        )
    elif action in ("resolve", "reject"):
        claim = get_object_or_404(item.claims, pk=id_or_none(post.get("claim")) or 0)
        if action == "reject":
            services.claim_reject(member=member, claim=claim, answer=post.get("answer", ""))
        else:
            services.claim_resolve(
                member=member,
                claim=claim,
                resolution=post.get("resolution", ""),
                amount=post.get("amount", ""),
                answer=post.get("answer", ""),
                restock=post.get("restock") == "1",
            )
    else:
        raise BusinessError(_("Choose what to do."))


@business_page
def order_pdf(request, member, order_id: int):
    item = get_object_or_404(selectors.orders(member), pk=order_id)
    return _pdf(documents.document_pdf(documents.order_document(item)), f"{item.number}.pdf")


@business_page
def shipment_pdf(request, member, shipment_id: int):
    shipment = get_object_or_404(
        selectors.shipments(member).select_related("order__buyer", "order__seller"), pk=shipment_id
    )
    return _pdf(documents.document_pdf(documents.delivery_document(shipment)), f"{shipment.number}.pdf")


@business_page
def credit_note_pdf(request, member, note_id: int):
    note = get_object_or_404(
        CreditNote.objects.filter(order__in=selectors.orders(member)).select_related(
            "order__buyer", "order__seller", "claim__line"
        ),
        pk=note_id,
    )
    return _pdf(documents.document_pdf(documents.credit_note_document(note)), f"{note.number}.pdf")


@business_page
def claim_photo(request, member, photo_id: int):
    photo = get_object_or_404(ClaimPhoto.objects.filter(claim__in=selectors.claims(member)), pk=photo_id)
    return image_response(photo.file)
