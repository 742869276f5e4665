"""The payment-provider interface: the WeChat Pay v3 adapter and the signed fake.

Everything runs offline. The tests make their own merchant key pair, their own "platform" key
pair (standing in for WeChat Pay's public key, public-key mode) and a random APIv3 key; a fake
WeChat Pay server, mounted as a ``requests`` transport adapter, checks the merchant's request
signature and answers with a response signed by the platform key. A guard fails any test that
opens a socket or resolves a host name.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import string
import time

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from requests.structures import CaseInsensitiveDict

from weishang.trade.providers import (
    InvalidNotification,
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    get_provider,
)
from weishang.trade.providers.fake import FakeProvider
from weishang.trade.providers.wechatpay import NOTIFY_HEADERS, WeChatPayProvider

MCHID = "1900000109"
APPID = "wx8888888888888888"
MERCHANT_SERIAL = "3775B6A45ACD588826D15E583A95F5DD2A5DE5B3"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025010100000000"
NOTIFY_URL = "https://shop.example.com/pay/notify/wechatpay/"


# --- keys ------------------------------------------------------------------------------------


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def merchant_key() -> rsa.RSAPrivateKey:
    return _rsa_key()


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return _rsa_key()


@pytest.fixture(scope="module")
def intruder_key() -> rsa.RSAPrivateKey:
    return _rsa_key()


@pytest.fixture
def apiv3_key() -> str:
    return secrets.token_hex(16)  # 32 characters, like the APIv3 key set on the merchant platform


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail the test if anything resolves a host or opens a connection (errors may be wrapped, so also record)."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield
    assert attempts == [], "the code under test tried to reach the network"


def make_provider(merchant_key, platform_key, apiv3_key, **kw) -> WeChatPayProvider:
    return WeChatPayProvider(
        mchid=MCHID,
        appid=APPID,
        private_key_pem=private_pem(merchant_key),
        cert_serial_no=MERCHANT_SERIAL,
        apiv3_key=apiv3_key,
        notify_url=NOTIFY_URL,
        platform_public_key_pem=public_pem(platform_key),
        platform_public_key_id=PUBLIC_KEY_ID,
        **kw,
    )


# --- notify callbacks, built as WeChat Pay sends them ---------------------------------------------


def wechat_sign(key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: str) -> str:
    return base64.b64encode(key.sign(f"{timestamp}\n{nonce}\n{body}\n".encode(), PKCS1v15(), SHA256())).decode()


def transaction(**overrides) -> dict:
    """The decrypted resource of a TRANSACTION.SUCCESS notification."""
    resource = {
        "mchid": MCHID,
        "appid": APPID,
        "out_trade_no": "WS202605010001",
        "transaction_id": "4200002345202605012345678901",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMB_DEBIT",
        "attach": "",
        "success_time": "2026-05-01T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 29800, "payer_total": 29800, "currency": "CNY", "payer_currency": "CNY"},
    }
    resource.update(overrides)
    return resource


def notify(
    resource: dict, *, platform_key, apiv3_key: str, timestamp: int | None = None, signer=None
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a notify callback: resource encrypted with AEAD_AES_256_GCM, headers signed."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    associated_data = "transaction"
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), associated_data.encode()
    )
    body = json.dumps(
        {
            "id": "EV-2026050110345600001",
            "create_time": "2026-05-01T10:34:57+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated_data,
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )
    ts = str(int(time.time()) if timestamp is None else timestamp)
    header_nonce = secrets.token_hex(16).upper()
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Signature": wechat_sign(signer or platform_key, ts, header_nonce, body),
        "Wechatpay-Serial": PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return body.encode(), headers


@pytest.fixture
def provider(merchant_key, platform_key, apiv3_key) -> WeChatPayProvider:
    return make_provider(merchant_key, platform_key, apiv3_key)


def test_valid_notification_parses(provider, platform_key, apiv3_key):
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key)

    notice = provider.parse_notification(headers, body)

    assert notice.provider == "wechatpay"
    assert notice.amount_fen == 29800
    assert notice.transaction_id == "4200002345202605012345678901"
    assert notice.out_trade_no == "WS202605010001"
    assert notice.state == "SUCCESS" and notice.is_paid
    assert notice.currency == "CNY"
    assert notice.paid_at == "2026-05-01T10:34:56+08:00"
    assert notice.raw["event_type"] == "TRANSACTION.SUCCESS"
    assert notice.raw["resource"]["payer"]["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def test_notification_read_from_a_django_request(provider, platform_key, apiv3_key):
    body, headers = notify(
        transaction(trade_state="CLOSED", amount={"total": 1, "currency": "CNY"}),
        platform_key=platform_key,
        apiv3_key=apiv3_key,
    )
    request = RequestFactory().post(
        "/pay/notify/wechatpay/", data=body, content_type="application/json", headers=headers
    )

    from_headers = provider.parse_notification(request.headers, request.body)
    from_meta = provider.parse_notification(request.META, request.body)

    assert from_headers == from_meta
    assert (from_headers.state, from_headers.amount_fen, from_headers.is_paid) == ("CLOSED", 1, False)


def test_tampered_body_is_rejected(provider, platform_key, apiv3_key):
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key)
    tampered = body.replace(b"EV-2026050110345600001", b"EV-2026050110345600002")
    assert tampered != body

    with pytest.raises(InvalidNotification, match="bad signature"):
        provider.parse_notification(headers, tampered)


def test_signature_by_another_key_is_rejected(provider, platform_key, intruder_key, apiv3_key):
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key, signer=intruder_key)

    with pytest.raises(InvalidNotification, match="bad signature"):
        provider.parse_notification(headers, body)


def test_wrong_apiv3_key_fails_decryption(merchant_key, platform_key, apiv3_key):
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key)
    misconfigured = make_provider(merchant_key, platform_key, secrets.token_hex(16))

    with pytest.raises(InvalidNotification, match="could not be decrypted"):
        misconfigured.parse_notification(headers, body)
    # The same callback is fine for a provider with the right key: only decryption failed.
    assert make_provider(merchant_key, platform_key, apiv3_key).parse_notification(headers, body).amount_fen == 29800


@pytest.mark.parametrize("skew", [-301, -3600, 301])
def test_timestamp_outside_the_replay_window_is_rejected(provider, platform_key, apiv3_key, skew):
    body, headers = notify(
        transaction(), platform_key=platform_key, apiv3_key=apiv3_key, timestamp=int(time.time()) + skew
    )

    with pytest.raises(InvalidNotification, match="window"):
        provider.parse_notification(headers, body)


def test_timestamp_inside_the_replay_window_is_accepted(provider, platform_key, apiv3_key):
    body, headers = notify(
        transaction(), platform_key=platform_key, apiv3_key=apiv3_key, timestamp=int(time.time()) - 240
    )

    assert provider.parse_notification(headers, body).transaction_id == "4200002345202605012345678901"


@pytest.mark.parametrize("header", NOTIFY_HEADERS)
def test_missing_header_is_rejected(provider, platform_key, apiv3_key, header):
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key)
    del headers[header]

    with pytest.raises(InvalidNotification, match=f"missing header.*{header}"):
        provider.parse_notification(headers, body)


def test_unknown_serial_is_rejected_without_fetching_certificates(provider, platform_key, apiv3_key):
    # Left to itself the SDK would download /v3/certificates to look for this serial; no_network checks it doesn't.
    body, headers = notify(transaction(), platform_key=platform_key, apiv3_key=apiv3_key)
    headers["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"

    with pytest.raises(InvalidNotification, match="Wechatpay-Serial"):
        provider.parse_notification(headers, body)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (transaction(amount=None), "amount.total"),
        (transaction(amount={"total": "29800", "currency": "CNY"}), "amount.total"),
        (transaction(amount={"total": 298.0, "currency": "CNY"}), "amount.total"),
        (transaction(transaction_id=None), "transaction_id"),
        (transaction(out_trade_no=""), "out_trade_no"),
        (transaction(trade_state=None), "trade_state"),
        (transaction(mchid="1900000999"), "merchant"),
    ],
)
def test_signed_but_malformed_resource_is_rejected(provider, platform_key, apiv3_key, resource, message):
    body, headers = notify(resource, platform_key=platform_key, apiv3_key=apiv3_key)

    with pytest.raises(InvalidNotification, match=message):
        provider.parse_notification(headers, body)


def test_signed_body_that_is_not_json_is_rejected(provider, platform_key):
    body = "not json at all"
    ts, nonce = str(int(time.time())), "ABC"
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": PUBLIC_KEY_ID,
        "Wechatpay-Signature": wechat_sign(platform_key, ts, nonce, body),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }

    with pytest.raises(InvalidNotification, match="unreadable"):
        provider.parse_notification(headers, body.encode())


# --- creating payments, against a fake WeChat Pay server ------------------------------------------


class FakeWeChatPay(requests.adapters.BaseAdapter):
    """Answers every request like api.mch.weixin.qq.com would, signed by the platform key; records the requests."""

    def __init__(self, platform_key, *, status=200, answer=None, signer=None, serial=PUBLIC_KEY_ID):
        super().__init__()
        self.platform_key, self.status, self.answer = platform_key, status, answer
        self.signer, self.serial = signer or platform_key, serial
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        path = request.path_url
        if self.answer is not None:
            payload = self.answer
        elif path.endswith("/jsapi"):
            payload = {"prepay_id": "wx01103457123456789abcdef0123456789"}
        elif path.endswith("/native"):
            payload = {"code_url": "weixin://wxpay/bizpayurl?pr=aIQrOYOzz"}
        elif path.endswith("/h5"):
            payload = {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx01"}
        else:
            payload = {"code": "NOT_FOUND", "message": f"no such path {path}"}
        text = json.dumps(payload)
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        response = requests.Response()
        response.status_code = self.status
        response.headers = CaseInsensitiveDict(
            {
                "Content-Type": "application/json; charset=utf-8",
                "Request-ID": "08F78BB5AF0610D302",
                "Wechatpay-Timestamp": ts,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": wechat_sign(self.signer, ts, nonce, text),
                "Wechatpay-Serial": self.serial,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            }
        )
        response._content = text.encode()
        response.encoding = "utf-8"
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


def session_for(server: FakeWeChatPay) -> requests.Session:
    session = requests.Session()
    session.mount("https://", server)
    return session


def check_signed_request(request: requests.PreparedRequest, merchant_key) -> dict[str, str]:
    """Verify a request's WECHATPAY2-SHA256-RSA2048 Authorization like WeChat Pay does; return its fields."""
    scheme, _, params = request.headers["Authorization"].partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    assert fields["mchid"] == MCHID
    assert fields["serial_no"] == MERCHANT_SERIAL
    assert abs(int(fields["timestamp"]) - time.time()) < 60
    body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
    message = f"{request.method}\n{request.path_url}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n".encode()
    signature = base64.b64decode(fields["signature"])
    merchant_key.public_key().verify(signature, message, PKCS1v15(), SHA256())  # raises InvalidSignature
    with pytest.raises(InvalidSignature):  # and it is the merchant's key that made it
        _rsa_key().public_key().verify(signature, message, PKCS1v15(), SHA256())
    return fields


