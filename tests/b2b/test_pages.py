"""The /b2b/ pages as the companies' people use them: each side sees the whole negotiation, no
company sees another's deals, roles hold, hostile input changes nothing, and the PDFs read back
in the reader's language."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from b2b_helpers import day  # tests/b2b/b2b_helpers.py
from pypdf import PdfReader

from weishang.b2b import services
from weishang.b2b.models import Inquiry, MemberRole, Offer, OrderStatus

pytestmark = pytest.mark.django_db
D = Decimal


def login(client, member):
    client.force_login(member.user)
    return client


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    # pypdf reads fpdf2's two-byte codes a byte at a time: a NUL before each character
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).replace("\x00", "")


def deal_urls(deal) -> list[str]:
    order, claim = deal["order"], deal["claim"]
    return [
        f"/b2b/inquiries/{deal['inquiry'].pk}/",
        f"/b2b/offers/{deal['offer'].pk}.pdf",
        f"/b2b/orders/{order.pk}/",
        f"/b2b/orders/{order.pk}.pdf",
        f"/b2b/shipments/{deal['shipment'].pk}.pdf",
        f"/b2b/credit-notes/{claim.credit_note.pk}.pdf",
    ]


def test_both_sides_see_the_whole_negotiation(client, deal):
    for who in ("buyer", "seller"):
        page = login(client, deal["people"][who]).get(f"/b2b/inquiries/{deal['inquiry'].pk}/").content.decode()
        for round_, price in ((1, "65.00"), (2, "60.00"), (3, "63.00")):
            assert f'data-testid="round-{round_}"' in page and f"¥{price}" in page
        client.logout()


def test_another_company_finds_none_of_the_deal(client, deal, other_buyer, other_seller, member):
    for company in (other_buyer, other_seller):
        login(client, member(company, MemberRole.ADMIN))
        for url in deal_urls(deal):
            assert client.get(url).status_code == 404, url
        assert deal["order"].number not in client.get("/b2b/orders/").content.decode()
        assert deal["inquiry"].number not in client.get("/b2b/inquiries/").content.decode()
        client.logout()


def test_the_seller_does_not_show_one_buyer_anothers_deal(client, deal, brand_co, other_buyer, member, listing):
    """Neither side sees the other's other customers: the brand's deal with a second buyer is
    on the brand's lists, and on neither the salon's pages nor the second buyer's of the first."""
    second = member(other_buyer, MemberRole.BUYER)
    theirs = services.inquiry_create(member=second, seller=brand_co, lines=[(listing, "20")])
    login(client, deal["people"]["seller"])
    listed = client.get("/b2b/inquiries/").content.decode()
    assert theirs.number in listed and deal["inquiry"].number in listed
    login(client, deal["people"]["buyer"])
    assert theirs.number not in client.get("/b2b/inquiries/").content.decode()
    assert client.get(f"/b2b/inquiries/{theirs.pk}/").status_code == 404


def test_people_without_a_company_are_refused(client, deal, make_agent, levels):
    assert client.get("/b2b/").status_code == 302  # to sign in
    agent = make_agent("city")
    client.force_login(agent.user)
    for url in ["/b2b/", "/b2b/market/", *deal_urls(deal)]:
        assert client.get(url).status_code == 404, url


def test_a_switched_off_company_or_member_reaches_nothing(client, deal, salon):
    buyer = deal["people"]["buyer"]
    services.member_update(member=buyer, role=buyer.role, active=False)
    assert login(client, buyer).get("/b2b/").status_code == 404
    services.member_update(member=buyer, role=buyer.role, active=True)
    salon.active = False
    salon.save()
    assert client.get(f"/b2b/orders/{deal['order'].pk}/").status_code == 404


def test_a_role_sees_only_its_forms_and_is_refused_the_rest(client, deal):
    order = deal["order"]
    finance = deal["people"]["finance"]
    page = login(client, finance).get(f"/b2b/orders/{order.pk}/").content.decode()
    assert 'data-testid="pay-form"' in page and 'data-testid="ship-form"' not in page
    line = order.lines.get()
    response = client.post(
        f"/b2b/orders/{order.pk}/",
        {"action": "ship", f"ship-{line.pk}": "10", "carrier": "顺丰", "tracking_number": "X"},
    )
    assert response.status_code == 403 and "角色" in response.content.decode()
    assert order.shipments.count() == 1


