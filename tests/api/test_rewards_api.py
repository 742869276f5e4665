"""My rewards through the API, as an integrator checks them: an order completes under the tiered
plan and the reward line appears with its amount, rule and explanation in the caller's language;
the figures move as it is released and withdrawn; refused withdrawals say why on the amount, in
Chinese or English, and change nothing; a retried withdrawal withdraws once; upgrade progress shows
the figures that decide; nobody reaches another agent's lines or withdrawals."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema_rs
import pytest
from django.utils import timezone

from weishang.api.services import token_create
from weishang.ledger.models import Account, Withdrawal
from weishang.ledger.services import withdrawal_approve, withdrawal_mark_paid
from weishang.rewards.models import RewardLine, RewardStatus
from weishang.rewards.selectors import upgrade_progress_of
from weishang.rewards.services import reward_withdraw, rewards_release

from .conftest import assert_matches_spec, error_of

# The reward fixtures (demo catalog, the tiered plan activated, order short-hands) live with the
# rewards tests; load them here under their own module name.
_spec = importlib.util.spec_from_file_location(
    "rewards_conftest_api", Path(__file__).resolve().parents[1] / "rewards" / "conftest.py"
)
_rewards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewards)
catalog, tiered, r = _rewards.catalog, _rewards.tiered, _rewards.r


def token_of(agent) -> str:
    return token_create(user=agent.user, device="测试")[1]


def snapshot() -> dict:
    """What a refused withdrawal must leave as it was."""
    return {
        "withdrawals": sorted(Withdrawal.objects.values_list("pk", "status", "amount")),
        "balances": sorted(Account.objects.values_list("pk", "balance")),
    }


@pytest.fixture
def chain(tiered, make_agent, catalog, r):
    """省代 周强 supplies three 市代 in a referral line 王芳 → 李娜 → 张伟 (peer referral rewards:
    5 % to the referrer, 2 % to the one above)."""
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    r.receive(p0, catalog.skus["GLOW-30ML"], 500)
    r.process()
    return p0, c1, c2, c3


@pytest.fixture
def released(chain, r):
    """张伟 orders 20 × ¥170 = ¥3,400: 李娜 earns ¥170 (5 %), 王芳 ¥68 (2 %); released after 7 days."""
    _p0, _c1, _c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 20)])
    r.process()
    assert rewards_release(now=order.completed_at + timedelta(days=7)) == 2
    return order


@pytest.fixture
def finance(django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("finance1", password="pass-word-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ledger", codename="change_withdrawal"))
    return django_user_model.objects.get(pk=user.pk)


ACCOUNT = {"method": "alipay", "account_name": "李娜", "account_no": "13900001111"}


# --- the reward line and its explanation --------------------------------------------------------


def test_a_completed_order_gives_a_frozen_line_with_its_explanation_in_my_language(api, chain, r):
    _p0, c1, c2, c3 = chain
    mine = api(token=token_of(c2))
    assert mine.get("/rewards").json()["frozen"] == "0.00"
    assert mine.get("/rewards/lines").json()["results"] == []

    order = r.complete(c3, [("GLOW-30ML", 20)])
    r.process()
    line = RewardLine.objects.get(order=order, beneficiary=c2)

    response = mine.get("/rewards")
    assert_matches_spec(response, "get", "/rewards")
    summary = response.json()
    assert summary == {
        "frozen": "170.00",
        "available": "0.00",
        "in_transit": "0.00",
        "withdrawn": "0.00",
        "withdrawal_fees": "0.00",
        "margin": "0.00",
        "withdraw_minimum": "100.00",
        "withdraw_fee_rate": "0.006",
    }
    response = mine.get("/rewards/lines")
    assert_matches_spec(response, "get", "/rewards/lines")
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    [row] = body["results"]
    assert row["id"] == line.pk and row["amount"] == "170.00" and row["kind"] == "reward"
    assert row["rule_name"] == "平级推荐奖" and row["rule_id"] == line.rule_id
    assert row["status"] == "frozen" and row["order_number"] == order.number and row["generation"] == 1
    assert line.explanation_zh and row["explanation"] == line.explanation_zh  # Chinese by default
    assert row["release_at"] and row["period"] == ""

    english = api(token=token_of(c2), language="en").get("/rewards/lines").json()["results"][0]
    assert line.explanation_en and english["explanation"] == line.explanation_en

    # 王芳, two generations up, sees her 2 % and only that.
    theirs = api(token=token_of(c1)).get("/rewards/lines").json()["results"]
    assert [(x["amount"], x["generation"]) for x in theirs] == [("68.00", 2)]
    assert api(token=token_of(c1)).get("/rewards").json()["frozen"] == "68.00"


def test_my_margin_is_a_line_of_its_own_kind(api, chain, r):
    p0, _c1, _c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 10)])  # the supplier's differential: 10 × (170 − 140)
    r.process()
    client = api(token=token_of(p0), language="en")
    assert client.get("/rewards").json()["margin"] == "300.00"
    [row] = client.get("/rewards/lines", {"kind": "margin"}).json()["results"]
    assert (row["amount"], row["rule_name"], row["status"], row["order_number"]) == (
        "300.00",
        "Margin",
        "recorded",
        order.number,
    )
    assert client.get("/rewards/lines", {"kind": "reward"}).json()["results"] == []


def test_lines_filter_by_status_and_day(api, chain, released, r):
    _p0, _c1, c2, c3 = chain
    later = r.complete(c3, [("GLOW-30ML", 10)])  # ¥85 to 李娜, still frozen
    r.process()
    client = api(token=token_of(c2))
    frozen = client.get("/rewards/lines", {"status": "frozen"}).json()["results"]
    assert [(x["amount"], x["order_number"]) for x in frozen] == [("85.00", later.number)]
    available = client.get("/rewards/lines", {"status": "available"}).json()["results"]
    assert [(x["amount"], x["order_number"]) for x in available] == [("170.00", released.number)]
    today = timezone.localdate()
    assert len(client.get("/rewards/lines", {"created_after": today.isoformat()}).json()["results"]) == 2
    assert client.get("/rewards/lines", {"created_before": today.isoformat()}).json()["results"] == []
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len(client.get("/rewards/lines", {"created_before": tomorrow}).json()["results"]) == 2
    # Far-away days and unknown values are answers, not failures.
    assert (
        client.get("/rewards/lines", {"created_after": "0001-01-01", "created_before": "9999-12-31"}).status_code == 200
    )
    bad = client.get("/rewards/lines", {"status": "paid"})
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["status"]
    assert_matches_spec(bad, "get", "/rewards/lines")
    bad = client.get("/rewards/lines", {"created_after": "yesterday"})
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["created_after"]


def test_reward_lines_walk_in_pages_newest_first(api, chain, r):
    _p0, _c1, c2, c3 = chain
    orders = [r.complete(c3, [("GLOW-30ML", 5)]) for _ in range(23)]
    r.process()
    client = api(token=token_of(c2))
    first = client.get("/rewards/lines", {"page_size": 20}).json()
    assert [x["order_number"] for x in first["results"]] == [o.number for o in reversed(orders)][:20]
    assert first["next"] and first["previous"] is None
    second = client.get(first["next"].split("/api/v1", 1)[1]).json()
    assert [x["order_number"] for x in second["results"]] == [o.number for o in reversed(orders[:3])]
    assert second["next"] is None and second["previous"]


def test_the_summary_answers_not_modified_while_nothing_changed(api, chain, released):
    client = api(token=token_of(chain[2]))
    first = client.get("/rewards")
    assert first.status_code == 200 and first["ETag"]
    again = client.get("/rewards", **{"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    reward_withdraw(agent=chain[2], amount="150", by=chain[2].user, **ACCOUNT)
    changed = client.get("/rewards", **{"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed.json()["in_transit"] == "150.00"


# --- withdrawals --------------------------------------------------------------------------------


def test_withdraw_then_finance_pays(api, chain, released, finance, r):
    _p0, _c1, c2, _c3 = chain
    client = api(token=token_of(c2), language="en")
    assert client.get("/rewards").json()["available"] == "170.00"
    response = client.post("/withdrawals", {"amount": "170", **ACCOUNT})
    assert response.status_code == 201
    assert_matches_spec(response, "post", "/withdrawals")
    body = response.json()
    withdrawal = Withdrawal.objects.get(agent=c2)
    assert body["id"] == withdrawal.pk and body["number"] == withdrawal.number
    assert (body["amount"], body["fee_rate"], body["fee"], body["net"]) == ("170.00", "0.0060", "1.02", "168.98")
    assert body["status"] == "requested" and body["method"] == "alipay"
    assert body["account_no_masked"] != "13900001111" and "13900001111" not in response.content.decode()
    figures = client.get("/rewards").json()
    assert (figures["available"], figures["in_transit"]) == ("0.00", "170.00")

    one, listed = client.get(f"/withdrawals/{withdrawal.pk}"), client.get("/withdrawals")
    assert one.json() == body and listed.json()["results"] == [body]
    assert_matches_spec(one, "get", "/withdrawals/{withdrawal_id}")
    assert_matches_spec(listed, "get", "/withdrawals")

    withdrawal_approve(withdrawal=withdrawal, by=finance)
    withdrawal_mark_paid(withdrawal=withdrawal, by=finance, reference="ALI-1")
    assert client.get(f"/withdrawals/{withdrawal.pk}").json()["status"] == "paid"
    assert client.get("/withdrawals", {"status": "paid"}).json()["results"][0]["id"] == withdrawal.pk
    assert client.get("/withdrawals", {"status": "requested"}).json()["results"] == []
    figures = client.get("/rewards").json()
    assert (figures["withdrawn"], figures["withdrawal_fees"], figures["in_transit"]) == ("168.98", "1.02", "0.00")
    assert r.verify() == []


def test_a_retried_withdrawal_withdraws_once(api, chain, released):
    _p0, _c1, c2, _c3 = chain
    client = api(token=token_of(c2))
    key = str(uuid.uuid4())
    first = client.post("/withdrawals", {"amount": "150", **ACCOUNT}, **{"Idempotency-Key": key})
    again = client.post("/withdrawals", {"amount": "150", **ACCOUNT}, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Withdrawal.objects.filter(agent=c2).count() == 1
    assert client.get("/rewards").json()["available"] == "20.00"
    # A new key is a new request: there is not enough left for it.
    other = client.post("/withdrawals", {"amount": "150", **ACCOUNT}, **{"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 409 and error_of(other)["code"] == "insufficient_funds"
    assert Withdrawal.objects.filter(agent=c2).count() == 1


REFUSED = {
    # case: (change, status, code, field, Chinese, English)
    "below the minimum": (
        {"amount": "99"},
        400,
        "invalid",
        "amount",
        "最低提现金额为 ¥100.00",
        "The smallest withdrawal is ¥100.00.",
    ),
    "more than available": (
        {"amount": "171"},
        409,
        "insufficient_funds",
        "amount",
        "171",
        "You have ¥170.00 available to withdraw; ¥171.00 was asked for.",
    ),
    "zero": ({"amount": "0"}, 400, "invalid", "amount", "", "Enter an amount above zero."),
    "bank card without its bank": (
        {"method": "bank", "account_no": "6222020200112233445"},
        400,
        "invalid",
        "bank_name",
        "",
        "bank's name",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_withdrawals_say_why_on_the_field_in_my_language_and_change_nothing(api, chain, released, case):
    _p0, _c1, c2, _c3 = chain
    change, status, code, field, chinese, english = REFUSED[case]
    before = snapshot()
    data = {"amount": "150", **ACCOUNT, **change}
    zh = api(token=token_of(c2)).post("/withdrawals", data)
    assert zh.status_code == status
    assert_matches_spec(zh, "post", "/withdrawals")
    error = error_of(zh)
    assert error["code"] == code and error["fields"] == {field: [error["message"]]}
    assert chinese in error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    en = api(token=token_of(c2), language="en").post("/withdrawals", data)
    assert en.status_code == status and english in error_of(en)["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "abc", **ACCOUNT}, "amount"),
        ({"amount": "100.001", **ACCOUNT}, "amount"),
        ({"amount": 150, **ACCOUNT}, "amount"),  # money is a string, never a JSON number
        ({"amount": "150", **ACCOUNT, "method": "paypal"}, "method"),
        ({"amount": "150", "method": "alipay", "account_name": "李娜"}, "account_no"),
        ({"amount": "150", **ACCOUNT, "account_no": "1" * 41}, "account_no"),
    ],
)
def test_malformed_withdrawals_are_422_on_the_field(api, chain, released, body, field):
    before = snapshot()
    response = api(token=token_of(chain[2])).post("/withdrawals", body)
    assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    assert_matches_spec(response, "post", "/withdrawals")
    assert snapshot() == before


AMOUNTS = [
    "150",
    "150.5",
    "150.50",
    "0150",
    150,
    150.5,
    "-150",
    "+150",
    " 150",
    "150 ",
    "1e2",
    "150.",
    ".5",
    "150.505",
    "１５０",
    "12345678901",
    "123456789012",
    "",
    None,
]


def test_a_withdrawal_amount_is_what_the_spec_says(api, chain, released):
    """The spec's ``amount`` (a string of up to 11 digits and 2 decimals) is exactly what the server
    takes: every form the spec allows is accepted (201, or 400/409 from the rules), every other one
    is a 422 on ``amount``."""
    _p0, _c1, c2, _c3 = chain
    client = api(token=token_of(c2))
    spec = client.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["WithdrawalIn"]["properties"]["amount"]
    assert schema["type"] == "string" and schema["pattern"] == r"^[0-9]{1,11}(\.[0-9]{1,2})?$"
    validator = jsonschema_rs.Draft202012Validator(schema)
    for amount in AMOUNTS:
        response = client.post("/withdrawals", {"amount": amount, **ACCOUNT})
        fields = error_of(response)["fields"] if response.status_code >= 400 else {}
        refused_as_malformed = response.status_code == 422 and "amount" in fields
        assert refused_as_malformed != validator.is_valid(amount), (amount, response.status_code, fields)
        assert_matches_spec(response, "post", "/withdrawals")
    assert Withdrawal.objects.get(agent=c2).amount == Decimal("150")  # "150" went through; the rest had no funds


def test_nobody_reaches_another_agents_withdrawal_or_lines(api, chain, released, make_agent):
    _p0, c1, c2, _c3 = chain
    withdrawal = reward_withdraw(agent=c2, amount="150", by=c2.user, **ACCOUNT)
    outsider = api(token=token_of(make_agent("city")))
    for client in (outsider, api(token=token_of(c1))):  # a stranger, and 李娜's own referrer
        response = client.get(f"/withdrawals/{withdrawal.pk}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert_matches_spec(response, "get", "/withdrawals/{withdrawal_id}")
        assert client.get("/withdrawals").json()["results"] == []
        assert all(x["amount"] != "170.00" for x in client.get("/rewards/lines").json()["results"])
    assert api(token=token_of(c2)).get("/withdrawals/999999").status_code == 404
    assert api().get("/rewards").status_code == 401
    withdrawal.refresh_from_db()
    assert withdrawal.status == "requested"


def test_staff_without_an_agent_has_no_rewards(api, django_user_model, db):
    user = django_user_model.objects.create_user("ops1", password="pass-word-1", is_staff=True)
    client = api(token=token_create(user=user)[1])
    for path in ("/rewards", "/rewards/lines", "/withdrawals", "/progress"):
        response = client.get(path)
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


# --- upgrade progress ---------------------------------------------------------------------------


def test_progress_shows_each_condition_towards_the_next_level(api, chain, released):
    _p0, _c1, _c2, c3 = chain  # 张伟 (市代) bought ¥3,400
    response = api(token=token_of(c3), language="en").get("/progress")
    assert_matches_spec(response, "get", "/progress")
    body = response.json()
    assert body["plan"].startswith("焕颜 层级代理制度") and body["level"] == "city" and body["level_name"] == "市代"
    assert body["top"] is False and (body["next_level"], body["next_level_name"]) == ("province", "省代")
    first = body["rules"][0]
    assert (first["to_level"], first["mode"], first["met"], first["by_upgrade_order"]) == (
        "province",
        "any",
        False,
        True,
    )
    assert Decimal(first["top_up"]) == Decimal("4000")  # 省代 6,000 − 市代 2,000
    conditions = {c["key"]: c for c in first["conditions"]}
    purchase = conditions["cumulative_purchase"]
    assert (Decimal(purchase["target"]), Decimal(purchase["current"]), Decimal(purchase["remaining"])) == (
        Decimal("6000"),
        Decimal("3400"),
        Decimal("2600"),
    )
    assert purchase["percent"] == 56 and purchase["met"] is False and purchase["money"] is True
    assert purchase["text"] == "¥3,400 / ¥6,000" and purchase["label"] == "My purchases in all"
    referrals = conditions["same_level_referrals"]
    assert (Decimal(referrals["current"]), referrals["money"], referrals["text"]) == (Decimal("0"), False, "0 / 3")
    assert [rule["to_level"] for rule in body["rules"]] == ["province", "general", "partner"]
    # The figures are the ones the page shows (the engine's own checks).
    page = upgrade_progress_of(agent=c3)
    assert [[c.current for c in rule.conditions] for rule in page.progress.rules] == [
        [Decimal(c["current"]) for c in rule["conditions"]] for rule in body["rules"]
    ]


def test_progress_without_a_plan_says_so(api, make_agent):
    body = api(token=token_of(make_agent("city"))).get("/progress").json()
    assert body == {
        "plan": None,
        "level": "city",
        "level_name": "市代",
        "top": False,
        "next_level": None,
        "next_level_name": None,
        "rules": [],
    }


def test_released_line_is_available_in_the_list(api, chain, released):
    rows = api(token=token_of(chain[2])).get("/rewards/lines").json()["results"]
    assert [(x["amount"], x["status"]) for x in rows] == [("170.00", RewardStatus.AVAILABLE)]


@pytest.mark.parametrize(
    "field, value", [("account_name", "李\x00娜"), ("account_no", "\ud800"), ("bank_name", "\x00")]
)
def test_text_no_database_can_store_is_a_422_not_a_500(api, chain, released, field, value):
    before = snapshot()
    response = api(token=token_of(chain[2])).post("/withdrawals", {"amount": "150", **ACCOUNT, field: value})
    assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]
    assert snapshot() == before
