"""The demo dealer's finance desk (汽车金融): three lenders (one of each kind), six products — among
them 0% for 12 months and 2.88% for 36 months, subsidised — three consultants, about thirty car
sales over the last five months (cash and financed, the financed ones in every state of the flow,
one declined, a few overdue), the manufacturer's incentive for the months that earned it, and one
customer ready to be taken from a quote to a closed loan (演示客户 刘女士, ``DEMO_CUSTOMER_PHONE``).
Written once, through the services, with the clock set to each event's time."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from weishang.autofinance import selectors, services
from weishang.autofinance.models import DEFAULT_SLA_HOURS, ConsentChannel, Lender, LenderKind, PenetrationIncentive
from weishang.core import clock
from weishang.core.roles import roles_sync

DEMO_CUSTOMER_PHONE = "13900000088"
CONSULTANTS = [("consultant-wang", "王顾问"), ("consultant-li", "李顾问")]
FLOW = ["submit", "approve", "sign", "disburse", "confirm_funds", "deliver", "register", "close"]


def _consultants(password: str) -> list:
    User = get_user_model()
    groups = roles_sync()
    out = list(User.objects.filter(username="sales_consultant"))
    for username, name in CONSULTANTS:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "first_name": name})
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(groups["sales_consultant"])
        out.append(user)
    return out


def _products() -> dict[str, object]:
    captive = services.lender_save(name="丰田汽车金融（主机厂金融）", kind=LenderKind.CAPTIVE, contact="周经理")
    bank = services.lender_save(name="招商银行 信用卡分期", kind=LenderKind.BANK, contact="吴经理")
    leasing = services.lender_save(name="先锋融资租赁", kind=LenderKind.LEASING, contact="郑经理")
    p = {}
    p["zero12"] = services.product_save(
        lender=captive,
        name="12 期 0 息（厂家贴息）",
        method="equal_instalment",
        annual_rate="5.50",
        terms="12",
        subsidy_rate="0",
        subsidy_terms="12",
        subsidy_payer="manufacturer",
        commission_pct="1.5",
        down_min_pct="30",
        down_max_pct="70",
        service_fee_kind="fixed",
        service_fee_value="1200",
    )
    p["sub36"] = services.product_save(
        lender=captive,
        name="36 期 2.88%（经销商贴息）",
        method="equal_instalment",
        annual_rate="5.50",
        terms="24,36",
        subsidy_rate="2.88",
        subsidy_terms="36",
        subsidy_payer="dealer",
        commission_pct="2",
        down_min_pct="20",
        down_max_pct="70",
        service_fee_kind="fixed",
        service_fee_value="1500",
    )
    p["captive60"] = services.product_save(
        lender=captive,
        name="标准贷 12–60 期",
        method="equal_instalment",
        annual_rate="6.80",
        min_months=12,
        max_months=60,
        commission_pct="2.5",
        service_fee_kind="percent",
        service_fee_value="1",
    )
    p["bank36"] = services.product_save(
        lender=bank,
        name="信用卡分期 36 期",
        method="flat",
        annual_rate="3.20",
        terms="12,24,36",
        commission_pct="1",
        lender_fee="0",
        service_fee_kind="fixed",
        service_fee_value="2000",
        required_documents="id_card,bank_statement",
    )
    p["bank_ep"] = services.product_save(
        lender=bank,
        name="消费贷 等额本金",
        method="equal_principal",
        annual_rate="4.35",
        terms="24,36",
        commission_pct="0.8",
        service_fee_kind="fixed",
        service_fee_value="800",
    )
    p["lease"] = services.product_save(
        lender=leasing,
        name="融资租赁 低首付",
        method="equal_instalment",
        annual_rate="8.90",
        terms="24,36,48",
        down_min_pct="10",
        down_max_pct="50",
        commission_pct="3",
        lender_fee="1500",
        service_fee_kind="fixed",
        service_fee_value="2500",
        required_documents="id_card,income",
    )
    return p


def _cars() -> list:
    specs = [
        ("卡罗拉", "1.5L 精英版", "119800"),
        ("凯美瑞", "2.0G 豪华版", "199800"),
        ("RAV4 荣放", "2.0L 四驱风尚版", "215800"),
        ("汉兰达", "2.5L 双擎四驱豪华版", "329800"),
        ("bZ4X", "长续航两驱 Pro", "189800"),
    ]
    return [services.car_save(model=m, trim=t, price=p) for m, t, p in specs]


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


def _take(application, moves: list[str], at: datetime, people: dict, rng: random.Random) -> datetime:
    for move in moves:
        at += timedelta(hours=rng.randint(3, 30))
        owner = {"confirm_funds": "finance", "deliver": "consultant"}.get(move, "manager")
        by = people[owner] if owner != "consultant" else application.sale.consultant
        extra = {"contract_number": f"HT{application.pk:06d}"} if move == "sign" else {}
        if move == "decline":
            extra = {"reasons": "征信查询次数过多，收入与负债比不足"}
        with clock.frozen(at):
            application = services.application_move(application=application, move=move, by=by, **extra)
    return at


def autofinance_demo(*, password: str) -> None:
    if Lender.objects.exists():
        return
    User = get_user_model()
    people = {
        "manager": User.objects.filter(username="finance_manager").first(),
        "finance": User.objects.filter(username="finance").first(),
    }
    consultants = _consultants(password)
    if not consultants or people["manager"] is None:
        return
    rng = random.Random(2026)
    now = clock.now()
    with clock.frozen(now - timedelta(days=160)):
        products = _products()
        cars = _cars()
        for status, hours in DEFAULT_SLA_HOURS.items():  # the SLA table, as the dealer keeps it
            services.sla_set(status=status, hours=hours)
    plan = list(products.values())
    first = timezone.localtime(now - timedelta(days=150)).replace(hour=10, minute=0, second=0, microsecond=0)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    for i in range(30):
        at = first + timedelta(days=i * 5, hours=rng.randint(0, 6))
        consultant = consultants[i % len(consultants)]
        car = cars[rng.randrange(len(cars))]
        financed = i >= 23 or i == 11 or rng.random() < 0.55
        with clock.frozen(at):
            customer = services.customer_save(
                name=f"{surnames[i % len(surnames)]}先生" if i % 2 else f"{surnames[i % len(surnames)]}女士",
                phone=f"1390000{i:04d}",
                id_number=f"11010119{80 + i % 20:02d}0101{i:03d}{i % 10}",
            )
            sale = services.sale_create(customer=customer, car=car, consultant=consultant)
        if not financed:
            with clock.frozen(at + timedelta(days=rng.randint(2, 6))):
                services.sale_deliver(sale=sale, by=consultant)
            continue
        product = plan[i % len(plan)]
        months = product.term_list[-1] if product.term_list[-1] <= 36 else 36
        down = (sale.price * Decimal(max(product.down_min_pct, Decimal(30))) / 100).quantize(Decimal("1"))
        with clock.frozen(at + timedelta(hours=1)):
            quote = services.quote_create(sale=sale, lines=[services.Terms(product, down, months)], by=consultant)
            application = services.application_create(line=quote.lines.get(), by=consultant)
            channel = [ConsentChannel.SIGNATURE, ConsentChannel.SMS, ConsentChannel.WECHAT][i % 3]
            services.consent_record(
                sale=sale, lender=product.lender, channel=channel, reference=f"DEMO-{i}", by=consultant
            )
            for kind in product.document_list:
                services.document_add(application=application, kind=kind, upload=_pdf(), by=consultant)
        age = (now - at).days
        if i == 11:
            _take(application, ["submit", "decline"], at, people, rng)
            continue
        # the last sales are in every state of the flow; the older ones are closed
        recent = {29: 1, 28: 4, 27: 5, 26: 6, 25: 7, 24: 3, 23: 0}
        moves = FLOW[: recent[i]] if i in recent else FLOW
        if i not in recent and age <= 25:
            moves = FLOW[:7]  # registration and lien under way
        end = _take(application, moves, at, people, rng)
        application.refresh_from_db()
        if application.commission_entry_id and age > 40 and end < now:
            with clock.frozen(min(end + timedelta(days=10), now)):
                services.commission_receive(application=application, by=people["finance"])
    # the manufacturer's incentive for each full month that reached 50% penetration: ¥800 a financed car
    this_month = selectors.month_of(now)
    for month in selectors.recent_months(6):
        if month == this_month or PenetrationIncentive.objects.filter(month=month).exists():
            continue
        with clock.frozen(clock.month_range(month)[1] + timedelta(days=3)):
            if selectors.penetration_month(month)["cars"]:
                services.incentive_accrue(month=month, threshold_pct="50", per_car="800", by=people["manager"])
    # the demo customer: chosen a car, an order, no quote yet
    with clock.frozen(now - timedelta(hours=2)):
        customer = services.customer_save(
            name="演示客户 刘女士", phone=DEMO_CUSTOMER_PHONE, id_number="110101199205201238"
        )
        services.sale_create(customer=customer, car=cars[1], consultant=consultants[0])
