"""The demo's meetings (M10): four meetings made through the services, with invitations, door
check-ins, costs, and what the guests did afterwards — joined, upgraded, ordered and paid through
the trade services — so that every figure on a meeting's outcome card comes out of the data.

- **联创私董会** (a private board meeting, 20 days ago): the source's "60 agents, one private meeting,
  9M+ yuan collected" at a tenth of the scale — 6 of its guests join as 联创 and pay for their first
  stock, over ¥900,000 in all, against about ¥59,000 of costs; a member of the host's team upgrades (when one
  without an order history is there to).
- **城市招商会** (a recruitment meeting, 10 days ago): 8 of 10 invited come, 3 join as 市代 or 特约.
- **团队裂变会** (a team-growth meeting, 3 days ago): the 省代 login's team; one member upgrades.
- **新品线上课** (an online class in 5 days): invitations and RSVPs, nobody checked in yet.

Dates are set by holding ``core.clock`` at each moment, so the attribution windows read as in life.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from weishang.channel.models import Agent, Level
from weishang.channel.services import agent_change_level, agent_create
from weishang.core import clock
from weishang.leads.services import leads_follow_events
from weishang.meetings import services
from weishang.meetings.models import CostKind, Meeting, MeetingKind, Rsvp

SKU_CODE = "GLOW-30ML"
PHONE = "13966{meeting}{n:05d}"  # 1396610xxxx for the first meeting's guests, and so on
GUEST_NAMES = "王雅婷 李思琪 张慧敏 刘晓燕 陈美玲 杨静怡 黄丽娟 赵雪梅 吴佳怡 周欣悦".split()


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(day), time(hour, minute)))


def _meeting(kind, title, start, *, hours, venue="", region=None, link="", host, closing, budget, by) -> Meeting:
    return services.meeting_create(
        data=services.MeetingInput(
            kind=kind,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            venue=venue,
            region=region,
            online_link=link,
            host_name=host.real_name if isinstance(host, Agent) else host,
            host_agent=host if isinstance(host, Agent) else None,
            closing_name=closing,
            budget=Decimal(budget),
            window_days=30,
        ),
        by=by,
    )


def paid_restock(agent: Agent, units: int, staff) -> None:
    """A restock order through the trade services, taken through every step (``trade.demo``)."""
    from weishang.trade import services as trade
    from weishang.trade.demo import order_pay_and_fill

    order_pay_and_fill(trade.order_submit(buyer=agent, lines=[(SKU_CODE, units)], by=agent.user), staff=staff)


def _team(leader: Agent, n: int, *, below: int) -> list[Agent]:
    """Up to ``n`` active direct recruits of ``leader`` whose level ranks below ``below`` (so they
    can rise a level), those with no orders yet first: one of them upgrades, and the demo's order
    history stays at each buyer's level price."""
    from weishang.trade.models import Order

    rows = Agent.objects.filter(referrer=leader, status="active", level__rank__gt=below).select_related("level", "user")
    busy = set(Order.objects.filter(buyer__in=rows).values_list("buyer_id", flat=True))
    return sorted(rows, key=lambda a: (a.pk in busy, a.pk))[:n]


def _one_up(agent: Agent, levels: dict[str, Level]) -> Level | None:
    from weishang.trade.models import Order

    if Order.objects.filter(buyer=agent).exists():
        return None  # an agent with history keeps their level in the demo (its orders are at that price)
    return next((lv for lv in sorted(levels.values(), key=lambda lv: -lv.rank) if lv.rank < agent.level.rank), None)


