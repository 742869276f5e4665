#!/usr/bin/env python
"""Load over HTTP (M13): the production server (``weishang serve --prod``, gunicorn) on loopback,
against SQLite and PostgreSQL, driven by client threads as agents' phones and mini-programs drive it.

Two phases, each bounded in time (``--duration`` seconds):

- **placed**: clients place orders (``POST /api/v1/orders`` with an ``Idempotency-Key``) as random
  buyers of a generated channel, as fast as the server answers;
- **completed**: each client takes a buyer and the buyer's supplier through the whole path —
  submit, approve (``/fills/{n}/approve``), pay from the wallet, fill from cloud stock — and every
  fourth order reads the seller's home, team and rewards pages (``/m/``, ``/m/team/``,
  ``/m/rewards/``) with a browser session. A tenth of the sellers have stock for only a few orders,
  so fills race for the last units and some are refused (409): that is where an oversell would show.

Before each phase the generated devices are marked as in use (``devices_in_use``: a phone that
orders has used its token within the last five minutes), unless ``--cold-devices``.
``--queue-log`` (SQLite) also prints how the writers' queue was used: each write transaction's wait,
how long it held the write lock, and the share of the phase the lock was held. ``--floor`` also
runs, last, a phase of the cheapest authenticated API read (``GET /api/v1/notifications/unread``: the
device token, one count, the answer): the server's CPU per request there is the floor under every
API request's cost, against which the order steps' own work is measured.

It prints requests per second, p50 and p99 per endpoint, the errors by status, and afterwards checks
on the database: ``weishang ledger verify`` and ``weishang stock verify`` clean, no stock level
below zero, every order the server said it created exists once, every fill it confirmed is
completed. A request is retried with the same Idempotency-Key on a connection error or a 503.

``--outbox deferred`` (the default) serves with ``WEISHANG_OUTBOX_INLINE=0``, as production does
when ``weishang worker`` follows the outbox, and after the timed phases :func:`drain_outbox` runs
``weishang worker --once`` until the outbox is read, before the checks; ``--outbox inline`` runs the
consumers in each request after its commit. Each phase also reports the CPU the server (gunicorn
and its workers), the client (this process) and the whole machine used, in cores.
``--compare gunicorn:4x4,granian:2x4,…`` runs several servers (``--server granian`` starts granian's
WSGI server as ``serve --prod`` starts gunicorn; granian is not in requirements/lock.txt:
``.venv/bin/pip install granian==2.8.7`` to compare) on the same data, ``--repeat`` rounds interleaved,
and prints the medians. ``bench/load_profile.py`` counts the statements and CPU of each request in
process.

Django's settings are read once per process, so each backend runs in a subprocess of this script
(``--database-url``). Usage::

    .venv/bin/python bench/load.py                        # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/load.py --backend sqlite --duration 10 --agents 2000

The SQLite database is ``var/bench/load/load.sqlite3``; the PostgreSQL database
``weishang_bench_load`` (dropped and re-created). Results: ``var/bench/load-<backend>.json``.
``tests/load/test_load_short.py`` runs a short form (``run_load``) in the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
PG_DB = "weishang_bench_load"
SKU_CODE = "GLOW-30ML"
WEISHANG = [sys.executable, "-m", "weishang.cli"]
# Targets on two cores (M13).
TARGET_PLACED_PER_S = 150.0
TARGET_PLACED_P99_MS = 300.0
TARGET_COMPLETED_PER_S = 100.0


# --- the client ------------------------------------------------------------------------------


@dataclass
class Stats:
    """Latencies (ms) and statuses per endpoint, from all client threads."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, endpoint: str, status: int, ms: float) -> None:
        with self.lock:
            self.latency[endpoint].append(ms)
            self.status[endpoint][status] += 1

    def server_errors(self) -> int:
        return sum(n for counts in self.status.values() for code, n in counts.items() if code >= 500)


