"""Schemathesis against the live spec: every operation of /api/v1/openapi.json, called through the
WSGI app on the demo brand (loaded once for the module) with generated valid and invalid input,
as an agent (the demo 市代's device token) and as a brand integration (a key with every scope).

Each answer must be no 5xx, a documented status, the documented content type, and a body that
matches the documented schema for that status. Examples per operation are few and derandomized,
so that the run is the same every time and takes a minute or two."""

from __future__ import annotations

import json
import os
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.db.models import Q
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from weishang.api.scopes import SCOPES
from weishang.api.services import api_key_create, token_create

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DEMO_AGENTS = 200
CITY = "13800000004"  # the demo 市代: a team, orders to approve and fill, rewards
MAX_EXAMPLES = 12
# Operations that end the caller's session: each example gets a device token of its own.
SPENDS_TOKEN = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/auth/devices/{device_id}")}

SEEN: dict[str, Counter] = {}
COUNTS: Counter = Counter()

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo brand (``weishang demo --agents 200``) in a transaction kept open for the module
    and rolled back after it; each test runs in a savepoint inside it."""
    from weishang.channel.models import Agent
    from weishang.demo.services import demo_load

    # As Django's test client does: a request must not close the connection holding the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo_load(agents=DEMO_AGENTS)
            city = Agent.objects.select_related("user").get(user__phone=CITY)
            _token, secret = token_create(user=city.user, device="schemathesis")
            owner = get_user_model().objects.get(username="owner")  # shipments are recorded as done by the issuer
            _key, key = api_key_create(name="schemathesis", scopes=list(SCOPES), by=owner)
            yield {"city": city, "token": secret, "key": key, "real": real_ids(city)}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def real_ids(city) -> dict[str, list]:
    """Ids and codes of the demo's records that the 市代 (or a brand key) may act on."""
    from weishang.api.models import ApiToken
    from weishang.channel.models import Agent, Application
    from weishang.ledger.models import Withdrawal
    from weishang.rewards.models import SettlementRun
    from weishang.trade.models import Order, Payment

    mine = Order.objects.filter(Q(buyer=city) | Q(seller=city)).order_by("pk")
    return {
        "number": list(mine.values_list("number", flat=True)[:20]),
        "payments": [(p.order.number, p.pk) for p in Payment.objects.filter(order__seller=city)
                     .select_related("order").order_by("pk")[:10]],
        "application_id": list(Application.objects.order_by("pk").values_list("pk", flat=True)[:10]),
        "agent_id": list(Agent.objects.filter(Q(referrer=city) | Q(supplier=city) | Q(pk=city.pk))
                         .values_list("pk", flat=True)[:10]),
        "device_id": list(ApiToken.objects.filter(user=city.user).values_list("pk", flat=True)),
        "withdrawal_id": list(Withdrawal.objects.filter(agent=city).values_list("pk", flat=True)[:5]),
        "invite_code": [city.invite_code,
                        *Agent.objects.filter(supplier=city).values_list("invite_code", flat=True)[:3]],
        "period": list(SettlementRun.objects.values_list("period", flat=True)[:3]),
    }


def with_real_ids(case, real: dict[str, list]) -> None:
    """Every other example of an operation names a real record in its path instead of a generated
    one, so that the business rules behind the 404 are exercised too."""
    key = f"{case.method.upper()} {case.path}"
    COUNTS[key] += 1
    turn = COUNTS[key]
    if turn % 2 or not case.path_parameters:
        return
    params = case.path_parameters
    if "payment_id" in params and real["payments"]:
        params["number"], params["payment_id"] = real["payments"][turn // 2 % len(real["payments"])]
        return
    for name in list(params):
        values = real.get(name)
        if values:
            params[name] = values[turn // 2 % len(values)]


@pytest.fixture
def generous_limits(settings):
    settings.WEISHANG_API_RATES = {"caller": "100000/m", "login": "100000/m", "public": "100000/m"}


@pytest.mark.django_db
@schema.parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented(case, demo, db, generous_limits):
    token = demo["token"]
    if (case.method.upper(), case.path) in SPENDS_TOKEN:
        token = token_create(user=demo["city"].user, device="spent by the run")[1]
    with_real_ids(case, demo["real"])
    headers = {"Authorization": f"Bearer {token}", "X-Api-Key": demo["key"]}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    SEEN.setdefault(f"{case.method.upper()} {case.path}", Counter())[response.status_code] += 1


def teardown_module(module):
    """What the run saw, per operation and status (``WEISHANG_SCHEMATHESIS_REPORT=path`` to keep it)."""
    path = os.environ.get("WEISHANG_SCHEMATHESIS_REPORT")
    if path and SEEN:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({op: dict(sorted(c.items())) for op, c in sorted(SEEN.items())}, out, indent=1)
