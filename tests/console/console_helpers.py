"""Helpers shared by the console tests (imported by name: the test directory is on sys.path)."""

from __future__ import annotations

import io
import itertools
from decimal import Decimal
from html.parser import HTMLParser

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from weishang.ledger import services as ledger
from weishang.ledger.models import Purpose
from weishang.trade import services as trade

_seq = itertools.count(1)


def D(value) -> Decimal:
    return Decimal(str(value))


def screenshot() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("transfer.png", buffer.getvalue(), content_type="image/png")


def company_transfer(buyer, sku, units: int, *, by):
    """A restock order the company fills, approved and its transfer confirmed by ``by`` (the owner)."""
    order = trade.order_submit(buyer=buyer, lines=[(sku, units)], by=buyer.user)
    assert order.seller is None
    trade.order_approve(order=order, by=by)
    payment = trade.payment_submit_transfer(order=order, by=buyer.user, screenshot=screenshot(), reference="T")
    trade.payment_confirm(payment=payment, by=by)
    order.refresh_from_db()
    return order


def topup(agent, amount, *, by):
    """A wallet top-up by transfer, confirmed by finance."""
    payment = trade.wallet_topup_submit(agent=agent, by=agent.user, amount=D(amount), screenshot=screenshot())
    return trade.payment_confirm(payment=payment, by=by)


def give_rewards(agent, amount, purpose=Purpose.AGENT_REWARDS_AVAILABLE):
    """Rewards credited to the agent (paid for by the brand's reward expense)."""
    return ledger.journal_post(
        lines=[
            ledger.debit(ledger.account_for(owner=None, purpose=Purpose.BRAND_REWARD_EXPENSE), D(amount)),
            ledger.credit(ledger.account_for(owner=agent, purpose=purpose), D(amount)),
        ],
        memo="reward",
        reference=f"reward:test{next(_seq)}",
        kind="reward",
    )


def withdraw(agent, amount, account_no: str = "6222020200112233445"):
    return ledger.withdrawal_request(
        agent=agent,
        amount=D(amount),
        method="bank",
        account_name=agent.real_name,
        account_no=account_no,
        bank_name="工商银行",
        by=agent.user,
        fee_rate=D("0"),
        minimum=D("1"),
    )


# --- reading pages --------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict):
        self.tag, self.attrs, self.children, self.parts = tag, attrs, [], []

    @property
    def text(self) -> str:
        return " ".join(" ".join(p if isinstance(p, str) else p.text for p in self.parts).split())

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(
                child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()
            ):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}> in the page"
        return found[0]

    def links(self) -> list[tuple[str, str]]:
        return [(a.text, a.attrs.get("href", "")) for a in self.find_all("a")]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs})
        self.stack[-1].children.append(node)
        self.stack[-1].parts.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].parts.append(data)


def page(response) -> Node:
    """The response's HTML as a small tree (find, find_all, text, links)."""
    builder = _Builder()
    builder.feed(response.content.decode())
    return builder.root
