"""Writes of the academy (培训, M12).

- ``course_save`` / ``lesson_save``: the console's saves (a public link code once, the date first
  published, a lesson's file checked from its bytes: ``files.lesson_media_check``);
- enrolment: ``course_enrol`` (by hand, by themselves, by level, on joining; who enrolled is kept;
  the agent is told through the outbox's ``academy.enrolled``), ``course_enrol_by_level`` and the
  outbox follower ``academy_follow_events`` that puts a newcomer in the bootcamp;
- learning: ``lesson_open`` (continue where I left off), ``lesson_progress_record`` (seconds of audio
  or video, finished), ``quiz_attempt_submit``; a course is finished when every lesson is and the
  quiz (if any) is passed, which issues its ``CourseCertificate`` (``academy.completed``);
- live classes: ``live_class_checkin`` and ``live_reminders_send`` (``weishang academy remind``).

Who may: an agent only on their own enrolments, and only courses open to their level after the
prerequisites (``selectors.may_open``); Forbidden otherwise."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from weishang.academy import selectors
from weishang.academy.files import lesson_media_check
from weishang.academy.models import (
    MEDIA_KINDS,
    Course,
    CourseCertificate,
    CourseKind,
    EnrolledHow,
    Enrolment,
    Lesson,
    LessonKind,
    LessonProgress,
    LiveAttendance,
    LiveClass,
    Quiz,
    QuizAttempt,
)
from weishang.channel.models import Agent, AgentStatus
from weishang.core import checkchars, clock
from weishang.core.errors import BusinessError, Forbidden, NotFound
from weishang.core.models import OutboxEvent
from weishang.core.outbox import outbox_emit, outbox_emit_many, outbox_follow

SERIAL_PREFIX = "KC"
SERIAL_RANDOM = 8
REPORT_MAX_SECONDS = 3600  # one report of time spent on a lesson's audio or video
SPENT_MAX_SECONDS = 24 * 3600  # a lesson's total, whatever is reported
CHECKIN_BEFORE = timedelta(minutes=30)


# --- the console's saves ----------------------------------------------------------------------


@transaction.atomic
def course_save(*, course: Course, by=None) -> Course:
    """Save a course from the console: its public link code is made once; ``published_at`` is the
    first time it was published (a bootcamp enrols those who join from then on)."""
    if not (course.title or "").strip():
        raise BusinessError(_("Give the course a title."), field="title")
    if not course.public_token:
        course.public_token = secrets.token_urlsafe(12)
    if course.published and course.published_at is None:
        course.published_at = clock.now()
    course.save()
    return course


def lesson_check(*, lesson: Lesson, upload=None) -> None:
    """What a lesson of its kind needs: audio and video a file, slides a file or a deck, a link its
    address, text and scripts their words. A file is checked from its bytes."""
    kind = lesson.kind
    if upload is not None:
        lesson_media_check(upload, kind=kind)
    has_file = upload is not None or bool(lesson.media)
    if kind in MEDIA_KINDS and not has_file:
        raise BusinessError(_("Attach the audio or video file."), field="media")
    if kind == LessonKind.SLIDES and not (has_file or lesson.slides_id):
        raise BusinessError(_("Attach the slides (a PDF) or choose a slide deck."), field="media")
    if kind == LessonKind.LINK and not lesson.link:
        raise BusinessError(_("Give the link."), field="link")
    if kind in (LessonKind.TEXT, LessonKind.SCRIPT) and not (lesson.body or "").strip():
        raise BusinessError(_("Write the lesson's text."), field="body")


# --- enrolment --------------------------------------------------------------------------------


def _tell_enrolled(enrolment: Enrolment) -> None:
    outbox_emit(
        topic="academy.enrolled",
        key=f"{enrolment.course_id}:{enrolment.agent_id}",
        payload={
            "agent": enrolment.agent_id,
            "course": enrolment.course_id,
            "title": enrolment.course.title,
            "url": reverse("web:academy_course", args=[enrolment.course_id]),
        },
    )


def _enrol(*, course: Course, agent: Agent, how: str, by) -> tuple[Enrolment, bool]:
    found = Enrolment.objects.filter(course=course, agent=agent).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(course=course, agent=agent, how=how, enrolled_by=by)
    except IntegrityError:  # enrolled at the same moment by someone else
        return Enrolment.objects.get(course=course, agent=agent), False
    _tell_enrolled(enrolment)
    return enrolment, True


@transaction.atomic
def course_enrol(*, course: Course, agent: Agent, how: str = EnrolledHow.HAND, by=None) -> Enrolment:
    """Enrol ``agent`` in ``course`` (once: enrolling again returns the first enrolment). The course
    must be published and open to the agent's level; an agent enrolling themselves must also have
    finished its prerequisites."""
    if how not in EnrolledHow.values:
        raise BusinessError(_("Unknown way of enrolling."), field="how")
    if not course.published:
        raise BusinessError(_("The course is not published."), field="course")
    if agent.status != AgentStatus.ACTIVE:
        raise BusinessError(_("Only active agents take courses."), field="agent")
    if not selectors.level_allows(agent=agent, min_level=course.min_level):
        raise Forbidden(
            _("This course is for %(level)s and above.") % {"level": course.min_level.name if course.min_level else ""},
            field="course",
        )
    if how == EnrolledHow.SELF:
        missing = selectors.missing_prerequisites(agent=agent, course=course)
        if missing:
            names = "、".join(c.title for c in missing)
            raise Forbidden(_("Finish these courses first: %(courses)s.") % {"courses": names}, field="course")
    enrolment, _created = _enrol(course=course, agent=agent, how=how, by=by)
    return enrolment


@transaction.atomic
def course_enrol_by_level(*, course: Course, by=None) -> int:
    """Enrol every active agent whose level the course is open to; returns how many were new."""
    if not course.published:
        raise BusinessError(_("The course is not published."), field="course")
    agents = Agent.objects.filter(status=AgentStatus.ACTIVE).select_related("level")
    if course.min_level is not None:
        agents = agents.filter(level__rank__lte=course.min_level.rank)
    agents = agents.exclude(pk__in=Enrolment.objects.filter(course=course).values("agent_id"))
    made = 0
    for agent in agents:
        made += _enrol(course=course, agent=agent, how=EnrolledHow.LEVEL, by=by)[1]
    return made


def _joined_at(payload: dict) -> datetime | None:
    text = payload.get("at")
    at = parse_datetime(text) if isinstance(text, str) else None
    return at if at is None or timezone.is_aware(at) else timezone.make_aware(at)


def _on_joined(events: list[OutboxEvent]) -> None:
    bootcamps = list(
        Course.objects.filter(kind=CourseKind.BOOTCAMP, published=True, published_at__isnull=False).select_related(
            "min_level"
        )
    )
    if not bootcamps:
        return
    for event in events:
        payload = event.payload or {}
        agent_id = payload.get("agent")
        if not isinstance(agent_id, int):
            continue
        agent = Agent.objects.filter(pk=agent_id, status=AgentStatus.ACTIVE).select_related("level").first()
        if agent is None:
            continue
        joined = _joined_at(payload) or event.created_at
        for course in bootcamps:
            published = course.published_at
            if (
                published is not None
                and published <= joined
                and selectors.level_allows(agent=agent, min_level=course.min_level)
            ):
                _enrol(course=course, agent=agent, how=EnrolledHow.JOINED, by=None)


def academy_follow_events() -> int:
    """The outbox consumer: a newcomer (``agent.joined``) is enrolled in every published bootcamp
    open to their level — those published before they joined (an agent who joined earlier is
    enrolled by level or by hand, not by reading old events)."""
    return outbox_follow("academy", ("agent.joined",), _on_joined)


# --- learning ---------------------------------------------------------------------------------


def _enrolment_for(*, agent: Agent, course: Course) -> Enrolment:
    enrolment = Enrolment.objects.select_for_update().filter(course=course, agent=agent).first()
    if enrolment is None:
        raise Forbidden(_("You are not enrolled in this course."), field="course")
    return enrolment


def _lesson_of(agent: Agent, lesson: Lesson | int) -> Lesson:
    lesson_id = lesson.pk if isinstance(lesson, Lesson) else lesson
    found = Lesson.objects.select_related("course__min_level").filter(pk=lesson_id, course__published=True).first()
    if found is None:
        raise NotFound(_("There is no such lesson."), field="lesson")
    if not selectors.level_allows(agent=agent, min_level=found.course.min_level):
        raise Forbidden(_("This course is not open to your level."), field="lesson")
    return found


def _progress(enrolment: Enrolment, lesson: Lesson) -> LessonProgress:
    row, _created = LessonProgress.objects.get_or_create(enrolment=enrolment, lesson=lesson)
    return LessonProgress.objects.select_for_update().get(pk=row.pk)


@transaction.atomic
def lesson_open(*, agent: Agent, lesson: Lesson | int) -> LessonProgress:
    """The agent opens a lesson of a course they are enrolled in: it is where they continue next time."""
    found = _lesson_of(agent, lesson)
    enrolment = _enrolment_for(agent=agent, course=found.course)
    row = _progress(enrolment, found)
    if enrolment.last_lesson_id != found.pk:
        enrolment.last_lesson = found
        enrolment.save(update_fields=["last_lesson"])
    return row


@transaction.atomic
def lesson_progress_record(
    *, agent: Agent, lesson: Lesson | int, seconds: int = 0, finished: bool = False
) -> LessonProgress:
    """Add ``seconds`` of listening or watching (0 to an hour a report) and, when ``finished``, mark
    the lesson finished (once: the first time stands). Finishing the last lesson (and the quiz) finishes
    the course."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= REPORT_MAX_SECONDS:
        raise BusinessError(
            _("Seconds are a whole number from 0 to %(max)s.") % {"max": REPORT_MAX_SECONDS}, field="seconds"
        )
    found = _lesson_of(agent, lesson)
    enrolment = _enrolment_for(agent=agent, course=found.course)
    row = _progress(enrolment, found)
    changed = []
    if seconds:
        row.seconds_spent = min(row.seconds_spent + seconds, SPENT_MAX_SECONDS)
        changed.append("seconds_spent")
    if finished and row.finished_at is None:
        row.finished_at = clock.now()
        changed.append("finished_at")
    if changed:
        row.save(update_fields=changed)
    if enrolment.last_lesson_id != found.pk:
        enrolment.last_lesson = found
        enrolment.save(update_fields=["last_lesson"])
    if finished:
        _complete_if_done(enrolment)
    return row


