"""``weishang demo``: one believable skincare brand, loaded once (running it again adds nothing).

The agents are written in bulk (the tree indexes are then rebuilt from the parent keys in one
pass), because applications one by one would take minutes at benchmark sizes; everything else
goes through the same models and rules as live data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from weishang.academy.demo import academy_demo
from weishang.autofinance.demo import autofinance_demo
from weishang.b2b.demo import b2b_demo
from weishang.b2b.models import BusinessMember
from weishang.campaigns.demo import campaigns_demo
from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.channel import tree
from weishang.channel.models import Agent, AgentStatus, AgentTrail, Application, Approver, Level, TrailKind
from weishang.channel.services import INVITE_ALPHABET, INVITE_LENGTH
from weishang.channel.tree import Relation
from weishang.codes.models import CodeBatch
from weishang.core import clock
from weishang.core.models import Brand, SupplyMode
from weishang.core.roles import roles_sync
from weishang.demo.generate import generate_channel
from weishang.faq.models import FaqEntry
from weishang.growth.demo import demo_growth
from weishang.inventory.demo import inventory_demo
from weishang.jobs.demo import jobs_demo
from weishang.leads.demo import demo_leads
from weishang.meetings.demo import meetings_demo
from weishang.monitor.demo import demo_health
from weishang.promotions.demo import promotions_demo
from weishang.purchasing.demo import purchasing_demo
from weishang.regions.models import Region
from weishang.selection.demo import selection_demo
from weishang.service.demo import service_demo
from weishang.stores.demo import demo_stores
from weishang.toolkit.models import Material, PosterTemplate, Qualification
from weishang.trade.models import (
    Customer,
    Location,
    LocationKind,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    StockLevel,
    StockMove,
    StockReason,
)
from weishang.trade.stock import location_singleton

STAFF_PASSWORD = "weishang-demo"
# The plan the demo brand runs on (the repository's example; skipped if the package is installed
# without the repository).
EXAMPLE_PLANS = Path(__file__).resolve().parents[3] / "examples" / "plans"
PLAN_FILE = EXAMPLE_PLANS / "glow-retail-first.yaml"
DRAFT_PLANS = (EXAMPLE_PLANS / "glow-tiered.yaml", EXAMPLE_PLANS / "glow-social-mall.yaml")
AGENT_PASSWORD = "weishang-demo"
BRAND_NAME = "焕颜 GLOW"

LEVELS = [
    # code, name, rank, entry amount, discount, min units per restock, who approves
    ("partner", "联创", 1, Decimal("100000"), Decimal("0.30"), 100, Approver.BRAND),
    ("general", "总代", 2, Decimal("20000"), Decimal("0.40"), 20, Approver.BRAND),
    ("province", "省代", 3, Decimal("6000"), Decimal("0.50"), 10, Approver.SUPPLIER),
    ("city", "市代", 4, Decimal("2000"), Decimal("0.60"), 5, Approver.SUPPLIER),
    ("vip", "特约", 5, Decimal("298"), Decimal("0.80"), 1, Approver.SUPPLIER),
]
SKUS = [
    # code, name, retail, weight g, barcode, {level: price} overrides
    (
        "GLOW-30ML",
        "焕颜修护精华 30ml",
        Decimal("298"),
        120,
        "6970000000011",
        {"partner": "80", "general": "110", "province": "140", "city": "170", "vip": "230"},
    ),
    ("GLOW-50G", "焕颜修护面霜 50g", Decimal("198"), 160, "6970000000028", {}),
    ("GLOW-MASK5", "焕颜补水面膜 5片装", Decimal("99"), 150, "6970000000035", {}),
]
STAFF = [
    ("owner", "品牌老板"),
    ("finance", "财务"),
    ("operations", "运营"),
    ("warehouse", "仓库"),
    ("lecturer", "讲师"),
    ("sales_consultant", "销售顾问"),
    ("finance_manager", "金融经理"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "静丽敏燕艳娟霞芳娜婷雪慧玲洁红琳颖晶婧欣悦佳怡萍倩梅莉璐瑶涵菲"
LOGIN_PHONE = "1380000000{rank}"


@dataclass
class DemoResult:
    created: bool
    agents: int
    staff: list[tuple[str, str]] = field(default_factory=list)
    agent_logins: list[tuple[str, str, str]] = field(default_factory=list)  # level name, phone, real name
    b2b_logins: list[tuple[str, str]] = field(default_factory=list)  # company, user name


def _invite_codes(rng: random.Random, n: int) -> list[str]:
    codes: set[str] = set(Agent.objects.values_list("invite_code", flat=True))
    out: list[str] = []
    while len(out) < n:
        code = "".join(rng.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if code not in codes:
            codes.add(code)
            out.append(code)
    return out


def _catalog() -> dict[str, Level]:
    levels = {}
    for code, name, rank, entry, discount, min_qty, approver in LEVELS:
        levels[code], _ = Level.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name, rank=rank, entry_amount=entry, discount=discount, min_restock_qty=min_qty, approver=approver
            ),
        )
    product, _ = Product.objects.get_or_create(name="焕颜修护系列", defaults={"description": "敏感肌修护护肤线"})
    for code, name, retail, weight, barcode, prices in SKUS:
        sku, _ = SKU.objects.get_or_create(
            code=code,
            defaults=dict(product=product, name=name, retail_price=retail, weight_grams=weight, barcode=barcode),
        )
        for level_code, price in prices.items():
            LevelPrice.objects.get_or_create(sku=sku, level=levels[level_code], defaults={"price": Decimal(price)})
    return levels


PRODUCT_CONTENT = {
    "selling_points": (
        "积雪草与神经酰胺，修护泛红干痒的敏感肌\n"
        "无香精、无酒精、无色素，孕期可用\n"
        "28 天为一个修护周期，第 7 天起肤感稳定"
    ),
    "description": (
        "焕颜修护系列为敏感肌设计：精华修护屏障，面霜锁水，喷雾随时舒缓。\n早晚洁面后使用，配合防晒效果更好。"
    ),
    "specification": "精华 30ml / 面霜 50g / 喷雾 100ml\n保质期 3 年，开封后 12 个月内用完\n产地：浙江杭州",
    "ingredients": "水、甘油、积雪草提取物、神经酰胺 NP、泛醇、透明质酸钠、尿囊素",
    "usage": "洁面后取 2–3 滴精华于掌心，轻按全脸至吸收；再用面霜。\n初次使用请先在耳后试用 24 小时。",
}


def _picture(hue: tuple[int, int, int], label: str):
    """A stand-in product photo: a bottle shape on a soft gradient (the brand uploads real ones)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (800, 800), (250, 247, 240))
    draw = ImageDraw.Draw(page)
    for y in range(800):
        shade = tuple(int(c + (255 - c) * y / 1000) for c in hue)
        draw.line([(0, y), (800, y)], fill=shade)
    draw.rounded_rectangle((300, 220, 500, 680), radius=40, fill=(255, 255, 255), outline=(120, 120, 120), width=4)
    draw.rectangle((350, 140, 450, 225), fill=(90, 90, 90))
    draw.text((330, 600), label, fill=(80, 80, 80))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=88)
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), content_type="image/jpeg")


