"""A full B2B deal on the /b2b/ pages, in Chinese (M14), between the demo's brand (login ``b2b``)
and its salon customer (``salon``): the brand lists a product with prices by quantity; the salon
asks for 100; the brand quotes, the salon counters, the brand counters again, the salon accepts
with a 30% deposit; the brand records the deposit and ships 40 of the 100; the salon confirms
receipt and claims 2 broken bottles with a photo; the brand closes the claim with a credit note,
whose PDF opens. Both sides read the same three rounds, and the brand's books agree."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser_steps import expect, log_in, png_file

pytestmark = pytest.mark.browser


def test_a_b2b_deal_from_listing_to_credit_note(demo, phone, shot, tmp_path):
    from weishang.b2b.models import Listing, Order
    from weishang.b2b.services import b2b_verify
    from weishang.core import clock
    from weishang.ledger.selectors import ledger_verify

    day = lambda n: f"{clock.today() + timedelta(days=n):%Y-%m-%d}"  # noqa: E731
    brand, salon = phone(), phone()
    log_in(brand, "b2b")
    brand.goto("/b2b/listings/")
    form = brand.locator("[data-testid=listing-form]")
    form.locator("input[name=title]").fill("焕颜修护精华 30ml（连锁店装）")
    form.locator("input[name=unit]").fill("瓶")
    form.locator("input[name=min_quantity]").fill("50")
    form.locator("[data-testid=tier-0-quantity]").fill("50")
    form.locator("[data-testid=tier-0-price]").fill("82")
    form.locator("[data-testid=tier-1-quantity]").fill("100")
    form.locator("[data-testid=tier-1-price]").fill("78")
    form.get_by_role("button", name="挂牌上架").click()
    expect(brand.get_by_role("heading", name="焕颜修护精华 30ml（连锁店装）")).to_be_visible()
    listing = Listing.objects.get(title="焕颜修护精华 30ml（连锁店装）")

    # Two tabs on the listing's edit form: the first saves a delivery note; the second, opened
    # before that, saves a lead time and is told that the listing changed, shown the note, and
    # nothing of its own is written over it.
    listing_url, second_tab = brand.url, phone()
    log_in(second_tab, "b2b")
    second_tab.goto(listing_url)

    def edit(page, **fields) -> None:  # the form starts from the saved details and price tiers
        form = page.locator("[data-testid=listing-edit-form]")
        expect(form.locator("[data-testid=tier-1-quantity]")).to_have_value("100")
        expect(form.locator("[data-testid=tier-1-price]")).to_have_value("78.00")
        for name, value in fields.items():
            form.locator(f"[name={name}]").fill(value)
        form.get_by_role("button", name="保存").click()

    edit(brand, description="冷链发货，三天内到店")
    expect(brand.locator("[data-testid=listing-edit-form] textarea[name=description]")).to_have_value(
        "冷链发货，三天内到店"
    )
    edit(second_tab, lead_days="5")
    expect(second_tab.get_by_test_id("error")).to_contain_text("其他人已保存了对这个商品的修改")
    expect(second_tab.locator("[data-testid=listing-edit-form] textarea[name=description]")).to_have_value(
        "冷链发货，三天内到店"
    )
    expect(second_tab.locator("[data-testid=listing-edit-form] [data-testid=tier-0-price]")).to_have_value("82.00")
    shot(second_tab, "stale-listing-edit")
    listing.refresh_from_db()
    assert (listing.description, listing.lead_days, listing.version) == ("冷链发货，三天内到店", 7, 2)

    log_in(salon, "salon")
    salon.goto("/b2b/market/")
    expect(salon.locator(f"[data-testid=listing-{listing.pk}]")).to_contain_text("100+")
    salon.locator(f"[data-testid=ask-{listing.seller_id}]").click()
    salon.locator(f"[data-testid=quantity-{listing.pk}]").fill("100")
    salon.locator("input[name=wanted_date]").fill(day(12))
    salon.get_by_role("button", name="发送询价").click()
    expect(salon.locator("[data-testid=inquiry-status]")).to_contain_text("待报价")
    inquiry_url = salon.url

    def offer(page, price: str, *, valid: str | None = None) -> None:
        form = page.locator("[data-testid=offer-form]")
        form.locator("input[name^=price-]").fill(price)
        if valid:
            form.locator("[data-testid=valid-until]").fill(valid)
        form.get_by_role("button", name="发送").click()

    brand.goto(inquiry_url)
    expect(brand.locator("[data-testid=offer-form] input[name^=price-]")).to_have_value("78.00")  # the tier's
    offer(brand, "78", valid=day(7))
    expect(brand.locator("[data-testid=round-1]")).to_contain_text("¥7800.00")
    salon.goto(inquiry_url)
    offer(salon, "70")
    brand.goto(inquiry_url)
    offer(brand, "74")
    salon.goto(inquiry_url)
    history = salon.locator("[data-testid=history]")
    for n, total in ((1, "7800.00"), (2, "7000.00"), (3, "7400.00")):
        expect(history.locator(f"[data-testid=round-{n}]")).to_contain_text(f"¥{total}")
    shot(salon, "three-rounds")
    salon.locator("[data-testid=accept-form]").get_by_role("button").click()
    expect(salon.locator("[data-testid=order-status]")).to_contain_text("待付款")
    order = Order.objects.get(offer__inquiry__lines__listing=listing)
    assert (order.total, order.deposit_amount) == (7400, 2220)
    order_url = salon.url

    brand.goto(order_url)
    brand.locator("[data-testid=pay-amount]").fill("2220")
    brand.get_by_role("button", name="登记收款").click()
    expect(brand.locator("[data-testid=order-status]")).to_contain_text("已确认")
    line = order.lines.get()
    brand.locator(f"[data-testid=ship-{line.pk}]").fill("40")
    brand.locator("[data-testid=carrier]").fill("顺丰速运")
    brand.locator("[data-testid=tracking]").fill("SF2026120501")
    brand.get_by_role("button", name="按以上数量发货").click()
    expect(brand.locator("[data-testid=order-status]")).to_contain_text("部分发货")
    expect(brand.locator(f"[data-testid=to-ship-{line.pk}]")).to_have_text("60")

    salon.goto(order_url)
    salon.locator("[data-testid=shipments] button").click()
    expect(salon.locator("[data-testid=shipments] button")).to_have_count(0)  # received: nothing left to confirm
    claim = salon.locator("[data-testid=claim-form]")
    claim.locator("select[name=kind]").select_option("quality")
    claim.locator("[data-testid=claim-quantity]").fill("2")
    claim.locator("[data-testid=claim-reason]").fill("两瓶滴管破裂")
    claim.locator("input[type=file]").set_input_files(str(png_file(tmp_path / "broken.png", (160, 120))))
    claim.get_by_role("button", name="提交售后申请").click()
    expect(salon.locator("[data-testid=claims]")).to_contain_text("两瓶滴管破裂")

    brand.goto(order_url)
    photo = brand.locator("[data-testid=claims] img")
    assert brand.request.get(photo.get_attribute("src")).headers["content-type"] == "image/png"
    resolve = brand.locator("[data-testid=claims] form")
    resolve.locator("select[name=resolution]").select_option("credit_note")
    resolve.locator("input[name=answer]").fill("按 2 瓶冲减货款")
    resolve.get_by_role("button", name="处理").click()
    expect(brand.locator("[data-testid=credited]")).to_have_text("¥148.00")  # 2 × 74
    expect(brand.locator("[data-testid=owed]")).to_have_text(
        "¥592.00"
    )  # invoiced 40 × 74, less 148 and the 2,220 deposit
    pdf = brand.request.get(brand.locator("[data-testid=credit-note-pdf]").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    shot(brand, "credit-note")
    assert ledger_verify() == [] and b2b_verify() == []
    assert re.search(r"贷项通知单 CN\d+", brand.locator("[data-testid=claims]").inner_text())
