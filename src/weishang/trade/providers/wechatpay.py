"""WeChat Pay API v3 adapter, built on the ``wechatpayv3`` SDK.

It runs in the SDK's *platform public key* mode (``public_key`` + ``public_key_id``): WeChat
Pay's answers and notify callbacks are checked against the public key downloaded once from the
merchant platform, so the SDK never has to fetch platform certificates from
``/v3/certificates``. Building a provider does no network I/O.

What the SDK does for us:

- ``WeChatPay.pay(...)`` builds the order body, signs the request (``Authorization:
  WECHATPAY2-SHA256-RSA2048 ...`` over ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n`` with the
  merchant private key) and verifies the signature of a 2xx answer with the platform key;
- ``WeChatPay.callback(headers, body)`` verifies ``Wechatpay-Signature`` over
  ``TIMESTAMP\\nNONCE\\nBODY\\n`` and decrypts ``resource`` (AEAD_AES_256_GCM with the APIv3 key);
- ``WeChatPay.sign([...])`` signs the parameters that a JSAPI page hands to ``wx.requestPayment``.

What this adapter adds on top:

- a replay window: the SDK does not look at ``Wechatpay-Timestamp``; we refuse callbacks more
  than :attr:`WeChatPayProvider.replay_window` seconds away from now;
- a serial check before the SDK sees a callback: with an unknown ``Wechatpay-Serial`` the SDK
  would go and download platform certificates, so a forged callback could make us call out;
- strict parsing of the decrypted resource into a :class:`PaymentNotice`, and the SDK's bare
  ``Exception``\\ s turned into :class:`ProviderError` / :class:`InvalidNotification`;
- a default timeout (the SDK's default is none at all);
- an optional ``transport``: a ``requests.Session`` through which the SDK sends its requests
  (for connection reuse, or a mounted fake adapter in tests).

The notify view must pass the raw request body (``request.body``), not re-serialised JSON:
the signature is over the exact bytes WeChat sent.
"""

from __future__ import annotations

import json
import secrets
import time
import types
from collections.abc import Mapping
from typing import Any

from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core
from wechatpayv3.utils import load_public_key, rsa_verify

from .base import (
    InvalidNotification,
    PaymentIntent,
    PaymentNotice,
    PaymentRequest,
    ProviderError,
    check_request,
    get_header,
)

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
NOTIFY_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
_PAY_TYPES = {"jsapi": WeChatPayType.JSAPI, "native": WeChatPayType.NATIVE, "h5": WeChatPayType.H5}