ORDER = PaymentRequest(
    out_trade_no="WS202605010001",
    amount_fen=29800,
    description="微商 · 玻尿酸原液 x2",
    payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    client_ip="203.0.113.7",
)


def test_create_jsapi_payment_sends_a_signed_request(merchant_key, platform_key, apiv3_key):
    server = FakeWeChatPay(platform_key)
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    intent = provider.create_payment(ORDER, channel="jsapi")

    assert intent.provider == "wechatpay"
    assert intent.out_trade_no == "WS202605010001"
    assert intent.prepay_id == "wx01103457123456789abcdef0123456789"
    assert intent.code_url is None and intent.h5_url is None
    [sent] = server.requests
    assert sent.method == "POST"
    assert sent.url == "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    assert sent.headers["Wechatpay-Serial"] == PUBLIC_KEY_ID
    check_signed_request(sent, merchant_key)
    order = json.loads(sent.body)
    assert order["appid"] == APPID and order["mchid"] == MCHID
    assert order["out_trade_no"] == "WS202605010001"
    assert order["description"] == "微商 · 玻尿酸原液 x2"
    assert order["amount"] == {"total": 29800, "currency": "CNY"}
    assert order["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert order["notify_url"] == NOTIFY_URL
    assert "time_expire" not in order


def test_an_order_that_expires_tells_wechat_pay_when(merchant_key, platform_key, apiv3_key):
    """A shop order expires (M7): WeChat Pay is told to take no money after its deadline."""
    import dataclasses

    server = FakeWeChatPay(platform_key)
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))
    provider.create_payment(dataclasses.replace(ORDER, time_expire="2026-05-02T10:34:56+08:00"), channel="jsapi")
    [sent] = server.requests
    assert json.loads(sent.body)["time_expire"] == "2026-05-02T10:34:56+08:00"


