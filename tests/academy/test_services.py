"""The academy's services: a newcomer is enrolled in the bootcamp on joining (once, and only those
who join after it is published), lessons are opened and finished, time is counted, the quiz scores,
a finished course issues its certificate, live classes remind once and take check-ins, and the
refusals (level, prerequisites, not enrolled) change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.academy.conftest import add_quiz, make_course, right_answers
from weishang.academy import selectors, services
from weishang.academy.models import CourseCertificate, CourseKind, Enrolment, LiveClass, QuizAttempt
from weishang.core import clock as core_clock
from weishang.core.errors import BusinessError, Forbidden, NotFound
from weishang.core.models import OutboxEvent
from weishang.notifications.models import Notification
from weishang.notifications.services import notifications_follow_events

pytestmark = pytest.mark.django_db


def finish_all(agent, course):
    for lesson in course.lessons.all():
        services.lesson_progress_record(agent=agent, lesson=lesson, finished=True)


def test_a_newcomer_is_enrolled_in_the_bootcamp_once(world):
    services.academy_follow_events()
    services.academy_follow_events()
    enrolled = Enrolment.objects.filter(course=world["bootcamp"])
    assert {e.agent_id for e in enrolled} == {
        a.pk for a in (world["upline"], world["newcomer"], world["other"], world["stranger"])
    }
    assert all(e.how == "joined" and e.enrolled_by is None for e in enrolled)
    # told through the outbox, and the notification centre makes it a notification
    assert OutboxEvent.objects.filter(topic="academy.enrolled").count() == 4
    notifications_follow_events()
    notice = Notification.objects.get(recipient=world["newcomer"].user, kind="course_enrolled")
    assert notice.url == f"/m/academy/courses/{world['bootcamp'].pk}/"


def test_agents_who_joined_before_the_bootcamp_are_not_enrolled_by_old_events(make_agent, levels, clock):
    from weishang.core.models import Brand

    Brand.objects.create(name="测试品牌")
    clock.freeze(core_clock.now() - timedelta(days=10))
    early = make_agent("vip")
    clock.freeze(core_clock.now() + timedelta(days=5))
    bootcamp = make_course("小白特训营", CourseKind.BOOTCAMP)
    clock.freeze(core_clock.now() + timedelta(days=1))
    late = make_agent("vip")
    services.academy_follow_events()
    assert set(Enrolment.objects.filter(course=bootcamp).values_list("agent_id", flat=True)) == {late.pk}
    assert early.pk not in set(Enrolment.objects.values_list("agent_id", flat=True))


def test_finishing_lessons_and_passing_the_quiz_finishes_the_course_with_a_certificate(world):
    services.academy_follow_events()
    agent, course, quiz = world["newcomer"], world["bootcamp"], world["quiz"]
    first = course.lessons.first()
    services.lesson_open(agent=agent, lesson=first)
    row = services.lesson_progress_record(agent=agent, lesson=first, seconds=90)
    row = services.lesson_progress_record(agent=agent, lesson=first, seconds=30, finished=True)
    assert row.seconds_spent == 120 and row.finished_at is not None
    [card] = [c for c in selectors.my_courses(agent=agent) if c.course == course]
    assert (card.finished, card.lessons) == (1, 3) and card.next_lesson == course.lessons.all()[1]
    finish_all(agent, course)
    enrolment = Enrolment.objects.get(course=course, agent=agent)
    assert enrolment.completed_at is None  # the quiz is still to pass
    wrong = {
        k: [c for c in quiz.questions.get(pk=int(k)).choices.values_list("pk", flat=True) if c not in v]
        for k, v in right_answers(quiz).items()
    }
    failed = services.quiz_attempt_submit(agent=agent, quiz=quiz, answers=wrong)
    assert (failed.score, failed.passed) == (0, False)
    passed = services.quiz_attempt_submit(agent=agent, quiz=quiz, answers=right_answers(quiz))
    assert (passed.score, passed.passed) == (100, True)
    enrolment.refresh_from_db()
    assert enrolment.completed_at is not None
    certificate = CourseCertificate.objects.get(enrolment=enrolment)
    assert services.is_serial(certificate.serial) and certificate.course_title == "小白特训营"
    answer = selectors.certificate_lookup(certificate.serial.lower())
    assert answer.course == "小白特训营" and answer.name != "特约李娜" and answer.name.startswith("特")
    assert selectors.certificate_png(certificate, verify_url="https://x/verify/course/?q=1")[:8] == b"\x89PNG\r\n\x1a\n"
    assert selectors.certificate_pdf(certificate, verify_url="https://x/").startswith(b"%PDF-")
    # the upline hears of it
    notifications_follow_events()
    assert Notification.objects.filter(recipient=world["upline"].user, kind="course_finished").exists()
    assert QuizAttempt.objects.filter(enrolment=enrolment).count() == 2


def test_a_vip_cannot_enrol_in_the_gated_course_and_a_city_agent_can(world):
    with pytest.raises(Forbidden):
        services.course_enrol(course=world["gated"], agent=world["newcomer"], how="self")
    assert not Enrolment.objects.filter(course=world["gated"]).exists()
    enrolment = services.course_enrol(course=world["gated"], agent=world["upline"], how="self")
    assert enrolment.how == "self"
    assert services.course_enrol(course=world["gated"], agent=world["upline"], how="hand") == enrolment


def test_prerequisites_hold_back_a_self_enrolment_not_a_hand_one(world, admin_user):
    course = make_course("招商实战", lessons=1)
    course.prerequisites.add(world["bootcamp"])
    with pytest.raises(Forbidden):
        services.course_enrol(course=course, agent=world["newcomer"], how="self")
    hand = services.course_enrol(course=course, agent=world["newcomer"], how="hand", by=admin_user)
    assert hand.enrolled_by == admin_user


def test_enrol_by_level_enrols_the_levels_the_course_is_for(world, make_agent):
    made = services.course_enrol_by_level(course=world["gated"])
    assert made == 1  # the 市代 upline; the 特约 are below the course's level
    assert services.course_enrol_by_level(course=world["gated"]) == 0


def test_learning_needs_an_enrolment_and_the_level(world):
    lesson = world["gated"].lessons.first()
    with pytest.raises(Forbidden):
        services.lesson_open(agent=world["newcomer"], lesson=lesson)
    with pytest.raises(Forbidden):
        services.lesson_open(agent=world["upline"], lesson=lesson)  # open to them, but not enrolled
    with pytest.raises(NotFound):
        services.lesson_open(agent=world["upline"], lesson=10**12)


@pytest.mark.parametrize("seconds", [-1, 3601, 1.5, "10", True])
def test_bad_seconds_are_refused(world, seconds):
    services.academy_follow_events()
    with pytest.raises(BusinessError) as caught:
        services.lesson_progress_record(
            agent=world["newcomer"], lesson=world["bootcamp"].lessons.first(), seconds=seconds
        )
    assert caught.value.field == "seconds"


@pytest.mark.parametrize(
    "answers",
    [None, [], "x", {"abc": [1]}, {"999999": [1]}, {}, {"q": None}],
)
def test_answers_of_the_wrong_shape_are_refused(world, answers):
    services.academy_follow_events()
    with pytest.raises(BusinessError) as caught:
        services.quiz_attempt_submit(agent=world["newcomer"], quiz=world["quiz"], answers=answers)
    assert caught.value.field == "answers"
    assert not QuizAttempt.objects.exists()


def test_a_choice_of_another_question_is_refused(world):
    services.academy_follow_events()
    quiz = world["quiz"]
    first, second = quiz.questions.all()
    answers = {str(first.pk): [second.choices.first().pk], str(second.pk): [second.choices.first().pk]}
    with pytest.raises(BusinessError):
        services.quiz_attempt_submit(agent=world["newcomer"], quiz=quiz, answers=answers)


def test_a_course_without_a_quiz_finishes_with_its_lessons(world):
    services.course_enrol(course=world["gated"], agent=world["upline"])
    finish_all(world["upline"], world["gated"])
    assert Enrolment.objects.get(course=world["gated"], agent=world["upline"]).completed_at is not None


def test_live_class_reminders_go_once_and_check_in_is_in_its_window(world, clock):
    services.academy_follow_events()
    now = clock.freeze(core_clock.now())
    live = LiveClass.objects.create(
        course=world["bootcamp"],
        title="新人直播答疑",
        starts_at=now + timedelta(hours=3),
        ends_at=now + timedelta(hours=4),
        link="https://m.qlchat.com/live/1",
    )
    assert services.live_reminders_send() == 4
    assert services.live_reminders_send() == 0
    notifications_follow_events()
    assert Notification.objects.filter(kind="live_class_soon", recipient=world["newcomer"].user).count() == 1
    with pytest.raises(BusinessError):
        services.live_class_checkin(agent=world["newcomer"], live_class=live)  # too early
    clock.freeze(now + timedelta(hours=3, minutes=5))
    row = services.live_class_checkin(agent=world["newcomer"], live_class=live)
    assert services.live_class_checkin(agent=world["newcomer"], live_class=live) == row
    clock.freeze(now + timedelta(hours=5))
    with pytest.raises(BusinessError):
        services.live_class_checkin(agent=world["other"], live_class=live)


def test_the_upline_sees_the_team_progress(world):
    services.academy_follow_events()
    finish_all(world["newcomer"], world["bootcamp"])
    services.quiz_attempt_submit(agent=world["newcomer"], quiz=world["quiz"], answers=right_answers(world["quiz"]))
    courses, members = selectors.team_progress(agent=world["upline"])
    boot = next(t for t in courses if t.course == world["bootcamp"])
    assert (boot.finished, boot.enrolled, boot.members) == (1, 2, 2)
    gated = next(t for t in courses if t.course == world["gated"])
    assert gated.members == 0  # no 市代 in the team
    assert {m.agent.pk for m in members} == {world["newcomer"].pk, world["other"].pk}
    assert selectors.team_member(viewer=world["upline"], member_id=world["stranger"].pk) is None
    assert selectors.team_member(viewer=world["newcomer"], member_id=world["upline"].pk) is None


def test_an_unpublished_course_enrols_nobody(world):
    draft = make_course("草稿课", published=False)
    with pytest.raises(BusinessError):
        services.course_enrol(course=draft, agent=world["upline"])
    assert add_quiz(draft).pass_mark == 60


def test_the_remind_command_tells_once(world, clock):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    services.academy_follow_events()
    now = clock.freeze(core_clock.now())
    LiveClass.objects.create(
        title="答疑",
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=3),
        link="https://m.qlchat.com/l",
    )
    out = StringIO()
    call_command("academy", "remind", stdout=out)
    call_command("academy", "remind", stdout=out)
    assert out.getvalue().splitlines() == ["4 reminder(s) sent.", "0 reminder(s) sent."]
    with pytest.raises(CommandError):
        call_command("academy", "remind", "--hours", "0")
