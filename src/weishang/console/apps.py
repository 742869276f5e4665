from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The brand console's own pages: the dashboard, CSV/XLSX exports, bulk actions and the audit
    history. No models: it reads the other apps through aggregate queries."""

    name = "weishang.console"
    label = "console"
    verbose_name = _("Console")
