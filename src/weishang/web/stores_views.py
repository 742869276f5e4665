"""Local stores: the consumers' nearby lookup (附近门店, public, no login) and an agent's page to
set up their own store (我的门店)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from weishang.core.errors import BusinessError
from weishang.core.files import image_response
from weishang.core.ratelimit import allow
from weishang.core.selectors import brand_get
from weishang.stores import selectors, services
from weishang.stores.models import StorePhoto, StoreStatus
from weishang.web.agents import current_agent
from weishang.web.regions import RegionField

DAY_CHOICES = [
    ("0", gettext_lazy("Mon")),
    ("1", gettext_lazy("Tue")),
    ("2", gettext_lazy("Wed")),
    ("3", gettext_lazy("Thu")),
    ("4", gettext_lazy("Fri")),
    ("5", gettext_lazy("Sat")),
    ("6", gettext_lazy("Sun")),
]


class FindForm(forms.Form):
    region = RegionField(finest=False, required=False, label=gettext_lazy("Province / city / district"))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)


class StoreForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Store name"), max_length=60)
    region = RegionField(finest=True, label=gettext_lazy("Province / city / district"))
    address = forms.CharField(label=gettext_lazy("Street address"), max_length=120)
    latitude = forms.DecimalField(label=gettext_lazy("Latitude"), max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(label=gettext_lazy("Longitude"), max_digits=9, decimal_places=6)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    days = forms.MultipleChoiceField(
        label=gettext_lazy("Open on"), choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    opens_at = forms.TimeField(label=gettext_lazy("Opens"), widget=forms.TimeInput(attrs={"type": "time"}))
    closes_at = forms.TimeField(label=gettext_lazy("Closes"), widget=forms.TimeInput(attrs={"type": "time"}))
    listed = forms.BooleanField(label=gettext_lazy("Show it to consumers nearby"), required=False, initial=True)
    photo = forms.FileField(label=gettext_lazy("Add a photo"), required=False)


def stores(request):
    """附近门店: the browser's location (lat/lng, set by the page's script) or a chosen district."""
    form = FindForm(request.GET or None)
    found, where = None, ""
    if form.is_bound and not allow(request):
        form = FindForm()
        form.add_error(None, _("Too many searches from your address; try again in a minute."))
        return render(request, "web/stores.html", {"brand": brand_get(), "form": form}, status=429)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["lat"] is not None and data["lng"] is not None:
            found = selectors.stores_near(latitude=data["lat"], longitude=data["lng"])
            where = "point"
        elif data["region"] is not None:
            found = selectors.stores_in(region=data["region"])
            where = data["region"].full_name
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "web/stores.html",
        {"brand": brand_get(), "form": form, "found": found, "where": where},
        status=status,
    )


def store_photo(request, photo_id: int, size: str):
    """A listed store's photo (public, like the store)."""
    photo = get_object_or_404(StorePhoto.objects.select_related("store"), pk=photo_id)
    if photo.store.status != StoreStatus.LISTED or size not in ("full", "thumb"):
        raise Http404
    return image_response(photo.image if size == "full" else photo.thumbnail, cache="public, max-age=86400")


def _initial(store) -> dict:
    if store is None:
        return {"days": [str(i) for i in range(7)], "opens_at": dt.time(9), "closes_at": dt.time(21), "listed": True}
    return {
        "name": store.name,
        "region": store.region_id,
        "address": store.address,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "phone": store.phone,
        "days": [str(i) for i, on in enumerate(store.days) if on == "1"],
        "opens_at": store.opens_at,
        "closes_at": store.closes_at,
        "listed": store.status == StoreStatus.LISTED,
    }


@login_required
def my_store(request):
    me = current_agent(request)
    store = selectors.store_of(agent=me)
    form = StoreForm(request.POST or None, request.FILES or None, initial=_initial(store))
    if request.method == "POST" and "delete_photo" in request.POST:
        raw = str(request.POST["delete_photo"])
        ok = store is not None and raw.isdigit() and len(raw) < 12
        photo = StorePhoto.objects.filter(pk=int(raw), store=store).first() if ok else None
        if photo is not None:
            services.store_photo_delete(photo=photo, by=request.user)
        return redirect("web:my_store")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        days = "".join("1" if str(i) in data["days"] else "0" for i in range(7))
        try:
            store = services.store_save(
                by=request.user,
                agent=me,
                store=store,
                name=data["name"],
                region=data["region"],
                address=data["address"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                phone=data["phone"],
                days=days,
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
            )
            services.store_set_status(
                store=store, status=StoreStatus.LISTED if data["listed"] else StoreStatus.HIDDEN, by=request.user
            )
            if data["photo"]:
                services.store_photo_add(store=store, upload=data["photo"], by=request.user)
        except BusinessError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Your store is saved."))
            return redirect("web:my_store")
    return render(
        request,
        "web/my_store.html",
        {"brand": brand_get(), "form": form, "store": store},
        status=400 if request.method == "POST" else 200,
    )