def _product_content() -> None:
    """The demo product's selling points, specification, ingredients and usage, and three
    pictures added through the service (thumbnails made on upload); once."""
    from weishang.catalog import services as catalog

    product = Product.objects.filter(name="焕颜修护系列").first()
    if product is None or product.images.exists():
        return
    for name, text in PRODUCT_CONTENT.items():
        setattr(product, name, text)
    product.save()
    for position, (hue, label) in enumerate(
        [((214, 232, 220), "serum"), ((236, 222, 206), "cream"), ((210, 224, 238), "mist")]
    ):
        catalog.product_image_add(product=product, upload=_picture(hue, label), caption="", position=position)


def _staff() -> list[tuple[str, str]]:
    User = get_user_model()
    groups = roles_sync()
    out = []
    for code, name in STAFF:
        user, created = User.objects.get_or_create(username=code, defaults={"first_name": name, "is_staff": True})
        if created:
            user.set_password(STAFF_PASSWORD)
            user.save()
        user.groups.add(groups[code])
        out.append((code, STAFF_PASSWORD))
    return out


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _login_agents(generated) -> dict[int, int]:
    """Which generated agent gets the demo login of each level: the first of each level, except
    that the 特约 login is supplied by the 市代 login, so the two can try the order flow together."""
    first: dict[int, int] = {}
    for g in generated:
        first.setdefault(g.rank, g.index)
    lowest = max(first)
    pair = next(
        (
            g
            for g in generated
            if g.rank == lowest and g.supplier is not None and generated[g.supplier].rank == lowest - 1
        ),
        None,
    )
    if pair is not None:
        first[lowest], first[lowest - 1] = pair.index, pair.supplier
    return first


# The demo's cities. A supply network stays in its city; the 市代 and 特约 logins sell in 杭州, so
# that a product of theirs checked in 成都 shows as channel conflict (窜货).
DEMO_CITIES = ("330100", "510100", "440100", "440300", "320100", "420100", "330200", "370200")
HOME_CITY = "330100"


def _agent_regions(rng: random.Random, generated, logins: dict[int, int]) -> list[str | None]:
    """Each generated agent's region: 联创 to 省代 hold a province, a 市代 a city, the rest a
    district, in the city of their supplier (the top ones draw a city)."""
    districts: dict[str, list[str]] = {}
    for code, parent in Region.objects.filter(parent_id__in=DEMO_CITIES).values_list("code", "parent_id"):
        districts.setdefault(parent, []).append(code)
    login_indexes = set(logins.values())
    city_of: dict[int, str] = {}
    out: list[str | None] = []
    for g in generated:
        if g.index in login_indexes and g.rank >= 3:
            city = HOME_CITY
        elif g.supplier is not None:
            city = city_of[g.supplier]
        else:
            city = rng.choice(DEMO_CITIES)
        city_of[g.index] = city
        if g.rank <= 3:
            out.append(city[:2] + "0000")
        elif g.rank == 4 or not districts.get(city):
            out.append(city)
        else:
            out.append(rng.choice(districts[city]))
    return out


