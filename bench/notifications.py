#!/usr/bin/env python
"""What the notification centre (M11) costs an order, and how fast it turns events into
notifications and sends them.

In a database of its own (SQLite in ``var/bench/notifications/``, or ``--database-url``), a brand
with one 总代 supplying ``--agents`` 市代 (the 总代 asked for text messages; the SMS backend is the
in-memory one, so what is measured is Weishang's work, not a provider's network):

1. **The order's cost.** ``--orders`` restock orders, each submitted and committed with the outbox's
   consumers run right after the commit as in a request, timed one by one; once with the
   notification consumer subscribed and once without it. Median and p95 per order, and the ratio.
2. **Catching up.** The same number of orders placed with the inline consumers off, then the
   consumer reads the whole backlog from scratch: notifications per second, SQL statements per
   500-event batch (they must not grow with the batch: one query per table, not per event).
3. **Sending.** The deliveries planned in 2 (one text message each; catching up tries the first
   ten of each batch), the rest sent by ``deliveries_send``: messages per second.

Usage::

    .venv/bin/python bench/notifications.py
    .venv/bin/python bench/notifications.py --database-url postgres://postgres@127.0.0.1:5432/weishang_bench_notify

Results are also written as JSON to ``var/bench/notifications-<backend>.json``.
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
from decimal import Decimal
from pathlib import Path

from common import reset_postgres

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def _setup(database_url: str | None) -> str:
    var = BENCH_DIR / "notifications"
    if database_url is None:
        shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True, exist_ok=True)
    os.environ["WEISHANG_VAR"] = str(var)
    os.environ.setdefault("DEBUG", "0")
    os.environ["WEISHANG_SMS_BACKEND"] = "weishang.core.sms.LocmemBackend"
    if database_url:
        reset_postgres(database_url)
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def _world(agents: int):
    from django.contrib.auth.hashers import make_password

    from weishang.catalog.models import SKU, Product
    from weishang.channel import services as channel
    from weishang.channel.models import Approver, Level
    from weishang.core.models import Brand, SupplyMode
    from weishang.notifications.models import NotificationSettings

    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD)
    SKU.objects.create(
        product=Product.objects.create(name="焕颜"), code="A", name="修护精华", retail_price=Decimal("100")
    )
    spec = [("general", "总代", 1, "20000", "0.40", 20), ("city", "市代", 2, "2000", "0.60", 5)]
    levels = {
        code: Level.objects.create(
            code=code,
            name=name,
            rank=rank,
            entry_amount=Decimal(entry),
            discount=Decimal(discount),
            min_restock_qty=qty,
            approver=Approver.SUPPLIER,
        )
        for code, name, rank, entry, discount, qty in spec
    }
    password = make_password(None)  # nobody logs in

    def agent(n: int, level: str, referrer=None):
        return channel.agent_create(
            phone=f"1390000{n:04d}",
            real_name=f"代理{n}",
            level=levels[level],
            referrer=referrer,
            supplier="auto",
            password=password,
            entry_paid=True,
        )

    general = agent(0, "general")
    NotificationSettings.objects.create(user=general.user, wechat=False, sms=True)
    return general, [agent(n, "city", general) for n in range(1, agents + 1)]


def _order_times(cities, orders: int) -> list[float]:
    from weishang.trade import services as trade

    times = []
    for n in range(orders):
        city = cities[n % len(cities)]
        start = time.perf_counter()
        trade.order_submit(buyer=city, lines=[("A", 5)], by=city.user)  # commits; consumers run after
        times.append((time.perf_counter() - start) * 1000)
    return times


def _ms(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2), "p95": round(ordered[int(len(ordered) * 0.95) - 1], 2)}


def run(args) -> dict:
    vendor = _setup(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from weishang.core import outbox, sms
    from weishang.core.models import OutboxCursor
    from weishang.notifications.models import Delivery, DeliveryStatus, Notification
    from weishang.notifications.services import deliveries_send, notifications_follow_events

    _general, cities = _world(args.agents)
    _order_times(cities, 20)  # warm-up
    with_consumer = _order_times(cities, args.orders)
    subscribed = list(outbox._subscribers)
    outbox._subscribers[:] = [c for c in subscribed if c is not notifications_follow_events]
    without = _order_times(cities, args.orders)
    outbox._subscribers[:] = subscribed

    # 2. A backlog read from scratch.
    settings.WEISHANG_OUTBOX_INLINE = False
    _order_times(cities, args.orders)
    Notification.objects.all().delete()
    OutboxCursor.objects.filter(name="notifications").update(position=0)
    made_before = Notification.objects.count()
    queries: list[int] = []
    start = time.perf_counter()
    while True:
        with CaptureQueriesContext(connection) as captured:
            read = notifications_follow_events()  # a batch of 500 events, and the first tries of its messages
        if not read:
            break
        queries.append(len(captured.captured_queries))
    follow_s = time.perf_counter() - start
    made = Notification.objects.count() - made_before

    # 3. Sending the text messages planned.
    sms.outbox.clear()
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).count()
    tried_inline = Delivery.objects.exclude(status=DeliveryStatus.PENDING).count()
    start = time.perf_counter()
    sent = 0
    while True:
        done = deliveries_send(limit=500)
        if not done:
            break
        sent += done
    send_s = time.perf_counter() - start

    median_with, median_without = statistics.median(with_consumer), statistics.median(without)
    return {
        "backend": vendor,
        "python": platform.python_version(),
        "agents": args.agents,
        "orders": args.orders,
        "order_ms_with_notifications": _ms(with_consumer),
        "order_ms_without": _ms(without),
        "order_ratio_median": round(median_with / median_without, 2),
        "backlog_notifications": made,
        "backlog_seconds": round(follow_s, 2),
        "notifications_per_second": round(made / follow_s) if follow_s else None,
        "queries_per_batch": queries,
        "deliveries_pending": pending,
        "deliveries_tried_while_catching_up": tried_inline,
        "sms_sent": sent,
        "sms_per_second": round(sent / send_s) if send_s else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    result = run(args)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / f"notifications-{result['backend']}.json").write_text(json.dumps(result, indent=2))
    w, wo = result["order_ms_with_notifications"], result["order_ms_without"]
    print(f"backend {result['backend']}, {result['agents']} agents, {result['orders']} orders per run")
    print(f"order submitted and committed, with the notification consumer: median {w['median']} ms, p95 {w['p95']} ms")
    print(f"                                without it:                  median {wo['median']} ms, p95 {wo['p95']} ms")
    print(f"ratio (median): {result['order_ratio_median']}x")
    print(
        f"backlog: {result['backlog_notifications']} notifications in {result['backlog_seconds']} s "
        f"({result['notifications_per_second']}/s); SQL statements per 500-event batch: {result['queries_per_batch']}"
    )
    print(f"text messages: {result['sms_sent']} of {result['deliveries_pending']} sent, {result['sms_per_second']}/s")
    ok = result["sms_sent"] == result["deliveries_pending"] and len(set(result["queries_per_batch"][:-1])) <= 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
