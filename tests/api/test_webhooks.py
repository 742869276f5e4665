"""Outbound webhooks as the brand's receiving system sees them: a real HTTP server on this
machine receives each delivery and checks its signature with the Python snippet from
docs/api.md; failures are retried on the documented schedule, then given up; each event reaches
each subscribed endpoint once; and the order, payment, shipment and reward events are written
by the trade services and the reward engine's lines."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests.stock_helpers import receive
from weishang.core.models import OutboxEvent
from weishang.core.outbox import outbox_emit
from weishang.webhooks import services
from weishang.webhooks.models import DeliveryStatus, WebhookCursor, WebhookDelivery, WebhookEndpoint

D = DeliveryStatus
DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_verifier():
    """The verification function exactly as docs/api.md prints it."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/api.md lost its webhook verification snippet"
    namespace: dict = {}
    exec(compile(found.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_weishang_signature"]


# --- a receiving system on this machine ------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers with ``statuses`` in
    turn (the last one repeats)."""

    def __init__(self, statuses=(200,), *, delay: float = 0.0, location: str | None = None):
        self.statuses, self.delay, self.location = list(statuses), delay, location
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                answer = b'{"received": true}' if status < 300 else b"internal error: database is down"
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/weishang"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The receiver runs on this machine: loopback is allowed, as in development (the setting is
    off in production; tests/api/test_webhook_targets.py covers both)."""
    settings.WEISHANG_WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(*statuses: int, **kw) -> Receiver:
        made.append(Receiver(statuses or (200,), **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def endpoint(url: str, events=("order.paid",), **kw) -> tuple[WebhookEndpoint, str]:
    return services.endpoint_create(url=url, events=list(events), description="ERP", **kw)


def emit(topic: str = "order.paid", key: str = "R20261127000001", **payload) -> OutboxEvent:
    with transaction.atomic():
        outbox_emit(topic=topic, key=key, payload=payload or {"order": key, "total": "340.00"})
    return OutboxEvent.objects.get(topic=topic, key=key)


def header(request: dict, name: str) -> str:
    return {k.lower(): v for k, v in request["headers"].items()}[name.lower()]


# --- a delivery, signed ------------------------------------------------------------------------


def test_a_delivery_is_signed_and_the_documented_snippet_verifies_it(db, receiver):
    hooks = receiver(200)
    ep, secret = endpoint(hooks.url)
    assert secret.startswith("whsec_") and ep.secret == secret
    event = emit(order="R20261127000001", total="340.00")

    outcome = services.webhooks_deliver()
    assert outcome == {D.SUCCEEDED: 1}
    [request] = hooks.requests
    delivery = WebhookDelivery.objects.get()
    assert request["path"] == "/hooks/weishang"
    assert header(request, "Weishang-Event") == "order.paid"
    assert header(request, "Weishang-Delivery") == str(delivery.pk)
    assert header(request, "Content-Type").startswith("application/json")
    timestamp = header(request, "Weishang-Timestamp")
    signature = header(request, "Weishang-Signature")
    assert signature.startswith(f"t={timestamp},v1=")
    body = json.loads(request["body"])
    assert body == {
        "id": f"evt_{event.pk}",
        "type": "order.paid",
        "created_at": event.created_at.isoformat(),
        "data": {"order": "R20261127000001", "total": "340.00"},
    }

    verify = documented_verifier()
    assert verify(secret, signature, request["body"]) is True
    assert verify(secret, signature, request["body"].replace(b"340.00", b"999.00")) is False  # tampered
    assert verify("whsec_someone-elses", signature, request["body"]) is False
    assert verify(secret, "garbage", request["body"]) is False

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert services.webhooks_deliver() == {}  # delivered: never sent again
    assert len(hooks.requests) == 1


def test_an_old_signature_is_refused_by_the_snippet_so_a_captured_request_cannot_be_replayed(db):
    verify = documented_verifier()
    secret, body = "whsec_test", b'{"id":"evt_1"}'
    now = int(time.time())
    fresh = services.signature_header(secret, now, body)
    stale = services.signature_header(secret, now - 301, body)
    assert verify(secret, fresh, body) is True
    assert verify(secret, stale, body) is False
    assert verify(secret, stale, body, tolerance=600) is True  # the signature itself is right


# --- retries ---------------------------------------------------------------------------------


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(db, receiver):
    hooks = receiver(500)
    endpoint(hooks.url)
    emit()
    t0 = timezone.now()
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12)]
    delivery_at = t0
    assert services.webhooks_deliver(now=t0) == {D.FAILED: 1}
    for attempt, wait in enumerate(waits, start=1):
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == (D.FAILED, attempt)
        assert delivery.next_attempt_at == delivery_at + wait
        # The answer's status line is kept, never its body (docs/decisions.md, M7).
        assert delivery.last_status_code == 500 and delivery.last_response == "HTTP 500 Internal Server Error"
        # Not before its time...
        assert services.webhooks_deliver(now=delivery.next_attempt_at - timedelta(seconds=1)) == {}
        assert len(hooks.requests) == attempt
        # ...then again.
        delivery_at = delivery.next_attempt_at
        services.webhooks_deliver(now=delivery_at)
        assert len(hooks.requests) == attempt + 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (D.GAVE_UP, 6, None)
    assert services.webhooks_deliver(now=t0 + timedelta(days=30)) == {}
    assert len(hooks.requests) == 6
    # Each attempt is the same delivery and event (so a receiver can drop a duplicate), signed afresh.
    assert {header(r, "Weishang-Delivery") for r in hooks.requests} == {str(delivery.pk)}
    assert len({json.loads(r["body"])["id"] for r in hooks.requests}) == 1
    assert len({header(r, "Weishang-Timestamp") for r in hooks.requests}) == 6


def test_an_endpoint_that_recovers_gets_the_delivery_on_the_next_attempt(db, receiver):
    hooks = receiver(503, 204)
    endpoint(hooks.url)
    emit()
    t0 = timezone.now()
    services.webhooks_deliver(now=t0)
    assert services.webhooks_deliver(now=t0 + timedelta(minutes=1)) == {D.SUCCEEDED: 1}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.SUCCEEDED, 2, 204)


def test_a_redirect_is_not_followed(db, receiver):
    elsewhere = receiver(200)
    hooks = receiver(302, location=elsewhere.url)
    endpoint(hooks.url)
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 302 and "not followed" in delivery.last_error
    assert elsewhere.requests == []


def test_a_slow_endpoint_times_out_and_is_retried(db, receiver, monkeypatch):
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.2)
    hooks = receiver(200, delay=1.0)
    endpoint(hooks.url)
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code is None and "Timeout" in delivery.last_error
    assert delivery.next_attempt_at is not None