def load_agents(
    *, n: int, seed: int, levels: dict[str, Level], wave: int = 30, wave_share: float = 0.5, orders: bool = True
) -> int:
    """Bulk-load ``n`` generated agents (with logins, trees, trail and some completed orders)."""
    rng = random.Random(seed)
    by_rank = {lvl.rank: lvl for lvl in levels.values()}
    generated = generate_channel(n, seed=seed, wave=wave, wave_share=wave_share)
    User = get_user_model()
    password = make_password(AGENT_PASSWORD)
    now = clock.now()
    start = now - timedelta(days=365)
    logins = _login_agents(generated)
    phones = [
        LOGIN_PHONE.format(rank=g.rank) if logins.get(g.rank) == g.index else f"139{g.index:08d}" for g in generated
    ]
    names = [_name(rng) for _ in generated]
    users = User.objects.bulk_create(
        [
            User(username=p, phone=p, password=password, first_name=name, date_joined=now)
            for p, name in zip(phones, names, strict=True)
        ],
        batch_size=5000,
    )
    codes = _invite_codes(rng, n)
    regions = _agent_regions(rng, generated, logins)
    joined = [start + timedelta(seconds=int(365 * 86400 * i / max(1, n))) for i in range(n)]
    # The generator puts every referrer and supplier before their recruits, so with primary keys
    # chosen here each row is inserted complete, parents included (no second pass of updates).
    first_id = (Agent.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    ids = [first_id + g.index for g in generated]
    agents = Agent.objects.bulk_create(
        [
            Agent(
                pk=ids[g.index],
                user=users[g.index],
                real_name=names[g.index],
                level=by_rank[g.rank],
                status=AgentStatus.ACTIVE,
                invite_code=codes[g.index],
                joined_at=joined[g.index],
                referrer_id=ids[g.referrer] if g.referrer is not None else None,
                supplier_id=ids[g.supplier] if g.supplier is not None else None,
                region_id=regions[g.index],
            )
            for g in generated
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:  # PostgreSQL: move the id sequence past the ids chosen here
        for sql in connection.ops.sequence_reset_sql(no_style(), [Agent]):
            cursor.execute(sql)
    tree.rebuild(Relation.SUPPLIER)
    tree.rebuild(Relation.REFERRER)
    AgentTrail.objects.bulk_create(
        [
            AgentTrail(
                agent=a,
                kind=TrailKind.JOINED,
                new_value=a.level.name,
                new_ref=a.level_id,
                changed_at=a.joined_at,
                reason="演示数据",
            )
            for a in agents
        ],
        batch_size=5000,
    )
    if orders:
        _orders(rng, agents, now)
    return len(agents)


def _orders(rng: random.Random, agents: list[Agent], now) -> None:
    """A history of completed restock orders over the last 90 days, filled by the company into
    the buyers' cloud stock, so that every agent starts with cloud stock to supply their downline.

    Written in bulk as what the services would have left behind: orders with lines at the level
    price, their stock moves (supplier → warehouse → buyers' cloud) and the levels those moves
    add up to (``weishang stock verify`` checks them).
    """
    sku = SKU.objects.get(code="GLOW-30ML")
    price = {lp.level_id: lp.price for lp in LevelPrice.objects.filter(sku=sku)}
    made: list[tuple[Order, Agent, int, datetime]] = []  # (order, buyer, units, completed at)
    for agent in agents:
        count = rng.choice((0, 1, 1, 2, 3))
        if (agent.user.phone or "").startswith(LOGIN_PHONE.removesuffix("{rank}")):
            count = max(count, 2)  # the demo logins start with cloud stock to supply their downline
        for _ in range(count):
            qty = agent.level.min_restock_qty * rng.randint(1, 3)
            when = now - timedelta(days=rng.uniform(0, 90))
            made.append(
                (
                    Order(
                        number=f"D{agent.pk:07d}{len(made):07d}",
                        kind=OrderKind.RESTOCK,
                        buyer=agent,
                        seller=None,
                        supply_mode=SupplyMode.CLOUD,
                        status=OrderStatus.COMPLETED,
                        total=price[agent.level_id] * qty,
                        created_at=when - timedelta(days=2),
                        submitted_at=when - timedelta(days=2),
                        paid_at=when - timedelta(days=1),
                        completed_at=when,
                    ),
                    agent,
                    qty,
                    when,
                )
            )
    Order.objects.bulk_create([o for o, *_ in made], batch_size=5000)
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(order=o, sku=sku, quantity=q, unit_price=price[buyer.level_id], line_total=o.total)
            for o, buyer, q, _ in made
        ],
        batch_size=5000,
    )
    warehouse = location_singleton(LocationKind.WAREHOUSE)
    supplier = location_singleton(LocationKind.SUPPLIER)
    Location.objects.bulk_create(
        [Location(kind=LocationKind.CLOUD, agent=a, code=f"cloud-{a.pk}", name=f"{a.real_name} 云仓") for a in agents],
        batch_size=5000,
        ignore_conflicts=True,
    )
    cloud = dict(Location.objects.filter(kind=LocationKind.CLOUD, agent__in=agents).values_list("agent_id", "pk"))
    filled = sum(q for _, _, q, _ in made)
    received = filled + 20_000  # what the warehouse still holds after the history
    moves = [
        StockMove(
            from_location=supplier,
            to_location=warehouse,
            sku=sku,
            quantity=received,
            reason=StockReason.RECEIPT,
            created_at=now - timedelta(days=100),
            note="演示数据",
        )
    ]
    held: dict[int, int] = {}
    for (order, buyer, qty, completed_at), line in zip(made, lines, strict=True):
        moves.append(
            StockMove(
                from_location=warehouse,
                to_location_id=cloud[buyer.pk],
                sku=sku,
                quantity=qty,
                reason=StockReason.ORDER_FILL,
                order_line=line,
                created_at=completed_at,
                note=order.number,
            )
        )
        held[cloud[buyer.pk]] = held.get(cloud[buyer.pk], 0) + qty
    StockMove.objects.bulk_create(moves, batch_size=5000)
    StockLevel.objects.bulk_create(
        [StockLevel(location=warehouse, sku=sku, quantity=received - filled)]
        + [StockLevel(location_id=loc, sku=sku, quantity=qty) for loc, qty in held.items()],
        batch_size=5000,
    )


def _applications(rng: random.Random, levels: dict[str, Level]) -> None:
    inviters = list(
        Agent.objects.filter(user__phone__in=[LOGIN_PHONE.format(rank=r) for r in range(1, 6)]).select_related("level")
    )
    from weishang.channel.services import application_submit

    for i, inviter in enumerate(inviters):
        lower = [lvl for lvl in levels.values() if lvl.rank >= inviter.level.rank][-1]
        application_submit(
            invite_code=inviter.invite_code,
            phone=f"1370000{i:04d}",
            real_name=_name(rng),
            level_code=lower.code,
            password=AGENT_PASSWORD,
        )


@transaction.atomic
def demo_load(*, agents: int = 2000, seed: int = 2026) -> DemoResult:
    brand = Brand.objects.order_by("pk").first()
    if brand is None:
        Brand.objects.create(name=BRAND_NAME, currency="CNY", timezone="Asia/Shanghai", jurisdiction="cn")
    levels = _catalog()
    _product_content()
    staff = _staff()
    created = False
    if not Agent.objects.exists():
        load_agents(n=agents - 1, seed=seed, levels=levels)  # the last one is recruited live, below
        _applications(random.Random(seed + 1), levels)
        _plan_and_rewards(clock.now())
        _payment_history()
        _receiving_accounts()
        created = True
    if not Qualification.objects.exists():
        _qualifications()
    if not Material.objects.exists():
        _materials(levels)
    if not PosterTemplate.objects.exists():
        _poster_template()
    if not FaqEntry.objects.exists():
        _faq()
    if not CodeBatch.objects.exists():
        _security_codes()
    _certificates()
    demo_leads(login_phone=LOGIN_PHONE.format(rank=4), seed=seed)
    demo_stores(login_phone=LOGIN_PHONE.format(rank=4))
    service_demo(login_phone=LOGIN_PHONE.format(rank=4))  # M14: 客服 conversations, quick and auto replies
    meetings_demo(login_phone=LOGIN_PHONE, password=AGENT_PASSWORD)
    promotions_demo(  # M10: a brand coupon, a flash sale and coupons used in the 特约 login's shop
        seller=Agent.objects.filter(user__phone=LOGIN_PHONE.format(rank=5), status="active").first(),
        by=get_user_model().objects.filter(username="owner").first(),
    )
    campaigns_demo(  # M10: 开业季 running with six agents in it, and a draft the linter keeps from starting
        login_phone=LOGIN_PHONE.format(rank=4), by=get_user_model().objects.filter(username="owner").first()
    )
    demo_growth(login_phone=LOGIN_PHONE.format(rank=4))
    academy_demo(login_phone=LOGIN_PHONE)  # M12: the bootcamp, a level course, an open class, live classes
    demo_health()
    inventory_demo(by=get_user_model().objects.filter(username="owner").first())  # M14: valued stock, reorder rules
    selection_demo(by=get_user_model().objects.filter(username="owner").first())  # M14: 选品 candidates
    purchasing_demo(by=get_user_model().objects.filter(username="owner").first())  # M14: suppliers, orders, bills
    b2b_demo(password=STAFF_PASSWORD)  # M14: business accounts, a negotiated deal, a claim and its credit note
    autofinance_demo(password=STAFF_PASSWORD)  # M15: the car dealer's finance desk, a customer to take to a loan
    jobs_demo()  # M13: the worker has run each periodic job once (the console's 后台任务)
    logins = []
    for rank in range(1, 7):  # one login per level, and the 特约 recruited live (13800000006)
        agent = Agent.objects.select_related("level").filter(user__phone=LOGIN_PHONE.format(rank=rank)).first()
        if agent:
            logins.append((agent.level.name, agent.phone, agent.real_name))
    b2b_logins = [
        (member.account.name, member.user.username)
        for member in BusinessMember.objects.select_related("account", "user").order_by("pk")
    ]
    return DemoResult(
        created=created, agents=Agent.objects.count(), staff=staff, agent_logins=logins, b2b_logins=b2b_logins
    )


def _plan_and_rewards(now) -> None:
    """The brand runs on the lawful retail-first plan shipped in examples/ (in force since before the
    order history; its one HIGH finding acknowledged by the owner). The tiered and social-mall
    examples are uploaded as drafts, so the console shows why the linter keeps them from going live.
    The login agents sold to customers in the finished months, which are settled (the monthly
    retail award), and a live order and a live shop sale go through every step."""
    from weishang.rewards.plan_versions import plan_activate, plan_upload
    from weishang.rewards.services import rewards_process, settle_period

    if not PLAN_FILE.is_file():
        _live_order()
        return
    for draft in DRAFT_PLANS:
        if draft.is_file():
            plan_upload(text=draft.read_text(encoding="utf-8"), filename=draft.name)
    version = plan_upload(text=PLAN_FILE.read_text(encoding="utf-8"), filename=PLAN_FILE.name)
    if not version.is_activated:
        owner = get_user_model().objects.filter(username="owner").first()
        plan_activate(
            version=version,
            by=owner,
            active_from=now - timedelta(days=120),
            acknowledgement="演示品牌老板：保留云仓上级发货（CN-LOCK），已评估风险；改为 supply: company 即可消除。",
        )
    _retail_history(now)
    month = timezone.localdate(now - timedelta(days=100)).replace(day=1)
    this_month = timezone.localdate(now).replace(day=1)
    while month < this_month:
        settle_period(period=f"{month:%Y-%m}")
        month = (month + timedelta(days=32)).replace(day=1)
    _live_order()
    rewards_process()


def _retail_history(now) -> None:
    """The 联创, 总代 and 省代 logins restocked 70 units at the start of each of the last three months
    and sold them to seven customers in that month (written in bulk, as the services would have
    left it). Their retail stays below the next level's threshold, so the logins keep their levels."""
    sku = SKU.objects.get(code="GLOW-30ML")
    price = {lp.level_id: lp.price for lp in LevelPrice.objects.filter(sku=sku)}
    warehouse, supplier = location_singleton(LocationKind.WAREHOUSE), location_singleton(LocationKind.SUPPLIER)
    customer_place = location_singleton(LocationKind.CUSTOMER)
    logins = list(
        Agent.objects.filter(user__phone__in=[LOGIN_PHONE.format(rank=r) for r in range(1, 4)]).select_related("level")
    )
    first_of_month = timezone.localtime(now).replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    moves, n = [], 0
    for agent in logins:
        cloud = Location.objects.get_or_create(
            kind=LocationKind.CLOUD,
            agent=agent,
            defaults={"code": f"cloud-{agent.pk}", "name": f"{agent.real_name} 云仓"},
        )[0]
        for months_ago in (3, 2, 1):
            start = (first_of_month - timedelta(days=28 * months_ago)).replace(day=1)
            n += 1
            restock = Order.objects.create(
                number=f"DR{agent.pk:06d}{n:04d}",
                kind=OrderKind.RESTOCK,
                buyer=agent,
                supply_mode=SupplyMode.CLOUD,
                status=OrderStatus.COMPLETED,
                total=price[agent.level_id] * 70,
                created_at=start,
                submitted_at=start,
                paid_at=start,
                completed_at=start,
            )
            line = OrderLine.objects.create(
                order=restock, sku=sku, quantity=70, unit_price=price[agent.level_id], line_total=restock.total
            )
            moves += [
                StockMove(
                    from_location=supplier,
                    to_location=warehouse,
                    sku=sku,
                    quantity=70,
                    reason=StockReason.RECEIPT,
                    created_at=start,
                    note="演示数据",
                ),
                StockMove(
                    from_location=warehouse,
                    to_location=cloud,
                    sku=sku,
                    quantity=70,
                    reason=StockReason.ORDER_FILL,
                    order_line=line,
                    created_at=start,
                    note=restock.number,
                ),
            ]
            for k in range(7):
                when = start + timedelta(days=2 + 3 * k)
                customer, _created = Customer.objects.get_or_create(
                    phone=f"1370{agent.pk % 1000:03d}{months_ago}{k:03d}",
                    defaults={"name": f"顾客{k + 1}", "bound_agent": agent, "bound_at": when},
                )
                sale = Order.objects.create(
                    number=f"DS{agent.pk:06d}{n:04d}{k}",
                    kind=OrderKind.RETAIL,
                    seller=agent,
                    customer=customer,
                    bound_agent=customer.bound_agent,
                    supply_mode=SupplyMode.CLOUD,
                    status=OrderStatus.COMPLETED,
                    total=sku.retail_price * 10,
                    ship_name=customer.name,
                    ship_phone=customer.phone,
                    ship_region_id="310104",
                    ship_address="漕溪北路 1 号",
                    created_at=when,
                    submitted_at=when,
                    paid_at=when,
                    completed_at=when + timedelta(days=2),
                )
                line = OrderLine.objects.create(
                    order=sale, sku=sku, quantity=10, unit_price=sku.retail_price, line_total=sale.total
                )
                moves.append(
                    StockMove(
                        from_location=cloud,
                        to_location=customer_place,
                        sku=sku,
                        quantity=10,
                        reason=StockReason.RETAIL,
                        order_line=line,
                        created_at=when,
                        note=sale.number,
                    )
                )
    StockMove.objects.bulk_create(moves)  # in and out again: the cached stock levels do not change


def _payment_history() -> None:
    """The history's orders the company filled were paid by transfer to brand finance: their
    confirmed payments and ledger entries (brand cash debited, brand sales credited), written in
    bulk as ``trade.services.payment_confirm`` would have left them, so that the console's cash
    collected (回款) has a history. ``weishang ledger verify`` checks them."""
    from weishang.ledger.models import Account, JournalEntry, JournalLine, Purpose
    from weishang.ledger.services import account_for
    from weishang.trade.models import VOLUME_KINDS, Payment, PaymentMethod, PaymentStatus

    orders = list(
        Order.objects.filter(
            seller__isnull=True, kind__in=VOLUME_KINDS, paid_at__isnull=False, payments__isnull=True
        ).order_by("paid_at", "pk")
    )
    if not orders:
        return
    finance = get_user_model().objects.filter(username="finance").first()
    payments = Payment.objects.bulk_create(
        [
            Payment(  # type: ignore[misc]  # paid_at__isnull=False: never None
                order=o,
                method=PaymentMethod.TRANSFER,
                amount=o.total,
                status=PaymentStatus.CONFIRMED,
                reference=f"演示转账 {o.number}",
                created_at=o.paid_at,
                decided_by=finance,
                decided_at=o.paid_at,
            )
            for o in orders
        ],
        batch_size=5000,
    )
    cash = account_for(owner=None, purpose=Purpose.BRAND_CASH)
    sales = account_for(owner=None, purpose=Purpose.BRAND_SALES)
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(  # type: ignore[misc]  # paid_at__isnull=False: never None
                number=f"JH{timezone.localtime(o.paid_at):%Y%m%d}{i:07d}",
                kind="order_payment",
                memo="订单付款",
                reference=f"order:{o.number}",
                idempotency_key=f"payment:{p.pk}",
                created_at=o.paid_at,
                created_by=finance,
            )
            for i, (o, p) in enumerate(zip(orders, payments, strict=True))
        ],
        batch_size=5000,
    )
    JournalLine.objects.bulk_create(
        [
            line
            for e, o in zip(entries, orders, strict=True)
            for line in (
                JournalLine(entry=e, account=cash, amount=o.total),
                JournalLine(entry=e, account=sales, amount=-o.total),
            )
        ],
        batch_size=5000,
    )
    total = sum(o.total for o in orders)
    Account.objects.filter(pk__in=[cash.pk, sales.pk]).update(balance=models.F("balance") + total)


