"""The pages: a consumer writes from the shop page and comes back by the conversation's secret
link; the seller answers on the phone with the FAQ's suggestions and the quick replies, and sees
only their own shop's conversations; hostile input is a message on the page, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from weishang.channel.services import agent_change_status
from weishang.service.models import Conversation, Message, QuickReply
from weishang.service.services import conversation_start

pytestmark = pytest.mark.django_db


def agent_client(agent) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent.user)
    return client


def test_the_shop_page_links_to_the_message_form(seller, client):
    page = client.get(f"/s/{seller.invite_code}/").content.decode()
    assert f'href="/s/{seller.invite_code}/messages/"' in page


def test_a_consumer_writes_and_reads_their_thread_by_its_secret_link(seller, client):
    url = f"/s/{seller.invite_code}/messages/"
    assert client.get(url).status_code == 200
    sent = client.post(url, {"name": "王女士", "contact": "13912345601", "text": "请问怎么付款？"})
    conversation = Conversation.objects.get()
    thread = f"/s/{seller.invite_code}/messages/{conversation.token}/"
    assert sent.status_code == 302 and sent["Location"] == thread
    assert "请问怎么付款？" in client.get(thread).content.decode()
    assert client.post(thread, {"text": "在吗？"}).status_code == 302
    assert conversation.messages.count() == 2
    # the thread is found by its token only, and only under its own shop
    assert Client().get(f"/s/{seller.invite_code}/messages/{conversation.token[:-1]}x/").status_code == 404
    assert Client().get(f"/s/{seller.invite_code}/messages/{conversation.pk}/").status_code == 404
    assert Client().get(f"/s/NOSUCH/messages/{conversation.token}/").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"name": "王", "contact": "13912345601", "text": ""},
        {"name": "王", "contact": "1' OR 1=1", "text": "你好"},
        {"name": "王" * 200, "contact": "13912345601", "text": "你好"},
        {"name": "王", "contact": "13912345601", "text": "长" * 5000},
        {"name": "<script>alert(1)</script>", "contact": "<b>x</b>", "text": "\x00"},
        {},
    ],
)
def test_hostile_input_is_a_message_on_the_page(seller, client, data):
    page = client.post(f"/s/{seller.invite_code}/messages/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 400 and 'role="alert"' in page.content.decode()
    assert "<script>alert(1)</script>" not in page.content.decode()
    assert not Message.objects.exists()


def test_a_closed_shop_takes_no_messages(seller, client, staff):
    agent_change_status(agent=seller, action="suspend", by=staff("owner"), reason="测试")
    assert client.get(f"/s/{seller.invite_code}/messages/").status_code == 404


def test_posting_is_rate_limited(seller, client, settings):
    settings.WEISHANG_API_RATES = {"public": "2/m"}
    url = f"/s/{seller.invite_code}/messages/"
    codes = [
        client.post(url, {"name": "王", "contact": f"1391234560{i}", "text": "你好"}).status_code for i in range(3)
    ]
    assert codes == [302, 302, 429]


def test_the_seller_answers_with_suggestions_and_sees_only_their_own(seller, other_seller):
    QuickReply.objects.create(title="发货时间", text="48 小时内发货。")
    mine = conversation_start(agent=seller, name="王女士", contact="13912345601", text="请问怎么付款？")
    theirs = conversation_start(agent=other_seller, name="赵先生", contact="13912345609", text="你好")
    client = agent_client(seller)
    listing = client.get("/m/messages/").content.decode()
    assert "王女士" in listing and "赵先生" not in listing
    page = client.get(f"/m/messages/{mine.pk}/").content.decode()
    assert 'data-testid="suggestions"' in page and "怎么付款？" in page and "收款码" in page
    assert 'data-use="48 小时内发货。"' in page
    assert client.get(f"/m/messages/{theirs.pk}/").status_code == 404
    assert client.post(f"/m/messages/{theirs.pk}/", {"text": "抢答"}).status_code == 404
    assert client.post(f"/m/messages/{mine.pk}/", {"text": "扫码转账即可。"}).status_code == 302
    mine.refresh_from_db()
    assert mine.first_response_at is not None and mine.messages.last().sent_by == seller.user
    assert client.post(f"/m/messages/{mine.pk}/", {"text": " "}).status_code == 400
    assert client.get("/m/messages/99999999/").status_code == 404
    assert Client().get("/m/messages/").status_code == 302  # to the login page


def test_a_suspended_seller_is_told_they_cannot_answer_and_nothing_is_written(seller, staff):
    conversation = conversation_start(agent=seller, name="王女士", contact="13912345601", text="请问怎么付款？")
    agent_change_status(agent=seller, action="suspend", by=staff("owner"), reason="测试")
    client = agent_client(seller)
    page = client.get(f"/m/messages/{conversation.pk}/").content.decode()
    assert "你的账号已被暂停" in page and 'data-testid="reply-form"' not in page
    answer = client.post(f"/m/messages/{conversation.pk}/", {"text": "扫码转账即可。"})
    assert answer.status_code == 403 and "你的账号已被暂停" in answer.content.decode()
    conversation.refresh_from_db()
    assert conversation.messages.count() == 1 and conversation.first_response_at is None


def test_staff_have_no_phone_inbox(seller, staff):
    client = Client()
    client.force_login(staff("owner"))
    assert client.get("/m/messages/").status_code in (302, 404)
