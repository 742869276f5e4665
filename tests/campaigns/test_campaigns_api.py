"""Campaigns through the agent's API: the running campaigns my order may take part in, an order
that names one (its gift line in the answer), and the refusals a client gets as field errors."""

from __future__ import annotations

from tests.api.conftest import Api, assert_matches_spec, error_of
from weishang.api.services import token_create
from weishang.campaigns.models import Campaign
from weishang.trade.models import Order


def client_for(agent, language="zh-hans"):
    _token, secret = token_create(user=agent.user, device="测试手机")
    return Api(token=secret, language=language)


def test_an_agent_lists_the_campaigns_and_orders_through_one(running, make_agent):
    running(seats=1)
    agent = make_agent("city")
    api = client_for(agent)
    listed = api.get("/campaigns")
    assert listed.status_code == 200
    assert_matches_spec(listed, "get", "/campaigns")
    [row] = listed.json()
    assert (row["code"], row["seats_left"], row["open"], row["min_restock_qty"]) == ("kaiye", 1, True, 2)
    assert row["gift"] == "焕颜补水面膜 5片装" and any("2 件" in words for words in row["offers"])
    created = api.post("/orders", {"lines": [{"sku": "GLOW-30ML", "quantity": 3}], "campaign": "kaiye"})
    assert created.status_code == 201, created.content
    assert_matches_spec(created, "post", "/orders")
    lines = {(line["sku"], line["gift"]): (line["quantity"], line["amount"]) for line in created.json()["lines"]}
    assert lines == {("GLOW-30ML", False): (3, "510.00"), ("GLOW-MASK5", True): (1, "0.00")}
    assert api.get("/campaigns").json()[0]["open"] is False


def test_refusals_are_field_errors_in_the_clients_language_and_change_nothing(running, make_agent):
    running(seats=1)
    first = make_agent("city")
    assert client_for(first).post("/orders", {"lines": [{"sku": "GLOW-30ML", "quantity": 3}], "campaign": "kaiye"})
    late = make_agent("city")
    full = client_for(late).post("/orders", {"lines": [{"sku": "GLOW-30ML", "quantity": 3}], "campaign": "kaiye"})
    assert full.status_code == 409
    error = error_of(full)
    assert error["code"] == "campaign_full" and "名额" in error["fields"]["campaign"][0]
    english = client_for(late, "en").post(
        "/orders", {"lines": [{"sku": "GLOW-30ML", "quantity": 3}], "campaign": "kaiye"}
    )
    assert "full" in error_of(english)["fields"]["campaign"][0]
    for hostile in ("nope", "kaiye' OR 1=1 --", "../../etc", "活动"):
        answer = client_for(late).post("/orders", {"lines": [{"sku": "GLOW-30ML", "quantity": 3}], "campaign": hostile})
        assert answer.status_code in (400, 404, 422), (hostile, answer.content)
        assert "campaign" in error_of(answer)["fields"] or answer.status_code == 422
    assert not Order.objects.filter(buyer=late).exists()
    assert Campaign.objects.get().seats_taken == 1