def _live_order() -> None:
    """A new 特约 recruited by the 特约 login buys from the 市代 login's cloud stock, and a consumer
    buys from the 特约 login's shop; both are paid online and go through every step."""
    from weishang.channel.services import agent_create
    from weishang.trade import services as trade
    from weishang.trade.providers.fake import FakeProvider

    def pay(order) -> None:
        body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
        trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))

    vip = Agent.objects.filter(user__phone=LOGIN_PHONE.format(rank=5)).select_related("level").first()
    if vip is None or vip.supplier_id is None:
        return
    recruit = agent_create(
        phone="13800000006",
        real_name="新特约陈静",
        level=vip.level,
        referrer=vip,
        password=AGENT_PASSWORD,
        entry_paid=True,
        region="330106",
        reason="演示数据",
    )
    order = trade.order_submit(buyer=recruit, lines=[("GLOW-30ML", 5)], by=recruit.user)
    assert order.seller is not None  # vip, the recruit's supplier, sells the entry order
    seller_user = order.seller.user
    trade.order_approve(order=order, by=seller_user)
    pay(order)
    trade.order_fill(order=order, by=seller_user)
    sale = trade.retail_order_submit(
        seller=vip, name="王女士", phone="13912345678", region="330106", address="文三路 8 号", lines=[("GLOW-30ML", 2)]
    )
    pay(sale)
    trade.order_fill(order=sale, by=vip.user)
    trade.order_mark_delivered(order=sale, by=vip.user)


