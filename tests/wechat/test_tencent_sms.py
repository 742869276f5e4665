"""Text messages through Tencent Cloud SMS, against the fake Tencent on loopback: the SDK's
signature verifies in the fake (written separately from Tencent's description); a code, a bind
code and a notice go out as the approved templates with their variables; Tencent's refusals (a
wrong key, an old clock, an unapproved template, a number texted twice in 30 seconds) reach the
caller as ``SmsError`` with Tencent's code (a notice refused so is retried later:
test_notification_delivery.py)."""

from __future__ import annotations

import json
import time

import pytest

from weishang.core import fake_sms
from weishang.core.checks import tencent_sms_check
from weishang.core.sms import Sms, SmsError, sms_send
from weishang.core.sms_tencent import TencentSmsBackend

TENCENT = "weishang.core.sms_tencent.TencentSmsBackend"


@pytest.fixture
def tencent(settings):
    fake = fake_sms.FakeTencentSms()
    with fake.serve() as endpoint:
        settings.WEISHANG_SMS_BACKEND = TENCENT
        settings.WEISHANG_SMS_TENCENT = fake.settings(endpoint)
        yield fake


def test_a_code_goes_out_as_the_approved_template_with_a_verified_signature(tencent):
    serial = sms_send(
        phone="13900001111", purpose="password_reset", params=("123456", "10"), text="【微商演示】验证码123456"
    )
    assert serial.startswith("2645:")
    assert tencent.messages == [
        {
            "phone": "+8613900001111",
            "template": "1000001",
            "params": ["123456", "10"],
            "serial": serial,
            "sign": "微商演示",
        }
    ]


def test_tencents_refusals_reach_the_caller_with_their_codes(tencent, settings):
    sms_send(phone="13900001112", purpose="notice", params=("有订单待审核",), text="有订单待审核")
    with pytest.raises(SmsError) as twice:
        sms_send(phone="13900001112", purpose="notice", params=("又一个",), text="又一个")
    assert twice.value.code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    good = dict(settings.WEISHANG_SMS_TENCENT)
    for change, code in [
        ({"SECRET_KEY": "not-the-key"}, "AuthFailure.SignatureFailure"),
        ({"SECRET_ID": "AKIDsomeoneelse"}, "AuthFailure.SecretIdNotFound"),
        ({"SIGN_NAME": "别的签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"TEMPLATES": {**good["TEMPLATES"], "notice": "9999999"}}, "FailedOperation.TemplateIncorrectOrUnapproved"),
    ]:
        settings.WEISHANG_SMS_TENCENT = {**good, **change}
        with pytest.raises(SmsError) as refused:
            sms_send(phone="13900001113", purpose="notice", params=("x",), text="x")
        assert refused.value.code == code, change
    settings.WEISHANG_SMS_TENCENT = good
    with pytest.raises(SmsError) as long_variable:
        sms_send(phone="13900001114", purpose="notice", params=("一二三四五六七八九十一二三",), text="…")
    assert long_variable.value.code == "InvalidParameterValue.TemplateParameterLengthLimit"
    assert [m["phone"] for m in tencent.messages] == ["+8613900001112"]


def test_an_old_clock_is_refused(tencent):
    tencent.clock_offset = 600  # our clock is ten minutes slow
    with pytest.raises(SmsError) as old:
        sms_send(phone="13900001115", purpose="notice", params=("x",), text="x")
    assert old.value.code == "AuthFailure.SignatureExpire"


def test_the_fake_checks_signatures_by_tencents_description():
    """A request signed by hand (not by the SDK) verifies; one byte changed in the body does not."""
    fake = fake_sms.FakeTencentSms()
    body = json.dumps(
        {
            "PhoneNumberSet": ["+8613900001116"],
            "SmsSdkAppId": fake.sdk_app_id,
            "SignName": "微商演示",
            "TemplateId": "1000003",
            "TemplateParamSet": ["hi"],
        }
    ).encode()
    stamp = str(int(time.time()))
    date = time.strftime("%Y-%m-%d", time.gmtime(int(stamp)))
    canonical = (
        "POST\n/\n\ncontent-type:application/json\nhost:sms.tencentcloudapi.com\n\n"
        f"content-type;host\n{fake_sms._sha256(body)}"
    )
    signature = fake_sms.tc3_signature(
        secret_key=fake.secret_key, date=date, service="sms", timestamp=stamp, canonical_request=canonical
    )
    headers = {
        "Authorization": f"TC3-HMAC-SHA256 Credential={fake.secret_id}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}",
        "Content-Type": "application/json",
        "Host": "sms.tencentcloudapi.com",
        "X-TC-Timestamp": stamp,
        "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11",
    }
    ok = fake.answer(method="POST", path="/", headers=headers, body=body)
    assert ok["Response"]["SendStatusSet"][0]["Code"] == "Ok"
    forged = fake.answer(method="POST", path="/", headers=headers, body=body.replace(b"hi", b"ho"))
    assert forged["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    for hostile in ("", "Bearer x", "TC3-HMAC-SHA256 Credential=../../etc", "x" * 5000):
        answer = fake.answer(method="POST", path="/", headers={**headers, "Authorization": hostile}, body=body)
        assert answer["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_a_missing_setting_is_a_system_check_error(settings):
    settings.WEISHANG_SMS_BACKEND = TENCENT
    settings.WEISHANG_SMS_TENCENT = {**fake_sms.FakeTencentSms().settings("x"), "SIGN_NAME": "", "TEMPLATES": {}}
    errors = tencent_sms_check()
    assert [e.id for e in errors] == ["weishang.E002"]
    assert "SIGN_NAME" in errors[0].msg and "TEMPLATES[notice]" in errors[0].msg
    with pytest.raises(SmsError) as unset:
        TencentSmsBackend().send(Sms(phone="13900001117", purpose="notice", params=("x",), text="x"))
    assert unset.value.code == "NotConfigured"
