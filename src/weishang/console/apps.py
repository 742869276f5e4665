from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The brand console's own pages: the dashboard, CSV/XLSX exports, bulk actions and the audit
    history. No models: it reads the other apps through aggregate queries."""

    name = "weishang.console"
    label = "console"
    verbose_name = _("Console")

    def ready(self) -> None:
        # The console's pages are registered here, after every app above it is ready (settings
        # install django.contrib.admin's SimpleAdminConfig, which does not discover them itself):
        # an app that adds steps to the order workflow when it is ready (codes) is then in the
        # workflow the order pages are built from.
        from django.contrib import admin

        admin.autodiscover()
