"""Live campaigns (M10) for the agent's app: the campaigns running now that an order of mine may
take part in, with their offers in words and the seats left. An order takes part by naming the
campaign's code in ``POST /orders`` (``campaign``)."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import date
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema

from weishang.api.errors import ERRORS
from weishang.api.security import AGENT
from weishang.campaigns import selectors
from weishang.channel.models import AgentStatus
from weishang.channel.selectors import require_agent

router = Router(tags=["campaigns"])


class CampaignQuery(Schema):
    kind: Literal["restock", "entry"] | None = Field(
        None, description="default: entry for an applicant who owes an entry order, else restock"
    )


class CampaignOut(Schema):
    code: str = Field(..., description="name it as campaign in POST /orders")
    name: str
    starts: date
    ends: date
    offers: list[str] = Field(..., description="the offers for me, in words")
    entry_amount: Decimal | None = Field(..., description="my entry order's reduced minimum")
    min_restock_qty: int | None = Field(..., description="my reduced restock minimum (units)")
    gift: str | None = Field(..., description="the gift with a qualifying order")
    seats_left: int | None = Field(..., description="null: no limit")
    my_seats: int
    open: bool = Field(..., description="a seat is left for me")


@router.get(
    "/campaigns", response={200: list[CampaignOut], **ERRORS}, auth=AGENT, summary="Campaigns I can take part in"
)
def campaigns_open(request, query: Query[CampaignQuery]):
    me = require_agent(request.user)
    kind = query.kind or ("entry" if me.status == AgentStatus.APPLICANT and me.entry_due > 0 else "restock")
    return [
        CampaignOut(
            code=offer.campaign.code,
            name=offer.campaign.name,
            starts=offer.campaign.starts,
            ends=offer.campaign.ends,
            offers=selectors.offer_words(offer),
            entry_amount=offer.entry_amount,
            min_restock_qty=offer.min_restock_qty,
            gift=offer.gift_name or None,
            seats_left=offer.campaign.seats_left,
            my_seats=offer.mine,
            open=offer.open,
        )
        for offer in selectors.offers_for(agent=me, kind=kind)
    ]
