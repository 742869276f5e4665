"""Trust (M9): anyone checks a seller's authorization (``certificates.services.certificate_lookup``)
and a product's security code (``codes.services.code_check``) — the public page /verify/'s
services, no login, rate-limited per IP; an agent reads their own certificate, its picture and PDF."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import date, datetime

from django.http import Http404, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from weishang.api.errors import ERRORS
from weishang.api.params import RegionCode, Text
from weishang.api.security import AGENT
from weishang.api.throttles import IpThrottle
from weishang.certificates import selectors as certificate_selectors
from weishang.certificates import services as certificate_services
from weishang.channel.selectors import require_agent
from weishang.codes import services
from weishang.core.http import client_ip

router = Router(tags=["public"])


class CodeCheckQuery(Schema):
    code: Text = Field(
        ..., min_length=1, max_length=200, description="the code under the coating, or the link its QR code holds"
    )
    region: RegionCode | None = Field(
        None, description="where the consumer is (GB/T 2260 code): a check far from where it was sold is reported"
    )


class CodeCheckOut(Schema):
    code: str = Field(..., description="the code as read (upper case, without dashes)")
    genuine: bool = Field(..., description="one of the brand's codes")
    well_formed: bool = Field(..., description="false: mistyped (its check character does not match)")
    product: str
    sku: str
    first_checked_at: datetime | None = Field(..., description="the first time anyone checked it")
    checks: int = Field(..., description="how many times it has been checked, this time included")
    copy_warning: bool = Field(..., description="checked many times: the code may have been copied")
    supplied_level: str = Field(..., description="the level of the agent it was supplied to (no name)")
    supplied_region: str = Field(..., description="that agent's region")


@router.get(
    "/public/verify/code",
    response={200: CodeCheckOut, **ERRORS},
    summary="Check a product's security code",
    auth=None,
    throttle=[IpThrottle("public")],
)
def code_check(request, query: Query[CodeCheckQuery]):
    """Genuine or not, when it was first checked and how often, and who it was supplied to (their
    level and region only). Every check counts, this one too."""
    result = services.code_check(text=query.code, region=query.region, ip=client_ip(request) or "")
    return CodeCheckOut(
        code=result.code,
        genuine=result.genuine,
        well_formed=result.well_formed,
        product=result.product,
        sku=result.sku,
        first_checked_at=result.first_checked_at,
        checks=result.checks,
        copy_warning=result.copy_warning,
        supplied_level=result.supplied_level,
        supplied_region=result.supplied_region,
    )


# --- authorization certificates --------------------------------------------------------------


class CertificateQuery(Schema):
    q: Text = Field(
        ..., min_length=1, max_length=64, description="a certificate number, a mobile number or a WeChat id"
    )


class CertificateLookupOut(Schema):
    found: bool = Field(..., description="false: no agent of the brand has this number, phone or WeChat id")
    authorized: bool = Field(..., description="a certificate in force")
    status: str = Field(..., description="active, superseded (replaced by a newer one) or revoked; empty if not found")
    serial: str
    name_masked: str = Field(..., description="the agent's name with all but its first and last character hidden")
    level: str
    region: str
    valid_from: date | None
    valid_until: date | None
    ended_at: datetime | None = Field(..., description="when a certificate no longer in force ended")


@router.get(
    "/public/verify/certificate",
    response={200: CertificateLookupOut, **ERRORS},
    summary="Check a seller's authorization certificate",
    auth=None,
    throttle=[IpThrottle("public")],
)
def certificate_check(request, query: Query[CertificateQuery]):
    """By certificate number (as printed, dashes and lower case too), mobile number or WeChat id:
    authorized or not, level, region, valid until. Never the full name or the phone."""
    found = certificate_services.certificate_lookup(query.q)
    return CertificateLookupOut(
        found=found.found,
        authorized=found.authorized,
        status=found.status,
        serial=found.serial,
        name_masked=found.name_masked,
        level=found.level,
        region=found.region,
        valid_from=found.valid_from,
        valid_until=found.valid_until,
        ended_at=found.ended_at,
    )


class MyCertificateOut(Schema):
    serial: str
    level: str
    region: str
    products: str
    valid_from: date
    valid_until: date
    verify_url: str = Field(..., description="the public lookup its QR code opens")
    png_url: str = Field(..., description="GET with the same credentials: the certificate as a picture")
    pdf_url: str = Field(..., description="GET with the same credentials: the certificate as a PDF")


def _mine(request):
    certificate = certificate_services.certificate_reconcile(agent=require_agent(request.user))
    if certificate is None:
        raise Http404
    return certificate


def _verify_url(request, serial: str) -> str:
    return request.build_absolute_uri(reverse("web:verify")) + f"?q={serial}"


@router.get(
    "/certificate",
    response={200: MyCertificateOut, **ERRORS},
    auth=AGENT,
    summary="My authorization certificate in force (404: I have none, not being active)",
)
def my_certificate(request):
    certificate = _mine(request)
    return MyCertificateOut(
        serial=certificate.serial,
        level=certificate.level_name,
        region=certificate.region_name,
        products=certificate.products,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        verify_url=_verify_url(request, certificate.serial),
        png_url=request.build_absolute_uri(reverse("api-v1:my_certificate_png")),
        pdf_url=request.build_absolute_uri(reverse("api-v1:my_certificate_pdf")),
    )


@router.get(
    "/certificate/png",
    auth=AGENT,
    url_name="my_certificate_png",
    response={200: None, **ERRORS},
    summary="My certificate as a PNG picture",
)
def my_certificate_png(request):
    certificate = _mine(request)
    body = certificate_selectors.certificate_png(certificate, verify_url=_verify_url(request, certificate.serial))
    response = HttpResponse(body, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.serial}.png"'
    return response


@router.get(
    "/certificate/pdf",
    auth=AGENT,
    url_name="my_certificate_pdf",
    response={200: None, **ERRORS},
    summary="My certificate as a PDF",
)
def my_certificate_pdf(request):
    certificate = _mine(request)
    body = certificate_selectors.certificate_pdf(certificate, verify_url=_verify_url(request, certificate.serial))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.serial}.pdf"'
    return response
