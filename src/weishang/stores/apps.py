from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    """Local stores (实体店, M10): agents' and shops' stores with address, hours and photos, and
    the consumers' nearby lookup."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.stores"
    label = "stores"
    verbose_name = _("local stores (实体店)")
