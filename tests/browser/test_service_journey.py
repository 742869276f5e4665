"""Journey (M14, customer service): a consumer on the 市代 login's shop page writes "请问怎么付款？"
through 联系客服 with no account; the seller logs in on her phone, finds the message under 我的 →
客服 with the FAQ's answer suggested, uses it and sends it; the consumer's thread page (its secret
link) shows the answer."""

from __future__ import annotations

import re

import pytest
from browser_steps import expect, log_in

from weishang.service.models import Conversation

pytestmark = pytest.mark.browser


def test_a_consumer_asks_the_seller_answers_with_the_faq_and_the_consumer_reads_it(demo, phone, shot):
    seller = demo.city
    consumer = phone("zh-CN")
    consumer.goto(f"/s/{seller.invite_code}/")
    consumer.get_by_test_id("message-us").click()
    form = consumer.get_by_test_id("message-form")
    form.locator("input[name=name]").fill("周小姐")
    form.locator("input[name=contact]").fill("13977712345")
    form.locator("textarea[name=text]").fill("请问怎么付款？")
    form.locator("button[type=submit]").click()
    conversation = Conversation.objects.get(agent=seller, contact="13977712345")
    thread_path = f"/s/{seller.invite_code}/messages/{conversation.token}/"
    expect(consumer).to_have_url(re.compile(re.escape(thread_path) + "$"))
    expect(consumer.get_by_test_id("thread")).to_contain_text("请问怎么付款？")
    shot(consumer, "consumer-sent")

    agent = phone("zh-CN")
    log_in(agent, seller.user.phone)
    agent.goto("/m/me/")
    agent.get_by_test_id("messages-link").click()
    agent.get_by_test_id("conversations").get_by_role("link", name="周小姐").click()
    expect(agent.get_by_test_id("thread")).to_contain_text("请问怎么付款？")
    suggestions = agent.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("怎么付款？")
    shot(agent, "seller-suggestion")
    suggestions.locator("button[data-use]").first.click()
    box = agent.get_by_test_id("reply-form").locator("textarea[name=text]")
    answer = box.input_value()
    assert answer.strip(), "using the suggestion fills the answer box"
    agent.get_by_test_id("reply-form").locator("button[type=submit]").click()
    expect(agent.get_by_test_id("thread")).to_contain_text(answer.strip()[:20])

    consumer.goto(thread_path)
    expect(consumer.get_by_test_id("thread").locator("[data-direction=out]").last).to_contain_text(answer.strip()[:20])
    shot(consumer, "consumer-reads-answer")
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