class Client:
    """One keep-alive HTTP connection; requests retried with the same body and key on a dropped
    connection or a 503 (what a phone does when the network or the server hiccups)."""

    def __init__(self, host: str, port: int, stats: Stats, *, retry_for: float = 30.0):
        self.host, self.port, self.stats, self.retry_for = host, port, stats, retry_for
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self, endpoint: str, method: str, path: str, *, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        sent = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.retry_for
        while True:
            t = time.perf_counter()
            try:
                conn = self._connection()
                conn.request(method, path, body=data, headers=sent)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                self.close()
                status, payload = 0, b""
            ms = (time.perf_counter() - t) * 1000.0
            if status not in (0, 502, 503) or time.monotonic() > deadline:
                self.stats.add(endpoint, status, ms)
                return status, payload
            with self.stats.lock:
                self.stats.retries += 1
            time.sleep(0.05)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its live descendants, plus what their
    waited-for children used (a gunicorn worker replaced after --max-requests), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total / ticks


def machine_cpu() -> float:
    """CPU seconds used by the whole machine (all cores, everything but idle and iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, var_dir: Path, secret_key: str, *, outbox: str = "inline") -> dict[str, str]:
    """The production settings, with the secret key the data was prepared with (sessions and their
    auth hashes are signed with it). ``outbox``: ``inline`` runs the outbox consumers in the
    request after its commit; ``deferred`` leaves them to a worker (``WEISHANG_OUTBOX_INLINE=0``,
    production's setting when ``weishang worker`` runs; here it runs once after the load: :func:`drain_outbox`)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_", "WEISHANG_"))},
        "DATABASE_URL": database_url,
        "WEISHANG_ENV": "production",
        "WEISHANG_VAR": str(var_dir),
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEISHANG_SMS_BACKEND": "weishang.core.sms.LocmemBackend",
        "WEISHANG_PROXY_SSL_HEADER": "1",
        "WEISHANG_LOG_LEVEL": "ERROR",
        "WEISHANG_OUTBOX_INLINE": "1" if outbox == "inline" else "0",
        # PostgreSQL's prepared statements as the operator set them (settings.POSTGRES_OPTIONS).
        **{k: v for k, v in os.environ.items() if k == "WEISHANG_PG_PREPARE_THRESHOLD"},
    }


