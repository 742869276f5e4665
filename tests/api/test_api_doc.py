"""docs/api.md cannot rot: its curl walkthrough runs here, line by line, against the demo brand
(each ``curl`` through Django's test client, each ``python3 -c`` as written); its scopes, events
and rate limits are the code's. (The webhook verification snippet runs in test_webhooks.py.)"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from weishang.api.scopes import SCOPES
from weishang.core.ratelimit import DEFAULT_RATES
from weishang.webhooks.events import EVENTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def section(marker: str, fence: str | None = None) -> str:
    """The code block (``fence``: its language) or table right after ``<!-- marker -->``."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- {marker} -->") + len(f"<!-- {marker} -->")
    rest = text[start:].lstrip("\n")
    if fence:
        found = re.match(rf"```{fence}\n(.*?)```", rest, re.S)
        assert found, f"no ```{fence} block after <!-- {marker} -->"
        return found.group(1)
    return rest.split("\n\n", 1)[0]


def table_first_column(marker: str) -> set[str]:
    rows = [line for line in section(marker).splitlines() if line.startswith("| `")]
    return {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}


def test_the_scopes_table_is_the_code_s():
    assert table_first_column("scopes-table") == set(SCOPES)


def test_the_events_table_is_the_code_s():
    assert table_first_column("events-table") == set(EVENTS)


def test_the_rate_limits_are_the_code_s():
    text = DOC.read_text(encoding="utf-8")
    for name, rate in DEFAULT_RATES.items():
        count, unit = rate.split("/")
        assert unit == "m"
        assert f"| `{name}` | {count} a minute |" in text, f"docs/api.md does not give {name} = {rate}"


# --- a small shell: what the walkthrough uses of sh, curl and python3 ---------------------------


