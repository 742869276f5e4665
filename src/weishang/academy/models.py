"""The academy (培训, M12). The source calls a 微商 brand "a recruitment and training company": open
recruitment classes forwarded to prospects (荔枝微课 / 千聊), the newbie bootcamp (小白特训营), courses
only higher levels may attend, traffic courses, and scripts and slides handed down by the upline.

A ``Course`` is published or not, open to levels from ``min_level`` up (rank: 1 is the highest),
after its ``prerequisites``; its ``Lesson``s are in order, each of one kind (text, audio, video,
slides, a link, a lecturer's script with reusable ``SlideDeck``). An agent's ``Enrolment`` says how
they came in and who enrolled them; ``LessonProgress`` what they opened, finished and how long they
listened or watched; ``QuizAttempt`` each try at the course's ``Quiz``. A finished course (every
lesson finished, the quiz passed) issues a ``CourseCertificate``, checkable at ``/verify/course/``.
``LiveClass`` is a scheduled class with its link, reminders, check-ins and the recording after."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from weishang.core import clock

TITLE_MAX = 100
TEXT_MAX = 20_000


class CourseKind(models.TextChoices):
    OPEN = "open", _("Open recruitment class (招商公开课)")
    BOOTCAMP = "bootcamp", _("Newbie bootcamp (小白特训营)")
    LEVEL = "level", _("Level course (等级课程)")
    TRAFFIC = "traffic", _("Traffic course (引流课程)")


class Course(models.Model):
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    kind = models.CharField(_("kind"), max_length=10, choices=CourseKind.choices, default=CourseKind.LEVEL)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    min_level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for levels from"),
        help_text=_("Only agents at this level or above may open the course. Empty: every agent."),
    )
    prerequisites = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="leads_to",
        verbose_name=_("prerequisites"),
        help_text=_("Courses an agent must have finished first."),
    )
    lecturers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="courses_lectured",
        verbose_name=_("lecturers"),
        help_text=_("Brand staff who teach the course; a lecturer edits only their own courses."),
    )
    join_link = models.URLField(
        _("join link"),
        max_length=300,
        blank=True,
        help_text=_("Open classes: where the class is held or recorded (荔枝微课, 千聊, a WeChat group)."),
    )
    public_token = models.CharField(_("public link code"), max_length=24, unique=True, editable=False)
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        permissions = [
            ("manage_all_courses", _("Can manage every course, not only one's own")),
            ("view_academy_report", _("Can see the academy report")),
        ]

    def __str__(self) -> str:
        return self.title


class SlideDeck(models.Model):
    """Slides (a PDF) a lecturer's script or a lesson uses; one deck can serve many lessons."""

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    file = models.FileField(_("slides (PDF)"), upload_to="academy/slides/")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("slide deck")
        verbose_name_plural = _("slide decks")

    def __str__(self) -> str:
        return self.title


class LessonKind(models.TextChoices):
    TEXT = "text", _("Text")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    SLIDES = "slides", _("Slides (PDF)")
    LINK = "link", _("External link")
    SCRIPT = "script", _("Lecturer's script (讲稿)")


MEDIA_KINDS = (LessonKind.AUDIO, LessonKind.VIDEO)


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course"))
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    kind = models.CharField(_("kind"), max_length=10, choices=LessonKind.choices, default=LessonKind.TEXT)
    body = models.TextField(
        _("text"), max_length=TEXT_MAX, blank=True, help_text=_("Paragraphs separated by an empty line.")
    )
    media = models.FileField(
        _("audio, video or PDF"),
        upload_to="academy/media/",
        blank=True,
        help_text=_("MP3 or M4A audio, MP4 video, or a PDF; at most 10 MB."),
    )
    link = models.URLField(_("link"), max_length=300, blank=True)
    slides = models.ForeignKey(
        SlideDeck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lessons",
        verbose_name=_("slides"),
    )
    duration_seconds = models.PositiveIntegerField(
        _("length (seconds)"), default=0, help_text=_("Audio and video: how long it plays.")
    )

    class Meta:
        ordering = ["course", "position", "pk"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self) -> str:
        return self.title