def _answers(quiz: Quiz, answers: object) -> dict[int, set[int]]:
    """``answers`` as {question id: {choice ids}}, every question of the quiz answered with its own
    choices; BusinessError on ``answers`` for anything else."""
    wrong = BusinessError(_("Answer every question with one of its choices."), field="answers")
    if not isinstance(answers, dict) or len(answers) > 200:
        raise wrong
    choices: dict[int, set[int]] = {}
    for question in quiz.questions.all():
        choices[question.pk] = {c.pk for c in question.choices.all()}
    given: dict[int, set[int]] = {}
    for key, value in answers.items():
        try:
            question_id = int(key)
        except (TypeError, ValueError):
            raise wrong from None
        picked = value if isinstance(value, list | tuple | set) else [value]
        if question_id not in choices or not picked or len(picked) > 50:
            raise wrong
        ids = set()
        for item in picked:
            if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).isdigit():
                raise wrong
            ids.add(int(item))
        if not ids <= choices[question_id]:
            raise wrong
        given[question_id] = ids
    if set(given) != set(choices):
        raise wrong
    return given


@transaction.atomic
def quiz_attempt_submit(*, agent: Agent, quiz: Quiz | int, answers: object) -> QuizAttempt:
    """Score one try at the course's quiz (a question is right when exactly its correct choices are
    picked; the score is the share right, rounded down) and record it; a pass may finish the course."""
    quiz_id = quiz.pk if isinstance(quiz, Quiz) else quiz
    found = Quiz.objects.select_related("course__min_level").filter(pk=quiz_id, course__published=True).first()
    if found is None:
        raise NotFound(_("There is no such quiz."), field="quiz")
    if not selectors.level_allows(agent=agent, min_level=found.course.min_level):
        raise Forbidden(_("This course is not open to your level."), field="quiz")
    enrolment = _enrolment_for(agent=agent, course=found.course)
    given = _answers(found, answers)
    if not given:
        raise BusinessError(_("The quiz has no questions yet."), field="quiz")
    correct = {q.pk: {c.pk for c in q.choices.all() if c.correct} for q in found.questions.all()}
    right = sum(1 for q, picked in given.items() if picked == correct[q])
    score = right * 100 // len(given)
    attempt = QuizAttempt.objects.create(
        quiz=found,
        enrolment=enrolment,
        answers={str(q): sorted(ids) for q, ids in given.items()},
        score=score,
        passed=score >= found.pass_mark,
    )
    if attempt.passed:
        _complete_if_done(enrolment)
    return attempt