def meetings_demo(*, login_phone: str, password: str) -> None:
    """Load the demo's meetings once (nothing when there are meetings already or the agents are
    missing). ``login_phone`` is the demo's login pattern ("1380000000{rank}")."""
    if Meeting.objects.exists():
        return
    host = Agent.objects.filter(user__phone=login_phone.format(rank=1)).select_related("level").first()
    province = Agent.objects.filter(user__phone=login_phone.format(rank=3)).select_related("level").first()
    staff = get_user_model().objects.filter(username="owner").first()
    if host is None or province is None or staff is None:
        return
    levels = {lv.code: lv for lv in Level.objects.all()}
    today = clock.now()

    # 1. 联创私董会 — scale 1:10 of the source's "60 agents → 9M+": 6 agents → ¥900,000+.
    start = _at(today - timedelta(days=20), 14)
    with clock.frozen(start - timedelta(days=7)):
        board = _meeting(
            MeetingKind.PRIVATE_BOARD,
            "联创私董会 · 西湖",
            start,
            hours=4,
            venue="杭州西湖国宾馆 紫薇厅",
            region="330106",
            host=host,
            closing="品牌创始人 林总",
            budget="60000",
            by=staff,
        )
        guests = [(GUEST_NAMES[i], PHONE.format(meeting=1, n=i)) for i in range(8)]
        for name, phone in guests:
            services.meeting_invite(meeting=board, by_agent=host, name=name, phone=phone)
        members = _team(host, 2, below=1)
        for member in members:
            services.meeting_invite(meeting=board, by_agent=host, name=member.real_name, phone=member.user.phone)
    with clock.frozen(start + timedelta(minutes=20)):
        for name, phone in guests[:7]:
            services.meeting_checkin(meeting=board, name=name, phone=phone, region="330106")
        for member in members:
            services.meeting_checkin(meeting=board, name=member.real_name, phone=member.user.phone)
    for cost_kind, amount, note in (
        (CostKind.VENUE, "18000", "紫薇厅半天"),
        (CostKind.TRAVEL, "24000", "嘉宾往返机票与住宿"),
        (CostKind.GIFTS, "9000", "伴手礼 10 份"),
        (CostKind.SPEAKERS, "8000", "讲师费"),
    ):
        services.meeting_cost_add(meeting=board, kind=cost_kind, amount=amount, note=note, by=staff)
    for i, (name, phone) in enumerate(guests[:6]):
        with clock.frozen(start + timedelta(days=1 + i % 3, hours=2)):
            agent = agent_create(
                phone=phone,
                real_name=name,
                level=levels["partner"],
                referrer=host,
                password=password,
                entry_paid=True,
                region="330106",
                reason="私董会成交",
            )
            leads_follow_events()  # the lead becomes this agent (the consumer runs on commit in production)
            paid_restock(agent, 1875 + 25 * i, staff)  # ¥150,000 to ¥162,000 at the 联创 price of ¥80
    higher = _one_up(members[0], levels) if members else None
    if higher is not None:
        with clock.frozen(start + timedelta(days=6)):
            upgraded = agent_change_level(agent=members[0], level=higher, reason="私董会后升级")
            paid_restock(upgraded, max(higher.min_restock_qty, 100), staff)

    # 2. 城市招商会: 10 invited by the 省代 login, 8 come, 3 join.
    start = _at(today - timedelta(days=10), 13, 30)
    with clock.frozen(start - timedelta(days=5)):
        fair = _meeting(
            MeetingKind.RECRUITMENT,
            "城市招商会 · 成都",
            start,
            hours=3,
            venue="成都锦江宾馆 3 楼会议厅",
            region="510104",
            host=province,
            closing="招商总监 周老师",
            budget="12000",
            by=staff,
        )
        guests = [(GUEST_NAMES[i], PHONE.format(meeting=2, n=i)) for i in range(10)]
        for k, (name, phone) in enumerate(guests):
            inv = services.meeting_invite(meeting=fair, by_agent=province, name=name, phone=phone)
            services.invitation_rsvp(invitation=inv, answer=(Rsvp.YES, Rsvp.YES, Rsvp.MAYBE, Rsvp.NO)[k % 4])
    with clock.frozen(start + timedelta(minutes=15)):
        for name, phone in guests[:8]:
            services.meeting_checkin(meeting=fair, name=name, phone=phone, region="510104")
    for cost_kind, amount, note in (
        (CostKind.VENUE, "6000", "会议厅"),
        (CostKind.CATERING, "3000", "茶歇"),
        (CostKind.MATERIALS, "1000", "易拉宝与资料"),
        (CostKind.CATERING, "-500", "茶歇少用一桌，退款"),
    ):
        services.meeting_cost_add(meeting=fair, kind=cost_kind, amount=amount, note=note, by=staff)
    for i, level_code, units in ((0, "city", 12), (1, "city", 10), (2, "vip", 5)):
        name, phone = guests[i]
        with clock.frozen(start + timedelta(days=2 + i, hours=3)):
            agent = agent_create(
                phone=phone,
                real_name=name,
                level=levels[level_code],
                referrer=province,
                password=password,
                entry_paid=True,
                region="510104",
                reason="招商会成交",
            )
            leads_follow_events()
            paid_restock(agent, units, staff)

    # 3. 团队裂变会: the 省代 login's team; one member (with no order history) rises a level.
    start = _at(today - timedelta(days=3), 19)
    team = _team(province, 4, below=province.level.rank)
    with clock.frozen(start - timedelta(days=2)):
        growth = _meeting(
            MeetingKind.TEAM_GROWTH,
            "团队裂变会",
            start,
            hours=2,
            venue="杭州办公室",
            region="330106",
            host=province,
            closing="团队长",
            budget="2000",
            by=staff,
        )
        for member in team:
            services.meeting_invite(meeting=growth, by_agent=province, name=member.real_name, phone=member.user.phone)
    with clock.frozen(start + timedelta(minutes=5)):
        for member in team[:3]:
            services.meeting_checkin(meeting=growth, name=member.real_name, phone=member.user.phone)
    services.meeting_cost_add(meeting=growth, kind=CostKind.CATERING, amount="1200", note="聚餐", by=staff)
    higher = _one_up(team[0], levels) if team else None
    if higher is not None:
        with clock.frozen(start + timedelta(days=1)):
            upgraded = agent_change_level(agent=team[0], level=higher, reason="裂变会后升级")
            paid_restock(upgraded, max(higher.min_restock_qty, 10), staff)

    # 4. 新品线上课 in 5 days: invitations and RSVPs only.
    start = _at(today + timedelta(days=5), 20)
    online = _meeting(
        MeetingKind.ONLINE_CLASS,
        "新品线上课",
        start,
        hours=1,
        link="https://meeting.tencent.com/dm/demo-glow",
        host=host,
        closing="产品讲师 许老师",
        budget="0",
        by=staff,
    )
    for k, (name, phone) in enumerate((GUEST_NAMES[i], PHONE.format(meeting=4, n=i)) for i in range(4)):
        inv = services.meeting_invite(meeting=online, by_agent=host, name=name, phone=phone)
        if k < 3:
            services.invitation_rsvp(invitation=inv, answer=(Rsvp.YES, Rsvp.MAYBE, Rsvp.YES)[k])
