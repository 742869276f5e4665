#!/usr/bin/env python
"""How fast every page answers on the demo data (issue M5: "every page answers in under 200 ms").

Builds the demo brand exactly as ``make run`` does (``weishang migrate`` and ``weishang demo``,
2,000 agents by default) in a database of its own, then requests each page in-process through
Django's test client, logged in as the person who uses it: the demo's agent logins (联创 with the
largest team, 市代 who fills, 特约 who orders), the brand owner and finance in the console, and a
consumer on a shop page. Per page: one warm-up request, then ``--reps`` timed ones; the median and
the slowest, the number of SQL queries, and the median as a share of the 200 ms target.

``DEBUG`` is off unless the environment sets it (``DEBUG=1`` measures ``make run``'s server). What
is measured is the server's work for one request (middleware, view, queries, template) — no
network, no browser, no static files. Every response must be 200; the script exits 1 if one is not
or if a median misses the target.

Usage::

    .venv/bin/python bench/pages.py                    # SQLite (var/bench/pages/)
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/weishang_bench_pages
    .venv/bin/python bench/pages.py --agents 2000 --reps 15

Results are also written as JSON to ``var/bench/pages-<backend>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from common import reset_postgres

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
TARGET_MS = 200.0


def _setup(database_url: str | None) -> str:
    var = BENCH_DIR / "pages"
    if database_url is None:
        shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True, exist_ok=True)
    os.environ["WEISHANG_VAR"] = str(var)
    os.environ.setdefault("DEBUG", "0")  # as served in production: no query log, no debug pages
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def _pages():
    """(who, label, url) for every page a user reaches, with real ids from the demo data."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from weishang.channel.models import Agent
    from weishang.demo.services import LOGIN_PHONE
    from weishang.ledger.models import Withdrawal
    from weishang.rewards.models import PlanVersion, RewardLine, SettlementRun
    from weishang.trade.models import Order, OrderKind

    User = get_user_model()
    top = Agent.objects.get(user__phone=LOGIN_PHONE.format(rank=1))
    city = Agent.objects.get(user__phone=LOGIN_PHONE.format(rank=4))
    vip = Agent.objects.get(user__phone=LOGIN_PHONE.format(rank=5))
    member = Agent.objects.filter(referrer=top).order_by("pk").first()
    mine = Order.objects.filter(buyer=vip).order_by("-pk").first()
    to_fill = Order.objects.filter(seller=city).order_by("-pk").first()
    retail = Order.objects.filter(kind=OrderKind.RETAIL, seller=vip).order_by("-pk").first()

    pages: list[tuple[object, str, str]] = []

    def agent_page(agent, label, url):
        pages.append((agent.user, label, url))

    for agent, who in ((top, "联创"), (city, "市代"), (vip, "特约")):
        for name in (
            "home",
            "my_orders",
            "fill",
            "stock",
            "wallet",
            "team",
            "applications",
            "rewards",
            "withdraw",
            "order_new",
        ):
            agent_page(agent, f"{who} /m/ {name}", reverse(f"web:{name}"))
    optional = ["upgrade_progress", "customers", "invite", "poster", "upgrade_new"]
    for name in optional:
        try:
            url = reverse(f"web:{name}")
        except Exception:  # noqa: BLE001 - a page this checkout does not have yet
            continue
        for agent, who in ((top, "联创"), (vip, "特约")):
            agent_page(agent, f"{who} /m/ {name}", url)
    if member is not None:
        agent_page(top, "联创 /m/ team of a member", reverse("web:team_of", args=[member.pk]))
    agent_page(top, "联创 /m/ team search", reverse("web:team") + "?q=王")
    if mine is not None:
        agent_page(vip, "特约 /m/ order detail", reverse("web:my_order", args=[mine.number]))
    if to_fill is not None:
        agent_page(city, "市代 /m/ fill detail", reverse("web:fill_order", args=[to_fill.number]))
    pages.append((None, "consumer /s/ shop", reverse("web:shop", args=[vip.invite_code])))
    pages.append((None, "public /join/ invite", reverse("web:join", args=[vip.invite_code])))
    pages.append((None, "public /m/login/", reverse("web:login")))
    pages.append((None, "public /m/password/forgot/", reverse("web:password_forgot")))
    if retail is not None:
        pages.append(
            (
                None,
                "consumer /s/ order",
                reverse("web:shop_order", args=[vip.invite_code, retail.number])
                + f"?phone={retail.customer.phone if retail.customer_id else ''}",
            )
        )

    # The launch toolkit's trust pages (M9): the agent's certificate, the public lookups.
    from weishang.certificates.models import Certificate
    from weishang.codes.models import CodeMove

    agent_page(vip, "特约 /m/ certificate", reverse("web:my_certificate"))
    agent_page(vip, "特约 /m/ certificate.png", reverse("web:my_certificate_png"))
    agent_page(city, "市代 /m/ materials", reverse("web:materials"))
    serial = Certificate.objects.filter(agent=vip, status="active").values_list("serial", flat=True).first()
    pages.append((None, "public /verify/", reverse("web:verify")))
    if serial:
        pages.append((None, "public /verify/ certificate", reverse("web:verify") + f"?q={serial}"))
    moved = CodeMove.objects.select_related("item").first()
    if moved is not None:
        pages.append((None, "public /verify/ product code", reverse("web:verify") + f"?code={moved.item.code}"))

    # Growth (M10): an agent's leads, work plan, meetings and store; the consumers' nearby stores.
    agent_page(city, "市代 /m/ leads", reverse("web:leads"))
    agent_page(city, "市代 /m/ plan", reverse("web:plan"))
    agent_page(top, "联创 /m/ plan (team)", reverse("web:plan"))
    agent_page(city, "市代 /m/ store", reverse("web:my_store"))
    pages.append((None, "public /stores/ near a point", reverse("web:stores") + "?lat=30.2592&lng=120.13"))
    pages.append((None, "public /stores/ in a district", reverse("web:stores") + "?region=330106"))

    owner = User.objects.get(username="owner")
    finance = User.objects.get(username="finance")
    from weishang.growth.models import LaunchPhase
    from weishang.meetings.models import Meeting

    growth_console = [
        (owner, "owner leads", reverse("admin:leads_lead_changelist")),
        (owner, "owner channel report", reverse("admin:leads_channel_report")),
        (owner, "owner work plans", reverse("admin:growth_workplan_changelist")),
        (owner, "owner meetings", reverse("admin:meetings_meeting_changelist")),
        (owner, "owner channel health", reverse("admin:monitor_health")),
        (owner, "owner coupon offers", reverse("admin:promotions_couponoffer_changelist")),
    ]
    phase = LaunchPhase.objects.order_by("-starts_on").first()
    if phase is not None:
        growth_console.append(
            (owner, "owner phase progress", reverse("admin:growth_launchphase_progress", args=[phase.pk]))
        )
    meeting = Meeting.objects.order_by("pk").first()
    if meeting is not None:
        growth_console.append(
            (owner, "owner meeting detail", reverse("admin:meetings_meeting_change", args=[meeting.pk]))
        )
    # Live campaigns (M10): the order form with the running campaigns' offers, the list, one's report.
    from weishang.campaigns.models import Campaign

    agent_page(city, "市代 /m/ order (campaign offers)", reverse("web:order_new"))
    growth_console.append((owner, "owner campaigns", reverse("admin:campaigns_campaign_changelist")))
    campaign = Campaign.objects.filter(status="scheduled").order_by("pk").first()
    if campaign is not None:
        growth_console.append(
            (owner, "owner campaign report", reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        )
    # The academy (M12): my courses, a course, a lesson, my team's progress; the brand's report.
    from weishang.academy.models import Course, CourseKind

    agent_page(vip, "特约 /m/ academy", reverse("web:academy"))
    bootcamp = Course.objects.filter(kind=CourseKind.BOOTCAMP, published=True).order_by("pk").first()
    if bootcamp is not None:
        agent_page(vip, "特约 /m/ academy course", reverse("web:academy_course", args=[bootcamp.pk]))
        lesson = bootcamp.lessons.order_by("position").first()
        if lesson is not None:
            agent_page(vip, "特约 /m/ academy lesson", reverse("web:academy_lesson", args=[lesson.pk]))
    agent_page(top, "联创 /m/ academy team", reverse("web:academy_team"))
    growth_console.append((owner, "owner academy report", reverse("admin:academy_course_report")))
    growth_console.append((owner, "owner courses", reverse("admin:academy_course_changelist")))
    pages.extend(growth_console)
    console = [
        (owner, "owner console index", reverse("admin:index")),
        (owner, "owner agents", reverse("admin:channel_agent_changelist")),
        (owner, "owner applications", reverse("admin:channel_application_changelist")),
        (owner, "owner orders", reverse("admin:trade_order_changelist")),
        (owner, "owner payments", reverse("admin:trade_payment_changelist")),
        (owner, "owner price grid", reverse("admin:catalog_price_grid")),
        (owner, "owner reward lines", reverse("admin:rewards_rewardline_changelist")),
        (owner, "owner plans", reverse("admin:rewards_planversion_changelist")),
        (owner, "owner settlements", reverse("admin:rewards_settlementrun_changelist")),
        (finance, "finance withdrawals", reverse("admin:ledger_withdrawal_changelist")),
        (finance, "finance accounts", reverse("admin:ledger_account_changelist")),
        (owner, "owner agent detail", reverse("admin:channel_agent_change", args=[top.pk])),
        (owner, "owner certificates", reverse("admin:certificates_certificate_changelist")),
        (owner, "owner code batches", reverse("admin:codes_codebatch_changelist")),
        (owner, "owner channel conflicts", reverse("admin:codes_channelconflict_changelist")),
    ]
    if mine is not None:
        console.append((owner, "owner order detail", reverse("admin:trade_order_change", args=[mine.pk])))
    plan = PlanVersion.objects.order_by("-pk").first()
    if plan is not None:
        console.append((owner, "owner plan detail", reverse("admin:rewards_planversion_change", args=[plan.pk])))
    line = RewardLine.objects.order_by("-pk").first()
    if line is not None:
        console.append((owner, "owner reward line", reverse("admin:rewards_rewardline_change", args=[line.pk])))
    run = SettlementRun.objects.order_by("-pk").first()
    if run is not None:
        console.append((owner, "owner settlement", reverse("admin:rewards_settlementrun_change", args=[run.pk])))
    withdrawal = Withdrawal.objects.order_by("-pk").first()
    if withdrawal is not None:
        console.append((finance, "finance withdrawal", reverse("admin:ledger_withdrawal_change", args=[withdrawal.pk])))
    pages.extend(console)
    return pages


def _measure(pages, reps: int) -> list[dict]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients: dict[object, Client] = {}
    rows = []
    for user, label, url in pages:
        client = clients.get(user)
        if client is None:
            client = clients[user] = Client(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
        response = client.get(url)  # warm-up: template and translation caches, the page's rows
        times = []
        reset_queries()  # DEBUG keeps at most 9,000 queries: a full log would count none
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        query_count = len(queries)  # read now: the captured list is a view of the log cleared below
        for _ in range(reps):
            reset_queries()
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        rows.append(
            {
                "page": label,
                "url": url,
                "status": response.status_code,
                "median_ms": round(median, 1),
                "max_ms": round(max(times), 1),
                "queries": query_count,
                "share_of_target": round(median / TARGET_MS, 2),
            }
        )
        flag = "" if response.status_code == 200 and median <= TARGET_MS else "  <-- MISSED"
        print(
            f"{label:<34} {response.status_code:>3} {median:>8.1f} {max(times):>8.1f} {query_count:>6}"
            f" {median / TARGET_MS:>7.2f}{flag}",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of a database to (re)create; default SQLite")
    parser.add_argument("--agents", type=int, default=2000, help="demo agents (default 2000, as make run)")
    parser.add_argument("--reps", type=int, default=11, help="timed requests per page (default 11)")
    args = parser.parse_args()
    if args.database_url:
        reset_postgres(args.database_url)
    vendor = _setup(args.database_url)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo", agents=args.agents, verbosity=0)
    built = time.perf_counter() - started
    print(
        f"Demo brand on {vendor}: {args.agents} agents, built in {built:.0f} s; "
        f"{args.reps} timed requests per page after one warm-up."
    )
    print(f"{'page':<34} {'st':>3} {'median':>8} {'max':>8} {'queries':>6} {'÷200ms':>7}")
    rows = _measure(_pages(), args.reps)
    medians = [r["median_ms"] for r in rows]
    worst = max(rows, key=lambda r: r["median_ms"])
    print(
        f"{len(rows)} pages: median of medians {statistics.median(medians):.1f} ms, slowest median "
        f"{worst['median_ms']:.1f} ms ({worst['page']}), {sum(r['status'] != 200 for r in rows)} not 200, "
        f"{sum(m > TARGET_MS for m in medians)} over {TARGET_MS:.0f} ms."
    )
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = BENCH_DIR / f"pages-{vendor}.json"
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "agents": args.agents,
                "reps": args.reps,
                "build_s": round(built, 1),
                "pages": rows,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    ok = all(r["status"] == 200 and r["median_ms"] <= TARGET_MS for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
