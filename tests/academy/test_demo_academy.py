"""The demo's academy, and the brand's report on it: the bootcamp of six lessons the 特约 login is
halfway through, the 市代 course a 特约 cannot open and a 市代 can, a scheduled live class, a finished
course with its certificate; completion by level and trained-vs-untrained retail per agent by month
checked against a computation of their own, made from the orders and the lesson records."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tests.demo_once import module_demo
from weishang.academy import selectors
from weishang.academy.models import CourseCertificate, CourseKind, Enrolment, LessonProgress, LiveClass
from weishang.channel.models import Agent
from weishang.core import clock
from weishang.trade.models import Order

pytestmark = pytest.mark.django_db
PASSWORD = "weishang-demo"


def _load_demo() -> dict:
    from weishang.demo import services as demo_services

    demo_services.demo_load(agents=60)
    return {r: Agent.objects.get(user__phone=demo_services.LOGIN_PHONE.format(rank=r)) for r in (1, 2, 4, 5)}


# Loaded once for the module (tests/demo_once.py); each test's writes are rolled back after it.
demo_module = module_demo(_load_demo)


@pytest.fixture
def demo(demo_module, db):
    return demo_module


def login(agent) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    return client


def test_the_demo_academy(demo):
    vip, city = demo[5], demo[4]
    bootcamp = selectors.published_courses().get(kind=CourseKind.BOOTCAMP)
    assert bootcamp.lessons.count() == 6
    halfway = Enrolment.objects.get(course=bootcamp, agent=vip)
    assert LessonProgress.objects.filter(enrolment=halfway, finished_at__isnull=False).count() == 3
    assert halfway.completed_at is None
    gated = selectors.published_courses().get(kind=CourseKind.LEVEL)
    assert login(vip).get(f"/m/academy/courses/{gated.pk}/").status_code == 403
    assert login(city).get(f"/m/academy/courses/{gated.pk}/").status_code == 200
    assert LiveClass.objects.filter(starts_at__gt=clock.now()).exists()
    certificate = CourseCertificate.objects.get(enrolment__agent=city, enrolment__course=bootcamp)
    assert Client().get("/verify/course/", {"q": certificate.serial}).content.decode().count(certificate.serial) >= 1
    # The certificate's number typed into the one public check page, /verify/, finds it too.
    typed = Client().post("/verify/", {"q": certificate.serial.lower()}, follow=True)
    assert typed.redirect_chain[-1][0] == f"/verify/course/?q={certificate.serial}"
    assert certificate.serial in typed.content.decode() and "小白特训营" in typed.content.decode()
    assert login(city).get(f"/m/academy/certificates/{certificate.pk}.png").status_code == 200
    html = login(vip).get("/m/academy/").content.decode()
    assert "已学完 3/6 课" in html and "继续学习" in html


def _months(n: int = 6) -> list[str]:
    return selectors.last_months(n)


def test_the_report_agrees_with_an_independent_computation(demo):
    months = _months()
    report = {row.month: row for row in selectors.retail_trained_by_month(months)}
    # Independently: every order, every agent, every bootcamp enrolment, in plain Python.
    agents = list(Agent.objects.values("pk", "status", "joined_at"))
    finished = defaultdict(list)
    for e in Enrolment.objects.filter(completed_at__isnull=False).values("agent_id", "completed_at", "course__kind"):
        if e["course__kind"] == "bootcamp":
            finished[e["agent_id"]].append(e["completed_at"])
    orders = list(Order.objects.values("seller_id", "kind", "status", "paid_at", "total"))
    trained_anyone = False
    for month in months:
        year, number = map(int, month.split("-"))
        start = timezone.make_aware(datetime(year, number, 1))
        end = timezone.make_aware(datetime(year + number // 12, number % 12 + 1, 1))
        counted = {a["pk"] for a in agents if a["status"] == "active" and a["joined_at"] < end}
        trained = {pk for pk in counted if any(at < end for at in finished.get(pk, []))}
        money = {True: Decimal("0"), False: Decimal("0")}
        for o in orders:
            if (
                o["kind"] == "retail"
                and o["status"] in ("paid", "fulfilled", "completed", "refund_requested")
                and o["paid_at"] is not None
                and start <= o["paid_at"] < end
                and o["seller_id"] in counted
            ):
                money[o["seller_id"] in trained] += o["total"]
        row = report[month]
        assert (row.trained_agents, row.untrained_agents) == (len(trained), len(counted) - len(trained)), month
        assert (row.trained_retail, row.untrained_retail) == (money[True], money[False]), month
        trained_anyone = trained_anyone or bool(trained and money[True])
    assert trained_anyone, "the demo should have trained agents with retail in some month"
    # completion by level: each row against a count of its own
    for row in selectors.completion_by_level():
        mine = Enrolment.objects.filter(course=row.course, agent__level=row.level, agent__status="active")
        assert row.enrolled == mine.count()
        assert row.finished == mine.filter(completed_at__isnull=False).count()
        assert row.agents == Agent.objects.filter(level=row.level, status="active").count()
