"""A payment provider that pays nothing: for development, the demo, and tests of the order flow.

``create_payment`` returns a deterministic intent (same request, same intent) without any I/O.
``parse_notification`` accepts a JSON body::

    {"transaction_id": "FAKE-1", "out_trade_no": "WS202605010001", "amount_fen": 29800, "state": "SUCCESS"}

(optionally with ``"currency"`` and ``"paid_at"``) only if its ``X-Fake-Signature`` header is the
HMAC-SHA256 of the exact body under a key derived from ``settings.SECRET_KEY`` — so only code
holding the secret (the server itself, or a test) can mark an order paid. Use
:meth:`FakeProvider.sign` or :meth:`FakeProvider.notification` to make one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from .base import InvalidNotification, PaymentIntent, PaymentNotice, PaymentRequest, check_request, get_header

SIGNATURE_HEADER = "X-Fake-Signature"
_SALT = "weishang.trade.providers.fake"


def _signature(body: bytes) -> str:
    from django.utils.crypto import salted_hmac

    return salted_hmac(_SALT, body, algorithm="sha256").hexdigest()


def _cashier_token(out_trade_no: str) -> str:
    from django.utils.crypto import salted_hmac

    return salted_hmac(f"{_SALT}.cashier", out_trade_no, algorithm="sha256").hexdigest()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


class FakeProvider:
    name = "fake"

    def create_payment(self, request: PaymentRequest, *, channel: str = "jsapi") -> PaymentIntent:
        check_request(request, channel)
        ref = f"fake-{request.out_trade_no}-{request.amount_fen}"
        return PaymentIntent(
            provider=self.name,
            out_trade_no=request.out_trade_no,
            prepay_id=ref if channel == "jsapi" else None,
            code_url=f"weixin://wxpay/bizpayurl?pr={ref}" if channel == "native" else None,
            # A page of this server that simulates WeChat's cashier (weishang.web.pay_views). Its
            # link carries the order's secret, so only who was given the link (the buyer, or the
            # consumer on the shop order's page) can use it: it pays without any money.
            h5_url=(
                f"/pay/fake/{request.out_trade_no}/?t={_cashier_token(request.out_trade_no)}"
                if channel == "h5"
                else None
            ),
            raw={"channel": channel, "out_trade_no": request.out_trade_no, "amount_fen": request.amount_fen},
        )

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """JSAPI's arguments, shaped as WeChat's (the signature is the fake's own): the page passes
        them to ``WeixinJSBridge``; outside WeChat's real client the development cashier pays."""
        out_trade_no = prepay_id.split("-")[1] if prepay_id.count("-") >= 2 else prepay_id
        return {
            "appId": "wxfake0000demo",
            "timeStamp": "0",
            "nonceStr": secrets.token_hex(8),
            "package": f"prepay_id={prepay_id}",
            "signType": "RSA",
            "paySign": _cashier_token(out_trade_no),
        }

    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> PaymentNotice:
        from django.utils.crypto import constant_time_compare

        body = _as_bytes(body)
        given = get_header(headers, SIGNATURE_HEADER)
        if not given:
            raise InvalidNotification(f"missing header {SIGNATURE_HEADER}")
        if not constant_time_compare(given, _signature(body)):
            raise InvalidNotification("bad signature")
        try:
            data = json.loads(body)
        except ValueError:
            raise InvalidNotification("body is not JSON") from None
        if not isinstance(data, dict):
            raise InvalidNotification("body is not a JSON object")
        for key in ("transaction_id", "out_trade_no", "state"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise InvalidNotification(f"{key} is missing")
        amount = data.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidNotification("amount_fen is missing or not a whole number of fen")
        return PaymentNotice(
            provider=self.name,
            transaction_id=data["transaction_id"],
            out_trade_no=data["out_trade_no"],
            amount_fen=amount,
            currency=str(data.get("currency") or "CNY"),
            state=data["state"],
            paid_at=data.get("paid_at"),
            raw=data,
        )

    @classmethod
    def cashier_token(cls, out_trade_no: str) -> str:
        """The secret in the development cashier's link for one order (keyed on SECRET_KEY)."""
        return _cashier_token(out_trade_no)

    @classmethod
    def check_cashier_token(cls, out_trade_no: str, token: str | None) -> bool:
        from django.utils.crypto import constant_time_compare

        return bool(token) and constant_time_compare(token, _cashier_token(out_trade_no))

    @classmethod
    def sign(cls, body: bytes | str) -> dict[str, str]:
        """The headers that make ``body`` acceptable to :meth:`parse_notification`."""
        return {SIGNATURE_HEADER: _signature(_as_bytes(body)), "Content-Type": "application/json"}

    @classmethod
    def notification(
        cls,
        *,
        out_trade_no: str,
        amount_fen: int,
        transaction_id: str | None = None,
        state: str = "SUCCESS",
        **extra: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed notify callback, as ``(body, headers)``, e.g. to simulate a payment in the demo."""
        payload = {
            "transaction_id": transaction_id or f"FAKE-{out_trade_no}",
            "out_trade_no": out_trade_no,
            "amount_fen": amount_fen,
            "state": state,
            **extra,
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return body, cls.sign(body)
