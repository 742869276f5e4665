"""The demo brand's B2B trade: the brand's own business account selling two warehouse SKUs
wholesale, a packaging factory listing bottles, and a beauty salon buying. One deal has run its
course — an inquiry, a quote and two counter-offers, an order with a 30% deposit, a partial
shipment received, a quality claim closed with a credit note — and a second inquiry waits for
the brand's quote. Written once, through the services; logins in README.md."""

from __future__ import annotations

from datetime import timedelta

from weishang.b2b import services
from weishang.b2b.models import AccountKind, BusinessAccount, ClaimKind, MemberRole, Resolution, Terms
from weishang.catalog.models import SKU
from weishang.core import clock


def b2b_demo(*, password: str) -> None:
    if BusinessAccount.objects.exists():
        return
    skus = {s.code: s for s in SKU.objects.filter(code__in=["GLOW-30ML", "GLOW-MASK5"])}
    if len(skus) < 2:
        return
    brand = services.account_create(
        name="焕颜 GLOW 品牌批发部",
        kind=AccountKind.SUPPLIER,
        is_brand=True,
        contact_name="周经理",
        phone="020-66668888",
    )
    salon = services.account_create(
        name="美丽沙龙（深圳南山店）",
        kind=AccountKind.BUYER,
        contact_name="李店长",
        phone="0755-26668888",
        address="深圳市南山区科技园南路 18 号",
    )
    factory = services.account_create(name="义乌美包包装厂", kind=AccountKind.SUPPLIER, contact_name="陈小姐")
    seller = services.member_add(account=brand, username="b2b", password=password, role=MemberRole.ADMIN, name="周经理")
    buyer = services.member_add(
        account=salon, username="salon", password=password, role=MemberRole.ADMIN, name="李店长"
    )
    packer = services.member_add(account=factory, username="packer", password=password, role=MemberRole.ADMIN)
    serum = services.listing_save(
        member=seller,
        title="焕颜修护精华 30ml（美容院装）",
        description="院线同款，整箱 20 瓶发货；附产品培训资料。",
        unit="瓶",
        min_quantity=20,
        lead_days=5,
        warranty_days=180,
        sku=skus["GLOW-30ML"],
        tiers=[("20", "88"), ("100", "80"), ("300", "72")],
    )
    masks = services.listing_save(
        member=seller,
        title="焕颜补水面膜 5 片装（美容院装）",
        unit="盒",
        min_quantity=50,
        lead_days=3,
        warranty_days=365,
        sku=skus["GLOW-MASK5"],
        tiers=[("50", "26"), ("200", "23")],
    )
    services.listing_save(
        member=packer,
        title="玻璃精华瓶 30ml（滴管）",
        unit="个",
        min_quantity=500,
        tiers=[("500", "1.20"), ("5000", "0.95")],
    )
    day = clock.today()
    iso = lambda n: f"{day + timedelta(days=n):%Y-%m-%d}"  # noqa: E731 - a date n days on
    inquiry = services.inquiry_create(
        member=buyer, seller=brand, lines=[(serum, "100"), (masks, "100")], wanted_date=iso(14), note="新店开业备货"
    )
    serum_line, mask_line = inquiry.lines.order_by("pk")
    for who, serum_price, mask_price in ((seller, "80", "26"), (buyer, "74", "23"), (seller, "76", "24")):
        offer = services.offer_make(
            member=who,
            inquiry=inquiry,
            lines={serum_line.pk: ("100", serum_price), mask_line.pk: ("100", mask_price)},
            terms=Terms.DEPOSIT,
            deposit_percent="30",
            delivery_date=iso(10),
            valid_until=iso(7),
        )
    order = services.offer_accept(member=buyer, offer=offer)
    services.payment_record(member=seller, order=order, amount=str(order.deposit_amount), reference="招行回单 0192")
    lines = {line.listing_id: line for line in order.lines.all()}
    shipment = services.shipment_create(
        member=seller,
        order=order,
        quantities={lines[serum.pk].pk: "60", lines[masks.pk].pk: "100"},
        carrier="顺丰速运",
        tracking_number="SF1408822334455",
    )
    services.shipment_receive(member=buyer, shipment=shipment)
    claim = services.claim_open(
        member=buyer, line=lines[serum.pk], kind=ClaimKind.QUALITY, quantity="3", reason="3 瓶滴管破裂，精华漏出"
    )
    services.claim_resolve(
        member=seller, claim=claim, resolution=Resolution.CREDIT_NOTE, answer="抱歉，按 3 瓶开具红字冲减，下批加强包装"
    )
    services.inquiry_create(member=buyer, seller=brand, lines=[(masks, "200")], wanted_date=iso(20), note="面膜补货")