def new_serial(now: datetime) -> str:
    body = f"{SERIAL_PREFIX}{timezone.localdate(now).year}{checkchars.random_chars(SERIAL_RANDOM)}"
    return body + checkchars.check_char(body)


def is_serial(text: str) -> bool:
    return (
        len(text) == len(SERIAL_PREFIX) + 4 + SERIAL_RANDOM + 1
        and text.startswith(SERIAL_PREFIX)
        and checkchars.checked(text)
    )


def _complete_if_done(enrolment: Enrolment) -> None:
    if enrolment.completed_at is not None or not selectors.is_done(enrolment):
        return
    now = clock.now()
    enrolment.completed_at = now
    enrolment.save(update_fields=["completed_at"])
    agent = Agent.objects.only("real_name", "referrer_id").get(pk=enrolment.agent_id)
    certificate = CourseCertificate.objects.create(
        serial=new_serial(now),
        enrolment=enrolment,
        agent_name=agent.real_name,
        course_title=enrolment.course.title,
        issued_at=now,
    )
    outbox_emit(
        topic="academy.completed",
        key=str(enrolment.pk),
        payload={
            "agent": enrolment.agent_id,
            "referrer": agent.referrer_id,
            "name": agent.real_name,
            "course": enrolment.course_id,
            "title": enrolment.course.title,
            "certificate": certificate.serial,
        },
    )


