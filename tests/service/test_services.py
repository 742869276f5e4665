"""Customer service's services: a consumer's message opens (or continues) the conversation of the
shop and contact, a keyword auto-reply answers at once without counting as a human answer, the
seller or permitted staff answer (the first answer is the first response), the brand assigns."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from weishang.core.errors import BusinessError, Forbidden
from weishang.core.models import OutboxEvent
from weishang.service.models import AutoReply, Conversation, ConversationStatus, Message
from weishang.service.services import (
    auto_reply_for,
    conversation_assign,
    conversation_close,
    conversation_follow_up,
    conversation_reply,
    conversation_start,
)

pytestmark = pytest.mark.django_db


def test_a_message_opens_one_conversation_per_shop_and_contact(seller, other_seller):
    first = conversation_start(agent=seller, name="王女士", contact="139 1234 5601", text="你好")
    again = conversation_start(agent=seller, name="王女士", contact="+8613912345601", text="在吗")
    elsewhere = conversation_start(agent=other_seller, name="王女士", contact="13912345601", text="你好")
    assert first.pk == again.pk != elsewhere.pk
    assert first.contact == "13912345601" and len(first.token) >= 32 and first.token != elsewhere.token
    assert list(first.messages.values_list("text", "direction")) == [("你好", "in"), ("在吗", "in")]
    assert first.assignee is None and Conversation.objects.get(pk=first.pk).status == ConversationStatus.OPEN
    event = OutboxEvent.objects.filter(topic="service.message_received").order_by("pk").first()
    assert event.payload["agent"] == seller.pk and event.payload["url"] == f"/m/messages/{first.pk}/"


@pytest.mark.parametrize(
    ("name", "contact", "text", "field"),
    [
        ("", "13912345601", "你好", "name"),
        ("名" * 51, "13912345601", "你好", "name"),
        ("王", "12345", "你好", "contact"),
        ("王", "<script>", "你好", "contact"),
        ("王", "13912345601", "   ", "text"),
        ("王", "13912345601", "长" * 1001, "text"),
        ("王", "13912345601", "\x00\x01", "text"),
    ],
)
def test_hostile_or_missing_input_is_refused_on_its_field(seller, name, contact, text, field):
    with pytest.raises(BusinessError) as refused:
        conversation_start(agent=seller, name=name, contact=contact, text=text)
    assert refused.value.field == field
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_wechat_id_is_a_contact_too(seller):
    conversation = conversation_start(agent=seller, name="李", contact="li_xiansheng88", text="你好")
    assert conversation.contact == "li_xiansheng88"


def test_a_keyword_answers_at_once_and_is_no_human_first_response(seller):
    AutoReply.objects.create(keywords="发货，快递", answer="48 小时内发货。")
    AutoReply.objects.create(keywords="价格", answer="以店铺页为准。", active=False)
    assert auto_reply_for("请问什么时候发货？").answer == "48 小时内发货。"
    assert auto_reply_for("快递用哪家") is not None
    assert auto_reply_for("价格多少") is None  # inactive
    conversation = conversation_start(agent=seller, name="陈", contact="13912345603", text="今天下单什么时候发货？")
    out = conversation.messages.get(direction="out")
    assert out.automatic and out.sent_by is None and out.text == "48 小时内发货。"
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.status == ConversationStatus.OPEN


def test_the_first_human_answer_is_the_first_response(seller, clock):
    clock.freeze(datetime(2026, 11, 2, 9, 0))
    conversation = conversation_start(agent=seller, name="王", contact="13912345601", text="怎么付款？")
    clock.advance(timedelta(minutes=12))
    conversation_reply(conversation=conversation, text="扫码转账即可。", by=seller.user)
    clock.advance(timedelta(hours=1))
    conversation_reply(conversation=conversation, text="还有问题吗？", by=seller.user)
    conversation.refresh_from_db()
    assert conversation.first_response_at - conversation.first_message_at == timedelta(minutes=12)
    assert conversation.status == ConversationStatus.WAITING
    conversation_follow_up(conversation=conversation, text="好的谢谢")
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN  # the customer wrote again: it waits for us
    assert conversation.first_response_at - conversation.first_message_at == timedelta(minutes=12)


def test_only_the_seller_and_permitted_staff_answer(seller, other_seller, staff):
    conversation = conversation_start(agent=seller, name="王", contact="13912345601", text="你好")
    for stranger in (other_seller.user, staff("finance"), staff("warehouse"), staff("lecturer")):
        with pytest.raises(Forbidden):
            conversation_reply(conversation=conversation, text="你好", by=stranger)
    conversation_reply(conversation=conversation, text="您好", by=staff("operations"))
    conversation_reply(conversation=conversation, text="您好", by=staff("owner"))
    assert conversation.messages.filter(direction="out").count() == 2
    with pytest.raises(BusinessError):
        conversation_reply(conversation=conversation, text=" ", by=seller.user)
    conversation_close(conversation=conversation, by=seller.user)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED


def test_staff_assign_to_a_permitted_colleague_or_back_to_the_seller(seller, staff):
    conversation = conversation_start(agent=seller, name="王", contact="13912345601", text="你好")
    owner, operations, finance = staff("owner"), staff("operations"), staff("finance")
    assert conversation_assign(conversation=conversation, to=operations, by=owner).assignee == operations
    with pytest.raises(BusinessError):
        conversation_assign(conversation=conversation, to=finance, by=owner)
    with pytest.raises(Forbidden):
        conversation_assign(conversation=conversation, to=None, by=finance)
    with pytest.raises(Forbidden):
        conversation_assign(conversation=conversation, to=None, by=seller.user)
    assert conversation_assign(conversation=conversation, to=None, by=operations).assignee is None


def test_the_seller_is_told_of_a_customer_message(seller):
    from weishang.notifications.models import Notification
    from weishang.notifications.services import notifications_follow_events

    conversation = conversation_start(agent=seller, name="王女士", contact="13912345601", text="你好")
    notifications_follow_events()
    notice = Notification.objects.get(recipient=seller.user, kind="customer_message")
    assert notice.url == f"/m/messages/{conversation.pk}/" and notice.params["name"] == "王女士"


def test_a_closed_shop_takes_no_more_messages_on_an_old_thread(seller):
    """Review: a new message to a suspended or exited agent's shop was refused, but the same
    consumer could still write on their old thread's link, and the closed shop was notified."""
    from weishang.channel.models import Agent, AgentStatus

    conversation = conversation_start(agent=seller, name="王女士", contact="13912345601", text="你好")
    Agent.objects.filter(pk=seller.pk).update(status=AgentStatus.EXITED)
    events = OutboxEvent.objects.filter(topic="service.message_received").count()
    with pytest.raises(BusinessError):
        conversation_follow_up(conversation=Conversation.objects.get(pk=conversation.pk), text="还在吗")
    assert conversation.messages.count() == 1
    assert OutboxEvent.objects.filter(topic="service.message_received").count() == events


def test_a_suspended_seller_answers_nobody_and_writes_nothing(seller, staff):
    """A suspended agent's shop takes no messages; their answers on its old conversations were
    still written. They are refused, with why, and nothing changes; the brand's staff still answer."""
    from weishang.channel.services import agent_change_status

    conversation = conversation_start(agent=seller, name="王女士", contact="13912345601", text="你好")
    agent_change_status(agent=seller, action="suspend", by=staff("owner"), reason="测试")
    seller.user.refresh_from_db()
    with pytest.raises(Forbidden) as refused:
        conversation_reply(conversation=conversation, text="您好", by=seller.user)
    assert "suspended" in str(refused.value.message) or "已被暂停" in str(refused.value.message)
    with pytest.raises(Forbidden):
        conversation_close(conversation=conversation, by=seller.user)
    conversation.refresh_from_db()
    assert (conversation.messages.count(), conversation.status, conversation.first_response_at) == (
        1,
        ConversationStatus.OPEN,
        None,
    )
    conversation_reply(conversation=conversation, text="您好，我们来处理。", by=staff("operations"))
    assert conversation.messages.filter(direction="out").count() == 1