def _qr_png(text: str):
    import io

    import qrcode
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    qrcode.make(text, box_size=6, border=2).save(buffer, format="PNG")
    return SimpleUploadedFile("qr.png", buffer.getvalue(), content_type="image/png")


def _scan(title: str, number: str, *, pdf: bool = False):
    """A stand-in scan of a certificate: a framed page with a QR code of its number (a PNG, or a
    one-page PDF), as the owner would upload a phone photo or a scanner's PDF."""
    import io

    import qrcode
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (600, 420), (255, 253, 245))
    draw = ImageDraw.Draw(page)
    draw.rectangle((12, 12, 587, 407), outline=(180, 140, 60), width=6)
    page.paste(qrcode.make(number, box_size=4, border=1).convert("RGB"), (420, 250))
    draw.text((40, 360), number.encode("ascii", "ignore").decode() or "No.", fill=(60, 60, 60))
    buffer = io.BytesIO()
    page.save(buffer, format="PDF" if pdf else "PNG")
    name, kind = ("scan.pdf", "application/pdf") if pdf else ("scan.png", "image/png")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=kind)


# The demo brand's qualifications: the kinds a cosmetics brand shows (licence, production licence,
# product filing, inspection report, trademark); one expired and one about to expire, so the
# brand page's flags are seen.
def _qualifications() -> None:
    from weishang.toolkit import services as toolkit

    today = clock.today()
    rows = [
        (
            "business_licence",
            "营业执照",
            "91330106MA2H7Q3K5X",
            "杭州市西湖区市场监督管理局",
            date(2021, 3, 15),
            None,
            False,
        ),
        (
            "production_licence",
            "化妆品生产许可证（受托生产企业）",
            "浙妆 20210055",
            "浙江省药品监督管理局",
            date(2021, 6, 1),
            today - timedelta(days=190),
            True,
        ),
        (
            "filing",
            "焕颜修护精华液 国产普通化妆品备案",
            "浙G妆网备字2024012345",
            "浙江省药品监督管理局",
            date(2024, 2, 20),
            None,
            False,
        ),
        (
            "inspection",
            "焕颜修护精华液 检测报告（微生物、重金属）",
            "CTI-2025-HZ-08817",
            "第三方检测机构",
            today - timedelta(days=345),
            today + timedelta(days=20),
            True,
        ),
        (
            "trademark",
            "“焕颜”商标注册证（第3类）",
            "第58812345号",
            "国家知识产权局",
            date(2022, 1, 7),
            date(2032, 1, 6),
            False,
        ),
    ]
    for position, (kind, title, number, issuer, start, end, pdf) in enumerate(rows):
        toolkit.qualification_save(
            kind=kind,
            title=title,
            number=number,
            issuer=issuer,
            valid_from=start,
            valid_until=end,
            document=_scan(title, number, pdf=pdf),
            position=position,
        )


