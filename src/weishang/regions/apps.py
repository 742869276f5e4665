from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def regions_load_after_migrate(sender, using="default", **kwargs) -> None:
    """Fill the region table from data/gb2260.csv after every migrate (and after a test
    database is flushed, which sends post_migrate too): reference data, like the staff roles."""
    if sender.label != "regions":
        return
    from weishang.regions.services import regions_load

    regions_load(using=using)


class RegionsConfig(AppConfig):
    """Provinces, cities and districts by their national codes (GB/T 2260), for agents' regions,
    customers and shipping addresses (M9)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.regions"
    label = "regions"
    verbose_name = _("regions")

    def ready(self) -> None:
        post_migrate.connect(regions_load_after_migrate, dispatch_uid="weishang.regions.load")
