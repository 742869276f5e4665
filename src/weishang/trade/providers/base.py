"""The payment-provider interface: what the order flow asks of WeChat Pay (or of the fake).

A provider does two things:

- ``create_payment(request, channel=...)`` asks the provider to open a payment for one order
  and returns a :class:`PaymentIntent` (a JSAPI ``prepay_id``, a Native ``code_url`` or an
  H5 ``h5_url``, depending on the channel);
- ``parse_notification(headers, body)`` checks that a notify callback really comes from the
  provider (signature, freshness, decryption) and returns a :class:`PaymentNotice`, or raises
  :class:`InvalidNotification`.

Amounts are integers in fen (分), as WeChat Pay counts them: ``amount_fen=29800`` is ¥298.00.

This module is plain Python: no Django models. Only :func:`get_provider` reads Django settings,
and only when it is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Channel = Literal["jsapi", "native", "h5"]
CHANNELS: tuple[str, ...] = ("jsapi", "native", "h5")


class ProviderError(Exception):
    """The provider refused a request, answered with an error, or could not be reached."""


class InvalidNotification(ProviderError):
    """A notify callback failed its checks: bad signature, stale timestamp, undecryptable or malformed body.

    The view that receives the callback should answer with a 4xx and change nothing.
    """


@dataclass(frozen=True)
class PaymentRequest:
    out_trade_no: str
    amount_fen: int
    description: str
    payer_openid: str | None = None  # required by the JSAPI channel (WeChat in-app / mini program)
    client_ip: str | None = None  # required by the H5 channel (mobile browser outside WeChat)
    time_expire: str | None = None  # RFC 3339 ("2026-05-01T10:34:56+08:00"): no payment is taken after it


@dataclass(frozen=True)
class PaymentIntent:
    provider: str
    out_trade_no: str
    prepay_id: str | None
    code_url: str | None
    h5_url: str | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentNotice:
    provider: str
    transaction_id: str
    out_trade_no: str
    amount_fen: int
    currency: str
    state: str  # WeChat's trade_state: "SUCCESS", "REFUND", "CLOSED", "NOTPAY", "PAYERROR", ...
    paid_at: str | None  # WeChat's success_time, RFC 3339 ("2026-05-01T10:34:56+08:00")
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_paid(self) -> bool:
        return self.state == "SUCCESS"


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest, *, channel: str = "jsapi") -> PaymentIntent: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> PaymentNotice: ...


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Look ``name`` up in ``headers`` case-insensitively.

    Accepts a plain dict, Django's ``request.headers`` and Django's ``request.META``
    (where ``Wechatpay-Signature`` is spelled ``HTTP_WECHATPAY_SIGNATURE``).
    """
    meta_name = "HTTP_" + name.upper().replace("-", "_")
    wanted = name.lower()
    for key, value in headers.items():
        if key == meta_name or key.lower() == wanted:
            return value
    return None


def check_request(request: PaymentRequest, channel: str) -> None:
    """Refuse, before any network call, a request that no provider could accept."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown payment channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if isinstance(request.amount_fen, bool) or not isinstance(request.amount_fen, int) or request.amount_fen <= 0:
        raise ValueError(f"amount_fen must be a positive integer number of fen, not {request.amount_fen!r}")
    if not request.out_trade_no:
        raise ValueError("out_trade_no is required")
    if not request.description:
        raise ValueError("description is required")
    if channel == "jsapi" and not request.payer_openid:
        raise ValueError("the jsapi channel needs payer_openid")
    if channel == "h5" and not request.client_ip:
        raise ValueError("the h5 channel needs client_ip")


def get_provider(name: str) -> PaymentProvider:
    """Build the provider called ``name`` from ``settings.WEISHANG_PAYMENT_PROVIDERS``.

    The setting maps a name to a dotted class path and the keyword arguments of its constructor::

        WEISHANG_PAYMENT_PROVIDERS = {
            "fake": {"CLASS": "weishang.trade.providers.fake.FakeProvider"},
            "wechatpay": {
                "CLASS": "weishang.trade.providers.wechatpay.WeChatPayProvider",
                "OPTIONS": {
                    "mchid": "1900000109",
                    "appid": "wx8888888888888888",
                    "private_key_pem": Path("/etc/weishang/apiclient_key.pem").read_text(),
                    "cert_serial_no": "444F4864EA9B34415...",
                    "apiv3_key": os.environ["WECHATPAY_APIV3_KEY"],
                    "notify_url": "https://shop.example.com/pay/notify/wechatpay/",
                    "platform_public_key_pem": Path("/etc/weishang/pub_key.pem").read_text(),
                    "platform_public_key_id": "PUB_KEY_ID_0119...",
                },
            },
        }

    A new instance is built on every call (settings are read then, not at import time); the
    constructors are cheap and do no network I/O. There is no default: an unknown name, or a
    missing setting, raises ``ImproperlyConfigured``.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    providers = getattr(settings, "WEISHANG_PAYMENT_PROVIDERS", None) or {}
    try:
        spec = providers[name]
    except KeyError:
        known = ", ".join(sorted(providers)) or "none"
        raise ImproperlyConfigured(
            f"payment provider {name!r} is not configured in settings.WEISHANG_PAYMENT_PROVIDERS (configured: {known})"
        ) from None
    try:
        cls = import_string(spec["CLASS"])
    except (KeyError, ImportError) as exc:
        raise ImproperlyConfigured(f"payment provider {name!r}: bad or missing CLASS: {exc}") from exc
    return cls(**spec.get("OPTIONS", {}))


def online_provider_name() -> str | None:
    """The provider the pay buttons use: WeChat Pay when configured, else the development fake
    (never configured in production), else ``None`` (transfer and wallet only)."""
    from django.conf import settings

    providers = getattr(settings, "WEISHANG_PAYMENT_PROVIDERS", None) or {}
    return next((name for name in ("wechatpay", "fake") if name in providers), None)