MATERIALS = [
    (
        "images",
        "新品上市 · 焕颜修护精华",
        "敏感肌姐妹看过来！积雪草+神经酰胺，28 天修护泛红干痒。\n无香精无酒精，孕期也能用。\n私信我领试用装～",
        None,
        "新品上市",
        2,
    ),
    (
        "copy",
        "早安文案 · 坚持护肤",
        "早安☀️ 好皮肤是养出来的，不是化出来的。\n今天也要记得防晒哦！",
        None,
        "日常",
        0,
    ),
    (
        "images",
        "顾客反馈合集（已获授权）",
        "用了两周，脸不再动不动就红了——来自杭州的王小姐。\n效果因人而异，请按说明使用。",
        None,
        "口碑",
        1,
    ),
    (
        "copy",
        "招商文案 · 市代以上",
        "想做一份正经的副业？我们的政策写得清清楚楚：拿货价、奖励规则、退货都有据可查。\n"
        "收入取决于你的实际销售，不承诺收益。",
        "city",
        "招商",
        0,
    ),
]


def _materials(levels: dict[str, Level]) -> None:
    """The material centre's first posts: pictures and 朋友圈 texts, one for 市代 and above."""
    from weishang.toolkit import services as toolkit

    product = Product.objects.filter(name="焕颜修护系列").first()
    now = clock.now()
    for age, (kind, title, text, level, campaign, pictures) in enumerate(MATERIALS):
        material = Material.objects.create(
            kind=kind,
            title=title,
            text=text,
            product=product if kind == "images" else None,
            campaign=campaign,
            min_level=levels.get(level) if level else None,
            published_at=now - timedelta(days=age * 3),
        )
        for position in range(pictures):
            hue = ((214, 232, 220), (236, 222, 206))[position % 2]
            toolkit.material_file_add(material=material, upload=_picture(hue, f"post{position}"), position=position)


