"""Reads of the academy: who may open what, an agent's courses and progress, an upline's team
progress, live classes and their audience, course certificates (and their pictures), and the
brand's report — completion by level, and retail sales per agent by month, trained or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from weishang.academy.models import (
    Course,
    CourseCertificate,
    CourseKind,
    Enrolment,
    Lesson,
    LessonProgress,
    LiveClass,
)
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus, Level
from weishang.core import checkchars, clock
from weishang.core.selectors import brand_get
from weishang.core.validators import mask_name
from weishang.trade.models import Order, OrderKind
from weishang.trade.workflow import PAID_STATUSES

# --- who may open what ------------------------------------------------------------------------


def level_allows(*, agent: Agent, min_level: Level | None) -> bool:
    """Whether ``agent``'s level is ``min_level`` or higher (rank 1 is the highest); None: any level."""
    return min_level is None or agent.level.rank <= min_level.rank


def missing_prerequisites(*, agent: Agent, course: Course) -> list[Course]:
    done = Enrolment.objects.filter(agent=agent, completed_at__isnull=False).values("course_id")
    return list(course.prerequisites.exclude(pk__in=done).order_by("pk"))


def published_courses() -> QuerySet[Course]:
    return Course.objects.filter(published=True).select_related("min_level")


def course_for(*, agent: Agent, course_id: int) -> Course | None:
    """A published course by id (None for an unknown or unpublished one; the level is checked by
    ``why_closed``)."""
    return published_courses().filter(pk=course_id).first()


def why_closed(*, agent: Agent, course: Course, enrolment: Enrolment | None) -> str:
    """Why ``agent`` may not open ``course`` ("" when they may): their level, or the prerequisites
    (which hold an agent back only until someone enrols them)."""
    if not level_allows(agent=agent, min_level=course.min_level):
        return _("This course is for %(level)s and above.") % {"level": course.min_level.name}
    if enrolment is None:
        missing = missing_prerequisites(agent=agent, course=course)
        if missing:
            return _("Finish these courses first: %(courses)s.") % {"courses": "、".join(c.title for c in missing)}
    return ""


def enrolment_of(*, agent: Agent, course: Course) -> Enrolment | None:
    return Enrolment.objects.filter(agent=agent, course=course).select_related("last_lesson").first()


def is_done(enrolment: Enrolment) -> bool:
    """Every lesson finished, and the quiz (if the course has one with questions) passed."""
    lessons = Lesson.objects.filter(course_id=enrolment.course_id).count()
    finished = LessonProgress.objects.filter(enrolment=enrolment, finished_at__isnull=False).count()
    if lessons == 0 or finished < lessons:
        return False
    quiz = getattr(enrolment.course, "quiz", None)
    if quiz is None or not quiz.questions.exists():
        return True
    return enrolment.attempts.filter(passed=True).exists()


# --- an agent's courses -----------------------------------------------------------------------


@dataclass
class CourseCard:
    course: Course
    enrolment: Enrolment | None
    lessons: int
    finished: int
    next_lesson: Lesson | None = None

    @property
    def percent(self) -> int:
        return self.finished * 100 // self.lessons if self.lessons else 0


def _finished_counts(enrolments: list[Enrolment]) -> dict[int, int]:
    rows = (
        LessonProgress.objects.filter(enrolment__in=enrolments, finished_at__isnull=False)
        .values("enrolment_id")
        .annotate(n=Count("pk"))
    )
    return {r["enrolment_id"]: r["n"] for r in rows}


def _lesson_counts(course_ids) -> dict[int, int]:
    rows = Lesson.objects.filter(course_id__in=course_ids).values("course_id").annotate(n=Count("pk"))
    return {r["course_id"]: r["n"] for r in rows}


def next_lesson(enrolment: Enrolment) -> Lesson | None:
    """Where to continue: the first lesson not finished (after none, the last one opened)."""
    done = LessonProgress.objects.filter(enrolment=enrolment, finished_at__isnull=False).values("lesson_id")
    return (
        Lesson.objects.filter(course_id=enrolment.course_id).exclude(pk__in=done).order_by("position", "pk").first()
        or enrolment.last_lesson
    )