class EnrolledHow(models.TextChoices):
    JOINED = "joined", _("On joining")
    LEVEL = "level", _("By level")
    HAND = "hand", _("By hand")
    SELF = "self", _("By themselves")


class Enrolment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("course"))
    agent = models.ForeignKey(
        "channel.Agent", on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("agent")
    )
    how = models.CharField(_("enrolled"), max_length=8, choices=EnrolledHow.choices)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrolled by"),
        help_text=_("Empty: the system, when the agent joined."),
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=clock.now)
    last_lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("last lesson")
    )
    completed_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at", "-pk"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [models.UniqueConstraint(fields=["course", "agent"], name="one_enrolment_per_course")]

    def __str__(self) -> str:
        return f"{self.agent.real_name} · {self.course.title}"


class LessonProgress(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    opened_at = models.DateTimeField(_("opened"), default=clock.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    seconds_spent = models.PositiveIntegerField(_("seconds listened or watched"), default=0)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="one_progress_per_lesson")]

    def __str__(self) -> str:
        return self.lesson.title


class Quiz(models.Model):
    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="quiz", verbose_name=_("course"))
    title = models.CharField(_("title"), max_length=TITLE_MAX, default="结业测验")
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        constraints = [
            models.CheckConstraint(condition=Q(pass_mark__gte=1, pass_mark__lte=100), name="quiz_pass_mark_range")
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions", verbose_name=_("quiz"))
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    text = models.CharField(_("question"), max_length=300)

    class Meta:
        ordering = ["quiz", "position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question"))
    text = models.CharField(_("choice"), max_length=200)
    correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ["question", "pk"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")

    def __str__(self) -> str:
        return self.text


class QuizAttempt(models.Model):
    """One try at a quiz: the choices given per question, the score and whether it passed. Immutable."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("quiz"))
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("enrolment")
    )
    answers = models.JSONField(_("answers"), default=dict)
    score = models.PositiveSmallIntegerField(_("score (%)"))
    passed = models.BooleanField(_("passed"))
    at = models.DateTimeField(_("at"), default=clock.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")

    def __str__(self) -> str:
        return f"{self.score}%"


class CourseCertificate(models.Model):
    """A finished course's certificate. Its words are copied when issued (the course may be renamed
    later); the PNG and PDF are drawn on request."""

    serial = models.CharField(_("certificate number"), max_length=20, unique=True)
    enrolment = models.OneToOneField(
        Enrolment, on_delete=models.PROTECT, related_name="certificate", verbose_name=_("enrolment")
    )
    agent_name = models.CharField(_("name as printed"), max_length=50)
    course_title = models.CharField(_("course as printed"), max_length=TITLE_MAX)
    issued_at = models.DateTimeField(_("issued"), default=clock.now)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("course certificate")
        verbose_name_plural = _("course certificates")

    def __str__(self) -> str:
        return self.serial


class LiveClass(models.Model):
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="live_classes",
        verbose_name=_("course"),
        help_text=_("Its enrolled agents are reminded. Empty: every active agent who may see it."),
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    lecturer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="live_classes",
        verbose_name=_("lecturer"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    link = models.URLField(
        _("link"), max_length=300, help_text=_("Where the class is held (荔枝微课, 千聊, a meeting).")
    )
    recording_link = models.URLField(
        _("recording"), max_length=300, blank=True, help_text=_("Attached after the class: its replay.")
    )
    min_level = models.ForeignKey(
        "channel.Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for levels from"),
    )
    reminded_at = models.DateTimeField(_("reminders sent"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("live class")
        verbose_name_plural = _("live classes")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="live_class_times")]

    def __str__(self) -> str:
        return self.title


class LiveAttendance(models.Model):
    live_class = models.ForeignKey(
        LiveClass, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("live class")
    )
    agent = models.ForeignKey("channel.Agent", on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    checked_in_at = models.DateTimeField(_("checked in"), default=clock.now)

    class Meta:
        ordering = ["checked_in_at", "pk"]
        verbose_name = _("live class attendance")
        verbose_name_plural = _("live class attendance")
        constraints = [models.UniqueConstraint(fields=["live_class", "agent"], name="one_checkin_per_live_class")]

    def __str__(self) -> str:
        return self.agent.real_name