def test_the_pdfs_read_back_in_chinese_and_in_english(client, deal):
    order = deal["order"]
    login(client, deal["people"]["buyer"])
    text = pdf_text(client.get(f"/b2b/orders/{order.pk}.pdf"))
    assert "采购合同" in text and order.number in text and "6,300.00" in text
    note = deal["claim"].credit_note
    assert "贷项通知单" in pdf_text(client.get(f"/b2b/credit-notes/{note.pk}.pdf"))
    assert "报价单" in pdf_text(client.get(f"/b2b/offers/{Offer.objects.get(inquiry=deal['inquiry'], round=1).pk}.pdf"))
    assert "送货单" in pdf_text(client.get(f"/b2b/shipments/{deal['shipment'].pk}.pdf"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/b2b/"})
    english = pdf_text(client.get(f"/b2b/orders/{order.pk}.pdf"))
    assert "Purchase contract" in english and "Payment terms" in english
    assert "Credit note" in pdf_text(client.get(f"/b2b/credit-notes/{note.pk}.pdf"))


@pytest.mark.parametrize(
    "quantity",
    ["-1", "abc", "1" * 30, "9.5", "\x00", "<script>", "１０", "5"],  # 5: under the minimum of 10
)
def test_a_hostile_inquiry_is_refused_on_the_page_and_makes_nothing(client, brand_co, salon, member, listing, quantity):
    login(client, member(salon, MemberRole.BUYER))
    before = Inquiry.objects.count()
    response = client.post(f"/b2b/ask/{brand_co.pk}/", {f"quantity-{listing.pk}": quantity, "wanted_date": day(3)})
    assert response.status_code == 400
    assert 'data-testid="error"' in response.content.decode()
    assert Inquiry.objects.count() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"terms": "gift"},
        {"deposit_percent": "100"},
        {"delivery_date": "2020-01-01"},
        {"valid_until": "not-a-date"},
        {"valid_until": "9999-12-31"},
        {"price": "NaN"},
        {"price": "-3"},
        {"price": "1" * 40},
    ],
)
def test_a_hostile_offer_changes_nothing(client, brand_co, salon, member, listing, fields):
    buyer = member(salon, MemberRole.BUYER)
    inquiry = services.inquiry_create(member=buyer, seller=brand_co, lines=[(listing, "20")])
    line = inquiry.lines.get()
    login(client, member(brand_co, MemberRole.SALES))
    form = {
        "action": "offer",
        f"quantity-{line.pk}": "20",
        f"price-{line.pk}": fields.get("price", "70"),
        "terms": fields.get("terms", "deposit"),
        "deposit_percent": fields.get("deposit_percent", "30"),
        "delivery_date": fields.get("delivery_date", day(5)),
        "valid_until": fields.get("valid_until", day(5)),
    }
    response = client.post(f"/b2b/inquiries/{inquiry.pk}/", form)
    assert response.status_code == 400, response.status_code
    assert not inquiry.offers.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"action": "explode"},
        {"action": "receive", "shipment": "99999999999999999999"},
        {"action": "claim", "line": "abc"},
        {"action": "resolve", "claim": "-1"},
        {"action": "pay", "amount": "1e9"},
    ],
)
def test_hostile_order_actions_are_4xx_and_change_nothing(client, deal, form):
    order = deal["order"]
    login(client, deal["people"]["seller"])
    before = services.statement(order)
    response = client.post(f"/b2b/orders/{order.pk}/", form)
    assert 400 <= response.status_code < 500
    assert services.statement(order) == before


def test_a_claim_photo_must_be_a_picture(client, deal):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = deal["order"]
    login(client, deal["people"]["buyer"])
    line = order.lines.get()
    response = client.post(
        f"/b2b/orders/{order.pk}/",
        {
            "action": "claim",
            "line": line.pk,
            "kind": "quality",
            "quantity": "1",
            "reason": "坏了",
            "photos": SimpleUploadedFile("x.png", b"<?php echo 1; ?>", content_type="image/png"),
        },
    )
    assert response.status_code == 400
    assert order.claims.count() == 1


