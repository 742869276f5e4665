"""The client side of tests/faults/test_postgres_restart.py, in its own process (Django's settings
are read once per process, and these point at the private cluster, not at the suite's database).

It migrates the database at ``--database-url``, prepares a small channel with bench/load.py's
``prepare``, starts ``weishang serve --prod`` (gunicorn) against it and drives client threads
through the whole path — place an order, approve it, pay from the wallet and fill it, each POST
with its own Idempotency-Key — and one seller reading the phone's home page all along. Each
request is retried (with the same key) on a dropped connection or a 503, and every attempt's
answer recorded. It prints ``ready`` once the clients run; the test then crashes and restarts
PostgreSQL and writes ``restarted`` and ``finish`` on stdin. It stops the clients, checks the
database and prints one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import load  # noqa: E402 - bench/load.py


class Recorder:
    """Every attempt's answer (not only the last one a retrying client keeps)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "before"
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.problems: list[dict] = []  # a 5xx other than a proper 503, with what came back
        self.unavailable = 0
        self.ok_after_restart = 0

    def add(self, endpoint: str, status: int, headers: dict, payload: bytes) -> None:
        with self.lock:
            self.statuses[endpoint][f"{self.phase}:{status}"] += 1
            if status == 503:
                self.unavailable += 1
                if not _proper_503(endpoint, headers, payload):
                    self.problems.append(
                        {"endpoint": endpoint, "status": status, "headers": headers, "body": _text(payload)}
                    )
            elif status >= 500:
                self.problems.append(
                    {"endpoint": endpoint, "status": status, "headers": headers, "body": _text(payload)}
                )
            elif 200 <= status < 300 and self.phase == "after":
                self.ok_after_restart += 1


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")[:800]


def _proper_503(endpoint: str, headers: dict, payload: bytes) -> bool:
    """The API's error envelope with a code and a message, or the pages' 503 page; Retry-After."""
    if "Retry-After" not in headers:
        return False
    if endpoint.startswith("GET /m/"):
        return "Traceback" not in _text(payload)
    try:
        error = json.loads(payload)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return error.get("code") == "database_unavailable" and bool(error.get("message"))


class RecordingClient(load.Client):
    """bench/load.py's client (same key and body on a dropped connection, a 502 or a 503), with
    every attempt recorded."""

    def __init__(self, port: int, stats: load.Stats, recorder: Recorder):
        super().__init__("127.0.0.1", port, stats, retry_for=45.0)
        self.recorder = recorder

    def request(self, endpoint, method, path, *, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        sent = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.retry_for
        while True:
            answer_headers: dict = {}
            try:
                conn = self._connection()
                conn.request(method, path, body=data, headers=sent)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                answer_headers = dict(response.getheaders())
            except (OSError, http.client.HTTPException):
                self.close()
                status, payload = 0, b""
            self.recorder.add(endpoint, status, answer_headers, payload)
            if status not in (0, 502, 503) or time.monotonic() > deadline:
                self.stats.add(endpoint, status, 0.0)
                return status, payload
            time.sleep(0.1)


def drive(port: int, data: dict, clients: int, stop: threading.Event, recorder: Recorder) -> dict:
    stats = load.Stats()
    lock = threading.Lock()
    keys: dict[str, list] = {}  # Idempotency-Key of each order asked for -> (status, number)
    completed: list[str] = []
    sellers = data["sellers"]

    def worker(index: int) -> None:
        rng = random.Random(index)
        client = RecordingClient(port, stats, recorder)
        mine = data["buyers"][index::clients]
        try:
            while not stop.is_set():
                buyer = rng.choice(mine)
                seller = sellers[str(buyer["seller"])]
                key = str(uuid.uuid4())
                status, body = client.request(
                    "POST /orders",
                    "POST",
                    "/api/v1/orders",
                    body={"lines": [{"sku": data["sku"], "quantity": buyer["quantity"]}]},
                    headers={**load._auth(buyer["token"]), "Idempotency-Key": key},
                )
                number = json.loads(body)["number"] if status == 201 else None
                with lock:
                    keys[key] = [status, number]
                if number is None:
                    continue
                status = load.fill_placed(client, number, buyer_token=buyer["token"], seller_token=seller["token"])
                if status == 200:
                    with lock:
                        completed.append(number)
        finally:
            client.close()

    def reader() -> None:  # a seller reading the phone's home page all along, the outage included
        client = RecordingClient(port, stats, recorder)
        cookies = [f"sessionid={seller['session']}" for seller in sellers.values()]
        rng = random.Random(-1)
        try:
            while not stop.is_set():
                client.request("GET /m/", "GET", "/m/", headers={"Cookie": rng.choice(cookies)})
                time.sleep(0.05)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    print("ready", flush=True)
    for t in threads:
        t.join()
    return {"keys": keys, "completed": completed, "final": {k: dict(v) for k, v in stats.status.items()}}


def server_errors(log: str) -> list[str]:
    """The server's own account of each 500 (its message and traceback), which the log's tail may
    have scrolled past: what a failure of this test needs first."""
    errors = []
    for text in log.splitlines():
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if record.get("logger") == "weishang.api" or record.get("status_code") == 500:
            errors.append(f"{record.get('message')}\n{record.get('exc_info', '')}"[-4000:])
    return errors[:5]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--var", required=True)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["SECRET_KEY"] = secret_key = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "weishang.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Max

    from weishang.trade.models import Order

    call_command("migrate", verbosity=0)
    data = load.prepare(agents=args.agents, seed=3, scarce_share=0.2)
    last_before = Order.objects.aggregate(m=Max("pk"))["m"] or 0
    connections.close_all()
    var = Path(args.var)
    var.mkdir(parents=True, exist_ok=True)
    env = load.server_env(args.database_url, var, secret_key)
    server, port = load.start_server(env, workers=2, threads=3)
    recorder, stop = Recorder(), threading.Event()
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(drive(port, data, args.clients, stop, recorder)))
    try:
        runner.start()
        for line in sys.stdin:
            if line.strip() == "restarted":
                with recorder.lock:
                    recorder.phase = "after"
            elif line.strip() == "finish":
                break
        stop.set()
        runner.join()
        server_alive = server.poll() is None
    finally:
        stop.set()
        load.stop_server(server)

    created = [number for status, number in result["keys"].values() if status == 201]
    check = load.check_database(created=created, completed=result["completed"], env=env)
    new_orders = set(Order.objects.filter(pk__gt=last_before).values_list("number", flat=True))
    from weishang.api.models import IdempotencyRecord

    print(
        json.dumps(
            {
                "server_alive": server_alive,
                "statuses": {k: dict(v) for k, v in recorder.statuses.items()},
                "final": result["final"],
                "problems": recorder.problems[:20],
                "unavailable": recorder.unavailable,
                "ok_after_restart": recorder.ok_after_restart,
                "asked": len(result["keys"]),
                "answered": dict(Counter(str(status) for status, _ in result["keys"].values())),
                "created": created,
                "completed": len(result["completed"]),
                "new_orders": sorted(new_orders),
                "unanswered_orders": sorted(new_orders - set(created)),
                "stuck_keys": IdempotencyRecord.objects.filter(status_code__isnull=True).count(),
                "check": check,
                "server_errors": server_errors((var / "server.log").read_text()),
                "server_log": (var / "server.log").read_text()[-3000:],
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