@pytest.mark.parametrize(
    ("channel", "path", "attr", "value"),
    [
        ("native", "/v3/pay/transactions/native", "code_url", "weixin://wxpay/bizpayurl?pr=aIQrOYOzz"),
        (
            "h5",
            "/v3/pay/transactions/h5",
            "h5_url",
            "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx01",
        ),
    ],
)
def test_create_native_and_h5_payments(merchant_key, platform_key, apiv3_key, channel, path, attr, value):
    server = FakeWeChatPay(platform_key)
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    intent = provider.create_payment(ORDER, channel=channel)

    assert getattr(intent, attr) == value
    assert intent.prepay_id is None
    [sent] = server.requests
    assert sent.path_url == path
    check_signed_request(sent, merchant_key)
    order = json.loads(sent.body)
    assert "payer" not in order
    assert order["scene_info"]["payer_client_ip"] == "203.0.113.7"
    if channel == "h5":
        assert order["scene_info"]["h5_info"] == {"type": "Wap"}


def test_create_payment_without_a_transport_uses_the_sdk_as_it_is(merchant_key, platform_key, apiv3_key, monkeypatch):
    # transport=None leaves the SDK's own requests.post in place; answer it at the adapter level.
    server = FakeWeChatPay(platform_key)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **kw: server.send(request))
    provider = make_provider(merchant_key, platform_key, apiv3_key)

    assert provider.create_payment(ORDER).prepay_id == "wx01103457123456789abcdef0123456789"
    check_signed_request(server.requests[0], merchant_key)


