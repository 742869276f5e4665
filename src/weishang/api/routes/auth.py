"""Logging in and out: one device token per device, stored hashed, revoked by logout."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import update_session_auth_hash
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from weishang.api import services
from weishang.api.errors import ERRORS
from weishang.api.models import ApiToken
from weishang.api.security import AGENT, DeviceToken
from weishang.api.throttles import IpThrottle
from weishang.channel.selectors import agent_for_user
from weishang.core.passwords import password_change

router = Router(tags=["auth"])


class LoginIn(Schema):
    phone: str = Field(..., min_length=1, max_length=40, description="the agent's phone (staff: username)")
    password: str = Field(..., min_length=1, max_length=128)
    device: str = Field("", max_length=100, description="a name for this device, shown in the device list")


class LoginOut(Schema):
    token: str = Field(..., description="send as `Authorization: Bearer <token>`; shown only this once")
    token_type: str = "Bearer"
    device_id: int
    agent_id: int | None


class DeviceOut(Schema):
    id: int
    device: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    current: bool


class PasswordIn(Schema):
    old_password: str = Field(..., min_length=1, max_length=128)
    new_password: str = Field(..., min_length=1, max_length=128)


@router.post(
    "/login",
    response={201: LoginOut, **ERRORS},
    auth=None,
    throttle=[IpThrottle("login")],
    summary="Log in with phone and password; get a device token",
)
def login(request, payload: LoginIn):
    token, secret = services.token_login(
        phone=payload.phone, password=payload.password, device=payload.device, request=request
    )
    agent = agent_for_user(token.user)
    return Status(201, LoginOut(token=secret, device_id=token.pk, agent_id=agent.pk if agent else None))


@router.post("/logout", response={204: None, **ERRORS}, auth=[DeviceToken()], summary="Revoke this device's token")
def logout(request):
    services.token_revoke(token=request.auth, by=request.user)
    return Status(204, None)


@router.get("/devices", response={200: list[DeviceOut], **ERRORS}, auth=AGENT, summary="My logged-in devices")
def devices(request):
    current = getattr(request, "api_token", None)
    return [
        DeviceOut(
            id=t.pk,
            device=t.device,
            prefix=t.prefix,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            current=current is not None and t.pk == current.pk,
        )
        for t in services.tokens_live(user=request.user)[:100]
    ]


@router.post(
    "/password",
    response={204: None, **ERRORS},
    auth=AGENT,
    summary="Change my password; every other device and session is logged out",
)
def change_password(request, payload: PasswordIn):
    token = getattr(request, "api_token", None)
    password_change(
        user=request.user,
        old_password=payload.old_password,
        new_password=payload.new_password,
        keep=token,
        field="new_password",
    )
    if token is None:  # called from the phone pages' session: that session stays
        update_session_auth_hash(request, request.user)
    return Status(204, None)


@router.delete(
    "/devices/{device_id}", response={204: None, **ERRORS}, auth=AGENT, summary="Log a device out (revoke its token)"
)
def device_revoke(request, device_id: int):
    token = get_object_or_404(ApiToken, pk=device_id, user=request.user, revoked_at__isnull=True)
    services.token_revoke(token=token, by=request.user)
    return Status(204, None)