def test_an_unreachable_endpoint_is_retried(db):
    endpoint("http://127.0.0.1:9/nothing-listens-here")
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 1}
    assert "ConnectionError" in WebhookDelivery.objects.get().last_error


# --- who gets what ---------------------------------------------------------------------------


def test_each_event_reaches_each_subscribed_endpoint_exactly_once(db, receiver):
    erp, logistics = receiver(200), receiver(200)
    endpoint(erp.url, events=["order.paid", "order.completed"])
    endpoint(logistics.url, events=["order.paid", "shipment.tracking_updated"])
    paid = emit("order.paid", "R1")
    completed = emit("order.completed", "R1")
    tracking = emit("shipment.tracking_updated", "R1:中通:ZT1")
    services.webhooks_dispatch()
    services.webhooks_dispatch()  # again: nothing new
    WebhookCursor.objects.update(position=0)  # even a scan from the start makes no second delivery
    services.webhooks_dispatch()
    made = sorted(WebhookDelivery.objects.values_list("endpoint__url", "event"))
    assert made == sorted(
        [(erp.url, paid.pk), (erp.url, completed.pk), (logistics.url, paid.pk), (logistics.url, tracking.pk)]
    )
    services.webhooks_deliver()
    services.webhooks_deliver()
    assert sorted(header(r, "Weishang-Event") for r in erp.requests) == ["order.completed", "order.paid"]
    assert sorted(header(r, "Weishang-Event") for r in logistics.requests) == [
        "order.paid",
        "shipment.tracking_updated",
    ]