def queue_summary(path: Path, elapsed: float) -> dict:
    """What ``WEISHANG_SQLITE_QUEUE_LOG`` recorded (``weishang.core.sqlite``): per write transaction,
    its wait for the writers' queue and how long it held SQLite's write lock, in wall-clock and in
    its thread's CPU. ``held_share`` near 1 means the lock was never free: the serial part bounds
    the rate; ``stretch`` (hold wall ÷ hold CPU) is how much the holder waited for a core or the GIL
    while everyone else waited for it."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    if not rows:
        return {}
    wait = sorted(float(r[1]) for r in rows)
    hold = sorted(float(r[2]) for r in rows)
    cpu = sorted(float(r[3]) for r in rows)
    per_request = Counter(r[4] for r in rows if r[4] != "-")

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))]

    return {
        "transactions": len(rows),
        "transactions_per_request": statistics.median(per_request.values()) if per_request else 0,
        "wait_p50_ms": statistics.median(wait),
        "wait_p99_ms": pct(wait, 0.99),
        "hold_p50_ms": statistics.median(hold),
        "hold_p99_ms": pct(hold, 0.99),
        "hold_cpu_p50_ms": statistics.median(cpu),
        "held_share": sum(hold) / 1000 / elapsed,
        "stretch": sum(hold) / max(sum(cpu), 1e-9),
    }


def devices_in_use() -> None:
    """Mark every device token used just now, as a phone in use has been within the five minutes
    after which a request writes its token's "last used" (``api.services.TOUCH_EVERY_SECONDS``): a
    phase then measures orders, not each of the thousands of generated devices' first request
    (``--cold-devices`` leaves them as they are). Django is set up by the caller."""
    from django.db import connections

    from weishang.api.models import ApiToken
    from weishang.core import clock

    ApiToken.objects.update(last_used_at=clock.now())
    connections.close_all()


def drain_outbox(env: dict[str, str]) -> dict[str, int]:
    """What ``weishang worker`` does continuously beside the server, done once after the load:
    ``weishang worker --once --no-schedule`` follows the outbox (every consumer) until it is read.
    Returns the events it handled."""
    import re

    run = subprocess.run(
        [*WEISHANG, "worker", "--once", "--no-schedule", "--worker-id", "bench-drain"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(f"weishang worker --once failed: {run.stderr[-2000:]}")
    found = re.search(r"(\d+) outbox event", run.stdout)
    return {"outbox events": int(found.group(1)) if found else 0}


def start_server(
    env: dict[str, str], *, workers: int, threads: int, server: str = "gunicorn"
) -> tuple[subprocess.Popen, int]:
    """``weishang serve --prod`` (gunicorn), or for comparison granian's WSGI server started as
    ``serve --prod`` starts gunicorn (``collectstatic`` first, the access log on)."""
    port = free_port()
    log = open(Path(env["WEISHANG_VAR"]) / "server.log", "w")  # noqa: SIM115 - closed with the server
    if server == "granian":
        subprocess.run([*WEISHANG, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        argv = [
            sys.executable,
            *("-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(workers), "--blocking-threads", str(threads), "--no-ws"),
            *("--access-log", "--log-level", "warning", "weishang.wsgi:application"),
        ]
    else:
        argv = [
            *WEISHANG,
            *("serve", "--prod", "--addr", f"127.0.0.1:{port}"),
            *("--workers", str(workers), "--threads", str(threads)),
        ]
    server = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    server.log = log  # type: ignore[attr-defined]
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
        if server.poll() is not None:
            raise RuntimeError("the server stopped: " + (Path(env["WEISHANG_VAR"]) / "server.log").read_text()[-3000:])
    stop_server(server)
    raise RuntimeError("the server did not answer in 30 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log = getattr(server, "log", None)
    if log is not None:
        log.close()


# --- the data --------------------------------------------------------------------------------


def prepare(*, agents: int, seed: int, scarce_share: float = 0.1) -> dict:
    """A fresh, migrated database (Django set up by the caller): the demo brand's catalogue, a
    generated channel, every buyer's wallet funded, every seller's cloud stock filled (a tenth of
    them with stock for only a few orders), a device token per agent and a browser session per
    seller. Returns what the clients need."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from weishang.api.services import token_create
    from weishang.catalog.models import SKU
    from weishang.channel.models import Agent, AgentStatus
    from weishang.core.models import Brand
    from weishang.demo import services as demo_services
    from weishang.ledger import services as ledger
    from weishang.ledger.models import Purpose
    from weishang.trade import stock
    from weishang.trade.models import LocationKind, StockReason

    rng = random.Random(seed)
    with transaction.atomic():
        Brand.objects.create(name=demo_services.BRAND_NAME, currency="CNY", timezone="Asia/Shanghai", jurisdiction="cn")
        levels = demo_services._catalog()
        demo_services.load_agents(n=agents, seed=seed, levels=levels, wave=10, wave_share=0.8)
    sku = SKU.objects.get(code=SKU_CODE)
    rows = list(
        Agent.objects.filter(status=AgentStatus.ACTIVE, supplier__isnull=False, supplier__status=AgentStatus.ACTIVE)
        .select_related("level", "user", "supplier__user")
        .order_by("pk")
    )
    sellers = {a.supplier_id: a.supplier for a in rows}
    buyers = [a for a in rows if a.pk not in sellers]  # nobody both buys and sells in the run
    scarce = set(rng.sample(sorted(sellers), max(1, round(len(sellers) * scarce_share))))
    with transaction.atomic():
        warehouse = stock.location_singleton(LocationKind.WAREHOUSE)
        supplier = stock.location_singleton(LocationKind.SUPPLIER)
        plenty = 1_000_000
        per_seller = {s: (3 * 50 if s in scarce else plenty) for s in sellers}
        stock.stock_move(
            moves=[stock.Move(supplier, warehouse, sku, sum(per_seller.values()))],
            reason=StockReason.RECEIPT,
            note="load",
        )
        clouds = {}
        for seller in sellers.values():
            clouds[seller.pk] = stock.location_for_agent(seller, LocationKind.CLOUD)
        stock.stock_move(
            moves=[stock.Move(warehouse, clouds[s], sku, q) for s, q in per_seller.items()],
            reason=StockReason.ADJUSTMENT,
            note="load",
        )
        funds = 10_000_000
        cash = ledger.account_for(owner=None, purpose=Purpose.BRAND_CASH)
        ledger.journal_post(
            kind="wallet_topup",
            memo="load top-up",
            lines=[
                ledger.debit(cash, funds * len(buyers)),
                *[ledger.credit(ledger.account_for(owner=b, purpose=Purpose.AGENT_WALLET), funds) for b in buyers],
            ],
        )

    def session_for(user) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "weishang.core.auth.PhoneOrUsernameBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    tokens = {}
    for agent in [*buyers, *sellers.values()]:
        if agent.pk not in tokens:
            tokens[agent.pk] = token_create(user=agent.user, device="load")[1]
    return {
        "sku": SKU_CODE,
        "buyers": [
            {"id": b.pk, "seller": b.supplier_id, "quantity": b.level.min_restock_qty, "token": tokens[b.pk]}
            for b in buyers
        ],
        "sellers": {str(s): {"token": tokens[s], "session": session_for(a.user)} for s, a in sellers.items()},
        "scarce": sorted(scarce),
    }


