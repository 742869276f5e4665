"""Local stores: an agent sets up their own store (or the brand any store) — name, district,
street address, the point on the map, opening hours and photos — and hides or lists it.

Who: an agent changes only the store that is theirs (``agent`` = them); brand staff with
``stores.change_store`` change any. Every field is checked here; a refused change changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from weishang.channel.models import Agent
from weishang.core import clock
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.files import check_picture, thumbnail_of
from weishang.core.validators import PHONE_RE, normalize_phone, to_ascii
from weishang.regions.models import Region
from weishang.regions.selectors import region_from_input
from weishang.stores.models import Store, StorePhoto, StoreStatus

MAX_PHOTOS = 9
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def may_change(*, user, store: Store | None, agent: Agent | None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return user.has_perm("stores.change_store")
    me = getattr(user, "agent", None)
    owner = store.agent_id if store is not None else getattr(agent, "pk", None)
    return me is not None and owner == me.pk


def _coordinate(value: object, *, field: str, limit: int) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise BusinessError(_("Enter the point as degrees, such as 30.259244."), field=field) from exc
    if not number.is_finite() or abs(number) > limit:
        raise BusinessError(_("Enter the point as degrees, such as 30.259244."), field=field)
    return number.quantize(Decimal("0.000001"))


@transaction.atomic
def store_save(
    *,
    by,
    name: str,
    region: Region | str | None,
    address: str,
    latitude: object,
    longitude: object,
    opens_at: dt.time,
    closes_at: dt.time,
    days: str = "1111111",
    phone: str = "",
    agent: Agent | None = None,
    store: Store | None = None,
) -> Store:
    """Create (``store`` None) or change a store. An agent's store is theirs; one each."""
    if store is not None:
        store = Store.objects.select_for_update().get(pk=store.pk)
        agent = store.agent
    if not may_change(user=by, store=store, agent=agent):
        raise Forbidden(_("You may not change this store."))
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise BusinessError(_("Give the store a name of at most 60 characters."), field="name")
    chosen = region_from_input(region, required=True, finest=True)
    assert chosen is not None  # required=True: a missing region was refused
    address = (address or "").strip()
    if not address or len(address) > 120:
        raise BusinessError(_("Enter the street and number, at most 120 characters."), field="address")
    lat = _coordinate(latitude, field="latitude", limit=90)
    lng = _coordinate(longitude, field="longitude", limit=180)
    if not (isinstance(days, str) and re.fullmatch(r"[01]{7}", days)) or days == "0000000":
        raise BusinessError(_("Choose the days the store is open."), field="days")
    if not isinstance(opens_at, dt.time) or not isinstance(closes_at, dt.time) or opens_at == closes_at:
        raise BusinessError(_("Enter when the store opens and closes."), field="opens_at")
    typed = to_ascii(phone or "").strip()
    phone = normalize_phone(typed) if PHONE_RE.match(normalize_phone(typed)) else typed.replace(" ", "")
    if phone and not (PHONE_RE.match(phone) or _LANDLINE.match(phone)):
        raise BusinessError(_("Enter a mobile number or a landline such as 0571-88886666."), field="phone")
    if store is None:
        store = Store(agent=agent, created_at=clock.now())
    store.name, store.region, store.address = name, chosen, address
    store.latitude, store.longitude, store.days = lat, lng, days
    store.opens_at, store.closes_at, store.phone = opens_at, closes_at, phone
    store.updated_at = clock.now()
    try:
        with transaction.atomic():
            store.save()
    except IntegrityError as exc:
        raise Conflict(_("This agent has a store already."), field="name") from exc
    return store


@transaction.atomic
def store_set_status(*, store: Store, status: str, by) -> Store:
    if not may_change(user=by, store=store, agent=None):
        raise Forbidden(_("You may not change this store."))
    if status not in StoreStatus.values:
        raise BusinessError(_("Choose listed or hidden."), field="status")
    store.status, store.updated_at = status, clock.now()
    store.save(update_fields=["status", "updated_at"])
    return store


@transaction.atomic
def store_photo_add(*, store: Store, upload, by) -> StorePhoto:
    """A photo, checked from the file (a JPEG, PNG, WebP or GIF of at most 5 MB); at most nine."""
    if not may_change(user=by, store=store, agent=None):
        raise Forbidden(_("You may not change this store."))
    store = Store.objects.select_for_update().get(pk=store.pk)
    count = store.photos.count()
    if count >= MAX_PHOTOS:
        raise BusinessError(_("A store has at most nine photos; remove one first."), field="photo")
    check_picture(upload, field="photo")
    photo = StorePhoto(store=store, position=count)
    photo.thumbnail = thumbnail_of(upload)
    photo.image = upload
    photo.save()
    return photo


def store_photo_delete(*, photo: StorePhoto, by) -> None:
    if not may_change(user=by, store=photo.store, agent=None):
        raise Forbidden(_("You may not change this store."))
    image, thumbnail = photo.image, photo.thumbnail
    photo.delete()
    for file in (image, thumbnail):
        if file and file.name:
            file.storage.delete(file.name)
