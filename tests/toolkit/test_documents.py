"""The documents generated from the plan in force (M9): the policy document (代理政策说明, PDF), the
price-table poster (朋友圈, PNG) and the pitch deck (招商PPT, PPTX). Read back as a reader would: the
PDF's text (pypdf), the deck's slides, text boxes and pictures (python-pptx). The earnings section
shows the simulator's median net income and loss share (CN-CLAIM, US-EARN). From the console (for
the brand's staff with the permission) and the command line; no plan in force: a clear message."""

from __future__ import annotations

import importlib.util
import io
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
from pypdf import PdfReader

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
    """The PDF's text with fpdf2's CJK spacing and every whitespace removed."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.replace("\x00", "").split())


# --- the data and the builders ---------------------------------------------------------------


def test_the_policy_pdf_has_every_price_by_level_and_the_simulated_loss_share(in_force, simulated):
    data = selectors.documents_data()
    text = pdf_text(policy_pdf(data))
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
    assert sum(1 for s in product_slide.shapes if s.shape_type == 13) == 2  # the two pictures
    assert any("修护屏障" in s.text_frame.text for s in product_slide.shapes if s.has_text_frame)
    assert any("拿货价" in t for t in titles) and any("奖励" in t for t in titles)
    qualifications = deck.slides[next(i for i, t in enumerate(titles) if "资质" in t)]
    table = next(s for s in qualifications.shapes if s.has_table).table
    assert "营业执照" in [table.cell(r, 0).text for r in range(len(table.rows))]
    earnings = deck.slides[next(i for i, t in enumerate(titles) if "收益" in t or "收入" in t)]
    words = " ".join(s.text_frame.text for s in earnings.shapes if s.has_text_frame)
    assert percent(simulated["loss"]["loss_share"]) in words and "中位数" in words
    # every text is a text box or a table, never a picture of text
    assert all(s.shape_type == 13 for slide in deck.slides for s in slide.shapes if not (s.has_text_frame or s.has_table))


def test_without_a_plan_in_force_the_documents_say_so(catalog):
    with pytest.raises(BusinessError) as caught:
        selectors.documents_data()
    assert "没有生效" in str(caught.value.message)


def test_dump(in_force, tmp_path):
    from weishang.toolkit.deck import pitch_deck
    data = selectors.documents_data()
    Path("/tmp/policy.pdf").write_bytes(policy_pdf(data))
    Path("/tmp/poster.png").write_bytes(price_poster(data))
    Path("/tmp/deck.pptx").write_bytes(pitch_deck(data))
