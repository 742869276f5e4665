"""A fake Tencent Cloud SMS on loopback, for tests and a developer's machine (never production).

It answers ``SendSms`` (API 2021-01-11) as Tencent documents it: the TC3-HMAC-SHA256 signature
is checked from the request (written here from Tencent's description, separately from the SDK
that makes it), and the answers have Tencent's shapes and codes — a signature that does not
verify (``AuthFailure.SignatureFailure``), an old timestamp (``AuthFailure.SignatureExpire``), an
unknown key, a signature name or template that is not approved, a phone number that is not one,
and the same number twice within 30 seconds (``LimitExceeded.PhoneNumberThirtySecondLimit``, in
that number's status). What it accepted is in ``messages``.

``python -m weishang.core.fake_sms [PORT]`` serves it and prints each message; point
``WEISHANG_SMS_TENCENT`` at it with ``ENDPOINT=127.0.0.1:PORT`` and ``SCHEME=http``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIAL = r"Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request"
AUTH = re.compile(rf"^TC3-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{{64}})$")
PHONE = re.compile(r"^\+861[3-9]\d{9}$")
SKEW = 300  # seconds a request's timestamp may be off


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, date: str, service: str, timestamp: str, canonical_request: str) -> str:
    """Tencent's signature v3: the key derived from the date and service signs the hash of the request."""
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical_request.encode())}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeTencentSms:
    secret_id: str = "AKIDfakeweishang"
    secret_key: str = "fake-secret-key"
    sdk_app_id: str = "1400000001"
    sign_names: tuple[str, ...] = ("微商演示",)
    templates: dict[str, int] = field(default_factory=lambda: {"1000001": 2, "1000002": 2, "1000003": 1})
    clock_offset: float = 0.0  # seconds Tencent's clock is ahead of ours (an old-clock test)
    messages: list[dict] = field(default_factory=list)
    _last_sent: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self, endpoint: str) -> dict:
        """``WEISHANG_SMS_TENCENT`` for this fake served at ``endpoint``."""
        return {
            "SECRET_ID": self.secret_id,
            "SECRET_KEY": self.secret_key,
            "SDK_APP_ID": self.sdk_app_id,
            "SIGN_NAME": self.sign_names[0],
            "REGION": "ap-guangzhou",
            "ENDPOINT": endpoint,
            "SCHEME": "http",
            "TEMPLATES": {"password_reset": "1000001", "wechat_bind": "1000002", "notice": "1000003"},
        }

    def answer(self, *, method: str, path: str, headers: dict[str, str], body: bytes, now: float | None = None) -> dict:
        """Tencent's answer (the JSON object) to one request."""
        request_id = str(uuid.uuid4())

        def error(code: str, message: str) -> dict:
            return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}

        headers = {k.lower(): v for k, v in headers.items()}
        match = AUTH.match(headers.get("authorization", ""))
        if match is None:
            return error("AuthFailure.InvalidAuthorization", "Authorization 头部格式不正确")
        secret_id, date, service, signed, signature = match.groups()
        if secret_id != self.secret_id:
            return error("AuthFailure.SecretIdNotFound", "密钥不存在")
        timestamp = headers.get("x-tc-timestamp", "")
        now = time.time() + self.clock_offset if now is None else now
        if not timestamp.isdigit() or abs(now - int(timestamp)) > SKEW:
            return error("AuthFailure.SignatureExpire", "签名过期，请求时间与服务器时间相差超过五分钟")
        if date != datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") or service != "sms":
            return error("AuthFailure.SignatureFailure", "签名范围不正确")
        names = signed.split(";")
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in names)
        canonical = f"{method}\n{path}\n\n{canonical_headers}\n{signed}\n{_sha256(body)}"
        expected = tc3_signature(
            secret_key=self.secret_key, date=date, service=service, timestamp=timestamp, canonical_request=canonical
        )
        if "host" not in names or not hmac.compare_digest(expected, signature):
            return error("AuthFailure.SignatureFailure", "请求签名验证失败")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction", "接口不存在")
        try:
            params = json.loads(body)
        except ValueError:
            return error("InvalidParameter", "请求体不是 JSON")
        for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not params.get(name):
                return error("MissingParameter", f"缺少参数 {name}")
        if params["SmsSdkAppId"] != self.sdk_app_id:
            return error("FailedOperation.InvalidSdkAppId", "SdkAppId 不存在")
        if params.get("SignName") not in self.sign_names:
            return error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
        values = params.get("TemplateParamSet") or []
        if params["TemplateId"] not in self.templates:
            return error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        if len(values) != self.templates[params["TemplateId"]]:
            return error("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "参数个数与模板不符")
        if any(len(str(value)) > 12 for value in values):
            return error("InvalidParameterValue.TemplateParameterLengthLimit", "单个模板变量字符数超过12个")
        statuses = []
        with self._lock:
            for phone in params["PhoneNumberSet"]:
                status = {"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": "", "IsoCode": "CN"}
                if not isinstance(phone, str) or not PHONE.match(phone):
                    status.update(Code="InvalidParameterValue.IncorrectPhoneNumber", Message="手机号格式错误")
                elif now - self._last_sent.get(phone, -1e9) < 30:
                    status.update(
                        Code="LimitExceeded.PhoneNumberThirtySecondLimit", Message="30秒内发送短信条数超过上限"
                    )
                else:
                    serial = f"2645:{uuid.uuid4().int % 10**28:028d}"
                    status.update(SerialNo=serial, Fee=1, Code="Ok", Message="send success")
                    self._last_sent[phone] = now
                    self.messages.append(
                        {
                            "phone": phone,
                            "template": params["TemplateId"],
                            "params": list(values),
                            "serial": serial,
                            "sign": params["SignName"],
                        }
                    )
                statuses.append(status)
        return {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}

    @contextmanager
    def serve(self, port: int = 0, *, echo: bool = False) -> Iterator[str]:
        """Serve on 127.0.0.1 (a free port unless ``port``); yields the endpoint ``127.0.0.1:PORT``."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
                answer = fake.answer(method="POST", path=self.path, headers=dict(self.headers.items()), body=body)
                if echo:
                    print(json.dumps(answer, ensure_ascii=False), flush=True)  # noqa: T201 - the dev fake's log
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    fake = FakeTencentSms()
    with fake.serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8001, echo=True) as endpoint:
        print(f"fake Tencent SMS on http://{endpoint}; settings: {fake.settings(endpoint)}", flush=True)  # noqa: T201
        threading.Event().wait()
