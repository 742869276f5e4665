"""WeChat's JS-SDK share cards: the page's ``wx.config`` (app id, time, nonce and signature over
the jsapi_ticket and the page's URL, as WeChat documents it), made on the server with the ticket
cached by ``client.jsapi_ticket``."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings

from weishang.core import clock
from weishang.wechat import client


def signature(*, ticket: str, nonce: str, timestamp: int, url: str) -> str:
    """sha1 of ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` (keys in that order, the URL without
    its ``#`` part)."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's documented signature


def page_config(url: str) -> dict:
    """What the page passes to ``wx.config`` for ``url``."""
    nonce = secrets.token_urlsafe(12)
    timestamp = int(clock.now().timestamp())
    return {
        "appId": settings.WEISHANG_WECHAT["APP_ID"],
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": signature(ticket=client.jsapi_ticket(), nonce=nonce, timestamp=timestamp, url=url),
    }