# --- the phases ------------------------------------------------------------------------------


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fill_placed(client, number: str, *, buyer_token: str, seller_token: str) -> int:
    """The rest of an order's path as the phones take it: the seller approves, the buyer pays from
    the wallet, the seller fills. The status of the last step taken (the first one refused stops
    it). Shared with tests/faults/pg_restart_driver.py."""
    steps = (
        ("POST /fills/{n}/approve", f"/api/v1/fills/{number}/approve", seller_token, None),
        ("POST /orders/{n}/pay", f"/api/v1/orders/{number}/pay", buyer_token, {"method": "wallet"}),
        ("POST /fills/{n}/fill", f"/api/v1/fills/{number}/fill", seller_token, {}),
    )
    status = 0
    for name, path, token, body in steps:
        status, _ = client.request(
            name, "POST", path, body=body, headers={**_auth(token), "Idempotency-Key": str(uuid.uuid4())}
        )
        if status != 200:
            break
    return status


def run_load(
    *,
    port: int,
    data: dict,
    duration: float,
    clients: int,
    mode: str,
    seed: int = 1,
    pages_every: int = 4,
    server_pid: int | None = None,
    queue_log: Path | None = None,
) -> dict:
    """Drive the server at ``port`` for ``duration`` seconds with ``clients`` threads; ``mode`` is
    ``placed``, ``completed`` or ``floor`` (the cheapest authenticated API read, over and over).
    Returns the figures and what the server said it did, and the CPU the client (this process), the
    server (``server_pid`` and its workers) and the whole machine used meanwhile, in cores."""
    stats = Stats()
    stop_at = time.monotonic() + duration
    created: list[str] = []
    completed: list[str] = []
    refused: list[str] = []
    done_lock = threading.Lock()
    buyers = data["buyers"]
    sellers = data["sellers"]

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = Client("127.0.0.1", port, stats)
        mine = buyers[index::clients]
        n = 0
        try:
            while time.monotonic() < stop_at:
                buyer = rng.choice(mine)
                if mode == "floor":
                    path = "/api/v1/notifications/unread"
                    client.request("GET /notifications/unread", "GET", path, headers=_auth(buyer["token"]))
                    continue
                order_body = {"lines": [{"sku": data["sku"], "quantity": buyer["quantity"]}]}
                key = str(uuid.uuid4())
                status, body = client.request(
                    "POST /orders",
                    "POST",
                    "/api/v1/orders",
                    body=order_body,
                    headers={**_auth(buyer["token"]), "Idempotency-Key": key},
                )
                if status != 201:
                    continue
                number = json.loads(body)["number"]
                with done_lock:
                    created.append(number)
                if mode == "placed":
                    continue
                seller = sellers[str(buyer["seller"])]
                status = fill_placed(client, number, buyer_token=buyer["token"], seller_token=seller["token"])
                with done_lock:
                    (completed if status == 200 else refused).append(number)
                n += 1
                if pages_every and n % pages_every == 0:
                    cookie = {"Cookie": f"sessionid={seller['session']}"}
                    for name, path in (
                        ("GET /m/", "/m/"),
                        ("GET /m/team/", "/m/team/"),
                        ("GET /m/rewards/", "/m/rewards/"),
                    ):
                        client.request(name, "GET", path, headers=cookie)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    if queue_log is not None:
        queue_log.unlink(missing_ok=True)
    cpu0 = (time.process_time(), process_tree_cpu(server_pid) if server_pid else 0.0, machine_cpu())
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu1 = (time.process_time(), process_tree_cpu(server_pid) if server_pid else 0.0, machine_cpu())
    cores = {
        name: (after - before) / elapsed
        for name, before, after in zip(("client", "server", "machine"), cpu0, cpu1, strict=True)
    }
    endpoints = {}
    for name, values in sorted(stats.latency.items()):
        values = sorted(values)
        endpoints[name] = {
            "requests": len(values),
            "per_s": len(values) / elapsed,
            "p50_ms": statistics.median(values),
            "p99_ms": values[min(len(values) - 1, int(len(values) * 0.99))],
            "statuses": {str(k): v for k, v in sorted(stats.status[name].items())},
        }
    return {
        "mode": mode,
        "clients": clients,
        "seconds": elapsed,
        "requests_per_s": sum(len(v) for v in stats.latency.values()) / elapsed,
        "placed_per_s": len(created) / elapsed,
        "completed_per_s": len(completed) / elapsed,
        "endpoints": endpoints,
        "server_errors": stats.server_errors(),
        "retries": stats.retries,
        "cpu_cores": cores,
        "queue": queue_summary(queue_log, elapsed) if queue_log is not None else {},
        "created": created,
        "completed": completed,
        "refused": refused,
    }


