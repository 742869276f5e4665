"""The academy's journey (M12), in Chinese on a phone: a newcomer applies through a 市代's invite
link and is approved; logged in, they find the newbie bootcamp already in 我的课程 (the outbox's
``agent.joined`` enrolled them), open the first lesson, mark it finished and land on the next, and
pass the quiz; their 市代 opens 团队学习进度 and sees the newcomer's progress."""

from __future__ import annotations

import pytest
from browser_steps import expect, log_in

from weishang.academy.demo import QUIZ
from weishang.academy.models import Enrolment, QuizAttempt

pytestmark = pytest.mark.browser

NEW_PHONE = "13633334444"
NEW_PASSWORD = "chen-jing-2026"
NEW_NAME = "新人陈静"


def test_a_newcomer_finds_the_bootcamp_finishes_a_lesson_and_the_quiz_and_the_upline_sees_it(demo, phone, shot):
    city = demo.city
    newcomer = phone("zh-CN")
    newcomer.goto(f"/join/{city.invite_code}/")
    newcomer.get_by_label("真实姓名", exact=True).fill(NEW_NAME)
    newcomer.get_by_label("手机号", exact=True).fill(NEW_PHONE)
    newcomer.get_by_role("radio", name="特约", exact=True).check()
    newcomer.get_by_label("密码（至少 8 位）", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="提交申请").click()
    expect(newcomer.get_by_role("heading", name="申请已提交")).to_be_visible()

    upline = phone("zh-CN")
    log_in(upline, city.phone)
    upline.goto("/m/applications/")
    upline.locator("li.card", has_text=NEW_NAME).get_by_role("button", name="通过", exact=True).click()
    expect(upline.get_by_role("status")).to_contain_text(f"{NEW_NAME} 已加入")

    # The newcomer: 我的 → 我的课程, the bootcamp is there, enrolled on joining.
    log_in(newcomer, NEW_PHONE, NEW_PASSWORD)
    newcomer.get_by_test_id("tabs").get_by_role("link", name="我的", exact=True).click()
    newcomer.get_by_test_id("academy-link").click()
    card = newcomer.get_by_test_id("my-course").filter(has_text="小白特训营")
    expect(card).to_contain_text("已学完 0/6 课")
    assert Enrolment.objects.get(agent__user__phone=NEW_PHONE, course__title="小白特训营").how == "joined"
    shot(newcomer, "my-courses")
    card.get_by_test_id("continue").click()
    expect(newcomer.get_by_test_id("lesson-title")).to_have_text("公司与产品介绍")
    shot(newcomer, "lesson")
    newcomer.get_by_test_id("finish").click()
    expect(newcomer.get_by_role("status")).to_contain_text("本课已学完")
    expect(newcomer.get_by_test_id("lesson-title")).to_have_text("代理制度讲解")

    # The quiz, from the course page: a wrong answer first, then the right ones.
    newcomer.get_by_role("link", name="小白特训营").click()
    newcomer.get_by_test_id("quiz-link").click()
    for text, choices in QUIZ:
        wrong = next(c for c, right in choices if not right)
        newcomer.get_by_role("group", name=text).get_by_label(wrong).check()
    newcomer.get_by_test_id("submit-quiz").click()
    expect(newcomer.get_by_test_id("quiz-result")).to_contain_text("未通过：0%")
    for text, choices in QUIZ:
        group = newcomer.get_by_role("group", name=text)
        for choice, right in choices:
            (group.get_by_label(choice).check if right else group.get_by_label(choice).uncheck)()
    newcomer.get_by_test_id("submit-quiz").click()
    expect(newcomer.get_by_test_id("quiz-result")).to_contain_text("通过：100%")
    shot(newcomer, "quiz-passed")
    assert [a.passed for a in QuizAttempt.objects.filter(enrolment__agent__user__phone=NEW_PHONE).order_by("pk")] == [
        False,
        True,
    ]

    # The upline: 我的 → 团队学习进度, the newcomer with one lesson of six.
    upline.get_by_test_id("tabs").get_by_role("link", name="我的", exact=True).click()
    upline.get_by_role("link", name="团队学习进度").click()
    members = upline.get_by_test_id("team-members")
    expect(members.locator("li", has_text=NEW_NAME)).to_contain_text("小白特训营 1/6")
    expect(upline.get_by_test_id("team-course").filter(has_text="小白特训营")).to_contain_text("人已报名")
    shot(upline, "team-progress")
    members.locator("li", has_text=NEW_NAME).get_by_role("link").click()
    expect(upline.get_by_test_id("member-course")).to_contain_text("已学完 1/6 课")
