"""Payment providers: WeChat Pay v3 (``wechatpay``) and a signed fake for development (``fake``).

Import the adapters from their own modules (``providers.wechatpay``, ``providers.fake``);
this package only re-exports the interface, so importing it does not import the WeChat Pay SDK.
"""

from .base import (
    CHANNELS,
    InvalidNotification,
    PaymentIntent,
    PaymentNotice,
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    get_provider,
)

__all__ = [
    "CHANNELS",
    "InvalidNotification",
    "PaymentIntent",
    "PaymentNotice",
    "PaymentProvider",
    "PaymentRequest",
    "ProviderError",
    "get_provider",
]