def check_database(*, created: list[str], completed: list[str], env: dict[str, str]) -> dict:
    """What the server said, against the database (Django set up by the caller), and the verifiers."""
    from django.db.models import Count

    from weishang.trade.models import Order, OrderStatus, StockLevel

    numbers = Counter(created)
    in_db = dict(Order.objects.filter(number__in=list(numbers)).values_list("number", "status"))
    duplicates = Order.objects.values("number").annotate(n=Count("pk")).filter(n__gt=1).count()
    verify = {}
    for what in (["ledger", "verify"], ["stock", "verify"]):
        run = subprocess.run([*WEISHANG, *what], env=env, cwd=ROOT, capture_output=True, text=True)
        verify[" ".join(what)] = {"ok": run.returncode == 0, "output": (run.stdout + run.stderr)[-1500:]}
    return {
        "orders_said_created": len(numbers),
        "said_twice": sum(1 for n in numbers.values() if n > 1),
        "missing": len(set(numbers) - set(in_db)),
        "duplicates": duplicates,
        "said_completed_not_completed": sum(1 for n in completed if in_db.get(n) != OrderStatus.COMPLETED),
        "negative_stock_levels": StockLevel.objects.filter(quantity__lt=0).count(),
        "verify": verify,
    }


def checks_ok(check: dict, runs: list[dict]) -> bool:
    return (
        not check["missing"]
        and not check["duplicates"]
        and not check["said_twice"]
        and not check["said_completed_not_completed"]
        and not check["negative_stock_levels"]
        and all(v["ok"] for v in check["verify"].values())
        and all(r["server_errors"] == 0 for r in runs)
    )


# --- one backend, in a child process ----------------------------------------------------------


def run_phases(
    args: argparse.Namespace,
    data: dict,
    env: dict[str, str],
    *,
    server: str,
    workers: int,
    threads: int,
    queue_log: Path | None,
    report: Callable[[dict], None],
    seed: int = 1,
) -> list[dict]:
    """Start ``server`` (workers × threads), warm it up with a short completed phase, then run the
    placed and the completed phases (each after marking the devices in use, unless
    ``--cold-devices``), handing each phase's result to ``report``; the server is stopped after."""
    process, port = start_server(env, workers=workers, threads=threads, server=server)
    runs = []
    try:
        run_load(port=port, data=data, duration=min(3.0, args.duration), clients=args.clients, mode="completed")
        # The floor last: its thousands of cheap requests bring gunicorn's workers to their
        # --max-requests, and a worker replaced during a phase costs that phase its restart.
        for mode in ("placed", "completed", "floor") if args.floor else ("placed", "completed"):
            if not args.cold_devices:
                devices_in_use()
            result = run_load(
                port=port,
                data=data,
                duration=args.duration,
                clients=args.clients,
                mode=mode,
                server_pid=process.pid,
                queue_log=queue_log,
                seed=seed,
            )
            runs.append(result)
            report(result)
    finally:
        stop_server(process)
    return runs


