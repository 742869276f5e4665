"""The academy (M12) for the agent's app: my courses with where to continue, a course with its
lessons and my progress, reporting time spent on a lesson or finishing it, and a try at a course's
quiz — the same services as the phone pages (``academy.services``). Who may: an agent, on their own
enrolments only; a course above their level is 403 with the reason, an unpublished or unknown one
404; a lesson or quiz of a course they are not enrolled in is 403."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import datetime

from django.http import Http404
from ninja import Field, Router, Schema, Status

from weishang.academy import selectors, services
from weishang.api.errors import ERRORS
from weishang.api.params import Id
from weishang.api.security import AGENT
from weishang.channel.selectors import require_agent
from weishang.core.errors import Forbidden

router = Router(tags=["academy"])


class AcademyCourseCardOut(Schema):
    id: int
    title: str
    kind: str = Field(..., description="open, bootcamp, level or traffic")
    lessons: int
    finished_lessons: int
    finished_at: datetime | None = Field(None, description="when the course was finished (its certificate issued)")
    continue_lesson: int | None = Field(None, description="the lesson to continue with")


class AcademyLessonOut(Schema):
    id: int
    position: int
    title: str
    kind: str = Field(..., description="text, audio, video, slides, link or script")
    body: str
    link: str
    has_media: bool
    duration_seconds: int
    opened_at: datetime | None
    finished_at: datetime | None
    seconds_spent: int


class AcademyChoiceOut(Schema):
    id: int
    text: str


class AcademyQuestionOut(Schema):
    id: int
    text: str
    choices: list[AcademyChoiceOut]


class AcademyQuizOut(Schema):
    id: int
    title: str
    pass_mark: int = Field(..., description="percent needed to pass")
    questions: list[AcademyQuestionOut]
    best_score: int | None


class AcademyCourseOut(Schema):
    id: int
    title: str
    kind: str
    summary: str
    min_level: str | None = Field(None, description="the lowest level it is for (code); null: every level")
    enrolled: bool
    finished_at: datetime | None
    lessons: list[AcademyLessonOut]
    quiz: AcademyQuizOut | None


class AcademyProgressIn(Schema):
    seconds: int = Field(
        0, ge=0, le=services.REPORT_MAX_SECONDS, description="seconds listened or watched since the last report"
    )
    finished: bool = Field(False, description="the lesson is finished")


class AcademyProgressOut(Schema):
    lesson: int
    seconds_spent: int
    finished_at: datetime | None
    course_finished: bool


class AcademyAnswerIn(Schema):
    question: Id
    choices: list[Id] = Field(..., min_length=1, max_length=20)


class AcademyAttemptIn(Schema):
    answers: list[AcademyAnswerIn] = Field(..., min_length=1, max_length=200, description="one entry per question")


class AcademyAttemptOut(Schema):
    id: int
    score: int
    passed: bool
    course_finished: bool
    certificate: str | None = Field(None, description="the course certificate's number, once finished")


def _card(card) -> AcademyCourseCardOut:
    return AcademyCourseCardOut(
        id=card.course.pk,
        title=card.course.title,
        kind=card.course.kind,
        lessons=card.lessons,
        finished_lessons=card.finished,
        finished_at=card.enrolment.completed_at if card.enrolment else None,
        continue_lesson=card.next_lesson.pk if card.next_lesson else None,
    )


@router.get("/academy/courses", response={200: list[AcademyCourseCardOut], **ERRORS}, auth=AGENT, summary="My courses")
def my_courses(request):
    agent = require_agent(request.user)
    return [_card(card) for card in selectors.my_courses(agent=agent)]


@router.get(
    "/academy/courses/{course_id}",
    response={200: AcademyCourseOut, **ERRORS},
    auth=AGENT,
    summary="A course with its lessons and my progress",
)
def course_detail(request, course_id: Id):
    agent = require_agent(request.user)
    course = selectors.course_for(agent=agent, course_id=course_id)
    if course is None:
        raise Http404
    enrolment = selectors.enrolment_of(agent=agent, course=course)
    if enrolment is None and not selectors.level_allows(agent=agent, min_level=course.min_level):
        raise Forbidden(selectors.why_closed(agent=agent, course=course, enrolment=None), field="course_id")
    lessons = [
        AcademyLessonOut(
            id=lesson.pk,
            position=lesson.position,
            title=lesson.title,
            kind=lesson.kind,
            body=lesson.body if enrolment else "",
            link=lesson.link if enrolment else "",
            has_media=bool(lesson.media),
            duration_seconds=lesson.duration_seconds,
            opened_at=progress.opened_at if progress else None,
            finished_at=progress.finished_at if progress else None,
            seconds_spent=progress.seconds_spent if progress else 0,
        )
        for lesson, progress in selectors.lesson_rows(course=course, enrolment=enrolment)
    ]
    quiz = getattr(course, "quiz", None)
    quiz_out = None
    if quiz is not None and enrolment is not None:
        best = selectors.best_attempt(enrolment)
        quiz_out = AcademyQuizOut(
            id=quiz.pk,
            title=quiz.title,
            pass_mark=quiz.pass_mark,
            best_score=best.score if best else None,
            questions=[
                AcademyQuestionOut(
                    id=q.pk, text=q.text, choices=[AcademyChoiceOut(id=c.pk, text=c.text) for c in q.choices.all()]
                )
                for q in quiz.questions.prefetch_related("choices")
            ],
        )
    return AcademyCourseOut(
        id=course.pk,
        title=course.title,
        kind=course.kind,
        summary=course.summary,
        min_level=course.min_level.code if course.min_level else None,
        enrolled=enrolment is not None,
        finished_at=enrolment.completed_at if enrolment else None,
        lessons=lessons,
        quiz=quiz_out,
    )


@router.post(
    "/academy/lessons/{lesson_id}/progress",
    response={200: AcademyProgressOut, **ERRORS},
    auth=AGENT,
    summary="Report time spent on a lesson, or finish it",
)
def lesson_progress(request, lesson_id: Id, data: AcademyProgressIn):
    agent = require_agent(request.user)
    row = services.lesson_progress_record(agent=agent, lesson=lesson_id, seconds=data.seconds, finished=data.finished)
    enrolment = row.enrolment
    enrolment.refresh_from_db()
    return AcademyProgressOut(
        lesson=row.lesson_id,
        seconds_spent=row.seconds_spent,
        finished_at=row.finished_at,
        course_finished=enrolment.completed_at is not None,
    )


@router.post(
    "/academy/quizzes/{quiz_id}/attempts",
    response={201: AcademyAttemptOut, **ERRORS},
    auth=AGENT,
    summary="Answer a course's quiz",
)
def quiz_attempt(request, quiz_id: Id, data: AcademyAttemptIn):
    agent = require_agent(request.user)
    answers: dict[str, list[int]] = {}
    for answer in data.answers:
        answers.setdefault(str(answer.question), []).extend(answer.choices)
    attempt = services.quiz_attempt_submit(agent=agent, quiz=quiz_id, answers=answers)
    enrolment = attempt.enrolment
    enrolment.refresh_from_db()
    certificate = getattr(enrolment, "certificate", None) if enrolment.completed_at else None
    return Status(
        201,
        AcademyAttemptOut(
            id=attempt.pk,
            score=attempt.score,
            passed=attempt.passed,
            course_finished=enrolment.completed_at is not None,
            certificate=certificate.serial if certificate else None,
        ),
    )
