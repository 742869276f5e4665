"""Editing a listing: the row is locked for the edit and only the form's fields are written."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from weishang.b2b import services
from weishang.b2b.models import Listing, MemberRole
from weishang.core.errors import NotFound

pytestmark = pytest.mark.django_db


def edit(member, listing, **changes):
    values = {"title": listing.title, "unit": listing.unit, "min_quantity": listing.min_quantity}
    return services.listing_save(
        member=member, listing=listing, tiers=[("10", "78"), ("100", "60")], **(values | changes)
    )


def test_an_edit_from_a_page_read_before_does_not_undo_a_listing_switched_off_meanwhile(listing, brand_co, member):
    sales = member(brand_co, MemberRole.SALES)
    page = Listing.objects.get(pk=listing.pk)  # the edit page, opened while the listing was listed
    services.listing_set_active(member=sales, listing=Listing.objects.get(pk=listing.pk), active=False)
    edit(sales, page, title="焕颜修护精华 30ml 批发（新）")
    listing.refresh_from_db()
    assert (listing.title, listing.active) == ("焕颜修护精华 30ml 批发（新）", False)
    assert [(t.min_quantity, str(t.unit_price)) for t in listing.tiers.all()] == [(10, "78.00"), (100, "60.00")]


def test_an_edit_locks_the_listings_row(listing, brand_co, member):
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite serialises writers (transaction_mode IMMEDIATE); no row locks to see")
    sales = member(brand_co, MemberRole.SALES)
    with CaptureQueriesContext(connection) as queries:
        edit(sales, listing, title="改价")
    locks = [
        q["sql"] for q in queries if "FOR UPDATE" in q["sql"] and '"b2b_listing"' in q["sql"].split("FOR UPDATE")[0]
    ]
    assert locks and locks[0].lstrip().startswith("SELECT")


def test_another_companys_listing_is_not_found(listing, other_seller, member):
    stranger = member(other_seller, MemberRole.ADMIN)
    with pytest.raises(NotFound):
        edit(stranger, listing, title="抢走")
    listing.refresh_from_db()
    assert listing.title == "焕颜修护精华 30ml 批发"
