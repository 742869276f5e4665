"""The product-code check on the public page /verify/ (``codes.services.code_check``): what the
consumer typed or scanned, where they are (optional), and the answer. Rate-limited per address
like the API's public routes (core.ratelimit)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from weishang.codes import services
from weishang.core.errors import BusinessError
from weishang.core.http import client_ip
from weishang.web.regions import RegionField


class CodeCheckForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Security code (under the coating)"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}),
    )
    region = RegionField(finest=False, required=False, label=gettext_lazy("Where you bought it (optional)"))


def code_section(request) -> tuple[dict, int]:
    """The page's product-code section (its form and, when a code was given, the answer) and the
    status it asks for: 400 for input the form refuses, 200 otherwise. The caller checks the rate
    limit before calling (a refused request reads nothing and counts nothing)."""
    data = request.GET if "code" in request.GET else None
    form = CodeCheckForm(data, prefix=None)
    result, status = None, 200
    if data is not None:
        if form.is_valid():
            try:
                result = services.code_check(
                    text=form.cleaned_data["code"], region=form.cleaned_data["region"], ip=client_ip(request) or ""
                )
            except BusinessError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = 400
        else:
            status = 400
    return {"code_form": form, "code_result": result}, status
