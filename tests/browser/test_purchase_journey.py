"""A full purchase in the console, in Chinese (M14): the owner drafts an order for the factory's
masks, sends it, the factory confirms; the goods arrive with one box crushed (rejected with its
reason and a photo, which only the order's page shows); the factory's bill is entered and matched,
and paid. The order shows what was accepted, rejected and billed, the bill is paid, and the
supplier is owed nothing for it."""

from __future__ import annotations

import re

import pytest
from browser_steps import console_log_in, expect, png_file

pytestmark = pytest.mark.browser


def test_a_purchase_from_order_to_payment(demo, page, shot, tmp_path):
    from weishang.ledger.selectors import ledger_verify
    from weishang.purchasing.models import PurchaseOrder, Supplier

    owner = page
    console_log_in(owner, "owner")
    owner.goto("/console/purchasing/purchaseorder/")
    owner.get_by_role("link", name="新建采购单").click()
    new = owner.locator("[data-testid=po-new]")
    factory = Supplier.objects.get(name__startswith="广州焕颜")
    new.locator("select[name=supplier]").select_option(str(factory.pk))
    from weishang.catalog.models import SKU

    new.locator("select[name=sku_0]").select_option(str(SKU.objects.get(code="GLOW-MASK5").pk))
    new.locator("input[name=quantity_0]").fill("50")
    new.get_by_role("button", name="创建采购单草稿").click()
    expect(owner.get_by_text(re.compile("草稿已创建"))).to_be_visible()
    po = PurchaseOrder.objects.order_by("-pk").first()
    assert po.supplier == factory and str(po.lines.get().unit_price) == "12.80"  # the factory's price

    steps = owner.locator("[data-testid=po-steps]")
    steps.locator("[data-move=send]").click()
    expect(owner.get_by_text(re.compile("现在的状态：已发送供应商"))).to_be_visible()
    steps.locator("[data-move=confirm]").click()
    expect(owner.get_by_text(re.compile("现在的状态：供应商已确认"))).to_be_visible()

    receive = owner.locator("[data-testid=po-receive]")
    row = receive.locator("tr[data-sku='GLOW-MASK5']")
    row.locator("input[name^=accepted]").fill("49")
    row.locator("input[name^=rejected]").fill("1")
    receive.get_by_role("button", name="登记收货").click()
    expect(owner.get_by_text(re.compile("请说明 1 件不合格的原因"))).to_be_visible()  # no reason: refused
    row = owner.locator("[data-testid=po-receive] tr[data-sku='GLOW-MASK5']")
    row.locator("input[name^=accepted]").fill("49")
    row.locator("input[name^=rejected]").fill("1")
    row.locator("input[name^=reason]").fill("外箱压坏")
    row.locator("input[name^=batch]").fill("MK20261205")  # the demo keeps its masks by batch
    row.locator("input[name^=expires]").fill("2028-10-31")
    row.locator("input[type=file]").set_input_files(str(png_file(tmp_path / "crushed.png", (160, 120))))
    owner.locator("[data-testid=po-receive] input[name=freight]").fill("15.00")
    owner.locator("[data-testid=po-receive]").get_by_role("button", name="登记收货").click()
    expect(owner.get_by_text(re.compile("收货单 GR\\d+.* 已登记"))).to_be_visible()
    from weishang.inventory.models import Batch

    assert str(Batch.objects.get(code="MK20261205").expires_on) == "2028-10-31"
    lines = owner.locator("[data-testid=po-lines] tr[data-sku='GLOW-MASK5']")
    expect(lines.locator("[data-col=accepted]")).to_have_text("49")
    expect(lines.locator("[data-col=rejected]")).to_have_text("1")
    photo = owner.locator("a[data-photo]")
    expect(photo).to_have_text("质检照片")
    response = owner.request.get(photo.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    shot(owner, "received-one-rejected")

    bill = owner.locator("[data-testid=po-bill]")
    bill.locator("input[name=number]").fill("GZHY-2026-1205")
    bill.locator("tr[data-sku='GLOW-MASK5'] input[name^=billed]").fill("50")  # more than accepted
    bill.get_by_role("button", name="入账").click()
    expect(owner.get_by_text(re.compile("开票 50 件，但已收货未开票的只有 49 件"))).to_be_visible()
    bill = owner.locator("[data-testid=po-bill]")
    bill.locator("input[name=number]").fill("GZHY-2026-1205")
    bill.get_by_role("button", name="入账").click()  # 49 at ¥12.80 = ¥627.20
    expect(owner.get_by_text(re.compile("账单 GZHY-2026-1205 已入账：¥627.20"))).to_be_visible()

    bills = owner.locator("[data-testid=po-bills] [data-bill='GZHY-2026-1205']")
    bills.locator("input[name=reference]").fill("网银 1205-01")
    bills.get_by_role("button", name="付款").click()
    expect(owner.get_by_text(re.compile("已为账单 GZHY-2026-1205 付款 ¥627.20"))).to_be_visible()
    expect(owner.locator("[data-bill='GZHY-2026-1205'] [data-col=status]")).to_have_text("已付款")
    shot(owner, "bill-paid")
    assert ledger_verify() == []
