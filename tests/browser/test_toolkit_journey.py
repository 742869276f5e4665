"""Journey, in Chinese on a phone (M9, the launch toolkit): the demo's 特约 sees the product's
picture on the order page and opens the product's page; opens the material centre, where
everything is new on a first visit, copies a material's text with one tap (the clipboard holds it,
the brand's count goes up) and downloads its pictures as one zip (read back); makes a poster from
the brand's template (a PNG of the template's size); searches 百问百答 for 结算 and 代理; downloads
her authorization certificate (the PDF read back). A second browser, logged in as nobody, opens
the brand's qualifications from the shop and sees the expired licence flagged, checks her
certificate by its number on /verify/, and checks a product code sold by the 市代 in 杭州 from 成都
(genuine, supplied to a 市代 in 杭州 — and a channel-conflict case for the brand). The owner
downloads the policy PDF and the pitch deck from the console (read back) and finds the case in
窜货报告."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from browser_steps import console_log_in, expect, log_in
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader
from toolkit.test_documents import pdf_text

from weishang.certificates.models import Certificate
from weishang.codes.models import ChannelConflict, CodeMove
from weishang.core import checkchars
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

    # Her authorization certificate: seen on its page, downloaded as a PDF.
    agent.goto("/m/me/")
    agent.get_by_role("link", name="我的授权书").click()
    certificate = Certificate.objects.get(agent=vip, status="active")
    expect(agent.get_by_test_id("certificate-serial")).to_have_text(certificate.serial)
    agent.wait_for_function(
        "img => img.complete && img.naturalWidth === 1600",
        arg=agent.locator("[data-testid=certificate] img").element_handle(),
    )
    shot(agent, "certificate")
    with agent.expect_download() as download:
        agent.get_by_role("link", name="下载 PDF").click()
    text = PdfReader(download.value.path()).pages[0].extract_text().replace("\x00", "")
    assert certificate.serial in re.sub(r"\s", "", text)

    # Anyone: /verify/ says she is authorized (her name masked), and checks a product's code.
    stranger.goto("/verify/")
    stranger.get_by_label("授权编号、手机号或微信号").fill(checkchars.grouped(certificate.serial))
    stranger.get_by_role("button", name="查询授权").click()
    answer = stranger.get_by_test_id("certificate-answer")
    expect(answer.get_by_test_id("authorized")).to_have_text("已授权")
    expect(answer).to_contain_text(vip.real_name[0] + "*")
    expect(answer).not_to_contain_text(vip.real_name)
    expect(answer.get_by_test_id("valid-until")).to_have_text(f"{certificate.valid_until:%Y-%m-%d}")
    shot(stranger, "verify-certificate")
    # The code of a unit the 市代 (杭州) had sent to a customer's address, now checked in 成都.
    sold = CodeMove.objects.filter(order__buyer=demo.city, to_region__code__startswith="5101").get()
    stranger.get_by_label("防伪码（刮开涂层可见）").fill(checkchars.grouped(sold.item.code))
    section = stranger.get_by_test_id("verify-code")
    section.get_by_label("省份").select_option(label="四川省")
    section.get_by_label("城市").select_option(label="成都市")
    stranger.get_by_role("button", name="查询", exact=True).click()
    code_answer = stranger.get_by_test_id("code-answer")
    expect(code_answer).to_contain_text("正品")
    expect(code_answer.get_by_test_id("code-supplied")).to_have_text("市代 · 浙江省 杭州市")
    shot(stranger, "verify-code")
    assert ChannelConflict.objects.filter(item=sold.item, kind="checked_elsewhere", status="open").exists()

    # The owner: the policy document and the pitch deck, read back; the case in 窜货报告.
    owner = phone("zh-CN")
    console_log_in(owner, "owner")
    owner.goto("/console/toolkit/qualification/documents/")
    with owner.expect_download() as policy:
        owner.get_by_role("link", name="政策说明 PDF").click()
    words = pdf_text(open(policy.value.path(), "rb").read())
    assert "亏损" in words and "%" in words
    with owner.expect_download() as deck:
        owner.get_by_role("link", name="招商PPT").click()
    assert len(Presentation(deck.value.path()).slides) >= 5
    owner.goto("/console/codes/channelconflict/")
    expect(owner.locator("#result_list")).to_contain_text(sold.item.code)
    shot(owner, "channel-conflict")
