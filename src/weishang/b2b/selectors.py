"""B2B reads. A company sees its own listings and every active listing of others (the
market), and only the inquiries, orders and claims it is a party to: a record of another's deal
is not found (404), so ids cannot be probed."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from weishang.b2b.models import BusinessAccount, BusinessMember, Claim, Inquiry, Listing, Order, Shipment


def member_of(user) -> BusinessMember | None:
    """The person's company membership, if they act for an active company."""
    if not getattr(user, "is_authenticated", False):
        return None
    member = BusinessMember.objects.select_related("account").filter(user=user, active=True).first()
    if member is None or not member.account.active:
        return None
    return member


def market(member: BusinessMember, *, query: str = "") -> QuerySet[Listing]:
    """Active listings of other active selling companies, with their tiers and pictures."""
    listings = (
        Listing.objects.filter(active=True, seller__active=True)
        .exclude(seller=member.account)
        .select_related("seller")
        .prefetch_related("tiers", "images")
    )
    if query:
        listings = listings.filter(Q(title__icontains=query[:50]) | Q(seller__name__icontains=query[:50]))
    return listings.order_by("seller__name", "title")


def own_listings(member: BusinessMember) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=member.account).prefetch_related("tiers", "images").order_by("title")


def seller_listings(seller: BusinessAccount) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=seller, active=True).prefetch_related("tiers").order_by("title")


def _party(account: BusinessAccount) -> Q:
    return Q(buyer=account) | Q(seller=account)


def inquiries(member: BusinessMember) -> QuerySet[Inquiry]:
    return Inquiry.objects.filter(_party(member.account)).select_related("buyer", "seller")


def orders(member: BusinessMember) -> QuerySet[Order]:
    return Order.objects.filter(_party(member.account)).select_related("buyer", "seller")


def claims(member: BusinessMember) -> QuerySet[Claim]:
    return Claim.objects.filter(Q(order__buyer=member.account) | Q(order__seller=member.account)).select_related(
        "order", "line"
    )


def shipments(member: BusinessMember) -> QuerySet[Shipment]:
    return Shipment.objects.filter(Q(order__buyer=member.account) | Q(order__seller=member.account))
