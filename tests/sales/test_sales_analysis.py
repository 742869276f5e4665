"""Sales analysis (销售分析): paid lines grouped by SKU, level, province or month; the brand's own
sales with the cost the inventory's valuation took out.

Worked example. The warehouse holds 30 CREAM bought at ¥30 and 15 at ¥36 (¥32.00 on average). The
company sells 20 to a 总代 in 杭州 at ¥90 (¥1,800.00, cost 20 × 32 = ¥640.00, margin ¥1,160.00,
64.4 %). That 总代 sells 3 to a 特约 in 成都 at ¥158.40 (198 × 0.80): ¥475.20, a channel sale. A
second 特约 order of 2 is submitted but never paid: it is not a sale.

- brand, by SKU: CREAM 1 order, 20 units, ¥1,800.00, cost ¥640.00, margin ¥1,160.00 (64.4 %);
- channel, by level: 特约 1 order, 3 units, ¥475.20;
- all, by province: 浙江省 ¥1,800.00 (the 总代's), 四川省 ¥475.20 (the 特约's); total ¥2,275.20.
"""

from __future__ import annotations

import io
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.core import clock
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import role_group_name, roles_sync
from weishang.sales.selectors import sales_analysis
from weishang.trade import services as trade
from weishang.trade import stock
from weishang.trade.models import LocationKind, StockReason
from weishang.trade.stock import Move

pytestmark = pytest.mark.django_db
D = Decimal
_seq = itertools.count(1)


def staff(role):
    roles_sync()
    user = get_user_model().objects.create_user(
        username=f"{role}{next(_seq)}", password="staff-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return get_user_model().objects.get(pk=user.pk)


def png():
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 150, 0)).save(buf, format="PNG")
    return SimpleUploadedFile("t.png", buf.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sold(levels, make_agent):
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    boss = staff("owner")
    product = Product.objects.create(name="焕颜面霜")
    cream = SKU.objects.create(product=product, code="CREAM", name="面霜", retail_price=D("198.00"))
    LevelPrice.objects.create(sku=cream, level=levels["general"], price=D("90.00"))
    supplier, warehouse = (
        stock.location_singleton(LocationKind.SUPPLIER),
        stock.location_singleton(LocationKind.WAREHOUSE),
    )
    stock.stock_move(
        moves=[
            Move(supplier, warehouse, cream, 30, unit_cost=D("30")),
            Move(supplier, warehouse, cream, 15, unit_cost=D("36")),
        ],
        reason=StockReason.RECEIPT,
    )
    general = make_agent("general", region="330106")
    vip = make_agent("vip", referrer=general, region="510104")
    other = make_agent("vip", referrer=general, region="510104")

    def paid(order, seller_user):
        trade.order_approve(order=order, by=seller_user)
        payment = trade.payment_submit_transfer(order=order, by=order.buyer.user, screenshot=png())
        trade.payment_confirm(payment=payment, by=seller_user)

    first = trade.order_submit(buyer=general, lines=[(cream, 20)], by=general.user)
    paid(first, boss)
    trade.order_fill(order=first, by=boss)
    second = trade.order_submit(buyer=vip, lines=[(cream, 3)], by=vip.user)
    paid(second, general.user)
    trade.order_submit(buyer=other, lines=[(cream, 2)], by=other.user)  # never paid
    today = clock.today()
    return today


def test_the_brands_own_sales_by_sku_with_cost_and_margin(sold):
    a = sales_analysis(scope="brand", dimension="sku", start=sold, end=sold)
    [row] = a.rows
    assert (row.key, row.order_count, row.units, row.revenue, row.cost) == ("CREAM", 1, 20, D("1800.00"), D("640.00"))
    assert row.margin == D("1160.00") and row.margin_rate == D("64.4")


def test_the_channels_sales_by_level(sold):
    a = sales_analysis(scope="channel", dimension="level", start=sold, end=sold)
    assert [(r.label, r.order_count, r.units, r.revenue) for r in a.rows] == [("特约", 1, 3, D("475.20"))]
    assert a.rows[0].cost is None  # costs are the brand's, not an agent's


def test_all_sales_by_province_and_by_month(sold):
    a = sales_analysis(scope="all", dimension="region", start=sold, end=sold)
    assert [(r.label, r.revenue) for r in a.rows] == [("浙江省", D("1800.00")), ("四川省", D("475.20"))]
    assert (a.total.order_count, a.total.units, a.total.revenue) == (2, 23, D("2275.20"))
    by_month = sales_analysis(scope="all", dimension="month", start=sold, end=sold)
    assert [(r.key, r.revenue) for r in by_month.rows] == [(f"{sold:%Y-%m}", D("2275.20"))]


def test_a_period_before_the_sales_has_none(sold):
    from datetime import timedelta

    assert sales_analysis(scope="all", start=sold - timedelta(days=30), end=sold - timedelta(days=1)).rows == []


def test_the_console_page_shows_the_figures_and_costs_only_to_whom_they_belong(client, sold):
    url = f"/console/sales/salesline/analysis/?scope=brand&dimension=sku&start={sold}&end={sold}"
    client.force_login(staff("finance"))
    page = client.get(url).content.decode()
    assert "¥1800.00" in page and "¥640.00" in page and "64.4" in page
    client.force_login(staff("operations"))
    page = client.get(url).content.decode()
    assert "¥1800.00" in page and "¥640.00" not in page  # operations sees no costs


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-13-01",
        "start=2026-12-05&end=2026-01-01",
        "start=2001-01-01&end=2026-01-01",
        "scope=<x>",
        "dimension=%00",
    ],
)
def test_hostile_queries_get_a_clear_answer_not_a_500(client, sold, query):
    client.force_login(staff("owner"))
    response = client.get(f"/console/sales/salesline/analysis/?{query}")
    assert response.status_code == 400 and "销售分析" in response.content.decode()


@pytest.mark.parametrize("role", ["warehouse", "lecturer"])
def test_roles_without_the_report_are_refused(client, sold, role):
    client.force_login(staff(role))
    assert client.get("/console/sales/salesline/analysis/").status_code == 403
