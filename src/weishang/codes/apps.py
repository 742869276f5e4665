from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    """Security and trace codes (防伪码 / 溯源码 / 箱码, M9): batches of box and item codes, scanned
    when goods go out, checked by the public, and channel conflict (窜货) found from both."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.codes"
    label = "codes"
    verbose_name = _("security codes (防伪溯源)")

    def ready(self) -> None:
        # The scan is a step of the one order workflow: the phone's fill page, the console and
        # the API offer it wherever goods go out (see codes.steps).
        from weishang.codes.services import codes_follow_events
        from weishang.codes.steps import install
        from weishang.core.outbox import outbox_subscribe

        install()
        # A cancelled or returned order's codes go back to who sent them.
        outbox_subscribe(codes_follow_events)
