"""Webhooks cannot be aimed at the brand's own network (SSRF): an endpoint on a private, loopback,
link-local, multicast or reserved address — in any spelling, or behind a name — is refused when it
is saved (console and service) and again at delivery, after resolving the host; the delivery
connects to the very address it checked (so DNS rebinding gets nothing), follows no redirect, and
the console shows only the answer's status line, never its body. Loopback is allowed only when
WEISHANG_WEBHOOK_ALLOW_LOOPBACK is on (development)."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.urls import reverse

from weishang.core.errors import BusinessError
from weishang.core.outbox import outbox_emit
from weishang.webhooks import safety, services
from weishang.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

D = DeliveryStatus

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://10.0.0.5/hooks",
    "http://172.16.3.4/hooks",
    "http://192.168.1.1/hooks",
    "http://100.64.0.1/hooks",  # carrier-grade NAT, shared
    "http://localhost:5432/",
    "http://127.0.0.1/hooks",
    "http://127.1.2.3:8080/hooks",
    "http://[::1]/hooks",
    "http://[::1]:5432/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254 mapped into IPv6
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/",  # ... in hex, short form
    "http://0x7f000001/",
    "http://017700000001/",  # ... in octal
    "http://0177.0.0.1/",
    "http://0/",
]

FAKE_DNS = {
    "internal.brand.test": ["10.1.2.3"],
    "metadata.brand.test": ["169.254.169.254"],
    "mixed.brand.test": ["93.184.216.34", "192.168.0.10"],  # one public, one private: refused
    "public.brand.test": ["93.184.216.34"],
}


@pytest.fixture
def dns(monkeypatch):
    """Names under brand.test resolve as FAKE_DNS says (and as ``answers`` says, in turn)."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in answers or name in FAKE_DNS:
            calls.append(name)
            addresses = answers[name].pop(0) if answers.get(name) else FAKE_DNS[name]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return type("DNS", (), {"answers": answers, "calls": calls})


@pytest.fixture
def no_loopback(settings):
    settings.WEISHANG_WEBHOOK_ALLOW_LOOPBACK = False


@pytest.fixture
def loopback(settings):
    settings.WEISHANG_WEBHOOK_ALLOW_LOOPBACK = True


class Receiver:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        status: int = 200,
        body: bytes = b"ok",
        location: str | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"host": self.headers.get("Host"), "path": self.path})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(*args, **kwargs) -> Receiver:
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def emit(key: str = "R1") -> None:
    with transaction.atomic():
        outbox_emit(topic="order.paid", key=key, payload={"order": key})


def stored(url: str) -> WebhookEndpoint:
    """An endpoint saved before the check existed (or whose name has since changed its answer)."""
    services._start_idle_cursors(["order.paid"])  # as endpoint_create does: events from now on
    return WebhookEndpoint.objects.create(url=url, events=["order.paid"], secret="whsec_test")


# --- refused when saved ----------------------------------------------------------------------


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused_when_saved(db, no_loopback, url):
    with pytest.raises(BusinessError) as refused:
        services.endpoint_create(url=url, events=["order.paid"])
    assert refused.value.field == "url"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("name", ["internal.brand.test", "metadata.brand.test", "mixed.brand.test"])
def test_a_name_that_resolves_to_an_internal_address_is_refused_when_saved(db, no_loopback, dns, name):
    with pytest.raises(BusinessError) as refused:
        services.endpoint_create(url=f"https://{name}/hooks", events=["order.paid"])
    assert refused.value.field == "url"


def test_a_public_address_and_a_name_not_yet_in_dns_are_accepted(db, no_loopback, dns):
    for url in (
        "https://public.brand.test/hooks",
        "https://93.184.216.34:8443/hooks",
        "https://not-yet-registered.invalid/hooks",
    ):
        services.endpoint_create(url=url, events=["order.paid"])
    assert WebhookEndpoint.objects.count() == 3


def test_changing_an_endpoint_to_an_internal_address_is_refused(db, no_loopback, dns):
    endpoint, _secret = services.endpoint_create(url="https://public.brand.test/hooks", events=["order.paid"])
    with pytest.raises(BusinessError):
        services.endpoint_update(endpoint=endpoint, url="http://169.254.169.254/", events=["order.paid"])
    endpoint.refresh_from_db()
    assert endpoint.url == "https://public.brand.test/hooks"


def test_loopback_is_allowed_only_with_the_development_setting(db, settings):
    settings.WEISHANG_WEBHOOK_ALLOW_LOOPBACK = True
    services.endpoint_create(url="http://127.0.0.1:8000/hooks", events=["order.paid"])
    with pytest.raises(BusinessError):  # the rest of the internal network stays refused
        services.endpoint_create(url="http://10.0.0.5/hooks", events=["order.paid"])
    with pytest.raises(BusinessError):
        services.endpoint_create(url="http://169.254.169.254/", events=["order.paid"])
    settings.WEISHANG_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(BusinessError):
        services.endpoint_create(url="http://127.0.0.1:8000/hooks", events=["order.paid"])


@pytest.fixture
def console(client, db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from weishang.core.roles import role_group_name, roles_sync

    roles_sync()
    user = get_user_model().objects.create_user(username="owner", password="staff-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name("owner")))
    client.force_login(user)
    return client


def test_the_console_form_refuses_an_internal_address_in_chinese(console, no_loopback):
    response = console.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://169.254.169.254/latest/meta-data/", "events": ["order.paid"], "active": "on"},
    )
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "只发送到公网地址" in response.content.decode()


def test_the_console_form_refuses_it_in_english(console, no_loopback):
    console.cookies["django_language"] = "en"
    response = console.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://localhost:5432/", "events": ["order.paid"], "active": "on"},
    )
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "only to public internet addresses" in response.content.decode()


