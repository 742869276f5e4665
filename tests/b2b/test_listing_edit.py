"""Editing a listing: the row is locked for the edit and only the form's fields are written."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from weishang.b2b import services
from weishang.b2b.models import Listing, MemberRole
from weishang.core.errors import Conflict, NotFound

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


def test_an_edit_from_a_page_opened_before_anothers_saved_edit_is_refused(listing, brand_co, member):
    """Two people open the listing's page (version 1). The first saves a new price; the second,
    saving from the page that never showed it, is refused and writes nothing: the later edit does
    not silently undo the first."""
    first, second = member(brand_co, MemberRole.SALES), member(brand_co, MemberRole.ADMIN)
    opened = Listing.objects.get(pk=listing.pk).version
    services.listing_save(
        member=first, listing=listing, version=opened, title="焕颜精华 新价", tiers=[("10", "70")], min_quantity=10
    )
    for stale in (opened, str(opened), "", "abc", "-1", "1e9"):
        with pytest.raises(Conflict) as refused:
            services.listing_save(
                member=second, listing=listing, version=stale, title="旧页面", tiers=[("10", "99")], min_quantity=10
            )
        assert refused.value.status == 409 and refused.value.code == "stale_listing"
    listing.refresh_from_db()
    assert (listing.title, listing.version) == ("焕颜精华 新价", opened + 1)
    assert [(t.min_quantity, str(t.unit_price)) for t in listing.tiers.all()] == [(10, "70.00")]
    # Opened again, the page shows the new version: the second edit goes through.
    services.listing_save(
        member=second, listing=listing, version=listing.version, title="再改", tiers=[("10", "72")], min_quantity=10
    )
    listing.refresh_from_db()
    assert (listing.title, listing.version) == ("再改", opened + 2)


def test_the_page_says_so_in_chinese_and_shows_the_saved_edit(client, listing, brand_co, member):
    first, second = member(brand_co, MemberRole.SALES), member(brand_co, MemberRole.ADMIN)
    url = f"/b2b/listings/{listing.pk}/"
    client.force_login(second.user)
    page = client.get(url).content.decode()
    assert f'name="version" value="{listing.version}"' in page
    services.listing_save(
        member=first, listing=listing, version=listing.version, title="焕颜精华 新价", tiers=[("1", "70")]
    )
    form = {
        "version": str(listing.version),
        "title": "旧页面上的改动",
        "unit": "件",
        "min_quantity": "1",
        "lead_days": "7",
        "warranty_days": "90",
        "tier-0-quantity": "1",
        "tier-0-price": "99",
    }
    response = client.post(url, form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    page = response.content.decode()
    assert "在你打开之后" in page and "焕颜精华 新价" in page
    assert f'name="version" value="{listing.version + 1}"' in page  # the form now carries the saved version
    listing.refresh_from_db()
    assert listing.title == "焕颜精华 新价" and [str(t.unit_price) for t in listing.tiers.all()] == ["70.00"]
    form["version"] = str(listing.version)
    assert client.post(url, form).status_code == 302
    listing.refresh_from_db()
    assert listing.title == "旧页面上的改动"


def test_the_edit_form_starts_from_the_saved_tiers_and_keeps_what_was_typed_when_refused(
    client, listing, brand_co, member
):
    client.force_login(member(brand_co, MemberRole.SALES).user)
    url = f"/b2b/listings/{listing.pk}/"
    page = client.get(url).content.decode()
    for i, tier in enumerate(listing.tiers.all()):
        assert (
            f'name="tier-{i}-quantity" inputmode="numeric" data-testid="tier-{i}-quantity" value="{tier.min_quantity}"'
            in page
        )
        assert f'data-testid="tier-{i}-price" value="{tier.unit_price}"' in page
    typed = {"version": str(listing.version), "title": "改价", "unit": "件", "min_quantity": "1", "lead_days": "7"}
    typed |= {"warranty_days": "90", "tier-0-quantity": "1", "tier-0-price": "-5", "tier-1-quantity": "500"}
    response = client.post(url, typed | {"tier-1-price": "55"})
    assert response.status_code == 400  # a negative price: refused, nothing written
    page = response.content.decode()
    assert 'data-testid="tier-0-price" value="-5"' in page and 'data-testid="tier-1-quantity" value="500"' in page
    assert 'name="title" maxlength="100" required value="改价"' in page
    listing.refresh_from_db()
    assert listing.title != "改价"


def test_a_listing_with_more_tiers_than_the_empty_form_has_keeps_them_all_on_edit(client, brand_co, member, sku):
    sales = member(brand_co, MemberRole.SALES)
    tiers = [("1", "99"), ("10", "90"), ("50", "85"), ("100", "80"), ("500", "70")]
    item = services.listing_save(member=sales, title="五档价", tiers=tiers)
    client.force_login(sales.user)
    url = f"/b2b/listings/{item.pk}/"
    page = client.get(url).content.decode()
    assert 'data-testid="tier-4-quantity" value="500"' in page and 'data-testid="tier-4-price" value="70.00"' in page
    form = {"version": str(item.version), "title": "五档价（改）", "unit": "件", "min_quantity": "1"}
    form |= {"lead_days": "7", "warranty_days": "90"}
    form |= {
        f"tier-{i}-{part}": value
        for i, row in enumerate(tiers)
        for part, value in zip(("quantity", "price"), row, strict=True)
    }
    assert client.post(url, form).status_code == 302
    item.refresh_from_db()
    assert [(t.min_quantity, str(t.unit_price)) for t in item.tiers.all()] == [
        (1, "99.00"),
        (10, "90.00"),
        (50, "85.00"),
        (100, "80.00"),
        (500, "70.00"),
    ]
