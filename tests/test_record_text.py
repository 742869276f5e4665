"""Text written into records is in the brand's language, whoever wrote it."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_noop

from weishang.channel.models import AgentStatus
from weishang.core.text import record_text


def test_a_record_is_written_in_the_brands_language_whatever_the_writers():
    with translation.override("en"):
        assert record_text(gettext_noop("order cancelled")) == "订单已取消"


def test_parameters_fill_the_message_and_lazy_labels_follow_the_brands_language():
    with translation.override("en"):
        text = record_text(
            gettext_noop("automatic: supplier %(name)s is %(status)s"), name="王芳", status=AgentStatus.SUSPENDED.label
        )
    with translation.override("zh-hans"):
        chinese = str(AgentStatus.SUSPENDED.label)
    assert text == f"自动：发货上级 王芳 {chinese}"


def test_without_parameters_placeholders_are_left_for_the_caller():
    assert "%(number)s" in record_text("Withdrawal %(number)s paid")