# --- refused again at delivery ----------------------------------------------------------------


def test_a_stored_internal_endpoint_gets_nothing(db, no_loopback, receiver):
    hooks = receiver()
    stored(f"http://127.0.0.1:{hooks.port}/hooks")
    stored(f"http://2130706433:{hooks.port}/hooks")
    stored(f"http://[::ffff:127.0.0.1]:{hooks.port}/hooks")
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 3}
    assert hooks.requests == []
    for delivery in WebhookDelivery.objects.all():
        assert delivery.last_status_code is None and "loopback" in delivery.last_error
        assert delivery.next_attempt_at is not None  # a failed attempt, tried again on the schedule


@pytest.mark.parametrize("name", ["internal.brand.test", "metadata.brand.test", "mixed.brand.test"])
def test_a_name_that_now_resolves_inside_is_not_sent_to(db, no_loopback, dns, name):
    stored(f"http://{name}/hooks")
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 1}
    assert "refused" in WebhookDelivery.objects.get().last_error


def test_the_delivery_connects_to_the_address_it_checked(db, loopback, dns, receiver):
    """DNS rebinding: the name answers 127.0.0.1 to the check, then 127.0.0.2 (standing for an
    internal service) to anyone asking again. The delivery reaches the checked address, with the
    name in the Host header; the second answer is never asked for."""
    good = receiver("127.0.0.1")
    try:
        evil = receiver("127.0.0.2", good.port)
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    dns.answers["hooks.brand.test"] = [["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2"], ["127.0.0.2"]]
    stored(f"http://hooks.brand.test:{good.port}/hooks")
    emit()
    assert services.webhooks_deliver() == {D.SUCCEEDED: 1}
    assert [r["host"] for r in good.requests] == [f"hooks.brand.test:{good.port}"]
    assert evil.requests == []
    assert dns.calls == ["hooks.brand.test"]


def test_https_is_pinned_with_the_name_as_sni_and_certificate_name(db, loopback, dns, receiver, tmp_path):
    """A real TLS server with a certificate for hooks.brand.test on 127.0.0.1: the delivery
    connects to the checked address and verifies the certificate against the name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.brand.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.brand.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    hooks = receiver("127.0.0.1", tls=context)
    session = services._session()
    session.verify = str(cert_file)  # trust this test certificate (as a deployment trusts its CA bundle)
    dns.answers["hooks.brand.test"] = [["127.0.0.1"], ["10.9.9.9"]]
    stored(f"https://hooks.brand.test:{hooks.port}/hooks")
    emit()
    assert services.webhooks_deliver(session=session) == {D.SUCCEEDED: 1}
    assert [r["host"] for r in hooks.requests] == [f"hooks.brand.test:{hooks.port}"]

    # The same server under a name its certificate does not carry is refused by TLS.
    dns.answers["other.brand.test"] = [["127.0.0.1"]]
    WebhookEndpoint.objects.update(url=f"https://other.brand.test:{hooks.port}/hooks")
    emit("R2")
    assert services.webhooks_deliver(session=session) == {D.FAILED: 1}
    assert "SSLError" in WebhookDelivery.objects.get(status=D.FAILED).last_error
    assert len(hooks.requests) == 1


def test_a_redirect_even_to_a_public_address_is_a_failed_delivery(db, loopback, receiver):
    hooks = receiver(status=307, location="http://169.254.169.254/latest/meta-data/")
    stored(f"http://127.0.0.1:{hooks.port}/hooks")
    emit()
    assert services.webhooks_deliver() == {D.FAILED: 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 307 and "not followed" in delivery.last_error


def test_the_console_shows_a_ping_status_line_not_the_body(console, loopback, receiver):
    secret = b"<script>alert(1)</script> root:x:0:0 internal-admin-token-123"
    hooks = receiver(body=secret)
    endpoint, _secret = services.endpoint_create(url=f"http://127.0.0.1:{hooks.port}/hooks", events=["order.paid"])
    ping = console.post(reverse("admin:webhooks_webhookendpoint_send_ping", args=[endpoint.pk]), follow=True)
    delivery = WebhookDelivery.objects.get(event_type="ping")
    assert delivery.status == D.SUCCEEDED and delivery.last_response == "HTTP 200 OK"
    page = ping.content.decode()
    assert "internal-admin-token-123" not in page and "<script>alert(1)" not in page
    assert "HTTP 200 OK" in page


@pytest.mark.parametrize(
    "url",
    [
        "ftp://public.brand.test/",
        "http://public.brand.test:0/",
        "http://public.brand.test:99999/",
        "gopher://public.brand.test:70/",
    ],
)
def test_only_http_and_https_on_a_real_port(db, dns, url):
    with pytest.raises(BusinessError):
        services.endpoint_create(url=url, events=["order.paid"])
    with pytest.raises(safety.UnsafeAddress):
        safety.resolve(url)


def test_an_ipv6_endpoint_is_reached_at_its_checked_address(db, loopback):
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers.get("Host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    try:
        server = Server(("::1", 0), Handler)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        stored(f"http://[::1]:{port}/hooks")
        emit()
        assert services.webhooks_deliver() == {D.SUCCEEDED: 1}
        assert seen == [f"[::1]:{port}"]
    finally:
        server.shutdown()
        server.server_close()
