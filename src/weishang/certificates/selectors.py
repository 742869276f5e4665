"""Reading certificates: an agent's history, the brand's template, and a certificate's page."""

from __future__ import annotations

import io

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image, UnidentifiedImageError

from weishang.certificates import render
from weishang.certificates.models import Certificate, CertificateStatus, CertificateTemplate
from weishang.channel.models import Agent
from weishang.core.selectors import brand_get


def history_of(agent: Agent) -> QuerySet[Certificate]:
    """The agent's certificates, newest first (the one in force among them)."""
    return Certificate.objects.filter(agent=agent).select_related("level", "region").order_by("-issued_at", "-pk")


def template() -> CertificateTemplate:
    """The newest template, or the default one (unsaved) when the brand has made none."""
    return CertificateTemplate.objects.order_by("-updated_at", "-pk").first() or CertificateTemplate()


def _picture(field) -> Image.Image | None:
    if not field:
        return None
    try:
        with field.storage.open(field.name, "rb") as handle:
            picture = Image.open(io.BytesIO(handle.read()))
            picture.load()
            return picture
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None


def page_text(certificate: Certificate, *, verify_url: str, language: str = "zh-hans") -> render.CertificateText:
    """What the certificate says, in ``language`` (the certificate is the brand's document: in
    Chinese unless asked otherwise)."""
    brand = brand_get().name
    layout = template()
    with translation.override(language):
        fill = {
            "name": certificate.agent.real_name,
            "brand": brand,
            "level": certificate.level_name,
            "region": certificate.region_name,
            "products": certificate.products or _("the brand's products"),
        }
        try:
            statement = layout.statement.format(**fill)
        except (KeyError, IndexError, ValueError):  # a template with a placeholder we do not know
            statement = CertificateTemplate().statement.format(**fill)
        return render.CertificateText(
            brand=brand,
            title=layout.title,
            statement=statement,
            serial=certificate.serial,
            name=certificate.agent.real_name,
            level=certificate.level_name,
            region=certificate.region_name,
            valid=render.valid_text(certificate.valid_from, certificate.valid_until, pgettext("dates", "to")),
            issued=f"{certificate.issued_at:%Y-%m-%d}",
            labels=(
                pgettext("certificate", "Certificate no."),
                pgettext("certificate", "Level"),
                pgettext("certificate", "Region"),
                pgettext("certificate", "Valid"),
                pgettext("certificate", "Issued"),
            ),
            scan_hint=_("Scan to check this certificate"),
            verify_url=verify_url,
            void="" if certificate.status == CertificateStatus.ACTIVE else _("No longer valid"),
        )


def certificate_png(certificate: Certificate, *, verify_url: str) -> bytes:
    layout = template()
    return render.draw_png(
        page_text(certificate, verify_url=verify_url),
        background=_picture(layout.background),
        seal=_picture(layout.seal),
    )


def certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    text = page_text(certificate, verify_url=verify_url)
    return render.draw_pdf(text, certificate_png(certificate, verify_url=verify_url))