def run_child(args: argparse.Namespace) -> int:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["SECRET_KEY"] = secret_key = secrets.token_urlsafe(50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    var_dir = BENCH_DIR / "load" / connection.vendor
    var_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    data = prepare(agents=args.agents, seed=args.seed)
    print(
        f"{connection.vendor}: {args.agents:,} agents, {len(data['buyers']):,} buyers, "
        f"{len(data['sellers']):,} sellers ({len(data['scarce'])} with scarce stock); "
        f"built in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    connections.close_all()
    env = server_env(args.database_url, var_dir, secret_key, outbox=args.outbox)
    queue_log = None
    if args.queue_log and connection.vendor == "sqlite":
        queue_log = var_dir / "queue.log"
        env["WEISHANG_SQLITE_QUEUE_LOG"] = str(queue_log)
    workers = args.workers or 2 * (os.cpu_count() or 1)
    if args.compare:
        return _compare(args, data, env, connection.vendor, queue_log)
    label = f"{args.server} {workers}×{args.threads}, outbox {args.outbox}"
    runs = run_phases(
        args,
        data,
        env,
        server=args.server,
        workers=workers,
        threads=args.threads,
        queue_log=queue_log,
        report=lambda result: _print_run(connection.vendor, result, label),
    )
    drained = {}
    if args.outbox == "deferred":
        t = time.perf_counter()
        drained = drain_outbox(env)
        print(
            f"{connection.vendor}: outbox drained in {time.perf_counter() - t:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in drained.items()),
            flush=True,
        )
    check = check_database(
        created=[n for r in runs for n in r["created"]], completed=[n for r in runs for n in r["completed"]], env=env
    )
    ok = checks_ok(check, runs)
    print(
        f"{connection.vendor}: orders said created {check['orders_said_created']:,}; missing {check['missing']}, "
        f"duplicated {check['duplicates']}, 'completed' but not {check['said_completed_not_completed']}; "
        f"stock levels below zero {check['negative_stock_levels']}; "
        + "; ".join(f"{k}: {'clean' if v['ok'] else 'PROBLEMS'}" for k, v in check["verify"].items())
        + f"; {'all checks OK' if ok else 'CHECKS FAILED'}",
        flush=True,
    )
    for r in runs:
        for key in ("created", "completed", "refused"):
            r[key] = len(r[key])
    out = {
        "backend": connection.vendor,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "server": {"name": args.server, "workers": workers, "threads": args.threads},
        "outbox": args.outbox,
        "drained": drained,
        "runs": runs,
        "check": check,
        "checks_ok": ok,
    }
    Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0 if ok else 1


def _compare(
    args: argparse.Namespace, data: dict, env: dict[str, str], vendor: str, queue_log: Path | None = None
) -> int:
    """``--compare``: several servers (``gunicorn:4x4,granian:2x1,…``) on the same data, one after
    the other, ``--repeat`` rounds; the medians per server. The outbox is drained and the database
    checked once at the end."""
    configs = []
    for item in args.compare.split(","):
        name, shape = item.split(":")
        w, t = (int(x) for x in shape.split("x"))
        configs.append((name, w, t))
    rows: dict[str, list[dict]] = defaultdict(list)
    created: list[str] = []
    completed: list[str] = []
    for round_ in range(args.repeat):
        for name, w, t in configs:
            label = f"{name} {w}x{t}"

            def record(r: dict, label: str = label, round_: int = round_) -> None:
                mode = r["mode"]
                created.extend(r["created"])
                completed.extend(r["completed"])
                row = {
                    "per_s": r["placed_per_s"] if mode == "placed" else r["completed_per_s"],
                    "p50_ms": r["endpoints"].get("POST /orders", {}).get("p50_ms", 0.0),
                    "p99_ms": r["endpoints"].get("POST /orders", {}).get("p99_ms", 0.0),
                    "requests_per_s": r["requests_per_s"],
                    "server_cores": r["cpu_cores"]["server"],
                    "client_cores": r["cpu_cores"]["client"],
                    "server_errors": r["server_errors"],
                    **{
                        f"queue_{k}": r["queue"].get(k, 0.0)
                        for k in ("hold_p50_ms", "hold_cpu_p50_ms", "held_share", "stretch")
                    },
                }
                rows[f"{label} {mode}"].append(row)
                print(f"round {round_ + 1} {label} {mode}: {row}", flush=True)

            run_phases(
                args, data, env, server=name, workers=w, threads=t, queue_log=queue_log, seed=round_ + 1, report=record
            )
    print(
        f"\n{vendor}, outbox {args.outbox}, {args.clients} clients, {args.duration:.0f} s per phase, "
        f"medians of {args.repeat}:"
    )
    print(
        f"  {'server phase':<28}{'orders/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'req/s':>7}"
        f"{'srv cores':>10}{'CPU ms/req':>11}{'client':>7}"
    )
    summary = {}
    for key, values in rows.items():
        med = {k: statistics.median(v[k] for v in values) for k in values[0]}
        med["server_cpu_ms_per_request"] = 1000 * med["server_cores"] / med["requests_per_s"]
        summary[key] = med
        print(
            f"  {key:<28}{med['per_s']:>9.0f}{med['p50_ms']:>8.0f}{med['p99_ms']:>8.0f}{med['requests_per_s']:>7.0f}"
            f"{med['server_cores']:>10.2f}{med['server_cpu_ms_per_request']:>11.1f}{med['client_cores']:>7.2f}"
        )
    if args.outbox == "deferred":
        drain_outbox(env)
    check = check_database(created=created, completed=completed, env=env)
    ok = checks_ok(check, [{"server_errors": sum(v["server_errors"] for vs in rows.values() for v in vs)}])
    print(
        f"{vendor}: checks {'OK' if ok else 'FAILED'}: {json.dumps({k: v for k, v in check.items() if k != 'verify'})}"
    )
    Path(args.json).write_text(
        json.dumps(
            {"backend": vendor, "outbox": args.outbox, "compare": summary, "rounds": rows, "checks_ok": ok}, indent=2
        )
    )
    return 0 if ok else 1


def _print_run(vendor: str, r: dict, label: str) -> None:
    cores = r["cpu_cores"]
    print(
        f"\n[{vendor}, {r['mode']}, {r['clients']} clients, {label}] {r['seconds']:.1f} s: "
        f"{r['requests_per_s']:.0f} requests/s; orders placed {r['placed_per_s']:.0f}/s, completed "
        f"{r['completed_per_s']:.0f}/s; 5xx {r['server_errors']}; retries {r['retries']}; CPU in cores: "
        f"server {cores['server']:.2f}, client {cores['client']:.2f}, whole machine {cores['machine']:.2f}",
        flush=True,
    )
    if r["requests_per_s"]:
        per_request = 1000 / r["requests_per_s"]
        print(
            f"    CPU per request, ms: server {cores['server'] * per_request:.1f}, "
            f"whole machine {cores['machine'] * per_request:.1f}",
            flush=True,
        )
    q = r.get("queue")
    if q:
        print(
            f"    writers' queue: {q['transactions']:,} write transactions ({q['transactions_per_request']:.0f} per "
            f"request), wait p50/p99 {q['wait_p50_ms']:.1f}/{q['wait_p99_ms']:.1f} ms, write lock held p50/p99 "
            f"{q['hold_p50_ms']:.1f}/{q['hold_p99_ms']:.1f} ms (its thread's CPU p50 {q['hold_cpu_p50_ms']:.1f} ms), "
            f"held {q['held_share']:.0%} of the time, stretch {q['stretch']:.1f}×",
            flush=True,
        )
    print(f"    {'endpoint':<26}{'requests':>9}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for name, e in r["endpoints"].items():
        figures = f"{e['requests']:>9,}{e['per_s']:>8.0f}{e['p50_ms']:>9.1f}{e['p99_ms']:>9.1f}"
        print(f"    {name:<26}{figures}  {e['statuses']}")


# --- the parent --------------------------------------------------------------------------------


def _pg_reachable(admin_url: str) -> bool:
    return shutil.which("psql") is not None and (
        subprocess.run(["psql", admin_url + "postgres", "-c", "select 1"], capture_output=True).returncode == 0
    )


def run_parent(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    failed = False
    results = {}
    for backend in backends:
        if backend == "sqlite":
            path = BENCH_DIR / "load" / "load.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", ".writelock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        else:
            if not _pg_reachable(args.postgres_url):
                print("PostgreSQL not reachable: skipped", flush=True)
                continue
            subprocess.run(
                ["psql", args.postgres_url + "postgres", "-qc", f"DROP DATABASE IF EXISTS {PG_DB}"], check=True
            )
            subprocess.run(["psql", args.postgres_url + "postgres", "-qc", f"CREATE DATABASE {PG_DB}"], check=True)
            url = args.postgres_url + PG_DB
        out = BENCH_DIR / f"load-{backend}.json"
        cmd = [
            sys.executable,
            __file__,
            "--database-url",
            url,
            "--json",
            str(out),
            *("--agents", str(args.agents), "--duration", str(args.duration), "--clients", str(args.clients)),
            *("--workers", str(args.workers), "--threads", str(args.threads), "--seed", str(args.seed)),
            *("--outbox", args.outbox, "--server", args.server, "--repeat", str(args.repeat)),
            *(("--compare", args.compare) if args.compare else ()),
            *(("--queue-log",) if args.queue_log else ()),
            *(("--cold-devices",) if args.cold_devices else ()),
            *(("--floor",) if args.floor else ()),
        ]
        print(f"\n== {backend}", flush=True)
        if subprocess.call(cmd) != 0:
            failed = True
        if out.exists():
            results[backend] = json.loads(out.read_text())
    print("\n== Targets (two cores): placed ≥ 150/s with p99 ≤ 300 ms; completed ≥ 100/s; zero 5xx; checks clean")
    for backend, res in results.items():
        for name, placed_per_s, p99, completed_per_s in _target_figures(res):
            for label, met in (
                (f"placed {placed_per_s:.0f}/s", placed_per_s >= TARGET_PLACED_PER_S),
                (f"placed p99 {p99:.0f} ms", p99 <= TARGET_PLACED_P99_MS),
                (f"completed {completed_per_s:.0f}/s", completed_per_s >= TARGET_COMPLETED_PER_S),
            ):
                print(f"  [{'OK' if met else 'MISS'}] {backend}{name}: {label}")
        print(f"  [{'OK' if res['checks_ok'] else 'MISS'}] {backend}: checks")
    return 1 if failed else 0


def _target_figures(res: dict) -> list[tuple[str, float, float, float]]:
    """(server, placed/s, placed p99 ms, completed/s) of a backend's result: its one run, or with
    ``--compare`` the medians of each server compared."""
    if "runs" in res:
        placed = next(r for r in res["runs"] if r["mode"] == "placed")
        completed = next(r for r in res["runs"] if r["mode"] == "completed")
        p99 = placed["endpoints"].get("POST /orders", {}).get("p99_ms", float("inf"))
        return [("", placed["placed_per_s"], p99, completed["completed_per_s"])]
    servers = sorted({key.rsplit(" ", 1)[0] for key in res["compare"]})
    return [
        (
            f" {server}",
            res["compare"][f"{server} placed"]["per_s"],
            res["compare"][f"{server} placed"]["p99_ms"],
            res["compare"][f"{server} completed"]["per_s"],
        )
        for server in servers
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--agents", type=int, default=3000, help="agents in the generated channel (default 3,000)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: serve --prod's)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--outbox",
        choices=("inline", "deferred"),
        default="deferred",
        help="deferred (default): WEISHANG_OUTBOX_INLINE=0, the consumers' commands drain the outbox after the load",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="last, a phase of the cheapest authenticated API read (GET /api/v1/notifications/unread: "
        "the device token, one count, the answer), the floor under every API request's cost",
    )
    parser.add_argument("--server", choices=("gunicorn", "granian"), default="gunicorn")
    parser.add_argument(
        "--compare",
        default="",
        help="servers to compare on the same data, e.g. gunicorn:4x4,granian:2x1 (workers x threads)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="--compare's rounds (default 3)")
    parser.add_argument(
        "--queue-log",
        action="store_true",
        help="SQLite: record each write transaction's wait and hold of the writers' queue and print a summary",
    )
    parser.add_argument(
        "--cold-devices",
        action="store_true",
        help="do not mark the device tokens used before each phase (each device's first request writes 'last used')",
    )
    parser.add_argument("--postgres-url", default=PG_ADMIN_URL)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return run_child(args) if args.database_url else run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