def test_a_seller_records_the_balance_and_the_order_completes_on_the_page(client, deal):
    order = deal["order"]
    line = order.lines.get()
    login(client, deal["people"]["seller"])
    client.post(
        f"/b2b/orders/{order.pk}/",
        {"action": "ship", f"ship-{line.pk}": "60", "carrier": "顺丰", "tracking_number": "SF78"},
    )
    login(client, deal["people"]["buyer"])
    client.post(f"/b2b/orders/{order.pk}/", {"action": "receive", "shipment": order.shipments.last().pk})
    left = services.statement(order).unpaid
    assert left == D("6300") - D("126") - D("1890")
    login(client, deal["people"]["seller"])
    page = client.post(f"/b2b/orders/{order.pk}/", {"action": "pay", "amount": str(left)}, follow=True)
    assert "已完成" in page.content.decode() or "Completed" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert services.b2b_verify() == []


def _pay_token(page: str) -> str:
    import re

    form = page.split('data-testid="pay-form"', 1)[1].split("</form>", 1)[0]
    return re.search(r'name="token" value="([^"]+)"', form).group(1)


def test_the_same_payment_form_posted_twice_records_one_payment(client, deal):
    """A double click on "record the payment" with no bank reference: the second post of the same
    form records nothing and lands on the order page with the one payment."""
    order = deal["order"]
    login(client, deal["people"]["finance"])
    token = _pay_token(client.get(f"/b2b/orders/{order.pk}/").content.decode())
    before = services.statement(order)
    form = {"action": "pay", "amount": "100", "reference": "", "token": token}
    first = client.post(f"/b2b/orders/{order.pk}/", form)
    assert first.status_code == 302
    second = client.post(f"/b2b/orders/{order.pk}/", form, follow=True)
    assert second.status_code == 200
    page = second.content.decode()
    payment = order.payments.get(amount=D("100"))  # one payment of ¥100
    assert page.count(payment.number) == 2  # the message and the payment list
    assert f"这张表单已提交过：付款 {payment.number}（¥100.00）已记录，只记一次。" in page
    assert services.statement(order).paid == before.paid + D("100")
    assert services.b2b_verify() == []
    # the page now issues a new token: the next payment is recorded
    assert _pay_token(page) != token
    client.post(f"/b2b/orders/{order.pk}/", form | {"token": _pay_token(page)})
    assert order.payments.filter(amount=D("100")).count() == 2


def test_a_refused_payment_form_keeps_its_token_and_a_bad_token_is_refused(client, deal):
    order = deal["order"]
    login(client, deal["people"]["finance"])
    token = _pay_token(client.get(f"/b2b/orders/{order.pk}/").content.decode())
    refused = client.post(f"/b2b/orders/{order.pk}/", {"action": "pay", "amount": "abc", "token": token})
    assert refused.status_code == 400 and _pay_token(refused.content.decode()) == token
    count = order.payments.count()
    bad = client.post(f"/b2b/orders/{order.pk}/", {"action": "pay", "amount": "100", "token": "x' OR 1=1"})
    assert bad.status_code == 400 and "表单已失效" in bad.content.decode()
    assert order.payments.count() == count


def test_the_same_shipment_form_posted_twice_ships_once(client, deal):
    """Shipments need a tracking number, and the same one twice is refused with a message."""
    order = deal["order"]
    line = order.lines.get()
    login(client, deal["people"]["seller"])
    form = {"action": "ship", f"ship-{line.pk}": "10", "carrier": "顺丰", "tracking_number": "SF90"}
    assert client.post(f"/b2b/orders/{order.pk}/", form).status_code == 302
    second = client.post(f"/b2b/orders/{order.pk}/", form)
    assert second.status_code == 409
    assert "本订单已登记过这个运单号的发货" in second.content.decode()
    assert order.shipments.filter(tracking_number="SF90").count() == 1
    line.refresh_from_db()
    assert line.shipped == 50