class WeChatPayProvider:
    """WeChat Pay v3, direct-merchant mode (直连商户), with a platform public key.

    ``private_key_pem`` is the merchant's ``apiclient_key.pem`` (PKCS#8, ``BEGIN PRIVATE KEY``),
    ``cert_serial_no`` the serial number of the merchant API certificate, ``apiv3_key`` the
    32-character APIv3 key, ``platform_public_key_pem`` / ``platform_public_key_id`` WeChat Pay's
    public key (``pub_key.pem``) and its id (``PUB_KEY_ID_...``), from the merchant platform.
    """

    name = "wechatpay"
    replay_window = 300  # seconds either side of now that a callback's timestamp may be

    def __init__(
        self,
        mchid: str,
        appid: str,
        private_key_pem: str,
        cert_serial_no: str,
        apiv3_key: str,
        notify_url: str,
        platform_public_key_pem: str,
        platform_public_key_id: str,
        *,
        transport: Any = None,
        timeout: float | tuple[float, float] = (5, 20),
    ) -> None:
        if len(apiv3_key.encode()) != 32:
            raise ProviderError("the WeChat Pay APIv3 key must be 32 bytes long")
        if not platform_public_key_pem or not platform_public_key_id:
            raise ProviderError("the platform public key and its id are required (certificate mode is not supported)")
        self.mchid = mchid
        self.appid = appid
        self.platform_public_key_id = platform_public_key_id
        try:
            self._platform_key = load_public_key(platform_public_key_pem)
            self._wxpay = WeChatPay(
                wechatpay_type=WeChatPayType.JSAPI,
                mchid=mchid,
                private_key=private_key_pem,
                cert_serial_no=cert_serial_no,
                appid=appid,
                apiv3_key=apiv3_key,
                notify_url=notify_url,
                timeout=timeout,
                public_key=platform_public_key_pem,
                public_key_id=platform_public_key_id,
            )
        except Exception as exc:  # the SDK raises bare Exception for unreadable keys
            raise ProviderError(f"WeChat Pay is misconfigured: {exc}") from exc
        if transport is not None:
            _send_through(self._wxpay._core, transport)

    # --- paying ---------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, channel: str = "jsapi") -> PaymentIntent:
        check_request(request, channel)
        kwargs: dict[str, Any] = {
            "description": request.description,
            "out_trade_no": request.out_trade_no,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
            "pay_type": _PAY_TYPES[channel],
        }
        if channel == "jsapi":
            kwargs["payer"] = {"openid": request.payer_openid}
        if request.time_expire:
            kwargs["time_expire"] = request.time_expire
        if request.client_ip:
            kwargs["scene_info"] = {"payer_client_ip": request.client_ip}
        if channel == "h5":
            kwargs["scene_info"]["h5_info"] = {"type": "Wap"}
        try:
            status, text = self._wxpay.pay(**kwargs)
        except Exception as exc:  # network errors, and the SDK's bare Exception for a bad answer signature
            raise ProviderError(f"WeChat Pay order {request.out_trade_no}: {exc}") from exc
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not 200 <= status < 300:
            raise ProviderError(f"WeChat Pay order {request.out_trade_no}: HTTP {status}: {_error_text(text)}")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ProviderError(f"WeChat Pay order {request.out_trade_no}: answer is not JSON") from exc
        wanted = {"jsapi": "prepay_id", "native": "code_url", "h5": "h5_url"}[channel]
        if not isinstance(raw, dict) or not raw.get(wanted):
            raise ProviderError(f"WeChat Pay order {request.out_trade_no}: answer has no {wanted}")
        return PaymentIntent(
            provider=self.name,
            out_trade_no=request.out_trade_no,
            prepay_id=raw.get("prepay_id"),
            code_url=raw.get("code_url"),
            h5_url=raw.get("h5_url"),
            raw=raw,
        )

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """The arguments of ``wx.requestPayment`` / ``WeixinJSBridge.invoke('getBrandWCPayRequest')``."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._wxpay.sign([self.appid, timestamp, nonce, package]),
        }

    # --- notify callbacks -----------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> PaymentNotice:
        wanted = {name: get_header(headers, name) for name in NOTIFY_HEADERS}
        missing = [name for name, value in wanted.items() if not value]
        if missing:
            raise InvalidNotification(f"missing header(s): {', '.join(missing)}")
        if wanted["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
            raise InvalidNotification(f"unsupported signature type {wanted['Wechatpay-Signature-Type']!r}")
        if wanted["Wechatpay-Serial"] != self.platform_public_key_id:
            # Checked here: the SDK would try to download platform certificates for an unknown serial.
            raise InvalidNotification(f"unknown Wechatpay-Serial {wanted['Wechatpay-Serial']!r}")
        try:
            timestamp = int(wanted["Wechatpay-Timestamp"])
        except ValueError:
            raise InvalidNotification("Wechatpay-Timestamp is not a number") from None
        if abs(time.time() - timestamp) > self.replay_window:
            raise InvalidNotification(f"Wechatpay-Timestamp {timestamp} is outside the {self.replay_window}s window")
        if isinstance(body, bytes):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidNotification("body is not UTF-8") from None

        try:
            data = self._wxpay.callback(wanted, body)
        except Exception as exc:  # malformed JSON / base64, unsupported algorithm: the SDK raises as it goes
            raise InvalidNotification(f"unreadable notification: {exc}") from exc
        if not data:
            # The SDK answers None for a bad signature and for a resource it cannot decrypt; say which.
            if not rsa_verify(
                wanted["Wechatpay-Timestamp"],
                wanted["Wechatpay-Nonce"],
                body,
                wanted["Wechatpay-Signature"],
                self._platform_key,
            ):
                raise InvalidNotification("bad signature")
            raise InvalidNotification("resource could not be decrypted (wrong APIv3 key?) or is not encrypted")
        return self._notice(data)

    def _notice(self, data: dict[str, Any]) -> PaymentNotice:
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise InvalidNotification("decrypted resource is not an object")
        amount = resource.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise InvalidNotification("resource.amount.total is missing or not a whole number of fen")
        fields = {}
        for key in ("transaction_id", "out_trade_no", "trade_state"):
            value = resource.get(key)
            if not isinstance(value, str) or not value:
                raise InvalidNotification(f"resource.{key} is missing")
            fields[key] = value
        if resource.get("mchid") not in (None, self.mchid):
            raise InvalidNotification(f"notification is for merchant {resource.get('mchid')!r}, not {self.mchid!r}")
        return PaymentNotice(
            provider=self.name,
            transaction_id=fields["transaction_id"],
            out_trade_no=fields["out_trade_no"],
            amount_fen=total,
            currency=str(amount.get("currency") or "CNY"),
            state=fields["trade_state"],
            paid_at=resource.get("success_time"),
            raw=data,
        )


def _error_text(text: str) -> str:
    """WeChat Pay's error answers are {"code": "PARAM_ERROR", "message": "..."}."""
    try:
        err = json.loads(text)
        return f"{err['code']}: {err.get('message', '')}"
    except (ValueError, TypeError, KeyError):
        return text[:200]


def _send_through(core: Core, transport: Any) -> None:
    """Make this SDK ``Core`` send its HTTP requests through ``transport`` (a ``requests.Session``).

    ``Core.request`` calls the module-level ``requests.get/post/...`` and has no hook for a
    session. Rather than copy its signing and verifying code, this binds to ``core`` a copy of
    that very function whose global ``requests`` is the transport (a Session has the same
    ``get/post/put/patch/delete`` methods). Only this instance is affected; nothing global is
    patched, so it is thread-safe.
    """
    func = Core.request
    if "requests" not in func.__code__.co_names:
        raise ProviderError("this wechatpayv3 version no longer calls requests.*; a transport cannot be injected")
    bound = types.FunctionType(
        func.__code__, {**func.__globals__, "requests": transport}, func.__name__, func.__defaults__, func.__closure__
    )
    bound.__kwdefaults__ = func.__kwdefaults__
    core.request = types.MethodType(bound, core)