def my_courses(*, agent: Agent) -> list[CourseCard]:
    """The agent's enrolments (unfinished first), with lessons finished and where to continue."""
    enrolments = list(
        Enrolment.objects.filter(agent=agent, course__published=True).select_related("course__min_level", "last_lesson")
    )
    enrolments.sort(key=lambda e: (e.completed_at is not None, -e.enrolled_at.timestamp()))
    finished = _finished_counts(enrolments)
    lessons = _lesson_counts({e.course_id for e in enrolments})
    return [
        CourseCard(
            course=e.course,
            enrolment=e,
            lessons=lessons.get(e.course_id, 0),
            finished=finished.get(e.pk, 0),
            next_lesson=next_lesson(e) if e.completed_at is None else None,
        )
        for e in enrolments
    ]


def more_courses(*, agent: Agent) -> list[Course]:
    """Published courses the agent is not in, open to their level (an open class too: they forward it)."""
    mine = Enrolment.objects.filter(agent=agent).values("course_id")
    courses = published_courses().exclude(pk__in=mine)
    return [c for c in courses if level_allows(agent=agent, min_level=c.min_level)]


def lesson_rows(*, course: Course, enrolment: Enrolment | None) -> list[tuple[Lesson, LessonProgress | None]]:
    progress = {}
    if enrolment is not None:
        progress = {p.lesson_id: p for p in LessonProgress.objects.filter(enrolment=enrolment)}
    return [(lesson, progress.get(lesson.pk)) for lesson in course.lessons.order_by("position", "pk")]


def lesson_for(*, lesson_id: int) -> Lesson | None:
    return (
        Lesson.objects.select_related("course__min_level", "slides")
        .filter(pk=lesson_id, course__published=True)
        .first()
    )