def test_an_inactive_endpoint_gets_nothing_and_is_not_sent_what_it_missed(db, receiver):
    hooks = receiver(200)
    ep, _secret = endpoint(hooks.url, events=["order.paid"], active=False)
    emit(key="R1")
    assert services.webhooks_deliver() == {}
    assert not WebhookDelivery.objects.exists() and hooks.requests == []
    services.endpoint_update(endpoint=ep, url=ep.url, events=ep.events, active=True)
    assert services.webhooks_deliver() == {}  # R1 happened while it was off
    emit(key="R2")
    assert services.webhooks_deliver() == {D.SUCCEEDED: 1}
    assert [json.loads(r["body"])["data"]["order"] for r in hooks.requests] == ["R2"]
    # Switched off with a delivery waiting: it waits.
    emit(key="R3")
    services.webhooks_dispatch()
    services.endpoint_update(endpoint=ep, url=ep.url, events=ep.events, active=False)
    assert services.webhooks_deliver() == {}
    assert len(hooks.requests) == 1


def test_a_new_endpoint_gets_no_history(db, receiver):
    emit(key="R-before")
    hooks = receiver(200)
    endpoint(hooks.url)
    emit(key="R-after")
    services.webhooks_deliver()
    assert [json.loads(r["body"])["data"]["order"] for r in hooks.requests] == ["R-after"]


def test_endpoints_are_validated(db):
    from weishang.core.errors import BusinessError

    with pytest.raises(BusinessError) as bad_url:
        services.endpoint_create(url="ftp://erp.example/hooks", events=["order.paid"])
    assert bad_url.value.field == "url"
    with pytest.raises(BusinessError) as bad_event:
        services.endpoint_create(url="https://erp.example/hooks", events=["order.exploded"])
    assert bad_event.value.field == "events"
    with pytest.raises(BusinessError):
        services.endpoint_create(url="https://erp.example/hooks", events=[])
    assert not WebhookEndpoint.objects.exists()


def test_events_are_dispatched_right_after_the_transaction_commits(db, receiver, django_capture_on_commit_callbacks):
    hooks = receiver(200)
    endpoint(hooks.url)
    with django_capture_on_commit_callbacks(execute=True):
        emit(key="R-inline")
    assert WebhookDelivery.objects.filter(event_type="order.paid", status=D.PENDING).count() == 1
    assert hooks.requests == []  # sending is the worker's: a request never waits for an endpoint
    out = io.StringIO()
    call_command("webhooks", "deliver", stdout=out)
    assert "1 succeeded" in out.getvalue() and len(hooks.requests) == 1


# --- a transaction still in flight -------------------------------------------------------------


def test_an_event_committed_late_below_the_cursor_is_still_delivered(db, receiver, settings):
    settings.WEISHANG_WEBHOOK_GAP_SECONDS = 300
    emit(key="R0")  # the scan starts after it (ids of other tests' events are gone too, on PostgreSQL)
    hooks = receiver(200)
    endpoint(hooks.url)
    first, held, third = emit(key="R1"), emit(key="R2"), emit(key="R3")
    held_pk = held.pk
    held.delete()  # as if R2's transaction had not committed yet: a hole in the ids
    t0 = timezone.now()
    services.webhooks_dispatch(now=t0)
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [first.pk, third.pk]
    cursor = WebhookCursor.objects.get(name="outbox")
    assert cursor.position == first.pk and cursor.stuck_since == t0
    # R2 commits: it is found, though a later event was read before it.
    OutboxEvent.objects.create(pk=held_pk, topic="order.paid", key="R2", payload={"order": "R2"})
    services.webhooks_dispatch(now=t0 + timedelta(seconds=10))
    assert WebhookDelivery.objects.filter(event=held_pk).count() == 1
    assert WebhookCursor.objects.get(name="outbox").position == third.pk
    services.webhooks_deliver(now=t0 + timedelta(seconds=10))
    assert sorted(json.loads(r["body"])["data"]["order"] for r in hooks.requests) == ["R1", "R2", "R3"]


