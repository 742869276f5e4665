"""The academy's fixtures: a brand, a 市代 upline with two 特约 newcomers, a bootcamp of three
lessons with a quiz, and a course for 市代 and above."""

from __future__ import annotations

import pytest

from weishang.academy import services
from weishang.academy.models import Choice, Course, CourseKind, Lesson, LessonKind, Question, Quiz
from weishang.core.models import Brand

PASSWORD = "pass-word-1"


def make_course(title: str, kind: str = CourseKind.LEVEL, *, lessons: int = 3, min_level=None, **kw) -> Course:
    course = services.course_save(
        course=Course(title=title, kind=kind, min_level=min_level, published=kw.pop("published", True), **kw)
    )
    for n in range(1, lessons + 1):
        Lesson.objects.create(course=course, position=n, title=f"{title} 第{n}课", kind=LessonKind.TEXT, body="正文")
    return course


def add_quiz(course: Course, pass_mark: int = 60) -> Quiz:
    quiz = Quiz.objects.create(course=course, title="结业测验", pass_mark=pass_mark)
    for n, (text, right) in enumerate([("朋友圈一天发几条？", "3到5条"), ("新代理第一步？", "装修微信号")], start=1):
        question = Question.objects.create(quiz=quiz, position=n, text=text)
        Choice.objects.create(question=question, text=right, correct=True)
        Choice.objects.create(question=question, text="随便", correct=False)
    return quiz


def right_answers(quiz: Quiz) -> dict[str, list[int]]:
    return {str(q.pk): [c.pk for c in q.choices.all() if c.correct] for q in quiz.questions.prefetch_related("choices")}


@pytest.fixture
def world(db, make_agent, levels):
    Brand.objects.create(name="测试品牌")
    bootcamp = make_course("小白特训营", CourseKind.BOOTCAMP)
    quiz = add_quiz(bootcamp)
    gated = make_course("市代进阶课", min_level=levels["city"], lessons=2)
    upline = make_agent("city", real_name="市代王芳")
    newcomer = make_agent("vip", referrer=upline, real_name="特约李娜")
    other = make_agent("vip", referrer=upline, real_name="特约张敏")
    stranger = make_agent("vip", real_name="特约外人")
    return {
        "bootcamp": bootcamp,
        "quiz": quiz,
        "gated": gated,
        "upline": upline,
        "newcomer": newcomer,
        "other": other,
        "stranger": stranger,
        "levels": levels,
    }
