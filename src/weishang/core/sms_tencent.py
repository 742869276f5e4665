"""Tencent Cloud SMS (腾讯云短信), the SMS provider adapter: ``SendSms`` of API version 2021-01-11
through Tencent's own SDK, which signs each request (TC3-HMAC-SHA256).

The settings are ``WEISHANG_SMS_TENCENT`` (docs/operations.md says where a brand finds each):
the API key (``SECRET_ID``, ``SECRET_KEY``), the SMS application (``SDK_APP_ID``), the approved
signature (``SIGN_NAME``, shown as 【…】 before every message), the region, and one approved
template id per purpose of ``core.sms.PURPOSES``. ``ENDPOINT`` and ``SCHEME`` point it at the fake
(``weishang.core.fake_sms``) in tests and on a developer's machine.
"""

from __future__ import annotations

from django.conf import settings
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from weishang.core.sms import PURPOSES, Sms, SmsError

REQUIRED = ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME")


def missing_settings(conf: dict) -> list[str]:
    """What a brand has not filled in yet (the names of ``WEISHANG_SMS_TENCENT``'s keys)."""
    templates = conf.get("TEMPLATES") or {}
    return [key for key in REQUIRED if not conf.get(key)] + [
        f"TEMPLATES[{purpose}]" for purpose in PURPOSES if not templates.get(purpose)
    ]


def e164(phone: str) -> str:
    """A mainland number as Tencent wants it: +86 and the 11 digits."""
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentSmsBackend:
    def __init__(self) -> None:
        self.conf = settings.WEISHANG_SMS_TENCENT

    def _client(self) -> sms_client.SmsClient:
        conf = self.conf
        http = HttpProfile(protocol=conf.get("SCHEME") or "https", endpoint=conf.get("ENDPOINT") or None, reqTimeout=10)
        return sms_client.SmsClient(
            credential.Credential(conf["SECRET_ID"], conf["SECRET_KEY"]),
            conf.get("REGION") or "ap-guangzhou",
            ClientProfile(httpProfile=http),
        )

    def send(self, message: Sms) -> str:
        template = (self.conf.get("TEMPLATES") or {}).get(message.purpose)
        if not template or any(not self.conf.get(key) for key in REQUIRED):
            raise SmsError(f"Tencent SMS is not set up for {message.purpose}", code="NotConfigured")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(message.phone)]
        request.SmsSdkAppId = str(self.conf["SDK_APP_ID"])
        request.SignName = self.conf["SIGN_NAME"]
        request.TemplateId = str(template)
        request.TemplateParamSet = list(message.params)
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            raise SmsError(f"{exc.get_code()}: {exc.get_message()}"[:200], code=exc.get_code()) from None
        status = response.SendStatusSet[0]
        if status.Code != "Ok":
            raise SmsError(f"{status.Code}: {status.Message}"[:200], code=status.Code)
        return status.SerialNo
