"""The demo brand's recruiting: five ad placements with two months of daily spend, leads from
every channel at every stage (the 市代 login owns some, with follow-ups due), converted leads
linked to agents who joined in those months (so the channel report shows their cash), and one
applied import. Written once; ``weishang demo`` run again leaves it as it is."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.leads.models import AdFormat, AdPlacement, AdPricing, Lead, LeadChannel, LeadNote, LeadStage, NoteKind
from weishang.leads.services import ad_spend_record, lead_capture, leads_import_apply, leads_import_preview

PLACEMENTS = [
    # code, name, channel, platform, format, pricing, price, daily spend range (yuan)
    (
        "toutiao-feed",
        "头条信息流·焕颜精华",
        LeadChannel.FEED_ADS,
        "今日头条",
        AdFormat.FEED_ARTICLE,
        AdPricing.BID,
        "1.20",
        (300, 600),
    ),
    (
        "douyin-video",
        "抖音短视频·创业故事",
        LeadChannel.SHORT_VIDEO,
        "抖音",
        AdFormat.SHORT_VIDEO,
        AdPricing.BID,
        "0.80",
        (200, 500),
    ),
    (
        "baidu-search",
        "百度搜索·微商代理",
        LeadChannel.SEARCH_ADS,
        "百度",
        AdFormat.IMAGE,
        AdPricing.BID,
        "2.50",
        (150, 300),
    ),
    (
        "wshy-top",
        "微商货源网置顶",
        LeadChannel.RECRUITING_SITE,
        "微商货源网",
        AdFormat.IMAGE,
        AdPricing.FLAT,
        "3000.00",
        None,
    ),
    (
        "tieba-post",
        "贴吧软文",
        LeadChannel.ARTICLE,
        "百度贴吧",
        AdFormat.ARTICLE,
        AdPricing.FLAT,
        "800.00",
        None,
    ),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["芳", "娜", "静", "敏", "丽", "强", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "明", "霞", "平", "刚", "琳"]
CHANNEL_MIX = [
    (LeadChannel.OWN_NETWORK, 14),
    (LeadChannel.FEED_ADS, 12),
    (LeadChannel.SHORT_VIDEO, 10),
    (LeadChannel.SEARCH_ADS, 6),
    (LeadChannel.RECRUITING_SITE, 5),
    (LeadChannel.FORUM, 4),
    (LeadChannel.ARTICLE, 4),
    (LeadChannel.REFERRAL, 8),
]
OPEN = [LeadStage.NEW, LeadStage.CONTACTED, LeadStage.INVITED, LeadStage.ATTENDED, LeadStage.LOST]
NOTES = ["加了微信，发了产品资料", "问了拿货价和门槛", "约了周六的沙龙", "说要和家人商量", "对比了别家，嫌门槛高"]


def demo_leads(*, login_phone: str, seed: int = 2026) -> None:
    if Lead.objects.exists():
        return
    rng = random.Random(seed + 10)
    now = clock.now()
    today = clock.today()
    staff = (
        get_user_model().objects.filter(username="operations").first()
        or get_user_model().objects.filter(is_superuser=True).first()
    )
    placements = {}
    for code, name, channel, platform, fmt, pricing, price, daily in PLACEMENTS:
        placement = AdPlacement.objects.create(
            code=code,
            name=name,
            channel=channel,
            platform=platform,
            format=fmt,
            pricing=pricing,
            price=Decimal(price),
            starts_on=today - timedelta(days=60),
        )
        placements[channel] = placement
        if daily is None:  # a flat price, paid on the first day
            ad_spend_record(placement=placement, day=today - timedelta(days=60), amount=price, by=staff)
            continue
        for back in range(60, 0, -1):
            clicks = rng.randint(200, 600)
            ad_spend_record(
                placement=placement,
                day=today - timedelta(days=back),
                amount=Decimal(rng.randint(*daily)),
                clicks=clicks,
                by=staff,
            )
    owner = Agent.objects.filter(user__phone=login_phone).first()
    channels = [c for c, weight in CHANNEL_MIX for _ in range(weight)]
    # Converted leads: agents who joined in the last two months, each with the lead they were.
    joined = list(
        Agent.objects.select_related("user", "referrer")
        .filter(joined_at__gte=now - timedelta(days=60), user__phone__isnull=False)
        .exclude(user__phone__startswith="1380000000")
        .order_by("pk")[:30]
    )
    for agent in joined:
        channel = rng.choice(channels)
        first_touch = agent.joined_at - timedelta(days=rng.randint(3, 20))
        lead = lead_capture(
            name=agent.real_name,
            phone=agent.user.phone,
            channel=channel,
            placement=placements.get(channel),
            owner_agent=agent.referrer,
            stage=LeadStage.INVITED,
            at=first_touch,
        )
        Lead.objects.filter(pk=lead.pk).update(
            stage=LeadStage.CONVERTED, agent=agent, converted_at=agent.joined_at, stage_changed_at=agent.joined_at
        )
        LeadNote.objects.create(
            lead=lead,
            kind=NoteKind.STAGE,
            stage_from=LeadStage.INVITED,
            stage_to=LeadStage.CONVERTED,
            text="成为代理",
            at=agent.joined_at,
        )
    # Open leads at every stage; a third of them the 市代 login's, some with a follow-up due.
    for i in range(70):
        channel = rng.choice(channels)
        at = now - timedelta(days=rng.randint(0, 58), hours=rng.randint(0, 20))
        stage = rng.choice(OPEN)
        mine = owner is not None and i % 3 == 0
        lead = lead_capture(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=f"139{70000000 + i:08d}",
            channel=channel,
            placement=placements.get(channel),
            owner_agent=owner if mine else None,
            stage=LeadStage.NEW if stage == LeadStage.LOST else stage,
            note=rng.choice(NOTES),
            at=at,
        )
        changes: dict = {}
        if stage == LeadStage.LOST:
            changes["stage"] = LeadStage.LOST
        if mine and stage not in (LeadStage.LOST,) and i % 2 == 0:
            changes["remind_at"] = now - timedelta(hours=rng.randint(1, 30))  # due
        elif stage not in (LeadStage.LOST,):
            changes["remind_at"] = now + timedelta(days=rng.randint(1, 7))
        if changes:
            Lead.objects.filter(pk=lead.pk).update(**changes)
    # One import, applied: leads collected at a trade fair.
    rows = ["姓名,手机,渠道,备注"] + [f"展会客户{i},137{80000000 + i:08d},其他,美博会扫码" for i in range(8)]
    rows.append("缺手机号,,其他,")
    if staff is not None:
        batch = leads_import_preview(file_name="美博会名单.csv", content="\n".join(rows).encode(), by=staff)
        leads_import_apply(batch=batch, by=staff)
