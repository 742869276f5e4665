"""The API keeps its contract under generated input: schemathesis's CLI (``st run``) against a live
server on the demo brand, over every operation of /api/v1/openapi.json, once per credential kind —
none, the demo 市代's device token, a brand key with every scope.

Each run sends random valid and invalid input (a fixed budget of examples per operation, a seed
that changes every run) and checks every answer: no 5xx, a documented status, the documented
content type and body schema, invalid input refused, valid input not refused as malformed. What
each check accepts is in schemathesis.toml at the root of the repository, with the reasons.

The seed is drawn once per run of the suite (tests/conftest.py), printed at the end of pytest's
output and in each test's; ``WEISHANG_SCHEMATHESIS_SEED=<seed>`` sends the same requests again (a
failure message gives the whole command). The server is pytest-django's ``live_server`` (a real
HTTP server in this process, on the test database), so the requests go through the whole stack —
CSRF, the transport middleware, Idempotency-Key, conditional GETs — as a client's would.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_started
from django.db.models import Q

from weishang.api.scopes import SCOPES
from weishang.api.services import api_key_create, token_create

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
SPEC_PATH = "/api/v1/openapi.json"

MAX_EXAMPLES = 20  # per operation and run: the budget (about a minute a run on two cores)
WORKERS = 2  # schemathesis's concurrent requests (the live server is threaded)
TIMEOUT = 600  # seconds: a run that takes longer has hung, and fails
DEMO_AGENTS = 60  # the smallest demo with every kind of record (as the browser tests load it)
CITY = "13800000004"  # the demo 市代: a team, orders to approve and fill, rewards, withdrawals
SPARE = "13800000005"  # the demo 特约 whose device tokens the revoking operations spend
SEED_ENV = "WEISHANG_SCHEMATHESIS_SEED"

# These end the caller's session (the token is revoked, or every token when the password changes).
# In the token run, each of their requests is sent with a fresh token of another agent, made by
# logging in just before it (tests/api/schemathesis_hooks.py), so that the rest of the run keeps
# its credential and these are still tested with a valid one.
REVOKING = {
    ("POST", "/api/v1/auth/logout"),
    ("DELETE", "/api/v1/auth/devices/{device_id}"),
    ("POST", "/api/v1/auth/password"),
}

GENEROUS_RATES = {"caller": "100000/m", "login": "100000/m", "public": "100000/m"}


def run_seed() -> int:
    """The suite's seed (tests/conftest.py draws it unless given); a new one when run otherwise."""
    value = os.environ.get(SEED_ENV)
    return int(value) if value else random.SystemRandom().randrange(2**31)


@pytest.fixture
def demo(live_server, transactional_db, settings):
    """The demo brand on the live server, the credentials of each kind, and the ids of real
    records for the generated requests to name."""
    from weishang.channel.models import Agent
    from weishang.demo import services as demo_services

    # Generous limits: the run sends thousands of requests from one address, many of them logins
    # with wrong passwords; a 429 would hide the answer the request itself gets.
    settings.WEISHANG_API_RATES = GENEROUS_RATES
    settings.AXES_FAILURE_LIMIT = settings.WEISHANG_LOGIN_IP_FAILURE_LIMIT = 100_000

    demo_services.demo_load(agents=DEMO_AGENTS)
    city = Agent.objects.select_related("user").get(user__phone=CITY)
    _token, token = token_create(user=city.user, device="schemathesis")
    owner = get_user_model().objects.get(username="owner")  # shipments are recorded as done by the issuer
    _key, key = api_key_create(name="schemathesis", scopes=list(SCOPES), by=owner)
    return SimpleNamespace(
        url=live_server.url,
        city=city,
        token=token,
        key=key,
        real=real_ids(city),
        spare=(SPARE, demo_services.AGENT_PASSWORD),
    )