def test_a_hole_that_never_fills_is_passed_after_the_wait(db, receiver, settings):
    settings.WEISHANG_WEBHOOK_GAP_SECONDS = 300
    emit(key="R0")
    endpoint(receiver(200).url)
    first, rolled_back, third = emit(key="R1"), emit(key="R2"), emit(key="R3")
    rolled_back.delete()
    t0 = timezone.now()
    services.webhooks_dispatch(now=t0)
    services.webhooks_dispatch(now=t0 + timedelta(seconds=299))
    assert WebhookCursor.objects.get(name="outbox").position == first.pk
    services.webhooks_dispatch(now=t0 + timedelta(seconds=300))
    cursor = WebhookCursor.objects.get(name="outbox")
    assert (cursor.position, cursor.stuck_since) == (third.pk, None)
    assert WebhookDelivery.objects.count() == 2


# --- the events themselves -----------------------------------------------------------------------


@pytest.fixture
def trade_world(db, make_agent, settings, tmp_path):
    """A brand selling from its own stock through a 市代 to a 特约; the 市代 holds stock."""
    from weishang.catalog.models import SKU, Product
    from weishang.core.models import Brand, SupplyMode
    from weishang.trade import stock
    from weishang.trade.models import LocationKind

    settings.MEDIA_ROOT = tmp_path
    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.NEAREST_HIGHER_UPLINE)
    sku = SKU.objects.create(
        product=Product.objects.create(name="焕颜修护系列"),
        code="GLOW-30ML",
        name="焕颜修护精华 30ml",
        retail_price=Decimal("298"),
    )
    seller = make_agent("city", real_name="市代王芳")
    buyer = make_agent("vip", referrer=seller, real_name="特约李娜")
    receive(sku, 20, into=stock.location_for_agent(seller, LocationKind.AGENT))
    return seller, buyer, sku


def screenshot():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(data, "PNG")
    return SimpleUploadedFile("transfer.png", data.getvalue(), content_type="image/png")


def topics(since: int = 0) -> list[tuple[str, str]]:
    return list(
        OutboxEvent.objects.filter(pk__gt=since)
        .exclude(topic__startswith="agent.")
        .order_by("pk")
        .values_list("topic", "key")
    )


def test_an_order_writes_an_event_at_every_step(trade_world):
    from weishang.trade import services as trade

    seller, buyer, sku = trade_world
    start = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    order = trade.order_submit(buyer=buyer, lines=[(sku.code, 2)], by=buyer.user)
    trade.order_approve(order=order, by=seller.user)
    payment = trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())
    trade.payment_confirm(payment=payment, by=seller.user)
    trade.order_fill(order=order, by=seller.user, carrier="中通", tracking_number="ZT778899")
    trade.order_confirm_receipt(order=order, by=buyer.user)
    trade.refund_request(order=order, by=buyer.user, note="过敏")
    trade.refund_decline(order=order, by=seller.user, note="已拆封")
    trade.refund_request(order=order, by=buyer.user, note="还是过敏")
    n = order.number
    got = topics(start)
    assert [t for t, _k in got] == [
        "order.submitted",
        "order.approved",
        "payment.submitted",
        "order.paid",
        "payment.confirmed",
        "order.fulfilled",
        "shipment.tracking_updated",
        "order.completed",
        "order.refund_requested",
        "order.refund_declined",
        "order.refund_requested",
    ]
    assert got[0] == ("order.submitted", n) and got[2] == ("payment.submitted", str(payment.pk))
    assert got[6] == ("shipment.tracking_updated", f"{n}:中通:ZT778899")
    assert got[8][1] != got[10][1]  # asked twice: two events
    tracking = OutboxEvent.objects.get(topic="shipment.tracking_updated").payload
    assert (tracking["order"], tracking["carrier"], tracking["tracking_number"]) == (n, "中通", "ZT778899")
    confirmed = OutboxEvent.objects.get(topic="payment.confirmed").payload
    assert (confirmed["order"], confirmed["amount"], confirmed["status"], confirmed["method"]) == (
        n,
        str(order.total),
        "confirmed",
        "transfer",
    )


