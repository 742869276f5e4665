from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Leads and channels (意向客户与渠道, M10): leads with their stage and follow-ups, ad placements and
    their spend, tracked links, imports, and each channel's figures by month."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.leads"
    label = "leads"
    verbose_name = _("leads and channels (线索与渠道)")

    def ready(self) -> None:
        # An application (through an invite or a tracked link) becomes an invited lead; an agent
        # who joins converts theirs.
        from weishang.core.outbox import outbox_subscribe
        from weishang.leads.services import leads_follow_events

        outbox_subscribe(leads_follow_events)