def test_error_answer_raises_provider_error(merchant_key, platform_key, apiv3_key):
    server = FakeWeChatPay(platform_key, status=400, answer={"code": "PARAM_ERROR", "message": "参数错误"})
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    with pytest.raises(ProviderError, match="HTTP 400: PARAM_ERROR"):
        provider.create_payment(ORDER)
    assert len(server.requests) == 1


def test_answer_not_signed_by_the_platform_raises_provider_error(merchant_key, platform_key, intruder_key, apiv3_key):
    server = FakeWeChatPay(platform_key, signer=intruder_key)
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    with pytest.raises(ProviderError, match="signature"):
        provider.create_payment(ORDER)


def test_answer_without_the_expected_field_raises_provider_error(merchant_key, platform_key, apiv3_key):
    server = FakeWeChatPay(platform_key, answer={"something": "else"})
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    with pytest.raises(ProviderError, match="no prepay_id"):
        provider.create_payment(ORDER)


@pytest.mark.parametrize(
    ("request_", "channel", "message"),
    [
        (PaymentRequest("WS1", 100, "x"), "jsapi", "payer_openid"),
        (PaymentRequest("WS1", 100, "x"), "h5", "client_ip"),
        (PaymentRequest("WS1", 0, "x", payer_openid="o"), "jsapi", "positive"),
        (PaymentRequest("WS1", 100, "x", payer_openid="o"), "app", "channel"),
    ],
)
def test_bad_request_is_refused_before_calling_wechat(
    merchant_key, platform_key, apiv3_key, request_, channel, message
):
    server = FakeWeChatPay(platform_key)
    provider = make_provider(merchant_key, platform_key, apiv3_key, transport=session_for(server))

    with pytest.raises(ValueError, match=message):
        provider.create_payment(request_, channel=channel)
    assert server.requests == []


def test_jsapi_params_are_signed_for_wx_request_payment(provider, merchant_key):
    params = provider.jsapi_params("wx01103457123456789abcdef0123456789")

    assert params["package"] == "prepay_id=wx01103457123456789abcdef0123456789"
    assert params["appId"] == APPID and params["signType"] == "RSA"
    message = f"{APPID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    merchant_key.public_key().verify(base64.b64decode(params["paySign"]), message, PKCS1v15(), SHA256())