# --- live classes -----------------------------------------------------------------------------


@transaction.atomic
def live_class_checkin(*, agent: Agent, live_class: LiveClass | int) -> LiveAttendance:
    """The agent checks in to a live class (from half an hour before it starts until it ends), once."""
    found = selectors.live_classes_for(agent).filter(pk=getattr(live_class, "pk", live_class)).first()
    if found is None:
        raise NotFound(_("There is no such live class."), field="live_class")
    now = clock.now()
    if now < found.starts_at - CHECKIN_BEFORE:
        raise BusinessError(_("Check-in opens half an hour before the class."), field="live_class")
    if now > found.ends_at:
        raise BusinessError(_("The class is over: watch the recording."), field="live_class")
    row, _created = LiveAttendance.objects.get_or_create(live_class=found, agent=agent)
    return row


@transaction.atomic
def live_reminders_send(*, within: timedelta = timedelta(hours=24)) -> int:
    """Tell the audience of each live class that starts within ``within`` and was not yet reminded
    (the outbox's ``academy.live_class_soon``, one per person, which the notification centre
    delivers); once per class. Returns how many were told."""
    now = clock.now()
    classes = list(
        LiveClass.objects.select_for_update()
        .filter(reminded_at__isnull=True, starts_at__gt=now, starts_at__lte=now + within)
        .order_by("pk")
    )
    told = 0
    for live in classes:
        audience = selectors.live_class_audience(live)
        starts = timezone.localtime(live.starts_at).strftime("%Y-%m-%d %H:%M")
        url = reverse("web:academy_live", args=[live.pk])
        outbox_emit_many(
            [
                (
                    "academy.live_class_soon",
                    f"{live.pk}:{agent_id}",
                    {"agent": agent_id, "title": live.title, "starts": starts, "url": url},
                )
                for agent_id in audience
            ]
        )
        told += len(audience)
        live.reminded_at = now
        live.save(update_fields=["reminded_at"])
    return told