class Shell:
    """Runs the walkthrough's lines: ``NAME=value`` and ``$(…)``, ``$NAME``, pipes into
    ``python3 -c``, and ``curl`` with -s, -X, -H, -d and -F (through Django's test client, each
    request committed as under the server, so that what runs after commit runs)."""

    def __init__(self, files: Path):
        self.env: dict[str, str] = {}
        self.files = files
        self.calls: list[tuple[str, str, object]] = []  # (method, path, response)

    # words
    def _scan(self, text: str):
        """Yield (index, char, quote) with the quote state at each character."""
        quote = None
        for i, ch in enumerate(text):
            if quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
                yield i, ch, ch
                continue
            yield i, ch, quote

    def substitute(self, text: str) -> str:
        """Each $(…) outside single quotes replaced by its output."""
        out, i = [], 0
        while i < len(text):
            quote = self._quote_at(text, i)
            if text.startswith("$(", i) and quote != "'":
                depth, j, inner_quote = 1, i + 2, None
                while depth:
                    ch = text[j]
                    if inner_quote:
                        inner_quote = None if ch == inner_quote else inner_quote
                    elif ch in "'\"":
                        inner_quote = ch
                    elif ch == "(":
                        depth += 1
                    elif ch == ")":
                        depth -= 1
                    j += 1
                value = self.pipeline(text[i + 2 : j - 1]).decode().strip()
                out.append(value if quote == '"' else shlex.quote(value))
                i = j
                continue
            out.append(text[i])
            i += 1
        return "".join(out)

    def _quote_at(self, text: str, index: int):
        quote = None
        for i, ch, q in self._scan(text[: index + 1]):
            if i == index:
                return quote
            quote = q if q != ch else None
        return quote

    def expand(self, text: str) -> str:
        """$NAME and ${NAME} outside single quotes."""
        out, quote, i = [], None, 0
        while i < len(text):
            ch = text[i]
            if quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
            if ch == "$" and quote != "'":
                found = re.match(r"\$(?:\{(\w+)\}|(\w+))", text[i:])
                if found:
                    name = found.group(1) or found.group(2)
                    assert name in self.env, f"${name} is used before it is set"
                    out.append(self.env[name])
                    i += found.end()
                    continue
            out.append(ch)
            i += 1
        return "".join(out)

    # commands
    def pipeline(self, command: str) -> bytes:
        command = self.substitute(command)
        parts, current, quote = [], [], None
        for ch in command:
            if quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
            if ch == "|" and quote is None:
                parts.append("".join(current))
                current = []
                continue
            current.append(ch)
        parts.append("".join(current))
        data = b""
        for part in parts:
            argv = shlex.split(self.expand(part))
            if argv[0] == "curl":
                data = self.curl(argv[1:])
            elif argv[0] == "python3":
                data = subprocess.run(
                    [sys.executable, *argv[1:]], input=data, capture_output=True, check=True, timeout=60
                ).stdout
            else:
                raise AssertionError(f"the walkthrough runs {argv[0]!r}: teach tests/api/test_api_doc.py")
        return data

    def curl(self, args: list[str]) -> bytes:
        method, headers, body, form, url = None, {}, None, {}, None
        it = iter(args)
        for arg in it:
            if arg in ("-s", "--silent", "-S"):
                continue
            if arg == "-X":
                method = next(it)
            elif arg == "-H":
                name, _sep, value = next(it).partition(":")
                headers[name.strip()] = value.strip()
            elif arg in ("-d", "--data", "--data-raw"):
                body = next(it)
            elif arg == "-F":
                name, _sep, value = next(it).partition("=")
                form[name] = (self.files / value[1:]).open("rb") if value.startswith("@") else value
            elif arg.startswith("-"):
                raise AssertionError(f"curl option {arg} is not understood here")
            else:
                url = arg
        parts = urlsplit(url)
        assert parts.path.startswith("/api/v1/"), url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        method = method or ("POST" if body is not None or form else "GET")
        content_type = headers.pop("Content-Type", "application/octet-stream")
        client = Client(REMOTE_ADDR="127.0.0.1")
        if form:
            response = client.post(path, form, headers=headers)
        else:
            response = client.generic(method, path, (body or "").encode(), content_type=content_type, headers=headers)
        self.calls.append((method, parts.path, response))
        assert response.status_code < 400, f"{method} {path} answered {response.status_code}: {response.content!r}"
        return response.content

    def run(self, script: str) -> None:
        for line in re.sub(r"\\\n\s*", " ", script).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            assignment = re.fullmatch(r"([A-Z][A-Z_]*)=(.*)", line)
            if assignment:
                words = shlex.split(self.expand(self.substitute(assignment.group(2))))
                self.env[assignment.group(1)] = " ".join(words)
            else:
                self.pipeline(line)


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo brand, committed (the reward engine runs after each request's commit, as under
    ``make run``); the test database is emptied afterwards."""
    from weishang.demo.services import demo_load

    settings.MEDIA_ROOT = tmp_path
    demo_load(agents=200)


def test_the_walkthrough_runs_as_written(demo, tmp_path):
    from weishang.channel.models import Agent
    from weishang.rewards.models import RewardKind, RewardLine
    from weishang.trade.models import Order, OrderStatus

    shell = Shell(tmp_path)
    shell.run(section("walkthrough", "sh"))

    assert shell.env["VIP"].startswith("wst_") and shell.env["CITY"].startswith("wst_")
    order = Order.objects.get(number=shell.env["ORDER"])
    vip = Agent.objects.get(user__phone="13800000005")
    city = Agent.objects.get(user__phone="13800000004")
    assert (order.buyer_id, order.seller_id, order.status) == (vip.pk, city.pk, OrderStatus.COMPLETED)
    assert order.payments.get().method == "wallet"
    # Step 7 shows the margin the order earned the 市代, explained in English.
    margins = [r for m, p, r in shell.calls if p == "/api/v1/rewards/lines"][0].json()["results"]
    mine = [line for line in margins if line["order_number"] == order.number]
    assert len(mine) == 1 and mine[0]["kind"] == RewardKind.MARGIN and mine[0]["amount"] == "60.00"
    assert order.number in mine[0]["explanation"] and "¥230.00" in mine[0]["explanation"]
    assert "¥170.00" in mine[0]["explanation"]
    assert RewardLine.objects.filter(order=order, beneficiary=city, kind=RewardKind.MARGIN).exists()
    # Every answer was the documented one.
    from .conftest import assert_matches_spec

    templates = {"/api/v1/fills/{n}/approve", "/api/v1/orders/{n}/pay", "/api/v1/fills/{n}/fill", "/api/v1/orders/{n}"}
    for method, path, response in shell.calls:
        template = path.replace(order.number, "{n}")
        template = template.replace("{n}", "{number}") if template in templates else template
        assert_matches_spec(response, method, template)


def test_paying_by_transfer_as_the_doc_says(demo, tmp_path):
    """The alternative to step 5: a screenshot, then the 市代 confirms it."""
    from PIL import Image

    from weishang.trade.models import Order, OrderStatus

    Image.new("RGB", (40, 30), "white").save(tmp_path / "transfer.png")
    walkthrough = section("walkthrough", "sh")
    before_pay = walkthrough.split("# 5.")[0]
    text = DOC.read_text(encoding="utf-8")
    transfer = re.search(r"To pay by transfer instead of step 5.*?```sh\n(.*?)```", text, re.S).group(1)
    shell = Shell(tmp_path)
    shell.run(before_pay)
    order = Order.objects.get(number=shell.env["ORDER"])
    first, confirm = transfer.strip().split("\n", 1)
    shell.run(first)
    payment = order.payments.get()
    shell.run(confirm.replace("<payment id>", str(payment.pk)))
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status, payment.method) == (OrderStatus.PAID, "confirmed", "transfer")
