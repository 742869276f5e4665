"""Brand operations (M14), in Chinese: the owner picks a product and runs the warehouse.

选品: the shortlisted enzyme jelly is scored on its last criteria, a photo of the sample added, and
adopted into the catalog as a SKU; 库存估值 shows the warehouse's stock at its average cost; 盘点: a
count is begun, one SKU found two short, posted, and the loss shows in the valuation; 销售分析 shows
the brand's own sales with their cost and margin."""

from __future__ import annotations

import re

import pytest
from browser_steps import console_log_in, expect, png_file

pytestmark = pytest.mark.browser


def test_the_owner_selects_a_product_counts_the_warehouse_and_reads_the_sales(demo, page, shot, tmp_path):
    from weishang.catalog.models import SKU
    from weishang.inventory.models import SkuValuation
    from weishang.selection.models import Candidate

    owner = page
    console_log_in(owner, "owner")

    # 选品: the jelly on the shortlist
    jelly = Candidate.objects.get(name="白芸豆酵素果冻")
    owner.goto(f"/console/selection/candidate/{jelly.pk}/change/")
    card = owner.locator("[data-testid=scorecard]")
    expect(card).to_contain_text("评分表")
    before = card.locator("[data-testid=total]").inner_text()
    card.locator("[data-criterion=storage] select").select_option("5")
    card.get_by_role("button", name="保存评分").click()
    expect(owner.get_by_text("评分已保存。")).to_be_visible()
    expect(owner.locator("[data-testid=total]")).not_to_have_text(before)
    shot(owner, "selection-scored")
    owner.locator("input[name=photo]").set_input_files(str(png_file(tmp_path / "jelly.png", (200, 150))))
    owner.get_by_role("button", name="上传").click()
    expect(owner.get_by_text("照片已添加。")).to_be_visible()
    shot(owner, "selection-scorecard")
    owner.locator("input[name=sku_code]").fill("JELLY-10")
    owner.get_by_role("button", name="选定").click()
    expect(owner.get_by_text(re.compile("已加入商品库，请在拿货价表"))).to_be_visible()
    sku = SKU.objects.get(code="JELLY-10")
    assert sku.retail_price == 168 and sku.product.images.count() == 2  # the demo's box photo and this one

    # 库存估值: the serum's stock at its average cost
    serum = SkuValuation.objects.get(sku__code="GLOW-30ML")
    owner.goto("/console/inventory/skuvaluation/")
    expect(owner.locator("#result_list")).to_contain_text("GLOW-30ML")
    owner.goto(f"/console/inventory/skuvaluation/{serum.pk}/change/")
    expect(owner.locator("[data-testid=average-cost]")).to_have_text(re.compile(r"¥\d+\.\d{2}"))

    # 盘点: begin a count, the serum is two short, post it
    owner.goto("/console/inventory/stockcount/add/")
    owner.locator("select[name=location]").select_option(index=1)
    owner.locator("[name=_continue]").click()
    expect(owner.locator("[data-testid=count-sheet]")).to_be_visible()
    row = owner.locator("[data-testid=count-sheet] tr[data-sku='GLOW-30ML']")
    expected = int(row.locator("td").nth(1).inner_text())
    row.locator("input[type=number]").fill(str(expected - 2))
    row.locator("input[type=text]").fill("盘点少 2 瓶")
    owner.get_by_role("button", name="过账").click()
    expect(owner.get_by_text(re.compile("已过账：1 个 SKU 有差异"))).to_be_visible()
    expect(owner.locator("[data-testid=count-sheet] tr[data-sku='GLOW-30ML'] td").nth(4)).to_have_text("-2")
    shot(owner, "stock-count-posted")
    assert SkuValuation.objects.get(pk=serum.pk).quantity == serum.quantity - 2

    # 销售分析: the brand's own sales with their cost and margin
    owner.goto("/console/sales/salesline/analysis/")
    analysis = owner.locator("[data-testid=sales-analysis]")
    analysis.locator("select[name=scope]").select_option("brand")
    analysis.get_by_role("button", name="显示").click()
    expect(analysis.locator("[data-testid=sales-rows]")).to_contain_text("毛利")
    expect(analysis.locator("tr[data-key=total]")).to_contain_text("¥")
    shot(owner, "sales-analysis")