def _poster_template() -> None:
    """A brand poster for the shop: a soft background with room for the agent's QR code, name,
    level and the serum's picture (the built-in invite poster stays the first choice)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    from weishang.toolkit import services as toolkit

    page = Image.new("RGB", (750, 1334), (252, 246, 238))
    draw = ImageDraw.Draw(page)
    for y in range(360):
        draw.line([(0, y), (750, y)], fill=(200 - y // 6, 60 + y // 12, 70))
    draw.rounded_rectangle((140, 660, 610, 1130), radius=24, fill=(255, 255, 255))
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    toolkit.poster_template_save(
        template=PosterTemplate(
            name="焕颜修护 · 我的小店",
            target="shop",
            qr_x=165,
            qr_y=685,
            qr_size=420,
            name_x=60,
            name_y=420,
            name_size=56,
            level_x=60,
            level_y=500,
            level_size=36,
            text_colour="#1f2328",
            product=Product.objects.filter(name="焕颜修护系列").first(),
            product_x=470,
            product_y=380,
            product_size=220,
        ),
        background=SimpleUploadedFile("poster.png", buffer.getvalue(), content_type="image/png"),
    )


def _certificates() -> None:
    """Every active agent's authorization certificate (in bulk), the brand's certificate template,
    and WeChat ids for the demo logins, so that /verify/ finds them by any of the three."""
    from weishang.certificates.models import CertificateTemplate
    from weishang.certificates.services import certificate_template_save, certificates_sync
    from weishang.channel.services import agent_set_wechat_id

    if not CertificateTemplate.objects.exists():
        certificate_template_save(template=CertificateTemplate(title="授权书"))
    owner = get_user_model().objects.get(username="owner")
    for rank in range(1, 7):
        agent = Agent.objects.filter(user__phone=LOGIN_PHONE.format(rank=rank)).first()
        if agent is not None and not agent.wechat_id:
            agent_set_wechat_id(agent=agent, wechat_id=f"glow_demo_{rank}", by=owner)
    certificates_sync()


def _security_codes() -> None:
    """A printed batch of security codes, and channel conflict to see in the console: the 市代
    login (杭州) has a unit picked up from her cloud stock for a customer in 杭州 — the warehouse
    scans its code — and a consumer checks that code in 成都; a second pick-up goes to an address
    in 成都 (a sale outside her region)."""
    from weishang.codes import services as codes
    from weishang.trade import selectors as trade_selectors
    from weishang.trade import services as trade

    owner = get_user_model().objects.get(username="owner")
    seller = Agent.objects.filter(user__phone=LOGIN_PHONE.format(rank=4)).first()
    held = list(trade_selectors.stock_holdings(agent=seller)) if seller else []
    sku = max(held, key=lambda level: level.quantity).sku if held else SKU.objects.get(code="GLOW-30ML")
    batch = codes.batch_create(sku=sku, boxes=4, per_box=10, by=owner, note="演示批次")
    if seller is None or sum(level.quantity for level in held if level.sku_id == sku.pk) < 2:
        return  # a demo too small to have the 市代 login with stock: the batch alone
    items = iter(batch.item_codes.order_by("pk").values_list("code", flat=True))
    for region, street in (("330106", "文三路 8 号"), ("510104", "春熙路 99 号")):
        pickup = trade.pickup_request(
            agent=seller,
            lines=[(sku.code, 1)],
            by=seller.user,
            name="顾客周女士",
            phone="13912340000",
            region=region,
            address=street,
        )
        code = next(items)
        codes.codes_scan(order=pickup, by=owner, text=code)
        trade.pickup_ship(order=pickup, by=owner, carrier="顺丰速运", tracking_number=f"SF{pickup.pk:010d}")
        if region == "330106":
            codes.code_check(text=code, region="330106")  # the customer in 杭州 checks it: fine
            codes.code_check(text=code, region="510104")  # then it turns up in 成都: 窜货


def _faq() -> None:
    """The demo brand's 百问百答 (demo/data/faq.md), imported as a brand imports its own."""
    from weishang.faq import services as faq

    text = (Path(__file__).parent / "data" / "faq.md").read_text(encoding="utf-8")
    faq.faq_import(faq.parse_markdown(text))