def real_ids(city) -> dict[str, list]:
    """Ids and codes of demo records the 市代 (or a brand key, or the public) may act on, by
    dictionary (see BINDINGS): schemathesis puts one in about half of the generated paths, so that
    the business rules behind a 404 are exercised too. (No device ids: deleting the run's own device
    would revoke its token; the hooks name the fresh device instead.)"""
    from weishang.channel.models import Agent, Application
    from weishang.ledger.models import Withdrawal
    from weishang.rewards.models import SettlementRun
    from weishang.trade.models import Order, Payment, ReceivingAccount

    def numbers(orders):
        return list(orders.order_by("pk").values_list("number", flat=True)[:20])

    return {
        "number": numbers(Order.objects.filter(Q(buyer=city) | Q(seller=city))),
        "bought": numbers(Order.objects.filter(buyer=city)),
        "sold": numbers(Order.objects.filter(seller=city)),
        "payment_id": list(Payment.objects.filter(order__seller=city).order_by("pk").values_list("pk", flat=True)[:10]),
        "application_id": list(Application.objects.order_by("pk").values_list("pk", flat=True)[:10]),
        "agent_id": list(
            Agent.objects.filter(Q(referrer=city) | Q(supplier=city) | Q(pk=city.pk))
            .order_by("pk")
            .values_list("pk", flat=True)[:10]
        ),
        "withdrawal_id": list(Withdrawal.objects.filter(agent=city).order_by("pk").values_list("pk", flat=True)[:5]),
        "invite_code": [
            city.invite_code,
            *Agent.objects.filter(supplier=city).order_by("pk").values_list("invite_code", flat=True)[:3],
        ],
        "period": list(SettlementRun.objects.order_by("pk").values_list("period", flat=True)[:3]),
        "account_id": list(ReceivingAccount.objects.order_by("pk").values_list("pk", flat=True)[:5]),
    }


# Which dictionary of real ids each path parameter draws from: everywhere (the parameter's own
# name), and on the operations whose path matches (the orders the 市代 bought, the ones they sell).
OPERATION_BINDINGS = [(r"^/api/v1/(orders|pickups)/", "number", "bought"), (r"^/api/v1/fills/", "number", "sold")]
PATH_PARAMETERS = [
    "number",
    "payment_id",
    "application_id",
    "agent_id",
    "withdrawal_id",
    "invite_code",
    "period",
    "account_id",
]


