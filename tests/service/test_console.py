"""The console's 客服: owner and operations see the inbox with its response-time figures, answer
with the FAQ's suggestions and quick replies, and assign; finance, the warehouse and lecturers are
refused every page of it."""

from __future__ import annotations

import pytest
from django.test import Client

from weishang.service.models import AutoReply, ConversationStatus, QuickReply
from weishang.service.services import conversation_start

pytestmark = pytest.mark.django_db


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def conversation(seller):
    QuickReply.objects.create(title="欢迎语", text="您好，欢迎光临！")
    return conversation_start(agent=seller, name="王女士", contact="13912345601", text="请问怎么付款？")


@pytest.mark.parametrize("role", ["owner", "operations"])
def test_owner_and_operations_answer_and_assign(role, conversation, staff):
    me, colleague = staff(role), staff("operations")
    client = console(me)
    inbox = client.get("/console/service/conversation/").content.decode()
    assert 'data-testid="service-figures"' in inbox and "王女士" in inbox
    for days in ("7", "90", "abc", "-1", "99999999999999999999"):
        assert client.get("/console/service/conversation/", {"days": days}).status_code == 200
    page = client.get(f"/console/service/conversation/{conversation.pk}/change/").content.decode()
    assert "怎么付款？" in page and "收款码" in page and 'data-use="您好，欢迎光临！"' in page
    base = f"/console/service/conversation/{conversation.pk}"
    assert client.post(f"{base}/reply/", {"text": "扫码转账即可。"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WAITING and conversation.messages.last().sent_by == me
    assert client.post(f"{base}/assign/", {"assignee": str(colleague.pk)}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    for hostile in ("abc", "-1", "99999999999999999999", str(staff("finance").pk)):
        assert client.post(f"{base}/assign/", {"assignee": hostile}).status_code == 302
        conversation.refresh_from_db()
        assert conversation.assignee == colleague  # refused with a message, nothing changed
    assert client.post(f"{base}/assign/", {"assignee": ""}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert client.post(f"{base}/reply/", {"text": ""}).status_code == 302
    assert conversation.messages.count() == 2


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer"])
def test_other_roles_are_refused(role, conversation, staff):
    client = console(staff(role))
    base = f"/console/service/conversation/{conversation.pk}"
    assert client.get("/console/service/conversation/").status_code == 403
    assert client.get(f"{base}/change/").status_code in (302, 403)
    assert client.post(f"{base}/reply/", {"text": "你好"}).status_code == 403
    assert client.post(f"{base}/assign/", {"assignee": ""}).status_code == 403
    assert client.get("/console/service/autoreply/").status_code == 403
    assert conversation.messages.count() == 1


def test_the_roles_table_grants_answering_to_owner_and_operations_only():
    from security.matrix import perm  # the permission matrix's own reading of ROLES

    assert perm("service.reply_conversation") == frozenset({"owner", "operations"})


def test_auto_replies_need_a_keyword(staff):
    client = console(staff("operations"))
    refused = client.post("/console/service/autoreply/add/", {"keywords": " , ，", "answer": "好", "active": "on"})
    assert refused.status_code == 200 and not AutoReply.objects.exists()
    saved = client.post("/console/service/autoreply/add/", {"keywords": "发货", "answer": "好", "active": "on"})
    assert saved.status_code == 302