def neighbours(lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    lessons = list(Lesson.objects.filter(course_id=lesson.course_id).order_by("position", "pk"))
    at = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    return (lessons[at - 1] if at > 0 else None, lessons[at + 1] if at + 1 < len(lessons) else None)


def best_attempt(enrolment: Enrolment):
    return enrolment.attempts.order_by("-score", "-at").first()


# --- an upline's team -------------------------------------------------------------------------


@dataclass
class TeamCourse:
    course: Course
    members: int
    enrolled: int
    finished: int


@dataclass
class MemberRow:
    agent: Agent
    cards: list[CourseCard] = field(default_factory=list)


def team_progress(*, agent: Agent) -> tuple[list[TeamCourse], list[MemberRow]]:
    """The agent's team (their downline in the referrer tree, not themselves): for each published
    course, how many members it is open to, are enrolled and finished it ("3 of my 12 newcomers
    finished the bootcamp"); and each member's courses."""
    members = list(
        channel_selectors.team_members(agent=agent)
        .filter(status=AgentStatus.ACTIVE)
        .select_related("level", "user")
        .order_by("-joined_at", "pk")[:500]
    )
    ids = [m.pk for m in members]
    enrolments = list(
        Enrolment.objects.filter(agent_id__in=ids, course__published=True).select_related("course", "last_lesson")
    )
    finished = _finished_counts(enrolments)
    lessons = _lesson_counts({e.course_id for e in enrolments})
    courses = []
    for course in published_courses().exclude(kind=CourseKind.OPEN):
        open_to = [m for m in members if level_allows(agent=m, min_level=course.min_level)]
        mine = [e for e in enrolments if e.course_id == course.pk]
        courses.append(
            TeamCourse(
                course=course,
                members=len(open_to),
                enrolled=len(mine),
                finished=sum(1 for e in mine if e.completed_at is not None),
            )
        )
    rows = {m.pk: MemberRow(agent=m) for m in members}
    for e in enrolments:
        rows[e.agent_id].cards.append(
            CourseCard(
                course=e.course, enrolment=e, lessons=lessons.get(e.course_id, 0), finished=finished.get(e.pk, 0)
            )
        )
    return courses, list(rows.values())


def team_member(*, viewer: Agent, member_id: int) -> Agent | None:
    """A member of ``viewer``'s team (never ``viewer`` or anyone outside it)."""
    return channel_selectors.team_members(agent=viewer).filter(pk=member_id).select_related("level", "user").first()


# --- live classes -----------------------------------------------------------------------------


def live_classes_for(agent: Agent) -> QuerySet[LiveClass]:
    """Live classes the agent may attend: for their level, and of a course they may open (or none)."""
    rank = agent.level.rank
    return (
        LiveClass.objects.filter(Q(min_level__isnull=True) | Q(min_level__rank__gte=rank))
        .filter(
            Q(course__isnull=True)
            | (Q(course__published=True) & (Q(course__min_level__isnull=True) | Q(course__min_level__rank__gte=rank)))
        )
        .select_related("course", "lecturer")
    )


def upcoming_live_classes(agent: Agent) -> list[LiveClass]:
    return list(live_classes_for(agent).filter(ends_at__gte=clock.now()).order_by("starts_at")[:10])


def live_class_audience(live: LiveClass) -> list[int]:
    """Who is reminded: the active agents enrolled in its course, or (without a course) every active
    agent of the levels it is for."""
    agents = Agent.objects.filter(status=AgentStatus.ACTIVE)
    if live.course_id is not None:
        agents = agents.filter(enrolments__course_id=live.course_id)
    if live.min_level_id is not None:
        agents = agents.filter(level__rank__lte=live.min_level.rank)
    return list(agents.order_by("pk").values_list("pk", flat=True).distinct())


# --- course certificates ----------------------------------------------------------------------


def certificates_of(agent: Agent) -> QuerySet[CourseCertificate]:
    return CourseCertificate.objects.filter(enrolment__agent=agent).select_related("enrolment__course")


@dataclass(frozen=True)
class CertificateAnswer:
    serial: str
    name: str  # masked
    course: str
    issued: datetime


def certificate_lookup(text: str) -> CertificateAnswer | None:
    """The public check of a course certificate by its number (the name masked); None if unknown."""
    serial = checkchars.normalise(text)[:40]
    found = CourseCertificate.objects.filter(serial=serial).first()
    if found is None:
        return None
    return CertificateAnswer(
        serial=found.serial, name=mask_name(found.agent_name), course=found.course_title, issued=found.issued_at
    )


def _certificate_text(certificate: CourseCertificate, *, verify_url: str):
    from weishang.certificates import render

    brand = brand_get().name
    with translation.override("zh-hans"):
        day = f"{timezone.localtime(certificate.issued_at):%Y-%m-%d}"
        return render.CertificateText(
            brand=brand,
            title=_("Certificate of completion"),
            statement=_("%(name)s has finished every lesson of %(brand)s's course 《%(course)s》 and passed it.")
            % {"name": certificate.agent_name, "brand": brand, "course": certificate.course_title},
            serial=certificate.serial,
            name=certificate.agent_name,
            level=certificate.course_title,
            region=certificate.agent_name,
            valid=day,
            issued=day,
            labels=(_("Certificate no."), _("Course"), _("Student"), _("Finished"), _("Issued")),
            scan_hint=_("Scan to check this certificate"),
            verify_url=verify_url,
        )


def certificate_png(certificate: CourseCertificate, *, verify_url: str) -> bytes:
    from weishang.certificates import render

    return render.draw_png(_certificate_text(certificate, verify_url=verify_url))


def certificate_pdf(certificate: CourseCertificate, *, verify_url: str) -> bytes:
    from weishang.certificates import render

    text = _certificate_text(certificate, verify_url=verify_url)
    return render.draw_pdf(text, render.draw_png(text))


# --- the console ------------------------------------------------------------------------------


def lecturer_may_edit(*, user, course: Course) -> bool:
    """Brand staff who manage every course (owner, operations), or a lecturer of this course."""
    if user.has_perm("academy.manage_all_courses"):
        return True
    return bool(course.pk) and course.lecturers.filter(pk=user.pk).exists()


def courses_editable_by(user) -> Q:
    """A filter of the courses ``user`` may see and edit in the console (on Course)."""
    if user.has_perm("academy.manage_all_courses"):
        return Q()
    return Q(lecturers=user)


# --- the brand's report -----------------------------------------------------------------------


@dataclass
class LevelCompletion:
    level: Level
    course: Course
    agents: int
    enrolled: int
    finished: int

    @property
    def percent(self) -> int:
        return self.finished * 100 // self.agents if self.agents else 0


def completion_by_level() -> list[LevelCompletion]:
    """For each published course (not the open classes) and each level it is open to: the active
    agents of that level, how many are enrolled and how many finished."""
    levels = list(Level.objects.order_by("rank"))
    per_level = dict(
        Agent.objects.filter(status=AgentStatus.ACTIVE)
        .values("level_id")
        .annotate(n=Count("pk"))
        .values_list("level_id", "n")
    )
    counts = (
        Enrolment.objects.filter(agent__status=AgentStatus.ACTIVE, course__published=True)
        .values("course_id", "agent__level_id")
        .annotate(enrolled=Count("pk"), finished=Count("pk", filter=Q(completed_at__isnull=False)))
    )
    found = {(r["course_id"], r["agent__level_id"]): (r["enrolled"], r["finished"]) for r in counts}
    rows = []
    for course in published_courses().exclude(kind=CourseKind.OPEN).order_by("kind", "pk"):
        for level in levels:
            if course.min_level is not None and level.rank > course.min_level.rank:
                continue
            enrolled, finished = found.get((course.pk, level.pk), (0, 0))
            rows.append(LevelCompletion(level, course, per_level.get(level.pk, 0), enrolled, finished))
    return rows


@dataclass
class RetailMonth:
    month: str  # YYYY-MM
    trained_agents: int
    trained_retail: Decimal
    untrained_agents: int
    untrained_retail: Decimal

    @staticmethod
    def _per(total: Decimal, n: int) -> Decimal:
        return (total / n).quantize(Decimal("0.01")) if n else Decimal("0.00")

    @property
    def trained_per_agent(self) -> Decimal:
        return self._per(self.trained_retail, self.trained_agents)

    @property
    def untrained_per_agent(self) -> Decimal:
        return self._per(self.untrained_retail, self.untrained_agents)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first moment of ``YYYY-MM`` and of the next month, China time."""
    year, number = (int(x) for x in month.split("-"))
    start = timezone.make_aware(datetime(year, number, 1))
    end = timezone.make_aware(datetime(year + number // 12, number % 12 + 1, 1))
    return start, end


def last_months(n: int = 6) -> list[str]:
    today = timezone.localdate(clock.now())
    out = []
    year, month = today.year, today.month
    for _i in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def retail_trained_by_month(months: list[str]) -> list[RetailMonth]:
    """Retail sales (shop orders paid in the month, not cancelled or refunded, by their seller) per
    agent, for agents trained — who finished the newbie bootcamp before the month ended — against
    the others. The agents counted are those active now who had joined before the month ended."""
    rows = []
    for month in months:
        start, end = month_bounds(month)
        agents = set(Agent.objects.filter(status=AgentStatus.ACTIVE, joined_at__lt=end).values_list("pk", flat=True))
        trained = set(
            Enrolment.objects.filter(
                course__kind=CourseKind.BOOTCAMP, completed_at__lt=end, agent_id__in=agents
            ).values_list("agent_id", flat=True)
        )
        sales = dict(
            Order.objects.filter(
                kind=OrderKind.RETAIL,
                status__in=PAID_STATUSES,
                paid_at__gte=start,
                paid_at__lt=end,
                seller_id__in=agents,
            )
            .values("seller_id")
            .annotate(total=Sum("total"))
            .values_list("seller_id", "total")
        )
        trained_total = sum((v for k, v in sales.items() if k in trained), Decimal("0.00"))
        untrained_total = sum((v for k, v in sales.items() if k not in trained), Decimal("0.00"))
        rows.append(RetailMonth(month, len(trained), trained_total, len(agents) - len(trained), untrained_total))
    return rows