def run_config(path: Path, real: dict[str, list]) -> Path:
    """schemathesis.toml as checked in, plus this run's real ids as dictionaries bound to the path
    parameters (about half of the generated values are replaced by one of them)."""

    def binding(dictionary: str) -> str:
        return f'{{ dictionary = "{dictionary}", probability = 0.5 }}'

    lines = [CONFIG.read_text(encoding="utf-8"), ""]
    for name, values in sorted(real.items()):
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines += ["[parameters]", *(f'"path.{name}" = {binding(name)}' for name in PATH_PARAMETERS if real.get(name)), ""]
    for regex, name, dictionary in OPERATION_BINDINGS:
        if real.get(dictionary):
            lines += [
                "[[operations]]",
                f"include-path-regex = {json.dumps(regex)}",
                f'parameters = {{ "path.{name}" = {binding(dictionary)} }}',
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def operations_in_spec() -> set[tuple[str, str]]:
    from weishang.api.urls import api

    spec = api.get_openapi_schema()
    return {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}


class Requests:
    """How many requests the live server received under /api/v1/ (it runs in this process)."""

    def __init__(self):
        self.count = 0

    def __call__(self, sender, environ=None, **kwargs):
        if environ is not None and environ.get("PATH_INFO", "").startswith("/api/v1/"):
            self.count += 1


class ServerErrors(logging.Handler):
    """The live server's logged errors with their tracebacks (it runs in this process): a failure
    message starts with them, so that a 500 seen once in CI says where it came from."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))

    def text(self) -> str:
        if not self.records:
            return ""
        return "the server logged:\n" + "\n".join(self.records[:3]) + "\n\n"


def schemathesis_run(
    demo, tmp_path, *, credential: str, headers: dict[str, str], env: dict[str, str], made_up_credentials: bool = False
):
    """``st run`` against the live server; fails with its output unless it passed."""
    seed = run_seed()
    reports = tmp_path / "reports"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(run_config(tmp_path / "schemathesis.toml", demo.real)),
        "run",
        demo.url + SPEC_PATH,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(seed),
        "--workers",
        str(WORKERS),
        "--report",
        "json",
        "--report-dir",
        str(reports),
        "--no-color",
        # With a credential, the run sends that one; without, it makes up tokens, keys and session
        # cookies (each must be a 401, never a 5xx).
        "--generation-with-security-parameters",
        "true" if made_up_credentials else "false",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]  # "tests/api/test_schemathesis.py::test_…"
    again = f"{SEED_ENV}={seed} .venv/bin/python -m pytest '{test}'"
    print(f"schemathesis ({credential}): seed {seed}\n  {shlex.join(command)}\n  again: {again}", flush=True)

    received = Requests()
    request_started.connect(received, weak=False)
    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": os.pathsep.join(sys.path)},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{errors.text()}schemathesis ({credential}, seed {seed}) ran over {TIMEOUT} s\n{exc.stdout or ''}\n"
            f"{exc.stderr or ''}\nagain: {again}"
        )
    finally:
        request_started.disconnect(received)
        logging.getLogger().removeHandler(errors)
    output = f"{done.stdout}\n{done.stderr}"
    report_files = sorted(reports.glob("*.json"))
    if done.returncode != 0 or not report_files:
        pytest.fail(
            f"{errors.text()}schemathesis ({credential}, seed {seed}) exited with {done.returncode}\n{output}\n"
            f"command: {shlex.join(command)}\nagain: {again}",
            pytrace=False,
        )
    report = json.loads(report_files[-1].read_text(encoding="utf-8"))
    print(
        f"schemathesis ({credential}): {report.get('test_cases', {}).get('generated')} cases over "
        f"{report.get('operations', {}).get('tested')} operations, {received.count} requests reached the server",
        flush=True,
    )
    return SimpleNamespace(seed=seed, report=report, output=output, received=received.count, again=again)


def assert_everything_tested(run):
    """The run got the spec from the live server and sent generated requests to every operation."""
    expected = len(operations_in_spec())
    report = run.report
    summary = f"seed {run.seed}; again: {run.again}\n{run.output}"
    assert report["seed"] == run.seed and report["complete"] and not report["errors"], summary
    assert (report["operations"]["total"], report["operations"]["tested"]) == (expected, expected), summary
    # At least one request per operation reached the live server (and schemathesis counted at least
    # as many cases as operations): a run that skipped everything cannot pass.
    assert report["test_cases"]["generated"] >= expected and run.received >= expected, summary


def test_no_credential(demo, tmp_path):
    run = schemathesis_run(demo, tmp_path, credential="no credential", headers={}, env={}, made_up_credentials=True)
    assert_everything_tested(run)


def test_agent_device_token(demo, tmp_path):
    from weishang.api.models import ApiToken

    spare_phone, spare_password = demo.spare
    # The hooks send the token (and spend the spare agent's tokens on the revoking operations).
    run = schemathesis_run(
        demo,
        tmp_path,
        credential="agent token",
        headers={},
        env={
            "WEISHANG_ST_TOKEN": demo.token,
            "WEISHANG_ST_BASE_URL": demo.url,
            "WEISHANG_ST_SPARE_LOGIN": spare_phone,
            "WEISHANG_ST_SPARE_PASSWORD": spare_password,
        },
    )
    assert_everything_tested(run)
    # The revoking operations spent the spare agent's tokens, never the run's own.
    assert ApiToken.objects.filter(user__phone=spare_phone).count() >= len(REVOKING), run.again
    assert ApiToken.objects.filter(user=demo.city.user, revoked_at__isnull=True).exists(), run.again


def test_brand_key(demo, tmp_path):
    run = schemathesis_run(demo, tmp_path, credential="brand key", headers={"X-Api-Key": demo.key}, env={})
    assert_everything_tested(run)


def test_a_run_that_reaches_no_server_fails(tmp_path):
    """The harness itself: when nothing answers (or schemathesis stops on an error), the test fails
    with schemathesis's output; it never passes for want of requests."""
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nowhere = SimpleNamespace(url=f"http://127.0.0.1:{port}", real={})
    with pytest.raises(pytest.fail.Exception, match=r"exited with [1-9][\s\S]*Connection refused[\s\S]*again: "):
        schemathesis_run(nowhere, tmp_path, credential="no server", headers={}, env={})