def test_misconfiguration_is_reported(merchant_key, platform_key):
    with pytest.raises(ProviderError, match="32 bytes"):
        make_provider(merchant_key, platform_key, "too-short")
    with pytest.raises(ProviderError, match="misconfigured"):
        WeChatPayProvider(
            MCHID,
            APPID,
            "not a key",
            MERCHANT_SERIAL,
            secrets.token_hex(16),
            NOTIFY_URL,
            public_pem(platform_key),
            PUBLIC_KEY_ID,
        )


# --- the fake provider -------------------------------------------------------------------------


def test_fake_provider_round_trip():
    fake = FakeProvider()
    intent = fake.create_payment(ORDER, channel="native")
    assert intent == fake.create_payment(ORDER, channel="native")  # deterministic
    assert intent.code_url and "WS202605010001" in intent.code_url and intent.prepay_id is None

    body, headers = FakeProvider.notification(out_trade_no="WS202605010001", amount_fen=29800, transaction_id="FAKE-42")
    notice = fake.parse_notification(headers, body)

    assert (notice.provider, notice.out_trade_no, notice.transaction_id) == ("fake", "WS202605010001", "FAKE-42")
    assert notice.amount_fen == 29800 and notice.state == "SUCCESS" and notice.currency == "CNY"


def test_fake_provider_accepts_a_body_signed_with_sign():
    body = json.dumps({"transaction_id": "T1", "out_trade_no": "WS9", "amount_fen": 5, "state": "REFUND"})

    notice = FakeProvider().parse_notification(FakeProvider.sign(body), body.encode())

    assert (notice.out_trade_no, notice.amount_fen, notice.state) == ("WS9", 5, "REFUND")


def test_fake_provider_rejects_bad_signatures(settings):
    fake = FakeProvider()
    body, headers = FakeProvider.notification(out_trade_no="WS1", amount_fen=100)

    with pytest.raises(InvalidNotification, match="bad signature"):
        fake.parse_notification(headers, body.replace(b"100", b"1"))
    with pytest.raises(InvalidNotification, match="bad signature"):
        fake.parse_notification({"X-Fake-Signature": "0" * 64}, body)
    with pytest.raises(InvalidNotification, match="missing header"):
        fake.parse_notification({}, body)
    settings.SECRET_KEY = "another-secret-key-for-another-deployment"
    with pytest.raises(InvalidNotification, match="bad signature"):
        fake.parse_notification(headers, body)


def test_fake_provider_rejects_signed_but_malformed_bodies():
    for payload, message in [
        ({"transaction_id": "T", "out_trade_no": "WS1", "amount_fen": "100", "state": "SUCCESS"}, "amount_fen"),
        ({"transaction_id": "T", "amount_fen": 100, "state": "SUCCESS"}, "out_trade_no"),
    ]:
        body = json.dumps(payload)
        with pytest.raises(InvalidNotification, match=message):
            FakeProvider().parse_notification(FakeProvider.sign(body), body)


# --- get_provider ---------------------------------------------------------------------------------


def test_get_provider_builds_the_configured_providers(settings, merchant_key, platform_key, apiv3_key):
    settings.WEISHANG_PAYMENT_PROVIDERS = {
        "fake": {"CLASS": "weishang.trade.providers.fake.FakeProvider"},
        "wechatpay": {
            "CLASS": "weishang.trade.providers.wechatpay.WeChatPayProvider",
            "OPTIONS": {
                "mchid": MCHID,
                "appid": APPID,
                "private_key_pem": private_pem(merchant_key),
                "cert_serial_no": MERCHANT_SERIAL,
                "apiv3_key": apiv3_key,
                "notify_url": NOTIFY_URL,
                "platform_public_key_pem": public_pem(platform_key),
                "platform_public_key_id": PUBLIC_KEY_ID,
            },
        },
    }

    fake, wechat = get_provider("fake"), get_provider("wechatpay")

    assert isinstance(fake, FakeProvider) and isinstance(fake, PaymentProvider)
    assert isinstance(wechat, WeChatPayProvider) and isinstance(wechat, PaymentProvider)
    assert wechat.mchid == MCHID
    with pytest.raises(ImproperlyConfigured, match="'alipay' is not configured"):
        get_provider("alipay")


def test_get_provider_without_the_setting(settings):
    if hasattr(settings, "WEISHANG_PAYMENT_PROVIDERS"):
        del settings.WEISHANG_PAYMENT_PROVIDERS

    with pytest.raises(ImproperlyConfigured, match="configured: none"):
        get_provider("fake")