def test_a_cancelled_order_and_its_waiting_transfer_have_events(trade_world):
    from weishang.trade import services as trade

    seller, buyer, sku = trade_world
    start = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    order = trade.order_submit(buyer=buyer, lines=[(sku.code, 1)], by=buyer.user)
    trade.order_approve(order=order, by=seller.user)
    payment = trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot())
    trade.order_cancel(order=order, by=buyer.user)
    assert [t for t, _k in topics(start)][-2:] == ["payment.rejected", "order.cancelled"]
    assert OutboxEvent.objects.get(topic="payment.rejected", key=str(payment.pk)).payload["status"] == "rejected"
    rejected = trade.order_submit(buyer=buyer, lines=[(sku.code, 1)], by=buyer.user)
    trade.order_reject(order=rejected, by=seller.user, note="缺货")
    assert topics(start)[-1] == ("order.rejected", rejected.number)


def test_a_pick_up_has_submitted_shipped_and_completed_events(trade_world, make_agent):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from weishang.trade import services as trade
    from weishang.trade import stock
    from weishang.trade.models import LocationKind

    _seller, buyer, sku = trade_world
    receive(sku, 3, into=stock.location_for_agent(buyer, LocationKind.CLOUD))
    warehouse = get_user_model().objects.create_user(username="warehouse", password="x" * 12, is_staff=True)
    warehouse.user_permissions.add(Permission.objects.get(content_type__app_label="trade", codename="change_order"))
    warehouse = get_user_model().objects.get(pk=warehouse.pk)
    start = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    order = trade.pickup_request(
        agent=buyer, lines=[(sku.code, 2)], by=buyer.user, name="李娜", phone="13800001111", address="上海市静安区"
    )
    trade.pickup_ship(order=order, by=warehouse, carrier="顺丰", tracking_number="SF1234")
    trade.pickup_delivered(order=order, by=buyer.user)
    assert [t for t, _k in topics(start)] == [
        "order.submitted",
        "order.fulfilled",
        "shipment.tracking_updated",
        "order.completed",
    ]


@pytest.fixture
def reward_chain(db, make_agent, levels):
    """The tiered example plan in force (UK brand, as in tests/rewards), a 省代 supplying three 市代
    in a referral line: a completed order pays the two referrers above the buyer."""
    from weishang.catalog.models import SKU, Product
    from weishang.core.models import Brand, SupplyMode
    from weishang.rewards import plan_versions
    from weishang.rewards.services import rewards_process
    from weishang.trade import stock
    from weishang.trade.models import LocationKind

    Brand.objects.create(name="焕颜 GLOW", supply_mode=SupplyMode.CLOUD, jurisdiction="uk")
    product = Product.objects.create(name="焕颜修护系列")
    sku, *_others = [
        SKU.objects.create(product=product, code=code, name=name, retail_price=Decimal(retail))
        for code, name, retail in (
            ("GLOW-30ML", "焕颜修护精华 30ml", "298"),
            ("GLOW-50G", "焕颜修护面霜 50g", "198"),
            ("GLOW-MASK5", "焕颜补水面膜 5片装", "99"),
        )
    ]
    source = (DOC.parents[1] / "examples" / "plans" / "glow-tiered.yaml").read_text(encoding="utf-8")
    plan_versions.plan_activate(
        version=plan_versions.plan_upload(text=source, filename="glow-tiered.yaml"),
        acknowledgement="测试：已知悉 HIGH 风险 / test: HIGH findings accepted",
    )
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    receive(sku, 100, into=stock.location_for_agent(p0, LocationKind.CLOUD))
    rewards_process()
    return p0, c1, c2, c3, sku


