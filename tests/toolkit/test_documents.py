"""The documents generated from the plan in force (M9): the policy document (代理政策说明, PDF), the
price-table poster (朋友圈, PNG) and the pitch deck (招商PPT, PPTX). Read back as a reader would: the
PDF's text (pypdf), the deck's slides, text boxes and pictures (python-pptx). The earnings section
shows the simulator's median net income and loss share (CN-CLAIM, US-EARN). From the console (for
the brand's staff with the permission) and the command line; no plan in force: a clear message."""

from __future__ import annotations

import importlib.util
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader
from pypdf.generic import ContentStream

from weishang.catalog import services as catalog_services
from weishang.catalog.models import SKU
from weishang.core.errors import BusinessError
from weishang.core.roles import role_group_name, roles_sync
from weishang.plans import load_plan
from weishang.plans.simulate import run_simulation
from weishang.toolkit import selectors, services
from weishang.toolkit.deck import pitch_deck
from weishang.toolkit.policy import percent, policy_pdf, price, price_poster

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "plans" / "glow-retail-first.yaml"
SCENARIO = ROOT / "examples" / "scenarios" / "glow-retail-first.yaml"
PAGE = "/console/toolkit/qualification/documents/"

# The reward fixtures (the demo catalog, a brand, plan activation) live with the rewards tests.
_spec = importlib.util.spec_from_file_location(
    "rewards_conftest", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog = _rewards.catalog


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(name: str = "picture.png", colour=(200, 120, 140), size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def in_force(catalog):
    """The demo brand's catalog and its retail-first plan in force, two pictures of its product, a
    valid and an expired qualification."""
    version = _rewards.activate("glow-retail-first.yaml")
    catalog.brand.logo.save("logo.png", png("logo.png", size=(300, 100)), save=True)
    product = SKU.objects.get(code="GLOW-30ML").product
    product.selling_points = "修护屏障\n温和不刺激"
    product.save()
    catalog_services.product_image_add(product=product, upload=png("a.png"))
    catalog_services.product_image_add(product=product, upload=png("b.png", (90, 160, 200)), position=1)
    for title, until in (("营业执照", None), ("质检报告", date.today() - timedelta(days=3))):
        services.qualification_save(
            kind="business_licence",
            title=title,
            number="91330106MA2H7Q3K5X",
            valid_until=until,
            document=png("scan.png"),
        )
    return version


@pytest.fixture(scope="module")
def simulated():
    """The simulator's report for the demo plan in its scenario, as `weishang plan simulate` runs it."""
    return run_simulation(load_plan(PLAN), SCENARIO, lint=False).report


def pdf_text(data: bytes) -> str:
    """The PDF's text, every whitespace removed, each glyph code read through the font's ToUnicode
    map. (pypdf's own ``extract_text`` reads fpdf2's two-byte codes a byte at a time: "\\x00" between
    characters, and garbage once a document holds more than 255 distinct glyphs, as the demo's does.)"""
    reader = PdfReader(io.BytesIO(data))
    out = []
    for page in reader.pages:
        fonts = {}
        for name, ref in page["/Resources"]["/Font"].items():
            cmap = ref.get_object()["/ToUnicode"].get_object().get_data().decode("latin-1")
            pairs = re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", cmap.split("endcodespacerange", 1)[1])
            fonts[name] = {int(code, 16): bytes.fromhex(text).decode("utf-16-be") for code, text in pairs}
        table: dict[int, str] = {}
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                table = fonts[operands[0]]
            elif operator in (b"Tj", b"TJ"):
                for part in operands[0] if operator == b"TJ" else [operands[0]]:
                    if isinstance(part, bytes | str):
                        raw = getattr(part, "original_bytes", part)
                        out += [table.get(int.from_bytes(raw[i : i + 2], "big"), "") for i in range(0, len(raw) - 1, 2)]
    return "".join("".join(out).split())


def pypdf_text(data: bytes) -> str:
    """pypdf's own reading, its "\\x00" and whitespace removed (right while under 256 glyphs)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.replace("\x00", "").split())


# --- the data and the builders ---------------------------------------------------------------


def test_the_policy_pdf_has_every_price_by_level_and_the_simulated_loss_share(in_force, simulated):
    data = selectors.documents_data()
    document = policy_pdf(data)
    text = pdf_text(document)
    assert text == pypdf_text(document)  # a small document: pypdf reads it the same
    assert data.level_names == ["联创", "总代", "省代", "市代", "特约"]
    essence = next(row for row in data.prices if row.sku == "GLOW-30ML")
    assert essence.prices == [Decimal(p) for p in ("80", "110", "140", "170", "230")]
    for row in data.prices:
        assert row.name.replace(" ", "") in text
        for value in (row.retail, *row.prices):
            assert price(value) in text
    # the earnings section: the simulator's figures, the loss share beside any example
    loss = percent(simulated["loss"]["loss_share"])
    assert loss == f"{simulated['loss']['loss_share'] * 100:.1f}%"
    assert loss in text
    assert "净收入中位数" in text and f"¥{Decimal(simulated['income']['net']['median']):,.2f}" in text
    for heading in ("拿货价", "入门条件", "奖励", "升级", "结算", "资质"):
        assert heading in text
    assert "零售佣金" in text and "10%" in text
    assert "营业执照" in text and "已过期" in text  # the expired report is flagged


def test_the_poster_is_a_png_of_the_price_table(in_force):
    image = Image.open(io.BytesIO(price_poster(selectors.documents_data(pictures=False))))
    assert image.format == "PNG" and image.width == 1080 and image.height > 500


def test_the_deck_has_the_brand_each_product_the_plan_qualifications_and_earnings(in_force, simulated):
    data = selectors.documents_data()
    deck = Presentation(io.BytesIO(pitch_deck(data)))
    titles = []
    for slide in deck.slides:
        title = next(s for s in slide.shapes if s.name == "title")
        titles.append(title.text_frame.text)
    assert titles[0] == "焕颜 GLOW"
    assert "焕颜修护系列" in titles
    product_slide = deck.slides[titles.index("焕颜修护系列")]
    assert sum(1 for s in product_slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE) == 2  # the two pictures
    assert any("修护屏障" in s.text_frame.text for s in product_slide.shapes if s.has_text_frame)
    assert any("拿货价" in t for t in titles) and any("奖励" in t for t in titles)
    qualifications = deck.slides[next(i for i, t in enumerate(titles) if "资质" in t)]
    table = next(s for s in qualifications.shapes if s.has_table).table
    assert "营业执照" in [table.cell(r, 0).text for r in range(len(table.rows))]
    earnings = deck.slides[next(i for i, t in enumerate(titles) if "收益" in t or "收入" in t)]
    words = " ".join(s.text_frame.text for s in earnings.shapes if s.has_text_frame)
    assert percent(simulated["loss"]["loss_share"]) in words and "中位数" in words
    # every text is a text box or a table, never a picture of text
    assert [s.shape_type for s in deck.slides[0].shapes].count(MSO_SHAPE_TYPE.PICTURE) == 1  # the logo
    for slide in deck.slides:  # nothing runs off the slide
        for shape in slide.shapes:
            assert shape.left + shape.width <= deck.slide_width and shape.top + shape.height <= deck.slide_height
    assert all(
        s.shape_type == MSO_SHAPE_TYPE.PICTURE
        for slide in deck.slides
        for s in slide.shapes
        if not (s.has_text_frame or s.has_table)
    )


@pytest.mark.parametrize("name", ["glow-tiered.yaml", "glow-social-mall.yaml", "glow-retail-first.yaml"])
def test_every_rule_of_the_example_plans_reads_as_a_chinese_sentence(name):
    from weishang.toolkit import plan_words

    plan = load_plan(ROOT / "examples" / "plans" / name)
    texts = [
        *plan_words.reward_texts(plan),
        *plan_words.upgrade_texts(plan),
        *plan_words.settlement_texts(plan),
        *plan_words.return_texts(plan),
    ]
    assert len(plan_words.reward_texts(plan)) == len(plan.rewards)
    for text in texts:
        assert "%(" not in text and text.endswith("。"), text
        assert not re.search(r"[A-Za-z]{4,}", text.replace("GLOW", "")), text


def test_without_a_plan_in_force_the_documents_say_so(catalog):
    with pytest.raises(BusinessError) as caught:
        selectors.documents_data()
    assert "没有生效的代理制度" in str(caught.value.message)


# --- the console ---------------------------------------------------------------------------------


def staff_in(role: str | None) -> Client:
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-user", password="staff-pass-123", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role_group_name(role)))
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_downloads_the_three_documents_from_the_console(in_force):
    client = staff_in("owner")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ("policy", "poster", "deck"):
        assert f"{PAGE}{kind}/" in html
    policy = client.get(f"{PAGE}policy/")
    assert policy.status_code == 200 and policy["Content-Type"] == "application/pdf"
    assert "attachment" in policy["Content-Disposition"] and ".pdf" in policy["Content-Disposition"]
    assert "230.00" in pdf_text(policy.content)
    poster = client.get(f"{PAGE}poster/")
    assert poster["Content-Type"] == "image/png" and Image.open(io.BytesIO(poster.content)).format == "PNG"
    deck = client.get(f"{PAGE}deck/")
    assert deck["Content-Type"].endswith("presentationml.presentation")
    assert len(Presentation(io.BytesIO(deck.content)).slides) >= 6
    assert client.get(f"{PAGE}other/").status_code == 400


@pytest.mark.parametrize(
    ("role", "allowed"), [("operations", True), ("finance", False), ("warehouse", False), (None, False)]
)
def test_staff_need_the_documents_permission(in_force, role, allowed):
    client = staff_in(role)
    assert (client.get(PAGE).status_code == 200) == allowed
    assert (client.get(f"{PAGE}poster/").status_code == 200) == allowed
    if not allowed:
        assert client.get(PAGE).status_code == 403


def test_agents_and_anonymous_are_sent_to_the_console_login(in_force, make_agent):
    agent = make_agent("vip")
    as_agent = Client()
    as_agent.force_login(agent.user)
    for client in (Client(), as_agent):
        for url in (PAGE, f"{PAGE}policy/"):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"]


def test_without_a_plan_the_console_says_so_instead_of_failing(catalog):
    client = staff_in("owner")
    page = client.get(PAGE)
    assert page.status_code == 200 and "没有生效的代理制度" in page.content.decode()
    response = client.get(f"{PAGE}policy/")
    assert response.status_code == 400
    assert "没有生效的代理制度" in response.content.decode()


# --- the command line --------------------------------------------------------------------------


def test_the_command_writes_each_document(in_force, tmp_path):
    out = io.StringIO()
    call_command("toolkit", "policy", "--out", str(tmp_path / "policy.pdf"), stdout=out)
    call_command("toolkit", "poster", "--out", str(tmp_path / "poster.png"), stdout=out)
    call_command("toolkit", "deck", "--out", str(tmp_path / "deck.pptx"), stdout=out)
    assert "170.00" in pdf_text((tmp_path / "policy.pdf").read_bytes())
    assert Image.open(tmp_path / "poster.png").format == "PNG"
    assert len(Presentation(str(tmp_path / "deck.pptx")).slides) >= 6
    assert "bytes" in out.getvalue()
    call_command("toolkit", "policy", "--lang", "en", "--out", str(tmp_path / "en.pdf"), stdout=out)
    english = pdf_text((tmp_path / "en.pdf").read_bytes())
    assert "Mediannetincome" in english and "170.00" in english


def test_a_plan_without_a_scenario_is_refused_rather_than_printed_without_its_typical_result(
    in_force, tmp_path, monkeypatch
):
    monkeypatch.setenv("WEISHANG_SCENARIOS", str(tmp_path))
    client = staff_in("owner")
    assert "glow-retail-first.yaml" in client.get(PAGE).content.decode()
    with pytest.raises(BusinessError) as caught:
        selectors.document_build("deck")
    assert caught.value.code == "no_scenario"
    (tmp_path / "glow-retail-first.yaml").write_text(SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    assert selectors.documents_blocker() == ""
    assert selectors.document_build("poster").content_type == "image/png"

    # one that does not fit the plan (a level it does not have) is refused with the simulator's reason
    text = SCENARIO.read_text(encoding="utf-8").replace("founders: {partner: 5, city: 20}", "founders: {boss: 5}")
    (tmp_path / "glow-retail-first.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(BusinessError) as caught:
        selectors.document_build("policy")
    assert caught.value.code == "bad_scenario" and "boss" in str(caught.value.message)
    assert "不是方案 glow-retail-first 的等级" in str(caught.value.message)


def test_the_command_without_a_plan_fails_with_the_reason(catalog, tmp_path):
    with pytest.raises(CommandError, match="没有生效的代理制度"):
        call_command("toolkit", "policy", "--out", str(tmp_path / "policy.pdf"))
    assert not (tmp_path / "policy.pdf").exists()


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_brand_gets_its_documents_from_the_command_line(db, tmp_path, simulated):
    """The demo's plan in force (glow-retail-first, its scenario in examples/scenarios), its
    products with pictures and its qualifications, one of them expired."""
    from weishang.demo import services as demo

    demo.demo_load(agents=30)
    for kind, name in (("policy", "p.pdf"), ("poster", "p.png"), ("deck", "d.pptx")):
        call_command("toolkit", kind, "--out", str(tmp_path / name), stdout=io.StringIO())
    text = pdf_text((tmp_path / "p.pdf").read_bytes())
    for value in ("298.00", "80.00", "110.00", "140.00", "170.00", "230.00"):
        assert value in text
    assert f"净亏损者占比：{percent(simulated['loss']['loss_share'])}" in text
    assert "已过期" in text
    deck = Presentation(str(tmp_path / "d.pptx"))
    pictures = [s for slide in deck.slides for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) >= len(SKU.objects.filter(active=True).values("product").distinct())
