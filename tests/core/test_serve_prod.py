"""``weishang serve --prod`` as production runs it: gunicorn on a free port with WEISHANG_ENV=production
(behind a proxy that ends TLS), checked over HTTP as a load balancer and a browser would: health
and readiness, the security headers (HSTS, the Content Security Policy, secure cookies), a request
id on every answer and on every log line, as JSON, and the static files from WhiteNoise with a
far-future cache. Readiness fails, with the reason, when a migration is waiting."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

# gunicorn on its own SQLite file, whatever the suite runs on.
pytestmark = pytest.mark.db_independent
ROOT = Path(__file__).resolve().parents[2]
WEISHANG = [sys.executable, "-m", "weishang.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def production(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))},
        "WEISHANG_ENV": "production",
        "WEISHANG_VAR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEISHANG_SMS_BACKEND": "weishang.core.sms.LocmemBackend",
        "WEISHANG_PROXY_SSL_HEADER": "1",
    }
    return env


def _serve(env, port):
    server = subprocess.Popen(
        [*WEISHANG, "serve", "--prod", "--addr", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    return server, base
            except requests.RequestException:  # not listening yet, or a worker still starting
                time.sleep(0.2)
            if server.poll() is not None:
                raise AssertionError(server.stderr.read())
        raise AssertionError("gunicorn did not answer in 30 s")
    except BaseException:
        _stop(server)  # never leave a server behind
        raise


def _stop(server) -> tuple[str, str]:
    server.terminate()
    try:
        out, err = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
    return out, err


def test_production_serving_over_http(production):
    assert subprocess.run([*WEISHANG, "migrate", "-v", "0"], env=production, cwd=ROOT).returncode == 0
    check = subprocess.run(
        [*WEISHANG, "check", "--deploy", "--fail-level", "WARNING"],
        env=production,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    server, base = _serve(production, _free_port())
    try:
        https = {"X-Forwarded-Proto": "https"}
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json() == {
            "status": "ok",
            "checks": {"database": "ok", "cache": "ok"},
        }
        plain = requests.get(f"{base}/m/login/", allow_redirects=False, timeout=5)
        assert (
            plain.status_code == 301
            and plain.headers["Location"] == f"https://127.0.0.1:{plain.url.split(':')[2].split('/')[0]}/m/login/"
        )
        page = requests.get(f"{base}/m/login/", headers={**https, "X-Request-ID": "lb-trace-0001"}, timeout=5)
        assert page.status_code == 200 and "登录" in page.text
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-eval'" not in csp
        assert page.headers["X-Request-ID"] == "lb-trace-0001"
        assert "secure" in page.headers["Set-Cookie"].lower()  # the CSRF cookie, https only
        hostile = requests.get(f"{base}/healthz", headers={"X-Request-ID": "<script>" + "x" * 100}, timeout=5)
        assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])  # made anew, not echoed
        console = requests.get(f"{base}/console/login/", headers=https, timeout=5)
        assert "'unsafe-eval'" in console.headers["Content-Security-Policy"]  # the console's own policy
        css = re.search(r'href="(/static/web/mobile\.[0-9a-f]{12}\.css)"', page.text).group(1)
        static = requests.get(base + css, headers={**https, "Accept-Encoding": "gzip"}, timeout=5)
        assert static.status_code == 200 and "immutable" in static.headers["Cache-Control"]
        assert static.headers.get("Content-Encoding") == "gzip"
        missing = requests.get(f"{base}/m/no-such-page/", headers={**https, "X-Request-ID": "lb-trace-0001"}, timeout=5)
        assert missing.status_code == 404 and "Traceback" not in missing.text
    finally:
        out, err = _stop(server)
    assert "id=lb-trace-0001" in out  # the access log names the request
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]  # the 404's warning
    assert any(r["request_id"] == "lb-trace-0001" and r["level"] == "WARNING" for r in records), err[-2000:]


def test_readiness_says_a_migration_is_waiting(production):
    server, base = _serve(production, _free_port())  # the database never migrated
    try:
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert "migrations not applied" in ready.json()["checks"]["database"]
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200  # alive, only not ready
    finally:
        _stop(server)
