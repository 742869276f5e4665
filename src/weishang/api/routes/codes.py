"""Security codes (M9): a consumer checks a product code (no login; rate-limited per IP) — the
same service as the public page /verify/ (``codes.services.code_check``)."""

# No "from __future__ import annotations": django-ninja reads the views' annotations in its own
# module's namespace when they are wrapped.
from datetime import datetime

from ninja import Field, Query, Router, Schema

from weishang.api.errors import ERRORS
from weishang.api.params import RegionCode, Text
from weishang.api.throttles import IpThrottle
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