def _receiving_accounts() -> None:
    """Where to pay: the brand's bank account (for company-filled orders and top-ups) and each
    login agent's WeChat Pay code (the 市代 adds a bank account), made through the service."""
    from weishang.trade import services as trade

    owner = get_user_model().objects.filter(username="owner").first()
    if owner is not None:
        trade.receiving_account_save(
            by=owner,
            agent=None,
            data={
                "kind": "bank",
                "holder": f"{BRAND_NAME}（演示）",
                "bank": "招商银行上海分行营业部",
                "account_number": "6214 8302 0000 8888",
                "note": "转账请备注订单号",
            },
        )
    for agent in Agent.objects.filter(user__phone__in=[LOGIN_PHONE.format(rank=r) for r in range(1, 6)]).select_related(
        "user"
    ):
        trade.receiving_account_save(
            by=agent.user,
            agent=agent,
            qr_image=_qr_png(f"wxp://demo/{agent.pk}"),
            data={"kind": "wechat", "holder": agent.real_name, "note": "微信扫码付款"},
        )
        if agent.user.phone == LOGIN_PHONE.format(rank=4):
            trade.receiving_account_save(
                by=agent.user,
                agent=agent,
                data={
                    "kind": "bank",
                    "holder": agent.real_name,
                    "bank": "中国工商银行杭州分行",
                    "account_number": "6222 0212 0000 4444",
                },
            )


def pending_applications() -> int:
    return Application.objects.filter(status="pending").count()
