"""Customer service for the demo brand: two quick replies, two keyword auto-replies (发货, 价格) and
three conversations on the 市代 login's shop — one answered by the seller, one waiting, one answered
only by the automatic reply. Written once."""

from __future__ import annotations

from weishang.channel.models import Agent
from weishang.service.models import AutoReply, Conversation, QuickReply
from weishang.service.services import conversation_reply, conversation_start

QUICK_REPLIES = [
    ("欢迎语", "您好，欢迎光临！我是您的专属顾问，有任何问题随时留言，看到后第一时间回复您。"),
    ("发货时间", "下单付款后 48 小时内发货，默认顺丰/中通，发货后会把单号发给您。"),
]
AUTO_REPLIES = [
    ("发货, 快递, 物流", "您好！付款后 48 小时内发货，发货后可在订单页查看物流单号。"),
    ("价格, 多少钱, 优惠", "您好！店铺页面上的价格就是零售价，正在进行的优惠券和限时抢购也都在店铺页面。"),
]


def service_demo(*, login_phone: str) -> None:
    if QuickReply.objects.exists() or Conversation.objects.exists():
        return
    for title, text in QUICK_REPLIES:
        QuickReply.objects.create(title=title, text=text)
    for keywords, answer in AUTO_REPLIES:
        AutoReply.objects.create(keywords=keywords, answer=answer)
    seller = Agent.objects.select_related("user").filter(user__phone=login_phone).first()
    if seller is None:
        return
    answered = conversation_start(
        agent=seller, name="王女士", contact="13912345601", text="请问怎么付款？可以微信转账吗？"
    )
    conversation_reply(
        conversation=answered, text="可以的，下单后页面会显示我的收款码，转账后上传截图就行。", by=seller.user
    )
    conversation_start(agent=seller, name="李先生", contact="li_xiansheng88", text="敏感肌可以用这款精华吗？")
    conversation_start(agent=seller, name="陈小姐", contact="13912345603", text="今天下单什么时候发货？")