def test_rewards_earned_released_and_taken_back_are_delivered(reward_chain, receiver):
    from weishang.rewards.models import RewardLine, RewardStatus
    from weishang.rewards.services import rewards_process, rewards_release
    from weishang.trade import services as trade
    from weishang.trade.providers.fake import FakeProvider

    p0, c1, c2, c3, sku = reward_chain
    hooks = receiver(200)
    endpoint(hooks.url, events=["reward.created", "reward.released", "reward.reversed", "order.completed"])
    order = trade.order_submit(buyer=c3, lines=[(sku.code, 10)], by=c3.user)
    trade.order_approve(order=order, by=p0.user)
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))
    trade.order_fill(order=order, by=p0.user)  # cloud stock: completed at once
    rewards_process()
    paid = list(RewardLine.objects.filter(order=order, rule_id="peer-referral").order_by("pk"))
    assert len(paid) == 2 and RewardLine.objects.filter(order=order, status=RewardStatus.RECORDED).exists()

    services.webhooks_deliver()
    sent = [json.loads(r["body"]) for r in hooks.requests]
    created = {d["data"]["reward"]: d["data"] for d in sent if d["type"] == "reward.created"}
    assert set(created) == {line.pk for line in paid}  # the margin (not paid by the brand) is not sent
    first = created[paid[0].pk]
    assert (first["beneficiary"], first["amount"], first["status"], first["order"], first["rule"]) == (
        c2.pk,
        "85.00",
        "frozen",
        order.number,
        "peer-referral",
    )
    assert first["explanation_zh"] and first["explanation_en"]
    assert [d["type"] for d in sent].count("order.completed") == 1

    rewards_release(now=timezone.now() + timedelta(days=8))
    services.webhooks_deliver()
    released = [
        json.loads(r["body"])["data"] for r in hooks.requests if header(r, "Weishang-Event") == "reward.released"
    ]
    assert sorted((d["reward"], d["status"]) for d in released) == [(line.pk, "available") for line in paid]

    trade.refund_request(order=order, by=c3.user, note="退货")
    trade.refund_approve(order=order, by=p0.user)
    rewards_process()
    services.webhooks_deliver()
    reversed_ = [
        json.loads(r["body"])["data"] for r in hooks.requests if header(r, "Weishang-Event") == "reward.reversed"
    ]
    assert sorted((d["reward"], d["status"]) for d in reversed_) == [(line.pk, "reversed") for line in paid]
    assert WebhookDelivery.objects.filter(status=D.SUCCEEDED).count() == len(hooks.requests) == 7
    # Scanning again writes no second event for any line.
    WebhookCursor.objects.update(position=0)
    services.webhooks_dispatch()
    assert OutboxEvent.objects.filter(topic__startswith="reward.", key__in=[str(line.pk) for line in paid]).count() == 6
    margin = RewardLine.objects.get(order=order, kind="margin")  # now cancelled with the order: still no event
    assert margin.status == RewardStatus.CANCELLED
    assert not OutboxEvent.objects.filter(topic__startswith="reward.", key=str(margin.pk)).exists()


# --- the console -------------------------------------------------------------------------------


@pytest.fixture
def owner(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    user = get_user_model().objects.create_user(username="owner", password="staff-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name("owner")))
    return user


@pytest.fixture
def console(client, owner):
    client.force_login(owner)
    return client


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(console, receiver):
    hooks = receiver(200)
    response = console.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": hooks.url, "description": "ERP 金蝶", "events": ["order.paid", "reward.created"], "active": "on"},
    )
    assert response.status_code == 200
    ep = WebhookEndpoint.objects.get()
    assert ep.events == ["order.paid", "reward.created"] and ep.created_by.username == "owner"
    page = response.content.decode()
    assert f'data-testid="secret">{ep.secret}<' in page
    change = console.get(reverse("admin:webhooks_webhookendpoint_change", args=[ep.pk]))
    assert change.status_code == 200 and ep.secret not in change.content.decode()

    old = ep.secret
    assert console.get(reverse("admin:webhooks_webhookendpoint_rotate_secret", args=[ep.pk])).status_code == 200
    ep.refresh_from_db()
    assert ep.secret == old  # a GET only asks
    rotated = console.post(reverse("admin:webhooks_webhookendpoint_rotate_secret", args=[ep.pk]))
    ep.refresh_from_db()
    assert ep.secret != old and ep.secret in rotated.content.decode() and ep.secret_rotated_at

    ping = console.post(reverse("admin:webhooks_webhookendpoint_send_ping", args=[ep.pk]))
    delivery = WebhookDelivery.objects.get(event_type="ping")
    assert ping.status_code == 302 and ping["Location"].endswith(f"/{delivery.pk}/change/")
    assert (delivery.status, delivery.last_status_code) == (D.SUCCEEDED, 200)
    [request] = hooks.requests
    assert header(request, "Weishang-Event") == "ping"
    assert documented_verifier()(ep.secret, header(request, "Weishang-Signature"), request["body"])


def test_a_bad_endpoint_form_is_refused_with_the_reason(console):
    response = console.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "ftp://erp.example/hooks", "events": ["order.paid"], "active": "on"},
    )
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "http" in response.content.decode()


