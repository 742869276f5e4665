"""The brand's public page (/brand/): who the brand is and its qualifications (资质), each with its
number, issuer, validity and scan; an expired one is flagged, never hidden. Anyone may open it:
agents send it to people they recruit and sell to."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from weishang.core.selectors import brand_get
from weishang.toolkit import selectors as toolkit
from weishang.toolkit.files import document_response
from weishang.toolkit.models import Qualification


def brand_page(request):
    return render(
        request,
        "web/brand.html",
        {"brand": brand_get(), "qualifications": toolkit.with_validity(toolkit.public_qualifications())},
    )


def qualification_scan(request, pk: int):
    """A qualification's scan: public ones for anyone, the others for brand staff who may see
    qualifications in the console; 404 for everyone else (whether or not it exists)."""
    qualification = Qualification.objects.filter(pk=pk).first()
    if qualification is None:
        raise Http404
    if not qualification.public:
        user = request.user
        if not (user.is_active and user.is_staff and user.has_perm("toolkit.view_qualification")):
            raise Http404
    return document_response(qualification.document)
