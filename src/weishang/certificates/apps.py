from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    """Authorization certificates (授权书, M9): one for every active agent, re-issued when their
    level or region changes, ended when they are suspended or leave; the public lookup."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.certificates"
    label = "certificates"
    verbose_name = _("authorization certificates (授权书)")

    def ready(self) -> None:
        from weishang.certificates.services import certificates_follow_events
        from weishang.core.outbox import outbox_subscribe

        outbox_subscribe(certificates_follow_events)
