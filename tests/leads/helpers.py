"""Orders for the growth tests: an agent's restock from the company, approved and paid."""

from __future__ import annotations

import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.catalog.models import SKU, Product
from weishang.catalog.selectors import level_price
from weishang.core.models import Brand, SupplyMode
from weishang.trade import services as trade
from weishang.trade.models import Order, OrderStatus


def brand_staff():
    User = get_user_model()
    return User.objects.filter(username="boss").first() or User.objects.create_superuser(
        username="boss", password="pass-word-1", phone="13000000009"
    )


def sku() -> SKU:
    if not Brand.objects.exists():
        Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.COMPANY)
    found = SKU.objects.filter(code="GLOW-30").first()
    if found:
        return found
    product = Product.objects.create(name="焕颜精华")
    return SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (7, 193, 96)).save(buffer, "PNG")
    return SimpleUploadedFile("transfer.png", buffer.getvalue(), content_type="image/png")


def paid_restock(agent, amount: Decimal) -> Order:
    """A restock from the company worth ``amount`` at the agent's level price, paid by a transfer
    the brand confirmed."""
    item = sku()
    unit = level_price(sku=item, level=agent.level)
    units = int(amount / unit)
    assert units * unit == amount, (amount, unit)
    order = trade.order_submit(buyer=agent, lines=[(item.code, units)], by=agent.user)
    if order.status == OrderStatus.SUBMITTED:
        trade.order_approve(order=order, by=brand_staff())
    payment = trade.payment_submit_transfer(order=order, by=agent.user, screenshot=png())
    trade.payment_confirm(payment=payment, by=brand_staff())
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order
