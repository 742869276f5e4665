"""Text the system writes into its records (notes, memos, log reasons, names)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def record_text(message: str, **params: object) -> str:
    """``message`` translated into the brand's language (``settings.LANGUAGE_CODE``), whatever
    language the person whose action wrote it was using: a record reads the same to everyone who
    opens it later. ``params`` fill the message's ``%(name)s`` placeholders (without them the
    message is returned as translated, placeholders and all); a lazily translated parameter, such
    as a choice's label, is in the brand's language too."""
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(message)
        return text % {k: str(v) for k, v in params.items()} if params else text
