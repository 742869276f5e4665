"""The demo's academy (M12), made through the services:

- **小白特训营** (the newbie bootcamp, published 100 days ago): six lessons — text, slides, a recorded
  class on 千聊, a lecturer's script with its slides — and a quiz. The 特约 login is halfway through
  (three lessons finished, time spent on the recording); the 市代 login finished it with its
  certificate; the 联创 and 总代 logins finished it months ago (so the report's trained agents have
  retail); some of the 市代 login's team are enrolled and one finished; newcomers who joined since it
  was published are enrolled as on joining.
- **市代进阶：带团队** (for 市代 and above): a 特约 cannot open it, the 市代 login can.
- **招商公开课** (an open class with its 千聊 link and public page) and **抖音短视频引流** (a traffic course).
- **新人答疑直播** (a live class of the bootcamp in two days) and a past one with its recording.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from weishang.academy import services
from weishang.academy.models import (
    Choice,
    Course,
    CourseKind,
    EnrolledHow,
    Lesson,
    LessonKind,
    LiveAttendance,
    LiveClass,
    Question,
    Quiz,
    SlideDeck,
)
from weishang.channel import selectors as channel_selectors
from weishang.channel.models import Agent, AgentStatus, Level
from weishang.core import clock

BOOTCAMP_LESSONS = [
    (
        "公司与产品介绍",
        LessonKind.TEXT,
        "焕颜 GLOW 是做修护精华的品牌。\n\n这一课讲公司的来历、三款产品的卖点和适合的人群。",
    ),
    ("代理制度讲解", LessonKind.SLIDES, ""),
    ("微信号装修", LessonKind.TEXT, "头像用真人照片，昵称用真名加产品。\n\n个性签名写清楚你能帮客户解决什么问题。"),
    ("朋友圈怎么发", LessonKind.LINK, "一天三到五条：产品、生活、客户反馈各占一份。"),
    ("微信号引流", LessonKind.SCRIPT, "讲稿：\n\n大家好，今天讲怎么给微信号引流。先从身边的朋友开始……"),
    ("第一批客户", LessonKind.TEXT, "从你的通讯录里找出二十个最可能用得上的人，一个一个聊。"),
]
QUIZ = [
    ("朋友圈一天发几条比较合适？", [("三到五条", True), ("二十条以上", False), ("一条都不发", False)]),
    ("新代理的第一步是什么？", [("装修微信号", True), ("马上囤货", False)]),
    ("第一批客户从哪里来？", [("身边的朋友和通讯录", True), ("陌生人群发", False)]),
]


def _deck_pdf() -> SimpleUploadedFile:
    from weishang.core.fonts import pdf_document

    pdf = pdf_document()
    pdf.set_font("cjk", size=20)
    for title in ("代理制度", "等级与拿货价", "奖励与升级"):
        pdf.add_page()
        pdf.cell(text=title)
    return SimpleUploadedFile("deck.pdf", bytes(pdf.output()), content_type="application/pdf")


def _course(title, kind, lessons, *, by, min_level=None, summary="", join_link="", published_at=None) -> Course:
    course = Course(title=title, kind=kind, summary=summary, min_level=min_level, join_link=join_link, published=True)
    services.course_save(course=course, by=by)
    if published_at is not None:
        Course.objects.filter(pk=course.pk).update(published_at=published_at)
        course.published_at = published_at
    if by is not None:
        course.lecturers.add(by)
    for position, (name, lesson_kind, body) in enumerate(lessons, start=1):
        Lesson.objects.create(course=course, position=position, title=name, kind=lesson_kind, body=body)
    return course


def _quiz(course: Course) -> Quiz:
    quiz = Quiz.objects.create(course=course, title="结业测验", pass_mark=60)
    for position, (text, choices) in enumerate(QUIZ, start=1):
        question = Question.objects.create(quiz=quiz, position=position, text=text)
        Choice.objects.bulk_create([Choice(question=question, text=t, correct=c) for t, c in choices])
    return quiz


def _right(quiz: Quiz) -> dict[str, list[int]]:
    return {str(q.pk): [c.pk for c in q.choices.all() if c.correct] for q in quiz.questions.all()}


def _finish(agent: Agent, course: Course, quiz: Quiz | None, *, lessons: int | None = None) -> None:
    for lesson in list(course.lessons.order_by("position"))[:lessons]:
        services.lesson_open(agent=agent, lesson=lesson)
        seconds = 600 if lesson.kind == LessonKind.LINK else 0
        services.lesson_progress_record(agent=agent, lesson=lesson, seconds=seconds, finished=True)
    if quiz is not None and lessons is None:
        services.quiz_attempt_submit(agent=agent, quiz=quiz, answers=_right(quiz))


@transaction.atomic  # one commit: the outbox's followers run once after it, not after each enrolment
def academy_demo(*, login_phone: str) -> None:
    """Once: the demo brand's courses, progress, certificates and live classes."""
    if Course.objects.exists():
        return
    lecturer = get_user_model().objects.filter(username="lecturer").first()
    owner = get_user_model().objects.filter(username="owner").first()
    logins = {rank: Agent.objects.filter(user__phone=login_phone.format(rank=rank)).first() for rank in range(1, 7)}
    now = clock.now()
    deck = SlideDeck.objects.create(title="代理制度讲解课件", file=_deck_pdf(), owner=lecturer)
    bootcamp = _course(
        "小白特训营",
        CourseKind.BOOTCAMP,
        BOOTCAMP_LESSONS,
        by=lecturer,
        summary="新代理的第一门课：公司与产品、代理制度、微信号装修、发朋友圈、引流和第一批客户。",
        published_at=now - timedelta(days=100),
    )
    Lesson.objects.filter(course=bootcamp, kind__in=(LessonKind.SLIDES, LessonKind.SCRIPT)).update(slides=deck)
    Lesson.objects.filter(course=bootcamp, kind=LessonKind.LINK).update(
        link="https://m.qlchat.com/topic/details?topicId=2000001", duration_seconds=1800
    )
    quiz = _quiz(bootcamp)
    city_level = Level.objects.filter(code="city").first()
    gated = _course(
        "市代进阶：带团队",
        CourseKind.LEVEL,
        [
            ("怎样带新人", LessonKind.TEXT, "新人进来的第一周最关键：每天陪他发一条朋友圈。"),
            ("团队群怎么管", LessonKind.TEXT, "群公告、每日早报、每周复盘。"),
            ("帮下级成交", LessonKind.TEXT, "三方通话：你介绍，他听，客户问。"),
        ],
        by=lecturer,
        min_level=city_level,
        summary="只有市代及以上可以学：带新人、管团队群、帮下级成交。",
    )
    _course(
        "招商公开课：为什么现在做焕颜",
        CourseKind.OPEN,
        [
            ("行业趋势", LessonKind.TEXT, "社交电商的发展趋势。"),
            ("产品卖点与扶持政策", LessonKind.TEXT, "三款产品和新代理扶持。"),
        ],
        by=lecturer,
        summary="十五分钟听懂焕颜：产品、模式和对新代理的扶持。转发给有意向的朋友。",
        join_link="https://m.qlchat.com/topic/details?topicId=2000002",
    )
    _course(
        "抖音短视频引流",
        CourseKind.TRAFFIC,
        [
            ("拍什么", LessonKind.TEXT, "拍使用过程，不拍广告。"),
            ("怎么留联系方式", LessonKind.TEXT, "主页写微信号的合规做法。"),
        ],
        by=lecturer,
    )
    vip, city = logins.get(5), logins.get(4)
    # The 联创 and 总代 logins finished the bootcamp months ago; the 市代 login last week.
    for rank, days in ((1, 95), (2, 80), (4, 7)):
        agent = logins.get(rank)
        if agent is None or agent.status != AgentStatus.ACTIVE:
            continue
        with clock.frozen(now - timedelta(days=days)):
            services.course_enrol(course=bootcamp, agent=agent, how=EnrolledHow.HAND, by=owner)
            _finish(agent, bootcamp, quiz)
    if city is not None and city.status == AgentStatus.ACTIVE:
        services.course_enrol(course=gated, agent=city, how=EnrolledHow.SELF, by=city.user)
        _finish(city, gated, None, lessons=1)
        # the 市代 login's team: enrolled by level, one of them finished
        team = list(channel_selectors.team_members(agent=city).filter(status=AgentStatus.ACTIVE).order_by("pk")[:6])
        for n, member in enumerate(team):
            if member == vip:
                continue
            with clock.frozen(now - timedelta(days=20 - n)):
                services.course_enrol(course=bootcamp, agent=member, how=EnrolledHow.LEVEL, by=owner)
                _finish(member, bootcamp, quiz, lessons=None if n == 0 else n % 4)
    if vip is not None and vip.status == AgentStatus.ACTIVE:
        with clock.frozen(now - timedelta(days=3)):
            services.course_enrol(course=bootcamp, agent=vip, how=EnrolledHow.HAND, by=owner)
            _finish(vip, bootcamp, None, lessons=3)  # halfway: three of six
    # newcomers who joined since the bootcamp was published, as the outbox follower enrols them
    for agent in Agent.objects.filter(status=AgentStatus.ACTIVE, joined_at__gte=bootcamp.published_at):
        services.course_enrol(course=bootcamp, agent=agent, how=EnrolledHow.JOINED)
    LiveClass.objects.create(  # reminded by `weishang academy remind`
        course=bootcamp,
        title="新人答疑直播",
        lecturer=lecturer,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=1),
        link="https://m.qlchat.com/live/channel/2000003",
    )
    past = LiveClass.objects.create(
        course=bootcamp,
        title="第一期新人开营直播",
        lecturer=lecturer,
        starts_at=now - timedelta(days=10),
        ends_at=now - timedelta(days=10) + timedelta(hours=1),
        link="https://m.qlchat.com/live/channel/2000004",
        recording_link="https://m.qlchat.com/topic/details?topicId=2000004",
        reminded_at=now - timedelta(days=11),
    )
    for agent in (city, logins.get(1)):
        if agent is not None:
            LiveAttendance.objects.get_or_create(
                live_class=past, agent=agent, defaults={"checked_in_at": past.starts_at}
            )