def test_the_delivery_log_filters_and_retries_now(console, receiver):
    hooks = receiver(500, 500, 200)
    ep, _secret = endpoint(hooks.url, events=["order.paid", "order.completed"])
    emit("order.paid", "R1")
    emit("order.completed", "R1")
    t0 = timezone.now()
    services.webhooks_deliver(now=t0)  # both fail
    log = reverse("admin:webhooks_webhookdelivery_changelist")
    failed = console.get(log, {"status__exact": "failed"})
    assert failed.status_code == 200 and failed.content.decode().count("order.") >= 2
    assert console.get(log, {"event_type": "order.paid", "endpoint__id__exact": ep.pk}).status_code == 200
    paid = WebhookDelivery.objects.get(event_type="order.paid")
    response = console.post(log, {"action": "retry_now", "_selected_action": [paid.pk]})
    assert response.status_code == 302
    paid.refresh_from_db()
    # The third answer is 200: the retry delivered it now, not after its backoff.
    assert (paid.status, paid.attempts) == (D.SUCCEEDED, 2)
    assert WebhookDelivery.objects.get(event_type="order.completed").status == D.FAILED
    failing = WebhookDelivery.objects.get(event_type="order.completed")
    detail = console.get(reverse("admin:webhooks_webhookdelivery_change", args=[failing.pk]))
    page = detail.content.decode()
    assert detail.status_code == 200 and "HTTP 500 Internal Server Error" in page  # the last answer's status
    assert "database is down" not in page  # ... not its body
    endpoints = console.get(reverse("admin:webhooks_webhookendpoint_changelist"))
    assert endpoints.status_code == 200 and hooks.url in endpoints.content.decode()
    assert ep.secret not in endpoints.content.decode()


def test_staff_without_the_role_cannot_see_webhooks(client, db):
    from django.contrib.auth import get_user_model

    clerk = get_user_model().objects.create_user(username="clerk", password="staff-pass-123", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse("admin:webhooks_webhookendpoint_changelist")).status_code == 403
    assert client.get(reverse("admin:webhooks_webhookdelivery_changelist")).status_code == 403


def test_an_endpoint_that_starts_wanting_reward_events_gets_none_from_before(reward_chain, receiver):
    from weishang.rewards.models import RewardLine, RewardStatus
    from weishang.rewards.services import rewards_process
    from weishang.trade import services as trade
    from weishang.trade.providers.fake import FakeProvider

    p0, _c1, _c2, c3, sku = reward_chain

    def completed_order():
        order = trade.order_submit(buyer=c3, lines=[(sku.code, 10)], by=c3.user)
        trade.order_approve(order=order, by=p0.user)
        body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
        trade.payment_credit_from_provider(notice=FakeProvider().parse_notification(headers, body))
        trade.order_fill(order=order, by=p0.user)
        rewards_process()
        return order

    erp = receiver(200)
    endpoint(erp.url, events=["order.paid"])
    old, _secret = endpoint(receiver(200).url, events=["reward.created"])
    services.webhooks_dispatch()
    services.endpoint_update(endpoint=old, url=old.url, events=old.events, active=False)
    before = completed_order()  # while nobody wants reward events
    services.webhooks_deliver()
    rewards = receiver(200)
    ep, _secret = endpoint(rewards.url, events=["order.completed"])
    services.endpoint_update(endpoint=ep, url=ep.url, events=["order.completed", "reward.created"])
    services.webhooks_deliver()
    assert rewards.requests == []  # the first order's rewards were earned before it asked
    after = completed_order()
    services.webhooks_deliver()
    sent = [json.loads(r["body"]) for r in rewards.requests]
    earned = RewardLine.objects.filter(order=after).exclude(status=RewardStatus.RECORDED)
    assert sorted(d["data"]["reward"] for d in sent if d["type"] == "reward.created") == sorted(
        earned.values_list("pk", flat=True)
    )
    assert {d["data"]["order"] for d in sent} == {after.number}
    assert before.number not in {d["data"].get("order") for d in sent}
