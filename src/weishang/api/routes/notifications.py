"""The notification centre (M11) for the agent's app: my notifications, newest first (``unread``
to list only those), how many are unread (the badge), and marking them read. Only my own: anyone
else's is 404."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from weishang.api.errors import ERRORS
from weishang.api.pagination import Cursor
from weishang.api.params import Id
from weishang.api.security import AGENT
from weishang.channel.selectors import require_agent
from weishang.core.errors import NotFound
from weishang.notifications import selectors, services

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    unread: bool = Field(False, description="only the unread ones")


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., description="order_to_approve, transfer_to_confirm, order_to_fill, application, …")
    text: str = Field(..., description="in the request's language")
    url: str = Field(..., description="the phone page it is about")
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_text(obj) -> str:
        return selectors.notification_text(obj)


class UnreadOut(Schema):
    unread: int


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS}, auth=AGENT, summary="My notifications")
@paginate(Cursor)
def notification_list(request, filters: Query[NotificationFilters]):
    require_agent(request.user)
    return selectors.notifications_of(user=request.user, unread_only=filters.unread)


@router.get("/notifications/unread", response={200: UnreadOut, **ERRORS}, auth=AGENT, summary="How many are unread")
def notification_unread(request):
    require_agent(request.user)
    return UnreadOut(unread=selectors.unread_count(user=request.user))


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    auth=AGENT,
    summary="Mark one read",
)
def notification_read(request, notification_id: Id):
    require_agent(request.user)
    try:
        return services.notification_open(user=request.user, notification_id=notification_id)
    except NotFound:
        raise Http404 from None


@router.post("/notifications/read-all", response={200: UnreadOut, **ERRORS}, auth=AGENT, summary="Mark all read")
def notification_read_all(request):
    require_agent(request.user)
    services.notifications_read_all(user=request.user)
    return UnreadOut(unread=0)
