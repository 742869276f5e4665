"""The finance desk's fixtures: staff of the desk's roles, lenders and products, a car sale."""

from __future__ import annotations

import pytest

from weishang.autofinance import services
from weishang.autofinance.models import LenderKind
from weishang.core.roles import roles_sync

PASSWORD = "staff-pass-123"


@pytest.fixture
def staff(db, django_user_model):
    """staff("finance_manager") -> a staff user in that role group (one per role and name)."""
    groups = roles_sync()

    def make(role: str, name: str = ""):
        user = django_user_model.objects.create_user(
            username=name or f"{role}-user", password=PASSWORD, is_staff=True, first_name=name
        )
        user.groups.add(groups[role])
        return user

    return make


@pytest.fixture
def people(staff):
    return {
        "consultant": staff("sales_consultant", "王顾问"),
        "manager": staff("finance_manager", "赵经理"),
        "finance": staff("finance", "钱财务"),
        "owner": staff("owner", "老板"),
    }


@pytest.fixture
def desk(db):
    """Three lenders, one of each kind, and their products (the worked examples' terms)."""
    captive = services.lender_save(name="某某汽车金融", kind=LenderKind.CAPTIVE)
    bank = services.lender_save(name="招商银行信用卡分期", kind=LenderKind.BANK)
    leasing = services.lender_save(name="先锋融资租赁", kind=LenderKind.LEASING)
    subsidised36 = services.product_save(
        lender=captive,
        name="36期 2.88% 贴息",
        method="equal_instalment",
        annual_rate="6.00",
        terms="12,24,36",
        subsidy_rate="2.88",
        subsidy_terms="36",
        subsidy_payer="manufacturer",
        commission_pct="2",
        service_fee_kind="fixed",
        service_fee_value="1500",
        down_min_pct="20",
        down_max_pct="70",
    )
    zero12 = services.product_save(
        lender=bank,
        name="12期 0 息",
        method="equal_instalment",
        annual_rate="4.50",
        terms="12",
        subsidy_rate="0",
        subsidy_terms="12",
        subsidy_payer="dealer",
        commission_pct="1.5",
        service_fee_kind="percent",
        service_fee_value="1",
        required_documents="id_card,bank_statement",
    )
    flat = services.product_save(
        lender=leasing,
        name="融资租赁 3 年",
        method="flat",
        annual_rate="3.50",
        terms="24,36",
        commission_pct="3",
        lender_fee="800",
        service_fee_kind="fixed",
        service_fee_value="2000",
        required_documents="id_card",
    )
    return {"captive": captive, "bank": bank, "leasing": leasing, "p36": subsidised36, "p12": zero12, "flat": flat}


@pytest.fixture
def sale(desk, people):
    car = services.car_save(model="凯美瑞", trim="2.0G 豪华版", price="200000")
    customer = services.customer_save(name="张三", phone="13800138000", id_number="110101199003071234")
    return services.sale_create(customer=customer, car=car, consultant=people["consultant"])
