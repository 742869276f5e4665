"""Journey, in Chinese on a phone (M9, the launch toolkit so far): the demo's 特约 sees the product's
picture on the order page and opens the product's page; opens the material centre, where
everything is new on a first visit, copies a material's text with one tap (the clipboard holds it,
the brand's count goes up) and downloads its pictures as one zip (read back); makes a poster from
the brand's template (a PNG of the template's size); searches 百问百答 for 结算 and 代理; a second
browser, logged in as nobody, opens the brand's qualifications from the shop and sees the expired
licence flagged."""

from __future__ import annotations

import io
import zipfile

import pytest
from browser_steps import expect, log_in
from PIL import Image

from weishang.toolkit.models import Material, MaterialUse, PosterTemplate

pytestmark = pytest.mark.browser


def test_pictures_materials_poster_and_the_brand_page(demo, phone, shot):
    vip = demo.vip
    agent = phone("zh-CN")
    agent.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(agent, vip.phone)

    # The order page shows the product's picture; it opens the product's page.
    agent.goto("/m/order/")
    thumb = agent.locator("img.thumb").first
    expect(thumb).to_be_visible()
    # The picture has loaded and drawn (lazy loading: wait for it rather than read it at once).
    agent.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    shot(agent, "order-with-pictures")
    agent.get_by_role("link", name="焕颜修护精华 30ml").first.click()
    expect(agent.get_by_role("heading", name="焕颜修护系列")).to_be_visible()
    expect(agent.get_by_text("积雪草与神经酰胺，修护泛红干痒的敏感肌")).to_be_visible()
    shot(agent, "product-page")

    # The material centre: all new on a first visit; copy a text; download the pictures.
    agent.goto("/m/me/")
    agent.get_by_role("link", name="素材中心").click()
    expect(agent.get_by_test_id("new-count")).to_contain_text("自上次来访后新增")
    visible = Material.objects.filter(min_level__isnull=True).count()
    expect(agent.get_by_test_id("material")).to_have_count(visible)  # the 市代+ one is not shown
    card = agent.get_by_test_id("material").filter(has_text="新品上市")
    before = MaterialUse.objects.filter(kind="copy").count()
    card.get_by_role("button", name="复制文案").click()
    expect(card.locator("[data-copy-status]")).to_have_text("已复制，去朋友圈粘贴吧。")
    assert "敏感肌姐妹看过来" in agent.evaluate("navigator.clipboard.readText()")
    shot(agent, "materials")
    with agent.expect_download() as download:
        card.get_by_role("link", name="打包下载全部 2 个文件").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    assert archive.namelist() == ["01.jpg", "02.jpg", "文案.txt"]
    for _attempt in range(20):  # the copy's beacon is sent after the click, in the background
        if MaterialUse.objects.filter(kind="copy").count() > before:
            break
        agent.wait_for_timeout(100)
    assert MaterialUse.objects.filter(kind="copy").count() == before + 1

    # A poster from the brand's template: a PNG of the template's size.
    agent.goto("/m/me/")
    agent.get_by_role("link", name="品牌海报").click()
    template = PosterTemplate.objects.get()
    choice = agent.get_by_test_id("poster-choice").filter(has_text=template.name)
    with agent.context.expect_page() as opened:
        choice.get_by_role("link", name="打开我的海报").click()
    poster = opened.value
    poster.wait_for_load_state()
    body = agent.request.get(f"/m/posters/{template.pk}.png").body()
    assert Image.open(io.BytesIO(body)).size == (template.width, template.height)
    assert poster.url.endswith(f"/m/posters/{template.pk}.png")
    poster.close()

    # 百问百答: a two-character word finds its answers.
    agent.goto("/m/me/")
    agent.get_by_role("link", name="百问百答").click()
    for word, question in (("结算", "结算周期是多久？"), ("代理", "代理的拿货价是多少？")):
        agent.get_by_label("搜索问题").fill(word)
        agent.get_by_role("button", name="搜索", exact=True).click()
        expect(agent.get_by_test_id("faq-entry").filter(has_text=question)).to_be_visible()
    shot(agent, "faq-search")

    # Anyone: the shop links the brand's qualifications; the expired licence is flagged.
    stranger = phone("zh-CN")
    stranger.goto(f"/s/{demo.city.invite_code}/")
    stranger.get_by_role("link", name="品牌资质").click()
    expect(stranger.get_by_role("heading", name="焕颜 GLOW · 品牌资质")).to_be_visible()
    expired = stranger.locator('[data-validity="expired"]')
    expect(expired).to_have_count(1)
    expect(expired).to_contain_text("化妆品生产许可证")
    expect(expired.get_by_test_id("validity")).to_have_text("已过期")
    shot(stranger, "brand-qualifications")
